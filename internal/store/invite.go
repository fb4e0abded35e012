package store

import "time"

// Kinds of LinkToken.
const (
	// LinkInvite activates a new user's account: the person sets a first
	// password.
	LinkInvite = "invite"
	// LinkReset sets a new password for a user who lost theirs.
	LinkReset = "reset"
	// LinkSetup creates the first administrator of a fresh instance; it
	// names no user.
	LinkSetup = "setup"
)

// LinkToken is a single-use link sent by e-mail or printed on the
// terminal: an invitation, a password reset or the first-admin setup link.
// Only the keyed hash of the link's secret is stored (as for every bearer
// value), and at most one token of each kind per user: storing a new one
// invalidates the link sent before.
type LinkToken struct {
	// Hash is the keyed hash of the token (keyring.Ring.Hash).
	Hash string
	// Kind is LinkInvite, LinkReset or LinkSetup.
	Kind string
	// UserID is the user the link acts for; empty for LinkSetup.
	UserID    string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// OutboxMessage is an e-mail kept for administrators to read when no SMTP
// server is configured (or to see what was sent).
type OutboxMessage struct {
	ID        string
	To        string
	Subject   string
	Body      string
	CreatedAt time.Time
}
