package portal_test

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/idsource"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
	"github.com/gatehouse-dev/gatehouse/internal/settings"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// TestPasswordPagesWithExternalSource: with an OIDC source active the
// activation, "forgot password" and reset pages (GET and POST) say the
// organization's identity provider manages passwords (403), set no
// password and send no link; /account shows no MFA devices to manage and
// the device pages refuse; with LDAP active the password pages say the
// directory manages passwords while the MFA pages stay.
func TestPasswordPagesWithExternalSource(t *testing.T) {
	srv := servertest.New(t, func(c *config.Config) { c.Demo = true })
	ctx := t.Context()
	srv.Sources.Register(&idsource.Kind{Name: idsource.OIDC, Title: "OpenID Connect provider"})
	srv.Sources.Register(&idsource.Kind{Name: idsource.LDAP, Title: "LDAP directory"})
	for _, k := range []string{idsource.OIDC, idsource.LDAP} {
		if err := srv.Sources.Configure(ctx, k, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := srv.Settings.Put(ctx, settings.Settings{MFAPolicy: settings.PolicyOff, PortalSessionDuration: 8 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	base := srv.URL
	alice, err := srv.Store.GetUserByName(ctx, "alice@company.com")
	if err != nil {
		t.Fatal(err)
	}
	// Links made while the built-in directory was active.
	newbie, err := srv.Directory.CreateUser(ctx, directoryUser("newbie"))
	if err != nil {
		t.Fatal(err)
	}
	activate, err := srv.Invites.Invite(ctx, newbie.ID)
	if err != nil && activate == "" {
		t.Fatal(err)
	}
	actTok := must(url.Parse(activate)).Query().Get("token")
	if resp, body := postPage(t, base, "/forgot", base, url.Values{"who": {"ed.developer"}}); resp.StatusCode != http.StatusOK {
		t.Fatalf("forgot: %d %s", resp.StatusCode, body)
	}
	// The reset mail is the newest only once it is sent (the forgot page
	// may answer first): look through the outbox, waiting a little.
	var resetTok []string
	var sent []store.OutboxMessage
	for deadline := time.Now().Add(5 * time.Second); resetTok == nil; {
		var err error
		if sent, err = srv.Outbox.List(ctx, 100); err != nil {
			t.Fatalf("outbox: %v", err)
		}
		for _, m := range sent {
			if tok := regexp.MustCompile(`/reset\?token=([A-Za-z0-9_-]+)`).FindStringSubmatch(m.Body); tok != nil {
				resetTok = tok
				break
			}
		}
		if resetTok == nil && time.Now().After(deadline) {
			t.Fatalf("no reset link in the outbox (%d messages)", len(sent))
		}
		if resetTok == nil {
			time.Sleep(20 * time.Millisecond)
		}
	}
	ed, _ := srv.Store.GetUserByName(ctx, "ed.developer")

	// alice signs in before the switch; her session goes on after it.
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t, e: &env{t: t, url: base}, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	b.mustSignIn("alice@company.com", "demo-password-1")
	// Her authenticator, registered after the sign-in (the test has no
	// codes of it).
	if err := srv.Store.CreateMFADevice(ctx, &store.MFADevice{ID: "mfa-alice", UserID: alice.ID, Type: "TOTP", Name: "phone",
		Sealed: []byte("x"), CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	wantBody(t, b.get("/account"), "phone", `action="/account/devices/remove"`)

	if _, err := srv.Sources.Switch(ctx, idsource.OIDC); err != nil {
		t.Fatal(err)
	}
	const idp = "Your organization&#39;s identity provider manages passwords"
	for _, tc := range []struct {
		method, path string
		form         url.Values
	}{
		{"GET", "/activate?token=" + actTok, nil},
		{"POST", "/activate", url.Values{"token": {actTok}, "password": {"copper ladder 19x"}, "confirm": {"copper ladder 19x"}}},
		{"GET", "/forgot", nil},
		{"POST", "/forgot", url.Values{"who": {"alice@company.com"}}},
		{"GET", "/reset?token=" + resetTok[1], nil},
		{"POST", "/reset", url.Values{"token": {resetTok[1]}, "password": {"copper ladder 19x"}, "confirm": {"copper ladder 19x"}}},
	} {
		var resp *http.Response
		var body string
		if tc.method == "GET" {
			resp, body = getPage(t, base+tc.path)
		} else {
			resp, body = postPage(t, base, tc.path, base, tc.form)
		}
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, idp) || !strings.Contains(body, "change or reset it there") {
			t.Errorf("%s %s with OIDC active: %d\n%s", tc.method, tc.path, resp.StatusCode, body)
		}
	}
	if u, _ := srv.Store.GetUser(ctx, newbie.ID); u.PasswordHash != "" {
		t.Error("an activation set a password under OIDC")
	}
	if u, _ := srv.Store.GetUser(ctx, ed.ID); u.PasswordHash != ed.PasswordHash {
		t.Error("a reset changed the password under OIDC")
	}
	if after, _ := srv.Outbox.List(ctx, 100); len(after) != len(sent) {
		t.Errorf("a link was sent under OIDC: %d messages, had %d", len(after), len(sent))
	}

	// /account: the identity provider's; the device pages refuse.
	p := b.get("/account")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "Your password and MFA devices are managed by your organization&#39;s identity provider", "Sign out here")
	for _, no := range []string{`action="/account/devices/remove"`, `href="/mfa"`, "phone"} {
		if strings.Contains(p.Body, no) {
			t.Errorf("/account with OIDC active has %q", no)
		}
	}
	// The home page offers no authenticator (the /mfa link would be a 403).
	home := b.get("/start")
	wantStatus(t, home, http.StatusOK)
	wantBody(t, home, "Your password and MFA are managed by your organization&#39;s identity provider.")
	for _, no := range []string{`href="/mfa"`, "Set one up", "authenticator app"} {
		if strings.Contains(home.Body, no) {
			t.Errorf("/start with OIDC active has %q", no)
		}
	}
	for _, q := range []*page{b.get("/mfa"), b.get("/mfa/key"), b.do("POST", "/account/devices/remove", url.Values{"device": {"mfa-alice"}})} {
		wantStatus(t, q, http.StatusForbidden)
		wantBody(t, q, "Your organization&#39;s identity provider manages MFA")
	}
	if ds, _ := srv.Store.ListMFADevices(ctx, alice.ID); len(ds) != 1 {
		t.Errorf("alice has %d devices after refused removals", len(ds))
	}

	// LDAP: the directory's passwords, Gatehouse's MFA.
	if _, err := srv.Sources.Switch(ctx, idsource.LDAP); err != nil {
		t.Fatal(err)
	}
	resp, body := getPage(t, base+"/forgot")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Your organization&#39;s directory manages passwords") ||
		!strings.Contains(body, "LDAP or Active Directory") {
		t.Errorf("/forgot with LDAP active: %d\n%s", resp.StatusCode, body)
	}
	_, body = getPage(t, base+"/login")
	if strings.Contains(body, `href="/forgot"`) || !strings.Contains(body, "Use the password of your organization&#39;s directory (LDAP or Active Directory); change or reset it there.") {
		t.Errorf("sign-in page with LDAP active:\n%s", body)
	}
	p = b.get("/account")
	wantBody(t, p, "phone", `action="/account/devices/remove"`)
	if q := b.get("/mfa"); q.Status == http.StatusForbidden {
		t.Errorf("/mfa refused with LDAP active:\n%s", q.Body)
	}
	// Gatehouse's MFA applies under LDAP: the home page says so.
	wantBody(t, b.get("/start"), "An authenticator app protects your sign-in.")

	// Back to the built-in directory: the old links work again.
	if _, err := srv.Sources.Switch(ctx, idsource.Directory); err != nil {
		t.Fatal(err)
	}
	if resp, body := getPage(t, base+"/activate?token="+actTok); resp.StatusCode != http.StatusOK {
		t.Errorf("activation with the directory back: %d\n%s", resp.StatusCode, body)
	}
}

// directoryUser is a user without a password, named name.
func directoryUser(name string) directory.CreateUserInput {
	return directory.CreateUserInput{UserName: name, DisplayName: name, Name: store.UserName{GivenName: name, FamilyName: "Test"},
		Emails: []store.Email{{Value: name + "@example.com", Primary: true}}}
}
