package e2e

import (
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/browsertest"
	"github.com/gatehouse-dev/gatehouse/internal/clientconfig"
	"github.com/gatehouse-dev/gatehouse/internal/mail/mailtest"
	"github.com/gatehouse-dev/gatehouse/internal/mfa"
)

// TestPeopleJourney is the first "done means" of the people issue, end to
// end with the real parts: the built gatehouse binary run as `gatehouse
// serve` on a fresh data folder (no demo world), real Chromium for the
// admin and, in its own profile, for the user, Debian's AWS CLI for both,
// and an in-process SMTP server that catches the invitation.
//
//  1. The banner's one-time setup link creates the first admin, who signs
//     in and, under a fresh instance's MFA policy "always", registers an
//     authenticator app at sign-in with the key shown on the page.
//  2. The admin creates a permission set and invites a user in the
//     console; the user opens the e-mailed link, sets a password, signs in,
//     enrols TOTP from the QR page and signs in again with a code.
//  3. The admin assigns the set; `aws sso login --no-browser` is approved
//     in the user's browser and the CLI gets role credentials.
//  4. The admin disables the user in the console: the user's cookie, the
//     CLI's token and the role credentials issued before are refused at
//     once.
//  5. `gatehouse users enable` with the admin's own SSO profile lets the
//     user back in, in the browser and in the CLI.
//
// Stored state is read back through the product: `gatehouse users status`
// (password set, MFA devices, sessions, disabled) with the admin's
// profile.
func TestPeopleJourney(t *testing.T) {
	if _, err := os.Stat(awsCLI); err != nil {
		t.Skipf("Debian's awscli package (%s) is not installed: %v", awsCLI, err)
	}
	adminB := browsertest.Start(t) // skips when chromium is absent
	bin := buildGatehouse(t)
	smtp := mailtest.Start(t, mailtest.Options{})
	srv := startServeProcess(t, bin, "--smtp-url", smtp.URL(), "--smtp-from", "Gatehouse <gatehouse@example.com>")
	base := srv.base
	sess := clientconfig.Session{Name: "gatehouse", StartURL: srv.startURL, Region: srv.region, BaseURL: base}

	// 1. The first admin, from the banner's setup link.
	const (
		adminName  = "ada.admin"
		adminEmail = "ada@example.com"
		adminPW    = "violet harbor lantern 917"
		userName   = "bo.builder"
		userEmail  = "bo@example.com"
		userPW     = "quiet orchard compass 482"
		setName    = "Builder"
	)
	if !strings.HasPrefix(srv.setupLink, base+"/setup?token=") {
		t.Fatalf("setup link %q is not on the public URL %s", srv.setupLink, base)
	}
	adminB.Navigate(srv.setupLink)
	adminB.WaitText("Create the first administrator")
	adminB.Fill("username", adminName)
	adminB.Fill("given", "Ada")
	adminB.Fill("family", "Admin")
	adminB.Fill("email", adminEmail)
	adminB.Fill("password", adminPW)
	adminB.Fill("confirm", adminPW)
	adminB.Click(`form[action="/setup"] button[type=submit]`)
	if p := adminB.Path(); p != "/login" {
		t.Fatalf("after setup the admin is at %s, want /login:\n%s", p, adminB.Text())
	}
	// The link works once.
	other := browsertest.Start(t)
	other.Navigate(srv.setupLink)
	if txt := other.Text(); strings.Contains(txt, "Create the first administrator") {
		t.Fatalf("the setup link worked a second time:\n%s", txt)
	}
	signInAndEnrol(t, adminB, adminName, adminPW)
	if p := adminB.Path(); p != "/start" {
		t.Fatalf("after enrolment the admin is at %s, want /start:\n%s", p, adminB.Text())
	}
	adminB.Navigate(base + "/admin")
	if p := adminB.Path(); p != "/admin/users" {
		t.Fatalf("/admin led to %s:\n%s", p, adminB.Text())
	}
	adminB.WaitText(adminName)

	// The admin's CLI, signed in through the admin's browser: it reads
	// stored state back with `gatehouse users status`.
	adminCLI := newCLIAt(t, base)
	adminCLI.appendConfig(sess.SessionSection() + "\n" + sess.ServicesSection() + "\n" +
		clientconfig.Profile{Name: "mgmt", AccountID: srv.mgmt, RoleName: "AdministratorAccess", Region: srv.region}.Section(sess))
	journeyLogin(t, adminCLI, adminB, "mgmt", srv.startURL)
	users := func(args ...string) (string, error) {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), bin, append([]string{"users"}, args...)...)
		cmd.Env, cmd.Dir = adminCLI.env, adminCLI.home
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	status := func(want ...string) {
		t.Helper()
		out, err := users("status", "--profile", "mgmt", "--user-name", userName)
		if err != nil {
			t.Fatalf("gatehouse users status: %v\n%s", err, out)
		}
		for _, w := range want {
			if !regexp.MustCompile(w).MatchString(out) {
				t.Fatalf("users status lacks %q:\n%s", w, out)
			}
		}
	}
	if out, err := users("status", "--profile", "mgmt", "--user-name", adminName); err != nil ||
		!strings.Contains(out, "Password set:    true") || !strings.Contains(out, "MFA devices:     1") {
		t.Fatalf("the first admin's stored state: %v\n%s", err, out)
	}

	// 2. A permission set and an invited user, in the console.
	adminB.Navigate(base + "/admin/permission-sets")
	adminB.Fill("name", setName)
	adminB.Fill("description", "What builders may do")
	adminB.Click(`form[action="/admin/permission-sets"] button[type=submit]`)
	adminB.WaitText("Permission set created.")

	adminB.Navigate(base + "/admin/users")
	adminB.Fill("username", userName)
	adminB.Fill("email", userEmail)
	adminB.Fill("given", "Bo")
	adminB.Fill("family", "Builder")
	adminB.Fill("display", "Bo Builder")
	adminB.Click(`form[action="/admin/users"][method=post] button[type=submit]`)
	adminB.WaitText("User created and invited by email.")
	userPage := base + adminB.Path()
	status(`State:\s+enabled`, `Password set:\s+false`, `MFA devices:\s+0`)

	// The admin got a security notice for the authenticator; the user,
	// the invitation.
	msg := mailTo(t, smtp, userEmail)
	if subj := msg.Header("Subject"); subj != "You are invited to Gatehouse" {
		t.Errorf("invitation subject %q", subj)
	}
	if len(msg.To) != 1 {
		t.Errorf("invitation went to %v, want only %s", msg.To, userEmail)
	}
	activate := regexp.MustCompile(`(?m)^\s*(` + regexp.QuoteMeta(base) + `/activate\?token=\S+)\s*$`).FindStringSubmatch(msg.Body())
	if activate == nil {
		t.Fatalf("no activation link on %s in the invitation:\n%s", base, msg.Body())
	}
	if !strings.Contains(msg.Body(), userName) {
		t.Errorf("the invitation does not name the user name %s:\n%s", userName, msg.Body())
	}

	userB := browsertest.Start(t) // its own profile: none of the admin's cookies
	userB.Navigate(activate[1])
	userB.WaitText("Activate your account")
	userB.Fill("password", userPW)
	userB.Fill("confirm", userPW)
	userB.Click(`form[action="/activate"] button[type=submit]`)
	if p := userB.Path(); p != "/login" {
		t.Fatalf("after activation the user is at %s:\n%s", p, userB.Text())
	}
	userTOTP := signInAndEnrol(t, userB, userName, userPW)
	status(`Password set:\s+true`, `MFA devices:\s+1`)
	// Sign out and in again with a code.
	userB.Click(`form.signout button[type=submit]`)
	userB.Navigate(base + "/start")
	signInWithCode(t, userB, userName, userPW, userTOTP)
	if p := userB.Path(); p != "/start" {
		t.Fatalf("after signing in with a code the user is at %s:\n%s", p, userB.Text())
	}

	// 3. An assignment, then the user's CLI.
	adminB.Navigate(base + "/admin/assignments/" + srv.mgmt)
	adminB.Fill("principal", userName)
	checkSet(t, adminB, setName)
	adminB.Click(`form[action="/admin/assignments/` + srv.mgmt + `"] button[type=submit]`)
	adminB.WaitText("Assignments created.")
	adminB.WaitText(userName)

	userCLI := newCLIAt(t, base)
	userCLI.appendConfig(sess.SessionSection() + "\n" +
		clientconfig.Profile{Name: "build", AccountID: srv.mgmt, RoleName: setName, Region: srv.region}.Section(sess))
	journeyLogin(t, userCLI, userB, "build", srv.startURL)
	id, out, err := userCLI.callerIdentity(nil, "--profile", "build")
	if err != nil {
		t.Fatalf("get-caller-identity as the user: %v\n%s", err, out)
	}
	wantCaller(t, id, srv.mgmt, setName, userName)

	// 4. The admin disables the user in the console. Before, the CLI's
	// token lists the assigned role and the role credentials work.
	creds := cachedRoleCredentials(t, userCLI)
	token := userCLI.accessToken("gatehouse")
	listRoles := []string{"sso", "list-account-roles", "--access-token", token, "--account-id", srv.mgmt, "--region", srv.region, "--output", "json"}
	if out, err := userCLI.run(nil, listRoles...); err != nil || !strings.Contains(out, `"roleName": "`+setName+`"`) {
		t.Fatalf("list-account-roles before the disable: %v\n%s", err, out)
	}
	staticEnv := []string{"AWS_ACCESS_KEY_ID=" + creds.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + creds.SecretAccessKey,
		"AWS_SESSION_TOKEN=" + creds.SessionToken, "AWS_DEFAULT_REGION=" + srv.region}
	if id, out, err := userCLI.callerIdentity(staticEnv); err != nil {
		t.Fatalf("role credentials before the disable: %v\n%s", err, out)
	} else {
		wantCaller(t, id, srv.mgmt, setName, userName)
	}
	refused := func(when string) {
		t.Helper()
		if out, err := userCLI.run(nil, listRoles...); err == nil || !strings.Contains(out, "UnauthorizedException") {
			t.Fatalf("%s, the user's CLI token: %v\n%s", when, err, out)
		}
		if _, out, err := userCLI.callerIdentity(staticEnv); err == nil || !strings.Contains(out, "InvalidClientTokenId") {
			t.Fatalf("%s, role credentials issued before the disable: %v\n%s", when, err, out)
		}
	}
	adminB.Navigate(userPage)
	adminB.Click(`form[action$="/disable"] button[type=submit]`)
	adminB.WaitText("User disabled")
	status(`State:\s+disabled`, `Active sessions:\s+0`)

	userB.Navigate(base + "/start")
	if p := userB.Path(); p != "/login" {
		t.Fatalf("the disabled user's cookie still opens %s:\n%s", p, userB.Text())
	}
	refused("after the disable")
	if out, err := userCLI.run(nil, "sso", "list-accounts", "--access-token", token, "--region", srv.region); err == nil {
		t.Fatalf("the disabled user's token still lists accounts:\n%s", out)
	}
	// The console's audit viewer has the disable.
	// The console's audit viewer has the disable: by the admin, on the
	// user's ID (the last part of the user's console page).
	adminB.Navigate(base + "/admin/audit?event=DisableUser")
	userID := userPage[strings.LastIndex(userPage, "/")+1:]
	if !regexp.MustCompile(`DisableUser\s+` + adminName + `\s+\S+\s+` + regexp.QuoteMeta(userID)).MatchString(adminB.Text()) {
		t.Fatalf("the audit log lacks the disable of %s by %s:\n%s", userID, adminName, adminB.Text())
	}
	// Nor can the user sign in again.
	userB.Fill("username", userName)
	userB.Click(`form[action="/login"] button[type=submit]`)
	if userB.Eval(`!!document.getElementById("password")`) == "true" {
		userB.Fill("password", userPW)
		userB.Click(`form[action="/login/password"] button[type=submit]`)
	}
	if p := userB.Path(); p == "/start" || userB.Eval(`!!document.getElementById("code")`) == "true" {
		t.Fatalf("the disabled user got past the password (at %s):\n%s", p, userB.Text())
	}

	// 5. `gatehouse users enable` with the admin's profile.
	if out, err := users("enable", "--profile", "mgmt", "--user-name", userName); err != nil || !strings.Contains(out, "Enabled "+userName) {
		t.Fatalf("gatehouse users enable: %v\n%s", err, out)
	}
	status(`State:\s+enabled`, `MFA devices:\s+1`)
	// Enabling lets the person sign in again; it revives nothing issued
	// before the disable.
	refused("after the enable")
	userB.Navigate(base + "/start")
	signInWithCode(t, userB, userName, userPW, userTOTP)
	if p := userB.Path(); p != "/start" {
		t.Fatalf("the re-enabled user is at %s:\n%s", p, userB.Text())
	}
	removeRoleCredentialCache(t, userCLI)
	journeyLogin(t, userCLI, userB, "build", srv.startURL)
	if id, out, err = userCLI.callerIdentity(nil, "--profile", "build"); err != nil {
		t.Fatalf("get-caller-identity after enable: %v\n%s", err, out)
	}
	wantCaller(t, id, srv.mgmt, setName, userName)
}

// serveProcess is a `gatehouse serve` run as its own process.
type serveProcess struct {
	base, startURL, region, mgmt, setupLink string
	banner                                  string

	cmd     *exec.Cmd
	exited  chan struct{} // closed once the process has ended
	waitErr error         // how it ended, once exited is closed
}

// startServeProcess runs bin serve on a fresh data folder at
// http://localhost:PORT (a host name, as WebAuthn needs) with args, until
// its banner, which must offer the first administrator's setup link, is
// printed, and stops it when the test ends.
func startServeProcess(t *testing.T, bin string, args ...string) *serveProcess {
	t.Helper()
	p := runServe(t, bin, freePort(t), []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir()}, append([]string{"--data", t.TempDir()}, args...)...)
	if p.setupLink == "" {
		t.Fatalf("banner lacks the first administrator's setup link:\n%s", p.banner)
	}
	return p
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// runServe runs bin serve listening on 127.0.0.1:port, at public URL
// http://localhost:port, with the environment env and args (which name
// the data folder or the database), until its banner is printed. When the
// test ends it is interrupted, as an operator's Ctrl-C or systemd stops
// it, unless it has ended before; its log is shown if the test failed.
func runServe(t *testing.T, bin string, port int, env []string, args ...string) *serveProcess {
	t.Helper()
	base := fmt.Sprintf("http://localhost:%d", port)
	cmd := exec.CommandContext(t.Context(), bin, append([]string{"serve",
		"--listen", fmt.Sprintf("127.0.0.1:%d", port), "--public-url", base}, args...)...)
	cmd.Env = env
	cmd.Dir = t.TempDir()
	stdout, stderr := &lockedBuffer{}, &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 15 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serveProcess{base: base, cmd: cmd, exited: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		<-p.exited
		if t.Failed() {
			t.Logf("gatehouse serve (pid %d, %v) log:\n%s", cmd.Process.Pid, p.waitErr, stderr.String())
		}
	})
	deadline := time.NewTimer(60 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !strings.Contains(stdout.String(), "Then: aws configure sso") {
		select {
		case <-p.exited:
			t.Fatalf("gatehouse serve ended early: %v\n%s\n%s", p.waitErr, stdout.String(), stderr.String())
		case <-deadline.C:
			t.Fatalf("no banner within 60 s:\n%s\n%s", stdout.String(), stderr.String())
		case <-t.Context().Done():
			t.Fatal(t.Context().Err())
		case <-tick.C:
		}
	}
	p.banner = stdout.String()
	get := func(pattern string) string {
		t.Helper()
		m := regexp.MustCompile(pattern).FindStringSubmatch(p.banner)
		if m == nil {
			t.Fatalf("banner lacks %s:\n%s", pattern, p.banner)
		}
		return m[1]
	}
	p.startURL = get(`Start URL:\s+(https://d-[0-9a-f]{10}\.awsapps\.com/start)`)
	p.region = get(`Region:\s+([a-z0-9-]+)`)
	p.mgmt = get(`Management account: (\d{12})`)
	if m := regexp.MustCompile(`No administrator yet\.[^\n]*\n\s*\n\s*(\S+)`).FindStringSubmatch(p.banner); m != nil {
		p.setupLink = m[1]
	}
	if get(`Access portal:\s+(\S+)/start`) != base {
		t.Fatalf("the banner's portal is not %s:\n%s", base, p.banner)
	}
	return p
}

// kill ends the process with SIGKILL, as a crash, the OOM killer or a
// container runtime's hard stop does: no shutdown, no flush, nothing
// after the signal. It returns once the process has ended.
func (p *serveProcess) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatalf("kill gatehouse serve: %v", err)
	}
	<-p.exited
}

// totpApp is an authenticator app: the key read from the page, and the
// last time step it gave a code for (the server takes each step once).
type totpApp struct {
	seed []byte
	last int64
}

// code returns a code for a step the server accepts now and has not seen:
// the current one, or the next (within mfa.Window) when the current one
// was used; otherwise it waits for the next step, under the test's context.
func (a *totpApp) code(t *testing.T) string {
	t.Helper()
	for {
		cur := mfa.Step(time.Now())
		s := max(cur, a.last+1)
		if s <= cur+mfa.Window {
			a.last = s
			return mfa.Code(a.seed, s)
		}
		next := time.Unix((cur+1)*mfa.StepSeconds, 0)
		select {
		case <-t.Context().Done():
			t.Fatal(t.Context().Err())
		case <-time.After(time.Until(next)):
		}
	}
}

// signInAndEnrol signs user in at b's sign-in page and registers an
// authenticator app there, as the MFA policy "always" asks of someone
// with none: the QR code is shown, the key is read in its grouped text
// form and the code computed from it.
func signInAndEnrol(t *testing.T, b *browsertest.Browser, user, password string) *totpApp {
	t.Helper()
	b.Fill("username", user)
	b.Click(`form[action="/login"] button[type=submit]`)
	b.Fill("password", password)
	b.Click(`form[action="/login/password"] button[type=submit]`)
	b.WaitText("Register an authenticator app")
	if got := b.Eval(`(() => { const i = document.querySelector("img.qr"); return !!i && i.complete && i.naturalWidth > 0 && i.src.startsWith("data:image/png") })()`); got != "true" {
		t.Fatalf("no QR code image on the enrolment page:\n%s", b.Text())
	}
	key := b.Eval(`document.querySelector("code.secret").innerText`)
	if !regexp.MustCompile(`^[A-Z2-7]{4}( [A-Z2-7]{1,4})+$`).MatchString(key) {
		t.Fatalf("the key %q is not shown in groups of four", key)
	}
	seed, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ReplaceAll(key, " ", ""))
	if err != nil {
		t.Fatalf("key %q: %v", key, err)
	}
	app := &totpApp{seed: seed}
	b.Fill("code", app.code(t))
	b.Click(`form[action="/login/enrol"] button[type=submit]`)
	return app
}

// signInWithCode signs user in at b's sign-in page with the password and
// a code of app.
func signInWithCode(t *testing.T, b *browsertest.Browser, user, password string, app *totpApp) {
	t.Helper()
	if p := b.Path(); p != "/login" {
		t.Fatalf("expected the sign-in page, at %s:\n%s", p, b.Text())
	}
	b.Fill("username", user)
	b.Click(`form[action="/login"] button[type=submit]`)
	b.Fill("password", password)
	b.Click(`form[action="/login/password"] button[type=submit]`)
	b.WaitText("Code from your authenticator app")
	b.Fill("code", app.code(t))
	b.Click(`form[action="/login/mfa"] button[type=submit]`)
}

// checkSet ticks the permission set named name on the assignments form.
func checkSet(t *testing.T, b *browsertest.Browser, name string) {
	t.Helper()
	js, _ := json.Marshal(name)
	got := b.Eval(`(() => { for (const l of document.querySelectorAll("label.inline")) { const i = l.querySelector("input[name=set]");
		if (i && l.textContent.trim() === ` + string(js) + `) { if (!i.checked) i.click(); return i.checked } } return false })()`)
	if got != "true" {
		t.Fatalf("no permission set %s on the assignments form:\n%s", name, b.Text())
	}
}

// journeyLogin runs `aws sso login --no-browser --profile profile` and
// approves the code it prints in b, whose person is signed in.
func journeyLogin(t *testing.T, c *cli, b *browsertest.Browser, profile, startURL string) {
	t.Helper()
	cmd := exec.Command(awsCLI, "sso", "login", "--profile", profile, "--no-browser")
	cmd.Env = c.env
	cmd.Dir = c.home
	term := startTerminal(t, cmd)
	out := term.Expect("/device?user_code=", 60*time.Second)
	out += term.Expect("\n", 10*time.Second)
	m := regexp.MustCompile(`(http://localhost:\d+/device\?user_code=([A-Z-]+))`).FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, m[2]) {
		t.Fatalf("no verification URL in:\n%s", out)
	}
	b.Navigate(m[1])
	if b.Eval(`!!document.querySelector('button[value="allow"]')`) != "true" {
		b.Click(`form[action="/device"][method=get] button[type=submit]`)
	}
	if txt := b.Text(); !strings.Contains(txt, "botocore") || !strings.Contains(txt, m[2]) {
		t.Errorf("the approval page does not name the client and the code %s:\n%s", m[2], txt)
	}
	b.Click(`button[value="allow"]`)
	b.WaitText("Request approved")
	term.Expect("Successfully logged into Start URL: "+startURL, 60*time.Second)
	if err := term.Wait(30 * time.Second); err != nil {
		t.Fatalf("aws sso login: %v\n%s", err, term.Output())
	}
}

// mailTo waits for the next message to addr, skipping messages to others.
func mailTo(t *testing.T, smtp *mailtest.Server, addr string) mailtest.Message {
	t.Helper()
	for range 10 {
		m := smtp.Next(t)
		if len(m.To) > 0 && m.To[0] == addr {
			return m
		}
		t.Logf("e-mail to %v: %s", m.To, m.Header("Subject"))
	}
	t.Fatalf("no e-mail to %s among the next 10", addr)
	return mailtest.Message{}
}
