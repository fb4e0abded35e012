// Package store defines Gatehouse's storage contract: one interface, the record
// types it holds and the sentinel errors its implementations return. The
// sqlite and postgres packages implement it; storetest is the conformance
// suite both run.
//
// All state any replica needs lives here (DESIGN §5): identity data, OIDC
// clients, codes and tokens, portal sessions, rate-limit counters,
// revocations and key material. Times are stored with nanosecond precision
// and returned in UTC.
package store

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors. Implementations wrap them with context; callers test them
// with errors.Is.
var (
	// ErrNotFound means the record does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict means a uniqueness rule would be broken (duplicate key,
	// duplicate user name, an instance that already exists, ...).
	ErrConflict = errors.New("conflict")
)

// Store is a handle to the database. Its Tx methods each run in their own
// transaction; Update runs several in one.
type Store interface {
	Tx
	// Update runs fn in one transaction and commits it if fn returns nil. It
	// may run fn more than once when the database reports a serialization
	// conflict, so fn must have no side effects outside tx.
	Update(ctx context.Context, fn func(tx Tx) error) error
	// RotateToken is a refresh's write: in one transaction it marks the
	// token with the given hash used at at, as MarkTokenUsed does, and, if
	// that marked it, stores ts (CreateTokens) and appends e (AppendEvent;
	// nil for none). It reports whether it marked the token; when it did
	// not (used already, or missing) it has written nothing. An error
	// (ErrConflict for a hash of ts already stored) leaves the token
	// unmarked. Two calls for one token, from any number of replicas, never
	// both get true. Unlike Update it may run at a weaker isolation level
	// (READ COMMITTED on PostgreSQL), as its single use rests on the
	// conditional UPDATE's row lock alone: rotations of different tokens do
	// not conflict.
	RotateToken(ctx context.Context, hash string, at time.Time, ts []Token, e *EventRecord) (bool, error)
	// ReadRefresh is a refresh's read, in one query: the token with the
	// given hash, the grant it belongs to and the count at now of each of
	// rates (at most MaxRefreshRates), as GetToken, GetGrant and RateCount
	// would return them but from one snapshot. It is ErrNotFound when the
	// token or its grant does not exist; a caller that must tell which, or
	// needs the counts anyway, reads them one by one.
	ReadRefresh(ctx context.Context, hash string, rates []RateWindow, now time.Time) (*RefreshRead, error)
	// ChangeSeq returns the change counter: a number that grows whenever
	// accounts, delegated administrators, users, groups, memberships,
	// permission sets, assignments, provisioned roles or revocations
	// change, on any replica. Caches of
	// those records compare it to decide whether to reload.
	ChangeSeq(ctx context.Context) (int64, error)
	// OnChange registers fn to be called after each write through this
	// handle that moved ChangeSeq has committed, before the write returns.
	// Caches in this process use it to drop what the write changed at
	// once, so that a revocation written here holds for the very next
	// request; writes on other replicas are not reported (readers compare
	// ChangeSeq for those). fn must be quick and must not use the store.
	OnChange(fn func())
	// Backend names the implementation: "sqlite" or "postgres".
	Backend() string
	Close() error
}

// RateWindow names one fixed-window counter of Tx.HitRate: its key and the
// window's length.
type RateWindow struct {
	Key    string
	Window time.Duration
}

// MaxRefreshRates is the most rate windows one Store.ReadRefresh reads.
const MaxRefreshRates = 4

// RefreshRead is what Store.ReadRefresh reads.
type RefreshRead struct {
	Token Token
	Grant Grant
	// Counts holds the count of each window asked for, in their order.
	Counts []int
}

// Page selects a slice of a list ordered by the record's key: records whose
// key is greater than After, at most Limit of them (0 means no limit).
type Page struct {
	After string
	Limit int
}

// Tx is the set of operations on the stored records. Writes return
// ErrConflict when a uniqueness rule is broken and ErrNotFound when the record
// to change does not exist.
type Tx interface {
	// Instance.
	GetInstance(ctx context.Context) (*Instance, error)
	CreateInstance(ctx context.Context, in *Instance) error

	// Instance settings (one record). GetSettings is ErrNotFound until
	// PutSettings first stores them; PutSettings replaces them.
	GetSettings(ctx context.Context) (*Settings, error)
	PutSettings(ctx context.Context, s *Settings) error

	// Keys (sealed key material; see Key).
	PutKey(ctx context.Context, k *Key) error
	ListKeys(ctx context.Context, purpose string) ([]Key, error)

	// Accounts, ordered by ID.
	CreateAccount(ctx context.Context, a *Account) error
	GetAccount(ctx context.Context, id string) (*Account, error)
	UpdateAccount(ctx context.Context, a *Account) error
	ListAccounts(ctx context.Context, p Page) ([]Account, error)

	// Create-account request statuses (Organizations), ordered by ID.
	PutCreateAccountStatus(ctx context.Context, s *CreateAccountStatus) error
	GetCreateAccountStatus(ctx context.Context, id string) (*CreateAccountStatus, error)
	ListCreateAccountStatuses(ctx context.Context, f CreateAccountStatusFilter) ([]CreateAccountStatus, error)

	// Delegated administrators (Organizations), one per (account, service
	// principal): a second registration is ErrConflict, deleting one that
	// is not there ErrNotFound. Lists are ordered by (AccountID,
	// ServicePrincipal). These writes move ChangeSeq: a registration
	// decides who may call the admin APIs.
	CreateDelegatedAdmin(ctx context.Context, d *DelegatedAdmin) error
	DeleteDelegatedAdmin(ctx context.Context, accountID, servicePrincipal string) error
	ListDelegatedAdmins(ctx context.Context, f DelegatedAdminFilter) ([]DelegatedAdmin, error)

	// Users, ordered by ID. User names are unique compared
	// case-insensitively; an external ID (Issuer, ID) belongs to at most one
	// user (ErrConflict otherwise).
	CreateUser(ctx context.Context, u *User) error
	GetUser(ctx context.Context, id string) (*User, error)
	GetUserByName(ctx context.Context, userName string) (*User, error)
	// GetUserByEmail returns the user, of lowest ID, whose primary e-mail
	// address (the first one when none is marked primary) equals email
	// ignoring case.
	GetUserByEmail(ctx context.Context, email string) (*User, error)
	// GetUserByExternalID returns the user holding the external ID.
	GetUserByExternalID(ctx context.Context, id ExternalID) (*User, error)
	UpdateUser(ctx context.Context, u *User) error
	// DeleteUser deletes the user and its group memberships and MFA devices.
	DeleteUser(ctx context.Context, id string) error
	ListUsers(ctx context.Context, p Page) ([]User, error)

	// Groups, ordered by ID. Display names are unique compared
	// case-insensitively; an external ID belongs to at most one group.
	CreateGroup(ctx context.Context, g *Group) error
	GetGroup(ctx context.Context, id string) (*Group, error)
	GetGroupByName(ctx context.Context, displayName string) (*Group, error)
	// GetGroupByExternalID returns the group holding the external ID.
	GetGroupByExternalID(ctx context.Context, id ExternalID) (*Group, error)
	UpdateGroup(ctx context.Context, g *Group) error
	// DeleteGroup deletes the group and its memberships.
	DeleteGroup(ctx context.Context, id string) error
	ListGroups(ctx context.Context, p Page) ([]Group, error)

	// Memberships, ordered by ID. One membership per (group, user).
	CreateMembership(ctx context.Context, m *Membership) error
	GetMembership(ctx context.Context, id string) (*Membership, error)
	FindMembership(ctx context.Context, groupID, userID string) (*Membership, error)
	DeleteMembership(ctx context.Context, id string) error
	ListMembershipsByGroup(ctx context.Context, groupID string, p Page) ([]Membership, error)
	ListMembershipsByUser(ctx context.Context, userID string, p Page) ([]Membership, error)

	// Permission sets, ordered by ID. Names are unique compared
	// case-insensitively.
	CreatePermissionSet(ctx context.Context, ps *PermissionSet) error
	GetPermissionSet(ctx context.Context, id string) (*PermissionSet, error)
	GetPermissionSetByName(ctx context.Context, name string) (*PermissionSet, error)
	UpdatePermissionSet(ctx context.Context, ps *PermissionSet) error
	DeletePermissionSet(ctx context.Context, id string) error
	ListPermissionSets(ctx context.Context, p Page) ([]PermissionSet, error)
	// CountPermissionSets returns how many permission sets there are (the
	// per-instance quota).
	CountPermissionSets(ctx context.Context) (int, error)

	// Tags of sso-admin resources other than permission sets (which keep
	// theirs in PermissionSet.Tags), by resource ARN. GetResourceTags
	// returns an empty list for a resource without tags; PutResourceTags
	// replaces every tag of the resource, and an empty list removes them.
	GetResourceTags(ctx context.Context, resourceARN string) ([]Tag, error)
	PutResourceTags(ctx context.Context, resourceARN string, tags []Tag) error

	// Account assignments. The key is the whole record less CreatedAt;
	// lists are ordered by (AccountID, PermissionSetID, PrincipalType,
	// PrincipalID) and Page.After is not used (filters are small).
	CreateAssignment(ctx context.Context, a *Assignment) error
	DeleteAssignment(ctx context.Context, a *Assignment) error
	ListAssignments(ctx context.Context, f AssignmentFilter) ([]Assignment, error)

	// Provisioned roles, one per (account, permission set).
	PutProvisionedRole(ctx context.Context, r *ProvisionedRole) error
	GetProvisionedRole(ctx context.Context, accountID, permissionSetID string) (*ProvisionedRole, error)
	DeleteProvisionedRole(ctx context.Context, accountID, permissionSetID string) error
	ListProvisionedRoles(ctx context.Context, f RoleFilter) ([]ProvisionedRole, error)

	// Asynchronous operation statuses (assignment creation and deletion,
	// permission set provisioning), ordered by CreatedAt then RequestID.
	PutOperation(ctx context.Context, op *Operation) error
	GetOperation(ctx context.Context, requestID string) (*Operation, error)
	ListOperations(ctx context.Context, f OperationFilter) ([]Operation, error)

	// Customer-managed policy documents an admin stored for an account.
	PutCustomerPolicy(ctx context.Context, p *CustomerPolicy) error
	GetCustomerPolicy(ctx context.Context, accountID, path, name string) (*CustomerPolicy, error)
	DeleteCustomerPolicy(ctx context.Context, accountID, path, name string) error
	ListCustomerPolicies(ctx context.Context, accountID string) ([]CustomerPolicy, error)

	// Audit events, ordered by (Time, ID). An event's Resources are
	// stored with it.
	AppendEvent(ctx context.Context, e *EventRecord) error
	// AppendEvents stores several events with fewer statements than one
	// AppendEvent each. An ID already stored, or twice in es, is
	// ErrConflict; the Store's own AppendEvents then stores none of es,
	// while inside Update some of the others may be stored, so return the
	// error to roll back.
	AppendEvents(ctx context.Context, es []EventRecord) error
	ListEvents(ctx context.Context, f EventFilter) ([]EventRecord, error)
	// DeleteEventsBefore deletes the events whose Time is before t and
	// returns how many it deleted (audit retention). It does not change
	// ChangeSeq.
	DeleteEventsBefore(ctx context.Context, t time.Time) (int, error)

	// OIDC client registrations.
	CreateClient(ctx context.Context, c *Client) error
	GetClient(ctx context.Context, id string) (*Client, error)
	DeleteExpiredClients(ctx context.Context, now time.Time) (int, error)

	// Device authorizations (RFC 8628), found by device-code hash or by
	// normalized user code.
	CreateDeviceAuth(ctx context.Context, d *DeviceAuth) error
	GetDeviceAuth(ctx context.Context, deviceCodeHash string) (*DeviceAuth, error)
	GetDeviceAuthByUserCode(ctx context.Context, userCode string) (*DeviceAuth, error)
	UpdateDeviceAuth(ctx context.Context, d *DeviceAuth) error

	// Authorization codes (PKCE), found by code hash.
	CreateAuthCode(ctx context.Context, c *AuthCode) error
	GetAuthCode(ctx context.Context, codeHash string) (*AuthCode, error)
	UpdateAuthCode(ctx context.Context, c *AuthCode) error

	// Grants: one per sign-in of a client (the OIDC session behind an access
	// and refresh token chain).
	CreateGrant(ctx context.Context, g *Grant) error
	GetGrant(ctx context.Context, id string) (*Grant, error)
	UpdateGrant(ctx context.Context, g *Grant) error
	ListGrantsByUser(ctx context.Context, userID string) ([]Grant, error)
	ListGrantsBySession(ctx context.Context, sessionID string) ([]Grant, error)

	// Tokens (access and refresh), found by keyed hash.
	CreateToken(ctx context.Context, t *Token) error
	GetToken(ctx context.Context, hash string) (*Token, error)
	UpdateToken(ctx context.Context, t *Token) error
	// CreateTokens stores several tokens (a rotation's access and refresh
	// token) in one statement per pair rather than one per token. A hash
	// already stored, or twice in ts, is ErrConflict; the Store's own
	// CreateTokens then stores none of ts, while inside Update some of the
	// others may be stored, so return the error to roll back.
	CreateTokens(ctx context.Context, ts []Token) error
	// MarkTokenUsed sets UsedAt of the token with the given hash to at if
	// it is not used yet, in one conditional statement, and reports whether
	// it did: false when the token is used already or does not exist. Two
	// calls for one token, from any number of replicas, never both get true.
	MarkTokenUsed(ctx context.Context, hash string, at time.Time) (bool, error)

	// Portal (browser) sessions, found by the hash of the cookie value.
	CreateSession(ctx context.Context, s *Session) error
	GetSession(ctx context.Context, idHash string) (*Session, error)
	UpdateSession(ctx context.Context, s *Session) error
	ListSessionsByUser(ctx context.Context, userID string) ([]Session, error)

	// Revocations end credentials issued before At to a user or session.
	PutRevocation(ctx context.Context, r *Revocation) error
	ListRevocations(ctx context.Context, since time.Time) ([]Revocation, error)

	// HitRate counts one event for key in the fixed window of the given
	// length that contains now and returns the window's count so far,
	// including this one.
	HitRate(ctx context.Context, key string, window time.Duration, now time.Time) (int, error)
	// ResetRate forgets the counts for key.
	ResetRate(ctx context.Context, key string) error
	// RateCount returns key's count in the fixed window of the given length
	// that contains now, as HitRate would before counting; it writes
	// nothing.
	RateCount(ctx context.Context, key string, window time.Duration, now time.Time) (int, error)

	// ReserveAttempt counts one attempt under key, in one atomic statement,
	// if rule allows one at now: fewer than rule.Limit counted and
	// NotBefore not after now. It returns the counter after counting and
	// true, or the counter as it stands and false when the attempt is
	// refused. A counter past its ExpiresAt counts as empty. Callers
	// reserve before the work the counter guards (a password hash), so that
	// concurrent attempts cannot all pass one check.
	ReserveAttempt(ctx context.Context, key string, rule AttemptRule, now time.Time) (Attempts, bool, error)
	// GetAttempts returns key's counter as of now (the zero Attempts when
	// there is none or it expired); it writes nothing.
	GetAttempts(ctx context.Context, key string, now time.Time) (Attempts, error)
	// RefundAttempt uncounts one attempt under key (never below zero),
	// keeping NotBefore.
	RefundAttempt(ctx context.Context, key string) error
	// ResetAttempts forgets key's counter.
	ResetAttempts(ctx context.Context, key string) error

	// PutUseMarker records that the thing key names (a hash of a sealed
	// value) has been used, until expiresAt. A marker already stored under
	// key is ErrConflict, even if it has expired but was not yet deleted.
	PutUseMarker(ctx context.Context, key string, expiresAt time.Time) error
	// HasUseMarker reports whether a marker under key is stored and has not
	// expired by now.
	HasUseMarker(ctx context.Context, key string, now time.Time) (bool, error)

	// MFA devices, ordered by CreatedAt.
	CreateMFADevice(ctx context.Context, d *MFADevice) error
	ListMFADevices(ctx context.Context, userID string) ([]MFADevice, error)
	UpdateMFADevice(ctx context.Context, d *MFADevice) error
	DeleteMFADevice(ctx context.Context, userID, id string) error

	// IAM users of automation access, in their account. GetIAMUser finds a
	// user by name compared case-insensitively; ListIAMUsers orders an
	// account's users by that lower-cased name, which Page.After holds.
	// DeleteIAMUser deletes the user's access keys too.
	CreateIAMUser(ctx context.Context, u *IAMUser) error
	GetIAMUser(ctx context.Context, accountID, userName string) (*IAMUser, error)
	GetIAMUserByID(ctx context.Context, id string) (*IAMUser, error)
	UpdateIAMUser(ctx context.Context, u *IAMUser) error
	DeleteIAMUser(ctx context.Context, id string) error
	ListIAMUsers(ctx context.Context, accountID string, p Page) ([]IAMUser, error)

	// Access keys of IAM users, listed by user ordered by CreatedAt then ID.
	CreateAccessKey(ctx context.Context, k *AccessKey) error
	GetAccessKey(ctx context.Context, id string) (*AccessKey, error)
	// UpdateAccessKey stores k's Status and ExpiresAt.
	UpdateAccessKey(ctx context.Context, k *AccessKey) error
	DeleteAccessKey(ctx context.Context, id string) error
	ListAccessKeys(ctx context.Context, userID string) ([]AccessKey, error)
	// TouchAccessKey records a use of the key at usedAt, unless a use at
	// or after usedAt is recorded already. It does not move ChangeSeq, and
	// a missing key is not an error (it may just have been deleted).
	TouchAccessKey(ctx context.Context, id string, usedAt time.Time, service, region string) error

	// OpenID Connect providers, found by ARN, listed by account ordered by
	// ARN. One provider per (account, URL): a second is ErrConflict.
	CreateOIDCProvider(ctx context.Context, p *OIDCProvider) error
	GetOIDCProvider(ctx context.Context, arn string) (*OIDCProvider, error)
	// UpdateOIDCProvider stores p's ClientIDs, Thumbprints and Tags.
	UpdateOIDCProvider(ctx context.Context, p *OIDCProvider) error
	DeleteOIDCProvider(ctx context.Context, arn string) error
	ListOIDCProviders(ctx context.Context, accountID string) ([]OIDCProvider, error)

	// Link tokens (invitations, password resets, first-admin setup), found
	// by hash. PutLinkToken replaces any token of the same Kind and UserID,
	// so a resent link invalidates the one sent before. TakeLinkToken
	// deletes the token and returns it, expired or not (the caller decides
	// what an expired one means); a token already taken, or never stored,
	// is ErrNotFound, so of two concurrent takes only one succeeds.
	// DeleteLinkTokens deletes every token of the user (the account was
	// deleted or its password was just set).
	PutLinkToken(ctx context.Context, t *LinkToken) error
	GetLinkToken(ctx context.Context, hash string) (*LinkToken, error)
	TakeLinkToken(ctx context.Context, hash string) (*LinkToken, error)
	DeleteLinkTokens(ctx context.Context, userID string) error

	// SCIM bearer tokens, found by keyed hash; listed ordered by
	// CreatedAt then ID. A second token with the same ID or Hash is
	// ErrConflict; deleting a missing one ErrNotFound. TouchSCIMToken
	// records a use at usedAt unless a use at or after it is recorded
	// already; a missing token is not an error. None of these move
	// ChangeSeq.
	CreateSCIMToken(ctx context.Context, t *SCIMToken) error
	GetSCIMTokenByHash(ctx context.Context, hash string) (*SCIMToken, error)
	ListSCIMTokens(ctx context.Context) ([]SCIMToken, error)
	DeleteSCIMToken(ctx context.Context, id string) error
	TouchSCIMToken(ctx context.Context, id string, usedAt time.Time) error

	// Outbox: e-mail kept for administrators. AppendOutbox stores m and
	// then deletes all but the newest keep messages (keep <= 0 keeps all);
	// ListOutbox returns the newest limit messages (0: all), newest first.
	AppendOutbox(ctx context.Context, m *OutboxMessage, keep int) error
	ListOutbox(ctx context.Context, limit int) ([]OutboxMessage, error)

	// Identity sources, one per Kind, listed by Kind. PutIdentitySource
	// stores s's Settings, SealedSecret and update stamp, creating the
	// record inactive or keeping its Active flag. ActivateIdentitySource
	// makes kind the only active source ("directory" deactivates all);
	// a kind without a record is ErrNotFound.
	GetIdentitySource(ctx context.Context, kind string) (*IdentitySource, error)
	PutIdentitySource(ctx context.Context, s *IdentitySource) error
	ListIdentitySources(ctx context.Context) ([]IdentitySource, error)
	ActivateIdentitySource(ctx context.Context, kind string) error

	// Account links, one per account, listed by AccountID. PutAccountLink
	// creates or replaces the link; DeleteAccountLink of a missing one is
	// ErrNotFound. These writes move ChangeSeq: a link decides where an
	// account's credentials come from.
	PutAccountLink(ctx context.Context, l *AccountLink) error
	GetAccountLink(ctx context.Context, accountID string) (*AccountLink, error)
	ListAccountLinks(ctx context.Context) ([]AccountLink, error)
	DeleteAccountLink(ctx context.Context, accountID string) error

	// DeleteExpired removes codes, tokens, device authorizations, sessions,
	// grants, rate counters, attempt counters, use markers, link tokens and
	// revocations that ended before now, and SCIM tokens that expired more
	// than SCIMTokenRetention before now. It is idempotent and safe to run on every
	// replica.
	DeleteExpired(ctx context.Context, now time.Time) error
}
