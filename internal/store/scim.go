package store

import "time"

// SCIMToken is a bearer token an administrator issued for an identity
// provider's SCIM client (RFC 7644 §2). Only the keyed hash of the token is
// stored (keyring.Ring.Hash), so a database copy yields no usable token
// and another instance, with other keys, refuses it.
type SCIMToken struct {
	// ID names the token in lists and in DeleteSCIMToken; it is not
	// secret.
	ID string
	// Hash is the keyed hash of the bearer value; unique.
	Hash string
	// Description is the administrator's note (which IdP uses it).
	Description string
	CreatedAt   time.Time
	// ExpiresAt is when the token stops working.
	ExpiresAt time.Time
	// LastUsedAt is the last recorded use, zero if never used. Uses are
	// recorded at most about once a minute per token.
	LastUsedAt time.Time
	// CreatedBy is the ARN or name of the administrator who issued it.
	CreatedBy string
}

// SCIMTokenRetention is how long an expired SCIM token stays listed (so that
// administrators see that it expired) before DeleteExpired removes it.
const SCIMTokenRetention = 30 * 24 * time.Hour
