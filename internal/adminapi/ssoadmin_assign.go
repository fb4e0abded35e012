package adminapi

import (
	"context"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/awsauth"
	"github.com/gatehouse-dev/gatehouse/internal/awsproto"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// Target types of assignments and provisioning.
const (
	ssoTargetAccount = "AWS_ACCOUNT"
	ssoTargetAll     = "ALL_PROVISIONED_ACCOUNTS"
)

// --- provisioning ---

// ProvisionPermissionSetInput is sso-admin's ProvisionPermissionSetRequest.
type ProvisionPermissionSetInput struct {
	PermissionSetRef
	TargetId   *string `json:"TargetId"`
	TargetType *string `json:"TargetType"`
}

// PermissionSetProvisioningStatus is sso-admin's
// PermissionSetProvisioningStatus.
type PermissionSetProvisioningStatus struct {
	Status           string             `json:"Status"`
	RequestId        string             `json:"RequestId"`
	AccountId        string             `json:"AccountId,omitempty"`
	PermissionSetArn string             `json:"PermissionSetArn"`
	FailureReason    string             `json:"FailureReason,omitempty"`
	CreatedDate      awsproto.Timestamp `json:"CreatedDate,omitzero"`
}

// ProvisionPermissionSetOutput is sso-admin's ProvisionPermissionSetResponse
// (and DescribePermissionSetProvisioningStatusResponse).
type ProvisionPermissionSetOutput struct {
	PermissionSetProvisioningStatus *PermissionSetProvisioningStatus `json:"PermissionSetProvisioningStatus"`
}

func (s *Service) provisioningShape(op *store.Operation, status string) *ProvisionPermissionSetOutput {
	out := &PermissionSetProvisioningStatus{
		Status: status, RequestId: op.RequestID, AccountId: op.AccountID,
		PermissionSetArn: s.Access.PermissionSetARN(op.PermissionSetID), CreatedDate: awsproto.Timestamp{Time: op.CreatedAt},
	}
	if status == op.Status {
		out.FailureReason = op.FailureReason
	}
	return &ProvisionPermissionSetOutput{PermissionSetProvisioningStatus: out}
}

// provisionTarget checks TargetType and TargetId: AWS_ACCOUNT needs a
// TargetId, ALL_PROVISIONED_ACCOUNTS takes none. It returns the account, or
// "" for every account.
func provisionTarget(in *ProvisionPermissionSetInput) (string, error) {
	if in.TargetType == nil {
		return "", required("targetType")
	}
	switch *in.TargetType {
	case ssoTargetAccount:
		if in.TargetId == nil {
			return "", fault.Validationf("TargetId is required when TargetType is AWS_ACCOUNT")
		}
		return ssoAccount("targetId", in.TargetId)
	case ssoTargetAll:
		if in.TargetId != nil {
			return "", fault.Validationf("TargetId must be omitted when TargetType is ALL_PROVISIONED_ACCOUNTS")
		}
		return "", nil
	}
	return "", ssoInvalid("targetType", *in.TargetType, "Member must satisfy enum value set: [AWS_ACCOUNT, ALL_PROVISIONED_ACCOUNTS]")
}

func (s *Service) provisionRes(in *ProvisionPermissionSetInput) ([]string, error) {
	res, err := ssoPSRes[ProvisionPermissionSetInput](s)(in)
	if err != nil {
		return nil, err
	}
	acct, err := provisionTarget(in)
	if err != nil {
		return nil, err
	}
	if acct != "" {
		res = append(res, arn.AccountResourceARN(acct))
	}
	return res, nil
}

func (s *Service) provisionPermissionSet(ctx context.Context, _ *awsauth.Caller, in *ProvisionPermissionSetInput) (*ProvisionPermissionSetOutput, error) {
	id, err := s.psID(&in.PermissionSetRef)
	if err != nil {
		return nil, err
	}
	acct, err := provisionTarget(in)
	if err != nil {
		return nil, err
	}
	op, err := s.Access.Provision(ctx, id, acct)
	if err != nil {
		return nil, err
	}
	// The write answers IN_PROGRESS, as AWS's does; Describe… reports the
	// outcome (spec: aws-wire §6.4).
	return s.provisioningShape(op, store.StatusInProgress), nil
}

// DescribePermissionSetProvisioningStatusInput is sso-admin's
// DescribePermissionSetProvisioningStatusRequest.
type DescribePermissionSetProvisioningStatusInput struct {
	InstanceArn                     *string `json:"InstanceArn"`
	ProvisionPermissionSetRequestId *string `json:"ProvisionPermissionSetRequestId"`
}

func (in *DescribePermissionSetProvisioningStatusInput) instanceArn() *string { return in.InstanceArn }

// ssoRequestID checks a required request ID member.
func ssoRequestID(member string, v *string) (string, error) {
	if v == nil {
		return "", required(member)
	}
	if !arn.ValidRequestID(*v) {
		return "", ssoInvalid(member, *v, "Member must satisfy regular expression pattern: \\b[0-9a-f]{8}\\b-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-\\b[0-9a-f]{12}\\b")
	}
	return *v, nil
}

func (s *Service) describeProvisioningStatus(ctx context.Context, _ *awsauth.Caller, in *DescribePermissionSetProvisioningStatusInput) (*ProvisionPermissionSetOutput, error) {
	id, err := ssoRequestID("provisionPermissionSetRequestId", in.ProvisionPermissionSetRequestId)
	if err != nil {
		return nil, err
	}
	op, err := s.Access.GetOperation(ctx, store.OpProvision, id)
	if err != nil {
		return nil, err
	}
	return s.provisioningShape(op, op.Status), nil
}

// ListOperationStatusInput is sso-admin's
// ListPermissionSetProvisioningStatusRequest,
// ListAccountAssignmentCreationStatusRequest and
// ListAccountAssignmentDeletionStatusRequest.
type ListOperationStatusInput struct {
	InstanceArn *string                `json:"InstanceArn"`
	MaxResults  *int32                 `json:"MaxResults"`
	NextToken   *string                `json:"NextToken"`
	Filter      *OperationStatusFilter `json:"Filter"`
}

func (in *ListOperationStatusInput) instanceArn() *string { return in.InstanceArn }

// OperationStatusFilter is sso-admin's OperationStatusFilter.
type OperationStatusFilter struct {
	Status *string `json:"Status"`
}

// OperationStatusMetadata is sso-admin's
// PermissionSetProvisioningStatusMetadata and
// AccountAssignmentOperationStatusMetadata.
type OperationStatusMetadata struct {
	Status      string             `json:"Status"`
	RequestId   string             `json:"RequestId"`
	CreatedDate awsproto.Timestamp `json:"CreatedDate,omitzero"`
}

// listOperations is the shared body of the three List…Status operations.
func (s *Service) listOperations(ctx context.Context, name, kind string, in *ListOperationStatusInput) ([]OperationStatusMetadata, *string, error) {
	status := ""
	if in.Filter != nil && in.Filter.Status != nil {
		status = *in.Filter.Status
		if status != store.StatusInProgress && status != store.StatusFailed && status != store.StatusSucceeded {
			return nil, nil, ssoInvalid("filter.status", status, "Member must satisfy enum value set: [IN_PROGRESS, FAILED, SUCCEEDED]")
		}
	}
	p, err := ssoPaging(in.MaxResults, in.NextToken, name, status)
	if err != nil {
		return nil, nil, err
	}
	ops, err := s.Access.ListOperations(ctx, kind, status, store.Page{After: p.after, Limit: p.limit + 1})
	if err != nil {
		return nil, nil, err
	}
	out := make([]OperationStatusMetadata, 0, min(len(ops), p.limit))
	var next *string
	for i, op := range ops {
		if i == p.limit {
			next = p.token(ops[i-1].RequestID)
			break
		}
		out = append(out, OperationStatusMetadata{Status: op.Status, RequestId: op.RequestID, CreatedDate: awsproto.Timestamp{Time: op.CreatedAt}})
	}
	return out, next, nil
}

// ListPermissionSetProvisioningStatusOutput is sso-admin's
// ListPermissionSetProvisioningStatusResponse.
type ListPermissionSetProvisioningStatusOutput struct {
	PermissionSetsProvisioningStatus []OperationStatusMetadata `json:"PermissionSetsProvisioningStatus"`
	NextToken                        *string                   `json:"NextToken,omitempty"`
}

func (s *Service) listProvisioningStatus(ctx context.Context, _ *awsauth.Caller, in *ListOperationStatusInput) (*ListPermissionSetProvisioningStatusOutput, error) {
	list, next, err := s.listOperations(ctx, "ListPermissionSetProvisioningStatus", store.OpProvision, in)
	if err != nil {
		return nil, err
	}
	return &ListPermissionSetProvisioningStatusOutput{PermissionSetsProvisioningStatus: list, NextToken: next}, nil
}

// ssoProvisioningStatus checks an optional ProvisioningStatus filter.
func ssoProvisioningStatus(v *string) (string, error) {
	if v == nil {
		return "", nil
	}
	if *v != access.ProvisionedLatest && *v != access.ProvisionedNotLatest {
		return "", ssoInvalid("provisioningStatus", *v, "Member must satisfy enum value set: [LATEST_PERMISSION_SET_PROVISIONED, LATEST_PERMISSION_SET_NOT_PROVISIONED]")
	}
	return *v, nil
}

// ListPermissionSetsProvisionedToAccountInput is sso-admin's
// ListPermissionSetsProvisionedToAccountRequest.
type ListPermissionSetsProvisionedToAccountInput struct {
	InstanceArn        *string `json:"InstanceArn"`
	AccountId          *string `json:"AccountId"`
	ProvisioningStatus *string `json:"ProvisioningStatus"`
	MaxResults         *int32  `json:"MaxResults"`
	NextToken          *string `json:"NextToken"`
}

func (s *Service) provisionedToAccountRes(in *ListPermissionSetsProvisionedToAccountInput) ([]string, error) {
	ins, err := s.ssoInstance(in.InstanceArn)
	if err != nil {
		return nil, err
	}
	acct, err := ssoAccount("accountId", in.AccountId)
	if err != nil {
		return nil, err
	}
	return []string{ins, arn.AccountResourceARN(acct)}, nil
}

func (s *Service) listPermissionSetsProvisionedToAccount(ctx context.Context, _ *awsauth.Caller, in *ListPermissionSetsProvisionedToAccountInput) (*ListPermissionSetsOutput, error) {
	status, err := ssoProvisioningStatus(in.ProvisioningStatus)
	if err != nil {
		return nil, err
	}
	p, err := ssoPaging(in.MaxResults, in.NextToken, "ListPermissionSetsProvisionedToAccount", *in.AccountId, status)
	if err != nil {
		return nil, err
	}
	ids, err := s.Access.PermissionSetsInAccount(ctx, *in.AccountId, status)
	if err != nil {
		return nil, err
	}
	page, next := ssoPageOf(ids, func(id string) string { return id }, p)
	out := &ListPermissionSetsOutput{PermissionSets: make([]string, 0, len(page)), NextToken: next}
	for _, id := range page {
		out.PermissionSets = append(out.PermissionSets, s.Access.PermissionSetARN(id))
	}
	return out, nil
}

// ListAccountsForProvisionedPermissionSetInput is sso-admin's
// ListAccountsForProvisionedPermissionSetRequest.
type ListAccountsForProvisionedPermissionSetInput struct {
	PermissionSetRef
	ProvisioningStatus *string `json:"ProvisioningStatus"`
	MaxResults         *int32  `json:"MaxResults"`
	NextToken          *string `json:"NextToken"`
}

// ListAccountsForProvisionedPermissionSetOutput is sso-admin's
// ListAccountsForProvisionedPermissionSetResponse.
type ListAccountsForProvisionedPermissionSetOutput struct {
	AccountIds []string `json:"AccountIds"`
	NextToken  *string  `json:"NextToken,omitempty"`
}

func (s *Service) listAccountsForProvisionedPermissionSet(ctx context.Context, _ *awsauth.Caller, in *ListAccountsForProvisionedPermissionSetInput) (*ListAccountsForProvisionedPermissionSetOutput, error) {
	id, err := s.psID(&in.PermissionSetRef)
	if err != nil {
		return nil, err
	}
	status, err := ssoProvisioningStatus(in.ProvisioningStatus)
	if err != nil {
		return nil, err
	}
	p, err := ssoPaging(in.MaxResults, in.NextToken, "ListAccountsForProvisionedPermissionSet", id, status)
	if err != nil {
		return nil, err
	}
	accts, err := s.Access.AccountsForPermissionSet(ctx, id, status)
	if err != nil {
		return nil, err
	}
	page, next := ssoPageOf(accts, func(a string) string { return a }, p)
	return &ListAccountsForProvisionedPermissionSetOutput{AccountIds: page, NextToken: next}, nil
}

// --- account assignments ---

// AccountAssignmentInput is sso-admin's CreateAccountAssignmentRequest and
// DeleteAccountAssignmentRequest.
type AccountAssignmentInput struct {
	PermissionSetRef
	TargetId      *string `json:"TargetId"`
	TargetType    *string `json:"TargetType"`
	PrincipalType *string `json:"PrincipalType"`
	PrincipalId   *string `json:"PrincipalId"`
}

// AccountAssignmentOperationStatus is sso-admin's
// AccountAssignmentOperationStatus.
type AccountAssignmentOperationStatus struct {
	Status           string             `json:"Status"`
	RequestId        string             `json:"RequestId"`
	FailureReason    string             `json:"FailureReason,omitempty"`
	TargetId         string             `json:"TargetId,omitempty"`
	TargetType       string             `json:"TargetType,omitempty"`
	PermissionSetArn string             `json:"PermissionSetArn,omitempty"`
	PrincipalType    string             `json:"PrincipalType,omitempty"`
	PrincipalId      string             `json:"PrincipalId,omitempty"`
	CreatedDate      awsproto.Timestamp `json:"CreatedDate,omitzero"`
}

func (s *Service) assignmentStatus(op *store.Operation, status string) *AccountAssignmentOperationStatus {
	out := &AccountAssignmentOperationStatus{
		Status: status, RequestId: op.RequestID, TargetId: op.AccountID, TargetType: ssoTargetAccount,
		PermissionSetArn: s.Access.PermissionSetARN(op.PermissionSetID), PrincipalType: op.PrincipalType, PrincipalId: op.PrincipalID,
		CreatedDate: awsproto.Timestamp{Time: op.CreatedAt},
	}
	if status == op.Status {
		out.FailureReason = op.FailureReason
	}
	return out
}

// assignment checks the six members of an assignment.
func (s *Service) assignment(in *AccountAssignmentInput) (access.AssignmentInput, error) {
	var a access.AssignmentInput
	id, err := s.psID(&in.PermissionSetRef)
	if err != nil {
		return a, err
	}
	acct, err := ssoAccount("targetId", in.TargetId)
	if err != nil {
		return a, err
	}
	if in.TargetType == nil {
		return a, required("targetType")
	}
	if *in.TargetType != ssoTargetAccount {
		return a, ssoInvalid("targetType", *in.TargetType, "Member must satisfy enum value set: [AWS_ACCOUNT]")
	}
	typ, pid, err := ssoPrincipal(in.PrincipalType, in.PrincipalId)
	if err != nil {
		return a, err
	}
	return access.AssignmentInput{AccountID: acct, PermissionSetID: id, PrincipalType: typ, PrincipalID: pid}, nil
}

func (s *Service) assignmentRes(in *AccountAssignmentInput) ([]string, error) {
	ins, err := s.ssoInstance(in.InstanceArn)
	if err != nil {
		return nil, err
	}
	a, err := s.assignment(in)
	if err != nil {
		return nil, err
	}
	return []string{ins, s.Access.PermissionSetARN(a.PermissionSetID), arn.AccountResourceARN(a.AccountID)}, nil
}

// CreateAccountAssignmentOutput is sso-admin's CreateAccountAssignmentResponse.
type CreateAccountAssignmentOutput struct {
	AccountAssignmentCreationStatus *AccountAssignmentOperationStatus `json:"AccountAssignmentCreationStatus"`
}

func (s *Service) createAccountAssignment(ctx context.Context, _ *awsauth.Caller, in *AccountAssignmentInput) (*CreateAccountAssignmentOutput, error) {
	a, err := s.assignment(in)
	if err != nil {
		return nil, err
	}
	op, err := s.Access.CreateAssignment(ctx, a)
	if err != nil {
		return nil, err
	}
	return &CreateAccountAssignmentOutput{AccountAssignmentCreationStatus: s.assignmentStatus(op, store.StatusInProgress)}, nil
}

// DeleteAccountAssignmentOutput is sso-admin's DeleteAccountAssignmentResponse.
type DeleteAccountAssignmentOutput struct {
	AccountAssignmentDeletionStatus *AccountAssignmentOperationStatus `json:"AccountAssignmentDeletionStatus"`
}

func (s *Service) deleteAccountAssignment(ctx context.Context, _ *awsauth.Caller, in *AccountAssignmentInput) (*DeleteAccountAssignmentOutput, error) {
	a, err := s.assignment(in)
	if err != nil {
		return nil, err
	}
	op, err := s.Access.DeleteAssignment(ctx, a)
	if err != nil {
		return nil, err
	}
	return &DeleteAccountAssignmentOutput{AccountAssignmentDeletionStatus: s.assignmentStatus(op, store.StatusInProgress)}, nil
}

// DescribeAccountAssignmentCreationStatusInput is sso-admin's
// DescribeAccountAssignmentCreationStatusRequest.
type DescribeAccountAssignmentCreationStatusInput struct {
	InstanceArn                        *string `json:"InstanceArn"`
	AccountAssignmentCreationRequestId *string `json:"AccountAssignmentCreationRequestId"`
}

func (in *DescribeAccountAssignmentCreationStatusInput) instanceArn() *string { return in.InstanceArn }

func (s *Service) describeAssignmentCreation(ctx context.Context, _ *awsauth.Caller, in *DescribeAccountAssignmentCreationStatusInput) (*CreateAccountAssignmentOutput, error) {
	id, err := ssoRequestID("accountAssignmentCreationRequestId", in.AccountAssignmentCreationRequestId)
	if err != nil {
		return nil, err
	}
	op, err := s.Access.GetOperation(ctx, store.OpCreateAssignment, id)
	if err != nil {
		return nil, err
	}
	return &CreateAccountAssignmentOutput{AccountAssignmentCreationStatus: s.assignmentStatus(op, op.Status)}, nil
}

// DescribeAccountAssignmentDeletionStatusInput is sso-admin's
// DescribeAccountAssignmentDeletionStatusRequest.
type DescribeAccountAssignmentDeletionStatusInput struct {
	InstanceArn                        *string `json:"InstanceArn"`
	AccountAssignmentDeletionRequestId *string `json:"AccountAssignmentDeletionRequestId"`
}

func (in *DescribeAccountAssignmentDeletionStatusInput) instanceArn() *string { return in.InstanceArn }

func (s *Service) describeAssignmentDeletion(ctx context.Context, _ *awsauth.Caller, in *DescribeAccountAssignmentDeletionStatusInput) (*DeleteAccountAssignmentOutput, error) {
	id, err := ssoRequestID("accountAssignmentDeletionRequestId", in.AccountAssignmentDeletionRequestId)
	if err != nil {
		return nil, err
	}
	op, err := s.Access.GetOperation(ctx, store.OpDeleteAssignment, id)
	if err != nil {
		return nil, err
	}
	return &DeleteAccountAssignmentOutput{AccountAssignmentDeletionStatus: s.assignmentStatus(op, op.Status)}, nil
}

// ListAccountAssignmentCreationStatusOutput is sso-admin's
// ListAccountAssignmentCreationStatusResponse.
type ListAccountAssignmentCreationStatusOutput struct {
	AccountAssignmentsCreationStatus []OperationStatusMetadata `json:"AccountAssignmentsCreationStatus"`
	NextToken                        *string                   `json:"NextToken,omitempty"`
}

func (s *Service) listAssignmentCreation(ctx context.Context, _ *awsauth.Caller, in *ListOperationStatusInput) (*ListAccountAssignmentCreationStatusOutput, error) {
	list, next, err := s.listOperations(ctx, "ListAccountAssignmentCreationStatus", store.OpCreateAssignment, in)
	if err != nil {
		return nil, err
	}
	return &ListAccountAssignmentCreationStatusOutput{AccountAssignmentsCreationStatus: list, NextToken: next}, nil
}

// ListAccountAssignmentDeletionStatusOutput is sso-admin's
// ListAccountAssignmentDeletionStatusResponse.
type ListAccountAssignmentDeletionStatusOutput struct {
	AccountAssignmentsDeletionStatus []OperationStatusMetadata `json:"AccountAssignmentsDeletionStatus"`
	NextToken                        *string                   `json:"NextToken,omitempty"`
}

func (s *Service) listAssignmentDeletion(ctx context.Context, _ *awsauth.Caller, in *ListOperationStatusInput) (*ListAccountAssignmentDeletionStatusOutput, error) {
	list, next, err := s.listOperations(ctx, "ListAccountAssignmentDeletionStatus", store.OpDeleteAssignment, in)
	if err != nil {
		return nil, err
	}
	return &ListAccountAssignmentDeletionStatusOutput{AccountAssignmentsDeletionStatus: list, NextToken: next}, nil
}

// ListAccountAssignmentsInput is sso-admin's ListAccountAssignmentsRequest.
type ListAccountAssignmentsInput struct {
	PermissionSetRef
	AccountId  *string `json:"AccountId"`
	MaxResults *int32  `json:"MaxResults"`
	NextToken  *string `json:"NextToken"`
}

// AccountAssignment is sso-admin's AccountAssignment (and
// AccountAssignmentForPrincipal, which has the same members).
type AccountAssignment struct {
	AccountId        string `json:"AccountId"`
	PermissionSetArn string `json:"PermissionSetArn"`
	PrincipalType    string `json:"PrincipalType"`
	PrincipalId      string `json:"PrincipalId"`
}

// ListAccountAssignmentsOutput is sso-admin's ListAccountAssignmentsResponse
// and ListAccountAssignmentsForPrincipalResponse.
type ListAccountAssignmentsOutput struct {
	AccountAssignments []AccountAssignment `json:"AccountAssignments"`
	NextToken          *string             `json:"NextToken,omitempty"`
}

func (s *Service) listAssignmentsRes(in *ListAccountAssignmentsInput) ([]string, error) {
	res, err := ssoPSRes[ListAccountAssignmentsInput](s)(in)
	if err != nil {
		return nil, err
	}
	acct, err := ssoAccount("accountId", in.AccountId)
	if err != nil {
		return nil, err
	}
	return append(res, arn.AccountResourceARN(acct)), nil
}

func (s *Service) assignmentShapes(as []store.Assignment) []AccountAssignment {
	out := make([]AccountAssignment, 0, len(as))
	for _, a := range as {
		out = append(out, AccountAssignment{AccountId: a.AccountID, PermissionSetArn: s.Access.PermissionSetARN(a.PermissionSetID), PrincipalType: a.PrincipalType, PrincipalId: a.PrincipalID})
	}
	return out
}

func (s *Service) listAccountAssignments(ctx context.Context, _ *awsauth.Caller, in *ListAccountAssignmentsInput) (*ListAccountAssignmentsOutput, error) {
	id, err := s.psID(&in.PermissionSetRef)
	if err != nil {
		return nil, err
	}
	p, err := ssoPaging(in.MaxResults, in.NextToken, "ListAccountAssignments", *in.AccountId, id)
	if err != nil {
		return nil, err
	}
	if _, err := s.permissionSet(ctx, id); err != nil {
		return nil, err
	}
	if _, err := s.Access.GetAccount(ctx, *in.AccountId); err != nil {
		return nil, err
	}
	as, err := s.Access.ListAssignments(ctx, store.AssignmentFilter{AccountID: *in.AccountId, PermissionSetID: id})
	if err != nil {
		return nil, err
	}
	page, next := ssoPageOf(as, func(a store.Assignment) string { return a.PrincipalType + "/" + a.PrincipalID }, p)
	return &ListAccountAssignmentsOutput{AccountAssignments: s.assignmentShapes(page), NextToken: next}, nil
}

// ListAccountAssignmentsForPrincipalInput is sso-admin's
// ListAccountAssignmentsForPrincipalRequest.
type ListAccountAssignmentsForPrincipalInput struct {
	InstanceArn   *string                       `json:"InstanceArn"`
	PrincipalId   *string                       `json:"PrincipalId"`
	PrincipalType *string                       `json:"PrincipalType"`
	Filter        *ListAccountAssignmentsFilter `json:"Filter"`
	MaxResults    *int32                        `json:"MaxResults"`
	NextToken     *string                       `json:"NextToken"`
}

// ListAccountAssignmentsFilter is sso-admin's ListAccountAssignmentsFilter.
type ListAccountAssignmentsFilter struct {
	AccountId *string `json:"AccountId"`
}

func (s *Service) assignmentsForPrincipalRes(in *ListAccountAssignmentsForPrincipalInput) ([]string, error) {
	ins, err := s.ssoInstance(in.InstanceArn)
	if err != nil {
		return nil, err
	}
	if _, _, err := ssoPrincipal(in.PrincipalType, in.PrincipalId); err != nil {
		return nil, err
	}
	res := []string{ins}
	if in.Filter != nil && in.Filter.AccountId != nil {
		acct, err := ssoAccount("filter.accountId", in.Filter.AccountId)
		if err != nil {
			return nil, err
		}
		res = append(res, arn.AccountResourceARN(acct))
	}
	return res, nil
}

func (s *Service) listAccountAssignmentsForPrincipal(ctx context.Context, _ *awsauth.Caller, in *ListAccountAssignmentsForPrincipalInput) (*ListAccountAssignmentsOutput, error) {
	f := store.AssignmentFilter{PrincipalType: *in.PrincipalType, PrincipalID: *in.PrincipalId}
	if in.Filter != nil && in.Filter.AccountId != nil {
		f.AccountID = *in.Filter.AccountId
	}
	p, err := ssoPaging(in.MaxResults, in.NextToken, "ListAccountAssignmentsForPrincipal", f.PrincipalType, f.PrincipalID, f.AccountID)
	if err != nil {
		return nil, err
	}
	as, err := s.Access.ListAssignments(ctx, f)
	if err != nil {
		return nil, err
	}
	page, next := ssoPageOf(as, func(a store.Assignment) string { return a.AccountID + "/" + a.PermissionSetID }, p)
	return &ListAccountAssignmentsOutput{AccountAssignments: s.assignmentShapes(page), NextToken: next}, nil
}

// --- tags ---

// TagResourceInput is sso-admin's TagResourceRequest. InstanceArn is
// optional in today's model; when present it must own ResourceArn.
type TagResourceInput struct {
	InstanceArn *string     `json:"InstanceArn"`
	ResourceArn *string     `json:"ResourceArn"`
	Tags        []store.Tag `json:"Tags"`
}

func (in *TagResourceInput) tagTarget() (*string, *string) { return in.InstanceArn, in.ResourceArn }

// UntagResourceInput is sso-admin's UntagResourceRequest.
type UntagResourceInput struct {
	InstanceArn *string  `json:"InstanceArn"`
	ResourceArn *string  `json:"ResourceArn"`
	TagKeys     []string `json:"TagKeys"`
}

func (in *UntagResourceInput) tagTarget() (*string, *string) { return in.InstanceArn, in.ResourceArn }

// ListTagsForResourceInput is sso-admin's ListTagsForResourceRequest. It
// has no MaxResults: every tag (at most 75) fits one page.
type ListTagsForResourceInput struct {
	InstanceArn *string `json:"InstanceArn"`
	ResourceArn *string `json:"ResourceArn"`
	NextToken   *string `json:"NextToken"`
}

func (in *ListTagsForResourceInput) tagTarget() (*string, *string) {
	return in.InstanceArn, in.ResourceArn
}

// ListTagsForResourceOutput is sso-admin's ListTagsForResourceResponse.
type ListTagsForResourceOutput struct {
	Tags      []store.Tag `json:"Tags"`
	NextToken *string     `json:"NextToken,omitempty"`
}

// ssoTagRes returns the resource function of a tag operation: the
// resource, and the instance when the request names it (which must then
// own the resource: only this instance's resources resolve).
func ssoTagRes[In any, P interface {
	*In
	tagTarget() (*string, *string)
}](s *Service) func(in *In) ([]string, error) {
	return func(in *In) ([]string, error) {
		insArn, resArn := P(in).tagTarget()
		if resArn == nil {
			return nil, required("resourceArn")
		}
		var res []string
		if insArn != nil {
			ins, err := s.ssoInstance(insArn)
			if err != nil {
				return nil, err
			}
			res = append(res, ins)
		}
		// The canonical ARN of the instance or permission set, so that a
		// policy on it matches whatever spelling the request used.
		r, err := s.Access.TaggableARN(*resArn)
		if err != nil {
			return nil, err
		}
		if len(res) == 0 || r != res[0] {
			res = append(res, r)
		}
		return res, nil
	}
}

func (s *Service) tagResource(ctx context.Context, _ *awsauth.Caller, in *TagResourceInput) (*ssoEmpty, error) {
	if in.Tags == nil {
		return nil, required("tags")
	}
	return nil, s.Access.TagResource(ctx, *in.ResourceArn, in.Tags)
}

func (s *Service) untagResource(ctx context.Context, _ *awsauth.Caller, in *UntagResourceInput) (*ssoEmpty, error) {
	if in.TagKeys == nil {
		return nil, required("tagKeys")
	}
	return nil, s.Access.UntagResource(ctx, *in.ResourceArn, in.TagKeys)
}

func (s *Service) listTagsForResource(ctx context.Context, _ *awsauth.Caller, in *ListTagsForResourceInput) (*ListTagsForResourceOutput, error) {
	if in.NextToken != nil {
		// No token is ever handed out: every tag fits one page.
		return nil, fault.Validationf("The NextToken is invalid.")
	}
	tags, err := s.Access.ListTags(ctx, *in.ResourceArn)
	if err != nil {
		return nil, err
	}
	return &ListTagsForResourceOutput{Tags: tags}, nil
}
