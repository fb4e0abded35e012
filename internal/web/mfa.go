package web

import (
	"html/template"
	"strings"
)

// StepEnrol is the sign-in step that registers a first authenticator app
// when MFA is required and the user has none.
const StepEnrol = "enrol"

// TOTPKey is what a page shows to register an authenticator app.
type TOTPKey struct {
	// QR is the otpauth:// URI as a PNG QR code in a data: URI.
	QR template.URL
	// URI is the otpauth:// URI, built by package mfa.
	URI template.URL
	// Key is the base32 key in blocks of 4 characters.
	Key string
}

// SignInEnrol registers an authenticator app during sign-in, before the
// session starts.
type SignInEnrol struct {
	Layout
	TOTPKey
	UserName string
	// State is the sealed in-progress sign-in (with the new key).
	State string
	Error string
	// SecurityKey offers a security key or passkey instead (nil: not
	// available). (Key is the TOTP key.)
	SecurityKey *KeyCeremony
}

func (SignInEnrol) template() string { return "signin_enrol" }

// Reauth asks a signed-in person for their password again (and their
// authenticator's code when they have one) before a change to their MFA
// devices.
type Reauth struct {
	Layout
	// Next is the local page to return to.
	Next      string
	NeedsCode bool
	// Key offers a security key instead of the code (nil: none).
	Key   *KeyCeremony
	Error string
}

// AccountPage is the "my sessions and devices" page.
type AccountPage struct {
	Layout
	Sessions []AccountSession
	Devices  []AccountDevice
	// CanAddTOTP and CanAddKey say the user may register another
	// authenticator app or security key.
	CanAddTOTP, CanAddKey bool
	Message               string
	// ManagedBy names who keeps the password and MFA devices when an
	// identity provider does ("your organization's identity provider");
	// the page then shows no devices to manage.
	ManagedBy string
}

// AccountSession is one live portal session of the user.
type AccountSession struct {
	// ID names the session in the "end" form (its ID hash).
	ID                  string
	Created, Expires    string
	SourceIP, UserAgent string
	MFA                 bool
	// Current is the session the page is shown in.
	Current bool
}

// Kind names the device's type for people: "authenticator app" (TOTP)
// or "security key or passkey".
func (d AccountDevice) Kind() string {
	if d.Type == "TOTP" {
		return "authenticator app"
	}
	return "security key or passkey"
}

// ShowKind says the page should add Kind after the name: not when the
// name already says it (the default name "Authenticator app").
func (d AccountDevice) ShowKind() bool { return !strings.EqualFold(d.Name, d.Kind()) }

// AccountDevice is one MFA device of the user.
type AccountDevice struct {
	ID, Type, Name    string
	Created, LastUsed string
}

func (Reauth) template() string      { return "reauth" }
func (AccountPage) template() string { return "account" }

// KeyCeremony is a WebAuthn ceremony a page offers: Options (JSON) for the
// browser, State (sealed) to post back with the answer.
type KeyCeremony struct {
	Options string
	State   string
}

// KeyEnrol registers a security key or passkey.
type KeyEnrol struct {
	Layout
	Key   *KeyCeremony
	Done  bool
	Error string
}

func (KeyEnrol) template() string { return "key_enrol" }
