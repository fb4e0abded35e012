package portal

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/mfa"
	"github.com/gatehouse-dev/gatehouse/internal/oidc"
	"github.com/gatehouse-dev/gatehouse/internal/signin"
	"github.com/gatehouse-dev/gatehouse/internal/store"
	"github.com/gatehouse-dev/gatehouse/internal/web"
)

// The "my sessions and devices" page (/account) and the fresh sign-in that
// adding or removing an MFA device needs (/reauth).

// reauthURL is the re-authentication page returning to next.
func reauthURL(next string) string {
	return "/reauth?" + url.Values{"next": {next}}.Encode()
}

// fresh reports whether who signed in recently enough to change their MFA
// devices (signin.FreshAuth, plus slack for a form being filled in).
func (s *Service) fresh(r *http.Request, who *oidc.SignedIn, slack time.Duration) (bool, error) {
	ds, err := s.MFA.Devices(r.Context(), who.UserID)
	if err != nil {
		return false, err
	}
	return s.SignIn.Fresh(who.AuthTime, who.MFA, len(ds) > 0, slack), nil
}

// when writes a time for the pages (UTC, to the minute).
func when(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// getAccount lists the signed-in person's live sessions and MFA devices.
func (s *Service) getAccount(w http.ResponseWriter, r *http.Request) error {
	who, err := s.signedInOrLogin(w, r, "/account")
	if who == nil {
		return err
	}
	return s.accountPage(w, r, who, r.URL.Query().Get("done"))
}

func (s *Service) accountPage(w http.ResponseWriter, r *http.Request, who *oidc.SignedIn, done string) error {
	ss, err := s.SignIn.Sessions(r.Context(), who.UserID)
	if err != nil {
		return err
	}
	ds, err := s.MFA.Devices(r.Context(), who.UserID)
	if err != nil {
		return err
	}
	p := web.AccountPage{Layout: web.Layout{Title: "My sessions and devices", User: who.UserName}}
	switch done {
	case "ended":
		p.Message = "The session has ended."
	case "removed":
		p.Message = "The device was removed."
	}
	for _, x := range ss {
		p.Sessions = append(p.Sessions, web.AccountSession{
			ID: x.IDHash, Created: when(x.CreatedAt), Expires: when(x.ExpiresAt),
			SourceIP: x.SourceIP, UserAgent: x.UserAgent, MFA: x.MFA, Current: x.IDHash == who.SessionID,
		})
	}
	totp, keys := 0, 0
	for _, d := range ds {
		if d.Type == mfa.TypeTOTP {
			totp++
		} else {
			keys++
		}
		p.Devices = append(p.Devices, web.AccountDevice{ID: d.ID, Type: d.Type, Name: d.Name, Created: when(d.CreatedAt), LastUsed: when(d.LastUsedAt)})
	}
	p.CanAddTOTP = totp < mfa.MaxTOTPDevices
	p.CanAddKey = keys < mfa.MaxWebAuthnDevices && s.MFA.WebAuthnAvailable()
	// With SAML or OIDC the identity provider keeps the password and the
	// authenticators: nothing to manage here.
	c, err := s.Sources.Credentials(r.Context())
	if err != nil {
		return err
	}
	if !c.MFA {
		p.ManagedBy = keeper(c.Kind)
		p.Devices, p.CanAddTOTP, p.CanAddKey = nil, false, false
	}
	s.writePage(w, r, http.StatusOK, p)
	return nil
}

// postEndSession ends one of the person's sessions; ending the current one
// signs this browser out.
func (s *Service) postEndSession(w http.ResponseWriter, r *http.Request) error {
	who, err := s.signedInOrLogin(w, r, "/account")
	if who == nil {
		return err
	}
	id := r.PostFormValue("session")
	if id == "" || len(id) > 128 {
		return errInvalidLink(nil)
	}
	ctx := withIdentity(r.Context(), who.UserID, who.UserName)
	if err := s.SignIn.EndSession(ctx, who.UserID, id); errors.Is(err, store.ErrNotFound) {
		return &pageError{Status: http.StatusNotFound, Heading: "No such session", Message: "That session is not one of yours, or it has ended already."}
	} else if err != nil {
		return err
	}
	if id == who.SessionID {
		s.clearCookie(w)
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return nil
	}
	http.Redirect(w, r, "/account?done=ended", http.StatusSeeOther)
	return nil
}

// postRemoveDevice removes one of the person's MFA devices after a fresh
// sign-in.
func (s *Service) postRemoveDevice(w http.ResponseWriter, r *http.Request) error {
	who, err := s.signedInOrLogin(w, r, "/account")
	if who == nil {
		return err
	}
	ok, err := s.fresh(r, who, 0)
	if err != nil {
		return err
	}
	if !ok {
		http.Redirect(w, r, reauthURL("/account"), http.StatusSeeOther)
		return nil
	}
	ctx := withIdentity(r.Context(), who.UserID, who.UserName)
	required, err := s.SignIn.RequiresMFA(ctx)
	if err != nil {
		return err
	}
	if err := s.MFA.Remove(ctx, who.UserID, r.PostFormValue("device"), required); errors.Is(err, store.ErrNotFound) {
		return &pageError{Status: http.StatusNotFound, Heading: "No such device", Message: "That device is not one of yours, or it was removed already."}
	} else if errors.Is(err, mfa.ErrLastDevice) {
		return &pageError{Status: http.StatusConflict, Heading: "Keep one device", Message: mfa.ErrLastDevice.Message}
	} else if err != nil {
		return err
	}
	http.Redirect(w, r, "/account?done=removed", http.StatusSeeOther)
	return nil
}

// getReauth asks for the password again (and a code when the person has
// an authenticator app).
func (s *Service) getReauth(w http.ResponseWriter, r *http.Request) error {
	next := safeNext(r.URL.Query().Get("next"))
	who, err := s.signedInOrLogin(w, r, next)
	if who == nil {
		return err
	}
	return s.reauthPage(w, r, http.StatusOK, who, next, "")
}

func (s *Service) reauthPage(w http.ResponseWriter, r *http.Request, status int, who *oidc.SignedIn, next, msg string) error {
	hasTOTP, hasKey, err := s.MFA.Kinds(r.Context(), who.UserID)
	if err != nil {
		return err
	}
	p := web.Reauth{Layout: web.Layout{Title: "Confirm it is you", User: who.UserName}, Next: next, NeedsCode: hasTOTP, Error: msg}
	if hasKey {
		if p.Key, err = s.keyCeremony(r, who.UserID); err != nil {
			return err
		}
	}
	s.writePage(w, r, status, p)
	return nil
}

// postReauth checks the password (and code) under the sign-in limits and
// marks the session freshly authenticated.
func (s *Service) postReauth(w http.ResponseWriter, r *http.Request) error {
	next := safeNext(r.PostFormValue("next"))
	who, err := s.signedInOrLogin(w, r, next)
	if who == nil {
		return err
	}
	a := s.attempt(r, who.UserName)
	f := signin.Factor{Code: r.PostFormValue("code")}
	if ans := answerBytes(r); ans != nil {
		f = signin.Factor{KeyState: r.PostFormValue("key_state"), KeyAnswer: ans}
	}
	err = s.SignIn.Reauthenticate(r.Context(), a, who.SessionID, who.UserID, r.PostFormValue("password"), f)
	switch {
	case errors.Is(err, signin.ErrBadCredentials):
		return s.reauthPage(w, r, http.StatusUnauthorized, who, next, "Incorrect password.")
	case errors.Is(err, signin.ErrBadCode):
		return s.reauthPage(w, r, http.StatusUnauthorized, who, next, "That code is not right, or was already used. Wait for the next code and try again.")
	case err != nil:
		return signInRefused(err)
	}
	if next == "" {
		next = "/account"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// errNoKeys is the page of a security-key form on a server without a
// WebAuthn relying party (reached by an IP address).
var errNoKeys = &pageError{Status: http.StatusNotImplemented, Heading: "Security keys are not available here",
	Message: "Security keys and passkeys need Gatehouse to be reached by a host name (such as localhost), not an IP address. Ask your administrator."}

// getKeyEnrol starts registering a security key or passkey after a fresh
// sign-in.
func (s *Service) getKeyEnrol(w http.ResponseWriter, r *http.Request) error {
	who, err := s.signedInOrLogin(w, r, "/mfa/key")
	if who == nil {
		return err
	}
	if ok, err := s.fresh(r, who, 0); err != nil {
		return err
	} else if !ok {
		http.Redirect(w, r, reauthURL("/mfa/key"), http.StatusSeeOther)
		return nil
	}
	return s.keyEnrolPage(w, r, http.StatusOK, who, "")
}

func (s *Service) keyEnrolPage(w http.ResponseWriter, r *http.Request, status int, who *oidc.SignedIn, msg string) error {
	c, err := s.MFA.BeginRegistration(r.Context(), who.UserID)
	if errors.Is(err, mfa.ErrNoRelyingParty) {
		return errNoKeys
	} else if err != nil {
		return err
	}
	s.writePage(w, r, status, web.KeyEnrol{Layout: web.Layout{Title: "Security key or passkey", User: who.UserName},
		Key: &web.KeyCeremony{Options: string(c.Options), State: c.State}, Error: msg})
	return nil
}

// postKeyEnrol stores the new security key or passkey.
func (s *Service) postKeyEnrol(w http.ResponseWriter, r *http.Request) error {
	who, err := s.signedInOrLogin(w, r, "/mfa/key")
	if who == nil {
		return err
	}
	if ok, err := s.fresh(r, who, stateLifetime); err != nil {
		return err
	} else if !ok {
		http.Redirect(w, r, reauthURL("/mfa/key"), http.StatusSeeOther)
		return nil
	}
	name := r.PostFormValue("name")
	if len(name) > 64 {
		name = name[:64]
	}
	ctx := withIdentity(r.Context(), who.UserID, who.UserName)
	_, err = s.MFA.FinishRegistration(ctx, who.UserID, web.Visible(name), r.PostFormValue("key_state"), answerBytes(r))
	switch {
	case errors.Is(err, mfa.ErrNoRelyingParty):
		return errNoKeys
	case errors.Is(err, mfa.ErrTooManyDevices):
		return &pageError{Status: http.StatusConflict, Heading: "Too many security keys", Message: "Remove one of your security keys or passkeys first: you can have 6."}
	case errors.Is(err, mfa.ErrWebAuthn):
		return s.keyEnrolPage(w, r, http.StatusBadRequest, who, "The security key or passkey was not registered. Try again.")
	case err != nil:
		return err
	}
	s.writePage(w, r, http.StatusOK, web.KeyEnrol{Layout: web.Layout{Title: "Security key or passkey", User: who.UserName}, Done: true})
	return nil
}
