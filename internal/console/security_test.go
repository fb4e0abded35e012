package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/mfa"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// formRoute is one console form and a body it could be sent with.
type formRoute struct {
	path string
	form url.Values
}

// formRoutes lists every console form route, with real IDs from e's world:
// a group with a member and a permission set assigned to dev.
func formRoutes(t *testing.T, e *env) []formRoute {
	ctx := t.Context()
	dev := e.users["dev"].ID
	g, err := e.srv.Directory.CreateGroup(ctx, "Team", "")
	if err != nil {
		t.Fatal(err)
	}
	m, err := e.srv.Directory.AddMember(ctx, g.ID, dev)
	if err != nil {
		t.Fatal(err)
	}
	ps := e.sets["PowerUserAccess"].ID
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`
	return []formRoute{
		{"/admin/users", url.Values{"username": {"eve"}, "email": {"eve@example.com"}, "given": {"E"}, "family": {"V"}, "display": {"Eve"}}},
		{"/admin/users/" + dev, url.Values{"display": {"Changed"}, "given": {"D"}, "family": {"V"}, "email": {"d@example.com"}}},
		{"/admin/users/" + dev + "/disable", url.Values{}},
		{"/admin/users/" + dev + "/enable", url.Values{}},
		{"/admin/users/" + dev + "/end-sessions", url.Values{}},
		{"/admin/users/" + dev + "/reset-password", url.Values{"confirm": {"yes"}}},
		{"/admin/users/" + dev + "/reset-mfa", url.Values{"confirm": {"yes"}}},
		{"/admin/users/" + dev + "/invite", url.Values{}},
		{"/admin/groups", url.Values{"name": {"Other"}}},
		{"/admin/groups/" + g.ID, url.Values{"description": {"changed"}}},
		{"/admin/groups/" + g.ID + "/members", url.Values{"user": {"reader"}}},
		{"/admin/permission-sets", url.Values{"name": {"Other"}, "hours": {"1"}}},
		{"/admin/permission-sets/" + ps, url.Values{"description": {"changed"}, "hours": {"2"}}},
		{"/admin/permission-sets/" + ps + "/managed", url.Values{"arn": {"arn:aws:iam::aws:policy/ReadOnlyAccess"}}},
		{"/admin/permission-sets/" + ps + "/managed/detach", url.Values{"arn": {"arn:aws:iam::aws:policy/PowerUserAccess"}}},
		{"/admin/permission-sets/" + ps + "/customer", url.Values{"name": {"Mine"}}},
		{"/admin/permission-sets/" + ps + "/customer/detach", url.Values{"name": {"Mine"}}},
		{"/admin/permission-sets/" + ps + "/inline", url.Values{"policy": {policy}}},
		{"/admin/permission-sets/" + ps + "/provision", url.Values{"account": {memberAccount}}},
		{"/admin/settings", url.Values{"mfa": {"off"}, "hours": {"8"}}},
		// The removals last, in an order that lets each succeed.
		{"/admin/assignments/" + memberAccount, url.Values{"type": {"USER"}, "principals": {"reader"}, "set": {e.sets["ReadOnlyAccess"].ID}}},
		{"/admin/assignments/" + memberAccount + "/remove", url.Values{"type": {"USER"}, "principal": {dev}, "set": {ps}}},
		{"/admin/groups/" + g.ID + "/members/" + m.ID + "/remove", url.Values{}},
		{"/admin/permission-sets/" + ps + "/delete", url.Values{"confirm": {"yes"}}},
		{"/admin/groups/" + g.ID + "/delete", url.Values{"confirm": {"yes"}}},
		{"/admin/users/" + dev + "/delete", url.Values{"confirm": {"yes"}}},
	}
}

// snapshot is what the console's forms could change.
func snapshot(t *testing.T, e *env) string {
	ctx := t.Context()
	var b strings.Builder
	us, _ := e.srv.Store.ListUsers(ctx, store.Page{Limit: 100})
	for _, u := range us {
		b.WriteString(u.UserName + u.DisplayName + u.PasswordHash)
		if u.Disabled {
			b.WriteString("disabled")
		}
	}
	gs, _ := e.srv.Store.ListGroups(ctx, store.Page{Limit: 100})
	for _, g := range gs {
		ms, _ := e.srv.Store.ListMembershipsByGroup(ctx, g.ID, store.Page{Limit: 100})
		b.WriteString(g.DisplayName + g.Description + strings.Repeat("m", len(ms)))
	}
	sets, _ := e.srv.Store.ListPermissionSets(ctx, store.Page{Limit: 100})
	for _, s := range sets {
		b.WriteString(s.Name + s.Description + s.InlinePolicy + strings.Join(s.ManagedPolicies, ",") + s.SessionDuration.String())
	}
	as, _ := e.srv.Store.ListAssignments(ctx, store.AssignmentFilter{})
	for _, a := range as {
		b.WriteString(a.AccountID + a.PermissionSetID + a.PrincipalID)
	}
	return b.String()
}

func TestReadOnlyAdminCannotChange(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn("reader")
	routes := formRoutes(t, e)
	// Pages show, with no change button.
	for _, path := range []string{"/admin/users", "/admin/users/" + e.users["dev"].ID, "/admin/groups", "/admin/accounts",
		"/admin/permission-sets", "/admin/permission-sets/" + e.sets["PowerUserAccess"].ID + "?policy=S3",
		"/admin/assignments", "/admin/assignments/" + memberAccount, "/admin/settings", "/admin/audit"} {
		p := b.get(path)
		wantStatus(t, p, http.StatusOK)
		if f := forms(p); len(f) > 0 {
			t.Errorf("%s shows a read-only admin the forms %v", path, f)
		}
		if !strings.Contains(path, "accounts") && !strings.Contains(path, "audit") && !strings.Contains(path, "settings") && path != "/admin/assignments" {
			wantBody(t, p, "read-only access")
		}
	}
	// The outbox holds sign-in links: not for read-only admins.
	wantStatus(t, b.get("/admin/outbox"), http.StatusForbidden)
	before := snapshot(t, e)
	for _, r := range routes {
		t.Run(r.path, func(t *testing.T) {
			p := b.post(r.path, r.form)
			wantStatus(t, p, http.StatusForbidden)
			wantBody(t, p, "You do not have permission to do this")
		})
	}
	if after := snapshot(t, e); after != before {
		t.Errorf("a read-only admin changed the store:\n%s\n%s", before, after)
	}
	// Each refusal is audited as the reader.
	evs, err := e.srv.Store.ListEvents(t.Context(), store.EventFilter{Principal: "reader", Name: "CreateUser"})
	if err != nil || len(evs) != 1 || evs[0].ErrorCode != "AccessDenied" {
		t.Errorf("denied CreateUser events %+v, %v", evs, err)
	}
	// A refused settings change carries the event name and source a
	// successful one has, so that one filter finds both.
	evs, err = e.srv.Store.ListEvents(t.Context(), store.EventFilter{Principal: "reader", Name: "UpdateInstanceSettings"})
	if err != nil || len(evs) != 1 || evs[0].ErrorCode != "AccessDenied" || evs[0].Source != audit.SourceSSO {
		t.Errorf("denied UpdateInstanceSettings events %+v, %v", evs, err)
	}
	// The outbox link is not offered to whom it would refuse.
	if p := b.get("/admin/users"); strings.Contains(p.Body, `href="/admin/outbox"`) {
		t.Errorf("a read-only admin is offered the outbox:\n%s", p.Body)
	}
}

// TestFullAdminReachesEveryForm checks the route table: every form an
// administrator posts is served (no 403, no 404, no 500).
func TestFullAdminReachesEveryForm(t *testing.T) {
	e := newEnv(t)
	e.srv.Console.People = people{d: e.srv.Directory}
	e.srv.Console.Invitations = invitations{}
	e.srv.Console.Settings = &memSettings{}
	b := e.browser()
	b.signIn("admin")
	for _, r := range formRoutes(t, e) {
		p := b.post(r.path, r.form)
		if p.Status != http.StatusSeeOther {
			t.Errorf("POST %s: %d\n%s", r.path, p.Status, p.Body)
		}
	}
}

type invitations struct{}

func (invitations) SendInvitation(context.Context, string) error    { return nil }
func (invitations) SendPasswordReset(context.Context, string) error { return nil }

func TestCrossOriginFormsRefused(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn("admin")
	routes := formRoutes(t, e)
	before := snapshot(t, e)
	for _, h := range []http.Header{
		{"Sec-Fetch-Site": {"cross-site"}},
		{"Origin": {"https://evil.example"}},
	} {
		b.hdrs = h
		for _, r := range routes {
			p := b.post(r.path, r.form)
			if p.Status != http.StatusForbidden || !strings.Contains(p.Body, "came from another site") {
				t.Errorf("%v POST %s: %d\n%s", h, r.path, p.Status, p.Body)
			}
		}
	}
	if after := snapshot(t, e); after != before {
		t.Errorf("a cross-origin form changed the store")
	}
}

func TestFramingRefused(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn("admin")
	for _, path := range []string{"/admin/users", "/admin/nope", "/admin/permission-sets", "/admin/users/" + e.users["dev"].ID,
		"/admin/groups", "/admin/accounts", "/admin/permission-sets/" + e.sets["PowerUserAccess"].ID, "/admin/assignments",
		"/admin/assignments/" + memberAccount, "/admin/settings", "/admin/audit", "/admin/outbox"} {
		p := b.get(path)
		if csp := p.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") ||
			strings.Contains(csp, "unsafe-") || !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if p.Header.Get("X-Frame-Options") != "DENY" || p.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: headers %v", path, p.Header)
		}
	}
}

func TestNonAdminRefused(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn("dev")
	for _, path := range []string{"/admin/users", "/admin/groups", "/admin/permission-sets", "/admin/audit"} {
		p := b.get(path)
		wantStatus(t, p, http.StatusForbidden)
		wantBody(t, p, "The admin console is for administrators")
		if strings.Contains(p.Body, "adminnav") {
			t.Errorf("%s shows the console navigation to a non-admin", path)
		}
	}
	before := snapshot(t, e)
	p := b.post("/admin/users", url.Values{"username": {"x"}, "email": {"x@example.com"}, "given": {"x"}, "family": {"x"}, "display": {"x"}})
	wantStatus(t, p, http.StatusForbidden)
	if snapshot(t, e) != before {
		t.Error("a non-admin changed the store")
	}
	// A permission set that allows nothing of the console in the
	// management account is no way in either.
	ctx := t.Context()
	ps, err := e.srv.Access.CreatePermissionSet(ctx, access.PermissionSetInput{Name: "Billing"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Access.PutInlinePolicy(ctx, ps.ID, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"aws-portal:ViewBilling","Resource":"*"}]}`); err != nil {
		t.Fatal(err)
	}
	if _, err := e.srv.Access.CreateAssignment(ctx, access.AssignmentInput{AccountID: e.srv.Instance.ManagementAccountID, PermissionSetID: ps.ID,
		PrincipalType: store.PrincipalUser, PrincipalID: e.users["dev"].ID}); err != nil {
		t.Fatal(err)
	}
	p = b.get("/admin/users")
	wantStatus(t, p, http.StatusForbidden)
	wantBody(t, p, "You do not have permission")
}

// TestDisabledAdminLosesConsole: an administrator's console session ends
// the moment another disables them: pages and forms send them to sign in,
// and they cannot sign in again.
func TestDisabledAdminLosesConsole(t *testing.T) {
	e := newEnv(t)
	rb := e.browser()
	rb.signIn("reader")
	wantStatus(t, rb.get("/admin/users"), http.StatusOK)
	b := e.browser()
	b.signIn("admin")
	reader := e.users["reader"].ID
	wantStatus(t, b.post("/admin/users/"+reader+"/disable", url.Values{}), http.StatusSeeOther)
	for _, p := range []*page{rb.get("/admin/users"), rb.get("/admin/audit"), rb.post("/admin/groups", url.Values{"name": {"X"}})} {
		if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location(), "/login") {
			t.Errorf("disabled admin's console: %d %q", p.Status, p.Location())
		}
	}
	again := e.browser()
	p := again.submit(again.get("/login"), "/login", url.Values{"username": {"reader"}})
	if p = again.submit(p, "/login/password", url.Values{"password": {password}}); p.Status != http.StatusUnauthorized {
		t.Errorf("disabled admin signs in again: %d", p.Status)
	}
}

// TestAdminCannotResetOwnMFA: an administrator's console session (a
// cookie left on a shared computer, say) cannot reset its own user's MFA:
// that would skip the fresh sign-in that removing a device on /account
// needs, and let the password alone register a new authenticator at the
// next sign-in. Another administrator's reset still works.
func TestAdminCannotResetOwnMFA(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	b := e.browser()
	b.signIn("admin")
	admin := e.users["admin"].ID
	enr, err := e.srv.MFA.NewEnrolment("admin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.srv.MFA.Confirm(ctx, admin, "phone", enr.Seed, mfa.Code(enr.Seed, mfa.Step(time.Now()))); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		ds, err := e.srv.MFA.Devices(ctx, admin)
		if err != nil {
			t.Fatal(err)
		}
		return len(ds)
	}
	p := b.post("/admin/users/"+admin+"/reset-mfa", url.Values{"confirm": {"yes"}})
	wantStatus(t, p, http.StatusBadRequest)
	wantBody(t, p, "You cannot reset your own MFA")
	if n := count(); n != 1 {
		t.Fatalf("own MFA reset from the console: %d devices", n)
	}
	if f := strings.Join(forms(b.get("/admin/users/"+admin)), " "); strings.Contains(f, "reset-mfa") {
		t.Errorf("own user page offers reset-mfa: %s", f)
	}
	// A second administrator may.
	ps := e.sets["AdministratorAccess"].ID
	if _, err := e.srv.Access.CreateAssignment(ctx, access.AssignmentInput{AccountID: e.srv.Instance.ManagementAccountID, PermissionSetID: ps,
		PrincipalType: store.PrincipalUser, PrincipalID: e.users["reader"].ID}); err != nil {
		t.Fatal(err)
	}
	other := e.browser()
	other.signIn("reader")
	wantStatus(t, other.post("/admin/users/"+admin+"/reset-mfa", url.Values{"confirm": {"yes"}}), http.StatusSeeOther)
	if n := count(); n != 0 {
		t.Errorf("reset by another administrator: %d devices", n)
	}
}
