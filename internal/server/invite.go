package server

import (
	"github.com/gatehouse-dev/gatehouse/internal/invite"
	"github.com/gatehouse-dev/gatehouse/internal/mail"
)

// mailing holds the e-mail services: the mailer (SMTP, or the log and the
// outbox), the outbox admins read, and the invitation service built on
// them.
type mailing struct {
	Mail    *mail.Mailer
	Outbox  *mail.Outbox
	Invites *invite.Service
}

// wireMail builds the mailing services; wire hands them to the portal and
// the admin APIs.
func (s *Server) wireMail() error {
	cfg := &s.Config
	smtp, err := cfg.SMTP()
	if err != nil {
		return err
	}
	s.Outbox = &mail.Outbox{Store: s.Store, IDs: s.IDs, Now: cfg.Now}
	s.Mail = &mail.Mailer{SMTP: smtp, Outbox: s.Outbox, Log: s.Log}
	s.Invites = &invite.Service{
		Store: s.Store, Keys: s.Keys, Audit: s.Audit, Directory: s.Directory, Access: s.Access, Mail: s.Mail,
		Instance: s.Instance, Now: cfg.Now, Rand: cfg.Rand, Log: s.Log, BaseURL: s.BaseURL(),
		// MFARequired (the settings' MFA policy) and EndSessions
		// (people) are set by wire, once those services exist.
	}
	return nil
}
