package iamapi

import (
	"net/url"
	"slices"
	"strings"

	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/automation"
	"github.com/gatehouse-dev/gatehouse/internal/awsproto"
	"github.com/gatehouse-dev/gatehouse/internal/policy/managed"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// The managed policy operations (CreatePolicy and its family, IAM API
// Reference): customer-managed policies of the caller's account, which
// permission sets refer to by name and path and automation users attach by
// ARN, and the AWS managed policies Gatehouse ships, read-only. Each is
// authorized as iam:<Action> on the policy's ARN (ListPolicies on "*", as
// the service authorization reference has it); a caller manages policies
// only in its own account. package automation holds the rules.

// Policy is IAM's Policy shape.
type Policy struct {
	PolicyName                    string           `xml:"PolicyName"`
	PolicyID                      string           `xml:"PolicyId"`
	Arn                           string           `xml:"Arn"`
	Path                          string           `xml:"Path"`
	DefaultVersionID              string           `xml:"DefaultVersionId"`
	AttachmentCount               int              `xml:"AttachmentCount"`
	PermissionsBoundaryUsageCount int              `xml:"PermissionsBoundaryUsageCount"`
	IsAttachable                  bool             `xml:"IsAttachable"`
	Description                   string           `xml:"Description,omitempty"`
	CreateDate                    awsproto.ISOTime `xml:"CreateDate"`
	UpdateDate                    awsproto.ISOTime `xml:"UpdateDate"`
	Tags                          *List[Tag]       `xml:"Tags,omitempty"`
}

// PolicyResult is the result of CreatePolicy and GetPolicy.
type PolicyResult struct {
	Policy Policy `xml:"Policy"`
}

// ListPoliciesResult is the result of ListPolicies.
type ListPoliciesResult struct {
	Policies    List[Policy] `xml:"Policies"`
	IsTruncated bool         `xml:"IsTruncated"`
	Marker      string       `xml:"Marker,omitempty"`
}

// PolicyVersion is IAM's PolicyVersion shape; the document is URL-encoded
// as IAM returns it, and omitted from ListPolicyVersions.
type PolicyVersion struct {
	Document         string           `xml:"Document,omitempty"`
	VersionID        string           `xml:"VersionId"`
	IsDefaultVersion bool             `xml:"IsDefaultVersion"`
	CreateDate       awsproto.ISOTime `xml:"CreateDate"`
}

// PolicyVersionResult is the result of GetPolicyVersion and
// CreatePolicyVersion.
type PolicyVersionResult struct {
	PolicyVersion PolicyVersion `xml:"PolicyVersion"`
}

// ListPolicyVersionsResult is the result of ListPolicyVersions.
type ListPolicyVersionsResult struct {
	Versions    List[PolicyVersion] `xml:"Versions"`
	IsTruncated bool                `xml:"IsTruncated"`
	Marker      string              `xml:"Marker,omitempty"`
}

// ListPolicyTagsResult is the result of ListPolicyTags.
type ListPolicyTagsResult struct {
	Tags        List[Tag] `xml:"Tags"`
	IsTruncated bool      `xml:"IsTruncated"`
	Marker      string    `xml:"Marker,omitempty"`
}

// PolicyUser is a user a policy is attached to.
type PolicyUser struct {
	UserName string `xml:"UserName"`
	UserID   string `xml:"UserId"`
}

// PolicyRole is a role a policy is attached to.
type PolicyRole struct {
	RoleName string `xml:"RoleName"`
	RoleID   string `xml:"RoleId"`
}

// ListEntitiesForPolicyResult is the result of ListEntitiesForPolicy.
// Gatehouse has no IAM groups, so PolicyGroups is always empty.
type ListEntitiesForPolicyResult struct {
	PolicyGroups List[PolicyUser] `xml:"PolicyGroups"`
	PolicyUsers  List[PolicyUser] `xml:"PolicyUsers"`
	PolicyRoles  List[PolicyRole] `xml:"PolicyRoles"`
	IsTruncated  bool             `xml:"IsTruncated"`
	Marker       string           `xml:"Marker,omitempty"`
}

type policyParams struct {
	PolicyArn      string      `json:"policyArn,omitempty"`
	PolicyName     string      `json:"policyName,omitempty"`
	Path           string      `json:"path,omitempty"`
	Description    string      `json:"description,omitempty"`
	VersionID      string      `json:"versionId,omitempty"`
	SetAsDefault   string      `json:"setAsDefault,omitempty"`
	Scope          string      `json:"scope,omitempty"`
	OnlyAttached   string      `json:"onlyAttached,omitempty"`
	PathPrefix     string      `json:"pathPrefix,omitempty"`
	EntityFilter   string      `json:"entityFilter,omitempty"`
	PolicyDocument string      `json:"policyDocument,omitempty"`
	Tags           []store.Tag `json:"tags,omitempty"`
	TagKeys        []string    `json:"tagKeys,omitempty"`
}

// policyWriteOps are the managed policy operations that change something.
var policyWriteOps = []string{"CreatePolicy", "DeletePolicy", "CreatePolicyVersion", "DeletePolicyVersion",
	"SetDefaultPolicyVersion", "TagPolicy", "UntagPolicy"}

// forgetPolicies drops the compiled policies this process keeps, so that a
// changed customer-managed policy holds for the very next request of a
// role or user it is attached to; other replicas see the change within
// authz.DefaultRecheckInterval.
func (h *Handler) forgetPolicies() {
	if h.Authorizer.Policies != nil {
		h.Authorizer.Policies.Forget()
	}
	if f, ok := h.Authorizer.Users.(interface{ Forget() }); ok {
		f.Forget()
	}
}

// policyTarget is what an operation on PolicyArn acts on: a customer
// policy of the caller's account, or an AWS managed policy (aws is true).
type policyTarget struct {
	arn string
	aws bool
}

// policyOp runs the common part of an operation on PolicyArn: read it,
// record params, authorize action on it, and refuse a policy of another
// account (and, for writes, an AWS managed one) as IAM does.
func (h *Handler) policyOp(c *call, action string, write bool, p *policyParams) (policyTarget, error) {
	p.PolicyArn = c.q.Get("PolicyArn")
	c.params = p
	if p.PolicyArn == "" {
		return policyTarget{}, missing("policyArn")
	}
	acct, _, _, ok := automation.ParsePolicyARN(p.PolicyArn)
	if !ok {
		return policyTarget{}, invalidInput("ARN " + p.PolicyArn + " is not valid.")
	}
	if err := h.authorize(c, action, p.PolicyArn); err != nil {
		return policyTarget{}, err
	}
	t := policyTarget{arn: p.PolicyArn, aws: acct == "aws"}
	switch {
	case t.aws && !write:
		if _, ok := managed.Lookup(p.PolicyArn); !ok {
			return t, noSuchEntity("Policy " + p.PolicyArn + " was not found.")
		}
	case acct != c.account() || t.aws:
		return t, awsproto.QueryAccessDenied("User: " + c.caller.ARN + " is not authorized to perform: " + action +
			" on resource: policy " + p.PolicyArn + " because no resource-based policy allows the " + action + " action")
	}
	return t, nil
}

// wirePolicy describes a customer policy; usage gives its attachment
// counts (nil: none are counted).
func wirePolicy(p *store.CustomerPolicy, usage *automation.PolicyUsage, withTags bool) Policy {
	a := automation.CustomerPolicyARN(p)
	out := Policy{PolicyName: p.Name, PolicyID: p.ID, Arn: a, Path: p.Path, DefaultVersionID: p.DefaultVersion,
		IsAttachable: true, Description: p.Description,
		CreateDate: awsproto.ISOTime{Time: p.CreatedAt}, UpdateDate: awsproto.ISOTime{Time: p.UpdatedAt}}
	if usage != nil {
		out.AttachmentCount, out.PermissionsBoundaryUsageCount = usage.Attachments(a), len(usage.Boundary[a])
	}
	if withTags && len(p.Tags) > 0 {
		out.Tags = &List[Tag]{Members: tagsOf(p.Tags)}
	}
	return out
}

// wireManaged describes an AWS managed policy Gatehouse ships.
func wireManaged(m managed.Managed, usage *automation.PolicyUsage) Policy {
	path := strings.TrimSuffix(strings.TrimPrefix(m.ARN, "arn:aws:iam::aws:policy"), m.Name)
	out := Policy{PolicyName: m.Name, PolicyID: automation.DerivedPolicyID(m.ARN), Arn: m.ARN, Path: path,
		DefaultVersionID: m.Version, IsAttachable: !m.Deprecated,
		CreateDate: awsproto.ISOTime{Time: m.Updated}, UpdateDate: awsproto.ISOTime{Time: m.Updated}}
	if usage != nil {
		out.AttachmentCount, out.PermissionsBoundaryUsageCount = usage.Attachments(m.ARN), len(usage.Boundary[m.ARN])
	}
	return out
}

func (h *Handler) createPolicy(c *call) (any, error) {
	p := &policyParams{PolicyName: c.q.Get("PolicyName"), Path: c.q.Get("Path"), Description: c.q.Get("Description"), Tags: tagsParam(c)}
	c.params = p
	doc := c.q.Get("PolicyDocument")
	switch {
	case p.PolicyName == "":
		return nil, missing("policyName")
	case doc == "":
		return nil, missing("policyDocument")
	}
	path := p.Path
	if path == "" {
		path = "/"
	}
	if err := h.authorize(c, "iam:CreatePolicy", automation.PolicyARN(c.account(), path, p.PolicyName)); err != nil {
		return nil, err
	}
	pol, err := h.Automation.CreatePolicy(c.ctx, c.account(), automation.CreatePolicyInput{
		Name: p.PolicyName, Path: p.Path, Description: p.Description, Document: doc, Tags: p.Tags})
	if err != nil {
		return nil, err
	}
	return &PolicyResult{Policy: wirePolicy(pol, nil, true)}, nil
}

func (h *Handler) getPolicy(c *call) (any, error) {
	t, err := h.policyOp(c, "iam:GetPolicy", false, &policyParams{})
	if err != nil {
		return nil, err
	}
	usage, err := h.Automation.Usage(c.ctx, c.account())
	if err != nil {
		return nil, err
	}
	if t.aws {
		m, _ := managed.Lookup(t.arn)
		return &PolicyResult{Policy: wireManaged(m, usage)}, nil
	}
	pol, err := h.Automation.GetPolicy(c.ctx, c.account(), t.arn)
	if err != nil {
		return nil, err
	}
	return &PolicyResult{Policy: wirePolicy(pol, usage, true)}, nil
}

func (h *Handler) listPolicies(c *call) (any, error) {
	p := &policyParams{Scope: c.q.Get("Scope"), OnlyAttached: c.q.Get("OnlyAttached"), PathPrefix: c.q.Get("PathPrefix")}
	c.params = p
	usageFilter := c.q.Get("PolicyUsageFilter")
	switch p.Scope {
	case "":
		p.Scope = "All"
	case "All", "AWS", "Local":
	default:
		return nil, awsproto.QueryValidationError("1 validation error detected: Value '" + p.Scope + "' at 'scope' failed to satisfy constraint: Member must satisfy enum value set: [All, AWS, Local]")
	}
	switch usageFilter {
	case "", "PermissionsPolicy", "PermissionsBoundary":
	default:
		return nil, awsproto.QueryValidationError("1 validation error detected: Value '" + usageFilter + "' at 'policyUsageFilter' failed to satisfy constraint: Member must satisfy enum value set: [PermissionsPolicy, PermissionsBoundary]")
	}
	onlyAttached := strings.EqualFold(p.OnlyAttached, "true")
	prefix := p.PathPrefix
	if prefix == "" {
		prefix = "/"
	}
	if _, err := maxItems(c); err != nil {
		return nil, err
	}
	if err := h.authorize(c, "iam:ListPolicies", "*"); err != nil {
		return nil, err
	}
	usage, err := h.Automation.Usage(c.ctx, c.account())
	if err != nil {
		return nil, err
	}
	keep := func(w Policy) bool {
		if !strings.HasPrefix(w.Path, prefix) {
			return false
		}
		switch {
		case !onlyAttached:
			return true
		case usageFilter == "PermissionsPolicy":
			return w.AttachmentCount > 0
		case usageFilter == "PermissionsBoundary":
			return w.PermissionsBoundaryUsageCount > 0
		}
		return w.AttachmentCount+w.PermissionsBoundaryUsageCount > 0
	}
	all := []Policy{}
	if p.Scope != "Local" {
		for _, a := range managed.ARNs() {
			m, _ := managed.Lookup(a)
			if w := wireManaged(m, usage); keep(w) {
				all = append(all, w)
			}
		}
	}
	if p.Scope != "AWS" {
		ps, err := h.Automation.ListPolicies(c.ctx, c.account())
		if err != nil {
			return nil, err
		}
		for i := range ps {
			if w := wirePolicy(&ps[i], usage, false); keep(w) {
				all = append(all, w)
			}
		}
	}
	page, more, next, err := pageOf(c, all)
	if err != nil {
		return nil, err
	}
	return &ListPoliciesResult{Policies: List[Policy]{Members: page}, IsTruncated: more, Marker: next}, nil
}

func (h *Handler) deletePolicy(c *call) (any, error) {
	t, err := h.policyOp(c, "iam:DeletePolicy", true, &policyParams{})
	if err != nil {
		return nil, err
	}
	if err := h.Automation.DeletePolicy(c.ctx, c.account(), t.arn); err != nil {
		return nil, err
	}
	h.forgetPolicies()
	return nil, nil
}

// versionOp is policyOp for the operations on VersionId of PolicyArn.
func (h *Handler) versionOp(c *call, action string, write bool) (policyTarget, string, error) {
	p := &policyParams{VersionID: c.q.Get("VersionId")}
	t, err := h.policyOp(c, action, write, p)
	if err != nil {
		return t, "", err
	}
	if p.VersionID == "" {
		return t, "", missing("versionId")
	}
	return t, p.VersionID, nil
}

func (h *Handler) getPolicyVersion(c *call) (any, error) {
	t, id, err := h.versionOp(c, "iam:GetPolicyVersion", false)
	if err != nil {
		return nil, err
	}
	if t.aws {
		m, _ := managed.Lookup(t.arn)
		if id != m.Version {
			return nil, noSuchEntity("Policy " + t.arn + " version " + id + " does not exist or is not attachable.")
		}
		return &PolicyVersionResult{PolicyVersion: PolicyVersion{Document: url.QueryEscape(string(m.Document)), VersionID: m.Version,
			IsDefaultVersion: true, CreateDate: awsproto.ISOTime{Time: m.Updated}}}, nil
	}
	pol, v, err := h.Automation.GetPolicyVersion(c.ctx, c.account(), t.arn, id)
	if err != nil {
		return nil, err
	}
	return &PolicyVersionResult{PolicyVersion: wireVersion(pol, v, true)}, nil
}

func wireVersion(p *store.CustomerPolicy, v store.PolicyVersion, withDoc bool) PolicyVersion {
	out := PolicyVersion{VersionID: v.ID, IsDefaultVersion: v.ID == p.DefaultVersion, CreateDate: awsproto.ISOTime{Time: v.CreatedAt}}
	if withDoc {
		out.Document = url.QueryEscape(v.Document)
	}
	return out
}

func (h *Handler) listPolicyVersions(c *call) (any, error) {
	t, err := h.policyOp(c, "iam:ListPolicyVersions", false, &policyParams{})
	if err != nil {
		return nil, err
	}
	var all []PolicyVersion
	if t.aws {
		m, _ := managed.Lookup(t.arn)
		all = []PolicyVersion{{VersionID: m.Version, IsDefaultVersion: true, CreateDate: awsproto.ISOTime{Time: m.Updated}}}
	} else {
		pol, err := h.Automation.GetPolicy(c.ctx, c.account(), t.arn)
		if err != nil {
			return nil, err
		}
		// Newest first, as IAM lists them.
		for _, v := range slices.Backward(pol.Versions) {
			all = append(all, wireVersion(pol, v, false))
		}
	}
	page, more, next, err := pageOf(c, all)
	if err != nil {
		return nil, err
	}
	return &ListPolicyVersionsResult{Versions: List[PolicyVersion]{Members: page}, IsTruncated: more, Marker: next}, nil
}

func (h *Handler) createPolicyVersion(c *call) (any, error) {
	p := &policyParams{SetAsDefault: c.q.Get("SetAsDefault")}
	t, err := h.policyOp(c, "iam:CreatePolicyVersion", true, p)
	if err != nil {
		return nil, err
	}
	doc := c.q.Get("PolicyDocument")
	if doc == "" {
		return nil, missing("policyDocument")
	}
	setDefault := strings.EqualFold(p.SetAsDefault, "true")
	v, err := h.Automation.CreatePolicyVersion(c.ctx, c.account(), t.arn, doc, setDefault)
	if err != nil {
		return nil, err
	}
	h.forgetPolicies()
	return &PolicyVersionResult{PolicyVersion: PolicyVersion{Document: url.QueryEscape(v.Document), VersionID: v.ID,
		IsDefaultVersion: setDefault, CreateDate: awsproto.ISOTime{Time: v.CreatedAt}}}, nil
}

func (h *Handler) deletePolicyVersion(c *call) (any, error) {
	t, id, err := h.versionOp(c, "iam:DeletePolicyVersion", true)
	if err != nil {
		return nil, err
	}
	return nil, h.Automation.DeletePolicyVersion(c.ctx, c.account(), t.arn, id)
}

func (h *Handler) setDefaultPolicyVersion(c *call) (any, error) {
	t, id, err := h.versionOp(c, "iam:SetDefaultPolicyVersion", true)
	if err != nil {
		return nil, err
	}
	if err := h.Automation.SetDefaultPolicyVersion(c.ctx, c.account(), t.arn, id); err != nil {
		return nil, err
	}
	h.forgetPolicies()
	return nil, nil
}

func (h *Handler) tagPolicy(c *call) (any, error) {
	p := &policyParams{Tags: tagsParam(c)}
	t, err := h.policyOp(c, "iam:TagPolicy", true, p)
	if err != nil {
		return nil, err
	}
	if len(p.Tags) == 0 {
		return nil, missing("tags")
	}
	return nil, h.Automation.TagPolicy(c.ctx, c.account(), t.arn, p.Tags)
}

func (h *Handler) untagPolicy(c *call) (any, error) {
	p := &policyParams{TagKeys: c.q.List("TagKeys")}
	t, err := h.policyOp(c, "iam:UntagPolicy", true, p)
	if err != nil {
		return nil, err
	}
	if len(p.TagKeys) == 0 {
		return nil, missing("tagKeys")
	}
	return nil, h.Automation.UntagPolicy(c.ctx, c.account(), t.arn, p.TagKeys)
}

func (h *Handler) listPolicyTags(c *call) (any, error) {
	t, err := h.policyOp(c, "iam:ListPolicyTags", false, &policyParams{})
	if err != nil {
		return nil, err
	}
	var tags []Tag
	if !t.aws {
		pol, err := h.Automation.GetPolicy(c.ctx, c.account(), t.arn)
		if err != nil {
			return nil, err
		}
		tags = tagsOf(pol.Tags)
	}
	page, more, next, err := pageOf(c, tags)
	if err != nil {
		return nil, err
	}
	return &ListPolicyTagsResult{Tags: List[Tag]{Members: page}, IsTruncated: more, Marker: next}, nil
}

// entity is one element of ListEntitiesForPolicy's lists, for paging them
// together.
type entity struct {
	user *PolicyUser
	role *PolicyRole
}

func (h *Handler) listEntitiesForPolicy(c *call) (any, error) {
	p := &policyParams{EntityFilter: c.q.Get("EntityFilter"), PathPrefix: c.q.Get("PathPrefix")}
	t, err := h.policyOp(c, "iam:ListEntitiesForPolicy", false, p)
	if err != nil {
		return nil, err
	}
	switch p.EntityFilter {
	case "", "User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy":
	default:
		return nil, awsproto.QueryValidationError("1 validation error detected: Value '" + p.EntityFilter + "' at 'entityFilter' failed to satisfy constraint: Member must satisfy enum value set: [User, Role, Group, LocalManagedPolicy, AWSManagedPolicy]")
	}
	usageFilter := c.q.Get("PolicyUsageFilter")
	if !t.aws {
		if _, err := h.Automation.GetPolicy(c.ctx, c.account(), t.arn); err != nil {
			return nil, err
		}
	}
	usage, err := h.Automation.Usage(c.ctx, c.account())
	if err != nil {
		return nil, err
	}
	prefix := p.PathPrefix
	if prefix == "" {
		prefix = "/"
	}
	var all []entity
	if (p.EntityFilter == "" || p.EntityFilter == "User") && usageFilter != "PermissionsBoundary" {
		for _, u := range usage.Users[t.arn] {
			if strings.HasPrefix(u.Path, prefix) {
				all = append(all, entity{user: &PolicyUser{UserName: u.UserName, UserID: u.ID}})
			}
		}
	}
	if p.EntityFilter == "" || p.EntityFilter == "Role" {
		var roles []store.ProvisionedRole
		if usageFilter != "PermissionsBoundary" {
			roles = append(roles, usage.Roles[t.arn]...)
		}
		if usageFilter != "PermissionsPolicy" {
			roles = append(roles, usage.Boundary[t.arn]...)
		}
		rolePath := arn.RolePath(h.Instance.Region)
		for _, r := range roles {
			if strings.HasPrefix(rolePath, prefix) {
				all = append(all, entity{role: &PolicyRole{RoleName: r.RoleName, RoleID: r.RoleID}})
			}
		}
	}
	page, more, next, err := pageOf(c, all)
	if err != nil {
		return nil, err
	}
	out := &ListEntitiesForPolicyResult{IsTruncated: more, Marker: next}
	out.PolicyGroups.Members, out.PolicyUsers.Members, out.PolicyRoles.Members = []PolicyUser{}, []PolicyUser{}, []PolicyRole{}
	for _, e := range page {
		if e.user != nil {
			out.PolicyUsers.Members = append(out.PolicyUsers.Members, *e.user)
		} else {
			out.PolicyRoles.Members = append(out.PolicyRoles.Members, *e.role)
		}
	}
	return out, nil
}
