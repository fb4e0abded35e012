package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/store"
	"github.com/gatehouse-dev/gatehouse/internal/store/sqlite"
)

const worldV1 = `accounts:
  - {id: "111111111111", name: dev, email: dev@example.com}
users:
  - {user_name: alice, given_name: Alice, family_name: A, display_name: Alice A, email: alice@example.com, password: alice-password-123}
  - {user_name: bob, given_name: Bob, family_name: B, display_name: Bob B, password: bob-password-123}
groups:
  - {name: Admins, description: The admins, members: [alice, bob]}
permission_sets:
  - {name: Dev, session_duration: PT1H, managed_policies: ["arn:aws:iam::aws:policy/PowerUserAccess"]}
  - {name: Old, session_duration: PT2H}
assignments:
  - {account: dev, permission_set: Dev, group: Admins}
  - {account: dev, permission_set: Old, user: bob}
`

// worldV2 changes a session duration, removes a member, adds a user and
// removes a permission set (and its assignment).
const worldV2 = `accounts:
  - {id: "111111111111", name: dev, email: dev@example.com}
users:
  - {user_name: alice, given_name: Alice, family_name: A, display_name: Alice A, email: alice@example.com, password: alice-password-123}
  - {user_name: bob, given_name: Bob, family_name: B, display_name: Bob B, password: bob-password-123}
  - {user_name: carol, given_name: Carol, family_name: C, display_name: Carol C, password: carol-password-123}
groups:
  - {name: Admins, description: The admins, members: [alice]}
permission_sets:
  - {name: Dev, session_duration: PT4H, managed_policies: ["arn:aws:iam::aws:policy/PowerUserAccess"]}
assignments:
  - {account: dev, permission_set: Dev, group: Admins}
`

// snapshot reads the store's records of a data folder as sorted text, by
// the names a world file uses, with the number of audit events (every
// change records one).
func snapshot(t *testing.T, data string) string {
	t.Helper()
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(data, "gatehouse.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var lines []string
	in, err := st.GetInstance(ctx)
	if err != nil {
		t.Fatal(err)
	}
	page := store.Page{Limit: 1000}
	accts, _ := st.ListAccounts(ctx, page)
	for _, a := range accts {
		if a.ID == in.ManagementAccountID {
			continue
		}
		lines = append(lines, fmt.Sprintf("account %s %s %s", a.ID, a.Name, a.Email))
	}
	users, _ := st.ListUsers(ctx, page)
	userName := map[string]string{}
	for _, u := range users {
		userName[u.ID] = u.UserName
		var emails []string
		for _, e := range u.Emails {
			emails = append(emails, e.Value)
		}
		lines = append(lines, fmt.Sprintf("user %s %q %q %q %v password=%t", u.UserName, u.DisplayName, u.Name.GivenName, u.Name.FamilyName, emails, u.PasswordHash != ""))
	}
	groups, _ := st.ListGroups(ctx, page)
	groupName := map[string]string{}
	for _, g := range groups {
		groupName[g.ID] = g.DisplayName
		ms, _ := st.ListMembershipsByGroup(ctx, g.ID, page)
		var members []string
		for _, m := range ms {
			members = append(members, userName[m.UserID])
		}
		slices.Sort(members)
		lines = append(lines, fmt.Sprintf("group %s %q members=%v", g.DisplayName, g.Description, members))
	}
	sets, _ := st.ListPermissionSets(ctx, page)
	setName := map[string]string{}
	for _, ps := range sets {
		setName[ps.ID] = ps.Name
		lines = append(lines, fmt.Sprintf("permission set %s %s %v", ps.Name, access.FormatSessionDuration(ps.SessionDuration), ps.ManagedPolicies))
	}
	as, _ := st.ListAssignments(ctx, store.AssignmentFilter{})
	for _, a := range as {
		p := userName[a.PrincipalID]
		if a.PrincipalType == store.PrincipalGroup {
			p = groupName[a.PrincipalID]
		}
		lines = append(lines, fmt.Sprintf("assignment %s %s %s %s", a.AccountID, setName[a.PermissionSetID], a.PrincipalType, p))
	}
	roles, _ := st.ListProvisionedRoles(ctx, store.RoleFilter{})
	for _, r := range roles {
		ps := setName[r.PermissionSetID]
		var current bool
		for _, s := range sets {
			if s.ID == r.PermissionSetID {
				current = r.PermissionSetVersion == s.Version
			}
		}
		lines = append(lines, fmt.Sprintf("role %s %s current=%t", r.AccountID, ps, current))
	}
	slices.Sort(lines)
	evs, _ := st.ListEvents(ctx, store.EventFilter{Page: store.Page{Limit: 10000}})
	return strings.Join(lines, "\n") + fmt.Sprintf("\n%d audit events", len(evs))
}

// auditCount is the last line of a snapshot.
func withoutAudit(s string) string { return s[:strings.LastIndexByte(s, '\n')] }

func TestApplyWorldFile(t *testing.T) {
	ctx := t.Context()
	data := t.TempDir()
	keyFile := filepath.Join(t.TempDir(), "master.key")
	_, stop := startServe(t, []string{"--data", data, "--master-key-file", keyFile, "--listen", "127.0.0.1:0"}, env(nil))
	stop()
	world := filepath.Join(t.TempDir(), "world.yaml")
	apply := func(content string, flags ...string) (string, error) {
		t.Helper()
		if err := os.WriteFile(world, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		var out, errOut bytes.Buffer
		args := append([]string{"apply", "-f", world, "-data", data, "-master-key-file", keyFile}, flags...)
		err := run(ctx, args, &out, &errOut, env(nil))
		return out.String(), err
	}
	must := func(content string, flags ...string) string {
		t.Helper()
		out, err := apply(content, flags...)
		if err != nil {
			t.Fatalf("apply %v: %v\n%s", flags, err, out)
		}
		return out
	}
	wantText := func(what, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s:\n--- got\n%s\n--- want\n%s", what, got, want)
		}
	}

	// A fresh world: its plan creates everything.
	before := snapshot(t, data)
	wantText("first dry run", must(worldV1, "--dry-run"), `+ create account dev
+ create user alice
+ create user bob
+ create group Admins
+ create membership alice in Admins
+ create membership bob in Admins
+ create permission set Dev
+ create permission set Old
+ create assignment group Admins to Dev in dev
+ create assignment user bob to Old in dev
Dry run: 10 changes planned, nothing changed.
`)
	wantText("store after the first dry run", snapshot(t, data), before)
	must(worldV1)
	v1 := snapshot(t, data)
	wantText("store after the first apply", withoutAudit(v1), `account 111111111111 dev dev@example.com
assignment 111111111111 Dev GROUP Admins
assignment 111111111111 Old USER bob
group Admins "The admins" members=[alice bob]
permission set Dev PT1H [arn:aws:iam::aws:policy/PowerUserAccess]
permission set Old PT2H []
role 111111111111 Dev current=true
role 111111111111 Old current=true
user alice "Alice A" "Alice" "A" [alice@example.com] password=true
user bob "Bob B" "Bob" "B" [] password=true`)
	wantText("applying again", must(worldV1), "No changes: the store matches "+world+".\n")

	// The edited world: the exact plan, nothing changed by the dry run.
	plan := `+ create user carol
~ update permission set Dev: session_duration PT1H -> PT4H
- delete membership bob in Admins
`
	wantText("edited dry run", must(worldV2, "--dry-run"), plan+"Dry run: 3 changes planned, nothing changed.\n")
	wantText("store after the edited dry run", snapshot(t, data), v1)
	wantText("edited apply", must(worldV2), plan+"Applied 3 changes.\n")
	v2 := snapshot(t, data)
	wantText("store after the edited apply", withoutAudit(v2), `account 111111111111 dev dev@example.com
assignment 111111111111 Dev GROUP Admins
assignment 111111111111 Old USER bob
group Admins "The admins" members=[alice]
permission set Dev PT4H [arn:aws:iam::aws:policy/PowerUserAccess]
permission set Old PT2H []
role 111111111111 Dev current=true
role 111111111111 Old current=true
user alice "Alice A" "Alice" "A" [alice@example.com] password=true
user bob "Bob B" "Bob" "B" [] password=true
user carol "Carol C" "Carol" "C" [] password=true`)

	// --prune deletes what the file no longer has.
	prune := `- delete assignment user bob to Old in dev
- delete permission set Old
`
	wantText("prune dry run", must(worldV2, "--dry-run", "--prune"), prune+"Dry run: 2 changes planned, nothing changed.\n")
	wantText("store after the prune dry run", snapshot(t, data), v2)
	wantText("prune", must(worldV2, "--prune"), prune+"Applied 2 changes.\n")
	wantText("store after prune", withoutAudit(snapshot(t, data)), `account 111111111111 dev dev@example.com
assignment 111111111111 Dev GROUP Admins
group Admins "The admins" members=[alice]
permission set Dev PT4H [arn:aws:iam::aws:policy/PowerUserAccess]
role 111111111111 Dev current=true
user alice "Alice A" "Alice" "A" [alice@example.com] password=true
user bob "Bob B" "Bob" "B" [] password=true
user carol "Carol C" "Carol" "C" [] password=true`)
	wantText("after prune", must(worldV2, "--prune"), "No changes: the store matches "+world+".\n")

	// Every change was recorded by the domain service that made it.
	st, err := sqlite.Open(ctx, filepath.Join(data, "gatehouse.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"CreateUser", "UpdatePermissionSet", "DeleteGroupMembership", "DeleteAccountAssignment", "DeletePermissionSet"} {
		evs, err := st.ListEvents(ctx, store.EventFilter{Name: name})
		if err != nil || len(evs) == 0 {
			t.Errorf("no %s audit event (%v)", name, err)
		}
	}
	st.Close()

	// A running server holds the data folder: apply is refused.
	_, stop = startServe(t, []string{"--data", data, "--master-key-file", keyFile, "--listen", "127.0.0.1:0"}, env(nil))
	defer stop()
	if out, err := apply(worldV1); err == nil || !strings.Contains(err.Error(), "in use") || !strings.Contains(err.Error(), "--seed") || out != "" {
		t.Errorf("apply beside a running server = %q, %v", out, err)
	}
}

func TestApplyBadFile(t *testing.T) {
	ctx := t.Context()
	data := t.TempDir()
	keyFile := filepath.Join(t.TempDir(), "master.key")
	_, stop := startServe(t, []string{"--data", data, "--master-key-file", keyFile, "--listen", "127.0.0.1:0"}, env(nil))
	stop()
	before := snapshot(t, data)
	tests := []struct{ name, file, want string }{
		{"unknown field", "users:\n  - user_name: a\n    shoe_size: 9\n", "line 3"},
		{"not yaml", "users: [\n", "line 1"},
		{"user and group", "accounts: []\nassignments:\n  - {account: dev, permission_set: X, user: a, group: b}\n", "line 3: assignments[0]: set exactly one of user and group"},
		{"unknown member", "users:\n  - {user_name: a, display_name: A}\ngroups:\n  - {name: G, members: [a, nobody]}\n", `line 4: group G: member "nobody"`},
		{"bad duration", "permission_sets:\n  - {name: P}\n  - {name: Q, session_duration: P1D}\n", "line 3: permission set Q: session_duration"},
		{"unknown account", "assignments:\n  - {account: nowhere, permission_set: X, user: a}\n", `line 2: assignments[0]: account "nowhere"`},
		{"duplicate user", "users:\n  - {user_name: a}\n  - {user_name: a}\n", `line 3: user "a" appears twice (first at line 2)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			world := filepath.Join(t.TempDir(), "world.yaml")
			os.WriteFile(world, []byte(tc.file), 0o600)
			var out bytes.Buffer
			err := run(ctx, []string{"apply", "-f", world, "-data", data, "-master-key-file", keyFile}, &out, &out, env(nil))
			// Every error, of the file's syntax or of the plan, starts
			// with the file and the line.
			if err == nil || !strings.HasPrefix(err.Error(), world+": "+tc.want) {
				t.Errorf("apply = %v, want an error starting %s: %q", err, world, tc.want)
			}
		})
	}
	if after := snapshot(t, data); after != before {
		t.Errorf("a bad file changed the store:\n%s\n---\n%s", after, before)
	}
}

// TestServeSeedAppliesChanges: serve --seed goes through the same plan, so
// an edited world file's changed session duration and removed member are
// applied at the next start, not ignored.
func TestServeSeedAppliesChanges(t *testing.T) {
	data := t.TempDir()
	world := filepath.Join(t.TempDir(), "world.yaml")
	args := []string{"--data", data, "--listen", "127.0.0.1:0", "--seed", world}
	os.WriteFile(world, []byte(worldV1), 0o600)
	_, stop := startServe(t, args, env(nil))
	stop()
	os.WriteFile(world, []byte(worldV2), 0o600)
	banner, stop := startServe(t, args, env(nil))
	stop()
	if !strings.Contains(banner, "World loaded (4 changes: 1 new record, 1 update, 1 removal, 1 password set).") {
		t.Errorf("banner does not count the update and the removal:\n%s", banner)
	}
	got := withoutAudit(snapshot(t, data))
	for _, want := range []string{`group Admins "The admins" members=[alice]`, "permission set Dev PT4H", "user carol", "role 111111111111 Dev current=true",
		// Without --prune, Old and its assignment stay.
		"permission set Old PT2H"} {
		if !strings.Contains(got, want) {
			t.Errorf("store after the second start lacks %q:\n%s", want, got)
		}
	}
}

// TestApplyPruneKeepsAnAdmin: apply --prune that would delete every
// enabled administrator is refused without --force (a dry run warns), and
// apply names the users it created without a password.
func TestApplyPruneKeepsAnAdmin(t *testing.T) {
	ctx := t.Context()
	data := t.TempDir()
	out, stop := startServeOut(t, []string{"--data", data, "--listen", "127.0.0.1:0"}, env(nil))
	mgmt := field(t, out(), `Management account: (\d{12})`)
	stop()
	world := filepath.Join(t.TempDir(), "world.yaml")
	apply := func(content string, flags ...string) (string, error) {
		t.Helper()
		if err := os.WriteFile(world, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		err := run(ctx, append([]string{"apply", "-f", world, "-data", data}, flags...), &out, &out, env(nil))
		return out.String(), err
	}
	withAdmin := "users:\n  - {user_name: root, given_name: Root, family_name: Admin, display_name: Root, email: root@example.com, password: quartz-window-88}\n" +
		"  - {user_name: newbie, given_name: New, family_name: Bie, display_name: Newbie, email: newbie@example.com}\n" +
		"permission_sets:\n  - {name: AdministratorAccess, managed_policies: [arn:aws:iam::aws:policy/AdministratorAccess]}\n" +
		"assignments:\n  - {account: '" + mgmt + "', permission_set: AdministratorAccess, user: root}\n"
	got, err := apply(withAdmin)
	if err != nil || !strings.Contains(got, "1 new user without a password cannot sign in yet (newbie); invite them:\n    gatehouse invite --data "+data+" --user newbie\n") {
		t.Fatalf("apply: %v\n%s", err, got)
	}
	without := "users:\n  - {user_name: newbie, given_name: New, family_name: Bie, display_name: Newbie, email: newbie@example.com}\n"
	got, err = apply(without, "--prune", "--dry-run")
	if err != nil || !strings.Contains(got, "Warning: this plan deletes every enabled administrator") {
		t.Fatalf("dry run: %v\n%s", err, got)
	}
	before := snapshot(t, data)
	if got, err := apply(without, "--prune"); err == nil || !strings.Contains(err.Error(), "deletes every enabled administrator") || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("prune of every admin: %v\n%s", err, got)
	}
	if after := snapshot(t, data); after != before {
		t.Errorf("a refused prune changed the store")
	}
	if got, err := apply(without, "--prune", "--force"); err != nil || !strings.Contains(got, "Applied") {
		t.Fatalf("prune --force: %v\n%s", err, got)
	}
}
