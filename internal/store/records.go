package store

import (
	"encoding/json"
	"time"
)

// Instance is the one Identity Center instance of a deployment, created at
// first start.
type Instance struct {
	InstanceID          string // ssoins-<16 hex>
	IdentityStoreID     string // d-<10 hex>
	ManagementAccountID string
	Name                string
	Region              string
	StartURL            string
	CreatedAt           time.Time
}

// Key is key material sealed with the deployment's master key. Purpose names
// its use ("token-hmac", "session-seal", ...); the newest active key of a
// purpose is used for new values, older ones still verify.
type Key struct {
	ID        string
	Purpose   string
	Sealed    []byte
	CreatedAt time.Time
	Active    bool
}

// Account is an AWS account that permission sets are provisioned into, a
// member of the organization (AWS Organizations' Account).
type Account struct {
	ID    string // 12 digits
	Name  string
	Email string
	// State is AccountActive or AccountSuspended (closed); accounts
	// stored before organizations existed read as AccountActive.
	State        string
	JoinedMethod string // JoinedCreated or JoinedInvited
	Tags         []Tag
	CreatedAt    time.Time
	ClosedAt     time.Time // zero while the account is open
}

// Account states, as Organizations names them (Account.State).
const (
	AccountActive    = "ACTIVE"
	AccountSuspended = "SUSPENDED"
)

// How an account joined the organization (Account.JoinedMethod).
const (
	JoinedCreated = "CREATED"
	JoinedInvited = "INVITED"
)

// CreateAccountStatus is the status of an Organizations CreateAccount
// request, kept so that DescribeCreateAccountStatus can report it.
type CreateAccountStatus struct {
	ID            string // car-<lower-case alphanumerics>
	AccountName   string
	State         string // CreateAccountInProgress, CreateAccountSucceeded or CreateAccountFailed
	FailureReason string // e.g. EMAIL_ALREADY_EXISTS
	AccountID     string // set once it succeeded
	RequestedAt   time.Time
	CompletedAt   time.Time
}

// CreateAccount request states.
const (
	CreateAccountInProgress = "IN_PROGRESS"
	CreateAccountSucceeded  = "SUCCEEDED"
	CreateAccountFailed     = "FAILED"
)

// CreateAccountStatusFilter selects create-account statuses, ordered by ID,
// in any of States (every state when empty).
type CreateAccountStatusFilter struct {
	States []string
	Page   Page
}

// DelegatedAdmin is a member account registered as a delegated
// administrator of an AWS service (Organizations
// RegisterDelegatedAdministrator): for Identity Center,
// sso.amazonaws.com, its sessions may call the admin APIs.
type DelegatedAdmin struct {
	AccountID        string
	ServicePrincipal string
	// EnabledAt is when the registration was made
	// (DelegationEnabledDate).
	EnabledAt time.Time
}

// DelegatedAdminFilter selects delegated administrators, ordered by
// (AccountID, ServicePrincipal): those of AccountID and of
// ServicePrincipal when they are set. Page.After compares account IDs
// (rows of accounts after it), and Page.Limit counts rows.
type DelegatedAdminFilter struct {
	AccountID        string
	ServicePrincipal string
	Page             Page
}

// User is an identity-store user. Every attribute is stored as the admin
// (or the identity source) set it, so that DescribeUser returns exactly the
// attributes that were set and nothing more.
type User struct {
	ID          string
	UserName    string
	DisplayName string
	Name        UserName
	Emails      []Email
	// Profile holds the remaining identity-store attributes (NickName,
	// Title, Addresses, ...).
	Profile UserProfile
	// ExternalIDs are the identifiers an external identity source gave the
	// user; unique per (Issuer, ID) among users.
	ExternalIDs []ExternalID
	// Disabled says the user may not sign in and nothing issued to them
	// works: an administrator disabled them (AdminDisabled), the identity
	// source's SCIM client set them inactive (SourceInactive), or a
	// directory sync (LDAP) disabled them. SetAdminDisabled and
	// SetSourceInactive keep it in step with the two sides.
	Disabled bool
	// AdminDisabled says an administrator disabled the user in Gatehouse
	// (console, Gatehouse admin API); only an administrator lifts it.
	AdminDisabled bool
	// SourceInactive says the identity source last set the user
	// "active": false over SCIM (RFC 7643 §4.1.1); only the source lifts
	// it, and SCIM reads report it.
	SourceInactive bool
	PasswordHash   string // argon2id PHC string; empty until the user sets one
	CreatedAt      time.Time
	UpdatedAt      time.Time
	CreatedBy      string
	UpdatedBy      string
}

// SetAdminDisabled records an administrator's disable (true) or enable
// (false): the user is disabled while either the administrator or the
// identity source disables them.
func (u *User) SetAdminDisabled(disabled bool) {
	u.AdminDisabled = disabled
	u.Disabled = disabled || u.SourceInactive
}

// DisabledInGatehouse says the user is disabled on Gatehouse's side (by an
// administrator, or by a directory sync), not only by the SCIM source's
// "active": false: what an administrator's enable lifts.
func (u *User) DisabledInGatehouse() bool {
	return u.Disabled && (u.AdminDisabled || !u.SourceInactive)
}

// SetSourceInactive records the identity source's "active" (inactive ==
// !active): the user is disabled while either the administrator or the
// identity source disables them.
func (u *User) SetSourceInactive(inactive bool) {
	u.SourceInactive = inactive
	u.Disabled = inactive || u.AdminDisabled
}

// UserName holds the parts of a user's name.
type UserName struct {
	Formatted       string `json:"Formatted,omitempty"`
	FamilyName      string `json:"FamilyName,omitempty"`
	GivenName       string `json:"GivenName,omitempty"`
	MiddleName      string `json:"MiddleName,omitempty"`
	HonorificPrefix string `json:"HonorificPrefix,omitempty"`
	HonorificSuffix string `json:"HonorificSuffix,omitempty"`
}

// Email is one of a user's e-mail addresses.
type Email struct {
	Value   string `json:"Value,omitempty"`
	Type    string `json:"Type,omitempty"`
	Primary bool   `json:"Primary,omitempty"`
}

// PrimaryEmail is the address of emails marked primary (the first such),
// the first address when none is, or "" when there are none.
func PrimaryEmail(emails []Email) string {
	for _, e := range emails {
		if e.Primary {
			return e.Value
		}
	}
	if len(emails) > 0 {
		return emails[0].Value
	}
	return ""
}

// UserProfile holds a user's identity-store attributes beyond the name and
// e-mail addresses, named as the identitystore API names them
// (botocore identitystore/2020-06-15 shape User). Empty fields are unset.
type UserProfile struct {
	NickName          string        `json:"NickName,omitempty"`
	ProfileURL        string        `json:"ProfileUrl,omitempty"`
	Addresses         []Address     `json:"Addresses,omitempty"`
	PhoneNumbers      []PhoneNumber `json:"PhoneNumbers,omitempty"`
	UserType          string        `json:"UserType,omitempty"`
	Title             string        `json:"Title,omitempty"`
	PreferredLanguage string        `json:"PreferredLanguage,omitempty"`
	Locale            string        `json:"Locale,omitempty"`
	Timezone          string        `json:"Timezone,omitempty"`
	Website           string        `json:"Website,omitempty"`
	Birthdate         string        `json:"Birthdate,omitempty"` // YYYY-MM-DD, as sent
	Photos            []Photo       `json:"Photos,omitempty"`
	Roles             []Role        `json:"Roles,omitempty"`
	// Extensions maps an extension name (aws:identitystore:enterprise) to
	// its JSON object.
	Extensions map[string]json.RawMessage `json:"Extensions,omitempty"`
}

// Address is a user's postal address.
type Address struct {
	StreetAddress string `json:"StreetAddress,omitempty"`
	Locality      string `json:"Locality,omitempty"`
	Region        string `json:"Region,omitempty"`
	PostalCode    string `json:"PostalCode,omitempty"`
	Country       string `json:"Country,omitempty"`
	Formatted     string `json:"Formatted,omitempty"`
	Type          string `json:"Type,omitempty"`
	Primary       bool   `json:"Primary,omitempty"`
}

// PhoneNumber is a user's phone number.
type PhoneNumber struct {
	Value   string `json:"Value,omitempty"`
	Type    string `json:"Type,omitempty"`
	Primary bool   `json:"Primary,omitempty"`
}

// Photo is a link to a picture of the user.
type Photo struct {
	Value   string `json:"Value,omitempty"`
	Type    string `json:"Type,omitempty"`
	Display string `json:"Display,omitempty"`
	Primary bool   `json:"Primary,omitempty"`
}

// Role is a user's role (a free-form label, not an IAM role).
type Role struct {
	Value   string `json:"Value,omitempty"`
	Type    string `json:"Type,omitempty"`
	Primary bool   `json:"Primary,omitempty"`
}

// ExternalID is an identifier an external identity source gave a user or
// group.
type ExternalID struct {
	Issuer string `json:"Issuer"`
	ID     string `json:"Id"`
}

// Group is an identity-store group. Groups contain users only.
type Group struct {
	ID          string
	DisplayName string
	Description string
	// ExternalIDs are unique per (Issuer, ID) among groups.
	ExternalIDs []ExternalID
	CreatedAt   time.Time
	UpdatedAt   time.Time
	CreatedBy   string
	UpdatedBy   string
}

// Membership puts a user in a group.
type Membership struct {
	ID        string
	GroupID   string
	UserID    string
	CreatedAt time.Time
	CreatedBy string
}

// PermissionSet is a template of policies provisioned as a role into the
// accounts it is assigned in.
type PermissionSet struct {
	ID               string // ps-<16 hex>
	Name             string
	Description      string
	SessionDuration  time.Duration
	RelayState       string
	ManagedPolicies  []string // AWS-managed policy ARNs, in attach order
	CustomerPolicies []PolicyRef
	InlinePolicy     string
	Boundary         *Boundary
	Tags             []Tag
	// Version grows with every change to what a provisioned role carries
	// (policies, boundary, session duration); a role provisioned at an older
	// version is LATEST_PERMISSION_SET_NOT_PROVISIONED.
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// PolicyRef names a customer-managed policy by name and path.
type PolicyRef struct {
	Name string `json:"Name"`
	Path string `json:"Path"`
}

// Boundary is a permissions boundary: exactly one of its fields is set.
type Boundary struct {
	ManagedPolicyARN string     `json:"ManagedPolicyArn,omitempty"`
	CustomerPolicy   *PolicyRef `json:"CustomerManagedPolicyReference,omitempty"`
}

// Tag is a key/value tag on an sso-admin resource.
type Tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

// Principal types of an assignment.
const (
	PrincipalUser  = "USER"
	PrincipalGroup = "GROUP"
)

// Assignment gives a user or group a permission set in an account.
type Assignment struct {
	AccountID       string
	PermissionSetID string
	PrincipalType   string // PrincipalUser or PrincipalGroup
	PrincipalID     string
	CreatedAt       time.Time
}

// AssignmentFilter selects assignments; empty fields match everything.
type AssignmentFilter struct {
	AccountID       string
	PermissionSetID string
	PrincipalType   string
	PrincipalID     string
}

// ProvisionedRole is the AWSReservedSSO_ role a permission set has in an
// account while at least one assignment uses it there.
type ProvisionedRole struct {
	AccountID       string
	PermissionSetID string
	RoleName        string // AWSReservedSSO_<PS>_<suffix>
	RoleID          string // AROA...
	// PermissionSetVersion is the permission set's Version when this role
	// was last provisioned.
	PermissionSetVersion int64
	CreatedAt            time.Time
	UpdatedAt            time.Time
}

// RoleFilter selects provisioned roles; empty fields match everything.
type RoleFilter struct {
	AccountID       string
	PermissionSetID string
}

// Kinds of asynchronous operation.
const (
	OpCreateAssignment = "CREATE_ASSIGNMENT"
	OpDeleteAssignment = "DELETE_ASSIGNMENT"
	OpProvision        = "PROVISION_PERMISSION_SET"
)

// Statuses of an asynchronous operation.
const (
	StatusInProgress = "IN_PROGRESS"
	StatusFailed     = "FAILED"
	StatusSucceeded  = "SUCCEEDED"
)

// Operation is the status of an asynchronous sso-admin request.
type Operation struct {
	RequestID       string
	Kind            string
	Status          string
	FailureReason   string
	AccountID       string // TargetId; empty for ALL_PROVISIONED_ACCOUNTS
	PermissionSetID string
	PrincipalType   string
	PrincipalID     string
	CreatedAt       time.Time
}

// OperationFilter selects operations of one kind, optionally by status.
type OperationFilter struct {
	Kind   string
	Status string
	Page   Page // After is a RequestID
}

// CustomerPolicy is a customer-managed IAM policy document stored for an
// account, so that permission sets referring to it by name and path can be
// provisioned and evaluated.
type CustomerPolicy struct {
	AccountID string
	Path      string
	Name      string
	// Document is the default version's document, the one evaluated.
	Document  string
	CreatedAt time.Time
	UpdatedAt time.Time
	// ID is the policy's unique ID, "ANPA" and 17 characters; empty for a
	// policy stored before IAM managed it (package automation then derives
	// a stable one).
	ID          string
	Description string
	// DefaultVersion is the ID ("v1", "v2", …) of the version in force;
	// empty with Versions for a policy stored before IAM managed it.
	DefaultVersion string
	// Versions are the stored versions, oldest first (at most five).
	Versions []PolicyVersion
	// NextVersion is the number the next version gets; numbers are never
	// reused, as IAM never reuses them.
	NextVersion int
	Tags        []Tag
}

// PolicyVersion is one version of a customer-managed policy.
type PolicyVersion struct {
	ID        string    `json:"VersionId"`
	Document  string    `json:"Document"`
	CreatedAt time.Time `json:"CreateDate"`
}

// EventRecord is one stored audit event. Record is the CloudTrail-shaped JSON.
type EventRecord struct {
	ID          string
	Time        time.Time
	Source      string // eventSource, e.g. sso.amazonaws.com
	Name        string // eventName, e.g. CreatePermissionSet
	Principal   string // who acted (user name, ARN or "system")
	ErrorCode   string
	ReadOnly    bool   // the call changed nothing
	AccessKeyID string // the caller's access key, if it signed with one
	// Resources are the resources the event is about, as CloudTrail's
	// LookupEvents reports them.
	Resources []EventResource
	Record    []byte
}

// EventResource is one resource an event is about: a type such as
// AWS::Organizations::Account and a name (an ID or ARN).
type EventResource struct {
	Type string `json:"ResourceType"`
	Name string `json:"ResourceName"`
}

// EventFilter selects audit events in [Start, End), ordered by (Time, ID),
// or newest first when Newest is set; After is the ID of the last event
// already seen. Every non-empty field must match.
type EventFilter struct {
	Start, End   time.Time
	ID           string
	Name         string
	Source       string
	Principal    string
	AccessKeyID  string
	ReadOnly     *bool
	ResourceType string // some resource of the event has this type
	ResourceName string // some resource of the event has this name
	Newest       bool
	Page         Page
}

// Client is an sso-oidc client registration.
type Client struct {
	ID           string
	SecretHash   string
	Name         string
	Type         string
	Scopes       []string
	GrantTypes   []string
	RedirectURIs []string
	IssuerURL    string
	IssuedAt     time.Time
	ExpiresAt    time.Time
}

// Device authorization states.
const (
	DevicePending  = "PENDING"
	DeviceApproved = "APPROVED"
	DeviceDenied   = "DENIED"
	DeviceRedeemed = "REDEEMED"
)

// DeviceAuth is a pending device authorization (RFC 8628).
type DeviceAuth struct {
	DeviceCodeHash string
	UserCode       string // normalized: 8 upper-case letters, no dash
	ClientID       string
	StartURL       string
	Scopes         []string
	Status         string
	UserID         string // who approved or denied it
	SessionID      string // the portal session that approved it
	Interval       time.Duration
	LastPolledAt   time.Time
	CreatedAt      time.Time
	ExpiresAt      time.Time
}

// AuthCode is a single-use PKCE authorization code.
type AuthCode struct {
	CodeHash    string
	ClientID    string
	RedirectURI string
	Challenge   string
	Scopes      []string
	UserID      string
	SessionID   string
	GrantID     string // set when redeemed: the grant it created
	UsedAt      time.Time
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// Grant is one client's sign-in: the chain of access and refresh tokens
// issued from one device code or authorization code.
type Grant struct {
	ID        string
	ClientID  string
	UserID    string
	SessionID string // the portal session it came from
	Scopes    []string
	MFA       bool
	AuthTime  time.Time
	CreatedAt time.Time
	ExpiresAt time.Time // when the portal session behind it ends
	RevokedAt time.Time // zero while valid
}

// Token kinds.
const (
	TokenAccess  = "access"
	TokenRefresh = "refresh"
)

// Token is an access or refresh token, stored only as a keyed hash.
type Token struct {
	Hash      string
	Kind      string
	GrantID   string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time // refresh tokens: when it was exchanged
}

// Session is a portal (browser) session.
type Session struct {
	IDHash    string
	UserID    string
	MFA       bool
	AuthTime  time.Time
	SourceIP  string
	UserAgent string
	CreatedAt time.Time
	ExpiresAt time.Time
	RevokedAt time.Time
}

// Revocation subjects.
const (
	RevokeUser    = "user"
	RevokeSession = "session" // a portal session ID hash
	RevokeGrant   = "grant"
)

// Revocation ends every credential issued to Subject before At.
type Revocation struct {
	Kind      string // RevokeUser, RevokeSession or RevokeGrant
	Subject   string
	At        time.Time
	ExpiresAt time.Time // after this no credential it covers can be valid
}

// MFADevice is a user's authenticator.
type MFADevice struct {
	ID         string
	UserID     string
	Type       string // "TOTP" or "WEBAUTHN"
	Name       string
	Sealed     []byte // the TOTP seed or WebAuthn credential, sealed
	LastStep   int64  // TOTP: last accepted time step, against replay
	CreatedAt  time.Time
	LastUsedAt time.Time
}

// AttemptRule says how ReserveAttempt counts attempts under one key:
// a hard limit, free attempts, then growing delays (NIST SP 800-63B
// §5.2.2 throttling).
type AttemptRule struct {
	// Limit refuses every attempt once this many are counted, until the
	// counter expires or is reset; 0 means no limit.
	Limit int
	// Free is how many attempts are counted before delays begin: the
	// Free-th attempt and every later one make the next attempt wait. 0
	// means delays never begin.
	Free int
	// Delay is the first wait; each later attempt doubles it, up to
	// MaxDelay.
	Delay, MaxDelay time.Duration
	// TTL is how long after its last counted attempt a counter is
	// forgotten.
	TTL time.Duration
}

// Attempts is the state of an attempt counter. The zero value is a counter
// with nothing counted.
type Attempts struct {
	// Count is how many attempts are counted.
	Count int
	// NotBefore is the earliest time the next attempt is allowed.
	NotBefore time.Time
	// ExpiresAt is when the counter will be forgotten.
	ExpiresAt time.Time
}

// Settings are the instance settings an administrator changes at run time
// (internal/settings validates them and says what each value means).
type Settings struct {
	// MFAPolicy is "always", "new-browser" or "off".
	MFAPolicy string
	// PortalSessionDuration is how long a new portal session lasts.
	PortalSessionDuration time.Duration
	UpdatedAt             time.Time
	// UpdatedBy names who stored them (the audit actor's user name).
	UpdatedBy string
}

// IdentitySource is the stored configuration of one external identity
// source (DESIGN §1): at most one record per Kind, at most one of them
// Active. No active record means the built-in directory.
type IdentitySource struct {
	// Kind is "saml", "oidc" or "ldap".
	Kind string
	// Settings are the source's non-secret settings by name.
	Settings map[string]string
	// SealedSecret is the source's secret (an OIDC client secret, an LDAP
	// bind password) sealed by the keyring; nil when it has none.
	SealedSecret []byte
	// Active says the source is the one people sign in through.
	Active    bool
	UpdatedAt time.Time
	UpdatedBy string
}

// Link statuses of an AccountLink.
const (
	// LinkPending: stored, not yet set up in the account (the SAML
	// provider not yet registered).
	LinkPending = "PENDING"
	// LinkActive: set up; credentials for the account come from its STS.
	LinkActive = "ACTIVE"
	// LinkFailed: setting up failed; StatusReason says why.
	LinkFailed = "FAILED"
)

// AccountLink links an account to a real AWS account (or an IAM/STS-
// compatible endpoint) reached with the stored credentials (DESIGN §1,
// "Linked account"): the permission sets' roles are provisioned there
// through IAM and role credentials come from its STS by
// AssumeRoleWithSAML.
type AccountLink struct {
	AccountID string
	// Endpoint is the IAM/STS endpoint URL; "" means real AWS. Links made
	// since awsaccounts canonicalizes it hold scheme://host:port
	// (awsaccounts.CanonicalEndpoint); older ones may hold it as typed.
	Endpoint string
	// Region signs the calls (and picks STS's regional endpoint on AWS).
	Region string
	// AccessKeyID and SealedSecret are the credentials Gatehouse calls
	// with: a principal in the account that may manage IAM roles and SAML
	// providers, or base credentials that assume RoleARN. SealedSecret is
	// the secret access key sealed by the keyring.
	AccessKeyID  string
	SealedSecret []byte
	// RoleARN, when set, is assumed with the credentials before every
	// call (OrganizationAccountAccessRole by default for member accounts);
	// ExternalID goes with that AssumeRole when set.
	RoleARN    string
	ExternalID string
	// SAMLProviderARN is Gatehouse's SAML provider in the account, once
	// registered.
	SAMLProviderARN string
	// Status is LinkPending, LinkActive or LinkFailed; StatusReason says
	// why it failed.
	Status       string
	StatusReason string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	UpdatedBy    string
}
