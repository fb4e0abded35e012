package adminapi

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/awsauth"
	"github.com/gatehouse-dev/gatehouse/internal/awsproto"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/organizations"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// organizationsOps returns the organizations operations (botocore
// organizations 2016-11-28, the subset Identity Center admins use) by
// name. Actions and resources follow the service authorization reference
// for AWS Organizations: account operations on the account ARN, the rest
// on "*".
func (s *Service) organizationsOps() map[string]operation {
	ops := map[string]operation{
		"DescribeOrganization":        op("organizations:DescribeOrganization", true, nil, s.describeOrganization),
		"ListAccounts":                op("organizations:ListAccounts", true, nil, s.listAccounts),
		"DescribeAccount":             op("organizations:DescribeAccount", true, s.accountResource, s.describeAccount),
		"CreateAccount":               op("organizations:CreateAccount", false, nil, mgmtOnly(s, "organizations:CreateAccount", s.createAccount)),
		"DescribeCreateAccountStatus": op("organizations:DescribeCreateAccountStatus", true, nil, s.describeCreateAccountStatus),
		"ListCreateAccountStatus":     op("organizations:ListCreateAccountStatus", true, nil, s.listCreateAccountStatus),
		"CloseAccount":                op("organizations:CloseAccount", false, s.closeResource, mgmtOnly(s, "organizations:CloseAccount", s.closeAccount)),
		"ListRoots":                   op("organizations:ListRoots", true, nil, s.listRoots),
		"ListParents":                 op("organizations:ListParents", true, s.childResource, s.listParents),
		"TagResource":                 op("organizations:TagResource", false, s.orgTagTarget, mgmtOnly(s, "organizations:TagResource", s.tagOrgResource)),
		"UntagResource":               op("organizations:UntagResource", false, s.orgUntagTarget, mgmtOnly(s, "organizations:UntagResource", s.untagOrgResource)),
		"ListTagsForResource":         op("organizations:ListTagsForResource", true, s.orgListTagsTarget, s.listOrgTags),
	}
	maps.Copy(ops, s.organizationsExtraOps())
	return ops
}

// orgError maps a domain error onto the organizations model's exceptions:
// InvalidInputException and ConstraintViolationException with their
// Reason, one NotFound exception per kind of thing, ServiceException for
// internal faults. Access denials and protocol errors pass as they are.
func orgError(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := errors.AsType[*awsproto.Error](err); ok {
		return err
	}
	f := fault.As(err)
	e := &awsproto.Error{Message: f.Message, Err: err}
	switch f.Kind {
	case fault.Validation:
		e.Code, e.Reason = "InvalidInputException", f.Reason
		if e.Reason == "" {
			e.Reason = organizations.ReasonInvalidPattern
		}
	case fault.NotFound:
		switch f.ResourceType {
		case organizations.ResourceCreateStatus:
			e.Code = "CreateAccountStatusNotFoundException"
		case organizations.ResourceChild:
			e.Code = "ChildNotFoundException"
		case organizations.ResourceTarget:
			e.Code = "TargetNotFoundException"
		default:
			e.Code = "AccountNotFoundException"
		}
	case fault.Conflict, fault.QuotaExceeded:
		switch f.Reason {
		case organizations.ReasonAlreadyClosed:
			e.Code = "AccountAlreadyClosedException"
		case organizations.ReasonAlreadyRegistered:
			e.Code = "AccountAlreadyRegisteredException"
		case organizations.ReasonNotRegistered:
			e.Code = "AccountNotRegisteredException"
		default:
			e.Code, e.Reason = "ConstraintViolationException", f.Reason
		}
	case fault.AccessDenied:
		return err
	default:
		ie := awsproto.Internal(err)
		ie.Code = "ServiceException"
		return ie
	}
	return e
}

// orgPageSize checks an organizations MaxResults (1–20, default 20).
func orgPageSize(max *int32) (int, error) {
	switch {
	case max == nil:
		return 20, nil
	case *max < 1:
		return 0, &awsproto.Error{Code: "InvalidInputException", Reason: "MIN_VALUE_EXCEEDED",
			Message: fmt.Sprintf("You provided a value for MaxResults (%d) below the minimum of 1.", *max)}
	case *max > 20:
		return 0, &awsproto.Error{Code: "InvalidInputException", Reason: "MAX_VALUE_EXCEEDED",
			Message: fmt.Sprintf("You provided a value for MaxResults (%d) above the maximum of 20.", *max)}
	}
	return int(*max), nil
}

func invalidOrgToken() error {
	return &awsproto.Error{Code: "InvalidInputException", Reason: "INVALID_NEXT_TOKEN",
		Message: "You specified an invalid value for nextToken. You must get the value from the response to a previous call to the API."}
}

// Organization is the organizations Organization shape.
type Organization struct {
	Id                   string          `json:"Id"`
	Arn                  string          `json:"Arn"`
	FeatureSet           string          `json:"FeatureSet"`
	MasterAccountArn     string          `json:"MasterAccountArn"`
	MasterAccountId      string          `json:"MasterAccountId"`
	MasterAccountEmail   string          `json:"MasterAccountEmail"`
	AvailablePolicyTypes []OrgPolicyType `json:"AvailablePolicyTypes"`
}

// OrgPolicyType is the organizations PolicyTypeSummary shape.
type OrgPolicyType struct {
	Type   string `json:"Type"`
	Status string `json:"Status"`
}

// DescribeOrganizationOutput is organizations' DescribeOrganizationResponse.
type DescribeOrganizationOutput struct {
	Organization Organization `json:"Organization"`
}

func (s *Service) describeOrganization(ctx context.Context, _ *awsauth.Caller, _ *struct{}) (*DescribeOrganizationOutput, error) {
	o, err := s.Organizations.Describe(ctx)
	if err != nil {
		return nil, orgError(err)
	}
	return &DescribeOrganizationOutput{Organization: Organization{
		Id: o.ID, Arn: o.ARN, FeatureSet: o.FeatureSet, MasterAccountArn: o.ManagementAccountARN,
		MasterAccountId: o.ManagementAccountID, MasterAccountEmail: o.ManagementAccountEmail,
		AvailablePolicyTypes: []OrgPolicyType{},
	}}, nil
}

// OrgAccount is the organizations Account shape.
type OrgAccount struct {
	Id              string             `json:"Id"`
	Arn             string             `json:"Arn"`
	Email           string             `json:"Email"`
	Name            string             `json:"Name"`
	Status          string             `json:"Status"`
	State           string             `json:"State"`
	Paths           []string           `json:"Paths"`
	JoinedMethod    string             `json:"JoinedMethod"`
	JoinedTimestamp awsproto.Timestamp `json:"JoinedTimestamp,omitzero"`
}

func (s *Service) orgAccount(a *store.Account) OrgAccount {
	return OrgAccount{
		Id: a.ID, Arn: s.Organizations.AccountARN(a.ID), Email: a.Email, Name: a.Name,
		Status: organizations.Status(a), State: organizations.State(a, s.Now()),
		Paths: []string{s.Organizations.AccountPath(a.ID)}, JoinedMethod: organizations.JoinedMethod(a),
		JoinedTimestamp: awsproto.Timestamp{Time: a.CreatedAt},
	}
}

// ListAccountsInput is organizations' ListAccountsRequest.
type ListAccountsInput struct {
	NextToken  *string `json:"NextToken"`
	MaxResults *int32  `json:"MaxResults"`
}

// ListAccountsOutput is organizations' ListAccountsResponse.
type ListAccountsOutput struct {
	Accounts  []OrgAccount `json:"Accounts"`
	NextToken *string      `json:"NextToken,omitempty"`
}

func (s *Service) listAccounts(ctx context.Context, _ *awsauth.Caller, in *ListAccountsInput) (*ListAccountsOutput, error) {
	size, err := orgPageSize(in.MaxResults)
	if err != nil {
		return nil, err
	}
	const query = "ListAccounts"
	after, ok := pageAfter(query, in.NextToken)
	if !ok {
		return nil, invalidOrgToken()
	}
	as, err := s.Organizations.ListAccounts(ctx, store.Page{After: after, Limit: size + 1})
	if err != nil {
		return nil, orgError(err)
	}
	out := &ListAccountsOutput{Accounts: []OrgAccount{}}
	if len(as) > size {
		as = as[:size]
		out.NextToken = pageToken(query, as[size-1].ID)
	}
	for i := range as {
		out.Accounts = append(out.Accounts, s.orgAccount(&as[i]))
	}
	return out, nil
}

// AccountIdInput is organizations' DescribeAccountRequest and
// CloseAccountRequest.
type AccountIdInput struct {
	AccountId *string `json:"AccountId"`
}

func orgRequired(member string) error {
	return &awsproto.Error{Code: "InvalidInputException", Reason: organizations.ReasonInputRequired,
		Message: fmt.Sprintf("You must specify a value for %s.", member)}
}

// accountResource checks AccountId and returns the account's ARN, the
// resource DescribeAccount and CloseAccount are authorized on.
func (s *Service) accountResource(_ context.Context, _ *awsauth.Caller, in *AccountIdInput) ([]string, error) {
	if in.AccountId == nil {
		return nil, orgRequired("AccountId")
	}
	if !arn.ValidAccountID(*in.AccountId) {
		return nil, &awsproto.Error{Code: "InvalidInputException", Reason: organizations.ReasonInvalidPattern,
			Message: fmt.Sprintf("You specified an invalid value for AccountId: %q must be a 12-digit account ID.", *in.AccountId)}
	}
	return []string{s.Organizations.AccountARN(*in.AccountId)}, nil
}

// DescribeAccountOutput is organizations' DescribeAccountResponse.
type DescribeAccountOutput struct {
	Account OrgAccount `json:"Account"`
}

func (s *Service) describeAccount(ctx context.Context, _ *awsauth.Caller, in *AccountIdInput) (*DescribeAccountOutput, error) {
	a, err := s.Organizations.Account(ctx, *in.AccountId)
	if err != nil {
		return nil, orgError(err)
	}
	return &DescribeAccountOutput{Account: s.orgAccount(a)}, nil
}

// OrgTag is the organizations Tag shape.
type OrgTag struct {
	Key   *string `json:"Key"`
	Value *string `json:"Value"`
}

func orgStoreTags(ts []OrgTag) ([]store.Tag, error) {
	out := make([]store.Tag, 0, len(ts))
	for _, t := range ts {
		switch {
		case t.Key == nil:
			return nil, orgRequired("Tags.Key")
		case t.Value == nil:
			return nil, orgRequired("Tags.Value")
		}
		out = append(out, store.Tag{Key: *t.Key, Value: *t.Value})
	}
	return out, nil
}

func orgWireTags(ts []store.Tag) []OrgTag {
	out := make([]OrgTag, 0, len(ts))
	for _, t := range ts {
		out = append(out, OrgTag{Key: &t.Key, Value: &t.Value})
	}
	return out
}

// CreateAccountInput is organizations' CreateAccountRequest.
type CreateAccountInput struct {
	Email                  *string  `json:"Email"`
	AccountName            *string  `json:"AccountName"`
	RoleName               *string  `json:"RoleName"`
	IamUserAccessToBilling *string  `json:"IamUserAccessToBilling"`
	Tags                   []OrgTag `json:"Tags"`
}

// AuditParams hides the e-mail address and name, as CloudTrail does for
// the model's sensitive members.
func (in *CreateAccountInput) AuditParams() any {
	return map[string]any{"email": "HIDDEN_DUE_TO_SECURITY_REASONS", "accountName": "HIDDEN_DUE_TO_SECURITY_REASONS",
		"roleName": in.RoleName, "iamUserAccessToBilling": in.IamUserAccessToBilling, "tags": in.Tags}
}

// CreateAccountStatus is the organizations CreateAccountStatus shape.
type CreateAccountStatus struct {
	Id                 string             `json:"Id"`
	AccountName        string             `json:"AccountName"`
	State              string             `json:"State"`
	RequestedTimestamp awsproto.Timestamp `json:"RequestedTimestamp,omitzero"`
	CompletedTimestamp awsproto.Timestamp `json:"CompletedTimestamp,omitzero"`
	AccountId          string             `json:"AccountId,omitempty"`
	FailureReason      string             `json:"FailureReason,omitempty"`
}

func orgWireStatus(st *store.CreateAccountStatus) CreateAccountStatus {
	return CreateAccountStatus{
		Id: st.ID, AccountName: st.AccountName, State: st.State,
		RequestedTimestamp: awsproto.Timestamp{Time: st.RequestedAt}, CompletedTimestamp: awsproto.Timestamp{Time: st.CompletedAt},
		AccountId: st.AccountID, FailureReason: st.FailureReason,
	}
}

// CreateAccountOutput is organizations' CreateAccountResponse and
// DescribeCreateAccountStatusResponse.
type CreateAccountOutput struct {
	CreateAccountStatus CreateAccountStatus `json:"CreateAccountStatus"`
}

func (s *Service) createAccount(ctx context.Context, _ *awsauth.Caller, in *CreateAccountInput) (*CreateAccountOutput, error) {
	tags, err := orgStoreTags(in.Tags)
	if err != nil {
		return nil, err
	}
	st, err := s.Organizations.CreateAccount(ctx, organizations.CreateAccountInput{
		Email: orgDeref(in.Email), AccountName: orgDeref(in.AccountName), RoleName: orgDeref(in.RoleName),
		IAMUserAccessToBilling: orgDeref(in.IamUserAccessToBilling), Tags: tags,
	})
	if err != nil {
		return nil, orgError(err)
	}
	return &CreateAccountOutput{CreateAccountStatus: orgWireStatus(st)}, nil
}

func orgDeref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// DescribeCreateAccountStatusInput is organizations'
// DescribeCreateAccountStatusRequest.
type DescribeCreateAccountStatusInput struct {
	CreateAccountRequestId *string `json:"CreateAccountRequestId"`
}

func (s *Service) describeCreateAccountStatus(ctx context.Context, _ *awsauth.Caller, in *DescribeCreateAccountStatusInput) (*CreateAccountOutput, error) {
	if in.CreateAccountRequestId == nil {
		return nil, orgRequired("CreateAccountRequestId")
	}
	st, err := s.Organizations.CreateAccountStatus(ctx, *in.CreateAccountRequestId)
	if err != nil {
		return nil, orgError(err)
	}
	return &CreateAccountOutput{CreateAccountStatus: orgWireStatus(st)}, nil
}

// ListCreateAccountStatusInput is organizations'
// ListCreateAccountStatusRequest.
type ListCreateAccountStatusInput struct {
	States     []string `json:"States"`
	NextToken  *string  `json:"NextToken"`
	MaxResults *int32   `json:"MaxResults"`
}

// ListCreateAccountStatusOutput is organizations'
// ListCreateAccountStatusResponse.
type ListCreateAccountStatusOutput struct {
	CreateAccountStatuses []CreateAccountStatus `json:"CreateAccountStatuses"`
	NextToken             *string               `json:"NextToken,omitempty"`
}

func (s *Service) listCreateAccountStatus(ctx context.Context, _ *awsauth.Caller, in *ListCreateAccountStatusInput) (*ListCreateAccountStatusOutput, error) {
	size, err := orgPageSize(in.MaxResults)
	if err != nil {
		return nil, err
	}
	query := "ListCreateAccountStatus\x00" + strings.Join(in.States, "\x00")
	after, ok := pageAfter(query, in.NextToken)
	if !ok {
		return nil, invalidOrgToken()
	}
	ss, err := s.Organizations.ListCreateAccountStatuses(ctx, in.States, store.Page{After: after, Limit: size + 1})
	if err != nil {
		return nil, orgError(err)
	}
	out := &ListCreateAccountStatusOutput{CreateAccountStatuses: []CreateAccountStatus{}}
	if len(ss) > size {
		ss = ss[:size]
		out.NextToken = pageToken(query, ss[size-1].ID)
	}
	for i := range ss {
		out.CreateAccountStatuses = append(out.CreateAccountStatuses, orgWireStatus(&ss[i]))
	}
	return out, nil
}

func (s *Service) closeResource(ctx context.Context, c *awsauth.Caller, in *AccountIdInput) ([]string, error) {
	return s.accountResource(ctx, c, in)
}

func (s *Service) closeAccount(ctx context.Context, _ *awsauth.Caller, in *AccountIdInput) (*struct{}, error) {
	if err := s.Organizations.CloseAccount(ctx, *in.AccountId); err != nil {
		return nil, orgError(err)
	}
	return nil, nil
}

// OrgRoot is the organizations Root shape.
type OrgRoot struct {
	Id          string          `json:"Id"`
	Arn         string          `json:"Arn"`
	Name        string          `json:"Name"`
	PolicyTypes []OrgPolicyType `json:"PolicyTypes"`
}

// ListRootsInput is organizations' ListRootsRequest.
type ListRootsInput = ListAccountsInput

// ListRootsOutput is organizations' ListRootsResponse.
type ListRootsOutput struct {
	Roots     []OrgRoot `json:"Roots"`
	NextToken *string   `json:"NextToken,omitempty"`
}

func (s *Service) listRoots(_ context.Context, _ *awsauth.Caller, in *ListRootsInput) (*ListRootsOutput, error) {
	if _, err := orgPageSize(in.MaxResults); err != nil {
		return nil, err
	}
	if in.NextToken != nil {
		// One root fits every page: no token is ever handed out.
		return nil, invalidOrgToken()
	}
	r := s.Organizations.Root()
	return &ListRootsOutput{Roots: []OrgRoot{{Id: r.ID, Arn: r.ARN, Name: r.Name, PolicyTypes: []OrgPolicyType{}}}}, nil
}

// ListParentsInput is organizations' ListParentsRequest.
type ListParentsInput struct {
	ChildId    *string `json:"ChildId"`
	NextToken  *string `json:"NextToken"`
	MaxResults *int32  `json:"MaxResults"`
}

// OrgParent is the organizations Parent shape.
type OrgParent struct {
	Id   string `json:"Id"`
	Type string `json:"Type"`
}

// ListParentsOutput is organizations' ListParentsResponse.
type ListParentsOutput struct {
	Parents   []OrgParent `json:"Parents"`
	NextToken *string     `json:"NextToken,omitempty"`
}

// childResource checks ChildId and returns the child's ARN.
func (s *Service) childResource(_ context.Context, _ *awsauth.Caller, in *ListParentsInput) ([]string, error) {
	if in.ChildId == nil {
		return nil, orgRequired("ChildId")
	}
	if !arn.ValidAccountID(*in.ChildId) {
		// An OU or a malformed ID: ListParents reports which.
		return nil, nil
	}
	return []string{s.Organizations.AccountARN(*in.ChildId)}, nil
}

func (s *Service) listParents(ctx context.Context, _ *awsauth.Caller, in *ListParentsInput) (*ListParentsOutput, error) {
	if _, err := orgPageSize(in.MaxResults); err != nil {
		return nil, err
	}
	if in.NextToken != nil {
		return nil, invalidOrgToken()
	}
	roots, err := s.Organizations.Parents(ctx, *in.ChildId)
	if err != nil {
		return nil, orgError(err)
	}
	out := &ListParentsOutput{Parents: []OrgParent{}}
	for _, r := range roots {
		out.Parents = append(out.Parents, OrgParent{Id: r.ID, Type: "ROOT"})
	}
	return out, nil
}

// OrgTagResourceInput is organizations' TagResourceRequest.
type OrgTagResourceInput struct {
	ResourceId *string  `json:"ResourceId"`
	Tags       []OrgTag `json:"Tags"`
}

// OrgUntagResourceInput is organizations' UntagResourceRequest.
type OrgUntagResourceInput struct {
	ResourceId *string  `json:"ResourceId"`
	TagKeys    []string `json:"TagKeys"`
}

// OrgListTagsForResourceInput is organizations' ListTagsForResourceRequest.
type OrgListTagsForResourceInput struct {
	ResourceId *string `json:"ResourceId"`
	NextToken  *string `json:"NextToken"`
}

// OrgListTagsForResourceOutput is organizations' ListTagsForResourceResponse.
type OrgListTagsForResourceOutput struct {
	Tags      []OrgTag `json:"Tags"`
	NextToken *string  `json:"NextToken,omitempty"`
}

// taggedResource returns the ARN a tag operation on id is authorized on:
// the account's or the root's; other IDs are checked by the operation.
func (s *Service) taggedResource(id *string) ([]string, error) {
	switch {
	case id == nil:
		return nil, orgRequired("ResourceId")
	case arn.ValidAccountID(*id):
		return []string{s.Organizations.AccountARN(*id)}, nil
	case *id == s.Organizations.Root().ID:
		return []string{s.Organizations.Root().ARN}, nil
	}
	return nil, nil
}

func (s *Service) orgTagTarget(_ context.Context, _ *awsauth.Caller, in *OrgTagResourceInput) ([]string, error) {
	return s.taggedResource(in.ResourceId)
}

func (s *Service) orgUntagTarget(_ context.Context, _ *awsauth.Caller, in *OrgUntagResourceInput) ([]string, error) {
	return s.taggedResource(in.ResourceId)
}

func (s *Service) orgListTagsTarget(_ context.Context, _ *awsauth.Caller, in *OrgListTagsForResourceInput) ([]string, error) {
	return s.taggedResource(in.ResourceId)
}

func (s *Service) tagOrgResource(ctx context.Context, _ *awsauth.Caller, in *OrgTagResourceInput) (*struct{}, error) {
	if in.Tags == nil {
		return nil, orgRequired("Tags")
	}
	tags, err := orgStoreTags(in.Tags)
	if err != nil {
		return nil, err
	}
	return nil, orgError(s.Organizations.TagResource(ctx, *in.ResourceId, tags))
}

func (s *Service) untagOrgResource(ctx context.Context, _ *awsauth.Caller, in *OrgUntagResourceInput) (*struct{}, error) {
	if in.TagKeys == nil {
		return nil, orgRequired("TagKeys")
	}
	return nil, orgError(s.Organizations.UntagResource(ctx, *in.ResourceId, in.TagKeys))
}

func (s *Service) listOrgTags(ctx context.Context, _ *awsauth.Caller, in *OrgListTagsForResourceInput) (*OrgListTagsForResourceOutput, error) {
	if in.NextToken != nil {
		// Every tag fits one page: no token is ever handed out.
		return nil, invalidOrgToken()
	}
	tags, err := s.Organizations.Tags(ctx, *in.ResourceId)
	if err != nil {
		return nil, orgError(err)
	}
	return &OrgListTagsForResourceOutput{Tags: orgWireTags(tags)}, nil
}
