package e2e

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/clientconfig"
)

// TestCLIAdminAPIs signs in with Debian's AWS CLI 2.9.19, which reads
// neither [services] sections nor AWS_ENDPOINT_URL_* but only the endpoint
// rule-set files clientconfig.RuleSets writes: every admin API reaches
// Gatehouse; alice@company.com (AdministratorAccess on the management
// account in the demo world) lists the instance, and ed.developer
// (PowerUserAccess on dev) is refused with AWS's AccessDeniedException.
func TestCLIAdminAPIs(t *testing.T) {
	srv := demoServer(t)
	in := srv.Instance
	sess := clientconfig.Session{Name: "gatehouse", StartURL: in.StartURL, Region: in.Region, BaseURL: srv.URL}

	admin := newCLI(t, srv)
	admin.appendConfig(sess.SessionSection() + "\n" +
		clientconfig.Profile{Name: "mgmt", AccountID: in.ManagementAccountID, RoleName: "AdministratorAccess", Region: "us-east-1"}.Section(sess))
	admin.login("mgmt", "alice@company.com")

	// Each admin API's requests go to the server, not to AWS.
	sendRe := regexp.MustCompile(`Sending http request: <AWSPreparedRequest stream_output=\w+, method=POST, url=(\S+),`)
	for _, args := range [][]string{
		{"sso-admin", "list-instances"},
		{"identitystore", "list-users", "--identity-store-id", in.IdentityStoreID},
		{"organizations", "describe-organization"},
		{"cloudtrail", "lookup-events", "--max-results", "1"},
		{"iam", "list-roles"},
	} {
		out, _ := admin.run(nil, append([]string{"--debug", "--profile", "mgmt"}, args...)...)
		m := sendRe.FindStringSubmatch(out)
		if m == nil {
			t.Errorf("aws %s sent no request:\n%s", strings.Join(args, " "), lastLines(out, 15))
			continue
		}
		if got := strings.TrimSuffix(m[1], "/"); got != srv.URL {
			t.Errorf("aws %s sent its request to %s, want %s", strings.Join(args, " "), m[1], srv.URL)
		}
	}

	out := admin.mustRun("sso-admin", "list-instances", "--profile", "mgmt", "--output", "json")
	var list struct {
		Instances []struct{ InstanceArn, IdentityStoreId string }
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("list-instances output is not JSON: %v\n%s", err, out)
	}
	if len(list.Instances) != 1 {
		t.Fatalf("list-instances: %d instances, want 1:\n%s", len(list.Instances), out)
	}
	got := list.Instances[0]
	// CLI 2.9.19's model has only these two members of InstanceMetadata.
	if got.InstanceArn != arn.InstanceARN(in.InstanceID) || got.IdentityStoreId != in.IdentityStoreID {
		t.Errorf("list-instances = %+v, want %s with %s", got, arn.InstanceARN(in.InstanceID), in.IdentityStoreID)
	}

	dev := newCLI(t, srv)
	dev.appendConfig(sess.SessionSection() + "\n" +
		clientconfig.Profile{Name: "dev", AccountID: "111111111111", RoleName: "PowerUserAccess", Region: "us-east-1"}.Section(sess))
	dev.login("dev", "ed.developer")
	out, err := dev.run(nil, "sso-admin", "list-instances", "--profile", "dev")
	deniedRe := regexp.MustCompile(`An error occurred \(AccessDeniedException\) when calling the ListInstances operation: ` +
		`User: arn:aws:sts::111111111111:assumed-role/AWSReservedSSO_PowerUserAccess_[0-9a-f]{16}/ed\.developer ` +
		`is not authorized to perform: sso:ListInstances on resource: \S+`)
	if err == nil || !deniedRe.MatchString(out) {
		t.Fatalf("list-instances as ed.developer: %v, want AccessDeniedException naming the caller and action:\n%s", err, out)
	}
}

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
