// Package organizations manages the accounts of a deployment the way AWS
// Organizations does, for the subset Identity Center admins use
// (DescribeOrganization, ListAccounts, DescribeAccount, CreateAccount and
// its status, CloseAccount, ListRoots, ListParents, tags, Identity
// Center's delegated administrator): one
// organization with one root, every account a child of the root, the
// management account the one that owns the instance.
//
// Closing an account ends access to it: its account assignments and
// provisioned roles go in the same transaction, so role credentials issued
// for it stop verifying (the entitlement check of every signed request) and
// it leaves the access portal. The account itself stays listed as
// SUSPENDED, and CLOSED once AWS's 90-day post-closure period has passed
// (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_accounts_close.html).
package organizations

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// Service manages the organization's accounts.
type Service struct {
	Store    store.Store
	Audit    *audit.Recorder
	IDs      arn.Generator
	Now      func() time.Time
	Instance *store.Instance
}

// Limits (AWS Organizations quotas,
// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html,
// and the botocore organizations 2016-11-28 model).
const (
	// MaxTags is the number of tags one resource may carry.
	MaxTags = 50
	// PostClosurePeriod is how long a closed account stays SUSPENDED
	// before it reads as CLOSED.
	PostClosurePeriod = 90 * 24 * time.Hour
	// RootName is the name of the organization's one root.
	RootName = "Root"
	// DefaultRoleName is the role CreateAccount would create in the new
	// account when RoleName is omitted.
	DefaultRoleName = "OrganizationAccountAccessRole"
)

// Resource types of NotFound errors; the API maps each to its own
// exception (AccountNotFoundException, ...).
const (
	ResourceAccount      = "ACCOUNT"
	ResourceCreateStatus = "CREATE_ACCOUNT_STATUS"
	ResourceChild        = "CHILD"
	ResourceTarget       = "TARGET"
)

// Reasons of Validation (InvalidInputException) and Conflict or
// QuotaExceeded (ConstraintViolationException) errors, as the model
// names them.
const (
	ReasonInvalidPattern      = "INVALID_PATTERN"
	ReasonInvalidEnum         = "INVALID_ENUM"
	ReasonInputRequired       = "INPUT_REQUIRED"
	ReasonMinLength           = "MIN_LENGTH_EXCEEDED"
	ReasonMaxLength           = "MAX_LENGTH_EXCEEDED"
	ReasonDuplicateTagKey     = "DUPLICATE_TAG_KEY"
	ReasonTargetNotSupported  = "TARGET_NOT_SUPPORTED"
	ReasonInvalidRoleName     = "INVALID_ROLE_NAME"
	ReasonInvalidSystemTags   = "INVALID_SYSTEM_TAGS_PARAMETER"
	ReasonCannotCloseMgmt     = "CANNOT_CLOSE_MANAGEMENT_ACCOUNT"
	ReasonMaxTagLimitExceeded = "MAX_TAG_LIMIT_EXCEEDED"
	// ReasonAlreadyClosed marks the Conflict that is the model's
	// AccountAlreadyClosedException (which has no Reason member).
	ReasonAlreadyClosed        = "ACCOUNT_ALREADY_CLOSED"
	FailureEmailAlreadyExists  = "EMAIL_ALREADY_EXISTS"
	FailureInternal            = "INTERNAL_FAILURE"
	resourceTypeAccount        = "AWS::Organizations::Account"
	resourceTypeCreateStatus   = "AWS::Organizations::CreateAccountStatus"
	hiddenDueToSecurityReasons = "HIDDEN_DUE_TO_SECURITY_REASONS"
)

var (
	// Patterns of the botocore organizations model.
	emailRe         = regexp.MustCompile(`^[^\s@]+@[^\s@]+\.[^\s@]+$`)
	createNameRe    = regexp.MustCompile(`^[\x20-\x7E]+$`)
	roleNameRe      = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	createStatusRe  = regexp.MustCompile(`^car-[a-z0-9]{8,32}$`)
	ouIDRe          = regexp.MustCompile(`^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$`)
	rootIDRe        = regexp.MustCompile(`^r-[0-9a-z]{4,32}$`)
	taggableOtherRe = regexp.MustCompile(`^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|p-[0-9a-zA-Z_]{8,128}|rp-[0-9a-zA-Z_]{4,128}|rt-[0-9a-zA-Z_]{8,32})$`)
	tagRe           = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
)

func invalid(reason, format string, args ...any) *fault.Error {
	e := fault.Validationf(format, args...)
	e.Reason = reason
	return e
}

func constraint(reason, format string, args ...any) *fault.Error {
	e := fault.Conflictf(format, args...)
	e.Reason = reason
	return e
}

// ids derives the organization and root IDs from the instance ID: they are
// as stable as the instance and need no storage.
func ids(instanceID string) (orgID, rootID string) {
	sum := sha256.Sum256([]byte("gatehouse organization\x00" + instanceID))
	h := hex.EncodeToString(sum[:])
	return "o-" + h[:10], "r-" + h[10:14]
}

// Organization is the deployment's one organization.
type Organization struct {
	ID                     string
	ARN                    string
	FeatureSet             string
	ManagementAccountID    string
	ManagementAccountARN   string
	ManagementAccountEmail string
}

// Root is the organization's one root.
type Root struct {
	ID   string
	ARN  string
	Name string
}

// ServiceAccess is an AWS service with trusted access to the organization.
type ServiceAccess struct {
	Principal string // e.g. sso.amazonaws.com
	Enabled   time.Time
}

// ServiceAccess returns the services with trusted access to the
// organization: only IAM Identity Center (sso.amazonaws.com), which this
// deployment is, since its instance was created. AWS enables it with the
// instance
// (https://docs.aws.amazon.com/organizations/latest/userguide/services-that-can-integrate-sso.html).
func (s *Service) ServiceAccess() []ServiceAccess {
	return []ServiceAccess{{Principal: "sso.amazonaws.com", Enabled: s.Instance.CreatedAt}}
}

// OrganizationID returns the organization's ID (o-...).
func (s *Service) OrganizationID() string {
	o, _ := ids(s.Instance.InstanceID)
	return o
}

// Root returns the organization's root.
func (s *Service) Root() Root {
	o, r := ids(s.Instance.InstanceID)
	return Root{ID: r, Name: RootName,
		ARN: fmt.Sprintf("arn:aws:organizations::%s:root/%s/%s", s.Instance.ManagementAccountID, o, r)}
}

// AccountARN returns the Organizations ARN of an account
// (arn:aws:organizations::<mgmt>:account/o-.../<id>).
func (s *Service) AccountARN(accountID string) string {
	return fmt.Sprintf("arn:aws:organizations::%s:account/%s/%s", s.Instance.ManagementAccountID, s.OrganizationID(), accountID)
}

// AccountPath returns the account's path in the organization
// (o-.../r-.../<id>/).
func (s *Service) AccountPath(accountID string) string {
	return s.OrganizationID() + "/" + s.Root().ID + "/" + accountID + "/"
}

// Describe returns the organization.
func (s *Service) Describe(ctx context.Context) (*Organization, error) {
	mgmt := s.Instance.ManagementAccountID
	a, err := s.Store.GetAccount(ctx, mgmt)
	if err != nil {
		return nil, fmt.Errorf("get management account: %w", err)
	}
	o := s.OrganizationID()
	return &Organization{
		ID: o, ARN: fmt.Sprintf("arn:aws:organizations::%s:organization/%s", mgmt, o), FeatureSet: "ALL",
		ManagementAccountID: mgmt, ManagementAccountARN: s.AccountARN(mgmt), ManagementAccountEmail: a.Email,
	}, nil
}

// State returns the account's Organizations state at now: ACTIVE,
// SUSPENDED after it was closed, CLOSED after the post-closure period.
func State(a *store.Account, now time.Time) string {
	switch {
	case a.State == "" || a.State == store.AccountActive:
		return store.AccountActive
	case !a.ClosedAt.IsZero() && !now.Before(a.ClosedAt.Add(PostClosurePeriod)):
		return "CLOSED"
	}
	return a.State
}

// Status returns the account's (deprecated) Organizations status: ACTIVE
// or SUSPENDED.
func Status(a *store.Account) string {
	if a.State == "" || a.State == store.AccountActive {
		return store.AccountActive
	}
	return store.AccountSuspended
}

// JoinedMethod returns how the account joined, CREATED for accounts
// stored before it was recorded.
func JoinedMethod(a *store.Account) string {
	if a.JoinedMethod == "" {
		return store.JoinedCreated
	}
	return a.JoinedMethod
}

// Closed reports whether the account was closed.
func Closed(a *store.Account) bool { return Status(a) != store.AccountActive }

// checkAccountID validates an AccountId member.
func checkAccountID(member, id string) error {
	if !arn.ValidAccountID(id) {
		return invalid(ReasonInvalidPattern, "You specified an invalid value for %s: %q must be a 12-digit account ID.", member, id)
	}
	return nil
}

// ListAccounts returns a page of the organization's accounts, closed ones
// included, ordered by ID.
func (s *Service) ListAccounts(ctx context.Context, p store.Page) ([]store.Account, error) {
	return s.Store.ListAccounts(ctx, p)
}

// Account returns the account with id.
func (s *Service) Account(ctx context.Context, id string) (*store.Account, error) {
	if err := checkAccountID("AccountId", id); err != nil {
		return nil, err
	}
	return getAccount(ctx, s.Store, id)
}

func getAccount(ctx context.Context, tx store.Tx, id string) (*store.Account, error) {
	a, err := tx.GetAccount(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fault.NotFoundf(ResourceAccount, id, "You specified an account that doesn't exist.")
	}
	return a, err
}

// CreateAccountInput is what CreateAccount takes.
type CreateAccountInput struct {
	Email                  string
	AccountName            string
	RoleName               string // validated; Gatehouse creates no IAM role in the account
	IAMUserAccessToBilling string // ALLOW, DENY or empty
	Tags                   []store.Tag
}

func checkTags(tags []store.Tag) error {
	if len(tags) > MaxTags {
		return constraint(ReasonMaxTagLimitExceeded, "You have exceeded the allowed number of tags for a resource (%d).", MaxTags)
	}
	seen := make(map[string]bool, len(tags))
	for _, t := range tags {
		switch n := utf8.RuneCountInString(t.Key); {
		case n < 1:
			return invalid(ReasonMinLength, "You provided a tag key that is too short.")
		case n > 128:
			return invalid(ReasonMaxLength, "You provided a tag key longer than 128 characters.")
		case utf8.RuneCountInString(t.Value) > 256:
			return invalid(ReasonMaxLength, "You provided a tag value longer than 256 characters.")
		case !tagRe.MatchString(t.Key) || !tagRe.MatchString(t.Value):
			return invalid(ReasonInvalidPattern, "You provided a tag key or value with characters that are not allowed.")
		case strings.HasPrefix(strings.ToLower(t.Key), "aws:"):
			return invalid(ReasonInvalidSystemTags, "You can't use tag keys that begin with aws:.")
		case seen[t.Key]:
			return invalid(ReasonDuplicateTagKey, "You provided the tag key %q more than once.", t.Key)
		}
		seen[t.Key] = true
	}
	return nil
}

func (in *CreateAccountInput) validate() error {
	switch n := len(in.Email); {
	case n == 0:
		return invalid(ReasonInputRequired, "You must specify an email address.")
	case n < 6:
		return invalid(ReasonMinLength, "You provided an email address shorter than 6 characters.")
	case n > 64:
		return invalid(ReasonMaxLength, "You provided an email address longer than 64 characters.")
	case !emailRe.MatchString(in.Email):
		return invalid(ReasonInvalidPattern, "You provided an email address that is not valid.")
	}
	switch n := len(in.AccountName); {
	case n == 0:
		return invalid(ReasonInputRequired, "You must specify an account name.")
	case n > 50:
		return invalid(ReasonMaxLength, "You provided an account name longer than 50 characters.")
	case !createNameRe.MatchString(in.AccountName):
		return invalid(ReasonInvalidPattern, "You provided an account name with characters that are not allowed.")
	}
	if in.RoleName != "" && !roleNameRe.MatchString(in.RoleName) {
		return invalid(ReasonInvalidRoleName, "You provided a role name that is not valid.")
	}
	if in.IAMUserAccessToBilling != "" && in.IAMUserAccessToBilling != "ALLOW" && in.IAMUserAccessToBilling != "DENY" {
		return invalid(ReasonInvalidEnum, "IamUserAccessToBilling must be ALLOW or DENY.")
	}
	return checkTags(in.Tags)
}

// maxIDAttempts bounds the account IDs CreateAccount draws before it
// reports an internal failure; with 9·10¹¹ IDs a second draw is rare.
const maxIDAttempts = 5

// CreateAccount creates an account in the organization. Like AWS it
// answers with an IN_PROGRESS status; the outcome (SUCCEEDED with the new
// account's ID, or FAILED with a reason such as EMAIL_ALREADY_EXISTS) is
// what DescribeCreateAccountStatus reports, at once.
func (s *Service) CreateAccount(ctx context.Context, in CreateAccountInput) (*store.CreateAccountStatus, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	now := s.Now().UTC()
	st := &store.CreateAccountStatus{ID: s.IDs.CreateAccountRequestID(), AccountName: in.AccountName, RequestedAt: now}
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		st.State, st.FailureReason, st.AccountID, st.CompletedAt = store.CreateAccountFailed, "", "", now
		taken, err := emailTaken(ctx, tx, in.Email)
		if err != nil {
			return err
		}
		if taken {
			st.FailureReason = FailureEmailAlreadyExists
		} else {
			a := &store.Account{Name: in.AccountName, Email: in.Email, State: store.AccountActive,
				JoinedMethod: store.JoinedCreated, Tags: slices.Clone(in.Tags), CreatedAt: now}
			for range maxIDAttempts {
				a.ID = s.IDs.AccountID()
				if err = tx.CreateAccount(ctx, a); !errors.Is(err, store.ErrConflict) {
					break
				}
			}
			if err != nil {
				return err
			}
			st.State, st.AccountID = store.CreateAccountSucceeded, a.ID
		}
		if err := tx.PutCreateAccountStatus(ctx, st); err != nil {
			return err
		}
		res := []store.EventResource{{Type: resourceTypeCreateStatus, Name: st.ID}}
		if st.AccountID != "" {
			res = append(res, store.EventResource{Type: resourceTypeAccount, Name: st.AccountID})
		}
		return s.Audit.Record(ctx, tx, audit.Entry{Source: audit.SourceOrganizations, Name: "CreateAccount",
			Params: map[string]any{"email": hiddenDueToSecurityReasons, "accountName": hiddenDueToSecurityReasons, "tags": in.Tags},
			Response: map[string]any{"createAccountStatus": map[string]string{
				"id": st.ID, "state": store.CreateAccountInProgress, "accountName": hiddenDueToSecurityReasons}},
			Resources: res})
	})
	if err != nil {
		return nil, err
	}
	return &store.CreateAccountStatus{ID: st.ID, AccountName: st.AccountName, State: store.CreateAccountInProgress, RequestedAt: now}, nil
}

// emailTaken reports whether an account of the organization has email,
// compared case-insensitively. Organizations are small (AWS's default
// quota is 10 accounts), so this reads them all.
func emailTaken(ctx context.Context, tx store.Tx, email string) (bool, error) {
	const pageSize = 500
	for p := (store.Page{Limit: pageSize}); ; {
		as, err := tx.ListAccounts(ctx, p)
		if err != nil {
			return false, err
		}
		for _, a := range as {
			if strings.EqualFold(a.Email, email) {
				return true, nil
			}
		}
		if len(as) < pageSize {
			return false, nil
		}
		p.After = as[len(as)-1].ID
	}
}

// CreateAccountStatus returns the status of a CreateAccount request.
func (s *Service) CreateAccountStatus(ctx context.Context, id string) (*store.CreateAccountStatus, error) {
	if !createStatusRe.MatchString(id) {
		return nil, invalid(ReasonInvalidPattern, "You specified an invalid value for CreateAccountRequestId: %q.", id)
	}
	st, err := s.Store.GetCreateAccountStatus(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fault.NotFoundf(ResourceCreateStatus, id, "We can't find a create account request with the CreateAccountRequestId that you specified.")
	}
	return st, err
}

// ListCreateAccountStatuses returns a page of CreateAccount statuses in
// any of states (every state when empty), ordered by request ID.
func (s *Service) ListCreateAccountStatuses(ctx context.Context, states []string, p store.Page) ([]store.CreateAccountStatus, error) {
	var f store.CreateAccountStatusFilter
	for _, st := range states {
		switch st {
		case store.CreateAccountInProgress, store.CreateAccountSucceeded, store.CreateAccountFailed:
		default:
			return nil, invalid(ReasonInvalidEnum, "You specified an invalid value for States: %q.", st)
		}
		if !slices.Contains(f.States, st) {
			f.States = append(f.States, st)
		}
	}
	f.Page = p
	return s.Store.ListCreateAccountStatuses(ctx, f)
}

// CloseAccount closes a member account: it becomes SUSPENDED, its
// assignments and provisioned roles are removed, so that credentials
// issued for it stop working at once and it leaves the access portal. The
// management account cannot be closed.
func (s *Service) CloseAccount(ctx context.Context, id string) error {
	if err := checkAccountID("AccountId", id); err != nil {
		return err
	}
	if id == s.Instance.ManagementAccountID {
		return constraint(ReasonCannotCloseMgmt, "You can't close the management account with CloseAccount.")
	}
	now := s.Now().UTC()
	return s.Store.Update(ctx, func(tx store.Tx) error {
		a, err := getAccount(ctx, tx, id)
		if err != nil {
			return err
		}
		if Closed(a) {
			return constraint(ReasonAlreadyClosed, "You attempted to close an account that is already closed.")
		}
		a.State, a.ClosedAt = store.AccountSuspended, now
		if err := tx.UpdateAccount(ctx, a); err != nil {
			return err
		}
		as, err := tx.ListAssignments(ctx, store.AssignmentFilter{AccountID: id})
		if err != nil {
			return err
		}
		for i := range as {
			if err := tx.DeleteAssignment(ctx, &as[i]); err != nil {
				return fmt.Errorf("close account %s: %w", id, err)
			}
		}
		rs, err := tx.ListProvisionedRoles(ctx, store.RoleFilter{AccountID: id})
		if err != nil {
			return err
		}
		for _, r := range rs {
			if err := tx.DeleteProvisionedRole(ctx, r.AccountID, r.PermissionSetID); err != nil {
				return fmt.Errorf("close account %s: %w", id, err)
			}
		}
		return s.Audit.Record(ctx, tx, audit.Entry{Source: audit.SourceOrganizations, Name: "CloseAccount",
			Params: map[string]string{"accountId": id}, Resources: []store.EventResource{{Type: resourceTypeAccount, Name: id}}})
	})
}

// Parents returns the parent of an account: the root. Organizational units
// do not exist here, so an OU ID is a ChildNotFound error.
func (s *Service) Parents(ctx context.Context, childID string) ([]Root, error) {
	switch {
	case ouIDRe.MatchString(childID):
		return nil, fault.NotFoundf(ResourceChild, childID, "We can't find an organizational unit (OU) or AWS account with the ChildId that you specified.")
	case !arn.ValidAccountID(childID):
		return nil, invalid(ReasonInvalidPattern, "You specified an invalid value for ChildId: %q.", childID)
	}
	if _, err := s.Store.GetAccount(ctx, childID); errors.Is(err, store.ErrNotFound) {
		return nil, fault.NotFoundf(ResourceChild, childID, "We can't find an organizational unit (OU) or AWS account with the ChildId that you specified.")
	} else if err != nil {
		return nil, err
	}
	return []Root{s.Root()}, nil
}

// taggable checks a TagResource-family ResourceId: accounts carry tags; the
// root, OUs and policies are recognized but not taggable here.
func (s *Service) taggable(id string) error {
	switch {
	case arn.ValidAccountID(id):
		return nil
	case rootIDRe.MatchString(id):
		if id != s.Root().ID {
			return fault.NotFoundf(ResourceTarget, id, "We can't find a root, OU, account, or policy with the TargetId that you specified.")
		}
		return invalid(ReasonTargetNotSupported, "Gatehouse keeps tags on accounts only; the root cannot be tagged.")
	case taggableOtherRe.MatchString(id):
		return fault.NotFoundf(ResourceTarget, id, "We can't find a root, OU, account, or policy with the TargetId that you specified.")
	}
	return invalid(ReasonInvalidPattern, "You specified an invalid value for ResourceId: %q.", id)
}

func targetAccount(ctx context.Context, tx store.Tx, id string) (*store.Account, error) {
	a, err := tx.GetAccount(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fault.NotFoundf(ResourceTarget, id, "We can't find a root, OU, account, or policy with the TargetId that you specified.")
	}
	return a, err
}

// Tags returns the tags of a resource.
func (s *Service) Tags(ctx context.Context, resourceID string) ([]store.Tag, error) {
	if err := s.taggable(resourceID); err != nil {
		return nil, err
	}
	a, err := targetAccount(ctx, s.Store, resourceID)
	if err != nil {
		return nil, err
	}
	return a.Tags, nil
}

// TagResource adds tags to a resource, replacing the values of keys it
// has.
func (s *Service) TagResource(ctx context.Context, resourceID string, tags []store.Tag) error {
	if err := s.taggable(resourceID); err != nil {
		return err
	}
	if len(tags) == 0 {
		return invalid(ReasonInputRequired, "You must specify at least one tag.")
	}
	if err := checkTags(tags); err != nil {
		return err
	}
	return s.Store.Update(ctx, func(tx store.Tx) error {
		a, err := targetAccount(ctx, tx, resourceID)
		if err != nil {
			return err
		}
		for _, t := range tags {
			if i := slices.IndexFunc(a.Tags, func(x store.Tag) bool { return x.Key == t.Key }); i >= 0 {
				a.Tags[i].Value = t.Value
			} else {
				a.Tags = append(a.Tags, t)
			}
		}
		if len(a.Tags) > MaxTags {
			return constraint(ReasonMaxTagLimitExceeded, "You have exceeded the allowed number of tags for a resource (%d).", MaxTags)
		}
		if err := tx.UpdateAccount(ctx, a); err != nil {
			return err
		}
		return s.Audit.Record(ctx, tx, audit.Entry{Source: audit.SourceOrganizations, Name: "TagResource",
			Params:    map[string]any{"resourceId": resourceID, "tags": tags},
			Resources: []store.EventResource{{Type: resourceTypeAccount, Name: resourceID}}})
	})
}

// UntagResource removes tags from a resource by key; keys it does not have
// are ignored.
func (s *Service) UntagResource(ctx context.Context, resourceID string, keys []string) error {
	if err := s.taggable(resourceID); err != nil {
		return err
	}
	if len(keys) == 0 {
		return invalid(ReasonInputRequired, "You must specify at least one tag key.")
	}
	for _, k := range keys {
		if n := utf8.RuneCountInString(k); n < 1 || n > 128 || !tagRe.MatchString(k) {
			return invalid(ReasonInvalidPattern, "You specified an invalid tag key: %q.", k)
		}
	}
	return s.Store.Update(ctx, func(tx store.Tx) error {
		a, err := targetAccount(ctx, tx, resourceID)
		if err != nil {
			return err
		}
		a.Tags = slices.DeleteFunc(a.Tags, func(t store.Tag) bool { return slices.Contains(keys, t.Key) })
		if err := tx.UpdateAccount(ctx, a); err != nil {
			return err
		}
		return s.Audit.Record(ctx, tx, audit.Entry{Source: audit.SourceOrganizations, Name: "UntagResource",
			Params:    map[string]any{"resourceId": resourceID, "tagKeys": keys},
			Resources: []store.EventResource{{Type: resourceTypeAccount, Name: resourceID}}})
	})
}

// SSOServicePrincipal is IAM Identity Center's service principal, the one
// service a Gatehouse organization registers delegated administrators for.
const SSOServicePrincipal = "sso.amazonaws.com"

// MaxSSODelegatedAdmins is how many member accounts may be Identity
// Center's delegated administrator at a time: one ("You can only have one
// delegated administrator account registered at a time",
// https://docs.aws.amazon.com/singlesignon/latest/userguide/delegated-admin-how-to-register.html).
const MaxSSODelegatedAdmins = 1

// Reasons of the delegated-administrator errors, as the organizations
// model names them (ConstraintViolationException and
// InvalidInputException reasons).
const (
	ReasonRegisterManagement    = "CANNOT_REGISTER_MASTER_AS_DELEGATED_ADMINISTRATOR"
	ReasonRegisterSuspended     = "CANNOT_REGISTER_SUSPENDED_ACCOUNT_AS_DELEGATED_ADMINISTRATOR"
	ReasonDelegatedAdminExists  = "DELEGATED_ADMINISTRATOR_EXISTS_FOR_THIS_SERVICE"
	ReasonUnrecognizedPrincipal = "UNRECOGNIZED_SERVICE_PRINCIPAL"
	ReasonAlreadyRegistered     = "ACCOUNT_ALREADY_REGISTERED"
	ReasonNotRegistered         = "ACCOUNT_NOT_REGISTERED"
	resourceTypeDelegatedAdmin  = "AWS::Organizations::DelegatedAdministrator"
	maxServicePrincipalLength   = 128
)

// servicePrincipalRe is the organizations model's ServicePrincipal
// pattern.
var servicePrincipalRe = regexp.MustCompile(`^[\w+=,.@-]*$`)

// checkServicePrincipal validates a ServicePrincipal member; only
// recognize also demands that it be Identity Center's, the one service
// Gatehouse is.
func checkServicePrincipal(sp string, recognize bool) error {
	switch n := len(sp); {
	case n == 0:
		return invalid(ReasonMinLength, "You provided a ServicePrincipal shorter than 1 character.")
	case n > maxServicePrincipalLength:
		return invalid(ReasonMaxLength, "You provided a ServicePrincipal longer than %d characters.", maxServicePrincipalLength)
	case !servicePrincipalRe.MatchString(sp):
		return invalid(ReasonInvalidPattern, "You specified an invalid value for ServicePrincipal: %q.", sp)
	case recognize && sp != SSOServicePrincipal:
		return invalid(ReasonUnrecognizedPrincipal,
			"You specified a service principal that isn't recognized: Gatehouse supports delegated administration for %s only.", SSOServicePrincipal)
	}
	return nil
}

// notRegistered is the model's AccountNotRegisteredException.
func notRegistered() *fault.Error {
	return constraint(ReasonNotRegistered, "The provided account is not a registered delegated administrator for this service.")
}

// RegisterDelegatedAdmin makes a member account the delegated
// administrator of Identity Center: its sessions may then call the admin
// APIs, authorized by their permission sets as management-account
// sessions are, except that they cannot touch the management account's
// access (see package adminapi). The management account, closed accounts
// and a second account (Identity Center allows one) are refused.
func (s *Service) RegisterDelegatedAdmin(ctx context.Context, accountID, servicePrincipal string) error {
	if err := checkAccountID("AccountId", accountID); err != nil {
		return err
	}
	if err := checkServicePrincipal(servicePrincipal, true); err != nil {
		return err
	}
	if accountID == s.Instance.ManagementAccountID {
		return constraint(ReasonRegisterManagement,
			"You attempted to register the management account of the organization as a delegated administrator for an AWS service integrated with Organizations. You can designate only a member account as a delegated administrator.")
	}
	now := s.Now().UTC()
	return s.Store.Update(ctx, func(tx store.Tx) error {
		a, err := getAccount(ctx, tx, accountID)
		if err != nil {
			return err
		}
		if Closed(a) {
			return constraint(ReasonRegisterSuspended, "You cannot register a suspended account as a delegated administrator.")
		}
		ds, err := tx.ListDelegatedAdmins(ctx, store.DelegatedAdminFilter{ServicePrincipal: servicePrincipal})
		if err != nil {
			return err
		}
		for _, d := range ds {
			if d.AccountID == accountID {
				return constraint(ReasonAlreadyRegistered, "The provided account is already a delegated administrator for your organization.")
			}
		}
		if len(ds) >= MaxSSODelegatedAdmins {
			return constraint(ReasonDelegatedAdminExists,
				"You attempted to register an AWS account as a delegated administrator for an AWS service that already has a delegated administrator. To complete this operation, you must first deregister any existing delegated administrators for this service.")
		}
		err = tx.CreateDelegatedAdmin(ctx, &store.DelegatedAdmin{AccountID: accountID, ServicePrincipal: servicePrincipal, EnabledAt: now})
		if errors.Is(err, store.ErrConflict) {
			return constraint(ReasonAlreadyRegistered, "The provided account is already a delegated administrator for your organization.")
		} else if err != nil {
			return err
		}
		return s.Audit.Record(ctx, tx, audit.Entry{Source: audit.SourceOrganizations, Name: "RegisterDelegatedAdministrator",
			Params:    map[string]string{"accountId": accountID, "servicePrincipal": servicePrincipal},
			Resources: []store.EventResource{{Type: resourceTypeAccount, Name: accountID}}})
	})
}

// DeregisterDelegatedAdmin removes a delegated administrator. Its
// sessions are refused from the next call on this replica (the change
// counter moves, and the access cache drops what it knew), and within
// the cache's refresh interval on the others.
func (s *Service) DeregisterDelegatedAdmin(ctx context.Context, accountID, servicePrincipal string) error {
	if err := checkAccountID("AccountId", accountID); err != nil {
		return err
	}
	if err := checkServicePrincipal(servicePrincipal, false); err != nil {
		return err
	}
	return s.Store.Update(ctx, func(tx store.Tx) error {
		if _, err := getAccount(ctx, tx, accountID); err != nil {
			return err
		}
		err := tx.DeleteDelegatedAdmin(ctx, accountID, servicePrincipal)
		if errors.Is(err, store.ErrNotFound) {
			return notRegistered()
		} else if err != nil {
			return err
		}
		return s.Audit.Record(ctx, tx, audit.Entry{Source: audit.SourceOrganizations, Name: "DeregisterDelegatedAdministrator",
			Params:    map[string]string{"accountId": accountID, "servicePrincipal": servicePrincipal},
			Resources: []store.EventResource{{Type: resourceTypeAccount, Name: accountID}}})
	})
}

// DelegatedAdmin is a delegated administrator account with the time it
// was first registered for the services selected.
type DelegatedAdmin struct {
	Account store.Account
	// EnabledAt is the earliest registration of the account among the
	// services selected.
	EnabledAt time.Time
}

// ListDelegatedAdmins returns a page of the delegated administrator
// accounts, ordered by account ID: those registered for servicePrincipal,
// or for any service when it is empty. Each account appears once.
func (s *Service) ListDelegatedAdmins(ctx context.Context, servicePrincipal string, p store.Page) ([]DelegatedAdmin, error) {
	if servicePrincipal != "" {
		if err := checkServicePrincipal(servicePrincipal, false); err != nil {
			return nil, err
		}
	}
	// Delegated administrators are few (Identity Center allows one), so
	// the page is read whole.
	ds, err := s.Store.ListDelegatedAdmins(ctx, store.DelegatedAdminFilter{ServicePrincipal: servicePrincipal, Page: store.Page{After: p.After}})
	if err != nil {
		return nil, err
	}
	var out []DelegatedAdmin
	for _, d := range ds {
		if n := len(out); n > 0 && out[n-1].Account.ID == d.AccountID {
			out[n-1].EnabledAt = minTime(out[n-1].EnabledAt, d.EnabledAt)
			continue
		}
		if p.Limit > 0 && len(out) == p.Limit {
			break
		}
		a, err := s.Store.GetAccount(ctx, d.AccountID)
		if err != nil {
			return nil, fmt.Errorf("delegated admin %s: %w", d.AccountID, err)
		}
		out = append(out, DelegatedAdmin{Account: *a, EnabledAt: d.EnabledAt})
	}
	return out, nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// DelegatedServices returns the services an account is a delegated
// administrator for, ordered by service principal. An account registered
// for none is the model's AccountNotRegisteredException.
func (s *Service) DelegatedServices(ctx context.Context, accountID string) ([]store.DelegatedAdmin, error) {
	if err := checkAccountID("AccountId", accountID); err != nil {
		return nil, err
	}
	if _, err := getAccount(ctx, s.Store, accountID); err != nil {
		return nil, err
	}
	ds, err := s.Store.ListDelegatedAdmins(ctx, store.DelegatedAdminFilter{AccountID: accountID})
	if err != nil {
		return nil, err
	}
	if len(ds) == 0 {
		return nil, notRegistered()
	}
	return ds, nil
}
