// Command hotload measures Gatehouse's hot paths from a separate load
// generator, wrk (https://github.com/wg/wrk, 4.1), against a bare net/http
// handler measured in the same run. It starts, all on 127.0.0.1:
//
//   - a do-nothing net/http server as a child process of its own (this
//     executable re-run with -bare-server);
//   - `gatehouse serve --demo` as a child (internal/loadkit): SQLite in a
//     temporary folder, or with -postgres DSN -replicas N, N children
//     sharing a schema created for the run (search_path in the URL; one
//     master key in GATEHOUSE_MASTER_KEY; --demo on the first only), dropped
//     at the end;
//
// signs alice in with the device flow (loadkit.DeviceLogin), and then, run
// after run, drives each path with `wrk -tT -cC -dD --latency` and the
// embedded script hotload.lua:
//
//   - Bare: GET / of the bare server.
//   - GetRoleCredentials: GET /federation/credentials for
//     AdministratorAccess in 111111111111 with x-amz-sso_bearer_token.
//   - GetCallerIdentity: one STS POST signed with SigV4 (aws-sdk-go-v2's
//     signer) with credentials from GetRoleCredentials, signed once per run
//     and replayed within its validity window; the server verifies each in
//     full.
//   - CreateToken refresh: the refresh_token grant on C+T rotating chains
//     (one more per thread than its connections, see hotload.lua), one
//     device login each, done before each run, 4 at a time; each answer's
//     refreshToken goes back to the thread's pool of chains, from which a
//     connection takes its next request's token.
//
// With several replicas, wrk's threads are rounded up to a multiple of the
// replicas and thread i connects to replica i mod N, so each replica gets
// the same number of connections; the connections are rounded down to a
// multiple of the threads (wrk gives each thread C/T).
//
// It prints each measurement, then a Markdown table: requests per second of
// every run, the rate as a fraction of the same run's bare rate, p50 and p99
// latency, server and wrk CPU time per request, and the issue-12 target. On
// PostgreSQL it also counts the transactions the database rolled back
// during each gatehouse path (pg_stat_database.xact_rollback, read 11 s
// after the load and before it, so that idle backends have reported them),
// per request: mostly serialization failures the store retried.
// Any error answer (wrk counts 400 and above; refreshes must be 200 with a
// refresh token), socket error or time-out (10 s) fails the run with exit
// status 1. wrk does not count 3xx answers, so GetRoleCredentials and
// GetCallerIdentity are first checked with a Go client (200 and the expected
// body), the bare server answers 200 before its load starts, and every
// refresh answer is checked for 200 by the script. The children's log goes
// to -log FILE, or to a temporary file whose end is shown when the run fails.
//
// It is a development tool, not part of the gatehouse binary:
//
//	go build -o /tmp/gatehouse ./cmd/gatehouse && go build -o /tmp/hotload ./cmd/hotload
//	/tmp/hotload -gatehouse /tmp/gatehouse
//	/tmp/hotload -gatehouse /tmp/gatehouse -postgres 'postgres://postgres@127.0.0.1:55432/gatehouse_test?sslmode=disable' -replicas 3
//
// Bounds: loopback only, at most 60 s per path and 1,000 connections.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/gatehouse-dev/gatehouse/internal/loadkit"
)

func main() {
	bare := flag.String("bare-server", "", "internal: serve the bare handler on this `address` until killed")
	cfg := config{}
	flag.StringVar(&cfg.gatehouse, "gatehouse", "", "path to a built gatehouse binary (required)")
	flag.StringVar(&cfg.wrk, "wrk", "/usr/bin/wrk", "path to wrk 4.1")
	flag.DurationVar(&cfg.duration, "duration", 5*time.Second, "length of each path's load, whole seconds (1s..60s)")
	flag.IntVar(&cfg.connections, "connections", 64, "wrk's -c: keep-alive connections (1..1000)")
	flag.IntVar(&cfg.threads, "threads", 2, "wrk's -t: load-generator threads")
	flag.IntVar(&cfg.runs, "runs", 3, "rounds of all paths (1..10)")
	flag.StringVar(&cfg.postgres, "postgres", "", "PostgreSQL `DSN` on 127.0.0.1: run on a schema created there for the run instead of SQLite")
	flag.IntVar(&cfg.replicas, "replicas", 1, "gatehouse children (more than 1 needs -postgres)")
	flag.StringVar(&cfg.log, "log", "", "write the gatehouse children's log to this `file` (default: a temporary file, its end shown on failure)")
	flag.Parse()
	var err error
	if *bare != "" {
		err = serveBare(*bare)
	} else {
		err = run(cfg, os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "hotload:", err)
		os.Exit(1)
	}
}

type config struct {
	gatehouse, wrk       string
	duration             time.Duration
	connections, threads int
	runs                 int
	postgres             string
	replicas             int
	log                  string
}

// check validates c and settles the threads and connections wrk gets for
// the replicas (see the package comment).
func (c *config) check() error {
	switch {
	case c.gatehouse == "":
		return errors.New("-gatehouse is required")
	case c.duration < time.Second || c.duration > time.Minute || c.duration%time.Second != 0:
		return errors.New("-duration must be whole seconds from 1s to 60s")
	case c.connections < 1 || c.connections > 1000:
		return errors.New("-connections must be 1..1000")
	case c.runs < 1 || c.runs > 10:
		return errors.New("-runs must be 1..10")
	case c.replicas < 1 || c.replicas > 9:
		return errors.New("-replicas must be 1..9")
	case c.replicas > 1 && c.postgres == "":
		return errors.New("-replicas above 1 needs -postgres")
	}
	if c.threads < 1 {
		return errors.New("-threads must be at least 1")
	}
	if c.postgres != "" {
		u, err := url.Parse(c.postgres)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || (u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost") {
			return errors.New("-postgres must be a postgres:// URL on 127.0.0.1 (loopback only)")
		}
	}
	if r := c.threads % c.replicas; r != 0 {
		c.threads += c.replicas - r
	}
	if c.connections < c.threads {
		return fmt.Errorf("-connections must be at least the %d threads", c.threads)
	}
	c.connections -= c.connections % c.threads
	return nil
}

// Target is an issue-12 target: Met reports whether a run's figures meet it.
type target struct {
	Text string
	Met  func(rate, ofBare float64, p99 time.Duration) bool
}

// path is one measured path and its runs.
type path struct {
	Name   string
	Target target
	Runs   []measure
}

type measure struct {
	wrkResult
	OfBare    float64
	ServerCPU time.Duration // CPU time of the server processes during the run
	// Rollbacks is how many transactions the PostgreSQL database rolled
	// back during the run (-1: not measured), mostly serialization failures
	// the store retried.
	Rollbacks int64
}

func run(c config, stdout io.Writer) (err error) {
	if err := c.check(); err != nil {
		return err
	}
	if _, err := os.Stat(c.wrk); err != nil {
		return fmt.Errorf("wrk: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	tmp, err := os.MkdirTemp("", "hotload-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	// The children's log goes to a file, shown (its end) only when the run
	// fails: a client closing its connections when wrk stops makes the
	// server log the requests it was serving.
	logPath := filepath.Join(tmp, "gatehouse.log")
	if c.log != "" {
		logPath = c.log
	}
	childLog, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer childLog.Close()
	defer func() {
		if err != nil {
			if b, _ := os.ReadFile(logPath); len(b) > 0 {
				fmt.Fprintf(os.Stderr, "hotload: the end of gatehouse's log:\n%s\n", b[max(0, len(b)-4000):])
			}
		}
	}()
	scriptPath := filepath.Join(tmp, "hotload.lua")
	if err := os.WriteFile(scriptPath, script, 0o600); err != nil {
		return err
	}

	bare, err := startBare(ctx)
	if err != nil {
		return err
	}
	defer bare.Stop()
	children, rollbacks, cleanup, err := startGatehouse(ctx, c, childLog)
	if err != nil {
		return err
	}
	defer cleanup()
	base := children[0].Base
	var addrs []string
	for _, ch := range children {
		addrs = append(addrs, ch.Addr)
	}
	serverCPU := func() (d time.Duration) {
		for _, ch := range children {
			d += loadkit.ProcessCPU(ch.PID())
		}
		return d
	}

	tok, err := loadkit.DeviceLogin(base, loadkit.ForwardedFor(nil, "10.12.0.1"), loadkit.DemoUsers[0], loadkit.DemoPassword)
	if err != nil {
		return fmt.Errorf("device login: %w", err)
	}
	grcURL := base + "/federation/credentials?role_name=AdministratorAccess&account_id=111111111111"
	grcHeader := "x-amz-sso_bearer_token: " + tok.AccessToken
	creds, err := checkGRC(grcURL, tok.AccessToken)
	if err != nil {
		return err
	}

	backend := "SQLite (temporary folder), 1 gatehouse process"
	if c.postgres != "" {
		backend = fmt.Sprintf("PostgreSQL, %d gatehouse processes on one schema", c.replicas)
	}
	fmt.Fprintf(stdout, "hotload: %s; wrk -t%d -c%d -d%s --timeout %s --latency; %d runs; load average before: %s\n",
		backend, c.threads, c.connections, c.duration, wrkTimeout, c.runs, loadkit.Loadavg())

	paths := []*path{
		{Name: "Bare `net/http` handler (separate process)", Target: target{"—", nil}},
		{Name: "GetRoleCredentials", Target: target{"≥ 40% of bare, p99 ≤ 10 ms", func(_, of float64, p99 time.Duration) bool { return of >= 0.40 && p99 <= 10*time.Millisecond }}},
		{Name: "GetCallerIdentity (SigV4 verified)", Target: target{"≥ 60% of bare", func(_, of float64, _ time.Duration) bool { return of >= 0.60 }}},
		{Name: "CreateToken refresh (rotating)", Target: target{"≥ 5,000/s", func(rate, _ float64, _ time.Duration) bool { return rate >= 5000 }}},
	}
	if c.postgres != "" {
		paths[1].Target = target{"measured", nil}
		paths[2].Target = target{"measured", nil}
		paths[3].Target = target{"measured", nil}
	}
	w := wrkRun{Bin: c.wrk, Threads: c.threads, Connections: c.connections, Duration: c.duration, ScriptPath: scriptPath}
	// measure runs one path's load and records it; cpu reads the CPU time of
	// the processes serving it.
	measureOne := func(p *path, w wrkRun, cpu func() time.Duration, bareRate float64) (float64, error) {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		rb := int64(-1)
		if rollbacks != nil && p != paths[0] {
			if rb, err = rollbacks(ctx); err != nil {
				return 0, err
			}
		}
		before := cpu()
		r, err := w.run()
		if err != nil {
			return 0, fmt.Errorf("%s: %w", p.Name, err)
		}
		m := measure{wrkResult: r, ServerCPU: cpu() - before, OfBare: 1, Rollbacks: -1}
		if rb >= 0 {
			ra, err := rollbacks(ctx)
			if err != nil {
				return 0, err
			}
			m.Rollbacks = ra - rb
		}
		if bareRate > 0 {
			m.OfBare = r.Rate() / bareRate
		}
		p.Runs = append(p.Runs, m)
		fmt.Fprintf(stdout, "run %d  %-44s %9.0f req/s  of bare %.2f  p50 %s  p99 %s  server CPU %.1f µs/req  wrk CPU %.1f µs/req",
			len(p.Runs), p.Name, r.Rate(), m.OfBare, ms(r.P50), ms(r.P99), perReq(m.ServerCPU, r.Requests), perReq(r.CPU, r.Requests))
		if m.Rollbacks >= 0 {
			fmt.Fprintf(stdout, "  rollbacks %d (%.2f/req)", m.Rollbacks, float64(m.Rollbacks)/float64(max(r.Requests, 1)))
		}
		fmt.Fprintln(stdout)
		if f := r.Failed(); f != "" {
			return 0, fmt.Errorf("%s: %s in %d requests", p.Name, f, r.Requests)
		}
		return r.Rate(), nil
	}
	replicaEnv := []string{"HOTLOAD_ADDRS=" + strings.Join(addrs, ",")}
	for range c.runs {
		bw := w
		bw.URL = bare.URL
		bareRate, err := measureOne(paths[0], bw, func() time.Duration { return loadkit.ProcessCPU(bare.PID()) }, 0)
		if err != nil {
			return err
		}

		gw := w
		gw.URL, gw.Headers, gw.Env = grcURL, []string{grcHeader}, replicaEnv
		if _, err := measureOne(paths[1], gw, serverCPU, bareRate); err != nil {
			return err
		}

		sw, err := signedSTS(ctx, base, creds, tmp)
		if err != nil {
			return err
		}
		sw.Bin, sw.Threads, sw.Connections, sw.Duration, sw.ScriptPath = w.Bin, w.Threads, w.Connections, w.Duration, w.ScriptPath
		sw.Env = append(sw.Env, replicaEnv...)
		if _, err := measureOne(paths[2], sw, serverCPU, bareRate); err != nil {
			return err
		}

		rw, err := refreshChains(ctx, children, c.connections+c.threads, tmp)
		if err != nil {
			return err
		}
		rw.Bin, rw.Threads, rw.Connections, rw.Duration, rw.ScriptPath = w.Bin, w.Threads, w.Connections, w.Duration, w.ScriptPath
		rw.Env = append(rw.Env, replicaEnv...)
		if _, err := measureOne(paths[3], rw, serverCPU, bareRate); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "load average after: %s\n\n", loadkit.Loadavg())
	printTable(stdout, paths)
	return nil
}

// statsSettle is how long a PostgreSQL backend may keep its transaction
// counts before they reach pg_stat_database: an idle backend reports them
// within 10 s (PostgreSQL 15's PGSTAT_IDLE_INTERVAL).
const statsSettle = 11 * time.Second

// startGatehouse starts the gatehouse children: one on SQLite, or
// c.replicas on a new schema of c.postgres. cleanup stops them and drops the
// schema. On PostgreSQL, rollbacks waits statsSettle and returns the
// database's count of rolled-back transactions (pg_stat_database, the whole
// database: other clients of it count too); on SQLite it is nil.
func startGatehouse(ctx context.Context, c config, log io.Writer) (children []*loadkit.Child, rollbacks func(context.Context) (int64, error), cleanup func(), err error) {
	if c.postgres == "" {
		ch, err := loadkit.Start(ctx, loadkit.ServeOptions{Bin: c.gatehouse, Demo: true, Stderr: log})
		if err != nil {
			return nil, nil, nil, err
		}
		return []*loadkit.Child{ch}, nil, ch.Stop, nil
	}
	db, err := sql.Open("pgx", c.postgres)
	if err != nil {
		return nil, nil, nil, err
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "hotload_" + hex.EncodeToString(b)
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		db.Close()
		return nil, nil, nil, fmt.Errorf("create schema: %w", err)
	}
	cleanup = func() {
		for _, ch := range children {
			ch.Stop()
		}
		if _, err := db.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			fmt.Fprintf(os.Stderr, "hotload: drop schema %s: %v\n", schema, err)
		}
		db.Close()
	}
	u, _ := url.Parse(c.postgres)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	key := make([]byte, 32)
	rand.Read(key)
	env := []string{"GATEHOUSE_MASTER_KEY=" + base64.StdEncoding.EncodeToString(key)}
	for i := range c.replicas {
		ch, err := loadkit.Start(ctx, loadkit.ServeOptions{Bin: c.gatehouse, DatabaseURL: u.String(), Demo: i == 0, Env: env, Stderr: log})
		if err != nil {
			cleanup()
			return nil, nil, nil, fmt.Errorf("replica %d: %w", i+1, err)
		}
		children = append(children, ch)
	}
	rollbacks = func(ctx context.Context) (int64, error) {
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(statsSettle):
		}
		var n int64
		err := db.QueryRowContext(ctx, "SELECT xact_rollback FROM pg_stat_database WHERE datname = current_database()").Scan(&n)
		return n, err
	}
	return children, rollbacks, cleanup, nil
}

// checkGRC calls GetRoleCredentials once, checks the answer and returns
// the role credentials.
func checkGRC(u, access string) (aws.Credentials, error) {
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("x-amz-sso_bearer_token", access)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return aws.Credentials{}, err
	}
	defer resp.Body.Close()
	var out struct {
		RoleCredentials struct {
			AccessKeyID     string `json:"accessKeyId"`
			SecretAccessKey string `json:"secretAccessKey"`
			SessionToken    string `json:"sessionToken"`
		} `json:"roleCredentials"`
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || json.Unmarshal(b, &out) != nil || !strings.HasPrefix(out.RoleCredentials.AccessKeyID, "ASIA") {
		return aws.Credentials{}, fmt.Errorf("GetRoleCredentials: %s: %s", resp.Status, b)
	}
	rc := out.RoleCredentials
	return aws.Credentials{AccessKeyID: rc.AccessKeyID, SecretAccessKey: rc.SecretAccessKey, SessionToken: rc.SessionToken}, nil
}

// stsBody is the GetCallerIdentity request (Query protocol).
const stsBody = "Action=GetCallerIdentity&Version=2011-06-15"

// signedSTS signs one GetCallerIdentity request for base with creds, checks
// that the server accepts it twice (a replay within the signature's
// validity window is what wrk sends), and returns the wrk run sending it.
func signedSTS(ctx context.Context, base string, creds aws.Credentials, tmp string) (wrkRun, error) {
	sum := sha256.Sum256([]byte(stsBody))
	req, _ := http.NewRequest("POST", base+"/", strings.NewReader(stsBody))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "sts", "us-east-1", time.Now()); err != nil {
		return wrkRun{}, err
	}
	for range 2 {
		r, _ := http.NewRequest("POST", base+"/", strings.NewReader(stsBody))
		r.Header = req.Header.Clone()
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			return wrkRun{}, err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !bytes.Contains(b, []byte("assumed-role/AWSReservedSSO_AdministratorAccess_")) {
			return wrkRun{}, fmt.Errorf("GetCallerIdentity with a replayed signed request: %s: %s", resp.Status, b)
		}
	}
	bodyFile := filepath.Join(tmp, "sts-body")
	if err := os.WriteFile(bodyFile, []byte(stsBody), 0o600); err != nil {
		return wrkRun{}, err
	}
	w := wrkRun{URL: base + "/", Env: []string{"HOTLOAD_METHOD=POST", "HOTLOAD_BODY=" + bodyFile}}
	for k, vs := range req.Header {
		for _, v := range vs {
			w.Headers = append(w.Headers, k+": "+v)
		}
	}
	return w, nil
}

// loginConcurrency is how many device logins run at once.
const loginConcurrency = 4

// refreshChains signs alice in n times concurrently (one client
// registration, each login from its own forwarded address, spread over the
// replicas) and returns the wrk run driving the n refresh chains.
func refreshChains(ctx context.Context, children []*loadkit.Child, n int, tmp string) (wrkRun, error) {
	base := children[0].Base
	id, secret, err := loadkit.RegisterClient(base, loadkit.ForwardedFor(nil, "10.12.0.2"))
	if err != nil {
		return wrkRun{}, err
	}
	tokens := make([]string, n)
	errs := make([]error, n)
	sem := make(chan struct{}, loginConcurrency)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if ctx.Err() != nil {
				errs[i] = ctx.Err()
				return
			}
			tr := loadkit.ForwardedFor(nil, fmt.Sprintf("10.13.%d.%d", i/250, i%250+1))
			t, err := loadkit.DeviceLoginClient(children[i%len(children)].Base, tr, id, secret, loadkit.DemoUsers[0], loadkit.DemoPassword)
			if err == nil && (t.RefreshToken == "" || strings.ContainsAny(t.RefreshToken, "\"\\\n")) {
				err = fmt.Errorf("refresh token %q", t.RefreshToken)
			}
			if err == nil {
				tokens[i] = t.RefreshToken
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return wrkRun{}, fmt.Errorf("refresh chains: %w", err)
	}
	file := filepath.Join(tmp, "refresh-tokens")
	if err := os.WriteFile(file, []byte(strings.Join(tokens, "\n")+"\n"), 0o600); err != nil {
		return wrkRun{}, err
	}
	cid, _ := json.Marshal(id)
	csec, _ := json.Marshal(secret)
	prefix := `{"clientId":` + string(cid) + `,"clientSecret":` + string(csec) + `,"grantType":"refresh_token","refreshToken":"`
	return wrkRun{URL: base + "/token", Env: []string{"HOTLOAD_REFRESH=" + file, "HOTLOAD_REFRESH_PREFIX=" + prefix}}, nil
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + " ms"
}

func perReq(d time.Duration, n int64) float64 {
	if n == 0 {
		return 0
	}
	return float64(d.Microseconds()) / float64(n)
}

// printTable writes the Markdown summary of paths: every run's rate, and
// the range over runs of the other figures.
func printTable(w io.Writer, paths []*path) {
	pg := false
	for _, p := range paths {
		for _, m := range p.Runs {
			pg = pg || m.Rollbacks >= 0
		}
	}
	head, rule := "| Path | req/s (each run) | of bare | p50 | p99 | server CPU µs/req | wrk CPU µs/req |", "|---|---|---|---|---|---|---|"
	if pg {
		head, rule = head+" DB rollbacks/req |", rule+"---|"
	}
	fmt.Fprintln(w, head+" Target | Met |")
	fmt.Fprintln(w, rule+"---|---|")
	for _, p := range paths {
		var rates []string
		var ofBare, p50, p99, scpu, wcpu, rb []float64
		met := 0
		for _, m := range p.Runs {
			rates = append(rates, thousands(m.Rate()))
			ofBare = append(ofBare, m.OfBare)
			p50 = append(p50, float64(m.P50)/float64(time.Millisecond))
			p99 = append(p99, float64(m.P99)/float64(time.Millisecond))
			scpu = append(scpu, perReq(m.ServerCPU, m.Requests))
			wcpu = append(wcpu, perReq(m.CPU, m.Requests))
			if m.Rollbacks >= 0 {
				rb = append(rb, float64(m.Rollbacks)/float64(max(m.Requests, 1)))
			}
			if p.Target.Met != nil && p.Target.Met(m.Rate(), m.OfBare, m.P99) {
				met++
			}
		}
		verdict := "—"
		if p.Target.Met != nil {
			verdict = fmt.Sprintf("%d of %d runs", met, len(p.Runs))
		}
		row := fmt.Sprintf("| %s | %s | %s | %s ms | %s ms | %s | %s |", p.Name, strings.Join(rates, " / "),
			span(ofBare, 2), span(p50, 2), span(p99, 1), span(scpu, 1), span(wcpu, 1))
		if pg {
			if len(rb) == 0 {
				row += " — |"
			} else {
				row += " " + span(rb, 2) + " |"
			}
		}
		fmt.Fprintf(w, "%s %s | %s |\n", row, p.Target.Text, verdict)
	}
}

// span formats the range of xs: "a" when all round alike, else "lo–hi".
func span(xs []float64, prec int) string {
	if len(xs) == 0 {
		return ""
	}
	lo, hi := xs[0], xs[0]
	for _, x := range xs {
		lo, hi = min(lo, x), max(hi, x)
	}
	a, b := strconv.FormatFloat(lo, 'f', prec, 64), strconv.FormatFloat(hi, 'f', prec, 64)
	if a == b {
		return a
	}
	return a + "–" + b
}

// thousands formats x rounded to an integer with commas: 98,123.
func thousands(x float64) string {
	s := strconv.FormatInt(int64(x+0.5), 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
