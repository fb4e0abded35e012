package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/loadkit"
)

// throughputConfig are the flags of -mode throughput.
type throughputConfig struct {
	bin           string
	phase         time.Duration // each measured window
	signinWorkers int           // concurrent sign-ins; 0: 3 × CPUs
	grcWorkers    int           // concurrent GetRoleCredentials callers
	grcRate       float64       // GetRoleCredentials offered per second over all callers; 0: as fast as they can
	concurrency   int           // GATEHOUSE_SIGNIN_CONCURRENCY for the child; 0: its default
	childProcs    int           // GOMAXPROCS for the child; 0: not set
	rounds        int           // raw/sign-in window pairs
}

// maxSigninWorkers bounds -signin-workers: the child's world has that many
// load users (load-user-00, ...), one per worker, with the demo password.
const maxSigninWorkers = 64

// loadUser is the user name worker w signs in as.
func loadUser(w int) string { return fmt.Sprintf("load-user-%02d", w) }

// warmup runs before each measured window, so that the window sees the
// steady state (the gate's queue full, connections open).
const warmup = time.Second

// runThroughput measures, in one run against a `gatehouse serve --demo`
// child: in c.rounds turns, the raw argon2id rate of
// directory.VerifyPassword (the server's own code, so its parameters) in
// GOMAXPROCS goroutines of this process while the child idles, then the
// rate of successful sign-ins through the child's real two-step /login
// flow; then GetRoleCredentials alone and during a sign-in flood. Each
// window is c.phase long, after a warm-up of 1 s.
func runThroughput(c throughputConfig) error {
	if c.phase <= 0 || c.phase > time.Minute || c.rounds < 1 || c.rounds > 10 {
		return errors.New("-phase must be in (0, 1m] and -rounds 1..10")
	}
	if c.signinWorkers > maxSigninWorkers {
		return fmt.Errorf("-signin-workers %d: at most %d", c.signinWorkers, maxSigninWorkers)
	}
	if c.signinWorkers == 0 {
		c.signinWorkers = 3 * max(runtime.NumCPU(), 2)
	}
	if c.signinWorkers < 1 || c.signinWorkers > 200 || c.grcWorkers < 1 || c.grcWorkers > 64 || c.grcRate < 0 || c.grcRate > 20000 {
		return errors.New("-signin-workers must be 1..200, -grc-workers 1..64 and -grc-rate 0..20000")
	}
	fmt.Printf("CPUs %d, GOMAXPROCS %d, load average %s\n", runtime.NumCPU(), runtime.GOMAXPROCS(0), loadkit.Loadavg())

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := startChild(ctx, c.bin, c.concurrency, c.childProcs)
	if err != nil {
		return err
	}
	defer srv.Stop()

	tr := &http.Transport{MaxIdleConnsPerHost: c.signinWorkers + c.grcWorkers + 8}
	tok, err := loadkit.DeviceLogin(srv.Base, tr, loadkit.DemoUsers[0], loadkit.DemoPassword)
	if err != nil {
		return fmt.Errorf("access token for GetRoleCredentials: %w", err)
	}
	token := tok.AccessToken
	offered := "as fast as answered"
	if c.grcRate > 0 {
		offered = fmt.Sprintf("%.0f/s offered", c.grcRate)
	}
	fmt.Printf("sign-in workers %d, GetRoleCredentials workers %d (%s), windows of %s, child signin_concurrency %s, child GOMAXPROCS %s\n\n",
		c.signinWorkers, c.grcWorkers, offered, c.phase, orDefault(c.concurrency), orDefault(c.childProcs))

	// Raw argon2id and the sign-in flood, in turns, so that both see
	// the same machine as far as possible; the child idles during the
	// raw windows.
	var rawSum, signSum float64
	var ratios []float64
	var rawCPU, signCPU time.Duration
	var rawN, signN float64
	signins := newCounter()
	for r := range c.rounds {
		raw, perHash, err := rawArgon2(c.phase)
		if err != nil {
			return err
		}
		stopFlood := signinFlood(srv.Base, tr, c.signinWorkers, signins)
		time.Sleep(warmup)
		w := measure(srv.PID(), c.phase, signins)
		stopFlood()
		rawSum += raw
		signSum += w.rates[0]
		ratios = append(ratios, w.rates[0]/raw)
		n := raw * c.phase.Seconds()
		rawN += n
		rawCPU += time.Duration(float64(perHash) * n)
		signN += w.rates[0] * w.seconds
		signCPU += time.Duration(w.childCores * w.seconds * float64(time.Second))
		fmt.Printf("round %d: raw argon2id %6.1f hashes/s (%d goroutines, %.1f ms CPU each); sign-ins %6.1f /s (child %.2f cores, %.1f ms CPU each, this tool %.2f cores); ratio %.2f\n",
			r+1, raw, runtime.GOMAXPROCS(0), ms(perHash), w.rates[0], w.childCores, ms(time.Duration(w.childCores*float64(time.Second)/w.rates[0])), w.selfCores, w.rates[0]/raw)
	}
	if err := signins.failure(); err != nil {
		return err
	}

	// GetRoleCredentials alone, then during a sign-in flood.
	grc := newCounter()
	stopGRC := grcTraffic(srv.Base, tr, token, c.grcWorkers, c.grcRate, grc)
	time.Sleep(warmup)
	wAlone := measure(srv.PID(), c.phase, grc)
	stopGRC()
	flood := newCounter()
	stopFlood := signinFlood(srv.Base, tr, c.signinWorkers, flood)
	time.Sleep(warmup)
	grc2 := newCounter()
	stopGRC = grcTraffic(srv.Base, tr, token, c.grcWorkers, c.grcRate, grc2)
	time.Sleep(warmup)
	wBoth := measure(srv.PID(), c.phase, flood, grc2)
	stopGRC()
	stopFlood()
	if err := errors.Join(grc.failure(), flood.failure(), grc2.failure()); err != nil {
		return err
	}
	fmt.Printf("GetRoleCredentials alone:        %7.1f /s (child %.2f cores, this tool %.2f)\n", wAlone.rates[0], wAlone.childCores, wAlone.selfCores)
	fmt.Printf("GetRoleCredentials during flood: %7.1f /s (child %.2f cores, this tool %.2f; sign-ins meanwhile %.1f /s)\n",
		wBoth.rates[1], wBoth.childCores, wBoth.selfCores, wBoth.rates[0])
	fmt.Printf("sign-in answers: %d sessions started, %d busy (503), %d unexpected\n\n",
		signins.ok.Load()+flood.ok.Load(), signins.busy.Load()+flood.busy.Load(), signins.other.Load()+flood.other.Load())

	slices.Sort(ratios)
	fmt.Printf("sign-ins ÷ raw argon2id: %.2f over all rounds (%.1f ÷ %.1f), median round %.2f (target ≥ 0.90)\n",
		signSum/rawSum, signSum/float64(c.rounds), rawSum/float64(c.rounds), ratios[len(ratios)/2])
	perHash, perSignIn := rawCPU.Seconds()/rawN, signCPU.Seconds()/signN
	fmt.Printf("CPU per raw hash %.1f ms, child CPU per sign-in %.1f ms: on an otherwise idle machine, where both get every core, the ratio would be about %.2f\n",
		1000*perHash, 1000*perSignIn, perHash/perSignIn)
	fmt.Printf("GetRoleCredentials kept during the flood: %.0f%% (target ≥ 80%%)\n", 100*wBoth.rates[1]/wAlone.rates[0])
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func orDefault(n int) string {
	if n == 0 {
		return "not set"
	}
	return strconv.Itoa(n)
}

// rawArgon2 verifies one demo password hash with directory.VerifyPassword
// (the sign-in's own function, so the same argon2id parameters) in
// GOMAXPROCS goroutines for d and returns the hashes per second and the CPU
// time each hash took.
func rawArgon2(d time.Duration) (rate float64, cpuPerHash time.Duration, err error) {
	h, err := directory.HashPassword(rand.Reader, loadkit.DemoPassword)
	if err != nil {
		return 0, 0, err
	}
	cpu0 := loadkit.SelfCPU()
	var n atomic.Int64
	var bad atomic.Bool
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				if !directory.VerifyPassword(h, loadkit.DemoPassword) {
					bad.Store(true)
				}
				n.Add(1)
			}
		})
	}
	wg.Wait()
	if bad.Load() {
		return 0, 0, errors.New("VerifyPassword refused its own hash")
	}
	return float64(n.Load()) / time.Since(start).Seconds(), (loadkit.SelfCPU() - cpu0) / time.Duration(max(n.Load(), 1)), nil
}

// startChild starts bin as `serve --demo` (SQLite in a temporary folder),
// with one load user per sign-in worker besides the demo world, and waits
// until it is ready.
func startChild(ctx context.Context, bin string, concurrency, procs int) (*loadkit.Child, error) {
	dir, err := os.MkdirTemp("", "signinload-world-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	// One load user per sign-in worker besides the demo world: a person
	// signs in one browser at a time, and the sign-in limits count a
	// user's steps until a sign-in completes, so the flood signs in many
	// people, each in turn, rather than two people from every worker.
	world := "users:\n"
	for w := range maxSigninWorkers {
		world += fmt.Sprintf("  - {user_name: %s, given_name: Load, family_name: Worker%d, display_name: Load %d, email: load%d@example.com}\n", loadUser(w), w, w, w)
	}
	seed := filepath.Join(dir, "load-world.yaml")
	if err := os.WriteFile(seed, []byte(world), 0o600); err != nil {
		return nil, err
	}
	return loadkit.Start(ctx, loadkit.ServeOptions{Bin: bin, Demo: true, Env: append(childEnv(concurrency, procs), "GATEHOUSE_SEED="+seed)})
}

// counter counts one kind of request's outcomes.
type counter struct {
	ok, busy, other atomic.Int64
	mu              sync.Mutex
	first           error
}

func newCounter() *counter { return &counter{} }

func (c *counter) fail(err error) {
	c.other.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.first == nil {
		c.first = err
	}
}

// failure is the first unexpected answer, if more than 1% of answers were
// unexpected.
func (c *counter) failure() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if o := c.other.Load(); o > 0 && o*100 > c.ok.Load() {
		return fmt.Errorf("%d unexpected answers, first: %w", o, c.first)
	}
	return nil
}

// window is one measured window: the rate of each counter and the CPU the
// child and this process used, in cores.
type window struct {
	rates                 []float64
	childCores, selfCores float64
	seconds               float64 // its length
}

// measure counts each counter's successes over d.
func measure(pid int, d time.Duration, cs ...*counter) window {
	before := make([]int64, len(cs))
	for i, c := range cs {
		before[i] = c.ok.Load()
	}
	c0, s0, t0 := loadkit.ProcessCPU(pid), loadkit.SelfCPU(), time.Now()
	time.Sleep(d)
	el := time.Since(t0).Seconds()
	w := window{childCores: (loadkit.ProcessCPU(pid) - c0).Seconds() / el, selfCores: (loadkit.SelfCPU() - s0).Seconds() / el, seconds: el}
	for i, c := range cs {
		w.rates = append(w.rates, float64(c.ok.Load()-before[i])/el)
	}
	return w
}

// signinFlood runs workers that sign the demo users in with the right
// password through the real two-step form flow (user name, then password)
// as a browser does, each from its own forwarded address and without
// cookies (so no known-device cookie: every attempt goes through the main
// hash gate), until stopped. A success is the 303 that starts a session.
func signinFlood(base string, tr *http.Transport, workers int, cnt *counter) (stop func()) {
	var halt atomic.Bool
	var wg sync.WaitGroup
	client := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	deadline := time.Now().Add(5 * time.Minute) // a bound, whatever happens
	for w := range workers {
		wg.Go(func() {
			xff := fmt.Sprintf("10.1.%d.%d", w/250, w%250+1)
			post := func(path string, form url.Values) (*http.Response, string, error) {
				req, _ := http.NewRequest("POST", base+path, strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("X-Forwarded-For", xff)
				resp, err := client.Do(req)
				if err != nil {
					return nil, "", err
				}
				defer resp.Body.Close()
				b, err := io.ReadAll(resp.Body)
				return resp, string(b), err
			}
			for i := 0; !halt.Load() && time.Now().Before(deadline); i++ {
				user := loadUser(w)
				resp, body, err := post("/login", url.Values{"username": {user}})
				if err != nil || resp.StatusCode != 200 {
					cnt.fail(fmt.Errorf("user name step: %v %v", status(resp), err))
					continue
				}
				m := loadkit.StateField.FindStringSubmatch(body)
				if m == nil {
					cnt.fail(errors.New("user name step: no state field"))
					continue
				}
				resp, _, err = post("/login/password", url.Values{"state": {html.UnescapeString(m[1])}, "password": {loadkit.DemoPassword}})
				switch {
				case err != nil:
					cnt.fail(err)
				case resp.StatusCode == http.StatusSeeOther && !strings.Contains(resp.Header.Get("Location"), "/login"):
					cnt.ok.Add(1)
				case resp.StatusCode == http.StatusServiceUnavailable:
					cnt.busy.Add(1)
					ra, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
					time.Sleep(min(time.Duration(ra)*time.Second, 200*time.Millisecond))
				default:
					cnt.fail(fmt.Errorf("password step: %s (Location %q)", resp.Status, resp.Header.Get("Location")))
				}
			}
		})
	}
	return func() { halt.Store(true); wg.Wait() }
}

func status(r *http.Response) string {
	if r == nil {
		return "no answer"
	}
	return r.Status
}

// grcTraffic runs workers calling GetRoleCredentials (GET
// /federation/credentials, as the AWS CLI and SDKs do) for the demo admin's
// dev role, one request at a time each, until stopped.
//
// With rate > 0 the callers together send rate requests per second, each
// on its own schedule (a caller that falls behind sends at once until it
// has caught up), so that the rate answered shows whether the server keeps
// up with a fixed demand; with rate 0 each sends as fast as it is
// answered, which measures what is left of the server's capacity.
func grcTraffic(base string, tr *http.Transport, token string, workers int, rate float64, cnt *counter) (stop func()) {
	var halt atomic.Bool
	var wg sync.WaitGroup
	client := &http.Client{Transport: tr}
	u := base + "/federation/credentials?role_name=AdministratorAccess&account_id=111111111111"
	deadline := time.Now().Add(5 * time.Minute)
	for range workers {
		wg.Go(func() {
			var every time.Duration
			if rate > 0 {
				every = time.Duration(float64(workers) / rate * float64(time.Second))
			}
			next := time.Now()
			for !halt.Load() && time.Now().Before(deadline) {
				if every > 0 {
					next = next.Add(every)
					time.Sleep(time.Until(next))
				}
				req, _ := http.NewRequest("GET", u, nil)
				req.Header.Set("x-amz-sso_bearer_token", token)
				resp, err := client.Do(req)
				if err != nil {
					cnt.fail(err)
					continue
				}
				var out struct {
					RoleCredentials struct{ AccessKeyID string } `json:"roleCredentials"`
				}
				err = json.NewDecoder(resp.Body).Decode(&out)
				resp.Body.Close()
				if resp.StatusCode != 200 || err != nil || out.RoleCredentials.AccessKeyID == "" {
					cnt.fail(fmt.Errorf("GetRoleCredentials: %s %v", resp.Status, err))
					continue
				}
				cnt.ok.Add(1)
			}
		})
	}
	return func() { halt.Store(true); wg.Wait() }
}
