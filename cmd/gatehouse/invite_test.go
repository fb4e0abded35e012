package main

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/mail/mailtest"
	"github.com/gatehouse-dev/gatehouse/internal/server"
	"github.com/gatehouse-dev/gatehouse/internal/store"
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
	// invite works on an existing database only: migrate creates one.
	if err := run(t.Context(), []string{"migrate", "--data", dir}, io.Discard, &stderr, getenv); err != nil {
		t.Fatalf("migrate: %v\n%s", err, stderr.String())
	}
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

	// The server: a setup link while ops has no password (an admin who
	// cannot sign in does not count), and the link works once.
	out, stop := startServeOut(t, []string{"--data", dir, "--listen", "127.0.0.1:0"}, env(nil))
	base := field(t, out(), `Access portal:\s+(http://127\.0\.0\.1:\d+)/start`)
	if !strings.Contains(out(), "/setup?token=") {
		t.Errorf("no setup link although the only admin has no password yet:\n%s", out())
	}
	tok := must(url.Parse("http://x" + mailed)).Query().Get("token")
	form := url.Values{"token": {tok}, "password": {"copper ladder 19"}, "confirm": {"copper ladder 19"}}
	if r, body := post(t, base+"/activate", form); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("activate: %d %s", r.StatusCode, body)
	}
	if r, body := post(t, base+"/activate", form); r.StatusCode != http.StatusNotFound {
		t.Fatalf("second activation: %d %s", r.StatusCode, body)
	}
	stop()
	// Once ops has activated, a restart prints no setup link.
	out, stop = startServeOut(t, []string{"--data", dir, "--listen", "127.0.0.1:0"}, env(nil))
	defer stop()
	if strings.Contains(out(), "/setup?token=") {
		t.Errorf("setup link printed although ops is an admin")
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

// TestInviteUsesTheServersFolderAndURL: the banner's invite hint names the
// server's --data and --public-url; invite on a folder without a database
// is refused (no new instance appears); without --public-url, invite's
// links use the public URL the server ran with, and it says so.
func TestInviteUsesTheServersFolderAndURL(t *testing.T) {
	dir := t.TempDir()
	public := "http://gatehouse.example:8443"
	out, stop := startServeOut(t, []string{"--data", dir, "--listen", "127.0.0.1:0", "--public-url", public}, env(nil))
	waitSetupLinkOf(t, out, public)
	stop()
	hint := "gatehouse invite --data " + dir + " --public-url " + public + " --user NAME --email ADDRESS --admin"
	if !strings.Contains(out(), hint) {
		t.Errorf("banner lacks %q:\n%s", hint, out())
	}

	empty := filepath.Join(t.TempDir(), "elsewhere")
	err := run(t.Context(), []string{"invite", "--data", empty, "--user", "ops", "--email", "ops@example.com", "--admin"}, io.Discard, io.Discard, env(nil))
	if err == nil || !strings.Contains(err.Error(), empty) || !strings.Contains(err.Error(), "--data") || !strings.Contains(err.Error(), "no Gatehouse database") {
		t.Fatalf("invite on a folder without a database: %v", err)
	}
	if _, err := os.Stat(filepath.Join(empty, "gatehouse.db")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("invite created a database in %s: %v", empty, err)
	}

	var stdout bytes.Buffer
	if err := run(t.Context(), []string{"invite", "--data", dir, "--user", "ops", "--email", "ops@example.com", "--admin"}, &stdout, io.Discard, env(nil)); err != nil {
		t.Fatalf("invite: %v\n%s", err, stdout.String())
	}
	if !strings.Contains(stdout.String(), public+"/activate?token=") || !strings.Contains(stdout.String(), "public URL "+public) {
		t.Fatalf("invite without --public-url does not use the server's %s:\n%s", public, stdout.String())
	}
}

// waitSetupLinkOf waits for serve to print a setup link on base.
func waitSetupLinkOf(t *testing.T, out func() string, base string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(out(), base+"/setup?token=") {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no setup link on %s printed:\n%s", base, out())
}

// TestInviteExistingUsers: invite refuses a disabled user (naming gatehouse
// users enable) and an active one; a user who never had a link is not
// told an earlier one stops working; without names the display name is
// the user name, not "ops ops".
func TestInviteExistingUsers(t *testing.T) {
	dir := t.TempDir()
	ctx := t.Context()
	if err := run(ctx, []string{"migrate", "--data", dir}, io.Discard, io.Discard, env(nil)); err != nil {
		t.Fatal(err)
	}
	invite := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, append([]string{"invite", "--data", dir}, args...), &out, io.Discard, env(nil))
		return out.String(), err
	}
	if out, err := invite("--user", "ops", "--email", "ops@example.com", "--admin"); err != nil {
		t.Fatalf("invite ops: %v\n%s", err, out)
	}
	// The database directly, as a server would change it.
	withServer := func(fn func(srv *server.Server)) {
		t.Helper()
		cfg, err := config.LoadCommand("invite", []string{"-data", dir}, env(nil), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		srv, err := server.New(ctx, cfg, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		fn(srv)
	}
	withServer(func(srv *server.Server) {
		u, err := srv.Store.GetUserByName(ctx, "ops")
		if err != nil {
			t.Fatal(err)
		}
		if u.DisplayName != "ops" {
			t.Errorf("display name %q, want ops", u.DisplayName)
		}
		if _, err := srv.Directory.CreateUser(ctx, directory.CreateUserInput{UserName: "bob", DisplayName: "Bob Builder",
			Name: store.UserName{GivenName: "Bob", FamilyName: "Builder"}, Emails: []store.Email{{Value: "bob@example.com", Primary: true}}}); err != nil {
			t.Fatal(err)
		}
		if err := srv.People.DisableUser(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
	})
	out, err := invite("--user", "bob")
	if err != nil || strings.Contains(out, "earlier link") || !strings.Contains(out, "/activate?token=") {
		t.Fatalf("invite of a user who never had a link: %v\n%s", err, out)
	}
	if out, err := invite("--user", "bob"); err != nil || !strings.Contains(out, "the earlier link stops working") {
		t.Fatalf("second invite of bob: %v\n%s", err, out)
	}
	// An active user: the command says once that no invitation is sent,
	// never first that it sends one.
	withServer(func(srv *server.Server) {
		u, err := srv.Store.GetUserByName(ctx, "bob")
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.Directory.SetPassword(ctx, u.ID, "copper ladder 19"); err != nil {
			t.Fatal(err)
		}
	})
	out, err = invite("--user", "bob", "--admin")
	if err != nil || strings.Contains(out, "sending") || strings.Contains(out, "/activate?token=") ||
		!strings.Contains(out, "bob is already active (has a password): no invitation sent; to give them a new password, use gatehouse users reset-password --profile ADMIN_PROFILE --user-name bob.") {
		t.Fatalf("invite --admin of an active user: %v\n%s", err, out)
	}
	// An active user without --admin: refused, with the reset command
	// to run, profile included.
	if _, err := invite("--user", "bob"); err == nil || !strings.Contains(err.Error(), "(gatehouse users reset-password --profile ADMIN_PROFILE --user-name bob)") {
		t.Fatalf("invite of an active user: %v", err)
	}
	out, err = invite("--user", "ops", "--admin")
	if err == nil || !strings.Contains(err.Error(), "disabled") || !strings.Contains(err.Error(), "gatehouse users enable") || strings.Contains(out, "/activate?token=") {
		t.Fatalf("invite of a disabled user: %v\n%s", err, out)
	}
	// Without --admin there is no administrator to "invite another" of.
	if _, err := invite("--user", "ops"); err == nil || !strings.Contains(err.Error(), "disabled") || strings.Contains(err.Error(), "invite another administrator") {
		t.Fatalf("invite of a disabled user without --admin: %v", err)
	}
}

// TestInviteHelpFlags: invite -h writes its flags with two dashes, as its
// usage line does.
func TestInviteHelpFlags(t *testing.T) {
	var errOut bytes.Buffer
	if err := run(t.Context(), []string{"invite", "-h"}, io.Discard, &errOut, env(nil)); err != nil {
		t.Fatal(err)
	}
	if h := errOut.String(); !strings.Contains(h, "\n  --admin") || strings.Contains(h, "\n  -admin") {
		t.Errorf("invite -h:\n%s", h)
	}
}
