package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"

	"github.com/gatehouse-dev/gatehouse/internal/awsaccounts"
	"github.com/gatehouse-dev/gatehouse/internal/awsaccounts/mototest"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
	"github.com/gatehouse-dev/gatehouse/internal/session"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// TestLinkedAccountAssignmentThroughTheAPI links the demo's dev account to
// the stand-in and makes an assignment there with sso-admin: the API
// answers IN_PROGRESS, the background worker (kicked by the write, well
// before its poll interval) creates the role in IAM, and
// DescribeAccountAssignmentCreationStatus reports SUCCEEDED.
func TestLinkedAccountAssignmentThroughTheAPI(t *testing.T) {
	moto := mototest.Start(t)
	srv := servertest.New(t, func(c *config.Config) { c.Demo = true; c.Region = "us-east-1"; c.AWSEndpointAllow = []string{moto.URL} })
	ctx := t.Context()
	devID := servertest.AccountID(t, srv.Store, "dev")
	sealed, err := srv.AWSAccounts.SealSecret(devID, "secret")
	if err != nil {
		t.Fatal(err)
	}
	link := &store.AccountLink{AccountID: devID, Endpoint: moto.URL, Region: "us-east-1", AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SealedSecret: sealed,
		RoleARN: "arn:aws:iam::" + devID + ":role/" + awsaccounts.DefaultRoleName, Status: store.LinkActive}
	c, err := srv.AWSAccounts.Clients(ctx, link)
	if err != nil {
		t.Fatal(err)
	}
	prov, err := c.IAM.CreateSAMLProvider(ctx, &iam.CreateSAMLProviderInput{Name: aws.String("Gatehouse"),
		SAMLMetadataDocument: aws.String(`<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://gatehouse.example/saml"/>`)})
	if err != nil {
		t.Fatal(err)
	}
	link.SAMLProviderARN = *prov.SAMLProviderArn
	if err := srv.Store.Update(ctx, func(tx store.Tx) error { return tx.PutAccountLink(ctx, link) }); err != nil {
		t.Fatal(err)
	}
	bg, stop := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- srv.RunBackground(bg) }()
	defer func() { stop(); <-done }()

	alice, err := srv.Store.GetUserByName(ctx, "alice@company.com")
	if err != nil {
		t.Fatal(err)
	}
	mgmt := servertest.AccountID(t, srv.Store, "management")
	cr, err := srv.Issuer.Issue(ctx, session.Principal{UserID: alice.ID, UserName: alice.UserName, GrantID: "g", SessionID: "s", AuthTime: time.Now().Add(-time.Minute)}, mgmt, "AdministratorAccess")
	if err != nil {
		t.Fatal(err)
	}
	creds := aws.Credentials{AccessKeyID: cr.AccessKeyID, SecretAccessKey: cr.SecretAccessKey, SessionToken: cr.SessionToken}
	sso := ssoadmin.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) { return creds, nil })},
		func(o *ssoadmin.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	ins, err := sso.ListInstances(ctx, &ssoadmin.ListInstancesInput{})
	if err != nil {
		t.Fatal(err)
	}
	insARN := ins.Instances[0].InstanceArn
	ps, err := sso.CreatePermissionSet(ctx, &ssoadmin.CreatePermissionSetInput{InstanceArn: insARN, Name: aws.String("Linked"), SessionDuration: aws.String("PT3H")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sso.AttachManagedPolicyToPermissionSet(ctx, &ssoadmin.AttachManagedPolicyToPermissionSetInput{InstanceArn: insARN,
		PermissionSetArn: ps.PermissionSet.PermissionSetArn, ManagedPolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	out, err := sso.CreateAccountAssignment(ctx, &ssoadmin.CreateAccountAssignmentInput{InstanceArn: insARN, PermissionSetArn: ps.PermissionSet.PermissionSetArn,
		TargetId: aws.String(devID), TargetType: ssotypes.TargetTypeAwsAccount, PrincipalType: ssotypes.PrincipalTypeUser, PrincipalId: aws.String(alice.ID)})
	if err != nil {
		t.Fatal(err)
	}
	if out.AccountAssignmentCreationStatus.Status != ssotypes.StatusValuesInProgress {
		t.Fatalf("answer %s", out.AccountAssignmentCreationStatus.Status)
	}
	var st *ssotypes.AccountAssignmentOperationStatus
	for time.Since(start) < awsaccounts.PollInterval-2*time.Second {
		d, err := sso.DescribeAccountAssignmentCreationStatus(ctx, &ssoadmin.DescribeAccountAssignmentCreationStatusInput{InstanceArn: insARN,
			AccountAssignmentCreationRequestId: out.AccountAssignmentCreationStatus.RequestId})
		if err != nil {
			t.Fatal(err)
		}
		if st = d.AccountAssignmentCreationStatus; st.Status != ssotypes.StatusValuesInProgress {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if st.Status != ssotypes.StatusValuesSucceeded {
		t.Fatalf("status %s %q (after %v), want SUCCEEDED before the poll interval: the write kicks the worker", st.Status, aws.ToString(st.FailureReason), time.Since(start))
	}
	roles, err := c.IAM.ListRoles(ctx, &iam.ListRolesInput{PathPrefix: aws.String(awsaccounts.RolePath)})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range roles.Roles {
		if len(*r.RoleName) > len("AWSReservedSSO_Linked_") && (*r.RoleName)[:len("AWSReservedSSO_Linked_")] == "AWSReservedSSO_Linked_" && *r.MaxSessionDuration == 3*3600 {
			found = true
		}
	}
	if !found {
		t.Fatalf("no AWSReservedSSO_Linked_ role with a 3-hour session in IAM: %d roles", len(roles.Roles))
	}

	// Disabling the user revokes her sessions on the role, soon after the
	// write (the worker is kicked once it committed).
	psID := (*ps.PermissionSet.PermissionSetArn)[len(*ps.PermissionSet.PermissionSetArn)-len("ps-0123456789abcdef"):]
	rec, err := srv.Store.GetProvisionedRole(ctx, devID, psID)
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	if err := srv.Directory.SetUserDisabled(ctx, alice.ID, true); err != nil {
		t.Fatal(err)
	}
	for {
		_, err := c.IAM.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(rec.RoleName), PolicyName: aws.String(awsaccounts.RevokedSessionsPolicyName)})
		if err == nil {
			break
		}
		if time.Since(start) > awsaccounts.PollInterval-2*time.Second {
			t.Fatalf("no revocation policy on %s %v after disabling: %v", rec.RoleName, time.Since(start), err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
