package adminapi

import (
	"context"
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/awsauth"
	"github.com/gatehouse-dev/gatehouse/internal/awsproto"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// ssoPermissionOps returns the sso-admin operations on permission sets,
// account assignments, provisioning and tags (spec: aws-wire §6.3; shapes
// from botocore sso-admin 2020-07-20). Action names are the operation names
// under the sso: prefix; resources follow the Service Authorization
// Reference for IAM Identity Center: the instance ARN, plus the
// permission-set ARN and the account ARN (arn:aws:sso:::account/<id>) where
// the operation names them.
func (s *Service) ssoPermissionOps() map[string]operation {
	return map[string]operation{
		"CreatePermissionSet":   op("sso:CreatePermissionSet", false, ssoRes(s.createPermissionSetRes), s.createPermissionSet),
		"DescribePermissionSet": op("sso:DescribePermissionSet", true, ssoRes(ssoPSRes[DescribePermissionSetInput](s)), s.describePermissionSet),
		"UpdatePermissionSet":   op("sso:UpdatePermissionSet", false, ssoRes(ssoPSRes[UpdatePermissionSetInput](s)), notDelegated(s, "sso:UpdatePermissionSet", mgmtSetOf[UpdatePermissionSetInput](s), s.updatePermissionSet)),
		"DeletePermissionSet":   op("sso:DeletePermissionSet", false, ssoRes(ssoPSRes[DeletePermissionSetInput](s)), notDelegated(s, "sso:DeletePermissionSet", mgmtSetOf[DeletePermissionSetInput](s), s.deletePermissionSet)),
		"ListPermissionSets":    op("sso:ListPermissionSets", true, ssoRes(s.listPermissionSetsRes), s.listPermissionSets),

		"AttachManagedPolicyToPermissionSet":   op("sso:AttachManagedPolicyToPermissionSet", false, ssoRes(ssoPSRes[ManagedPolicyInput](s)), notDelegated(s, "sso:AttachManagedPolicyToPermissionSet", mgmtSetOf[ManagedPolicyInput](s), s.attachManagedPolicy)),
		"DetachManagedPolicyFromPermissionSet": op("sso:DetachManagedPolicyFromPermissionSet", false, ssoRes(ssoPSRes[ManagedPolicyInput](s)), notDelegated(s, "sso:DetachManagedPolicyFromPermissionSet", mgmtSetOf[ManagedPolicyInput](s), s.detachManagedPolicy)),
		"ListManagedPoliciesInPermissionSet":   op("sso:ListManagedPoliciesInPermissionSet", true, ssoRes(ssoPSRes[ListManagedPoliciesInPermissionSetInput](s)), s.listManagedPolicies),

		"AttachCustomerManagedPolicyReferenceToPermissionSet":   op("sso:AttachCustomerManagedPolicyReferenceToPermissionSet", false, ssoRes(ssoPSRes[CustomerPolicyInput](s)), notDelegated(s, "sso:AttachCustomerManagedPolicyReferenceToPermissionSet", mgmtSetOf[CustomerPolicyInput](s), s.attachCustomerPolicy)),
		"DetachCustomerManagedPolicyReferenceFromPermissionSet": op("sso:DetachCustomerManagedPolicyReferenceFromPermissionSet", false, ssoRes(ssoPSRes[CustomerPolicyInput](s)), notDelegated(s, "sso:DetachCustomerManagedPolicyReferenceFromPermissionSet", mgmtSetOf[CustomerPolicyInput](s), s.detachCustomerPolicy)),
		"ListCustomerManagedPolicyReferencesInPermissionSet":    op("sso:ListCustomerManagedPolicyReferencesInPermissionSet", true, ssoRes(ssoPSRes[ListCustomerManagedPolicyReferencesInPermissionSetInput](s)), s.listCustomerPolicies),

		"PutInlinePolicyToPermissionSet":      op("sso:PutInlinePolicyToPermissionSet", false, ssoRes(ssoPSRes[PutInlinePolicyToPermissionSetInput](s)), notDelegated(s, "sso:PutInlinePolicyToPermissionSet", mgmtSetOf[PutInlinePolicyToPermissionSetInput](s), s.putInlinePolicy)),
		"GetInlinePolicyForPermissionSet":     op("sso:GetInlinePolicyForPermissionSet", true, ssoRes(ssoPSRes[PermissionSetRef](s)), s.getInlinePolicy),
		"DeleteInlinePolicyFromPermissionSet": op("sso:DeleteInlinePolicyFromPermissionSet", false, ssoRes(ssoPSRes[PermissionSetRef](s)), notDelegated(s, "sso:DeleteInlinePolicyFromPermissionSet", mgmtSetOf[PermissionSetRef](s), s.deleteInlinePolicy)),

		"PutPermissionsBoundaryToPermissionSet":      op("sso:PutPermissionsBoundaryToPermissionSet", false, ssoRes(ssoPSRes[PutPermissionsBoundaryToPermissionSetInput](s)), notDelegated(s, "sso:PutPermissionsBoundaryToPermissionSet", mgmtSetOf[PutPermissionsBoundaryToPermissionSetInput](s), s.putBoundary)),
		"GetPermissionsBoundaryForPermissionSet":     op("sso:GetPermissionsBoundaryForPermissionSet", true, ssoRes(ssoPSRes[PermissionSetRef](s)), s.getBoundary),
		"DeletePermissionsBoundaryFromPermissionSet": op("sso:DeletePermissionsBoundaryFromPermissionSet", false, ssoRes(ssoPSRes[PermissionSetRef](s)), notDelegated(s, "sso:DeletePermissionsBoundaryFromPermissionSet", mgmtSetOf[PermissionSetRef](s), s.deleteBoundary)),

		"ProvisionPermissionSet":                  op("sso:ProvisionPermissionSet", false, ssoRes(s.provisionRes), notDelegated(s, "sso:ProvisionPermissionSet", s.mgmtProvision, s.provisionPermissionSet)),
		"DescribePermissionSetProvisioningStatus": op("sso:DescribePermissionSetProvisioningStatus", true, ssoRes(ssoInstanceRes[DescribePermissionSetProvisioningStatusInput](s)), s.describeProvisioningStatus),
		"ListPermissionSetProvisioningStatus":     op("sso:ListPermissionSetProvisioningStatus", true, ssoRes(ssoInstanceRes[ListOperationStatusInput](s)), s.listProvisioningStatus),
		"ListPermissionSetsProvisionedToAccount":  op("sso:ListPermissionSetsProvisionedToAccount", true, ssoRes(s.provisionedToAccountRes), s.listPermissionSetsProvisionedToAccount),
		"ListAccountsForProvisionedPermissionSet": op("sso:ListAccountsForProvisionedPermissionSet", true, ssoRes(ssoPSRes[ListAccountsForProvisionedPermissionSetInput](s)), s.listAccountsForProvisionedPermissionSet),

		"CreateAccountAssignment":                 op("sso:CreateAccountAssignment", false, ssoRes(s.assignmentRes), notDelegated(s, "sso:CreateAccountAssignment", s.mgmtAssignment, s.createAccountAssignment)),
		"DeleteAccountAssignment":                 op("sso:DeleteAccountAssignment", false, ssoRes(s.assignmentRes), notDelegated(s, "sso:DeleteAccountAssignment", s.mgmtAssignment, s.deleteAccountAssignment)),
		"DescribeAccountAssignmentCreationStatus": op("sso:DescribeAccountAssignmentCreationStatus", true, ssoRes(ssoInstanceRes[DescribeAccountAssignmentCreationStatusInput](s)), s.describeAssignmentCreation),
		"DescribeAccountAssignmentDeletionStatus": op("sso:DescribeAccountAssignmentDeletionStatus", true, ssoRes(ssoInstanceRes[DescribeAccountAssignmentDeletionStatusInput](s)), s.describeAssignmentDeletion),
		"ListAccountAssignmentCreationStatus":     op("sso:ListAccountAssignmentCreationStatus", true, ssoRes(ssoInstanceRes[ListOperationStatusInput](s)), s.listAssignmentCreation),
		"ListAccountAssignmentDeletionStatus":     op("sso:ListAccountAssignmentDeletionStatus", true, ssoRes(ssoInstanceRes[ListOperationStatusInput](s)), s.listAssignmentDeletion),
		"ListAccountAssignments":                  op("sso:ListAccountAssignments", true, ssoRes(s.listAssignmentsRes), s.listAccountAssignments),
		"ListAccountAssignmentsForPrincipal":      op("sso:ListAccountAssignmentsForPrincipal", true, ssoRes(s.assignmentsForPrincipalRes), s.listAccountAssignmentsForPrincipal),

		"TagResource":         op("sso:TagResource", false, ssoRes(ssoTagRes[TagResourceInput](s)), notDelegated(s, "sso:TagResource", mgmtTagged[TagResourceInput](s), s.tagResource)),
		"UntagResource":       op("sso:UntagResource", false, ssoRes(ssoTagRes[UntagResourceInput](s)), notDelegated(s, "sso:UntagResource", mgmtTagged[UntagResourceInput](s), s.untagResource)),
		"ListTagsForResource": op("sso:ListTagsForResource", true, ssoRes(ssoTagRes[ListTagsForResourceInput](s)), s.listTagsForResource),
	}
}

// ssoRes adapts a resource function that needs only the input.
func ssoRes[In any](f func(in *In) ([]string, error)) func(context.Context, *awsauth.Caller, *In) ([]string, error) {
	return func(_ context.Context, _ *awsauth.Caller, in *In) ([]string, error) { return f(in) }
}

// --- validation in AWS's words ---

// ssoInvalid is AWS's ValidationException for one member:
// "1 validation error detected: Value 'x' at 'member' failed to satisfy
// constraint: ...".
func ssoInvalid(member, value, constraint string) error {
	return fault.Validationf("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s", value, member, constraint)
}

var (
	ssoTokenRe     = regexp.MustCompile(`^[-a-zA-Z0-9+=/_]*$`)
	ssoPrincipalRe = regexp.MustCompile(`^([0-9a-f]{10}-|)[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}$`)
)

// ssoInstance checks a required InstanceArn and returns the instance's
// canonical ARN, the one policies are evaluated on: a malformed ARN is a
// ValidationException; another instance's, or this instance's spelled for
// another partition (arn:aws-cn:, arn:aws-us-gov:, … — the model's pattern
// admits them, but this instance lives in partition aws), a
// ResourceNotFoundException.
func (s *Service) ssoInstance(v *string) (string, error) {
	if v == nil {
		return "", required("instanceArn")
	}
	id, err := arn.ParseInstanceARN(*v)
	if err != nil {
		return "", ssoInvalid("instanceArn", *v, "Member must satisfy regular expression pattern: arn:(aws|aws-us-gov|aws-cn|aws-iso|aws-iso-b):sso:::instance/(sso)?ins-[a-zA-Z0-9-.]{16}")
	}
	canonical := arn.InstanceARN(s.Instance.InstanceID)
	if id != s.Instance.InstanceID || *v != canonical {
		return "", fault.NotFoundf(access.ResourceInstance, *v, "Could not find Instance with InstanceArn %s", *v)
	}
	return canonical, nil
}

// ssoPermissionSet checks a required PermissionSetArn of the instance and
// returns the permission set's ID. Only the set's canonical ARN names it
// (access.Service.ParsePermissionSetARN).
func (s *Service) ssoPermissionSet(v *string) (string, error) {
	if v == nil {
		return "", required("permissionSetArn")
	}
	if _, _, err := arn.ParsePermissionSetARN(*v); err != nil {
		return "", ssoInvalid("permissionSetArn", *v, "Member must satisfy regular expression pattern: arn:(aws|aws-us-gov|aws-cn|aws-iso|aws-iso-b):sso:::permissionSet/(sso)?ins-[a-zA-Z0-9-.]{16}/ps-[a-zA-Z0-9-./]{16}")
	}
	return s.Access.ParsePermissionSetARN(*v)
}

func ssoAccount(member string, v *string) (string, error) {
	if v == nil {
		return "", required(member)
	}
	if !arn.ValidAccountID(*v) {
		return "", ssoInvalid(member, *v, `Member must satisfy regular expression pattern: \d{12}`)
	}
	return *v, nil
}

func ssoPrincipal(typ, id *string) (string, string, error) {
	if typ == nil {
		return "", "", required("principalType")
	}
	if *typ != store.PrincipalUser && *typ != store.PrincipalGroup {
		return "", "", ssoInvalid("principalType", *typ, "Member must satisfy enum value set: [USER, GROUP]")
	}
	if id == nil {
		return "", "", required("principalId")
	}
	if len(*id) > 47 || !ssoPrincipalRe.MatchString(*id) {
		return "", "", ssoInvalid("principalId", *id, "Member must satisfy regular expression pattern: ^([0-9a-f]{10}-|)[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}$")
	}
	return *typ, *id, nil
}

// --- pagination (spec: aws-wire §2.6) ---

// ssoPage is one page request: at most limit items after the key after,
// for the query whose fingerprint the token must carry.
type ssoPage struct {
	query string
	after string
	limit int
}

// ssoDefaultPageSize is the page size when MaxResults is left out.
const ssoDefaultPageSize = 100

// ssoPaging validates MaxResults and NextToken for the query named by op
// and its filter values: a token from another query is refused, so a
// client cannot page through one listing with another's position.
func ssoPaging(maxResults *int32, nextToken *string, op string, filter ...string) (ssoPage, error) {
	p := ssoPage{query: op + "\x00" + strings.Join(filter, "\x00"), limit: ssoDefaultPageSize}
	if maxResults != nil {
		if *maxResults < 1 || *maxResults > 100 {
			return p, ssoInvalid("maxResults", fmt.Sprint(*maxResults), "Member must have value between 1 and 100")
		}
		p.limit = int(*maxResults)
	}
	if nextToken == nil {
		return p, nil
	}
	after, ok := pageAfter(p.query, nextToken)
	if len(*nextToken) > 2048 || !ssoTokenRe.MatchString(*nextToken) || !ok {
		return p, fault.Validationf("The NextToken is invalid or does not belong to this request.")
	}
	p.after = after
	return p, nil
}

// token returns the NextToken that continues after key.
func (p ssoPage) token(key string) *string {
	return pageToken(p.query, key)
}

// ssoPageOf cuts the page p selects out of items, which are sorted by key,
// and returns it with the token of the next page (nil on the last).
func ssoPageOf[T any](items []T, key func(T) string, p ssoPage) ([]T, *string) {
	start := 0
	if p.after != "" {
		for start < len(items) && key(items[start]) <= p.after {
			start++
		}
	}
	items = items[start:]
	if len(items) <= p.limit {
		return items, nil
	}
	return items[:p.limit], p.token(key(items[p.limit-1]))
}

// --- shapes ---

// PermissionSet is sso-admin's PermissionSet.
type PermissionSet struct {
	Name             string             `json:"Name"`
	PermissionSetArn string             `json:"PermissionSetArn"`
	Description      string             `json:"Description,omitempty"`
	CreatedDate      awsproto.Timestamp `json:"CreatedDate,omitzero"`
	SessionDuration  string             `json:"SessionDuration,omitempty"`
	RelayState       string             `json:"RelayState,omitempty"`
}

func (s *Service) permissionSetShape(ps *store.PermissionSet) *PermissionSet {
	return &PermissionSet{
		Name: ps.Name, PermissionSetArn: s.Access.PermissionSetARN(ps.ID), Description: ps.Description,
		CreatedDate: awsproto.Timestamp{Time: ps.CreatedAt}, SessionDuration: access.FormatSessionDuration(ps.SessionDuration),
		RelayState: ps.RelayState,
	}
}

// PermissionSetRef is the InstanceArn and PermissionSetArn every
// permission-set operation names; it is also the whole input of
// Get/DeleteInlinePolicy and Get/DeletePermissionsBoundary.
type PermissionSetRef struct {
	InstanceArn      *string `json:"InstanceArn"`
	PermissionSetArn *string `json:"PermissionSetArn"`
}

func (r *PermissionSetRef) ref() *PermissionSetRef { return r }

// ssoPSInput is an input that names a permission set.
type ssoPSInput interface{ ref() *PermissionSetRef }

// ssoPSRes returns the resource function of an operation on one permission
// set: its instance and permission-set ARNs, both checked and canonical
// (never the caller's spelling: a policy on the set's ARN must match
// whatever partition the request wrote).
func ssoPSRes[In any, P interface {
	*In
	ssoPSInput
}](s *Service) func(in *In) ([]string, error) {
	return func(in *In) ([]string, error) {
		r := P(in).ref()
		ins, err := s.ssoInstance(r.InstanceArn)
		if err != nil {
			return nil, err
		}
		id, err := s.ssoPermissionSet(r.PermissionSetArn)
		if err != nil {
			return nil, err
		}
		return []string{ins, s.Access.PermissionSetARN(id)}, nil
	}
}

// ssoInstanceInput is an input that names only the instance.
type ssoInstanceInput interface{ instanceArn() *string }

// ssoInstanceRes returns the resource function of an operation on the
// instance as a whole.
func ssoInstanceRes[In any, P interface {
	*In
	ssoInstanceInput
}](s *Service) func(in *In) ([]string, error) {
	return func(in *In) ([]string, error) {
		ins, err := s.ssoInstance(P(in).instanceArn())
		if err != nil {
			return nil, err
		}
		return []string{ins}, nil
	}
}

// psID returns the permission set ID of a reference its resource function
// has checked.
func (s *Service) psID(r *PermissionSetRef) (string, error) {
	return s.ssoPermissionSet(r.PermissionSetArn)
}

// --- permission sets ---

// CreatePermissionSetInput is sso-admin's CreatePermissionSetRequest.
type CreatePermissionSetInput struct {
	InstanceArn     *string     `json:"InstanceArn"`
	Name            *string     `json:"Name"`
	Description     *string     `json:"Description"`
	SessionDuration *string     `json:"SessionDuration"`
	RelayState      *string     `json:"RelayState"`
	Tags            []store.Tag `json:"Tags"`
}

// CreatePermissionSetOutput is sso-admin's CreatePermissionSetResponse.
type CreatePermissionSetOutput struct {
	PermissionSet *PermissionSet `json:"PermissionSet"`
}

func (s *Service) createPermissionSetRes(in *CreatePermissionSetInput) ([]string, error) {
	ins, err := s.ssoInstance(in.InstanceArn)
	if err != nil {
		return nil, err
	}
	if in.Name == nil {
		return nil, required("name")
	}
	return []string{ins}, nil
}

func (s *Service) createPermissionSet(ctx context.Context, _ *awsauth.Caller, in *CreatePermissionSetInput) (*CreatePermissionSetOutput, error) {
	pi := access.PermissionSetInput{Name: *in.Name, Tags: in.Tags}
	if in.Description != nil {
		if *in.Description == "" {
			return nil, ssoInvalid("description", "", "Member must have length greater than or equal to 1")
		}
		pi.Description = *in.Description
	}
	if in.SessionDuration != nil {
		if *in.SessionDuration == "" {
			return nil, ssoInvalid("sessionDuration", "", "Member must have length greater than or equal to 1")
		}
		pi.SessionDuration = *in.SessionDuration
	}
	if in.RelayState != nil {
		if *in.RelayState == "" {
			return nil, ssoInvalid("relayState", "", "Member must have length greater than or equal to 1")
		}
		pi.RelayState = *in.RelayState
	}
	ps, err := s.Access.CreatePermissionSet(ctx, pi)
	if err != nil {
		return nil, err
	}
	return &CreatePermissionSetOutput{PermissionSet: s.permissionSetShape(ps)}, nil
}

// DescribePermissionSetInput is sso-admin's DescribePermissionSetRequest.
type DescribePermissionSetInput struct{ PermissionSetRef }

// DescribePermissionSetOutput is sso-admin's DescribePermissionSetResponse.
type DescribePermissionSetOutput = CreatePermissionSetOutput

func (s *Service) describePermissionSet(ctx context.Context, _ *awsauth.Caller, in *DescribePermissionSetInput) (*DescribePermissionSetOutput, error) {
	id, err := s.psID(&in.PermissionSetRef)
	if err != nil {
		return nil, err
	}
	ps, err := s.permissionSet(ctx, id)
	if err != nil {
		return nil, err
	}
	return &DescribePermissionSetOutput{PermissionSet: s.permissionSetShape(ps)}, nil
}

// UpdatePermissionSetInput is sso-admin's UpdatePermissionSetRequest.
type UpdatePermissionSetInput struct {
	PermissionSetRef
	Description     *string `json:"Description"`
	SessionDuration *string `json:"SessionDuration"`
	RelayState      *string `json:"RelayState"`
}

// ssoEmpty is the empty output of operations that return nothing.
type ssoEmpty struct{}

func (s *Service) updatePermissionSet(ctx context.Context, _ *awsauth.Caller, in *UpdatePermissionSetInput) (*ssoEmpty, error) {
	id, err := s.psID(&in.PermissionSetRef)
	if err != nil {
		return nil, err
	}
	for member, v := range map[string]*string{"description": in.Description, "sessionDuration": in.SessionDuration, "relayState": in.RelayState} {
		if v != nil && *v == "" {
			return nil, ssoInvalid(member, "", "Member must have length greater than or equal to 1")
		}
	}
	return nil, s.Access.UpdatePermissionSet(ctx, id, access.PermissionSetUpdate{
		Description: in.Description, SessionDuration: in.SessionDuration, RelayState: in.RelayState,
	})
}

// DeletePermissionSetInput is sso-admin's DeletePermissionSetRequest.
type DeletePermissionSetInput struct{ PermissionSetRef }

func (s *Service) deletePermissionSet(ctx context.Context, _ *awsauth.Caller, in *DeletePermissionSetInput) (*ssoEmpty, error) {
	id, err := s.psID(&in.PermissionSetRef)
	if err != nil {
		return nil, err
	}
	return nil, s.Access.DeletePermissionSet(ctx, id)
}

// ListPermissionSetsInput is sso-admin's ListPermissionSetsRequest.
type ListPermissionSetsInput struct {
	InstanceArn *string `json:"InstanceArn"`
	MaxResults  *int32  `json:"MaxResults"`
	NextToken   *string `json:"NextToken"`
}

// ListPermissionSetsOutput is sso-admin's ListPermissionSetsResponse (and
// ListPermissionSetsProvisionedToAccountResponse).
type ListPermissionSetsOutput struct {
	PermissionSets []string `json:"PermissionSets"`
	NextToken      *string  `json:"NextToken,omitempty"`
}

func (s *Service) listPermissionSetsRes(in *ListPermissionSetsInput) ([]string, error) {
	ins, err := s.ssoInstance(in.InstanceArn)
	if err != nil {
		return nil, err
	}
	return []string{ins}, nil
}

func (s *Service) listPermissionSets(ctx context.Context, _ *awsauth.Caller, in *ListPermissionSetsInput) (*ListPermissionSetsOutput, error) {
	p, err := ssoPaging(in.MaxResults, in.NextToken, "ListPermissionSets")
	if err != nil {
		return nil, err
	}
	pss, err := s.Access.ListPermissionSets(ctx, store.Page{After: p.after, Limit: p.limit + 1})
	if err != nil {
		return nil, err
	}
	page, next := ssoPageOf(pss, func(ps store.PermissionSet) string { return ps.ID }, p)
	out := &ListPermissionSetsOutput{PermissionSets: make([]string, 0, len(page)), NextToken: next}
	for _, ps := range page {
		out.PermissionSets = append(out.PermissionSets, s.Access.PermissionSetARN(ps.ID))
	}
	return out, nil
}

// --- AWS-managed policies ---

// ManagedPolicyInput is sso-admin's AttachManagedPolicyToPermissionSetRequest
// and DetachManagedPolicyFromPermissionSetRequest.
type ManagedPolicyInput struct {
	PermissionSetRef
	ManagedPolicyArn *string `json:"ManagedPolicyArn"`
}

func (s *Service) attachManagedPolicy(ctx context.Context, _ *awsauth.Caller, in *ManagedPolicyInput) (*ssoEmpty, error) {
	id, err := s.psID(&in.PermissionSetRef)
	if err != nil {
		return nil, err
	}
	if in.ManagedPolicyArn == nil {
		return nil, required("managedPolicyArn")
	}
	return nil, s.Access.AttachManagedPolicy(ctx, id, *in.ManagedPolicyArn)
}

func (s *Service) detachManagedPolicy(ctx context.Context, _ *awsauth.Caller, in *ManagedPolicyInput) (*ssoEmpty, error) {
	id, err := s.psID(&in.PermissionSetRef)
	if err != nil {
		return nil, err
	}
	if in.ManagedPolicyArn == nil {
		return nil, required("managedPolicyArn")
	}
	return nil, s.Access.DetachManagedPolicy(ctx, id, *in.ManagedPolicyArn)
}

// ListManagedPoliciesInPermissionSetInput is sso-admin's
// ListManagedPoliciesInPermissionSetRequest.
type ListManagedPoliciesInPermissionSetInput struct {
	PermissionSetRef
	MaxResults *int32  `json:"MaxResults"`
	NextToken  *string `json:"NextToken"`
}

// AttachedManagedPolicy is sso-admin's AttachedManagedPolicy.
type AttachedManagedPolicy struct {
	Name string `json:"Name"`
	Arn  string `json:"Arn"`
}

// ListManagedPoliciesInPermissionSetOutput is sso-admin's
// ListManagedPoliciesInPermissionSetResponse.
type ListManagedPoliciesInPermissionSetOutput struct {
	AttachedManagedPolicies []AttachedManagedPolicy `json:"AttachedManagedPolicies"`
	NextToken               *string                 `json:"NextToken,omitempty"`
}

// ssoIndexKey is the sort key of the i-th item of a list kept in attach
// order: zero-padded so that string order is index order.
func ssoIndexKey(i int) string { return fmt.Sprintf("%06d", i) }

type ssoIndexed[T any] struct {
	i int
	v T
}

func ssoIndex[T any](vs []T) []ssoIndexed[T] {
	out := make([]ssoIndexed[T], len(vs))
	for i, v := range vs {
		out[i] = ssoIndexed[T]{i, v}
	}
	return out
}

func (s *Service) listManagedPolicies(ctx context.Context, _ *awsauth.Caller, in *ListManagedPoliciesInPermissionSetInput) (*ListManagedPoliciesInPermissionSetOutput, error) {
	id, err := s.psID(&in.PermissionSetRef)
	if err != nil {
		return nil, err
	}
	p, err := ssoPaging(in.MaxResults, in.NextToken, "ListManagedPoliciesInPermissionSet", id)
	if err != nil {
		return nil, err
	}
	ps, err := s.permissionSet(ctx, id)
	if err != nil {
		return nil, err
	}
	page, next := ssoPageOf(ssoIndex(ps.ManagedPolicies), func(x ssoIndexed[string]) string { return ssoIndexKey(x.i) }, p)
	out := &ListManagedPoliciesInPermissionSetOutput{AttachedManagedPolicies: make([]AttachedManagedPolicy, 0, len(page)), NextToken: next}
	for _, x := range page {
		out.AttachedManagedPolicies = append(out.AttachedManagedPolicies, AttachedManagedPolicy{Name: path.Base(x.v), Arn: x.v})
	}
	return out, nil
}

// --- customer-managed policy references ---

// CustomerManagedPolicyReference is sso-admin's
// CustomerManagedPolicyReference.
type CustomerManagedPolicyReference struct {
	Name *string `json:"Name"`
	Path *string `json:"Path,omitempty"`
}

func (r *CustomerManagedPolicyReference) ref(member string) (store.PolicyRef, error) {
	if r == nil {
		return store.PolicyRef{}, required(member)
	}
	if r.Name == nil {
		return store.PolicyRef{}, required(member + ".name")
	}
	ref := store.PolicyRef{Name: *r.Name}
	if r.Path != nil {
		if *r.Path == "" {
			return ref, ssoInvalid(member+".path", "", "Member must have length greater than or equal to 1")
		}
		ref.Path = *r.Path
	}
	return ref, nil
}

// CustomerPolicyInput is sso-admin's
// Attach/DetachCustomerManagedPolicyReference…PermissionSetRequest.
type CustomerPolicyInput struct {
	PermissionSetRef
	CustomerManagedPolicyReference *CustomerManagedPolicyReference `json:"CustomerManagedPolicyReference"`
}

func (s *Service) attachCustomerPolicy(ctx context.Context, _ *awsauth.Caller, in *CustomerPolicyInput) (*ssoEmpty, error) {
	id, err := s.psID(&in.PermissionSetRef)
	if err != nil {
		return nil, err
	}
	ref, err := in.CustomerManagedPolicyReference.ref("customerManagedPolicyReference")
	if err != nil {
		return nil, err
	}
	return nil, s.Access.AttachCustomerPolicy(ctx, id, ref)
}

func (s *Service) detachCustomerPolicy(ctx context.Context, _ *awsauth.Caller, in *CustomerPolicyInput) (*ssoEmpty, error) {
	id, err := s.psID(&in.PermissionSetRef)
	if err != nil {
		return nil, err
	}
	ref, err := in.CustomerManagedPolicyReference.ref("customerManagedPolicyReference")
	if err != nil {
		return nil, err
	}
	return nil, s.Access.DetachCustomerPolicy(ctx, id, ref)
}

// ListCustomerManagedPolicyReferencesInPermissionSetInput is sso-admin's
// ListCustomerManagedPolicyReferencesInPermissionSetRequest.
type ListCustomerManagedPolicyReferencesInPermissionSetInput = ListManagedPoliciesInPermissionSetInput

// ListCustomerManagedPolicyReferencesInPermissionSetOutput is sso-admin's
// ListCustomerManagedPolicyReferencesInPermissionSetResponse.
type ListCustomerManagedPolicyReferencesInPermissionSetOutput struct {
	CustomerManagedPolicyReferences []store.PolicyRef `json:"CustomerManagedPolicyReferences"`
	NextToken                       *string           `json:"NextToken,omitempty"`
}

func (s *Service) listCustomerPolicies(ctx context.Context, _ *awsauth.Caller, in *ListCustomerManagedPolicyReferencesInPermissionSetInput) (*ListCustomerManagedPolicyReferencesInPermissionSetOutput, error) {
	id, err := s.psID(&in.PermissionSetRef)
	if err != nil {
		return nil, err
	}
	p, err := ssoPaging(in.MaxResults, in.NextToken, "ListCustomerManagedPolicyReferencesInPermissionSet", id)
	if err != nil {
		return nil, err
	}
	ps, err := s.permissionSet(ctx, id)
	if err != nil {
		return nil, err
	}
	page, next := ssoPageOf(ssoIndex(ps.CustomerPolicies), func(x ssoIndexed[store.PolicyRef]) string { return ssoIndexKey(x.i) }, p)
	out := &ListCustomerManagedPolicyReferencesInPermissionSetOutput{CustomerManagedPolicyReferences: make([]store.PolicyRef, 0, len(page)), NextToken: next}
	for _, x := range page {
		out.CustomerManagedPolicyReferences = append(out.CustomerManagedPolicyReferences, x.v)
	}
	return out, nil
}

// --- inline policy ---

// PutInlinePolicyToPermissionSetInput is sso-admin's
// PutInlinePolicyToPermissionSetRequest.
type PutInlinePolicyToPermissionSetInput struct {
	PermissionSetRef
	InlinePolicy *string `json:"InlinePolicy"`
}

func (s *Service) putInlinePolicy(ctx context.Context, _ *awsauth.Caller, in *PutInlinePolicyToPermissionSetInput) (*ssoEmpty, error) {
	id, err := s.psID(&in.PermissionSetRef)
	if err != nil {
		return nil, err
	}
	if in.InlinePolicy == nil {
		return nil, required("inlinePolicy")
	}
	return nil, s.Access.PutInlinePolicy(ctx, id, *in.InlinePolicy)
}

// GetInlinePolicyForPermissionSetOutput is sso-admin's
// GetInlinePolicyForPermissionSetResponse.
type GetInlinePolicyForPermissionSetOutput struct {
	InlinePolicy string `json:"InlinePolicy,omitempty"`
}

func (s *Service) getInlinePolicy(ctx context.Context, _ *awsauth.Caller, in *PermissionSetRef) (*GetInlinePolicyForPermissionSetOutput, error) {
	id, err := s.psID(in)
	if err != nil {
		return nil, err
	}
	ps, err := s.permissionSet(ctx, id)
	if err != nil {
		return nil, err
	}
	return &GetInlinePolicyForPermissionSetOutput{InlinePolicy: ps.InlinePolicy}, nil
}

func (s *Service) deleteInlinePolicy(ctx context.Context, _ *awsauth.Caller, in *PermissionSetRef) (*ssoEmpty, error) {
	id, err := s.psID(in)
	if err != nil {
		return nil, err
	}
	return nil, s.Access.DeleteInlinePolicy(ctx, id)
}

// --- permissions boundary ---

// PermissionsBoundary is sso-admin's PermissionsBoundary.
type PermissionsBoundary struct {
	CustomerManagedPolicyReference *CustomerManagedPolicyReference `json:"CustomerManagedPolicyReference,omitempty"`
	ManagedPolicyArn               *string                         `json:"ManagedPolicyArn,omitempty"`
}

// PutPermissionsBoundaryToPermissionSetInput is sso-admin's
// PutPermissionsBoundaryToPermissionSetRequest.
type PutPermissionsBoundaryToPermissionSetInput struct {
	PermissionSetRef
	PermissionsBoundary *PermissionsBoundary `json:"PermissionsBoundary"`
}

func (s *Service) putBoundary(ctx context.Context, _ *awsauth.Caller, in *PutPermissionsBoundaryToPermissionSetInput) (*ssoEmpty, error) {
	id, err := s.psID(&in.PermissionSetRef)
	if err != nil {
		return nil, err
	}
	if in.PermissionsBoundary == nil {
		return nil, required("permissionsBoundary")
	}
	var b store.Boundary
	if in.PermissionsBoundary.ManagedPolicyArn != nil {
		b.ManagedPolicyARN = *in.PermissionsBoundary.ManagedPolicyArn
	}
	if in.PermissionsBoundary.CustomerManagedPolicyReference != nil {
		ref, err := in.PermissionsBoundary.CustomerManagedPolicyReference.ref("permissionsBoundary.customerManagedPolicyReference")
		if err != nil {
			return nil, err
		}
		b.CustomerPolicy = &ref
	}
	return nil, s.Access.PutBoundary(ctx, id, b)
}

// GetPermissionsBoundaryForPermissionSetOutput is sso-admin's
// GetPermissionsBoundaryForPermissionSetResponse.
type GetPermissionsBoundaryForPermissionSetOutput struct {
	PermissionsBoundary *store.Boundary `json:"PermissionsBoundary"`
}

func (s *Service) getBoundary(ctx context.Context, _ *awsauth.Caller, in *PermissionSetRef) (*GetPermissionsBoundaryForPermissionSetOutput, error) {
	id, err := s.psID(in)
	if err != nil {
		return nil, err
	}
	ps, err := s.permissionSet(ctx, id)
	if err != nil {
		return nil, err
	}
	if ps.Boundary == nil {
		return nil, fault.NotFoundf("PERMISSIONS_BOUNDARY", *in.PermissionSetArn, "The permission set %s has no permissions boundary", *in.PermissionSetArn)
	}
	return &GetPermissionsBoundaryForPermissionSetOutput{PermissionsBoundary: ps.Boundary}, nil
}

func (s *Service) deleteBoundary(ctx context.Context, _ *awsauth.Caller, in *PermissionSetRef) (*ssoEmpty, error) {
	id, err := s.psID(in)
	if err != nil {
		return nil, err
	}
	return nil, s.Access.DeleteBoundary(ctx, id)
}
