package console_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// TestAdminBuildsAccess walks the main path of the console: create a user
// and a group with the user in it, a permission set whose first inline
// policy the policy engine refuses, then a valid one and a managed policy
// found by search, assign the set to the group in an account, and check
// the store holds exactly that, audited as the console user.
func TestAdminBuildsAccess(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	b := e.browser()
	b.signIn("admin")

	// A user.
	p := b.get("/admin/users")
	p = b.submit(p, "/admin/users", url.Values{"username": {"carol"}, "email": {"carol@example.com"}, "given": {"Carol"}, "family": {"Jones"}, "display": {"Carol Jones"}})
	wantStatus(t, p, http.StatusSeeOther)
	p = b.follow(p)
	wantStatus(t, p, http.StatusOK)
	// The server has no SMTP: the invitation waits in the outbox.
	wantBody(t, p, "User created; the invitation is in the outbox (no SMTP server is configured).", "carol")
	if ms, err := e.srv.Outbox.List(ctx, 10); err != nil || len(ms) != 1 || ms[0].To != "carol@example.com" || !strings.Contains(ms[0].Body, "/activate?token=") {
		t.Fatalf("outbox %+v, %v: want one invitation to carol", ms, err)
	}
	carol, err := e.srv.Store.GetUserByName(ctx, "carol")
	if err != nil || carol.DisplayName != "Carol Jones" || len(carol.Emails) != 1 || carol.Emails[0].Value != "carol@example.com" {
		t.Fatalf("stored user %+v, %v", carol, err)
	}
	// The same name again: the form comes back saying so.
	p = b.submit(b.get("/admin/users"), "/admin/users", url.Values{"username": {"carol"}, "email": {"c2@example.com"}, "given": {"C"}, "family": {"J"}, "display": {"C J"}})
	wantStatus(t, p, http.StatusBadRequest)
	wantBody(t, p, "A user named carol already exists.", `value="c2@example.com"`)

	// A group with carol in it.
	p = b.submit(b.get("/admin/groups"), "/admin/groups", url.Values{"name": {"Engineers"}, "description": {"Builders"}})
	wantStatus(t, p, http.StatusSeeOther)
	groupPath := strings.SplitN(p.Location(), "?", 2)[0]
	p = b.follow(p)
	p = b.submit(p, groupPath+"/members", url.Values{"user": {"carol"}})
	p = b.follow(p)
	wantBody(t, p, "Member added.", `href="/admin/users/`+carol.ID+`"`)
	group, err := e.srv.Store.GetGroupByName(ctx, "Engineers")
	if err != nil {
		t.Fatal(err)
	}
	if ms, _ := e.srv.Store.ListMembershipsByGroup(ctx, group.ID, store.Page{Limit: 10}); len(ms) != 1 || ms[0].UserID != carol.ID {
		t.Fatalf("memberships %+v", ms)
	}

	// A permission set.
	p = b.submit(b.get("/admin/permission-sets"), "/admin/permission-sets", url.Values{"name": {"Deployers"}, "description": {"Deploys"}, "hours": {"4"}, "relay": {""}})
	wantStatus(t, p, http.StatusSeeOther)
	setPath := strings.SplitN(p.Location(), "?", 2)[0]
	p = b.follow(p)
	wantBody(t, p, "Permission set created.")
	// An inline policy the engine refuses shows its error, keeps the text
	// and stores nothing.
	bad := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject"}]}`
	p = b.submit(p, setPath+"/inline", url.Values{"policy": {bad}})
	wantStatus(t, p, http.StatusBadRequest)
	wantBody(t, p, "policy document is not valid", `aria-invalid="true"`, "s3:GetObject")
	ps, err := e.srv.Access.GetPermissionSetByName(ctx, "Deployers")
	if err != nil || ps.InlinePolicy != "" {
		t.Fatalf("after a refused policy: %+v %v", ps, err)
	}
	good := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`
	p = b.follow(b.submit(p, setPath+"/inline", url.Values{"policy": {good}}))
	wantBody(t, p, "Inline policy saved.")
	// A managed policy, found by name.
	p = b.get(setPath + "?policy=ViewOnly")
	wantBody(t, p, "ViewOnlyAccess")
	p = b.follow(b.submit(p, setPath+"/managed", url.Values{"arn": {"arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"}}))
	wantBody(t, p, "Policy attached.")

	// Assign it to the group in the member account.
	p = b.get("/admin/assignments/" + memberAccount)
	p = b.submit(p, "/admin/assignments/"+memberAccount, url.Values{"type": {"GROUP"}, "principals": {"Engineers"}, "set": {ps.ID}})
	wantStatus(t, p, http.StatusSeeOther)
	p = b.follow(p)
	wantBody(t, p, "Assignments created.", "Engineers", "Deployers")

	ps, _ = e.srv.Access.GetPermissionSetByName(ctx, "Deployers")
	if ps.InlinePolicy != good || ps.Description != "Deploys" || ps.SessionDuration.Hours() != 4 ||
		!slices.Equal(ps.ManagedPolicies, []string{"arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"}) {
		t.Fatalf("stored set %+v", ps)
	}
	as, err := e.srv.Store.ListAssignments(ctx, store.AssignmentFilter{PermissionSetID: ps.ID})
	if err != nil || len(as) != 1 || as[0].AccountID != memberAccount || as[0].PrincipalType != store.PrincipalGroup || as[0].PrincipalID != group.ID {
		t.Fatalf("assignments %+v %v", as, err)
	}
	// Who is authorized: carol's page shows the account and the set
	// through the group.
	p = b.get("/admin/users/" + carol.ID)
	wantBody(t, p, "Workloads", "Deployers", "group Engineers")
	// The set is provisioned in the account.
	p = b.get(setPath)
	wantBody(t, p, "Workloads", "Provisioned")

	// Every change is audited as the console user.
	evs, err := e.srv.Store.ListEvents(ctx, store.EventFilter{Principal: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ev := range evs {
		names = append(names, ev.Name)
	}
	for _, want := range []string{"CreateUser", "CreateGroup", "CreateGroupMembership", "CreatePermissionSet", "PutInlinePolicyToPermissionSet",
		"AttachManagedPolicyToPermissionSet", "CreateAccountAssignment"} {
		if !slices.Contains(names, want) {
			t.Errorf("no %s event by admin in %v", want, names)
		}
	}
	// And the audit viewer finds them.
	p = b.get("/admin/audit?user=admin&event=CreateUser")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "<td>CreateUser</td>")
	if strings.Contains(p.Body, "<td>CreateGroup</td>") {
		t.Errorf("event filter ignored:\n%s", p.Body)
	}
}
