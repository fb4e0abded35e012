package awsaccounts_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/awsaccounts"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
)

// TestLinkPolicy checks the least-privilege document with Gatehouse's own
// policy engine: it parses strictly, allows what linking and provisioning
// do and nothing beside it.
func TestLinkPolicy(t *testing.T) {
	doc := awsaccounts.LinkPolicy(dev)
	if err := policy.CheckCustomer(doc); err != nil {
		t.Fatalf("policy does not parse: %v\n%s", err, doc)
	}
	p, err := policy.ParseCompile("GatehouseLink", doc)
	if err != nil {
		t.Fatal(err)
	}
	set := &policy.Set{Identity: []*policy.Policy{p}}
	role := "arn:aws:iam::" + dev + ":role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Dev_0123456789abcdef"
	provider := "arn:aws:iam::" + dev + ":saml-provider/GatehouseSSO_0123456789abcdef_DO_NOT_DELETE"
	for _, tc := range []struct {
		action, resource string
		want             policy.Decision
	}{
		{"iam:CreateRole", role, policy.Allow},
		{"iam:PutRolePolicy", role, policy.Allow},
		{"iam:AttachRolePolicy", role, policy.Allow},
		{"iam:PutRolePermissionsBoundary", role, policy.Allow},
		{"iam:DeleteRole", role, policy.Allow},
		{"iam:TagRole", role, policy.Allow},
		{"iam:GetPolicy", "arn:aws:iam::" + dev + ":policy/TeamBoundary", policy.Allow},
		{"iam:CreateSAMLProvider", provider, policy.Allow},
		{"iam:UpdateSAMLProvider", provider, policy.Allow},
		{"iam:DeleteSAMLProvider", provider, policy.Allow},
		{"sts:GetCallerIdentity", "*", policy.Allow},
		// Nothing outside Identity Center's path, nor another account.
		{"iam:CreateRole", "arn:aws:iam::" + dev + ":role/Admin", policy.ImplicitDeny},
		{"iam:AttachRolePolicy", "arn:aws:iam::" + dev + ":role/OrganizationAccountAccessRole", policy.ImplicitDeny},
		{"iam:CreateRole", "arn:aws:iam::" + staging + ":role/aws-reserved/sso.amazonaws.com/X", policy.ImplicitDeny},
		{"iam:DeleteSAMLProvider", "arn:aws:iam::" + dev + ":saml-provider/AWSSSO_0123456789abcdef_DO_NOT_DELETE", policy.ImplicitDeny},
		{"iam:CreateUser", "arn:aws:iam::" + dev + ":user/x", policy.ImplicitDeny},
		{"iam:CreateAccessKey", "arn:aws:iam::" + dev + ":user/gatehouse/gatehouse-link", policy.ImplicitDeny},
		{"s3:ListBucket", "arn:aws:s3:::b", policy.ImplicitDeny},
	} {
		if got := set.Evaluate(&policy.Request{Action: tc.action, Resources: []string{tc.resource}}).Decision; got != tc.want {
			t.Errorf("%s on %s: %v, want %v", tc.action, tc.resource, got, tc.want)
		}
	}
	text := awsaccounts.LinkPolicyText(dev)
	if !strings.Contains(text, string(doc)) || !strings.Contains(text, `resource "aws_iam_policy"`) {
		t.Fatalf("link-policy text lacks the document or the Terraform:\n%s", text)
	}
}

const (
	terraformBin = "/usr/local/bin/terraform"
	tfMirror     = "/opt/tf-plugins"
)

// TestLinkTerraformValidates runs `terraform init` and `terraform validate`
// on the snippet, offline, with the image's provider mirror.
func TestLinkTerraformValidates(t *testing.T) {
	if _, err := os.Stat(terraformBin); err != nil {
		t.Skip("terraform is not installed at " + terraformBin)
	}
	if _, err := os.Stat(tfMirror); err != nil {
		t.Skip("the Terraform provider mirror is not at " + tfMirror)
	}
	dir := t.TempDir()
	rc := filepath.Join(dir, "terraform.rc")
	if err := os.WriteFile(rc, []byte("provider_installation {\n  filesystem_mirror {\n    path    = \""+tfMirror+
		"\"\n    include = [\"registry.terraform.io/hashicorp/*\"]\n  }\n  direct {\n    exclude = [\"registry.terraform.io/*/*\"]\n  }\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(dir, "work")
	if err := os.Mkdir(work, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "main.tf"), []byte(awsaccounts.LinkTerraform(dev)), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, terraformBin, args...)
		cmd.Dir = work
		cmd.Env = []string{"HOME=" + dir, "PATH=/usr/bin:/bin", "TF_CLI_CONFIG_FILE=" + rc, "TF_DATA_DIR=" + filepath.Join(dir, "tf-data"),
			"TF_IN_AUTOMATION=1", "TF_INPUT=0", "CHECKPOINT_DISABLE=1", "HTTPS_PROXY=http://127.0.0.1:9", "HTTP_PROXY=http://127.0.0.1:9"}
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Fatalf("terraform %s: %v\n%s", strings.Join(args, " "), err, out.String())
		}
		return out.String()
	}
	run("init", "-backend=false", "-no-color")
	if out := run("validate", "-no-color", "-json"); !strings.Contains(out, `"valid": true`) {
		t.Fatalf("terraform validate: %s", out)
	}
}

// TestAdminGuidePolicy keeps docs/admin-guide.md's least-privilege policy
// the one LinkPolicy makes.
func TestAdminGuidePolicy(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "admin-guide.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "The policy (for account `111111111111`):\n\n```json\n")
	if !ok {
		t.Fatal("the admin guide has no policy block")
	}
	doc, _, _ := strings.Cut(rest, "```")
	var got, want any
	if err := json.Unmarshal([]byte(doc), &got); err != nil {
		t.Fatalf("the admin guide's policy: %v", err)
	}
	if err := json.Unmarshal(awsaccounts.LinkPolicy("111111111111"), &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("the admin guide's policy differs from LinkPolicy:\n%s", awsaccounts.LinkPolicy("111111111111"))
	}
}
