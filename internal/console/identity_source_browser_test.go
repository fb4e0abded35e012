package console_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/browsertest"
	"github.com/gatehouse-dev/gatehouse/internal/idsource"
)

// TestIdentitySourcePageInChromium walks the identity source page in
// Chromium as an administrator does: the forms the kinds' fields make
// (a kind without fields too), a refused save shown with its error, a
// good save with the secret left write-only, the switch's plan and its
// confirmation, and the page after the switch; at the desktop and the
// phone viewport. The screenshots go to GATEHOUSE_SCREENSHOTS when set
// (a temporary folder otherwise):
//
//	GATEHOUSE_SCREENSHOTS=/tmp/shots go test ./internal/console -run TestIdentitySourcePageInChromium
func TestIdentitySourcePageInChromium(t *testing.T) {
	dir := os.Getenv("GATEHOUSE_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	const secret = "chromium-secret-value-77"
	for _, v := range []browsertest.Viewport{browsertest.Desktop, browsertest.Phone} {
		t.Run(v.Name, func(t *testing.T) {
			e := newEnv(t)
			e.srv.Sources.Register(fakeOIDC())
			e.srv.Sources.Register(emptyKind())
			b := browsertest.Start(t)
			b.SetViewport(v)
			shot := func(name string) {
				t.Helper()
				if txt := b.Text(); strings.Contains(txt, secret) {
					t.Fatalf("%s shows the secret:\n%s", name, txt)
				}
				b.Screenshot(filepath.Join(dir, "identity-source-"+name+"-"+v.Name+".png"))
			}
			base := e.srv.URL
			b.Navigate(base + "/login?next=/admin/settings/identity-source")
			b.Fill("username", "admin")
			b.Click(`button[type=submit]`)
			b.Fill("password", password)
			b.Click(`button[type=submit]`)
			b.WaitText("Active source")
			if txt := b.Text(); !strings.Contains(txt, "Built-in directory") || !strings.Contains(txt, "https://gatehouse.example/oidc/callback") ||
				!strings.Contains(txt, "This source has no settings.") {
				t.Fatalf("identity source page:\n%s", txt)
			}
			shot("page")

			save := `form[action="/admin/settings/identity-source/oidc"] button[type=submit]`
			b.Fill("f-oidc-issuer", "http://idp.example")
			b.Fill("f-oidc-secret", secret)
			b.Click(save)
			b.WaitText("The issuer must be an https URL")
			if got := b.Eval(`document.getElementById("f-oidc-secret").value`); got != "" {
				t.Errorf("the refused form gave the secret back: %q", got)
			}
			shot("refused")

			b.Fill("f-oidc-issuer", "https://idp.example")
			b.Fill("f-oidc-claims", "groups\nemail")
			b.Fill("f-oidc-secret", secret)
			b.Eval(`document.getElementById("f-oidc-preset").value = "entra"`)
			b.Click(save)
			b.WaitText("Identity source settings saved.")
			if !strings.Contains(b.Text(), "Stored — leave empty to keep it.") {
				t.Errorf("saved page:\n%s", b.Text())
			}
			if got, _, err := e.srv.Sources.Settings(t.Context(), idsource.OIDC); err != nil || got["preset"] != "entra" || got["claims"] != "groups\nemail" {
				t.Fatalf("stored settings %v, %v", got, err)
			}
			shot("saved")

			b.Click(`form[action="/admin/settings/identity-source/oidc/switch"] button`)
			b.WaitText("What the switch changes")
			if txt := b.Text(); !strings.Contains(txt, "Matched to existing users (1)") || !strings.Contains(txt, "People sign in at the identity provider") {
				t.Fatalf("plan page:\n%s", txt)
			}
			shot("plan")
			b.ClickNoWait(`input[name=confirm]`)
			b.Click(`form[action="/admin/settings/identity-source/oidc/switch"] button[type=submit]`)
			b.WaitText("Identity source switched.")
			if a, _ := e.srv.Sources.ActiveKind(t.Context()); a != idsource.OIDC {
				t.Fatalf("active = %s after the switch", a)
			}
			shot("switched")
		})
	}
}

// TestIdentitySourcePageRealKinds renders the identity source page with
// the kinds the server registers itself (wireSources): every kind's title
// and every field's label is on the page, in Chromium.
func TestIdentitySourcePageRealKinds(t *testing.T) {
	dir := os.Getenv("GATEHOUSE_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	e := newEnv(t)
	b := browsertest.Start(t)
	b.Navigate(e.srv.URL + "/login?next=/admin/settings/identity-source")
	b.Fill("username", "admin")
	b.Click(`button[type=submit]`)
	b.Fill("password", password)
	b.Click(`button[type=submit]`)
	b.WaitText("Active source")
	txt := b.Text()
	for _, k := range e.srv.Sources.Kinds() {
		if !strings.Contains(txt, k.Title) {
			t.Errorf("the page lacks kind %s (%s)", k.Name, k.Title)
		}
		for _, f := range k.Fields {
			label := f.Label
			if label == "" {
				label = f.Name
			}
			if !strings.Contains(txt, label) {
				t.Errorf("the page lacks field %s of %s", label, k.Name)
			}
		}
	}
	b.Screenshot(filepath.Join(dir, "identity-source-real-kinds-desktop.png"))
}
