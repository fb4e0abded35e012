package web

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

var valueRe = regexp.MustCompile(`value="[^"]*"`)

// TestAdminPagesRender renders every admin page, empty and filled in, and
// checks that a name chosen by someone else is escaped and shown visibly.
func TestAdminPagesRender(t *testing.T) {
	p, err := LoadAdmin()
	if err != nil {
		t.Fatal(err)
	}
	lay := AdminLayout{Title: "T", User: "admin", Section: "users", Notice: "Saved.", Error: "ValidationException: no", ReadOnly: true}
	evil := "<script>x</script>\u202e"
	row := AdminUserRow{ID: "u1", UserName: evil, DisplayName: "D", Email: "e@x"}
	all := Can{"create": true, "edit": true, "delete": true, "disable": true, "enable": true, "endSessions": true, "resetPassword": true,
		"resetMFA": true, "invite": true, "addMember": true, "removeMember": true, "update": true, "attachManaged": true, "detachManaged": true,
		"attachCustomer": true, "detachCustomer": true, "putInline": true, "provision": true, "add": true, "remove": true}
	pages := []AdminPage{
		AdminUsers{}, AdminUsers{AdminLayout: lay, Users: []AdminUserRow{row}, Can: all, More: true, Invitations: true},
		AdminUser{}, AdminUser{AdminLayout: lay, Person: row, Groups: []AdminNamed{{ID: "g", Name: evil}}, Can: all, People: true, Invitations: true,
			Access: []AdminAccountAccess{{AccountID: "1", AccountName: evil, Roles: []AdminRole{{PermissionSetID: "ps", Name: "R", Via: "direct"}}}}},
		AdminGroups{}, AdminGroups{AdminLayout: lay, Groups: []AdminNamed{{ID: "g", Name: evil}}, Can: all},
		AdminGroup{}, AdminGroup{AdminLayout: lay, Group: AdminNamed{ID: "g", Name: evil}, Members: []AdminNamed{{ID: "m", Name: evil, Extra: "u"}}, Can: all},
		AdminAccounts{}, AdminAccounts{AdminLayout: lay, Accounts: []AdminAccountRow{{ID: "1", Name: evil, Management: true}}, Assign: true},
		AdminPermissionSets{}, AdminPermissionSets{AdminLayout: lay, Sets: []AdminSetRow{{ID: "ps", Name: "N"}}, Can: all},
		AdminPermissionSet{}, AdminPermissionSet{AdminLayout: lay, Set: AdminSetRow{ID: "ps"}, Managed: []AdminManaged{{ARN: "a", Name: "n"}},
			PolicyQuery: "q", Found: []AdminManaged{{ARN: "b", Name: "m"}}, Customer: []AdminNamed{{ID: "c", Name: "/c", Extra: "/"}},
			Inline: "{}", InlineError: "bad", Provisioning: []AdminProvisioning{{AccountID: "1", AccountName: evil, Status: "Out of date", Outdated: true}}, Can: all},
		AdminAssignments{}, AdminAssignments{AdminLayout: lay, Accounts: []AdminAccountRow{{ID: "1", Name: evil}}},
		AdminAssignments{AdminLayout: lay, Account: AdminAccountRow{ID: "1", Name: evil}, Sets: []AdminSetRow{{ID: "ps", Name: "N"}}, Can: all,
			Assignments: []AdminAssignmentRow{{PrincipalType: "USER", PrincipalName: evil}, {PrincipalType: "GROUP", PrincipalName: evil}}},
		AdminSettings{}, AdminSettings{AdminLayout: lay, Configured: true, MFAPolicy: "always", SessionHours: "8", Can: all},
		AdminAudit{}, AdminAudit{AdminLayout: lay, Principal: evil, Events: []AdminEvent{{Name: "CreateUser", Principal: evil}}, Next: "/admin/audit?after=x&event=y"},
		AdminOutbox{}, AdminOutbox{AdminLayout: lay, Configured: true, Messages: []AdminMessage{{To: evil, Subject: evil, Body: evil}}},
		AdminError{}, AdminError{AdminLayout: lay, Heading: "H", Message: evil},
	}
	for _, page := range pages {
		var b strings.Builder
		if err := p.Render(&b, page); err != nil {
			t.Fatalf("%T: %v", page, err)
		}
		// Form fields hold values as they are, for editing; everything
		// else shows them visibly.
		shown := valueRe.ReplaceAllString(b.String(), "")
		if strings.Contains(shown, "<script>") || strings.Contains(shown, "\u202e") && page.adminTemplate() != "outbox" {
			t.Errorf("%T shows a name unescaped or with a hidden character:\n%s", page, b.String())
		}
	}
}

// TestAdminUnits: durations carry their unit.
func TestAdminUnits(t *testing.T) {
	p, err := LoadAdmin()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := p.Render(&b, AdminPermissionSets{Sets: []AdminSetRow{{ID: "ps", Name: "N", SessionDuration: "1"}}}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "<td>1 h</td>") {
		t.Errorf("permission-set list lacks the session's unit:\n%s", b.String())
	}
	for d, want := range map[time.Duration]string{15 * time.Minute: "15 min", time.Hour: "1 h", 90 * time.Minute: "1 h 30 min", 8 * time.Hour: "8 h"} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%s) = %q, want %q", d, got, want)
		}
	}
}

// TestAdminSettingsWording: the settings page says how the MFA policy
// changes the password minimum and that "Not required" still asks users
// who have a device; a read-only administrator sees the policy's label,
// not its value.
func TestAdminSettingsWording(t *testing.T) {
	p, err := LoadAdmin()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		page      AdminSettings
		want, not []string
	}{
		{"editable", AdminSettings{Configured: true, MFAPolicy: "always", SessionHours: "8", Can: Can{"update": true}},
			[]string{"Passwords need at least 8 characters when MFA is required at every sign-in, and at least 15 otherwise",
				"Not required still asks users who registered an MFA device for it"}, nil},
		{"read-only", AdminSettings{Configured: true, MFAPolicy: "always", SessionHours: "8"},
			[]string{"<dd>Required at every sign-in</dd>"}, []string{"<dd>always</dd>"}},
		{"read-only new browser", AdminSettings{Configured: true, MFAPolicy: "new-browser", SessionHours: "8"},
			[]string{"<dd>Required on a new browser only</dd>"}, nil},
		{"read-only off", AdminSettings{Configured: true, MFAPolicy: "off", SessionHours: "8"},
			[]string{"<dd>Not required</dd>"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			if err := p.Render(&b, tc.page); err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("page lacks %q:\n%s", w, b.String())
				}
			}
			for _, w := range tc.not {
				if strings.Contains(b.String(), w) {
					t.Errorf("page has %q", w)
				}
			}
		})
	}
}

// TestAdminInlineErrorSeen: a refused inline policy is announced at the
// top of the page, with a link to the field, and the field takes the
// focus, so that the error is seen though the field is far down.
func TestAdminInlineErrorSeen(t *testing.T) {
	p, err := LoadAdmin()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	page := AdminPermissionSet{Set: AdminSetRow{ID: "ps", Name: "Dev"}, Inline: "{", InlineError: "MalformedPolicyDocument: bad", Can: Can{"putInline": true}}
	if err := p.Render(&b, page); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	summary := `<p class="error" role="alert">The inline policy was not saved: MalformedPolicyDocument: bad <a href="#inline">Go to the policy</a></p>`
	i := strings.Index(out, summary)
	if i < 0 || i > strings.Index(out, `id="details-heading"`) {
		t.Errorf("no summary above the details:\n%s", out)
	}
	if !strings.Contains(out, `autofocus aria-invalid="true" aria-describedby="inline-error"`) {
		t.Errorf("the policy field does not take the focus:\n%s", out)
	}
	if n := strings.Count(out, `role="alert"`); n != 1 {
		t.Errorf("%d alerts, want 1", n)
	}
}
