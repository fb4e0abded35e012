package adminapi

import (
	"context"
	"regexp"
	"slices"

	"github.com/gatehouse-dev/gatehouse/internal/awsauth"
	"github.com/gatehouse-dev/gatehouse/internal/awsproto"
	"github.com/gatehouse-dev/gatehouse/internal/organizations"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// The organizations operations that Terraform's aws_organizations_organization
// data source and common tooling read besides the core subset: a Gatehouse
// organization has one root, every account directly under it, no
// organizational units, no policy types enabled (so no policies), and
// trusted access for IAM Identity Center (sso.amazonaws.com) only.
// Delegated administrators are the accounts registered for Identity Center
// with RegisterDelegatedAdministrator.

// organizationsExtraOps returns the read-only organizations operations of
// this file, authorized on "*" or on the root they name, as the service
// authorization reference for AWS Organizations lists them.
func (s *Service) organizationsExtraOps() map[string]operation {
	return map[string]operation{
		"ListAWSServiceAccessForOrganization": op("organizations:ListAWSServiceAccessForOrganization", true, nil, s.listServiceAccess),
		"ListChildren":                        op("organizations:ListChildren", true, s.childrenParent, s.listChildren),
		"ListOrganizationalUnitsForParent":    op("organizations:ListOrganizationalUnitsForParent", true, s.ouParent, s.listOUsForParent),
		"ListPolicies":                        op("organizations:ListPolicies", true, nil, s.listOrgPolicies),
		"ListDelegatedAdministrators":         op("organizations:ListDelegatedAdministrators", true, nil, s.listDelegatedAdmins),
		"ListDelegatedServicesForAccount":     op("organizations:ListDelegatedServicesForAccount", true, s.delegatedServicesAccount, s.listDelegatedServices),
		"RegisterDelegatedAdministrator":      op("organizations:RegisterDelegatedAdministrator", false, s.delegatedAdminAccount, mgmtOnly(s, "organizations:RegisterDelegatedAdministrator", s.registerDelegatedAdmin)),
		"DeregisterDelegatedAdministrator":    op("organizations:DeregisterDelegatedAdministrator", false, s.delegatedAdminAccount, mgmtOnly(s, "organizations:DeregisterDelegatedAdministrator", s.deregisterDelegatedAdmin)),
	}
}

// parentIDRE is the organizations model's ParentId pattern (a root or an
// organizational unit).
var parentIDRE = regexp.MustCompile(`^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$`)

// orgPolicyTypes is the organizations model's PolicyType enum.
var orgPolicyTypes = []string{"SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY", "TAG_POLICY", "BACKUP_POLICY",
	"AISERVICES_OPT_OUT_POLICY", "CHATBOT_POLICY", "DECLARATIVE_POLICY_EC2", "SECURITYHUB_POLICY", "INSPECTOR_POLICY",
	"UPGRADE_ROLLOUT_POLICY", "BEDROCK_POLICY", "S3_POLICY", "NETWORK_SECURITY_DIRECTOR_POLICY"}

// parent checks a ParentId: required, of the model's pattern, and the
// root (the only parent there is). It returns the root's ARN.
func (s *Service) parent(id *string) ([]string, error) {
	switch {
	case id == nil:
		return nil, orgRequired("ParentId")
	case !parentIDRE.MatchString(*id):
		return nil, &awsproto.Error{Code: "InvalidInputException", Reason: organizations.ReasonInvalidPattern,
			Message: "You specified an invalid value for ParentId: it must be a root ID (r-…) or an organizational unit ID (ou-…)."}
	}
	r := s.Organizations.Root()
	if *id != r.ID {
		return nil, &awsproto.Error{Code: "ParentNotFoundException", Message: "We can't find a root or OU with the ParentId that you specified."}
	}
	return []string{r.ARN}, nil
}

// ListAWSServiceAccessForOrganizationInput is organizations'
// ListAWSServiceAccessForOrganizationRequest.
type ListAWSServiceAccessForOrganizationInput struct {
	NextToken  *string `json:"NextToken"`
	MaxResults *int32  `json:"MaxResults"`
}

// EnabledServicePrincipal is the organizations EnabledServicePrincipal
// shape.
type EnabledServicePrincipal struct {
	ServicePrincipal string             `json:"ServicePrincipal"`
	DateEnabled      awsproto.Timestamp `json:"DateEnabled,omitzero"`
}

// ListAWSServiceAccessForOrganizationOutput is organizations'
// ListAWSServiceAccessForOrganizationResponse.
type ListAWSServiceAccessForOrganizationOutput struct {
	EnabledServicePrincipals []EnabledServicePrincipal `json:"EnabledServicePrincipals"`
	NextToken                *string                   `json:"NextToken,omitempty"`
}

func (s *Service) listServiceAccess(_ context.Context, _ *awsauth.Caller, in *ListAWSServiceAccessForOrganizationInput) (*ListAWSServiceAccessForOrganizationOutput, error) {
	if _, err := orgPageSize(in.MaxResults); err != nil {
		return nil, err
	}
	if in.NextToken != nil {
		// One service fits every page: no token is ever handed out.
		return nil, invalidOrgToken()
	}
	out := &ListAWSServiceAccessForOrganizationOutput{EnabledServicePrincipals: []EnabledServicePrincipal{}}
	for _, a := range s.Organizations.ServiceAccess() {
		out.EnabledServicePrincipals = append(out.EnabledServicePrincipals,
			EnabledServicePrincipal{ServicePrincipal: a.Principal, DateEnabled: awsproto.Timestamp{Time: a.Enabled}})
	}
	return out, nil
}

// ListChildrenInput is organizations' ListChildrenRequest.
type ListChildrenInput struct {
	ParentId   *string `json:"ParentId"`
	ChildType  *string `json:"ChildType"`
	NextToken  *string `json:"NextToken"`
	MaxResults *int32  `json:"MaxResults"`
}

// OrgChild is the organizations Child shape.
type OrgChild struct {
	Id   string `json:"Id"`
	Type string `json:"Type"`
}

// ListChildrenOutput is organizations' ListChildrenResponse.
type ListChildrenOutput struct {
	Children  []OrgChild `json:"Children"`
	NextToken *string    `json:"NextToken,omitempty"`
}

func (s *Service) childrenParent(_ context.Context, _ *awsauth.Caller, in *ListChildrenInput) ([]string, error) {
	return s.parent(in.ParentId)
}

func (s *Service) listChildren(ctx context.Context, _ *awsauth.Caller, in *ListChildrenInput) (*ListChildrenOutput, error) {
	if in.ChildType == nil {
		return nil, orgRequired("ChildType")
	}
	if *in.ChildType != "ACCOUNT" && *in.ChildType != "ORGANIZATIONAL_UNIT" {
		return nil, &awsproto.Error{Code: "InvalidInputException", Reason: organizations.ReasonInvalidEnum,
			Message: "You specified an invalid value for ChildType: it must be ACCOUNT or ORGANIZATIONAL_UNIT."}
	}
	size, err := orgPageSize(in.MaxResults)
	if err != nil {
		return nil, err
	}
	query := "ListChildren:" + *in.ParentId + ":" + *in.ChildType
	after, ok := pageAfter(query, in.NextToken)
	if !ok {
		return nil, invalidOrgToken()
	}
	out := &ListChildrenOutput{Children: []OrgChild{}}
	if *in.ChildType == "ORGANIZATIONAL_UNIT" {
		if in.NextToken != nil {
			return nil, invalidOrgToken()
		}
		return out, nil
	}
	as, err := s.Organizations.ListAccounts(ctx, store.Page{After: after, Limit: size + 1})
	if err != nil {
		return nil, orgError(err)
	}
	if len(as) > size {
		as = as[:size]
		out.NextToken = pageToken(query, as[size-1].ID)
	}
	for _, a := range as {
		out.Children = append(out.Children, OrgChild{Id: a.ID, Type: "ACCOUNT"})
	}
	return out, nil
}

// ListOrganizationalUnitsForParentInput is organizations'
// ListOrganizationalUnitsForParentRequest.
type ListOrganizationalUnitsForParentInput struct {
	ParentId   *string `json:"ParentId"`
	NextToken  *string `json:"NextToken"`
	MaxResults *int32  `json:"MaxResults"`
}

// OrganizationalUnit is the organizations OrganizationalUnit shape.
type OrganizationalUnit struct {
	Id   string `json:"Id"`
	Arn  string `json:"Arn"`
	Name string `json:"Name"`
}

// ListOrganizationalUnitsForParentOutput is organizations'
// ListOrganizationalUnitsForParentResponse.
type ListOrganizationalUnitsForParentOutput struct {
	OrganizationalUnits []OrganizationalUnit `json:"OrganizationalUnits"`
	NextToken           *string              `json:"NextToken,omitempty"`
}

func (s *Service) ouParent(_ context.Context, _ *awsauth.Caller, in *ListOrganizationalUnitsForParentInput) ([]string, error) {
	return s.parent(in.ParentId)
}

func (s *Service) listOUsForParent(_ context.Context, _ *awsauth.Caller, in *ListOrganizationalUnitsForParentInput) (*ListOrganizationalUnitsForParentOutput, error) {
	if _, err := orgPageSize(in.MaxResults); err != nil {
		return nil, err
	}
	if in.NextToken != nil {
		return nil, invalidOrgToken()
	}
	return &ListOrganizationalUnitsForParentOutput{OrganizationalUnits: []OrganizationalUnit{}}, nil
}

// ListOrgPoliciesInput is organizations' ListPoliciesRequest.
type ListOrgPoliciesInput struct {
	Filter     *string `json:"Filter"`
	NextToken  *string `json:"NextToken"`
	MaxResults *int32  `json:"MaxResults"`
}

// OrgPolicySummary is the organizations PolicySummary shape.
type OrgPolicySummary struct {
	Id          string `json:"Id"`
	Arn         string `json:"Arn"`
	Name        string `json:"Name"`
	Description string `json:"Description"`
	Type        string `json:"Type"`
	AwsManaged  bool   `json:"AwsManaged"`
}

// ListOrgPoliciesOutput is organizations' ListPoliciesResponse.
type ListOrgPoliciesOutput struct {
	Policies  []OrgPolicySummary `json:"Policies"`
	NextToken *string            `json:"NextToken,omitempty"`
}

// listOrgPolicies answers ListPolicies: no policy type is enabled at the
// root (ListRoots reports none), so there are no policies of any type.
// The model gives ListPolicies no PolicyTypeNotEnabledException, so the
// answer is an empty list.
func (s *Service) listOrgPolicies(_ context.Context, _ *awsauth.Caller, in *ListOrgPoliciesInput) (*ListOrgPoliciesOutput, error) {
	switch {
	case in.Filter == nil:
		return nil, orgRequired("Filter")
	case !slices.Contains(orgPolicyTypes, *in.Filter):
		return nil, &awsproto.Error{Code: "InvalidInputException", Reason: organizations.ReasonInvalidEnum,
			Message: "You specified an invalid value for Filter: " + *in.Filter + " is not a policy type."}
	}
	if _, err := orgPageSize(in.MaxResults); err != nil {
		return nil, err
	}
	if in.NextToken != nil {
		return nil, invalidOrgToken()
	}
	return &ListOrgPoliciesOutput{Policies: []OrgPolicySummary{}}, nil
}

// ListDelegatedAdministratorsInput is organizations'
// ListDelegatedAdministratorsRequest.
type ListDelegatedAdministratorsInput struct {
	ServicePrincipal *string `json:"ServicePrincipal"`
	NextToken        *string `json:"NextToken"`
	MaxResults       *int32  `json:"MaxResults"`
}

// DelegatedAdministrator is the organizations DelegatedAdministrator
// shape.
type DelegatedAdministrator struct {
	Id              string             `json:"Id"`
	Arn             string             `json:"Arn"`
	Email           string             `json:"Email"`
	Name            string             `json:"Name"`
	Status          string             `json:"Status"`
	JoinedMethod    string             `json:"JoinedMethod"`
	JoinedTimestamp awsproto.Timestamp `json:"JoinedTimestamp,omitzero"`
	// State is the account's lifecycle state (ACTIVE, SUSPENDED, CLOSED).
	State                 string             `json:"State"`
	DelegationEnabledDate awsproto.Timestamp `json:"DelegationEnabledDate,omitzero"`
}

// ListDelegatedAdministratorsOutput is organizations'
// ListDelegatedAdministratorsResponse.
type ListDelegatedAdministratorsOutput struct {
	DelegatedAdministrators []DelegatedAdministrator `json:"DelegatedAdministrators"`
	NextToken               *string                  `json:"NextToken,omitempty"`
}

func (s *Service) listDelegatedAdmins(ctx context.Context, _ *awsauth.Caller, in *ListDelegatedAdministratorsInput) (*ListDelegatedAdministratorsOutput, error) {
	size, err := orgPageSize(in.MaxResults)
	if err != nil {
		return nil, err
	}
	sp := orgDeref(in.ServicePrincipal)
	query := "ListDelegatedAdministrators\x00" + sp
	after, ok := pageAfter(query, in.NextToken)
	if !ok {
		return nil, invalidOrgToken()
	}
	if in.ServicePrincipal != nil && sp == "" {
		return nil, &awsproto.Error{Code: "InvalidInputException", Reason: organizations.ReasonMinLength,
			Message: "You provided a ServicePrincipal shorter than 1 character."}
	}
	ds, err := s.Organizations.ListDelegatedAdmins(ctx, sp, store.Page{After: after, Limit: size + 1})
	if err != nil {
		return nil, orgError(err)
	}
	out := &ListDelegatedAdministratorsOutput{DelegatedAdministrators: []DelegatedAdministrator{}}
	if len(ds) > size {
		ds = ds[:size]
		out.NextToken = pageToken(query, ds[size-1].Account.ID)
	}
	for i := range ds {
		a := s.orgAccount(&ds[i].Account)
		out.DelegatedAdministrators = append(out.DelegatedAdministrators, DelegatedAdministrator{Id: a.Id, Arn: a.Arn,
			Email: a.Email, Name: a.Name, Status: a.Status, State: a.State, JoinedMethod: a.JoinedMethod,
			JoinedTimestamp: a.JoinedTimestamp, DelegationEnabledDate: awsproto.Timestamp{Time: ds[i].EnabledAt}})
	}
	return out, nil
}

// DelegatedAdministratorInput is organizations'
// RegisterDelegatedAdministratorRequest and
// DeregisterDelegatedAdministratorRequest.
type DelegatedAdministratorInput struct {
	AccountId        *string `json:"AccountId"`
	ServicePrincipal *string `json:"ServicePrincipal"`
}

// delegatedAdminAccount checks the members of a (de)registration and
// returns the account's ARN: the service authorization reference for AWS
// Organizations authorizes RegisterDelegatedAdministrator and
// DeregisterDelegatedAdministrator on the account resource.
func (s *Service) delegatedAdminAccount(ctx context.Context, c *awsauth.Caller, in *DelegatedAdministratorInput) ([]string, error) {
	if in.ServicePrincipal == nil {
		return nil, orgRequired("ServicePrincipal")
	}
	return s.accountResource(ctx, c, &AccountIdInput{AccountId: in.AccountId})
}

// registerDelegatedAdmin answers RegisterDelegatedAdministrator; as the
// model says, only the management account may call it (mgmtOnly).
func (s *Service) registerDelegatedAdmin(ctx context.Context, _ *awsauth.Caller, in *DelegatedAdministratorInput) (*struct{}, error) {
	return nil, orgError(s.Organizations.RegisterDelegatedAdmin(ctx, *in.AccountId, *in.ServicePrincipal))
}

// deregisterDelegatedAdmin answers DeregisterDelegatedAdministrator; the
// account's sessions are refused from the next call on this replica.
func (s *Service) deregisterDelegatedAdmin(ctx context.Context, _ *awsauth.Caller, in *DelegatedAdministratorInput) (*struct{}, error) {
	return nil, orgError(s.Organizations.DeregisterDelegatedAdmin(ctx, *in.AccountId, *in.ServicePrincipal))
}

// ListDelegatedServicesForAccountInput is organizations'
// ListDelegatedServicesForAccountRequest.
type ListDelegatedServicesForAccountInput struct {
	AccountId  *string `json:"AccountId"`
	NextToken  *string `json:"NextToken"`
	MaxResults *int32  `json:"MaxResults"`
}

// DelegatedService is the organizations DelegatedService shape.
type DelegatedService struct {
	ServicePrincipal      string             `json:"ServicePrincipal"`
	DelegationEnabledDate awsproto.Timestamp `json:"DelegationEnabledDate,omitzero"`
}

// ListDelegatedServicesForAccountOutput is organizations'
// ListDelegatedServicesForAccountResponse.
type ListDelegatedServicesForAccountOutput struct {
	DelegatedServices []DelegatedService `json:"DelegatedServices"`
	NextToken         *string            `json:"NextToken,omitempty"`
}

func (s *Service) delegatedServicesAccount(ctx context.Context, c *awsauth.Caller, in *ListDelegatedServicesForAccountInput) ([]string, error) {
	return s.accountResource(ctx, c, &AccountIdInput{AccountId: in.AccountId})
}

func (s *Service) listDelegatedServices(ctx context.Context, _ *awsauth.Caller, in *ListDelegatedServicesForAccountInput) (*ListDelegatedServicesForAccountOutput, error) {
	size, err := orgPageSize(in.MaxResults)
	if err != nil {
		return nil, err
	}
	query := "ListDelegatedServicesForAccount\x00" + *in.AccountId
	after, ok := pageAfter(query, in.NextToken)
	if !ok {
		return nil, invalidOrgToken()
	}
	ds, err := s.Organizations.DelegatedServices(ctx, *in.AccountId)
	if err != nil {
		return nil, orgError(err)
	}
	out := &ListDelegatedServicesForAccountOutput{DelegatedServices: []DelegatedService{}}
	for _, d := range ds {
		if d.ServicePrincipal <= after {
			continue
		}
		if len(out.DelegatedServices) == size {
			out.NextToken = pageToken(query, out.DelegatedServices[size-1].ServicePrincipal)
			break
		}
		out.DelegatedServices = append(out.DelegatedServices, DelegatedService{ServicePrincipal: d.ServicePrincipal,
			DelegationEnabledDate: awsproto.Timestamp{Time: d.EnabledAt}})
	}
	return out, nil
}
