package portal_test

import (
	"fmt"
	"html"
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/mfa"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// portalPostRoutes is every browser form of the portal (Service.Register),
// each with a body it could be sent with. The portal API's POST /logout
// is not here: it is authenticated by a bearer header, not a cookie.
var portalPostRoutes = []struct {
	path string
	form url.Values
}{
	{"/login", url.Values{"username": {"alice@company.com"}, "password": {"demo-password-1"}}},
	{"/login/password", url.Values{"state": {"x"}, "password": {"demo-password-1"}}},
	{"/login/mfa", url.Values{"state": {"x"}, "code": {"123456"}}},
	{"/login/enrol", url.Values{"state": {"x"}, "code": {"123456"}}},
	{"/login/enrol/key", url.Values{"state": {"x"}}},
	{"/login/key", url.Values{"state": {"x"}}},
	{"/login/passkey", url.Values{"key_state": {"x"}}},
	{"/signout", url.Values{}},
	{"/device", url.Values{"user_code": {"ABCD-EFGH"}, "action": {"approve"}}},
	{"/authorize", url.Values{"action": {"allow"}}},
	{"/mfa", url.Values{"code": {"123456"}}},
	{"/activate", url.Values{"token": {"x"}, "password": {"pasture violin 3x"}, "confirm": {"pasture violin 3x"}}},
	{"/forgot", url.Values{"who": {"alice@company.com"}}},
	{"/reset", url.Values{"token": {"x"}, "password": {"pasture violin 3x"}, "confirm": {"pasture violin 3x"}}},
	{"/setup", url.Values{"token": {"x"}, "username": {"eve"}, "email": {"eve@example.com"}, "password": {"pasture violin 3x"}, "confirm": {"pasture violin 3x"}}},
	{"/account/sessions/end", url.Values{"session": {"all"}}},
	{"/account/devices/remove", url.Values{"device": {"x"}}},
	{"/mfa/key", url.Values{"key_state": {"x"}}},
	{"/reauth", url.Values{"password": {"demo-password-1"}}},
}

// portalPages is every page a browser GETs, new and old.
var portalPages = []string{
	"/login", "/start", "/start/credentials", "/login/signed-out", "/device", "/authorize", "/mfa", "/account",
	"/reauth", "/mfa/key", "/activate?token=x", "/forgot", "/reset?token=x", "/setup?token=x", "/no-such-page",
}

// signedInClient signs alice in on srv and returns her browser.
func signedInClient(t *testing.T, srv *servertest.Server) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.PostForm(srv.URL+"/login", url.Values{"username": {"alice@company.com"}, "password": {"demo-password-1"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", resp.StatusCode)
	}
	return c
}

func send(t *testing.T, c *http.Client, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestEveryPortalFormRefusesCrossOrigin posts every portal form from
// another site, with alice's session cookie: each is refused with the
// "another site" page before its handler runs, and nothing changes (her
// session lives, no mail is queued, no user is created).
func TestEveryPortalFormRefusesCrossOrigin(t *testing.T) {
	srv := servertest.New(t, func(c *config.Config) { c.Demo = true })
	c := signedInClient(t, srv)
	ctx := t.Context()
	users := func() int {
		us, err := srv.Store.ListUsers(ctx, store.Page{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		return len(us)
	}
	outbox := func() int {
		ms, err := srv.Store.ListOutbox(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		return len(ms)
	}
	nUsers, nMail := users(), outbox()
	for _, h := range []http.Header{
		{"Sec-Fetch-Site": {"cross-site"}},
		{"Origin": {"https://evil.example"}},
		{"Sec-Fetch-Site": {"same-site"}, "Origin": {"https://sub.evil.example"}},
	} {
		for _, r := range portalPostRoutes {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+r.path, strings.NewReader(r.form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range h {
				req.Header[k] = v
			}
			resp, body := send(t, c, req)
			if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "This request came from another site") {
				t.Errorf("%v POST %s: %d, want 403 \"came from another site\"\n%.300s", h, r.path, resp.StatusCode, body)
			}
			if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
				t.Errorf("%v POST %s: refusal without frame-ancestors: %q", h, r.path, csp)
			}
		}
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/start", nil)
	if resp, _ := send(t, c, req); resp.StatusCode != http.StatusOK {
		t.Errorf("alice's session after the cross-origin forms: /start %d", resp.StatusCode)
	}
	if users() != nUsers || outbox() != nMail {
		t.Errorf("cross-origin forms changed the store: users %d→%d, outbox %d→%d", nUsers, users(), nMail, outbox())
	}
}

// TestEveryPortalPageRefusesFraming fetches every portal page, signed in
// and not: each forbids framing twice (CSP frame-ancestors 'none' and
// X-Frame-Options DENY) and its CSP allows no inline script or style.
func TestEveryPortalPageRefusesFraming(t *testing.T) {
	srv := servertest.New(t, func(c *config.Config) { c.Demo = true })
	for name, c := range map[string]*http.Client{"signed in": signedInClient(t, srv), "signed out": {
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}} {
		for _, p := range portalPages {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+p, nil)
			req.Header.Set("Accept", "text/html")
			resp, _ := send(t, c, req)
			// 501: security keys need a host-name public URL (this one is
			// 127.0.0.1), which the page says.
			if resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented {
				t.Errorf("%s GET %s: %d", name, p, resp.StatusCode)
			}
			csp := resp.Header.Get("Content-Security-Policy")
			if !strings.Contains(csp, "frame-ancestors 'none'") || resp.Header.Get("X-Frame-Options") != "DENY" {
				t.Errorf("%s GET %s (%d): CSP %q, X-Frame-Options %q", name, p, resp.StatusCode, csp, resp.Header.Get("X-Frame-Options"))
			}
			if strings.Contains(csp, "unsafe-") || !strings.Contains(csp, "default-src 'self'") {
				t.Errorf("%s GET %s: CSP %q allows inline or foreign content", name, p, csp)
			}
		}
	}
}

// TestUnknownUserLooksLikeWrongPassword signs in on the whole server as an
// unknown user and as a known one with a wrong password, both in one post
// and in two steps: status, headers and body (modulo the typed name and
// the sealed state) are the same.
func TestUnknownUserLooksLikeWrongPassword(t *testing.T) {
	srv := servertest.New(t, func(c *config.Config) { c.Demo = true })
	state := regexp.MustCompile(`name="state" value="[^"]*"`)
	answer := func(user string, twoSteps bool) string {
		c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		form := url.Values{"username": {user}, "password": {"not-the-password-1"}}
		path := "/login"
		if twoSteps {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/login", strings.NewReader(url.Values{"username": {user}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			_, body := send(t, c, req)
			m := regexp.MustCompile(`name="state" value="([^"]*)"`).FindStringSubmatch(body)
			if m == nil {
				t.Fatalf("no password step for %q: %s", user, body)
			}
			form, path = url.Values{"state": {html.UnescapeString(m[1])}, "password": {"not-the-password-1"}}, "/login/password"
		}
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, body := send(t, c, req)
		var b strings.Builder
		fmt.Fprintf(&b, "%d\n", resp.StatusCode)
		for _, k := range slices.Sorted(maps.Keys(resp.Header)) {
			if k == "Date" || k == "X-Amzn-Requestid" || k == "Content-Length" {
				continue
			}
			fmt.Fprintf(&b, "%s: %v\n", k, resp.Header[k])
		}
		b.WriteString(strings.ReplaceAll(state.ReplaceAllString(body, "STATE"), user, "USER"))
		return b.String()
	}
	for _, twoSteps := range []bool{false, true} {
		known, unknown := answer("alice@company.com", twoSteps), answer("mallory@company.com", twoSteps)
		if !strings.HasPrefix(known, "401\n") {
			t.Errorf("wrong password: %.200s", known)
		}
		if known != unknown {
			t.Errorf("two steps %v: wrong password and unknown user differ:\n%s\n---\n%s", twoSteps, known, unknown)
		}
	}
}

// TestLinkRaces posts the same single-use link from eight browsers at
// once, over real connections: for the first-admin setup link and for an
// activation link, exactly one post wins and the others are told the link
// is not valid (never a 500); exactly one administrator is created, and
// the password set is the winner's.
func TestLinkRaces(t *testing.T) {
	srv := servertest.New(t, nil)
	ctx := t.Context()
	race := func(path string, form func(i int) url.Values) (winner int) {
		t.Helper()
		const n = 8
		start := make(chan struct{})
		statuses := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				c := &http.Client{Transport: &http.Transport{}, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+path, strings.NewReader(form(i).Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				<-start
				resp, err := c.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				statuses[i] = resp.StatusCode
			})
		}
		close(start)
		wg.Wait()
		winner = -1
		for i, s := range statuses {
			switch s {
			case http.StatusSeeOther:
				if winner >= 0 {
					t.Errorf("%s: posts %d and %d both won: %v", path, winner, i, statuses)
				}
				winner = i
			case http.StatusNotFound:
			default:
				t.Errorf("%s: post %d answered %d: %v", path, i, s, statuses)
			}
		}
		if winner < 0 {
			t.Fatalf("%s: no post won: %v", path, statuses)
		}
		return winner
	}
	pw := func(i int) string { return "pasture violin lamp " + strconv.Itoa(i) }

	link, err := srv.Invites.SetupLink(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tok := must(url.Parse(link)).Query().Get("token")
	w := race("/setup", func(i int) url.Values {
		return url.Values{"token": {tok}, "username": {"admin" + strconv.Itoa(i)}, "email": {"admin@example.com"},
			"password": {pw(i)}, "confirm": {pw(i)}}
	})
	us, err := srv.Store.ListUsers(ctx, store.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(us) != 1 || us[0].UserName != "admin"+strconv.Itoa(w) {
		var names []string
		for _, u := range us {
			names = append(names, u.UserName)
		}
		t.Fatalf("users after the setup race: %v, want admin%d alone", names, w)
	}

	ann, err := srv.Directory.CreateUser(ctx, directory.CreateUserInput{UserName: "ann", DisplayName: "Ann",
		Name: store.UserName{GivenName: "Ann", FamilyName: "A"}, Emails: []store.Email{{Value: "ann@example.com", Primary: true}}})
	if err != nil {
		t.Fatal(err)
	}
	link, err = srv.Invites.Invite(ctx, ann.ID)
	if err != nil {
		t.Fatal(err)
	}
	tok = must(url.Parse(link)).Query().Get("token")
	w = race("/activate", func(i int) url.Values {
		return url.Values{"token": {tok}, "password": {pw(i)}, "confirm": {pw(i)}}
	})
	for i := range 8 {
		_, err := srv.Directory.Authenticate(ctx, "ann", pw(i))
		if (err == nil) != (i == w) {
			t.Errorf("password of post %d (winner %d) signs in: %v", i, w, err)
		}
	}
}

// TestBlocklistedPasswordsRefusedOnEveryPath sends breached passwords, the
// user name and the e-mail address to every page that sets a password
// (first-admin setup, activation, reset) on a fresh instance (MFA always
// required, so the floor is 8): each is refused with the reason, the link
// is not spent, and a good password then works.
func TestBlocklistedPasswordsRefusedOnEveryPath(t *testing.T) {
	srv := servertest.New(t, nil)
	ctx := t.Context()
	bad := []struct{ pw, want string }{
		{"password", "too common"},
		{"password1234567", "too common"},
		{"Qwerty123!", "too common"},
		{"iloveyou", "too common"},
	}
	post := func(path string, form url.Values) (int, string) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, body := send(t, &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}, req)
		return resp.StatusCode, body
	}
	try := func(path string, form func(pw string) url.Values, extra ...struct{ pw, want string }) {
		t.Helper()
		for _, tc := range append(bad, extra...) {
			status, body := post(path, form(tc.pw))
			if status != http.StatusBadRequest || !strings.Contains(body, tc.want) {
				t.Errorf("%s with %q: %d, want 400 saying %q\n%.300s", path, tc.pw, status, tc.want, body)
			}
		}
		if status, body := post(path, form("pasture violin lamp")); status != http.StatusSeeOther {
			t.Errorf("%s with a good password after the refusals: %d\n%.300s", path, status, body)
		}
	}
	tokenOf := func(link string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return must(url.Parse(link)).Query().Get("token")
	}

	tok := tokenOf(srv.Invites.SetupLink(ctx))
	try("/setup", func(pw string) url.Values {
		return url.Values{"token": {tok}, "username": {"root.admin"}, "email": {"boss@example.com"}, "password": {pw}, "confirm": {pw}}
	}, struct{ pw, want string }{"root.admin", "user name"}, struct{ pw, want string }{"boss@example.com", "e-mail"})

	ann, err := srv.Directory.CreateUser(ctx, directory.CreateUserInput{UserName: "ann.smith", DisplayName: "Ann",
		Name: store.UserName{GivenName: "Ann", FamilyName: "Smith"}, Emails: []store.Email{{Value: "ann@example.com", Primary: true}}})
	if err != nil {
		t.Fatal(err)
	}
	tok = tokenOf(srv.Invites.Invite(ctx, ann.ID))
	form := func(pw string) url.Values { return url.Values{"token": {tok}, "password": {pw}, "confirm": {pw}} }
	nameAndMail := []struct{ pw, want string }{{"ann.smith", "user name"}, {"Ann.Smith2024", "user name"}, {"ann@example.com", "e-mail"}}
	try("/activate", form, nameAndMail...)

	if err := srv.Invites.SendPasswordReset(ctx, ann.ID); err != nil {
		t.Fatal(err)
	}
	ms, err := srv.Store.ListOutbox(ctx, 1)
	if err != nil || len(ms) != 1 {
		t.Fatalf("outbox %v, %v", ms, err)
	}
	tok = tokenOf(regexp.MustCompile(`http://\S+/reset\?token=[A-Za-z0-9_-]+`).FindString(ms[0].Body), nil)
	try("/reset", form, nameAndMail...)
}

// TestTOTPReplayRefused: three browsers (under the sign-in limit) that passed alice's password step
// send the same authenticator code at once over real connections; exactly
// one is signed in, and the code then fails a fresh sign-in (reauth) too.
func TestTOTPReplayRefused(t *testing.T) {
	// Each browser comes from its own address (through a trusted proxy), so
	// that the per-address sign-in throttle (which counts every step until
	// a sign-in completes) stays out of the race this test is about.
	srv := servertest.New(t, func(c *config.Config) { c.Demo = true; c.TrustedProxies = []string{"127.0.0.1/32"} })
	ctx := t.Context()
	alice, err := srv.Store.GetUserByName(ctx, "alice@company.com")
	if err != nil {
		t.Fatal(err)
	}
	e, err := srv.MFA.NewEnrolment(alice.UserName)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if _, err := srv.MFA.Confirm(ctx, alice.ID, "phone", e.Seed, mfa.Code(e.Seed, mfa.Step(now)-1)); err != nil {
		t.Fatal(err)
	}
	code := mfa.Code(e.Seed, mfa.Step(now))
	stateRE := regexp.MustCompile(`name="state" value="([^"]*)"`)
	const n = 3
	clients, states := make([]*http.Client, n), make([]string, n)
	for i := range n {
		jar, _ := cookiejar.New(nil)
		clients[i] = &http.Client{Jar: jar, Transport: &http.Transport{}, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/login", strings.NewReader(url.Values{"username": {alice.UserName}, "password": {"demo-password-1"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", 10+i))
		resp, body := send(t, clients[i], req)
		m := stateRE.FindStringSubmatch(body)
		if resp.StatusCode != http.StatusOK || m == nil || !strings.Contains(body, `action="/login/mfa"`) {
			t.Fatalf("password step %d: %d\n%.300s", i, resp.StatusCode, body)
		}
		states[i] = html.UnescapeString(m[1])
	}
	start := make(chan struct{})
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/login/mfa", strings.NewReader(url.Values{"state": {states[i]}, "code": {code}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", 10+i))
			<-start
			resp, err := clients[i].Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		})
	}
	close(start)
	wg.Wait()
	won := -1
	for i, s := range statuses {
		switch {
		case s == http.StatusSeeOther && won < 0:
			won = i
		case s == http.StatusUnauthorized:
		default:
			t.Errorf("code %d: %d (statuses %v), want one 303 and 401s", i, s, statuses)
		}
	}
	if won < 0 {
		t.Fatalf("no browser signed in: %v", statuses)
	}
	// The winner confirms it is her with the same code: refused.
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/reauth", strings.NewReader(url.Values{"password": {"demo-password-1"}, "code": {code}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", 10+won))
	if resp, body := send(t, clients[won], req); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "already used") {
		t.Errorf("reauth with the used code: %d\n%.300s", resp.StatusCode, body)
	}
}

// TestKeyPagesWithoutRelyingParty: a server reached by an IP address has
// no WebAuthn relying party. A freshly signed-in person who posts the
// security-key form anyway (an old page, a script) gets the page saying
// keys are not available here, never a 500.
func TestKeyPagesWithoutRelyingParty(t *testing.T) {
	srv := servertest.New(t, func(c *config.Config) { c.Demo = true })
	c := signedInClient(t, srv)
	for _, form := range []url.Values{{}, {"key_state": {"x"}, "answer": {"{}"}, "name": {"k"}}} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/mfa/key", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, body := send(t, c, req)
		if resp.StatusCode != http.StatusNotImplemented || !strings.Contains(body, "Security keys are not available here") {
			t.Errorf("POST /mfa/key %v: %d\n%.300s", form, resp.StatusCode, body)
		}
	}
}
