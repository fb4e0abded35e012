package iamapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

func policyDoc(actions ...string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["` + strings.Join(actions, `","`) + `"],"Resource":"*"}]}`
}

func TestPolicyLifecycle(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	out, err := e.admin.CreatePolicy(ctx, &awsiam.CreatePolicyInput{PolicyName: aws.String("Deploy"), Path: aws.String("/team/"),
		Description: aws.String("deploys things"), PolicyDocument: aws.String(policyDoc("s3:PutObject")),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("red")}}})
	if err != nil {
		t.Fatal(err)
	}
	pol := out.Policy
	arn := "arn:aws:iam::" + account + ":policy/team/Deploy"
	if aws.ToString(pol.Arn) != arn || !strings.HasPrefix(aws.ToString(pol.PolicyId), "ANPA") || len(aws.ToString(pol.PolicyId)) != 21 ||
		aws.ToString(pol.DefaultVersionId) != "v1" || !pol.IsAttachable || pol.CreateDate == nil || len(pol.Tags) != 1 {
		t.Errorf("created policy %+v", pol)
	}

	// Errors of CreatePolicy.
	for _, tc := range []struct {
		name, policyName, path, doc, code string
		status                            int
	}{
		{"duplicate name, other path and case", "deploy", "/", policyDoc("s3:GetObject"), "EntityAlreadyExists", http.StatusConflict},
		{"malformed document", "Bad", "/", `{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"*","Resource":"*"}]}`, "MalformedPolicyDocument", http.StatusBadRequest},
		{"not JSON", "Bad", "/", `{`, "MalformedPolicyDocument", http.StatusBadRequest},
		{"bad name", "bad name", "/", policyDoc("s3:GetObject"), "InvalidInput", http.StatusBadRequest},
		{"bad path", "Bad", "team", policyDoc("s3:GetObject"), "InvalidInput", http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.admin.CreatePolicy(ctx, &awsiam.CreatePolicyInput{PolicyName: aws.String(tc.policyName), Path: aws.String(tc.path), PolicyDocument: aws.String(tc.doc)})
			wantCode(t, err, tc.code, tc.status)
		})
	}

	got, err := e.admin.GetPolicy(ctx, &awsiam.GetPolicyInput{PolicyArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"Deploy", "/team/", "deploys things", aws.ToString(pol.PolicyId), "v1"},
		[]string{aws.ToString(got.Policy.PolicyName), aws.ToString(got.Policy.Path), aws.ToString(got.Policy.Description),
			aws.ToString(got.Policy.PolicyId), aws.ToString(got.Policy.DefaultVersionId)}); diff != "" {
		t.Errorf("GetPolicy (-want +got):\n%s", diff)
	}
	_, err = e.admin.GetPolicy(ctx, &awsiam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::" + account + ":policy/Nope")})
	wantCode(t, err, "NoSuchEntity", http.StatusNotFound)
	_, err = e.admin.GetPolicy(ctx, &awsiam.GetPolicyInput{PolicyArn: aws.String("not-an-arn")})
	wantCode(t, err, "InvalidInput", http.StatusBadRequest)
	// A policy of another account is refused even to an administrator.
	_, err = e.admin.GetPolicy(ctx, &awsiam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::999999999999:policy/team/Deploy")})
	wantCode(t, err, "AccessDenied", http.StatusForbidden)
	// AWS managed policies read as IAM has them.
	ro, err := e.admin.GetPolicy(ctx, &awsiam.GetPolicyInput{PolicyArn: aws.String(readOnlyARN)})
	if err != nil || aws.ToString(ro.Policy.PolicyName) != "ReadOnlyAccess" || aws.ToString(ro.Policy.Path) != "/" {
		t.Fatalf("GetPolicy ReadOnlyAccess: %+v, %v", ro, err)
	}
	_, err = e.admin.DeletePolicy(ctx, &awsiam.DeletePolicyInput{PolicyArn: aws.String(readOnlyARN)})
	wantCode(t, err, "AccessDenied", http.StatusForbidden)

	// Versions: create up to five, set the default, delete, the limit.
	v2, err := e.admin.CreatePolicyVersion(ctx, &awsiam.CreatePolicyVersionInput{PolicyArn: aws.String(arn), PolicyDocument: aws.String(policyDoc("s3:GetObject")), SetAsDefault: true})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(v2.PolicyVersion.VersionId) != "v2" || !v2.PolicyVersion.IsDefaultVersion {
		t.Errorf("CreatePolicyVersion %+v", v2.PolicyVersion)
	}
	for range 3 {
		if _, err := e.admin.CreatePolicyVersion(ctx, &awsiam.CreatePolicyVersionInput{PolicyArn: aws.String(arn), PolicyDocument: aws.String(policyDoc("s3:ListBucket"))}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = e.admin.CreatePolicyVersion(ctx, &awsiam.CreatePolicyVersionInput{PolicyArn: aws.String(arn), PolicyDocument: aws.String(policyDoc("s3:ListBucket"))})
	wantCode(t, err, "LimitExceeded", http.StatusConflict)
	_, err = e.admin.CreatePolicyVersion(ctx, &awsiam.CreatePolicyVersionInput{PolicyArn: aws.String(arn), PolicyDocument: aws.String(`{"Statement":[]`)})
	wantCode(t, err, "MalformedPolicyDocument", http.StatusBadRequest)
	_, err = e.admin.DeletePolicyVersion(ctx, &awsiam.DeletePolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v2")})
	wantCode(t, err, "DeleteConflict", http.StatusConflict)
	if _, err := e.admin.DeletePolicyVersion(ctx, &awsiam.DeletePolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v3")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.admin.GetPolicyVersion(ctx, &awsiam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v3")})
	wantCode(t, err, "NoSuchEntity", http.StatusNotFound)
	_, err = e.admin.GetPolicyVersion(ctx, &awsiam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("3")})
	wantCode(t, err, "InvalidInput", http.StatusBadRequest)
	// Version numbers are never reused.
	v6, err := e.admin.CreatePolicyVersion(ctx, &awsiam.CreatePolicyVersionInput{PolicyArn: aws.String(arn), PolicyDocument: aws.String(policyDoc("s3:DeleteObject"))})
	if err != nil || aws.ToString(v6.PolicyVersion.VersionId) != "v6" || v6.PolicyVersion.IsDefaultVersion {
		t.Fatalf("CreatePolicyVersion after a delete: %+v, %v", v6, err)
	}
	if _, err := e.admin.SetDefaultPolicyVersion(ctx, &awsiam.SetDefaultPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v6")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.admin.SetDefaultPolicyVersion(ctx, &awsiam.SetDefaultPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v9")})
	wantCode(t, err, "NoSuchEntity", http.StatusNotFound)
	gv, err := e.admin.GetPolicyVersion(ctx, &awsiam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v6")})
	if err != nil {
		t.Fatal(err)
	}
	if doc, _ := url.QueryUnescape(aws.ToString(gv.PolicyVersion.Document)); doc != policyDoc("s3:DeleteObject") || !gv.PolicyVersion.IsDefaultVersion {
		t.Errorf("GetPolicyVersion v6: %q default %v", doc, gv.PolicyVersion.IsDefaultVersion)
	}
	stored, err := e.w.Store.GetCustomerPolicy(ctx, account, "/team/", "Deploy")
	if err != nil || stored.Document != policyDoc("s3:DeleteObject") {
		t.Errorf("stored document after SetDefaultPolicyVersion: %+v, %v", stored, err)
	}
	var versions []string
	vp := awsiam.NewListPolicyVersionsPaginator(e.admin, &awsiam.ListPolicyVersionsInput{PolicyArn: aws.String(arn), MaxItems: aws.Int32(2)})
	for vp.HasMorePages() {
		page, err := vp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range page.Versions {
			versions = append(versions, aws.ToString(v.VersionId))
		}
	}
	if diff := cmp.Diff([]string{"v6", "v5", "v4", "v2", "v1"}, versions); diff != "" {
		t.Errorf("ListPolicyVersions (-want +got):\n%s", diff)
	}

	// Tags.
	if _, err := e.admin.TagPolicy(ctx, &awsiam.TagPolicyInput{PolicyArn: aws.String(arn), Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.admin.UntagPolicy(ctx, &awsiam.UntagPolicyInput{PolicyArn: aws.String(arn), TagKeys: []string{"TEAM"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := e.admin.ListPolicyTags(ctx, &awsiam.ListPolicyTagsInput{PolicyArn: aws.String(arn)})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "env" {
		t.Errorf("ListPolicyTags: %+v, %v", tags, err)
	}

	// An automation user attaches it: listed, counted, and not deletable.
	if _, err := e.admin.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("ci")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.admin.AttachUserPolicy(ctx, &awsiam.AttachUserPolicyInput{UserName: aws.String("ci"), PolicyArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	ents, err := e.admin.ListEntitiesForPolicy(ctx, &awsiam.ListEntitiesForPolicyInput{PolicyArn: aws.String(arn)})
	if err != nil || len(ents.PolicyUsers) != 1 || aws.ToString(ents.PolicyUsers[0].UserName) != "ci" || len(ents.PolicyRoles) != 0 {
		t.Errorf("ListEntitiesForPolicy: %+v, %v", ents, err)
	}
	got, err = e.admin.GetPolicy(ctx, &awsiam.GetPolicyInput{PolicyArn: aws.String(arn)})
	if err != nil || aws.ToInt32(got.Policy.AttachmentCount) != 1 {
		t.Errorf("AttachmentCount: %+v, %v", got, err)
	}
	attached, err := e.admin.ListPolicies(ctx, &awsiam.ListPoliciesInput{Scope: types.PolicyScopeTypeLocal, OnlyAttached: true})
	if err != nil || len(attached.Policies) != 1 {
		t.Errorf("ListPolicies OnlyAttached: %+v, %v", attached, err)
	}
	_, err = e.admin.DeletePolicy(ctx, &awsiam.DeletePolicyInput{PolicyArn: aws.String(arn)})
	wantCode(t, err, "DeleteConflict", http.StatusConflict)
	if _, err := e.admin.DetachUserPolicy(ctx, &awsiam.DetachUserPolicyInput{UserName: aws.String("ci"), PolicyArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	// Versions besides the default keep it too, as IAM has it.
	_, err = e.admin.DeletePolicy(ctx, &awsiam.DeletePolicyInput{PolicyArn: aws.String(arn)})
	wantCode(t, err, "DeleteConflict", http.StatusConflict)
	for _, v := range []string{"v1", "v2", "v4", "v5"} {
		if _, err := e.admin.DeletePolicyVersion(ctx, &awsiam.DeletePolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String(v)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.admin.DeletePolicy(ctx, &awsiam.DeletePolicyInput{PolicyArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.admin.GetPolicy(ctx, &awsiam.GetPolicyInput{PolicyArn: aws.String(arn)})
	wantCode(t, err, "NoSuchEntity", http.StatusNotFound)

	// Every call is audited, writes as such.
	evs, err := e.w.Store.ListEvents(ctx, store.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, ev := range evs {
		if ev.Source == "iam.amazonaws.com" {
			names[ev.Name+"/"+map[bool]string{true: "ro", false: "rw"}[ev.ReadOnly]] = true
		}
	}
	for _, want := range []string{"CreatePolicy/rw", "GetPolicy/ro", "CreatePolicyVersion/rw", "SetDefaultPolicyVersion/rw", "DeletePolicy/rw", "ListPolicyTags/ro"} {
		if !names[want] {
			t.Errorf("no audit event %s", want)
		}
	}
}

func TestListPoliciesPages(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	for _, n := range []string{"C", "A", "B"} {
		if _, err := e.admin.CreatePolicy(ctx, &awsiam.CreatePolicyInput{PolicyName: aws.String(n), Path: aws.String("/p/"), PolicyDocument: aws.String(policyDoc("s3:GetObject"))}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.admin.CreatePolicy(ctx, &awsiam.CreatePolicyInput{PolicyName: aws.String("Root"), PolicyDocument: aws.String(policyDoc("s3:GetObject"))}); err != nil {
		t.Fatal(err)
	}
	var names []string
	pages := 0
	p := awsiam.NewListPoliciesPaginator(e.admin, &awsiam.ListPoliciesInput{Scope: types.PolicyScopeTypeLocal, MaxItems: aws.Int32(3)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, pol := range page.Policies {
			names = append(names, aws.ToString(pol.PolicyName))
		}
	}
	if diff := cmp.Diff([]string{"Root", "A", "B", "C"}, names); diff != "" || pages != 2 {
		t.Errorf("ListPolicies Local in %d pages (-want +got):\n%s", pages, diff)
	}
	prefixed, err := e.admin.ListPolicies(ctx, &awsiam.ListPoliciesInput{Scope: types.PolicyScopeTypeLocal, PathPrefix: aws.String("/p/")})
	if err != nil || len(prefixed.Policies) != 3 {
		t.Errorf("ListPolicies /p/: %+v, %v", prefixed, err)
	}
	awsOnly, err := e.admin.ListPolicies(ctx, &awsiam.ListPoliciesInput{Scope: types.PolicyScopeTypeAws, MaxItems: aws.Int32(1000)})
	if err != nil || len(awsOnly.Policies) < 10 || !strings.HasPrefix(aws.ToString(awsOnly.Policies[0].Arn), "arn:aws:iam::aws:policy/") {
		t.Fatalf("ListPolicies AWS: %d policies, %v", len(awsOnly.Policies), err)
	}
	// ReadOnlyAccess and PowerUserAccess... are attached by the env's roles.
	used, err := e.admin.ListPolicies(ctx, &awsiam.ListPoliciesInput{OnlyAttached: true})
	if err != nil {
		t.Fatal(err)
	}
	var usedNames []string
	for _, pol := range used.Policies {
		usedNames = append(usedNames, aws.ToString(pol.PolicyName))
	}
	if diff := cmp.Diff([]string{"AdministratorAccess", "PowerUserAccess"}, usedNames); diff != "" {
		t.Errorf("ListPolicies OnlyAttached (-want +got):\n%s", diff)
	}
	for _, marker := range []string{"garbage", "-1"} {
		_, err = e.admin.ListPolicies(ctx, &awsiam.ListPoliciesInput{Marker: aws.String(marker)})
		wantCode(t, err, "InvalidInput", http.StatusBadRequest)
	}
	_, err = e.admin.ListPolicies(ctx, &awsiam.ListPoliciesInput{Scope: "Everything"})
	wantCode(t, err, "ValidationError", http.StatusBadRequest)
	_, err = e.admin.ListPolicies(ctx, &awsiam.ListPoliciesInput{MaxItems: aws.Int32(0)})
	wantCode(t, err, "ValidationError", http.StatusBadRequest)
}

func TestPolicyAccessDenied(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	arn := "arn:aws:iam::" + account + ":policy/Deploy"
	if _, err := e.admin.CreatePolicy(ctx, &awsiam.CreatePolicyInput{PolicyName: aws.String("Deploy"), PolicyDocument: aws.String(policyDoc("s3:GetObject"))}); err != nil {
		t.Fatal(err)
	}
	// PowerUserAccess allows everything but iam:*.
	calls := map[string]func() error{
		"CreatePolicy": func() error {
			_, err := e.power.CreatePolicy(ctx, &awsiam.CreatePolicyInput{PolicyName: aws.String("X"), PolicyDocument: aws.String(policyDoc("s3:GetObject"))})
			return err
		},
		"GetPolicy": func() error {
			_, err := e.power.GetPolicy(ctx, &awsiam.GetPolicyInput{PolicyArn: aws.String(arn)})
			return err
		},
		"ListPolicies": func() error { _, err := e.power.ListPolicies(ctx, &awsiam.ListPoliciesInput{}); return err },
		"CreatePolicyVersion": func() error {
			_, err := e.power.CreatePolicyVersion(ctx, &awsiam.CreatePolicyVersionInput{PolicyArn: aws.String(arn), PolicyDocument: aws.String(policyDoc("*"))})
			return err
		},
		"DeletePolicy": func() error {
			_, err := e.power.DeletePolicy(ctx, &awsiam.DeletePolicyInput{PolicyArn: aws.String(arn)})
			return err
		},
	}
	for name, call := range calls {
		err := call()
		code, status, msg := apiError(t, err)
		if code != "AccessDenied" || status != http.StatusForbidden || !strings.Contains(msg, "is not authorized to perform: iam:"+name) {
			t.Errorf("%s by PowerUserAccess: %s (%d) %q", name, code, status, msg)
		}
	}
	if p, err := e.w.Store.GetCustomerPolicy(ctx, account, "/", "Deploy"); err != nil || len(p.Versions) != 1 {
		t.Errorf("policy after refused calls: %+v, %v", p, err)
	}
}

// TestPermissionSetUsesIAMPolicy checks that a permission set referring to
// a customer-managed policy created through IAM provisions, that the role's
// credentials are authorized by the policy's default version, and that a
// new default version holds for the very next call.
func TestPermissionSetUsesIAMPolicy(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	arn := "arn:aws:iam::" + account + ":policy/ops/RoleReader"
	if _, err := e.admin.CreatePolicy(ctx, &awsiam.CreatePolicyInput{PolicyName: aws.String("RoleReader"), Path: aws.String("/ops/"),
		PolicyDocument: aws.String(policyDoc("iam:ListRoles"))}); err != nil {
		t.Fatal(err)
	}
	ps, err := e.w.Access.CreatePermissionSet(ctx, access.PermissionSetInput{Name: "RoleReaders", SessionDuration: "PT1H"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.w.Access.AttachCustomerPolicy(ctx, ps.ID, store.PolicyRef{Name: "RoleReader", Path: "/ops/"}); err != nil {
		t.Fatal(err)
	}
	op, err := e.w.Access.CreateAssignment(ctx, access.AssignmentInput{AccountID: account, PermissionSetID: ps.ID, PrincipalType: store.PrincipalUser, PrincipalID: e.alice.UserID})
	if err != nil {
		t.Fatal(err)
	}
	if op.Status != store.StatusSucceeded {
		t.Fatalf("assignment %s: %s", op.Status, op.FailureReason)
	}
	e.issuer.Cache.Invalidate() // what the server's store.OnChange does
	creds, err := e.issuer.Issue(ctx, e.alice, account, "RoleReaders")
	if err != nil {
		t.Fatal(err)
	}
	reader := e.client(creds)
	if _, err := reader.ListRoles(ctx, &awsiam.ListRolesInput{}); err != nil {
		t.Fatalf("ListRoles allowed by the IAM policy: %v", err)
	}
	_, err = reader.ListPolicies(ctx, &awsiam.ListPoliciesInput{})
	wantCode(t, err, "AccessDenied", http.StatusForbidden)
	ents, err := e.admin.ListEntitiesForPolicy(ctx, &awsiam.ListEntitiesForPolicyInput{PolicyArn: aws.String(arn), EntityFilter: types.EntityTypeRole})
	if err != nil || len(ents.PolicyRoles) != 1 || !strings.HasPrefix(aws.ToString(ents.PolicyRoles[0].RoleName), "AWSReservedSSO_RoleReaders_") {
		t.Errorf("ListEntitiesForPolicy roles: %+v, %v", ents, err)
	}

	// A new default version holds at once.
	if _, err := e.admin.CreatePolicyVersion(ctx, &awsiam.CreatePolicyVersionInput{PolicyArn: aws.String(arn),
		PolicyDocument: aws.String(policyDoc("iam:ListPolicies")), SetAsDefault: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := reader.ListPolicies(ctx, &awsiam.ListPoliciesInput{}); err != nil {
		t.Errorf("ListPolicies after the new default version: %v", err)
	}
	_, err = reader.ListRoles(ctx, &awsiam.ListRolesInput{})
	wantCode(t, err, "AccessDenied", http.StatusForbidden)

	// Deleting the policy is allowed while the set refers to it, as in
	// Identity Center; the role then gets nothing from it and
	// provisioning fails.
	if _, err := e.admin.DeletePolicyVersion(ctx, &awsiam.DeletePolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.admin.DeletePolicy(ctx, &awsiam.DeletePolicyInput{PolicyArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	_, err = reader.ListPolicies(ctx, &awsiam.ListPoliciesInput{})
	wantCode(t, err, "AccessDenied", http.StatusForbidden)
	prov, err := e.w.Access.Provision(ctx, ps.ID, account)
	if err != nil {
		t.Fatal(err)
	}
	if prov.Status != store.StatusFailed || !strings.Contains(prov.FailureReason, arn) {
		t.Errorf("provisioning without the policy: %s %q", prov.Status, prov.FailureReason)
	}
}
