package seed

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/instance"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// What a world file declares, and so what a plan reconciles. A field an
// entry leaves out (empty) is left as it is in the store; a list an entry
// gives (even an empty one) is made exactly the file's.
//
//   - accounts are created when missing (never renamed or closed: the
//     organizations API does that);
//   - customer policies are created, or their document replaced;
//   - users are created, and their display name, given and family name and
//     primary email set to the file's; a password is only set for a user
//     that has none;
//   - groups are created, their description set, and their members made
//     exactly the file's list: a member taken off the list is removed,
//     with or without Prune (a declared group owns its membership);
//   - permission sets are created, and their description, session
//     duration, relay state, managed policies, customer-policy references
//     and inline policy made the file's, then provisioned again where they
//     are provisioned;
//   - assignments are created when missing.
//
// With Prune, the users, groups, permission sets and assignments the file
// no longer has are deleted too; those the file still refers to (a
// member of a declared group, the permission set or principal of an
// assignment) are kept. Accounts and customer policies are never deleted.

// Op is what a change does.
type Op int

// The operations of a plan.
const (
	Create Op = iota
	Update
	Delete
)

// Kinds of records, in the order their creations and updates are applied
// (each may refer to the ones before it); deletions go in reverse.
const (
	KindAccount        = "account"
	KindCustomerPolicy = "customer policy"
	KindUser           = "user"
	KindGroup          = "group"
	KindMembership     = "membership"
	KindPermissionSet  = "permission set"
	KindAssignment     = "assignment"
)

var kindOrder = []string{KindAccount, KindCustomerPolicy, KindUser, KindGroup, KindMembership, KindPermissionSet, KindAssignment}

// Change is one line of a plan.
type Change struct {
	Op   Op
	Kind string
	// Name names the record as the file does: "alice", "bob in Admins",
	// "ed to PowerUserAccess in dev".
	Name string
	// Detail says what an update changes: "session_duration PT1H -> PT4H".
	Detail string
	// ID is the record a deletion removes: the user, group, permission
	// set or membership ID, or for an assignment AssignmentID of it.
	ID string

	// line is the world file's line of the entry the change comes from
	// (0 for a deletion).
	line int
	// passwords counts the passwords the change sets; defaults those of
	// them that are the Loader's Password.
	passwords, defaults int
	apply               func(ctx context.Context) error
}

// String is the change's plan line: "+ create user alice",
// "~ update permission set Dev: session_duration PT1H -> PT4H",
// "- delete membership bob in Admins".
func (c Change) String() string {
	s := [...]string{"+ create ", "~ update ", "- delete "}[c.Op] + c.Kind + " " + c.Name
	if c.Detail != "" {
		s += ": " + c.Detail
	}
	return s
}

// AssignmentID names an assignment in Change.ID: account, permission
// set, principal type and principal.
func AssignmentID(a store.Assignment) string {
	return a.AccountID + " " + a.PermissionSetID + " " + string(a.PrincipalType) + " " + a.PrincipalID
}

// NewUsersWithoutPassword names the users the plan creates without a
// password: they cannot sign in until they get an invitation.
func (p *Plan) NewUsersWithoutPassword() []string {
	var names []string
	for _, c := range p.Changes {
		if c.Op == Create && c.Kind == KindUser && c.passwords == 0 {
			names = append(names, c.Name)
		}
	}
	return names
}

// Plan is what reconciling the store with a world file changes, in the
// order it is applied: creations and updates kind by kind (accounts,
// customer policies, users, groups, memberships, permission sets,
// assignments), then deletions in the reverse order; by name within a
// kind.
type Plan struct {
	Changes []Change
}

// String is the plan, one line per change; "" when there is nothing to do.
func (p *Plan) String() string {
	var b strings.Builder
	for _, c := range p.Changes {
		b.WriteString(c.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// Options tune a plan.
type Options struct {
	// Prune deletes the users, groups, permission sets and assignments
	// the file does not have.
	Prune bool
}

// LineError is an error in a world file's entry, with the entry's line.
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string {
	if e.Line <= 0 {
		return e.Err.Error()
	}
	return fmt.Sprintf("line %d: %v", e.Line, e.Err)
}

func (e *LineError) Unwrap() error { return e.Err }

func atLine(line int, format string, args ...any) error {
	return &LineError{Line: line, Err: fmt.Errorf(format, args...)}
}

// planner holds what the store has, by the names the file uses.
type planner struct {
	l         *Loader
	opts      Options
	changes   []Change
	accounts  map[string]string // name or ID -> ID, store and file
	acctName  map[string]string // ID -> name
	users     map[string]*store.User
	userByID  map[string]string // ID -> user name
	groups    map[string]*store.Group
	groupByID map[string]string
	sets      map[string]*store.PermissionSet
	setByID   map[string]string
	// declared users, groups and sets of the file (created or not)
	fileUsers, fileGroups, fileSets map[string]bool
}

func (p *planner) add(c Change) { p.changes = append(p.changes, c) }

// Plan compares the store with w and returns the changes that make the
// store say what w says. It changes nothing. A reference the file cannot
// satisfy (an unknown user, group, account or permission set, a session
// duration outside PT1H to PT12H) is a *LineError.
func (l *Loader) Plan(ctx context.Context, w *World, opts Options) (*Plan, error) {
	p := &planner{l: l, opts: opts,
		accounts: map[string]string{instance.ManagementAccountName: l.Instance.ManagementAccountID}, acctName: map[string]string{},
		users: map[string]*store.User{}, userByID: map[string]string{}, groups: map[string]*store.Group{}, groupByID: map[string]string{},
		sets: map[string]*store.PermissionSet{}, setByID: map[string]string{},
		fileUsers: map[string]bool{}, fileGroups: map[string]bool{}, fileSets: map[string]bool{},
	}
	if err := p.read(ctx); err != nil {
		return nil, err
	}
	steps := []func(context.Context, *World) error{p.planAccounts, p.planCustomerPolicies, p.planUsers, p.planGroups, p.planPermissionSets, p.planAssignments}
	for _, step := range steps {
		if err := step(ctx, w); err != nil {
			return nil, err
		}
	}
	slices.SortStableFunc(p.changes, func(a, b Change) int {
		ka, kb := slices.Index(kindOrder, a.Kind), slices.Index(kindOrder, b.Kind)
		if (a.Op == Delete) != (b.Op == Delete) {
			if a.Op == Delete {
				return 1
			}
			return -1
		}
		if a.Op == Delete {
			ka, kb = -ka, -kb
		}
		return cmp.Or(cmp.Compare(ka, kb), cmp.Compare(a.Op, b.Op), cmp.Compare(a.Name, b.Name))
	})
	return &Plan{Changes: p.changes}, nil
}

// Apply makes the plan's changes, in order, through the domain services
// (each audited there). It stops at the first failure, naming the change
// and the file's line; what was applied before stays.
func (l *Loader) Apply(ctx context.Context, plan *Plan) (Result, error) {
	var res Result
	for _, c := range plan.Changes {
		if err := c.apply(ctx); err != nil {
			return res, &LineError{Line: c.line, Err: fmt.Errorf("%s: %w", c, err)}
		}
		switch c.Op {
		case Create:
			res.Created++
		case Update:
			res.Updated++
		case Delete:
			res.Deleted++
		}
		res.Passwords += c.passwords
		res.DefaultPasswords += c.defaults
	}
	return res, nil
}

// Load reconciles the store with w without pruning: the plan of
// Plan(ctx, w, Options{}), applied.
func (l *Loader) Load(ctx context.Context, w *World) (Result, error) {
	plan, err := l.Plan(ctx, w, Options{})
	if err != nil {
		return Result{}, err
	}
	return l.Apply(ctx, plan)
}

// all pages through a list.
func all[T any](ctx context.Context, list func(context.Context, store.Page) ([]T, error), key func(T) string) ([]T, error) {
	var out []T
	var page store.Page
	page.Limit = 500
	for {
		got, err := list(ctx, page)
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
		if len(got) < page.Limit {
			return out, nil
		}
		page.After = key(got[len(got)-1])
	}
}

func (p *planner) read(ctx context.Context) error {
	accts, err := all(ctx, p.l.Access.ListAccounts, func(a store.Account) string { return a.ID })
	if err != nil {
		return fmt.Errorf("list accounts: %w", err)
	}
	for _, a := range accts {
		p.accounts[a.ID] = a.ID
		p.acctName[a.ID] = a.Name
		if _, taken := p.accounts[a.Name]; !taken {
			p.accounts[a.Name] = a.ID
		}
	}
	users, err := all(ctx, p.l.Directory.ListUsers, func(u store.User) string { return u.ID })
	if err != nil {
		return fmt.Errorf("list users: %w", err)
	}
	for i := range users {
		p.users[users[i].UserName] = &users[i]
		p.userByID[users[i].ID] = users[i].UserName
	}
	groups, err := all(ctx, p.l.Directory.ListGroups, func(g store.Group) string { return g.ID })
	if err != nil {
		return fmt.Errorf("list groups: %w", err)
	}
	for i := range groups {
		p.groups[groups[i].DisplayName] = &groups[i]
		p.groupByID[groups[i].ID] = groups[i].DisplayName
	}
	sets, err := all(ctx, p.l.Access.ListPermissionSets, func(ps store.PermissionSet) string { return ps.ID })
	if err != nil {
		return fmt.Errorf("list permission sets: %w", err)
	}
	for i := range sets {
		p.sets[sets[i].Name] = &sets[i]
		p.setByID[sets[i].ID] = sets[i].Name
	}
	return nil
}

// show writes a value of a plan's detail: quoted, or (none).
func show(v string) string {
	if v == "" {
		return "(none)"
	}
	return v
}

func diff(details *[]string, field, from, to string) bool {
	if from == to {
		return false
	}
	*details = append(*details, fmt.Sprintf("%s %s -> %s", field, show(from), show(to)))
	return true
}

func (p *planner) planAccounts(ctx context.Context, w *World) error {
	for _, a := range w.Accounts {
		if id, ok := p.accounts[a.ID]; ok && id == a.ID {
			p.accounts[a.Name] = a.ID
			continue
		}
		p.accounts[a.ID], p.accounts[a.Name] = a.ID, a.ID
		p.acctName[a.ID] = a.Name
		p.add(Change{Op: Create, Kind: KindAccount, Name: a.Name, line: a.Line, apply: func(ctx context.Context) error {
			_, err := p.l.Access.CreateAccount(ctx, a.ID, a.Name, a.Email)
			return err
		}})
	}
	return nil
}

func (p *planner) account(line int, nameOrID string) (string, error) {
	if id, ok := p.accounts[nameOrID]; ok {
		return id, nil
	}
	return "", atLine(line, "account %q is neither in the file nor in the store", nameOrID)
}

func (p *planner) planCustomerPolicies(ctx context.Context, w *World) error {
	for i, cp := range w.CustomerPolicies {
		acct, err := p.account(cp.Line, cp.Account)
		if err != nil {
			return err
		}
		ref, err := access.NormalizeRef(store.PolicyRef{Name: cp.Name, Path: cp.Path})
		if err != nil {
			return atLine(cp.Line, "customer_policies[%d]: %v", i, err)
		}
		name := ref.Path + ref.Name + " in " + cp.Account
		op := Create
		if existing, err := p.l.Access.Store.GetCustomerPolicy(ctx, acct, ref.Path, ref.Name); err == nil {
			if existing.Document == cp.Document {
				continue
			}
			op = Update
		} else if fault.KindOf(err) != fault.NotFound && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("customer policy %s: %w", name, err)
		}
		c := Change{Op: op, Kind: KindCustomerPolicy, Name: name, line: cp.Line, apply: func(ctx context.Context) error {
			return p.l.Access.PutCustomerPolicy(ctx, acct, ref, cp.Document)
		}}
		if op == Update {
			c.Detail = "document"
		}
		p.add(c)
	}
	return nil
}

func jsonValue(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

func (p *planner) planUsers(ctx context.Context, w *World) error {
	for _, u := range w.Users {
		p.fileUsers[u.UserName] = true
		pw, dflt := u.Password, 0
		if pw == "" {
			pw, dflt = p.l.Password, 1
		}
		got, ok := p.users[u.UserName]
		if !ok {
			c := Change{Op: Create, Kind: KindUser, Name: u.UserName, line: u.Line, apply: func(ctx context.Context) error {
				in := directory.CreateUserInput{
					UserName: u.UserName, DisplayName: u.DisplayName,
					// Only what the file names: DescribeUser must not show
					// attributes nobody set (no Name.Formatted made up from
					// the parts), or a Terraform import plans a change.
					Name: store.UserName{GivenName: u.GivenName, FamilyName: u.FamilyName},
				}
				if u.Email != "" {
					in.Emails = []store.Email{{Value: u.Email, Type: "work", Primary: true}}
				}
				created, err := p.l.Directory.CreateUser(ctx, in)
				if err != nil {
					return err
				}
				if pw != "" {
					return p.l.Directory.SetPassword(ctx, created.ID, pw)
				}
				return nil
			}}
			if pw != "" {
				c.passwords, c.defaults = 1, dflt
			}
			p.add(c)
			continue
		}
		var details []string
		var ops []directory.AttributeOp
		if u.DisplayName != "" && diff(&details, "display_name", got.DisplayName, u.DisplayName) {
			ops = append(ops, directory.AttributeOp{Path: "displayName", Value: jsonValue(u.DisplayName)})
		}
		if u.GivenName != "" && diff(&details, "given_name", got.Name.GivenName, u.GivenName) {
			ops = append(ops, directory.AttributeOp{Path: "name.givenName", Value: jsonValue(u.GivenName)})
		}
		if u.FamilyName != "" && diff(&details, "family_name", got.Name.FamilyName, u.FamilyName) {
			ops = append(ops, directory.AttributeOp{Path: "name.familyName", Value: jsonValue(u.FamilyName)})
		}
		if u.Email != "" && diff(&details, "email", store.PrimaryEmail(got.Emails), u.Email) {
			ops = append(ops, directory.AttributeOp{Path: "emails", Value: jsonValue([]store.Email{{Value: u.Email, Type: "work", Primary: true}})})
		}
		setPassword := got.PasswordHash == "" && pw != ""
		if setPassword {
			details = append(details, "password (none) -> set")
		}
		if len(details) == 0 {
			continue
		}
		id := got.ID
		c := Change{Op: Update, Kind: KindUser, Name: u.UserName, Detail: strings.Join(details, ", "), line: u.Line, apply: func(ctx context.Context) error {
			if len(ops) > 0 {
				if err := p.l.Directory.UpdateUser(ctx, id, ops); err != nil {
					return err
				}
			}
			if setPassword {
				return p.l.Directory.SetPassword(ctx, id, pw)
			}
			return nil
		}}
		if setPassword {
			c.passwords, c.defaults = 1, dflt
		}
		p.add(c)
	}
	return nil
}

// userKnown reports whether a user name is in the file or the store.
func (p *planner) userKnown(name string) bool {
	_, ok := p.users[name]
	return ok || p.fileUsers[name]
}

func (p *planner) planGroups(ctx context.Context, w *World) error {
	for _, g := range w.Groups {
		p.fileGroups[g.Name] = true
		var current map[string]string // member user name -> membership ID
		got, exists := p.groups[g.Name]
		if !exists {
			p.add(Change{Op: Create, Kind: KindGroup, Name: g.Name, line: g.Line, apply: func(ctx context.Context) error {
				_, err := p.l.Directory.CreateGroup(ctx, g.Name, g.Description)
				return err
			}})
		} else {
			var details []string
			if g.Description != "" && diff(&details, "description", got.Description, g.Description) {
				id := got.ID
				p.add(Change{Op: Update, Kind: KindGroup, Name: g.Name, Detail: strings.Join(details, ", "), line: g.Line, apply: func(ctx context.Context) error {
					return p.l.Directory.UpdateGroup(ctx, id, []directory.AttributeOp{{Path: "description", Value: jsonValue(g.Description)}})
				}})
			}
			ms, err := all(ctx, func(ctx context.Context, pg store.Page) ([]store.Membership, error) {
				return p.l.Directory.Store.ListMembershipsByGroup(ctx, got.ID, pg)
			}, func(m store.Membership) string { return m.ID })
			if err != nil {
				return fmt.Errorf("group %s: %w", g.Name, err)
			}
			current = map[string]string{}
			for _, m := range ms {
				current[p.userByID[m.UserID]] = m.ID
			}
		}
		want := map[string]bool{}
		for _, m := range g.Members {
			if !p.userKnown(m) {
				return atLine(g.Line, "group %s: member %q is neither a user of the file nor of the store", g.Name, m)
			}
			if want[m] {
				continue
			}
			want[m] = true
			if _, ok := current[m]; ok {
				continue
			}
			p.add(Change{Op: Create, Kind: KindMembership, Name: m + " in " + g.Name, line: g.Line, apply: func(ctx context.Context) error {
				gr, err := p.l.Directory.GetGroupByName(ctx, g.Name)
				if err != nil {
					return err
				}
				u, err := p.l.Directory.GetUserByName(ctx, m)
				if err != nil {
					return err
				}
				_, err = p.l.Directory.AddMember(ctx, gr.ID, u.ID)
				return err
			}})
		}
		for m, id := range current {
			if want[m] || g.Members == nil {
				continue
			}
			p.add(Change{Op: Delete, Kind: KindMembership, Name: m + " in " + g.Name, ID: id, apply: func(ctx context.Context) error {
				return p.l.Directory.RemoveMember(ctx, id)
			}})
		}
	}
	return nil
}

func (p *planner) planPermissionSets(ctx context.Context, w *World) error {
	for _, s := range w.PermissionSets {
		p.fileSets[s.Name] = true
		if s.SessionDuration != "" {
			d, err := access.ParseSessionDuration(s.SessionDuration)
			if err != nil {
				return atLine(s.Line, "permission set %s: session_duration %v", s.Name, err)
			}
			if d < access.MinSessionDuration || d > access.MaxSessionDuration {
				return atLine(s.Line, "permission set %s: session_duration %s is outside PT1H to PT12H", s.Name, s.SessionDuration)
			}
		}
		refs := make([]store.PolicyRef, len(s.CustomerPolicies))
		for i, r := range s.CustomerPolicies {
			n, err := access.NormalizeRef(r)
			if err != nil {
				return atLine(s.Line, "permission set %s: %v", s.Name, err)
			}
			refs[i] = n
		}
		got, exists := p.sets[s.Name]
		if !exists {
			p.add(Change{Op: Create, Kind: KindPermissionSet, Name: s.Name, line: s.Line, apply: func(ctx context.Context) error {
				ps, err := p.l.Access.CreatePermissionSet(ctx, access.PermissionSetInput{
					Name: s.Name, Description: s.Description, SessionDuration: s.SessionDuration, RelayState: s.RelayState,
				})
				if err != nil {
					return err
				}
				for _, m := range s.ManagedPolicies {
					if err := p.l.Access.AttachManagedPolicy(ctx, ps.ID, m); err != nil {
						return err
					}
				}
				for _, ref := range refs {
					if err := p.l.Access.AttachCustomerPolicy(ctx, ps.ID, ref); err != nil {
						return err
					}
				}
				if s.InlinePolicy != "" {
					return p.l.Access.PutInlinePolicy(ctx, ps.ID, s.InlinePolicy)
				}
				return nil
			}})
			continue
		}
		var details []string
		var upd access.PermissionSetUpdate
		// A field the entry leaves out is left as it is; a list given
		// (even empty) is made exactly the file's.
		if s.Description != "" && diff(&details, "description", got.Description, s.Description) {
			upd.Description = &s.Description
		}
		if s.SessionDuration != "" {
			if d, _ := access.ParseSessionDuration(s.SessionDuration); d != got.SessionDuration {
				diff(&details, "session_duration", access.FormatSessionDuration(got.SessionDuration), access.FormatSessionDuration(d))
				upd.SessionDuration = &s.SessionDuration
			}
		}
		if s.RelayState != "" && diff(&details, "relay_state", got.RelayState, s.RelayState) {
			upd.RelayState = &s.RelayState
		}
		var attach, detach []string
		if s.ManagedPolicies != nil {
			attach, detach = setDiff(got.ManagedPolicies, s.ManagedPolicies)
		}
		if len(attach)+len(detach) > 0 {
			details = append(details, "managed_policies"+listDiff(attach, detach))
		}
		refKey := func(r store.PolicyRef) string { return r.Path + r.Name }
		var attachRefs, detachRefs []string
		if s.CustomerPolicies != nil {
			attachRefs, detachRefs = setDiff(mapSlice(got.CustomerPolicies, refKey), mapSlice(refs, refKey))
		}
		if len(attachRefs)+len(detachRefs) > 0 {
			details = append(details, "customer_policies"+listDiff(attachRefs, detachRefs))
		}
		inline := s.InlinePolicy != "" && strings.TrimSpace(got.InlinePolicy) != strings.TrimSpace(s.InlinePolicy)
		if inline {
			if got.InlinePolicy == "" {
				details = append(details, "inline_policy added")
			} else {
				details = append(details, "inline_policy changed")
			}
		}
		if len(details) == 0 {
			continue
		}
		id := got.ID
		refOf := map[string]store.PolicyRef{}
		for _, r := range append(slices.Clone(got.CustomerPolicies), refs...) {
			refOf[refKey(r)] = r
		}
		p.add(Change{Op: Update, Kind: KindPermissionSet, Name: s.Name, Detail: strings.Join(details, ", "), line: s.Line, apply: func(ctx context.Context) error {
			if upd != (access.PermissionSetUpdate{}) {
				if err := p.l.Access.UpdatePermissionSet(ctx, id, upd); err != nil {
					return err
				}
			}
			for _, m := range detach {
				if err := p.l.Access.DetachManagedPolicy(ctx, id, m); err != nil {
					return err
				}
			}
			for _, m := range attach {
				if err := p.l.Access.AttachManagedPolicy(ctx, id, m); err != nil {
					return err
				}
			}
			for _, k := range detachRefs {
				if err := p.l.Access.DetachCustomerPolicy(ctx, id, refOf[k]); err != nil {
					return err
				}
			}
			for _, k := range attachRefs {
				if err := p.l.Access.AttachCustomerPolicy(ctx, id, refOf[k]); err != nil {
					return err
				}
			}
			if inline {
				if err := p.l.Access.PutInlinePolicy(ctx, id, s.InlinePolicy); err != nil {
					return err
				}
			}
			// The roles already provisioned carry the new version, as
			// ProvisionPermissionSet with no target does.
			if accts, err := p.l.Access.AccountsForPermissionSet(ctx, id, ""); err != nil {
				return err
			} else if len(accts) == 0 {
				return nil
			}
			op, err := p.l.Access.Provision(ctx, id, "")
			if err != nil {
				return err
			}
			return opDone(op, "provision")
		}})
	}
	return nil
}

func mapSlice[T any](in []T, f func(T) string) []string {
	out := make([]string, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}

// setDiff returns what want has and have lacks, and the reverse, each
// sorted.
func setDiff(have, want []string) (add, remove []string) {
	for _, w := range want {
		if !slices.Contains(have, w) && !slices.Contains(add, w) {
			add = append(add, w)
		}
	}
	for _, h := range have {
		if !slices.Contains(want, h) {
			remove = append(remove, h)
		}
	}
	slices.Sort(add)
	slices.Sort(remove)
	return add, remove
}

func listDiff(add, remove []string) string {
	var b strings.Builder
	for _, a := range add {
		b.WriteString(" +" + a)
	}
	for _, r := range remove {
		b.WriteString(" -" + r)
	}
	return b.String()
}

// assignmentKey names an assignment as the file does.
type assignmentKey struct {
	account, set, principalType, principal string
}

func (k assignmentKey) String() string {
	return fmt.Sprintf("%s %s to %s in %s", strings.ToLower(k.principalType), k.principal, k.set, k.account)
}

func (p *planner) planAssignments(ctx context.Context, w *World) error {
	stored, err := p.l.Access.ListAssignments(ctx, store.AssignmentFilter{})
	if err != nil {
		return fmt.Errorf("list assignments: %w", err)
	}
	has := map[assignmentKey]store.Assignment{}
	for _, a := range stored {
		k := assignmentKey{account: a.AccountID, set: p.setByID[a.PermissionSetID], principalType: a.PrincipalType}
		if a.PrincipalType == store.PrincipalUser {
			k.principal = p.userByID[a.PrincipalID]
		} else {
			k.principal = p.groupByID[a.PrincipalID]
		}
		has[k] = a
	}
	want := map[assignmentKey]bool{}
	referenced := map[string]bool{} // "user:x", "group:x", "set:x"
	for i, a := range w.Assignments {
		acct, err := p.account(a.Line, a.Account)
		if err != nil {
			return atLine(a.Line, "assignments[%d]: %v", i, err.(*LineError).Err)
		}
		if _, ok := p.sets[a.PermissionSet]; !ok && !p.fileSets[a.PermissionSet] {
			return atLine(a.Line, "assignments[%d]: permission set %q is neither in the file nor in the store", i, a.PermissionSet)
		}
		k := assignmentKey{account: acct, set: a.PermissionSet}
		if a.User != "" {
			if !p.userKnown(a.User) {
				return atLine(a.Line, "assignments[%d]: user %q is neither in the file nor in the store", i, a.User)
			}
			k.principalType, k.principal = store.PrincipalUser, a.User
			referenced["user:"+a.User] = true
		} else {
			if _, ok := p.groups[a.Group]; !ok && !p.fileGroups[a.Group] {
				return atLine(a.Line, "assignments[%d]: group %q is neither in the file nor in the store", i, a.Group)
			}
			k.principalType, k.principal = store.PrincipalGroup, a.Group
			referenced["group:"+a.Group] = true
		}
		referenced["set:"+a.PermissionSet] = true
		if want[k] {
			continue
		}
		want[k] = true
		if _, ok := has[k]; ok {
			continue
		}
		// An account closed through the organizations API stays closed:
		// its assignments are not recreated.
		if acc, err := p.l.Access.GetAccount(ctx, acct); err == nil && acc.State != "" && acc.State != store.AccountActive {
			continue
		}
		name := assignmentKey{account: cmp.Or(p.acctName[acct], acct), set: k.set, principalType: k.principalType, principal: k.principal}.String()
		p.add(Change{Op: Create, Kind: KindAssignment, Name: name, line: a.Line, apply: func(ctx context.Context) error {
			in, err := p.l.assignment(ctx, acct, a)
			if err != nil {
				return err
			}
			op, err := p.l.Access.CreateAssignment(ctx, in)
			if err != nil {
				return err
			}
			return opDone(op, "")
		}})
	}
	if !p.opts.Prune {
		return nil
	}
	for k, a := range has {
		if want[k] {
			continue
		}
		name := assignmentKey{account: cmp.Or(p.acctName[k.account], k.account), set: k.set, principalType: k.principalType, principal: k.principal}.String()
		in := access.AssignmentInput{AccountID: a.AccountID, PermissionSetID: a.PermissionSetID, PrincipalType: a.PrincipalType, PrincipalID: a.PrincipalID}
		p.add(Change{Op: Delete, Kind: KindAssignment, Name: name, ID: AssignmentID(a), apply: func(ctx context.Context) error {
			op, err := p.l.Access.DeleteAssignment(ctx, in)
			if err != nil {
				return err
			}
			return opDone(op, "")
		}})
	}
	for name, ps := range p.sets {
		if p.fileSets[name] || referenced["set:"+name] {
			continue
		}
		id := ps.ID
		p.add(Change{Op: Delete, Kind: KindPermissionSet, Name: name, ID: id, apply: func(ctx context.Context) error {
			return p.l.Access.DeletePermissionSet(ctx, id)
		}})
	}
	for name, g := range p.groups {
		if p.fileGroups[name] || referenced["group:"+name] {
			continue
		}
		id := g.ID
		p.add(Change{Op: Delete, Kind: KindGroup, Name: name, ID: id, apply: func(ctx context.Context) error {
			return p.l.Directory.DeleteGroup(ctx, id)
		}})
	}
	memberOfFileGroup := map[string]bool{}
	for _, g := range w.Groups {
		for _, m := range g.Members {
			memberOfFileGroup[m] = true
		}
	}
	for name, u := range p.users {
		if p.fileUsers[name] || referenced["user:"+name] || memberOfFileGroup[name] {
			continue
		}
		id := u.ID
		p.add(Change{Op: Delete, Kind: KindUser, Name: name, ID: id, apply: func(ctx context.Context) error {
			return p.l.Directory.DeleteUser(ctx, id)
		}})
	}
	return nil
}

// opDone reports a failed operation as an error; a succeeded one, and one
// still in progress (a linked account's roles are provisioned through IAM
// after the change is stored: its status tells the outcome later, as
// sso-admin's Describe…Status calls show), is nil.
func opDone(op *store.Operation, what string) error {
	if op.Status != store.StatusFailed {
		return nil
	}
	reason := cmp.Or(op.FailureReason, "the operation failed")
	if what != "" {
		return fmt.Errorf("%s: %s", what, reason)
	}
	return errors.New(reason)
}
