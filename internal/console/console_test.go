package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestSignedOutRedirectsToLogin(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	p := b.get("/admin/users?q=x")
	wantStatus(t, p, http.StatusSeeOther)
	if want := "/login?next=" + url.QueryEscape("/admin/users?q=x"); p.Location() != want {
		t.Fatalf("redirect to %q, want %q", p.Location(), want)
	}
	// After the sign-in, the browser comes back to the console.
	p = b.get(p.Location())
	p = b.submit(p, "/login", url.Values{"username": {"admin"}})
	p = b.submit(p, "/login/password", url.Values{"password": {password}})
	if p.Location() != "/admin/users?q=x" {
		t.Fatalf("after sign-in: %d %q", p.Status, p.Location())
	}
}

func TestAdminUsersPage(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn("admin")
	p := b.get("/admin/users")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "reader", "dev", `action="/admin/users"`)
	for k, want := range map[string]string{
		"Cache-Control": "no-store", "X-Frame-Options": "DENY",
	} {
		if got := p.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if csp := p.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP %q", csp)
	}
	p = b.get("/admin/users?q=read")
	if strings.Contains(p.Body, ">dev<") || !strings.Contains(p.Body, ">reader<") {
		t.Errorf("search for read:\n%s", p.Body)
	}
}
