package adminapi_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/awsaccounts/mototest"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// TestGatehouseAccountLinks drives the account-link operations as the demo
// admin against a real moto_server: LinkAccount links dev (ACTIVE, with
// Gatehouse's SAML provider), refuses the management account and
// credentials of another account, Describe and List answer without the
// secret, read-only access may describe and list but not link, Unlink is
// refused while a role is provisioned and succeeds after. The secret is
// in no answer, audit event or log line.
func TestGatehouseAccountLinks(t *testing.T) {
	moto := mototest.Start(t)
	var logs lockedBuffer
	srv := servertest.NewLogged(t, func(c *config.Config) {
		c.Demo = true
		c.Region = "us-east-1"
		c.LogLevel = "debug"
		c.AWSEndpointAllow = []string{moto.URL}
	}, &logs)
	meta := mototest.IdPMetadata(t, srv.URL)
	srv.AWSAccounts.IdPMetadata = func(context.Context) (string, error) { return meta, nil }
	ctx := t.Context()
	admin := adminCreds(t, srv)
	dev, staging := accountID(t, srv, "dev"), accountID(t, srv, "staging")
	const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYADMINAPIKEY"
	var answers []string
	call := func(op string, body any) gatehouseCall {
		t.Helper()
		r := callGatehouse(t, srv, admin, op, body)
		b, _ := json.Marshal(r.body)
		answers = append(answers, string(b))
		return r
	}
	link := func(id string, edit func(map[string]any)) gatehouseCall {
		body := map[string]any{"AccountId": id, "Endpoint": moto.URL, "AccessKeyId": "AKIAIOSFODNN7EXAMPLE", "SecretAccessKey": secret}
		if edit != nil {
			edit(body)
		}
		return call("LinkAccount", body)
	}

	r := link(dev, nil)
	if r.status != 200 {
		t.Fatalf("LinkAccount: %d %s %s", r.status, r.code, r.message)
	}
	al, _ := r.body["AccountLink"].(map[string]any)
	if al["Status"] != "ACTIVE" || !strings.HasPrefix(al["SAMLProviderArn"].(string), "arn:aws:iam::"+dev+":saml-provider/GatehouseSSO_") ||
		al["RoleArn"] != "arn:aws:iam::"+dev+":role/OrganizationAccountAccessRole" || al["AccessKeyId"] != "AKIAIOSFODNN7EXAMPLE" {
		t.Fatalf("LinkAccount answered %v", r.body)
	}
	before := snapshot(t, srv)
	for _, tc := range []struct {
		name     string
		id       string
		edit     func(map[string]any)
		code     string
		contains []string
	}{
		{"management account", srv.Instance.ManagementAccountID, nil, "ValidationException", []string{"management account"}},
		{"wrong account", dev, func(b map[string]any) {
			b["RoleArn"] = "arn:aws:iam::" + staging + ":role/OrganizationAccountAccessRole"
		},
			"ValidationException", []string{dev, staging}},
		{"no account", "", nil, "ValidationException", []string{"accountId"}},
		{"no secret", staging, func(b map[string]any) { delete(b, "SecretAccessKey") }, "ValidationException", []string{"SecretAccessKey"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := link(tc.id, tc.edit)
			if r.status != 400 || r.code != tc.code {
				t.Fatalf("%d %s %s, want %s", r.status, r.code, r.message, tc.code)
			}
			for _, c := range tc.contains {
				if !strings.Contains(r.message, c) {
					t.Fatalf("message %q does not name %q", r.message, c)
				}
			}
		})
	}
	if after := snapshot(t, srv); after.links != before.links {
		t.Fatalf("refused links changed the links: %+v → %+v", before, after)
	}

	r = call("DescribeAccountLink", map[string]any{"AccountId": dev})
	if r.status != 200 || r.body["AccountLink"].(map[string]any)["Status"] != "ACTIVE" {
		t.Fatalf("Describe: %d %v", r.status, r.body)
	}
	if r = call("DescribeAccountLink", map[string]any{"AccountId": staging}); r.code != "ResourceNotFoundException" {
		t.Fatalf("Describe of an unlinked account: %d %s", r.status, r.code)
	}
	r = call("ListAccountLinks", map[string]any{})
	if ls, _ := r.body["AccountLinks"].([]any); r.status != 200 || len(ls) != 1 {
		t.Fatalf("List: %d %v", r.status, r.body)
	}

	// Read-only access describes and lists, and may not link or unlink.
	ro, err := srv.Access.Store.GetPermissionSetByName(ctx, "ReadOnlyAccess")
	if err != nil {
		t.Fatal(err)
	}
	edID := mustUserID(t, srv, "ed.developer")
	if _, err := srv.Access.CreateAssignment(ctx, access.AssignmentInput{AccountID: srv.Instance.ManagementAccountID, PermissionSetID: ro.ID,
		PrincipalType: store.PrincipalUser, PrincipalID: edID}); err != nil {
		t.Fatal(err)
	}
	readOnly := roleCreds(t, srv, "ed.developer", "management", "ReadOnlyAccess")
	if r := callGatehouse(t, srv, readOnly, "ListAccountLinks", map[string]any{}); r.status != 200 {
		t.Fatalf("read-only List: %d %s %s", r.status, r.code, r.message)
	}
	if r := callGatehouse(t, srv, readOnly, "DescribeAccountLink", map[string]any{"AccountId": dev}); r.status != 200 {
		t.Fatalf("read-only Describe: %d %s %s", r.status, r.code, r.message)
	}
	for _, op := range []string{"LinkAccount", "UnlinkAccount"} {
		r := callGatehouse(t, srv, readOnly, op, map[string]any{"AccountId": staging, "AccessKeyId": "AKIAIOSFODNN7EXAMPLE", "SecretAccessKey": secret})
		if r.code != "AccessDeniedException" || !strings.Contains(r.message, "gatehouse:"+op) {
			t.Fatalf("read-only %s: %d %s %s", op, r.status, r.code, r.message)
		}
	}

	// Unlink waits for the account's roles to go: the demo's dev has its
	// assignments' roles.
	if roles, _ := srv.Store.ListProvisionedRoles(ctx, store.RoleFilter{AccountID: dev}); len(roles) == 0 {
		t.Fatal("the demo's dev has no provisioned role")
	}
	if r := call("UnlinkAccount", map[string]any{"AccountId": dev}); r.status != 400 || r.code != "ConflictException" ||
		!strings.Contains(r.message, "assignments") {
		t.Fatalf("Unlink while provisioned: %d %s %s", r.status, r.code, r.message)
	}
	// A new account, linked, with one role that then goes.
	const sandbox = "555555555555"
	if err := srv.Store.Update(ctx, func(tx store.Tx) error {
		return tx.CreateAccount(ctx, &store.Account{ID: sandbox, Name: "sandbox", Email: "sandbox@example.com", State: "ACTIVE", JoinedMethod: "CREATED", CreatedAt: time.Now()})
	}); err != nil {
		t.Fatal(err)
	}
	if r := link(sandbox, nil); r.status != 200 {
		t.Fatalf("link sandbox: %d %s %s", r.status, r.code, r.message)
	}
	role := &store.ProvisionedRole{AccountID: sandbox, PermissionSetID: ro.ID, RoleName: "AWSReservedSSO_ReadOnlyAccess_0123456789abcdef",
		RoleID: "AROAEXAMPLE", PermissionSetVersion: 1, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := srv.Store.Update(ctx, func(tx store.Tx) error { return tx.PutProvisionedRole(ctx, role) }); err != nil {
		t.Fatal(err)
	}
	if r := call("UnlinkAccount", map[string]any{"AccountId": sandbox}); r.status != 400 || r.code != "ConflictException" {
		t.Fatalf("Unlink while provisioned: %d %s %s", r.status, r.code, r.message)
	}
	if err := srv.Store.Update(ctx, func(tx store.Tx) error { return tx.DeleteProvisionedRole(ctx, sandbox, ro.ID) }); err != nil {
		t.Fatal(err)
	}
	if r := call("UnlinkAccount", map[string]any{"AccountId": sandbox}); r.status != 200 {
		t.Fatalf("Unlink: %d %s %s", r.status, r.code, r.message)
	}
	if ls, _ := srv.Store.ListAccountLinks(ctx); len(ls) != 1 || ls[0].AccountID != dev {
		t.Fatalf("links after unlink: %+v", ls)
	}

	// The secret is in no answer, event or log line.
	for _, a := range answers {
		if strings.Contains(a, secret) {
			t.Fatalf("an answer holds the secret: %s", a)
		}
	}
	evs, err := srv.Store.ListEvents(ctx, store.EventFilter{End: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]int{}
	for _, e := range evs {
		names[e.Name]++
		if strings.Contains(string(e.Record), secret) {
			t.Fatalf("event %s holds the secret", e.Name)
		}
	}
	if names["LinkAccount"] < 3 || names["UnlinkAccount"] < 3 || names["DescribeAccountLink"] < 1 {
		t.Fatalf("events: %v", names)
	}
	if strings.Contains(logs.String(), secret) {
		t.Fatal("the log holds the secret")
	}
}

type linkSnapshot struct{ links int }

func snapshot(t *testing.T, srv *servertest.Server) linkSnapshot {
	t.Helper()
	ls, err := srv.Store.ListAccountLinks(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return linkSnapshot{len(ls)}
}
