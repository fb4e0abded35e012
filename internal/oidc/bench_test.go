package oidc_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/gatehouse-dev/gatehouse/internal/store/postgres"
)

// BenchmarkCreateTokenRefresh measures the refresh_token grant end to end:
// JSON over loopback HTTP with keep-alive, client authentication, the
// rotation transaction and the audit event, from parallel clients that
// each hold their own token chain. Sub-benchmarks run it on SQLite and, if
// GATEHOUSE_TEST_POSTGRES_DSN names a server, on PostgreSQL (a fresh
// schema, dropped afterwards). Besides the wall-clock rate it reports the
// process's CPU time per refresh (client and server together), which
// depends much less than req/s on the share of a busy machine the
// benchmark gets, the transactions rolled back and retried per refresh,
// and the read and write system calls per refresh
// (/proc/self/io, Linux only: database pages, WAL frames and sockets):
//
//	go test -run '^$' -bench CreateTokenRefresh -benchtime 5s ./internal/oidc
func BenchmarkCreateTokenRefresh(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchRefresh(b, newEnv(b)) })
	b.Run("postgres", func(b *testing.B) {
		st, err := postgres.Open(b.Context(), postgresSchema(b))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		benchRefresh(b, newEnvOn(b, st))
	})
}

// refreshClients is the number of concurrent refreshing clients per
// GOMAXPROCS.
const refreshClients = 8

func benchRefresh(b *testing.B, e *env) {
	c := e.deviceClient("sso:account:access")
	b.SetParallelism(refreshClients)
	// RunParallel starts refreshClients × GOMAXPROCS goroutines, each of
	// which takes one chain; log in exactly those.
	n := refreshClients * runtime.GOMAXPROCS(0)
	chains := make(chan string, n)
	for range n {
		chains <- aws.ToString(e.deviceLogin(c).RefreshToken)
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConns: n, MaxIdleConnsPerHost: n}}
	b.Cleanup(hc.CloseIdleConnections)
	url := e.srv.URL + "/token"
	type request struct {
		ClientID     string `json:"clientId"`
		ClientSecret string `json:"clientSecret"`
		GrantType    string `json:"grantType"`
		RefreshToken string `json:"refreshToken"`
	}
	type response struct {
		RefreshToken string `json:"refreshToken"`
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	reads, writes := ioCalls()
	retries := func() int64 { return 0 }
	if r, ok := e.st.(interface{ Retries() int64 }); ok {
		retries = r.Retries
	}
	retried := retries()
	b.RunParallel(func(pb *testing.PB) {
		rt := <-chains
		for pb.Next() {
			body, _ := json.Marshal(request{c.id, c.secret, "refresh_token", rt})
			resp, err := hc.Post(url, "application/json", bytes.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			data, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var out response
			if resp.StatusCode != http.StatusOK || json.Unmarshal(data, &out) != nil || out.RefreshToken == "" {
				b.Errorf("refresh: %d %s", resp.StatusCode, data)
				return
			}
			rt = out.RefreshToken
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N)/1e3, "cpu-µs/op")
	// Transactions rolled back and run again (serialization failures).
	b.ReportMetric(float64(retries()-retried)/float64(b.N), "retries/op")
	if r, w := ioCalls(); r > 0 {
		b.ReportMetric(float64(r-reads)/float64(b.N), "read-calls/op")
		b.ReportMetric(float64(w-writes)/float64(b.N), "write-calls/op")
	}
}

// ioCalls returns the read and write system calls (read, pread, write,
// pwrite and the like) this process has made, or zeros where
// /proc/self/io cannot be read.
func ioCalls() (reads, writes int64) {
	data, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0, 0
	}
	for line := range strings.Lines(string(data)) {
		k, v, _ := strings.Cut(strings.TrimSpace(line), ": ")
		n, _ := strconv.ParseInt(v, 10, 64)
		switch k {
		case "syscr":
			reads = n
		case "syscw":
			writes = n
		}
	}
	return reads, writes
}

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// postgresSchema returns GATEHOUSE_TEST_POSTGRES_DSN with search_path set
// to a fresh schema that is dropped when tb ends, or skips tb if the
// variable is not set.
func postgresSchema(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv("GATEHOUSE_TEST_POSTGRES_DSN")
	if dsn == "" {
		tb.Skip("GATEHOUSE_TEST_POSTGRES_DSN not set: PostgreSQL server needed")
	}
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		tb.Fatalf("GATEHOUSE_TEST_POSTGRES_DSN must be a postgres:// URL: %q", dsn)
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { admin.Close() })
	schema := "oidc_bench_" + strings.ToLower(rand.Text())
	if _, err := admin.ExecContext(tb.Context(), `CREATE SCHEMA `+schema); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		// tb.Context is done by now.
		if _, err := admin.ExecContext(context.Background(), `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// BenchmarkAuthenticateAccessToken measures the portal API's token check in
// steady state: a cached token and a revocation check through the access
// cache, with no database read.
func BenchmarkAuthenticateAccessToken(b *testing.B) {
	e := newEnv(b)
	at := aws.ToString(e.deviceLogin(e.deviceClient("sso:account:access")).AccessToken)
	ctx := b.Context()
	if _, err := e.svc.AuthenticateAccessToken(ctx, at); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := e.svc.AuthenticateAccessToken(ctx, at); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
