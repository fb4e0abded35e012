package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/clientconfig"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
	"github.com/gatehouse-dev/gatehouse/internal/session"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// terraform runs Terraform in one working folder with its own HOME, data
// folder and CLI configuration: hashicorp/aws comes from the filesystem
// mirror only, so init needs no network, and anything that would leave for
// the Internet fails at once.
type terraform struct {
	t   *testing.T
	dir string
	env []string
}

// newTerraform returns a Terraform signing with creds (and no AWS config
// file). It skips the test, saying so, where Terraform or the provider
// mirror is missing. GATEHOUSE_TEST_TF_LOG=DEBUG logs the provider's calls
// to $TMPDIR/gatehouse-terraform.log.
func newTerraform(t *testing.T, creds roleCredentials) *terraform {
	t.Helper()
	return newTerraformEnv(t, []string{"AWS_ACCESS_KEY_ID=" + creds.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + creds.SecretAccessKey,
		"AWS_SESSION_TOKEN=" + creds.SessionToken, "AWS_CONFIG_FILE=" + filepath.Join(t.TempDir(), "none"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(t.TempDir(), "none")})
}

// newTerraformEnv is newTerraform with the AWS credentials (or profile) in
// awsEnv, which may also override the environment set here (a variable's
// last value wins).
func newTerraformEnv(t *testing.T, awsEnv []string) *terraform {
	t.Helper()
	if _, err := os.Stat(terraformBin); err != nil {
		t.Skipf("Terraform (%s) is not installed: %v", terraformBin, err)
	}
	if _, err := os.Stat(tfMirror); err != nil {
		t.Skipf("the hashicorp/aws provider mirror (%s) is not there: %v", tfMirror, err)
	}
	home := t.TempDir()
	cliConfig := filepath.Join(home, "terraform.rc")
	rc := "provider_installation {\n  filesystem_mirror {\n    path    = \"" + tfMirror + "\"\n    include = [\"registry.terraform.io/hashicorp/*\"]\n  }\n  direct {\n    exclude = [\"registry.terraform.io/*/*\"]\n  }\n}\n"
	if err := os.WriteFile(cliConfig, []byte(rc), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{
		"HOME=" + home,
		"PATH=/usr/bin:/bin",
		"LANG=C.UTF-8",
		"TF_CLI_CONFIG_FILE=" + cliConfig,
		"TF_DATA_DIR=" + filepath.Join(home, "tf-data"),
		"TF_IN_AUTOMATION=1",
		"TF_INPUT=0",
		"CHECKPOINT_DISABLE=1",
		"HTTPS_PROXY=http://127.0.0.1:9", // anything that escapes to real AWS fails at once
		"HTTP_PROXY=http://127.0.0.1:9",
		"NO_PROXY=127.0.0.1",
		"AWS_EC2_METADATA_DISABLED=true",
	}
	env = append(env, awsEnv...)
	if lvl := os.Getenv("GATEHOUSE_TEST_TF_LOG"); lvl != "" {
		env = append(env, "TF_LOG="+lvl, "TF_LOG_PATH="+filepath.Join(os.TempDir(), "gatehouse-terraform.log"))
	}
	return &terraform{t: t, dir: t.TempDir(), env: env}
}

// run runs terraform with args and returns its output and exit code.
func (tf *terraform) run(args ...string) (string, int) {
	tf.t.Helper()
	return tf.runWith(nil, args...)
}

// runWith is run with more environment variables (later ones win).
func (tf *terraform) runWith(env []string, args ...string) (string, int) {
	tf.t.Helper()
	ctx, cancel := context.WithTimeout(tf.t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, terraformBin, args...)
	cmd.Env = append(slices.Clip(tf.env), env...)
	cmd.Dir = tf.dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if exit, ok := errors.AsType[*exec.ExitError](err); ok {
		return out.String(), exit.ExitCode()
	} else if err != nil {
		tf.t.Fatalf("terraform %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String(), 0
}

func (tf *terraform) mustRun(args ...string) string {
	tf.t.Helper()
	out, code := tf.run(args...)
	if code != 0 {
		tf.t.Fatalf("terraform %s: exit %d\n%s", strings.Join(args, " "), code, out)
	}
	return out
}

// TestTerraform applies, re-plans, changes and destroys the admin guide's
// example configuration (examples/terraform) with Terraform 1.11 and the
// stock hashicorp/aws 5.100.0 provider, signed as the demo admin, and checks
// the server's state after each step: a plan right after an apply must show
// no changes (`plan -detailed-exitcode` exits 0).
func TestTerraform(t *testing.T) {
	srv := demoServer(t)
	ctx := t.Context()
	tf := newTerraform(t, adminRoleCredentials(t, srv))
	const dev = "111111111111"
	// The customer-managed policy the permission set refers to, created the
	// IAM way in dev by the demo admin's AdministratorAccess there.
	devAdmin := roleCredentialsIn(t, srv, "alice@company.com", dev, "AdministratorAccess")
	devIAM := iam.NewFromConfig(aws.Config{Region: srv.Instance.Region, Credentials: credentials.NewStaticCredentialsProvider(
		devAdmin.AccessKeyID, devAdmin.SecretAccessKey, devAdmin.SessionToken)}, func(o *iam.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	if _, err := devIAM.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("deploy-boundary"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)}); err != nil {
		t.Fatalf("iam create-policy deploy-boundary in dev: %v", err)
	}
	example, err := os.ReadFile(filepath.Join("..", "examples", "terraform", "main.tf"))
	if err != nil {
		t.Fatal(err)
	}
	tf.write("main.tf", string(example))
	tf.write("terraform.tfvars", "gatehouse_url = \""+srv.URL+"\"\n")

	tf.mustRun("init", "-no-color")
	tf.mustRun("apply", "-auto-approve", "-no-color")
	tf.wantNoChanges("after the first apply")

	// The server holds what the configuration says.
	outputs := tf.outputs()
	admin, err := srv.Store.GetUserByName(ctx, "alice@company.com")
	if err != nil {
		t.Fatal(err)
	}
	if outputs["admin_user_id"] != admin.ID || outputs["instance_arn"] != arn.InstanceARN(srv.Instance.InstanceID) {
		t.Errorf("outputs %v: want admin_user_id %s and the instance's ARN", outputs, admin.ID)
	}
	u, err := srv.Store.GetUserByName(ctx, "ed2.developer")
	if err != nil {
		t.Fatalf("ed2.developer after apply: %v", err)
	}
	if u.ID != outputs["ed2_user_id"] || u.DisplayName != "Ed Two" || u.Name.GivenName != "Ed" || u.Name.FamilyName != "Two" ||
		len(u.Emails) != 1 || u.Emails[0] != (store.Email{Value: "ed2@example.com", Type: "work", Primary: true}) {
		t.Errorf("ed2.developer = %+v", u)
	}
	g, err := srv.Store.GetGroupByName(ctx, "Platform")
	if err != nil {
		t.Fatalf("group Platform after apply: %v", err)
	}
	if g.ID != outputs["platform_group_id"] || g.Description != "Platform team" {
		t.Errorf("group = %+v", g)
	}
	if _, err := srv.Store.FindMembership(ctx, g.ID, u.ID); err != nil {
		t.Errorf("ed2.developer in Platform: %v", err)
	}
	ps, err := srv.Store.GetPermissionSetByName(ctx, "DeployTeam")
	if err != nil {
		t.Fatalf("permission set DeployTeam after apply: %v", err)
	}
	if arn.PermissionSetARN(srv.Instance.InstanceID, ps.ID) != outputs["permission_set_arn"] || ps.SessionDuration != 8*time.Hour ||
		ps.Description != "Deploys to dev" || ps.RelayState != "https://console.aws.amazon.com/console/home" ||
		!slices.Equal(ps.ManagedPolicies, []string{"arn:aws:iam::aws:policy/PowerUserAccess"}) ||
		!slices.Equal(ps.CustomerPolicies, []store.PolicyRef{{Name: "deploy-boundary", Path: "/"}}) ||
		!strings.Contains(ps.InlinePolicy, "DenyLeavingRegion") || !slices.Equal(ps.Tags, []store.Tag{{Key: "team", Value: "platform"}}) {
		t.Errorf("DeployTeam = %+v", ps)
	}
	as, err := srv.Store.ListAssignments(ctx, store.AssignmentFilter{PermissionSetID: ps.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 1 || as[0].AccountID != dev || as[0].PrincipalType != store.PrincipalGroup || as[0].PrincipalID != g.ID {
		t.Errorf("DeployTeam assignments = %+v, want Platform on %s", as, dev)
	}
	role, err := srv.Store.GetProvisionedRole(ctx, dev, ps.ID)
	if err != nil {
		t.Fatalf("DeployTeam role in %s: %v", dev, err)
	}
	if !strings.HasPrefix(role.RoleName, "AWSReservedSSO_DeployTeam_") || role.PermissionSetVersion != ps.Version {
		t.Errorf("role %+v is not provisioned at the permission set's version %d", role, ps.Version)
	}

	// The pipeline's automation user and its key, which works at once.
	mgmt := srv.Instance.ManagementAccountID
	ci, err := srv.Store.GetIAMUser(ctx, mgmt, "platform-ci")
	if err != nil {
		t.Fatalf("automation user platform-ci after apply: %v", err)
	}
	if ci.Path != "/ci/" || !slices.Equal(ci.ManagedPolicies, []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}) {
		t.Errorf("platform-ci = %+v", ci)
	}
	keys, err := srv.Store.ListAccessKeys(ctx, ci.ID)
	if err != nil || len(keys) != 1 || keys[0].ID != outputs["ci_access_key_id"] || !strings.HasPrefix(keys[0].ID, "AKIA") {
		t.Fatalf("platform-ci keys = %+v (%v), want the one in the output %q", keys, err, outputs["ci_access_key_id"])
	}
	key := credentials.NewStaticCredentialsProvider(outputs["ci_access_key_id"], outputs["ci_secret_access_key"], "")
	who, err := stsClient(srv, key).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(who.Arn) != "arn:aws:iam::"+mgmt+":user/ci/platform-ci" {
		t.Errorf("get-caller-identity with the new key: %v, %v", who, err)
	}

	// The pipeline's key (ReadOnlyAccess) is enough to plan: every read
	// Terraform makes is allowed, and the plan shows nothing to do.
	if out, code := tf.runWith([]string{"AWS_ACCESS_KEY_ID=" + outputs["ci_access_key_id"],
		"AWS_SECRET_ACCESS_KEY=" + outputs["ci_secret_access_key"], "AWS_SESSION_TOKEN="},
		"plan", "-detailed-exitcode", "-no-color"); code != 0 {
		t.Errorf("plan with the automation user's key: exit %d, want 0\n%s", code, out)
	}

	// A change is applied in place and leaves, again, nothing to do.
	tf.write("change_override.tf", `
resource "aws_identitystore_user" "ed2" {
  display_name = "Edward Two"
  title        = "Engineer"
}

resource "aws_identitystore_group" "platform" {
  description = "Platform engineering"
}

resource "aws_ssoadmin_permission_set" "deploy" {
  description      = "Deploys to dev, eight hours at most"
  session_duration = "PT4H"
  tags = {
    team = "platform"
    cost = "42"
  }
}
`)
	out := tf.mustRun("apply", "-auto-approve", "-no-color")
	if !strings.Contains(out, "0 added, 3 changed, 0 destroyed") {
		t.Errorf("apply of the change:\n%s", out)
	}
	tf.wantNoChanges("after the change")
	if u, err = srv.Store.GetUser(ctx, u.ID); err != nil || u.DisplayName != "Edward Two" || u.Profile.Title != "Engineer" || u.Name.GivenName != "Ed" {
		t.Errorf("ed2.developer after the change = %+v, %v", u, err)
	}
	if g, err = srv.Store.GetGroup(ctx, g.ID); err != nil || g.Description != "Platform engineering" {
		t.Errorf("Platform after the change = %+v, %v", g, err)
	}
	changed, err := srv.Store.GetPermissionSet(ctx, ps.ID)
	if err != nil {
		t.Fatal(err)
	}
	if changed.SessionDuration != 4*time.Hour || changed.Description != "Deploys to dev, eight hours at most" || len(changed.Tags) != 2 {
		t.Errorf("DeployTeam after the change = %+v", changed)
	}
	if role, err := srv.Store.GetProvisionedRole(ctx, dev, ps.ID); err != nil || role.PermissionSetVersion != changed.Version {
		t.Errorf("the role was not provisioned again after the change: %+v, %v (set at version %d)", role, err, changed.Version)
	}

	// Destroy removes everything it made and nothing else.
	tf.mustRun("destroy", "-auto-approve", "-no-color")
	if _, err := srv.Store.GetUserByName(ctx, "ed2.developer"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ed2.developer after destroy: %v", err)
	}
	if _, err := srv.Store.GetGroup(ctx, g.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Platform after destroy: %v", err)
	}
	if _, err := srv.Store.GetPermissionSet(ctx, ps.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeployTeam after destroy: %v", err)
	}
	if roles, err := srv.Store.ListProvisionedRoles(ctx, store.RoleFilter{PermissionSetID: ps.ID}); err != nil || len(roles) != 0 {
		t.Errorf("DeployTeam roles after destroy: %+v, %v", roles, err)
	}
	if _, err := srv.Store.GetIAMUser(ctx, mgmt, "platform-ci"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("platform-ci after destroy: %v", err)
	}
	if _, err := stsClient(srv, key).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err == nil || !strings.Contains(err.Error(), "InvalidClientTokenId") {
		t.Errorf("the destroyed key: %v, want InvalidClientTokenId", err)
	}
	if _, err := srv.Store.GetUser(ctx, admin.ID); err != nil {
		t.Errorf("the data source's user after destroy: %v", err)
	}
	if _, err := srv.Store.GetCustomerPolicy(ctx, dev, "/", "deploy-boundary"); err != nil {
		t.Errorf("the customer-managed policy after destroy: %v", err)
	}
}

// write puts a file in the working folder.
func (tf *terraform) write(name, text string) {
	tf.t.Helper()
	if err := os.WriteFile(filepath.Join(tf.dir, name), []byte(text), 0o644); err != nil {
		tf.t.Fatal(err)
	}
}

// wantNoChanges fails the test unless a plan shows no changes.
func (tf *terraform) wantNoChanges(when string) {
	tf.t.Helper()
	if out, code := tf.run("plan", "-detailed-exitcode", "-no-color"); code != 0 {
		tf.t.Fatalf("plan %s: exit %d, want 0 (no changes)\n%s", when, code, out)
	}
}

// outputs returns the configuration's string outputs.
func (tf *terraform) outputs() map[string]string {
	tf.t.Helper()
	var raw map[string]struct{ Value any }
	if err := json.Unmarshal([]byte(tf.mustRun("output", "-json")), &raw); err != nil {
		tf.t.Fatal(err)
	}
	out := map[string]string{}
	for k, v := range raw {
		s, _ := v.Value.(string)
		out[k] = s
	}
	return out
}

// adminRoleCredentials issues the demo admin's AdministratorAccess
// credentials in the management account, as GetRoleCredentials does after
// a sign-in.
func adminRoleCredentials(t *testing.T, srv *servertest.Server) roleCredentials {
	t.Helper()
	return roleCredentialsIn(t, srv, "alice@company.com", srv.Instance.ManagementAccountID, "AdministratorAccess")
}

// roleCredentialsIn issues user's credentials for the permission set role
// in accountID, as GetRoleCredentials does after a sign-in.
func roleCredentialsIn(t *testing.T, srv *servertest.Server, user, accountID, role string) roleCredentials {
	t.Helper()
	u, err := srv.Store.GetUserByName(t.Context(), user)
	if err != nil {
		t.Fatal(err)
	}
	p := session.Principal{UserID: u.ID, UserName: u.UserName, GrantID: "grant-terraform", SessionID: "session-terraform", AuthTime: time.Now().Add(-time.Minute)}
	c, err := srv.Issuer.Issue(t.Context(), p, accountID, role)
	if err != nil {
		t.Fatalf("issue %s in %s for %s: %v", role, accountID, user, err)
	}
	return roleCredentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}
}

// TestTerraformImportsTheWorld takes over what the demo world file made:
// Terraform imports the users, group, membership, permission set, policy
// attachment and account assignment, and a configuration that says what
// the world file says plans no changes. Moving from a world file to
// Terraform needs nothing recreated. The identitystore and sso-admin data
// sources read the same world.
func TestTerraformImportsTheWorld(t *testing.T) {
	srv := demoServer(t)
	ctx := t.Context()
	tf := newTerraform(t, adminRoleCredentials(t, srv))
	const dev = "111111111111"
	sid := srv.Instance.IdentityStoreID
	ins := arn.InstanceARN(srv.Instance.InstanceID)
	ed, err := srv.Store.GetUserByName(ctx, "ed.developer")
	if err != nil {
		t.Fatal(err)
	}
	g, err := srv.Store.GetGroupByName(ctx, "Developers")
	if err != nil {
		t.Fatal(err)
	}
	m, err := srv.Store.FindMembership(ctx, g.ID, ed.ID)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := srv.Store.GetPermissionSetByName(ctx, "PowerUserAccess")
	if err != nil {
		t.Fatal(err)
	}
	psARN := arn.PermissionSetARN(srv.Instance.InstanceID, ps.ID)
	changes, err := srv.Store.ChangeSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}

	tf.write("main.tf", `
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "5.100.0" }
  }
}

variable "gatehouse_url" { type = string }

provider "aws" {
  region = "us-east-1"
  endpoints {
    identitystore = var.gatehouse_url
    iam           = var.gatehouse_url
    organizations = var.gatehouse_url
    ssoadmin      = var.gatehouse_url
    sts           = var.gatehouse_url
  }
  skip_metadata_api_check = true
}

data "aws_ssoadmin_instances" "this" {}

locals {
  instance_arn      = tolist(data.aws_ssoadmin_instances.this.arns)[0]
  identity_store_id = tolist(data.aws_ssoadmin_instances.this.identity_store_ids)[0]
}

data "aws_identitystore_group" "developers" {
  identity_store_id = local.identity_store_id
  alternate_identifier {
    unique_attribute {
      attribute_path  = "DisplayName"
      attribute_value = "Developers"
    }
  }
}

data "aws_identitystore_groups" "all" {
  identity_store_id = local.identity_store_id
}

data "aws_identitystore_users" "all" {
  identity_store_id = local.identity_store_id
}

data "aws_ssoadmin_permission_set" "power_user" {
  instance_arn = local.instance_arn
  name         = "PowerUserAccess"
}

data "aws_ssoadmin_permission_sets" "all" {
  instance_arn = local.instance_arn
}

output "reads" {
  value = join(" ", [
    data.aws_identitystore_group.developers.group_id,
    length(data.aws_identitystore_groups.all.groups),
    length(data.aws_identitystore_users.all.users),
    data.aws_ssoadmin_permission_set.power_user.arn,
    length(data.aws_ssoadmin_permission_sets.all.arns),
  ])
}

resource "aws_identitystore_user" "ed" {
  identity_store_id = local.identity_store_id
  user_name         = "ed.developer"
  display_name      = "Ed Developer"
  name {
    given_name  = "Ed"
    family_name = "Dev"
  }
  emails {
    value   = "ed@example.com"
    type    = "work"
    primary = true
  }
}

resource "aws_identitystore_group" "developers" {
  identity_store_id = local.identity_store_id
  display_name      = "Developers"
  description       = "Development team with PowerUser access"
}

resource "aws_identitystore_group_membership" "ed_developers" {
  identity_store_id = local.identity_store_id
  group_id          = aws_identitystore_group.developers.group_id
  member_id         = aws_identitystore_user.ed.user_id
}

resource "aws_ssoadmin_permission_set" "power_user" {
  instance_arn     = local.instance_arn
  name             = "PowerUserAccess"
  description      = "Full access to AWS services except IAM and Organizations"
  session_duration = "PT1H"
}

resource "aws_ssoadmin_managed_policy_attachment" "power_user" {
  instance_arn       = local.instance_arn
  permission_set_arn = aws_ssoadmin_permission_set.power_user.arn
  managed_policy_arn = "arn:aws:iam::aws:policy/PowerUserAccess"
}

resource "aws_ssoadmin_account_assignment" "developers_dev" {
  instance_arn       = local.instance_arn
  permission_set_arn = aws_ssoadmin_permission_set.power_user.arn
  principal_type     = "GROUP"
  principal_id       = aws_identitystore_group.developers.group_id
  target_type        = "AWS_ACCOUNT"
  target_id          = "`+dev+`"
}

import {
  to = aws_identitystore_user.ed
  id = "`+sid+"/"+ed.ID+`"
}

import {
  to = aws_identitystore_group.developers
  id = "`+sid+"/"+g.ID+`"
}

import {
  to = aws_identitystore_group_membership.ed_developers
  id = "`+sid+"/"+m.ID+`"
}

import {
  to = aws_ssoadmin_permission_set.power_user
  id = "`+psARN+","+ins+`"
}

import {
  to = aws_ssoadmin_managed_policy_attachment.power_user
  id = "arn:aws:iam::aws:policy/PowerUserAccess,`+psARN+","+ins+`"
}

import {
  to = aws_ssoadmin_account_assignment.developers_dev
  id = "`+g.ID+",GROUP,"+dev+",AWS_ACCOUNT,"+psARN+","+ins+`"
}
`)
	tf.write("terraform.tfvars", "gatehouse_url = \""+srv.URL+"\"\n")
	tf.mustRun("init", "-no-color")
	out := tf.mustRun("apply", "-auto-approve", "-no-color")
	if !strings.Contains(out, "6 imported, 0 added, 0 changed, 0 destroyed") {
		t.Fatalf("apply of the imports:\n%s", out)
	}
	tf.wantNoChanges("after the imports")
	// The data sources read the world: the group and the permission set by
	// name, and every group (1), user (2) and permission set (4).
	if got, want := tf.outputs()["reads"], g.ID+" 1 2 "+psARN+" 4"; got != want {
		t.Errorf("data sources read %q, want %q", got, want)
	}
	if after, err := srv.Store.ChangeSeq(ctx); err != nil || after != changes {
		t.Errorf("the imports changed the store: change counter %d, then %d (%v)", changes, after, err)
	}
}

// TestAdminGuideShowsTheTerraformExample keeps the admin guide's complete
// Terraform example the one TestTerraform applies.
func TestAdminGuideShowsTheTerraformExample(t *testing.T) {
	example, err := os.ReadFile(filepath.Join("..", "examples", "terraform", "main.tf"))
	if err != nil {
		t.Fatal(err)
	}
	guide, err := os.ReadFile(filepath.Join("..", "docs", "admin-guide.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(guide), "```hcl\n"+string(example)+"```\n") {
		t.Error("docs/admin-guide.md does not show examples/terraform/main.tf as it is")
	}
}

// TestTerraformWithSSOProfile: the admin signs in with `aws sso login`
// through the real device sign-in, and Terraform uses that profile (its
// token cache and the [services] section that sends the portal calls to
// Gatehouse), as the admin guide says.
func TestTerraformWithSSOProfile(t *testing.T) {
	srv := demoServer(t)
	in := srv.Instance
	c := newCLI(t, srv)
	sess := clientconfig.Session{Name: "gatehouse", StartURL: in.StartURL, Region: in.Region, BaseURL: srv.URL}
	c.appendConfig(sess.SessionSection() + "\n" + sess.ServicesSection() + "\n" +
		clientconfig.Profile{Name: "mgmt", AccountID: in.ManagementAccountID, RoleName: "AdministratorAccess", Region: in.Region}.Section(sess))
	c.login("mgmt", "alice@company.com")
	tf := newTerraformEnv(t, []string{"AWS_PROFILE=mgmt", "AWS_CONFIG_FILE=" + filepath.Join(c.home, ".aws", "config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(c.home, ".aws", "credentials"), "HOME=" + c.home})
	tf.write("main.tf", `
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "5.100.0" }
  }
}

variable "gatehouse_url" { type = string }

provider "aws" {
  endpoints {
    identitystore = var.gatehouse_url
    ssoadmin      = var.gatehouse_url
    sts           = var.gatehouse_url
  }
  skip_metadata_api_check = true
}

data "aws_ssoadmin_instances" "this" {}
data "aws_caller_identity" "me" {}

output "identity_store_id" {
  value = tolist(data.aws_ssoadmin_instances.this.identity_store_ids)[0]
}

output "caller" {
  value = data.aws_caller_identity.me.arn
}
`)
	tf.write("terraform.tfvars", "gatehouse_url = \""+srv.URL+"\"\n")
	tf.mustRun("init", "-no-color")
	tf.mustRun("apply", "-auto-approve", "-no-color")
	out := tf.outputs()
	if out["identity_store_id"] != in.IdentityStoreID || !strings.Contains(out["caller"], ":assumed-role/AWSReservedSSO_AdministratorAccess_") {
		t.Fatalf("outputs with the SSO profile: %v", out)
	}
}

// TestTerraformOrganizations: accounts the AWS way with Terraform — the
// aws_organizations_organization data source lists the organization's
// accounts and Identity Center's trusted access, aws_organizations_account
// creates one (and plans no changes after), and destroy closes it.
func TestTerraformOrganizations(t *testing.T) {
	srv := demoServer(t)
	ctx := t.Context()
	tf := newTerraform(t, adminRoleCredentials(t, srv))
	tf.write("main.tf", `
terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "5.100.0" }
  }
}

variable "gatehouse_url" { type = string }

provider "aws" {
  region = "us-east-1"
  endpoints {
    iam           = var.gatehouse_url
    organizations = var.gatehouse_url
    sts           = var.gatehouse_url
  }
  skip_metadata_api_check = true
}

data "aws_organizations_organization" "this" {}

resource "aws_organizations_account" "sandbox" {
  name              = "sandbox"
  email             = "sandbox@example.com"
  close_on_deletion = true
  tags = {
    team = "platform"
  }
}

output "dev" {
  value = one([for a in data.aws_organizations_organization.this.accounts : a.id if a.name == "dev"])
}

output "management" {
  value = data.aws_organizations_organization.this.master_account_id
}

output "service_access" {
  value = join(",", data.aws_organizations_organization.this.aws_service_access_principals)
}

output "sandbox" {
  value = aws_organizations_account.sandbox.id
}
`)
	tf.write("terraform.tfvars", "gatehouse_url = \""+srv.URL+"\"\n")
	tf.mustRun("init", "-no-color")
	tf.mustRun("apply", "-auto-approve", "-no-color")
	tf.wantNoChanges("after the apply")
	out := tf.outputs()
	if out["dev"] != "111111111111" || out["management"] != srv.Instance.ManagementAccountID || out["service_access"] != "sso.amazonaws.com" {
		t.Errorf("outputs %v: want dev 111111111111, management %s, Identity Center's trusted access", out, srv.Instance.ManagementAccountID)
	}
	a, err := srv.Store.GetAccount(ctx, out["sandbox"])
	if err != nil || a.Name != "sandbox" || a.Email != "sandbox@example.com" {
		t.Fatalf("account %s after apply: %+v, %v", out["sandbox"], a, err)
	}
	tf.mustRun("destroy", "-auto-approve", "-no-color")
	if a, err = srv.Store.GetAccount(ctx, a.ID); err != nil || a.ClosedAt.IsZero() {
		t.Errorf("account %s after destroy: %+v, %v; want closed", out["sandbox"], a, err)
	}
}
