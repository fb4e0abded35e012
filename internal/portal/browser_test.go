package portal_test

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"

	"github.com/gatehouse-dev/gatehouse/internal/browsertest"
)

// screenshot saves a full-page PNG of the browser's page under
// $GATEHOUSE_SCREENSHOT_DIR when set.
func screenshot(c *browsertest.Browser, name string) {
	if dir := os.Getenv("GATEHOUSE_SCREENSHOT_DIR"); dir != "" {
		c.Screenshot(filepath.Join(dir, name+".png"))
	}
}

// TestBrowser drives the sign-in, device approval and PKCE consent pages in
// a real Chromium, with the pages' real Content-Security-Policy in force:
// in particular, the consent form's answer (a 302 to the CLI's loopback
// listener) must not be blocked by form-action.
func TestBrowser(t *testing.T) {
	c := browsertest.Start(t)
	e := newEnv(t)
	ctx := t.Context()

	// Device flow, as `aws sso login --use-device-code` opens it.
	id, secret := e.deviceClient("botocore-client-corp")
	start, err := e.oidcC.StartDeviceAuthorization(ctx, &ssooidc.StartDeviceAuthorizationInput{
		ClientId: aws.String(id), ClientSecret: aws.String(secret), StartUrl: aws.String(e.w.Instance.StartURL),
	})
	if err != nil {
		t.Fatal(err)
	}
	c.Navigate(aws.ToString(start.VerificationUriComplete))
	if !strings.Contains(c.Path(), "/login") {
		t.Fatalf("device page while signed out is at %s", c.URL())
	}
	screenshot(c, "signin-username")
	c.Fill("username", "alice")
	c.Click(`button[type=submit]`)
	screenshot(c, "signin-password")
	c.Fill("password", alicePassword)
	c.Click(`button[type=submit]`)
	if txt := c.Text(); !strings.Contains(txt, "Did you start this sign-in from botocore-client-corp?") {
		t.Fatalf("after sign-in: %s\n%s", c.URL(), txt)
	}
	screenshot(c, "device-confirm")
	c.Click(`button[value=allow]`)
	if !strings.Contains(c.Text(), "Request approved") {
		t.Fatalf("after Allow: %s", c.Text())
	}
	screenshot(c, "device-approved")
	e.wait(time.Duration(start.Interval+1) * time.Second)
	if _, err := e.oidcC.CreateToken(ctx, &ssooidc.CreateTokenInput{
		ClientId: aws.String(id), ClientSecret: aws.String(secret), DeviceCode: start.DeviceCode,
		GrantType: aws.String("urn:ietf:params:oauth:grant-type:device_code"),
	}); err != nil {
		t.Fatalf("CreateToken after browser approval: %v", err)
	}

	c.Navigate(e.url + "/start")
	if !strings.Contains(c.Text(), prodAccount) {
		t.Errorf("home page: %s", c.Text())
	}
	screenshot(c, "home")

	// PKCE: consent, then the browser follows the 302 to the loopback.
	cb := newCallback(t)
	pid, _ := e.pkceClient("botocore-client-corp")
	_, challenge := pkceChallenge()
	c.Navigate(e.url + "/authorize?" + authorizeQuery(pid, cb.redirectURI(), "browser-state", challenge))
	if !strings.Contains(c.Text(), "Allow botocore-client-corp to access your AWS accounts?") {
		t.Fatalf("consent page: %s", c.Text())
	}
	screenshot(c, "consent")
	c.Click(`button[value=allow]`)
	q := cb.last()
	if q == nil || q.Get("code") == "" || q.Get("state") != "browser-state" {
		t.Fatalf("loopback listener got %v; browser at %s: %s", q, c.URL(), c.Text())
	}

	// Error pages.
	c.Navigate(e.url + "/authorize?client_id=nope&redirect_uri=" + url.QueryEscape("http://evil.example/"))
	if !strings.Contains(c.Text(), "This link is not valid") || !strings.HasPrefix(c.URL(), e.url) {
		t.Errorf("bad authorize: at %s: %s", c.URL(), c.Text())
	}
	screenshot(c, "error-invalid-link")

	// Sign out with the button.
	c.Navigate(e.url + "/start")
	c.Click(`form.signout button`)
	if !strings.Contains(c.Path(), "/login") {
		t.Errorf("after sign-out at %s", c.URL())
	}
	if p := e.browser().get("/start"); p.Status != http.StatusSeeOther {
		t.Errorf("fresh client /start: %d", p.Status)
	}
}
