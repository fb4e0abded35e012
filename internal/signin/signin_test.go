package signin_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/mfa"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
	"github.com/gatehouse-dev/gatehouse/internal/settings"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

const (
	user     = "ed.developer"
	password = "demo-password-1"
)

// clock is the server's clock: real time moved on by the test.
type clock struct{ off atomic.Int64 }

func (c *clock) now() time.Time       { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *clock) wait(d time.Duration) { c.off.Add(int64(d)) }

// start runs a server with the demo world, the test's clock, and loopback
// as a trusted proxy so that each client can pick its source address.
func start(t *testing.T, edit func(*config.Config)) (*servertest.Server, *clock) {
	t.Helper()
	c := &clock{}
	srv := servertest.New(t, func(cfg *config.Config) {
		cfg.Demo = true
		cfg.Now = c.now
		cfg.TrustedProxies = []string{"127.0.0.1"}
		if edit != nil {
			edit(cfg)
		}
	})
	return srv, c
}

// browser posts forms from one source address with one cookie jar.
type browser struct {
	t   *testing.T
	srv *servertest.Server
	ip  string
	c   *http.Client
}

func newBrowser(t *testing.T, srv *servertest.Server, ip string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, srv: srv, ip: ip, c: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

type answer struct {
	Status int
	Header http.Header
	Body   string
}

func (b *browser) post(path string, form url.Values) answer {
	req, err := http.NewRequest("POST", b.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Error(err)
		return answer{}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", b.ip)
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Error(err)
		return answer{}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(body)}
}

// signIn posts user name and password together.
func (b *browser) signIn(userName, pw string) answer {
	return b.post("/login", url.Values{"username": {userName}, "password": {pw}})
}

func (b *browser) cookie(name string) *http.Cookie {
	u, _ := url.Parse(b.srv.URL + "/login")
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func want(t *testing.T, a answer, status int, texts ...string) {
	t.Helper()
	if a.Status != status {
		t.Fatalf("status %d, want %d; body:\n%s", a.Status, status, a.Body)
	}
	for _, s := range texts {
		if !strings.Contains(a.Body, s) {
			t.Fatalf("body lacks %q:\n%s", s, a.Body)
		}
	}
}

// events counts the sign-in audit events by error code ("" = success).
func events(t *testing.T, s store.Store, name string) map[string]int {
	t.Helper()
	evs, err := s.ListEvents(t.Context(), store.EventFilter{End: time.Now().Add(48 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, ev := range evs {
		if ev.Source == "signin.amazonaws.com" && ev.Name == name {
			n[ev.ErrorCode]++
		}
	}
	return n
}

// burst runs n calls of fn at once and returns their answers.
func burst(n int, fn func(i int) answer) []answer {
	out := make([]answer, n)
	var ready, wg sync.WaitGroup
	ready.Add(1)
	for i := range n {
		wg.Go(func() {
			ready.Wait()
			out[i] = fn(i)
		})
	}
	ready.Done()
	wg.Wait()
	return out
}

// Issue 9 item 1: 40 parallel wrong passwords and a right one, from one
// address, against a limit of 5: at most 5 reach the password hash, and
// the right one cannot pass once the limit is reached.
func TestParallelPasswordsHoldTheLimit(t *testing.T) {
	srv, _ := start(t, func(c *config.Config) { c.SignInConcurrency = 64 })
	as := burst(42, func(i int) answer {
		pw := "wrong-password"
		if i%20 == 7 {
			pw = password
		}
		return newBrowser(t, srv, "192.0.2.10").signIn(user, pw)
	})
	statuses := map[int]int{}
	for _, a := range as {
		statuses[a.Status]++
	}
	for s := range statuses {
		if s != http.StatusSeeOther && s != http.StatusUnauthorized && s != http.StatusTooManyRequests {
			t.Errorf("unexpected status %d: %v", s, statuses)
		}
	}
	ev := events(t, srv.Store, "CredentialVerification")
	if checked := ev["InvalidCredentials"] + ev[""]; checked > 5 {
		t.Errorf("%d attempts reached the password check (%v), want at most 5; statuses %v", checked, ev, statuses)
	}
	if statuses[http.StatusTooManyRequests] < 37 {
		t.Errorf("statuses %v: want at least 37 refused", statuses)
	}
	t.Logf("statuses %v events %v", statuses, ev)
	if statuses[http.StatusSeeOther] == 0 {
		// Every right password came after the limit: it stays refused.
		want(t, newBrowser(t, srv, "192.0.2.10").signIn(user, password), http.StatusTooManyRequests)
	}
}

var stateRe = regexp.MustCompile(`name="state" value="([^"]+)"`)

// enrolTOTP gives the demo user an authenticator and returns its seed.
func enrolTOTP(t *testing.T, srv *servertest.Server, c *clock) []byte {
	t.Helper()
	u, err := srv.Store.GetUserByName(t.Context(), user)
	if err != nil {
		t.Fatal(err)
	}
	m := &mfa.Service{Store: srv.Store, Keys: srv.Keys, Audit: srv.Audit, IDs: srv.IDs, Now: c.now, Rand: rand.Reader}
	seed := make([]byte, mfa.SeedSize)
	rand.Read(seed)
	if _, err := m.Confirm(t.Context(), u.ID, "app", seed, mfa.Code(seed, mfa.Step(c.now()))); err != nil {
		t.Fatal(err)
	}
	c.wait(30 * time.Second) // the enrolment used this step's code
	return seed
}

// mfaState signs in with the password and returns the TOTP step's state.
func mfaState(t *testing.T, b *browser) string {
	t.Helper()
	a := b.signIn(user, password)
	want(t, a, http.StatusOK, `action="/login/mfa"`)
	m := stateRe.FindStringSubmatch(a.Body)
	if m == nil {
		t.Fatalf("no state:\n%s", a.Body)
	}
	return html.UnescapeString(m[1])
}

// Issue 9 item 1, the TOTP step: 40 parallel wrong codes (and a right one)
// with one state reach the code check at most 5 times.
func TestParallelCodesHoldTheLimit(t *testing.T) {
	srv, c := start(t, nil)
	seed := enrolTOTP(t, srv, c)
	b := newBrowser(t, srv, "192.0.2.11")
	state := mfaState(t, b)
	right := mfa.Code(seed, mfa.Step(c.now()))
	wrong := "000000"
	if right == wrong {
		wrong = "111111"
	}
	as := burst(41, func(i int) answer {
		code := wrong
		if i == 20 {
			code = right
		}
		return newBrowser(t, srv, "192.0.2.11").post("/login/mfa", url.Values{"state": {state}, "code": {code}})
	})
	statuses := map[int]int{}
	for _, a := range as {
		statuses[a.Status]++
	}
	ev := events(t, srv.Store, "UserAuthentication")
	if checked := ev["InvalidMFACode"] + ev[""]; checked > 5 {
		t.Errorf("%d codes reached the check (%v), want at most 5; statuses %v", checked, ev, statuses)
	}
	if statuses[http.StatusInternalServerError] > 0 {
		t.Errorf("statuses %v", statuses)
	}
}

// Issue 9 item 6: a finished TOTP sign-in's state cannot be replayed with
// the next code.
func TestMFAStateIsSingleUse(t *testing.T) {
	srv, c := start(t, nil)
	seed := enrolTOTP(t, srv, c)
	b := newBrowser(t, srv, "192.0.2.12")
	state := mfaState(t, b)
	a := b.post("/login/mfa", url.Values{"state": {state}, "code": {mfa.Code(seed, mfa.Step(c.now()))}})
	want(t, a, http.StatusSeeOther)
	c.wait(30 * time.Second)
	replay := newBrowser(t, srv, "203.0.113.5")
	a = replay.post("/login/mfa", url.Values{"state": {state}, "code": {mfa.Code(seed, mfa.Step(c.now()))}})
	want(t, a, http.StatusBadRequest, "could not be continued")
	if replay.cookie("gatehouse_session") != nil {
		t.Fatal("the replay got a session")
	}
	// The code the replay offered was not spent: the user can still use it.
	b2 := newBrowser(t, srv, "192.0.2.12")
	state = mfaState(t, b2)
	want(t, b2.post("/login/mfa", url.Values{"state": {state}, "code": {mfa.Code(seed, mfa.Step(c.now()))}}), http.StatusSeeOther)
}

// Issue 9 item 6: typed user names never reach the store in the clear
// (people type passwords there); counters are keyed hashes.
func TestTypedUserNameNotStored(t *testing.T) {
	srv, _ := start(t, nil)
	const typed = "Correct-Horse-Battery-Typed"
	b := newBrowser(t, srv, "192.0.2.13")
	for range 6 {
		b.signIn(typed, "wrong-password")
	}
	b.signIn(user, "wrong-password")
	var all []byte
	files, _ := filepath.Glob(filepath.Join(srv.Config.DataDir, "gatehouse.db*"))
	if len(files) == 0 {
		t.Fatal("no database files")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, data...)
	}
	for _, s := range []string{typed, strings.ToLower(typed), "signin-failure:user"} {
		if bytes.Contains(all, []byte(s)) {
			t.Errorf("the database holds %q", s)
		}
	}
}

// Issue 9 item 2: beyond the bound on concurrent password hashes, sign-ins
// are refused at once with 503 and Retry-After (never a 500), while token
// traffic keeps being answered.
func TestSignInFloodRefusedAsBusy(t *testing.T) {
	srv, _ := start(t, func(c *config.Config) { c.SignInConcurrency = 1 })
	var tokenAnswers []int
	as := burst(81, func(i int) answer {
		if i == 40 {
			tokenAnswers = tokenTraffic(t, srv)
			return answer{Status: -1}
		}
		// Unknown users from many addresses: no limit applies, only the
		// bound on hashes.
		return newBrowser(t, srv, "198.18.0."+itoa(i+1)).signIn("nobody-"+itoa(i), "wrong-password")
	})
	statuses := map[int]int{}
	for _, a := range as {
		statuses[a.Status]++
		if a.Status == http.StatusServiceUnavailable {
			if a.Header.Get("Retry-After") == "" || !strings.Contains(a.Body, "Gatehouse is busy") {
				t.Errorf("busy answer without Retry-After or page: %v\n%s", a.Header, a.Body)
			}
		}
	}
	if statuses[http.StatusServiceUnavailable] == 0 {
		t.Errorf("no sign-in was refused as busy: %v", statuses)
	}
	for s := range statuses {
		if s != http.StatusUnauthorized && s != http.StatusServiceUnavailable && s != -1 {
			t.Errorf("unexpected status %d: %v", s, statuses)
		}
	}
	if len(tokenAnswers) != 3 || tokenAnswers[0] != 200 || tokenAnswers[1] != 200 || tokenAnswers[2] != 400 {
		t.Errorf("token traffic during the flood: %v, want [200 200 400] (registered, started, authorization_pending)", tokenAnswers)
	}
}

// tokenTraffic registers a client, starts a device authorization and polls
// CreateToken once, returning the statuses.
func tokenTraffic(t *testing.T, srv *servertest.Server) []int {
	base := srv.URL
	var out []int
	post := func(path, body string) map[string]any {
		resp, err := http.Post(base+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Error(err)
			return nil
		}
		defer resp.Body.Close()
		out = append(out, resp.StatusCode)
		var m map[string]any
		_ = jsonDecode(resp.Body, &m)
		return m
	}
	reg := post("/client/register", `{"clientName":"flood-test","clientType":"public"}`)
	if reg == nil {
		return out
	}
	cid, _ := reg["clientId"].(string)
	sec, _ := reg["clientSecret"].(string)
	dev := post("/device_authorization", `{"clientId":"`+cid+`","clientSecret":"`+sec+`","startUrl":"`+srv.Instance.StartURL+`"}`)
	code, _ := dev["deviceCode"].(string)
	post("/token", `{"clientId":"`+cid+`","clientSecret":"`+sec+`","grantType":"urn:ietf:params:oauth:grant-type:device_code","deviceCode":"`+code+`"}`)
	return out
}

// Issue 9 item 5: per (user, address) throttling grows, the page says how
// long to wait, and a success resets it.
func TestThrottleGrowsAndSaysHowLong(t *testing.T) {
	srv, c := start(t, nil)
	b := newBrowser(t, srv, "192.0.2.20")
	for i := 1; i <= 4; i++ {
		want(t, b.signIn(user, "wrong-password"), http.StatusUnauthorized)
	}
	a := b.signIn(user, "wrong-password")
	want(t, a, http.StatusTooManyRequests, "Try again in 30 seconds.")
	if a.Header.Get("Retry-After") != "30" {
		t.Fatalf("Retry-After %q, want 30", a.Header.Get("Retry-After"))
	}
	want(t, b.signIn(user, password), http.StatusTooManyRequests)
	c.wait(30 * time.Second)
	a = b.signIn(user, "wrong-password")
	want(t, a, http.StatusTooManyRequests, "Try again in 1 minute.")
	if a.Header.Get("Retry-After") != "60" {
		t.Fatalf("Retry-After %q, want 60", a.Header.Get("Retry-After"))
	}
	c.wait(time.Minute)
	want(t, b.signIn(user, password), http.StatusSeeOther)
	b2 := newBrowser(t, srv, "192.0.2.20")
	for range 4 {
		want(t, b2.signIn(user, "wrong-password"), http.StatusUnauthorized)
	}
}

// Issue 9 item 5: the per-user hard limit (here 10) stops every browser
// without the user's known-device cookie, but not the user's own browser,
// even from the attacker's address; a success there resets the limit.
func TestKnownDeviceIsNotLockedOut(t *testing.T) {
	srv, _ := start(t, func(c *config.Config) { c.SignInMaxFailures = 10 })
	home := newBrowser(t, srv, "192.0.2.30")
	want(t, home.signIn(user, password), http.StatusSeeOther)
	dc := home.cookie("gatehouse_device")
	if dc == nil {
		t.Fatal("no known-device cookie after sign-in")
	}
	other := newBrowser(t, srv, "192.0.2.31")
	want(t, other.signIn("alice@company.com", password), http.StatusSeeOther)

	// The attacker: 10 failures from 10 addresses, and 5 from the user's
	// own address.
	for i := range 10 {
		newBrowser(t, srv, "203.0.113."+itoa(i+1)).signIn(user, "wrong-password")
	}
	for range 5 {
		newBrowser(t, srv, "192.0.2.30").signIn(user, "wrong-password")
	}
	a := newBrowser(t, srv, "198.51.100.1").signIn(user, password)
	// The page says the same wait in its heading and body, and the way
	// out the documentation promises.
	want(t, a, http.StatusTooManyRequests, "Sign-in paused", "Try again in 24 hours.",
		"Signing in from a browser where you have signed in before still works", "ask your Gatehouse administrator")
	if strings.Contains(a.Body, "few minutes") {
		t.Errorf("the 24-hour page says \"a few minutes\":\n%s", a.Body)
	}
	// Another user's device cookie does not help.
	other.ip = "198.51.100.2"
	want(t, other.signIn(user, password), http.StatusTooManyRequests)

	// The user's browser still signs in, and that resets the limit.
	want(t, home.post("/signout", nil), http.StatusSeeOther)
	want(t, home.signIn(user, password), http.StatusSeeOther)
	want(t, newBrowser(t, srv, "198.51.100.3").signIn(user, password), http.StatusSeeOther)
}

func TestKnownDeviceCookie(t *testing.T) {
	srv, _ := start(t, nil)
	b := newBrowser(t, srv, "192.0.2.40")
	a := b.signIn(user, password)
	want(t, a, http.StatusSeeOther)
	var dc, old *http.Cookie
	for _, c := range (&http.Response{Header: a.Header}).Cookies() {
		switch {
		case c.Name == "gatehouse_device" && c.Value != "":
			dc = c
		case c.Name == "gatehouse_device":
			old = c
		}
	}
	if dc == nil {
		t.Fatal("no known-device cookie")
	}
	if !dc.HttpOnly || dc.SameSite != http.SameSiteLaxMode || dc.Path != "/" || dc.Secure || dc.MaxAge <= 0 {
		t.Errorf("known-device cookie attributes: %+v", dc)
	}
	// The one earlier versions set for /login alone is removed.
	if old == nil || old.Path != "/login" || old.MaxAge >= 0 {
		t.Errorf("the /login known-device cookie is not removed: %+v", old)
	}
	if strings.Contains(dc.Value, user) {
		t.Error("the known-device cookie shows the user name")
	}
	// A forged cookie is just no cookie: counted with everyone else.
	f := newBrowser(t, srv, "192.0.2.41")
	u, _ := url.Parse(srv.URL + "/login")
	f.c.Jar.SetCookies(u, []*http.Cookie{{Name: "gatehouse_device", Value: dc.Value + "x", Path: "/login"}})
	for range 4 {
		want(t, f.signIn(user, "wrong-password"), http.StatusUnauthorized)
	}
	want(t, f.signIn(user, "wrong-password"), http.StatusTooManyRequests)
}

func itoa(i int) string { return strconv.Itoa(i) }

func jsonDecode(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }

// A flood of unknown user names from one address, 60 at a time, cannot
// stop anyone else signing in: the flooding address is throttled by its
// counter before it takes a place at the hash gate (429 with Retry-After,
// not audited one by one), it holds at most its share of the gate, and the
// user's own browser (known-device cookie) has a gate of its own.
func TestFloodFromOneAddressStarvesNoOne(t *testing.T) {
	srv, _ := start(t, func(c *config.Config) { c.SignInConcurrency = 2 })
	home := newBrowser(t, srv, "192.0.2.50")
	want(t, home.signIn(user, password), http.StatusSeeOther)
	if home.cookie("gatehouse_device") == nil {
		t.Fatal("no known-device cookie after sign-in")
	}
	want(t, home.post("/signout", nil), http.StatusSeeOther)

	var stop atomic.Bool
	var mu sync.Mutex
	flood := map[int]int{}
	var noRetryAfter atomic.Int64
	var wg sync.WaitGroup
	for i := range 60 {
		wg.Go(func() {
			b := newBrowser(t, srv, "203.0.113.9")
			for k := 0; !stop.Load(); k++ {
				a := b.signIn("nobody-"+itoa(i)+"-"+itoa(k), "wrong-password")
				if a.Status == http.StatusTooManyRequests && a.Header.Get("Retry-After") == "" {
					noRetryAfter.Add(1)
				}
				mu.Lock()
				flood[a.Status]++
				mu.Unlock()
			}
		})
	}
	time.Sleep(200 * time.Millisecond) // the flood is under way
	stranger := newBrowser(t, srv, "192.0.2.51")
	var got []int
	for range 8 {
		a := home.signIn(user, password)
		got = append(got, a.Status)
		home.post("/signout", nil)
		a = stranger.signIn("alice@company.com", password)
		got = append(got, a.Status)
		stranger.post("/signout", nil)
	}
	stop.Store(true)
	wg.Wait()
	for i, s := range got {
		if s != http.StatusSeeOther {
			t.Errorf("sign-ins during the flood: %v (home, stranger alternating); #%d failed (flood %v)", got, i, flood)
			break
		}
	}
	if flood[http.StatusTooManyRequests] == 0 {
		t.Errorf("the flooding address was never throttled: %v", flood)
	}
	for s := range flood {
		if s != http.StatusUnauthorized && s != http.StatusTooManyRequests && s != http.StatusServiceUnavailable {
			t.Errorf("flood answered %d: %v", s, flood)
		}
	}
	if n := noRetryAfter.Load(); n > 0 {
		t.Errorf("%d throttled answers without Retry-After", n)
	}
	// The address limit is 200 in a row: at most that many were checked
	// and audited, and the throttled rest left no event each.
	ev := events(t, srv.Store, "CredentialVerification")
	if ev["TooManyAttempts"] > 0 || ev["InvalidCredentials"] > 200 {
		t.Errorf("audit events of the flood: %v, want no TooManyAttempts and at most 200 failures", ev)
	}
}

// An IPv6 client is counted by its /64, as the sso-oidc limits count it:
// rotating addresses within the prefix does not reset the throttle.
func TestIPv6SourceCountedBy64(t *testing.T) {
	srv, _ := start(t, nil)
	for i := 1; i <= 4; i++ {
		want(t, newBrowser(t, srv, "2001:db8:7:7::"+itoa(i)).signIn(user, "wrong-password"), http.StatusUnauthorized)
	}
	want(t, newBrowser(t, srv, "2001:db8:7:7:ffff::5").signIn(user, "wrong-password"), http.StatusTooManyRequests)
	want(t, newBrowser(t, srv, "2001:db8:7:8::1").signIn(user, "wrong-password"), http.StatusUnauthorized)
}

// Hardening, second pass, item 4: a sign-in form over 8 KiB (or another
// page form over 64 KiB) is refused with 413 and a page before it is read
// into memory, never checked and never a 500.
func TestLargeFormsRefused(t *testing.T) {
	srv, _ := start(t, nil)
	b := newBrowser(t, srv, "192.0.2.60")
	for _, tc := range []struct {
		path string
		pad  int
	}{
		{"/login", 9 << 10},
		{"/login", 900 << 10},
		{"/login/password", 9 << 10},
		{"/login/mfa", 9 << 10},
		{"/device", 65 << 10},
		{"/authorize", 65 << 10},
	} {
		a := b.post(tc.path, url.Values{"username": {user}, "password": {password}, "pad": {strings.Repeat("p", tc.pad)}})
		if a.Status != http.StatusRequestEntityTooLarge || !strings.Contains(a.Body, "The form was too large") {
			t.Errorf("POST %s with %d bytes: %d, want 413 with a page\n%.300s", tc.path, tc.pad, a.Status, a.Body)
		}
	}
	if ev := events(t, srv.Store, "CredentialVerification"); len(ev) != 0 {
		t.Errorf("refused forms were checked: %v", ev)
	}
	want(t, b.post("/login", url.Values{"username": {user}, "password": {password}, "pad": {strings.Repeat("p", 6<<10)}}), http.StatusSeeOther)
}

// Hardening, second pass: a user who floods with their own correct
// password and known-device cookie from three addresses holds at most one
// place at the known-device gate, so another user's browser with its own
// known-device cookie still signs in every time.
func TestOwnPasswordFloodStarvesNoOtherDevice(t *testing.T) {
	srv, _ := start(t, func(c *config.Config) { c.SignInConcurrency = 2 })
	ed := newBrowser(t, srv, "192.0.2.70")
	want(t, ed.signIn(user, password), http.StatusSeeOther)
	dc := ed.cookie("gatehouse_device")
	alice := newBrowser(t, srv, "192.0.2.71")
	want(t, alice.signIn("alice@company.com", password), http.StatusSeeOther)
	if dc == nil || alice.cookie("gatehouse_device") == nil {
		t.Fatal("no known-device cookie after sign-in")
	}
	want(t, alice.post("/signout", nil), http.StatusSeeOther)

	var stop atomic.Bool
	var mu sync.Mutex
	flood := map[int]int{}
	var wg sync.WaitGroup
	u, _ := url.Parse(srv.URL + "/login")
	for i := range 30 {
		wg.Go(func() {
			b := newBrowser(t, srv, "203.0.113."+itoa(20+i%3))
			for !stop.Load() {
				b.c.Jar.SetCookies(u, []*http.Cookie{{Name: "gatehouse_device", Value: dc.Value, Path: "/login"}})
				a := b.signIn(user, password)
				if a.Status == http.StatusSeeOther {
					b.post("/signout", nil)
				}
				mu.Lock()
				flood[a.Status]++
				mu.Unlock()
			}
		})
	}
	time.Sleep(200 * time.Millisecond) // the flood is under way
	var got []int
	for range 8 {
		got = append(got, alice.signIn("alice@company.com", password).Status)
		alice.post("/signout", nil)
	}
	stop.Store(true)
	wg.Wait()
	for i, s := range got {
		if s != http.StatusSeeOther {
			t.Errorf("alice's sign-ins during the flood: %v; #%d failed (flood %v)", got, i, flood)
			break
		}
	}
	if flood[http.StatusSeeOther] == 0 {
		t.Errorf("the flooding user never signed in: %v", flood)
	}
	for s := range flood {
		if s != http.StatusSeeOther && s != http.StatusTooManyRequests && s != http.StatusServiceUnavailable {
			t.Errorf("flood answered %d: %v", s, flood)
		}
	}
}

// Issue 8: a new portal session lasts as long as the instance settings
// say, and the cookie says the same.
func TestSessionLengthFromSettings(t *testing.T) {
	srv, _ := start(t, nil)
	ctx := t.Context()
	if err := srv.Settings.Put(ctx, settings.Settings{MFAPolicy: settings.PolicyOff, PortalSessionDuration: 90 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, srv, "192.0.2.30")
	a := b.signIn(user, password)
	want(t, a, http.StatusSeeOther)
	u, err := srv.Store.GetUserByName(ctx, user)
	if err != nil {
		t.Fatal(err)
	}
	ss, err := srv.Store.ListSessionsByUser(ctx, u.ID)
	if err != nil || len(ss) != 1 {
		t.Fatalf("sessions %+v, %v", ss, err)
	}
	if got := ss[0].ExpiresAt.Sub(ss[0].CreatedAt); got != 90*time.Minute {
		t.Errorf("session lasts %v, want 1h30m", got)
	}
	if !strings.Contains(strings.Join(a.Header.Values("Set-Cookie"), "\n"), "Max-Age=5400") {
		t.Errorf("cookies %q, want Max-Age=5400", a.Header.Values("Set-Cookie"))
	}
}

// A stranger who reaches the user name's hard limit does not stop the
// user's own browser from confirming it is them (/reauth before an MFA
// change): the known-device cookie reaches /reauth as it reaches /login.
func TestKnownDeviceReauthNotLockedOut(t *testing.T) {
	srv, c := start(t, func(c *config.Config) { c.SignInMaxFailures = 10 })
	home := newBrowser(t, srv, "192.0.2.32")
	want(t, home.signIn(user, password), http.StatusSeeOther)
	c.wait(6 * time.Minute) // no longer fresh
	wantRedirect(t, home.get("/mfa"), "/reauth?next=%2Fmfa")
	for i := range 10 {
		newBrowser(t, srv, "203.0.113."+itoa(i+1)).signIn(user, "wrong-password")
	}
	want(t, newBrowser(t, srv, "198.51.100.9").signIn(user, password), http.StatusTooManyRequests)
	wantRedirect(t, home.post("/reauth", url.Values{"next": {"/mfa"}, "password": {password}}), "/mfa")
}
