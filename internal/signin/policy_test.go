package signin_test

import (
	"encoding/base32"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/mfa"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
	"github.com/gatehouse-dev/gatehouse/internal/settings"
)

var (
	keyRe = regexp.MustCompile(`<code class="secret"[^>]*>((?:[A-Z2-7]{4} )*[A-Z2-7]{1,4})</code>`)
	qrRe  = regexp.MustCompile(`<img class="qr" src="data:image/png;base64,[A-Za-z0-9+/=&#;]+"`)
)

// setPolicy stores the MFA policy with the default session length.
func setPolicy(t *testing.T, srv *servertest.Server, policy string) {
	t.Helper()
	if err := srv.Settings.Put(t.Context(), settings.Settings{MFAPolicy: policy, PortalSessionDuration: 8 * time.Hour}); err != nil {
		t.Fatal(err)
	}
}

// formState returns the sealed state of a page's form.
func formState(t *testing.T, a answer) string {
	t.Helper()
	m := stateRe.FindStringSubmatch(a.Body)
	if m == nil {
		t.Fatalf("no state:\n%s", a.Body)
	}
	return html.UnescapeString(m[1])
}

// Issue 8: with MFA always required, a user without an authenticator
// registers one after the password step (QR code and grouped key), before
// the session starts; the code used to register cannot sign in again.
func TestRegisterAuthenticatorAtSignIn(t *testing.T) {
	srv, c := start(t, nil)
	setPolicy(t, srv, settings.PolicyAlways)
	b := newBrowser(t, srv, "192.0.2.40")
	a := b.signIn(user, password)
	want(t, a, http.StatusOK, `action="/login/enrol"`, "Register an authenticator app")
	if !qrRe.MatchString(a.Body) {
		t.Fatalf("no QR code:\n%s", a.Body)
	}
	if a.Header.Get("Set-Cookie") != "" {
		t.Fatalf("a session started before the second factor: %q", a.Header.Values("Set-Cookie"))
	}
	if csp := a.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self' data:") {
		t.Errorf("CSP %q does not allow the QR code", csp)
	}
	m := keyRe.FindStringSubmatch(a.Body)
	if m == nil {
		t.Fatalf("no grouped key:\n%s", a.Body)
	}
	seed, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ReplaceAll(m[1], " ", ""))
	if err != nil || len(seed) != mfa.SeedSize {
		t.Fatalf("key %q: %v", m[1], err)
	}
	state := formState(t, a)
	code := mfa.Code(seed, mfa.Step(c.now()))
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	a = b.post("/login/enrol", url.Values{"state": {state}, "code": {wrong}})
	want(t, a, http.StatusUnauthorized, "That code is not right", `action="/login/enrol"`)
	a = b.post("/login/enrol", url.Values{"state": {state}, "code": {code}})
	want(t, a, http.StatusSeeOther)
	if b.cookie("gatehouse_device") == nil {
		t.Fatal("no session started")
	}
	// The state cannot register a second device.
	a = b.post("/login/enrol", url.Values{"state": {state}, "code": {mfa.Code(seed, mfa.Step(c.now())+1)}})
	want(t, a, http.StatusBadRequest)

	// Next sign-in asks for the code; the one used to register is refused
	// (TOTP replay), the next one works.
	b2 := newBrowser(t, srv, "192.0.2.41")
	a = b2.signIn(user, password)
	want(t, a, http.StatusOK, `action="/login/mfa"`)
	state = formState(t, a)
	a = b2.post("/login/mfa", url.Values{"state": {state}, "code": {code}})
	want(t, a, http.StatusUnauthorized, "already used")
	c.wait(30 * time.Second)
	a = b2.post("/login/mfa", url.Values{"state": {state}, "code": {mfa.Code(seed, mfa.Step(c.now()))}})
	want(t, a, http.StatusSeeOther)
}

// Issue 8: "new-browser" asks for the code only on a browser without the
// user's known-device cookie; "off" asks only users who registered one.
func TestMFAPolicyNewBrowser(t *testing.T) {
	srv, c := start(t, nil)
	seed := enrolTOTP(t, srv, c)
	setPolicy(t, srv, settings.PolicyNewBrowser)
	b := newBrowser(t, srv, "192.0.2.50")
	a := b.signIn(user, password)
	want(t, a, http.StatusOK, `action="/login/mfa"`)
	a = b.post("/login/mfa", url.Values{"state": {formState(t, a)}, "code": {mfa.Code(seed, mfa.Step(c.now()))}})
	want(t, a, http.StatusSeeOther)
	// The same browser (known-device cookie) signs in with the password.
	b.post("/signout", nil)
	want(t, b.signIn(user, password), http.StatusSeeOther)
	// A new browser is asked again.
	want(t, newBrowser(t, srv, "192.0.2.50").signIn(user, password), http.StatusOK, `action="/login/mfa"`)

	// "off": a user with an authenticator is still asked for it; one
	// without signs in with the password.
	setPolicy(t, srv, settings.PolicyOff)
	want(t, newBrowser(t, srv, "192.0.2.51").signIn(user, password), http.StatusOK, `action="/login/mfa"`)
	want(t, newBrowser(t, srv, "192.0.2.51").signIn("alice@company.com", password), http.StatusSeeOther)
	// "always": the known device does not help.
	setPolicy(t, srv, settings.PolicyAlways)
	want(t, b.signIn(user, password), http.StatusOK, `action="/login/mfa"`)
}
