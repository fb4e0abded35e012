package audit

import (
	"encoding/json"
	"strings"

	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// CloudTrail resource types of the events Gatehouse records, as
// LookupEvents lists them in Resources and filters on with
// AttributeKey=ResourceType (AWS CloudTrail User Guide, "CloudTrail
// supported resource types for AWS Config": AWS::SSO::*, AWS::IAM::*,
// AWS::Organizations::*, AWS::IdentityStore::*).
const (
	ResourceSSOInstance      = "AWS::SSO::Instance"
	ResourcePermissionSet    = "AWS::SSO::PermissionSet"
	ResourceAccount          = "AWS::Organizations::Account"
	ResourceUser             = "AWS::IdentityStore::User"
	ResourceGroup            = "AWS::IdentityStore::Group"
	ResourceGroupMembership  = "AWS::IdentityStore::GroupMembership"
	ResourceIAMUser          = "AWS::IAM::User"
	ResourceIAMAccessKey     = "AWS::IAM::AccessKey"
	ResourceIAMPolicy        = "AWS::IAM::Policy"
	ResourceIAMRole          = "AWS::IAM::Role"
	ResourceOIDCProvider     = "AWS::IAM::OIDCProvider"
	ResourceOrganizationRoot = "AWS::Organizations::Root"
)

// ResourceOfARN returns the CloudTrail resource an ARN names, as an event
// lists it: SSO instances and permission sets, IAM policies and roles by
// ARN, accounts by their 12-digit ID, IAM users by user name (as CloudTrail
// shows them). ok is false for "*" and ARNs of no listed type.
func ResourceOfARN(a string) (r store.EventResource, ok bool) {
	parts := strings.SplitN(a, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return r, false
	}
	service, res := parts[2], parts[5]
	kind, rest, _ := strings.Cut(res, "/")
	switch {
	case service == "sso" && kind == "instance":
		return store.EventResource{Type: ResourceSSOInstance, Name: a}, true
	case service == "sso" && kind == "permissionSet":
		return store.EventResource{Type: ResourcePermissionSet, Name: a}, true
	case service == "sso" && kind == "account" && rest != "":
		return store.EventResource{Type: ResourceAccount, Name: rest}, true
	case service == "organizations" && kind == "account" && rest != "":
		return store.EventResource{Type: ResourceAccount, Name: rest[strings.LastIndexByte(rest, '/')+1:]}, true
	case service == "organizations" && kind == "root":
		return store.EventResource{Type: ResourceOrganizationRoot, Name: rest[strings.LastIndexByte(rest, '/')+1:]}, true
	case service == "iam" && kind == "user" && rest != "" && !strings.HasSuffix(rest, "*"):
		return store.EventResource{Type: ResourceIAMUser, Name: rest[strings.LastIndexByte(rest, '/')+1:]}, true
	case service == "iam" && kind == "policy" && rest != "":
		return store.EventResource{Type: ResourceIAMPolicy, Name: a}, true
	case service == "iam" && kind == "role" && rest != "" && !strings.HasSuffix(rest, "*"):
		return store.EventResource{Type: ResourceIAMRole, Name: a}, true
	case service == "iam" && kind == "oidc-provider" && rest != "":
		return store.EventResource{Type: ResourceOIDCProvider, Name: a}, true
	}
	return r, false
}

// ResourcesOfARNs returns the resources of ResourceOfARN for each ARN
// that names one.
func ResourcesOfARNs(arns []string) []store.EventResource {
	var out []store.EventResource
	for _, a := range arns {
		if r, ok := ResourceOfARN(a); ok {
			out = addResource(out, r)
		}
	}
	return out
}

// paramResources derives the resources of an event from the members of
// its request parameters and response elements (JSON objects with
// lowerCamelCase member names, as CloudTrail records them): instanceArn,
// permissionSetArn, targetId (an account), accountId, principalId (a user
// or group by principalType), userId, groupId, membershipId, resourceArn,
// policyArn, and for IAM events userName and accessKeyId. It is how events
// whose Entry lists no Resources still answer LookupEvents with
// AttributeKey=ResourceName. It adds them to out, once each, and returns
// the result.
func paramResources(out []store.EventResource, source string, docs ...json.RawMessage) []store.EventResource {
	for _, d := range docs {
		if len(d) == 0 || d[0] != '{' {
			continue
		}
		// One decode into the members that name resources; a member of
		// another type is left empty (Unmarshal goes on past it).
		var m paramMembers
		_ = json.Unmarshal(d, &m)
		add := func(typ, name string) {
			if name != "" {
				out = addResource(out, store.EventResource{Type: typ, Name: name})
			}
		}
		for _, a := range [...]string{m.InstanceArn, m.PermissionSetArn, m.ResourceArn, m.PolicyArn, m.OpenIDConnectProviderArn} {
			if r, ok := ResourceOfARN(a); ok {
				out = addResource(out, r)
			}
		}
		if m.TargetType == "" || m.TargetType == "AWS_ACCOUNT" {
			add(ResourceAccount, m.TargetId)
		}
		add(ResourceAccount, m.AccountId)
		switch m.PrincipalType {
		case store.PrincipalUser:
			add(ResourceUser, m.PrincipalId)
		case store.PrincipalGroup:
			add(ResourceGroup, m.PrincipalId)
		}
		if source == SourceIAM {
			add(ResourceIAMUser, m.UserName)
			add(ResourceIAMAccessKey, m.AccessKeyId)
			if m.AccessKey != nil { // CreateAccessKey's response
				add(ResourceIAMAccessKey, m.AccessKey.AccessKeyId)
				add(ResourceIAMUser, m.AccessKey.UserName)
			}
			continue
		}
		add(ResourceUser, m.UserId)
		add(ResourceGroup, m.GroupId)
		add(ResourceGroupMembership, m.MembershipId)
	}
	return out
}

// paramMembers are the members of request parameters and response
// elements that name resources.
type paramMembers struct {
	InstanceArn, PermissionSetArn, ResourceArn, PolicyArn, OpenIDConnectProviderArn string
	TargetType, TargetId, AccountId, PrincipalType, PrincipalId                     string
	UserName, AccessKeyId, UserId, GroupId, MembershipId                            string
	AccessKey                                                                       *struct{ AccessKeyId, UserName string }
}

// addResource appends r to rs unless it is there already.
func addResource(rs []store.EventResource, r store.EventResource) []store.EventResource {
	for _, x := range rs {
		if x == r {
			return rs
		}
	}
	return append(rs, r)
}
