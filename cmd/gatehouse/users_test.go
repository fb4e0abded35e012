package main

import (
	"context"
	"errors"
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

// TestUsersCommand runs `gatehouse users` as its own process against a
// real server, with profiles in a temporary HOME as `gatehouse aws-config`
// writes them (region, services = gatehouse, a [services] section) and
// role credentials in ~/.aws/credentials: the admin's AdministratorAccess
// disables and enables ed.developer by name, and the store says so; the
// same admin with ReadOnlyAccess reads the status but is refused a change
// with AWS's AccessDeniedException and exit status 1; a missing profile or
// user is a clear error.
func TestUsersCommand(t *testing.T) {
	srv := servertest.New(t, func(c *config.Config) { c.Demo = true; c.Region = "us-east-1" })
	ctx := t.Context()
	in := srv.Instance
	alice, err := srv.Store.GetUserByName(ctx, "alice@company.com")
	if err != nil {
		t.Fatal(err)
	}
	ed, err := srv.Store.GetUserByName(ctx, "ed.developer")
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
		cmd := exec.CommandContext(ctx, os.Args[0], append([]string{"users"}, args...)...)
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
	disabled := func() bool {
		t.Helper()
		u, err := srv.Store.GetUser(ctx, ed.ID)
		if err != nil {
			t.Fatal(err)
		}
		return u.Disabled
	}

	out, errOut, code := gatehouse("disable", "--profile", "admin", "--user-name", "ed.developer")
	if code != 0 || out != "Disabled ed.developer ("+ed.ID+")\n" || !disabled() {
		t.Fatalf("users disable: exit %d, disabled %t\n%s%s", code, disabled(), out, errOut)
	}
	out, errOut, code = gatehouse("status", "--profile", "viewer", "--user-id", ed.ID)
	if code != 0 || !regexp.MustCompile(`(?m)^State: +disabled$`).MatchString(out) || !strings.Contains(out, "ed.developer") {
		t.Fatalf("users status as the viewer: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = gatehouse("enable", "--profile", "viewer", "--user-name", "ed.developer")
	denied := regexp.MustCompile(`^gatehouse: EnableUser failed: AccessDeniedException: User: arn:aws:sts::` + in.ManagementAccountID +
		`:assumed-role/AWSReservedSSO_ReadOnlyAccess_[0-9a-f]{16}/alice@company\.com is not authorized to perform: gatehouse:EnableUser on resource: `)
	if code != 1 || !denied.MatchString(errOut) || !disabled() {
		t.Fatalf("users enable as the viewer: exit %d, disabled %t, want exit 1 with AccessDeniedException\n%s%s", code, disabled(), out, errOut)
	}
	out, errOut, code = gatehouse("enable", "--profile", "admin", "--user-name", "ed.developer")
	if code != 0 || disabled() {
		t.Fatalf("users enable: exit %d, disabled %t\n%s%s", code, disabled(), out, errOut)
	}

	// A user the identity provider set inactive over SCIM: status says so,
	// and enable lifts the administrator's side only and says the user
	// stays disabled rather than reporting them enabled.
	u, err := srv.Store.GetUser(ctx, ed.ID)
	if err != nil {
		t.Fatal(err)
	}
	u.SetSourceInactive(true)
	if err := srv.Store.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = gatehouse("status", "--profile", "viewer", "--user-name", "ed.developer")
	if code != 0 || !regexp.MustCompile(`(?m)^State: +disabled by the identity provider \(SCIM active: false\)$`).MatchString(out) {
		t.Fatalf("users status of a user the IdP disabled: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = gatehouse("enable", "--profile", "admin", "--user-name", "ed.developer")
	if want := "ed.developer (" + ed.ID + ") stays disabled: the identity provider set it inactive over SCIM (active: false), which only the identity provider lifts\n"; code != 0 || out != want || !disabled() {
		t.Fatalf("users enable of a user the IdP disabled: exit %d, disabled %t\n%s%s\nwant %q", code, disabled(), out, errOut, want)
	}
	u, err = srv.Store.GetUser(ctx, ed.ID)
	if err != nil {
		t.Fatal(err)
	}
	u.SetSourceInactive(false)
	if err := srv.Store.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}

	// An administrator cannot disable themselves (the people service's
	// rule): exit 1 with the ValidationException, and alice stays enabled.
	out, errOut, code = gatehouse("disable", "--profile", "admin", "--user-name", "alice@company.com")
	if u, _ := srv.Store.GetUser(ctx, alice.ID); code != 1 || !strings.Contains(errOut, "ValidationException: You cannot disable yourself") || u.Disabled {
		t.Fatalf("users disable of oneself: exit %d\n%s%s", code, out, errOut)
	}
	// A reset says where the link went: the outbox, with no SMTP server.
	out, errOut, code = gatehouse("reset-password", "--profile", "admin", "--user-name", "ed.developer")
	if code != 0 || !strings.Contains(out, "The reset link (valid 1 hour) went to the outbox: no SMTP server is configured, so nothing was mailed to ed@example.com; forward the link from the admin console's Outbox.") {
		t.Fatalf("users reset-password: exit %d\n%s%s", code, out, errOut)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"disable", "--profile", "nobody", "--user-name", "ed.developer"}, `no AWS profile "nobody"`},
		{[]string{"disable", "--profile", "admin"}, "give exactly one of --user-name and --user-id"},
		{[]string{"disable", "--profile", "admin", "--user-name", "nobody.at.all"}, "GetUserId failed: ResourceNotFoundException: "},
		{[]string{"frobnicate", "--profile", "admin"}, `unknown verb "frobnicate"`},
	} {
		_, errOut, code := gatehouse(tc.args...)
		if code != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("users %s: exit %d, want 1 saying %q:\n%s", strings.Join(tc.args, " "), code, tc.want, errOut)
		}
	}
}
