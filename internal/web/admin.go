package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"time"
)

//go:embed templates/admin/*.html
var adminFS embed.FS

// AdminLayout is what every admin console page shows around its content.
type AdminLayout struct {
	// Title is the page title (the product name is appended).
	Title string
	// User is the signed-in administrator's user name.
	User string
	// Section names the navigation entry of the page (users, groups,
	// accounts, permission-sets, assignments, settings, audit, outbox).
	Section string
	// Notice says what the last change did (after POST-redirect-GET).
	Notice string
	// Error is the message of a change that was refused, shown above the
	// form that made it.
	Error string
	// ReadOnly says the administrator may look but not change anything on
	// this page; the page then shows no change buttons.
	ReadOnly bool
	// HideOutbox leaves the Outbox out of the navigation, for an
	// administrator the outbox would refuse.
	HideOutbox bool
}

// Can says which changes the administrator may make on a page, by the
// name of the change (the template asks {{if .Can.disable}}).
type Can map[string]bool

// AdminUserRow is one user in the console.
type AdminUserRow struct {
	ID, UserName, DisplayName, GivenName, FamilyName, Email string
	Disabled                                                bool
	// DisabledInGatehouse says an administrator (or a directory sync)
	// disabled the user, which Enable user lifts; DisabledBySource says
	// the identity provider set them inactive over SCIM, which only it
	// lifts (store.User).
	DisabledInGatehouse, DisabledBySource bool
	HasPassword                           bool
	// Invited says an invitation was sent to a user without a password.
	Invited bool
	// PasswordElsewhere says the identity source keeps passwords (an
	// identity provider, LDAP): having no Gatehouse password is normal.
	PasswordElsewhere bool
	Created           time.Time
}

// AdminUsers is the users list with search and the create form.
type AdminUsers struct {
	AdminLayout
	Query string
	Users []AdminUserRow
	// More says the list was cut short; refine the search.
	More bool
	Can  Can
	// Form holds what the create form was sent with, after an error.
	Form AdminUserRow
	// Invitations says new users get an invitation email.
	Invitations bool
	// SourceNote says new users sign in through the active identity
	// source (no invitation); "" with the built-in directory.
	SourceNote string
}

// AdminRole is a permission set a user may use in one account.
type AdminRole struct {
	PermissionSetID, Name string
	// Via names how the user got it: "direct" or the group names.
	Via string
}

// AdminAccountAccess is one account a user may use and the roles there.
type AdminAccountAccess struct {
	AccountID, AccountName string
	Roles                  []AdminRole
}

// AdminNamed is a thing with an ID and a name (a group, a membership).
type AdminNamed struct{ ID, Name, Extra string }

// AdminUser is one user: details, edit form, people actions, groups and
// effective access ("who is authorized").
type AdminUser struct {
	AdminLayout
	Person AdminUserRow
	Groups []AdminNamed
	Access []AdminAccountAccess
	Can    Can
	// People says the people actions (disable, enable, delete, reset
	// password, reset MFA, end sessions) are configured; Invitations
	// likewise for invitations.
	People      bool
	Invitations bool
	// Self says the page is the signed-in administrator's own: no disable
	// or delete buttons (the console refuses both).
	Self bool
	// SourceNote says which credential actions the active identity source
	// keeps for itself (password reset, invitation, MFA reset), shown in
	// place of their buttons; "" with the built-in directory.
	SourceNote string
}

// AdminGroups is the groups list and create form.
type AdminGroups struct {
	AdminLayout
	Groups []AdminNamed
	Can    Can
	// Name and Description hold what the create form was sent with.
	Name, Description string
}

// AdminGroup is one group and its members.
type AdminGroup struct {
	AdminLayout
	Group   AdminNamed
	Members []AdminNamed // ID is the membership ID, Name the user name, Extra the user ID
	Can     Can
	// Member holds the user name the add-member form was sent with.
	Member string
}

// AdminAccountRow is one AWS account.
type AdminAccountRow struct {
	ID, Name, Email, Status string
	Management              bool
	// Link is the account's AWS link status (ACTIVE, FAILED, ...); ""
	// when the account is local.
	Link string
}

// AdminAccounts lists the accounts.
type AdminAccounts struct {
	AdminLayout
	Accounts []AdminAccountRow
	// Assign says the assignments page may be linked.
	Assign bool
}

// AdminSetRow is one permission set in the list.
type AdminSetRow struct {
	ID, Name, Description, SessionDuration string
}

// AdminPermissionSets is the permission-set list and create form.
type AdminPermissionSets struct {
	AdminLayout
	Sets []AdminSetRow
	Can  Can
	// Form holds what the create form was sent with.
	Form AdminSetRow
	// RelayState holds the create form's relay state.
	RelayState string
}

// AdminManaged is an AWS managed policy.
type AdminManaged struct{ ARN, Name string }

// AdminProvisioning is a permission set's state in one account.
type AdminProvisioning struct {
	AccountID, AccountName string
	// Status is "Provisioned", "Out of date" or "Not provisioned".
	Status string
	// Outdated says provisioning again would change the role.
	Outdated bool
}

// AdminPermissionSet is the permission-set editor.
type AdminPermissionSet struct {
	AdminLayout
	Set        AdminSetRow
	RelayState string
	Managed    []AdminManaged
	// PolicyQuery is the managed-policy search; Found its matches.
	PolicyQuery string
	Found       []AdminManaged
	Customer    []AdminNamed // Name is the path+name, ID the name, Extra the path
	Inline      string
	// InlineError is the policy engine's validation error of the inline
	// policy just sent (Inline then holds what was sent).
	InlineError  string
	Provisioning []AdminProvisioning
	Can          Can
}

// AdminAssignmentRow is one assignment in an account.
type AdminAssignmentRow struct {
	PrincipalType, PrincipalID, PrincipalName string
	PermissionSetID, PermissionSetName        string
}

// AdminAssignments is the assignments of one account, or with Account
// empty the accounts to choose from.
type AdminAssignments struct {
	AdminLayout
	Accounts    []AdminAccountRow
	Account     AdminAccountRow
	Assignments []AdminAssignmentRow
	Sets        []AdminSetRow
	Can         Can
	// Principal and PrincipalType hold what the add form was sent with.
	Principal, PrincipalType string
}

// AdminSettings is the instance settings page.
type AdminSettings struct {
	AdminLayout
	Configured bool
	MFAPolicy  string
	// SessionHours and SessionMinutes are the portal session length's
	// whole hours and the minutes past them (0, 15, 30 or 45).
	SessionHours   string
	SessionMinutes int
	// SessionLength is the portal session length as text ("8 h").
	SessionLength string
	// Longest is the server's ceiling (--portal-session-duration) as text,
	// LongestHours its whole hours.
	Longest      string
	LongestHours int
	Can          Can
}

// AdminSourceField is one setting of an identity source kind in the
// console's form (idsource.Field, with its current value).
type AdminSourceField struct {
	Name, Label, Help string
	Required          bool
	Multiline         bool
	// Options, when set, make the field a select (with an empty choice
	// when not Required).
	Options []string
	// Default is used when the value is empty.
	Default string
	Value   string
}

// AdminSourceKind is one identity source kind on the identity source page.
type AdminSourceKind struct {
	Name, Title string
	Active      bool
	// Configured says settings are stored (a switch needs them).
	Configured bool
	Fields     []AdminSourceField
	// Secret is the write-only secret field (its Value always empty);
	// nil when the kind has none. HasSecret says one is stored.
	Secret    *AdminSourceField
	HasSecret bool
	// Info are values to copy into the identity provider.
	Info []AdminSourceInfo
	// Error is the refusal of this kind's form just sent.
	Error string
	// Updated says when and by whom the settings were stored ("" never).
	Updated string
}

// AdminSourceInfo is a value to copy into the identity provider.
type AdminSourceInfo struct{ Label, Value string }

// AdminIdentitySource is the Settings → Identity source page.
type AdminIdentitySource struct {
	AdminLayout
	// Active is the active kind's name, ActiveTitle its title.
	Active, ActiveTitle string
	Kinds               []AdminSourceKind
	// Syncs says the active source syncs (LDAP): the page offers Sync now
	// and shows LastSync (nil: no sync recorded yet).
	Syncs    bool
	LastSync *AdminSourceSync
	// Can holds "update", "preview", "switch" and "sync".
	Can Can
}

// AdminSourceSync is the last sync of the active source: when (UTC), by
// whom, its counts, and its error ("" when it worked).
type AdminSourceSync struct {
	When, By, Error                           string
	Users, Disabled, Retired, Failed, Skipped int
}

// AdminSourcePlan is the confirmation page of a switch: what it changes.
type AdminSourcePlan struct {
	AdminLayout
	From, To, FromTitle, ToTitle string
	Users, Passwords, MFADevices int
	// Preview says the kind previewed the people it would bring.
	Preview                 bool
	Matched, New, Unmatched []string
	Notes                   []string
	// Warnings are the lockouts the switch risks (idsource.Plan.Warnings),
	// shown above the plan.
	Warnings []string
	// PreviewFailed is why the preview failed: the confirmation then asks
	// for a second tick ("switch anyway").
	PreviewFailed string
	// Refused is why the switch cannot be made (the plan is then empty).
	Refused string
	Can     Can
}

// FormatDuration writes d for people: "8 h", "90 min", "1 h 30 min",
// "15 min".
func FormatDuration(d time.Duration) string {
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case h == 0:
		return strconv.Itoa(m) + " min"
	case m == 0:
		return strconv.Itoa(h) + " h"
	default:
		return strconv.Itoa(h) + " h " + strconv.Itoa(m) + " min"
	}
}

// AdminEvent is one audit event.
type AdminEvent struct {
	ID, Time, Source, Name, Principal, ErrorCode, Resources string
	ReadOnly                                                bool
}

// AdminAudit is the audit viewer.
type AdminAudit struct {
	AdminLayout
	// Filters as sent: the acting user (principal), event name, start
	// and end (YYYY-MM-DDTHH:MM, UTC).
	Principal, Event, Start, End string
	Events                       []AdminEvent
	// Next is the link to the next (older) page, built by the console
	// from url.Values; empty on the last page.
	Next template.URL
}

// AdminMessage is one message of the outbox.
type AdminMessage struct {
	Time, To, Subject, Body string
}

// AdminOutbox lists the messages Gatehouse would have emailed.
type AdminOutbox struct {
	AdminLayout
	Configured bool
	Messages   []AdminMessage
}

// AdminError is an error page of the console (403, 404, ...).
type AdminError struct {
	AdminLayout
	Heading, Message string
}

// AdminPage is a page of the admin console.
type AdminPage interface {
	adminTemplate() string
}

func (AdminUsers) adminTemplate() string          { return "users" }
func (AdminUser) adminTemplate() string           { return "user" }
func (AdminGroups) adminTemplate() string         { return "groups" }
func (AdminGroup) adminTemplate() string          { return "group" }
func (AdminAccounts) adminTemplate() string       { return "accounts" }
func (AdminPermissionSets) adminTemplate() string { return "permission_sets" }
func (AdminPermissionSet) adminTemplate() string  { return "permission_set" }
func (AdminAssignments) adminTemplate() string    { return "assignments" }
func (AdminSettings) adminTemplate() string       { return "settings" }
func (AdminAudit) adminTemplate() string          { return "audit" }
func (AdminOutbox) adminTemplate() string         { return "outbox" }
func (AdminError) adminTemplate() string          { return "error" }
func (AdminIdentitySource) adminTemplate() string { return "identity_source" }
func (AdminSourcePlan) adminTemplate() string     { return "identity_source_switch" }

var adminPageNames = []string{"users", "user", "groups", "group", "accounts", "permission_sets", "permission_set",
	"assignments", "settings", "audit", "outbox", "error", "identity_source", "identity_source_switch", "scim", "account"}

// AdminPages is the parsed set of admin console templates.
type AdminPages struct {
	byName map[string]*template.Template
}

// LoadAdmin parses the embedded admin console templates, each page together
// with the console layout.
func LoadAdmin() (*AdminPages, error) {
	p := &AdminPages{byName: map[string]*template.Template{}}
	funcs := template.FuncMap{"visible": Visible, "nav": adminNav, "minuteSteps": func() []int { return []int{0, 15, 30, 45} }}
	for _, name := range adminPageNames {
		t, err := template.New(name).Funcs(funcs).ParseFS(adminFS, "templates/admin/layout.html", "templates/admin/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse admin page %s: %w", name, err)
		}
		p.byName[name] = t
	}
	return p, nil
}

// Render writes page as a complete HTML document; nothing is written when
// rendering fails.
func (p *AdminPages) Render(w io.Writer, page AdminPage) error {
	t, ok := p.byName[page.adminTemplate()]
	if !ok {
		return fmt.Errorf("no template for admin page %s", page.adminTemplate())
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", page); err != nil {
		return fmt.Errorf("render admin page %s: %w", page.adminTemplate(), err)
	}
	_, err := buf.WriteTo(w)
	return err
}

// adminNavItem is one entry of the console navigation.
type adminNavItem struct {
	Section, Path, Label string
}

// adminNav is the console navigation, in order.
func adminNav() []adminNavItem {
	return []adminNavItem{
		{"users", "/admin/users", "Users"},
		{"groups", "/admin/groups", "Groups"},
		{"accounts", "/admin/accounts", "AWS accounts"},
		{"permission-sets", "/admin/permission-sets", "Permission sets"},
		{"assignments", "/admin/assignments", "Assignments"},
		{"settings", "/admin/settings", "Settings"},
		{"audit", "/admin/audit", "Audit log"},
		{"outbox", "/admin/outbox", "Outbox"},
	}
}
