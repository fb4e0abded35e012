package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse/internal/clientconfig"
)

// simulation is the CLI's JSON output of simulate-custom-policy and
// simulate-principal-policy.
type simulation struct {
	EvaluationResults []struct {
		EvalActionName    string
		EvalResourceName  string
		EvalDecision      string
		MatchedStatements []struct {
			SourcePolicyID   string `json:"SourcePolicyId"`
			SourcePolicyType string
			StartPosition    struct{ Line, Column int }
			EndPosition      struct{ Line, Column int }
		}
		MissingContextValues []string
	}
	IsTruncated bool
}

func parseSimulation(t *testing.T, out string) simulation {
	t.Helper()
	var s simulation
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("simulation output is not JSON: %v\n%s", err, out)
	}
	return s
}

// TestCLIIAMPolicySimulator drives the policy simulator and the role
// listing with Debian's AWS CLI 2.9.19 as alice@company.com, signed in to
// the demo world's management account as AdministratorAccess, and shows a
// PowerUserAccess session refused as on AWS.
func TestCLIIAMPolicySimulator(t *testing.T) {
	srv := demoServer(t)
	c := newCLI(t, srv)
	in := srv.Instance
	sess := clientconfig.Session{Name: "gatehouse", StartURL: in.StartURL, Region: in.Region, BaseURL: srv.URL}
	c.appendConfig(sess.SessionSection() + "\n" +
		clientconfig.Profile{Name: "mgmt", AccountID: in.ManagementAccountID, RoleName: "AdministratorAccess", Region: "us-east-1"}.Section(sess) + "\n" +
		clientconfig.Profile{Name: "staging", AccountID: "333333333333", RoleName: "PowerUserAccess", Region: "us-east-1"}.Section(sess))
	c.login("mgmt", "alice@company.com")

	// simulate-custom-policy with a policy file, as the issue names it.
	policyDoc := `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "ReadBucket",
      "Effect": "Allow",
      "Action": "s3:GetObject",
      "Resource": "arn:aws:s3:::reports/*"
    },
    {
      "Sid": "TeamOnly",
      "Effect": "Allow",
      "Action": "s3:PutObject",
      "Resource": "*",
      "Condition": {"StringEquals": {"aws:PrincipalTag/team": "data"}}
    }
  ]
}`
	if err := os.WriteFile(filepath.Join(c.home, "p.json"), []byte(policyDoc), 0o644); err != nil {
		t.Fatal(err)
	}
	out := c.mustRun("iam", "simulate-custom-policy", "--profile", "mgmt", "--output", "json",
		"--policy-input-list", "file://p.json", "--action-names", "s3:GetObject",
		"--resource-arns", "arn:aws:s3:::reports/q3.csv")
	sim := parseSimulation(t, out)
	if len(sim.EvaluationResults) != 1 {
		t.Fatalf("simulate-custom-policy: %d results, want 1:\n%s", len(sim.EvaluationResults), out)
	}
	r := sim.EvaluationResults[0]
	if r.EvalActionName != "s3:GetObject" || r.EvalResourceName != "arn:aws:s3:::reports/q3.csv" || r.EvalDecision != "allowed" || len(r.MatchedStatements) != 1 {
		t.Fatalf("simulate-custom-policy result:\n%s", out)
	}
	m := r.MatchedStatements[0]
	// The first statement's braces are at 4:5 and 9:5; IAM reports the
	// columns just after them.
	if m.SourcePolicyID != "PolicyInputList.1" || m.StartPosition.Line != 4 || m.StartPosition.Column != 6 || m.EndPosition.Line != 9 || m.EndPosition.Column != 6 {
		t.Errorf("matched statement %+v, want PolicyInputList.1 from 4:6 to 9:6", m)
	}

	// The default resource, an implicit deny and a missing context key,
	// with the policy in a file holding a JSON list of documents.
	list, err := json.Marshal([]string{policyDoc})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(c.home, "list.json"), list, 0o644); err != nil {
		t.Fatal(err)
	}
	out = c.mustRun("iam", "simulate-custom-policy", "--profile", "mgmt", "--output", "json",
		"--policy-input-list", "file://list.json", "--action-names", "s3:GetObject", "s3:PutObject")
	sim = parseSimulation(t, out)
	type brief struct{ Action, Resource, Decision, Missing string }
	var got []brief
	for _, r := range sim.EvaluationResults {
		got = append(got, brief{r.EvalActionName, r.EvalResourceName, r.EvalDecision, strings.Join(r.MissingContextValues, ",")})
	}
	want := []brief{
		{"s3:GetObject", "*", "implicitDeny", ""},
		{"s3:PutObject", "*", "implicitDeny", "aws:PrincipalTag/team"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("simulate-custom-policy (-want +got):\n%s\n%s", diff, out)
	}

	// The CLI finds the provisioned role through list-roles and get-role.
	out = c.mustRun("iam", "list-roles", "--profile", "mgmt", "--output", "json")
	var roles struct {
		Roles []struct {
			Path, RoleName, Arn      string
			AssumeRolePolicyDocument map[string]any
			MaxSessionDuration       int
		}
	}
	if err := json.Unmarshal([]byte(out), &roles); err != nil {
		t.Fatalf("list-roles output: %v\n%s", err, out)
	}
	if len(roles.Roles) != 1 {
		t.Fatalf("list-roles in the management account: %d roles, want 1:\n%s", len(roles.Roles), out)
	}
	role := roles.Roles[0]
	arnRe := regexp.MustCompile(`^arn:aws:iam::` + in.ManagementAccountID + `:role/aws-reserved/sso\.amazonaws\.com/AWSReservedSSO_AdministratorAccess_[0-9a-f]{16}$`)
	if !arnRe.MatchString(role.Arn) || role.Path != "/aws-reserved/sso.amazonaws.com/" || role.MaxSessionDuration != 3600 {
		t.Fatalf("list-roles role %+v", role)
	}
	// botocore URL-decodes and parses the trust policy.
	if doc, _ := json.Marshal(role.AssumeRolePolicyDocument); !strings.Contains(string(doc), ":saml-provider/AWSSSO_") {
		t.Errorf("trust policy %s does not name the AWSSSO SAML provider", doc)
	}
	out = c.mustRun("iam", "get-role", "--profile", "mgmt", "--output", "json", "--role-name", role.RoleName)
	if !strings.Contains(out, `"Arn": "`+role.Arn+`"`) {
		t.Errorf("get-role:\n%s", out)
	}

	// simulate-principal-policy on that role, as the issue names it.
	out = c.mustRun("iam", "simulate-principal-policy", "--profile", "mgmt", "--output", "json",
		"--policy-source-arn", role.Arn, "--action-names", "iam:CreateUser")
	sim = parseSimulation(t, out)
	if len(sim.EvaluationResults) != 1 || sim.EvaluationResults[0].EvalDecision != "allowed" || len(sim.EvaluationResults[0].MatchedStatements) != 1 {
		t.Fatalf("simulate-principal-policy:\n%s", out)
	}
	if m := sim.EvaluationResults[0].MatchedStatements[0]; m.SourcePolicyID != "arn:aws:iam::aws:policy/AdministratorAccess" || m.SourcePolicyType != "aws-managed" {
		t.Errorf("matched statement %+v, want the AdministratorAccess managed policy", m)
	}

	// A malformed policy is refused with IAM's error.
	if err := os.WriteFile(filepath.Join(c.home, "bad.json"), []byte(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEqualz":{"aws:userid":"x"}}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = c.run(nil, "iam", "simulate-custom-policy", "--profile", "mgmt", "--policy-input-list", "file://bad.json", "--action-names", "s3:GetObject")
	if err == nil || !strings.Contains(out, "An error occurred (MalformedPolicyDocument) when calling the SimulateCustomPolicy operation") || !strings.Contains(out, "StringEqualz") {
		t.Errorf("malformed policy: %v\n%s", err, out)
	}

	// PowerUserAccess may list roles but not simulate, exactly as on AWS.
	out = c.mustRun("iam", "list-roles", "--profile", "staging", "--output", "json")
	if !strings.Contains(out, "AWSReservedSSO_PowerUserAccess_") {
		t.Errorf("staging list-roles:\n%s", out)
	}
	out, err = c.run(nil, "iam", "simulate-custom-policy", "--profile", "staging", "--policy-input-list", "file://p.json", "--action-names", "s3:GetObject")
	deniedRe := regexp.MustCompile(`An error occurred \(AccessDenied\) when calling the SimulateCustomPolicy operation: User: arn:aws:sts::333333333333:assumed-role/AWSReservedSSO_PowerUserAccess_[0-9a-f]{16}/alice@company\.com is not authorized to perform: iam:SimulateCustomPolicy on resource: \*`)
	if err == nil || !deniedRe.MatchString(out) {
		t.Errorf("power user simulate-custom-policy: %v\n%s", err, out)
	}
}
