// Package people is the user lifecycle an administrator drives: disable and
// enable a user, delete one, end their sessions, reset their password or
// their MFA devices. The Gatehouse admin API (internal/adminapi) and the
// admin console call it; each action is one transaction that changes the
// user, ends what must end and records the audit event, with the actor of
// ctx (audit.WithActor, audit.WithUser) as the event's userIdentity.
//
// Ending a user's access is a store.RevokeUser revocation written in the
// same transaction: every portal session, OIDC grant (access and refresh
// tokens) and role credential issued to a sign-in at or before it is
// refused. This replica's access cache drops its view when the write
// commits (store.Store.OnChange), so the very next request here is refused;
// other replicas see the revocation within the cache's refresh interval
// (under 1 s). A disabled or deleted user is refused whatever the
// revocations say, and a sign-in made after EnableUser starts after the
// revocation, so it works again.
package people

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/mfa"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// Service runs the user lifecycle actions. Set its fields before use; it is
// safe for concurrent use.
type Service struct {
	Store store.Store
	Audit *audit.Recorder
	// Access removes a deleted user's direct assignments.
	Access *access.Service
	Now    func() time.Time
	// IdentityStoreID is recorded in the audit events' parameters.
	IdentityStoreID string
	// RevocationTTL is how long a user's revocation is remembered: the
	// longest anything issued before it can live,
	// access.RevocationLifetime of the portal-session duration. Zero means
	// access.RevocationLifetime(8 h).
	RevocationTTL time.Duration
	// SendPasswordReset sends the user a link to choose a new password
	// after ResetPassword (the invitation service's SendAdminReset) and
	// says where it went (an address, or the outbox); nil sends nothing.
	// It runs after the reset has committed.
	SendPasswordReset func(ctx context.Context, userID string) (sentTo string, err error)
	// Notify sends the user a security notice (the invitation service's
	// Notify, as the MFA service uses); ResetMFA sends one after it has
	// committed. Nil sends nothing.
	Notify func(ctx context.Context, userID, subject, body string) error
	// Log records notices that could not be sent; nil discards.
	Log *slog.Logger
}

// notSelf refuses an action an administrator may not take on themselves
// (the actor of ctx): disabling or deleting themselves, or resetting their
// own password or MFA, would lock them (and possibly the instance) out.
// The console and the Gatehouse admin API both rely on it.
func notSelf(ctx context.Context, userID, what string) error {
	if id := audit.ActorFrom(ctx).Identity.UserID; id != "" && id == userID {
		return fault.Validationf("You cannot %s yourself; ask another administrator.", what)
	}
	return nil
}

// DisableUser disables a user: their sign-ins are refused and every
// session, token and credential issued to them ends. Disabling a disabled
// user ends their sessions again and is not an error.
func (s *Service) DisableUser(ctx context.Context, userID string) error {
	if err := notSelf(ctx, userID, "disable"); err != nil {
		return err
	}
	return s.change(ctx, userID, "DisableUser", func(_ store.Tx, u *store.User) (bool, bool, error) {
		changed := !u.Disabled || !u.AdminDisabled
		u.SetAdminDisabled(true)
		return changed, true, nil
	})
}

// EnableUser lets a disabled user sign in again. Nothing issued before it
// comes back: the revocation written when they were disabled stays, and
// only sign-ins made after it are accepted.
func (s *Service) EnableUser(ctx context.Context, userID string) error {
	return s.change(ctx, userID, "EnableUser", func(_ store.Tx, u *store.User) (bool, bool, error) {
		was := *u
		u.SetAdminDisabled(false)
		return u.Disabled != was.Disabled || u.AdminDisabled != was.AdminDisabled, false, nil
	})
}

// EndSessions ends every portal session, OIDC token and role credential
// issued to the user so far; the user may sign in again.
func (s *Service) EndSessions(ctx context.Context, userID string) error {
	return s.change(ctx, userID, "EndSessions", func(store.Tx, *store.User) (bool, bool, error) {
		return false, true, nil
	})
}

// ResetPassword removes the user's password, ends their sessions and then
// sends them a reset link (SendPasswordReset). A user without a password
// is refused (a validation error): send them an invitation. Until they choose a new
// password they cannot sign in with one. An error of SendPasswordReset is
// returned after the reset has taken effect.
func (s *Service) ResetPassword(ctx context.Context, userID string) error {
	_, err := s.ResetPasswordSentTo(ctx, userID)
	return err
}

// ResetPasswordSentTo is ResetPassword that also says where the reset link
// went: the user's e-mail address, or the outbox when no SMTP server is
// configured ("" when SendPasswordReset is nil).
func (s *Service) ResetPasswordSentTo(ctx context.Context, userID string) (string, error) {
	if err := notSelf(ctx, userID, "reset the password of"); err != nil {
		return "", err
	}
	err := s.change(ctx, userID, "ResetPassword", func(_ store.Tx, u *store.User) (bool, bool, error) {
		// A user who never chose a password (or whose reset is
		// pending) has none to reset: an invitation is what lets them
		// choose one, and its link lasts longer than a reset link.
		if u.PasswordHash == "" {
			return false, false, fault.Validationf("User %s has no password to reset (they have not chosen one yet): send them an invitation instead.", u.UserName)
		}
		// The link goes to the user's e-mail address: without one the
		// reset would lock the user out with no way back in, so it is
		// refused before anything changes.
		if s.SendPasswordReset != nil && len(u.Emails) == 0 {
			return false, false, fault.Validationf("User %s has no e-mail address to send a reset link to; add one first", u.UserName)
		}
		u.PasswordHash = ""
		return true, true, nil
	})
	if err != nil || s.SendPasswordReset == nil {
		return "", err
	}
	to, err := s.SendPasswordReset(ctx, userID)
	if err != nil {
		return "", fmt.Errorf("password of %s reset, but the reset link was not sent: %w", userID, err)
	}
	return to, nil
}

// ResetMFA deletes every MFA device of the user (mfa.DeleteDevices) and
// ends their sessions, so that they register a new one at their next
// sign-in; the user then gets a security notice (Notify) that their devices
// were removed. A user who has no device is left as they are (the reset is
// audited all the same). One's own devices are refused: that would skip the fresh
// sign-in removing a device on /account needs.
func (s *Service) ResetMFA(ctx context.Context, userID string) error {
	if id := audit.ActorFrom(ctx).Identity.UserID; id != "" && id == userID {
		return fault.Validationf("You cannot reset your own MFA here; remove a device yourself on My sessions and devices (/account), which asks you to confirm it is you, or ask another administrator.")
	}
	removed := 0
	err := s.change(ctx, userID, "ResetMFA", func(tx store.Tx, u *store.User) (bool, bool, error) {
		n, err := mfa.DeleteDevices(ctx, tx, u.ID)
		removed = n
		return false, n > 0, err
	})
	// A user without devices lost nothing: no sessions end, no notice.
	if err != nil || s.Notify == nil || removed == 0 {
		return err
	}
	if err := s.Notify(context.WithoutCancel(ctx), userID, "MFA devices reset",
		"An administrator removed all MFA devices from your Gatehouse sign-in. You will register a new one at your next sign-in."); err != nil && s.Log != nil {
		s.Log.Warn("MFA-removed notice not sent", "user_id", userID, "err", err)
	}
	return nil
}

// DeleteUser deletes the user with their group memberships, MFA devices and
// direct assignments, and ends everything issued to them.
func (s *Service) DeleteUser(ctx context.Context, userID string) error {
	if err := notSelf(ctx, userID, "delete"); err != nil {
		return err
	}
	return s.Store.Update(ctx, func(tx store.Tx) error {
		u, err := getUser(ctx, tx, userID)
		if err != nil {
			return err
		}
		now := s.Now().UTC()
		if err := s.end(ctx, tx, u.ID, now); err != nil {
			return err
		}
		if s.Access != nil {
			if err := s.Access.RemovePrincipal(ctx, tx, store.PrincipalUser, u.ID); err != nil {
				return err
			}
		}
		if err := tx.DeleteUser(ctx, u.ID); err != nil {
			return fmt.Errorf("delete user: %w", err)
		}
		return s.record(ctx, tx, "DeleteUser", u.ID)
	})
}

// change runs one action on the user in one transaction: edit changes u
// and says whether the user record changed and whether everything issued
// to the user ends; the event name is audited.
func (s *Service) change(ctx context.Context, userID, event string, edit func(tx store.Tx, u *store.User) (changed, end bool, err error)) error {
	return s.Store.Update(ctx, func(tx store.Tx) error {
		u, err := getUser(ctx, tx, userID)
		if err != nil {
			return err
		}
		changed, end, err := edit(tx, u)
		if err != nil {
			return err
		}
		now := s.Now().UTC()
		if changed {
			u.UpdatedAt = now
			u.UpdatedBy = directory.PrincipalOf(audit.ActorFrom(ctx).Identity)
			if err := tx.UpdateUser(ctx, u); err != nil {
				return fmt.Errorf("update user: %w", err)
			}
		}
		if end {
			if err := s.end(ctx, tx, u.ID, now); err != nil {
				return err
			}
		}
		return s.record(ctx, tx, event, u.ID)
	})
}

// end ends everything issued to the user up to now: a user revocation
// (which the access cache, sso-oidc and STS check on every use) and each
// open portal session marked revoked, so that it is no longer counted as
// active.
func (s *Service) end(ctx context.Context, tx store.Tx, userID string, now time.Time) error {
	// Sessions on roles in linked accounts are revoked in IAM, per user.
	if s.Access != nil {
		if err := s.Access.RevokeUserSessions(ctx, tx, userID); err != nil {
			return fmt.Errorf("revoke sessions in linked accounts: %w", err)
		}
	}
	r := &store.Revocation{Kind: store.RevokeUser, Subject: userID, At: now, ExpiresAt: now.Add(s.revocationTTL())}
	if err := tx.PutRevocation(ctx, r); err != nil {
		return fmt.Errorf("revoke user: %w", err)
	}
	sessions, err := tx.ListSessionsByUser(ctx, userID)
	if err != nil {
		return fmt.Errorf("list portal sessions: %w", err)
	}
	for i := range sessions {
		sess := &sessions[i]
		if !sess.RevokedAt.IsZero() || !now.Before(sess.ExpiresAt) {
			continue
		}
		sess.RevokedAt = now
		if err := tx.UpdateSession(ctx, sess); err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("end portal session: %w", err)
		}
	}
	return nil
}

func (s *Service) record(ctx context.Context, tx store.Tx, event, userID string) error {
	return s.Audit.Record(ctx, tx, audit.Entry{
		Source: audit.SourceGatehouse, Name: event,
		Params: map[string]string{"identityStoreId": s.IdentityStoreID, "userId": userID},
	})
}

// Status is what DescribeUserStatus reports about a user.
type Status struct {
	UserID   string
	UserName string
	Disabled bool
	// DisabledBySource says the identity provider set the user inactive
	// over SCIM ("active": false), which only it lifts; Disabled is then
	// true whatever an administrator does.
	DisabledBySource bool
	// HasPassword is false for a user who never set one or whose password
	// was reset.
	HasPassword bool
	// MFADevices counts the user's registered MFA devices.
	MFADevices int
	// ActiveSessions counts the user's portal sessions that are neither
	// expired, ended nor older than the user's latest revocation.
	ActiveSessions int
}

// Describe returns the user's status.
func (s *Service) Describe(ctx context.Context, userID string) (*Status, error) {
	u, err := getUser(ctx, s.Store, userID)
	if err != nil {
		return nil, err
	}
	ds, err := s.Store.ListMFADevices(ctx, u.ID)
	if err != nil {
		return nil, fmt.Errorf("list MFA devices: %w", err)
	}
	sessions, err := s.Store.ListSessionsByUser(ctx, u.ID)
	if err != nil {
		return nil, fmt.Errorf("list portal sessions: %w", err)
	}
	now := s.Now()
	var revokedAt time.Time // the user's latest revocation
	if len(sessions) > 0 {
		rs, err := s.Store.ListRevocations(ctx, now.Add(-s.revocationTTL()))
		if err != nil {
			return nil, fmt.Errorf("list revocations: %w", err)
		}
		for _, r := range rs {
			if r.Kind == store.RevokeUser && r.Subject == u.ID && r.At.After(revokedAt) {
				revokedAt = r.At
			}
		}
	}
	st := &Status{UserID: u.ID, UserName: u.UserName, Disabled: u.Disabled, DisabledBySource: u.SourceInactive,
		HasPassword: u.PasswordHash != "", MFADevices: len(ds)}
	if u.Disabled {
		return st, nil
	}
	for _, sess := range sessions {
		if sess.RevokedAt.IsZero() && now.Before(sess.ExpiresAt) && sess.CreatedAt.After(revokedAt) {
			st.ActiveSessions++
		}
	}
	return st, nil
}

func (s *Service) revocationTTL() time.Duration {
	if s.RevocationTTL > 0 {
		return s.RevocationTTL
	}
	return access.RevocationLifetime(8 * time.Hour)
}

// getUser reads a user, mapping a missing one to identitystore's
// ResourceNotFoundException.
func getUser(ctx context.Context, tx interface {
	GetUser(ctx context.Context, id string) (*store.User, error)
}, id string) (*store.User, error) {
	u, err := tx.GetUser(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fault.NotFoundf(directory.ResourceUser, id, "User not found")
	}
	if err != nil {
		return nil, fmt.Errorf("get user %s: %w", id, err)
	}
	return u, nil
}

// End ends, in tx, everything issued to the user up to now: a user
// revocation and every open portal session (as DisableUser does). Identity
// sources call it when the source disables a person.
func (s *Service) End(ctx context.Context, tx store.Tx, userID string) error {
	return s.end(ctx, tx, userID, s.Now().UTC())
}
