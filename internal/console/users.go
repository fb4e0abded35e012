package console

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/idsource"
	"github.com/gatehouse-dev/gatehouse/internal/store"
	"github.com/gatehouse-dev/gatehouse/internal/web"
)

type route func(pattern string, h handler)

// Bounds of the users list: how many users a search reads and shows.
const (
	maxScan  = 10000
	maxShown = 200
)

func (s *Service) registerUsers(get, post route) {
	get("/admin/users", s.getUsers)
	post("/admin/users", s.postUsers)
	get("/admin/users/{id}", s.getUser)
	post("/admin/users/{id}", s.postUser)
	post("/admin/users/{id}/disable", s.userAction(ActionDisableUser, "user-disabled", s.people(func(p People) func(context.Context, string) error { return p.DisableUser })))
	post("/admin/users/{id}/enable", s.userAction(ActionEnableUser, "user-enabled", s.people(func(p People) func(context.Context, string) error { return p.EnableUser })))
	post("/admin/users/{id}/delete", s.userAction("identitystore:DeleteUser", "user-deleted", s.people(func(p People) func(context.Context, string) error { return p.DeleteUser })))
	post("/admin/users/{id}/end-sessions", s.userAction(ActionEndSessions, "sessions-ended", s.people(func(p People) func(context.Context, string) error { return p.EndSessions })))
	post("/admin/users/{id}/reset-password", s.userAction(ActionResetPassword, "password-reset", s.people(func(p People) func(context.Context, string) error { return p.ResetPassword })))
	post("/admin/users/{id}/reset-mfa", s.userAction(ActionResetMFA, "mfa-reset", s.people(func(p People) func(context.Context, string) error { return p.ResetMFA })))
	post("/admin/users/{id}/invite", s.userAction(ActionSendInvitation, "invitation-sent", func(ctx context.Context, id string) error {
		if s.Invitations == nil {
			return notConfigured("Invitations")
		}
		return s.Invitations.SendInvitation(ctx, id)
	}))
}

func notConfigured(what string) error {
	return &pageError{Status: http.StatusNotImplemented, Heading: what + " are not configured",
		Message: what + " are not configured on this server."}
}

// people returns the People method pick chooses, or a "not configured"
// failure when there is no People service.
func (s *Service) people(pick func(People) func(context.Context, string) error) func(context.Context, string) error {
	return func(ctx context.Context, id string) error {
		if s.People == nil {
			return notConfigured("People actions")
		}
		return pick(s.People)(ctx, id)
	}
}

// inviteChecker says whether a user was sent an invitation (package
// invite's *Service implements it).
type inviteChecker interface {
	Invited(ctx context.Context, userID string) (bool, error)
}

// userRow is userRow with, for an enabled user without a password,
// whether they were invited (when the invitation service can say).
func (s *Service) userRow(ctx context.Context, u *store.User) web.AdminUserRow {
	row := userRow(u)
	if ic, ok := s.Invitations.(inviteChecker); ok && !row.HasPassword && !row.Disabled {
		row.Invited, _ = ic.Invited(ctx, u.ID)
	}
	return row
}

func userRow(u *store.User) web.AdminUserRow {
	row := web.AdminUserRow{ID: u.ID, UserName: u.UserName, DisplayName: u.DisplayName, GivenName: u.Name.GivenName,
		FamilyName: u.Name.FamilyName, Disabled: u.Disabled, DisabledInGatehouse: u.DisabledInGatehouse(), DisabledBySource: u.SourceInactive,
		HasPassword: u.PasswordHash != "", Created: u.CreatedAt}
	for _, e := range u.Emails {
		if e.Primary || row.Email == "" {
			row.Email = e.Value
		}
	}
	return row
}

// userPage checks id's shape and reads the user.
func (s *Service) user(ctx context.Context, id string) (*store.User, error) {
	if directory.CheckID("UserId", id) != nil {
		return nil, notFound("user")
	}
	u, err := s.Directory.GetUser(ctx, id)
	if fault.KindOf(err) == fault.NotFound {
		return nil, notFound("user")
	}
	return u, err
}

func (s *Service) getUsers(w http.ResponseWriter, r *http.Request, c *caller) error {
	return s.usersPage(w, r, c, http.StatusOK, "", web.AdminUserRow{})
}

func (s *Service) usersPage(w http.ResponseWriter, r *http.Request, c *caller, status int, msg string, form web.AdminUserRow) error {
	if err := c.must("identitystore:ListUsers", s.storeARN()); err != nil {
		return err
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if len(q) > 256 {
		q = q[:256]
	}
	lq := strings.ToLower(q)
	page := web.AdminUsers{AdminLayout: c.layout("Users", "users"), Query: q, Form: form, Invitations: s.Invitations != nil,
		Can: web.Can{"create": c.can("identitystore:CreateUser", s.storeARN())}}
	page.Error = msg
	page.ReadOnly = !page.Can["create"]
	cred, err := s.Sources.Credentials(r.Context())
	if err != nil {
		return err
	}
	if !cred.Passwords {
		page.SourceNote = "New users sign in through " + keeperOf(cred.Kind) + " with the name given here as their user name; no invitation is sent."
	}
	after, scanned := "", 0
	for scanned < maxScan && len(page.Users) <= maxShown {
		us, err := s.Store.ListUsers(r.Context(), store.Page{After: after, Limit: 500})
		if err != nil {
			return fmt.Errorf("list users: %w", err)
		}
		for i := range us {
			row := s.userRow(r.Context(), &us[i])
			row.PasswordElsewhere = !cred.Passwords
			if lq == "" || strings.Contains(strings.ToLower(row.UserName), lq) || strings.Contains(strings.ToLower(row.DisplayName), lq) ||
				strings.Contains(strings.ToLower(row.Email), lq) {
				page.Users = append(page.Users, row)
			}
		}
		scanned += len(us)
		if len(us) < 500 {
			break
		}
		after = us[len(us)-1].ID
	}
	if len(page.Users) > maxShown {
		page.Users, page.More = page.Users[:maxShown], true
	}
	slices.SortFunc(page.Users, func(a, b web.AdminUserRow) int {
		return strings.Compare(strings.ToLower(a.UserName), strings.ToLower(b.UserName))
	})
	s.write(w, r, status, page)
	return nil
}

// userForm reads the user fields of a form.
func userForm(r *http.Request) web.AdminUserRow {
	f := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	return web.AdminUserRow{UserName: f("username"), Email: f("email"), GivenName: f("given"), FamilyName: f("family"), DisplayName: f("display")}
}

// checkUserForm refuses what identitystore would and what the console
// requires (names and an email to invite).
func checkUserForm(f web.AdminUserRow, create bool) error {
	// Every missing field at once, in the add-user form's order.
	var missing []string
	for _, m := range []struct {
		empty bool
		what  string
	}{
		{create && f.UserName == "", "a user name"}, {create && f.Email == "", "an email address"}, {f.GivenName == "", "a first name"},
		{f.FamilyName == "", "a last name"}, {f.DisplayName == "", "a display name"},
	} {
		if m.empty {
			missing = append(missing, m.what)
		}
	}
	switch {
	case len(missing) == 1:
		return fault.Validationf("Enter %s.", missing[0])
	case len(missing) > 1:
		return fault.Validationf("Enter %s and %s.", strings.Join(missing[:len(missing)-1], ", "), missing[len(missing)-1])
	case f.Email != "" && (len(f.Email) > 100 || !strings.Contains(f.Email, "@") || strings.ContainsAny(f.Email, " \t\r\n<>")):
		return fault.Validationf("Email %q is not a valid email address.", f.Email)
	}
	return nil
}

func (s *Service) postUsers(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := c.must("identitystore:CreateUser", s.storeARN()); err != nil {
		return err
	}
	f := userForm(r)
	err := checkUserForm(f, true)
	var u *store.User
	if err == nil {
		u, err = s.Directory.CreateUser(r.Context(), directory.CreateUserInput{
			UserName: f.UserName, DisplayName: f.DisplayName,
			Name:   store.UserName{GivenName: f.GivenName, FamilyName: f.FamilyName},
			Emails: []store.Email{{Value: f.Email, Type: "work", Primary: true}},
		})
	}
	if err != nil {
		if msg := userMessage(err); msg != "" {
			return s.usersPage(w, r, c, http.StatusBadRequest, msg, f)
		}
		return err
	}
	notice := "user-created"
	cred, err := s.Sources.Credentials(r.Context())
	if err != nil {
		return err
	}
	// No Gatehouse password to choose when the source keeps them.
	if s.Invitations != nil && cred.Passwords {
		if err := s.Invitations.SendInvitation(r.Context(), u.ID); err != nil {
			s.log().Error("send invitation", "user_id", u.ID, "err", err)
		} else {
			notice = s.mailNotice("user-invited")
		}
	}
	return done(w, r, "/admin/users/"+u.ID, notice)
}

func (s *Service) getUser(w http.ResponseWriter, r *http.Request, c *caller) error {
	return s.userPage(w, r, c, http.StatusOK, "", nil)
}

func (s *Service) userPage(w http.ResponseWriter, r *http.Request, c *caller, status int, msg string, form *web.AdminUserRow) error {
	id := r.PathValue("id")
	if err := c.must("identitystore:DescribeUser", s.userRes(id)...); err != nil {
		return err
	}
	ctx := r.Context()
	u, err := s.user(ctx, id)
	if err != nil {
		return err
	}
	res := s.userRes(u.ID)
	page := web.AdminUser{AdminLayout: c.layout(u.UserName, "users"), Person: s.userRow(ctx, u), People: s.People != nil, Invitations: s.Invitations != nil,
		Can: web.Can{
			"edit": c.can("identitystore:UpdateUser", res...), "delete": c.can("identitystore:DeleteUser", res...),
			"disable": c.can(ActionDisableUser, res...), "enable": c.can(ActionEnableUser, res...),
			"endSessions": c.can(ActionEndSessions, res...), "resetPassword": c.can(ActionResetPassword, res...),
			// One's own MFA is changed on /account, after a fresh sign-in.
			"resetMFA": c.can(ActionResetMFA, res...) && u.ID != c.who.UserID, "invite": c.can(ActionSendInvitation, res...),
		}}
	page.Error, page.Self = msg, u.ID == c.who.UserID
	// What the identity source keeps for itself has no button here.
	cred, err := s.Sources.Credentials(ctx)
	if err != nil {
		return err
	}
	page.SourceNote = sourceNote(cred)
	page.Person.PasswordElsewhere = !cred.Passwords
	if !cred.Passwords {
		page.Can["resetPassword"], page.Can["invite"] = false, false
	}
	if !cred.MFA {
		page.Can["resetMFA"] = false
	}
	if form != nil {
		page.Person.DisplayName, page.Person.GivenName, page.Person.FamilyName, page.Person.Email = form.DisplayName, form.GivenName, form.FamilyName, form.Email
	}
	page.ReadOnly = readOnly(page.Can)
	ms, err := s.Store.ListMembershipsByUser(ctx, u.ID, store.Page{Limit: 1000})
	if err != nil {
		return fmt.Errorf("memberships: %w", err)
	}
	groupNames := map[string]string{}
	for _, m := range ms {
		g, err := s.Store.GetGroup(ctx, m.GroupID)
		if err != nil {
			continue
		}
		groupNames[g.ID] = g.DisplayName
		page.Groups = append(page.Groups, web.AdminNamed{ID: g.ID, Name: g.DisplayName})
	}
	slices.SortFunc(page.Groups, func(a, b web.AdminNamed) int { return strings.Compare(a.Name, b.Name) })
	if page.Access, err = s.effectiveAccess(ctx, u.ID, ms, groupNames); err != nil {
		return err
	}
	s.write(w, r, status, page)
	return nil
}

// readOnly reports whether can allows none of a page's changes.
func readOnly(can web.Can) bool {
	for _, ok := range can {
		if ok {
			return false
		}
	}
	return true
}

// effectiveAccess lists the accounts and permission sets the user may
// use, and through what: a direct assignment or which groups.
func (s *Service) effectiveAccess(ctx context.Context, userID string, ms []store.Membership, groupNames map[string]string) ([]web.AdminAccountAccess, error) {
	type key struct{ account, ps string }
	via := map[key][]string{}
	add := func(as []store.Assignment, how string) {
		for _, a := range as {
			k := key{a.AccountID, a.PermissionSetID}
			if !slices.Contains(via[k], how) {
				via[k] = append(via[k], how)
			}
		}
	}
	direct, err := s.Access.ListAssignments(ctx, store.AssignmentFilter{PrincipalType: store.PrincipalUser, PrincipalID: userID})
	if err != nil {
		return nil, fmt.Errorf("assignments: %w", err)
	}
	add(direct, "direct assignment")
	for _, m := range ms {
		as, err := s.Access.ListAssignments(ctx, store.AssignmentFilter{PrincipalType: store.PrincipalGroup, PrincipalID: m.GroupID})
		if err != nil {
			return nil, fmt.Errorf("group assignments: %w", err)
		}
		add(as, "group "+groupNames[m.GroupID])
	}
	keys := make([]key, 0, len(via))
	for k := range via {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int {
		if c := strings.Compare(a.account, b.account); c != 0 {
			return c
		}
		return strings.Compare(a.ps, b.ps)
	})
	var out []web.AdminAccountAccess
	for _, k := range keys {
		ps, err := s.Store.GetPermissionSet(ctx, k.ps)
		if err != nil {
			continue
		}
		if len(out) == 0 || out[len(out)-1].AccountID != k.account {
			name := k.account
			if a, err := s.Store.GetAccount(ctx, k.account); err == nil {
				name = a.Name
			}
			out = append(out, web.AdminAccountAccess{AccountID: k.account, AccountName: name})
		}
		last := &out[len(out)-1]
		last.Roles = append(last.Roles, web.AdminRole{PermissionSetID: ps.ID, Name: ps.Name, Via: strings.Join(via[k], ", ")})
	}
	return out, nil
}

func (s *Service) postUser(w http.ResponseWriter, r *http.Request, c *caller) error {
	id := r.PathValue("id")
	if err := c.must("identitystore:UpdateUser", s.userRes(id)...); err != nil {
		return err
	}
	u, err := s.user(r.Context(), id)
	if err != nil {
		return err
	}
	f := userForm(r)
	err = checkUserForm(f, false)
	if err == nil {
		ops := []directory.AttributeOp{
			{Path: "displayName", Value: jsonString(f.DisplayName)},
			{Path: "name.givenName", Value: jsonString(f.GivenName)},
			{Path: "name.familyName", Value: jsonString(f.FamilyName)},
		}
		if f.Email != "" {
			emails := []store.Email{{Value: f.Email, Type: "work", Primary: true}}
			for _, e := range u.Emails {
				if !e.Primary && e.Value != f.Email {
					emails = append(emails, e)
				}
			}
			b, _ := json.Marshal(emails)
			ops = append(ops, directory.AttributeOp{Path: "emails", Value: b})
		}
		err = s.Directory.UpdateUser(r.Context(), u.ID, ops)
	}
	if err != nil {
		if msg := userMessage(err); msg != "" {
			return s.userPage(w, r, c, http.StatusBadRequest, msg, &f)
		}
		return err
	}
	return done(w, r, "/admin/users/"+u.ID, "user-updated")
}

func jsonString(v string) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// userAction serves a people action on one user: authorized as action on
// the user, run through fn, then back to the user (or the list after a
// deletion).
func (s *Service) userAction(action, notice string, fn func(ctx context.Context, id string) error) handler {
	return func(w http.ResponseWriter, r *http.Request, c *caller) error {
		id := r.PathValue("id")
		if err := c.must(action, s.userRes(id)...); err != nil {
			return err
		}
		if s.People == nil && action != ActionSendInvitation {
			return notConfigured("People actions")
		}
		u, err := s.user(r.Context(), id)
		if err != nil {
			return err
		}
		// Passwords and MFA an identity provider (or LDAP directory)
		// keeps are not Gatehouse's to reset.
		if ca, ok := credentialActions[action]; ok {
			if err := s.Sources.CheckCredentialAction(r.Context(), ca); err != nil {
				if msg := userMessage(err); msg != "" {
					return s.userPage(w, r, c, http.StatusBadRequest, msg, nil)
				}
				return err
			}
		}
		// Acting on yourself (disable, delete, reset password or MFA) is
		// refused by the people service, the one place of that rule.
		if unconfirmed := map[string]error{"identitystore:DeleteUser": errUnconfirmed, ActionResetPassword: errResetPasswordUnconfirmed,
			ActionResetMFA: errResetMFAUnconfirmed}[action]; unconfirmed != nil && !confirmed(r) {
			return s.userPage(w, r, c, http.StatusBadRequest, userMessage(unconfirmed), nil)
		}
		// Ending one's own sessions signs one out here too: only when
		// asked for.
		if action == ActionEndSessions && u.ID == c.who.UserID && !confirmed(r) {
			return s.userPage(w, r, c, http.StatusBadRequest, userMessage(errEndOwnUnconfirmed), nil)
		}
		// Nothing to change: say so rather than report a change.
		// Only Gatehouse's side counts: the identity provider's "active":
		// false is its own to lift.
		off := u.DisabledInGatehouse()
		if (action == ActionEnableUser && !off) || (action == ActionDisableUser && off) {
			notice := map[bool]string{true: "user-already-disabled", false: "user-already-enabled"}[off]
			if action == ActionEnableUser && u.Disabled {
				notice = "user-disabled-by-source"
			}
			return done(w, r, "/admin/users/"+u.ID, notice)
		}
		if action == ActionResetMFA {
			ds, err := s.Store.ListMFADevices(r.Context(), u.ID)
			if err != nil {
				return fmt.Errorf("MFA devices: %w", err)
			}
			if len(ds) == 0 {
				notice = "mfa-none"
			}
		}
		if err := fn(r.Context(), u.ID); err != nil {
			if msg := userMessage(err); msg != "" {
				return s.userPage(w, r, c, http.StatusBadRequest, msg, nil)
			}
			return err
		}
		switch notice {
		case "user-deleted":
			return done(w, r, "/admin/users", notice)
		case "password-reset", "invitation-sent":
			return done(w, r, "/admin/users/"+u.ID, s.mailNotice(notice))
		}
		return done(w, r, "/admin/users/"+u.ID, notice)
	}
}

// credentialActions are the console's actions an identity source may keep
// for itself (idsource.Service.CheckCredentialAction).
var credentialActions = map[string]idsource.CredentialAction{
	ActionResetPassword: idsource.ResetPassword, ActionSendInvitation: idsource.SendInvitation, ActionResetMFA: idsource.ResetMFA,
}

// sourceNote says what the active identity source keeps for itself, in
// place of the user page's buttons; "" for the built-in directory.
func sourceNote(c idsource.Credentials) string {
	who := keeperOf(c.Kind)
	switch {
	case c.Passwords && c.MFA:
		return ""
	case !c.MFA:
		return "Passwords and MFA are managed by " + who + ": reset them there. Password reset, invitations and MFA reset are not available here."
	default:
		return "Passwords are managed by " + who + ": reset them there. Password reset and invitations are not available here; Gatehouse MFA still applies."
	}
}

// keeperOf names the identity source of kind for people ("your
// organization's LDAP directory").
func keeperOf(kind string) string {
	if who, ok := map[string]string{idsource.SAML: "your organization's SAML identity provider",
		idsource.OIDC: "your organization's OpenID Connect identity provider", idsource.LDAP: "your organization's LDAP directory"}[kind]; ok {
		return who
	}
	return "the " + kind + " identity source"
}
