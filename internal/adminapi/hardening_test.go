package adminapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// arnSpellings returns other spellings of the canonical ARN a: every other
// partition the sso-admin model's pattern admits, upper-cased IDs, and
// surrounding or trailing noise. None may name a resource a policy on a
// does not cover.
func arnSpellings(a string, ids ...string) []string {
	rest := strings.TrimPrefix(a, "arn:aws:")
	out := []string{}
	for _, p := range []string{"aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "AWS", "aws-eusc"} {
		out = append(out, "arn:"+p+":"+rest)
	}
	for _, id := range ids {
		out = append(out, strings.Replace(a, id, strings.ToUpper(id), 1))
	}
	return append(out, a+" ", " "+a, a+"/", strings.Replace(a, "permissionSet/", "permissionset/", 1),
		strings.Replace(a, ":sso:::", ":SSO:::", 1), strings.Replace(a, "arn:aws:sso:::", "arn:aws:sso::"+"111111111111:", 1))
}

// TestDenyHoldsForEveryARNSpelling: a Deny on the AdministratorAccess
// permission set's ARN and on the instance ARN holds however the request
// spells those ARNs — another partition, upper-cased IDs, spaces — each
// call is denied or refused, never allowed, and nothing changes. The same
// for an IAM role named in another case.
func TestDenyHoldsForEveryARNSpelling(t *testing.T) {
	f := newSSOFixture(t)
	ctx := t.Context()
	adminPS, err := f.srv.Access.GetPermissionSetByName(ctx, "AdministratorAccess")
	if err != nil {
		t.Fatal(err)
	}
	adminARN := f.srv.Access.PermissionSetARN(adminPS.ID)
	mgmt := f.srv.Instance.ManagementAccountID
	roles, err := iamClient(f.srv, adminCreds(t, f.srv)).ListRoles(ctx, &awsiam.ListRolesInput{})
	if err != nil {
		t.Fatal(err)
	}
	var adminRole string
	for _, r := range roles.Roles {
		if strings.HasPrefix(aws.ToString(r.RoleName), "AWSReservedSSO_AdministratorAccess_") {
			adminRole = aws.ToString(r.RoleName)
		}
	}
	if adminRole == "" {
		t.Fatalf("no AdministratorAccess role in management among %d", len(roles.Roles))
	}

	limited := f.createPS("Limited", "")
	doc, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []any{
		map[string]any{"Effect": "Allow", "Action": []string{"sso:*", "iam:GetRole", "iam:ListRoles", "iam:SimulatePrincipalPolicy"}, "Resource": "*"},
		map[string]any{"Effect": "Deny", "Action": "sso:*", "Resource": adminARN},
		map[string]any{"Effect": "Deny", "Action": []string{"sso:DescribeInstance", "sso:CreatePermissionSet", "sso:ListPermissionSets", "sso:TagResource", "sso:ListTagsForResource"},
			"Resource": *f.ins},
		map[string]any{"Effect": "Deny", "Action": []string{"iam:GetRole", "iam:SimulatePrincipalPolicy"}, "Resource": "arn:aws:iam::*:role/*AWSReservedSSO_AdministratorAccess_*"},
	}})
	if _, err := f.c.PutInlinePolicyToPermissionSet(ctx, &ssoadmin.PutInlinePolicyToPermissionSetInput{InstanceArn: f.ins, PermissionSetArn: limited, InlinePolicy: aws.String(string(doc))}); err != nil {
		t.Fatal(err)
	}
	cr, err := f.c.CreateAccountAssignment(ctx, &ssoadmin.CreateAccountAssignmentInput{InstanceArn: f.ins, PermissionSetArn: limited, TargetId: aws.String(mgmt),
		TargetType: types.TargetTypeAwsAccount, PrincipalType: types.PrincipalTypeUser, PrincipalId: aws.String(f.userID("ed.developer"))})
	if err != nil || f.creationStatus(cr.AccountAssignmentCreationStatus.RequestId).Status != types.StatusValuesSucceeded {
		t.Fatalf("assign Limited: %v", err)
	}
	edCreds := roleCreds(t, f.srv, "ed.developer", "management", "Limited")
	ed := ssoAdmin(f.srv, edCreds)
	// The canonical ARNs are denied; the set's own ARN is allowed.
	if _, err := ed.DescribePermissionSet(ctx, &ssoadmin.DescribePermissionSetInput{InstanceArn: f.ins, PermissionSetArn: limited}); err != nil {
		t.Fatalf("DescribePermissionSet of Limited: %v", err)
	}

	refused := map[string]bool{"AccessDeniedException": true, "ResourceNotFoundException": true, "ValidationException": true}
	seq := f.seq()
	psCalls := map[string]func(ps string) error{
		"DescribePermissionSet": func(ps string) error {
			_, err := ed.DescribePermissionSet(ctx, &ssoadmin.DescribePermissionSetInput{InstanceArn: f.ins, PermissionSetArn: &ps})
			return err
		},
		"PutInlinePolicyToPermissionSet": func(ps string) error {
			_, err := ed.PutInlinePolicyToPermissionSet(ctx, &ssoadmin.PutInlinePolicyToPermissionSetInput{InstanceArn: f.ins, PermissionSetArn: &ps,
				InlinePolicy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`)})
			return err
		},
		"CreateAccountAssignment": func(ps string) error {
			_, err := ed.CreateAccountAssignment(ctx, &ssoadmin.CreateAccountAssignmentInput{InstanceArn: f.ins, PermissionSetArn: &ps, TargetId: aws.String(mgmt),
				TargetType: types.TargetTypeAwsAccount, PrincipalType: types.PrincipalTypeUser, PrincipalId: aws.String(f.userID("ed.developer"))})
			return err
		},
		"ProvisionPermissionSet": func(ps string) error {
			_, err := ed.ProvisionPermissionSet(ctx, &ssoadmin.ProvisionPermissionSetInput{InstanceArn: f.ins, PermissionSetArn: &ps, TargetType: types.ProvisionTargetTypeAllProvisionedAccounts})
			return err
		},
		"TagResource": func(ps string) error {
			_, err := ed.TagResource(ctx, &ssoadmin.TagResourceInput{ResourceArn: &ps, Tags: []types.Tag{{Key: aws.String("pwned"), Value: aws.String("1")}}})
			return err
		},
		"ListTagsForResource": func(ps string) error {
			_, err := ed.ListTagsForResource(ctx, &ssoadmin.ListTagsForResourceInput{ResourceArn: &ps})
			return err
		},
		"DeletePermissionSet": func(ps string) error {
			_, err := ed.DeletePermissionSet(ctx, &ssoadmin.DeletePermissionSetInput{InstanceArn: f.ins, PermissionSetArn: &ps})
			return err
		},
	}
	_, psID, _ := arn.ParsePermissionSetARN(adminARN)
	for name, call := range psCalls {
		if err := call(adminARN); errCode(err) != "AccessDeniedException" {
			t.Errorf("%s on the canonical ARN: %v, want AccessDeniedException", name, err)
		}
		for _, v := range arnSpellings(adminARN, psID, f.srv.Instance.InstanceID) {
			if err := call(v); !refused[errCode(err)] {
				t.Errorf("%s on %q: %v, want it refused", name, v, err)
			}
		}
	}
	insCalls := map[string]func(ins string) error{
		"DescribeInstance": func(ins string) error {
			_, err := ed.DescribeInstance(ctx, &ssoadmin.DescribeInstanceInput{InstanceArn: &ins})
			return err
		},
		"CreatePermissionSet": func(ins string) error {
			_, err := ed.CreatePermissionSet(ctx, &ssoadmin.CreatePermissionSetInput{InstanceArn: &ins, Name: aws.String("Sneaky")})
			return err
		},
		"ListPermissionSets": func(ins string) error {
			_, err := ed.ListPermissionSets(ctx, &ssoadmin.ListPermissionSetsInput{InstanceArn: &ins})
			return err
		},
		"TagResource": func(ins string) error {
			_, err := ed.TagResource(ctx, &ssoadmin.TagResourceInput{ResourceArn: &ins, Tags: []types.Tag{{Key: aws.String("pwned"), Value: aws.String("1")}}})
			return err
		},
		"ListTagsForResource": func(ins string) error {
			_, err := ed.ListTagsForResource(ctx, &ssoadmin.ListTagsForResourceInput{ResourceArn: &ins})
			return err
		},
	}
	for name, call := range insCalls {
		if err := call(*f.ins); errCode(err) != "AccessDeniedException" {
			t.Errorf("%s on the canonical instance ARN: %v, want AccessDeniedException", name, err)
		}
		for _, v := range arnSpellings(*f.ins, f.srv.Instance.InstanceID) {
			if err := call(v); !refused[errCode(err)] {
				t.Errorf("%s on %q: %v, want it refused", name, v, err)
			}
		}
	}
	if after := f.seq(); after != seq {
		t.Errorf("refused calls moved the change counter from %d to %d", seq, after)
	}

	// IAM role names match case-insensitively: the Deny on the role's ARN
	// holds for every spelling of its name.
	edIAM := iamClient(f.srv, edCreds)
	for _, name := range []string{adminRole, strings.ToLower(adminRole), strings.ToUpper(adminRole)} {
		if _, err := edIAM.GetRole(ctx, &awsiam.GetRoleInput{RoleName: &name}); errCode(err) != "AccessDenied" {
			t.Errorf("GetRole %s: %v, want AccessDenied", name, err)
		}
		for _, src := range []string{"arn:aws:iam::" + mgmt + ":role/" + name, arn.RoleARN(mgmt, f.srv.Instance.Region, name)} {
			if _, err := edIAM.SimulatePrincipalPolicy(ctx, &awsiam.SimulatePrincipalPolicyInput{PolicySourceArn: &src, ActionNames: []string{"s3:GetObject"}}); errCode(err) != "AccessDenied" {
				t.Errorf("SimulatePrincipalPolicy %s: %v, want AccessDenied", src, err)
			}
		}
	}
}

// TestMemberAccountLearnsNoInstanceARN: a session outside the management
// account gets the same AccessDeniedException for the real instance ARN,
// a foreign one and a malformed one — resources are resolved only after
// the account gate.
func TestMemberAccountLearnsNoInstanceARN(t *testing.T) {
	f := newSSOFixture(t)
	ctx := t.Context()
	member := ssoAdmin(f.srv, roleCreds(t, f.srv, "alice@company.com", "dev", "AdministratorAccess"))
	var msgs []string
	for _, ins := range []string{*f.ins, "arn:aws:sso:::instance/ssoins-1111111111111111", "arn:aws-cn:sso:::instance/" + f.srv.Instance.InstanceID, "not-an-arn"} {
		_, err := member.ListPermissionSets(ctx, &ssoadmin.ListPermissionSetsInput{InstanceArn: aws.String(ins)})
		if errCode(err) != "AccessDeniedException" {
			t.Errorf("ListPermissionSets on %s from a member account: %v, want AccessDeniedException", ins, err)
			continue
		}
		msgs = append(msgs, apiError(err).ErrorMessage())
		_, err = member.DescribePermissionSet(ctx, &ssoadmin.DescribePermissionSetInput{InstanceArn: aws.String(ins),
			PermissionSetArn: aws.String(strings.Replace(ins, "instance/", "permissionSet/", 1) + "/ps-0123456789abcdef")})
		if errCode(err) != "AccessDeniedException" {
			t.Errorf("DescribePermissionSet on %s from a member account: %v, want AccessDeniedException", ins, err)
		}
	}
	for _, m := range msgs[1:] {
		if m != msgs[0] {
			t.Errorf("messages differ by instance ARN: %q vs %q", m, msgs[0])
		}
	}
}

// tokenAt is a token of is for sub issued at iat.
func (is *oidcIssuer) tokenAt(t *testing.T, sub string, iat time.Time) string {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"iss": is.srv.URL, "sub": sub, "aud": "sts.amazonaws.com",
		"iat": iat.Unix(), "exp": time.Now().Add(2 * time.Hour).Unix()})
	sig, err := is.signer.Sign(b)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sig.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestWebIdentityRevocationSticks: web-identity credentials end for good
// when their provider is deleted or their role unprovisioned — registering
// the same issuer URL again, or provisioning the role again, does not bring
// them back (new credentials work). A token issued in the future is
// refused.
func TestWebIdentityRevocationSticks(t *testing.T) {
	is := newOIDCIssuer(t)
	srv := servertest.New(t, func(c *config.Config) {
		c.Demo, c.Region, c.WebIdentityClient = true, "us-east-1", is.srv.Client()
	})
	ctx := t.Context()
	mgmt := srv.Instance.ManagementAccountID
	admin := autoIAM(srv, adminCreds(t, srv))
	ps, err := srv.Access.CreatePermissionSet(ctx, access.PermissionSetInput{Name: "Deploy"})
	if err != nil {
		t.Fatal(err)
	}
	assignment := access.AssignmentInput{AccountID: mgmt, PermissionSetID: ps.ID, PrincipalType: store.PrincipalUser, PrincipalID: mustUserID(t, srv, "ed.developer")}
	if _, err := srv.Access.CreateAssignment(ctx, assignment); err != nil {
		t.Fatal(err)
	}
	roleARN := func() string {
		t.Helper()
		r, err := srv.Store.GetProvisionedRole(ctx, mgmt, ps.ID)
		if err != nil {
			t.Fatal(err)
		}
		return "arn:aws:iam::" + mgmt + ":role/" + r.RoleName
	}
	register := func() *string {
		t.Helper()
		p, err := admin.CreateOpenIDConnectProvider(ctx, &awsiam.CreateOpenIDConnectProviderInput{
			Url: aws.String(is.srv.URL), ClientIDList: []string{"sts.amazonaws.com"},
			Tags: []iamtypes.Tag{{Key: aws.String("gatehouse:role:Deploy"), Value: aws.String("repo:org/app:*")}}})
		if err != nil {
			t.Fatal(err)
		}
		return p.OpenIDConnectProviderArn
	}
	anon := autoSTS(srv, aws.AnonymousCredentials{})
	assume := func() aws.Credentials {
		t.Helper()
		out, err := anon.AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{RoleArn: aws.String(roleARN()),
			RoleSessionName: aws.String("run"), WebIdentityToken: aws.String(is.token(t, "repo:org/app:ref:refs/heads/main"))})
		if err != nil {
			t.Fatal(err)
		}
		return aws.Credentials{AccessKeyID: *out.Credentials.AccessKeyId, SecretAccessKey: *out.Credentials.SecretAccessKey, SessionToken: *out.Credentials.SessionToken}
	}
	works := func(c aws.Credentials) error {
		_, err := autoSTS(srv, credentials(c)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		return err
	}

	prov := register()
	old := assume()
	if err := works(old); err != nil {
		t.Fatalf("fresh web-identity credentials: %v", err)
	}
	// Provider deleted and the same URL registered again.
	if _, err := admin.DeleteOpenIDConnectProvider(ctx, &awsiam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: prov}); err != nil {
		t.Fatal(err)
	}
	if err := works(old); err == nil || errorCode(t, err) != "InvalidClientTokenId" {
		t.Errorf("credentials of a deleted provider: %v, want InvalidClientTokenId", err)
	}
	register()
	if err := works(old); err == nil || errorCode(t, err) != "InvalidClientTokenId" {
		t.Errorf("credentials of a deleted provider after registering it again: %v, want InvalidClientTokenId", err)
	}
	fresh := assume()
	if err := works(fresh); err != nil {
		t.Fatalf("credentials of the new registration: %v", err)
	}
	// Role unprovisioned (its only assignment deleted) and provisioned again.
	if _, err := srv.Access.DeleteAssignment(ctx, assignment); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Access.CreateAssignment(ctx, assignment); err != nil {
		t.Fatal(err)
	}
	if err := works(fresh); err == nil || errorCode(t, err) != "InvalidClientTokenId" {
		t.Errorf("credentials of a role provisioned again: %v, want InvalidClientTokenId", err)
	}
	if err := works(assume()); err != nil {
		t.Errorf("credentials of the role provisioned again: %v", err)
	}

	// iat in the future, beyond clock skew.
	for _, iat := range []time.Time{time.Now().Add(time.Hour), time.Now().Add(24 * time.Hour)} {
		_, err := anon.AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{RoleArn: aws.String(roleARN()),
			RoleSessionName: aws.String("run"), WebIdentityToken: aws.String(is.tokenAt(t, "repo:org/app:x", iat))})
		if err == nil || errorCode(t, err) != "InvalidIdentityToken" {
			t.Errorf("token issued at %s: %v, want InvalidIdentityToken", iat, err)
		}
	}
	if _, err := anon.AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{RoleArn: aws.String(roleARN()),
		RoleSessionName: aws.String("run"), WebIdentityToken: aws.String(is.tokenAt(t, "repo:org/app:x", time.Now().Add(time.Minute)))}); err != nil {
		t.Errorf("token issued a minute ahead (within skew): %v", err)
	}
}

// TestClosedAccountEndsAccessKeys: closing an account refuses its
// automation users' access keys at once, for STS and IAM alike.
func TestClosedAccountEndsAccessKeys(t *testing.T) {
	srv := demoServer(t)
	ctx := t.Context()
	dev := accountID(t, srv, "dev")
	devAdmin := autoIAM(srv, roleCreds(t, srv, "alice@company.com", "dev", "AdministratorAccess"))
	if _, err := devAdmin.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("ci")}); err != nil {
		t.Fatal(err)
	}
	if _, err := devAdmin.PutUserPolicy(ctx, &awsiam.PutUserPolicyInput{UserName: aws.String("ci"), PolicyName: aws.String("all"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	key, err := devAdmin.CreateAccessKey(ctx, &awsiam.CreateAccessKeyInput{UserName: aws.String("ci")})
	if err != nil {
		t.Fatal(err)
	}
	kc := aws.Credentials{AccessKeyID: *key.AccessKey.AccessKeyId, SecretAccessKey: *key.AccessKey.SecretAccessKey}
	if _, err := autoIAM(srv, kc).CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("ci2")}); err != nil {
		t.Fatalf("CreateUser with the key before closing: %v", err)
	}
	if _, err := orgs(srv, adminCreds(t, srv)).CloseAccount(ctx, &organizations.CloseAccountInput{AccountId: aws.String(dev)}); err != nil {
		t.Fatal(err)
	}
	seq, _ := srv.Store.ChangeSeq(ctx)
	if _, err := autoSTS(srv, credentials(kc)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err == nil || errorCode(t, err) != "InvalidClientTokenId" {
		t.Errorf("GetCallerIdentity with a key of a closed account: %v, want InvalidClientTokenId", err)
	}
	if _, err := autoIAM(srv, kc).CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("ci3")}); err == nil || errorCode(t, err) != "InvalidClientTokenId" {
		t.Errorf("CreateUser with a key of a closed account: %v, want InvalidClientTokenId", err)
	}
	if after, _ := srv.Store.ChangeSeq(ctx); after != seq {
		t.Errorf("refused calls moved the change counter from %d to %d", seq, after)
	}
}

// TestRequestedRegionIsNotTheCallers: the regional admin APIs refuse a
// request signed for another region than the instance's, as AWS does; the
// global ones (IAM, organizations) take us-east-1 as aws:RequestedRegion
// whatever the client signed for, so a Deny on aws:RequestedRegion holds.
func TestRequestedRegionIsNotTheCallers(t *testing.T) {
	srv := demoServer(t)
	ctx := t.Context()
	ps, err := srv.Access.CreatePermissionSet(ctx, access.PermissionSetInput{Name: "NotInVirginia"})
	if err != nil {
		t.Fatal(err)
	}
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},
		{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1"}}}]}`
	if err := srv.Access.PutInlinePolicy(ctx, ps.ID, doc); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Access.CreateAssignment(ctx, access.AssignmentInput{AccountID: srv.Instance.ManagementAccountID,
		PermissionSetID: ps.ID, PrincipalType: store.PrincipalUser, PrincipalID: mustUserID(t, srv, "ed.developer")}); err != nil {
		t.Fatal(err)
	}
	creds := roleCreds(t, srv, "ed.developer", "management", "NotInVirginia")
	for _, region := range []string{"us-west-2", "mars-1", "us-east-1"} {
		cfg := aws.Config{Region: region, Credentials: credentials(creds), RetryMaxAttempts: 1}
		_, err := ssoadmin.NewFromConfig(cfg, func(o *ssoadmin.Options) { o.BaseEndpoint = aws.String(srv.URL) }).
			ListInstances(ctx, &ssoadmin.ListInstancesInput{})
		want := "InvalidSignatureException"
		if region == srv.Instance.Region {
			want = "AccessDeniedException"
		}
		if errCode(err) != want {
			t.Errorf("sso-admin signed for %s: %v, want %s", region, err, want)
		} else if want == "InvalidSignatureException" && apiError(err).ErrorMessage() != "Credential should be scoped to a valid region, not '"+region+"'." {
			t.Errorf("sso-admin signed for %s: message %q", region, apiError(err).ErrorMessage())
		}
		_, err = awsiam.NewFromConfig(cfg, func(o *awsiam.Options) { o.BaseEndpoint = aws.String(srv.URL) }).ListUsers(ctx, &awsiam.ListUsersInput{})
		if errCode(err) != "AccessDenied" {
			t.Errorf("IAM signed for %s: %v, want AccessDenied (aws:RequestedRegion is us-east-1)", region, err)
		}
		_, err = organizations.NewFromConfig(cfg, func(o *organizations.Options) { o.BaseEndpoint = aws.String(srv.URL) }).
			DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
		if errCode(err) != "AccessDeniedException" {
			t.Errorf("organizations signed for %s: %v, want AccessDeniedException (aws:RequestedRegion is us-east-1)", region, err)
		}
	}
}

// TestUnknownOperationAudited: an authenticated call of an operation that
// does not exist is answered UnknownOperationException and audited with
// its caller; IAM events name the caller's account as recipient.
func TestUnknownOperationAudited(t *testing.T) {
	srv := demoServer(t)
	admin := adminCreds(t, srv)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/", strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "SWBExternalService.Nope")
	resp, err := signedDo(t, admin, req, "{}")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 || resp.Header.Get("X-Amzn-Errortype") != "UnknownOperationException" {
		t.Errorf("unknown operation: %d %s", resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"))
	}
	events(t, srv, "Nope", "UnknownOperationException")

	dev := accountID(t, srv, "dev")
	if _, err := autoIAM(srv, roleCreds(t, srv, "alice@company.com", "dev", "AdministratorAccess")).
		CreateUser(t.Context(), &awsiam.CreateUserInput{UserName: aws.String("ci")}); err != nil {
		t.Fatal(err)
	}
	evs, err := srv.Store.ListEvents(t.Context(), store.EventFilter{Name: "CreateUser", Page: store.Page{Limit: 100}})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range evs {
		var rec struct {
			Source    string `json:"eventSource"`
			Recipient string `json:"recipientAccountId"`
		}
		if json.Unmarshal(e.Record, &rec) == nil && rec.Source == "iam.amazonaws.com" {
			found = true
			if rec.Recipient != dev {
				t.Errorf("IAM CreateUser in %s recorded with recipientAccountId %s", dev, rec.Recipient)
			}
		}
	}
	if !found {
		t.Errorf("no iam.amazonaws.com CreateUser event among %d", len(evs))
	}
}
