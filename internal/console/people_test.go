package console_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/console"
	"github.com/gatehouse-dev/gatehouse/internal/settings"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// TestDisableInConsoleEndsPortalSession: a user the console disables is
// signed out of the portal at once, and enabling lets them sign in again.
func TestDisableInConsoleEndsPortalSession(t *testing.T) {
	e := newEnv(t)
	devB := e.browser()
	devB.signIn("dev")
	wantStatus(t, devB.get("/start"), http.StatusOK)

	b := e.browser()
	b.signIn("admin")
	dev := e.users["dev"].ID
	p := b.get("/admin/users/" + dev)
	p = b.follow(b.submit(p, "/admin/users/"+dev+"/disable", nil))
	wantBody(t, p, "User disabled", "Disabled", `action="/admin/users/`+dev+`/enable"`)
	if p := devB.get("/start"); p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location(), "/login") {
		t.Fatalf("disabled user's session still works: %d %q", p.Status, p.Location())
	}
	p = b.follow(b.submit(p, "/admin/users/"+dev+"/enable", nil))
	wantBody(t, p, "User enabled.")
	e.browser().signIn("dev")
}

func TestAdminCannotDisableThemselves(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn("admin")
	admin := e.users["admin"].ID
	// The people service refuses these; the console shows its message.
	for action, want := range map[string]string{
		"disable": "You cannot disable yourself", "delete": "You cannot delete yourself",
		"reset-password": "You cannot reset the password of yourself", "reset-mfa": "You cannot reset your own MFA",
	} {
		p := b.post("/admin/users/"+admin+"/"+action, url.Values{"confirm": {"yes"}})
		wantStatus(t, p, http.StatusBadRequest)
		wantBody(t, p, want)
	}
	wantStatus(t, b.get("/admin/users"), http.StatusOK)
}

// recorder is a People and Invitations that records its calls.
type recorder struct{ calls []string }

func (r *recorder) add(name, id string) error                      { r.calls = append(r.calls, name+" "+id); return nil }
func (r *recorder) DisableUser(_ context.Context, id string) error { return r.add("disable", id) }
func (r *recorder) EnableUser(_ context.Context, id string) error  { return r.add("enable", id) }
func (r *recorder) DeleteUser(_ context.Context, id string) error  { return r.add("delete", id) }
func (r *recorder) EndSessions(_ context.Context, id string) error { return r.add("end-sessions", id) }
func (r *recorder) ResetPassword(_ context.Context, id string) error {
	return r.add("reset-password", id)
}
func (r *recorder) ResetMFA(_ context.Context, id string) error       { return r.add("reset-mfa", id) }
func (r *recorder) SendInvitation(_ context.Context, id string) error { return r.add("invite", id) }
func (r *recorder) SendPasswordReset(_ context.Context, id string) error {
	return r.add("reset-link", id)
}

func TestPeopleActionsCallTheService(t *testing.T) {
	e := newEnv(t)
	rec := &recorder{}
	e.srv.Console.People, e.srv.Console.Invitations, e.srv.Console.Mail = rec, rec, smtpMailer(t)
	b := e.browser()
	b.signIn("admin")
	dev := e.users["dev"].ID
	// dev has a password, so the page offers a password reset.
	p := b.get("/admin/users/" + dev)
	for _, action := range []string{"end-sessions", "reset-password", "reset-mfa"} {
		r := b.submit(p, "/admin/users/"+dev+"/"+action, url.Values{"confirm": {"yes"}})
		wantStatus(t, r, http.StatusSeeOther)
	}
	// Without a password, it offers an invitation.
	clearPassword(t, e, dev)
	p = b.get("/admin/users/" + dev)
	for _, action := range []string{"invite", "disable"} {
		r := b.submit(p, "/admin/users/"+dev+"/"+action, url.Values{"confirm": {"yes"}})
		wantStatus(t, r, http.StatusSeeOther)
	}
	// A new user is invited.
	p = b.submit(b.get("/admin/users"), "/admin/users", url.Values{"username": {"fay"}, "email": {"fay@example.com"}, "given": {"F"}, "family": {"Y"}, "display": {"Fay"}})
	wantBody(t, b.follow(p), "User created and invited by email.")
	fay, err := e.srv.Store.GetUserByName(t.Context(), "fay")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"end-sessions " + dev, "reset-password " + dev, "reset-mfa " + dev, "invite " + dev, "disable " + dev, "invite " + fay.ID}
	if strings.Join(rec.calls, ";") != strings.Join(want, ";") {
		t.Fatalf("calls %v, want %v", rec.calls, want)
	}
}

func TestNotConfiguredFeatures(t *testing.T) {
	e := newEnv(t)
	// The server wires its people service; this test is about a console
	// without one.
	e.srv.Console.People, e.srv.Console.Invitations, e.srv.Console.Outbox, e.srv.Console.Settings = nil, nil, nil, nil
	b := e.browser()
	b.signIn("admin")
	dev := e.users["dev"].ID
	p := b.get("/admin/users/" + dev)
	wantBody(t, p, "not configured on this server")
	for _, action := range []string{"disable", "enable", "end-sessions", "reset-password", "reset-mfa", "invite"} {
		if f := forms(p); strings.Contains(strings.Join(f, " "), action) {
			t.Errorf("button %s shown without the service", action)
		}
		p := b.post("/admin/users/"+dev+"/"+action, url.Values{})
		wantStatus(t, p, http.StatusNotImplemented)
		wantBody(t, p, "not configured")
	}
	wantBody(t, b.get("/admin/settings"), "settings are not configured")
	wantStatus(t, b.post("/admin/settings", url.Values{"mfa": {"off"}, "hours": {"8"}}), http.StatusNotImplemented)
	wantBody(t, b.get("/admin/outbox"), "outbox is not configured")
}

func TestSettingsAndOutbox(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	e.srv.Console.Outbox = console.OutboxFunc(func(_ context.Context, limit int) ([]store.OutboxMessage, error) {
		return []store.OutboxMessage{{CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), To: "fay@example.com", Subject: "Your invitation",
			Body: "Open <https://gatehouse.example/activate?t=x>"}}, nil
	})
	b := e.browser()
	b.signIn("admin") // signed in before the policy changes: the session stands
	if err := e.srv.Settings.Put(ctx, settings.Settings{MFAPolicy: settings.PolicyAlways, PortalSessionDuration: 8 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	p := b.get("/admin/settings")
	// The page names the server's ceiling (--portal-session-duration, 8 h here).
	wantBody(t, p, `value="always" checked`, `value="8"`, "15 minutes to 8 h")
	bad := b.submit(p, "/admin/settings", url.Values{"mfa": {"sometimes"}, "hours": {"8"}})
	wantStatus(t, bad, http.StatusBadRequest)
	wantBody(t, bad, "MFA policy &#34;sometimes&#34; is not one of")
	bad = b.submit(p, "/admin/settings", url.Values{"mfa": {"off"}, "hours": {"0"}})
	wantStatus(t, bad, http.StatusBadRequest)
	// Longer than the server's --portal-session-duration (8 h here).
	bad = b.submit(p, "/admin/settings", url.Values{"mfa": {"off"}, "hours": {"12"}})
	wantStatus(t, bad, http.StatusBadRequest)
	wantBody(t, bad, "Portal session length must be from 15 minutes to 8 h")
	wantNoBody(t, bad, "ValidationException")
	for _, v := range []url.Values{
		{"mfa": {"off"}, "hours": {"0"}, "minutes": {"10"}}, // not a 15-minute step
		{"mfa": {"off"}, "hours": {"8"}, "minutes": {"15"}}, // past the ceiling
		{"mfa": {"off"}, "hours": {"x"}},
	} {
		bad = b.submit(p, "/admin/settings", v)
		wantStatus(t, bad, http.StatusBadRequest)
		wantBody(t, bad, "Portal session length must be from 15 minutes to 8 h")
	}
	// The floor, 15 minutes, can be entered.
	p = b.follow(b.submit(p, "/admin/settings", url.Values{"mfa": {"off"}, "hours": {"0"}, "minutes": {"15"}}))
	wantBody(t, p, "Settings saved.", `<option value="15" selected>`)
	if v, err := e.srv.Settings.Get(ctx); err != nil || v.PortalSessionDuration != 15*time.Minute {
		t.Fatalf("settings %+v, %v", v, err)
	}
	p = b.follow(b.submit(p, "/admin/settings", url.Values{"mfa": {"new-browser"}, "hours": {"4"}}))
	wantBody(t, p, "Settings saved.", `value="new-browser" checked`)
	if v, err := e.srv.Settings.Get(ctx); err != nil || v.MFAPolicy != settings.PolicyNewBrowser || v.PortalSessionDuration != 4*time.Hour {
		t.Fatalf("settings %+v, %v", v, err)
	}
	p = b.get("/admin/outbox")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "Your invitation", "fay@example.com", "&lt;https://gatehouse.example/activate?t=x&gt;")
}

// TestBadInputNeverFails: malformed IDs, values and forms get a page with
// a clear message and a 4xx status, never a 500.
func TestBadInputNeverFails(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn("admin")
	ps := e.sets["PowerUserAccess"].ID
	tests := []struct {
		method, path string
		form         url.Values
		status       int
		want         string
	}{
		{"GET", "/admin/users/nope", nil, 404, "no such user"},
		{"GET", "/admin/users/" + strings.Repeat("a", 5000), nil, 404, "no such user"},
		{"GET", "/admin/groups/x", nil, 404, "no such group"},
		{"GET", "/admin/permission-sets/ps-zz", nil, 404, "no such permission set"},
		{"GET", "/admin/assignments/12", nil, 404, "no such account"},
		{"GET", "/admin/assignments/999999999999", nil, 404, "no such account"},
		{"GET", "/admin/elsewhere", nil, 404, "no such page"},
		{"GET", "/admin/audit?start=yesterday", nil, 400, "From must be a date"},
		{"GET", "/admin/audit?start=2026-02-01T00:00&end=2026-01-01T00:00", nil, 400, "Start time must not be after the end time"},
		{"POST", "/admin/users", url.Values{"username": {""}}, 400, "Enter a user name, an email address, a first name, a last name and a display name."},
		{"POST", "/admin/users", url.Values{"username": {"x y\x00"}, "email": {"a@b.c"}, "given": {"a"}, "family": {"b"}, "display": {"c"}}, 400, "User name must be 1 to 128 characters"},
		{"POST", "/admin/users", url.Values{"username": {"ok"}, "email": {"not-an-email"}, "given": {"a"}, "family": {"b"}, "display": {"c"}}, 400, "not a valid email"},
		{"POST", "/admin/groups", url.Values{"name": {""}}, 400, "Enter a group name"},
		{"POST", "/admin/permission-sets", url.Values{"name": {"bad name!"}, "hours": {"1"}}, 400, "must be 1 to 32 characters of letters"},
		{"POST", "/admin/permission-sets", url.Values{"name": {"Fine"}, "hours": {"13"}}, 400, "whole number of hours"},
		{"POST", "/admin/permission-sets/" + ps + "/managed", url.Values{"arn": {"arn:aws:iam::aws:policy/NoSuchPolicy"}}, 400, "does not name a known AWS managed policy"},
		{"POST", "/admin/permission-sets/" + ps + "/inline", url.Values{"policy": {"{not json"}}, 400, "policy document is not valid"},
		{"POST", "/admin/permission-sets/" + ps + "/provision", url.Values{"account": {"x"}}, 400, "12-digit"},
		{"POST", "/admin/permission-sets/" + ps + "/customer", url.Values{"name": {""}}, 400, "CustomerManagedPolicyReference.Name"},
		{"POST", "/admin/assignments/" + memberAccount, url.Values{"type": {"USER"}, "principals": {"nobody"}, "set": {ps}}, 400, "no user named"},
		{"POST", "/admin/assignments/" + memberAccount, url.Values{"type": {"ROBOT"}, "principals": {"dev"}, "set": {ps}}, 400, "users or groups"},
		{"POST", "/admin/assignments/" + memberAccount, url.Values{"type": {"USER"}, "principals": {"dev"}}, 400, "at least one permission set"},
		{"POST", "/admin/assignments/" + memberAccount + "/remove", url.Values{"type": {"USER"}, "principal": {"x"}, "set": {ps}}, 400, "is not a user or group ID"},
		{"POST", "/admin/groups/x/members", url.Values{"user": {"dev"}}, 404, "no such group"},
		{"POST", "/admin/users/" + e.users["dev"].ID + "/delete", url.Values{}, 400, "Tick the box"},
		{"POST", "/admin/permission-sets/" + ps + "/delete", url.Values{}, 400, "Tick the box"},
		{"POST", "/admin/users", url.Values{"username": {strings.Repeat("x", 1<<20)}}, 413, "too large"},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path[:min(len(tc.path), 60)], func(t *testing.T) {
			p := b.do(tc.method, tc.path, tc.form)
			wantStatus(t, p, tc.status)
			wantBody(t, p, tc.want)
		})
	}
}

func TestEditGroupAndUser(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	g, err := e.srv.Directory.CreateGroup(ctx, "Ops", "Runs things")
	if err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.signIn("admin")
	p := b.get("/admin/groups/" + g.ID)
	p = b.follow(b.submit(p, "/admin/groups/"+g.ID, url.Values{"name": {"Operations"}, "description": {""}}))
	wantBody(t, p, "Group saved.", "Operations")
	if g, _ = e.srv.Directory.GetGroup(ctx, g.ID); g.DisplayName != "Operations" || g.Description != "" {
		t.Fatalf("group %+v", g)
	}
	dev := e.users["dev"].ID
	p = b.get("/admin/users/" + dev)
	p = b.follow(b.submit(p, "/admin/users/"+dev, url.Values{"display": {"Dev Eloper"}, "given": {"Dev"}, "family": {"Eloper"}, "email": {"dev2@example.com"}}))
	wantBody(t, p, "User saved.", `value="Dev Eloper"`)
	u, _ := e.srv.Directory.GetUser(ctx, dev)
	if u.DisplayName != "Dev Eloper" || u.Name.FamilyName != "Eloper" || len(u.Emails) != 1 || u.Emails[0].Value != "dev2@example.com" {
		t.Fatalf("user %+v", u)
	}
	// A bad edit shows the form again with what was sent.
	p = b.submit(p, "/admin/users/"+dev, url.Values{"display": {"X"}, "given": {""}, "family": {"Y"}, "email": {""}})
	wantStatus(t, p, http.StatusBadRequest)
	wantBody(t, p, "Enter a first name.", `value="X"`)
}

func TestAuditViewerPages(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	for i := range 60 {
		if _, err := e.srv.Directory.CreateGroup(ctx, "g"+strconv.Itoa(i), ""); err != nil {
			t.Fatal(err)
		}
	}
	b := e.browser()
	b.signIn("reader")
	p := b.get("/admin/audit?event=CreateGroup")
	wantStatus(t, p, http.StatusOK)
	first := strings.Count(p.Body, "<td>CreateGroup</td>")
	m := regexp.MustCompile(`href="/admin/audit\?([^"]*)"`).FindStringSubmatch(p.Body)
	if first != 50 || m == nil {
		t.Fatalf("first page: %d events, next link %v", first, m)
	}
	p = b.get("/admin/audit?" + html.UnescapeString(m[1]))
	wantStatus(t, p, http.StatusOK)
	if n := strings.Count(p.Body, "<td>CreateGroup</td>"); n != 10 || strings.Contains(p.Body, "Older events") {
		t.Fatalf("second page: %d events\n%s", n, p.Body)
	}
	// A time range that holds nothing.
	p = b.get("/admin/audit?event=CreateGroup&start=2001-01-01T00:00&end=2001-01-02T00:00")
	wantBody(t, p, "No events match.")
}

func clearPassword(t *testing.T, e *env, id string) {
	t.Helper()
	ctx := t.Context()
	u, err := e.srv.Store.GetUser(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	u.PasswordHash = ""
	if err := e.srv.Store.Update(ctx, func(tx store.Tx) error { return tx.UpdateUser(ctx, u) }); err != nil {
		t.Fatal(err)
	}
}

// TestInvitationOnlyBeforeActivation: an active user's page offers a
// password reset, not an invitation, and an invitation posted anyway is
// refused with the invitation service's message; a user without a
// password is offered one.
func TestInvitationOnlyBeforeActivation(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn("admin")
	dev := e.users["dev"].ID
	p := b.get("/admin/users/" + dev)
	f := strings.Join(forms(p), " ")
	if strings.Contains(f, "/invite") || !strings.Contains(f, "/reset-password") {
		t.Errorf("active user's page: forms %s", f)
	}
	r := b.post("/admin/users/"+dev+"/invite", url.Values{})
	wantStatus(t, r, http.StatusBadRequest)
	wantBody(t, r, "already active; send a password reset instead")
	clearPassword(t, e, dev)
	if f := strings.Join(forms(b.get("/admin/users/"+dev)), " "); !strings.Contains(f, "/invite") {
		t.Errorf("page of a user without a password offers no invitation: forms %s", f)
	}
}

// TestNeverActivatedUser: a user who never chose a password is listed as
// such, is offered an invitation (not "again" before the first one) and
// no password reset, and a reset posted anyway is refused with a message
// that says to invite them; an MFA reset of a user without devices says
// so and sends no notice.
func TestNeverActivatedUser(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn("admin")
	u := e.mkUser("newbie")
	clearPassword(t, e, u.ID)
	list := b.get("/admin/users")
	wantBody(t, list, `<a href="/admin/users/`+u.ID+`">newbie</a></td><td>newbie</td><td class="hide-narrow">newbie@example.com</td><td><span class="badge">No password yet</span></td>`)
	p := b.get("/admin/users/" + u.ID)
	wantBody(t, p, `<span class="badge">No password yet</span>`)
	wantBody(t, p, `<button type="submit" class="secondary">Send invitation</button>`)
	if f := strings.Join(forms(p), " "); strings.Contains(f, "/reset-password") {
		t.Errorf("page of a user without a password offers a password reset: forms %s", f)
	}
	r := b.post("/admin/users/"+u.ID+"/reset-password", url.Values{"confirm": {"yes"}})
	wantStatus(t, r, http.StatusBadRequest)
	wantBody(t, r, "User newbie has no password to reset (they have not chosen one yet): send them an invitation instead.")

	r = b.post("/admin/users/"+u.ID+"/invite", url.Values{})
	wantStatus(t, r, http.StatusSeeOther)
	wantBody(t, b.get("/admin/users"), `<td><span class="badge">Invited</span></td>`)
	wantBody(t, b.get("/admin/users/"+u.ID), `<button type="submit" class="secondary">Send invitation again</button>`)

	before := outboxCount(t, e)
	r = b.post("/admin/users/"+u.ID+"/reset-mfa", url.Values{"confirm": {"yes"}})
	wantStatus(t, r, http.StatusSeeOther)
	wantBody(t, b.get(r.Location()), "This user had no MFA devices: nothing was removed.")
	if after := outboxCount(t, e); after != before {
		t.Errorf("an MFA reset of a user without devices sent %d messages", after-before)
	}
}

func outboxCount(t *testing.T, e *env) int {
	t.Helper()
	ms, err := e.srv.Store.ListOutbox(t.Context(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	return len(ms)
}

// TestEndOwnSessionsAsks: ending one's own sessions signs one out of the
// console too, so the button asks first; without the box ticked nothing
// ends.
func TestEndOwnSessionsAsks(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn("admin")
	self := "/admin/users/" + e.users["admin"].ID
	p := b.get(self)
	wantBody(t, p, `<label><input type="checkbox" name="confirm" value="yes" required> End my sessions too: this signs me out here</label> <button type="submit" class="secondary">End sessions</button>`)
	r := b.post(self+"/end-sessions", url.Values{})
	wantStatus(t, r, http.StatusBadRequest)
	wantBody(t, r, "Tick the box to end your own sessions: it signs you out of this console too.")
	wantStatus(t, b.get(self), http.StatusOK)
	// Another user's sessions end without a box.
	wantNoBody(t, b.get("/admin/users/"+e.users["dev"].ID), "End my sessions too")
}

// TestAuditFiltersAndDenials: the user filter finds a user's events in
// any case, as user names match; the page says how the filters match;
// a refused change lists what it was about.
func TestAuditFiltersAndDenials(t *testing.T) {
	e := newEnv(t)
	dev := e.users["dev"].ID
	r := e.browser()
	r.signIn("reader")
	wantStatus(t, r.post("/admin/users/"+dev+"/disable", url.Values{}), http.StatusForbidden)
	b := e.browser()
	b.signIn("admin")
	p := b.get("/admin/audit?user=READER")
	wantBody(t, p, "<td>DisableUser</td><td>reader</td><td>gatehouse.amazonaws.com</td><td>"+dev+"</td><td>AccessDenied</td>")
	wantBody(t, p, "User matches a user name in any case; Event name matches the whole name exactly, as in CreateUser.")
	// The form keeps what was typed.
	wantBody(t, p, `name="user" value="READER"`)
}

// TestSourceInactiveUserInConsole: a user the identity provider set
// inactive over SCIM is shown as disabled by it; Enable user does not lift
// that (and says so), and Disable user adds the administrator's own
// disable, which outlasts the provider's.
func TestSourceInactiveUserInConsole(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	dev := e.users["dev"].ID
	u, err := e.srv.Store.GetUser(ctx, dev)
	if err != nil {
		t.Fatal(err)
	}
	u.SetSourceInactive(true)
	if err := e.srv.Store.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.signIn("admin")
	p := b.get("/admin/users/" + dev)
	wantBody(t, p, "Disabled", `id="disabled-by-source"`, `action="/admin/users/`+dev+`/disable"`)
	if strings.Contains(p.Body, `action="/admin/users/`+dev+`/enable"`) {
		t.Fatal("Enable user offered for a user only the identity provider disabled")
	}
	p = b.follow(b.post("/admin/users/"+dev+"/enable", url.Values{}))
	wantBody(t, p, "the identity provider set them inactive")
	p = b.follow(b.submit(b.get("/admin/users/"+dev), "/admin/users/"+dev+"/disable", nil))
	wantBody(t, p, "User disabled", "and in Gatehouse", `action="/admin/users/`+dev+`/enable"`)
	if u, err = e.srv.Store.GetUser(ctx, dev); err != nil || !u.AdminDisabled || !u.SourceInactive || !u.Disabled {
		t.Fatalf("after Disable user: %+v, %v", u, err)
	}
}
