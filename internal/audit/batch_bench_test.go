package audit_test

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/domaintest"
	"github.com/gatehouse-dev/gatehouse/internal/store"
	"github.com/gatehouse-dev/gatehouse/internal/store/sqlite"
)

// countingAppender counts the batches and events it passes on.
type countingAppender struct {
	audit.BatchAppender
	batches, events atomic.Int64
}

func (c *countingAppender) AppendEvents(ctx context.Context, es []store.EventRecord) error {
	c.batches.Add(1)
	c.events.Add(int64(len(es)))
	return c.BatchAppender.AppendEvents(ctx, es)
}

// BenchmarkBatcherGetRoleCredentials records GetRoleCredentials events
// (the portal's, as sts.Issuer builds them) from 32 concurrent callers
// through a Batcher into SQLite: the durable part of a credential issue.
// It reports the process's CPU time per event and the mean batch size.
//
//	go test -run '^$' -bench BatcherGetRoleCredentials -benchtime 20000x ./internal/audit/
func BenchmarkBatcherGetRoleCredentials(b *testing.B) {
	st, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ids := arn.Generator{Rand: rand.Reader}
	app := &countingAppender{BatchAppender: st}
	bat := &audit.Batcher{Store: app, Recorder: &audit.Recorder{Now: time.Now, NewID: func() string { return ids.TimeUUID(time.Now()) }, Region: "us-east-1", Account: "999988887777"}}
	ctx, cancel := context.WithCancel(b.Context())
	defer cancel()
	go bat.Run(ctx)
	actx := audit.WithActor(ctx, audit.Actor{
		Identity:  audit.Identity{Type: "IdentityCenterUser", UserID: "9067c1e2d2-5c1f6a8e-0b7d-4b43-9f0a-6d2e8c4b1a77", UserName: "ed.developer", AccountID: "999988887777"},
		SourceIP:  "127.0.0.1",
		UserAgent: "aws-cli/2.9.19 Python/3.11.2 Linux/6.1.0 source/x86_64.debian.12 prompt/off command/sso.get-role-credentials",
		RequestID: "6a1f5e2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b",
	})
	entry := func() audit.Entry {
		return audit.Entry{Source: audit.SourcePortal, Name: "GetRoleCredentials", ReadOnly: true,
			Params: map[string]string{"accountId": "111111111111", "roleName": "PowerUserAccess"},
			Response: map[string]any{"roleCredentials": map[string]any{
				"accessKeyId": "ASIAEXAMPLE7KQ2RJ4XA", "expiration": time.Now().Add(time.Hour).UnixMilli(),
			}, "assumedRoleArn": "arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_PowerUserAccess_0123456789abcdef/ed.developer"}}
	}
	const callers = 32
	var next atomic.Int64
	var wg sync.WaitGroup
	cpu0 := domaintest.CPUTime(b)
	io0 := procIO(b)
	b.ResetTimer()
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				if err := bat.Record(actx, entry()); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64((domaintest.CPUTime(b)-cpu0).Microseconds())/float64(b.N), "cpu-µs/event")
	if io := procIO(b); io0 != nil && io != nil {
		b.ReportMetric(float64(io["syscw"]-io0["syscw"])/float64(b.N), "writes/event")
		b.ReportMetric(float64(io["wchar"]-io0["wchar"])/float64(b.N), "written-B/event")
	}
	b.ReportMetric(float64(app.events.Load())/float64(max(1, app.batches.Load())), "events/batch")
}

// procIO returns the counters of /proc/self/io (Linux), nil elsewhere:
// syscw counts write system calls, wchar the bytes they wrote.
func procIO(b *testing.B) map[string]int64 {
	b.Helper()
	data, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return nil
	}
	m := map[string]int64{}
	for line := range strings.Lines(string(data)) {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ": ")
		if n, err := strconv.ParseInt(v, 10, 64); ok && err == nil {
			m[k] = n
		}
	}
	return m
}
