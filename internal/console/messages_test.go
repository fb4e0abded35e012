package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/mail"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// smtpMailer is a mailer with an SMTP server set (never dialled here): the
// console then says mail was sent.
func smtpMailer(t *testing.T) *mail.Mailer {
	t.Helper()
	smtp, err := mail.ParseURL("smtp://127.0.0.1:9", "gatehouse@example.com")
	if err != nil {
		t.Fatal(err)
	}
	return &mail.Mailer{SMTP: smtp}
}

// TestNoSMTPSaysOutbox: without an SMTP server the console says the
// invitation and the reset link are in the outbox, not that they were
// e-mailed; with one it says they were sent.
func TestNoSMTPSaysOutbox(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn("admin")
	p := b.follow(b.submit(b.get("/admin/users"), "/admin/users", url.Values{"username": {"gil"}, "email": {"gil@example.com"}, "given": {"G"}, "family": {"L"}, "display": {"Gil"}}))
	wantBody(t, p, "User created; the invitation is in the outbox (no SMTP server is configured).")
	wantNoBody(t, p, "invited by email")
	dev := e.users["dev"].ID
	p = b.follow(b.submit(b.get("/admin/users/"+dev), "/admin/users/"+dev+"/reset-password", url.Values{"confirm": {"yes"}}))
	wantBody(t, p, "The password was cleared; the reset link is in the outbox (no SMTP server is configured).")
	gil, err := e.srv.Store.GetUserByName(t.Context(), "gil")
	if err != nil {
		t.Fatal(err)
	}
	p = b.follow(b.submit(b.get("/admin/users/"+gil.ID), "/admin/users/"+gil.ID+"/invite", nil))
	wantBody(t, p, "The invitation is in the outbox (no SMTP server is configured).")

	// dev chose a new password, so a reset is offered again.
	if err := e.srv.Directory.SetPassword(t.Context(), dev, "copper ladder 19"); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	e.srv.Console.People, e.srv.Console.Invitations, e.srv.Console.Mail = rec, rec, smtpMailer(t)
	r := b.submit(b.get("/admin/users/"+dev), "/admin/users/"+dev+"/reset-password", url.Values{"confirm": {"yes"}})
	p = b.follow(r)
	wantBody(t, p, "The password was cleared and a reset link e-mailed.")
	p = b.follow(b.submit(b.get("/admin/users/"+gil.ID), "/admin/users/"+gil.ID+"/invite", nil))
	wantBody(t, p, "Invitation e-mailed.")
}

// TestOwnPageHidesDisableAndDelete: an administrator's own page offers no
// button they would be refused.
func TestOwnPageHidesDisableAndDelete(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn("admin")
	admin, dev := e.users["admin"].ID, e.users["dev"].ID
	own := strings.Join(forms(b.get("/admin/users/"+admin)), " ")
	for _, action := range []string{"/disable", "/delete"} {
		if strings.Contains(own, action) {
			t.Errorf("own page offers %s: %s", action, own)
		}
	}
	other := strings.Join(forms(b.get("/admin/users/"+dev)), " ")
	for _, action := range []string{"/disable", "/delete"} {
		if !strings.Contains(other, action) {
			t.Errorf("another user's page lacks %s: %s", action, other)
		}
	}
}

// TestResetsNeedConfirmation: Reset password and Reset MFA act only with
// their box ticked.
func TestResetsNeedConfirmation(t *testing.T) {
	e := newEnv(t)
	rec := &recorder{}
	e.srv.Console.People, e.srv.Console.Invitations = rec, rec
	b := e.browser()
	b.signIn("admin")
	dev := e.users["dev"].ID
	p := b.get("/admin/users/" + dev)
	for _, tc := range []struct{ action, want string }{
		{"reset-password", "Tick the box to confirm the password reset."},
		{"reset-mfa", "Tick the box to confirm the MFA reset."},
	} {
		wantBody(t, p, `action="/admin/users/`+dev+`/`+tc.action+`" class="confirm"`)
		r := b.submit(p, "/admin/users/"+dev+"/"+tc.action, nil)
		wantStatus(t, r, http.StatusBadRequest)
		wantBody(t, r, tc.want)
		wantNoBody(t, r, "ValidationException")
	}
	if len(rec.calls) != 0 {
		t.Fatalf("unconfirmed resets ran: %v", rec.calls)
	}
}

// TestEnableEnabledUserSaysSo: enabling a user who is not disabled (and
// disabling one who is) says nothing changed.
func TestEnableEnabledUserSaysSo(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn("admin")
	dev := e.users["dev"].ID
	p := b.follow(b.post("/admin/users/"+dev+"/enable", url.Values{}))
	wantBody(t, p, "The user was already enabled.")
	wantNoBody(t, p, "User enabled.")
	p = b.follow(b.submit(b.get("/admin/users/"+dev), "/admin/users/"+dev+"/disable", nil))
	wantBody(t, p, "User disabled")
	p = b.follow(b.post("/admin/users/"+dev+"/disable", url.Values{}))
	wantBody(t, p, "The user was already disabled.")
}

// TestErrorsForPeople: refusals read as sentences, without API error names.
func TestErrorsForPeople(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn("admin")
	p := b.submit(b.get("/admin/users"), "/admin/users", url.Values{"username": {"dev"}, "email": {"d2@example.com"}, "given": {"D"}, "family": {"V"}, "display": {"D V"}})
	wantStatus(t, p, http.StatusBadRequest)
	wantBody(t, p, "A user named dev already exists.")
	wantNoBody(t, p, "Exception", "Duplicate UserName", "ExternalId")
	if _, err := e.srv.Directory.CreateGroup(t.Context(), "Team", ""); err != nil {
		t.Fatal(err)
	}
	p = b.submit(b.get("/admin/groups"), "/admin/groups", url.Values{"name": {"Team"}})
	wantStatus(t, p, http.StatusBadRequest)
	wantBody(t, p, "A group named Team already exists.")
	wantNoBody(t, p, "Exception")
	admin := e.users["admin"].ID
	p = b.post("/admin/users/"+admin+"/disable", url.Values{})
	wantBody(t, p, "You cannot disable yourself")
	wantNoBody(t, p, "ValidationException")
	p = b.get("/admin/audit?start=yesterday")
	wantStatus(t, p, http.StatusBadRequest)
	wantNoBody(t, p, "ValidationException")
}

// TestConsoleErrorsInPlainWords: refusals that come from the APIs read as
// the console's words, with the names the administrator typed or sees.
func TestConsoleErrorsInPlainWords(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn("admin")
	ctx := t.Context()
	g, err := e.srv.Directory.CreateGroup(ctx, "Developers", "")
	if err != nil {
		t.Fatal(err)
	}
	boundary, err := e.srv.Access.CreatePermissionSet(ctx, access.PermissionSetInput{Name: "Bounded"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Access.AttachCustomerPolicy(ctx, boundary.ID, store.PolicyRef{Name: "deploy-boundary"}); err != nil {
		t.Fatal(err)
	}
	member := "/admin/groups/" + g.ID + "/members"
	wantStatus(t, b.post(member, url.Values{"user": {"dev"}}), http.StatusSeeOther)
	tests := []struct {
		name, path string
		form       url.Values
		want       string
	}{
		{"member twice", member, url.Values{"user": {"dev"}}, "dev is already a member of Developers."},
		{"member unknown", member, url.Values{"user": {"nobody"}}, "There is no user named “nobody”."},
		{"user name", "/admin/users", url.Values{"username": {"bad name"}, "email": {"b@example.com"}, "given": {"B"}, "family": {"N"}, "display": {"B"}},
			"User name must be 1 to 128 characters without white space"},
		{"set twice", "/admin/permission-sets", url.Values{"name": {"PowerUserAccess"}, "hours": {"1"}}, "A permission set named PowerUserAccess already exists."},
		{"set in use", "/admin/permission-sets/" + e.sets["PowerUserAccess"].ID + "/delete", url.Values{"confirm": {"yes"}},
			"The permission set PowerUserAccess is used by 1 account assignment: remove its assignments first (on the Assignments page)."},
		{"missing policy", "/admin/assignments/" + memberAccount, url.Values{"type": {"USER"}, "principals": {"dev"}, "set": {boundary.ID}},
			"Account " + memberAccount + " has no IAM policy deploy-boundary (path /), which permission set Bounded references: create it in that account first, then assign again."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := b.post(tc.path, tc.form)
			wantStatus(t, p, http.StatusBadRequest)
			wantBody(t, p, tc.want)
		})
	}
}
