package adminapi_test

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"

	"github.com/gatehouse-dev/gatehouse/internal/store"
)

const (
	devAccount  = "111111111111"
	prodAccount = "222222222222"
	ssoSP       = "sso.amazonaws.com"
)

// TestDelegatedAdministrator registers the dev account as Identity
// Center's delegated administrator: a dev-account AdministratorAccess
// session then administers Identity Center (list instances, create a
// permission set, assign it in prod), except the management account's
// access, and organizations only reads; deregistering refuses its next
// call at once.
func TestDelegatedAdministrator(t *testing.T) {
	srv := demoServer(t)
	ctx := t.Context()
	mgmt := srv.Instance.ManagementAccountID
	org := orgs(srv, adminCreds(t, srv))
	devCreds := roleCreds(t, srv, "alice@company.com", "dev", "AdministratorAccess")
	dev := ssoAdmin(srv, devCreds)
	devOrg := orgs(srv, devCreds)

	if _, err := dev.ListInstances(ctx, &ssoadmin.ListInstancesInput{}); errorCode(t, err) != "AccessDeniedException" {
		t.Fatalf("ListInstances from dev before registration: %v", err)
	}

	if _, err := org.RegisterDelegatedAdministrator(ctx, &organizations.RegisterDelegatedAdministratorInput{
		AccountId: aws.String(devAccount), ServicePrincipal: aws.String(ssoSP)}); err != nil {
		t.Fatalf("RegisterDelegatedAdministrator: %v", err)
	}
	sourceEvents(t, srv, "organizations.amazonaws.com", "RegisterDelegatedAdministrator", "")
	admins, err := org.ListDelegatedAdministrators(ctx, &organizations.ListDelegatedAdministratorsInput{ServicePrincipal: aws.String(ssoSP)})
	if err != nil || len(admins.DelegatedAdministrators) != 1 {
		t.Fatalf("ListDelegatedAdministrators = %+v, %v", admins, err)
	}
	if a := admins.DelegatedAdministrators[0]; aws.ToString(a.Id) != devAccount || aws.ToString(a.Name) != "dev" ||
		a.DelegationEnabledDate == nil || a.State != orgtypes.AccountStateActive || !strings.HasSuffix(aws.ToString(a.Arn), "/"+devAccount) {
		t.Errorf("delegated administrator = %+v", a)
	}
	svcs, err := org.ListDelegatedServicesForAccount(ctx, &organizations.ListDelegatedServicesForAccountInput{AccountId: aws.String(devAccount)})
	if err != nil || len(svcs.DelegatedServices) != 1 || aws.ToString(svcs.DelegatedServices[0].ServicePrincipal) != ssoSP ||
		svcs.DelegatedServices[0].DelegationEnabledDate == nil {
		t.Fatalf("ListDelegatedServicesForAccount = %+v, %v", svcs, err)
	}

	// Identity Center administration from the delegated account.
	ins, err := dev.ListInstances(ctx, &ssoadmin.ListInstancesInput{})
	if err != nil || len(ins.Instances) != 1 {
		t.Fatalf("ListInstances from the delegated admin = %+v, %v", ins, err)
	}
	insArn := ins.Instances[0].InstanceArn
	ps, err := dev.CreatePermissionSet(ctx, &ssoadmin.CreatePermissionSetInput{InstanceArn: insArn, Name: aws.String("DelegatedOps")})
	if err != nil {
		t.Fatalf("CreatePermissionSet from the delegated admin: %v", err)
	}
	psArn := ps.PermissionSet.PermissionSetArn
	ed := mustUserID(t, srv, "ed.developer")
	assign := func(account string, set *string) (*ssoadmin.CreateAccountAssignmentOutput, error) {
		return dev.CreateAccountAssignment(ctx, &ssoadmin.CreateAccountAssignmentInput{InstanceArn: insArn, PermissionSetArn: set,
			TargetId: aws.String(account), TargetType: ssotypes.TargetTypeAwsAccount,
			PrincipalType: ssotypes.PrincipalTypeUser, PrincipalId: aws.String(ed)})
	}
	created, err := assign(prodAccount, psArn)
	if err != nil {
		t.Fatalf("CreateAccountAssignment in prod from the delegated admin: %v", err)
	}
	st, err := dev.DescribeAccountAssignmentCreationStatus(ctx, &ssoadmin.DescribeAccountAssignmentCreationStatusInput{InstanceArn: insArn,
		AccountAssignmentCreationRequestId: created.AccountAssignmentCreationStatus.RequestId})
	if err != nil || st.AccountAssignmentCreationStatus.Status != ssotypes.StatusValuesSucceeded {
		t.Fatalf("assignment status = %+v, %v", st, err)
	}

	// Not the management account's access: its assignments, and the sets
	// provisioned there (AdministratorAccess is).
	adminSet := permissionSetArn(t, dev, insArn, "AdministratorAccess")
	before, _ := srv.Store.ChangeSeq(ctx)
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"assign in the management account", func() error { _, err := assign(mgmt, psArn); return err }},
		{"unassign in the management account", func() error {
			_, err := dev.DeleteAccountAssignment(ctx, &ssoadmin.DeleteAccountAssignmentInput{InstanceArn: insArn,
				PermissionSetArn: adminSet, TargetId: aws.String(mgmt), TargetType: ssotypes.TargetTypeAwsAccount,
				PrincipalType: ssotypes.PrincipalTypeUser, PrincipalId: aws.String(mustUserID(t, srv, "alice@company.com"))})
			return err
		}},
		{"assign a management-account set in prod", func() error { _, err := assign(prodAccount, adminSet); return err }},
		{"provision to the management account", func() error {
			_, err := dev.ProvisionPermissionSet(ctx, &ssoadmin.ProvisionPermissionSetInput{InstanceArn: insArn, PermissionSetArn: psArn,
				TargetId: aws.String(mgmt), TargetType: ssotypes.ProvisionTargetTypeAwsAccount})
			return err
		}},
		{"reprovision a management-account set", func() error {
			_, err := dev.ProvisionPermissionSet(ctx, &ssoadmin.ProvisionPermissionSetInput{InstanceArn: insArn, PermissionSetArn: adminSet,
				TargetType: ssotypes.ProvisionTargetTypeAllProvisionedAccounts})
			return err
		}},
		{"update a management-account set", func() error {
			_, err := dev.UpdatePermissionSet(ctx, &ssoadmin.UpdatePermissionSetInput{InstanceArn: insArn, PermissionSetArn: adminSet,
				SessionDuration: aws.String("PT12H")})
			return err
		}},
		{"detach from a management-account set", func() error {
			_, err := dev.DetachManagedPolicyFromPermissionSet(ctx, &ssoadmin.DetachManagedPolicyFromPermissionSetInput{InstanceArn: insArn,
				PermissionSetArn: adminSet, ManagedPolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")})
			return err
		}},
		{"inline policy on a management-account set", func() error {
			_, err := dev.PutInlinePolicyToPermissionSet(ctx, &ssoadmin.PutInlinePolicyToPermissionSetInput{InstanceArn: insArn,
				PermissionSetArn: adminSet, InlinePolicy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`)})
			return err
		}},
		{"tag a management-account set", func() error {
			_, err := dev.TagResource(ctx, &ssoadmin.TagResourceInput{InstanceArn: insArn, ResourceArn: adminSet,
				Tags: []ssotypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
			return err
		}},
		{"delete a management-account set", func() error {
			_, err := dev.DeletePermissionSet(ctx, &ssoadmin.DeletePermissionSetInput{InstanceArn: insArn, PermissionSetArn: adminSet})
			return err
		}},
		{"register a delegated administrator", func() error {
			_, err := devOrg.RegisterDelegatedAdministrator(ctx, &organizations.RegisterDelegatedAdministratorInput{
				AccountId: aws.String(prodAccount), ServicePrincipal: aws.String(ssoSP)})
			return err
		}},
		{"deregister itself", func() error {
			_, err := devOrg.DeregisterDelegatedAdministrator(ctx, &organizations.DeregisterDelegatedAdministratorInput{
				AccountId: aws.String(devAccount), ServicePrincipal: aws.String(ssoSP)})
			return err
		}},
		{"create an account", func() error {
			_, err := devOrg.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String("x"), Email: aws.String("x@example.com")})
			return err
		}},
		{"close an account", func() error {
			_, err := devOrg.CloseAccount(ctx, &organizations.CloseAccountInput{AccountId: aws.String(prodAccount)})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if code := errorCode(t, err); code != "AccessDeniedException" {
				t.Fatalf("error = %v, want AccessDeniedException", err)
			}
			if !strings.Contains(err.Error(), "is not authorized to perform: ") {
				t.Errorf("message %q is not AWS's form", err)
			}
		})
	}
	if after, _ := srv.Store.ChangeSeq(ctx); after != before {
		t.Errorf("refused calls moved the change counter from %d to %d", before, after)
	}
	events(t, srv, "CreateAccountAssignment", "AccessDeniedException")

	// Reads are not restricted: the management-account set can be
	// described, organizations listed.
	if _, err := dev.DescribePermissionSet(ctx, &ssoadmin.DescribePermissionSetInput{InstanceArn: insArn, PermissionSetArn: adminSet}); err != nil {
		t.Errorf("DescribePermissionSet of a management-account set: %v", err)
	}
	if _, err := devOrg.ListDelegatedAdministrators(ctx, &organizations.ListDelegatedAdministratorsInput{}); err != nil {
		t.Errorf("ListDelegatedAdministrators from the delegated admin: %v", err)
	}

	// Deregistration takes effect at once.
	if _, err := org.DeregisterDelegatedAdministrator(ctx, &organizations.DeregisterDelegatedAdministratorInput{
		AccountId: aws.String(devAccount), ServicePrincipal: aws.String(ssoSP)}); err != nil {
		t.Fatalf("DeregisterDelegatedAdministrator: %v", err)
	}
	sourceEvents(t, srv, "organizations.amazonaws.com", "DeregisterDelegatedAdministrator", "")
	if _, err := dev.ListInstances(ctx, &ssoadmin.ListInstancesInput{}); errorCode(t, err) != "AccessDeniedException" {
		t.Fatalf("ListInstances right after deregistration: %v", err)
	}
	admins, err = org.ListDelegatedAdministrators(ctx, &organizations.ListDelegatedAdministratorsInput{})
	if err != nil || len(admins.DelegatedAdministrators) != 0 {
		t.Errorf("ListDelegatedAdministrators after deregistration = %+v, %v", admins, err)
	}
}

// permissionSetArn returns the ARN of the permission set named name.
func permissionSetArn(t *testing.T, c *ssoadmin.Client, insArn *string, name string) *string {
	t.Helper()
	p := ssoadmin.NewListPermissionSetsPaginator(c, &ssoadmin.ListPermissionSetsInput{InstanceArn: insArn})
	for p.HasMorePages() {
		page, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range page.PermissionSets {
			d, err := c.DescribePermissionSet(t.Context(), &ssoadmin.DescribePermissionSetInput{InstanceArn: insArn, PermissionSetArn: aws.String(a)})
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(d.PermissionSet.Name) == name {
				return aws.String(a)
			}
		}
	}
	t.Fatalf("no permission set %q", name)
	return nil
}

// TestDelegatedAdministratorErrors checks each documented error of the
// delegated-administrator operations, none of which changes anything.
func TestDelegatedAdministratorErrors(t *testing.T) {
	srv := demoServer(t)
	ctx := t.Context()
	mgmt := srv.Instance.ManagementAccountID
	org := orgs(srv, adminCreds(t, srv))
	register := func(acct, sp string) error {
		_, err := org.RegisterDelegatedAdministrator(ctx, &organizations.RegisterDelegatedAdministratorInput{AccountId: aws.String(acct), ServicePrincipal: aws.String(sp)})
		return err
	}
	deregister := func(acct, sp string) error {
		_, err := org.DeregisterDelegatedAdministrator(ctx, &organizations.DeregisterDelegatedAdministratorInput{AccountId: aws.String(acct), ServicePrincipal: aws.String(sp)})
		return err
	}
	services := func(acct string) error {
		_, err := org.ListDelegatedServicesForAccount(ctx, &organizations.ListDelegatedServicesForAccountInput{AccountId: aws.String(acct)})
		return err
	}
	if _, err := org.CloseAccount(ctx, &organizations.CloseAccountInput{AccountId: aws.String("333333333333")}); err != nil {
		t.Fatal(err)
	}
	if err := register(devAccount, ssoSP); err != nil {
		t.Fatal(err)
	}
	readOnly := grantOnManagement(t, srv, "ed.developer", "OrgReader", "organizations:List*", "organizations:Describe*")
	limited := orgs(srv, readOnly)

	before, _ := srv.Store.ChangeSeq(ctx)
	for _, tc := range []struct {
		name, code, reason string
		call               func() error
	}{
		{"management account", "ConstraintViolationException", "CANNOT_REGISTER_MASTER_AS_DELEGATED_ADMINISTRATOR", func() error { return register(mgmt, ssoSP) }},
		{"other service", "InvalidInputException", "UNRECOGNIZED_SERVICE_PRINCIPAL", func() error { return register(prodAccount, "guardduty.amazonaws.com") }},
		{"malformed service principal", "InvalidInputException", "INVALID_PATTERN", func() error { return register(prodAccount, "sso amazonaws com") }},
		{"malformed account", "InvalidInputException", "INVALID_PATTERN", func() error { return register("12345", ssoSP) }},
		{"unknown account", "AccountNotFoundException", "", func() error { return register("999999999999", ssoSP) }},
		{"closed account", "ConstraintViolationException", "CANNOT_REGISTER_SUSPENDED_ACCOUNT_AS_DELEGATED_ADMINISTRATOR", func() error { return register("333333333333", ssoSP) }},
		{"already registered", "AccountAlreadyRegisteredException", "", func() error { return register(devAccount, ssoSP) }},
		{"second account", "ConstraintViolationException", "DELEGATED_ADMINISTRATOR_EXISTS_FOR_THIS_SERVICE", func() error { return register(prodAccount, ssoSP) }},
		{"deregister unregistered", "AccountNotRegisteredException", "", func() error { return deregister(prodAccount, ssoSP) }},
		{"deregister other service", "AccountNotRegisteredException", "", func() error { return deregister(devAccount, "guardduty.amazonaws.com") }},
		{"deregister unknown account", "AccountNotFoundException", "", func() error { return deregister("999999999999", ssoSP) }},
		{"services of unregistered", "AccountNotRegisteredException", "", func() error { return services(prodAccount) }},
		{"services of unknown account", "AccountNotFoundException", "", func() error { return services("999999999999") }},
		{"bad page size", "InvalidInputException", "MAX_VALUE_EXCEEDED", func() error {
			_, err := org.ListDelegatedAdministrators(ctx, &organizations.ListDelegatedAdministratorsInput{MaxResults: aws.Int32(21)})
			return err
		}},
		{"bad token", "InvalidInputException", "INVALID_NEXT_TOKEN", func() error {
			_, err := org.ListDelegatedAdministrators(ctx, &organizations.ListDelegatedAdministratorsInput{NextToken: aws.String("bogus")})
			return err
		}},
		{"register without the action", "AccessDeniedException", "", func() error {
			_, err := limited.RegisterDelegatedAdministrator(ctx, &organizations.RegisterDelegatedAdministratorInput{AccountId: aws.String(prodAccount), ServicePrincipal: aws.String(ssoSP)})
			return err
		}},
		{"deregister without the action", "AccessDeniedException", "", func() error {
			_, err := limited.DeregisterDelegatedAdministrator(ctx, &organizations.DeregisterDelegatedAdministratorInput{AccountId: aws.String(devAccount), ServicePrincipal: aws.String(ssoSP)})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			ae := orgAPIError(t, err)
			if ae.ErrorCode() != tc.code {
				t.Fatalf("error = %v, want %s", err, tc.code)
			}
			var reason string
			if e, ok := errors.AsType[*orgtypes.ConstraintViolationException](err); ok {
				reason = string(e.Reason)
			}
			if e, ok := errors.AsType[*orgtypes.InvalidInputException](err); ok {
				reason = string(e.Reason)
			}
			if reason != tc.reason {
				t.Errorf("reason = %q, want %q (%v)", reason, tc.reason, err)
			}
		})
	}
	if after, _ := srv.Store.ChangeSeq(ctx); after != before {
		t.Errorf("refused calls moved the change counter from %d to %d", before, after)
	}
	sourceEvents(t, srv, "organizations.amazonaws.com", "RegisterDelegatedAdministrator", "AccountAlreadyRegisteredException")
	sourceEvents(t, srv, "organizations.amazonaws.com", "RegisterDelegatedAdministrator", "AccessDeniedException")

	// Pagination, and the ServicePrincipal filter: a second registration
	// for another service, written directly (the API registers Identity
	// Center's only).
	if err := srv.Store.CreateDelegatedAdmin(ctx, &store.DelegatedAdmin{AccountID: prodAccount, ServicePrincipal: "guardduty.amazonaws.com", EnabledAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	p := organizations.NewListDelegatedAdministratorsPaginator(org, &organizations.ListDelegatedAdministratorsInput{MaxResults: aws.Int32(1)})
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, a := range page.DelegatedAdministrators {
			ids = append(ids, aws.ToString(a.Id))
		}
	}
	if strings.Join(ids, ",") != devAccount+","+prodAccount || pages != 2 {
		t.Errorf("ListDelegatedAdministrators in %d pages = %v", pages, ids)
	}
	for sp, want := range map[string]string{ssoSP: devAccount, "guardduty.amazonaws.com": prodAccount, "config.amazonaws.com": ""} {
		out, err := org.ListDelegatedAdministrators(ctx, &organizations.ListDelegatedAdministratorsInput{ServicePrincipal: aws.String(sp)})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, a := range out.DelegatedAdministrators {
			got = append(got, aws.ToString(a.Id))
		}
		if strings.Join(got, ",") != want {
			t.Errorf("ListDelegatedAdministrators %s = %v, want %q", sp, got, want)
		}
	}
	// A token of one filter is refused with another.
	first, err := org.ListDelegatedAdministrators(ctx, &organizations.ListDelegatedAdministratorsInput{MaxResults: aws.Int32(1)})
	if err != nil || first.NextToken == nil {
		t.Fatalf("first page = %+v, %v", first, err)
	}
	_, err = org.ListDelegatedAdministrators(ctx, &organizations.ListDelegatedAdministratorsInput{NextToken: first.NextToken, ServicePrincipal: aws.String(ssoSP)})
	if code := errorCode(t, err); code != "InvalidInputException" {
		t.Errorf("token replayed with another filter: %v", err)
	}
}

// TestDelegatedAdministratorCLI registers the delegated administrator with
// the stock Debian AWS CLI.
func TestDelegatedAdministratorCLI(t *testing.T) {
	if _, err := os.Stat(debianAWSCLI); err != nil {
		t.Skipf("no AWS CLI at %s", debianAWSCLI)
	}
	srv := demoServer(t)
	admin := adminCreds(t, srv)
	if out, err := ssoAdminCLI(t, srv, admin, "organizations", "register-delegated-administrator",
		"--account-id", devAccount, "--service-principal", ssoSP); err != nil {
		t.Fatalf("register-delegated-administrator: %v\n%s", err, out)
	}
	got := mustCLI[struct {
		DelegatedAdministrators []struct{ Id, Name string }
	}](t, srv, admin, "organizations", "list-delegated-administrators", "--service-principal", ssoSP)
	if len(got.DelegatedAdministrators) != 1 || got.DelegatedAdministrators[0].Id != devAccount {
		t.Errorf("list-delegated-administrators = %+v", got)
	}
	svcs := mustCLI[struct {
		DelegatedServices []struct{ ServicePrincipal string }
	}](t, srv, admin, "organizations", "list-delegated-services-for-account", "--account-id", devAccount)
	if len(svcs.DelegatedServices) != 1 || svcs.DelegatedServices[0].ServicePrincipal != ssoSP {
		t.Errorf("list-delegated-services-for-account = %+v", svcs)
	}
	dev := roleCreds(t, srv, "alice@company.com", "dev", "AdministratorAccess")
	mustCLI[map[string]any](t, srv, dev, "sso-admin", "list-instances")
	if out, err := ssoAdminCLI(t, srv, admin, "organizations", "deregister-delegated-administrator",
		"--account-id", devAccount, "--service-principal", ssoSP); err != nil {
		t.Fatalf("deregister-delegated-administrator: %v\n%s", err, out)
	}
	if out, err := ssoAdminCLI(t, srv, dev, "sso-admin", "list-instances"); err == nil || !strings.Contains(out, "AccessDeniedException") {
		t.Errorf("list-instances after deregistration: %v\n%s", err, out)
	}
}
