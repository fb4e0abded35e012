package e2e

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/awsaccounts/mototest"
	"github.com/gatehouse-dev/gatehouse/internal/clientconfig"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// TestLinkedAccountsEndToEnd is the tutorial's payoff against a real
// moto_server standing in for AWS: the demo's member accounts are linked
// (serve --demo --aws-endpoint does the same at start), their permission
// sets provisioned as IAM roles in the stand-in, and Debian's AWS CLI
// 2.9.19 signs in with `aws sso login`, gets the stand-in's role session
// with `aws sts get-caller-identity --profile dev`, and makes and lists a
// bucket with `aws s3 mb` / `aws s3 ls`.
//
// moto enforces IAM policies only with INITIAL_NO_AUTH_ACTION_COUNT set;
// it is not set here (Gatehouse's own calls assume
// OrganizationAccountAccessRole, which moto does not create), so the
// ReadOnly profile's `s3 mb` is not refused by this stand-in.
func TestLinkedAccountsEndToEnd(t *testing.T) {
	moto := mototest.Start(t)
	srv := servertest.New(t, func(c *config.Config) {
		c.Demo, c.Region, c.AWSEndpoint = true, "us-east-1", moto.URL
	})
	ctx := t.Context()
	// The background work (the provisioning worker among it) runs as
	// gatehouse serve runs it.
	bg, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.RunBackground(bg) }()
	defer func() { stop(); <-done }()

	links, err := srv.LinkDemoAccounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, d := range links {
		if d.Link.Status != store.LinkActive {
			t.Fatalf("%s: %s %s", d.Name, d.Link.Status, d.Link.StatusReason)
		}
		ids[d.Name] = d.Link.AccountID
	}
	if len(ids) != 3 || ids["dev"] == "" || ids["prod"] == "" || ids["staging"] == "" {
		t.Fatalf("linked %v, want dev, staging and prod", ids)
	}

	// Linking queued the accounts' roles for IAM; the worker makes them in
	// the stand-in.
	var ops []store.Operation
	for start := time.Now(); ; time.Sleep(200 * time.Millisecond) {
		if ops, err = srv.Store.ListOperations(ctx, store.OperationFilter{Kind: access.OpReconcileRole, Page: store.Page{Limit: 1000}}); err != nil {
			t.Fatal(err)
		}
		pending := 0
		for _, op := range ops {
			if op.Status == store.StatusInProgress {
				pending++
			}
		}
		if pending == 0 {
			break
		}
		if time.Since(start) > 2*time.Minute {
			t.Fatalf("%d provisioning operations still in progress", pending)
		}
	}
	if len(ops) == 0 {
		t.Fatal("linking provisioned nothing")
	}
	for _, op := range ops {
		if op.Status != store.StatusSucceeded {
			t.Fatalf("provision %s in %s: %s %s", op.PermissionSetID, op.AccountID, op.Status, op.FailureReason)
		}
	}
	l, _ := srv.Store.GetAccountLink(ctx, ids["dev"])
	c, err := srv.AWSAccounts.Clients(ctx, l)
	if err != nil {
		t.Fatal(err)
	}
	roles, err := c.IAM.ListRoles(ctx, &iam.ListRolesInput{PathPrefix: aws.String("/aws-reserved/sso.amazonaws.com/")})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range roles.Roles {
		names = append(names, aws.ToString(r.RoleName))
	}
	if !strings.Contains(strings.Join(names, " "), "AWSReservedSSO_AdministratorAccess_") {
		t.Fatalf("roles in dev: %v", names)
	}

	cli := newCLI(t, srv)
	sess := clientconfig.Session{Name: "gatehouse", StartURL: srv.Instance.StartURL, Region: srv.Instance.Region, BaseURL: srv.URL}
	cli.appendConfig(sess.SessionSection() + "\n" +
		clientconfig.Profile{Name: "dev", AccountID: ids["dev"], RoleName: "AdministratorAccess", Region: "us-east-1"}.Section(sess) + "\n" +
		clientconfig.Profile{Name: "prod", AccountID: ids["prod"], RoleName: "ReadOnlyAccess", Region: "us-east-1"}.Section(sess))
	cli.login("dev", "alice@company.com")

	// The role session is the stand-in's, in dev.
	id, out, err := cli.callerIdentity(nil, "--profile", "dev", "--endpoint-url", moto.URL)
	if err != nil {
		t.Fatalf("get-caller-identity: %v\n%s", err, out)
	}
	arnRe := regexp.MustCompile(`^arn:aws:sts::` + ids["dev"] + `:assumed-role/AWSReservedSSO_AdministratorAccess_[0-9a-f]{16}/alice@company\.com$`)
	if id.Account != ids["dev"] || !arnRe.MatchString(id.Arn) {
		t.Fatalf("caller identity = %+v, want alice's AdministratorAccess session in dev", id)
	}
	cli.mustRun("s3", "mb", "s3://team-bucket", "--profile", "dev", "--endpoint-url", moto.URL)
	if out := cli.mustRun("s3", "ls", "--profile", "dev", "--endpoint-url", moto.URL); !strings.Contains(out, "team-bucket") {
		t.Fatalf("s3 ls:\n%s", out)
	}

	// gatehouse aws-config names the stand-in beside the linked accounts'
	// profiles and in its closing hint, which works as printed.
	ed := newCLI(t, srv)
	run := startAWSConfig(t, buildGatehouse(t), ed, "--url", srv.URL, "--aws-cli", awsCLI)
	run.approve(t, "ed.developer")
	run.wait(t)
	acOut := run.stdout.String()
	if want := "profile dev: account " + ids["dev"] + ", role PowerUserAccess (linked to " + moto.URL + ": give it --endpoint-url " + moto.URL + ")"; !strings.Contains(acOut, want) {
		t.Errorf("aws-config output lacks %q:\n%s", want, acOut)
	}
	m := regexp.MustCompile(`(?m)^Try: aws sts get-caller-identity (.*)$`).FindStringSubmatch(acOut)
	if m == nil || m[1] != "--profile dev --endpoint-url "+moto.URL {
		t.Fatalf("aws-config hint %q, want --profile dev --endpoint-url %s:\n%s", m, moto.URL, acOut)
	}
	if id, out, err = ed.callerIdentity(nil, strings.Fields(m[1])...); err != nil {
		t.Fatalf("the hint's get-caller-identity: %v\n%s", err, out)
	}
	if id.Account != ids["dev"] || !strings.Contains(id.Arn, ":assumed-role/AWSReservedSSO_PowerUserAccess_") {
		t.Fatalf("the hint's caller identity = %+v, want ed's PowerUserAccess session in dev", id)
	}
}
