package idsource

import (
	"context"

	"github.com/gatehouse-dev/gatehouse/internal/fault"
)

// Credentials says who keeps people's passwords and authenticators under
// the active source, for the pages and operations that change them.
type Credentials struct {
	// Kind is the active source's kind (Directory, SAML, OIDC or LDAP).
	Kind string
	// Passwords is true when Gatehouse keeps the passwords (the built-in
	// directory); an LDAP server or an identity provider keeps them
	// otherwise.
	Passwords bool
	// MFA is true when Gatehouse's own MFA applies (the built-in directory
	// and LDAP); with SAML or OIDC the identity provider's MFA does.
	MFA bool
}

// Credentials reports who keeps passwords and authenticators under the
// active source. A nil Service is the built-in directory (older wiring
// and tests without identity sources).
func (s *Service) Credentials(ctx context.Context) (Credentials, error) {
	if s == nil {
		return Credentials{Kind: Directory, Passwords: true, MFA: true}, nil
	}
	kind, err := s.ActiveKind(ctx)
	if err != nil {
		return Credentials{}, err
	}
	return Credentials{Kind: kind, Passwords: kind == Directory, MFA: kind == Directory || kind == LDAP}, nil
}

// CredentialAction is an administrator's change of a user's credentials
// that only makes sense while Gatehouse keeps them.
type CredentialAction int

// The credential actions.
const (
	// ResetPassword clears a password and mails a reset link.
	ResetPassword CredentialAction = iota
	// SendInvitation mails a link to choose a first password.
	SendInvitation
	// ResetMFA removes a user's MFA devices.
	ResetMFA
)

// CheckCredentialAction refuses, as a Validation fault saying why, an
// action the active source makes meaningless: password resets and
// invitations when an identity provider or an LDAP directory keeps the
// passwords, MFA resets when an identity provider's MFA applies (SAML,
// OIDC). It returns nil when the action may go on. A nil Service is the
// built-in directory.
func (s *Service) CheckCredentialAction(ctx context.Context, a CredentialAction) error {
	c, err := s.Credentials(ctx)
	if err != nil {
		return err
	}
	who := map[string]string{SAML: "the organization's SAML identity provider", OIDC: "the organization's OpenID Connect identity provider",
		LDAP: "the organization's LDAP directory"}[c.Kind]
	if who == "" {
		who = "the " + c.Kind + " identity source"
	}
	switch {
	case a == ResetPassword && !c.Passwords:
		return fault.Validationf("Passwords are managed by %s, not by Gatehouse: reset the password there.", who)
	case a == SendInvitation && !c.Passwords:
		return fault.Validationf("Passwords are managed by %s, not by Gatehouse: people sign in with the password they have there, so no invitation is sent.", who)
	case a == ResetMFA && !c.MFA:
		return fault.Validationf("MFA is managed by %s, not by Gatehouse: reset the user's authenticators there.", who)
	}
	return nil
}
