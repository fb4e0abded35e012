// Package invite sends and honours Gatehouse's single-use links: the
// invitation that lets a new user set a first password (valid 7 days),
// the password-reset link (1 hour), and the first-admin setup link `serve`
// prints on a fresh instance (1 hour). It also sends security notices
// (password changed, MFA device added or removed).
//
// A link carries 32 random bytes; only their keyed hash is stored
// (keyring.Ring.Hash, as for every bearer value), at most one per kind and
// user, so sending a new link invalidates the one before. Using a link
// deletes it in the transaction that sets the password, so a second use,
// even a concurrent one, finds nothing.
package invite

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/keyring"
	"github.com/gatehouse-dev/gatehouse/internal/mail"
	"github.com/gatehouse-dev/gatehouse/internal/password"
	"github.com/gatehouse-dev/gatehouse/internal/source"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// How long each kind of link is valid.
const (
	InvitationTTL = 7 * 24 * time.Hour
	ResetTTL      = time.Hour
	SetupTTL      = time.Hour
)

// AdministratorAccess is the AWS-managed policy whose holders in the
// management account count as administrators, and the name of the
// permission set the first admin gets.
const (
	AdministratorAccess       = "AdministratorAccess"
	AdministratorAccessPolicy = "arn:aws:iam::aws:policy/AdministratorAccess"
)

// Errors of links that cannot be used. Pages show each as its own page.
var (
	// ErrLinkInvalid: the link is unknown, was already used, or was
	// replaced by a newer one.
	ErrLinkInvalid = errors.New("link not valid")
	// ErrLinkExpired: the link is older than its kind allows.
	ErrLinkExpired = errors.New("link expired")
	// ErrAdminExists: a setup link was opened on an instance that already
	// has an administrator.
	ErrAdminExists = errors.New("an administrator exists")
	// ErrUserDisabled: the link's user is disabled; a password set now
	// could never sign in, so none is set until they are enabled.
	ErrUserDisabled = errors.New("user disabled")
)

// Service sends and honours links. Set its fields before use; it is safe
// for concurrent use.
type Service struct {
	Store     store.Store
	Keys      *keyring.Ring
	Audit     *audit.Recorder
	Directory *directory.Service
	Access    *access.Service
	Mail      *mail.Mailer
	Instance  *store.Instance
	Now       func() time.Time
	Rand      io.Reader
	Log       *slog.Logger
	// BaseURL is the public URL links point to, without a trailing slash.
	BaseURL string
	// MFARequired reports whether every sign-in needs a second factor
	// (the instance's MFA policy), which lowers the minimum password
	// length from 15 to 8 characters. Nil means required: the default of
	// new instances.
	MFARequired func(ctx context.Context) (bool, error)
	// ForgotLimit is how many reset mails one address or user may ask for
	// per ForgotWindow; 0 means 3 per hour.
	ForgotLimit  int
	ForgotWindow time.Duration
	// EndSessions ends every portal session, token and role credential of
	// the user (people.Service.EndSessions); SetPassword calls it after a
	// reset, so whoever held the old password is signed out. Nil skips it.
	EndSessions func(ctx context.Context, userID string) error

	pending sync.WaitGroup
}

func (s *Service) now() time.Time { return s.Now().UTC() }

func (s *Service) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

// newToken returns a fresh link token and its keyed hash.
func (s *Service) newToken() (token, hash string, err error) {
	b := make([]byte, 32)
	if _, err := io.ReadFull(s.Rand, b); err != nil {
		return "", "", fmt.Errorf("link token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, s.Keys.Hash(token), nil
}

// link stores a new token of kind for userID, valid for ttl, and returns
// the URL of path carrying it.
func (s *Service) link(ctx context.Context, kind, userID, path string, ttl time.Duration) (string, error) {
	token, hash, err := s.newToken()
	if err != nil {
		return "", err
	}
	now := s.now()
	if err := s.Store.PutLinkToken(ctx, &store.LinkToken{Hash: hash, Kind: kind, UserID: userID, CreatedAt: now, ExpiresAt: now.Add(ttl)}); err != nil {
		return "", err
	}
	return s.BaseURL + path + "?" + url.Values{"token": {token}}.Encode(), nil
}

func (s *Service) user(ctx context.Context, userID string) (*store.User, error) {
	u, err := s.Store.GetUser(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fault.NotFoundf(directory.ResourceUser, userID, "User not found")
	}
	return u, err
}

// invitable refuses an invitation the user cannot use: a disabled user
// could set a password but never sign in with it, and a user who has a
// password would get a 7-day link that replaces it (a reset link, valid
// 1 hour, is the way to give them a new one).
func invitable(u *store.User) error {
	if u.Disabled {
		return fault.Validationf("User %s is disabled: enable the user first (gatehouse users enable, or Enable in the admin console), or invite another administrator.", u.UserName)
	}
	if u.PasswordHash != "" {
		return fault.Validationf("User %s is already active; send a password reset instead.", u.UserName)
	}
	return nil
}

// Invited reports whether the user was sent an invitation before (a
// SendInvitation event names them), so that a new one replaces a link.
func (s *Service) Invited(ctx context.Context, userID string) (bool, error) {
	evs, err := s.Store.ListEvents(ctx, store.EventFilter{Name: "SendInvitation", Source: audit.SourceSignIn, ResourceName: userID, Page: store.Page{Limit: 1}})
	if err != nil {
		return false, err
	}
	return len(evs) > 0, nil
}

// InvitationLink stores a new invitation for the user (replacing any
// earlier one) and returns its URL without sending it. A disabled user
// or one who has a password gets none (a validation error).
func (s *Service) InvitationLink(ctx context.Context, userID string) (string, error) {
	u, err := s.user(ctx, userID)
	if err != nil {
		return "", err
	}
	if err := invitable(u); err != nil {
		return "", err
	}
	link, err := s.link(ctx, store.LinkInvite, u.ID, "/activate", InvitationTTL)
	if err != nil {
		return "", err
	}
	if err := s.record(ctx, "SendInvitation", map[string]string{"userId": u.ID, "userName": u.UserName}); err != nil {
		return "", err
	}
	return link, nil
}

// SendInvitation mails the user an activation link, valid 7 days and
// single use, to their primary e-mail address; a user without one is a
// validation error, as is a disabled user or one who already has a
// password. Sending again invalidates the earlier link.
func (s *Service) SendInvitation(ctx context.Context, userID string) error {
	_, err := s.Invite(ctx, userID)
	return err
}

// Invite is SendInvitation that also returns the link it sent (for
// `gatehouse invite` to print).
func (s *Service) Invite(ctx context.Context, userID string) (string, error) {
	u, err := s.user(ctx, userID)
	if err != nil {
		return "", err
	}
	if err := invitable(u); err != nil {
		return "", err
	}
	to := store.PrimaryEmail(u.Emails)
	if to == "" {
		return "", fault.Validationf("User %s has no e-mail address to send an invitation to", u.UserName)
	}
	again, err := s.Invited(ctx, u.ID)
	if err != nil {
		return "", err
	}
	link, err := s.InvitationLink(ctx, userID)
	if err != nil {
		return "", err
	}
	intro := "An account was created for you on Gatehouse, the AWS access portal at"
	if again {
		intro = "Here is a new link to activate your account on Gatehouse (any earlier one no\nlonger works), the AWS access portal at"
	}
	return link, s.Mail.Send(ctx, mail.Message{To: to, Subject: "You are invited to Gatehouse", Body: fmt.Sprintf(
		"Hello %s,\n\n%s\n%s/start\n\n"+
			"Your user name is: %s\n\nTo activate it, open this link and choose a password (the link works once,\nfor 7 days):\n\n%s\n\n"+
			"If you did not expect this, ignore this message.\n", greeting(u), intro, s.BaseURL, u.UserName, link)})
}

// SendPasswordReset mails the user a link to set a new password, valid 1
// hour and single use, for a user who asked for it (Forgot). Sending again
// invalidates the earlier link.
func (s *Service) SendPasswordReset(ctx context.Context, userID string) error {
	_, err := s.sendReset(ctx, userID, false)
	return err
}

// SendAdminReset mails the link after an administrator reset the user's
// password (people.Service.ResetPassword), worded as such, and returns
// where it went: the e-mail address, or the outbox when no SMTP server is
// configured.
func (s *Service) SendAdminReset(ctx context.Context, userID string) (string, error) {
	return s.sendReset(ctx, userID, true)
}

// Delivery says where a message to address goes: the address, or the
// outbox when no SMTP server is configured.
func (s *Service) Delivery(address string) string {
	if s.Mail != nil && s.Mail.Configured() {
		return address
	}
	return "the outbox: no SMTP server is configured, so nothing was mailed to " + address + "; forward the link from the admin console's Outbox"
}

func (s *Service) sendReset(ctx context.Context, userID string, byAdmin bool) (string, error) {
	u, err := s.user(ctx, userID)
	if err != nil {
		return "", err
	}
	to := store.PrimaryEmail(u.Emails)
	if to == "" {
		return "", fault.Validationf("User %s has no e-mail address to send a reset link to", u.UserName)
	}
	link, err := s.link(ctx, store.LinkReset, u.ID, "/reset", ResetTTL)
	if err != nil {
		return "", err
	}
	if err := s.record(ctx, "SendPasswordReset", map[string]string{"userId": u.ID, "userName": u.UserName}); err != nil {
		return "", err
	}
	body := fmt.Sprintf("Hello %s,\n\nSomeone, probably you, asked to reset the password of the Gatehouse user %s.\n\n"+
		"Open this link to choose a new password (it works once, for 1 hour):\n\n%s\n\n"+
		"If you did not ask for this, ignore this message: your password stays as it is.\n", greeting(u), u.UserName, link)
	subject := "Reset your Gatehouse password"
	if byAdmin {
		subject = "Your Gatehouse password was reset"
		body = fmt.Sprintf("Hello %s,\n\nAn administrator reset your password for the Gatehouse user %s: the old one\nno longer works. Set a new one with this link (it works once, for 1 hour):\n\n%s\n\n"+
			"If the link has expired, ask your administrator for a new one, or use\n\"Forgot your password?\" on the sign-in page at %s/start.\n", greeting(u), u.UserName, link, s.BaseURL)
	}
	return s.Delivery(to), s.Mail.Send(ctx, mail.Message{To: to, Subject: subject, Body: body})
}

// Notify mails a security notice to the user's primary address. A user
// without an address gets nothing, and that is not an error.
func (s *Service) Notify(ctx context.Context, userID, subject, body string) error {
	u, err := s.user(ctx, userID)
	if err != nil {
		return err
	}
	to := store.PrimaryEmail(u.Emails)
	if to == "" {
		return nil
	}
	return s.Mail.Send(ctx, mail.Message{To: to, Subject: subject, Body: fmt.Sprintf(
		"Hello %s,\n\n%s\n\nIf this was not you, tell your administrator at once.\n\nGatehouse, %s/start\n", greeting(u), body, s.BaseURL)})
}

func greeting(u *store.User) string {
	if u.Name.GivenName != "" {
		return u.Name.GivenName
	}
	if u.DisplayName != "" {
		return u.DisplayName
	}
	return u.UserName
}

func (s *Service) record(ctx context.Context, name string, params any) error {
	return s.Store.Update(ctx, func(tx store.Tx) error {
		return s.Audit.Record(ctx, tx, audit.Entry{Source: audit.SourceSignIn, Name: name, Params: params})
	})
}

// Link is an open link: what a page shows before the person acts.
type Link struct {
	Kind string
	// User is the user the link acts for; nil for a setup link.
	User *store.User
	// MinLength is the shortest password the user may choose.
	MinLength int
}

// find returns the stored token of the link, checking kind and expiry.
func (s *Service) find(ctx context.Context, kind, token string) (*store.LinkToken, error) {
	if token == "" || len(token) > 128 {
		return nil, ErrLinkInvalid
	}
	t, err := keyring.Find(ctx, s.Keys, token, func(h string) (*store.LinkToken, error) { return s.Store.GetLinkToken(ctx, h) })
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrLinkInvalid
	} else if err != nil {
		return nil, err
	}
	if t.Kind != kind {
		return nil, ErrLinkInvalid
	}
	if !s.now().Before(t.ExpiresAt) {
		return nil, ErrLinkExpired
	}
	return t, nil
}

// Open checks a link of kind without using it.
func (s *Service) Open(ctx context.Context, kind, token string) (*Link, error) {
	t, err := s.find(ctx, kind, token)
	if err != nil {
		return nil, err
	}
	l := &Link{Kind: kind}
	if l.MinLength, err = s.minLength(ctx); err != nil {
		return nil, err
	}
	if kind == store.LinkSetup {
		admin, err := s.HasAdmin(ctx)
		if err != nil {
			return nil, err
		}
		if admin {
			return nil, ErrAdminExists
		}
		return l, nil
	}
	if l.User, err = s.Store.GetUser(ctx, t.UserID); errors.Is(err, store.ErrNotFound) {
		return nil, ErrLinkInvalid
	} else if err != nil {
		return nil, err
	}
	if l.User.Disabled {
		return nil, ErrUserDisabled
	}
	return l, nil
}

func (s *Service) mfaRequired(ctx context.Context) (bool, error) {
	if s.MFARequired == nil {
		return true, nil
	}
	return s.MFARequired(ctx)
}

func (s *Service) minLength(ctx context.Context) (int, error) {
	req, err := s.mfaRequired(ctx)
	if err != nil {
		return 0, err
	}
	return password.MinLength(req), nil
}

// CheckPassword applies the password rule (package password) for the
// user (their user name, e-mail address and names) under the instance's
// MFA policy.
func (s *Service) CheckPassword(ctx context.Context, u *store.User, pw string) error {
	req, err := s.mfaRequired(ctx)
	if err != nil {
		return err
	}
	return password.Check(password.Input{Password: pw, UserName: u.UserName, Email: store.PrimaryEmail(u.Emails),
		Names: []string{u.Name.GivenName, u.Name.FamilyName, u.Name.MiddleName, u.DisplayName}, MFARequired: req})
}

// SetPassword uses an invitation or reset link of kind: it checks the
// password against the rule, then in one transaction takes the link,
// stores the password hash and records the event, so the link works once.
// The user then gets a "password changed" notice.
func (s *Service) SetPassword(ctx context.Context, kind, token, pw string) (*store.User, error) {
	if kind != store.LinkInvite && kind != store.LinkReset {
		return nil, ErrLinkInvalid
	}
	t, err := s.find(ctx, kind, token)
	if err != nil {
		return nil, err
	}
	u, err := s.Store.GetUser(ctx, t.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrLinkInvalid
	} else if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, ErrUserDisabled
	}
	if err := s.CheckPassword(ctx, u, pw); err != nil {
		return nil, err
	}
	hash, err := directory.HashPassword(s.Rand, pw)
	if err != nil {
		return nil, err
	}
	err = s.Store.Update(ctx, func(tx store.Tx) error {
		taken, err := tx.TakeLinkToken(ctx, t.Hash)
		if errors.Is(err, store.ErrNotFound) {
			return ErrLinkInvalid
		} else if err != nil {
			return err
		}
		if taken.UserID != u.ID || taken.Kind != kind {
			return ErrLinkInvalid
		}
		cur, err := tx.GetUser(ctx, u.ID)
		if errors.Is(err, store.ErrNotFound) {
			return ErrLinkInvalid
		} else if err != nil {
			return err
		}
		if cur.Disabled {
			return ErrUserDisabled
		}
		cur.PasswordHash = hash
		cur.UpdatedAt = s.now()
		if err := tx.UpdateUser(ctx, cur); err != nil {
			return err
		}
		// Any other link of the user (an invitation after a reset, or the
		// reverse) would set the password again: it goes too.
		if err := tx.DeleteLinkTokens(ctx, u.ID); err != nil {
			return err
		}
		name := "ActivateUser"
		if kind == store.LinkReset {
			name = "ResetPassword"
		}
		actx := audit.WithUser(ctx, u.ID, u.UserName)
		return s.Audit.Record(actx, tx, audit.Entry{Source: audit.SourceSignIn, Name: name,
			Params: map[string]string{"userId": u.ID, "userName": u.UserName}})
	})
	if err != nil {
		return nil, err
	}
	if kind == store.LinkReset && s.EndSessions != nil {
		if err := s.EndSessions(ctx, u.ID); err != nil {
			s.log().Error("sessions not ended after a password reset", "user_id", u.ID, "err", err)
		}
	}
	s.notifyPasswordChanged(ctx, u)
	return u, nil
}

// notifyPasswordChanged sends the notice; a failure is logged, not
// returned: the password is set either way.
func (s *Service) notifyPasswordChanged(ctx context.Context, u *store.User) {
	if err := s.Notify(ctx, u.ID, "Your Gatehouse password was changed",
		fmt.Sprintf("The password of your Gatehouse user %s was set at %s.", u.UserName, s.now().Format(time.RFC1123))); err != nil {
		s.log().Warn("password-changed notice not sent", "user_id", u.ID, "err", err)
	}
}

// Wait waits for the mail Forgot sends in the background.
func (s *Service) Wait() { s.pending.Wait() }

// Forgot handles a "forgot password" request for a user name or e-mail
// address. It answers the same whatever the input, and sends the reset
// link in the background, so neither the answer nor its timing tells
// whether the user exists. Requests are counted per address or name, per
// user and per source address; beyond ForgotLimit in ForgotWindow nothing
// is sent.
func (s *Service) Forgot(ctx context.Context, who, sourceIP string) error {
	who = strings.TrimSpace(who)
	if who == "" || len(who) > 256 {
		return fault.Validationf("Enter your user name or e-mail address.")
	}
	limit, window := s.ForgotLimit, s.ForgotWindow
	if limit <= 0 {
		limit = 3
	}
	if window <= 0 {
		window = time.Hour
	}
	now := s.now()
	over := func(key string, n int) bool {
		c, err := s.Store.HitRate(ctx, key, window, now)
		if err != nil {
			s.log().Warn("forgot-password rate count", "err", err)
			return true
		}
		return c > n
	}
	// The address is counted as the sign-in limits count it: an IPv6
	// address by its /64, which one host may rotate through.
	if over("forgot:ip:"+source.Key(sourceIP), 10*limit) || over("forgot:who:"+strings.ToLower(who), limit) {
		return nil
	}
	var u *store.User
	var err error
	if strings.Contains(who, "@") {
		u, err = s.Store.GetUserByEmail(ctx, who)
		if errors.Is(err, store.ErrNotFound) {
			u, err = s.Store.GetUserByName(ctx, who)
		}
	} else {
		u, err = s.Store.GetUserByName(ctx, who)
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if u.Disabled || store.PrimaryEmail(u.Emails) == "" || over("forgot:user:"+u.ID, limit) {
		return nil
	}
	bg := context.WithoutCancel(ctx)
	s.pending.Go(func() {
		if err := s.SendPasswordReset(bg, u.ID); err != nil {
			s.log().Warn("password reset not sent", "user_id", u.ID, "err", err)
		}
	})
	return nil
}
