package console_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/idsource"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// fakeLDAP stands in for the LDAP kind: a preview that does not know the
// admin (or fails when *previewErr is set) and a sync that records its
// audit event (or fails when *syncErr is set).
func fakeLDAP(e *env, previewErr, syncErr *error) *idsource.Kind {
	return &idsource.Kind{Name: idsource.LDAP, Title: "LDAP directory",
		Preview: func(context.Context) (*idsource.Preview, error) {
			if *previewErr != nil {
				return nil, *previewErr
			}
			return &idsource.Preview{Matched: []string{"dev"}, Unmatched: []string{"admin", "reader"}}, nil
		},
		Sync: func(ctx context.Context) (idsource.SyncCounts, error) {
			if *syncErr != nil {
				return idsource.SyncCounts{}, *syncErr
			}
			return idsource.SyncCounts{Users: 7}, e.srv.Store.Update(ctx, func(tx store.Tx) error {
				return e.srv.Audit.Record(ctx, tx, audit.Entry{Source: audit.SourceGatehouse, Name: "SyncIdentitySource",
					Response: map[string]any{"users": 7, "disabled": 1, "retired": 0, "failed": 0, "skipped": 2}})
			})
		}}
}

// TestSwitchWarningsAndSyncNow: the switch's confirmation page warns the
// signed-in admin the new source does not match them; a source whose
// preview failed shows the failure and needs a second tick ("Switch
// anyway"); with LDAP active the page offers Sync now (SyncIdentitySource,
// refused to a reader), shows the last sync's counts, and a failed sync's
// reason at the top, recorded in the audit log; the SCIM page says SCIM is
// refused while LDAP is active.
func TestSwitchWarningsAndSyncNow(t *testing.T) {
	e := newEnv(t)
	var previewErr, syncErr error
	e.srv.Sources.Register(fakeLDAP(e, &previewErr, &syncErr))
	ctx := t.Context()
	if err := e.srv.Sources.Configure(ctx, idsource.LDAP, nil, nil); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.signIn("admin")
	r := e.browser() // signed in before the switch: the fake kind checks no password
	r.signIn("reader")
	p := b.get("/admin/settings/identity-source/ldap/switch")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, `id="plan-warnings"`, "You (admin) are not matched by the ldap source", "gatehouse identity-source switch directory")
	wantNoBody(t, p, "Switch anyway")

	previewErr = errors.New("the LDAP directory is unreachable: connect to ldap://dc:389: connection refused")
	p = b.get("/admin/settings/identity-source/ldap/switch")
	wantBody(t, p, `id="preview-failed"`, "connection refused", `name="confirm_failed"`, "Switch anyway")
	q := b.post("/admin/settings/identity-source/ldap/switch", url.Values{"confirm": {"yes"}, "from": {"directory"}})
	wantStatus(t, q, http.StatusBadRequest)
	wantBody(t, q, "Tick both boxes to switch anyway")
	if a, _ := e.srv.Sources.ActiveKind(ctx); a != idsource.Directory {
		t.Fatalf("switched without the second tick: active %s", a)
	}
	q = b.post("/admin/settings/identity-source/ldap/switch", url.Values{"confirm": {"yes"}, "confirm_failed": {"yes"}, "from": {"directory"}})
	wantStatus(t, q, http.StatusSeeOther)
	if a, _ := e.srv.Sources.ActiveKind(ctx); a != idsource.LDAP {
		t.Fatalf("active %s after Switch anyway", a)
	}

	p = b.get("/admin/settings/identity-source")
	wantBody(t, p, "Sync now", "No sync has been recorded yet.")
	q = b.post("/admin/settings/identity-source-sync", nil)
	wantStatus(t, q, http.StatusSeeOther)
	p = b.follow(q)
	wantBody(t, p, "Sync finished", "7 users, 1 disabled in the directory, 0 retired, 0 failed, 2 entries skipped")

	syncErr = errors.New("the LDAP directory refused the service account's bind: bind as cn=gh: Invalid Credentials (49)")
	q = b.post("/admin/settings/identity-source-sync", nil)
	wantStatus(t, q, http.StatusBadRequest)
	wantBody(t, q, `id="form-error"`, "The sync failed: The ldap sync failed and changed nothing", "Invalid Credentials (49)")
	wantBody(t, b.get("/admin/settings/identity-source"), "<strong class=\"error\">failed</strong>")
	if st, err := e.srv.Sources.LastSync(ctx); err != nil || st == nil || st.By != "admin" {
		t.Fatalf("the failed sync's audit record: %+v %v", st, err)
	}

	wantBody(t, b.get("/admin/settings/scim"), "LDAP is the active identity source: Gatehouse refuses every SCIM request (403)")

	wantNoBody(t, r.get("/admin/settings/identity-source"), "Sync now")
	wantStatus(t, r.post("/admin/settings/identity-source-sync", nil), http.StatusForbidden)
}

// TestRefusedSaveAtTop: a refused Save shows its reason at the top of
// the page as well as in the kind's section; a stored secret's label is
// no longer marked "(required)".
func TestRefusedSaveAtTop(t *testing.T) {
	e := newEnv(t)
	e.srv.Sources.Register(fakeOIDC())
	b := e.browser()
	b.signIn("admin")
	const required = `Client secret <span class="muted">(required)</span>`
	wantBody(t, b.get("/admin/settings/identity-source"), required)
	q := b.post("/admin/settings/identity-source/oidc", url.Values{"s.issuer": {"http://idp.example"}, "secret": {"x"}})
	wantStatus(t, q, http.StatusBadRequest)
	wantBody(t, q, `id="form-error"`, "The OpenID Connect provider settings were not saved: The issuer must be an https URL", `id="error-oidc"`)
	secret := "s"
	if err := e.srv.Sources.Configure(t.Context(), idsource.OIDC, map[string]string{"issuer": "https://idp.example"}, &secret); err != nil {
		t.Fatal(err)
	}
	wantNoBody(t, b.get("/admin/settings/identity-source"), required)
}
