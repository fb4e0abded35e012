// Command signinload measures what a flood of concurrent sign-ins costs a
// real `gatehouse serve`: it starts the server as a child process (demo
// world, SQLite in a temporary folder, loopback only), runs a fixed number
// of concurrent workers posting wrong passwords for unknown user names from
// many (forwarded) source addresses, keeps token traffic going alongside
// (CreateToken polls of a pending device authorization), and samples the
// child's resident set size (VmRSS in /proc/<pid>/status, Linux) every
// 20 ms. It prints the baseline and peak RSS, the sign-in answers by status
// and the token answers with their latency, and exits 1 when the peak
// passes -max-rss.
//
// It is a development tool, not part of the gatehouse binary:
//
//	go build -o /tmp/gatehouse ./cmd/gatehouse
//	go run ./cmd/signinload -gatehouse /tmp/gatehouse -workers 400 -duration 20s
//	go run ./cmd/signinload -gatehouse /tmp/gatehouse -workers 400 -duration 20s -user-agent-bytes 1048576 -body-bytes 1000000
//
// With -mode throughput it measures sign-in throughput instead (see
// runThroughput): the raw argon2id rate of the server's own password check
// on every core, then successful sign-ins per second through the real
// /login flow of the child, and GetRoleCredentials per second alone and
// during that sign-in flood:
//
//	go run ./cmd/signinload -gatehouse /tmp/gatehouse -mode throughput -phase 10s
//
// Load is bounded: at most 2,000 workers and 5 minutes, to 127.0.0.1 only.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/loadkit"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "signinload:", err)
		os.Exit(1)
	}
}

func run() error {
	bin := flag.String("gatehouse", "", "path to a built gatehouse binary (required)")
	workers := flag.Int("workers", 400, "concurrent sign-in workers (at most 2000)")
	duration := flag.Duration("duration", 20*time.Second, "how long the flood lasts (at most 5m)")
	maxRSS := flag.Int("max-rss", 256, "fail when the child's peak RSS passes this many MiB")
	hostile := flag.Bool("ignore-retry-after", false, "resend at once instead of waiting Retry-After (a hostile client)")
	concurrency := flag.Int("signin-concurrency", 0, "GATEHOUSE_SIGNIN_CONCURRENCY for the child (0: its default)")
	uaBytes := flag.Int("user-agent-bytes", 0, "send a User-Agent header of this many bytes (at most 1 MiB)")
	padBytes := flag.Int("body-bytes", 0, "add a form field of this many bytes to each sign-in body (at most 2 MiB)")
	mode := flag.String("mode", "memory", "memory: RSS under a flood of wrong passwords; throughput: sign-ins/s against raw argon2id, GetRoleCredentials during the flood")
	phase := flag.Duration("phase", 10*time.Second, "throughput: length of each measured window (at most 1m)")
	signinWorkers := flag.Int("signin-workers", 0, "throughput: concurrent sign-ins (0: 3 × CPUs, the hash gate's running and waiting places)")
	grcWorkers := flag.Int("grc-workers", 8, "throughput: concurrent GetRoleCredentials callers")
	rounds := flag.Int("rounds", 3, "throughput: raw argon2id / sign-in window pairs")
	childProcs := flag.Int("child-gomaxprocs", 0, "throughput: GOMAXPROCS for the child (0: not set; serve then keeps one more than the hash gate)")
	grcRate := flag.Float64("grc-rate", 0, "throughput: GetRoleCredentials per second the callers offer together (0: as fast as answered)")
	flag.Parse()
	if *mode == "throughput" {
		if *bin == "" {
			return errors.New("-gatehouse is required")
		}
		return runThroughput(throughputConfig{bin: *bin, phase: *phase, signinWorkers: *signinWorkers, grcWorkers: *grcWorkers, grcRate: *grcRate, concurrency: *concurrency, childProcs: *childProcs, rounds: *rounds})
	} else if *mode != "memory" {
		return errors.New("-mode must be memory or throughput")
	}
	if *uaBytes < 0 || *uaBytes > 1<<20 || *padBytes < 0 || *padBytes > 2<<20 {
		return errors.New("-user-agent-bytes must be 0..1 MiB and -body-bytes 0..2 MiB")
	}
	ua := strings.Repeat("U", *uaBytes)
	pad := strings.Repeat("p", *padBytes)
	if *bin == "" {
		return errors.New("-gatehouse is required")
	}
	if *workers < 1 || *workers > 2000 || *duration <= 0 || *duration > 5*time.Minute {
		return errors.New("-workers must be 1..2000 and -duration at most 5m")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := loadkit.Start(ctx, loadkit.ServeOptions{Bin: *bin, Demo: true, Env: childEnv(*concurrency, 0)})
	if err != nil {
		return err
	}
	defer srv.Stop()
	base := srv.Base
	pid := srv.PID()
	time.Sleep(time.Second) // let start-up garbage settle
	baseline, err := loadkit.RSS(pid)
	if err != nil {
		return err
	}

	var peak atomic.Int64
	peak.Store(baseline)
	sampleDone := make(chan struct{})
	stopSampling := make(chan struct{})
	go func() {
		defer close(sampleDone)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stopSampling:
				return
			case <-t.C:
				if n, err := loadkit.RSS(pid); err == nil && n > peak.Load() {
					peak.Store(n)
				}
			}
		}
	}()

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *workers + 8, MaxConnsPerHost: *workers + 8}}
	deadline := time.Now().Add(*duration)
	var mu sync.Mutex
	statuses := map[int]int{}
	var wg sync.WaitGroup
	for w := range *workers {
		wg.Go(func() {
			for i := 0; time.Now().Before(deadline); i++ {
				form := url.Values{"username": {fmt.Sprintf("nobody-%d-%d", w, i)}, "password": {"wrong-password"}}
				body := form.Encode()
				if pad != "" {
					body += "&pad=" + pad
				}
				req, _ := http.NewRequest("POST", base+"/login", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				if ua != "" {
					req.Header.Set("User-Agent", ua)
				}
				req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.%d.%d.%d", w/250, w%250, i%250+1))
				code := 0
				if resp, err := client.Do(req); err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					code = resp.StatusCode
					if !*hostile && (code == http.StatusServiceUnavailable || code == http.StatusTooManyRequests) {
						if ra, _ := strconv.Atoi(resp.Header.Get("Retry-After")); ra > 0 {
							time.Sleep(min(time.Duration(ra)*time.Second, time.Until(deadline)))
						}
					}
				}
				mu.Lock()
				statuses[code]++
				mu.Unlock()
			}
		})
	}
	tokens, lat, terr := tokenTraffic(client, base, deadline)
	wg.Wait()
	close(stopSampling)
	<-sampleDone

	fmt.Printf("workers %d, duration %s, ignore Retry-After %v, user agent %d B, padding %d B\n", *workers, *duration, *hostile, *uaBytes, *padBytes)
	fmt.Printf("child RSS: baseline %.1f MiB, peak %.1f MiB (limit %d MiB)\n", loadkit.MiB(baseline), loadkit.MiB(peak.Load()), *maxRSS)
	keys := make([]int, 0, len(statuses))
	for k := range statuses {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	fmt.Print("sign-in answers:")
	for _, k := range keys {
		fmt.Printf(" %d×%d", statuses[k], k)
	}
	fmt.Println()
	if terr != nil {
		fmt.Println("token traffic error:", terr)
	}
	slices.Sort(lat)
	if len(lat) > 0 {
		fmt.Printf("token answers: %d (all < 500), p50 %s, p99 %s, max %s\n", tokens, lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1])
	}
	if peak.Load() > int64(*maxRSS)<<20 {
		return fmt.Errorf("peak RSS %.1f MiB is over %d MiB", loadkit.MiB(peak.Load()), *maxRSS)
	}
	if terr != nil || tokens == 0 {
		return errors.New("token traffic did not flow")
	}
	return nil
}

// tokenTraffic registers a client, starts a device authorization and polls
// CreateToken until the deadline, one request at a time, and returns how
// many answers came back (any status below 500) and their latencies.
func tokenTraffic(c *http.Client, base string, deadline time.Time) (int, []time.Duration, error) {
	_, reg, err := loadkit.PostJSON(c, base, "/client/register", map[string]string{"clientName": "signinload", "clientType": "public"})
	if err != nil {
		return 0, nil, err
	}
	creds := map[string]string{"clientId": fmt.Sprint(reg["clientId"]), "clientSecret": fmt.Sprint(reg["clientSecret"])}
	_, dev, err := loadkit.PostJSON(c, base, "/device_authorization", map[string]string{"clientId": creds["clientId"], "clientSecret": creds["clientSecret"], "startUrl": loadkit.StartURL})
	if err != nil {
		return 0, nil, err
	}
	var lat []time.Duration
	n := 0
	for time.Now().Before(deadline) {
		t0 := time.Now()
		code, _, err := loadkit.PostJSON(c, base, "/token", map[string]string{
			"clientId": creds["clientId"], "clientSecret": creds["clientSecret"],
			"grantType": "urn:ietf:params:oauth:grant-type:device_code", "deviceCode": fmt.Sprint(dev["deviceCode"]),
		})
		if err != nil {
			return n, lat, err
		}
		if code >= 500 {
			return n, lat, fmt.Errorf("CreateToken answered %d", code)
		}
		lat = append(lat, time.Since(t0))
		n++
		time.Sleep(100 * time.Millisecond)
	}
	return n, lat, nil
}

// childEnv is the child's environment beyond loadkit's: when concurrency >
// 0, that many password hashes at once and, when procs > 0, GOMAXPROCS
// procs.
func childEnv(concurrency, procs int) []string {
	var env []string
	if concurrency > 0 {
		env = append(env, "GATEHOUSE_SIGNIN_CONCURRENCY="+strconv.Itoa(concurrency))
	}
	if procs > 0 {
		env = append(env, "GOMAXPROCS="+strconv.Itoa(procs))
	}
	return env
}
