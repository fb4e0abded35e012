package console_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/awsaccounts/mototest"
	"github.com/gatehouse-dev/gatehouse/internal/browsertest"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// TestAccountLinkPageInChromium links an account to a real moto_server
// from the account page in Chromium, at the desktop and the phone
// viewport: the local page with its form, the link, and the linked page
// with its status. The secret field comes back empty and the secret shows
// nowhere. Screenshots go to GATEHOUSE_SCREENSHOTS when set:
//
//	GATEHOUSE_SCREENSHOTS=/tmp/shots go test ./internal/console -run TestAccountLinkPageInChromium
func TestAccountLinkPageInChromium(t *testing.T) {
	dir := os.Getenv("GATEHOUSE_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	moto := mototest.Start(t)
	const sandbox, secret = "555555555555", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYCHROMIUMK"
	for _, v := range []browsertest.Viewport{browsertest.Desktop, browsertest.Phone} {
		t.Run(v.Name, func(t *testing.T) {
			e := newEnvWith(t, func(c *config.Config) { c.AWSEndpointAllow = []string{moto.URL} })
			meta := mototest.IdPMetadata(t, e.srv.URL)
			e.srv.AWSAccounts.IdPMetadata = func(context.Context) (string, error) { return meta, nil }
			if _, err := e.srv.Access.CreateAccount(t.Context(), sandbox, "Sandbox", "sandbox@example.com"); err != nil {
				t.Fatal(err)
			}
			b := browsertest.Start(t)
			b.SetViewport(v)
			shot := func(name string) {
				t.Helper()
				if txt := b.Text(); strings.Contains(txt, secret) {
					t.Fatalf("%s shows the secret:\n%s", name, txt)
				}
				b.Screenshot(filepath.Join(dir, "account-link-"+name+"-"+v.Name+".png"))
			}
			b.Navigate(e.srv.URL + "/login?next=/admin/accounts/" + sandbox)
			b.Fill("username", "admin")
			b.Click(`button[type=submit]`)
			b.Fill("password", password)
			b.Click(`button[type=submit]`)
			b.WaitText("Local: credentials for this account")
			shot("local")

			b.Fill("endpoint", moto.URL)
			b.Fill("access-key-id", "AKIAIOSFODNN7EXAMPLE")
			b.Fill("secret-access-key", secret)
			b.Click(`form[action="/admin/accounts/` + sandbox + `/link"] button[type=submit]`)
			b.WaitText("Account linked")
			txt := b.Text()
			if !strings.Contains(txt, "Linked to AWS account "+sandbox+" (endpoint "+moto.URL+") — ACTIVE") {
				t.Fatalf("linked page:\n%s", txt)
			}
			if got := b.Eval(`document.getElementById("secret-access-key").value`); got != "" {
				t.Errorf("the page gave the secret back: %q", got)
			}
			if l, err := e.srv.Store.GetAccountLink(t.Context(), sandbox); err != nil || l.Status != store.LinkActive {
				t.Fatalf("stored link %+v, %v", l, err)
			}
			shot("linked")
		})
	}
}
