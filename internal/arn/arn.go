package arn

import (
	"fmt"
	"regexp"
	"strings"
)

var (
	accountRe       = regexp.MustCompile(`^\d{12}$`)
	instanceARNRe   = regexp.MustCompile(`^arn:aws(-[a-z]{1,5}){0,3}:sso:::instance/((sso)?ins-[a-zA-Z0-9-.]{16})$`)
	psARNRe         = regexp.MustCompile(`^arn:aws(-[a-z]{1,5}){0,3}:sso:::permissionSet/((sso)?ins-[a-zA-Z0-9-.]{16})/(ps-[a-zA-Z0-9-./]{16})$`)
	principalIDRe   = regexp.MustCompile(`^([0-9a-f]{10}-|)[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}$`)
	identityStoreRe = regexp.MustCompile(`^(d-[0-9a-f]{10}|[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12})$`)
	uuidRe          = regexp.MustCompile(`^[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}$`)
)

// ValidAccountID reports whether s is a 12-digit AWS account ID.
func ValidAccountID(s string) bool { return accountRe.MatchString(s) }

// ValidPrincipalID reports whether s has the form of an identity-store user,
// group or membership ID.
func ValidPrincipalID(s string) bool { return len(s) <= 47 && principalIDRe.MatchString(s) }

// ValidIdentityStoreID reports whether s has the form of an identity-store ID.
func ValidIdentityStoreID(s string) bool { return identityStoreRe.MatchString(s) }

// ValidRequestID reports whether s is a lower-case UUID.
func ValidRequestID(s string) bool { return uuidRe.MatchString(s) }

// InstanceARN formats an instance ARN.
func InstanceARN(instanceID string) string { return "arn:aws:sso:::instance/" + instanceID }

// ParseInstanceARN returns the instance ID of an instance ARN.
func ParseInstanceARN(s string) (instanceID string, err error) {
	if id, ok := strings.CutPrefix(s, "arn:aws:sso:::instance/"); ok && isInstanceID(id) {
		return id, nil
	}
	m := instanceARNRe.FindStringSubmatch(s)
	if m == nil {
		return "", fmt.Errorf("%q is not an instance ARN", s)
	}
	return m[2], nil
}

// isInstanceID reports whether s matches (sso)?ins-[a-zA-Z0-9-.]{16}.
func isInstanceID(s string) bool {
	s = strings.TrimPrefix(s, "sso")
	rest, ok := strings.CutPrefix(s, "ins-")
	return ok && len(rest) == 16 && allIn(rest, false)
}

// isPermissionSetID reports whether s matches ps-[a-zA-Z0-9-./]{16}.
func isPermissionSetID(s string) bool {
	rest, ok := strings.CutPrefix(s, "ps-")
	return ok && len(rest) == 16 && allIn(rest, true)
}

// allIn reports whether every byte of s is in [a-zA-Z0-9-.], or also '/'
// when slash is set.
func allIn(s string, slash bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '.':
		case c == '/' && slash:
		default:
			return false
		}
	}
	return true
}

// PermissionSetARN formats a permission-set ARN.
func PermissionSetARN(instanceID, permissionSetID string) string {
	return "arn:aws:sso:::permissionSet/" + instanceID + "/" + permissionSetID
}

// ParsePermissionSetARN returns the instance and permission-set IDs of a
// permission-set ARN.
func ParsePermissionSetARN(s string) (instanceID, permissionSetID string, err error) {
	// The aws partition's ARNs, which every call names, are checked
	// without the regular expression (a few hundred nanoseconds a call
	// on the admin APIs' hot path); psARNRe decides the rest.
	if rest, ok := strings.CutPrefix(s, "arn:aws:sso:::permissionSet/"); ok {
		if ins, ps, ok := strings.Cut(rest, "/"); ok && isInstanceID(ins) && isPermissionSetID(ps) {
			return ins, ps, nil
		}
	}
	m := psARNRe.FindStringSubmatch(s)
	if m == nil {
		return "", "", fmt.Errorf("%q is not a permission set ARN", s)
	}
	return m[2], m[4], nil
}

// IdentityStoreARN formats an identity-store ARN.
func IdentityStoreARN(accountID, identityStoreID string) string {
	return "arn:aws:identitystore::" + accountID + ":identitystore/" + identityStoreID
}

// AccountResourceARN is the IAM policy resource naming an account in
// sso-admin actions.
func AccountResourceARN(accountID string) string { return "arn:aws:sso:::account/" + accountID }

// RoleName formats the name of the role a permission set is provisioned as.
func RoleName(permissionSetName, suffix string) string {
	return "AWSReservedSSO_" + permissionSetName + "_" + suffix
}

// RolePath is the IAM path of provisioned roles: the region appears in it
// unless the instance's home region is us-east-1.
func RolePath(homeRegion string) string {
	if homeRegion == "" || homeRegion == "us-east-1" {
		return "/aws-reserved/sso.amazonaws.com/"
	}
	return "/aws-reserved/sso.amazonaws.com/" + homeRegion + "/"
}

// RoleARN formats a provisioned role's ARN, path included.
func RoleARN(accountID, homeRegion, roleName string) string {
	return "arn:aws:iam::" + accountID + ":role" + RolePath(homeRegion) + roleName
}

// AssumedRoleARN formats the caller ARN of a role session, which carries no
// role path.
func AssumedRoleARN(accountID, roleName, sessionName string) string {
	return "arn:aws:sts::" + accountID + ":assumed-role/" + roleName + "/" + sessionName
}

// SessionName maps an identity-store user name onto an STS role session
// name: 2–64 characters of [\w+=,.@-]. Other characters become '-', longer
// names are cut to 64 and a one-character name is padded with '-'
// (identifiers.md §10).
func SessionName(userName string) string {
	var b strings.Builder
	for _, r := range userName {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9',
			strings.ContainsRune("_+=,.@-", r):
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
		if b.Len() == 64 {
			break
		}
	}
	s := b.String()
	for len(s) < 2 {
		s += "-"
	}
	return s
}

// IdentityStoreUserARN is the IAM policy resource naming an identity-store
// user (Service Authorization Reference for AWS Identity Store, resource
// type User: arn:${Partition}:identitystore:::user/${UserId}).
func IdentityStoreUserARN(userID string) string { return "arn:aws:identitystore:::user/" + userID }

// IdentityStoreGroupARN is the IAM policy resource naming an
// identity-store group (resource type Group:
// arn:${Partition}:identitystore:::group/${GroupId}).
func IdentityStoreGroupARN(groupID string) string { return "arn:aws:identitystore:::group/" + groupID }

// IdentityStoreMembershipARN is the IAM policy resource naming a group
// membership (resource type GroupMembership:
// arn:${Partition}:identitystore:::membership/${MembershipId}).
func IdentityStoreMembershipARN(membershipID string) string {
	return "arn:aws:identitystore:::membership/" + membershipID
}
