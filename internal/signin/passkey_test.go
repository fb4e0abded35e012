package signin_test

import (
	"html"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/mfa/mfatest"
	"github.com/gatehouse-dev/gatehouse/internal/settings"
)

var (
	optionsRe  = regexp.MustCompile(`data-options="([^"]+)"`)
	keyStateRe = regexp.MustCompile(`name="key_state" value="([^"]+)"`)
)

// ceremonyOf returns the WebAuthn options and sealed ceremony of a page's
// form posting to action.
func ceremonyOf(t *testing.T, a answer, action string) ([]byte, string) {
	t.Helper()
	i := regexp.MustCompile(`action="` + regexp.QuoteMeta(action) + `" data-webauthn`).FindStringIndex(a.Body)
	if i == nil {
		t.Fatalf("no WebAuthn form for %s:\n%s", action, a.Body)
	}
	rest := a.Body[i[0]:]
	o, st := optionsRe.FindStringSubmatch(rest), keyStateRe.FindStringSubmatch(rest)
	if o == nil || st == nil {
		t.Fatalf("form for %s lacks options or state", action)
	}
	return []byte(html.UnescapeString(o[1])), html.UnescapeString(st[1])
}

// Issue 8: a passkey registered on /mfa/key signs in without a password
// through the real handlers (RP ID localhost, origin the base URL), and
// serves as the second step after a password; "off" turns passwordless
// sign-in off.
func TestPasskeyThroughHandlers(t *testing.T) {
	srv, c := start(t, func(cfg *config.Config) {
		_, port, _ := net.SplitHostPort(cfg.Listen)
		cfg.PublicURL = "http://localhost:" + port
	})
	setPolicy(t, srv, settings.PolicyAlways)
	u, err := srv.Store.GetUserByName(t.Context(), user)
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, srv, "192.0.2.80")
	registerAtSignIn(t, b, c)
	k := mfatest.NewSoftKey(t, "localhost", srv.URL)
	p := b.get("/mfa/key")
	want(t, p, http.StatusOK, `data-webauthn="create"`, `<script src="/static/webauthn.js" defer></script>`)
	opts, st := ceremonyOf(t, p, "/mfa/key")
	want(t, b.post("/mfa/key", url.Values{"key_state": {st}, "answer": {string(k.Create(t, opts))}, "name": {"Laptop"}}), http.StatusOK, "is registered")

	// Passwordless.
	k.Count = 1
	nb := newBrowser(t, srv, "192.0.2.81")
	p = nb.get("/login")
	opts, st = ceremonyOf(t, p, "/login/passkey")
	want(t, nb.post("/login/passkey", url.Values{"key_state": {st}, "answer": {string(k.Get(t, opts, u.ID))}}), http.StatusSeeOther)
	want(t, nb.get("/start"), http.StatusOK)
	// The same answer again is refused.
	want(t, newBrowser(t, srv, "192.0.2.81").post("/login/passkey", url.Values{"key_state": {st}, "answer": {string(k.Get(t, opts, u.ID))}}), http.StatusUnauthorized)

	// Second step after the password.
	k.Count = 2
	sb := newBrowser(t, srv, "192.0.2.82")
	p = sb.signIn(user, password)
	want(t, p, http.StatusOK, `action="/login/mfa"`)
	opts, st = ceremonyOf(t, p, "/login/key")
	want(t, sb.post("/login/key", url.Values{"state": {formState(t, p)}, "key_state": {st}, "answer": {string(k.Get(t, opts, u.ID))}}), http.StatusSeeOther)

	// "off": no passkey button, and the handler refuses.
	setPolicy(t, srv, settings.PolicyOff)
	p = newBrowser(t, srv, "192.0.2.83").get("/login")
	if optionsRe.MatchString(p.Body) {
		t.Error("passkey offered with the MFA policy off")
	}
	want(t, newBrowser(t, srv, "192.0.2.83").post("/login/passkey", url.Values{"key_state": {st}, "answer": {"{}"}}), http.StatusForbidden)
}

// Issue 8: "register an authenticator at sign-in" also takes a security
// key or passkey instead of an authenticator app.
func TestRegisterKeyAtSignIn(t *testing.T) {
	srv, _ := start(t, func(cfg *config.Config) {
		_, port, _ := net.SplitHostPort(cfg.Listen)
		cfg.PublicURL = "http://localhost:" + port
	})
	setPolicy(t, srv, settings.PolicyAlways)
	u, err := srv.Store.GetUserByName(t.Context(), user)
	if err != nil {
		t.Fatal(err)
	}
	k := mfatest.NewSoftKey(t, "localhost", srv.URL)
	b := newBrowser(t, srv, "192.0.2.90")
	p := b.signIn(user, password)
	want(t, p, http.StatusOK, `action="/login/enrol"`)
	opts, st := ceremonyOf(t, p, "/login/enrol/key")
	bad := *k
	bad.Origin = "http://evil.example"
	want(t, b.post("/login/enrol/key", url.Values{"state": {formState(t, p)}, "key_state": {st}, "answer": {string(bad.Create(t, opts))}}), http.StatusUnauthorized, "was not registered")
	if n := devices(t, srv); n != 0 {
		t.Fatalf("a refused key was stored: %d devices", n)
	}
	p = b.signIn(user, password)
	opts, st = ceremonyOf(t, p, "/login/enrol/key")
	want(t, b.post("/login/enrol/key", url.Values{"state": {formState(t, p)}, "key_state": {st}, "answer": {string(k.Create(t, opts))}}), http.StatusSeeOther)
	if n := devices(t, srv); n != 1 {
		t.Fatalf("%d devices, want 1", n)
	}
	// The passkey now signs in alone.
	k.Count = 1
	nb := newBrowser(t, srv, "192.0.2.91")
	opts, st = ceremonyOf(t, nb.get("/login"), "/login/passkey")
	want(t, nb.post("/login/passkey", url.Values{"key_state": {st}, "answer": {string(k.Get(t, opts, u.ID))}}), http.StatusSeeOther)
}
