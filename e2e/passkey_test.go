package e2e

import (
	"encoding/base32"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/gatehouse-dev/gatehouse/internal/browsertest"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/keyring"
	"github.com/gatehouse-dev/gatehouse/internal/mfa"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
	"github.com/gatehouse-dev/gatehouse/internal/settings"
	"github.com/gatehouse-dev/gatehouse/internal/signin"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// passkeyServer is a demo server whose public URL is a host name
// (WebAuthn refuses an IP address as the relying party's ID, W3C WebAuthn
// §5.1.3) with the MFA policy "always" (a fresh instance's default), on a
// clock the test can move.
func passkeyServer(t *testing.T) (*servertest.Server, *shiftedClock) {
	t.Helper()
	clk := &shiftedClock{}
	srv := servertest.New(t, func(c *config.Config) {
		c.Now = clk.Now
		c.Demo = true
		c.Region = "us-east-1"
		_, port, _ := net.SplitHostPort(c.Listen)
		c.PublicURL = "http://localhost:" + port
	})
	set, err := srv.Settings.Get(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	set.MFAPolicy = settings.PolicyAlways
	if err := srv.Settings.Put(t.Context(), set); err != nil {
		t.Fatal(err)
	}
	return srv, clk
}

// keyDevice returns the user's one WEBAUTHN device and the signature
// counter stored with its credential.
func keyDevice(t *testing.T, srv *servertest.Server, userID string) (store.MFADevice, uint32) {
	t.Helper()
	ds, err := srv.Store.ListMFADevices(t.Context(), userID)
	if err != nil {
		t.Fatal(err)
	}
	var keys []store.MFADevice
	for _, d := range ds {
		if d.Type == "WEBAUTHN" {
			keys = append(keys, d)
		}
	}
	if len(keys) != 1 {
		t.Fatalf("devices %+v, want one WEBAUTHN", ds)
	}
	// The credential is sealed for its user as internal/mfa seals it.
	b, err := srv.Keys.Open(keyring.PurposeSecrets, string(keys[0].Sealed), []byte("gatehouse/totp-seed/v1:"+userID))
	if err != nil {
		t.Fatalf("open the stored credential: %v", err)
	}
	var c webauthn.Credential
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return keys[0], c.Authenticator.SignCount
}

// TestPasskeyInChromium: a user signs in with password and a TOTP code
// registered at sign-in, registers a passkey at /mfa/key in Chromium's
// virtual authenticator after the fresh sign-in it asks for, signs out,
// signs in with the passkey alone, then uses it as the second step after
// the password (issue 8).
func TestPasskeyInChromium(t *testing.T) {
	srv, clk := passkeyServer(t)
	if !strings.HasPrefix(srv.URL, "http://localhost:") {
		t.Fatalf("server URL %s, want a host name", srv.URL)
	}
	u, err := srv.Store.GetUserByName(t.Context(), shotUser)
	if err != nil {
		t.Fatal(err)
	}
	b := browsertest.Start(t)
	auth := b.AddAuthenticator()
	wantPage := func(path, text string) {
		t.Helper()
		b.WaitText(text)
		if got := b.Path(); got != path {
			t.Fatalf("at %s, want %s:\n%s", got, path, b.Text())
		}
	}
	password := func() {
		t.Helper()
		b.Navigate(srv.URL + "/login")
		b.Fill("username", shotUser)
		b.Click(`form[action="/login"] button[type=submit]`)
		b.Fill("password", "demo-password-1")
		b.Click(`form[action="/login/password"] button[type=submit]`)
	}

	// Password, then the policy asks to register an authenticator app.
	password()
	b.WaitText("Register an authenticator app")
	seed, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ReplaceAll(b.Eval(`document.querySelector("code.secret").textContent`), " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	step := mfa.Step(clk.Now())
	b.Fill("code", mfa.Code(seed, step))
	b.Click(`form[action="/login/enrol"] button[type=submit]`)
	wantPage("/start", "Signed in as")

	// Later, registering a passkey needs a fresh sign-in with both
	// factors.
	clk.Advance(signin.FreshAuth + time.Minute)
	b.Navigate(srv.URL + "/mfa/key")
	wantPage("/reauth", "Confirm it is you")
	b.Fill("password", "demo-password-1")
	b.Fill("code", mfa.Code(seed, mfa.Step(clk.Now())))
	b.Click(`form[action="/reauth"] button[type=submit]`)
	wantPage("/mfa/key", "Name for this device")
	b.Fill("name", "Laptop passkey")
	b.ClickNoWait(`form[action="/mfa/key"] button[type=submit]`)
	b.WaitText("Your security key or passkey is registered")
	dev, count0 := keyDevice(t, srv, u.ID)
	if dev.Name != "Laptop passkey" {
		t.Errorf("stored device %+v", dev)
	}
	creds := auth.Credentials()
	if len(creds) != 1 || !creds[0].IsResidentCredential {
		t.Fatalf("authenticator holds %+v, want one discoverable credential", creds)
	}
	b.Navigate(srv.URL + "/account")
	b.WaitText("Laptop passkey")

	signOut := func() {
		t.Helper()
		b.Click(`form.signout button[type=submit]`)
		b.WaitText("signed out")
	}
	signOut()

	// Passwordless: the sign-in page's passkey button alone.
	b.Navigate(srv.URL + "/login")
	b.WaitVisible(`form[action="/login/passkey"] button`)
	b.ClickNoWait(`form[action="/login/passkey"] button`)
	b.WaitText("Signed in as")
	wantPage("/start", shotUser)
	dev1, count1 := keyDevice(t, srv, u.ID)
	if count1 <= count0 || !dev1.LastUsedAt.After(dev.CreatedAt.Add(-time.Second)) || dev1.LastUsedAt.IsZero() {
		t.Errorf("after the passkey sign-in: count %d (was %d), last used %v", count1, count0, dev1.LastUsedAt)
	}
	signOut()

	// The passkey as the second step after the password.
	password()
	b.WaitVisible(`form[action="/login/key"] button`)
	if !strings.Contains(b.Text(), "Code from your authenticator app") {
		t.Errorf("second step offers no code field:\n%s", b.Text())
	}
	b.ClickNoWait(`form[action="/login/key"] button`)
	b.WaitText("Signed in as")
	wantPage("/start", shotUser)
	if _, count2 := keyDevice(t, srv, u.ID); count2 <= count1 {
		t.Errorf("after the passkey as second step: count %d, was %d", count2, count1)
	}
	if got := auth.Credentials()[0].SignCount; got < 2 {
		t.Errorf("authenticator's counter %v after two sign-ins", got)
	}
}

// TestKeyboardOrder: with the keyboard alone, a person starts in the first
// field of each sign-in step and reaches its buttons in reading order; in
// the console the first stop skips the navigation.
func TestKeyboardOrder(t *testing.T) {
	srv, _ := passkeyServer(t)
	b := browsertest.Start(t)
	want := func(step string, got, want []string) {
		t.Helper()
		if strings.Join(got, " → ") != strings.Join(want, " → ") {
			t.Errorf("%s: focus order\n%s\nwant\n%s", step, strings.Join(got, " → "), strings.Join(want, " → "))
		}
	}
	b.Navigate(srv.URL + "/login")
	b.WaitVisible(`form[action="/login/passkey"] button`)
	want("user name step", []string{b.Focused(), b.Tab(), b.Tab(), b.Tab()}, []string{"input#username", `button "Next"`, `button "Sign in with a passkey"`, `a "Forgot your password?"`})
	b.Fill("username", shotUser)
	b.Click(`form[action="/login"] button[type=submit]`)
	want("password step", []string{b.Focused(), b.Tab(), b.Tab()}, []string{"input#password", `button "Sign in"`, `a "Forgot your password?"`})
	// A wrong password: the focus is back in the field, which names the
	// error the page announces.
	b.Fill("password", "not-the-password-1")
	b.Click(`form[action="/login/password"] button[type=submit]`)
	want("wrong password", []string{b.Focused(), b.Eval(`document.activeElement.getAttribute("aria-describedby")`), b.Eval(`document.getElementById("form-error").getAttribute("role")`)},
		[]string{"input#password", "form-error", "alert"})
	b.Fill("password", "demo-password-1")
	b.Click(`form[action="/login/password"] button[type=submit]`)
	b.WaitText("Register an authenticator app")
	want("registration at sign-in", []string{b.Focused(), b.Tab()}, []string{"input#code", `button "Register and sign in"`})
	seed, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ReplaceAll(b.Eval(`document.querySelector("code.secret").textContent`), " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	b.Fill("code", mfa.Code(seed, mfa.Step(time.Now())))
	b.Click(`form[action="/login/enrol"] button[type=submit]`)
	b.WaitText("Signed in as")
	b.Navigate(srv.URL + "/admin/users")
	want("console", []string{b.Tab()}, []string{`a "Skip to content"`})
}
