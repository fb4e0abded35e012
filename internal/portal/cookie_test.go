package portal_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/portal"
)

func TestCookieSecureOverHTTPS(t *testing.T) {
	e := newEnv(t)
	// The same service, as it would be configured behind https.
	o := e.portal
	svc := &portal.Service{
		Store: o.Store, Keys: o.Keys, Audit: o.Audit, IDs: o.IDs, Now: o.Now, Rand: o.Rand, Log: o.Log,
		Instance: o.Instance, BaseURL: "https://portal.example", Directory: o.Directory, OIDC: o.OIDC,
		Issuer: o.Issuer, Cache: o.Cache, SignIn: o.SignIn, MFA: o.MFA,
	}
	mux := http.NewServeMux()
	svc.Register(mux)
	form := url.Values{"username": {"alice"}, "password": {alicePassword}}
	req := httptest.NewRequest("POST", "https://portal.example/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("sign-in: %d\n%s", rec.Code, rec.Body)
	}
	// The session cookie and the known-device cookie (issue 9 item 5 added
	// it), and the removal of the known-device cookie earlier versions set
	// for /login alone, are all Secure, HttpOnly and SameSite=Lax.
	c := rec.Result().Cookies()
	names := map[string]bool{}
	for _, c := range c {
		names[c.Name] = true
		if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
			t.Errorf("cookie over https: %+v", c)
		}
	}
	if len(c) != 3 || !names[portal.CookieName] || !names["gatehouse_device"] {
		t.Errorf("cookies over https: %+v", c)
	}
}
