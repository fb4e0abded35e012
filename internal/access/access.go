// Package access holds what people may use: accounts, permission sets,
// account assignments and the AWSReservedSSO_ roles provisioned for them, and
// the resolution "which accounts and roles may this user use" through direct
// and group assignments (spec/aws-wire.md §6, DESIGN §1).
package access

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
	"github.com/gatehouse-dev/gatehouse/internal/policy/managed"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// Service manages accounts, permission sets and assignments. Policy
// documents and AWS managed policy ARNs are always validated by the policy
// engine (package policy and its managed catalogue), so what is stored can
// be evaluated.
type Service struct {
	Store      store.Store
	Audit      *audit.Recorder
	IDs        arn.Generator
	Now        func() time.Time
	InstanceID string
	// MaxPermissionSets bounds the permission sets of the instance; 0
	// means DefaultMaxPermissionSets.
	MaxPermissionSets int
	// MaxProvisionedPerAccount bounds the permission sets provisioned into
	// one account; 0 means DefaultMaxProvisionedPerAccount.
	MaxProvisionedPerAccount int
	// Kick, when set, is called after a write queued work for a linked
	// account (an operation stored IN_PROGRESS): the wiring points it at
	// the worker that performs the IAM calls (awsaccounts.Provisioner).
	Kick func()
}

// Limits from spec/identifiers.md §7.
const (
	MinSessionDuration     = time.Hour
	MaxSessionDuration     = 12 * time.Hour
	DefaultSessionDuration = time.Hour
	MaxAttachedPolicies    = 20
	MaxInlinePolicyBytes   = 32768
	MaxTags                = 75
	// DefaultMaxPermissionSets is AWS's default quota of permission sets
	// per instance (IAM Identity Center quotas, "Permission sets allowed
	// in IAM Identity Center").
	DefaultMaxPermissionSets = 2000
	// DefaultMaxProvisionedPerAccount is AWS's default quota of permission
	// sets provisioned to one account.
	DefaultMaxProvisionedPerAccount = 250
)

func (s *Service) maxPermissionSets() int {
	if s.MaxPermissionSets > 0 {
		return s.MaxPermissionSets
	}
	return DefaultMaxPermissionSets
}

func (s *Service) maxProvisionedPerAccount() int {
	if s.MaxProvisionedPerAccount > 0 {
		return s.MaxProvisionedPerAccount
	}
	return DefaultMaxProvisionedPerAccount
}

// RevocationLifetime is how long a revocation must be remembered (its
// record kept, and looked back on by the access cache) when portal sessions
// last portalSession: the grants and tokens of a sign-in end with its portal
// session, and role credentials issued up to that moment live at most
// MaxSessionDuration longer (DESIGN §6). It is the one definition; sso-oidc,
// the directory and the cache all use it.
func RevocationLifetime(portalSession time.Duration) time.Duration {
	return portalSession + MaxSessionDuration
}

var (
	psNameRe       = regexp.MustCompile(`^[\w+=,.@-]{1,32}$`)
	descriptionRe  = regexp.MustCompile(`^[\t\n\r\x20-\x7E\xA1-\xFF]*$`)
	managedARNRe   = regexp.MustCompile(`^arn:aws(-[a-z]{1,5}){0,3}:iam::aws:policy((/[A-Za-z0-9\.,\+@=_-]+)*)/([A-Za-z0-9\.,\+=@_-]+)$`)
	cmpNameRe      = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`)
	cmpPathRe      = regexp.MustCompile(`^((/[A-Za-z0-9\.,\+@=_-]+)*)/$`)
	tagRe          = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
	relayStateRe   = regexp.MustCompile(`^[a-zA-Z0-9&$@#\\/%?=~\-_'"|!:,.;*+\[\]\ \(\)\{\}]+$`)
	accountNameRe  = regexp.MustCompile(`^[\x20-\x7E]{1,128}$`)
	accountEmailRe = regexp.MustCompile(`^[^\s@]+@[^\s@]+$`)
)

// Resource types for NotFound errors.
const (
	ResourcePermissionSet = "PERMISSION_SET"
	ResourceAccount       = "ACCOUNT"
	ResourceAssignment    = "ACCOUNT_ASSIGNMENT"
	ResourceOperation     = "REQUEST"
)

func (s *Service) record(ctx context.Context, tx store.Tx, name string, params, response any) error {
	return s.Audit.Record(ctx, tx, audit.Entry{Source: audit.SourceSSO, Name: name, Params: params, Response: response})
}

// CreateAccount registers an AWS account.
func (s *Service) CreateAccount(ctx context.Context, id, name, email string) (*store.Account, error) {
	switch {
	case !arn.ValidAccountID(id):
		return nil, fault.Validationf("AccountId %q must be 12 digits", id)
	case !accountNameRe.MatchString(name):
		return nil, fault.Validationf("Account name must be 1 to 128 printable characters")
	case len(email) < 6 || len(email) > 64 || !accountEmailRe.MatchString(email):
		return nil, fault.Validationf("Account email %q is not an e-mail address of 6 to 64 characters", email)
	}
	a := &store.Account{ID: id, Name: name, Email: email, CreatedAt: s.Now().UTC()}
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateAccount(ctx, a); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return fault.Conflictf("Account %s already exists", id)
			}
			return err
		}
		return s.Audit.Record(ctx, tx, audit.Entry{Source: "organizations.amazonaws.com", Name: "CreateAccount",
			Params: map[string]string{"accountId": id, "accountName": name, "email": email}})
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// GetAccount returns an account.
func (s *Service) GetAccount(ctx context.Context, id string) (*store.Account, error) {
	a, err := s.Store.GetAccount(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fault.NotFoundf(ResourceAccount, id, "Account %s not found", id)
	}
	return a, err
}

// ListAccounts returns a page of accounts ordered by ID.
func (s *Service) ListAccounts(ctx context.Context, p store.Page) ([]store.Account, error) {
	return s.Store.ListAccounts(ctx, p)
}

// PermissionSetInput holds the settable fields of a permission set.
type PermissionSetInput struct {
	Name            string
	Description     string
	SessionDuration string // ISO-8601; empty means PT1H
	RelayState      string
	Tags            []store.Tag
}

func validateDescription(d string) error {
	if d != "" && (len(d) > 700 || !descriptionRe.MatchString(d)) {
		return fault.Validationf("Description must be 1 to 700 characters of printable ASCII or Latin-1")
	}
	return nil
}

func validateRelayState(r string) error {
	if r != "" && (len(r) > 240 || !relayStateRe.MatchString(r)) {
		return fault.Validationf("RelayState must be 1 to 240 URL characters")
	}
	return nil
}

func parseDuration(s string) (time.Duration, error) {
	if s == "" {
		return DefaultSessionDuration, nil
	}
	if len(s) > 100 {
		return 0, fault.Validationf("SessionDuration must be at most 100 characters")
	}
	d, err := ParseSessionDuration(s)
	if err != nil {
		return 0, fault.Validationf("SessionDuration %s", err)
	}
	if d < MinSessionDuration || d > MaxSessionDuration {
		return 0, fault.Validationf("SessionDuration %s is outside PT1H to PT12H", s)
	}
	return d, nil
}

// ValidateTags checks sso-admin tags.
func ValidateTags(tags []store.Tag) error {
	if len(tags) > MaxTags {
		return fault.Validationf("at most %d tags are allowed", MaxTags)
	}
	seen := map[string]bool{}
	for _, t := range tags {
		if t.Key == "" || utf8.RuneCountInString(t.Key) > 128 || !tagRe.MatchString(t.Key) {
			return fault.Validationf("tag key %q must be 1 to 128 letters, digits, spaces or _.:/=+-@", t.Key)
		}
		if utf8.RuneCountInString(t.Value) > 256 || !tagRe.MatchString(t.Value) {
			return fault.Validationf("tag value for %q must be 0 to 256 letters, digits, spaces or _.:/=+-@", t.Key)
		}
		if seen[t.Key] {
			return fault.Validationf("tag key %q appears twice", t.Key)
		}
		seen[t.Key] = true
	}
	return nil
}

// CreatePermissionSet adds a permission set.
func (s *Service) CreatePermissionSet(ctx context.Context, in PermissionSetInput) (*store.PermissionSet, error) {
	if !psNameRe.MatchString(in.Name) {
		return nil, fault.Validationf("Name %q must be 1 to 32 characters of letters, digits and +=,.@_-", in.Name)
	}
	if err := validateDescription(in.Description); err != nil {
		return nil, err
	}
	if err := validateRelayState(in.RelayState); err != nil {
		return nil, err
	}
	if err := ValidateTags(in.Tags); err != nil {
		return nil, err
	}
	d, err := parseDuration(in.SessionDuration)
	if err != nil {
		return nil, err
	}
	now := s.Now().UTC()
	ps := &store.PermissionSet{
		ID: s.IDs.PermissionSetID(), Name: in.Name, Description: in.Description, SessionDuration: d,
		RelayState: in.RelayState, Tags: in.Tags, Version: 1, CreatedAt: now, UpdatedAt: now,
	}
	err = s.Store.Update(ctx, func(tx store.Tx) error {
		if n, err := tx.CountPermissionSets(ctx); err != nil {
			return err
		} else if n >= s.maxPermissionSets() {
			return fault.Quotaf("The instance has %d permission sets, the most it may have", n)
		}
		if err := tx.CreatePermissionSet(ctx, ps); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return fault.Conflictf("PermissionSet with name %s already exists", in.Name)
			}
			return err
		}
		return s.record(ctx, tx, "CreatePermissionSet",
			map[string]string{"instanceArn": arn.InstanceARN(s.InstanceID), "name": in.Name, "sessionDuration": FormatSessionDuration(d)},
			map[string]string{"permissionSetArn": s.PermissionSetARN(ps.ID)})
	})
	if err != nil {
		return nil, err
	}
	return ps, nil
}

// PermissionSetARN formats the ARN of one of this instance's permission sets.
func (s *Service) PermissionSetARN(id string) string { return arn.PermissionSetARN(s.InstanceID, id) }

// ParsePermissionSetARN returns the ID of one of this instance's permission
// sets named by ARN. The ARN must be exactly the one this instance gives the
// set (partition aws, this instance's ID): any other spelling — another
// partition (arn:aws-cn:, arn:aws-us-gov:, …) or instance — names a
// resource that does not exist here, so that policies are always evaluated
// on the set's one canonical ARN.
func (s *Service) ParsePermissionSetARN(psARN string) (string, error) {
	ins, id, err := arn.ParsePermissionSetARN(psARN)
	if err != nil {
		return "", fault.Validationf("PermissionSetArn: %s", err)
	}
	if ins != s.InstanceID || psARN != s.PermissionSetARN(id) {
		return "", fault.NotFoundf(ResourcePermissionSet, psARN, "Could not find PermissionSet with PermissionSetArn %s", psARN)
	}
	return id, nil
}

func getPS(ctx context.Context, tx store.Tx, id string) (*store.PermissionSet, error) {
	ps, err := tx.GetPermissionSet(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fault.NotFoundf(ResourcePermissionSet, id, "Could not find PermissionSet with id %s", id)
	}
	return ps, err
}

// GetPermissionSet returns a permission set.
func (s *Service) GetPermissionSet(ctx context.Context, id string) (*store.PermissionSet, error) {
	return getPS(ctx, s.Store, id)
}

// GetPermissionSetByName returns a permission set by name.
func (s *Service) GetPermissionSetByName(ctx context.Context, name string) (*store.PermissionSet, error) {
	ps, err := s.Store.GetPermissionSetByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fault.NotFoundf(ResourcePermissionSet, name, "Could not find PermissionSet named %s", name)
	}
	return ps, err
}

// ListPermissionSets returns a page of permission sets ordered by ID.
func (s *Service) ListPermissionSets(ctx context.Context, p store.Page) ([]store.PermissionSet, error) {
	return s.Store.ListPermissionSets(ctx, p)
}

// PermissionSetUpdate holds the optional changes of UpdatePermissionSet.
type PermissionSetUpdate struct {
	Description     *string
	SessionDuration *string
	RelayState      *string
}

// modify runs change on a permission set in one transaction and records the
// event. bump says whether the change alters what provisioned roles carry.
func (s *Service) modify(ctx context.Context, id, event string, params any, bump bool, change func(tx store.Tx, ps *store.PermissionSet) error) error {
	return s.Store.Update(ctx, func(tx store.Tx) error {
		ps, err := getPS(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := change(tx, ps); err != nil {
			return err
		}
		if bump {
			ps.Version++
		}
		ps.UpdatedAt = s.Now().UTC()
		if err := tx.UpdatePermissionSet(ctx, ps); err != nil {
			return err
		}
		return s.record(ctx, tx, event, params, nil)
	})
}

func (s *Service) psParams(id string, extra ...string) map[string]string {
	m := map[string]string{"instanceArn": arn.InstanceARN(s.InstanceID), "permissionSetArn": s.PermissionSetARN(id)}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i]] = extra[i+1]
	}
	return m
}

// UpdatePermissionSet changes a permission set's description, session
// duration or relay state.
func (s *Service) UpdatePermissionSet(ctx context.Context, id string, u PermissionSetUpdate) error {
	var d time.Duration
	if u.Description != nil {
		if err := validateDescription(*u.Description); err != nil {
			return err
		}
	}
	if u.RelayState != nil {
		if err := validateRelayState(*u.RelayState); err != nil {
			return err
		}
	}
	if u.SessionDuration != nil {
		var err error
		if d, err = parseDuration(*u.SessionDuration); err != nil {
			return err
		}
	}
	return s.modify(ctx, id, "UpdatePermissionSet", s.psParams(id), u.SessionDuration != nil, func(_ store.Tx, ps *store.PermissionSet) error {
		if u.Description != nil {
			ps.Description = *u.Description
		}
		if u.RelayState != nil {
			ps.RelayState = *u.RelayState
		}
		if u.SessionDuration != nil {
			ps.SessionDuration = d
		}
		return nil
	})
}

// DeletePermissionSet deletes a permission set that no account assignment
// uses, with the roles ProvisionPermissionSet left in accounts without
// assignments. While assignments use it, it is a ConflictException: their
// users would lose access silently.
func (s *Service) DeletePermissionSet(ctx context.Context, id string) error {
	return s.Store.Update(ctx, func(tx store.Tx) error {
		if _, err := getPS(ctx, tx, id); err != nil {
			return err
		}
		as, err := tx.ListAssignments(ctx, store.AssignmentFilter{PermissionSetID: id})
		if err != nil {
			return err
		}
		if len(as) > 0 {
			return fault.Conflictf("PermissionSet %s is used by %d account assignment(s); delete them first", s.PermissionSetARN(id), len(as))
		}
		roles, err := tx.ListProvisionedRoles(ctx, store.RoleFilter{PermissionSetID: id})
		if err != nil {
			return err
		}
		for _, r := range roles {
			if err := tx.DeleteProvisionedRole(ctx, r.AccountID, id); err != nil {
				return err
			}
		}
		if err := tx.DeletePermissionSet(ctx, id); err != nil {
			return err
		}
		return s.record(ctx, tx, "DeletePermissionSet", s.psParams(id), nil)
	})
}

// AttachManagedPolicy attaches an AWS-managed policy by ARN.
func (s *Service) AttachManagedPolicy(ctx context.Context, id, policyARN string) error {
	if len(policyARN) < 20 || len(policyARN) > 2048 || !managedARNRe.MatchString(policyARN) {
		return fault.Validationf("ManagedPolicyArn %q is not an AWS managed policy ARN", policyARN)
	}
	if !knownManaged(policyARN) {
		return fault.Validationf("ManagedPolicyArn %s does not name a known AWS managed policy", policyARN)
	}
	return s.modify(ctx, id, "AttachManagedPolicyToPermissionSet", s.psParams(id, "managedPolicyArn", policyARN), true, func(_ store.Tx, ps *store.PermissionSet) error {
		if slices.Contains(ps.ManagedPolicies, policyARN) {
			return fault.Conflictf("Managed policy %s is already attached", policyARN)
		}
		if len(ps.ManagedPolicies)+len(ps.CustomerPolicies) >= MaxAttachedPolicies {
			return fault.Quotaf("A permission set may have at most %d managed and customer managed policies", MaxAttachedPolicies)
		}
		ps.ManagedPolicies = append(ps.ManagedPolicies, policyARN)
		return nil
	})
}

// DetachManagedPolicy detaches an AWS-managed policy.
func (s *Service) DetachManagedPolicy(ctx context.Context, id, policyARN string) error {
	if len(policyARN) < 20 || len(policyARN) > 2048 || !managedARNRe.MatchString(policyARN) {
		return fault.Validationf("ManagedPolicyArn %q is not an AWS managed policy ARN", policyARN)
	}
	return s.modify(ctx, id, "DetachManagedPolicyFromPermissionSet", s.psParams(id, "managedPolicyArn", policyARN), true, func(_ store.Tx, ps *store.PermissionSet) error {
		i := slices.Index(ps.ManagedPolicies, policyARN)
		if i < 0 {
			return fault.NotFoundf("MANAGED_POLICY", policyARN, "Managed policy %s is not attached", policyARN)
		}
		ps.ManagedPolicies = slices.Delete(ps.ManagedPolicies, i, i+1)
		return nil
	})
}

// NormalizeRef validates a customer-managed policy reference and fills in
// the default path.
func NormalizeRef(r store.PolicyRef) (store.PolicyRef, error) {
	if r.Path == "" {
		r.Path = "/"
	}
	if !cmpNameRe.MatchString(r.Name) {
		return r, fault.Validationf("CustomerManagedPolicyReference.Name %q must be 1 to 128 characters of letters, digits and +=,.@_-", r.Name)
	}
	if len(r.Path) > 512 || !cmpPathRe.MatchString(r.Path) {
		return r, fault.Validationf("CustomerManagedPolicyReference.Path %q must start and end with /", r.Path)
	}
	return r, nil
}

// AttachCustomerPolicy attaches a customer-managed policy reference.
func (s *Service) AttachCustomerPolicy(ctx context.Context, id string, ref store.PolicyRef) error {
	ref, err := NormalizeRef(ref)
	if err != nil {
		return err
	}
	return s.modify(ctx, id, "AttachCustomerManagedPolicyReferenceToPermissionSet", s.psParams(id, "name", ref.Name, "path", ref.Path), true, func(_ store.Tx, ps *store.PermissionSet) error {
		if slices.Contains(ps.CustomerPolicies, ref) {
			return fault.Conflictf("Customer managed policy %s%s is already attached", ref.Path, ref.Name)
		}
		if len(ps.ManagedPolicies)+len(ps.CustomerPolicies) >= MaxAttachedPolicies {
			return fault.Quotaf("A permission set may have at most %d managed and customer managed policies", MaxAttachedPolicies)
		}
		ps.CustomerPolicies = append(ps.CustomerPolicies, ref)
		return nil
	})
}

// DetachCustomerPolicy detaches a customer-managed policy reference.
func (s *Service) DetachCustomerPolicy(ctx context.Context, id string, ref store.PolicyRef) error {
	ref, err := NormalizeRef(ref)
	if err != nil {
		return err
	}
	return s.modify(ctx, id, "DetachCustomerManagedPolicyReferenceFromPermissionSet", s.psParams(id, "name", ref.Name, "path", ref.Path), true, func(_ store.Tx, ps *store.PermissionSet) error {
		i := slices.Index(ps.CustomerPolicies, ref)
		if i < 0 {
			return fault.NotFoundf("CUSTOMER_MANAGED_POLICY", ref.Path+ref.Name, "Customer managed policy %s%s is not attached", ref.Path, ref.Name)
		}
		ps.CustomerPolicies = slices.Delete(ps.CustomerPolicies, i, i+1)
		return nil
	})
}

// CheckInlinePolicy validates an inline policy document.
func (s *Service) CheckInlinePolicy(doc string) error {
	if doc == "" {
		return fault.Validationf("InlinePolicy is required")
	}
	if len(doc) > MaxInlinePolicyBytes {
		return fault.Validationf("InlinePolicy is %d bytes; the limit is %d", len(doc), MaxInlinePolicyBytes)
	}
	if err := policy.CheckInline([]byte(doc)); err != nil {
		return &fault.Error{Kind: fault.Validation, Message: "The policy document is not valid: " + err.Error()}
	}
	return nil
}

// knownManaged reports whether arn names an AWS managed policy Gatehouse
// ships, so that it can be evaluated.
func knownManaged(arn string) bool {
	_, ok := managed.Lookup(arn)
	return ok
}

// PutInlinePolicy sets the permission set's inline policy.
func (s *Service) PutInlinePolicy(ctx context.Context, id, doc string) error {
	if err := s.CheckInlinePolicy(doc); err != nil {
		return err
	}
	return s.modify(ctx, id, "PutInlinePolicyToPermissionSet", s.psParams(id), true, func(_ store.Tx, ps *store.PermissionSet) error {
		ps.InlinePolicy = doc
		return nil
	})
}

// DeleteInlinePolicy removes the inline policy.
func (s *Service) DeleteInlinePolicy(ctx context.Context, id string) error {
	return s.modify(ctx, id, "DeleteInlinePolicyFromPermissionSet", s.psParams(id), true, func(_ store.Tx, ps *store.PermissionSet) error {
		ps.InlinePolicy = ""
		return nil
	})
}

// PutBoundary sets the permissions boundary.
func (s *Service) PutBoundary(ctx context.Context, id string, b store.Boundary) error {
	switch {
	case (b.ManagedPolicyARN == "") == (b.CustomerPolicy == nil):
		return fault.Validationf("PermissionsBoundary must set exactly one of ManagedPolicyArn and CustomerManagedPolicyReference")
	case b.ManagedPolicyARN != "" && !managedARNRe.MatchString(b.ManagedPolicyARN):
		return fault.Validationf("ManagedPolicyArn %q is not an AWS managed policy ARN", b.ManagedPolicyARN)
	case b.ManagedPolicyARN != "" && !knownManaged(b.ManagedPolicyARN):
		return fault.Validationf("ManagedPolicyArn %s does not name a known AWS managed policy", b.ManagedPolicyARN)
	case b.CustomerPolicy != nil:
		ref, err := NormalizeRef(*b.CustomerPolicy)
		if err != nil {
			return err
		}
		b.CustomerPolicy = &ref
	}
	return s.modify(ctx, id, "PutPermissionsBoundaryToPermissionSet", s.psParams(id), true, func(_ store.Tx, ps *store.PermissionSet) error {
		ps.Boundary = &b
		return nil
	})
}

// DeleteBoundary removes the permissions boundary.
func (s *Service) DeleteBoundary(ctx context.Context, id string) error {
	return s.modify(ctx, id, "DeletePermissionsBoundaryFromPermissionSet", s.psParams(id), true, func(_ store.Tx, ps *store.PermissionSet) error {
		if ps.Boundary == nil {
			return fault.NotFoundf("PERMISSIONS_BOUNDARY", id, "The permission set has no permissions boundary")
		}
		ps.Boundary = nil
		return nil
	})
}

// TagPermissionSet adds or replaces tags.
func (s *Service) TagPermissionSet(ctx context.Context, id string, tags []store.Tag) error {
	if len(tags) == 0 {
		return fault.Validationf("Tags must hold at least one tag")
	}
	if err := ValidateTags(tags); err != nil {
		return err
	}
	return s.modify(ctx, id, "TagResource", s.psParams(id), false, func(_ store.Tx, ps *store.PermissionSet) error {
		merged, err := mergeTags(ps.Tags, tags)
		ps.Tags = merged
		return err
	})
}

// UntagPermissionSet removes tags by key.
func (s *Service) UntagPermissionSet(ctx context.Context, id string, keys []string) error {
	if err := validateTagKeys(keys); err != nil {
		return err
	}
	return s.modify(ctx, id, "UntagResource", s.psParams(id), false, func(_ store.Tx, ps *store.PermissionSet) error {
		ps.Tags = slices.DeleteFunc(ps.Tags, func(t store.Tag) bool { return slices.Contains(keys, t.Key) })
		return nil
	})
}

// errorf wraps an unexpected error with the operation's name.
func errorf(op string, err error) error { return fmt.Errorf("%s: %w", op, err) }
