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
		Issuer: o.Issuer, Cache: o.Cache, PortalSessionDuration: o.PortalSessionDuration,
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
	c := rec.Result().Cookies()
	if len(c) != 1 || !c[0].Secure || !c[0].HttpOnly || c[0].SameSite != http.SameSiteLaxMode {
		t.Errorf("cookie over https: %+v", c)
	}
}
