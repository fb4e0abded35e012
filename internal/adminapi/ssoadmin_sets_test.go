package adminapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
)

// ssoFixture is a demo server with an sso-admin client signed in as the
// demo admin.
type ssoFixture struct {
	t   *testing.T
	srv *servertest.Server
	c   *ssoadmin.Client
	ins *string
}

func newSSOFixture(t *testing.T) *ssoFixture {
	t.Helper()
	srv := demoServer(t)
	return &ssoFixture{t: t, srv: srv, c: ssoAdmin(srv, adminCreds(t, srv)), ins: aws.String(arn.InstanceARN(srv.Instance.InstanceID))}
}

// createPS creates a permission set and returns its ARN.
func (f *ssoFixture) createPS(name, duration string) *string {
	f.t.Helper()
	in := &ssoadmin.CreatePermissionSetInput{InstanceArn: f.ins, Name: aws.String(name)}
	if duration != "" {
		in.SessionDuration = aws.String(duration)
	}
	out, err := f.c.CreatePermissionSet(f.t.Context(), in)
	if err != nil {
		f.t.Fatalf("CreatePermissionSet %s: %v", name, err)
	}
	return out.PermissionSet.PermissionSetArn
}

// groupID returns the ID of the demo group named name.
func (f *ssoFixture) groupID(name string) string {
	f.t.Helper()
	g, err := f.srv.Store.GetGroupByName(f.t.Context(), name)
	if err != nil {
		f.t.Fatal(err)
	}
	return g.ID
}

func (f *ssoFixture) userID(name string) string {
	f.t.Helper()
	u, err := f.srv.Store.GetUserByName(f.t.Context(), name)
	if err != nil {
		f.t.Fatal(err)
	}
	return u.ID
}

// seq returns the store's change counter.
func (f *ssoFixture) seq() int64 {
	f.t.Helper()
	n, err := f.srv.Store.ChangeSeq(f.t.Context())
	if err != nil {
		f.t.Fatal(err)
	}
	return n
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := errCode(err); got != code {
		t.Errorf("%s: error %v, want %s", what, err, code)
	}
}

func TestSSOAdminPermissionSets(t *testing.T) {
	f := newSSOFixture(t)
	ctx := t.Context()

	out, err := f.c.CreatePermissionSet(ctx, &ssoadmin.CreatePermissionSetInput{
		InstanceArn: f.ins, Name: aws.String("DeployTeam"), Description: aws.String("Deploys"),
		SessionDuration: aws.String("PT8H"), RelayState: aws.String("https://console.aws.amazon.com/ec2/"),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("deploy")}},
	})
	if err != nil {
		t.Fatalf("CreatePermissionSet: %v", err)
	}
	ps := out.PermissionSet
	psARN := ps.PermissionSetArn
	if !strings.HasPrefix(aws.ToString(psARN), "arn:aws:sso:::permissionSet/"+f.srv.Instance.InstanceID+"/ps-") ||
		aws.ToString(ps.SessionDuration) != "PT8H" || aws.ToString(ps.Name) != "DeployTeam" || ps.CreatedDate == nil {
		t.Fatalf("created %+v", ps)
	}
	d, err := f.c.DescribePermissionSet(ctx, &ssoadmin.DescribePermissionSetInput{InstanceArn: f.ins, PermissionSetArn: psARN})
	if err != nil || aws.ToString(d.PermissionSet.Description) != "Deploys" || aws.ToString(d.PermissionSet.RelayState) != "https://console.aws.amazon.com/ec2/" {
		t.Fatalf("DescribePermissionSet = %+v, %v", d, err)
	}
	_, err = f.c.CreatePermissionSet(ctx, &ssoadmin.CreatePermissionSetInput{InstanceArn: f.ins, Name: aws.String("deployteam")})
	wantCode(t, "duplicate name", err, "ConflictException")

	if _, err := f.c.UpdatePermissionSet(ctx, &ssoadmin.UpdatePermissionSetInput{InstanceArn: f.ins, PermissionSetArn: psARN,
		Description: aws.String("Deploys things"), SessionDuration: aws.String("PT4H"), RelayState: aws.String("https://console.aws.amazon.com/s3/")}); err != nil {
		t.Fatalf("UpdatePermissionSet: %v", err)
	}
	d, _ = f.c.DescribePermissionSet(ctx, &ssoadmin.DescribePermissionSetInput{InstanceArn: f.ins, PermissionSetArn: psARN})
	if aws.ToString(d.PermissionSet.Description) != "Deploys things" || aws.ToString(d.PermissionSet.SessionDuration) != "PT4H" || aws.ToString(d.PermissionSet.RelayState) != "https://console.aws.amazon.com/s3/" {
		t.Fatalf("after update: %+v", d.PermissionSet)
	}

	// AWS-managed policies.
	power := aws.String("arn:aws:iam::aws:policy/PowerUserAccess")
	view := aws.String("arn:aws:iam::aws:policy/job-function/ViewOnlyAccess")
	for _, p := range []*string{power, view} {
		if _, err := f.c.AttachManagedPolicyToPermissionSet(ctx, &ssoadmin.AttachManagedPolicyToPermissionSetInput{InstanceArn: f.ins, PermissionSetArn: psARN, ManagedPolicyArn: p}); err != nil {
			t.Fatalf("attach %s: %v", *p, err)
		}
	}
	_, err = f.c.AttachManagedPolicyToPermissionSet(ctx, &ssoadmin.AttachManagedPolicyToPermissionSetInput{InstanceArn: f.ins, PermissionSetArn: psARN, ManagedPolicyArn: power})
	wantCode(t, "attach twice", err, "ConflictException")
	mp, err := f.c.ListManagedPoliciesInPermissionSet(ctx, &ssoadmin.ListManagedPoliciesInPermissionSetInput{InstanceArn: f.ins, PermissionSetArn: psARN})
	if err != nil || len(mp.AttachedManagedPolicies) != 2 || aws.ToString(mp.AttachedManagedPolicies[1].Name) != "ViewOnlyAccess" || aws.ToString(mp.AttachedManagedPolicies[0].Arn) != *power {
		t.Fatalf("ListManagedPoliciesInPermissionSet = %+v, %v", mp, err)
	}
	if _, err := f.c.DetachManagedPolicyFromPermissionSet(ctx, &ssoadmin.DetachManagedPolicyFromPermissionSetInput{InstanceArn: f.ins, PermissionSetArn: psARN, ManagedPolicyArn: view}); err != nil {
		t.Fatal(err)
	}
	_, err = f.c.DetachManagedPolicyFromPermissionSet(ctx, &ssoadmin.DetachManagedPolicyFromPermissionSetInput{InstanceArn: f.ins, PermissionSetArn: psARN, ManagedPolicyArn: view})
	wantCode(t, "detach twice", err, "ResourceNotFoundException")

	// Customer-managed policy references, up to 20 policies in all.
	ref := &types.CustomerManagedPolicyReference{Name: aws.String("S3Deploy"), Path: aws.String("/team/")}
	if _, err := f.c.AttachCustomerManagedPolicyReferenceToPermissionSet(ctx, &ssoadmin.AttachCustomerManagedPolicyReferenceToPermissionSetInput{InstanceArn: f.ins, PermissionSetArn: psARN, CustomerManagedPolicyReference: ref}); err != nil {
		t.Fatal(err)
	}
	_, err = f.c.AttachCustomerManagedPolicyReferenceToPermissionSet(ctx, &ssoadmin.AttachCustomerManagedPolicyReferenceToPermissionSetInput{InstanceArn: f.ins, PermissionSetArn: psARN, CustomerManagedPolicyReference: ref})
	wantCode(t, "attach reference twice", err, "ConflictException")
	for i := range 18 {
		if _, err := f.c.AttachCustomerManagedPolicyReferenceToPermissionSet(ctx, &ssoadmin.AttachCustomerManagedPolicyReferenceToPermissionSetInput{InstanceArn: f.ins, PermissionSetArn: psARN,
			CustomerManagedPolicyReference: &types.CustomerManagedPolicyReference{Name: aws.String(fmt.Sprintf("P%d", i))}}); err != nil {
			t.Fatalf("attach reference %d: %v", i, err)
		}
	}
	_, err = f.c.AttachCustomerManagedPolicyReferenceToPermissionSet(ctx, &ssoadmin.AttachCustomerManagedPolicyReferenceToPermissionSetInput{InstanceArn: f.ins, PermissionSetArn: psARN,
		CustomerManagedPolicyReference: &types.CustomerManagedPolicyReference{Name: aws.String("TwentyFirst")}})
	wantCode(t, "21st policy", err, "ServiceQuotaExceededException")
	_, err = f.c.AttachManagedPolicyToPermissionSet(ctx, &ssoadmin.AttachManagedPolicyToPermissionSetInput{InstanceArn: f.ins, PermissionSetArn: psARN, ManagedPolicyArn: view})
	wantCode(t, "21st managed policy", err, "ServiceQuotaExceededException")
	var refs []types.CustomerManagedPolicyReference
	pager := ssoadmin.NewListCustomerManagedPolicyReferencesInPermissionSetPaginator(f.c, &ssoadmin.ListCustomerManagedPolicyReferencesInPermissionSetInput{InstanceArn: f.ins, PermissionSetArn: psARN, MaxResults: aws.Int32(7)})
	pages := 0
	for pager.HasMorePages() {
		p, err := pager.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		refs = append(refs, p.CustomerManagedPolicyReferences...)
	}
	if pages != 3 || len(refs) != 19 || aws.ToString(refs[0].Path) != "/team/" || aws.ToString(refs[1].Path) != "/" || aws.ToString(refs[18].Name) != "P17" {
		t.Fatalf("%d pages of references: %+v", pages, refs)
	}
	if _, err := f.c.DetachCustomerManagedPolicyReferenceFromPermissionSet(ctx, &ssoadmin.DetachCustomerManagedPolicyReferenceFromPermissionSetInput{InstanceArn: f.ins, PermissionSetArn: psARN, CustomerManagedPolicyReference: ref}); err != nil {
		t.Fatal(err)
	}
	_, err = f.c.DetachCustomerManagedPolicyReferenceFromPermissionSet(ctx, &ssoadmin.DetachCustomerManagedPolicyReferenceFromPermissionSetInput{InstanceArn: f.ins, PermissionSetArn: psARN, CustomerManagedPolicyReference: ref})
	wantCode(t, "detach reference twice", err, "ResourceNotFoundException")

	// The inline policy, validated by the policy engine.
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::deploy/*"}]}`
	g, err := f.c.GetInlinePolicyForPermissionSet(ctx, &ssoadmin.GetInlinePolicyForPermissionSetInput{InstanceArn: f.ins, PermissionSetArn: psARN})
	if err != nil || aws.ToString(g.InlinePolicy) != "" {
		t.Fatalf("GetInlinePolicyForPermissionSet before = %+v, %v", g, err)
	}
	if _, err := f.c.PutInlinePolicyToPermissionSet(ctx, &ssoadmin.PutInlinePolicyToPermissionSetInput{InstanceArn: f.ins, PermissionSetArn: psARN, InlinePolicy: aws.String(doc)}); err != nil {
		t.Fatal(err)
	}
	g, err = f.c.GetInlinePolicyForPermissionSet(ctx, &ssoadmin.GetInlinePolicyForPermissionSetInput{InstanceArn: f.ins, PermissionSetArn: psARN})
	if err != nil || aws.ToString(g.InlinePolicy) != doc {
		t.Fatalf("GetInlinePolicyForPermissionSet = %+v, %v", g, err)
	}
	for name, bad := range map[string]string{
		"not JSON":     `{"Version":`,
		"bad effect":   `{"Version":"2012-10-17","Statement":[{"Effect":"Perhaps","Action":"s3:*","Resource":"*"}]}`,
		"over 32768 B": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}` + strings.Repeat(" ", 32768),
	} {
		_, err = f.c.PutInlinePolicyToPermissionSet(ctx, &ssoadmin.PutInlinePolicyToPermissionSetInput{InstanceArn: f.ins, PermissionSetArn: psARN, InlinePolicy: aws.String(bad)})
		wantCode(t, "inline policy "+name, err, "ValidationException")
	}
	if _, err := f.c.DeleteInlinePolicyFromPermissionSet(ctx, &ssoadmin.DeleteInlinePolicyFromPermissionSetInput{InstanceArn: f.ins, PermissionSetArn: psARN}); err != nil {
		t.Fatal(err)
	}
	if g, _ := f.c.GetInlinePolicyForPermissionSet(ctx, &ssoadmin.GetInlinePolicyForPermissionSetInput{InstanceArn: f.ins, PermissionSetArn: psARN}); aws.ToString(g.InlinePolicy) != "" {
		t.Fatalf("inline policy after delete = %q", aws.ToString(g.InlinePolicy))
	}

	// The permissions boundary.
	_, err = f.c.GetPermissionsBoundaryForPermissionSet(ctx, &ssoadmin.GetPermissionsBoundaryForPermissionSetInput{InstanceArn: f.ins, PermissionSetArn: psARN})
	wantCode(t, "boundary before", err, "ResourceNotFoundException")
	if _, err := f.c.PutPermissionsBoundaryToPermissionSet(ctx, &ssoadmin.PutPermissionsBoundaryToPermissionSetInput{InstanceArn: f.ins, PermissionSetArn: psARN,
		PermissionsBoundary: &types.PermissionsBoundary{CustomerManagedPolicyReference: &types.CustomerManagedPolicyReference{Name: aws.String("Bound"), Path: aws.String("/b/")}}}); err != nil {
		t.Fatal(err)
	}
	b, err := f.c.GetPermissionsBoundaryForPermissionSet(ctx, &ssoadmin.GetPermissionsBoundaryForPermissionSetInput{InstanceArn: f.ins, PermissionSetArn: psARN})
	if err != nil || b.PermissionsBoundary.CustomerManagedPolicyReference == nil || aws.ToString(b.PermissionsBoundary.CustomerManagedPolicyReference.Path) != "/b/" || b.PermissionsBoundary.ManagedPolicyArn != nil {
		t.Fatalf("GetPermissionsBoundaryForPermissionSet = %+v, %v", b, err)
	}
	_, err = f.c.PutPermissionsBoundaryToPermissionSet(ctx, &ssoadmin.PutPermissionsBoundaryToPermissionSetInput{InstanceArn: f.ins, PermissionSetArn: psARN,
		PermissionsBoundary: &types.PermissionsBoundary{ManagedPolicyArn: power, CustomerManagedPolicyReference: ref}})
	wantCode(t, "boundary with both", err, "ValidationException")
	if _, err := f.c.PutPermissionsBoundaryToPermissionSet(ctx, &ssoadmin.PutPermissionsBoundaryToPermissionSetInput{InstanceArn: f.ins, PermissionSetArn: psARN,
		PermissionsBoundary: &types.PermissionsBoundary{ManagedPolicyArn: power}}); err != nil {
		t.Fatal(err)
	}
	if b, _ := f.c.GetPermissionsBoundaryForPermissionSet(ctx, &ssoadmin.GetPermissionsBoundaryForPermissionSetInput{InstanceArn: f.ins, PermissionSetArn: psARN}); aws.ToString(b.PermissionsBoundary.ManagedPolicyArn) != *power {
		t.Fatalf("managed boundary = %+v", b.PermissionsBoundary)
	}
	if _, err := f.c.DeletePermissionsBoundaryFromPermissionSet(ctx, &ssoadmin.DeletePermissionsBoundaryFromPermissionSetInput{InstanceArn: f.ins, PermissionSetArn: psARN}); err != nil {
		t.Fatal(err)
	}
	_, err = f.c.DeletePermissionsBoundaryFromPermissionSet(ctx, &ssoadmin.DeletePermissionsBoundaryFromPermissionSetInput{InstanceArn: f.ins, PermissionSetArn: psARN})
	wantCode(t, "delete boundary twice", err, "ResourceNotFoundException")

	// Tags, on the permission set and on the instance, with and without
	// InstanceArn.
	for _, res := range []*string{psARN, f.ins} {
		if _, err := f.c.TagResource(ctx, &ssoadmin.TagResourceInput{ResourceArn: res, Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}}); err != nil {
			t.Fatalf("TagResource %s: %v", *res, err)
		}
		if _, err := f.c.TagResource(ctx, &ssoadmin.TagResourceInput{InstanceArn: f.ins, ResourceArn: res, Tags: []types.Tag{{Key: aws.String("owner"), Value: aws.String("ops")}}}); err != nil {
			t.Fatalf("TagResource %s with InstanceArn: %v", *res, err)
		}
		lt, err := f.c.ListTagsForResource(ctx, &ssoadmin.ListTagsForResourceInput{InstanceArn: f.ins, ResourceArn: res})
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, tg := range lt.Tags {
			keys = append(keys, aws.ToString(tg.Key)+"="+aws.ToString(tg.Value))
		}
		want := []string{"env=prod", "owner=ops"}
		if res == psARN {
			want = []string{"team=deploy", "env=prod", "owner=ops"}
		}
		if !slices.Equal(keys, want) {
			t.Errorf("tags of %s = %v, want %v", *res, keys, want)
		}
		if _, err := f.c.UntagResource(ctx, &ssoadmin.UntagResourceInput{ResourceArn: res, TagKeys: []string{"env"}}); err != nil {
			t.Fatal(err)
		}
		if lt, _ := f.c.ListTagsForResource(ctx, &ssoadmin.ListTagsForResourceInput{ResourceArn: res}); slices.ContainsFunc(lt.Tags, func(tg types.Tag) bool { return aws.ToString(tg.Key) == "env" }) {
			t.Errorf("env still tags %s: %+v", *res, lt.Tags)
		}
	}
	_, err = f.c.TagResource(ctx, &ssoadmin.TagResourceInput{InstanceArn: aws.String("arn:aws:sso:::instance/ssoins-00000000000000ff"), ResourceArn: psARN, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	wantCode(t, "tag with another instance", err, "ResourceNotFoundException")
	many := make([]types.Tag, 74)
	for i := range many {
		many[i] = types.Tag{Key: aws.String(fmt.Sprintf("k%02d", i)), Value: aws.String("v")}
	}
	_, err = f.c.TagResource(ctx, &ssoadmin.TagResourceInput{ResourceArn: psARN, Tags: many})
	wantCode(t, "76 tags", err, "ServiceQuotaExceededException")

	if _, err := f.c.DeletePermissionSet(ctx, &ssoadmin.DeletePermissionSetInput{InstanceArn: f.ins, PermissionSetArn: psARN}); err != nil {
		t.Fatalf("DeletePermissionSet: %v", err)
	}
	_, err = f.c.DescribePermissionSet(ctx, &ssoadmin.DescribePermissionSetInput{InstanceArn: f.ins, PermissionSetArn: psARN})
	wantCode(t, "describe deleted", err, "ResourceNotFoundException")
	_, err = f.c.DeletePermissionSet(ctx, &ssoadmin.DeletePermissionSetInput{InstanceArn: f.ins, PermissionSetArn: psARN})
	wantCode(t, "delete deleted", err, "ResourceNotFoundException")
	events(t, f.srv, "CreatePermissionSet", "")
	events(t, f.srv, "DescribePermissionSet", "")
	events(t, f.srv, "CreatePermissionSet", "ConflictException")
}

// opStatus polls Describe…Status until it leaves IN_PROGRESS, as Terraform
// and the CLI do.
func (f *ssoFixture) creationStatus(id *string) *types.AccountAssignmentOperationStatus {
	f.t.Helper()
	for range 50 {
		d, err := f.c.DescribeAccountAssignmentCreationStatus(f.t.Context(), &ssoadmin.DescribeAccountAssignmentCreationStatusInput{InstanceArn: f.ins, AccountAssignmentCreationRequestId: id})
		if err != nil {
			f.t.Fatalf("DescribeAccountAssignmentCreationStatus: %v", err)
		}
		if d.AccountAssignmentCreationStatus.Status != types.StatusValuesInProgress {
			return d.AccountAssignmentCreationStatus
		}
	}
	f.t.Fatalf("creation %s still IN_PROGRESS", *id)
	return nil
}

func TestSSOAdminAssignmentsAndProvisioning(t *testing.T) {
	f := newSSOFixture(t)
	ctx := t.Context()
	dev := "111111111111"
	psARN := f.createPS("DeployTeam", "PT8H")
	if _, err := f.c.AttachManagedPolicyToPermissionSet(ctx, &ssoadmin.AttachManagedPolicyToPermissionSetInput{InstanceArn: f.ins, PermissionSetArn: psARN, ManagedPolicyArn: aws.String("arn:aws:iam::aws:policy/PowerUserAccess")}); err != nil {
		t.Fatal(err)
	}
	devs := f.groupID("Developers")

	// ed.developer's PowerUserAccess session on dev sees the roles there.
	edPower := roleCreds(t, f.srv, "ed.developer", "dev", "PowerUserAccess")
	roles := func() []string {
		t.Helper()
		out, err := iamClient(f.srv, edPower).ListRoles(ctx, &iam.ListRolesInput{})
		if err != nil {
			t.Fatalf("iam ListRoles: %v", err)
		}
		var names []string
		for _, r := range out.Roles {
			names = append(names, aws.ToString(r.RoleName))
		}
		return names
	}
	hasDeployRole := func(names []string) bool {
		return slices.ContainsFunc(names, func(n string) bool { return strings.HasPrefix(n, "AWSReservedSSO_DeployTeam_") })
	}
	if hasDeployRole(roles()) {
		t.Fatal("DeployTeam role before any assignment")
	}

	assign := &ssoadmin.CreateAccountAssignmentInput{InstanceArn: f.ins, PermissionSetArn: psARN, TargetId: aws.String(dev),
		TargetType: types.TargetTypeAwsAccount, PrincipalType: types.PrincipalTypeGroup, PrincipalId: aws.String(devs)}
	cr, err := f.c.CreateAccountAssignment(ctx, assign)
	if err != nil {
		t.Fatalf("CreateAccountAssignment: %v", err)
	}
	st := cr.AccountAssignmentCreationStatus
	if st.Status != types.StatusValuesInProgress || len(aws.ToString(st.RequestId)) != 36 || aws.ToString(st.TargetId) != dev || aws.ToString(st.PrincipalId) != devs {
		t.Fatalf("creation status %+v", st)
	}
	if done := f.creationStatus(st.RequestId); done.Status != types.StatusValuesSucceeded || aws.ToString(done.PermissionSetArn) != *psARN {
		t.Fatalf("final creation status %+v", done)
	}
	cl, err := f.c.ListAccountAssignmentCreationStatus(ctx, &ssoadmin.ListAccountAssignmentCreationStatusInput{InstanceArn: f.ins, Filter: &types.OperationStatusFilter{Status: types.StatusValuesSucceeded}})
	if err != nil || !slices.ContainsFunc(cl.AccountAssignmentsCreationStatus, func(m types.AccountAssignmentOperationStatusMetadata) bool {
		return aws.ToString(m.RequestId) == *st.RequestId
	}) {
		t.Fatalf("ListAccountAssignmentCreationStatus = %+v, %v", cl, err)
	}
	if cl, _ := f.c.ListAccountAssignmentCreationStatus(ctx, &ssoadmin.ListAccountAssignmentCreationStatusInput{InstanceArn: f.ins, Filter: &types.OperationStatusFilter{Status: types.StatusValuesFailed}}); len(cl.AccountAssignmentsCreationStatus) != 0 {
		t.Fatalf("FAILED creations: %+v", cl.AccountAssignmentsCreationStatus)
	}
	// Assigning again succeeds again.
	if again, err := f.c.CreateAccountAssignment(ctx, assign); err != nil || f.creationStatus(again.AccountAssignmentCreationStatus.RequestId).Status != types.StatusValuesSucceeded {
		t.Fatalf("repeated CreateAccountAssignment: %v", err)
	}

	la, err := f.c.ListAccountAssignments(ctx, &ssoadmin.ListAccountAssignmentsInput{InstanceArn: f.ins, AccountId: aws.String(dev), PermissionSetArn: psARN})
	if err != nil || len(la.AccountAssignments) != 1 || aws.ToString(la.AccountAssignments[0].PrincipalId) != devs || la.AccountAssignments[0].PrincipalType != types.PrincipalTypeGroup {
		t.Fatalf("ListAccountAssignments = %+v, %v", la, err)
	}
	fp, err := f.c.ListAccountAssignmentsForPrincipal(ctx, &ssoadmin.ListAccountAssignmentsForPrincipalInput{InstanceArn: f.ins, PrincipalId: aws.String(devs), PrincipalType: types.PrincipalTypeGroup,
		Filter: &types.ListAccountAssignmentsFilter{AccountId: aws.String(dev)}})
	if err != nil || !slices.ContainsFunc(fp.AccountAssignments, func(a types.AccountAssignmentForPrincipal) bool { return aws.ToString(a.PermissionSetArn) == *psARN }) {
		t.Fatalf("ListAccountAssignmentsForPrincipal = %+v, %v", fp, err)
	}
	if !hasDeployRole(roles()) {
		t.Fatal("iam ListRoles in dev does not show the DeployTeam role after the assignment")
	}

	// Provisioning status: a policy change makes dev stale until provisioned.
	provisioned := func(status types.ProvisioningStatus) ([]string, bool) {
		t.Helper()
		a, err := f.c.ListAccountsForProvisionedPermissionSet(ctx, &ssoadmin.ListAccountsForProvisionedPermissionSetInput{InstanceArn: f.ins, PermissionSetArn: psARN, ProvisioningStatus: status})
		if err != nil {
			t.Fatal(err)
		}
		p, err := f.c.ListPermissionSetsProvisionedToAccount(ctx, &ssoadmin.ListPermissionSetsProvisionedToAccountInput{InstanceArn: f.ins, AccountId: aws.String(dev), ProvisioningStatus: status})
		if err != nil {
			t.Fatal(err)
		}
		return a.AccountIds, slices.Contains(p.PermissionSets, *psARN)
	}
	if accts, in := provisioned(types.ProvisioningStatusLatestPermissionSetProvisioned); !slices.Equal(accts, []string{dev}) || !in {
		t.Fatalf("LATEST after assigning: %v, %v", accts, in)
	}
	if _, err := f.c.PutInlinePolicyToPermissionSet(ctx, &ssoadmin.PutInlinePolicyToPermissionSetInput{InstanceArn: f.ins, PermissionSetArn: psARN,
		InlinePolicy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	if accts, in := provisioned(types.ProvisioningStatusLatestPermissionSetNotProvisioned); !slices.Equal(accts, []string{dev}) || !in {
		t.Fatalf("NOT_PROVISIONED after a change: %v, %v", accts, in)
	}
	if accts, in := provisioned(types.ProvisioningStatusLatestPermissionSetProvisioned); len(accts) != 0 || in {
		t.Fatalf("LATEST after a change: %v, %v", accts, in)
	}
	pr, err := f.c.ProvisionPermissionSet(ctx, &ssoadmin.ProvisionPermissionSetInput{InstanceArn: f.ins, PermissionSetArn: psARN, TargetType: types.ProvisionTargetTypeAllProvisionedAccounts})
	if err != nil || pr.PermissionSetProvisioningStatus.Status != types.StatusValuesInProgress {
		t.Fatalf("ProvisionPermissionSet = %+v, %v", pr, err)
	}
	ds, err := f.c.DescribePermissionSetProvisioningStatus(ctx, &ssoadmin.DescribePermissionSetProvisioningStatusInput{InstanceArn: f.ins, ProvisionPermissionSetRequestId: pr.PermissionSetProvisioningStatus.RequestId})
	if err != nil || ds.PermissionSetProvisioningStatus.Status != types.StatusValuesSucceeded {
		t.Fatalf("DescribePermissionSetProvisioningStatus = %+v, %v", ds, err)
	}
	if accts, in := provisioned(types.ProvisioningStatusLatestPermissionSetProvisioned); !slices.Equal(accts, []string{dev}) || !in {
		t.Fatalf("LATEST after provisioning: %v, %v", accts, in)
	}
	pl, err := f.c.ListPermissionSetProvisioningStatus(ctx, &ssoadmin.ListPermissionSetProvisioningStatusInput{InstanceArn: f.ins})
	if err != nil || len(pl.PermissionSetsProvisioningStatus) != 1 {
		t.Fatalf("ListPermissionSetProvisioningStatus = %+v, %v", pl, err)
	}

	// A set provisioned nowhere provisions fine; with AWS_ACCOUNT it gets a role.
	idle := f.createPS("Idle", "")
	pr, err = f.c.ProvisionPermissionSet(ctx, &ssoadmin.ProvisionPermissionSetInput{InstanceArn: f.ins, PermissionSetArn: idle, TargetType: types.ProvisionTargetTypeAllProvisionedAccounts})
	if err != nil {
		t.Fatalf("ProvisionPermissionSet of a set provisioned nowhere: %v", err)
	}
	if ds, _ := f.c.DescribePermissionSetProvisioningStatus(ctx, &ssoadmin.DescribePermissionSetProvisioningStatusInput{InstanceArn: f.ins, ProvisionPermissionSetRequestId: pr.PermissionSetProvisioningStatus.RequestId}); ds.PermissionSetProvisioningStatus.Status != types.StatusValuesSucceeded {
		t.Fatalf("status %+v", ds.PermissionSetProvisioningStatus)
	}
	_, err = f.c.ProvisionPermissionSet(ctx, &ssoadmin.ProvisionPermissionSetInput{InstanceArn: f.ins, PermissionSetArn: idle, TargetType: types.ProvisionTargetTypeAwsAccount})
	wantCode(t, "AWS_ACCOUNT without TargetId", err, "ValidationException")
	_, err = f.c.ProvisionPermissionSet(ctx, &ssoadmin.ProvisionPermissionSetInput{InstanceArn: f.ins, PermissionSetArn: idle, TargetType: types.ProvisionTargetTypeAwsAccount, TargetId: aws.String("999999999999")})
	wantCode(t, "unknown account", err, "ResourceNotFoundException")

	// A missing customer-managed policy makes the assignment FAILED.
	cmp := f.createPS("NeedsPolicy", "")
	if _, err := f.c.AttachCustomerManagedPolicyReferenceToPermissionSet(ctx, &ssoadmin.AttachCustomerManagedPolicyReferenceToPermissionSetInput{InstanceArn: f.ins, PermissionSetArn: cmp,
		CustomerManagedPolicyReference: &types.CustomerManagedPolicyReference{Name: aws.String("Absent")}}); err != nil {
		t.Fatal(err)
	}
	fc, err := f.c.CreateAccountAssignment(ctx, &ssoadmin.CreateAccountAssignmentInput{InstanceArn: f.ins, PermissionSetArn: cmp, TargetId: aws.String(dev),
		TargetType: types.TargetTypeAwsAccount, PrincipalType: types.PrincipalTypeUser, PrincipalId: aws.String(f.userID("ed.developer"))})
	if err != nil {
		t.Fatal(err)
	}
	if done := f.creationStatus(fc.AccountAssignmentCreationStatus.RequestId); done.Status != types.StatusValuesFailed || !strings.Contains(aws.ToString(done.FailureReason), "policy/Absent") {
		t.Fatalf("creation with a missing policy: %+v", done)
	}

	// Deleting an assigned set is a conflict.
	_, err = f.c.DeletePermissionSet(ctx, &ssoadmin.DeletePermissionSetInput{InstanceArn: f.ins, PermissionSetArn: psARN})
	wantCode(t, "delete an assigned set", err, "ConflictException")

	// ed signs in to DeployTeam; deleting the assignment ends the
	// credentials at once and removes the role.
	edDeploy := roleCreds(t, f.srv, "ed.developer", "dev", "DeployTeam")
	if _, err := stsClient(f.srv, edDeploy).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("DeployTeam credentials before the deletion: %v", err)
	}
	del, err := f.c.DeleteAccountAssignment(ctx, &ssoadmin.DeleteAccountAssignmentInput{InstanceArn: f.ins, PermissionSetArn: psARN, TargetId: aws.String(dev),
		TargetType: types.TargetTypeAwsAccount, PrincipalType: types.PrincipalTypeGroup, PrincipalId: aws.String(devs)})
	if err != nil || del.AccountAssignmentDeletionStatus.Status != types.StatusValuesInProgress {
		t.Fatalf("DeleteAccountAssignment = %+v, %v", del, err)
	}
	dd, err := f.c.DescribeAccountAssignmentDeletionStatus(ctx, &ssoadmin.DescribeAccountAssignmentDeletionStatusInput{InstanceArn: f.ins, AccountAssignmentDeletionRequestId: del.AccountAssignmentDeletionStatus.RequestId})
	if err != nil || dd.AccountAssignmentDeletionStatus.Status != types.StatusValuesSucceeded {
		t.Fatalf("DescribeAccountAssignmentDeletionStatus = %+v, %v", dd, err)
	}
	if dl, err := f.c.ListAccountAssignmentDeletionStatus(ctx, &ssoadmin.ListAccountAssignmentDeletionStatusInput{InstanceArn: f.ins}); err != nil || len(dl.AccountAssignmentsDeletionStatus) != 1 {
		t.Fatalf("ListAccountAssignmentDeletionStatus = %+v, %v", dl, err)
	}
	_, err = stsClient(f.srv, edDeploy).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err == nil {
		t.Fatal("DeployTeam credentials still work after the assignment was deleted")
	}
	if hasDeployRole(roles()) {
		t.Fatal("DeployTeam role still listed after the last assignment went")
	}
	_, err = f.c.DeleteAccountAssignment(ctx, &ssoadmin.DeleteAccountAssignmentInput{InstanceArn: f.ins, PermissionSetArn: psARN, TargetId: aws.String(dev),
		TargetType: types.TargetTypeAwsAccount, PrincipalType: types.PrincipalTypeGroup, PrincipalId: aws.String(devs)})
	wantCode(t, "delete a deleted assignment", err, "ResourceNotFoundException")
	if _, err := f.c.DeletePermissionSet(ctx, &ssoadmin.DeletePermissionSetInput{InstanceArn: f.ins, PermissionSetArn: psARN}); err != nil {
		t.Fatalf("delete after the assignment went: %v", err)
	}

	// Unknown and malformed request IDs.
	_, err = f.c.DescribeAccountAssignmentCreationStatus(ctx, &ssoadmin.DescribeAccountAssignmentCreationStatusInput{InstanceArn: f.ins, AccountAssignmentCreationRequestId: aws.String("2f1d6a0e-5b7c-4d3e-9f8a-0b1c2d3e4f5a")})
	wantCode(t, "unknown creation request", err, "ResourceNotFoundException")
	_, err = f.c.DescribeAccountAssignmentCreationStatus(ctx, &ssoadmin.DescribeAccountAssignmentCreationStatusInput{InstanceArn: f.ins, AccountAssignmentCreationRequestId: del.AccountAssignmentDeletionStatus.RequestId})
	wantCode(t, "a deletion's ID as a creation's", err, "ResourceNotFoundException")
	_, err = f.c.DescribePermissionSetProvisioningStatus(ctx, &ssoadmin.DescribePermissionSetProvisioningStatusInput{InstanceArn: f.ins, ProvisionPermissionSetRequestId: aws.String("not-a-uuid")})
	wantCode(t, "malformed provisioning request", err, "ValidationException")
	events(t, f.srv, "CreateAccountAssignment", "")
	events(t, f.srv, "DeleteAccountAssignment", "")
	events(t, f.srv, "ProvisionPermissionSet", "")
}

func iamClient(srv *servertest.Server, creds aws.Credentials) *iam.Client {
	return iam.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials(creds)}, func(o *iam.Options) { o.BaseEndpoint = aws.String(srv.URL) })
}

func stsClient(srv *servertest.Server, creds aws.Credentials) *sts.Client {
	return sts.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials(creds)}, func(o *sts.Options) { o.BaseEndpoint = aws.String(srv.URL) })
}

func TestSSOAdminPagination(t *testing.T) {
	f := newSSOFixture(t)
	ctx := t.Context()
	var want []string
	before, err := f.c.ListPermissionSets(ctx, &ssoadmin.ListPermissionSetsInput{InstanceArn: f.ins})
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, before.PermissionSets...)
	users := []string{}
	for i := range 5 {
		want = append(want, *f.createPS(fmt.Sprintf("Set%d", i), ""))
	}
	slices.Sort(want)
	var got []string
	var tokens []string
	p := ssoadmin.NewListPermissionSetsPaginator(f.c, &ssoadmin.ListPermissionSetsInput{InstanceArn: f.ins, MaxResults: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.PermissionSets) > 2 {
			t.Fatalf("page of %d", len(page.PermissionSets))
		}
		got = append(got, page.PermissionSets...)
		if page.NextToken != nil {
			tokens = append(tokens, *page.NextToken)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("paged permission sets\n got %v\nwant %v", got, want)
	}
	if len(tokens) != (len(want)+1)/2-1 {
		t.Fatalf("%d tokens for %d sets in pages of 2", len(tokens), len(want))
	}

	// A token is bound to its query.
	_, err = f.c.ListAccountsForProvisionedPermissionSet(ctx, &ssoadmin.ListAccountsForProvisionedPermissionSetInput{InstanceArn: f.ins, PermissionSetArn: aws.String(want[0]), NextToken: aws.String(tokens[0])})
	wantCode(t, "token of another query", err, "ValidationException")
	_, err = f.c.ListPermissionSets(ctx, &ssoadmin.ListPermissionSetsInput{InstanceArn: f.ins, NextToken: aws.String("garbage!")})
	wantCode(t, "garbage token", err, "ValidationException")

	// Assignments of one set in one account, across pages.
	for _, name := range []string{"ed.developer", "alice@company.com"} {
		users = append(users, f.userID(name))
	}
	ps := aws.String(want[len(want)-1])
	var reqs []string
	for _, u := range users {
		out, err := f.c.CreateAccountAssignment(ctx, &ssoadmin.CreateAccountAssignmentInput{InstanceArn: f.ins, PermissionSetArn: ps, TargetId: aws.String("111111111111"),
			TargetType: types.TargetTypeAwsAccount, PrincipalType: types.PrincipalTypeUser, PrincipalId: aws.String(u)})
		if err != nil {
			t.Fatal(err)
		}
		reqs = append(reqs, *out.AccountAssignmentCreationStatus.RequestId)
	}
	if _, err := f.c.CreateAccountAssignment(ctx, &ssoadmin.CreateAccountAssignmentInput{InstanceArn: f.ins, PermissionSetArn: ps, TargetId: aws.String("111111111111"),
		TargetType: types.TargetTypeAwsAccount, PrincipalType: types.PrincipalTypeGroup, PrincipalId: aws.String(f.groupID("Developers"))}); err != nil {
		t.Fatal(err)
	}
	var principals []string
	ap := ssoadmin.NewListAccountAssignmentsPaginator(f.c, &ssoadmin.ListAccountAssignmentsInput{InstanceArn: f.ins, AccountId: aws.String("111111111111"), PermissionSetArn: ps, MaxResults: aws.Int32(1)})
	pages := 0
	for ap.HasMorePages() {
		page, err := ap.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, a := range page.AccountAssignments {
			principals = append(principals, aws.ToString(a.PrincipalId))
		}
	}
	if pages != 3 || len(principals) != 3 || slices.Compact(slices.Sorted(slices.Values(principals))) == nil || len(slices.Compact(slices.Sorted(slices.Values(principals)))) != 3 {
		t.Fatalf("%d pages of assignments: %v", pages, principals)
	}

	// Creation statuses, oldest first, one a page.
	var seen []string
	sp := ssoadmin.NewListAccountAssignmentCreationStatusPaginator(f.c, &ssoadmin.ListAccountAssignmentCreationStatusInput{InstanceArn: f.ins, MaxResults: aws.Int32(1)})
	for sp.HasMorePages() {
		page, err := sp.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page.AccountAssignmentsCreationStatus {
			seen = append(seen, aws.ToString(m.RequestId))
		}
	}
	// The demo world's own assignments come first.
	if len(seen) < 3 || !slices.Equal(seen[len(seen)-3:len(seen)-1], reqs) || len(slices.Compact(slices.Sorted(slices.Values(seen)))) != len(seen) {
		t.Fatalf("creation statuses %v, want %v last but one, each once", seen, reqs)
	}
	_, err = f.c.ListPermissionSets(ctx, &ssoadmin.ListPermissionSetsInput{InstanceArn: f.ins, MaxResults: aws.Int32(101)})
	wantCode(t, "MaxResults 101", err, "ValidationException")
}

// TestSSOAdminAccessDenied checks that a management-account session whose
// permission set lacks an action is refused it, with AWS's message, and
// that a member-account session is refused everything.
func TestSSOAdminAccessDenied(t *testing.T) {
	f := newSSOFixture(t)
	ctx := t.Context()
	reader := f.createPS("SSOReader", "")
	if _, err := f.c.PutInlinePolicyToPermissionSet(ctx, &ssoadmin.PutInlinePolicyToPermissionSetInput{InstanceArn: f.ins, PermissionSetArn: reader,
		InlinePolicy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sso:List*","sso:Describe*","sso:Get*"],"Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	cr, err := f.c.CreateAccountAssignment(ctx, &ssoadmin.CreateAccountAssignmentInput{InstanceArn: f.ins, PermissionSetArn: reader, TargetId: aws.String(f.srv.Instance.ManagementAccountID),
		TargetType: types.TargetTypeAwsAccount, PrincipalType: types.PrincipalTypeUser, PrincipalId: aws.String(f.userID("ed.developer"))})
	if err != nil || f.creationStatus(cr.AccountAssignmentCreationStatus.RequestId).Status != types.StatusValuesSucceeded {
		t.Fatalf("assign SSOReader: %v", err)
	}
	ed := ssoAdmin(f.srv, roleCreds(t, f.srv, "ed.developer", "management", "SSOReader"))
	if _, err := ed.ListPermissionSets(ctx, &ssoadmin.ListPermissionSetsInput{InstanceArn: f.ins}); err != nil {
		t.Fatalf("ListPermissionSets as SSOReader: %v", err)
	}
	if _, err := ed.DescribePermissionSet(ctx, &ssoadmin.DescribePermissionSetInput{InstanceArn: f.ins, PermissionSetArn: reader}); err != nil {
		t.Fatalf("DescribePermissionSet as SSOReader: %v", err)
	}
	seq := f.seq()
	calls := []struct {
		action, resource string
		call             func(c *ssoadmin.Client) error
	}{
		{"sso:CreatePermissionSet", *f.ins, func(c *ssoadmin.Client) error {
			_, err := c.CreatePermissionSet(ctx, &ssoadmin.CreatePermissionSetInput{InstanceArn: f.ins, Name: aws.String("Sneaky")})
			return err
		}},
		{"sso:DeletePermissionSet", *f.ins, func(c *ssoadmin.Client) error {
			_, err := c.DeletePermissionSet(ctx, &ssoadmin.DeletePermissionSetInput{InstanceArn: f.ins, PermissionSetArn: reader})
			return err
		}},
		{"sso:PutInlinePolicyToPermissionSet", *f.ins, func(c *ssoadmin.Client) error {
			_, err := c.PutInlinePolicyToPermissionSet(ctx, &ssoadmin.PutInlinePolicyToPermissionSetInput{InstanceArn: f.ins, PermissionSetArn: reader, InlinePolicy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)})
			return err
		}},
		{"sso:CreateAccountAssignment", *f.ins, func(c *ssoadmin.Client) error {
			_, err := c.CreateAccountAssignment(ctx, &ssoadmin.CreateAccountAssignmentInput{InstanceArn: f.ins, PermissionSetArn: reader, TargetId: aws.String("111111111111"),
				TargetType: types.TargetTypeAwsAccount, PrincipalType: types.PrincipalTypeUser, PrincipalId: aws.String(f.userID("ed.developer"))})
			return err
		}},
		{"sso:TagResource", *reader, func(c *ssoadmin.Client) error {
			_, err := c.TagResource(ctx, &ssoadmin.TagResourceInput{ResourceArn: reader, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
			return err
		}},
	}
	for _, tc := range calls {
		err := tc.call(ed)
		var msg string
		if ae := apiError(err); ae != nil {
			msg = ae.ErrorMessage()
		}
		if errCode(err) != "AccessDeniedException" || !strings.Contains(msg, ":assumed-role/AWSReservedSSO_SSOReader_") ||
			!strings.HasSuffix(msg, " is not authorized to perform: "+tc.action+" on resource: "+tc.resource+" because no identity-based policy allows the "+tc.action+" action") {
			t.Errorf("%s as SSOReader: %v", tc.action, err)
		}
	}
	// A session in a member account may call nothing, even with
	// AdministratorAccess there.
	memberAdmin := ssoAdmin(f.srv, roleCreds(t, f.srv, "alice@company.com", "dev", "AdministratorAccess"))
	for _, tc := range calls {
		if err := tc.call(memberAdmin); errCode(err) != "AccessDeniedException" {
			t.Errorf("%s from a member account: %v", tc.action, err)
		}
	}
	if after := f.seq(); after != seq {
		t.Errorf("refused calls moved the change counter from %d to %d", seq, after)
	}
	events(t, f.srv, "CreatePermissionSet", "AccessDeniedException")
}

// TestSSOAdminMalformedChangesNothing sends requests with missing,
// malformed, out-of-range or unknown members to every kind of write and
// checks each gets the documented error and none moves the change counter.
func TestSSOAdminMalformedChangesNothing(t *testing.T) {
	f := newSSOFixture(t)
	ctx := t.Context()
	ps := f.createPS("Target", "")
	otherPS := aws.String("arn:aws:sso:::permissionSet/" + f.srv.Instance.InstanceID + "/ps-00000000000000ff")
	foreignPS := aws.String("arn:aws:sso:::permissionSet/ssoins-00000000000000ff/ps-00000000000000ff")
	user := aws.String(f.userID("ed.developer"))
	seq := f.seq()
	cases := []struct {
		name, code string
		call       func() error
	}{
		{"create without name", "ValidationException", func() error {
			return f.raw("CreatePermissionSet", `{"InstanceArn":"`+*f.ins+`"}`)
		}},
		{"create with a numeric name", "SerializationException", func() error {
			return f.raw("CreatePermissionSet", `{"InstanceArn":"`+*f.ins+`","Name":7}`)
		}},
		{"create with bad JSON", "SerializationException", func() error {
			return f.raw("CreatePermissionSet", `{"InstanceArn":`)
		}},
		{"assignment without a principal", "ValidationException", func() error {
			return f.raw("CreateAccountAssignment", `{"InstanceArn":"`+*f.ins+`","PermissionSetArn":"`+*ps+`","TargetId":"111111111111","TargetType":"AWS_ACCOUNT"}`)
		}},
		{"create PT13H", "ValidationException", func() error {
			_, err := f.c.CreatePermissionSet(ctx, &ssoadmin.CreatePermissionSetInput{InstanceArn: f.ins, Name: aws.String("Long"), SessionDuration: aws.String("PT13H")})
			return err
		}},
		{"create with a bad instance ARN", "ValidationException", func() error {
			_, err := f.c.CreatePermissionSet(ctx, &ssoadmin.CreatePermissionSetInput{InstanceArn: aws.String("arn:aws:sso:::instance/nope"), Name: aws.String("X")})
			return err
		}},
		{"create in another instance", "ResourceNotFoundException", func() error {
			_, err := f.c.CreatePermissionSet(ctx, &ssoadmin.CreatePermissionSetInput{InstanceArn: aws.String("arn:aws:sso:::instance/ssoins-00000000000000ff"), Name: aws.String("X")})
			return err
		}},
		{"create with a bad name", "ValidationException", func() error {
			_, err := f.c.CreatePermissionSet(ctx, &ssoadmin.CreatePermissionSetInput{InstanceArn: f.ins, Name: aws.String("has space")})
			return err
		}},
		{"update an unknown set", "ResourceNotFoundException", func() error {
			_, err := f.c.UpdatePermissionSet(ctx, &ssoadmin.UpdatePermissionSetInput{InstanceArn: f.ins, PermissionSetArn: otherPS, Description: aws.String("x")})
			return err
		}},
		{"update another instance's set", "ResourceNotFoundException", func() error {
			_, err := f.c.UpdatePermissionSet(ctx, &ssoadmin.UpdatePermissionSetInput{InstanceArn: f.ins, PermissionSetArn: foreignPS, Description: aws.String("x")})
			return err
		}},
		{"update with a bad duration", "ValidationException", func() error {
			_, err := f.c.UpdatePermissionSet(ctx, &ssoadmin.UpdatePermissionSetInput{InstanceArn: f.ins, PermissionSetArn: ps, SessionDuration: aws.String("8 hours")})
			return err
		}},
		{"attach a customer's ARN as AWS-managed", "ValidationException", func() error {
			_, err := f.c.AttachManagedPolicyToPermissionSet(ctx, &ssoadmin.AttachManagedPolicyToPermissionSetInput{InstanceArn: f.ins, PermissionSetArn: ps, ManagedPolicyArn: aws.String("arn:aws:iam::111111111111:policy/Mine")})
			return err
		}},
		{"attach without an ARN", "ValidationException", func() error {
			return f.raw("AttachManagedPolicyToPermissionSet", `{"InstanceArn":"`+*f.ins+`","PermissionSetArn":"`+*ps+`"}`)
		}},
		{"reference with a bad path", "ValidationException", func() error {
			_, err := f.c.AttachCustomerManagedPolicyReferenceToPermissionSet(ctx, &ssoadmin.AttachCustomerManagedPolicyReferenceToPermissionSetInput{InstanceArn: f.ins, PermissionSetArn: ps,
				CustomerManagedPolicyReference: &types.CustomerManagedPolicyReference{Name: aws.String("P"), Path: aws.String("no-slashes")}})
			return err
		}},
		{"boundary with neither", "ValidationException", func() error {
			_, err := f.c.PutPermissionsBoundaryToPermissionSet(ctx, &ssoadmin.PutPermissionsBoundaryToPermissionSetInput{InstanceArn: f.ins, PermissionSetArn: ps, PermissionsBoundary: &types.PermissionsBoundary{}})
			return err
		}},
		{"inline policy with an unknown element", "ValidationException", func() error {
			_, err := f.c.PutInlinePolicyToPermissionSet(ctx, &ssoadmin.PutInlinePolicyToPermissionSetInput{InstanceArn: f.ins, PermissionSetArn: ps,
				InlinePolicy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Bogus":1}]}`)})
			return err
		}},
		{"assignment to an unknown account", "ResourceNotFoundException", func() error {
			_, err := f.c.CreateAccountAssignment(ctx, &ssoadmin.CreateAccountAssignmentInput{InstanceArn: f.ins, PermissionSetArn: ps, TargetId: aws.String("999999999999"),
				TargetType: types.TargetTypeAwsAccount, PrincipalType: types.PrincipalTypeUser, PrincipalId: user})
			return err
		}},
		{"assignment to an unknown user", "ResourceNotFoundException", func() error {
			_, err := f.c.CreateAccountAssignment(ctx, &ssoadmin.CreateAccountAssignmentInput{InstanceArn: f.ins, PermissionSetArn: ps, TargetId: aws.String("111111111111"),
				TargetType: types.TargetTypeAwsAccount, PrincipalType: types.PrincipalTypeUser, PrincipalId: aws.String("1234567890-4f6e0c2a-8b1d-4e5f-9a7b-1c2d3e4f5a6b")})
			return err
		}},
		{"assignment with a short account ID", "ValidationException", func() error {
			_, err := f.c.CreateAccountAssignment(ctx, &ssoadmin.CreateAccountAssignmentInput{InstanceArn: f.ins, PermissionSetArn: ps, TargetId: aws.String("1111"),
				TargetType: types.TargetTypeAwsAccount, PrincipalType: types.PrincipalTypeUser, PrincipalId: user})
			return err
		}},
		{"assignment of a ROLE", "ValidationException", func() error {
			_, err := f.c.CreateAccountAssignment(ctx, &ssoadmin.CreateAccountAssignmentInput{InstanceArn: f.ins, PermissionSetArn: ps, TargetId: aws.String("111111111111"),
				TargetType: types.TargetTypeAwsAccount, PrincipalType: "ROLE", PrincipalId: user})
			return err
		}},
		{"assignment with a bad principal ID", "ValidationException", func() error {
			_, err := f.c.CreateAccountAssignment(ctx, &ssoadmin.CreateAccountAssignmentInput{InstanceArn: f.ins, PermissionSetArn: ps, TargetId: aws.String("111111111111"),
				TargetType: types.TargetTypeAwsAccount, PrincipalType: types.PrincipalTypeUser, PrincipalId: aws.String("ed")})
			return err
		}},
		{"provision with a bad target type", "ValidationException", func() error {
			_, err := f.c.ProvisionPermissionSet(ctx, &ssoadmin.ProvisionPermissionSetInput{InstanceArn: f.ins, PermissionSetArn: ps, TargetType: "ORGANIZATION"})
			return err
		}},
		{"tag with a bad key", "ValidationException", func() error {
			_, err := f.c.TagResource(ctx, &ssoadmin.TagResourceInput{ResourceArn: ps, Tags: []types.Tag{{Key: aws.String("a*b"), Value: aws.String("v")}}})
			return err
		}},
		{"tag an IAM role", "ValidationException", func() error {
			_, err := f.c.TagResource(ctx, &ssoadmin.TagResourceInput{ResourceArn: aws.String("arn:aws:iam::111111111111:role/x"), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
			return err
		}},
		{"untag without keys", "ValidationException", func() error {
			_, err := f.c.UntagResource(ctx, &ssoadmin.UntagResourceInput{ResourceArn: ps, TagKeys: []string{}})
			return err
		}},
		{"list status with a bad filter", "ValidationException", func() error {
			_, err := f.c.ListAccountAssignmentCreationStatus(ctx, &ssoadmin.ListAccountAssignmentCreationStatusInput{InstanceArn: f.ins, Filter: &types.OperationStatusFilter{Status: "DONE"}})
			return err
		}},
		{"list provisioned with a bad status", "ValidationException", func() error {
			_, err := f.c.ListAccountsForProvisionedPermissionSet(ctx, &ssoadmin.ListAccountsForProvisionedPermissionSetInput{InstanceArn: f.ins, PermissionSetArn: ps, ProvisioningStatus: "STALE"})
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { wantCode(t, tc.name, tc.call(), tc.code) })
	}
	if after := f.seq(); after != seq {
		t.Errorf("malformed requests moved the change counter from %d to %d", seq, after)
	}
	events(t, f.srv, "CreateAccountAssignment", "ResourceNotFoundException")
	events(t, f.srv, "CreatePermissionSet", "ValidationException")
}

// raw sends body to the sso-admin operation op, signed as the demo admin,
// bypassing the SDK's own checks, and returns the error code as an error
// (nil on success).
func (f *ssoFixture) raw(op, body string) error {
	f.t.Helper()
	req, _ := http.NewRequestWithContext(f.t.Context(), http.MethodPost, f.srv.URL+"/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "SWBExternalService."+op)
	resp, err := signedDo(f.t, adminCreds(f.t, f.srv), req, body)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	var e struct {
		Type string `json:"__type"`
	}
	json.Unmarshal(b, &e)
	if resp.StatusCode != http.StatusBadRequest {
		return fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	return errors.New(e.Type)
}

func apiError(err error) interface{ ErrorMessage() string } {
	type msg interface{ ErrorMessage() string }
	for e := err; e != nil; {
		if m, ok := e.(msg); ok {
			return m
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			return nil
		}
		e = u.Unwrap()
	}
	return nil
}

var _ = context.Background

// TestSSOAdminConcurrentAssignments creates the same and different
// assignments of one permission set in one account from parallel requests:
// each succeeds, and the account gets exactly one role.
func TestSSOAdminConcurrentAssignments(t *testing.T) {
	f := newSSOFixture(t)
	ctx := t.Context()
	ps := f.createPS("Parallel", "")
	principals := []struct {
		typ types.PrincipalType
		id  string
	}{
		{types.PrincipalTypeGroup, f.groupID("Developers")},
		{types.PrincipalTypeUser, f.userID("ed.developer")},
		{types.PrincipalTypeUser, f.userID("alice@company.com")},
	}
	const n = 12
	ids := make(chan *string, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			p := principals[i%len(principals)]
			out, err := f.c.CreateAccountAssignment(ctx, &ssoadmin.CreateAccountAssignmentInput{InstanceArn: f.ins, PermissionSetArn: ps, TargetId: aws.String("111111111111"),
				TargetType: types.TargetTypeAwsAccount, PrincipalType: p.typ, PrincipalId: aws.String(p.id)})
			if err != nil {
				errs <- err
				return
			}
			ids <- out.AccountAssignmentCreationStatus.RequestId
		})
	}
	wg.Wait()
	close(ids)
	close(errs)
	for err := range errs {
		t.Errorf("parallel CreateAccountAssignment: %v", err)
	}
	for id := range ids {
		if st := f.creationStatus(id); st.Status != types.StatusValuesSucceeded {
			t.Errorf("request %s: %+v", *id, st)
		}
	}
	la, err := f.c.ListAccountAssignments(ctx, &ssoadmin.ListAccountAssignmentsInput{InstanceArn: f.ins, AccountId: aws.String("111111111111"), PermissionSetArn: ps})
	if err != nil || len(la.AccountAssignments) != len(principals) {
		t.Fatalf("ListAccountAssignments = %+v, %v", la, err)
	}
	out, err := iamClient(f.srv, roleCreds(t, f.srv, "ed.developer", "dev", "PowerUserAccess")).ListRoles(ctx, &iam.ListRolesInput{})
	if err != nil {
		t.Fatal(err)
	}
	n0 := 0
	for _, r := range out.Roles {
		if strings.HasPrefix(aws.ToString(r.RoleName), "AWSReservedSSO_Parallel_") {
			n0++
		}
	}
	if n0 != 1 {
		t.Fatalf("%d AWSReservedSSO_Parallel_ roles in dev, want 1", n0)
	}
}
