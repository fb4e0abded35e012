package portal_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/portal"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

func TestSignInSuccess(t *testing.T) {
	e := newEnv(t)
	b := e.browser()

	p := b.get("/start")
	wantStatus(t, p, http.StatusSeeOther)
	if p.Location() != "/login" {
		t.Fatalf("signed-out /start redirects to %q, want /login", p.Location())
	}
	p = b.get("/login")
	wantStatus(t, p, http.StatusOK)
	for k, want := range map[string]string{
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
		"Cache-Control":          "no-store",
	} {
		if got := p.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	csp := p.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "frame-ancestors 'none'", "form-action 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}

	p = b.signIn("alice", alicePassword)
	wantStatus(t, p, http.StatusSeeOther)
	if p.Location() != "/start" {
		t.Errorf("after sign-in: redirect to %q, want /start", p.Location())
	}
	var cookie *http.Cookie
	for _, c := range (&http.Response{Header: p.Header}).Cookies() {
		if c.Name == portal.CookieName {
			cookie = c
		}
	}
	if cookie == nil {
		t.Fatal("no session cookie set")
	}
	if !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Path != "/" || cookie.Secure {
		t.Errorf("cookie attributes: HttpOnly=%v SameSite=%v Path=%q Secure=%v", cookie.HttpOnly, cookie.SameSite, cookie.Path, cookie.Secure)
	}
	if len(cookie.Value) < 22 {
		t.Errorf("cookie value %d characters: too short for 128 bits", len(cookie.Value))
	}
	// The store holds the hash, not the value.
	sess, err := e.w.Store.GetSession(t.Context(), e.keys.Hash(cookie.Value))
	if err != nil {
		t.Fatalf("session by cookie hash: %v", err)
	}
	if sess.UserID != e.alice.ID || sess.MFA || sess.AuthTime.IsZero() {
		t.Errorf("session = %+v", sess)
	}
	if d := sess.ExpiresAt.Sub(sess.CreatedAt); d != 8*time.Hour {
		t.Errorf("session lasts %v, want 8h", d)
	}
	if _, err := e.w.Store.GetSession(t.Context(), cookie.Value); err == nil {
		t.Error("session found under the raw cookie value")
	}

	p = b.get("/start")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "Production", prodAccount, "Sandbox", sandAccount, "Admin", "ReadOnly", `action="/signout"`, e.w.Instance.StartURL)
	if strings.Contains(p.Body, otherAccount) {
		t.Error("home lists an account alice has no role in")
	}
	// Signed in, /login goes straight on.
	if p := b.get("/login"); p.Status != http.StatusSeeOther || p.Location() != "/start" {
		t.Errorf("signed-in /login: %d %q", p.Status, p.Location())
	}

	// Sign-out ends the session for good, even if the cookie is replayed.
	p = b.do("POST", "/signout", url.Values{})
	wantStatus(t, p, http.StatusSeeOther)
	if p := b.get("/start"); p.Status != http.StatusSeeOther {
		t.Errorf("after sign-out /start: %d", p.Status)
	}
	replay := e.browser()
	u, _ := url.Parse(e.url)
	replay.c.Jar.SetCookies(u, []*http.Cookie{{Name: portal.CookieName, Value: cookie.Value}})
	if p := replay.get("/start"); p.Status != http.StatusSeeOther {
		t.Errorf("replayed cookie after sign-out: %d, want a redirect to sign-in", p.Status)
	}
}

func TestSignInFailure(t *testing.T) {
	e := newEnv(t)
	tests := []struct{ name, user, password string }{
		{"wrong password", "alice", "not-the-password"},
		{"unknown user", "mallory", "whatever-password"},
		{"empty password", "alice", ""},
	}
	var pages []string
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := e.browser()
			p := b.signIn(tc.user, tc.password)
			wantStatus(t, p, http.StatusUnauthorized)
			// Issue 8: the person stays on the password step, the user
			// name kept.
			wantBody(t, p, "Incorrect user name or password.", `action="/login/password"`, "<strong>"+tc.user+"</strong>", `autocomplete="current-password"`)
			if p.Header.Get("Set-Cookie") != "" {
				t.Error("a failed sign-in set a cookie")
			}
			if p := b.get("/start"); p.Status != http.StatusSeeOther {
				t.Errorf("/start after failed sign-in: %d", p.Status)
			}
			// The sealed state is random; all else must be the same.
			body := regexp.MustCompile(`name="state" value="[^"]*"`).ReplaceAllString(p.Body, `name="state" value="STATE"`)
			pages = append(pages, strings.ReplaceAll(body, tc.user, "USER"))
		})
	}
	if len(pages) == 3 && pages[0] != pages[1] {
		t.Errorf("unknown user and wrong password pages differ:\n%s\n---\n%s", pages[0], pages[1])
	}

	// Audit: failures and success, never the password.
	e.browser().mustSignIn("alice", alicePassword)
	evs, err := e.w.Store.ListEvents(t.Context(), store.EventFilter{End: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var failures, verified, success int
	for _, ev := range evs {
		rec := string(ev.Record)
		for _, secret := range []string{alicePassword, "not-the-password", "whatever-password"} {
			if strings.Contains(rec, secret) {
				t.Errorf("audit event %s holds a password: %s", ev.Name, rec)
			}
		}
		if ev.Source != "signin.amazonaws.com" {
			continue
		}
		var body struct {
			ErrorCode    string `json:"errorCode"`
			UserIdentity struct {
				UserName string `json:"userName"`
			} `json:"userIdentity"`
		}
		json.Unmarshal(ev.Record, &body)
		switch {
		case ev.Name == "CredentialVerification" && ev.ErrorCode != "":
			failures++
			if body.ErrorCode == "" {
				t.Errorf("failure event without errorCode: %s", rec)
			}
			if strings.Contains(rec, "mallory") {
				t.Errorf("failure for an unknown user names it: %s", rec)
			}
		case ev.Name == "CredentialVerification":
			verified++
		case ev.Name == "UserAuthentication" && ev.ErrorCode == "":
			success++
			if body.UserIdentity.UserName != "alice" {
				t.Errorf("success event identity = %q", body.UserIdentity.UserName)
			}
		}
	}
	if failures != 3 || verified != 1 || success != 1 {
		t.Errorf("audit: %d failures, %d verifications, %d successes; want 3, 1, 1", failures, verified, success)
	}
}

func TestSignInOnePost(t *testing.T) {
	// A form with user name and password together (a password manager or
	// a script) signs in at once.
	e := newEnv(t)
	b := e.browser()
	p := b.get("/login?next=" + url.QueryEscape("/device?user_code=ABCD-EFGH"))
	p = b.submit(p, "/login", url.Values{"username": {"alice"}, "password": {alicePassword}})
	wantStatus(t, p, http.StatusSeeOther)
	if p.Location() != "/device?user_code=ABCD-EFGH" {
		t.Errorf("redirect to %q", p.Location())
	}
}

func TestSignInRateLimit(t *testing.T) {
	e := newEnv(t)
	const tooMany = "Sign-in paused"

	// Per (user name, address): the fifth failure pauses it, and then even
	// the right password is refused from there, with the wait named.
	b := e.browser()
	b.ip = "192.0.2.1"
	for i := 1; i <= 5; i++ {
		p := b.signIn("alice", "wrong-password")
		want := http.StatusUnauthorized
		if i == 5 {
			want = http.StatusTooManyRequests
		}
		wantStatus(t, p, want)
	}
	locked := b.signIn("alice", alicePassword)
	wantStatus(t, locked, http.StatusTooManyRequests)
	wantBody(t, locked, tooMany, "Try again in 30 seconds.")
	// Heading and body name the same wait.
	if strings.Contains(locked.Body, "few minutes") {
		t.Errorf("the page says \"a few minutes\" beside \"30 seconds\":\n%s", locked.Body)
	}
	if got := locked.Header.Get("Retry-After"); got != "30" {
		t.Errorf("Retry-After = %q, want 30", got)
	}
	// From elsewhere the right password still works (NIST SP 800-63B
	// §5.2.2: failures from one place must not lock the user out; issue 9
	// item 5 changed the old 5-failure lock of the user name).
	b2 := e.browser()
	b2.ip = "192.0.2.2"
	wantStatus(t, b2.signIn("ALICE", alicePassword), http.StatusSeeOther)

	// An unknown user name gets exactly the same page.
	b3 := e.browser()
	b3.ip = "192.0.2.3"
	var last *page
	for range 6 {
		last = b3.signIn("nobody", "wrong-password")
	}
	wantStatus(t, last, http.StatusTooManyRequests)
	if strings.ReplaceAll(last.Body, "nobody", "x") != strings.ReplaceAll(locked.Body, "alice", "x") {
		t.Errorf("lock-out pages differ for known and unknown users:\n%s\n---\n%s", last.Body, locked.Body)
	}
	// Bob is not affected by either.
	b4 := e.browser()
	b4.ip = "192.0.2.4"
	b4.mustSignIn("bob", bobPassword)

	// Per address: 20 failures over many user names no longer block the
	// address (an office behind one NAT); bob's right password works there.
	b5 := e.browser()
	b5.ip = "198.51.100.7"
	for i := range 20 {
		b5.signIn("user"+string(rune('a'+i)), "wrong-password")
	}
	b5.mustSignIn("bob", bobPassword)
}

func TestDisabledUserIsSignedOut(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.mustSignIn("alice", alicePassword)
	wantStatus(t, b.get("/start"), http.StatusOK)
	if err := e.w.Directory.SetUserDisabled(t.Context(), e.alice.ID, true); err != nil {
		t.Fatal(err)
	}
	// The access cache sees the change within a second.
	deadline := time.Now().Add(2 * time.Second)
	for {
		p := b.get("/start")
		if p.Status == http.StatusSeeOther {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("disabled user still signed in: %d", p.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
	wantStatus(t, e.browser().signIn("alice", alicePassword), http.StatusUnauthorized)
}

func TestOpenRedirectRefused(t *testing.T) {
	e := newEnv(t)
	tests := []struct{ name, next, want string }{
		{"absolute URL", "https://evil.example/start", "/start"},
		{"scheme-relative", "//evil.example/start", "/start"},
		{"backslash", `/\evil.example`, "/start"},
		{"encoded slashes", "/%2F%2Fevil.example", "/start"},
		{"javascript", "javascript:alert(1)", "/start"},
		{"tab", "/\t/evil.example", "/start"},
		{"scheme without slashes", "http:evil.example", "/start"},
		{"dot segments", "/start/../../evil.example", "/start"},
		{"other local page", "/login", "/start"},
		{"allowed page", "/device?user_code=ABCD-EFGH", "/device?user_code=ABCD-EFGH"},
		{"allowed authorize", "/authorize?client_id=x&state=y", "/authorize?client_id=x&state=y"},
		{"admin console", "/admin/users?q=al", "/admin/users?q=al"},
		{"admin dot segments", "/admin/../evil.example", "/start"},
		{"admin prefix only", "/administrator", "/start"},
		{"encoded tab", "/admin/%09/evil.example", "/start"},
		{"encoded line break", "/admin/%0d%0aSet-Cookie:%20x=y", "/start"},
		{"encoded backslash", "/admin/%5C%5Cevil.example", "/start"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := e.browser()
			p := b.get("/login?next=" + url.QueryEscape(tc.next))
			wantStatus(t, p, http.StatusOK)
			p = b.submit(p, "/login", url.Values{"username": {"bob"}})
			p = b.submit(p, "/login/password", url.Values{"password": {bobPassword}})
			wantStatus(t, p, http.StatusSeeOther)
			if p.Location() != tc.want {
				t.Errorf("next %q: redirect to %q, want %q", tc.next, p.Location(), tc.want)
			}
			// Posted directly, too.
			b2 := e.browser()
			p = b2.do("POST", "/login", url.Values{"username": {"bob"}, "password": {bobPassword}, "next": {tc.next}})
			if p.Location() != tc.want {
				t.Errorf("posted next %q: redirect to %q, want %q", tc.next, p.Location(), tc.want)
			}
		})
	}
}

func TestCrossOriginPostRefused(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.mustSignIn("alice", alicePassword)
	tests := []struct {
		name   string
		header http.Header
	}{
		{"sec-fetch-site cross-site", http.Header{"Sec-Fetch-Site": {"cross-site"}}},
		{"foreign origin", http.Header{"Origin": {"https://evil.example"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b.hdrs = tc.header
			defer func() { b.hdrs = nil }()
			for _, path := range []string{"/signout", "/login", "/device", "/authorize", "/mfa"} {
				p := b.do("POST", path, url.Values{"username": {"alice"}, "password": {alicePassword}})
				if p.Status != http.StatusForbidden || p.Header.Get("Content-Security-Policy") == "" {
					t.Errorf("cross-origin POST %s: %d, want 403", path, p.Status)
				}
			}
			b.hdrs = nil
			if p := b.get("/start"); p.Status != http.StatusOK {
				t.Errorf("session ended by a cross-origin sign-out: %d", p.Status)
			}
		})
	}
	// Same-origin browser posts pass.
	b.hdrs = http.Header{"Sec-Fetch-Site": {"same-origin"}, "Origin": {e.url}}
	if p := b.do("POST", "/signout", url.Values{}); p.Status != http.StatusSeeOther {
		t.Errorf("same-origin sign-out: %d", p.Status)
	}
	// The portal API's POST /logout is not a browser route: a foreign
	// Origin does not make it 403 (a bad token makes it 401).
	req, _ := http.NewRequest("POST", e.url+"/logout", nil)
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.Header.Set("x-amz-sso_bearer_token", "not-a-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("POST /logout with a foreign origin: %d, want 401", resp.StatusCode)
	}
}
