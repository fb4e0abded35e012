package main

import (
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/clientconfig"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
	"github.com/gatehouse-dev/gatehouse/internal/session"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// TestSCIMTokensCommand runs `gatehouse scim-tokens` as its own process
// against a real server with the admin's profiles (as TestUsersCommand):
// create prints a token that works at the printed SCIM endpoint, list
// shows it (never its value), the read-only profile lists but may not
// create, delete revokes it at once.
func TestSCIMTokensCommand(t *testing.T) {
	srv := servertest.New(t, func(c *config.Config) { c.Demo = true; c.Region = "us-east-1" })
	ctx := t.Context()
	in := srv.Instance
	alice, err := srv.Store.GetUserByName(ctx, "alice@company.com")
	if err != nil {
		t.Fatal(err)
	}
	ro, err := srv.Store.GetPermissionSetByName(ctx, "ReadOnlyAccess")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Access.CreateAssignment(ctx, access.AssignmentInput{AccountID: in.ManagementAccountID, PermissionSetID: ro.ID,
		PrincipalType: store.PrincipalUser, PrincipalID: alice.ID}); err != nil {
		t.Fatal(err)
	}
	creds := func(role string) string {
		p := session.Principal{UserID: alice.ID, UserName: alice.UserName, GrantID: "grant-cli", SessionID: "session-cli", AuthTime: time.Now().Add(-time.Minute)}
		c, err := srv.Issuer.Issue(ctx, p, in.ManagementAccountID, role)
		if err != nil {
			t.Fatal(err)
		}
		return "aws_access_key_id = " + c.AccessKeyID + "\naws_secret_access_key = " + c.SecretAccessKey + "\naws_session_token = " + c.SessionToken + "\n"
	}
	home := t.TempDir()
	sess := clientconfig.Session{Name: "gatehouse", StartURL: in.StartURL, Region: in.Region, BaseURL: srv.URL}
	cfgText := sess.ServicesSection() + "\n[profile admin]\nregion = us-east-1\nservices = gatehouse\n" +
		"\n[profile viewer]\nregion = us-east-1\nservices = gatehouse\n"
	credText := "[admin]\n" + creds("AdministratorAccess") + "\n[viewer]\n" + creds("ReadOnlyAccess")
	if err := os.MkdirAll(filepath.Join(home, ".aws"), 0o700); err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"config": cfgText, "credentials": credText} {
		if err := os.WriteFile(filepath.Join(home, ".aws", name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	gatehouse := func(args ...string) (stdout, stderr string, code int) {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, os.Args[0], append([]string{"scim-tokens"}, args...)...)
		cmd.Env = []string{"GATEHOUSE_TEST_MAIN=1", "HOME=" + home, "PATH=/usr/bin:/bin", "HTTPS_PROXY=http://127.0.0.1:9",
			"AWS_EC2_METADATA_DISABLED=true"}
		var out, errOut strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		if exit, ok := errors.AsType[*exec.ExitError](err); ok {
			code = exit.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), errOut.String(), code
	}
	scimStatus := func(token string) int {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/scim/v2/Users", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}

	out, errOut, code := gatehouse("create", "--profile", "admin", "--description", "Okta prod", "--expires-in-days", "30")
	m := regexp.MustCompile(`(?m)^Access token:  (ghscim_\S+)$`).FindStringSubmatch(out)
	id := regexp.MustCompile(`(?m)^Token ID:      (scimtok-[0-9a-f]+)$`).FindStringSubmatch(out)
	if code != 0 || m == nil || id == nil || !strings.Contains(out, "SCIM endpoint: "+srv.URL+"/scim/v2\n") {
		t.Fatalf("scim-tokens create: exit %d\n%s%s", code, out, errOut)
	}
	if got := scimStatus(m[1]); got != 200 {
		t.Fatalf("the printed token at the SCIM endpoint: %d", got)
	}
	out, errOut, code = gatehouse("list", "--profile", "viewer")
	if code != 0 || !regexp.MustCompile(`(?m)^`+id[1]+` +ACTIVE +\d{4}-.*Okta prod$`).MatchString(out) || strings.Contains(out, m[1]) {
		t.Fatalf("scim-tokens list as the viewer: exit %d\n%s%s", code, out, errOut)
	}
	_, errOut, code = gatehouse("create", "--profile", "viewer")
	if code != 1 || !strings.Contains(errOut, "CreateSCIMAccessToken failed: AccessDeniedException") ||
		!strings.Contains(errOut, "not authorized to perform: gatehouse:CreateSCIMAccessToken") {
		t.Fatalf("scim-tokens create as the viewer: exit %d\n%s", code, errOut)
	}
	out, errOut, code = gatehouse("delete", "--profile", "admin", "--token-id", id[1])
	if code != 0 || !strings.Contains(out, "Deleted SCIM access token "+id[1]) {
		t.Fatalf("scim-tokens delete: exit %d\n%s%s", code, out, errOut)
	}
	if got := scimStatus(m[1]); got != 401 {
		t.Fatalf("a deleted token at the SCIM endpoint: %d, want 401", got)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"delete", "--profile", "admin"}, "give --token-id"},
		{[]string{"delete", "--profile", "admin", "--token-id", id[1]}, "ResourceNotFoundException"},
		{[]string{"create", "--profile", "admin", "--expires-in-days", "9999"}, "ValidationException: ExpiresInDays must be 1 to 730"},
		{[]string{"rotate", "--profile", "admin"}, `unknown verb "rotate"`},
	} {
		_, errOut, code := gatehouse(tc.args...)
		if code != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("scim-tokens %s: exit %d, want 1 saying %q:\n%s", strings.Join(tc.args, " "), code, tc.want, errOut)
		}
	}
}
