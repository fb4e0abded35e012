package e2e

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/clientconfig"
)

// runJSON runs the CLI with JSON output and decodes what it prints into v.
func (c *cli) runJSON(v any, args ...string) {
	c.t.Helper()
	out := c.mustRun(append(args, "--output", "json")...)
	if strings.TrimSpace(out) == "" {
		return
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		c.t.Fatalf("aws %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// accessToken is the bearer token the CLI cached for the sso-session.
func (c *cli) accessToken(session string) string {
	c.t.Helper()
	data, err := os.ReadFile(c.ssoCacheFile(session))
	if err != nil {
		c.t.Fatal(err)
	}
	var tok struct{ AccessToken string }
	if err := json.Unmarshal(data, &tok); err != nil || tok.AccessToken == "" {
		c.t.Fatalf("token cache %s: %v", data, err)
	}
	return tok.AccessToken
}

// TestAdminTutorialCLI plays the admin of the tutorial with Debian's AWS
// CLI 2.9.19 (docs/admin-guide.md), signed in as the demo admin through the
// real device sign-in: a new user and group, a PT8H permission set with
// PowerUserAccess assigned to the group on 111111111111. The new user signs
// in and sees exactly that account and role; deleting the assignment
// refuses the credentials issued before at once and removes the role from
// the account's IAM. A developer with PowerUserAccess on dev may not create
// users.
func TestAdminTutorialCLI(t *testing.T) {
	srv := demoServer(t)
	in := srv.Instance
	const dev = "111111111111"
	sess := clientconfig.Session{Name: "gatehouse", StartURL: in.StartURL, Region: in.Region, BaseURL: srv.URL}

	admin := newCLI(t, srv)
	admin.appendConfig(sess.SessionSection() + "\n" +
		clientconfig.Profile{Name: "mgmt", AccountID: in.ManagementAccountID, RoleName: "AdministratorAccess", Region: in.Region}.Section(sess) + "\n" +
		clientconfig.Profile{Name: "dev-admin", AccountID: dev, RoleName: "AdministratorAccess", Region: in.Region}.Section(sess))
	admin.login("mgmt", "alice@company.com")
	mgmt := []string{"--profile", "mgmt"}

	// The instance and its identity store.
	var instances struct {
		Instances []struct{ InstanceArn, IdentityStoreId string }
	}
	admin.runJSON(&instances, append([]string{"sso-admin", "list-instances"}, mgmt...)...)
	if len(instances.Instances) != 1 || instances.Instances[0].IdentityStoreId != in.IdentityStoreID {
		t.Fatalf("list-instances = %+v, want the one instance with store %s", instances, in.IdentityStoreID)
	}
	ins, sid := instances.Instances[0].InstanceArn, instances.Instances[0].IdentityStoreId

	// A user, a group, the membership.
	var user struct{ UserId string }
	admin.runJSON(&user, append([]string{"identitystore", "create-user", "--identity-store-id", sid,
		"--user-name", "ed2.developer", "--display-name", "Ed Two", "--name", "GivenName=Ed,FamilyName=Two",
		"--emails", "Value=ed2@example.com,Type=work,Primary=true"}, mgmt...)...)
	var group struct{ GroupId string }
	admin.runJSON(&group, append([]string{"identitystore", "create-group", "--identity-store-id", sid,
		"--display-name", "Platform", "--description", "Platform team"}, mgmt...)...)
	var membership struct{ MembershipId string }
	admin.runJSON(&membership, append([]string{"identitystore", "create-group-membership", "--identity-store-id", sid,
		"--group-id", group.GroupId, "--member-id", "UserId=" + user.UserId}, mgmt...)...)
	if user.UserId == "" || group.GroupId == "" || membership.MembershipId == "" {
		t.Fatalf("user %+v, group %+v, membership %+v", user, group, membership)
	}

	// A permission set with eight-hour sessions and PowerUserAccess.
	var ps struct {
		PermissionSet struct{ PermissionSetArn, SessionDuration string }
	}
	admin.runJSON(&ps, append([]string{"sso-admin", "create-permission-set", "--instance-arn", ins,
		"--name", "DeployTeam", "--session-duration", "PT8H", "--description", "Deploys to dev"}, mgmt...)...)
	psARN := ps.PermissionSet.PermissionSetArn
	if ps.PermissionSet.SessionDuration != "PT8H" {
		t.Fatalf("create-permission-set = %+v", ps)
	}
	admin.mustRun(append([]string{"sso-admin", "attach-managed-policy-to-permission-set", "--instance-arn", ins,
		"--permission-set-arn", psARN, "--managed-policy-arn", "arn:aws:iam::aws:policy/PowerUserAccess"}, mgmt...)...)

	// The group gets it on dev; the request is polled to SUCCEEDED.
	assignment := []string{"--instance-arn", ins, "--target-id", dev, "--target-type", "AWS_ACCOUNT",
		"--permission-set-arn", psARN, "--principal-type", "GROUP", "--principal-id", group.GroupId}
	var created struct {
		AccountAssignmentCreationStatus struct{ Status, RequestId, FailureReason string }
	}
	admin.runJSON(&created, append(append([]string{"sso-admin", "create-account-assignment"}, assignment...), mgmt...)...)
	requestID := created.AccountAssignmentCreationStatus.RequestId
	for range 20 {
		if created.AccountAssignmentCreationStatus.Status != "IN_PROGRESS" {
			break
		}
		admin.runJSON(&created, append([]string{"sso-admin", "describe-account-assignment-creation-status", "--instance-arn", ins,
			"--account-assignment-creation-request-id", requestID}, mgmt...)...)
	}
	if created.AccountAssignmentCreationStatus.Status != "SUCCEEDED" {
		t.Fatalf("assignment creation %+v, want SUCCEEDED", created.AccountAssignmentCreationStatus)
	}
	var listed struct {
		AccountAssignments []struct{ AccountId, PermissionSetArn, PrincipalType, PrincipalId string }
	}
	admin.runJSON(&listed, append([]string{"sso-admin", "list-account-assignments", "--instance-arn", ins,
		"--account-id", dev, "--permission-set-arn", psARN}, mgmt...)...)
	if len(listed.AccountAssignments) != 1 || listed.AccountAssignments[0].PrincipalId != group.GroupId ||
		listed.AccountAssignments[0].PrincipalType != "GROUP" || listed.AccountAssignments[0].AccountId != dev {
		t.Fatalf("list-account-assignments = %+v", listed)
	}

	// The role is in dev's IAM.
	deployRoles := func() []string {
		t.Helper()
		var roles struct{ Roles []struct{ RoleName string } }
		admin.runJSON(&roles, "iam", "list-roles", "--profile", "dev-admin")
		var names []string
		for _, r := range roles.Roles {
			if strings.HasPrefix(r.RoleName, "AWSReservedSSO_DeployTeam_") {
				names = append(names, r.RoleName)
			}
		}
		return names
	}
	if names := deployRoles(); len(names) != 1 {
		t.Fatalf("dev's iam list-roles shows DeployTeam roles %v, want one", names)
	}

	// The new user gets a password. There is no AWS API for it (AWS mails an
	// invitation); here the server's directory sets it, as the world file's
	// password field or the seed password would.
	const ed2Password = "ed2-first-password"
	if err := srv.Directory.SetPassword(t.Context(), user.UserId, ed2Password); err != nil {
		t.Fatal(err)
	}

	// ed2.developer signs in and sees exactly dev and DeployTeam.
	ed2 := newCLI(t, srv)
	ed2.appendConfig(sess.SessionSection() + "\n" +
		clientconfig.Profile{Name: "deploy", AccountID: dev, RoleName: "DeployTeam", Region: in.Region}.Section(sess))
	ed2.loginWith("deploy", "ed2.developer", ed2Password)
	token := ed2.accessToken("gatehouse")
	var accounts struct {
		AccountList []struct{ AccountId, AccountName string }
	}
	ed2.runJSON(&accounts, "sso", "list-accounts", "--access-token", token, "--region", in.Region)
	if len(accounts.AccountList) != 1 || accounts.AccountList[0].AccountId != dev || accounts.AccountList[0].AccountName != "dev" {
		t.Fatalf("ed2.developer's list-accounts = %+v, want exactly dev", accounts)
	}
	var roles struct {
		RoleList []struct{ RoleName, AccountId string }
	}
	ed2.runJSON(&roles, "sso", "list-account-roles", "--account-id", dev, "--access-token", token, "--region", in.Region)
	if len(roles.RoleList) != 1 || roles.RoleList[0].RoleName != "DeployTeam" {
		t.Fatalf("ed2.developer's list-account-roles = %+v, want exactly DeployTeam", roles)
	}
	id, out, err := ed2.callerIdentity(nil, "--profile", "deploy")
	if err != nil {
		t.Fatalf("ed2.developer's get-caller-identity: %v\n%s", err, out)
	}
	wantCaller(t, id, dev, "DeployTeam", "ed2.developer")
	issued := cachedRoleCredentials(t, ed2)
	static := []string{"AWS_ACCESS_KEY_ID=" + issued.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + issued.SecretAccessKey,
		"AWS_SESSION_TOKEN=" + issued.SessionToken, "AWS_DEFAULT_REGION=" + in.Region}
	if _, out, err := ed2.callerIdentity(static); err != nil {
		t.Fatalf("the issued credentials before the deletion: %v\n%s", err, out)
	}

	// Deleting the assignment refuses the credentials issued before at once
	// and removes the role from dev.
	var deleted struct {
		AccountAssignmentDeletionStatus struct{ Status, RequestId string }
	}
	admin.runJSON(&deleted, append(append([]string{"sso-admin", "delete-account-assignment"}, assignment...), mgmt...)...)
	for range 20 {
		if deleted.AccountAssignmentDeletionStatus.Status != "IN_PROGRESS" {
			break
		}
		admin.runJSON(&deleted, append([]string{"sso-admin", "describe-account-assignment-deletion-status", "--instance-arn", ins,
			"--account-assignment-deletion-request-id", deleted.AccountAssignmentDeletionStatus.RequestId}, mgmt...)...)
	}
	if deleted.AccountAssignmentDeletionStatus.Status != "SUCCEEDED" {
		t.Fatalf("assignment deletion %+v, want SUCCEEDED", deleted.AccountAssignmentDeletionStatus)
	}
	if _, out, err := ed2.callerIdentity(static); err == nil || !strings.Contains(out, "InvalidClientTokenId") {
		t.Fatalf("credentials issued before the deletion: %v\n%s", err, out)
	}
	if names := deployRoles(); len(names) != 0 {
		t.Fatalf("dev's iam list-roles still shows %v after the deletion", names)
	}
	ed2.runJSON(&accounts, "sso", "list-accounts", "--access-token", token, "--region", in.Region)
	if len(accounts.AccountList) != 0 {
		t.Fatalf("ed2.developer's list-accounts after the deletion = %+v, want none", accounts)
	}

	// A developer with PowerUserAccess on dev may not create users.
	ed := newCLI(t, srv)
	ed.appendConfig(sess.SessionSection() + "\n" +
		clientconfig.Profile{Name: "dev", AccountID: dev, RoleName: "PowerUserAccess", Region: in.Region}.Section(sess))
	ed.login("dev", "ed.developer")
	out, err = ed.run(nil, "identitystore", "create-user", "--profile", "dev", "--identity-store-id", sid,
		"--user-name", "mallory", "--display-name", "Mallory", "--name", "GivenName=Mal,FamilyName=Lory")
	deniedRe := regexp.MustCompile(`An error occurred \(AccessDeniedException\) when calling the CreateUser operation: User: arn:aws:sts::` + dev +
		`:assumed-role/AWSReservedSSO_PowerUserAccess_[0-9a-f]{16}/ed\.developer is not authorized to perform: identitystore:CreateUser`)
	if err == nil || !deniedRe.MatchString(out) {
		t.Fatalf("ed.developer's create-user: %v\n%s", err, out)
	}
	if _, err := srv.Store.GetUserByName(t.Context(), "mallory"); err == nil {
		t.Fatal("the refused create-user made a user")
	}
}
