// Package session is the model of who a request speaks for: the signed-in
// person (Principal) that OIDC tokens and portal sessions carry, and the role
// session (Role) that role credentials carry. It sits below oidc, sts, awsauth
// and authz, so that none of them imports another's transport package.
package session

import (
	"log/slog"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/arn"
)

// Principal is a signed-in person and the OIDC grant and portal session a
// request came through.
type Principal struct {
	UserID, UserName string
	GrantID          string // store.Grant ID
	SessionID        string // portal session ID hash the grant came from
	MFA              bool   // the sign-in used MFA
	// AuthTime is when the person signed in. Revocations at or after it
	// end everything issued to the sign-in.
	AuthTime time.Time
	// IssuedAt is when the grant was created (zero where unknown).
	IssuedAt time.Time
}

// Role is what a verified session token of role credentials says: the
// principal, the account and role, and the credentials' lifetime. It holds
// no secret.
type Role struct {
	AccessKeyID string
	UserID      string
	// UserName is the user's name when the credentials were issued. A name
	// so long that the token would pass sts.MaxTokenLength is cut to its
	// first 64 characters, which leaves the role session name unchanged.
	UserName        string
	GrantID         string
	SessionID       string
	AccountID       string
	PermissionSetID string
	RoleName        string // AWSReservedSSO_<PS>_<suffix>
	RoleID          string // AROA…
	// Provider is the ARN of the OpenID Connect provider whose
	// web-identity token the credentials were issued for
	// (AssumeRoleWithWebIdentity); empty for an Identity Center user's
	// credentials. Such sessions have no UserID: UserName holds the role
	// session name.
	Provider string
	// ProviderCreatedAt is when that provider was registered: the
	// credentials stand only while the very same registration does, so
	// deleting the provider and registering the same URL again does not
	// bring them back.
	ProviderCreatedAt time.Time
	MFA               bool
	AuthTime          time.Time
	IssuedAt          time.Time
	Expiration        time.Time
}

// SessionName returns the role session name: the user name made to fit
// STS's rules (spec/identifiers.md §5).
func (s *Role) SessionName() string { return arn.SessionName(s.UserName) }

// CallerARN returns the assumed-role ARN GetCallerIdentity reports:
// arn:aws:sts::<acct>:assumed-role/<role>/<session name>, without role path.
func (s *Role) CallerARN() string {
	return arn.AssumedRoleARN(s.AccountID, s.RoleName, s.SessionName())
}

// CallerUserID returns <role ID>:<session name>, GetCallerIdentity's UserId
// and the policy key aws:userid.
func (s *Role) CallerUserID() string { return s.RoleID + ":" + s.SessionName() }

// RoleARN returns the ARN of the session's role with its path, which depends
// on the instance's home region (aws:PrincipalArn).
func (s *Role) RoleARN(homeRegion string) string {
	return arn.RoleARN(s.AccountID, homeRegion, s.RoleName)
}

// RevocationRef is the time revocations are compared with: the sign-in the
// credentials descend from, or their issue time if that is unknown.
func (s *Role) RevocationRef() time.Time {
	if !s.AuthTime.IsZero() {
		return s.AuthTime
	}
	return s.IssuedAt
}

// LogValue logs the session's identity.
func (s *Role) LogValue() slog.Value {
	return slog.GroupValue(slog.String("access_key_id", s.AccessKeyID), slog.String("principal", s.UserName),
		slog.String("account_id", s.AccountID), slog.String("role", s.RoleName))
}
