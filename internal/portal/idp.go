package portal

import (
	"net/http"

	"github.com/gatehouse-dev/gatehouse/internal/idsource"
)

// The password and authenticator pages while an external source keeps
// those credentials (idsource.Service.Credentials): with SAML or OIDC the
// identity provider keeps the password and its own MFA; with LDAP the
// directory keeps the password and Gatehouse's MFA still applies. The
// pages then say where to go instead of setting a password or mailing a
// link. A nil Sources is the built-in directory.

// keeper names who keeps the credentials of kind, for people.
func keeper(kind string) string {
	switch kind {
	case idsource.SAML, idsource.OIDC:
		return "your organization's identity provider"
	case idsource.LDAP:
		return "your organization's directory (LDAP or Active Directory)"
	}
	return "your organization's " + kind + " identity source"
}

// passwordsHere runs h only while Gatehouse keeps passwords; otherwise
// it answers a page saying who does (403), and h (which would set a
// password or send a link) never runs.
func (s *Service) passwordsHere(h pageHandler) pageHandler {
	return func(w http.ResponseWriter, r *http.Request) error {
		c, err := s.Sources.Credentials(r.Context())
		if err != nil {
			return err
		}
		if c.Passwords {
			return h(w, r)
		}
		msg := "Your password is managed by " + keeper(c.Kind) + ", not by Gatehouse: change or reset it there. "
		if c.Kind == idsource.LDAP {
			msg += "Then sign in to Gatehouse with that password."
		} else {
			msg += "Then sign in to Gatehouse through it."
		}
		heading := "Your organization's identity provider manages passwords"
		if c.Kind == idsource.LDAP {
			heading = "Your organization's directory manages passwords"
		}
		return &pageError{Status: http.StatusForbidden, Heading: heading, Message: msg}
	}
}

// mfaHere runs h only while Gatehouse's own MFA applies (the built-in
// directory, LDAP); with SAML or OIDC it answers a page saying the
// identity provider manages authenticators (403).
func (s *Service) mfaHere(h pageHandler) pageHandler {
	return func(w http.ResponseWriter, r *http.Request) error {
		c, err := s.Sources.Credentials(r.Context())
		if err != nil {
			return err
		}
		if c.MFA {
			return h(w, r)
		}
		return &pageError{Status: http.StatusForbidden, Heading: "Your organization's identity provider manages MFA",
			Message: "Your password and MFA devices are managed by " + keeper(c.Kind) + ", not by Gatehouse: add or remove them there."}
	}
}
