package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/idsource"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// fakeOIDC stands in for the OIDC kind (built in its own package): a
// required field, a select, a text area with help, a required secret,
// info values and a preview. It has no Begin, so the portal's password
// form stays and the test's people can sign in.
func fakeOIDC() *idsource.Kind {
	return &idsource.Kind{
		Name: idsource.OIDC, Title: "OpenID Connect provider",
		Fields: []idsource.Field{
			{Name: "issuer", Label: "Issuer URL", Help: "The provider's issuer, as its discovery document names it.", Required: true},
			{Name: "preset", Label: "Provider", Options: []string{"okta", "google", "entra", "keycloak"}, Default: "okta"},
			{Name: "claims", Label: "Extra scopes", Help: "One per line.", Multiline: true},
		},
		Secret: &idsource.Field{Name: "clientSecret", Label: "Client secret", Required: true},
		Check: func(_ context.Context, s map[string]string, _ bool) error {
			if !strings.HasPrefix(s["issuer"], "https://") {
				return fault.Validationf("The issuer must be an https URL")
			}
			return nil
		},
		Info: func() []idsource.Info {
			return []idsource.Info{{Label: "Redirect URI", Value: "https://gatehouse.example/oidc/callback"}}
		},
		Preview: func(context.Context) (*idsource.Preview, error) {
			return &idsource.Preview{Matched: []string{"dev"}, New: []string{"zoe"}, Unmatched: []string{"reader"}}, nil
		},
	}
}

// emptyKind is a kind with no fields and no secret (the console must show
// it all the same); it stands in for LDAP, whose passwords are the
// directory's while Gatehouse MFA stays.
func emptyKind() *idsource.Kind {
	return &idsource.Kind{Name: idsource.LDAP, Title: "LDAP directory"}
}

// TestIdentitySourcePage: the admin sees the active source and a form per
// kind generated from its fields (select, text area, help, a write-only
// secret, info to copy); bad settings are refused with the form again
// (secret not echoed) and nothing stored; good ones are saved and audited;
// the switch page shows the plan; the switch needs its box ticked and the
// source the plan was made from, then switches (audited); the way back to
// the built-in directory works from the page.
func TestIdentitySourcePage(t *testing.T) {
	e := newEnv(t)
	e.srv.Sources.Register(fakeOIDC())
	e.srv.Sources.Register(emptyKind())
	ctx := t.Context()
	b := e.browser()
	b.signIn("admin")
	const secret = "console-secret-value-0042"

	p := b.get("/admin/settings")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, `href="/admin/settings/identity-source"`)
	p = b.get("/admin/settings/identity-source")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "<strong>Built-in directory</strong>", "OpenID Connect provider", "Not configured",
		`<label for="f-oidc-issuer">Issuer URL <span class="muted">(required)</span></label>`,
		`<select class="field" id="f-oidc-preset" name="s.preset"`, `<option value="" selected>Default (okta)</option>`, `<option value="keycloak">keycloak</option>`,
		`<textarea id="f-oidc-claims" name="s.claims"`, "One per line.",
		`<input type="password" id="f-oidc-secret" name="secret" value=""`, "Not set.",
		"<code>https://gatehouse.example/oidc/callback</code>", "LDAP directory", "This source has no settings.",
		"Save the settings before switching to this source.")
	wantNoBody(t, p, `action="/admin/settings/identity-source/oidc/switch"`)

	// Refused: the form again with the values sent, never the secret.
	p = b.submit(p, "/admin/settings/identity-source/oidc", url.Values{"s.issuer": {"http://idp.example"}, "s.preset": {"google"}, "secret": {secret}})
	wantStatus(t, p, http.StatusBadRequest)
	wantBody(t, p, "The issuer must be an https URL", `value="http://idp.example"`, `<option value="google" selected>`)
	wantNoBody(t, p, secret)
	p = b.submit(p, "/admin/settings/identity-source/oidc", url.Values{"s.issuer": {"https://idp.example"}})
	wantStatus(t, p, http.StatusBadRequest)
	wantBody(t, p, "clientSecret is required")
	p = b.submit(p, "/admin/settings/identity-source/oidc", url.Values{"s.issuer": {""}, "secret": {secret}})
	wantStatus(t, p, http.StatusBadRequest)
	wantBody(t, p, "issuer is required")
	if _, err := e.srv.Store.GetIdentitySource(ctx, idsource.OIDC); err == nil {
		t.Fatal("refused settings were stored")
	}

	p = b.submit(p, "/admin/settings/identity-source/oidc", url.Values{"s.issuer": {"https://idp.example"}, "s.claims": {"groups\nemail"}, "secret": {secret}})
	p = b.follow(p)
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "Identity source settings saved.", "Stored — leave empty to keep it.", `value="https://idp.example"`, "groups\nemail",
		"Last saved", `action="/admin/settings/identity-source/oidc/switch"`)
	wantNoBody(t, p, secret)
	// An empty secret keeps the stored one.
	p = b.follow(b.submit(p, "/admin/settings/identity-source/oidc", url.Values{"s.issuer": {"https://idp.example"}, "s.preset": {"entra"}}))
	wantBody(t, p, "Identity source settings saved.", `<option value="entra" selected>`)
	if got, err := e.srv.Sources.Secret(ctx, idsource.OIDC); err != nil || got != secret {
		t.Fatalf("stored secret = %q, %v", got, err)
	}
	// The kind without fields saves too.
	p = b.follow(b.submit(p, "/admin/settings/identity-source/ldap", nil))
	wantBody(t, p, "Identity source settings saved.")

	// The plan.
	dev := e.users["dev"]
	if err := e.srv.Store.CreateMFADevice(ctx, &store.MFADevice{ID: "mfa-dev", UserID: dev.ID, Type: "TOTP", Name: "phone", Sealed: []byte("x"), CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	p = b.get("/admin/settings/identity-source/oidc/switch")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "Switch to OpenID Connect provider?", `<dd id="plan-users">3</dd>`, `<dd id="plan-passwords">3</dd>`, `<dd id="plan-mfa">1</dd>`,
		"Matched to existing users (1)</dt><dd>dev</dd>", "New users (1)</dt><dd>zoe</dd>", "Existing users it does not know (1)</dt><dd>reader</dd>",
		"People sign in at the identity provider", `<input type="hidden" name="from" value="directory">`)
	if a, _ := e.srv.Sources.ActiveKind(ctx); a != idsource.Directory {
		t.Fatalf("the plan switched to %s", a)
	}
	// Unconfirmed, or planned from another source: refused, plan again.
	q := b.submit(p, "/admin/settings/identity-source/oidc/switch", nil)
	wantStatus(t, q, http.StatusBadRequest)
	wantBody(t, q, "Tick the box to confirm the switch.", `<dd id="plan-users">3</dd>`)
	q = b.submit(p, "/admin/settings/identity-source/oidc/switch", url.Values{"confirm": {"yes"}, "from": {"ldap"}})
	wantStatus(t, q, http.StatusBadRequest)
	wantBody(t, q, "The active identity source changed since this plan was shown (it is now the built-in directory)")
	if a, _ := e.srv.Sources.ActiveKind(ctx); a != idsource.Directory {
		t.Fatalf("a refused switch switched to %s", a)
	}
	p = b.follow(b.submit(p, "/admin/settings/identity-source/oidc/switch", url.Values{"confirm": {"yes"}}))
	wantBody(t, p, "Identity source switched.", "<strong>OpenID Connect provider</strong>", "gatehouse identity-source switch directory",
		`action="/admin/settings/identity-source/directory/switch"`)
	if a, _ := e.srv.Sources.ActiveKind(ctx); a != idsource.OIDC {
		t.Fatalf("active = %s after the switch", a)
	}
	evs, err := e.srv.Store.ListEvents(ctx, store.EventFilter{Name: "SwitchIdentitySource", Source: audit.SourceGatehouse})
	if err != nil || len(evs) != 1 || evs[0].Principal != "admin" {
		t.Fatalf("switch events: %+v, %v", evs, err)
	}
	// The active kind has no switch button of its own; the plan says so.
	p = b.get("/admin/settings/identity-source/oidc/switch")
	wantStatus(t, p, http.StatusBadRequest)
	wantBody(t, p, "already active")
	wantNoBody(t, p, `action="/admin/settings/identity-source/oidc/switch"`)

	// The way back.
	p = b.get("/admin/settings/identity-source/directory/switch")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "Switch to Built-in directory?", "People sign in with Gatehouse passwords and MFA again")
	p = b.follow(b.submit(p, "/admin/settings/identity-source/directory/switch", url.Values{"confirm": {"yes"}}))
	wantBody(t, p, "Identity source switched.", "<strong>Built-in directory</strong>")

	// No page ever showed the secret; the audit log never held it.
	all, err := e.srv.Store.ListEvents(ctx, store.EventFilter{Page: store.Page{Limit: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range all {
		if strings.Contains(string(ev.Record), secret) {
			t.Errorf("event %s holds the secret", ev.Name)
		}
	}
	if p := b.get("/admin/settings/identity-source"); strings.Contains(p.Body, secret) {
		t.Error("the page shows the secret")
	}
	// Unknown kinds are a console 404.
	wantStatus(t, b.get("/admin/settings/identity-source/kerberos/switch"), http.StatusNotFound)
	wantStatus(t, b.post("/admin/settings/identity-source/kerberos", url.Values{}), http.StatusNotFound)
}

// TestIdentitySourcePageAuthorization: a read-only administrator sees the
// settings without forms and is refused (403, audited) a save, the plan
// and the switch; a form from another site is refused before anything.
func TestIdentitySourcePageAuthorization(t *testing.T) {
	e := newEnv(t)
	e.srv.Sources.Register(fakeOIDC())
	ctx := t.Context()
	secret := "s"
	if err := e.srv.Sources.Configure(ctx, idsource.OIDC, map[string]string{"issuer": "https://idp.example"}, &secret); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.signIn("reader")
	p := b.get("/admin/settings/identity-source")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "OpenID Connect provider", "https://idp.example", "Stored", "You have read-only access")
	if fs := forms(p); len(fs) != 0 {
		t.Errorf("read-only page has forms %v", fs)
	}
	wantNoBody(t, p, "/switch")
	p = b.post("/admin/settings/identity-source/oidc", url.Values{"s.issuer": {"https://evil.example"}})
	wantStatus(t, p, http.StatusForbidden)
	wantStatus(t, b.get("/admin/settings/identity-source/oidc/switch"), http.StatusForbidden)
	wantStatus(t, b.post("/admin/settings/identity-source/oidc/switch", url.Values{"confirm": {"yes"}, "from": {"directory"}}), http.StatusForbidden)
	if st, _, _ := e.srv.Sources.Settings(ctx, idsource.OIDC); st["issuer"] != "https://idp.example" {
		t.Error("a refused save changed the settings")
	}
	if a, _ := e.srv.Sources.ActiveKind(ctx); a != idsource.Directory {
		t.Error("a refused switch switched")
	}
	denied, err := e.srv.Store.ListEvents(ctx, store.EventFilter{Name: "SwitchIdentitySource"})
	if err != nil || len(denied) != 1 || denied[0].ErrorCode != "AccessDenied" {
		t.Errorf("denied switch events: %+v, %v", denied, err)
	}

	// Another site's form, even the admin's browser: refused.
	a := e.browser()
	a.signIn("admin")
	a.hdrs = http.Header{"Sec-Fetch-Site": {"cross-site"}}
	p = a.post("/admin/settings/identity-source/oidc/switch", url.Values{"confirm": {"yes"}, "from": {"directory"}})
	wantStatus(t, p, http.StatusForbidden)
	wantBody(t, p, "This request came from another site")
	if a, _ := e.srv.Sources.ActiveKind(ctx); a != idsource.Directory {
		t.Error("a cross-site form switched")
	}
}

// TestCredentialActionsWithExternalSource: with an OIDC source active the
// user page has no password reset, invitation or MFA reset (a note says
// the identity provider keeps them) and a forged form for each is refused
// with the reason, changing nothing; with LDAP active password reset and
// invitation are refused but the MFA reset stays.
func TestCredentialActionsWithExternalSource(t *testing.T) {
	e := newEnv(t)
	e.srv.Sources.Register(fakeOIDC())
	e.srv.Sources.Register(emptyKind())
	ctx := t.Context()
	secret := "s"
	if err := e.srv.Sources.Configure(ctx, idsource.OIDC, map[string]string{"issuer": "https://idp.example"}, &secret); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Sources.Configure(ctx, idsource.LDAP, nil, nil); err != nil {
		t.Fatal(err)
	}
	dev := e.users["dev"]
	newbie, err := e.srv.Directory.CreateUser(ctx, directory.CreateUserInput{UserName: "newbie", DisplayName: "newbie",
		Name: store.UserName{GivenName: "new", FamilyName: "bie"}, Emails: []store.Email{{Value: "newbie@example.com", Primary: true}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Store.CreateMFADevice(ctx, &store.MFADevice{ID: "mfa-dev", UserID: dev.ID, Type: "TOTP", Name: "phone", Sealed: []byte("x"), CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.signIn("admin")
	devPage := "/admin/users/" + dev.ID
	p := b.get(devPage)
	wantBody(t, p, "/reset-password", "/reset-mfa")
	wantBody(t, b.get("/admin/users"), "No password yet")
	if _, err := e.srv.Sources.Switch(ctx, idsource.OIDC); err != nil {
		t.Fatal(err)
	}
	before, _ := e.srv.Store.GetUser(ctx, dev.ID)

	p = b.get(devPage)
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "Passwords and MFA are managed by your organization&#39;s OpenID Connect identity provider")
	wantNoBody(t, p, "/reset-password", "/reset-mfa")
	wantNoBody(t, b.get("/admin/users/"+newbie.ID), "/invite\"")
	p = b.get("/admin/users")
	wantBody(t, p, "New users sign in through your organization&#39;s OpenID Connect identity provider")
	wantNoBody(t, p, "The user gets an email", "No password yet")
	wantNoBody(t, b.get("/admin/users/"+newbie.ID), "No password yet")
	for _, tc := range []struct{ path, want string }{
		{devPage + "/reset-password", "Passwords are managed by the organization&#39;s OpenID Connect identity provider, not by Gatehouse"},
		{devPage + "/reset-mfa", "MFA is managed by the organization&#39;s OpenID Connect identity provider, not by Gatehouse"},
		{"/admin/users/" + newbie.ID + "/invite", "no invitation is sent"},
	} {
		q := b.post(tc.path, url.Values{"confirm": {"yes"}})
		wantStatus(t, q, http.StatusBadRequest)
		wantBody(t, q, tc.want)
	}
	after, _ := e.srv.Store.GetUser(ctx, dev.ID)
	if after.PasswordHash != before.PasswordHash {
		t.Error("a refused password reset changed the password")
	}
	if ds, _ := e.srv.Store.ListMFADevices(ctx, dev.ID); len(ds) != 1 {
		t.Errorf("a refused MFA reset left %d devices", len(ds))
	}
	if ms, _ := e.srv.Outbox.List(ctx, 10); len(ms) != 0 {
		t.Errorf("a refused action mailed %d messages", len(ms))
	}

	// LDAP: passwords are the directory's, MFA is Gatehouse's.
	if _, err := e.srv.Sources.Switch(ctx, idsource.LDAP); err != nil {
		t.Fatal(err)
	}
	p = b.get(devPage)
	wantBody(t, p, "Passwords are managed by your organization&#39;s LDAP directory", "/reset-mfa")
	wantNoBody(t, p, "/reset-password")
	q := b.post(devPage+"/reset-password", url.Values{"confirm": {"yes"}})
	wantStatus(t, q, http.StatusBadRequest)
	wantBody(t, q, "LDAP directory, not by Gatehouse")
	q = b.post(devPage+"/reset-mfa", url.Values{"confirm": {"yes"}})
	wantStatus(t, q, http.StatusSeeOther)
	if ds, _ := e.srv.Store.ListMFADevices(ctx, dev.ID); len(ds) != 0 {
		t.Errorf("the MFA reset under LDAP left %d devices", len(ds))
	}
}
