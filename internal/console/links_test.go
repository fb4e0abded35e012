package console_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/gatehouse-dev/gatehouse/internal/awsaccounts/mototest"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// TestAccountLinkPage drives the account page against a real moto_server:
// a local account says so and offers the link form and the least-privilege
// policy; a link with credentials of another account is refused on the
// form (which keeps the fields but not the secret); a good link shows
// "Linked to AWS account … (endpoint …) — ACTIVE" and the provider exists
// in the stand-in; the accounts list shows the status; unlink is refused
// while a role is provisioned and works after; the reader sees the page
// without forms and is refused a change; the management account is never
// offered a link. The secret shows on no page.
func TestAccountLinkPage(t *testing.T) {
	moto := mototest.Start(t)
	e := newEnvWith(t, func(c *config.Config) { c.AWSEndpointAllow = []string{moto.URL} })
	ctx := t.Context()
	meta := mototest.IdPMetadata(t, e.srv.URL)
	e.srv.AWSAccounts.IdPMetadata = func(context.Context) (string, error) { return meta, nil }
	const sandbox, secret = "555555555555", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYCONSOLEKEY"
	if _, err := e.srv.Access.CreateAccount(ctx, sandbox, "Sandbox", "sandbox@example.com"); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.signIn("admin")
	var pages []*page
	get := func(p string) *page { pg := b.get(p); pages = append(pages, pg); return pg }

	list := get("/admin/accounts")
	wantBody(t, list, `href="/admin/accounts/`+sandbox+`">Local</a>`)
	p := get("/admin/accounts/" + sandbox)
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "Local: credentials for this account are issued and verified by Gatehouse", `action="/admin/accounts/`+sandbox+`/link"`,
		`arn:aws:iam::`+sandbox+`:role/aws-reserved/sso.amazonaws.com/*`, `resource &#34;aws_iam_policy&#34;`)
	wantNoBody(t, p, "/unlink")

	// The endpoint as a person may type it: stored and shown canonical.
	typed := "HTTP://" + strings.TrimPrefix(moto.URL, "http://") + "/"
	fields := url.Values{"endpoint": {typed}, "region": {"us-east-1"}, "accessKeyId": {"AKIAIOSFODNN7EXAMPLE"}, "secretAccessKey": {secret}}
	wrong := url.Values{"roleName": {"arn:aws:iam::222222222222:role/OrganizationAccountAccessRole"}}
	for k, v := range fields {
		wrong[k] = v
	}
	bad := b.submit(p, "/admin/accounts/"+sandbox+"/link", wrong)
	pages = append(pages, bad)
	wantStatus(t, bad, http.StatusBadRequest)
	wantBody(t, bad, "222222222222", sandbox, `value="AKIAIOSFODNN7EXAMPLE"`)
	if l, _ := e.srv.Store.GetAccountLink(ctx, sandbox); l != nil {
		t.Fatal("a refused link was stored")
	}
	// An endpoint off the operator's list is refused the same way, and
	// never called.
	var unlistedHits atomic.Int32
	unlisted := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { unlistedHits.Add(1) }))
	defer unlisted.Close()
	elsewhere := url.Values{"endpoint": {unlisted.URL}}
	for k, v := range fields {
		if k != "endpoint" {
			elsewhere[k] = v
		}
	}
	bad = b.submit(p, "/admin/accounts/"+sandbox+"/link", elsewhere)
	pages = append(pages, bad)
	wantStatus(t, bad, http.StatusBadRequest)
	wantBody(t, bad, "not on the operator&#39;s list", "--aws-endpoint-allow")
	if l, _ := e.srv.Store.GetAccountLink(ctx, sandbox); l != nil || unlistedHits.Load() != 0 {
		t.Fatalf("a link to an unlisted endpoint: stored %+v, %d requests to it", l, unlistedHits.Load())
	}

	linked := b.submit(p, "/admin/accounts/"+sandbox+"/link", fields)
	if linked.Status != http.StatusSeeOther {
		t.Fatalf("link: %d\n%s", linked.Status, linked.Body)
	}
	p = b.follow(linked)
	pages = append(pages, p)
	wantBody(t, p, "Account linked", "Linked to AWS account <code>"+sandbox+"</code> (endpoint <code>"+moto.URL+"</code>) — <strong>ACTIVE</strong>",
		"saml-provider/GatehouseSSO_", "role/OrganizationAccountAccessRole", `action="/admin/accounts/`+sandbox+`/unlink"`)
	l, err := e.srv.Store.GetAccountLink(ctx, sandbox)
	if err != nil || l.Status != store.LinkActive || l.Endpoint != moto.URL {
		t.Fatalf("stored link %+v, %v; want ACTIVE at %s", l, err, moto.URL)
	}
	c, err := e.srv.AWSAccounts.Clients(ctx, l)
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.IAM.ListSAMLProviders(ctx, &iam.ListSAMLProvidersInput{})
	if err != nil || len(out.SAMLProviderList) != 1 {
		t.Fatalf("providers in the stand-in: %+v %v", out, err)
	}
	wantBody(t, get("/admin/accounts"), "Linked — ACTIVE")

	// The reader sees the link, no forms, and is refused a change.
	r := e.browser()
	r.signIn("reader")
	rp := r.get("/admin/accounts/" + sandbox)
	wantStatus(t, rp, http.StatusOK)
	wantBody(t, rp, "— <strong>ACTIVE</strong>")
	if f := forms(rp); len(f) != 0 {
		t.Fatalf("the reader gets forms %v", f)
	}
	wantStatus(t, r.post("/admin/accounts/"+sandbox+"/unlink", url.Values{"confirm": {"yes"}}), http.StatusForbidden)

	// The management account is never offered a link.
	mp := get("/admin/accounts/" + e.srv.Instance.ManagementAccountID)
	wantBody(t, mp, "never linked")
	wantNoBody(t, mp, "/link\"")

	// Unlink: confirmation needed; refused while a role is provisioned.
	p = get("/admin/accounts/" + sandbox)
	wantStatus(t, b.submit(p, "/admin/accounts/"+sandbox+"/unlink", url.Values{}), http.StatusBadRequest)
	role := &store.ProvisionedRole{AccountID: sandbox, PermissionSetID: e.sets["ReadOnlyAccess"].ID, RoleName: "AWSReservedSSO_ReadOnlyAccess_0123456789abcdef", RoleID: "AROAX"}
	if err := e.srv.Store.Update(ctx, func(tx store.Tx) error { return tx.PutProvisionedRole(ctx, role) }); err != nil {
		t.Fatal(err)
	}
	refused := b.submit(p, "/admin/accounts/"+sandbox+"/unlink", url.Values{"confirm": {"yes"}})
	wantStatus(t, refused, http.StatusBadRequest)
	wantBody(t, refused, "delete its account assignments first")
	if err := e.srv.Store.Update(ctx, func(tx store.Tx) error { return tx.DeleteProvisionedRole(ctx, sandbox, role.PermissionSetID) }); err != nil {
		t.Fatal(err)
	}
	p = b.follow(b.submit(p, "/admin/accounts/"+sandbox+"/unlink", url.Values{"confirm": {"yes"}}))
	pages = append(pages, p)
	wantBody(t, p, "Account unlinked", "Local: credentials")
	if out, _ := c.IAM.ListSAMLProviders(ctx, &iam.ListSAMLProvidersInput{}); len(out.SAMLProviderList) != 0 {
		t.Fatalf("the provider outlived the unlink: %+v", out.SAMLProviderList)
	}
	wantStatus(t, b.get("/admin/accounts/999999999999"), http.StatusNotFound)
	for _, pg := range pages {
		if strings.Contains(pg.Body, secret) {
			t.Fatalf("a page shows the secret:\n%s", pg.Body)
		}
	}
}
