package e2e

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/clientconfig"
	"github.com/gatehouse-dev/gatehouse/internal/idsource"
	oidcrp "github.com/gatehouse-dev/gatehouse/internal/idsource/oidc"
	"github.com/gatehouse-dev/gatehouse/internal/idsource/oidc/oidctest"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// TestOIDCSourceCLILogin: a person who exists only at an OpenID Provider
// (zitadel/oidc's, in process) signs in at Gatehouse's portal through the
// provider's own login page while approving `aws sso login --no-browser`,
// and the CLI gets role credentials for an account assigned beforehand to
// a group that only the provider's groups claim names.
func TestOIDCSourceCLILogin(t *testing.T) {
	srv := demoServer(t)
	ctx := t.Context()
	in := srv.Instance
	dora := oidctest.User{ID: "00u-dora-7", UserName: "dora@corp.example", Password: "dora-upstream-pw-1",
		GivenName: "Dora", FamilyName: "Explorer", Email: "dora@corp.example", Groups: []string{"oidc-platform", "oidc-other"}}
	op := oidctest.Start(t, "gatehouse-e2e", "e2e-client-secret", srv.URL+oidcrp.CallbackPath, dora)

	// The group exists in Gatehouse before anyone signs in, with an
	// assignment; Dora is unknown to Gatehouse.
	g, err := srv.Directory.CreateGroup(ctx, "oidc-platform", "")
	if err != nil {
		t.Fatal(err)
	}
	ps, err := srv.Access.GetPermissionSetByName(ctx, "ViewOnlyAccess")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Access.CreateAssignment(ctx, access.AssignmentInput{AccountID: "111111111111", PermissionSetID: ps.ID,
		PrincipalType: store.PrincipalGroup, PrincipalID: g.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Store.GetUserByName(ctx, dora.UserName); err == nil {
		t.Fatal("dora exists before signing in")
	}

	secret := op.ClientSecret
	if err := srv.Sources.Configure(ctx, idsource.OIDC, map[string]string{
		oidcrp.SettingIssuer: op.Issuer, oidcrp.SettingClientID: op.ClientID, oidcrp.SettingPreset: "okta",
	}, &secret); err != nil {
		t.Fatalf("configure: %v", err)
	}
	if _, err := srv.Sources.Switch(ctx, idsource.OIDC); err != nil {
		t.Fatalf("switch: %v", err)
	}

	sess := clientconfig.Session{Name: "gatehouse", StartURL: in.StartURL, Region: in.Region, BaseURL: srv.URL}
	c := newCLI(t, srv)
	// The CLI only talks to loopback; HTTPS_PROXY catches anything else.
	c.env = append(c.env, "NO_PROXY=127.0.0.1,localhost")
	c.appendConfig(sess.SessionSection() + "\n" +
		clientconfig.Profile{Name: "platform", AccountID: "111111111111", RoleName: "ViewOnlyAccess", Region: in.Region}.Section(sess))

	cmd := exec.Command(awsCLI, "sso", "login", "--profile", "platform", "--no-browser")
	cmd.Env = c.env
	cmd.Dir = c.home
	term := startTerminal(t, cmd)
	out := term.Expect("/device?user_code=", 60*time.Second)
	out += term.Expect("\n", 10*time.Second)
	m := verifyRe.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no verification URL in:\n%s", out)
	}

	// The browser: the verification page sends it to /login, which sends
	// it to the provider; its login page is submitted; the provider sends
	// it back to /oidc/callback, which signs Dora in and returns to the
	// approval page.
	b := newBrowser(t)
	b.Get(m[1])
	sawProvider := false
	for step := 0; ; step++ {
		if step == 8 {
			t.Fatalf("device approval did not finish; last page %s:\n%s", b.URL, b.Text())
		}
		if b.Status != 200 {
			t.Fatalf("page %s answered %d:\n%s", b.URL, b.Status, b.Text())
		}
		switch {
		case strings.HasPrefix(b.URL.String(), op.Issuer):
			sawProvider = true
			b.Submit(map[string]string{"username": dora.UserName, "password": dora.Password}, "Login")
		case strings.Contains(b.Body, `value="allow"`):
			if !strings.Contains(b.Text(), "botocore") {
				t.Errorf("the approval page does not name the client:\n%s", b.Text())
			}
			b.Submit(nil, "Allow")
			if b.Status != 200 || !strings.Contains(strings.ToLower(b.Text()), "approved") {
				t.Fatalf("after Allow: %d %s", b.Status, b.Text())
			}
		case strings.Contains(b.Body, `name="user_code"`):
			b.Submit(nil, "Next")
			continue
		default:
			t.Fatalf("unexpected page %s:\n%s", b.URL, b.Text())
		}
		if strings.Contains(strings.ToLower(b.Text()), "approved") {
			break
		}
	}
	if !sawProvider {
		t.Fatal("the browser never reached the provider's login page")
	}
	term.Expect("Successfully logged into Start URL: "+in.StartURL, 60*time.Second)
	if err := term.Wait(30 * time.Second); err != nil {
		t.Fatalf("aws sso login: %v\n%s", err, term.Output())
	}

	id, out, err := c.callerIdentity(nil, "--profile", "platform")
	if err != nil {
		t.Fatalf("get-caller-identity: %v\n%s", err, out)
	}
	wantCaller(t, id, "111111111111", "ViewOnlyAccess", dora.UserName)

	// Dora is an upstream-only user now, in the groups the claim named.
	u, err := srv.Store.GetUserByName(ctx, dora.UserName)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(u.ExternalIDs, store.ExternalID{Issuer: op.Issuer, ID: dora.ID}) || u.Name.GivenName != "Dora" {
		t.Fatalf("user = %+v", u)
	}
	ms, err := srv.Store.ListMembershipsByUser(ctx, u.ID, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range ms {
		gg, err := srv.Store.GetGroup(ctx, m.GroupID)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, gg.DisplayName)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"oidc-other", "oidc-platform"}) {
		t.Fatalf("groups = %v", names)
	}
}
