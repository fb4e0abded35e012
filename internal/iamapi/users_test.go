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

	"github.com/gatehouse-dev/gatehouse/internal/store"
)

const readOnlyARN = "arn:aws:iam::aws:policy/ReadOnlyAccess"

// wantCode fails unless err is the API error code with the HTTP status.
func wantCode(t *testing.T, err error, code string, status int) {
	t.Helper()
	got, gotStatus, msg := apiError(t, err)
	if got != code || gotStatus != status {
		t.Fatalf("error %s (%d) %q, want %s (%d)", got, gotStatus, msg, code, status)
	}
}

func TestUserLifecycle(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	out, err := e.admin.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("deployer"), Path: aws.String("/ci/"),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("red")}}})
	if err != nil {
		t.Fatal(err)
	}
	u := out.User
	if aws.ToString(u.Arn) != "arn:aws:iam::"+account+":user/ci/deployer" || !strings.HasPrefix(aws.ToString(u.UserId), "AIDA") || u.CreateDate == nil {
		t.Errorf("created user %+v", u)
	}
	_, err = e.admin.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("Deployer")})
	wantCode(t, err, "EntityAlreadyExists", http.StatusConflict)
	_, err = e.admin.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("bad name")})
	wantCode(t, err, "InvalidInput", http.StatusBadRequest)

	got, err := e.admin.GetUser(ctx, &awsiam.GetUserInput{UserName: aws.String("deployer")})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"deployer", "/ci/", aws.ToString(u.UserId), "team=red"},
		[]string{aws.ToString(got.User.UserName), aws.ToString(got.User.Path), aws.ToString(got.User.UserId),
			aws.ToString(got.User.Tags[0].Key) + "=" + aws.ToString(got.User.Tags[0].Value)}); diff != "" {
		t.Errorf("GetUser (-want +got):\n%s", diff)
	}
	_, err = e.admin.GetUser(ctx, &awsiam.GetUserInput{UserName: aws.String("nobody")})
	wantCode(t, err, "NoSuchEntity", http.StatusNotFound)
	_, err = e.admin.GetUser(ctx, &awsiam.GetUserInput{})
	wantCode(t, err, "ValidationError", http.StatusBadRequest)

	// Tags.
	if _, err := e.admin.TagUser(ctx, &awsiam.TagUserInput{UserName: aws.String("deployer"),
		Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}, {Key: aws.String("TEAM"), Value: aws.String("blue")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.admin.UntagUser(ctx, &awsiam.UntagUserInput{UserName: aws.String("deployer"), TagKeys: []string{"env"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := e.admin.ListUserTags(ctx, &awsiam.ListUserTagsInput{UserName: aws.String("deployer")})
	if err != nil {
		t.Fatal(err)
	}
	if len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "TEAM" || aws.ToString(tags.Tags[0].Value) != "blue" {
		t.Errorf("tags %+v, want TEAM=blue", tags.Tags)
	}

	// Pagination of ListUsers.
	for _, n := range []string{"b-user", "a-user", "c-user"} {
		if _, err := e.admin.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String(n)}); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	p := awsiam.NewListUsersPaginator(e.admin, &awsiam.ListUsersInput{MaxItems: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, u := range page.Users {
			names = append(names, aws.ToString(u.UserName))
		}
	}
	if diff := cmp.Diff([]string{"a-user", "b-user", "c-user", "deployer"}, names); diff != "" || pages != 2 {
		t.Errorf("ListUsers in %d pages (-want +got):\n%s", pages, diff)
	}
	ci, err := e.admin.ListUsers(ctx, &awsiam.ListUsersInput{PathPrefix: aws.String("/ci/")})
	if err != nil {
		t.Fatal(err)
	}
	if len(ci.Users) != 1 || aws.ToString(ci.Users[0].UserName) != "deployer" {
		t.Errorf("ListUsers /ci/: %+v", ci.Users)
	}

	// Policies.
	if _, err := e.admin.AttachUserPolicy(ctx, &awsiam.AttachUserPolicyInput{UserName: aws.String("deployer"), PolicyArn: aws.String(readOnlyARN)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.admin.AttachUserPolicy(ctx, &awsiam.AttachUserPolicyInput{UserName: aws.String("deployer"), PolicyArn: aws.String("arn:aws:iam::" + account + ":policy/Nope")})
	wantCode(t, err, "NoSuchEntity", http.StatusNotFound)
	att, err := e.admin.ListAttachedUserPolicies(ctx, &awsiam.ListAttachedUserPoliciesInput{UserName: aws.String("deployer")})
	if err != nil {
		t.Fatal(err)
	}
	if len(att.AttachedPolicies) != 1 || aws.ToString(att.AttachedPolicies[0].PolicyName) != "ReadOnlyAccess" {
		t.Errorf("attached %+v", att.AttachedPolicies)
	}
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"}]}`
	if _, err := e.admin.PutUserPolicy(ctx, &awsiam.PutUserPolicyInput{UserName: aws.String("deployer"), PolicyName: aws.String("put"), PolicyDocument: aws.String(doc)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.admin.PutUserPolicy(ctx, &awsiam.PutUserPolicyInput{UserName: aws.String("deployer"), PolicyName: aws.String("bad"), PolicyDocument: aws.String(`{"Statement":"x"}`)})
	wantCode(t, err, "MalformedPolicyDocument", http.StatusBadRequest)
	big := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + strings.Repeat("b", 2100) + `"}]}`
	_, err = e.admin.PutUserPolicy(ctx, &awsiam.PutUserPolicyInput{UserName: aws.String("deployer"), PolicyName: aws.String("big"), PolicyDocument: aws.String(big)})
	wantCode(t, err, "LimitExceeded", http.StatusConflict)
	gp, err := e.admin.GetUserPolicy(ctx, &awsiam.GetUserPolicyInput{UserName: aws.String("deployer"), PolicyName: aws.String("put")})
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := url.QueryUnescape(aws.ToString(gp.PolicyDocument)); d != doc {
		t.Errorf("GetUserPolicy document %q", d)
	}
	lp, err := e.admin.ListUserPolicies(ctx, &awsiam.ListUserPoliciesInput{UserName: aws.String("deployer")})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"put"}, lp.PolicyNames); diff != "" {
		t.Errorf("ListUserPolicies (-want +got):\n%s", diff)
	}

	// Credentials automation users never have.
	if g, err := e.admin.ListGroupsForUser(ctx, &awsiam.ListGroupsForUserInput{UserName: aws.String("deployer")}); err != nil || len(g.Groups) != 0 {
		t.Errorf("ListGroupsForUser: %v %+v", err, g)
	}
	for name, call := range map[string]func() error{
		"ListMFADevices": func() error {
			_, err := e.admin.ListMFADevices(ctx, &awsiam.ListMFADevicesInput{UserName: aws.String("deployer")})
			return err
		},
		"ListSSHPublicKeys": func() error {
			_, err := e.admin.ListSSHPublicKeys(ctx, &awsiam.ListSSHPublicKeysInput{UserName: aws.String("deployer")})
			return err
		},
		"ListSigningCertificates": func() error {
			_, err := e.admin.ListSigningCertificates(ctx, &awsiam.ListSigningCertificatesInput{UserName: aws.String("deployer")})
			return err
		},
		"ListServiceSpecificCredentials": func() error {
			_, err := e.admin.ListServiceSpecificCredentials(ctx, &awsiam.ListServiceSpecificCredentialsInput{UserName: aws.String("deployer")})
			return err
		},
	} {
		if err := call(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if v, err := e.admin.ListVirtualMFADevices(ctx, &awsiam.ListVirtualMFADevicesInput{AssignmentStatus: types.AssignmentStatusTypeAssigned}); err != nil || len(v.VirtualMFADevices) != 0 {
		t.Errorf("ListVirtualMFADevices: %v %+v", err, v)
	}
	_, err = e.admin.DeleteLoginProfile(ctx, &awsiam.DeleteLoginProfileInput{UserName: aws.String("deployer")})
	wantCode(t, err, "NoSuchEntity", http.StatusNotFound)

	// Delete refuses while policies are attached.
	_, err = e.admin.DeleteUser(ctx, &awsiam.DeleteUserInput{UserName: aws.String("deployer")})
	wantCode(t, err, "DeleteConflict", http.StatusConflict)
	if _, err := e.admin.DetachUserPolicy(ctx, &awsiam.DetachUserPolicyInput{UserName: aws.String("deployer"), PolicyArn: aws.String(readOnlyARN)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.admin.DetachUserPolicy(ctx, &awsiam.DetachUserPolicyInput{UserName: aws.String("deployer"), PolicyArn: aws.String(readOnlyARN)})
	wantCode(t, err, "NoSuchEntity", http.StatusNotFound)
	if _, err := e.admin.DeleteUserPolicy(ctx, &awsiam.DeleteUserPolicyInput{UserName: aws.String("deployer"), PolicyName: aws.String("put")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.admin.DeleteUser(ctx, &awsiam.DeleteUserInput{UserName: aws.String("deployer")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.admin.DeleteUser(ctx, &awsiam.DeleteUserInput{UserName: aws.String("deployer")})
	wantCode(t, err, "NoSuchEntity", http.StatusNotFound)
}

func TestAccessKeyOperations(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	if _, err := e.admin.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("ci")}); err != nil {
		t.Fatal(err)
	}
	k1, err := e.admin.CreateAccessKey(ctx, &awsiam.CreateAccessKeyInput{UserName: aws.String("ci")})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(k1.AccessKey.AccessKeyId)
	if !strings.HasPrefix(id, "AKIA") || len(id) != 20 || len(aws.ToString(k1.AccessKey.SecretAccessKey)) != 40 || k1.AccessKey.Status != types.StatusTypeActive {
		t.Errorf("new key %s: %+v", id, k1.AccessKey)
	}
	// The secret is nowhere in the audit trail.
	evs, err := e.w.Store.ListEvents(ctx, store.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if strings.Contains(string(ev.Record), aws.ToString(k1.AccessKey.SecretAccessKey)) {
			t.Fatalf("audit event %s holds the secret", ev.ID)
		}
	}
	if _, err := e.admin.CreateAccessKey(ctx, &awsiam.CreateAccessKeyInput{UserName: aws.String("ci")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.admin.CreateAccessKey(ctx, &awsiam.CreateAccessKeyInput{UserName: aws.String("ci")})
	wantCode(t, err, "LimitExceeded", http.StatusConflict)
	_, err = e.admin.CreateAccessKey(ctx, &awsiam.CreateAccessKeyInput{UserName: aws.String("nobody")})
	wantCode(t, err, "NoSuchEntity", http.StatusNotFound)

	ks, err := e.admin.ListAccessKeys(ctx, &awsiam.ListAccessKeysInput{UserName: aws.String("ci")})
	if err != nil {
		t.Fatal(err)
	}
	if len(ks.AccessKeyMetadata) != 2 || aws.ToString(ks.AccessKeyMetadata[0].AccessKeyId) != id {
		t.Fatalf("keys %+v", ks.AccessKeyMetadata)
	}
	if _, err := e.admin.UpdateAccessKey(ctx, &awsiam.UpdateAccessKeyInput{UserName: aws.String("ci"), AccessKeyId: aws.String(id), Status: types.StatusTypeInactive}); err != nil {
		t.Fatal(err)
	}
	ks, err = e.admin.ListAccessKeys(ctx, &awsiam.ListAccessKeysInput{UserName: aws.String("ci")})
	if err != nil {
		t.Fatal(err)
	}
	if ks.AccessKeyMetadata[0].Status != types.StatusTypeInactive {
		t.Errorf("status after disabling: %s", ks.AccessKeyMetadata[0].Status)
	}
	_, err = e.admin.UpdateAccessKey(ctx, &awsiam.UpdateAccessKeyInput{UserName: aws.String("ci"), AccessKeyId: aws.String("AKIANOSUCHKEY0000000"), Status: types.StatusTypeActive})
	wantCode(t, err, "NoSuchEntity", http.StatusNotFound)

	lu, err := e.admin.GetAccessKeyLastUsed(ctx, &awsiam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(lu.UserName) != "ci" || aws.ToString(lu.AccessKeyLastUsed.ServiceName) != "N/A" || lu.AccessKeyLastUsed.LastUsedDate != nil {
		t.Errorf("last used of an unused key: %s %+v", aws.ToString(lu.UserName), lu.AccessKeyLastUsed)
	}

	// Deleting the user refuses while keys exist.
	_, err = e.admin.DeleteUser(ctx, &awsiam.DeleteUserInput{UserName: aws.String("ci")})
	wantCode(t, err, "DeleteConflict", http.StatusConflict)
	for _, m := range ks.AccessKeyMetadata {
		if _, err := e.admin.DeleteAccessKey(ctx, &awsiam.DeleteAccessKeyInput{UserName: aws.String("ci"), AccessKeyId: m.AccessKeyId}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = e.admin.DeleteAccessKey(ctx, &awsiam.DeleteAccessKeyInput{UserName: aws.String("ci"), AccessKeyId: aws.String(id)})
	wantCode(t, err, "NoSuchEntity", http.StatusNotFound)
	if _, err := e.admin.DeleteUser(ctx, &awsiam.DeleteUserInput{UserName: aws.String("ci")}); err != nil {
		t.Fatal(err)
	}
}

func TestOpenIDConnectProviderOperations(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	out, err := e.admin.CreateOpenIDConnectProvider(ctx, &awsiam.CreateOpenIDConnectProviderInput{
		Url: aws.String("https://token.actions.githubusercontent.com"), ClientIDList: []string{"sts.amazonaws.com"},
		ThumbprintList: []string{"6938fd4d98bab03faadb97b34396831e3780aea1"},
		Tags:           []types.Tag{{Key: aws.String("gatehouse:role:PowerUserAccess"), Value: aws.String("repo:org/app:ref:refs/heads/main")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.OpenIDConnectProviderArn)
	if arn != "arn:aws:iam::"+account+":oidc-provider/token.actions.githubusercontent.com" {
		t.Errorf("ARN %s", arn)
	}
	_, err = e.admin.CreateOpenIDConnectProvider(ctx, &awsiam.CreateOpenIDConnectProviderInput{Url: aws.String("https://token.actions.githubusercontent.com")})
	wantCode(t, err, "EntityAlreadyExists", http.StatusConflict)
	_, err = e.admin.CreateOpenIDConnectProvider(ctx, &awsiam.CreateOpenIDConnectProviderInput{Url: aws.String("http://plain.example")})
	wantCode(t, err, "InvalidInput", http.StatusBadRequest)
	got, err := e.admin.GetOpenIDConnectProvider(ctx, &awsiam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.Url) != "token.actions.githubusercontent.com" || len(got.ClientIDList) != 1 || len(got.Tags) != 1 {
		t.Errorf("provider %+v", got)
	}
	list, err := e.admin.ListOpenIDConnectProviders(ctx, &awsiam.ListOpenIDConnectProvidersInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.OpenIDConnectProviderList) != 1 || aws.ToString(list.OpenIDConnectProviderList[0].Arn) != arn {
		t.Errorf("list %+v", list.OpenIDConnectProviderList)
	}
	if _, err := e.admin.DeleteOpenIDConnectProvider(ctx, &awsiam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	_, err = e.admin.GetOpenIDConnectProvider(ctx, &awsiam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String(arn)})
	wantCode(t, err, "NoSuchEntity", http.StatusNotFound)
}

// TestAutomationAccessDenied: a PowerUserAccess session (no iam:* but
// reads) may not manage automation users, and changes nothing trying.
func TestAutomationAccessDenied(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	if _, err := e.admin.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("ci")}); err != nil {
		t.Fatal(err)
	}
	before := e.w.Snap(t)
	calls := map[string]func() error{
		"CreateUser": func() error {
			_, err := e.power.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("x")})
			return err
		},
		"CreateAccessKey": func() error {
			_, err := e.power.CreateAccessKey(ctx, &awsiam.CreateAccessKeyInput{UserName: aws.String("ci")})
			return err
		},
		"AttachUserPolicy": func() error {
			_, err := e.power.AttachUserPolicy(ctx, &awsiam.AttachUserPolicyInput{UserName: aws.String("ci"), PolicyArn: aws.String(readOnlyARN)})
			return err
		},
		"DeleteUser": func() error {
			_, err := e.power.DeleteUser(ctx, &awsiam.DeleteUserInput{UserName: aws.String("ci")})
			return err
		},
	}
	for name, call := range calls {
		err := call()
		code, status, msg := apiError(t, err)
		if code != "AccessDenied" || status != http.StatusForbidden || !strings.Contains(msg, "is not authorized to perform: iam:"+name) {
			t.Errorf("%s: %s (%d) %q", name, code, status, msg)
		}
	}
	after := e.w.Snap(t)
	if after.Seq != before.Seq {
		t.Errorf("denied calls moved the change counter from %d to %d", before.Seq, after.Seq)
	}
	if after.Events != before.Events+len(calls) {
		t.Errorf("%d audit events for %d denied calls", after.Events-before.Events, len(calls))
	}
}
