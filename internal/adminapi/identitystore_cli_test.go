package adminapi_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// awsCLI is Debian's AWS CLI v2 (2.9.19), the client the admin guide's
// examples are written for.
const awsCLI = "/usr/bin/aws"

// TestIdentityStoreCLI runs the admin guide's identitystore examples with
// the stock AWS CLI, signed as the demo admin.
func TestIdentityStoreCLI(t *testing.T) {
	if _, err := os.Stat(awsCLI); err != nil {
		t.Skipf("AWS CLI v2 not installed at %s", awsCLI)
	}
	srv := demoServer(t)
	creds := adminCreds(t, srv)
	sid := srv.Instance.IdentityStoreID
	run := func(want string, args ...string) map[string]any {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), awsCLI, append([]string{"identitystore", "--endpoint-url", srv.URL, "--output", "json"}, args...)...)
		cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=/usr/bin:/bin", "LANG=C.UTF-8",
			"HTTPS_PROXY=http://127.0.0.1:9", "NO_PROXY=127.0.0.1", "AWS_EC2_METADATA_DISABLED=true",
			"AWS_ACCESS_KEY_ID=" + creds.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + creds.SecretAccessKey,
			"AWS_SESSION_TOKEN=" + creds.SessionToken, "AWS_DEFAULT_REGION=" + srv.Instance.Region}
		out, err := cmd.CombinedOutput()
		if want != "" {
			if err == nil || !strings.Contains(string(out), want) {
				t.Fatalf("aws %s: %v\n%s\nwant %s", strings.Join(args, " "), err, out, want)
			}
			return nil
		}
		if err != nil {
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		var m map[string]any
		if len(strings.TrimSpace(string(out))) > 0 {
			if err := json.Unmarshal(out, &m); err != nil {
				t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
			}
		}
		return m
	}
	u := run("", "create-user", "--identity-store-id", sid, "--user-name", "ed2.developer", "--display-name", "Ed Two",
		"--name", "GivenName=Ed,FamilyName=Two", "--emails", "Value=ed2@example.com,Type=work,Primary=true")
	uid, _ := u["UserId"].(string)
	got := run("", "get-user-id", "--identity-store-id", sid, "--alternate-identifier",
		`{"UniqueAttribute":{"AttributePath":"userName","AttributeValue":"ed2.developer"}}`)
	if got["UserId"] != uid {
		t.Fatalf("get-user-id = %v, want %s", got, uid)
	}
	run("", "update-user", "--identity-store-id", sid, "--user-id", uid, "--operations",
		`[{"AttributePath":"title","AttributeValue":"Engineer"},{"AttributePath":"name.givenName","AttributeValue":"Edward"}]`)
	d := run("", "describe-user", "--identity-store-id", sid, "--user-id", uid)
	name, _ := d["Name"].(map[string]any)
	if d["Title"] != "Engineer" || name["GivenName"] != "Edward" || name["FamilyName"] != "Two" || d["NickName"] != nil {
		t.Fatalf("describe-user = %v", d)
	}
	g := run("", "create-group", "--identity-store-id", sid, "--display-name", "Platform", "--description", "Platform team")
	gid, _ := g["GroupId"].(string)
	run("", "create-group-membership", "--identity-store-id", sid, "--group-id", gid, "--member-id", "UserId="+uid)
	run("ConflictException", "create-group-membership", "--identity-store-id", sid, "--group-id", gid, "--member-id", "UserId="+uid)
	l := run("", "list-group-memberships-for-member", "--identity-store-id", sid, "--member-id", "UserId="+uid)
	if ms, _ := l["GroupMemberships"].([]any); len(ms) != 1 {
		t.Fatalf("list-group-memberships-for-member = %v", l)
	}
	lu := run("", "list-users", "--identity-store-id", sid, "--page-size", "1")
	if us, _ := lu["Users"].([]any); len(us) != 3 {
		t.Fatalf("list-users across pages = %v", lu)
	}
	run("", "delete-user", "--identity-store-id", sid, "--user-id", uid)
	run("ResourceNotFoundException", "describe-user", "--identity-store-id", sid, "--user-id", uid)
}
