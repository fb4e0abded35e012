package e2e

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/clientconfig"
)

// TestCLIStartURLWithFragment signs in with the start URL as AWS's portal
// hands it out in places, "https://d-…awsapps.com/start/#": Gatehouse
// compares start URLs as identifiers, so the CLI's StartDeviceAuthorization
// with that string is the instance's.
func TestCLIStartURLWithFragment(t *testing.T) {
	srv := demoServer(t)
	c := newCLI(t, srv)
	startURL := srv.Instance.StartURL + "/#"
	sess := clientconfig.Session{Name: "fragment", StartURL: startURL, Region: srv.Instance.Region, BaseURL: srv.URL}
	c.appendConfig(sess.SessionSection() + "\n" +
		clientconfig.Profile{Name: "dev", AccountID: "111111111111", RoleName: "PowerUserAccess", Region: "us-east-1"}.Section(sess))

	cmd := exec.Command(awsCLI, "sso", "login", "--profile", "dev", "--no-browser")
	cmd.Env = c.env
	cmd.Dir = c.home
	term := startTerminal(t, cmd)
	out := term.Expect("/device?user_code=", 60*time.Second)
	out += term.Expect("\n", 10*time.Second)
	m := verifyRe.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no verification URL in:\n%s", term.Output())
	}
	approveDevice(t, m[1], "ed.developer", demoPassword)
	term.Expect("Successfully logged into Start URL: "+startURL, 60*time.Second)
	if err := term.Wait(30 * time.Second); err != nil {
		t.Fatalf("aws sso login: %v\n%s", err, term.Output())
	}
	id, out, err := c.callerIdentity(nil, "--profile", "dev")
	if err != nil {
		t.Fatalf("get-caller-identity: %v\n%s", err, out)
	}
	wantCaller(t, id, "111111111111", "PowerUserAccess", "ed.developer")
}

// errorLineRe is how botocore prints a service error; the message is what
// follows the colon.
var errorLineRe = regexp.MustCompile(`An error occurred \((\w+)\) when calling the (\w+) operation: ?(.*)`)

// TestCLIErrorMessages checks that the Debian CLI 2.9 prints the text of
// sso-oidc errors: botocore takes it from the body's "message", which AWS's
// own sso-oidc errors lack. The portal address given as the start URL (the
// usual mistake) is refused with a message naming the real start URL.
func TestCLIErrorMessages(t *testing.T) {
	srv := demoServer(t)
	c := newCLI(t, srv)
	portal := srv.URL + "/start"
	sess := clientconfig.Session{Name: "wrong", StartURL: portal, Region: srv.Instance.Region, BaseURL: srv.URL}
	c.appendConfig(sess.SessionSection() + "\n" +
		clientconfig.Profile{Name: "wrong", AccountID: "111111111111", RoleName: "PowerUserAccess", Region: "us-east-1"}.Section(sess))
	out, err := c.run(nil, "sso", "login", "--profile", "wrong", "--no-browser")
	if err == nil {
		t.Fatalf("aws sso login with the portal address as start URL succeeded:\n%s", out)
	}
	m := errorLineRe.FindStringSubmatch(out)
	if m == nil || m[1] != "InvalidRequestException" || m[2] != "StartDeviceAuthorization" {
		t.Fatalf("aws sso login did not report StartDeviceAuthorization's InvalidRequestException:\n%s", out)
	}
	for _, want := range []string{"Unknown start URL " + portal, srv.Instance.StartURL, "not the start URL"} {
		if !strings.Contains(m[3], want) {
			t.Errorf("the CLI's error message %q does not contain %q", m[3], want)
		}
	}
}

// botocoreErrors makes sso-oidc and portal calls that fail and prints each
// error as botocore formats it, one per line.
const botocoreErrors = `
import sys, botocore.session
from botocore.config import Config
s = botocore.session.Session()
cfg = Config(signature_version=botocore.UNSIGNED, retries={"max_attempts": 1})
oidc = s.create_client("sso-oidc", region_name="us-east-1", endpoint_url=sys.argv[1], config=cfg)
sso = s.create_client("sso", region_name="us-east-1", endpoint_url=sys.argv[1], config=cfg)
reg = oidc.register_client(clientName="botocore-errors", clientType="public", scopes=["sso:account:access"])
calls = [
    lambda: oidc.start_device_authorization(clientId=reg["clientId"], clientSecret=reg["clientSecret"], startUrl=sys.argv[2]),
    lambda: oidc.create_token(clientId=reg["clientId"], clientSecret=reg["clientSecret"], grantType="refresh_token", refreshToken="aor-unknown"),
    lambda: oidc.create_token(clientId=reg["clientId"], clientSecret="wrong", grantType="refresh_token", refreshToken="aor-unknown"),
    lambda: sso.list_accounts(accessToken="aoa-unknown"),
]
for call in calls:
    try:
        call()
        print("no error")
    except Exception as e:
        print(str(e))
`

// TestBotocoreErrorMessages checks that botocore's error strings for
// sso-oidc and portal errors carry text after the colon.
func TestBotocoreErrorMessages(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skipf("python3 is not installed: %v", err)
	}
	srv := demoServer(t)
	cmd := exec.Command(python, "-c", botocoreErrors, srv.URL, srv.URL+"/start")
	cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=/usr/bin:/bin", "HTTPS_PROXY=http://127.0.0.1:9", "NO_PROXY=127.0.0.1", "AWS_EC2_METADATA_DISABLED=true"}
	outBytes, err := cmd.CombinedOutput()
	out := string(outBytes)
	if err != nil {
		t.Fatalf("botocore script: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	want := []struct{ code, op, text string }{
		{"InvalidRequestException", "StartDeviceAuthorization", "Unknown start URL " + srv.URL + "/start. This Gatehouse's start URL is " + srv.Instance.StartURL},
		{"InvalidGrantException", "CreateToken", "Invalid refresh token."},
		{"InvalidClientException", "CreateToken", "Invalid client credentials."},
		{"UnauthorizedException", "ListAccounts", "Session token not found or invalid"},
	}
	if len(lines) != len(want) {
		t.Fatalf("botocore printed %d lines, want %d:\n%s", len(lines), len(want), out)
	}
	for i, w := range want {
		m := errorLineRe.FindStringSubmatch(lines[i])
		if m == nil || m[1] != w.code || m[2] != w.op || !strings.Contains(m[3], w.text) {
			t.Errorf("botocore printed %q, want %s from %s with %q after the colon", lines[i], w.code, w.op, w.text)
		}
	}
}
