package signin_test

import (
	"encoding/base32"
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

// get fetches path with the browser's cookies.
func (b *browser) get(path string) answer {
	req, err := http.NewRequest("GET", b.srv.URL+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("X-Forwarded-For", b.ip)
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return answer{resp.StatusCode, resp.Header, sb.String()}
}

// registerAtSignIn signs in under the "always" policy as a user without
// a device, registers an authenticator app and returns its seed.
func registerAtSignIn(t *testing.T, b *browser, c *clock) []byte {
	t.Helper()
	a := b.signIn(user, password)
	want(t, a, http.StatusOK, `action="/login/enrol"`)
	m := keyRe.FindStringSubmatch(a.Body)
	if m == nil {
		t.Fatalf("no key:\n%s", a.Body)
	}
	seed, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ReplaceAll(m[1], " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	want(t, b.post("/login/enrol", url.Values{"state": {formState(t, a)}, "code": {mfa.Code(seed, mfa.Step(c.now()))}}), http.StatusSeeOther)
	c.wait(30 * time.Second) // that step's code is used
	return seed
}

func wantRedirect(t *testing.T, a answer, to string) {
	t.Helper()
	if a.Status != http.StatusSeeOther || a.Header.Get("Location") != to {
		t.Fatalf("status %d to %q, want a redirect to %q; body:\n%s", a.Status, a.Header.Get("Location"), to, a.Body)
	}
}

func devices(t *testing.T, srv *servertest.Server) int {
	t.Helper()
	u, err := srv.Store.GetUserByName(t.Context(), user)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := srv.Store.ListMFADevices(t.Context(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return len(ds)
}

var deviceIDRe = regexp.MustCompile(`name="device" value="([^"]+)"`)

// Issue 8: adding or removing an MFA device needs a fresh sign-in (the
// password and, with a device, its code, within 5 minutes); a password
// alone never enrols another device.
func TestMFAChangesNeedFreshSignIn(t *testing.T) {
	srv, c := start(t, nil)
	setPolicy(t, srv, settings.PolicyAlways)
	b := newBrowser(t, srv, "192.0.2.60")
	seed := registerAtSignIn(t, b, c)
	if n := devices(t, srv); n != 1 {
		t.Fatalf("%d devices, want 1", n)
	}
	// Fresh (signed in with the code just now): the page offers a second
	// app.
	want(t, b.get("/mfa"), http.StatusOK, `action="/mfa"`)
	// Six minutes later it is not fresh any more.
	c.wait(6 * time.Minute)
	wantRedirect(t, b.get("/mfa"), "/reauth?next=%2Fmfa")
	account := b.get("/account")
	want(t, account, http.StatusOK, "My sessions and devices", "authenticator app")
	id := deviceIDRe.FindStringSubmatch(account.Body)[1]
	wantRedirect(t, b.post("/account/devices/remove", url.Values{"device": {id}}), "/reauth?next=%2Faccount")
	if n := devices(t, srv); n != 1 {
		t.Fatalf("removed without a fresh sign-in: %d devices", n)
	}
	// The password alone does not make it fresh: the device's code is
	// needed too.
	want(t, b.get("/reauth?next=/mfa"), http.StatusOK, `name="code"`)
	want(t, b.post("/reauth", url.Values{"next": {"/mfa"}, "password": {password}}), http.StatusUnauthorized, "code is not right")
	want(t, b.post("/reauth", url.Values{"next": {"/mfa"}, "password": {"wrong-password"}, "code": {mfa.Code(seed, mfa.Step(c.now()))}}), http.StatusUnauthorized, "Incorrect password")
	wantRedirect(t, b.get("/mfa"), "/reauth?next=%2Fmfa")
	wantRedirect(t, b.post("/reauth", url.Values{"next": {"/mfa"}, "password": {password}, "code": {mfa.Code(seed, mfa.Step(c.now()))}}), "/mfa")
	want(t, b.get("/mfa"), http.StatusOK, `action="/mfa"`)
	// Fresh, but the last device while MFA is required: kept, or the next
	// sign-in would register a new one with the password alone.
	want(t, b.post("/account/devices/remove", url.Values{"device": {id}}), http.StatusConflict, "register another device first")
	if n := devices(t, srv); n != 1 {
		t.Fatalf("last device removed while MFA is required: %d devices", n)
	}
	setPolicy(t, srv, settings.PolicyOff)
	wantRedirect(t, b.post("/account/devices/remove", url.Values{"device": {id}}), "/account?done=removed")
	if n := devices(t, srv); n != 0 {
		t.Fatalf("after removal: %d devices", n)
	}
}

// Issue 8: a phished password signs in on the victim's known browser under
// "new-browser" without a code, but cannot enrol the attacker's device.
func TestPasswordAloneCannotEnrol(t *testing.T) {
	srv, c := start(t, nil)
	setPolicy(t, srv, settings.PolicyAlways)
	b := newBrowser(t, srv, "192.0.2.61")
	registerAtSignIn(t, b, c)
	setPolicy(t, srv, settings.PolicyNewBrowser)
	b.post("/signout", nil)
	want(t, b.signIn(user, password), http.StatusSeeOther) // known browser: no code
	wantRedirect(t, b.get("/mfa"), "/reauth?next=%2Fmfa")
	want(t, b.post("/reauth", url.Values{"next": {"/mfa"}, "password": {password}}), http.StatusUnauthorized)
	wantRedirect(t, b.get("/mfa"), "/reauth?next=%2Fmfa")
	// Nor a security key or passkey, nor the removal of the app.
	wantRedirect(t, b.get("/mfa/key"), "/reauth?next=%2Fmfa%2Fkey")
	wantRedirect(t, b.post("/mfa/key", url.Values{"key_state": {"x"}, "answer": {"{}"}, "name": {"attacker"}}), "/reauth?next=%2Fmfa%2Fkey")
	id := deviceIDRe.FindStringSubmatch(b.get("/account").Body)[1]
	wantRedirect(t, b.post("/account/devices/remove", url.Values{"device": {id}}), "/reauth?next=%2Faccount")
	if n := devices(t, srv); n != 1 {
		t.Fatalf("%d devices, want 1", n)
	}
}

// Issue 8: the sessions and devices page lists the user's sessions and
// ends one; that session's browser is signed out at once.
func TestAccountEndsSessions(t *testing.T) {
	srv, _ := start(t, nil)
	one := newBrowser(t, srv, "192.0.2.70")
	two := newBrowser(t, srv, "192.0.2.71")
	want(t, one.signIn(user, password), http.StatusSeeOther)
	want(t, two.signIn(user, password), http.StatusSeeOther)
	p := one.get("/account")
	want(t, p, http.StatusOK, "This browser", "192.0.2.71", "End session", "You have no MFA device.")
	ids := regexp.MustCompile(`name="session" value="([^"]+)"`).FindAllStringSubmatch(p.Body, -1)
	if len(ids) != 2 {
		t.Fatalf("%d sessions listed, want 2", len(ids))
	}
	// The other browser's session is the one not marked current.
	other := ids[0][1]
	if strings.Index(p.Body, "This browser") < strings.Index(p.Body, ids[0][0]) {
		other = ids[1][1]
	}
	wantRedirect(t, one.post("/account/sessions/end", url.Values{"session": {other}}), "/account?done=ended")
	wantRedirect(t, two.get("/start"), "/login")
	want(t, one.get("/start"), http.StatusOK)
	// A cross-site form is refused.
	req, _ := http.NewRequest("POST", srv.URL+"/account/sessions/end", strings.NewReader("session=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := one.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site end-session form: %d, want 403", resp.StatusCode)
	}
}
