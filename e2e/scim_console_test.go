package e2e

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/browsertest"
)

// TestSCIMConsoleChromium drives the "Automatic provisioning (SCIM)" page
// in Chromium as the demo administrator: the page shows the SCIM endpoint,
// generating a token shows it once (pictured, and checked for
// accessibility), the token works at the endpoint, and revoking it from the
// page refuses it at once. The picture goes where TestScreenshots' go
// (GATEHOUSE_SCREENSHOTS), else to a temporary folder.
func TestSCIMConsoleChromium(t *testing.T) {
	dir := t.TempDir()
	if d := os.Getenv("GATEHOUSE_SCREENSHOTS"); d != "" {
		dir = d
		if !filepath.IsAbs(dir) {
			dir = filepath.Join("..", dir)
		}
	}
	srv := screenshotServer(t)
	s := &shooter{t: t, srv: srv, base: srv.HTTP.URL, b: browsertest.Start(t)}
	s.b.Navigate(s.base + "/start")
	s.signIn()
	s.b.Navigate(s.base + "/admin/settings")
	s.b.Click(`a[href="/admin/settings/scim"]`)
	s.b.WaitText("Automatic provisioning (SCIM)")
	if got := s.b.Eval(`document.getElementById("scim-endpoint").textContent`); got != screenshotPublicURL+"/scim/v2" {
		t.Fatalf("endpoint shown %q, want %s/scim/v2", got, screenshotPublicURL)
	}
	checkAccessible(t, s.b, "admin-scim (empty)")

	s.b.Fill("description", "Okta production")
	s.b.Fill("days", "90")
	s.b.Click(`form[action="/admin/settings/scim"] button[type=submit]`)
	s.b.WaitText("shown only this once")
	token := s.b.Eval(`document.getElementById("new-token").value`)
	if !strings.HasPrefix(token, "ghscim_") {
		t.Fatalf("new token %q", token)
	}
	if !strings.HasSuffix(s.b.Path(), "/admin/settings/scim") || strings.Contains(s.b.URL(), token) {
		t.Fatalf("the token page is at %s", s.b.URL())
	}
	checkAccessible(t, s.b, "admin-scim")
	for _, v := range []browsertest.Viewport{browsertest.Desktop, browsertest.Phone} {
		s.b.SetViewport(v)
		path := filepath.Join(dir, "admin-scim-"+v.Name+".png")
		s.b.Screenshot(path)
		checkPNG(t, path, v)
	}
	s.b.SetViewport(browsertest.Desktop)

	status := func() int {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), "GET", s.base+"/scim/v2/Users", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := status(); got != http.StatusOK {
		t.Fatalf("the page's token at the SCIM endpoint: %d", got)
	}
	// A reload never shows the token again.
	s.b.Navigate(s.base + "/admin/settings/scim")
	if strings.Contains(s.b.Text(), token) {
		t.Fatal("the token is shown again")
	}
	s.b.ClickNoWait(`form.confirm input[name=confirm]`)
	s.b.Click(`form.confirm button.danger`)
	s.b.WaitText("Access token revoked")
	if got := status(); got != http.StatusUnauthorized {
		t.Fatalf("a token revoked on the page at the SCIM endpoint: %d", got)
	}
}
