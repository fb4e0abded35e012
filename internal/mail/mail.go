// Package mail sends Gatehouse's e-mail: invitations, password-reset
// links and security notices. With an SMTP server configured it hands
// each message to it through github.com/wneessen/go-mail (STARTTLS when
// the server offers it, or implicit TLS for smtps://, and SMTP AUTH);
// without one, each message is written to the log and kept in the outbox,
// which only administrators read, so that a fresh instance can still hand
// out its links.
package mail

import (
	"context"
	"crypto/tls"
	"fmt"

	"log/slog"
	"net"
	"net/url"
	"strconv"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Message is one plain-text e-mail to one recipient.
type Message struct {
	To      string
	Subject string
	// Body is plain text; links in it are written out in full.
	Body string
}

// SMTP is where mail goes when an SMTP server is configured.
type SMTP struct {
	// Host and Port address the server.
	Host string
	Port int
	// Implicit selects implicit TLS from the first byte (smtps://, RFC 8314
	// §3.3); otherwise the client upgrades with STARTTLS when the server
	// offers it (RFC 3207), and sends in the clear when it does not.
	Implicit bool
	// User and Password, when User is set, authenticate with SMTP AUTH
	// (RFC 4954), choosing the strongest mechanism the server offers.
	User     string
	Password Secret
	// From is the sender address (RFC 5322 mailbox).
	From string
	// TLSConfig, when set, replaces the default TLS settings (tests trust
	// their own certificate with it).
	TLSConfig *tls.Config
	// Timeout bounds connecting and each command; 0 means 30 s.
	Timeout time.Duration
}

// Secret is a password that never shows in logs or formatted output.
type Secret string

// LogValue keeps the secret out of logs.
func (Secret) LogValue() slog.Value { return slog.StringValue("[REDACTED]") }

// String keeps the secret out of formatted output.
func (Secret) String() string { return "[REDACTED]" }

// ParseURL reads an smtp:// or smtps:// URL, smtp://user:pass@host:port,
// with the sender address from. The port defaults to 587 (submission,
// RFC 6409) for smtp:// and 465 for smtps:// (RFC 8314 §7.3). The errors
// it returns never contain the password.
func ParseURL(raw, from string) (*SMTP, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse's error quotes the input, password included.
		return nil, fmt.Errorf("smtp-url is not a URL like smtp://user:password@host:587")
	}
	s := &SMTP{From: from}
	switch u.Scheme {
	case "smtp":
		s.Port = 587
	case "smtps":
		s.Implicit, s.Port = true, 465
	default:
		return nil, fmt.Errorf("smtp-url %s: the scheme must be smtp:// (STARTTLS when offered) or smtps:// (implicit TLS)", u.Redacted())
	}
	s.Host = u.Hostname()
	if s.Host == "" {
		return nil, fmt.Errorf("smtp-url %s: no host", u.Redacted())
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("smtp-url %s: port %q is not 1 to 65535", u.Redacted(), p)
		}
		s.Port = n
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("smtp-url %s: nothing may follow host:port", u.Redacted())
	}
	if u.User != nil {
		s.User = u.User.Username()
		pw, _ := u.User.Password()
		s.Password = Secret(pw)
	}
	if from == "" {
		return nil, fmt.Errorf("smtp-from: a sender address is needed with smtp-url")
	}
	if err := gomail.NewMsg().From(from); err != nil {
		return nil, fmt.Errorf("smtp-from %q is not an e-mail address", from)
	}
	return s, nil
}

// Send delivers msg through the server.
func (s *SMTP) Send(ctx context.Context, msg Message) error {
	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := m.From(s.From); err != nil {
		return fmt.Errorf("sender %q: %w", s.From, err)
	}
	if err := m.To(msg.To); err != nil {
		return fmt.Errorf("recipient %q: %w", msg.To, err)
	}
	m.Subject(msg.Subject)
	m.SetMessageID()
	m.SetDate()
	// RFC 3834 §5: automatic mail, so that vacation replies stay away.
	m.SetGenHeader("Auto-Submitted", "auto-generated")
	m.SetBodyString(gomail.TypeTextPlain, msg.Body)
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	opts := []gomail.Option{gomail.WithPort(s.Port), gomail.WithTimeout(timeout)}
	tc := s.TLSConfig
	if tc == nil {
		tc = &tls.Config{MinVersion: tls.VersionTLS12}
	} else {
		tc = tc.Clone()
	}
	if tc.ServerName == "" {
		tc.ServerName = s.Host
	}
	opts = append(opts, gomail.WithTLSConfig(tc))
	if s.Implicit {
		opts = append(opts, gomail.WithSSL())
	} else {
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if s.User != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.User), gomail.WithPassword(string(s.Password)))
	}
	c, err := gomail.NewClient(s.Host, opts...)
	if err != nil {
		return fmt.Errorf("smtp client for %s: %w", net.JoinHostPort(s.Host, strconv.Itoa(s.Port)), err)
	}
	if err := c.DialAndSendWithContext(ctx, m); err != nil {
		return fmt.Errorf("send mail to %s through %s: %w", msg.To, net.JoinHostPort(s.Host, strconv.Itoa(s.Port)), err)
	}
	return nil
}

// Mailer sends messages: through SMTP when it is set, otherwise to the log
// and the outbox.
type Mailer struct {
	// SMTP is the server; nil means there is none.
	SMTP   *SMTP
	Outbox *Outbox
	Log    *slog.Logger
}

// Configured reports whether mail leaves the server (SMTP is set).
func (m *Mailer) Configured() bool { return m != nil && m.SMTP != nil }

// Send delivers msg. Without SMTP, the message is logged (at info level,
// link included: the log is the operator's) and appended to the outbox.
func (m *Mailer) Send(ctx context.Context, msg Message) error {
	if m.SMTP != nil {
		return m.SMTP.Send(ctx, msg)
	}
	m.log().Info("no SMTP server configured: e-mail kept in the outbox", "to", msg.To, "subject", msg.Subject, "body", msg.Body)
	if m.Outbox == nil {
		return nil
	}
	return m.Outbox.Append(ctx, msg)
}

func (m *Mailer) log() *slog.Logger {
	if m.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return m.Log
}
