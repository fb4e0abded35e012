package store

import "time"

// IAMUser is an automation user: an IAM-style user in one account, with the
// policies that authorize its access keys (DESIGN §1, "Automation user").
// User names are unique in an account compared case-insensitively, as IAM
// compares them.
type IAMUser struct {
	// ID is the user's unique ID, "AIDA" and 17 characters.
	ID        string
	AccountID string
	UserName  string
	// Path is the user's IAM path, "/" by default.
	Path string
	Tags []Tag
	// ManagedPolicies are the ARNs of the attached managed policies, AWS
	// managed (arn:aws:iam::aws:policy/…) or customer managed in the
	// user's account (arn:aws:iam::<account>:policy/<path><name>), in
	// attachment order.
	ManagedPolicies []string
	// InlinePolicies are the user's inline policies, ordered by name.
	InlinePolicies []InlinePolicy
	// Version grows with every change of the user's policies; caches of
	// compiled policies compare it.
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// InlinePolicy is a named policy document embedded in an IAM user.
type InlinePolicy struct {
	Name     string `json:"Name"`
	Document string `json:"Document"`
}

// Access key statuses, as IAM names them.
const (
	KeyActive   = "Active"
	KeyInactive = "Inactive"
)

// AccessKey is a long-lived access key (AKIA…) of an IAM user. Its secret
// is stored sealed under the master key's secrets purpose, never in the
// clear.
type AccessKey struct {
	// ID is the access key ID, "AKIA" and 16 characters.
	ID        string
	UserID    string
	AccountID string
	// Status is KeyActive or KeyInactive.
	Status string
	// SealedSecret is the secret access key sealed by keyring.Ring.Seal.
	SealedSecret string
	CreatedAt    time.Time
	// ExpiresAt is when the key stops working; zero means never (a
	// Gatehouse extension: IAM keys do not expire).
	ExpiresAt time.Time
	// LastUsedAt, LastUsedService and LastUsedRegion describe the key's
	// last recorded use (GetAccessKeyLastUsed); recorded at most about
	// once a minute, so they may lag by that much.
	LastUsedAt      time.Time
	LastUsedService string
	LastUsedRegion  string
}

// OIDCProvider is an OpenID Connect identity provider registered in an
// account (IAM CreateOpenIDConnectProvider): the issuer whose web-identity
// tokens sts:AssumeRoleWithWebIdentity accepts.
type OIDCProvider struct {
	// ARN is arn:aws:iam::<account>:oidc-provider/<url without scheme>.
	ARN       string
	AccountID string
	// URL is the issuer URL as registered, with its https:// scheme.
	URL string
	// ClientIDs are the accepted audiences (aud).
	ClientIDs []string
	// Thumbprints are the server certificate thumbprints IAM keeps; they
	// are stored and returned, not used.
	Thumbprints []string
	Tags        []Tag
	CreatedAt   time.Time
}
