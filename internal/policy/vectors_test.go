package policy_test

import (
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/policy"
)

const (
	psARN  = "arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-0f1e2d3c4b5a6978"
	insARN = "arn:aws:sso:::instance/ssoins-7223a1b2c3d4e5f6"
)

const (
	allowAll = `{"Effect":"Allow","Action":"*","Resource":"*"}`
)

type vector struct {
	name      string
	identity  []string
	boundary  []string
	session   []string
	action    string
	resources []string
	ctx       []kv
	want      policy.Decision
}

// TestVectors runs every test vector of spec/iam-policy.md §6, one case per
// sub-request, through both Decide and Evaluate.
func TestVectors(t *testing.T) {
	v1 := []string{doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}`)}
	v3 := []string{doc(allowAll, `{"Effect":"Deny","Action":"sso:Delete*","Resource":"*"}`)}
	v4 := []string{doc(`{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}`)}
	v5 := []string{doc(allowAll, `{"Effect":"Deny","Action":"sso:*","NotResource":"arn:aws:sso:::permissionSet/*"}`)}
	v6 := []string{doc(`{"Effect":"Allow","Action":"sso:*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"red"}}}`)}
	v6i := []string{doc(`{"Effect":"Allow","Action":"sso:*","Resource":"*","Condition":{"StringEqualsIgnoreCase":{"aws:PrincipalTag/team":"red"}}}`)}
	v7 := []string{`{"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Action":"*","Resource":"*"},
  {"Effect":"Deny","Action":"*","Resource":"*",
   "Condition":{"StringNotEquals":{"aws:PrincipalTag/team":"red"}}}]}`}
	v8 := []string{doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqualsIfExists":{"aws:PrincipalTag/team":"red"}}}`)}
	v8deny := []string{doc(allowAll, `{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringEqualsIfExists":{"aws:PrincipalTag/team":"red"}}}`)}
	v9 := []string{doc(allowAll, `{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"false"}}}`)}
	v9ie := []string{doc(allowAll, `{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}`)}
	v10 := []string{doc(allowAll, `{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Null":{"aws:PrincipalTag/team":"true"}}}`)}
	v11 := []string{doc(`{"Effect":"Allow","Action":"sso:TagResource","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["env","team"]}}}`)}
	v12 := []string{doc(`{"Effect":"Allow","Action":"sso:TagResource","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"aws:TagKeys":["env"]}}}`)}
	v13 := []string{doc(`{"Effect":"Allow","Action":"sso:TagResource","Resource":"*","Condition":{"ForAllValues:StringNotEquals":{"aws:TagKeys":["secret"]}}}`)}
	v14 := []string{doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}`)}
	v15 := []string{doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":["us-east-1","eu-west-1"],"aws:PrincipalTag/team":"red"}}}`)}
	v16 := []string{doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}}`)}
	v17 := []string{doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericLessThan":{"aws:MultiFactorAuthAge":"3600"}}}`)}
	v18 := []string{doc(`{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::home/${aws:username}/*"}`)}
	v19 := []string{`{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::home/${aws:username}/*"}]}`}
	v20 := []string{doc(`{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::home/${aws:username, 'shared'}/*"}`)}
	v21eq := []string{doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"*"}}}`)}
	v21like := []string{doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringLike":{"aws:PrincipalTag/team":"*"}}}`)}
	v22 := []string{doc(`{"Effect":"Allow","Action":"sso:Describe*","Resource":"*"}`)}
	v23 := []string{doc(`{"Effect":"Allow","Action":"iam:GetRole","Resource":"arn:aws:iam::*"}`)}
	v24 := []string{doc(`{"Effect":"Allow","Action":"iam:GetRole","Resource":"arn:aws:iam::*:role/?"}`)}
	v25 := []string{doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_*"}}}`)}
	v25fix := []string{doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_Admin_*"}}}`)}
	ssoAll := doc(`{"Effect":"Allow","Action":"sso:*","Resource":"*"}`)
	v26b := []string{doc(`{"Effect":"Allow","Action":["sso:Describe*","sso:List*"],"Resource":"*"}`)}
	v27s := []string{doc(`{"Effect":"Allow","Action":"sso:List*","Resource":"*"}`)}
	v28i := []string{doc(`{"Effect":"Allow","Action":"sso:List*","Resource":"*"}`)}
	v28b := []string{doc(allowAll)}
	v29 := []string{doc(`{"Effect":"Deny","Action":"*","Resource":"*"}`)}
	v30 := []string{doc(`{"Effect":"Allow","Action":"sso:CreateAccountAssignment","Resource":["` + insARN + `","arn:aws:sso:::permissionSet/*"]}`)}
	v30fix := []string{doc(`{"Effect":"Allow","Action":"sso:CreateAccountAssignment","Resource":["` + insARN + `","arn:aws:sso:::permissionSet/*","arn:aws:sso:::account/*"]}`)}
	v31 := []string{doc(`{"Effect":"Allow","Action":"sso:*","Resource":"`+insARN+`"}`, `{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}`)}
	v32 := []string{doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${aws:PrincipalTag/dept}/*"}`)}
	caaRes := []string{insARN, psARN, "arn:aws:sso:::account/444455556666"}
	user := k("aws:username", "alice")
	roleSession := k("aws:userid", "AROAEXAMPLE:alice")

	tests := []vector{
		{name: "01 action case-insensitive", identity: v1, action: "S3:getobject", resources: []string{"arn:aws:s3:::b/k"}, want: policy.Allow},
		{name: "02 resource case-sensitive", identity: v1, action: "s3:GetObject", resources: []string{"arn:aws:s3:::B/k"}, want: policy.ImplicitDeny},
		{name: "03 deny wins", identity: v3, action: "sso:DeletePermissionSet", resources: []string{psARN}, want: policy.ExplicitDeny},
		{name: "04a NotAction excludes", identity: v4, action: "iam:CreateUser", resources: []string{"*"}, want: policy.ImplicitDeny},
		{name: "04b NotAction allows others", identity: v4, action: "sso:ListInstances", resources: []string{"*"}, want: policy.Allow},
		{name: "05a NotResource spares listed", identity: v5, action: "sso:DescribePermissionSet", resources: []string{psARN}, want: policy.Allow},
		{name: "05b NotResource denies others", identity: v5, action: "sso:DescribeInstance", resources: []string{insARN}, want: policy.ExplicitDeny},
		{name: "06a StringEquals case-sensitive", identity: v6, action: "sso:ListInstances", ctx: []kv{k("aws:PrincipalTag/team", "Red")}, want: policy.ImplicitDeny},
		{name: "06b StringEqualsIgnoreCase", identity: v6i, action: "sso:ListInstances", ctx: []kv{k("aws:PrincipalTag/team", "Red")}, want: policy.Allow},
		{name: "07 negated operator missing key", identity: v7, action: "sso:ListInstances", want: policy.ExplicitDeny},
		{name: "07b negated operator key matches", identity: v7, action: "sso:ListInstances", ctx: []kv{k("aws:principaltag/TEAM", "red")}, want: policy.Allow},
		{name: "08a IfExists absent", identity: v8, action: "sso:ListInstances", want: policy.Allow},
		{name: "08b IfExists present mismatch", identity: v8, action: "sso:ListInstances", ctx: []kv{k("aws:PrincipalTag/team", "blue")}, want: policy.ImplicitDeny},
		{name: "08c IfExists absent in Deny fires", identity: v8deny, action: "sso:ListInstances", want: policy.ExplicitDeny},
		{name: "09a Bool missing key", identity: v9, action: "sso:ListInstances", want: policy.Allow},
		{name: "09b BoolIfExists missing key", identity: v9ie, action: "sso:ListInstances", want: policy.ExplicitDeny},
		{name: "10a Null absent", identity: v10, action: "sso:ListInstances", want: policy.ExplicitDeny},
		{name: "10b Null present", identity: v10, action: "sso:ListInstances", ctx: []kv{k("aws:PrincipalTag/team", "x")}, want: policy.Allow},
		{name: "11a ForAllValues absent", identity: v11, action: "sso:TagResource", want: policy.Allow},
		{name: "11b ForAllValues extra key", identity: v11, action: "sso:TagResource", ctx: []kv{k("aws:TagKeys", "env", "owner")}, want: policy.ImplicitDeny},
		{name: "11c ForAllValues subset", identity: v11, action: "sso:TagResource", ctx: []kv{k("aws:TagKeys", "env")}, want: policy.Allow},
		{name: "12 ForAnyValue absent", identity: v12, action: "sso:TagResource", want: policy.ImplicitDeny},
		{name: "13a ForAllValues StringNotEquals ok", identity: v13, action: "sso:TagResource", ctx: []kv{k("aws:TagKeys", "env")}, want: policy.Allow},
		{name: "13b ForAllValues StringNotEquals hit", identity: v13, action: "sso:TagResource", ctx: []kv{k("aws:TagKeys", "env", "secret")}, want: policy.ImplicitDeny},
		{name: "14a CIDR match", identity: v14, action: "sso:ListInstances", ctx: []kv{k("aws:SourceIp", "10.20.30.40")}, want: policy.Allow},
		{name: "14b CIDR miss", identity: v14, action: "sso:ListInstances", ctx: []kv{k("aws:SourceIp", "192.0.2.1")}, want: policy.ImplicitDeny},
		{name: "14c v4 range v6 address", identity: v14, action: "sso:ListInstances", ctx: []kv{k("aws:SourceIp", "2001:db8::1")}, want: policy.ImplicitDeny},
		{name: "15a values OR keys AND", identity: v15, action: "sso:ListInstances", ctx: []kv{k("aws:RequestedRegion", "eu-west-1"), k("aws:PrincipalTag/team", "red")}, want: policy.Allow},
		{name: "15b one key fails", identity: v15, action: "sso:ListInstances", ctx: []kv{k("aws:RequestedRegion", "us-west-2"), k("aws:PrincipalTag/team", "red")}, want: policy.ImplicitDeny},
		{name: "16a DateLessThan before", identity: v16, action: "sso:ListInstances", ctx: []kv{k("aws:CurrentTime", "2029-12-31T23:59:59Z")}, want: policy.Allow},
		{name: "16b DateLessThan equal is not less", identity: v16, action: "sso:ListInstances", ctx: []kv{k("aws:CurrentTime", "2030-01-01T00:00:00Z")}, want: policy.ImplicitDeny},
		{name: "17a NumericLessThan", identity: v17, action: "sso:ListInstances", ctx: []kv{k("aws:MultiFactorAuthAge", "120")}, want: policy.Allow},
		{name: "17b NumericLessThan missing", identity: v17, action: "sso:ListInstances", want: policy.ImplicitDeny},
		{name: "18a variable IAM user", identity: v18, action: "s3:GetObject", resources: []string{"arn:aws:s3:::home/alice/x"}, ctx: []kv{user}, want: policy.Allow},
		{name: "18b variable role session skipped", identity: v18, action: "s3:GetObject", resources: []string{"arn:aws:s3:::home/alice/x"}, ctx: []kv{roleSession}, want: policy.ImplicitDeny},
		{name: "19a 2008 no variables", identity: v19, action: "s3:GetObject", resources: []string{"arn:aws:s3:::home/alice/x"}, ctx: []kv{user}, want: policy.ImplicitDeny},
		{name: "19b 2008 literal text", identity: v19, action: "s3:GetObject", resources: []string{"arn:aws:s3:::home/${aws:username}/x"}, ctx: []kv{user}, want: policy.Allow},
		{name: "20 variable default", identity: v20, action: "s3:GetObject", resources: []string{"arn:aws:s3:::home/shared/x"}, ctx: []kv{roleSession}, want: policy.Allow},
		{name: "21a StringEquals star literal", identity: v21eq, action: "sso:ListInstances", ctx: []kv{k("aws:PrincipalTag/team", "red")}, want: policy.ImplicitDeny},
		{name: "21b StringLike star", identity: v21like, action: "sso:ListInstances", ctx: []kv{k("aws:PrincipalTag/team", "red")}, want: policy.Allow},
		{name: "22a action glob case-insensitive", identity: v22, action: "sso:describeinstance", want: policy.Allow},
		{name: "22b action glob miss", identity: v22, action: "sso:ListInstances", want: policy.ImplicitDeny},
		{name: "23 trailing star crosses colons", identity: v23, action: "iam:GetRole", resources: []string{"arn:aws:iam::111122223333:role/x"}, want: policy.Allow},
		{name: "24 question mark one char", identity: v24, action: "iam:GetRole", resources: []string{"arn:aws:iam::111122223333:role/ab"}, want: policy.ImplicitDeny},
		{name: "25a ArnLike region path segment", identity: v25, action: "sso:ListInstances", ctx: []kv{k("aws:PrincipalArn", "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_0123456789abcdef")}, want: policy.ImplicitDeny},
		{name: "25b ArnLike with star path", identity: v25fix, action: "sso:ListInstances", ctx: []kv{k("aws:PrincipalArn", "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_0123456789abcdef")}, want: policy.Allow},
		{name: "26a boundary intersects deny", identity: []string{ssoAll}, boundary: v26b, action: "sso:CreatePermissionSet", want: policy.ImplicitDeny},
		{name: "26b boundary intersects allow", identity: []string{ssoAll}, boundary: v26b, action: "sso:ListInstances", want: policy.Allow},
		{name: "27 session policy intersects", identity: []string{ssoAll}, session: v27s, action: "sso:CreatePermissionSet", want: policy.ImplicitDeny},
		{name: "28 boundary never grants", identity: v28i, boundary: v28b, action: "sso:CreatePermissionSet", want: policy.ImplicitDeny},
		{name: "29 GetCallerIdentity always allowed", identity: v29, action: "sts:GetCallerIdentity", want: policy.Allow},
		{name: "30a multi-resource needs all", identity: v30, action: "sso:CreateAccountAssignment", resources: caaRes, want: policy.ImplicitDeny},
		{name: "30b multi-resource all allowed", identity: v30fix, action: "sso:CreateAccountAssignment", resources: caaRes, want: policy.Allow},
		{name: "31 deny over plain HTTP", identity: v31, action: "sso:DescribeInstance", resources: []string{insARN}, ctx: []kv{k("aws:SecureTransport", "false")}, want: policy.ExplicitDeny},
		{name: "31b allowed over TLS", identity: v31, action: "sso:DescribeInstance", resources: []string{insARN}, ctx: []kv{k("aws:SecureTransport", "true")}, want: policy.Allow},
		{name: "32a substituted text not a glob", identity: v32, action: "s3:GetObject", resources: []string{"arn:aws:s3:::b/abc/x"}, ctx: []kv{k("aws:PrincipalTag/dept", "a*")}, want: policy.ImplicitDeny},
		{name: "32b substituted text literal", identity: v32, action: "s3:GetObject", resources: []string{"arn:aws:s3:::b/a*/x"}, ctx: []kv{k("aws:PrincipalTag/dept", "a*")}, want: policy.Allow},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set := compileSet(t, tc.identity, tc.boundary, tc.session)
			req := &policy.Request{Action: tc.action, Resources: tc.resources, Context: ctxOf(tc.ctx...)}
			if got := set.Decide(req); got != tc.want {
				t.Errorf("Decide = %v, want %v", got, tc.want)
			}
			if got := set.Evaluate(req); got.Decision != tc.want {
				t.Errorf("Evaluate = %v, want %v (matched %+v)", got.Decision, tc.want, got.Matched)
			}
		})
	}
}
