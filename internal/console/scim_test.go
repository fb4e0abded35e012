package console_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// TestSCIMPage drives the automatic provisioning page: the admin sees the
// endpoint, generates a token that is shown once (the answer to the POST,
// never a URL) and works at the SCIM endpoint, sees it listed with its
// dates and last use, and revokes it; the reader sees the list without
// forms and is refused a change; bad input is a page error.
func TestSCIMPage(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	b := e.browser()
	b.signIn("admin")

	p := b.get("/admin/settings")
	wantBody(t, p, `href="/admin/settings/scim"`)
	p = b.get("/admin/settings/scim")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "Automatic provisioning (SCIM)", e.srv.URL+"/scim/v2", "No access tokens yet", `action="/admin/settings/scim"`)

	bad := b.submit(p, "/admin/settings/scim", url.Values{"description": {"Okta"}, "days": {"0"}})
	wantStatus(t, bad, http.StatusBadRequest)
	wantBody(t, bad, "Expires after must be a whole number of days from 1 to 730.", `value="Okta"`)
	bad = b.submit(p, "/admin/settings/scim", url.Values{"description": {"a\nb"}, "days": {"30"}})
	wantStatus(t, bad, http.StatusBadRequest)
	wantBody(t, bad, "Description must be at most 256 characters on one line")

	created := b.submit(p, "/admin/settings/scim", url.Values{"description": {"Okta production"}, "days": {"30"}})
	wantStatus(t, created, http.StatusOK)
	m := regexp.MustCompile(`id="new-token" readonly value="(ghscim_[a-z0-9]+)"`).FindStringSubmatch(created.Body)
	if m == nil {
		t.Fatalf("no new token shown:\n%s", created.Body)
	}
	token := m[1]
	wantBody(t, created, "shown only this once", "Okta production", "Never")

	// The token works at the SCIM endpoint.
	req, _ := http.NewRequestWithContext(ctx, "GET", e.srv.URL+"/scim/v2/Users", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("the console's token at the SCIM endpoint: %d", res.StatusCode)
	}
	// Later visits list it, with its last use, but never show it again.
	p = b.get("/admin/settings/scim")
	wantNoBody(t, p, token, "new-token")
	ts, err := e.srv.Store.ListSCIMTokens(ctx)
	if err != nil || len(ts) != 1 {
		t.Fatalf("tokens %v, %v", ts, err)
	}
	id := ts[0].ID
	wantBody(t, p, id, "Okta production", "Active", ts[0].LastUsedAt.UTC().Format("2006-01-02 15:04 UTC"))
	if ts[0].ExpiresAt.Sub(ts[0].CreatedAt).Hours() != 30*24 {
		t.Fatalf("token lives %s, want 30 days", ts[0].ExpiresAt.Sub(ts[0].CreatedAt))
	}

	// The reader sees the list and no forms, and is refused a change.
	r := e.browser()
	r.signIn("reader")
	rp := r.get("/admin/settings/scim")
	wantStatus(t, rp, http.StatusOK)
	wantBody(t, rp, id, "read-only access")
	for _, f := range forms(rp) {
		if strings.Contains(f, "/admin/settings/scim") {
			t.Fatalf("the reader gets the form %s", f)
		}
	}
	denied := r.post("/admin/settings/scim/"+id+"/delete", url.Values{"confirm": {"yes"}})
	wantStatus(t, denied, http.StatusForbidden)
	if _, err := e.srv.Store.GetSCIMTokenByHash(ctx, ts[0].Hash); err != nil {
		t.Fatalf("a refused revocation deleted the token: %v", err)
	}

	// Revocation needs the box ticked, then takes effect at once.
	unconfirmed := b.submit(p, "/admin/settings/scim/"+id+"/delete", url.Values{})
	wantStatus(t, unconfirmed, http.StatusBadRequest)
	wantBody(t, unconfirmed, "Tick the box to confirm revoking the token.")
	gone := b.follow(b.submit(p, "/admin/settings/scim/"+id+"/delete", url.Values{"confirm": {"yes"}}))
	wantBody(t, gone, "Access token revoked", "No access tokens yet")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a revoked token at the SCIM endpoint: %d", res.StatusCode)
	}
	wantStatus(t, b.post("/admin/settings/scim/"+id+"/delete", url.Values{"confirm": {"yes"}}), http.StatusNotFound)

	// Audited, without the token.
	evs, err := e.srv.Store.ListEvents(ctx, store.EventFilter{Source: audit.SourceGatehouse})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ev := range evs {
		names = append(names, ev.Name)
		if strings.Contains(string(ev.Record), token) {
			t.Fatalf("event %s holds the token", ev.Name)
		}
	}
	if j := strings.Join(names, " "); !strings.Contains(j, "CreateSCIMAccessToken") || !strings.Contains(j, "DeleteSCIMAccessToken") {
		t.Fatalf("events %v", names)
	}
}
