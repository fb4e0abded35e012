// Package settings holds the instance settings an administrator changes at
// run time, in the store so that every replica sees them: the MFA policy
// and the portal session length. The console's settings page and the
// sign-in rules use it.
package settings

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// MFA policies, as IAM Identity Center names them ("Prompt users for MFA":
// every time they sign in, only when their sign-in context changes, never;
// AWS docs, "Configure MFA settings").
const (
	// PolicyAlways asks for a second factor at every sign-in; a user
	// without one registers one before the session starts. The default for
	// new instances.
	PolicyAlways = "always"
	// PolicyNewBrowser asks for it only on a browser without the user's
	// known-device cookie (a context change in AWS's terms).
	PolicyNewBrowser = "new-browser"
	// PolicyOff requires none: only users who registered an authenticator
	// are asked for it (AWS's "Never" ignores them; Gatehouse does not
	// weaken a sign-in its user chose to protect), and passkeys cannot
	// replace the password.
	PolicyOff = "off"
)

// Session lengths. AWS allows 15 minutes to 90 days for the access portal
// (AWS docs, "Configure the duration of the AWS access portal session"),
// default 8 hours. Gatehouse keeps that floor and default; the ceiling is
// the server's configured portal session duration (Service.MaxSession),
// because revocations are kept only as long as that allows a session to
// live (access.RevocationLifetime).
const (
	MinSessionDuration     = 15 * time.Minute
	DefaultSessionDuration = 8 * time.Hour
)

// Settings are the instance settings.
type Settings struct {
	// MFAPolicy is PolicyAlways, PolicyNewBrowser or PolicyOff.
	MFAPolicy string
	// PortalSessionDuration is how long a new portal session lasts.
	PortalSessionDuration time.Duration
}

// Service reads and changes the settings. Set its fields, then use it from
// any number of goroutines.
type Service struct {
	Store store.Store
	Audit *audit.Recorder
	Now   func() time.Time
	// MaxSession is the longest portal session allowed (the server's
	// --portal-session-duration); 0 means DefaultSessionDuration.
	MaxSession time.Duration
}

// LongestSession is the longest portal session an administrator may set:
// MaxSession, or DefaultSessionDuration when that is 0.
func (s *Service) LongestSession() time.Duration {
	if s.MaxSession > 0 {
		return s.MaxSession
	}
	return DefaultSessionDuration
}

// Defaults are the settings of an instance whose administrator changed
// none: MFA always required, sessions of 8 hours (or MaxSession when
// shorter).
func (s *Service) Defaults() Settings {
	return Settings{MFAPolicy: PolicyAlways, PortalSessionDuration: min(DefaultSessionDuration, s.LongestSession())}
}

// Init stores the defaults with the MFA policy policy when no settings
// are stored yet, and changes nothing otherwise: a world's starting point
// (the demo world's users sign in with the printed password, as the
// tutorials show, so it starts with PolicyOff). Every replica sees the
// stored value.
func (s *Service) Init(ctx context.Context, policy string) error {
	if err := validPolicy(policy); err != nil {
		return err
	}
	v := s.Defaults()
	v.MFAPolicy = policy
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		if _, err := tx.GetSettings(ctx); !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err := tx.PutSettings(ctx, &store.Settings{MFAPolicy: v.MFAPolicy, PortalSessionDuration: v.PortalSessionDuration,
			UpdatedAt: s.Now().UTC(), UpdatedBy: "gatehouse"}); err != nil {
			return err
		}
		return s.Audit.Record(ctx, tx, audit.Entry{
			Source: audit.SourceSSO, Name: "UpdateInstanceSettings",
			Params: map[string]any{"mfaPolicy": v.MFAPolicy, "portalSessionDurationSeconds": int64(v.PortalSessionDuration / time.Second)},
		})
	})
	if err != nil {
		return fmt.Errorf("initial settings: %w", err)
	}
	return nil
}

// Get returns the settings in force: the stored ones, or Defaults when
// none were stored. A stored session length beyond MaxSession (the
// operator lowered it since) is cut to it.
func (s *Service) Get(ctx context.Context) (Settings, error) {
	st, err := s.Store.GetSettings(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return s.Defaults(), nil
	} else if err != nil {
		return Settings{}, err
	}
	v := Settings{MFAPolicy: st.MFAPolicy, PortalSessionDuration: min(st.PortalSessionDuration, s.LongestSession())}
	if validPolicy(v.MFAPolicy) != nil {
		v.MFAPolicy = PolicyAlways // unknown to this version: the safe choice
	}
	return v, nil
}

// Validate reports what is wrong with v as one *fault.Error (Validation),
// or nil.
func (s *Service) Validate(v Settings) error {
	var errs []error
	if err := validPolicy(v.MFAPolicy); err != nil {
		errs = append(errs, err)
	}
	if d, hi := v.PortalSessionDuration, s.LongestSession(); d < MinSessionDuration || d > hi {
		errs = append(errs, fmt.Errorf("portal session duration %s is outside %s to %s", d, MinSessionDuration, hi))
	}
	if len(errs) == 0 {
		return nil
	}
	err := errors.Join(errs...)
	return &fault.Error{Kind: fault.Validation, Message: err.Error(), Err: err}
}

func validPolicy(p string) error {
	switch p {
	case PolicyAlways, PolicyNewBrowser, PolicyOff:
		return nil
	}
	return fmt.Errorf("MFA policy %q is not one of %q, %q, %q", p, PolicyAlways, PolicyNewBrowser, PolicyOff)
}

// Put validates and stores v, with an audit event naming the old and new
// values, as the actor in ctx. New sessions get the new length; sessions
// already started keep theirs.
func (s *Service) Put(ctx context.Context, v Settings) error {
	if err := s.Validate(v); err != nil {
		return err
	}
	old, err := s.Get(ctx)
	if err != nil {
		return err
	}
	rec := &store.Settings{
		MFAPolicy: v.MFAPolicy, PortalSessionDuration: v.PortalSessionDuration,
		UpdatedAt: s.Now().UTC(), UpdatedBy: audit.ActorFrom(ctx).Identity.UserName,
	}
	err = s.Store.Update(ctx, func(tx store.Tx) error {
		if err := tx.PutSettings(ctx, rec); err != nil {
			return err
		}
		return s.Audit.Record(ctx, tx, audit.Entry{
			Source: audit.SourceSSO, Name: "UpdateInstanceSettings",
			Params: map[string]any{
				"mfaPolicy": v.MFAPolicy, "portalSessionDurationSeconds": int64(v.PortalSessionDuration / time.Second),
				"previousMfaPolicy": old.MFAPolicy, "previousPortalSessionDurationSeconds": int64(old.PortalSessionDuration / time.Second),
			},
		})
	})
	if err != nil {
		return fmt.Errorf("put settings: %w", err)
	}
	return nil
}
