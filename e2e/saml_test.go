package e2e

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/browsertest"
	"github.com/gatehouse-dev/gatehouse/internal/clientconfig"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/idsource"
	"github.com/gatehouse-dev/gatehouse/internal/idsource/saml"
	"github.com/gatehouse-dev/gatehouse/internal/idsource/saml/samltest"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// switchToSAML configures srv's SAML source with idp's metadata (as the
// console or admin API would through idsource.Service), switches to it
// and registers Gatehouse at the IdP.
func switchToSAML(t *testing.T, srv *servertest.Server, idp *samltest.IdP) {
	t.Helper()
	ctx := audit.WithUser(t.Context(), "admin", "admin")
	if err := srv.Sources.Configure(ctx, idsource.SAML, map[string]string{saml.SettingMetadataXML: idp.MetadataXML(t)}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Sources.Switch(ctx, idsource.SAML); err != nil {
		t.Fatal(err)
	}
	idp.TrustSP(t, srv.URL+saml.MetadataPath)
}

// TestSAMLSignInApprovesCLI is the SAML journey end to end: an admin
// assigns the dev account to a group "platform-team" that no one is in;
// Gatehouse switches to a SAML IdP (Entra ID's attribute names); Nora,
// who exists only at the IdP and is in its "platform-team" group, runs
// `aws sso login --no-browser`, opens the verification page, is sent to
// the IdP, signs in there, comes back through the ACS to the approval
// page and allows the CLI, which then gets role credentials for dev.
func TestSAMLSignInApprovesCLI(t *testing.T) {
	srv := demoServer(t)
	c := newCLI(t, srv)
	ctx := asAdmin(t, srv)
	g, err := srv.Directory.CreateGroup(ctx, "platform-team", "Named by the IdP's groups claim")
	if err != nil {
		t.Fatal(err)
	}
	ps, err := srv.Access.GetPermissionSetByName(ctx, "PowerUserAccess")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Access.CreateAssignment(ctx, access.AssignmentInput{AccountID: devAccount, PermissionSetID: ps.ID,
		PrincipalType: store.PrincipalGroup, PrincipalID: g.ID}); err != nil {
		t.Fatal(err)
	}
	idp := samltest.New(t)
	idp.AddUser(samltest.User{UserName: "nora@corp.example", Password: "idp-only-password", Email: "nora@corp.example",
		GivenName: "Nora", FamilyName: "Quinn", Groups: []string{"platform-team", "everyone"}})
	switchToSAML(t, srv, idp)
	if _, err := srv.Directory.GetUserByName(t.Context(), "nora@corp.example"); err == nil {
		t.Fatal("nora exists in Gatehouse before her first sign-in")
	}

	sess := clientconfig.Session{Name: "corp", StartURL: srv.Instance.StartURL, Region: srv.Instance.Region, BaseURL: srv.URL}
	c.appendConfig(sess.SessionSection() + "\n" + clientconfig.Profile{Name: "dev", AccountID: devAccount, RoleName: "PowerUserAccess", Region: "us-east-1"}.Section(sess))
	cmd := exec.Command(awsCLI, "sso", "login", "--profile", "dev", "--no-browser")
	cmd.Env = c.env
	cmd.Dir = c.home
	term := startTerminal(t, cmd)
	out := term.Expect("/device?user_code=", 60*time.Second)
	out += term.Expect("\n", 10*time.Second)
	m := verifyRe.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no verification URL in:\n%s", out)
	}

	b := newBrowser(t)
	b.Get(m[1])
	sawIdP, sawACS := false, false
	for step := 0; ; step++ {
		if step > 10 {
			t.Fatalf("the approval did not finish; last page %s:\n%s", b.URL, b.Text())
		}
		if b.Status != 200 {
			t.Fatalf("page %s answered %d:\n%s", b.URL, b.Status, b.Text())
		}
		fields := map[string]bool{}
		for _, f := range b.forms() {
			for k := range f.fields {
				fields[k] = true
			}
		}
		switch {
		case fields["password"] || fields["username"]:
			t.Fatalf("Gatehouse showed its own password form with the SAML source on:\n%s", b.Text())
		case fields["idp_username"]:
			if !strings.HasPrefix(b.URL.String(), idp.URL+"/sso?SAMLRequest=") {
				t.Fatalf("the IdP sign-in is at %s, want the IdP's SSO URL with an AuthnRequest", b.URL)
			}
			sawIdP = true
			b.Submit(map[string]string{"idp_username": "nora@corp.example", "idp_password": "idp-only-password"}, "Sign in at the IdP")
		case fields["SAMLResponse"]:
			sawACS = true
			b.Submit(nil, "Continue") // what the page's script does
		case strings.Contains(b.Body, `value="allow"`):
			if !sawIdP || !sawACS {
				t.Fatalf("approval page reached without the IdP (%v) and the ACS (%v)", sawIdP, sawACS)
			}
			b.Submit(nil, "Allow")
			if b.Status != 200 || !strings.Contains(strings.ToLower(b.Text()), "approved") {
				t.Fatalf("after Allow: %d %s", b.Status, b.Text())
			}
			goto approved
		case fields["user_code"]:
			b.Submit(nil, "Next")
		default:
			t.Fatalf("unexpected page %s:\n%s", b.URL, b.Text())
		}
	}
approved:
	term.Expect("Successfully logged into Start URL: "+srv.Instance.StartURL, 60*time.Second)
	if err := term.Wait(30 * time.Second); err != nil {
		t.Fatalf("aws sso login: %v\n%s", err, term.Output())
	}
	id, out, err := c.callerIdentity(nil, "--profile", "dev")
	if err != nil {
		t.Fatalf("get-caller-identity: %v\n%s", err, out)
	}
	wantCaller(t, id, devAccount, "PowerUserAccess", "nora@corp.example")

	nora, err := srv.Directory.GetUserByName(t.Context(), "nora@corp.example")
	if err != nil {
		t.Fatal(err)
	}
	if nora.Name.GivenName != "Nora" || nora.Name.FamilyName != "Quinn" {
		t.Errorf("nora = %+v", nora)
	}
	evs, err := srv.Store.ListEvents(t.Context(), store.EventFilter{Name: "UserAuthentication", Source: audit.SourceSignIn})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range evs {
		found = found || (strings.Contains(string(e.Record), `"identitySource":"saml"`) && strings.Contains(string(e.Record), "nora@corp.example"))
	}
	if !found {
		t.Error("no audited SAML sign-in for nora")
	}
}

// TestSAMLSignInChromium signs in at the portal in Chromium through the
// IdP: the redirect to the IdP, its sign-in form, its auto-submitting
// response page (a script, as Okta's and Entra ID's are), the ACS and the
// page asked for.
func TestSAMLSignInChromium(t *testing.T) {
	srv := servertest.New(t, nil)
	idp := samltest.New(t)
	idp.AddUser(samltest.User{UserName: "nora@corp.example", Password: "idp-only-password", Email: "nora@corp.example",
		GivenName: "Nora", FamilyName: "Quinn", Groups: []string{"platform-team"}})
	switchToSAML(t, srv, idp)
	b := browsertest.Start(t)
	b.Navigate(srv.URL + "/login?next=" + url.QueryEscape("/account"))
	if u := b.URL(); !strings.HasPrefix(u, idp.URL+"/sso?SAMLRequest=") {
		t.Fatalf("/login went to %s, want the IdP", u)
	}
	b.Fill("idp_username", "nora@corp.example")
	b.Fill("idp_password", "idp-only-password")
	b.Click("#idp_signin")
	b.WaitText("nora@corp.example")
	if u := b.URL(); u != srv.URL+"/account" {
		t.Fatalf("after the IdP sign-in the browser is at %s, want /account", u)
	}
	nora, err := srv.Directory.GetUserByName(t.Context(), "nora@corp.example")
	if err != nil {
		t.Fatal(err)
	}
	if sess, err := srv.Store.ListSessionsByUser(t.Context(), nora.ID); err != nil || len(sess) != 1 {
		t.Fatalf("sessions = %v, %v", sess, err)
	}
}

// TestSAMLReplayOnOtherReplica posts an assertion accepted by one replica
// to a second replica of the same PostgreSQL database (behind one public
// URL, as a load balancer has them): the second refuses it as replayed.
func TestSAMLReplayOnOtherReplica(t *testing.T) {
	a, b := samlReplicas(t)
	idp := samltest.New(t)
	idp.AddUser(samltest.User{UserName: "nora@corp.example", Password: "idp-only-password", Email: "nora@corp.example"})
	switchToSAML(t, a, idp)

	br := newBrowser(t)
	br.Get(idp.URL + "/start?sp=" + url.QueryEscape(a.URL+saml.MetadataPath) + "&RelayState=/start")
	br.Submit(map[string]string{"idp_username": "nora@corp.example", "idp_password": "idp-only-password"}, "Sign in at the IdP")
	action, fields, ok := samltest.PostForm(br.Body)
	if !ok || action != a.URL+saml.ACSPath {
		t.Fatalf("no response form for %s:\n%s", a.URL, br.Body)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(base string) int {
		t.Helper()
		resp, err := client.PostForm(base+saml.ACSPath, fields)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	// The first replica accepts it (303 to the portal), the second, which
	// shares the store and the SP key, refuses the same assertion.
	if got := post(a.URL); got != http.StatusSeeOther {
		t.Fatalf("first replica answered %d", got)
	}
	if got := post(b.HTTP.URL); got != http.StatusBadRequest {
		t.Fatalf("second replica answered %d to the replayed assertion", got)
	}
	evs, err := a.Store.ListEvents(t.Context(), store.EventFilter{Name: "UserAuthentication", Source: audit.SourceSignIn})
	if err != nil {
		t.Fatal(err)
	}
	replayed := false
	for _, e := range evs {
		replayed = replayed || strings.Contains(string(e.Record), `"errorCode":"AssertionReplayed"`)
	}
	if !replayed {
		t.Fatal("the replay on the second replica was not audited as AssertionReplayed")
	}
}

// samlReplicas starts two replicas on a fresh schema (postgresSchema) with one
// master key; the second says it is at the first's URL, as replicas
// behind one load balancer do.
func samlReplicas(t *testing.T) (*servertest.Server, *servertest.Server) {
	t.Helper()
	schemaDSN := postgresSchema(t)
	key := make([]byte, 32)
	rand.Read(key)
	edit := func(public string) func(*config.Config) {
		return func(c *config.Config) {
			c.DatabaseURL, c.MasterKey, c.PublicURL = schemaDSN, base64.StdEncoding.EncodeToString(key), public
		}
	}
	a := servertest.New(t, edit(""))
	b := servertest.New(t, edit(a.URL))
	return a, b
}
