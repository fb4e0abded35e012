package console

import (
	"context"
	"time"
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

// InstanceSettings are the instance settings the console shows and edits.
type InstanceSettings struct {
	// MFAPolicy is "always", "new-browser" or "off".
	MFAPolicy string
	// PortalSessionDuration is how long a portal sign-in lasts.
	PortalSessionDuration time.Duration
}

// Settings reads and changes the instance settings; Put validates and
// audits. Package settings' *Service fits it through SettingsFuncs.
type Settings interface {
	Get(ctx context.Context) (InstanceSettings, error)
	Put(ctx context.Context, v InstanceSettings) error
}

// SettingsFuncs adapts two functions to Settings, for a settings service
// whose value type is its own.
type SettingsFuncs struct {
	GetFunc func(ctx context.Context) (InstanceSettings, error)
	PutFunc func(ctx context.Context, v InstanceSettings) error
}

// Get calls GetFunc.
func (f SettingsFuncs) Get(ctx context.Context) (InstanceSettings, error) { return f.GetFunc(ctx) }

// Put calls PutFunc.
func (f SettingsFuncs) Put(ctx context.Context, v InstanceSettings) error { return f.PutFunc(ctx, v) }

// Message is one message of the outbox.
type Message struct {
	Time          time.Time
	To            string
	Subject, Body string
}

// Outbox lists the newest messages Gatehouse would have emailed (when no
// SMTP server is configured), at most limit of them, newest first.
type Outbox interface {
	List(ctx context.Context, limit int) ([]Message, error)
}

// OutboxFunc adapts a function to Outbox.
type OutboxFunc func(ctx context.Context, limit int) ([]Message, error)

// List calls f.
func (f OutboxFunc) List(ctx context.Context, limit int) ([]Message, error) { return f(ctx, limit) }

// MFA policies (InstanceSettings.MFAPolicy).
const (
	MFAAlways     = "always"
	MFANewBrowser = "new-browser"
	MFAOff        = "off"
)
