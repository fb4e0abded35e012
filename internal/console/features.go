package console

import (
	"context"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/settings"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// People is the user lifecycle the console's people actions call (package
// people's *Service implements it). Each method audits the change with the
// actor of ctx and ends what it must end (sessions, tokens, credentials).
type People interface {
	DisableUser(ctx context.Context, userID string) error
	EnableUser(ctx context.Context, userID string) error
	DeleteUser(ctx context.Context, userID string) error
	EndSessions(ctx context.Context, userID string) error
	ResetPassword(ctx context.Context, userID string) error
	ResetMFA(ctx context.Context, userID string) error
}

// Invitations sends activation and password-reset links (package invite's
// *Service implements it).
type Invitations interface {
	SendInvitation(ctx context.Context, userID string) error
	SendPasswordReset(ctx context.Context, userID string) error
}

// Settings reads and changes the instance settings (MFA policy, portal
// session length); Put validates (ValidationException) and audits.
// Package settings' *Service implements it.
type Settings interface {
	Get(ctx context.Context) (settings.Settings, error)
	Put(ctx context.Context, v settings.Settings) error
	// LongestSession is the ceiling of the portal session length (the
	// server's --portal-session-duration); the floor is
	// settings.MinSessionDuration.
	LongestSession() time.Duration
}

// Outbox lists the newest messages Gatehouse would have emailed (when no
// SMTP server is configured), at most limit of them, newest first (package
// mail's *Outbox implements it).
type Outbox interface {
	List(ctx context.Context, limit int) ([]store.OutboxMessage, error)
}

// OutboxFunc adapts a function to Outbox.
type OutboxFunc func(ctx context.Context, limit int) ([]store.OutboxMessage, error)

// List calls f.
func (f OutboxFunc) List(ctx context.Context, limit int) ([]store.OutboxMessage, error) {
	return f(ctx, limit)
}
