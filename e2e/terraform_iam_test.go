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

// terraformBin and tfMirror are where this kind of machine keeps Terraform
// 1.11 and the hashicorp/aws 5.100.0 provider (a filesystem mirror, so
// init works offline).
const (
	terraformBin = "/usr/local/bin/terraform"
	tfMirror     = "/opt/tf-plugins"
)

// automationTF is the configuration an admin applies for a pipeline: an
// automation user with tags, an AWS managed policy attached, an inline
// policy and an access key.
const automationTF = `
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
    iam = %q
    sts = %q
  }
}

resource "aws_iam_user" "ci" {
  name          = "ci-deployer"
  path          = "/ci/"
  force_destroy = true
  tags = {
    team = "platform"
  }
}

resource "aws_iam_user_policy_attachment" "read" {
  user       = aws_iam_user.ci.name
  policy_arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
}

resource "aws_iam_user_policy" "deploy" {
  name = "deploy"
  user = aws_iam_user.ci.name
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sso:ListInstances", Resource = "*" }]
  })
}

resource "aws_iam_access_key" "ci" {
  user = aws_iam_user.ci.name
}

output "access_key_id" {
  value = aws_iam_access_key.ci.id
}
`

// TestTerraformAutomationUser applies, re-plans (no changes) and destroys
// aws_iam_user, aws_iam_user_policy_attachment, aws_iam_user_policy and
// aws_iam_access_key against Gatehouse with the real hashicorp/aws
// provider, signed in as the demo admin.
func TestTerraformAutomationUser(t *testing.T) {
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
	creds, err := srv.Issuer.Issue(ctx, session.Principal{UserID: u.ID, UserName: u.UserName, GrantID: "g-tf", SessionID: "s-tf",
		AuthTime: time.Now().Add(-time.Minute)}, srv.Instance.ManagementAccountID, "AdministratorAccess")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cliConfig := filepath.Join(dir, "terraform.rc")
	if err := os.WriteFile(cliConfig, []byte(`provider_installation {
  filesystem_mirror {
    path = "`+tfMirror+`"
  }
}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(dir, "work")
	if err := os.Mkdir(work, 0o755); err != nil {
		t.Fatal(err)
	}
	tf := fmt.Sprintf(automationTF, creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken, srv.URL, srv.URL)
	if err := os.WriteFile(filepath.Join(work, "main.tf"), []byte(tf), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(wantCode int, args ...string) string {
		t.Helper()
		cctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(cctx, terraformBin, args...)
		cmd.Dir = work
		cmd.Env = []string{"HOME=" + dir, "PATH=/usr/bin:/bin", "TF_CLI_CONFIG_FILE=" + cliConfig, "TF_IN_AUTOMATION=1",
			"CHECKPOINT_DISABLE=1", "HTTPS_PROXY=http://127.0.0.1:9", "AWS_EC2_METADATA_DISABLED=true"}
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
	iu, err := srv.Store.GetIAMUser(ctx, acct, "ci-deployer")
	if err != nil {
		t.Fatalf("after apply: %v", err)
	}
	keys, err := srv.Store.ListAccessKeys(ctx, iu.ID)
	if err != nil || len(keys) != 1 || iu.Path != "/ci/" || len(iu.ManagedPolicies) != 1 || len(iu.InlinePolicies) != 1 {
		t.Errorf("after apply: user %+v, keys %d (%v)", iu, len(keys), err)
	}
	keyID := strings.TrimSpace(run(0, "output", "-raw", "access_key_id"))
	if len(keys) == 1 && keyID != keys[0].ID {
		t.Errorf("output access_key_id %q, stored %s", keyID, keys[0].ID)
	}
	// A second plan finds nothing to change.
	run(0, "plan", "-input=false", "-detailed-exitcode", "-no-color")
	run(0, "destroy", "-input=false", "-auto-approve", "-no-color")
	us, err := srv.Store.ListIAMUsers(ctx, acct, store.Page{})
	if err != nil || len(us) != 0 {
		t.Errorf("after destroy: %d users (%v)", len(us), err)
	}
}
