package seed_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/examples"
	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/domaintest"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/organizations"
	"github.com/gatehouse-dev/gatehouse/internal/seed"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

func TestDemoWorld(t *testing.T) {
	w := domaintest.New(t)
	ctx := t.Context()
	world, err := seed.Parse(examples.DemoWorld)
	if err != nil {
		t.Fatal(err)
	}
	l := &seed.Loader{Directory: w.Directory, Access: w.Access, Instance: w.Instance, Password: "demo-password-1"}
	res, err := l.Load(ctx, world)
	if err != nil {
		t.Fatal(err)
	}
	// 3 accounts + 2 users + 1 group + 1 membership + 4 permission sets + 7 assignments.
	if res.Created != 18 || res.Passwords != 2 {
		t.Fatalf("first load = %+v, want 18 created, 2 passwords", res)
	}
	again, err := l.Load(ctx, world)
	if err != nil || again.Created != 0 || again.Passwords != 0 {
		t.Fatalf("second load = %+v, %v; want nothing new", again, err)
	}

	ed, err := w.Directory.GetUserByName(ctx, "ed.developer")
	if err != nil || ed.DisplayName != "Ed Developer" || ed.Name.GivenName != "Ed" || ed.Name.FamilyName != "Dev" || ed.Emails[0].Value != "ed@example.com" {
		t.Fatalf("ed = %+v, %v", ed, err)
	}
	// The user holds exactly what the world file says, nothing invented: a
	// Terraform configuration saying the same imports the user with a plan
	// of no changes.
	if want := (store.UserName{GivenName: "Ed", FamilyName: "Dev"}); ed.Name != want {
		t.Errorf("ed's name = %+v, want %+v", ed.Name, want)
	}
	if len(ed.Emails) != 1 || ed.Emails[0] != (store.Email{Value: "ed@example.com", Type: "work", Primary: true}) {
		t.Errorf("ed's emails = %+v, want the one primary work email", ed.Emails)
	}
	if _, err := w.Directory.Authenticate(ctx, "ed.developer", "demo-password-1"); err != nil {
		t.Fatalf("ed cannot sign in: %v", err)
	}
	got := map[string]string{}
	for _, u := range []string{"ed.developer", "alice@company.com"} {
		user, _ := w.Directory.GetUserByName(ctx, u)
		ents, err := access.Entitlements(ctx, w.Store, user.ID)
		if err != nil {
			t.Fatal(err)
		}
		var parts []string
		for _, e := range ents {
			a, _ := w.Store.GetAccount(ctx, e.AccountID)
			ps, _ := w.Store.GetPermissionSet(ctx, e.PermissionSetID)
			parts = append(parts, a.Name+":"+ps.Name)
		}
		got[u] = strings.Join(parts, " ")
	}
	want := map[string][]string{
		"ed.developer":      {"dev:PowerUserAccess", "dev:ViewOnlyAccess", "prod:ReadOnlyAccess"},
		"alice@company.com": {"dev:AdministratorAccess", "staging:PowerUserAccess", "prod:ReadOnlyAccess", "management:AdministratorAccess"},
	}
	for u, ws := range want {
		for _, x := range ws {
			if !strings.Contains(got[u], x) {
				t.Errorf("%s lacks %s: has %s", u, x, got[u])
			}
		}
		if n := len(strings.Fields(got[u])); n != len(ws) {
			t.Errorf("%s has %d entitlements (%s), want %d", u, n, got[u], len(ws))
		}
	}
	ps, _ := w.Access.GetPermissionSetByName(ctx, "ViewOnlyAccess")
	if len(ps.ManagedPolicies) != 1 || ps.ManagedPolicies[0] != "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess" {
		t.Errorf("ViewOnlyAccess policies = %v", ps.ManagedPolicies)
	}
	roles, _ := w.Store.ListProvisionedRoles(ctx, store.RoleFilter{})
	if len(roles) != 6 {
		t.Errorf("%d provisioned roles, want 6 (one per account and permission set)", len(roles))
	}
}

func TestParseRejects(t *testing.T) {
	for name, doc := range map[string]string{
		"unknown field":     "users:\n  - user_name: a\n    shoe_size: 9\n",
		"user and group":    "assignments:\n  - {account: dev, permission_set: X, user: a, group: b}\n",
		"neither":           "assignments:\n  - {account: dev, permission_set: X}\n",
		"not yaml":          "accounts: [",
		"unknown top level": "tenants: []\n",
	} {
		if _, err := seed.Parse([]byte(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestLoadStopsOnBadReference(t *testing.T) {
	w := domaintest.New(t)
	world, err := seed.Parse([]byte("assignments:\n  - {account: nowhere, permission_set: X, user: a}\n"))
	if err != nil {
		t.Fatal(err)
	}
	l := &seed.Loader{Directory: w.Directory, Access: w.Access, Instance: w.Instance}
	if _, err := l.Load(t.Context(), world); err == nil || !strings.Contains(err.Error(), "nowhere") {
		t.Fatalf("Load = %v, want an error naming the account", err)
	}
}

func TestCustomerPolicies(t *testing.T) {
	w := domaintest.New(t)
	ctx := t.Context()
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::deploy/*"}]}`
	world, err := seed.Parse([]byte(`
accounts: [{id: "111111111111", name: dev, email: dev@example.com}]
users: [{user_name: ed, given_name: Ed, family_name: Dev, display_name: Ed}]
customer_policies:
  - {account: dev, name: S3Deploy, path: /team/, document: '` + doc + `'}
permission_sets:
  - name: Deploy
    customer_policies: [{name: S3Deploy, path: /team/}]
assignments: [{account: dev, permission_set: Deploy, user: ed}]
`))
	if err != nil {
		t.Fatal(err)
	}
	l := &seed.Loader{Directory: w.Directory, Access: w.Access, Instance: w.Instance}
	if _, err := l.Load(ctx, world); err != nil {
		t.Fatalf("Load: %v", err)
	}
	p, err := w.Store.GetCustomerPolicy(ctx, "111111111111", "/team/", "S3Deploy")
	if err != nil || p.Document != doc {
		t.Fatalf("stored policy = %+v, %v", p, err)
	}
	ps, _ := w.Access.GetPermissionSetByName(ctx, "Deploy")
	if len(ps.CustomerPolicies) != 1 || ps.CustomerPolicies[0] != (store.PolicyRef{Name: "S3Deploy", Path: "/team/"}) {
		t.Fatalf("Deploy references %+v", ps.CustomerPolicies)
	}
	if _, err := w.Store.GetProvisionedRole(ctx, "111111111111", ps.ID); err != nil {
		t.Fatalf("Deploy not provisioned in dev: %v", err)
	}

	// A document IAM would refuse is refused, and nothing is stored.
	before := w.Snap(t)
	for name, bad := range map[string]string{
		"not json":     `{"Version":`,
		"principal":    `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}`,
		"bad operator": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEqualz":{"aws:username":"x"}}}]}`,
		"too long":     `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["` + strings.Repeat("s3:GetObject\",\"", 500) + `s3:GetObject"],"Resource":"*"}]}`,
	} {
		err := w.Access.PutCustomerPolicy(ctx, "111111111111", store.PolicyRef{Name: "Bad"}, bad)
		if fault.KindOf(err) != fault.Validation {
			t.Errorf("%s: PutCustomerPolicy = %v, want ValidationException", name, err)
		}
	}
	if err := w.Access.PutCustomerPolicy(ctx, "999999999999", store.PolicyRef{Name: "X"}, doc); fault.KindOf(err) != fault.NotFound {
		t.Errorf("unknown account: %v", err)
	}
	if after := w.Snap(t); after != before {
		t.Fatalf("refused documents changed the store: %+v -> %+v", before, after)
	}
	if _, err := w.Store.GetCustomerPolicy(ctx, "111111111111", "/", "Bad"); fault.KindOf(err) != fault.NotFound {
		t.Fatalf("a refused policy was stored: %v", err)
	}
}

// TestWorldFileDayDuration loads a world whose permission set lasts P1D: the
// error says the value is outside PT1H–PT12H, since P1D is ISO-8601.
func TestWorldFileDayDuration(t *testing.T) {
	w := domaintest.New(t)
	world, err := seed.Parse([]byte("permission_sets:\n  - name: Daily\n    session_duration: P1D\n"))
	if err != nil {
		t.Fatal(err)
	}
	l := &seed.Loader{Directory: w.Directory, Access: w.Access, Instance: w.Instance}
	_, err = l.Load(t.Context(), world)
	if err == nil || !strings.Contains(err.Error(), "outside PT1H to PT12H") || strings.Contains(err.Error(), "not an ISO-8601 duration") {
		t.Fatalf("Load = %v, want it to say P1D is outside PT1H to PT12H", err)
	}
}

// TestLoadSkipsClosedAccounts: an account closed through the organizations
// API stays closed when the world file is loaded again at the next start:
// its assignments are not recreated, and the load does not fail.
func TestLoadSkipsClosedAccounts(t *testing.T) {
	w := domaintest.New(t)
	ctx := t.Context()
	world, err := seed.Parse(examples.DemoWorld)
	if err != nil {
		t.Fatal(err)
	}
	l := &seed.Loader{Directory: w.Directory, Access: w.Access, Instance: w.Instance, Password: "demo-password-1"}
	if _, err := l.Load(ctx, world); err != nil {
		t.Fatal(err)
	}
	orgs := &organizations.Service{Store: w.Store, Audit: w.Audit, IDs: w.IDs, Now: time.Now, Instance: w.Instance}
	if err := orgs.CloseAccount(ctx, "111111111111"); err != nil {
		t.Fatal(err)
	}
	again, err := l.Load(ctx, world)
	if err != nil || again.Created != 0 {
		t.Fatalf("load after closing dev = %+v, %v; want nothing new", again, err)
	}
	as, err := w.Store.ListAssignments(ctx, store.AssignmentFilter{AccountID: "111111111111"})
	if err != nil || len(as) != 0 {
		t.Errorf("assignments in the closed account = %v, %v", as, err)
	}
}

// TestWorldFileGivesAPIUserAPassword: a user made through the identitystore
// API has no password; listing them in a world file with one sets it at the
// next load and changes nothing else about them (admin guide, "The new
// user's password").
func TestWorldFileGivesAPIUserAPassword(t *testing.T) {
	w := domaintest.New(t)
	ctx := t.Context()
	u, err := w.Directory.CreateUser(ctx, directory.CreateUserInput{UserName: "ed2.developer", DisplayName: "Ed Two",
		Name: store.UserName{GivenName: "Ed", FamilyName: "Two"}})
	if err != nil {
		t.Fatal(err)
	}
	world, err := seed.Parse([]byte("users:\n  - user_name: ed2.developer\n    password: ed2-first-password\n"))
	if err != nil {
		t.Fatal(err)
	}
	l := &seed.Loader{Directory: w.Directory, Access: w.Access, Instance: w.Instance}
	res, err := l.Load(ctx, world)
	if err != nil || res.Created != 0 || res.Passwords != 1 {
		t.Fatalf("load = %+v, %v; want one password and nothing created", res, err)
	}
	if _, err := w.Directory.Authenticate(ctx, "ed2.developer", "ed2-first-password"); err != nil {
		t.Fatalf("ed2.developer cannot sign in: %v", err)
	}
	after, err := w.Store.GetUser(ctx, u.ID)
	if err != nil || after.DisplayName != "Ed Two" || after.Name != u.Name || len(after.Emails) != 0 {
		t.Errorf("ed2.developer after the load = %+v, %v; want as created", after, err)
	}
}

// TestPrune: with Prune, the users, groups, permission sets and
// assignments the file does not have are deleted, last to first; what the
// file still refers to is kept, and without Prune nothing is deleted but
// the members a declared group no longer lists.
func TestPrune(t *testing.T) {
	w := domaintest.New(t)
	ctx := t.Context()
	l := &seed.Loader{Directory: w.Directory, Access: w.Access, Instance: w.Instance}
	first, err := seed.Parse([]byte(`
accounts: [{id: "111111111111", name: dev, email: dev@example.com}]
users:
  - {user_name: ann, display_name: Ann, given_name: Ann, family_name: A}
  - {user_name: ben, display_name: Ben, given_name: Ben, family_name: B}
  - {user_name: cy, display_name: Cy, given_name: Cy, family_name: C}
groups: [{name: Ops, members: [ann, ben]}, {name: Old}]
permission_sets: [{name: Keep}, {name: Drop}]
assignments:
  - {account: dev, permission_set: Keep, group: Ops}
  - {account: dev, permission_set: Drop, user: cy}
`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Load(ctx, first); err != nil {
		t.Fatal(err)
	}
	// ben is no longer declared but still a member of Ops; cy, Old and
	// Drop are gone from the file; Keep is only referred to.
	second, err := seed.Parse([]byte(`
users: [{user_name: ann, display_name: Ann}]
groups: [{name: Ops, members: [ann, ben]}]
assignments:
  - {account: "111111111111", permission_set: Keep, group: Ops}
`))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := l.Plan(ctx, second, seed.Options{})
	if err != nil || plan.String() != "" {
		t.Errorf("plan without prune = %q, %v; want nothing", plan, err)
	}
	plan, err = l.Plan(ctx, second, seed.Options{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	want := `- delete assignment user cy to Drop in dev
- delete permission set Drop
- delete group Old
- delete user cy
`
	if got := plan.String(); got != want {
		t.Errorf("prune plan:\n%s\nwant:\n%s", got, want)
	}
	res, err := l.Apply(ctx, plan)
	if err != nil || res.Deleted != 4 {
		t.Fatalf("apply = %+v, %v", res, err)
	}
	if again, err := l.Plan(ctx, second, seed.Options{Prune: true}); err != nil || again.String() != "" {
		t.Errorf("plan after prune = %q, %v", again, err)
	}
	for _, name := range []string{"ann", "ben"} {
		if _, err := w.Directory.GetUserByName(ctx, name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestParseErrorsSpeakTheFile: a misspelt or mistyped field is named as the
// world file names things, with its line, never as a Go type.
func TestParseErrorsSpeakTheFile(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{"permission_sets:\n  - name: P\n    sesion: PT1H\n", "line 3: unknown field sesion in permission set"},
		{"users:\n  - user_name: a\n    shoe_size: 9\n", "line 3: unknown field shoe_size in user"},
		{"colour: blue\n", "line 1: unknown field colour at the top level"},
		{"groups:\n  - name: G\n    members: 7\n", "line 3: "},
	} {
		_, err := seed.Parse([]byte(tc.file))
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "seed.") || strings.Contains(err.Error(), "!!") {
			t.Errorf("Parse(%q) = %v, want %q without Go types", tc.file, err, tc.want)
		}
	}
}

// TestLoadIntoLinkedAccount loads a world whose assignments and permission
// set changes land in a linked account: their operations stay IN_PROGRESS
// until the IAM worker runs, and that is not a failure of the load.
func TestLoadIntoLinkedAccount(t *testing.T) {
	w := domaintest.New(t)
	ctx := t.Context()
	l := &seed.Loader{Directory: w.Directory, Access: w.Access, Instance: w.Instance}
	if _, err := w.Access.CreateAccount(ctx, "111111111111", "dev", "dev@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := w.Store.PutAccountLink(ctx, &store.AccountLink{AccountID: "111111111111", Region: "us-east-1", AccessKeyID: "AKIAEXAMPLE",
		SealedSecret: []byte{1}, Status: store.LinkActive, SAMLProviderARN: "arn:aws:iam::111111111111:saml-provider/G"}); err != nil {
		t.Fatal(err)
	}
	world := func(duration string) *seed.World {
		t.Helper()
		wd, err := seed.Parse([]byte(`
users: [{user_name: ann, display_name: Ann, given_name: Ann, family_name: A}]
permission_sets: [{name: Dev, session_duration: ` + duration + `}]
assignments: [{account: "111111111111", permission_set: Dev, user: ann}]
`))
		if err != nil {
			t.Fatal(err)
		}
		return wd
	}
	if _, err := l.Load(ctx, world("PT1H")); err != nil {
		t.Fatalf("first load into a linked account: %v", err)
	}
	// A changed permission set is provisioned again: still in progress.
	if _, err := l.Load(ctx, world("PT2H")); err != nil {
		t.Fatalf("second load into a linked account: %v", err)
	}
	ops, err := w.Store.ListOperations(ctx, store.OperationFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var inProgress int
	for _, op := range ops {
		if op.Status == store.StatusInProgress {
			inProgress++
		}
	}
	if inProgress < 2 {
		t.Fatalf("operations %+v: want the assignment and the provisioning queued IN_PROGRESS", ops)
	}
}
