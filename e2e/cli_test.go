package e2e

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/clientconfig"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
)

// awsCLI is Debian's AWS CLI v2.9.19 (the `aws` on PATH may be v1).
const awsCLI = "/usr/bin/aws"

// demoPassword is the password servertest gives demo users.
const demoPassword = "demo-password-1"

// cli is one user's AWS CLI: its own HOME with the endpoint rule-set files
// that send sso-oidc, sso, sts and iam to the test server.
type cli struct {
	t    testing.TB
	srv  *servertest.Server // nil for a server run as its own process
	home string
	env  []string
}

func newCLI(t testing.TB, srv *servertest.Server) *cli {
	t.Helper()
	c := newCLIAt(t, srv.URL)
	c.srv = srv
	return c
}

// newCLIAt is newCLI for the server at baseURL (a `gatehouse serve`
// process).
func newCLIAt(t testing.TB, baseURL string) *cli {
	t.Helper()
	if _, err := os.Stat(awsCLI); err != nil {
		t.Skipf("Debian's awscli package (%s) is not installed: %v", awsCLI, err)
	}
	home := t.TempDir()
	files, err := clientconfig.RuleSets(baseURL)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		p := filepath.Join(home, ".aws", "models", filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{
		"HOME=" + home,
		"PATH=/usr/bin:/bin",
		"LANG=C.UTF-8",
		"HTTPS_PROXY=http://127.0.0.1:9", // anything that escapes to real AWS fails at once
		"AWS_PAGER=",
		"AWS_EC2_METADATA_DISABLED=true",
		"TERM=xterm",
	}
	return &cli{t: t, home: home, env: env}
}

// run runs the CLI with args and returns its combined output and error.
func (c *cli) run(extraEnv []string, args ...string) (string, error) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, awsCLI, args...)
	cmd.Env = append(append([]string{}, c.env...), extraEnv...)
	cmd.Dir = c.home
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// mustRun runs the CLI and fails the test if it fails.
func (c *cli) mustRun(args ...string) string {
	c.t.Helper()
	out, err := c.run(nil, args...)
	if err != nil {
		c.t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// appendConfig adds text to ~/.aws/config.
func (c *cli) appendConfig(text string) {
	c.t.Helper()
	p := filepath.Join(c.home, ".aws", "config")
	f, err := os.OpenFile(p, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		c.t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("\n" + text); err != nil {
		c.t.Fatal(err)
	}
}

var (
	userCodeRe = regexp.MustCompile(`\b([B-DF-HJ-NP-TV-XZ]{4}-[B-DF-HJ-NP-TV-XZ]{4})\b`)
	verifyRe   = regexp.MustCompile(`(http://127\.0\.0\.1:\d+/device\?user_code=[A-Z-]+)`)
)

// approveDevice plays the person at the browser: opens the verification
// page, signs in through the real forms and allows the request of the AWS
// CLI (a botocore client).
func approveDevice(t testing.TB, verifyURL, user, password string) {
	t.Helper()
	approveDeviceFor(t, verifyURL, user, password, "botocore-client")
}

// approveDeviceFor is approveDevice for a client whose name contains
// client; the approval page must name it.
func approveDeviceFor(t testing.TB, verifyURL, user, password, client string) {
	t.Helper()
	approveDeviceIn(t, newBrowser(t), verifyURL, user, password, client)
}

// approveDeviceIn is approveDeviceFor in browser b, which keeps the portal
// session cookie of the sign-in.
func approveDeviceIn(t testing.TB, b *browser, verifyURL, user, password, client string) {
	t.Helper()
	b.Get(verifyURL)
	for step := 0; step < 8; step++ {
		if b.Status != 200 {
			t.Fatalf("page %s answered %d:\n%s", b.URL, b.Status, b.Text())
		}
		fields := map[string]bool{}
		for _, f := range b.forms() {
			for k := range f.fields {
				fields[k] = true
			}
		}
		switch {
		case fields["password"]:
			b.Submit(map[string]string{"password": password}, "Sign in")
		case fields["username"]:
			b.Submit(map[string]string{"username": user}, "Next")
		case strings.Contains(b.Body, `value="allow"`):
			if !strings.Contains(b.Text(), client) {
				t.Errorf("the approval page does not name the client:\n%s", b.Text())
			}
			b.Submit(nil, "Allow")
			if b.Status != 200 || !strings.Contains(strings.ToLower(b.Text()), "approved") {
				t.Fatalf("after Allow: %d %s", b.Status, b.Text())
			}
			return
		case fields["user_code"]:
			b.Submit(nil, "Next")
		default:
			t.Fatalf("unexpected page %s:\n%s", b.URL, b.Text())
		}
	}
	t.Fatalf("device approval did not finish; last page %s:\n%s", b.URL, b.Text())
}

// login runs `aws sso login --no-browser` for a profile and approves the
// code it prints as user.
func (c *cli) login(profile, user string) {
	c.t.Helper()
	c.loginWith(profile, user, demoPassword)
}

// loginWith is login for a user whose password is password.
func (c *cli) loginWith(profile, user, password string) {
	c.t.Helper()
	cmd := exec.Command(awsCLI, "sso", "login", "--profile", profile, "--no-browser")
	cmd.Env = c.env
	cmd.Dir = c.home
	term := startTerminal(c.t, cmd)
	out := term.Expect("/device?user_code=", 60*time.Second)
	out += term.Expect("\n", 10*time.Second)
	m := verifyRe.FindStringSubmatch(out)
	if m == nil {
		c.t.Fatalf("no verification URL in:\n%s", out)
	}
	approveDevice(c.t, m[1], user, password)
	term.Expect("Successfully logged into Start URL: "+c.srv.Instance.StartURL, 60*time.Second)
	if err := term.Wait(30 * time.Second); err != nil {
		c.t.Fatalf("aws sso login: %v\n%s", err, term.Output())
	}
}

type callerIdentity struct {
	UserID  string `json:"UserId"`
	Account string `json:"Account"`
	Arn     string `json:"Arn"`
}

func (c *cli) callerIdentity(extraEnv []string, args ...string) (callerIdentity, string, error) {
	c.t.Helper()
	out, err := c.run(extraEnv, append([]string{"sts", "get-caller-identity", "--output", "json"}, args...)...)
	var id callerIdentity
	if err == nil {
		if jerr := json.Unmarshal([]byte(out), &id); jerr != nil {
			c.t.Fatalf("get-caller-identity output is not JSON: %v\n%s", jerr, out)
		}
	}
	return id, out, err
}

func (c *cli) ssoCacheFile(name string) string {
	sum := sha1.Sum([]byte(name))
	return filepath.Join(c.home, ".aws", "sso", "cache", hex.EncodeToString(sum[:])+".json")
}

func demoServer(t testing.TB) *servertest.Server {
	return servertest.New(t, func(c *config.Config) {
		c.Demo = true
		c.Region = "us-east-1"
	})
}

func wantCaller(t testing.TB, id callerIdentity, account, permissionSet, user string) {
	t.Helper()
	arnRe := regexp.MustCompile(`^arn:aws:sts::` + account + `:assumed-role/AWSReservedSSO_` + permissionSet + `_[0-9a-f]{16}/` + regexp.QuoteMeta(user) + `$`)
	if id.Account != account || !arnRe.MatchString(id.Arn) || !regexp.MustCompile(`^AROA[A-Z0-9]{17}:`+regexp.QuoteMeta(user)+`$`).MatchString(id.UserID) {
		t.Fatalf("caller identity = %+v, want account %s, %s role, user %s", id, account, permissionSet, user)
	}
}

func TestCLIConfigureLoginCredentialsRefreshLogout(t *testing.T) {
	srv := demoServer(t)
	c := newCLI(t, srv)
	in := srv.Instance

	// aws configure sso, driven through a pseudo-terminal as a person would.
	cmd := exec.Command(awsCLI, "configure", "sso", "--no-browser")
	cmd.Env = c.env
	cmd.Dir = c.home
	term := startTerminal(t, cmd)
	term.Expect("SSO session name", 30*time.Second)
	term.Send("gatehouse")
	term.Expect("SSO start URL", 10*time.Second)
	term.Send(in.StartURL)
	term.Expect("SSO region", 10*time.Second)
	term.Send(in.Region)
	term.Expect("SSO registration scopes", 10*time.Second)
	term.Send("")
	out := term.Expect("/device?user_code=", 30*time.Second)
	out += term.Expect("\n", 10*time.Second)
	m := verifyRe.FindStringSubmatch(out)
	if m == nil || !userCodeRe.MatchString(out) {
		t.Fatalf("configure sso printed no verification URL and code:\n%s", out)
	}
	approveDevice(t, m[1], "ed.developer", demoPassword)
	term.Expect("There are 2 AWS accounts available to you.", 60*time.Second)
	accounts := term.Expect("(222222222222)", 10*time.Second)
	if !regexp.MustCompile(`> dev, dev@example\.com \(111111111111\)`).MatchString(accounts) {
		t.Fatalf("account picker does not offer dev first:\n%s", accounts)
	}
	term.Send("") // the highlighted first line: dev
	term.Expect("Using the account ID 111111111111", 10*time.Second)
	term.Expect("There are 2 roles available to you.", 30*time.Second)
	term.Expect("ViewOnlyAccess", 10*time.Second)
	if out := term.Output(); !strings.Contains(out, "> PowerUserAccess") {
		t.Fatalf("role picker does not highlight PowerUserAccess first:\n%s", out)
	}
	term.Send("")
	term.Expect("Using the role name \"PowerUserAccess\"", 10*time.Second)
	term.Expect("CLI default client Region", 30*time.Second)
	term.Send("us-east-1")
	term.Expect("CLI default output format", 10*time.Second)
	term.Send("json")
	term.Expect("CLI profile name", 10*time.Second)
	term.Send("dev")
	term.Expect("--profile dev", 30*time.Second)
	if err := term.Wait(30 * time.Second); err != nil {
		t.Fatalf("configure sso: %v\n%s", err, term.Output())
	}

	cfgText, err := os.ReadFile(filepath.Join(c.home, ".aws", "config"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"[profile dev]", "sso_session = gatehouse", "sso_account_id = 111111111111", "sso_role_name = PowerUserAccess",
		"[sso-session gatehouse]", "sso_start_url = " + in.StartURL, "sso_region = " + in.Region} {
		if !strings.Contains(string(cfgText), want) {
			t.Errorf("~/.aws/config lacks %q:\n%s", want, cfgText)
		}
	}
	tokenFile := c.ssoCacheFile("gatehouse")
	if _, err := os.Stat(tokenFile); err != nil {
		t.Fatalf("no token cache file after configure sso: %v", err)
	}

	// Credentials for the configured profile and two more.
	id, out, err := c.callerIdentity(nil, "--profile", "dev")
	if err != nil {
		t.Fatalf("get-caller-identity --profile dev: %v\n%s", err, out)
	}
	wantCaller(t, id, "111111111111", "PowerUserAccess", "ed.developer")
	sess := clientconfig.Session{Name: "gatehouse", StartURL: in.StartURL, Region: in.Region, BaseURL: srv.URL}
	c.appendConfig(clientconfig.Profile{Name: "dev-readonly", AccountID: "111111111111", RoleName: "ViewOnlyAccess", Region: "us-east-1"}.Section(sess) + "\n" +
		clientconfig.Profile{Name: "prod", AccountID: "222222222222", RoleName: "ReadOnlyAccess", Region: "us-east-1"}.Section(sess))
	if id, out, err = c.callerIdentity(nil, "--profile", "dev-readonly"); err != nil {
		t.Fatalf("dev-readonly: %v\n%s", err, out)
	}
	wantCaller(t, id, "111111111111", "ViewOnlyAccess", "ed.developer")
	if id, out, err = c.callerIdentity([]string{"AWS_PROFILE=prod"}); err != nil {
		t.Fatalf("AWS_PROFILE=prod: %v\n%s", err, out)
	}
	wantCaller(t, id, "222222222222", "ReadOnlyAccess", "ed.developer")
	profiles := strings.Fields(c.mustRun("configure", "list-profiles"))
	if strings.Join(profiles, " ") != "dev dev-readonly prod" {
		t.Errorf("list-profiles = %v, want dev dev-readonly prod", profiles)
	}

	// Logout ends the session on the server: the old bearer token and the
	// role credentials issued under it stop working.
	oldToken, err := os.ReadFile(tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	roleCreds := cachedRoleCredentials(t, c)
	c.mustRun("sso", "logout")
	if _, err := os.Stat(tokenFile); !os.IsNotExist(err) {
		t.Fatalf("token cache file still there after logout: %v", err)
	}
	if files, _ := filepath.Glob(filepath.Join(c.home, ".aws", "cli", "cache", "*.json")); len(files) != 0 {
		t.Fatalf("role credential cache survived logout: %v", files)
	}
	if _, out, err = c.callerIdentity(nil, "--profile", "dev"); err == nil || !strings.Contains(out, "Error loading SSO Token") {
		t.Fatalf("get-caller-identity after logout: %v\n%s", err, out)
	}
	// Put the old token back: the server refuses it the way the CLI reports
	// an invalid session.
	if err := os.WriteFile(tokenFile, oldToken, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, out, err = c.callerIdentity(nil, "--profile", "dev"); err == nil || !strings.Contains(out, "The SSO session associated with this profile has expired or is otherwise invalid") {
		t.Fatalf("revoked token: %v\n%s", err, out)
	}
	staticEnv := []string{"AWS_ACCESS_KEY_ID=" + roleCreds.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + roleCreds.SecretAccessKey,
		"AWS_SESSION_TOKEN=" + roleCreds.SessionToken, "AWS_DEFAULT_REGION=us-east-1"}
	if _, out, err = c.callerIdentity(staticEnv); err == nil || !strings.Contains(out, "InvalidClientTokenId") {
		t.Fatalf("role credentials issued before logout: %v\n%s", err, out)
	}

	// Sign in again through the device pages.
	c.login("dev", "ed.developer")
	if id, out, err = c.callerIdentity(nil, "--profile", "dev"); err != nil {
		t.Fatalf("after login: %v\n%s", err, out)
	}
	wantCaller(t, id, "111111111111", "PowerUserAccess", "ed.developer")

	// Refresh: with less than 15 minutes left the CLI refreshes the token
	// before it asks for credentials.
	var tok struct {
		AccessToken  string `json:"accessToken"`
		RefreshToken string `json:"refreshToken"`
		ExpiresAt    string `json:"expiresAt"`
	}
	readToken := func() {
		t.Helper()
		data, err := os.ReadFile(tokenFile)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &tok); err != nil {
			t.Fatal(err)
		}
	}
	readToken()
	before := tok
	if before.RefreshToken == "" {
		t.Fatalf("token cache has no refresh token")
	}
	data, _ := os.ReadFile(tokenFile)
	soon := time.Now().UTC().Add(5 * time.Minute).Format("2006-01-02T15:04:05Z")
	data = []byte(strings.Replace(string(data), before.ExpiresAt, soon, 1))
	if err := os.WriteFile(tokenFile, data, 0o600); err != nil {
		t.Fatal(err)
	}
	removeRoleCredentialCache(t, c)
	if id, out, err = c.callerIdentity(nil, "--profile", "prod"); err != nil {
		t.Fatalf("after refresh: %v\n%s", err, out)
	}
	wantCaller(t, id, "222222222222", "ReadOnlyAccess", "ed.developer")
	readToken()
	if tok.AccessToken == before.AccessToken || tok.RefreshToken == before.RefreshToken || tok.ExpiresAt == soon {
		t.Fatalf("the CLI did not refresh: before %+v after %+v", before, tok)
	}

	// Final logout.
	c.mustRun("sso", "logout")
	if _, out, err = c.callerIdentity(nil, "--profile", "prod"); err == nil || !strings.Contains(out, "Error loading SSO Token") {
		t.Fatalf("after the final logout: %v\n%s", err, out)
	}
}

type roleCredentials struct {
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	SessionToken    string `json:"SessionToken"`
	Expiration      string `json:"Expiration"`
}

// cachedRoleCredentials returns role credentials the CLI cached in
// ~/.aws/cli/cache.
func cachedRoleCredentials(t testing.TB, c *cli) roleCredentials {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(c.home, ".aws", "cli", "cache", "*.json"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var entry struct {
			ProviderType string
			Credentials  roleCredentials
		}
		if json.Unmarshal(data, &entry) == nil && entry.ProviderType == "sso" && strings.HasPrefix(entry.Credentials.AccessKeyID, "ASIA") {
			return entry.Credentials
		}
	}
	t.Fatalf("no cached SSO role credentials in %v", files)
	return roleCredentials{}
}

func removeRoleCredentialCache(t testing.TB, c *cli) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(c.home, ".aws", "cli", "cache", "*.json"))
	for _, f := range files {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
}
