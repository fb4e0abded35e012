package e2e

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/clientconfig"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// TestCLIOrganizationsAndCloudTrail plays the admin with Debian's AWS CLI
// 2.9.19: ed.developer signs in and works in dev; then alice, signed in to
// the management account as AdministratorAccess, lists the accounts and
// asks CloudTrail what ed did. The endpoints come from the rule-set files
// in ~/.aws/models, as for every other service.
func TestCLIOrganizationsAndCloudTrail(t *testing.T) {
	srv := demoServer(t)
	c := newCLI(t, srv)
	in := srv.Instance
	accts, err := srv.Store.ListAccounts(t.Context(), store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	var dev string
	for _, a := range accts {
		if a.Name == "dev" {
			dev = a.ID
		}
	}
	sess := clientconfig.Session{Name: "gatehouse", StartURL: in.StartURL, Region: in.Region, BaseURL: srv.URL}
	c.appendConfig(sess.SessionSection() + "\n" +
		clientconfig.Profile{Name: "mgmt", AccountID: in.ManagementAccountID, RoleName: "AdministratorAccess", Region: "us-east-1"}.Section(sess) + "\n" +
		clientconfig.Profile{Name: "dev", AccountID: dev, RoleName: "PowerUserAccess", Region: "us-east-1"}.Section(sess))

	c.login("dev", "ed.developer")
	id, out, err := c.callerIdentity(nil, "--profile", "dev")
	if err != nil {
		t.Fatalf("ed's get-caller-identity: %v\n%s", err, out)
	}
	wantCaller(t, id, dev, "PowerUserAccess", "ed.developer")
	// ed may not list the accounts: he works in dev, not in management.
	if out, err := c.run(nil, "organizations", "list-accounts", "--profile", "dev"); err == nil {
		t.Errorf("ed listed the accounts:\n%s", out)
	}

	c.login("mgmt", "alice@company.com")
	out = c.mustRun("organizations", "list-accounts", "--profile", "mgmt", "--output", "json")
	var list struct {
		Accounts []struct{ Id, Arn, Name, Email, State, Status, JoinedMethod string }
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("list-accounts output: %v\n%s", err, out)
	}
	var names []string
	for _, a := range list.Accounts {
		names = append(names, a.Name)
		// CLI 2.9.19's model predates State; Status is what it shows.
		if a.Status != "ACTIVE" || a.Arn == "" || a.Email == "" {
			t.Errorf("account %+v", a)
		}
	}
	if len(list.Accounts) != len(accts) || !slices.Contains(names, "dev") || !slices.Contains(names, "management") {
		t.Errorf("list-accounts = %v, want the %d stored accounts", names, len(accts))
	}

	out = c.mustRun("cloudtrail", "lookup-events", "--profile", "mgmt", "--output", "json",
		"--lookup-attributes", "AttributeKey=Username,AttributeValue=ed.developer")
	var events struct {
		Events []struct {
			EventId, EventName, EventSource, Username, ReadOnly, AccessKeyId, CloudTrailEvent string
			EventTime                                                                         any
		}
	}
	if err := json.Unmarshal([]byte(out), &events); err != nil {
		t.Fatalf("lookup-events output: %v\n%s", err, out)
	}
	var sawDenied bool
	for _, e := range events.Events {
		var rec struct {
			EventID   string `json:"eventID"`
			ErrorCode string `json:"errorCode"`
		}
		if e.Username != "ed.developer" || json.Unmarshal([]byte(e.CloudTrailEvent), &rec) != nil || rec.EventID != e.EventId || e.EventTime == nil {
			t.Errorf("event %+v", e)
		}
		if e.EventName == "ListAccounts" && e.EventSource == "organizations.amazonaws.com" && rec.ErrorCode == "AccessDeniedException" {
			sawDenied = true
		}
	}
	if len(events.Events) < 2 || !sawDenied {
		t.Errorf("lookup-events for ed.developer: %d events, refused list-accounts among them: %v\n%s", len(events.Events), sawDenied, out)
	}
}
