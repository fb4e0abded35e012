package main

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/mail/mailtest"
)

var setupLinkRe = regexp.MustCompile(`http://127\.0\.0\.1:\d+/setup\?token=[A-Za-z0-9_-]+`)

// post sends a page form as a browser of the same origin would, without
// following redirects.
func post(t *testing.T, link string, v url.Values) (*http.Response, string) {
	t.Helper()
	u, _ := url.Parse(link)
	origin := u.Scheme + "://" + u.Host
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, origin+u.Path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// waitSetupLink waits for serve to print the setup link after its banner.
func waitSetupLink(t *testing.T, out func() string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if l := setupLinkRe.FindString(out()); l != "" {
			return l
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no setup link printed:\n%s", out())
	return ""
}

// TestServeSetupLink: a fresh instance without --demo prints a one-time
// setup link that creates the first admin; once one exists no link is
// printed; with --demo none is.
func TestServeSetupLink(t *testing.T) {
	dir := t.TempDir()
	args := []string{"--data", dir, "--listen", "127.0.0.1:0"}
	out, stop := startServeOut(t, args, env(nil))
	link := waitSetupLink(t, out)
	if !strings.Contains(out(), "No administrator yet") {
		t.Errorf("banner does not explain the link:\n%s", out())
	}
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "Create the first administrator") {
		t.Fatalf("GET setup link: %d\n%s", resp.StatusCode, page)
	}
	tok := must(url.Parse(link)).Query().Get("token")
	form := url.Values{"token": {tok}, "username": {"root.admin"}, "email": {"root@example.com"},
		"password": {"short"}, "confirm": {"short"}}
	r, body := post(t, link, form)
	if r.StatusCode != http.StatusBadRequest || !strings.Contains(body, "at least 8") {
		t.Fatalf("short password: %d %s", r.StatusCode, body)
	}
	form.Set("password", "quartz window 88")
	form.Set("confirm", "quartz window 88")
	if r, body = post(t, link, form); r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
		t.Fatalf("setup: %d %s %s", r.StatusCode, r.Header.Get("Location"), body)
	}
	form.Set("username", "second.admin")
	if r, body = post(t, link, form); r.StatusCode != http.StatusNotFound || !strings.Contains(body, "This link is not valid") {
		t.Fatalf("second use: %d %s", r.StatusCode, body)
	}
	stop()

	out, stop = startServeOut(t, args, env(nil))
	stop()
	if strings.Contains(out(), "/setup?token=") {
		t.Fatalf("setup link printed although an admin exists:\n%s", out())
	}

	out, stop = startServeOut(t, []string{"--data", t.TempDir(), "--listen", "127.0.0.1:0", "--demo"}, env(nil))
	stop()
	if strings.Contains(out(), "/setup?token=") {
		t.Fatalf("setup link printed with --demo:\n%s", out())
	}
}

// TestServeSetupLinkNewEachStart: each start prints a new link and the
// one before stops working.
func TestServeSetupLinkNewEachStart(t *testing.T) {
	dir := t.TempDir()
	args := []string{"--data", dir, "--listen", "127.0.0.1:0"}
	out, stop := startServeOut(t, args, env(nil))
	first := waitSetupLink(t, out)
	stop()
	out, stop = startServeOut(t, args, env(nil))
	defer stop()
	second := waitSetupLink(t, out)
	if first == second {
		t.Fatal("the same setup link twice")
	}
	// The first link, on the new port, is no longer valid.
	u := must(url.Parse(first))
	u.Host = must(url.Parse(second)).Host
	resp, err := http.Get(u.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("earlier setup link: %d", resp.StatusCode)
	}
}

// TestInviteCommand: gatehouse invite creates an admin and mails the
// link, which activates the account once; it is refused while a server
// holds the SQLite folder.
func TestInviteCommand(t *testing.T) {
	dir := t.TempDir()
	smtp := mailtest.Start(t, mailtest.Options{})
	getenv := env(map[string]string{"GATEHOUSE_SMTP_URL": smtp.URL(), "GATEHOUSE_SMTP_FROM": "gatehouse@example.com"})
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), []string{"invite", "--data", dir, "--public-url", "http://127.0.0.1:1", "--user", "ops", "--email", "ops@example.com", "--admin"}, &stdout, &stderr, getenv)
	if err != nil {
		t.Fatalf("invite: %v\n%s", err, stderr.String())
	}
	for _, want := range []string{"Created user ops", "AdministratorAccess on the management account", "Invitation mailed.", "/activate?token="} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, stdout.String())
		}
	}
	m := smtp.Next(t)
	if m.To[0] != "ops@example.com" || m.Header("Subject") != "You are invited to Gatehouse" {
		t.Fatalf("mail to %v %q", m.To, m.Header("Subject"))
	}
	mailed := regexp.MustCompile(`/activate\?token=[A-Za-z0-9_-]+`).FindString(m.Body())
	if mailed == "" || !strings.Contains(stdout.String(), mailed) {
		t.Fatalf("printed link differs from the mailed one: %q\n%s", mailed, stdout.String())
	}

	// The server: no setup link (ops is an admin), and the link works once.
	out, stop := startServeOut(t, []string{"--data", dir, "--listen", "127.0.0.1:0"}, env(nil))
	defer stop()
	base := field(t, out(), `Access portal:\s+(http://127\.0\.0\.1:\d+)/start`)
	if strings.Contains(out(), "/setup?token=") {
		t.Errorf("setup link printed although ops is an admin")
	}
	tok := must(url.Parse("http://x" + mailed)).Query().Get("token")
	form := url.Values{"token": {tok}, "password": {"copper ladder 19"}, "confirm": {"copper ladder 19"}}
	if r, body := post(t, base+"/activate", form); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("activate: %d %s", r.StatusCode, body)
	}
	if r, body := post(t, base+"/activate", form); r.StatusCode != http.StatusNotFound {
		t.Fatalf("second activation: %d %s", r.StatusCode, body)
	}

	// While the server holds the folder, invite is refused.
	err = run(t.Context(), []string{"invite", "--data", dir, "--user", "x", "--email", "x@example.com"}, io.Discard, io.Discard, env(nil))
	if err == nil || !strings.Contains(err.Error(), "in use by a running Gatehouse") {
		t.Fatalf("invite while serving: %v", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// startServeOut is startServe that also returns everything serve prints
// later.
func startServeOut(t *testing.T, args []string, getenv func(string) string) (func() string, func()) {
	t.Helper()
	buf := &syncBuffer{}
	stop := startServeTo(t, args, getenv, buf)
	return buf.String, stop
}

// TestServeDemoPasswordOnlyWhenGiven: with --demo and a generated password,
// the first start prints it (the demo users got it) and a restart, which
// gives it to nobody, does not.
func TestServeDemoPasswordOnlyWhenGiven(t *testing.T) {
	dir := t.TempDir()
	args := []string{"--data", dir, "--listen", "127.0.0.1:0", "--demo"}
	banner, stop := startServe(t, args, env(nil))
	stop()
	pw := field(t, banner, `2 users without a password got this one: (\S+)`)
	banner, stop = startServe(t, args, env(nil))
	stop()
	if strings.Contains(banner, "got this one") || strings.Contains(banner, pw) {
		t.Fatalf("restart printed a password nobody got:\n%s", banner)
	}
}
