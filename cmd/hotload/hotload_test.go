package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// wrkOutput is wrk 4.1's output with the script's done() line, as hotload
// reads it (the refresh path, one bad answer).
const wrkOutput = `Running 5s test @ http://127.0.0.1:40123/token
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    12.43ms    6.01ms  80.10ms   75.00%
    Req/Sec     2.60k   210.00     3.00k    70.00%
  Latency Distribution
     50%   11.80ms
     75%   14.00ms
     90%   19.00ms
     99%   35.50ms
  25912 requests in 5.00s, 30.10MB read
  Non-2xx or 3xx responses: 1
Requests/sec:   5182.40
Transfer/sec:      6.02MB
hotload-bad: 400 {"error":"invalid_grant"}
hotload: requests=25912 duration_us=5000123 p50_us=11800 p99_us=35500 max_us=80100 errors_status=1 errors_connect=0 errors_read=0 errors_write=0 errors_timeout=0 bad=1
`

func TestParseWrk(t *testing.T) {
	r, err := parseWrk([]byte(wrkOutput))
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests != 25912 || r.Duration != 5000123*time.Microsecond || r.P50 != 11800*time.Microsecond ||
		r.P99 != 35500*time.Microsecond || r.Max != 80100*time.Microsecond {
		t.Fatalf("parsed %+v", r)
	}
	if rate := r.Rate(); rate < 5182 || rate > 5183 {
		t.Fatalf("rate %f, want 5182.2", rate)
	}
	f := r.Failed()
	if !strings.Contains(f, "1 status") || !strings.Contains(f, "1 bad") || !strings.Contains(f, `400 {"error":"invalid_grant"}`) {
		t.Fatalf("Failed() = %q", f)
	}
	clean := strings.Replace(strings.Replace(wrkOutput, "errors_status=1", "errors_status=0", 1), "bad=1", "bad=0", 1)
	if r, err := parseWrk([]byte(clean)); err != nil || r.Failed() != "" {
		t.Fatalf("clean run: %v, Failed() = %q", err, r.Failed())
	}
	for name, out := range map[string]string{
		"no done line":  "Running 5s test @ http://127.0.0.1:1/\nRequests/sec: 1.00\n",
		"missing field": "hotload: requests=1 duration_us=1 p50_us=1 p99_us=1 errors_status=0\n",
		"bad number":    "hotload: requests=x duration_us=1 p50_us=1 p99_us=1 errors_status=0 bad=0\n",
		"negative":      "hotload: requests=-1 duration_us=1 p50_us=1 p99_us=1 errors_status=0 bad=0\n",
	} {
		if _, err := parseWrk([]byte(out)); err == nil {
			t.Errorf("%s: parsed without error", name)
		}
	}
	zero := "hotload: requests=0 duration_us=1000000 p50_us=0 p99_us=0 max_us=0 errors_status=0 errors_connect=0 errors_read=0 errors_write=0 errors_timeout=0 bad=0\n"
	if r, err := parseWrk([]byte(zero)); err != nil || r.Failed() == "" {
		t.Fatalf("a run without answers must fail: %v %q", err, r.Failed())
	}
}

func TestBareHandler(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(bareHandler))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/anything")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != `{"ok":true}` || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("bare answer: %s %q %q", resp.Status, resp.Header.Get("Content-Type"), b)
	}
}

func TestConfigCheck(t *testing.T) {
	ok := config{gatehouse: "g", duration: 5 * time.Second, connections: 64, threads: 2, runs: 3, replicas: 1}
	if c := ok; c.check() != nil || c.threads != 2 || c.connections != 64 {
		t.Fatalf("defaults: %+v", c)
	}
	pg := ok
	pg.postgres, pg.replicas = "postgres://postgres@127.0.0.1:55432/db?sslmode=disable", 3
	if err := pg.check(); err != nil || pg.threads != 3 || pg.connections != 63 {
		t.Fatalf("3 replicas: %v, threads %d connections %d, want 3 and 63", err, pg.threads, pg.connections)
	}
	for name, mod := range map[string]func(*config){
		"no gatehouse":        func(c *config) { c.gatehouse = "" },
		"long duration":       func(c *config) { c.duration = 61 * time.Second },
		"fractional duration": func(c *config) { c.duration = 1500 * time.Millisecond },
		"no connections":      func(c *config) { c.connections = 0 },
		"too many":            func(c *config) { c.connections = 1001 },
		"replicas on sqlite":  func(c *config) { c.replicas = 3 },
		"remote postgres":     func(c *config) { c.postgres = "postgres://db.example.com/x" },
		"fewer connections":   func(c *config) { c.connections = 1 },
	} {
		c := ok
		mod(&c)
		if c.check() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestHotloadSmoke builds gatehouse and hotload and runs every path for a
// second with wrk: the bare server starts as a process of its own, every
// request is answered 200 and the table is printed.
func TestHotloadSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds gatehouse and runs wrk (-short given)")
	}
	if _, err := os.Stat("/usr/bin/wrk"); err != nil {
		t.Skip("wrk is not installed at /usr/bin/wrk (scripts/test installs it)")
	}
	dir := t.TempDir()
	for _, b := range []struct{ out, pkg string }{{"gatehouse", "./cmd/gatehouse"}, {"hotload", "./cmd/hotload"}} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, b.out), "github.com/gatehouse-dev/gatehouse/"+strings.TrimPrefix(b.pkg, "./"))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", b.pkg, err, out)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(dir, "hotload"), "-gatehouse", filepath.Join(dir, "gatehouse"),
		"-duration", "1s", "-runs", "1", "-connections", "8", "-threads", "1")
	cmd.Env = append(os.Environ(), "HOME="+dir, "HTTPS_PROXY=http://127.0.0.1:9")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("hotload: %v\n%s", err, out)
	}
	for _, want := range []string{"| Bare `net/http` handler (separate process) | ", "| GetRoleCredentials | ",
		"| GetCallerIdentity (SigV4 verified) | ", "| CreateToken refresh (rotating) | "} {
		if !strings.Contains(string(out), want) {
			t.Errorf("no row %q in\n%s", want, out)
		}
	}
}

func TestPrintTable(t *testing.T) {
	run := func(rate float64, of float64, rollbacks int64) measure {
		return measure{wrkResult: wrkResult{Requests: int64(rate * 5), Duration: 5 * time.Second, P50: time.Millisecond, P99: 9 * time.Millisecond,
			CPU: time.Duration(rate*5) * 10 * time.Microsecond}, OfBare: of, ServerCPU: time.Duration(rate*5) * 100 * time.Microsecond, Rollbacks: rollbacks}
	}
	paths := []*path{
		{Name: "Bare", Target: target{"—", nil}, Runs: []measure{run(100000, 1, -1), run(90000, 1, -1)}},
		{Name: "GetRoleCredentials", Target: target{"≥ 40% of bare, p99 ≤ 10 ms", func(_, of float64, p99 time.Duration) bool { return of >= 0.4 && p99 <= 10*time.Millisecond }},
			Runs: []measure{run(45000, 0.45, -1), run(30000, 0.33, -1)}},
	}
	var b strings.Builder
	printTable(&b, paths)
	want := "| Path | req/s (each run) | of bare | p50 | p99 | server CPU µs/req | wrk CPU µs/req | Target | Met |\n" +
		"|---|---|---|---|---|---|---|---|---|\n" +
		"| Bare | 100,000 / 90,000 | 1.00 | 1.00 ms | 9.0 ms | 100.0 | 10.0 | — | — |\n" +
		"| GetRoleCredentials | 45,000 / 30,000 | 0.33–0.45 | 1.00 ms | 9.0 ms | 100.0 | 10.0 | ≥ 40% of bare, p99 ≤ 10 ms | 1 of 2 runs |\n"
	if b.String() != want {
		t.Fatalf("table:\n%s\nwant:\n%s", b.String(), want)
	}
	paths[1].Runs = []measure{run(1000, 0.01, 3000)}
	b.Reset()
	printTable(&b, paths)
	if !strings.Contains(b.String(), "| DB rollbacks/req |") || !strings.Contains(b.String(), "| 10.0 | — | — | — |") || !strings.Contains(b.String(), "| 0.60 | ≥ 40%") {
		t.Fatalf("PostgreSQL table:\n%s", b.String())
	}
}
