// Package awsauth authenticates SigV4-signed requests for every signed API
// Gatehouse serves (STS, IAM, sso-admin, identitystore, organizations,
// cloudtrail): it verifies the signature with package sigv4, opens the
// session envelope of role credentials (ASIA…) or looks up a long-lived
// access key (AKIA…) through a KeySource, checks revocation, refuses requests
// dated before their credentials were issued, and audits every refusal the
// same way. The caller it returns travels in the request context
// (WithCaller, CallerFrom).
package awsauth

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/awsproto"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/session"
	"github.com/gatehouse-dev/gatehouse/internal/sigv4"
)

// Caller is who a verified request speaks for.
type Caller struct {
	// AccountID is the account the credentials act in.
	AccountID string
	// ARN is the caller ARN (assumed-role ARN of a role session, user ARN
	// of an automation user), as GetCallerIdentity reports it and access
	// denied messages name it.
	ARN string
	// PrincipalID is GetCallerIdentity's UserId (aws:userid):
	// "<role ID>:<session name>" for role sessions, the AIDA… ID for users.
	PrincipalID string
	// UserID and UserName are the Identity Center user of a role session,
	// or the automation user's ID and name.
	UserID, UserName string
	// PermissionSetID is the permission set of a role session; empty for
	// automation users.
	PermissionSetID string
	// AutomationUserID is the automation (IAM-style) user of a long-lived
	// access key; empty for role sessions.
	AutomationUserID string
	// SessionID is the portal session a role session descends from.
	SessionID string
	// AccessKeyID is the access key the request was signed with.
	AccessKeyID string
	// MFA says the sign-in behind the credentials used MFA.
	MFA bool
	// IssuedAt is when the credentials were issued (aws:TokenIssueTime).
	IssuedAt time.Time
	// Region is the region of the request's credential scope.
	Region string
	// Role is the role session of role credentials; nil for access keys.
	Role *session.Role
}

// Identity returns the caller's CloudTrail userIdentity.
func (c *Caller) Identity() audit.Identity {
	if c.Role != nil {
		return audit.Identity{Type: "AssumedRole", PrincipalID: c.PrincipalID, ARN: c.ARN,
			AccountID: c.AccountID, AccessKeyID: c.AccessKeyID, UserID: c.UserID, UserName: c.UserName}
	}
	return audit.Identity{Type: "IAMUser", PrincipalID: c.PrincipalID, ARN: c.ARN,
		AccountID: c.AccountID, AccessKeyID: c.AccessKeyID, UserName: c.UserName}
}

// FromRole returns the caller of a role session.
func FromRole(s *session.Role) *Caller {
	return &Caller{
		AccountID: s.AccountID, ARN: s.CallerARN(), PrincipalID: s.CallerUserID(),
		UserID: s.UserID, UserName: s.UserName, PermissionSetID: s.PermissionSetID,
		SessionID: s.SessionID, AccessKeyID: s.AccessKeyID, MFA: s.MFA, IssuedAt: s.IssuedAt, Role: s,
	}
}

type callerKey struct{}

// WithCaller returns ctx carrying c.
func WithCaller(ctx context.Context, c *Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the caller of ctx, or nil for unauthenticated work.
func CallerFrom(ctx context.Context) *Caller {
	c, _ := ctx.Value(callerKey{}).(*Caller)
	return c
}

// Sessions opens the session tokens of role credentials; *sts.Issuer
// implements it. Open's failures wrap sigv4.ErrUnknownAccessKey,
// sigv4.ErrExpiredToken or sigv4.ErrRevoked; other errors are internal.
type Sessions interface {
	Open(ctx context.Context, accessKeyID, sessionToken string) (*session.Role, string, error)
}

// KeySource looks up long-lived access keys (AKIA…) of automation users.
// LookupAccessKey returns the key's secret and its caller (AccountID, ARN,
// PrincipalID, UserName, AutomationUserID, AccessKeyID, IssuedAt set);
// an unknown, disabled or expired key wraps sigv4.ErrUnknownAccessKey, other
// errors are internal. It must check revocation of the user.
type KeySource interface {
	LookupAccessKey(ctx context.Context, accessKeyID string) (secret string, c *Caller, err error)
}

// EventWriter records an audit event outside any change's transaction;
// *audit.Batcher implements it.
type EventWriter interface {
	Record(ctx context.Context, e audit.Entry) error
}

// Authenticator verifies SigV4 requests. Set Sessions, Verifier and Events
// before first use; Keys may be nil (then AKIA keys are unknown). It is
// safe for concurrent use.
type Authenticator struct {
	Sessions Sessions
	Keys     KeySource
	Verifier *sigv4.Verifier
	// Events records refused requests.
	Events EventWriter
}

// Authenticate verifies r (with its already read body) for the SigV4
// service signingName and returns the caller. A refusal is a *sigv4.Error
// (map it with awsproto.ErrorFor) and is audited here, once, as an event of
// the signing name's service; other errors are internal. If the refusal
// cannot be recorded, the error says so.
func (a *Authenticator) Authenticate(ctx context.Context, r *http.Request, body []byte, signingName string) (*Caller, error) {
	return a.AuthenticateIn(ctx, r, body, signingName, "")
}

// AuthenticateIn is Authenticate for a service that answers for one
// region only: a request whose credential scope names another region is
// refused as AWS refuses it (sigv4.RegionError), so that the region a
// policy sees as aws:RequestedRegion is the one the service serves, not
// the caller's choice. region "" accepts any.
func (a *Authenticator) AuthenticateIn(ctx context.Context, r *http.Request, body []byte, signingName, region string) (*Caller, error) {
	c, err := a.authenticate(ctx, r, body, signingName, region)
	if err == nil {
		return c, nil
	}
	p := awsproto.ProtocolQuery
	if r.Header.Get("X-Amz-Target") != "" {
		p = awsproto.ProtocolJSON
	}
	e := awsproto.ErrorFor(p, err)
	if e.HTTPStatus() >= 500 || fault.KindOf(err) == fault.Unavailable {
		// Not a refusal: an internal error, or the store unavailable
		// (which would fail the audit event too, turning a retryable
		// error into an internal one).
		return nil, err
	}
	actor := audit.ActorFrom(ctx)
	actor.Identity = audit.Identity{Type: "Unknown", AccessKeyID: accessKeyOf(r)}
	if c != nil {
		actor.Identity = c.Identity()
	}
	ctx = audit.WithActor(ctx, actor)
	entry := audit.Entry{Source: EventSource(signingName), Name: OperationOf(r, body), ReadOnly: true,
		ErrorCode: e.Code, ErrorMsg: e.Message}
	if aerr := a.Events.Record(ctx, entry); aerr != nil {
		return nil, fmt.Errorf("record refused %s call: %w", signingName, aerr)
	}
	return nil, err
}

// authenticate is Authenticate without the audit; it also returns the
// caller of credentials that opened when the signature then failed, for
// the audit record.
func (a *Authenticator) authenticate(ctx context.Context, r *http.Request, body []byte, signingName, region string) (*Caller, error) {
	var c *Caller
	res, err := a.Verifier.Verify(ctx, r, body, signingName, func(ctx context.Context, accessKeyID, token string) (string, error) {
		if strings.HasPrefix(accessKeyID, "AKIA") && token == "" {
			if a.Keys == nil {
				return "", fmt.Errorf("access key %s: %w", accessKeyID, sigv4.ErrUnknownAccessKey)
			}
			secret, kc, err := a.Keys.LookupAccessKey(ctx, accessKeyID)
			c = kc
			return secret, err
		}
		s, secret, err := a.Sessions.Open(ctx, accessKeyID, token)
		if s != nil {
			c = FromRole(s)
		}
		return secret, err
	})
	if err != nil {
		return c, err
	}
	if region != "" && res.Region != region {
		return c, sigv4.RegionError(res.Region)
	}
	c.Region = res.Region
	// Credentials are valid from their issue on: a request dated earlier
	// (a presigned URL made to look older, or signed with a clock far
	// behind) is refused, allowing the verifier's clock skew, since the
	// issue time is the server's clock and X-Amz-Date the client's.
	if notBefore := c.IssuedAt.Add(-a.Verifier.Skew()); !c.IssuedAt.IsZero() && res.Time.Before(notBefore) {
		return c, sigv4.CredentialError(fmt.Errorf("request of %s dated %s, before its credentials were issued at %s: %w",
			c.AccessKeyID, res.Time.Format(time.RFC3339), c.IssuedAt.Format(time.RFC3339), sigv4.ErrUnknownAccessKey))
	}
	if c.AutomationUserID != "" {
		if u, ok := a.Keys.(KeyUseRecorder); ok {
			u.RecordUse(ctx, c, signingName)
		}
	}
	return c, nil
}

// KeyUseRecorder is implemented by a KeySource that records the last use
// of its keys (GetAccessKeyLastUsed). RecordUse is called once a request
// signed with the key has verified; it must be cheap (not a write per
// request) and must not fail the request.
type KeyUseRecorder interface {
	RecordUse(ctx context.Context, c *Caller, signingName string)
}

// EventSource returns the CloudTrail event source of a SigV4 service name
// ("sso" is sso.amazonaws.com).
func EventSource(signingName string) string {
	switch signingName {
	case "sso":
		return audit.SourceSSO
	case "identitystore":
		return audit.SourceIdentityStore
	case "sts":
		return audit.SourceSTS
	case "iam":
		return audit.SourceIAM
	}
	return signingName + ".amazonaws.com"
}

// OperationOf returns the operation a request names, for audit records and
// logs: the X-Amz-Target's operation, else the awsQuery Action, else
// "Unknown".
func OperationOf(r *http.Request, body []byte) string {
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		if i := strings.LastIndexByte(t, '.'); i >= 0 && i+1 < len(t) && len(t)-i <= 128 {
			return t[i+1:]
		}
		return "Unknown"
	}
	if a := r.URL.Query().Get("Action"); a != "" {
		return a
	}
	if len(body) > 0 {
		if form, err := url.ParseQuery(string(body)); err == nil && form.Get("Action") != "" {
			return form.Get("Action")
		}
	}
	return "Unknown"
}

// accessKeyOf returns the access key ID a request claims, from the
// Authorization header or the presigned X-Amz-Credential, for the audit
// record of a request whose credentials did not open.
func accessKeyOf(r *http.Request) string {
	cred := r.URL.Query().Get("X-Amz-Credential")
	if h := r.Header.Get("Authorization"); h != "" {
		_, after, ok := strings.Cut(h, "Credential=")
		if !ok {
			return ""
		}
		cred, _, _ = strings.Cut(after, ",")
	}
	akid, _, _ := strings.Cut(strings.TrimSpace(cred), "/")
	if len(akid) > 128 {
		return ""
	}
	return akid
}
