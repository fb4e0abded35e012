package iamapi

import (
	"encoding/xml"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse-dev/gatehouse/internal/automation"
	"github.com/gatehouse-dev/gatehouse/internal/awsproto"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// The IAM user, access key and OpenID Connect provider operations of
// automation access (package automation holds their rules). Each is
// authorized as iam:<Action> on the user's (or provider's) ARN in the
// caller's account, as IAM's service authorization reference lists them.

// User is an IAM user as CreateUser, GetUser and ListUsers describe it.
type User struct {
	Path       string           `xml:"Path"`
	UserName   string           `xml:"UserName"`
	UserID     string           `xml:"UserId"`
	Arn        string           `xml:"Arn"`
	CreateDate awsproto.ISOTime `xml:"CreateDate"`
	Tags       *List[Tag]       `xml:"Tags,omitempty"`
}

// Tag is an IAM tag.
type Tag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

// UserResult is the result of CreateUser and GetUser.
type UserResult struct {
	User User `xml:"User"`
}

// ListUsersResult is the result of ListUsers.
type ListUsersResult struct {
	Users       List[User] `xml:"Users"`
	IsTruncated bool       `xml:"IsTruncated"`
	Marker      string     `xml:"Marker,omitempty"`
}

// ListUserTagsResult is the result of ListUserTags.
type ListUserTagsResult struct {
	Tags        List[Tag] `xml:"Tags"`
	IsTruncated bool      `xml:"IsTruncated"`
	Marker      string    `xml:"Marker,omitempty"`
}

// AttachedPolicy names an attached managed policy.
type AttachedPolicy struct {
	PolicyName string `xml:"PolicyName"`
	PolicyArn  string `xml:"PolicyArn"`
}

// ListAttachedUserPoliciesResult is the result of ListAttachedUserPolicies.
type ListAttachedUserPoliciesResult struct {
	AttachedPolicies List[AttachedPolicy] `xml:"AttachedPolicies"`
	IsTruncated      bool                 `xml:"IsTruncated"`
	Marker           string               `xml:"Marker,omitempty"`
}

// GetUserPolicyResult is the result of GetUserPolicy; the document is
// URL-encoded as IAM returns it.
type GetUserPolicyResult struct {
	UserName       string `xml:"UserName"`
	PolicyName     string `xml:"PolicyName"`
	PolicyDocument string `xml:"PolicyDocument"`
}

// ListUserPoliciesResult is the result of ListUserPolicies.
type ListUserPoliciesResult struct {
	PolicyNames List[string] `xml:"PolicyNames"`
	IsTruncated bool         `xml:"IsTruncated"`
	Marker      string       `xml:"Marker,omitempty"`
}

// AccessKey is a new access key with its secret, as CreateAccessKey
// returns it once.
type AccessKey struct {
	UserName        string           `xml:"UserName"`
	AccessKeyID     string           `xml:"AccessKeyId"`
	Status          string           `xml:"Status"`
	SecretAccessKey string           `xml:"SecretAccessKey"`
	CreateDate      awsproto.ISOTime `xml:"CreateDate"`
}

// CreateAccessKeyResult is the result of CreateAccessKey.
type CreateAccessKeyResult struct {
	AccessKey AccessKey `xml:"AccessKey"`
}

// AccessKeyMetadata describes an access key without its secret.
type AccessKeyMetadata struct {
	UserName    string           `xml:"UserName"`
	AccessKeyID string           `xml:"AccessKeyId"`
	Status      string           `xml:"Status"`
	CreateDate  awsproto.ISOTime `xml:"CreateDate"`
}

// ListAccessKeysResult is the result of ListAccessKeys.
type ListAccessKeysResult struct {
	AccessKeyMetadata List[AccessKeyMetadata] `xml:"AccessKeyMetadata"`
	IsTruncated       bool                    `xml:"IsTruncated"`
}

// AccessKeyLastUsed is a key's last recorded use; ServiceName and Region
// are "N/A" for a key never used, as IAM reports them.
type AccessKeyLastUsed struct {
	LastUsedDate *awsproto.ISOTime `xml:"LastUsedDate,omitempty"`
	ServiceName  string            `xml:"ServiceName"`
	Region       string            `xml:"Region"`
}

// GetAccessKeyLastUsedResult is the result of GetAccessKeyLastUsed.
type GetAccessKeyLastUsedResult struct {
	UserName          string            `xml:"UserName"`
	AccessKeyLastUsed AccessKeyLastUsed `xml:"AccessKeyLastUsed"`
}

// credentialListResult is the result of the list operations of
// credentials Gatehouse users never have (groups, MFA devices, SSH keys,
// signing certificates, service-specific credentials): the list element,
// named per operation, present and empty.
type credentialListResult struct {
	List        namedEmpty
	IsTruncated bool `xml:"IsTruncated"`
}

// namedEmpty is an empty element whose name is its XMLName's value.
type namedEmpty struct {
	XMLName xml.Name
}

// CreateOpenIDConnectProviderResult is the result of
// CreateOpenIDConnectProvider.
type CreateOpenIDConnectProviderResult struct {
	OpenIDConnectProviderArn string     `xml:"OpenIDConnectProviderArn"`
	Tags                     *List[Tag] `xml:"Tags,omitempty"`
}

// GetOpenIDConnectProviderResult is the result of GetOpenIDConnectProvider.
type GetOpenIDConnectProviderResult struct {
	URL            string           `xml:"Url"`
	ClientIDList   List[string]     `xml:"ClientIDList"`
	ThumbprintList List[string]     `xml:"ThumbprintList"`
	CreateDate     awsproto.ISOTime `xml:"CreateDate"`
	Tags           List[Tag]        `xml:"Tags"`
}

// ProviderEntry is one element of ListOpenIDConnectProviders.
type ProviderEntry struct {
	Arn string `xml:"Arn"`
}

// ListOpenIDConnectProvidersResult is the result of
// ListOpenIDConnectProviders.
type ListOpenIDConnectProvidersResult struct {
	OpenIDConnectProviderList List[ProviderEntry] `xml:"OpenIDConnectProviderList"`
}

func tagsOf(ts []store.Tag) []Tag {
	out := make([]Tag, 0, len(ts))
	for _, t := range ts {
		out = append(out, Tag(t))
	}
	return out
}

func wireUser(u *store.IAMUser, withTags bool) User {
	out := User{Path: u.Path, UserName: u.UserName, UserID: u.ID, Arn: automation.UserARN(u), CreateDate: awsproto.ISOTime{Time: u.CreatedAt}}
	if withTags && len(u.Tags) > 0 {
		out.Tags = &List[Tag]{Members: tagsOf(u.Tags)}
	}
	return out
}

// userARN is the ARN a user operation is authorized on: the user's, with
// its path when it exists, else arn:aws:iam::<account>:user/<name>.
func (h *Handler) userARN(c *call, name string) string {
	if u, err := h.Automation.Store.GetIAMUser(c.ctx, c.account(), name); err == nil {
		return automation.UserARN(u)
	}
	return "arn:aws:iam::" + c.account() + ":user/" + name
}

// userName reads UserName: required unless the caller is an IAM user, whose
// own name it then defaults to (as IAM does for GetUser and the access key
// operations).
func (h *Handler) userName(c *call, optional bool) (string, error) {
	name := c.q.Get("UserName")
	if name == "" && optional {
		if n := c.selfUser(); n != "" {
			return n, nil
		}
		return "", awsproto.QueryValidationError("Must specify userName when calling with non-User credentials")
	}
	if name == "" {
		return "", missing("userName")
	}
	if len(name) > 128 {
		return "", awsproto.QueryValidationError("1 validation error detected: Value at 'userName' failed to satisfy constraint: Member must have length less than or equal to 128")
	}
	return name, nil
}

// maxItems reads MaxItems (1–1000, default 100).
func maxItems(c *call) (int, error) {
	s := c.q.Get("MaxItems")
	if s == "" {
		return defaultMaxItems, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxMaxItems {
		return 0, awsproto.QueryValidationError(fmt.Sprintf("1 validation error detected: Value '%s' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and %d", s, maxMaxItems))
	}
	return n, nil
}

// pageOf returns the page of items starting at the offset Marker holds.
func pageOf[T any](c *call, items []T) (page []T, truncated bool, next string, err error) {
	n, err := maxItems(c)
	if err != nil {
		return nil, false, "", err
	}
	start := 0
	if m := c.q.Get("Marker"); m != "" {
		if start, err = strconv.Atoi(m); err != nil || start < 0 {
			return nil, false, "", invalidInput("Invalid Marker.")
		}
	}
	start = min(start, len(items))
	end := min(start+n, len(items))
	if end < len(items) {
		return items[start:end], true, strconv.Itoa(end), nil
	}
	return items[start:end], false, "", nil
}

// tagsParam reads Tags.member.N.Key/Value.
func tagsParam(c *call) []store.Tag {
	var out []store.Tag
	for _, m := range c.q.StructList("Tags") {
		out = append(out, store.Tag{Key: m["Key"], Value: m["Value"]})
	}
	return out
}

type userParams struct {
	UserName   string      `json:"userName"`
	Path       string      `json:"path,omitempty"`
	PolicyArn  string      `json:"policyArn,omitempty"`
	PolicyName string      `json:"policyName,omitempty"`
	AccessKey  string      `json:"accessKeyId,omitempty"`
	Status     string      `json:"status,omitempty"`
	Tags       []store.Tag `json:"tags,omitempty"`
	TagKeys    []string    `json:"tagKeys,omitempty"`
}

func (h *Handler) createUser(c *call) (any, error) {
	p := userParams{UserName: c.q.Get("UserName"), Path: c.q.Get("Path"), Tags: tagsParam(c)}
	c.params = p
	if p.UserName == "" {
		return nil, missing("userName")
	}
	path := p.Path
	if path == "" {
		path = "/"
	}
	if err := h.authorize(c, "iam:CreateUser", "arn:aws:iam::"+c.account()+":user"+path+p.UserName); err != nil {
		return nil, err
	}
	u, err := h.Automation.CreateUser(c.ctx, c.account(), p.UserName, p.Path, p.Tags)
	if err != nil {
		return nil, err
	}
	return &UserResult{User: wireUser(u, true)}, nil
}

func (h *Handler) getUser(c *call) (any, error) {
	name, err := h.userName(c, true)
	if err != nil {
		return nil, err
	}
	c.params = userParams{UserName: name}
	if err := h.authorize(c, "iam:GetUser", h.userARN(c, name)); err != nil {
		return nil, err
	}
	u, err := h.Automation.GetUser(c.ctx, c.account(), name)
	if err != nil {
		return nil, err
	}
	return &UserResult{User: wireUser(u, true)}, nil
}

func (h *Handler) listUsers(c *call) (any, error) {
	prefix := c.q.Get("PathPrefix")
	c.params = map[string]string{"pathPrefix": prefix}
	if prefix == "" {
		prefix = "/"
	}
	n, err := maxItems(c)
	if err != nil {
		return nil, err
	}
	if err := h.authorize(c, "iam:ListUsers", "arn:aws:iam::"+c.account()+":user/"); err != nil {
		return nil, err
	}
	// The Marker is the lower-cased name of the last user returned.
	us, more, err := h.Automation.ListUsers(c.ctx, c.account(), prefix, c.q.Get("Marker"), n)
	if err != nil {
		return nil, err
	}
	out := &ListUsersResult{IsTruncated: more}
	out.Users.Members = []User{}
	for i := range us {
		out.Users.Members = append(out.Users.Members, wireUser(&us[i], false))
	}
	if more {
		out.Marker = strings.ToLower(us[len(us)-1].UserName)
	}
	return out, nil
}

// userOp runs the common part of an operation on the user UserName:
// read the name, record params, authorize action on the user's ARN.
func (h *Handler) userOp(c *call, action string, optional bool, p *userParams) (string, error) {
	name, err := h.userName(c, optional)
	if err != nil {
		return "", err
	}
	p.UserName = name
	c.params = p
	return name, h.authorize(c, action, h.userARN(c, name))
}

func (h *Handler) deleteUser(c *call) (any, error) {
	name, err := h.userOp(c, "iam:DeleteUser", false, &userParams{})
	if err != nil {
		return nil, err
	}
	return nil, h.Automation.DeleteUser(c.ctx, c.account(), name)
}

func (h *Handler) tagUser(c *call) (any, error) {
	p := &userParams{Tags: tagsParam(c)}
	name, err := h.userOp(c, "iam:TagUser", false, p)
	if err != nil {
		return nil, err
	}
	if len(p.Tags) == 0 {
		return nil, missing("tags")
	}
	return nil, h.Automation.TagUser(c.ctx, c.account(), name, p.Tags)
}

func (h *Handler) untagUser(c *call) (any, error) {
	p := &userParams{TagKeys: c.q.List("TagKeys")}
	name, err := h.userOp(c, "iam:UntagUser", false, p)
	if err != nil {
		return nil, err
	}
	if len(p.TagKeys) == 0 {
		return nil, missing("tagKeys")
	}
	return nil, h.Automation.UntagUser(c.ctx, c.account(), name, p.TagKeys)
}

func (h *Handler) listUserTags(c *call) (any, error) {
	name, err := h.userOp(c, "iam:ListUserTags", false, &userParams{})
	if err != nil {
		return nil, err
	}
	u, err := h.Automation.GetUser(c.ctx, c.account(), name)
	if err != nil {
		return nil, err
	}
	page, more, next, err := pageOf(c, tagsOf(u.Tags))
	if err != nil {
		return nil, err
	}
	return &ListUserTagsResult{Tags: List[Tag]{Members: page}, IsTruncated: more, Marker: next}, nil
}

func (h *Handler) attachUserPolicy(c *call) (any, error) {
	p := &userParams{PolicyArn: c.q.Get("PolicyArn")}
	name, err := h.userOp(c, "iam:AttachUserPolicy", false, p)
	if err != nil {
		return nil, err
	}
	if p.PolicyArn == "" {
		return nil, missing("policyArn")
	}
	return nil, h.Automation.AttachUserPolicy(c.ctx, c.account(), name, p.PolicyArn)
}

func (h *Handler) detachUserPolicy(c *call) (any, error) {
	p := &userParams{PolicyArn: c.q.Get("PolicyArn")}
	name, err := h.userOp(c, "iam:DetachUserPolicy", false, p)
	if err != nil {
		return nil, err
	}
	if p.PolicyArn == "" {
		return nil, missing("policyArn")
	}
	return nil, h.Automation.DetachUserPolicy(c.ctx, c.account(), name, p.PolicyArn)
}

func (h *Handler) listAttachedUserPolicies(c *call) (any, error) {
	name, err := h.userOp(c, "iam:ListAttachedUserPolicies", false, &userParams{})
	if err != nil {
		return nil, err
	}
	u, err := h.Automation.GetUser(c.ctx, c.account(), name)
	if err != nil {
		return nil, err
	}
	var all []AttachedPolicy
	for _, a := range u.ManagedPolicies {
		all = append(all, AttachedPolicy{PolicyName: automation.PolicyName(a), PolicyArn: a})
	}
	page, more, next, err := pageOf(c, all)
	if err != nil {
		return nil, err
	}
	return &ListAttachedUserPoliciesResult{AttachedPolicies: List[AttachedPolicy]{Members: page}, IsTruncated: more, Marker: next}, nil
}

func (h *Handler) putUserPolicy(c *call) (any, error) {
	p := &userParams{PolicyName: c.q.Get("PolicyName")}
	name, err := h.userOp(c, "iam:PutUserPolicy", false, p)
	if err != nil {
		return nil, err
	}
	doc := c.q.Get("PolicyDocument")
	if p.PolicyName == "" {
		return nil, missing("policyName")
	}
	if doc == "" {
		return nil, missing("policyDocument")
	}
	return nil, h.Automation.PutUserPolicy(c.ctx, c.account(), name, p.PolicyName, doc)
}

func (h *Handler) getUserPolicy(c *call) (any, error) {
	p := &userParams{PolicyName: c.q.Get("PolicyName")}
	name, err := h.userOp(c, "iam:GetUserPolicy", false, p)
	if err != nil {
		return nil, err
	}
	if p.PolicyName == "" {
		return nil, missing("policyName")
	}
	u, doc, err := h.Automation.GetUserPolicy(c.ctx, c.account(), name, p.PolicyName)
	if err != nil {
		return nil, err
	}
	return &GetUserPolicyResult{UserName: u.UserName, PolicyName: p.PolicyName, PolicyDocument: url.QueryEscape(doc)}, nil
}

func (h *Handler) deleteUserPolicy(c *call) (any, error) {
	p := &userParams{PolicyName: c.q.Get("PolicyName")}
	name, err := h.userOp(c, "iam:DeleteUserPolicy", false, p)
	if err != nil {
		return nil, err
	}
	if p.PolicyName == "" {
		return nil, missing("policyName")
	}
	return nil, h.Automation.DeleteUserPolicy(c.ctx, c.account(), name, p.PolicyName)
}

func (h *Handler) listUserPolicies(c *call) (any, error) {
	name, err := h.userOp(c, "iam:ListUserPolicies", false, &userParams{})
	if err != nil {
		return nil, err
	}
	u, err := h.Automation.GetUser(c.ctx, c.account(), name)
	if err != nil {
		return nil, err
	}
	names := []string{}
	for _, ip := range u.InlinePolicies {
		names = append(names, ip.Name)
	}
	page, more, next, err := pageOf(c, names)
	if err != nil {
		return nil, err
	}
	return &ListUserPoliciesResult{PolicyNames: List[string]{Members: page}, IsTruncated: more, Marker: next}, nil
}

func (h *Handler) createAccessKey(c *call) (any, error) {
	name, err := h.userOp(c, "iam:CreateAccessKey", true, &userParams{})
	if err != nil {
		return nil, err
	}
	k, err := h.Automation.CreateAccessKey(c.ctx, c.account(), name)
	if err != nil {
		return nil, err
	}
	return &CreateAccessKeyResult{AccessKey: AccessKey{UserName: k.User.UserName, AccessKeyID: k.Key.ID, Status: k.Key.Status,
		SecretAccessKey: string(k.Secret), CreateDate: awsproto.ISOTime{Time: k.Key.CreatedAt}}}, nil
}

func (h *Handler) listAccessKeys(c *call) (any, error) {
	name, err := h.userOp(c, "iam:ListAccessKeys", true, &userParams{})
	if err != nil {
		return nil, err
	}
	u, ks, err := h.Automation.ListAccessKeys(c.ctx, c.account(), name)
	if err != nil {
		return nil, err
	}
	out := &ListAccessKeysResult{}
	out.AccessKeyMetadata.Members = []AccessKeyMetadata{}
	for _, k := range ks {
		out.AccessKeyMetadata.Members = append(out.AccessKeyMetadata.Members, AccessKeyMetadata{
			UserName: u.UserName, AccessKeyID: k.ID, Status: k.Status, CreateDate: awsproto.ISOTime{Time: k.CreatedAt}})
	}
	return out, nil
}

func (h *Handler) updateAccessKey(c *call) (any, error) {
	p := &userParams{AccessKey: c.q.Get("AccessKeyId"), Status: c.q.Get("Status")}
	name, err := h.userOp(c, "iam:UpdateAccessKey", true, p)
	if err != nil {
		return nil, err
	}
	if p.AccessKey == "" {
		return nil, missing("accessKeyId")
	}
	if p.Status == "" {
		return nil, missing("status")
	}
	return nil, h.Automation.UpdateAccessKey(c.ctx, c.account(), name, p.AccessKey, p.Status)
}

func (h *Handler) deleteAccessKey(c *call) (any, error) {
	p := &userParams{AccessKey: c.q.Get("AccessKeyId")}
	name, err := h.userOp(c, "iam:DeleteAccessKey", true, p)
	if err != nil {
		return nil, err
	}
	if p.AccessKey == "" {
		return nil, missing("accessKeyId")
	}
	return nil, h.Automation.DeleteAccessKey(c.ctx, c.account(), name, p.AccessKey)
}

func (h *Handler) getAccessKeyLastUsed(c *call) (any, error) {
	id := c.q.Get("AccessKeyId")
	c.params = userParams{AccessKey: id}
	if id == "" {
		return nil, missing("accessKeyId")
	}
	k, u, err := h.Automation.LastUsed(c.ctx, c.account(), id)
	resource := "arn:aws:iam::" + c.account() + ":user/*"
	if err == nil {
		resource = automation.UserARN(u)
	}
	if aerr := h.authorize(c, "iam:GetAccessKeyLastUsed", resource); aerr != nil {
		return nil, aerr
	}
	if err != nil {
		return nil, err
	}
	out := &GetAccessKeyLastUsedResult{UserName: u.UserName, AccessKeyLastUsed: AccessKeyLastUsed{ServiceName: "N/A", Region: "N/A"}}
	if !k.LastUsedAt.IsZero() {
		out.AccessKeyLastUsed = AccessKeyLastUsed{LastUsedDate: &awsproto.ISOTime{Time: k.LastUsedAt},
			ServiceName: k.LastUsedService, Region: k.LastUsedRegion}
	}
	return out, nil
}

// credentialList answers the list operations of credentials Gatehouse
// users do not have, for a user that exists: an empty list named
// element, which Terraform's force_destroy and the CLI read as "none".
func credentialList(action, element string) operation {
	return func(h *Handler, c *call) (any, error) {
		name, err := h.userOp(c, "iam:"+action, false, &userParams{})
		if err != nil {
			return nil, err
		}
		if _, err := h.Automation.GetUser(c.ctx, c.account(), name); err != nil {
			return nil, err
		}
		return &credentialListResult{List: namedEmpty{XMLName: xml.Name{Local: element}}}, nil
	}
}

// listVirtualMFADevices answers ListVirtualMFADevices for the caller's
// account: Gatehouse keeps no IAM virtual MFA devices (people's
// authenticators belong to the identity store), so the list is empty.
// Terraform's aws_iam_user force_destroy reads it.
func (h *Handler) listVirtualMFADevices(c *call) (any, error) {
	c.params = map[string]string{"assignmentStatus": c.q.Get("AssignmentStatus")}
	if err := h.authorize(c, "iam:ListVirtualMFADevices", "arn:aws:iam::"+c.account()+":mfa/"); err != nil {
		return nil, err
	}
	return &credentialListResult{List: namedEmpty{XMLName: xml.Name{Local: "VirtualMFADevices"}}}, nil
}

// loginProfile answers GetLoginProfile and DeleteLoginProfile: automation
// users never have a console password.
func loginProfile(action string) operation {
	return func(h *Handler, c *call) (any, error) {
		name, err := h.userOp(c, "iam:"+action, true, &userParams{})
		if err != nil {
			return nil, err
		}
		if _, err := h.Automation.GetUser(c.ctx, c.account(), name); err != nil {
			return nil, err
		}
		return nil, noSuchEntity(fmt.Sprintf("Login Profile for User %s cannot be found.", name))
	}
}

func providerResource(c *call, providerARN string) string {
	if providerARN == "" {
		return "arn:aws:iam::" + c.account() + ":oidc-provider/*"
	}
	return providerARN
}

func (h *Handler) createOpenIDConnectProvider(c *call) (any, error) {
	params := map[string]any{"url": c.q.Get("Url"), "clientIDList": c.q.List("ClientIDList"),
		"thumbprintList": c.q.List("ThumbprintList"), "tags": tagsParam(c)}
	c.params = params
	u := c.q.Get("Url")
	if u == "" {
		return nil, missing("url")
	}
	if err := h.authorize(c, "iam:CreateOpenIDConnectProvider", automation.ProviderARN(c.account(), u)); err != nil {
		return nil, err
	}
	p, err := h.Automation.CreateOIDCProvider(c.ctx, c.account(), u, c.q.List("ClientIDList"), c.q.List("ThumbprintList"), tagsParam(c))
	if err != nil {
		return nil, err
	}
	out := &CreateOpenIDConnectProviderResult{OpenIDConnectProviderArn: p.ARN}
	if len(p.Tags) > 0 {
		out.Tags = &List[Tag]{Members: tagsOf(p.Tags)}
	}
	return out, nil
}

func (h *Handler) getOpenIDConnectProvider(c *call) (any, error) {
	a := c.q.Get("OpenIDConnectProviderArn")
	c.params = map[string]string{"openIDConnectProviderArn": a}
	if a == "" {
		return nil, missing("openIDConnectProviderArn")
	}
	if err := h.authorize(c, "iam:GetOpenIDConnectProvider", a); err != nil {
		return nil, err
	}
	p, err := h.Automation.GetOIDCProvider(c.ctx, c.account(), a)
	if err != nil {
		return nil, err
	}
	return &GetOpenIDConnectProviderResult{URL: strings.TrimPrefix(p.URL, "https://"), ClientIDList: List[string]{Members: p.ClientIDs},
		ThumbprintList: List[string]{Members: p.Thumbprints}, CreateDate: awsproto.ISOTime{Time: p.CreatedAt},
		Tags: List[Tag]{Members: tagsOf(p.Tags)}}, nil
}

func (h *Handler) deleteOpenIDConnectProvider(c *call) (any, error) {
	a := c.q.Get("OpenIDConnectProviderArn")
	c.params = map[string]string{"openIDConnectProviderArn": a}
	if a == "" {
		return nil, missing("openIDConnectProviderArn")
	}
	if err := h.authorize(c, "iam:DeleteOpenIDConnectProvider", a); err != nil {
		return nil, err
	}
	return nil, h.Automation.DeleteOIDCProvider(c.ctx, c.account(), a)
}

func (h *Handler) listOpenIDConnectProviders(c *call) (any, error) {
	if err := h.authorize(c, "iam:ListOpenIDConnectProviders", providerResource(c, "")); err != nil {
		return nil, err
	}
	ps, err := h.Automation.ListOIDCProviders(c.ctx, c.account())
	if err != nil {
		return nil, err
	}
	out := &ListOpenIDConnectProvidersResult{}
	out.OpenIDConnectProviderList.Members = []ProviderEntry{}
	for _, p := range ps {
		out.OpenIDConnectProviderList.Members = append(out.OpenIDConnectProviderList.Members, ProviderEntry{Arn: p.ARN})
	}
	return out, nil
}

// writeOps are the operations that change something; the others are
// audited as read-only.
var writeOps = []string{"CreateUser", "DeleteUser", "TagUser", "UntagUser", "AttachUserPolicy", "DetachUserPolicy",
	"PutUserPolicy", "DeleteUserPolicy", "CreateAccessKey", "UpdateAccessKey", "DeleteAccessKey", "DeleteLoginProfile",
	"CreateOpenIDConnectProvider", "DeleteOpenIDConnectProvider"}

func readOnly(action string) bool {
	return !slices.Contains(writeOps, action) && !slices.Contains(policyWriteOps, action)
}
