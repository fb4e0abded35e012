package sqlite_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/domaintest"
	"github.com/gatehouse-dev/gatehouse/internal/store"
	"github.com/gatehouse-dev/gatehouse/internal/store/sqlite"
)

// BenchmarkAppendEvents measures the audit batcher's write: one
// AppendEvents transaction of batch GetRoleCredentials-shaped events (one
// resource each, a 700-byte record), reported per event with the process's
// CPU time per event. Run with:
//
//	go test ./internal/store/sqlite -run '^$' -bench AppendEvents -benchtime 2000x
func BenchmarkAppendEvents(b *testing.B) {
	for _, batch := range []int{1, 16, 64} {
		b.Run(fmt.Sprint(batch), func(b *testing.B) {
			ctx := b.Context()
			db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "gatehouse.db"))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { db.Close() })
			rec := make([]byte, 700)
			for i := range rec {
				rec[i] = 'a' + byte(i%26)
			}
			t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
			es := make([]store.EventRecord, batch)
			n := 0
			cpu0 := domaintest.CPUTime(b)
			b.ResetTimer()
			for b.Loop() {
				for i := range es {
					n++
					es[i] = store.EventRecord{ID: fmt.Sprintf("0194f3a2-%08x-7000-8000-000000000000", n), Time: t0.Add(time.Duration(n) * time.Millisecond),
						Source: "sso.amazonaws.com", Name: "GetRoleCredentials", Principal: fmt.Sprintf("user-%d", n%50), ReadOnly: true,
						Resources: []store.EventResource{{Type: "AWS::Organizations::Account", Name: "111111111111"}}, Record: rec}
				}
				if err := db.AppendEvents(ctx, es); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64((domaintest.CPUTime(b)-cpu0).Microseconds())/float64(n), "cpu-µs/event")
		})
	}
}
