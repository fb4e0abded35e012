package policy_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse/internal/policy"
)

// TestRules covers the tricky matching rules one by one.
func TestRules(t *testing.T) {
	tests := []vector{
		// NotAction with Deny: denies everything except the listed actions.
		{name: "NotAction Deny denies others", identity: []string{doc(allowAll, `{"Effect":"Deny","NotAction":["sso:List*","sts:*"],"Resource":"*"}`)}, action: "sso:CreatePermissionSet", want: policy.ExplicitDeny},
		{name: "NotAction Deny spares listed", identity: []string{doc(allowAll, `{"Effect":"Deny","NotAction":["sso:List*","sts:*"],"Resource":"*"}`)}, action: "SSO:ListInstances", want: policy.Allow},
		{name: "NotAction Deny with NotResource", identity: []string{doc(allowAll, `{"Effect":"Deny","NotAction":"s3:*","NotResource":"arn:aws:sso:::instance/*"}`)}, action: "sso:DescribeInstance", resources: []string{insARN}, want: policy.Allow},
		// NotResource.
		{name: "NotResource Allow other resource", identity: []string{doc(`{"Effect":"Allow","Action":"s3:*","NotResource":"arn:aws:s3:::secret/*"}`)}, action: "s3:GetObject", resources: []string{"arn:aws:s3:::public/k"}, want: policy.Allow},
		{name: "NotResource Allow listed resource", identity: []string{doc(`{"Effect":"Allow","Action":"s3:*","NotResource":"arn:aws:s3:::secret/*"}`)}, action: "s3:GetObject", resources: []string{"arn:aws:s3:::secret/k"}, want: policy.ImplicitDeny},
		{name: "NotResource star matches nothing", identity: []string{doc(`{"Effect":"Allow","Action":"s3:*","NotResource":"*"}`)}, action: "s3:GetObject", resources: []string{"arn:aws:s3:::b/k"}, want: policy.ImplicitDeny},
		// IfExists on a missing key.
		{name: "IfExists missing key Allow", identity: []string{doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericLessThanIfExists":{"aws:MultiFactorAuthAge":"3600"}}}`)}, action: "sso:ListInstances", want: policy.Allow},
		{name: "IfExists present key fails", identity: []string{doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericLessThanIfExists":{"aws:MultiFactorAuthAge":"3600"}}}`)}, action: "sso:ListInstances", ctx: []kv{k("aws:MultiFactorAuthAge", "7200")}, want: policy.ImplicitDeny},
		// ForAllValues on an empty set is vacuously true, even in a Deny.
		{name: "ForAllValues empty set Allow", identity: []string{doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":"env"}}}`)}, action: "sso:TagResource", ctx: []kv{k("aws:TagKeys")}, want: policy.Allow},
		{name: "ForAllValues empty set Deny fires", identity: []string{doc(allowAll, `{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":"env"}}}`)}, action: "sso:TagResource", want: policy.ExplicitDeny},
		// Unresolvable variables skip the whole statement, Deny included.
		{name: "unresolvable variable skips Deny", identity: []string{doc(allowAll, `{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalTag/team":"${aws:username}"}}}`)}, action: "sso:ListInstances", ctx: []kv{k("aws:PrincipalTag/team", "red")}, want: policy.Allow},
		{name: "resolvable variable Deny fires", identity: []string{doc(allowAll, `{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalTag/team":"${aws:username}"}}}`)}, action: "sso:ListInstances", ctx: []kv{k("aws:PrincipalTag/team", "red"), k("aws:username", "alice")}, want: policy.ExplicitDeny},
		{name: "multivalued variable is unresolvable", identity: []string{doc(`{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:TagKeys}/*"}`)}, action: "s3:GetObject", resources: []string{"arn:aws:s3:::b/env/x"}, ctx: []kv{k("aws:TagKeys", "env", "team")}, want: policy.ImplicitDeny},
		{name: "variable only in resource segment", identity: []string{doc(`{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::${aws:username}/*"}`)}, action: "s3:GetObject", resources: []string{"arn:aws:s3:::alice/x"}, ctx: []kv{k("aws:username", "alice")}, want: policy.Allow},
		{name: "variable in account segment literal", identity: []string{doc(`{"Effect":"Allow","Action":"iam:*","Resource":"arn:aws:iam::${aws:PrincipalAccount}:role/x"}`)}, action: "iam:GetRole", resources: []string{"arn:aws:iam::111122223333:role/x"}, ctx: []kv{k("aws:PrincipalAccount", "111122223333")}, want: policy.ImplicitDeny},
		{name: "escape star in resource literal", identity: []string{doc(`{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${*}"}`)}, action: "s3:GetObject", resources: []string{"arn:aws:s3:::b/k"}, want: policy.ImplicitDeny},
		{name: "escape star in resource matches star", identity: []string{doc(`{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${*}"}`)}, action: "s3:GetObject", resources: []string{"arn:aws:s3:::b/*"}, want: policy.Allow},
		{name: "missing Version means no variables", identity: []string{`{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:username}"}}`}, action: "s3:GetObject", resources: []string{"arn:aws:s3:::b/${aws:username}"}, want: policy.Allow},
		// Action case vs resource case.
		{name: "action upper-case pattern", identity: []string{doc(`{"Effect":"Allow","Action":"S3:GETOBJECT","Resource":"arn:aws:s3:::b/*"}`)}, action: "s3:getObject", resources: []string{"arn:aws:s3:::b/K"}, want: policy.Allow},
		{name: "resource case differs", identity: []string{doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/k"}`)}, action: "s3:GetObject", resources: []string{"arn:aws:s3:::b/K"}, want: policy.ImplicitDeny},
		// '?' glob.
		{name: "question in action", identity: []string{doc(`{"Effect":"Allow","Action":"s3:?etObject","Resource":"*"}`)}, action: "s3:GetObject", want: policy.Allow},
		{name: "question needs one char", identity: []string{doc(`{"Effect":"Allow","Action":"s3:?GetObject","Resource":"*"}`)}, action: "s3:GetObject", want: policy.ImplicitDeny},
		{name: "question in resource", identity: []string{doc(`{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/k?"}`)}, action: "s3:GetObject", resources: []string{"arn:aws:s3:::b/k1"}, want: policy.Allow},
		// Trailing '*' crossing colons.
		{name: "trailing star crosses colons", identity: []string{doc(`{"Effect":"Allow","Action":"sso:*","Resource":"arn:aws:sso:*"}`)}, action: "sso:DescribeInstance", resources: []string{insARN}, want: policy.Allow},
		{name: "inner star does not cross colons", identity: []string{doc(`{"Effect":"Allow","Action":"iam:*","Resource":"arn:aws:iam::*role/x"}`)}, action: "iam:GetRole", resources: []string{"arn:aws:iam::111122223333:role/x"}, want: policy.ImplicitDeny},
		// No resources means "*".
		{name: "no resources is star", identity: []string{doc(`{"Effect":"Allow","Action":"sso:ListInstances","Resource":"*"}`)}, action: "sso:ListInstances", want: policy.Allow},
		{name: "no resources vs ARN pattern", identity: []string{doc(`{"Effect":"Allow","Action":"sso:ListInstances","Resource":"arn:aws:sso:::instance/*"}`)}, action: "sso:ListInstances", want: policy.ImplicitDeny},
		// Deny in a boundary or session policy denies.
		{name: "Deny in boundary", identity: []string{doc(allowAll)}, boundary: []string{doc(allowAll, `{"Effect":"Deny","Action":"sso:Delete*","Resource":"*"}`)}, action: "sso:DeleteInstance", want: policy.ExplicitDeny},
		{name: "Deny in session", identity: []string{doc(allowAll)}, session: []string{doc(allowAll, `{"Effect":"Deny","Action":"sso:Delete*","Resource":"*"}`)}, action: "sso:DeleteInstance", want: policy.ExplicitDeny},
		{name: "identity boundary session all allow", identity: []string{doc(allowAll)}, boundary: []string{doc(allowAll)}, session: []string{doc(`{"Effect":"Allow","Action":"sso:Delete*","Resource":"*"}`)}, action: "sso:DeleteInstance", want: policy.Allow},
		{name: "no identity policies", boundary: []string{doc(allowAll)}, action: "sso:ListInstances", want: policy.ImplicitDeny},
		{name: "allow from second identity policy", identity: []string{doc(`{"Effect":"Allow","Action":"s3:*","Resource":"*"}`), doc(`{"Effect":"Allow","Action":"sso:*","Resource":"*"}`)}, action: "sso:ListInstances", want: policy.Allow},
		// Multi-resource with one explicit deny.
		{name: "multi-resource one denied", identity: []string{doc(allowAll, `{"Effect":"Deny","Action":"*","Resource":"arn:aws:sso:::account/444455556666"}`)}, action: "sso:CreateAccountAssignment", resources: []string{insARN, psARN, "arn:aws:sso:::account/444455556666"}, want: policy.ExplicitDeny},
		{name: "GetCallerIdentity any case", identity: []string{doc(`{"Effect":"Deny","Action":"*","Resource":"*"}`)}, action: "STS:getcalleridentity", want: policy.Allow},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set := compileSet(t, tc.identity, tc.boundary, tc.session)
			req := &policy.Request{Action: tc.action, Resources: tc.resources, Context: ctxOf(tc.ctx...)}
			if got := set.Decide(req); got != tc.want {
				t.Errorf("Decide = %v, want %v", got, tc.want)
			}
			if got := set.Evaluate(req); got.Decision != tc.want {
				t.Errorf("Evaluate = %v, want %v", got.Decision, tc.want)
			}
		})
	}
}

// TestLargeActionIndex checks that indexed statements (more than 16
// actions) match as scanned ones do.
func TestLargeActionIndex(t *testing.T) {
	actions := `["s3:GetObject","s3:List*","sso:Describe*","*:Get*Secret","ec2:Describe?nstances","iam:GetRole",` +
		`"a:A1","a:A2","a:A3","a:A4","a:A5","a:A6","a:A7","a:A8","a:A9","a:A10","a:A11","a:A12"]`
	// Lenient: strict parsing rejects the wildcard service prefix.
	p, err := policy.ParseCompile("big", []byte(doc(`{"Effect":"Allow","Action":`+actions+`,"Resource":"*"}`)))
	if err != nil {
		t.Fatal(err)
	}
	set := policy.Set{Identity: []*policy.Policy{p}}
	tests := []struct {
		action string
		want   policy.Decision
	}{
		{"s3:GetObject", policy.Allow},
		{"S3:GETOBJECT", policy.Allow},
		{"s3:listbucket", policy.Allow},
		{"s3:PutObject", policy.ImplicitDeny},
		{"sso:DescribeInstance", policy.Allow},
		{"secretsmanager:GetTheSecret", policy.Allow},
		{"ec2:DescribeInstances", policy.Allow},
		{"ec2:DescribeXXnstances", policy.ImplicitDeny},
		{"iam:getrole", policy.Allow},
		{"a:A12", policy.Allow},
		{"a:A13", policy.ImplicitDeny},
		{"noservice", policy.ImplicitDeny},
	}
	for _, tc := range tests {
		t.Run(tc.action, func(t *testing.T) {
			if got := set.Decide(&policy.Request{Action: tc.action}); got != tc.want {
				t.Errorf("Decide(%s) = %v, want %v", tc.action, got, tc.want)
			}
		})
	}
}

// TestEvaluateDetails checks the matched statements and missing context
// keys Evaluate reports.
func TestEvaluateDetails(t *testing.T) {
	ident := mustCompile(t, "arn:aws:iam::aws:policy/Mine", doc(
		`{"Sid":"AllowSSO","Effect":"Allow","Action":"sso:*","Resource":"*","Condition":{"StringEqualsIfExists":{"aws:PrincipalTag/team":"red"}}}`,
		`{"Sid":"AllowRead","Effect":"Allow","Action":"sso:List*","Resource":"*"}`,
		`{"Sid":"DenyHTTP","Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}`,
		`{"Effect":"Deny","Action":"sso:Delete*","Resource":"*"}`,
		`{"Sid":"Home","Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::home/${aws:username}/*"}`,
	))
	boundary := mustCompile(t, "boundary", doc(`{"Sid":"B","Effect":"Allow","Action":"*","Resource":"*"}`))
	set := policy.Set{Identity: []*policy.Policy{ident}, Boundary: []*policy.Policy{boundary}}

	tests := []struct {
		name   string
		action string
		ctx    []kv
		want   policy.Result
	}{
		{
			name:   "allowed by two statements and the boundary",
			action: "sso:ListInstances",
			ctx:    []kv{k("aws:SecureTransport", "true")},
			want: policy.Result{
				Decision: policy.Allow,
				Matched: []policy.Match{
					{PolicyID: "arn:aws:iam::aws:policy/Mine", Kind: policy.KindIdentity, Statement: 0, Sid: "AllowSSO", Effect: policy.EffectAllow},
					{PolicyID: "arn:aws:iam::aws:policy/Mine", Kind: policy.KindIdentity, Statement: 1, Sid: "AllowRead", Effect: policy.EffectAllow},
					{PolicyID: "boundary", Kind: policy.KindBoundary, Statement: 0, Sid: "B", Effect: policy.EffectAllow},
				},
				MissingContextKeys: []string{"aws:principaltag/team"},
			},
		},
		{
			name:   "explicit deny names both deny statements",
			action: "sso:DeleteInstance",
			ctx:    []kv{k("aws:SecureTransport", "false"), k("aws:PrincipalTag/team", "red")},
			want: policy.Result{
				Decision: policy.ExplicitDeny,
				Matched: []policy.Match{
					{PolicyID: "arn:aws:iam::aws:policy/Mine", Kind: policy.KindIdentity, Statement: 2, Sid: "DenyHTTP", Effect: policy.EffectDeny},
					{PolicyID: "arn:aws:iam::aws:policy/Mine", Kind: policy.KindIdentity, Statement: 3, Effect: policy.EffectDeny},
				},
			},
		},
		{
			name:   "implicit deny reports the missing variable and key",
			action: "s3:GetObject",
			want: policy.Result{
				Decision:           policy.ImplicitDeny,
				MissingContextKeys: []string{"aws:securetransport", "aws:username"},
			},
		},
		{
			name:   "GetCallerIdentity",
			action: "sts:GetCallerIdentity",
			want:   policy.Result{Decision: policy.Allow},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := &policy.Request{Action: tc.action, Context: ctxOf(tc.ctx...)}
			got := set.Evaluate(req)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Evaluate mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecisionString(t *testing.T) {
	got := []string{policy.ImplicitDeny.String(), policy.Allow.String(), policy.ExplicitDeny.String()}
	want := []string{"implicitDeny", "allowed", "explicitDeny"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Decision names mismatch (-want +got):\n%s", diff)
	}
}
