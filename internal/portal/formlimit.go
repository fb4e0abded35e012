package portal

import (
	"errors"
	"net/http"
)

// Bounds on the bodies of the page forms, read before the form is parsed
// so that a large body is refused without being held in memory. The
// sign-in forms carry a user name (at most 128 bytes), a password, a
// sealed state and a next URL: a few kilobytes at most. The other forms
// carry a sealed consent or enrolment request, a user code or a TOTP code.
const (
	maxSignInForm = 8 << 10  // bytes, POST /login, /login/password, /login/mfa
	maxPageForm   = 64 << 10 // bytes, the other page forms
	// maxKeyForm bounds the sign-in forms that carry a WebAuthn answer
	// (an assertion of about 1 KiB in base64url) and two sealed states.
	maxKeyForm = 16 << 10 // bytes, POST /login/key, /login/passkey, /reauth
)

// limitForm parses the request's form with its body bounded by n bytes
// before h runs: a larger body is answered 413 with a page, any other
// unreadable form 400, never 500.
func limitForm(n int64, h pageHandler) pageHandler {
	return func(w http.ResponseWriter, r *http.Request) error {
		r.Body = http.MaxBytesReader(w, r.Body, n)
		if err := r.ParseForm(); err != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				return &pageError{Status: http.StatusRequestEntityTooLarge, Heading: "The form was too large",
					Message: "Gatehouse did not read a form this large. Go back, check what you entered and send the form again.", Err: err}
			}
			return &pageError{Status: http.StatusBadRequest, Heading: "The form could not be read",
				Message: "Go back and send the form again.", Err: err}
		}
		return h(w, r)
	}
}
