package iamapi

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/awsproto"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// Role is an IAM role as GetRole and ListRoles describe it.
type Role struct {
	Path       string           `xml:"Path"`
	RoleName   string           `xml:"RoleName"`
	RoleID     string           `xml:"RoleId"`
	Arn        string           `xml:"Arn"`
	CreateDate awsproto.ISOTime `xml:"CreateDate"`
	// AssumeRolePolicyDocument is the trust policy, URL-encoded as IAM
	// returns it (botocore decodes it; aws-sdk-go-v2 leaves that to the
	// caller).
	AssumeRolePolicyDocument string `xml:"AssumeRolePolicyDocument"`
	Description              string `xml:"Description,omitempty"`
	MaxSessionDuration       int    `xml:"MaxSessionDuration"`
}

// GetRoleResult is the result of GetRole.
type GetRoleResult struct {
	Role Role `xml:"Role"`
}

// ListRolesResult is the result of ListRoles.
type ListRolesResult struct {
	Roles       List[Role] `xml:"Roles"`
	IsTruncated bool       `xml:"IsTruncated"`
	Marker      string     `xml:"Marker,omitempty"`
}

// GetRoleInput is the input of GetRole.
type GetRoleInput struct {
	RoleName string `json:"roleName"`
}

// ListRolesInput is the input of ListRoles.
type ListRolesInput struct {
	PathPrefix string `json:"pathPrefix,omitempty"`
	Marker     string `json:"-"`
	MaxItems   int    `json:"maxItems,omitempty"`
}

// samlProviderARN is the SAML provider an Identity Center role trusts in an
// account, AWSSSO_<hex>_DO_NOT_DELETE (spec/identifiers.md §5); the hex is
// the instance's, so it is stable for the instance.
func (h *Handler) samlProviderARN(account string) string {
	hex := strings.TrimPrefix(h.Instance.InstanceID, "ssoins-")
	return "arn:aws:iam::" + account + ":saml-provider/AWSSSO_" + hex + "_DO_NOT_DELETE"
}

// trustPolicy is a provisioned role's trust policy.
type trustPolicy struct {
	Version   string           `json:"Version"`
	Statement []trustStatement `json:"Statement"`
}

type trustStatement struct {
	Effect    string                       `json:"Effect"`
	Principal map[string]string            `json:"Principal"`
	Action    []string                     `json:"Action"`
	Condition map[string]map[string]string `json:"Condition"`
}

func (h *Handler) role(r *store.ProvisionedRole, ps *store.PermissionSet) (Role, error) {
	trust, err := json.Marshal(trustPolicy{Version: "2012-10-17", Statement: []trustStatement{{
		Effect:    "Allow",
		Principal: map[string]string{"Federated": h.samlProviderARN(r.AccountID)},
		Action:    []string{"sts:AssumeRoleWithSAML", "sts:TagSession"},
		Condition: map[string]map[string]string{"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}},
	}}})
	if err != nil {
		return Role{}, fmt.Errorf("encode trust policy: %w", err)
	}
	out := Role{
		Path: arn.RolePath(h.Instance.Region), RoleName: r.RoleName, RoleID: r.RoleID,
		Arn:                      arn.RoleARN(r.AccountID, h.Instance.Region, r.RoleName),
		CreateDate:               awsproto.ISOTime{Time: r.CreatedAt},
		AssumeRolePolicyDocument: url.QueryEscape(string(trust)),
		MaxSessionDuration:       3600,
	}
	if ps != nil {
		out.Description = ps.Description
		if d := int(ps.SessionDuration.Seconds()); d > 0 {
			out.MaxSessionDuration = d
		}
	}
	return out, nil
}

// accountRoles returns the provisioned roles of the caller's account,
// ordered by name.
func (h *Handler) accountRoles(c *call) ([]store.ProvisionedRole, error) {
	roles, err := h.Store.ListProvisionedRoles(c.ctx, store.RoleFilter{AccountID: c.sess.AccountID})
	if err != nil {
		return nil, fmt.Errorf("list roles of %s: %w", c.sess.AccountID, err)
	}
	slices.SortFunc(roles, func(a, b store.ProvisionedRole) int { return strings.Compare(a.RoleName, b.RoleName) })
	return roles, nil
}

// findRole returns the caller's account's role named name (IAM role names
// compare case-insensitively), or nil.
func (h *Handler) findRole(c *call, name string) (*store.ProvisionedRole, error) {
	roles, err := h.accountRoles(c)
	if err != nil {
		return nil, err
	}
	for i := range roles {
		if strings.EqualFold(roles[i].RoleName, name) {
			return &roles[i], nil
		}
	}
	return nil, nil
}

func (h *Handler) permissionSet(c *call, id string) (*store.PermissionSet, error) {
	ps, err := h.Store.GetPermissionSet(c.ctx, id)
	if err != nil {
		return nil, fmt.Errorf("permission set %s: %w", id, err)
	}
	return ps, nil
}

func (h *Handler) getRole(c *call) (any, error) {
	in := GetRoleInput{RoleName: c.q.Get("RoleName")}
	c.params = in
	if in.RoleName == "" {
		return nil, missing("roleName")
	}
	if len(in.RoleName) > 64 {
		return nil, awsproto.QueryValidationError("1 validation error detected: Value at 'roleName' failed to satisfy constraint: Member must have length less than or equal to 64")
	}
	// IAM authorizes before it looks the role up, so an unknown name
	// reveals nothing to a caller without iam:GetRole. Names match
	// case-insensitively: a found role is authorized on its own ARN, never
	// on the caller's spelling of it.
	role, err := h.findRole(c, in.RoleName)
	if err != nil {
		return nil, err
	}
	resource := "arn:aws:iam::" + c.sess.AccountID + ":role/" + in.RoleName
	if role != nil {
		resource = arn.RoleARN(c.sess.AccountID, h.Instance.Region, role.RoleName)
	}
	if err := h.Authorizer.Authorize(c.ctx, c.sess, "iam:GetRole", []string{resource}, c.reqCtx); err != nil {
		return nil, err
	}
	if role == nil {
		return nil, noSuchEntity(fmt.Sprintf("The role with name %s cannot be found.", in.RoleName))
	}
	ps, err := h.permissionSet(c, role.PermissionSetID)
	if err != nil {
		return nil, err
	}
	r, err := h.role(role, ps)
	if err != nil {
		return nil, err
	}
	return &GetRoleResult{Role: r}, nil
}

func (h *Handler) listRoles(c *call) (any, error) {
	n, err := maxItems(c)
	if err != nil {
		return nil, err
	}
	in := ListRolesInput{PathPrefix: c.q.Get("PathPrefix"), Marker: c.q.Get("Marker"), MaxItems: n}
	c.params = in
	if in.PathPrefix == "" {
		in.PathPrefix = "/"
	}
	if !strings.HasPrefix(in.PathPrefix, "/") || len(in.PathPrefix) > 512 {
		return nil, awsproto.QueryValidationError("1 validation error detected: Value at 'pathPrefix' failed to satisfy constraint: Member must satisfy regular expression pattern: \\u002F[\\u0021-\\u007F]*")
	}
	if err := h.Authorizer.Authorize(c.ctx, c.sess, "iam:ListRoles", nil, c.reqCtx); err != nil {
		return nil, err
	}
	roles, err := h.accountRoles(c)
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(arn.RolePath(h.Instance.Region), in.PathPrefix) {
		roles = nil
	}
	// The Marker is the last name returned; names are unique in an account.
	if in.Marker != "" {
		i, found := slices.BinarySearchFunc(roles, in.Marker, func(r store.ProvisionedRole, m string) int { return strings.Compare(r.RoleName, m) })
		if found {
			i++
		}
		roles = roles[i:]
	}
	out := &ListRolesResult{}
	out.Roles.Members = []Role{}
	for i := range roles {
		if len(out.Roles.Members) == in.MaxItems {
			out.IsTruncated = true
			out.Marker = out.Roles.Members[len(out.Roles.Members)-1].RoleName
			break
		}
		ps, err := h.permissionSet(c, roles[i].PermissionSetID)
		if err != nil {
			return nil, err
		}
		r, err := h.role(&roles[i], ps)
		if err != nil {
			return nil, err
		}
		out.Roles.Members = append(out.Roles.Members, r)
	}
	return out, nil
}
