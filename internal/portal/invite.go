package portal

import (
	"errors"
	"net/http"

	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/invite"
	"github.com/gatehouse-dev/gatehouse/internal/store"
	"github.com/gatehouse-dev/gatehouse/internal/web"
)

// The pages of single-use links (package invite): activation of an
// invitation, "forgot password", password reset and first-admin setup.
// A link that is unknown, used, replaced or expired gets a page saying so,
// never a 500.

// linkError maps a link's error onto the page shown, or returns err.
func linkError(err error) error {
	switch {
	case errors.Is(err, invite.ErrLinkExpired):
		return &pageError{Status: http.StatusGone, Heading: "This link has expired",
			Message: "Links in Gatehouse e-mail work for a limited time. Ask your administrator for a new invitation, or use \"Forgot your password?\" on the sign-in page.", Err: err}
	case errors.Is(err, invite.ErrLinkInvalid):
		return &pageError{Status: http.StatusNotFound, Heading: "This link is not valid",
			Message: "It was already used, a newer link replaced it, or it was copied incompletely. Ask your administrator for a new invitation, or use \"Forgot your password?\" on the sign-in page.", Err: err}
	case errors.Is(err, invite.ErrUserDisabled):
		return &pageError{Status: http.StatusForbidden, Heading: "This user is disabled",
			Message: "A disabled user cannot sign in, so no password is set. Ask your administrator to enable your user first; this link then works again while it is valid.", Err: err}
	case errors.Is(err, invite.ErrAdminExists):
		return &pageError{Status: http.StatusConflict, Heading: "This instance already has an administrator",
			Message: "The setup link only creates the first administrator. Sign in, or ask an administrator to invite you.", Err: err}
	}
	return err
}

// setupLinkError is linkError for the first-admin setup link, whose
// used or expired page cannot send anyone to an administrator: the
// operator gets a new link from the server's banner.
func setupLinkError(err error) error {
	err = linkError(err)
	if pe, ok := errors.AsType[*pageError](err); ok && (errors.Is(err, invite.ErrLinkExpired) || errors.Is(err, invite.ErrLinkInvalid)) {
		pe.Message = "Setup links work once and for a limited time. The server prints a new setup link each time it starts while no " +
			"administrator can sign in: restart it and use the new link, or create the administrator with gatehouse invite --admin."
	}
	return err
}

// invites returns the invitation service, or a page saying the feature is
// not available.
func (s *Service) invites() (*invite.Service, error) {
	if s.Invites == nil {
		return nil, &pageError{Status: http.StatusNotFound, Heading: "Not available",
			Message: "Invitations and password resets are not configured on this server."}
	}
	return s.Invites, nil
}

// formMessage returns the sentence of a validation error to show on the
// form, or "" when err is of another kind.
func formMessage(err error) string {
	if fe, ok := errors.AsType[*fault.Error](err); ok && (fe.Kind == fault.Validation || fe.Kind == fault.Conflict) {
		return fe.Message
	}
	return ""
}

func (s *Service) getActivate(w http.ResponseWriter, r *http.Request) error {
	return s.showSetPassword(w, r, store.LinkInvite, "/activate", "Activate your account")
}

func (s *Service) getReset(w http.ResponseWriter, r *http.Request) error {
	return s.showSetPassword(w, r, store.LinkReset, "/reset", "Choose a new password")
}

func (s *Service) showSetPassword(w http.ResponseWriter, r *http.Request, kind, action, title string) error {
	inv, err := s.invites()
	if err != nil {
		return err
	}
	token := r.URL.Query().Get("token")
	l, err := inv.Open(r.Context(), kind, token)
	if err != nil {
		return linkError(err)
	}
	s.writePage(w, r, http.StatusOK, web.SetPassword{Layout: web.Layout{Title: title}, Action: action, Token: token,
		UserName: l.User.UserName, MinLength: l.MinLength})
	return nil
}

func (s *Service) postActivate(w http.ResponseWriter, r *http.Request) error {
	return s.setPassword(w, r, store.LinkInvite, "/activate", "Activate your account")
}

func (s *Service) postReset(w http.ResponseWriter, r *http.Request) error {
	return s.setPassword(w, r, store.LinkReset, "/reset", "Choose a new password")
}

// setPassword uses the link, then sends the person to sign in with the new
// password (and register an authenticator there when the MFA policy asks
// for one).
func (s *Service) setPassword(w http.ResponseWriter, r *http.Request, kind, action, title string) error {
	inv, err := s.invites()
	if err != nil {
		return err
	}
	token := r.PostFormValue("token")
	l, err := inv.Open(r.Context(), kind, token)
	if err != nil {
		return linkError(err)
	}
	again := func(msg string) error {
		s.writePage(w, r, http.StatusBadRequest, web.SetPassword{Layout: web.Layout{Title: title}, Action: action, Token: token,
			UserName: l.User.UserName, MinLength: l.MinLength, Error: msg})
		return nil
	}
	pw := r.PostFormValue("password")
	if pw != r.PostFormValue("confirm") {
		return again("The two passwords differ. Type the same password twice.")
	}
	if _, err := inv.SetPassword(r.Context(), kind, token, pw); err != nil {
		if msg := formMessage(err); msg != "" {
			return again(msg)
		}
		return linkError(err)
	}
	http.Redirect(w, r, passwordSetURL, http.StatusSeeOther)
	return nil
}

func (s *Service) getForgot(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.invites(); err != nil {
		return err
	}
	s.writePage(w, r, http.StatusOK, web.Forgot{Layout: web.Layout{Title: "Forgot your password?"}})
	return nil
}

// postForgot answers the same whether or not the user exists.
func (s *Service) postForgot(w http.ResponseWriter, r *http.Request) error {
	inv, err := s.invites()
	if err != nil {
		return err
	}
	if err := inv.Forgot(r.Context(), r.PostFormValue("who"), sourceIP(r)); err != nil {
		if msg := formMessage(err); msg != "" {
			s.writePage(w, r, http.StatusBadRequest, web.Forgot{Layout: web.Layout{Title: "Forgot your password?"}, Error: msg})
			return nil
		}
		return err
	}
	s.writePage(w, r, http.StatusOK, web.Forgot{Layout: web.Layout{Title: "Check your e-mail"}, Sent: true})
	return nil
}

func (s *Service) getSetup(w http.ResponseWriter, r *http.Request) error {
	inv, err := s.invites()
	if err != nil {
		return err
	}
	token := r.URL.Query().Get("token")
	l, err := inv.Open(r.Context(), store.LinkSetup, token)
	if err != nil {
		return setupLinkError(err)
	}
	s.writePage(w, r, http.StatusOK, web.Setup{Layout: web.Layout{Title: "Create the first administrator"}, Token: token, MinLength: l.MinLength})
	return nil
}

func (s *Service) postSetup(w http.ResponseWriter, r *http.Request) error {
	inv, err := s.invites()
	if err != nil {
		return err
	}
	in := invite.SetupInput{
		Token: r.PostFormValue("token"), UserName: r.PostFormValue("username"), Email: r.PostFormValue("email"),
		GivenName: r.PostFormValue("given_name"), FamilyName: r.PostFormValue("family_name"), Password: r.PostFormValue("password"),
	}
	l, err := inv.Open(r.Context(), store.LinkSetup, in.Token)
	if err != nil {
		return setupLinkError(err)
	}
	again := func(msg string) error {
		s.writePage(w, r, http.StatusBadRequest, web.Setup{Layout: web.Layout{Title: "Create the first administrator"}, Token: in.Token,
			UserName: in.UserName, GivenName: in.GivenName, FamilyName: in.FamilyName, Email: in.Email, MinLength: l.MinLength, Error: msg})
		return nil
	}
	if in.Password != r.PostFormValue("confirm") {
		return again("The two passwords differ. Type the same password twice.")
	}
	if _, err := inv.Setup(r.Context(), in); err != nil {
		if msg := formMessage(err); msg != "" {
			return again(msg)
		}
		return setupLinkError(err)
	}
	http.Redirect(w, r, passwordSetURL, http.StatusSeeOther)
	return nil
}
