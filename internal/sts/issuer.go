package sts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/accesscache"
	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/awsaccounts"
	"github.com/gatehouse-dev/gatehouse/internal/awsproto"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/keyring"
	"github.com/gatehouse-dev/gatehouse/internal/session"
	"github.com/gatehouse-dev/gatehouse/internal/sigv4"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// Credentials are temporary role credentials.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	Expiration      time.Time
}

// String describes c without its secret and session token.
func (c Credentials) String() string {
	return fmt.Sprintf("sts.Credentials{AccessKeyID:%s Expiration:%s}", c.AccessKeyID, c.Expiration.Format(time.RFC3339))
}

// LogValue logs c without its secret and session token.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(slog.String("access_key_id", c.AccessKeyID), slog.Time("expiration", c.Expiration))
}

// Issuer mints and verifies role credentials.
type Issuer struct {
	Keys  *keyring.Ring
	Cache *accesscache.Cache
	Store store.Store
	Audit *audit.Recorder
	// Events, when set, records the audit events of Issue with group commit
	// (an *audit.Batcher): a credential is handed out only once its event is
	// stored, without a transaction of its own. Nil means one transaction
	// per event.
	Events   EventWriter
	IDs      arn.Generator
	Now      func() time.Time
	Instance *store.Instance
	// Linked, when set, gets credentials in accounts linked to real AWS
	// accounts (the access cache's Link is non-nil): AssumeRoleWithSAML
	// there instead of Gatehouse's own credentials.
	Linked LinkedAccounts
}

// LinkedAccounts gets role credentials in an account linked to AWS
// (awsaccounts.Federation). Its errors are portal errors
// (*awsproto.Error) for AWS's refusals and outages.
type LinkedAccounts interface {
	Credentials(ctx context.Context, l *store.AccountLink, r awsaccounts.CredentialsRequest) (*awsaccounts.RoleCredentials, error)
}

// EventWriter records an audit event outside any change's transaction.
type EventWriter interface {
	Record(ctx context.Context, e audit.Entry) error
}

func (i *Issuer) record(ctx context.Context, e audit.Entry) error {
	if i.Events != nil {
		return i.Events.Record(ctx, e)
	}
	return i.Store.Update(ctx, func(tx store.Tx) error { return i.Audit.Record(ctx, tx, e) })
}

// errNoAccess is what every refusal to issue looks like from outside: AWS
// answers "No access" whether the account is unknown, the role unassigned or
// the user unentitled, and so do we (spec/aws-wire.md §4).
func errNoAccess() error { return fault.Deniedf("No access") }

// Issue mints role credentials for the permission set named roleName (the
// portal API's roleName) in accountID, for a principal the caller has
// authenticated. A principal that is revoked or not entitled to it, an
// unknown account and a permission set not provisioned there are all
// *fault.Error AccessDenied "No access". The credentials live for the
// permission set's SessionDuration. Issue writes nothing but the audit event,
// which records refusals too.
//
// For an account linked to a real AWS account (the access cache's Link,
// with Linked set) the credentials come from AWS instead, through
// Linked.Credentials (AssumeRoleWithSAML); its refusals are portal errors
// (*awsproto.Error: ForbiddenException, TooManyRequestsException,
// ServiceUnavailableException). A local account costs one cached lookup
// more than before.
func (i *Issuer) Issue(ctx context.Context, p session.Principal, accountID, roleName string) (*Credentials, error) {
	now := i.Now().UTC()
	actor := audit.ActorFrom(ctx)
	actor.Identity = audit.Identity{Type: "IdentityCenterUser", UserID: p.UserID, UserName: p.UserName}
	if i.Instance != nil {
		actor.Identity.AccountID = i.Instance.ManagementAccountID
	}
	ctx = audit.WithActor(ctx, actor)
	params := &grcParams{AccountID: accountID, RoleName: roleName}

	sess, err := i.authorize(ctx, p, accountID, roleName, now)
	if err != nil {
		if fault.KindOf(err) != fault.AccessDenied {
			return nil, err
		}
		entry := audit.Entry{Source: audit.SourcePortal, Name: "GetRoleCredentials", ReadOnly: true, Params: params,
			ErrorCode: "ForbiddenException", ErrorMsg: "No access"}
		if aerr := i.record(ctx, entry); aerr != nil {
			return nil, fmt.Errorf("record refused GetRoleCredentials: %w", aerr)
		}
		return nil, err
	}

	if i.Linked != nil {
		l, err := i.Cache.Link(ctx, accountID)
		if err != nil {
			return nil, fmt.Errorf("issue role credentials: %w", err)
		}
		if l != nil {
			return i.issueLinked(ctx, l, sess, params)
		}
	}

	secret := i.IDs.SecretAccessKey()
	token, err := i.seal(sess, secret)
	if err != nil {
		return nil, err
	}
	creds := &Credentials{AccessKeyID: sess.AccessKeyID, SecretAccessKey: secret, SessionToken: token, Expiration: sess.Expiration}
	entry := audit.Entry{Source: audit.SourcePortal, Name: "GetRoleCredentials", ReadOnly: true, Params: params,
		Response: &grcResponse{AssumedRoleARN: sess.CallerARN(), RoleCredentials: grcCredentials{
			AccessKeyID: creds.AccessKeyID, Expiration: creds.Expiration.UnixMilli(),
		}}}
	if err := i.record(ctx, entry); err != nil {
		return nil, fmt.Errorf("record GetRoleCredentials: %w", err)
	}
	return creds, nil
}

// grcParams, grcResponse and grcCredentials are the requestParameters and
// responseElements of a GetRoleCredentials event (never the secret key or
// session token). Their members are in alphabetical order, as the maps they
// replace were written: typed, they encode with a third fewer allocations
// on the credential-issue path.
type grcParams struct {
	AccountID string `json:"accountId"`
	RoleName  string `json:"roleName"`
}

// EventResources lists the account, as the audit recorder would find it
// in the JSON (audit.Resourcer).
func (p *grcParams) EventResources() []store.EventResource {
	if p.AccountID == "" {
		return nil
	}
	return []store.EventResource{{Type: audit.ResourceAccount, Name: p.AccountID}}
}

type grcResponse struct {
	AssumedRoleARN  string         `json:"assumedRoleArn"`
	RoleCredentials grcCredentials `json:"roleCredentials"`
}

// EventResources lists none: no member of the response names a resource
// the audit recorder lists (audit.Resourcer).
func (*grcResponse) EventResources() []store.EventResource { return nil }

type grcCredentials struct {
	AccessKeyID string `json:"accessKeyId"`
	Expiration  int64  `json:"expiration"` // Unix milliseconds
}

// issueLinked gets sess's credentials from the AWS account l links to
// and audits the call as Issue does, with the assumed role ARN STS
// reported; a refusal is audited with its portal error code.
func (i *Issuer) issueLinked(ctx context.Context, l *store.AccountLink, sess *session.Role, params *grcParams) (*Credentials, error) {
	user, err := i.Cache.User(ctx, sess.UserID)
	if err != nil {
		return nil, fmt.Errorf("issue role credentials: %w", err)
	}
	rc, err := i.Linked.Credentials(ctx, l, awsaccounts.CredentialsRequest{
		User: user, RoleName: sess.RoleName, SessionDuration: sess.Expiration.Sub(sess.IssuedAt).Round(time.Second),
		AuthTime: sess.AuthTime,
	})
	if err != nil {
		entry := audit.Entry{Source: audit.SourcePortal, Name: "GetRoleCredentials", ReadOnly: true, Params: params,
			ErrorCode: "InternalServerException", ErrorMsg: "AssumeRoleWithSAML failed"}
		if pe, ok := errors.AsType[*awsproto.Error](err); ok {
			entry.ErrorCode, entry.ErrorMsg = pe.Code, pe.Message
		}
		if aerr := i.record(ctx, entry); aerr != nil {
			return nil, fmt.Errorf("record refused GetRoleCredentials: %w", aerr)
		}
		return nil, err
	}
	creds := &Credentials{AccessKeyID: rc.AccessKeyID, SecretAccessKey: rc.SecretAccessKey, SessionToken: rc.SessionToken,
		Expiration: rc.Expiration.Truncate(time.Millisecond)}
	entry := audit.Entry{Source: audit.SourcePortal, Name: "GetRoleCredentials", ReadOnly: true, Params: params,
		Response: &grcResponse{AssumedRoleARN: rc.AssumedRoleARN, RoleCredentials: grcCredentials{
			AccessKeyID: creds.AccessKeyID, Expiration: creds.Expiration.UnixMilli(),
		}}}
	if err := i.record(ctx, entry); err != nil {
		return nil, fmt.Errorf("record GetRoleCredentials: %w", err)
	}
	return creds, nil
}

// authorize checks that p may use roleName in accountID now and returns the
// session the new credentials will carry, less nothing but the secret.
func (i *Issuer) authorize(ctx context.Context, p session.Principal, accountID, roleName string, now time.Time) (*session.Role, error) {
	if p.UserID == "" {
		return nil, errors.New("issue role credentials: principal has no user ID")
	}
	ref := p.AuthTime
	if ref.IsZero() {
		ref = now
	}
	revoked, err := i.Cache.Revoked(ctx, p.UserID, p.GrantID, p.SessionID, ref)
	if err != nil {
		return nil, fmt.Errorf("issue role credentials: %w", err)
	}
	if revoked {
		return nil, errNoAccess()
	}
	user, err := i.Cache.User(ctx, p.UserID)
	if err != nil {
		if fault.KindOf(err) == fault.NotFound {
			return nil, errNoAccess()
		}
		return nil, fmt.Errorf("issue role credentials: %w", err)
	}
	ents, err := i.Cache.Entitlements(ctx, p.UserID)
	if err != nil {
		return nil, fmt.Errorf("issue role credentials: %w", err)
	}
	var ps *store.PermissionSet
	for _, e := range ents {
		if e.AccountID != accountID {
			continue
		}
		cand, err := i.Cache.PermissionSet(ctx, e.PermissionSetID)
		if fault.KindOf(err) == fault.NotFound {
			continue
		} else if err != nil {
			return nil, fmt.Errorf("issue role credentials: %w", err)
		}
		if cand.Name == roleName {
			ps = cand
			break
		}
	}
	if ps == nil {
		return nil, errNoAccess()
	}
	if _, err := i.Cache.Account(ctx, accountID); err != nil {
		if fault.KindOf(err) == fault.NotFound {
			return nil, errNoAccess()
		}
		return nil, fmt.Errorf("issue role credentials: %w", err)
	}
	role, err := i.Cache.Role(ctx, accountID, ps.ID)
	if err != nil {
		if fault.KindOf(err) == fault.NotFound {
			return nil, errNoAccess()
		}
		return nil, fmt.Errorf("issue role credentials: %w", err)
	}
	life := ps.SessionDuration
	if life <= 0 {
		life = access.DefaultSessionDuration
	}
	return &session.Role{
		AccessKeyID: i.IDs.TemporaryAccessKeyID(),
		UserID:      p.UserID, UserName: user.UserName, GrantID: p.GrantID, SessionID: p.SessionID,
		AccountID: accountID, PermissionSetID: ps.ID, RoleName: role.RoleName, RoleID: role.RoleID,
		MFA: p.MFA, AuthTime: p.AuthTime.UTC(), IssuedAt: now,
		// Clients see the expiry in milliseconds (portal API) or seconds
		// (STS XML); never promise more than the token allows.
		Expiration: now.Add(life).Truncate(time.Millisecond),
	}, nil
}

// seal makes the session token: the envelope sealed under the newest seal
// key with the access key ID bound as additional data.
func (i *Issuer) seal(s *session.Role, secret string) (string, error) {
	ad := additionalData(s.AccessKeyID)
	token, err := i.Keys.Seal(keyring.PurposeSeal, encodeEnvelope(s, secret), ad)
	if err != nil {
		return "", fmt.Errorf("seal session token: %w", err)
	}
	if len(token) > MaxTokenLength && utf8.RuneCountInString(s.UserName) > 64 {
		cut := *s
		cut.UserName = string([]rune(s.UserName)[:64])
		if token, err = i.Keys.Seal(keyring.PurposeSeal, encodeEnvelope(&cut, secret), ad); err != nil {
			return "", fmt.Errorf("seal session token: %w", err)
		}
	}
	if len(token) > MaxTokenLength {
		return "", fmt.Errorf("seal session token: %d characters is over the limit of %d", len(token), MaxTokenLength)
	}
	return token, nil
}

// Open verifies sessionToken for accessKeyID and returns the session and its
// secret: the envelope must open under a seal key with this access key ID as
// additional data, be unexpired, not revoked and still entitled. Failures
// wrap sigv4.ErrUnknownAccessKey (no or forged token), sigv4.ErrExpiredToken
// or sigv4.ErrRevoked (revoked or no longer entitled); other errors are
// internal. It is the sigv4.SecretFunc of every SigV4 API and makes no
// database query in steady state (a token naming a seal key this replica
// has not loaded makes the keyring read its keys once, see
// keyring.Ring.OpenContext).
func (i *Issuer) Open(ctx context.Context, accessKeyID, sessionToken string) (*session.Role, string, error) {
	if sessionToken == "" {
		return nil, "", fmt.Errorf("access key %s without session token: %w", accessKeyID, sigv4.ErrUnknownAccessKey)
	}
	if len(sessionToken) > 2*MaxTokenLength {
		return nil, "", fmt.Errorf("session token too long: %w", sigv4.ErrUnknownAccessKey)
	}
	pt, err := i.Keys.OpenContext(ctx, keyring.PurposeSeal, sessionToken, additionalData(accessKeyID))
	if err != nil && !errors.Is(err, keyring.ErrUnsealable) {
		// Reading the keys again (a token under a key this replica has
		// not loaded) failed.
		return nil, "", fmt.Errorf("open session token of %s: %w", accessKeyID, err)
	}
	if err != nil {
		return nil, "", fmt.Errorf("open session token of %s: %w", accessKeyID, sigv4.ErrUnknownAccessKey)
	}
	s, secret, err := decodeEnvelope(pt)
	if err != nil || s.AccessKeyID != accessKeyID {
		return nil, "", fmt.Errorf("session token of %s: %w", accessKeyID, sigv4.ErrUnknownAccessKey)
	}
	if !i.Now().Before(s.Expiration) {
		return nil, "", fmt.Errorf("session token of %s expired at %s: %w", accessKeyID, s.Expiration.Format(time.RFC3339), sigv4.ErrExpiredToken)
	}
	if s.Provider != "" {
		if err := i.openWebIdentity(ctx, s); err != nil {
			return nil, "", err
		}
		return s, secret, nil
	}
	revoked, err := i.Cache.Revoked(ctx, s.UserID, s.GrantID, s.SessionID, s.RevocationRef())
	if err != nil {
		return nil, "", fmt.Errorf("check revocation of %s: %w", accessKeyID, err)
	}
	if revoked {
		return nil, "", fmt.Errorf("session of %s revoked: %w", accessKeyID, sigv4.ErrRevoked)
	}
	ok, err := i.Cache.Entitled(ctx, s.UserID, s.AccountID, s.PermissionSetID, s.IssuedAt)
	if err != nil {
		return nil, "", fmt.Errorf("check entitlement of %s: %w", accessKeyID, err)
	}
	if !ok {
		return nil, "", fmt.Errorf("assignment behind %s removed: %w", accessKeyID, sigv4.ErrRevoked)
	}
	if err := i.openRole(ctx, s); err != nil {
		return nil, "", err
	}
	return s, secret, nil
}
