package adminapi_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
)

// debianAWSCLI is Debian's AWS CLI v2 (2.9.19 on the CI machines).
const debianAWSCLI = "/usr/bin/aws"

// ssoAdminCLI runs the AWS CLI against srv with creds in a HOME of its own;
// anything that would leave for real AWS fails at once.
func ssoAdminCLI(t *testing.T, srv *servertest.Server, creds aws.Credentials, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, debianAWSCLI, append([]string{"--endpoint-url", srv.URL, "--region", "us-east-1", "--output", "json"}, args...)...)
	cmd.Env = []string{
		"HOME=" + t.TempDir(), "PATH=/usr/bin:/bin", "LANG=C.UTF-8",
		"HTTPS_PROXY=http://127.0.0.1:9", "AWS_PAGER=", "AWS_EC2_METADATA_DISABLED=true", "AWS_MAX_ATTEMPTS=1",
		"AWS_ACCESS_KEY_ID=" + creds.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + creds.SecretAccessKey, "AWS_SESSION_TOKEN=" + creds.SessionToken,
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func mustCLI[T any](t *testing.T, srv *servertest.Server, creds aws.Credentials, args ...string) T {
	t.Helper()
	out, err := ssoAdminCLI(t, srv, creds, args...)
	if err != nil {
		t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	var v T
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("aws %s: output is not JSON: %v\n%s", strings.Join(args, " "), err, out)
	}
	return v
}

// TestSSOAdminCLI plays the admin with Debian's AWS CLI 2.9.19, signed in
// as the demo admin: a PT8H permission set with PowerUserAccess, assigned to
// a group on 111111111111, polled to SUCCEEDED; the role shows in that
// account's iam list-roles; deleting the assignment removes the role and
// refuses the credentials issued before at once.
func TestSSOAdminCLI(t *testing.T) {
	if _, err := os.Stat(debianAWSCLI); err != nil {
		t.Skipf("Debian's awscli package (%s) is not installed: %v", debianAWSCLI, err)
	}
	srv := demoServer(t)
	admin := adminCreds(t, srv)
	ins := arn.InstanceARN(srv.Instance.InstanceID)
	const dev = "111111111111"
	g, err := srv.Store.GetGroupByName(t.Context(), "Developers")
	if err != nil {
		t.Fatal(err)
	}

	type permissionSet struct {
		PermissionSet struct{ Name, PermissionSetArn, SessionDuration string }
	}
	ps := mustCLI[permissionSet](t, srv, admin, "sso-admin", "create-permission-set", "--instance-arn", ins,
		"--name", "DeployTeam", "--session-duration", "PT8H", "--description", "Deploys to dev")
	psARN := ps.PermissionSet.PermissionSetArn
	if ps.PermissionSet.SessionDuration != "PT8H" || !strings.HasPrefix(psARN, "arn:aws:sso:::permissionSet/") {
		t.Fatalf("create-permission-set: %+v", ps)
	}
	if out, err := ssoAdminCLI(t, srv, admin, "sso-admin", "attach-managed-policy-to-permission-set", "--instance-arn", ins,
		"--permission-set-arn", psARN, "--managed-policy-arn", "arn:aws:iam::aws:policy/PowerUserAccess"); err != nil {
		t.Fatalf("attach-managed-policy-to-permission-set: %v\n%s", err, out)
	}

	type creation struct {
		AccountAssignmentCreationStatus struct{ Status, RequestId, FailureReason string }
	}
	cr := mustCLI[creation](t, srv, admin, "sso-admin", "create-account-assignment", "--instance-arn", ins,
		"--target-id", dev, "--target-type", "AWS_ACCOUNT", "--permission-set-arn", psARN, "--principal-type", "GROUP", "--principal-id", g.ID)
	if cr.AccountAssignmentCreationStatus.Status != "IN_PROGRESS" {
		t.Fatalf("create-account-assignment: %+v", cr)
	}
	status := ""
	for range 20 {
		st := mustCLI[creation](t, srv, admin, "sso-admin", "describe-account-assignment-creation-status", "--instance-arn", ins,
			"--account-assignment-creation-request-id", cr.AccountAssignmentCreationStatus.RequestId)
		if status = st.AccountAssignmentCreationStatus.Status; status != "IN_PROGRESS" {
			break
		}
	}
	if status != "SUCCEEDED" {
		t.Fatalf("creation status %s, want SUCCEEDED", status)
	}

	type assignments struct {
		AccountAssignments []struct{ AccountId, PermissionSetArn, PrincipalType, PrincipalId string }
	}
	la := mustCLI[assignments](t, srv, admin, "sso-admin", "list-account-assignments", "--instance-arn", ins, "--account-id", dev, "--permission-set-arn", psARN)
	if len(la.AccountAssignments) != 1 || la.AccountAssignments[0].PrincipalId != g.ID || la.AccountAssignments[0].PrincipalType != "GROUP" {
		t.Fatalf("list-account-assignments: %+v", la)
	}

	// ed.developer (in Developers) signs in to DeployTeam on dev; the role
	// shows in that account's IAM.
	ed := roleCreds(t, srv, "ed.developer", "dev", "DeployTeam")
	type roles struct {
		Roles []struct{ RoleName, Arn string }
	}
	deployRole := func() string {
		t.Helper()
		rs := mustCLI[roles](t, srv, roleCreds(t, srv, "ed.developer", "dev", "PowerUserAccess"), "iam", "list-roles")
		for _, r := range rs.Roles {
			if strings.HasPrefix(r.RoleName, "AWSReservedSSO_DeployTeam_") {
				return r.RoleName
			}
		}
		return ""
	}
	name := deployRole()
	if name == "" {
		t.Fatal("iam list-roles in dev does not show AWSReservedSSO_DeployTeam_…")
	}
	devAdmin := roleCreds(t, srv, "alice@company.com", "dev", "AdministratorAccess")
	type role struct {
		Role struct{ RoleName, Path, Arn string }
	}
	if r := mustCLI[role](t, srv, devAdmin, "iam", "get-role", "--role-name", name); r.Role.RoleName != name ||
		!strings.HasPrefix(r.Role.Path, "/aws-reserved/sso.amazonaws.com/") || !strings.HasPrefix(r.Role.Arn, "arn:aws:iam::"+dev+":role/aws-reserved/sso.amazonaws.com/") {
		t.Fatalf("iam get-role %s: %+v", name, r)
	}
	type caller struct{ Arn string }
	if c := mustCLI[caller](t, srv, ed, "sts", "get-caller-identity"); !strings.Contains(c.Arn, ":assumed-role/"+name+"/ed.developer") {
		t.Fatalf("get-caller-identity as DeployTeam: %+v", c)
	}

	type deletion struct {
		AccountAssignmentDeletionStatus struct{ Status, RequestId string }
	}
	del := mustCLI[deletion](t, srv, admin, "sso-admin", "delete-account-assignment", "--instance-arn", ins,
		"--target-id", dev, "--target-type", "AWS_ACCOUNT", "--permission-set-arn", psARN, "--principal-type", "GROUP", "--principal-id", g.ID)
	st := mustCLI[deletion](t, srv, admin, "sso-admin", "describe-account-assignment-deletion-status", "--instance-arn", ins,
		"--account-assignment-deletion-request-id", del.AccountAssignmentDeletionStatus.RequestId)
	if st.AccountAssignmentDeletionStatus.Status != "SUCCEEDED" {
		t.Fatalf("deletion status: %+v", st)
	}
	if out, err := ssoAdminCLI(t, srv, ed, "sts", "get-caller-identity"); err == nil {
		t.Fatalf("DeployTeam credentials still accepted after the assignment was deleted:\n%s", out)
	}
	if n := deployRole(); n != "" {
		t.Fatalf("role %s still listed after its last assignment was deleted", n)
	}
	if out, err := ssoAdminCLI(t, srv, devAdmin, "iam", "get-role", "--role-name", name); err == nil || !strings.Contains(out, "NoSuchEntity") {
		t.Fatalf("iam get-role %s after the deletion: %v\n%s", name, err, out)
	}
}
