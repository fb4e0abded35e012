package portal_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/mail"
	"github.com/gatehouse-dev/gatehouse/internal/mail/mailtest"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// pageClient does not follow redirects.
var pageClient = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func getPage(t *testing.T, u string) (*http.Response, string) {
	t.Helper()
	resp, err := pageClient.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func postPage(t *testing.T, base, path, origin string, v url.Values) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, base+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin)
	resp, err := pageClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestForgotAndReset drives "forgot password" and the reset link through
// the whole server and an in-process SMTP server.
func TestForgotAndReset(t *testing.T) {
	smtp := mailtest.Start(t, mailtest.Options{})
	srv := servertest.New(t, func(c *config.Config) {
		c.Demo = true
		c.SMTPURL = mail.Secret(smtp.URL())
		c.SMTPFrom = "gatehouse@example.com"
	})
	base := srv.URL

	resp, body := getPage(t, base+"/forgot")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `name="who"`) {
		t.Fatalf("GET /forgot: %d %s", resp.StatusCode, body)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP %q", csp)
	}
	if _, body := getPage(t, base+"/login"); !strings.Contains(body, `href="/forgot"`) && !strings.Contains(body, "Sign in") {
		t.Errorf("sign-in page: %s", body)
	}
	// Another site cannot post the form.
	if resp, _ := postPage(t, base, "/forgot", "https://evil.example", url.Values{"who": {"alice@company.com"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-origin POST /forgot: %d", resp.StatusCode)
	}
	// The answer is the same for an unknown and a known user.
	_, unknown := postPage(t, base, "/forgot", base, url.Values{"who": {"nobody@example.com"}})
	resp, known := postPage(t, base, "/forgot", base, url.Values{"who": {"alice@company.com"}})
	if resp.StatusCode != http.StatusOK || unknown != known || !strings.Contains(known, "If a user with that name") {
		t.Fatalf("answers differ or wrong:\nunknown: %s\nknown: %s", unknown, known)
	}
	m := smtp.Next(t)
	if m.To[0] != "alice@company.com" || m.Header("Subject") != "Reset your Gatehouse password" {
		t.Fatalf("mail %v %q", m.To, m.Header("Subject"))
	}
	link := regexp.MustCompile(`http://\S+/reset\?token=[A-Za-z0-9_-]+`).FindString(m.Body())
	if !strings.HasPrefix(link, base) {
		t.Fatalf("no reset link of %s in %q", base, m.Body())
	}
	tok := must(url.Parse(link)).Query().Get("token")

	for _, bad := range []string{"", "nope", strings.Repeat("x", 5000), tok + "x"} {
		resp, body := getPage(t, base+"/reset?token="+url.QueryEscape(bad))
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "This link is not valid") {
			t.Fatalf("GET /reset?token=%.20q: %d %s", bad, resp.StatusCode, body)
		}
	}
	// An invitation page does not take a reset token.
	if resp, _ := getPage(t, base+"/activate?token="+tok); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("reset token on /activate: %d", resp.StatusCode)
	}
	resp, body = getPage(t, link)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "alice@company.com") || !strings.Contains(body, `autocomplete="new-password"`) {
		t.Fatalf("GET reset link: %d %s", resp.StatusCode, body)
	}
	for _, tc := range []struct{ pw, confirm, want string }{
		{"pasture violin 3", "pasture violin 4", "differ"},
		{"alice@company.com", "alice@company.com", "cannot be your"},
		// The demo world signs in without MFA: 15 characters at least.
		{"Tq7#vLm2", "Tq7#vLm2", "at least 15"},
		{"password1234567", "password1234567", "too common"},
	} {
		resp, body := postPage(t, base, "/reset", base, url.Values{"token": {tok}, "password": {tc.pw}, "confirm": {tc.confirm}})
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, tc.want) {
			t.Fatalf("password %q: %d, want a message with %q: %s", tc.pw, resp.StatusCode, tc.want, body)
		}
	}
	resp, body = postPage(t, base, "/reset", base, url.Values{"token": {tok}, "password": {"pasture violin 3"}, "confirm": {"pasture violin 3"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?next=%2Fstart&set=1" {
		t.Fatalf("reset: %d %q %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	// The sign-in page it lands on says the password is set.
	if resp, body := getPage(t, base+resp.Header.Get("Location")); resp.StatusCode != http.StatusOK ||
		!strings.Contains(body, "Your password is set. Sign in.") || !strings.Contains(body, `name="next" value="/start"`) {
		t.Fatalf("after the reset: %d %s", resp.StatusCode, body)
	}
	// The flag carries no address: a foreign next is still dropped.
	if resp, body := getPage(t, base+"/login?next=https%3A%2F%2Fevil.example%2F&set=1"); resp.StatusCode != http.StatusOK ||
		strings.Contains(body, "evil.example") || !strings.Contains(body, `name="next" value=""`) {
		t.Fatalf("set=1 with a foreign next: %d %s", resp.StatusCode, body)
	}
	if _, err := srv.Directory.Authenticate(t.Context(), "alice@company.com", "pasture violin 3"); err != nil {
		t.Fatalf("new password: %v", err)
	}
	if n := smtp.Next(t); n.Header("Subject") != "Your Gatehouse password was changed" {
		t.Fatalf("notice %q", n.Header("Subject"))
	}
	resp, body = postPage(t, base, "/reset", base, url.Values{"token": {tok}, "password": {"another violin 5"}, "confirm": {"another violin 5"}})
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "This link is not valid") {
		t.Fatalf("second use: %d %s", resp.StatusCode, body)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestLinkPagesNotConfigured: without an invite service the pages say so,
// never 500.
func TestLinkPagesNotConfigured(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{"/forgot", "/activate?token=x", "/reset?token=x", "/setup?token=x"} {
		resp, body := getPage(t, e.url+p)
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "not configured") {
			t.Errorf("GET %s: %d %s", p, resp.StatusCode, body)
		}
	}
	resp, _ := postPage(t, e.url, "/forgot", e.url, url.Values{"who": {"x"}})
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("POST /forgot: %d", resp.StatusCode)
	}
}

// TestActivateDisabledUser: the activation page of a disabled user says so
// and sets no password, which could never sign in.
func TestActivateDisabledUser(t *testing.T) {
	srv := servertest.New(t, func(c *config.Config) { c.Demo = true })
	ctx := t.Context()
	u, err := srv.Store.GetUserByName(ctx, "ed.developer")
	if err != nil {
		t.Fatal(err)
	}
	u.PasswordHash = ""
	if err := srv.Store.Update(ctx, func(tx store.Tx) error { return tx.UpdateUser(ctx, u) }); err != nil {
		t.Fatal(err)
	}
	link, err := srv.Invites.InvitationLink(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.People.DisableUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	tok := must(url.Parse(link)).Query().Get("token")
	if resp, body := getPage(t, srv.URL+"/activate?token="+tok); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "This user is disabled") {
		t.Fatalf("GET /activate of a disabled user: %d %s", resp.StatusCode, body)
	}
	pw := "pasture violin 3 lamp"
	resp, body := postPage(t, srv.URL, "/activate", srv.URL, url.Values{"token": {tok}, "password": {pw}, "confirm": {pw}})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "This user is disabled") {
		t.Fatalf("POST /activate of a disabled user: %d %s", resp.StatusCode, body)
	}
	if cur, _ := srv.Store.GetUser(ctx, u.ID); cur.PasswordHash != "" {
		t.Error("a password was set for a disabled user")
	}
}

// TestUsedSetupLinkSaysRestart: a setup link that is used, replaced or
// expired says where a new one comes from (the server's start, or
// gatehouse invite), not to ask an administrator, since there is none.
func TestUsedSetupLinkSaysRestart(t *testing.T) {
	srv := servertest.New(t, nil)
	for _, p := range []string{"/setup?token=x", "/setup?token="} {
		resp, body := getPage(t, srv.URL+p)
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "This link is not valid") ||
			!strings.Contains(body, "The server prints a new setup link each time it starts while no administrator can sign in: restart it and use the new link, or create the administrator with gatehouse invite --admin.") ||
			strings.Contains(body, "Ask your administrator") {
			t.Errorf("GET %s: %d %s", p, resp.StatusCode, body)
		}
	}
}
