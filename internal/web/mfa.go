package web

import "html/template"

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
}

func (SignInEnrol) template() string { return "signin_enrol" }
