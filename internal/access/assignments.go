package access

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// AssignmentInput names an account assignment.
type AssignmentInput struct {
	AccountID       string
	PermissionSetID string
	PrincipalType   string
	PrincipalID     string
}

func (in AssignmentInput) validate() error {
	switch {
	case !arn.ValidAccountID(in.AccountID):
		return fault.Validationf("TargetId %q must be a 12-digit account ID", in.AccountID)
	case in.PrincipalType != store.PrincipalUser && in.PrincipalType != store.PrincipalGroup:
		return fault.Validationf("PrincipalType %q must be USER or GROUP", in.PrincipalType)
	case !arn.ValidPrincipalID(in.PrincipalID):
		return fault.Validationf("PrincipalId %q is not a user or group ID", in.PrincipalID)
	}
	return nil
}

func (in AssignmentInput) record() *store.Assignment {
	return &store.Assignment{AccountID: in.AccountID, PermissionSetID: in.PermissionSetID, PrincipalType: in.PrincipalType, PrincipalID: in.PrincipalID}
}

func (s *Service) assignmentParams(in AssignmentInput) map[string]string {
	return map[string]string{
		"instanceArn": arn.InstanceARN(s.InstanceID), "targetId": in.AccountID, "targetType": "AWS_ACCOUNT",
		"permissionSetArn": s.PermissionSetARN(in.PermissionSetID), "principalType": in.PrincipalType, "principalId": in.PrincipalID,
	}
}

// checkTargets confirms the account, permission set and principal exist
// and the account is open.
func checkTargets(ctx context.Context, tx store.Tx, in AssignmentInput) (*store.PermissionSet, error) {
	if err := openAccount(ctx, tx, in.AccountID); err != nil {
		return nil, err
	}
	ps, err := getPS(ctx, tx, in.PermissionSetID)
	if err != nil {
		return nil, err
	}
	if in.PrincipalType == store.PrincipalUser {
		_, err = tx.GetUser(ctx, in.PrincipalID)
	} else {
		_, err = tx.GetGroup(ctx, in.PrincipalID)
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, fault.NotFoundf(in.PrincipalType, in.PrincipalID, "%s %s not found", in.PrincipalType, in.PrincipalID)
	}
	return ps, err
}

// CreateAssignment gives a principal a permission set in an account and
// provisions the permission set's role there if needed. It returns the
// operation status; the API reports it IN_PROGRESS in its response, as AWS
// does, and DescribeAccountAssignmentCreationStatus gives the final status.
// Creating an assignment that exists succeeds again.
func (s *Service) CreateAssignment(ctx context.Context, in AssignmentInput) (*store.Operation, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	op := &store.Operation{
		RequestID: s.IDs.UUID(), Kind: store.OpCreateAssignment, Status: store.StatusSucceeded,
		AccountID: in.AccountID, PermissionSetID: in.PermissionSetID, PrincipalType: in.PrincipalType, PrincipalID: in.PrincipalID,
		CreatedAt: s.Now().UTC(),
	}
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		ps, err := checkTargets(ctx, tx, in)
		if err != nil {
			return err
		}
		isLinked, err := linked(ctx, tx, in.AccountID)
		if err != nil {
			return err
		}
		if isLinked {
			op.Status = store.StatusInProgress
		}
		if reason, err := s.provisionRole(ctx, tx, ps, in.AccountID, false); err != nil {
			return err
		} else if reason != "" {
			op.Status, op.FailureReason = store.StatusFailed, reason
		} else {
			a := in.record()
			a.CreatedAt = op.CreatedAt
			if err := tx.CreateAssignment(ctx, a); err != nil && !errors.Is(err, store.ErrConflict) {
				return err
			}
		}
		if err := tx.PutOperation(ctx, op); err != nil {
			return err
		}
		return s.record(ctx, tx, "CreateAccountAssignment", s.assignmentParams(in),
			writeResponse(op))
	})
	if err != nil {
		return nil, err
	}
	s.kick(op)
	return op, nil
}

// DeleteAssignment removes an account assignment; the role goes with the
// last assignment of its permission set in the account.
func (s *Service) DeleteAssignment(ctx context.Context, in AssignmentInput) (*store.Operation, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	op := &store.Operation{
		RequestID: s.IDs.UUID(), Kind: store.OpDeleteAssignment, Status: store.StatusSucceeded,
		AccountID: in.AccountID, PermissionSetID: in.PermissionSetID, PrincipalType: in.PrincipalType, PrincipalID: in.PrincipalID,
		CreatedAt: s.Now().UTC(),
	}
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		if _, err := getPS(ctx, tx, in.PermissionSetID); err != nil {
			return err
		}
		isLinked, err := linked(ctx, tx, in.AccountID)
		if err != nil {
			return err
		}
		if isLinked {
			op.Status = store.StatusInProgress
		}
		if err := s.removeAssignment(ctx, tx, in.record()); err != nil {
			return err
		}
		if err := tx.PutOperation(ctx, op); err != nil {
			return err
		}
		return s.record(ctx, tx, "DeleteAccountAssignment", s.assignmentParams(in),
			writeResponse(op))
	})
	if err != nil {
		return nil, err
	}
	s.kick(op)
	return op, nil
}

func (s *Service) removeAssignment(ctx context.Context, tx store.Tx, a *store.Assignment) error {
	if err := tx.DeleteAssignment(ctx, a); errors.Is(err, store.ErrNotFound) {
		return fault.NotFoundf(ResourceAssignment, a.PrincipalID, "The account assignment does not exist")
	} else if err != nil {
		return err
	}
	if err := s.revokeLost(ctx, tx, a); err != nil {
		return err
	}
	left, err := tx.ListAssignments(ctx, store.AssignmentFilter{AccountID: a.AccountID, PermissionSetID: a.PermissionSetID})
	if err != nil {
		return err
	}
	isLinked, err := linked(ctx, tx, a.AccountID)
	if err != nil {
		return err
	}
	// In a linked account the worker deletes the role in IAM, then its
	// record, once no assignment is left (it looks again then).
	if len(left) == 0 && isLinked {
		return s.queueReconcile(ctx, tx, a.AccountID, a.PermissionSetID)
	}
	if len(left) == 0 {
		if err := tx.DeleteProvisionedRole(ctx, a.AccountID, a.PermissionSetID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return nil
}

// openAccount confirms the account exists and was not closed (an
// Organizations CloseAccount): a closed account takes no assignments and
// no provisioning.
func openAccount(ctx context.Context, tx store.Tx, id string) error {
	a, err := tx.GetAccount(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fault.NotFoundf(ResourceAccount, id, "Account %s is not part of this organization", id)
	case err == nil && a.State != "" && a.State != store.AccountActive:
		// Still ResourceNotFoundException (the account is gone for
		// Identity Center), but list-accounts still shows it, so say what
		// it is.
		return fault.NotFoundf(ResourceAccount, id, "Account %s is closed (%s): a closed account takes no account assignments or provisioning", id, a.State)
	case err != nil:
		return err
	}
	return nil
}

// RemovePrincipal deletes every assignment of a user or group inside tx; the
// directory calls it when it deletes the principal.
func (s *Service) RemovePrincipal(ctx context.Context, tx store.Tx, principalType, principalID string) error {
	as, err := tx.ListAssignments(ctx, store.AssignmentFilter{PrincipalType: principalType, PrincipalID: principalID})
	if err != nil {
		return err
	}
	for i := range as {
		if err := s.removeAssignment(ctx, tx, &as[i]); err != nil {
			return err
		}
	}
	return nil
}

// provisionRole creates or refreshes the permission set's role in an
// account. With onlyExisting it refreshes a role that exists and creates
// none. A non-empty reason means provisioning failed in a way the operation
// status reports (a customer-managed policy missing in the account).
func (s *Service) provisionRole(ctx context.Context, tx store.Tx, ps *store.PermissionSet, accountID string, onlyExisting bool) (reason string, err error) {
	refs := slices.Clone(ps.CustomerPolicies)
	if ps.Boundary != nil && ps.Boundary.CustomerPolicy != nil {
		refs = append(refs, *ps.Boundary.CustomerPolicy)
	}
	// A linked account's customer-managed policies live in its IAM: the
	// worker resolves them there, and records the version it provisioned
	// once IAM has it.
	isLinked, err := linked(ctx, tx, accountID)
	if err != nil {
		return "", err
	} else if isLinked {
		refs = nil
	}
	for _, r := range refs {
		if _, err := tx.GetCustomerPolicy(ctx, accountID, r.Path, r.Name); errors.Is(err, store.ErrNotFound) {
			return fmt.Sprintf("Received a 404 status error: Policy arn:aws:iam::%s:policy%s%s does not exist or is not attachable.", accountID, r.Path, r.Name), nil
		} else if err != nil {
			return "", err
		}
	}
	now := s.Now().UTC()
	role, err := tx.GetProvisionedRole(ctx, accountID, ps.ID)
	created := false
	switch {
	case errors.Is(err, store.ErrNotFound):
		created = true
		if onlyExisting {
			return "", nil
		}
		roles, err := tx.ListProvisionedRoles(ctx, store.RoleFilter{AccountID: accountID})
		if err != nil {
			return "", err
		}
		if len(roles) >= s.maxProvisionedPerAccount() {
			return "", fault.Quotaf("Account %s has %d permission sets provisioned, the most it may have", accountID, len(roles))
		}
		role = &store.ProvisionedRole{
			AccountID: accountID, PermissionSetID: ps.ID,
			RoleName: arn.RoleName(ps.Name, s.IDs.RoleSuffix()), RoleID: s.IDs.RoleID(),
			CreatedAt: now,
		}
	case err != nil:
		return "", err
	case role.PermissionSetVersion == ps.Version:
		return "", nil
	}
	if isLinked {
		// The record names the role for the worker; its version stays
		// what IAM has (0: not yet) until the worker provisions it.
		if created {
			return "", tx.PutProvisionedRole(ctx, role)
		}
		return "", nil
	}
	role.PermissionSetVersion = ps.Version
	role.UpdatedAt = now
	return "", tx.PutProvisionedRole(ctx, role)
}

// Provision applies a permission set's current policies to its role in one
// account, or in every account it is provisioned to when accountID is empty.
func (s *Service) Provision(ctx context.Context, psID, accountID string) (*store.Operation, error) {
	if accountID != "" && !arn.ValidAccountID(accountID) {
		return nil, fault.Validationf("TargetId %q must be a 12-digit account ID", accountID)
	}
	op := &store.Operation{
		RequestID: s.IDs.UUID(), Kind: store.OpProvision, Status: store.StatusSucceeded,
		AccountID: accountID, PermissionSetID: psID, CreatedAt: s.Now().UTC(),
	}
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		ps, err := getPS(ctx, tx, psID)
		if err != nil {
			return err
		}
		accounts := []string{accountID}
		if accountID == "" {
			roles, err := tx.ListProvisionedRoles(ctx, store.RoleFilter{PermissionSetID: psID})
			if err != nil {
				return err
			}
			accounts = accounts[:0]
			for _, r := range roles {
				accounts = append(accounts, r.AccountID)
			}
		} else if err := openAccount(ctx, tx, accountID); err != nil {
			return err
		}
		for _, acct := range accounts {
			isLinked, err := linked(ctx, tx, acct)
			if err != nil {
				return err
			}
			if isLinked {
				op.Status = store.StatusInProgress
			}
			reason, err := s.provisionRole(ctx, tx, ps, acct, false)
			if err != nil {
				return err
			}
			if reason != "" {
				op.Status, op.FailureReason = store.StatusFailed, reason
				break
			}
		}
		if err := tx.PutOperation(ctx, op); err != nil {
			return err
		}
		return s.record(ctx, tx, "ProvisionPermissionSet", s.psParams(psID, "targetId", accountID),
			writeResponse(op))
	})
	if err != nil {
		return nil, err
	}
	s.kick(op)
	return op, nil
}

// GetOperation returns an asynchronous operation's status.
func (s *Service) GetOperation(ctx context.Context, kind, requestID string) (*store.Operation, error) {
	op, err := s.Store.GetOperation(ctx, requestID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && op.Kind != kind) {
		return nil, fault.NotFoundf(ResourceOperation, requestID, "Request %s not found", requestID)
	}
	return op, err
}

// ListAssignments lists assignments matching f.
func (s *Service) ListAssignments(ctx context.Context, f store.AssignmentFilter) ([]store.Assignment, error) {
	return s.Store.ListAssignments(ctx, f)
}

// Entitlement is one (account, permission set) a user may use.
type Entitlement struct {
	AccountID       string
	PermissionSetID string
	// Since is when the user's oldest current path to it began: a direct
	// assignment's creation, or for a group assignment the later of the
	// assignment's and the membership's creation. Credentials issued
	// before Since were issued under an assignment or membership that has
	// since been removed (and perhaps made again), so they no longer count.
	Since time.Time
}

// CompareEntitlements orders entitlements by account, then permission set:
// the order Entitlements returns them in.
func CompareEntitlements(a, b Entitlement) int {
	if c := strings.Compare(a.AccountID, b.AccountID); c != 0 {
		return c
	}
	return strings.Compare(a.PermissionSetID, b.PermissionSetID)
}

// AssignmentReader is what Entitlements reads; store.Tx and store.Store
// implement it.
type AssignmentReader interface {
	ListAssignments(ctx context.Context, f store.AssignmentFilter) ([]store.Assignment, error)
	ListMembershipsByUser(ctx context.Context, userID string, p store.Page) ([]store.Membership, error)
}

// Entitlements resolves which accounts and permission sets a user may use,
// through direct and group assignments, sorted and without duplicates.
func Entitlements(ctx context.Context, tx AssignmentReader, userID string) ([]Entitlement, error) {
	direct, err := tx.ListAssignments(ctx, store.AssignmentFilter{PrincipalType: store.PrincipalUser, PrincipalID: userID})
	if err != nil {
		return nil, errorf("list user assignments", err)
	}
	out := make([]Entitlement, 0, len(direct))
	for _, a := range direct {
		out = append(out, Entitlement{AccountID: a.AccountID, PermissionSetID: a.PermissionSetID, Since: a.CreatedAt})
	}
	ms, err := tx.ListMembershipsByUser(ctx, userID, store.Page{})
	if err != nil {
		return nil, errorf("list memberships", err)
	}
	for _, m := range ms {
		g, err := tx.ListAssignments(ctx, store.AssignmentFilter{PrincipalType: store.PrincipalGroup, PrincipalID: m.GroupID})
		if err != nil {
			return nil, errorf("list group assignments", err)
		}
		for _, a := range g {
			since := a.CreatedAt
			if m.CreatedAt.After(since) {
				since = m.CreatedAt
			}
			out = append(out, Entitlement{AccountID: a.AccountID, PermissionSetID: a.PermissionSetID, Since: since})
		}
	}
	// Sorted by account, permission set, then Since, so that compacting
	// keeps each pair's earliest path.
	slices.SortFunc(out, func(a, b Entitlement) int {
		if c := CompareEntitlements(a, b); c != 0 {
			return c
		}
		return a.Since.Compare(b.Since)
	})
	return slices.CompactFunc(out, func(a, b Entitlement) bool { return CompareEntitlements(a, b) == 0 }), nil
}

// Provisioning statuses of a permission set in an account
// (ListAccountsForProvisionedPermissionSet, ListPermissionSetsProvisionedToAccount).
const (
	ProvisionedLatest    = "LATEST_PERMISSION_SET_PROVISIONED"
	ProvisionedNotLatest = "LATEST_PERMISSION_SET_NOT_PROVISIONED"
)

func validProvisioningStatus(status string) error {
	switch status {
	case "", ProvisionedLatest, ProvisionedNotLatest:
		return nil
	}
	return fault.Validationf("ProvisioningStatus %q must be %s or %s", status, ProvisionedLatest, ProvisionedNotLatest)
}

// matchesStatus reports whether a role provisioned from ps is in status (""
// matches every role): a role provisioned at an older version of the
// permission set than its current one is LATEST_PERMISSION_SET_NOT_PROVISIONED
// until ProvisionPermissionSet brings it up to date.
func matchesStatus(r store.ProvisionedRole, ps *store.PermissionSet, status string) bool {
	switch status {
	case ProvisionedLatest:
		return r.PermissionSetVersion >= ps.Version
	case ProvisionedNotLatest:
		return r.PermissionSetVersion < ps.Version
	}
	return true
}

// AccountsForPermissionSet returns the accounts a permission set is
// provisioned to, in account order, optionally only those in status.
func (s *Service) AccountsForPermissionSet(ctx context.Context, psID, status string) ([]string, error) {
	if err := validProvisioningStatus(status); err != nil {
		return nil, err
	}
	ps, err := getPS(ctx, s.Store, psID)
	if err != nil {
		return nil, err
	}
	roles, err := s.Store.ListProvisionedRoles(ctx, store.RoleFilter{PermissionSetID: psID})
	if err != nil {
		return nil, errorf("list provisioned roles", err)
	}
	out := []string{}
	for _, r := range roles {
		if matchesStatus(r, ps, status) {
			out = append(out, r.AccountID)
		}
	}
	return out, nil
}

// PermissionSetsInAccount returns the IDs of the permission sets
// provisioned to an account, in ID order, optionally only those in status.
func (s *Service) PermissionSetsInAccount(ctx context.Context, accountID, status string) ([]string, error) {
	if !arn.ValidAccountID(accountID) {
		return nil, fault.Validationf("AccountId %q must be a 12-digit account ID", accountID)
	}
	if err := validProvisioningStatus(status); err != nil {
		return nil, err
	}
	if _, err := s.GetAccount(ctx, accountID); err != nil {
		return nil, err
	}
	roles, err := s.Store.ListProvisionedRoles(ctx, store.RoleFilter{AccountID: accountID})
	if err != nil {
		return nil, errorf("list provisioned roles", err)
	}
	out := []string{}
	for _, r := range roles {
		ps, err := s.Store.GetPermissionSet(ctx, r.PermissionSetID)
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted since the list was read
		} else if err != nil {
			return nil, errorf("get permission set", err)
		}
		if matchesStatus(r, ps, status) {
			out = append(out, r.PermissionSetID)
		}
	}
	return out, nil
}

// ListOperations returns a page of one kind of asynchronous operation,
// oldest first, optionally only those in status (IN_PROGRESS, FAILED or
// SUCCEEDED).
func (s *Service) ListOperations(ctx context.Context, kind, status string, p store.Page) ([]store.Operation, error) {
	switch status {
	case "", store.StatusInProgress, store.StatusFailed, store.StatusSucceeded:
	default:
		return nil, fault.Validationf("Filter.Status %q must be IN_PROGRESS, FAILED or SUCCEEDED", status)
	}
	return s.Store.ListOperations(ctx, store.OperationFilter{Kind: kind, Status: status, Page: p})
}

// writeResponse is the responseElements of the audit event of an
// assignment or provisioning write: what the API answered, which is
// IN_PROGRESS whatever the operation's final status (the Describe…Status
// operations report that), as AWS's write operations answer.
func writeResponse(op *store.Operation) map[string]string {
	return map[string]string{"requestId": op.RequestID, "status": store.StatusInProgress}
}
