package portal

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/idsource"
	"github.com/gatehouse-dev/gatehouse/internal/keyring"
	"github.com/gatehouse-dev/gatehouse/internal/mfa"
	"github.com/gatehouse-dev/gatehouse/internal/signin"
	"github.com/gatehouse-dev/gatehouse/internal/store"
	"github.com/gatehouse-dev/gatehouse/internal/web"
)

// stateLifetime bounds how long a sign-in may rest between steps.
const stateLifetime = 10 * time.Minute

// loginState is an in-progress sign-in, sealed into the next step's form.
type loginState struct {
	Step     string `json:"s"`           // web.StepPassword, web.StepMFA or web.StepEnrol
	UserName string `json:"n"`           // as typed
	UserID   string `json:"u,omitempty"` // known once the password matched
	Next     string `json:"x,omitempty"`
	// Seed is the new authenticator key of the StepEnrol step.
	Seed    []byte `json:"k,omitempty"`
	Expires int64  `json:"e"` // unix seconds
}

var loginStateAD = []byte("gatehouse/portal/login-state/v1")

func (s *Service) sealState(st loginState) (string, error) {
	st.Expires = s.now().Add(stateLifetime).Unix()
	b, err := json.Marshal(st)
	if err != nil {
		return "", err
	}
	return s.Keys.Seal(keyring.PurposeSecrets, b, loginStateAD)
}

// openState opens a sealed sign-in state of the given step; a forged,
// expired or other-step value is refused with the sign-in page.
func (s *Service) openState(sealed, step string) (*loginState, error) {
	b, err := s.Keys.Open(keyring.PurposeSecrets, sealed, loginStateAD)
	if err != nil {
		return nil, errStateInvalid
	}
	var st loginState
	if err := json.Unmarshal(b, &st); err != nil || st.Step != step || s.now().Unix() >= st.Expires {
		return nil, errStateInvalid
	}
	return &st, nil
}

var errStateInvalid = errors.New("sign-in state invalid or expired")

func (s *Service) renderSignIn(w http.ResponseWriter, r *http.Request, status int, p web.SignIn) error {
	p.Title = "Sign in"
	// An LDAP directory keeps the passwords: no "forgot" link here.
	c, err := s.Sources.Credentials(r.Context())
	if err != nil {
		return err
	}
	if !c.Passwords {
		p.PasswordsAt = keeper(c.Kind)
	}
	if p.Step == web.StepUserName && p.Passkey == nil {
		// Passwordless sign-in with a passkey, unless the policy is off.
		ok, err := s.SignIn.PasskeysAllowed(r.Context())
		if err != nil {
			return err
		}
		if ok {
			if p.Passkey, err = s.keyCeremony(r, ""); err != nil {
				return err
			}
		}
	}
	s.writePage(w, r, status, p)
	return nil
}

// getLogin shows the first sign-in step, or goes straight on when already
// signed in.
func (s *Service) getLogin(w http.ResponseWriter, r *http.Request) error {
	next := safeNext(r.URL.Query().Get("next"))
	who, err := s.signedIn(r)
	if err != nil {
		return err
	}
	if who != nil {
		http.Redirect(w, r, orStart(next), http.StatusSeeOther)
		return nil
	}
	if s.Sources != nil {
		// An external identity provider signs people in: off to it.
		if err := s.Sources.Begin(w, r, next); !errors.Is(err, idsource.ErrNoExternalSignIn) {
			return err
		}
	}
	page := web.SignIn{Step: web.StepUserName, Next: next}
	if r.URL.Query().Get("set") == "1" {
		page.Notice = "Your password is set. Sign in."
	}
	return s.renderSignIn(w, r, http.StatusOK, page)
}

func orStart(next string) string {
	if next == "" {
		return "/start"
	}
	return next
}

// postLogin takes the user name and shows the password step. A form that
// also carries the password (a password manager, a script) is checked at
// once.
func (s *Service) postLogin(w http.ResponseWriter, r *http.Request) error {
	userName := strings.TrimSpace(r.PostFormValue("username"))
	next := safeNext(r.PostFormValue("next"))
	if userName == "" || len(userName) > 128 {
		return s.renderSignIn(w, r, http.StatusBadRequest, web.SignIn{Step: web.StepUserName, Next: next, Error: "Enter your user name."})
	}
	if pw := r.PostFormValue("password"); pw != "" {
		return s.checkPassword(w, r, userName, pw, next)
	}
	state, err := s.sealState(loginState{Step: web.StepPassword, UserName: userName, Next: next})
	if err != nil {
		return err
	}
	return s.renderSignIn(w, r, http.StatusOK, web.SignIn{Step: web.StepPassword, UserName: userName, State: state, Next: next})
}

// postPassword checks the password step.
func (s *Service) postPassword(w http.ResponseWriter, r *http.Request) error {
	st, err := s.openState(r.PostFormValue("state"), web.StepPassword)
	if err != nil {
		return s.startAgain(w, r)
	}
	return s.checkPassword(w, r, st.UserName, r.PostFormValue("password"), st.Next)
}

// FinishExternal starts the portal session of u, whom the active external
// identity provider has just signed in (and idsource.Service.Provision has
// just written), sets the session and known-device cookies, and sends the
// browser on to next when it is a local page (safeNext), else to /start.
// Errors are signin.StartExternal's; a disabled user gets the sign-in
// page's refusal.
func (s *Service) FinishExternal(w http.ResponseWriter, r *http.Request, u *store.User, ext signin.External, next string) error {
	s.init()
	sess, err := s.SignIn.StartExternal(r.Context(), s.attempt(r, u.UserName), u, ext)
	if errors.Is(err, signin.ErrBadCredentials) {
		return &pageError{Status: http.StatusForbidden, Heading: "Sign-in refused",
			Message: "Your user is disabled or your identity provider's session has ended. Contact your administrator.", Err: err}
	} else if err != nil {
		return err
	}
	s.setSessionCookies(w, sess)
	http.Redirect(w, r, orStart(safeNext(next)), http.StatusSeeOther)
	return nil
}

// attempt describes the request's sign-in attempt for signin.
func (s *Service) attempt(r *http.Request, userName string) signin.Attempt {
	a := signin.Attempt{UserName: userName, SourceIP: sourceIP(r), UserAgent: r.UserAgent()}
	if c, err := r.Cookie(signin.DeviceCookieName); err == nil {
		a.Device = c.Value
	}
	return a
}

// signInRefused maps the refusals of signin that are pages of their own:
// a limit reached (429) or too many sign-ins at once (503), both with
// Retry-After.
func signInRefused(err error) error {
	if te, ok := errors.AsType[*signin.ThrottledError](err); ok {
		return signInPaused(te)
	}
	if be, ok := errors.AsType[*signin.BusyError](err); ok {
		wait := humanWait(max(be.RetryAfter, time.Second))
		return &pageError{Status: http.StatusServiceUnavailable, Heading: "Gatehouse is busy, try again in " + wait,
			Message: "Many people are signing in right now. Wait " + wait + " and send the form again.", Err: err, RetryAfter: be.RetryAfter}
	}
	return err
}

// signInPaused is the page of a refused sign-in: its heading and body
// name the same wait. The per-user hard limit (bucket "user", 24 hours)
// stops only browsers without the user's known-device cookie, so its page
// names the way out: the browser the person signed in from before.
func signInPaused(te *signin.ThrottledError) *pageError {
	wait := humanWait(te.RetryAfter)
	pe := &pageError{Status: http.StatusTooManyRequests, Heading: "Sign-in paused", Err: te, RetryAfter: te.RetryAfter,
		Message: "For your security, sign-in is paused after several failed attempts. Try again in " + wait + "."}
	if te.Bucket == "user" {
		pe.Message = "For your security, sign-in with this user name is paused after many failed attempts. Try again in " + wait + ". " +
			"Signing in from a browser where you have signed in before still works. Otherwise, ask your Gatehouse administrator for help."
	}
	return pe
}

// humanWait says d in words, rounded up: "30 seconds", "2 minutes",
// "3 hours".
func humanWait(d time.Duration) string {
	unit := func(n int64, one string) string {
		if n == 1 {
			return "1 " + one
		}
		return fmt.Sprintf("%d %ss", n, one)
	}
	switch {
	case d < time.Minute:
		return unit(max(int64((d+time.Second-1)/time.Second), 1), "second")
	case d <= 2*time.Hour:
		return unit(int64((d+time.Minute-1)/time.Minute), "minute")
	default:
		return unit(int64((d+time.Hour-1)/time.Hour), "hour")
	}
}

// checkPassword verifies a user name and password and either completes the
// sign-in or moves on to the TOTP step.
func (s *Service) checkPassword(w http.ResponseWriter, r *http.Request, userName, password, next string) error {
	a := s.attempt(r, userName)
	res, err := s.SignIn.Password(r.Context(), a, password)
	if errors.Is(err, signin.ErrBadCredentials) {
		// The person stays on the password step, with the user name they
		// typed (known or not: both look the same).
		state, err := s.sealState(loginState{Step: web.StepPassword, UserName: userName, Next: next})
		if err != nil {
			return err
		}
		return s.renderSignIn(w, r, http.StatusUnauthorized, web.SignIn{Step: web.StepPassword, UserName: userName, State: state, Next: next, Error: "Incorrect user name or password."})
	} else if err != nil {
		return signInRefused(err)
	}
	if res.MustEnrol {
		e, err := s.MFA.NewEnrolment(res.User.UserName)
		if err != nil {
			return err
		}
		st := loginState{Step: web.StepEnrol, UserName: userName, UserID: res.User.ID, Next: next, Seed: e.Seed}
		state, err := s.sealState(st)
		if err != nil {
			return err
		}
		return s.enrolPage(w, r, http.StatusOK, res.User.ID, res.User.UserName, state, e.Seed, "")
	}
	if res.NeedsMFA {
		state, err := s.sealState(loginState{Step: web.StepMFA, UserName: userName, UserID: res.User.ID, Next: next})
		if err != nil {
			return err
		}
		return s.mfaStep(w, r, http.StatusOK, res.User.ID, web.SignIn{Step: web.StepMFA, UserName: res.User.UserName, State: state, Next: next})
	}
	if err := s.startSession(w, r, a, res.Verified, "", time.Time{}); err != nil {
		return err
	}
	http.Redirect(w, r, orStart(next), http.StatusSeeOther)
	return nil
}

// startAgain sends the person back to the first step of signing in: their
// sign-in state is expired, spent or unreadable.
func (s *Service) startAgain(w http.ResponseWriter, r *http.Request) error {
	return s.renderSignIn(w, r, http.StatusBadRequest, web.SignIn{Step: web.StepUserName, Error: "Your sign-in took too long or could not be continued. Start again."})
}

// finishSignIn starts the session of a verified later step, spending its
// sealed state (valid until expires), and goes on to next; a state spent
// already sends the person back to the start.
func (s *Service) finishSignIn(w http.ResponseWriter, r *http.Request, a signin.Attempt, v *signin.Verified, sealed string, expires time.Time, next string) error {
	if err := s.startSession(w, r, a, v, sealed, expires); errors.Is(err, signin.ErrStateUsed) {
		return s.startAgain(w, r)
	} else if err != nil {
		return err
	}
	http.Redirect(w, r, orStart(next), http.StatusSeeOther)
	return nil
}

// postMFA checks the TOTP step.
func (s *Service) postMFA(w http.ResponseWriter, r *http.Request) error {
	return s.secondStep(w, r, "That code is not right, or was already used. Wait for the next code and try again.",
		func(a signin.Attempt, userID, sealed string, expires time.Time) (*signin.Verified, error) {
			return s.SignIn.Code(r.Context(), a, userID, r.PostFormValue("code"), sealed, expires)
		})
}

// secondStep runs the second sign-in step (a code, or a security key or
// passkey) through check and answers as every such step does: the MFA
// page again with refused (signin.ErrBadCode), the sign-in's start for a
// used or expired state, or the session.
func (s *Service) secondStep(w http.ResponseWriter, r *http.Request, refused string,
	check func(a signin.Attempt, userID, sealed string, expires time.Time) (*signin.Verified, error)) error {
	sealed := r.PostFormValue("state")
	st, err := s.openState(sealed, web.StepMFA)
	if err != nil {
		return s.startAgain(w, r)
	}
	a := s.attempt(r, st.UserName)
	expires := time.Unix(st.Expires, 0)
	v, err := check(a, st.UserID, sealed, expires)
	switch {
	case errors.Is(err, signin.ErrStateUsed):
		return s.startAgain(w, r)
	case errors.Is(err, signin.ErrBadCredentials):
		return s.renderSignIn(w, r, http.StatusUnauthorized, web.SignIn{Step: web.StepUserName, Error: "Incorrect user name or password."})
	case errors.Is(err, signin.ErrBadCode):
		return s.mfaStep(w, r, http.StatusUnauthorized, st.UserID, web.SignIn{Step: web.StepMFA, UserName: st.UserName, State: sealed, Next: st.Next, Error: refused})
	case err != nil:
		return signInRefused(err)
	}
	return s.finishSignIn(w, r, a, v, sealed, expires, st.Next)
}

// enrolPage shows the registration of a first authenticator app during
// sign-in.
func (s *Service) enrolPage(w http.ResponseWriter, r *http.Request, status int, userID, userName, state string, seed []byte, msg string) error {
	e := s.MFA.Enrolment(userName, seed)
	p := web.SignInEnrol{
		Layout: web.Layout{Title: "Register an authenticator app"},
		// Both built by package mfa: the otpauth:// URI from escaped parts,
		// the QR code as a data: URI of PNG bytes.
		TOTPKey:  web.TOTPKey{QR: template.URL(e.QR), URI: template.URL(e.URI), Key: e.Key},
		UserName: userName, State: state, Error: msg,
	}
	if c, err := s.MFA.BeginRegistration(r.Context(), userID); err == nil {
		p.SecurityKey = &web.KeyCeremony{Options: string(c.Options), State: c.State}
	} else if !errors.Is(err, mfa.ErrNoRelyingParty) {
		return err
	}
	s.writePage(w, r, status, p)
	return nil
}

// postEnrol checks the code of the authenticator app registered at
// sign-in (POST /login/enrol), or the answer of the security key or
// passkey registered instead (POST /login/enrol/key), and starts the
// session.
func (s *Service) postEnrol(w http.ResponseWriter, r *http.Request) error {
	sealed := r.PostFormValue("state")
	st, err := s.openState(sealed, web.StepEnrol)
	if err != nil || len(st.Seed) != mfa.SeedSize {
		return s.startAgain(w, r)
	}
	a := s.attempt(r, st.UserName)
	expires := time.Unix(st.Expires, 0)
	var v *signin.Verified
	msg := "That code is not right. Check the app's clock and enter the code it shows now."
	if r.URL.Path == "/login/enrol/key" {
		msg = "The security key or passkey was not registered. Try again, or use an authenticator app."
		v, err = s.SignIn.EnrolKey(r.Context(), a, st.UserID, r.PostFormValue("key_state"), answerBytes(r), sealed, expires)
	} else {
		v, err = s.SignIn.Enrol(r.Context(), a, st.UserID, st.Seed, r.PostFormValue("code"), sealed, expires)
	}
	switch {
	case errors.Is(err, signin.ErrStateUsed), errors.Is(err, mfa.ErrHasDevice):
		return s.startAgain(w, r)
	case errors.Is(err, signin.ErrBadCredentials):
		return s.renderSignIn(w, r, http.StatusUnauthorized, web.SignIn{Step: web.StepUserName, Error: "Incorrect user name or password."})
	case errors.Is(err, signin.ErrBadCode):
		return s.enrolPage(w, r, http.StatusUnauthorized, st.UserID, st.UserName, sealed, st.Seed, msg)
	case err != nil:
		return signInRefused(err)
	}
	return s.finishSignIn(w, r, a, v, sealed, expires, st.Next)
}

// keyCeremony starts a WebAuthn assertion for the page: for userID's keys,
// or for any passkey when "". Nil when the user has no key.
func (s *Service) keyCeremony(r *http.Request, userID string) (*web.KeyCeremony, error) {
	c, err := s.MFA.BeginLogin(r.Context(), userID)
	if errors.Is(err, mfa.ErrWebAuthn) || errors.Is(err, mfa.ErrNoRelyingParty) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return &web.KeyCeremony{Options: string(c.Options), State: c.State}, nil
}

// mfaStep shows the second step, offering the user's security keys next
// to the code field.
func (s *Service) mfaStep(w http.ResponseWriter, r *http.Request, status int, userID string, p web.SignIn) error {
	_, hasKey, err := s.MFA.Kinds(r.Context(), userID)
	if err != nil {
		return err
	}
	if hasKey {
		if p.Key, err = s.keyCeremony(r, userID); err != nil {
			return err
		}
	}
	return s.renderSignIn(w, r, status, p)
}

// answerBytes bounds the browser's WebAuthn answer.
func answerBytes(r *http.Request) []byte {
	a := r.PostFormValue("answer")
	if a == "" || len(a) > 16<<10 {
		return nil
	}
	return []byte(a)
}

// postKey checks the second step with a security key or passkey.
func (s *Service) postKey(w http.ResponseWriter, r *http.Request) error {
	return s.secondStep(w, r, "The security key or passkey was not accepted. Try again, or enter a code.",
		func(a signin.Attempt, userID, sealed string, expires time.Time) (*signin.Verified, error) {
			return s.SignIn.Key(r.Context(), a, userID, r.PostFormValue("key_state"), answerBytes(r), sealed, expires)
		})
}

// postPasskey signs in with a passkey alone.
func (s *Service) postPasskey(w http.ResponseWriter, r *http.Request) error {
	next := safeNext(r.PostFormValue("next"))
	a := s.attempt(r, "")
	v, err := s.SignIn.Passkey(r.Context(), a, r.PostFormValue("key_state"), answerBytes(r))
	switch {
	case errors.Is(err, signin.ErrPasskeyOff):
		return s.renderSignIn(w, r, http.StatusForbidden, web.SignIn{Step: web.StepUserName, Next: next, Error: "Sign-in with a passkey is turned off. Enter your user name."})
	case errors.Is(err, signin.ErrBadCode):
		return s.renderSignIn(w, r, http.StatusUnauthorized, web.SignIn{Step: web.StepUserName, Next: next, Error: "The passkey was not accepted. Try again, or enter your user name."})
	case err != nil:
		return signInRefused(err)
	}
	a.UserName = v.User.UserName
	if err := s.startSession(w, r, a, v, "", time.Time{}); err != nil {
		return err
	}
	http.Redirect(w, r, orStart(next), http.StatusSeeOther)
	return nil
}
