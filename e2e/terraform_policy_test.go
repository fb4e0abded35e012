package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/session"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// policyTF is what an admin applies to give a permission set and a
// pipeline a customer-managed policy created through IAM, and reads the
// organization through the aws_organizations_organization data source.
const policyTF = `
provider "aws" {
  region                      = "us-east-1"
  access_key                  = %q
  secret_key                  = %q
  token                       = %q
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  skip_requesting_account_id  = true
  endpoints {
    iam           = %[4]q
    sts           = %[4]q
    ssoadmin      = %[4]q
    organizations = %[4]q
  }
}

data "aws_organizations_organization" "org" {}

data "aws_ssoadmin_instances" "this" {}

resource "aws_iam_policy" "deploy" {
  name        = "tf-deploy"
  path        = "/ci/"
  description = "what pipelines may do"
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = ["sso:ListInstances", "iam:ListRoles"], Resource = "*" }]
  })
  tags = {
    team = "platform"
  }
}

resource "aws_iam_user" "ci" {
  name = "tf-ci"
}

resource "aws_iam_user_policy_attachment" "deploy" {
  user       = aws_iam_user.ci.name
  policy_arn = aws_iam_policy.deploy.arn
}

resource "aws_ssoadmin_permission_set" "deployers" {
  name         = "TFDeployers"
  instance_arn = tolist(data.aws_ssoadmin_instances.this.arns)[0]
}

resource "aws_ssoadmin_customer_managed_policy_attachment" "deploy" {
  instance_arn       = aws_ssoadmin_permission_set.deployers.instance_arn
  permission_set_arn = aws_ssoadmin_permission_set.deployers.arn
  customer_managed_policy_reference {
    name = aws_iam_policy.deploy.name
    path = aws_iam_policy.deploy.path
  }
}

output "org_id" {
  value = data.aws_organizations_organization.org.id
}

output "account_count" {
  value = length(data.aws_organizations_organization.org.accounts)
}

output "policy_arn" {
  value = aws_iam_policy.deploy.arn
}
`

// TestTerraformCustomerPolicy applies, re-plans (no changes) and destroys
// aws_iam_policy with aws_iam_user_policy_attachment and
// aws_ssoadmin_customer_managed_policy_attachment referring to it, and
// reads data "aws_organizations_organization", with the real
// hashicorp/aws provider signed in as the demo admin. A policy edit is
// then applied as a new default version.
func TestTerraformCustomerPolicy(t *testing.T) {
	if _, err := os.Stat(terraformBin); err != nil {
		t.Skipf("terraform (%s) is not installed: %v", terraformBin, err)
	}
	if _, err := os.Stat(tfMirror); err != nil {
		t.Skipf("the Terraform provider mirror (%s) is not there: %v", tfMirror, err)
	}
	srv := demoServer(t)
	ctx := t.Context()
	u, err := srv.Store.GetUserByName(ctx, "alice@company.com")
	if err != nil {
		t.Fatal(err)
	}
	creds, err := srv.Issuer.Issue(ctx, session.Principal{UserID: u.ID, UserName: u.UserName, GrantID: "g-tfp", SessionID: "s-tfp",
		AuthTime: time.Now().Add(-time.Minute)}, srv.Instance.ManagementAccountID, "AdministratorAccess")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cliConfig := filepath.Join(dir, "terraform.rc")
	if err := os.WriteFile(cliConfig, []byte("provider_installation {\n  filesystem_mirror {\n    path = \""+tfMirror+"\"\n  }\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(dir, "work")
	if err := os.Mkdir(work, 0o755); err != nil {
		t.Fatal(err)
	}
	writeTF := func(tf string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(work, "main.tf"), []byte(fmt.Sprintf(tf, creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken, srv.URL)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeTF(policyTF)
	run := func(wantCode int, args ...string) string {
		t.Helper()
		cctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(cctx, terraformBin, args...)
		cmd.Dir = work
		cmd.Env = []string{"HOME=" + dir, "PATH=/usr/bin:/bin", "TF_CLI_CONFIG_FILE=" + cliConfig, "TF_IN_AUTOMATION=1",
			"CHECKPOINT_DISABLE=1", "HTTPS_PROXY=http://127.0.0.1:9", "AWS_EC2_METADATA_DISABLED=true"}
		if os.Getenv("GATEHOUSE_TF_LOG") != "" {
			cmd.Env = append(cmd.Env, "TF_LOG=DEBUG", "TF_LOG_PATH="+os.Getenv("GATEHOUSE_TF_LOG"))
		}
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("terraform %s: %v", args[0], err)
		}
		if code != wantCode {
			t.Fatalf("terraform %s exited %d, want %d:\n%s", strings.Join(args, " "), code, wantCode, out.String())
		}
		return out.String()
	}
	run(0, "init", "-input=false", "-no-color")
	run(0, "apply", "-input=false", "-auto-approve", "-no-color")
	acct := srv.Instance.ManagementAccountID
	p, err := srv.Store.GetCustomerPolicy(ctx, acct, "/ci/", "tf-deploy")
	if err != nil || !strings.HasPrefix(p.ID, "ANPA") || p.Description != "what pipelines may do" || len(p.Tags) != 1 {
		t.Fatalf("after apply: policy %+v (%v)", p, err)
	}
	if arn := strings.TrimSpace(run(0, "output", "-raw", "policy_arn")); arn != "arn:aws:iam::"+acct+":policy/ci/tf-deploy" {
		t.Errorf("output policy_arn %q", arn)
	}
	if id := strings.TrimSpace(run(0, "output", "-raw", "org_id")); !strings.HasPrefix(id, "o-") {
		t.Errorf("output org_id %q", id)
	}
	stored, err := srv.Store.ListAccounts(ctx, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.TrimSpace(run(0, "output", "-raw", "account_count")); n != fmt.Sprint(len(stored)) {
		t.Errorf("output account_count %s, want %d", n, len(stored))
	}
	iu, err := srv.Store.GetIAMUser(ctx, acct, "tf-ci")
	if err != nil || len(iu.ManagedPolicies) != 1 {
		t.Errorf("after apply: user %+v (%v)", iu, err)
	}
	// A second plan finds nothing to change.
	run(0, "plan", "-input=false", "-detailed-exitcode", "-no-color")

	// An edited document becomes a new default version.
	writeTF(strings.Replace(policyTF, `"iam:ListRoles"`, `"iam:ListRoles", "iam:GetRole"`, 1))
	run(0, "apply", "-input=false", "-auto-approve", "-no-color")
	if p, err = srv.Store.GetCustomerPolicy(ctx, acct, "/ci/", "tf-deploy"); err != nil || len(p.Versions) != 2 || p.DefaultVersion != "v2" ||
		!strings.Contains(p.Document, "iam:GetRole") {
		t.Errorf("after the edit: policy %+v (%v)", p, err)
	}
	run(0, "plan", "-input=false", "-detailed-exitcode", "-no-color")
	run(0, "destroy", "-input=false", "-auto-approve", "-no-color")
	if _, err := srv.Store.GetCustomerPolicy(ctx, acct, "/ci/", "tf-deploy"); err == nil {
		t.Error("policy still there after destroy")
	}
}
