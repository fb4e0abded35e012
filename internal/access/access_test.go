package access_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/domaintest"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

func mustUser(t *testing.T, w *domaintest.World, name string) *store.User {
	t.Helper()
	u, err := w.Directory.CreateUser(t.Context(), directory.CreateUserInput{
		UserName: name, DisplayName: name, Name: store.UserName{GivenName: "G", FamilyName: "F"},
	})
	if err != nil {
		t.Fatalf("create user %s: %v", name, err)
	}
	return u
}

func mustAccount(t *testing.T, w *domaintest.World, id, name string) {
	t.Helper()
	if _, err := w.Access.CreateAccount(t.Context(), id, name, name+"@example.com"); err != nil {
		t.Fatalf("create account: %v", err)
	}
}

func mustPS(t *testing.T, w *domaintest.World, name, dur string) *store.PermissionSet {
	t.Helper()
	ps, err := w.Access.CreatePermissionSet(t.Context(), access.PermissionSetInput{Name: name, SessionDuration: dur})
	if err != nil {
		t.Fatalf("create permission set %s: %v", name, err)
	}
	return ps
}

func wantFault(t *testing.T, err error, kind fault.Kind, awsName string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", awsName)
	}
	if got := fault.KindOf(err); got != kind {
		t.Fatalf("error %v has kind %v, want %v", err, got, kind)
	}
	if got := fault.KindOf(err).String(); got != awsName {
		t.Fatalf("AWS name %s, want %s", got, awsName)
	}
}

func TestSessionDuration(t *testing.T) {
	for in, want := range map[string]string{"PT1H": "PT1H", "PT12H": "PT12H", "PT90M": "PT1H30M", "PT8H": "PT8H", "PT3600S": "PT1H"} {
		d, err := access.ParseSessionDuration(in)
		if err != nil {
			t.Fatalf("ParseSessionDuration(%q): %v", in, err)
		}
		if got := access.FormatSessionDuration(d); got != want {
			t.Errorf("format(parse(%q)) = %q, want %q", in, got, want)
		}
	}
	for _, bad := range []string{"", "PT", "1H", "P1D", "PT1.5H", "pt1h", "PT-1H"} {
		if _, err := access.ParseSessionDuration(bad); err == nil {
			t.Errorf("ParseSessionDuration(%q) accepted", bad)
		}
	}
}

func TestPermissionSetRules(t *testing.T) {
	w := domaintest.New(t)
	ctx := t.Context()
	ps := mustPS(t, w, "ReadOnly", "")
	if ps.SessionDuration.Hours() != 1 || ps.Version != 1 {
		t.Fatalf("default duration/version = %v/%d, want 1h/1", ps.SessionDuration, ps.Version)
	}
	mustPS(t, w, "Admin", "PT12H")

	before := w.Snap(t)
	bad := []struct {
		name string
		in   access.PermissionSetInput
		kind fault.Kind
		aws  string
	}{
		{"PT13H", access.PermissionSetInput{Name: "Long", SessionDuration: "PT13H"}, fault.Validation, "ValidationException"},
		{"PT30M", access.PermissionSetInput{Name: "Short", SessionDuration: "PT30M"}, fault.Validation, "ValidationException"},
		{"not ISO", access.PermissionSetInput{Name: "Bad", SessionDuration: "1 hour"}, fault.Validation, "ValidationException"},
		{"name 33 chars", access.PermissionSetInput{Name: strings.Repeat("a", 33)}, fault.Validation, "ValidationException"},
		{"name with space", access.PermissionSetInput{Name: "Read Only"}, fault.Validation, "ValidationException"},
		{"empty name", access.PermissionSetInput{}, fault.Validation, "ValidationException"},
		{"duplicate name", access.PermissionSetInput{Name: "readonly"}, fault.Conflict, "ConflictException"},
		{"description 701", access.PermissionSetInput{Name: "D", Description: strings.Repeat("d", 701)}, fault.Validation, "ValidationException"},
		{"bad tag", access.PermissionSetInput{Name: "T", Tags: []store.Tag{{Key: "", Value: "x"}}}, fault.Validation, "ValidationException"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			_, err := w.Access.CreatePermissionSet(ctx, c.in)
			wantFault(t, err, c.kind, c.aws)
		})
	}
	if after := w.Snap(t); after != before {
		t.Fatalf("bad input changed the store: %+v -> %+v", before, after)
	}

	if err := w.Access.AttachManagedPolicy(ctx, ps.ID, "arn:aws:iam::aws:policy/ReadOnlyAccess"); err != nil {
		t.Fatal(err)
	}
	wantFault(t, w.Access.AttachManagedPolicy(ctx, ps.ID, "arn:aws:iam::aws:policy/ReadOnlyAccess"), fault.Conflict, "ConflictException")
	wantFault(t, w.Access.AttachManagedPolicy(ctx, ps.ID, "arn:aws:iam::123456789012:policy/Mine"), fault.Validation, "ValidationException")
	wantFault(t, w.Access.PutInlinePolicy(ctx, ps.ID, `{"Version":"2012-10-17","Statement":[]}`+strings.Repeat(" ", 32768)), fault.Validation, "ValidationException")
	wantFault(t, w.Access.PutInlinePolicy(ctx, ps.ID, `{not json`), fault.Validation, "ValidationException")
	wantFault(t, w.Access.DeleteBoundary(ctx, ps.ID), fault.NotFound, "ResourceNotFoundException")
	wantFault(t, w.Access.PutBoundary(ctx, ps.ID, store.Boundary{}), fault.Validation, "ValidationException")
	wantFault(t, w.Access.UpdatePermissionSet(ctx, ps.ID, access.PermissionSetUpdate{SessionDuration: new("PT13H")}), fault.Validation, "ValidationException")

	got, err := w.Access.GetPermissionSet(ctx, ps.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 2 || len(got.ManagedPolicies) != 1 || got.InlinePolicy != "" {
		t.Fatalf("after one attach: version %d, managed %v, inline %q", got.Version, got.ManagedPolicies, got.InlinePolicy)
	}
}

func TestAssignmentsAndProvisioning(t *testing.T) {
	w := domaintest.New(t)
	ctx := t.Context()
	mustAccount(t, w, "111111111111", "dev")
	u := mustUser(t, w, "ed.developer")
	other := mustUser(t, w, "bob")
	g, err := w.Directory.CreateGroup(ctx, "Developers", "devs")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Directory.AddMember(ctx, g.ID, u.ID); err != nil {
		t.Fatal(err)
	}
	power := mustPS(t, w, "PowerUserAccess", "PT4H")
	view := mustPS(t, w, "ViewOnlyAccess", "")

	// Bad assignments change nothing.
	before := w.Snap(t)
	bad := []struct {
		name string
		in   access.AssignmentInput
		kind fault.Kind
	}{
		{"unknown account", access.AssignmentInput{AccountID: "999999999999", PermissionSetID: power.ID, PrincipalType: "USER", PrincipalID: u.ID}, fault.NotFound},
		{"bad account id", access.AssignmentInput{AccountID: "12345", PermissionSetID: power.ID, PrincipalType: "USER", PrincipalID: u.ID}, fault.Validation},
		{"unknown user", access.AssignmentInput{AccountID: "111111111111", PermissionSetID: power.ID, PrincipalType: "USER", PrincipalID: w.IDs.PrincipalID(w.Instance.IdentityStoreID)}, fault.NotFound},
		{"unknown permission set", access.AssignmentInput{AccountID: "111111111111", PermissionSetID: "ps-0000000000000000", PrincipalType: "USER", PrincipalID: u.ID}, fault.NotFound},
		{"bad principal type", access.AssignmentInput{AccountID: "111111111111", PermissionSetID: power.ID, PrincipalType: "ROLE", PrincipalID: u.ID}, fault.Validation},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			_, err := w.Access.CreateAssignment(ctx, c.in)
			if got := fault.KindOf(err); got != c.kind {
				t.Fatalf("CreateAssignment: %v (kind %v), want kind %v", err, got, c.kind)
			}
		})
	}
	if after := w.Snap(t); after != before {
		t.Fatalf("bad input changed the store: %+v -> %+v", before, after)
	}

	groupPower := access.AssignmentInput{AccountID: "111111111111", PermissionSetID: power.ID, PrincipalType: store.PrincipalGroup, PrincipalID: g.ID}
	op, err := w.Access.CreateAssignment(ctx, groupPower)
	if err != nil || op.Status != store.StatusSucceeded || !regexp.MustCompile(`^[0-9a-f-]{36}$`).MatchString(op.RequestID) {
		t.Fatalf("CreateAssignment = %+v, %v", op, err)
	}
	if got, err := w.Access.GetOperation(ctx, store.OpCreateAssignment, op.RequestID); err != nil || got.Status != store.StatusSucceeded {
		t.Fatalf("GetOperation = %+v, %v", got, err)
	}
	if _, err := w.Access.GetOperation(ctx, store.OpDeleteAssignment, op.RequestID); fault.KindOf(err) != fault.NotFound {
		t.Fatalf("GetOperation of the wrong kind: %v, want NotFound", err)
	}
	role, err := w.Store.GetProvisionedRole(ctx, "111111111111", power.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^AWSReservedSSO_PowerUserAccess_[0-9a-f]{16}$`).MatchString(role.RoleName) || !regexp.MustCompile(`^AROA[A-Z0-9]{17}$`).MatchString(role.RoleID) {
		t.Fatalf("role = %+v", role)
	}
	// A second assignment of the same permission set in the account reuses the role.
	userPower := access.AssignmentInput{AccountID: "111111111111", PermissionSetID: power.ID, PrincipalType: store.PrincipalUser, PrincipalID: other.ID}
	if _, err := w.Access.CreateAssignment(ctx, userPower); err != nil {
		t.Fatal(err)
	}
	if again, _ := w.Store.GetProvisionedRole(ctx, "111111111111", power.ID); again.RoleName != role.RoleName {
		t.Fatalf("role changed from %s to %s", role.RoleName, again.RoleName)
	}
	// Creating an existing assignment succeeds again.
	if op, err := w.Access.CreateAssignment(ctx, groupPower); err != nil || op.Status != store.StatusSucceeded {
		t.Fatalf("repeat CreateAssignment = %+v, %v", op, err)
	}
	if _, err := w.Access.CreateAssignment(ctx, access.AssignmentInput{AccountID: "111111111111", PermissionSetID: view.ID, PrincipalType: store.PrincipalUser, PrincipalID: u.ID}); err != nil {
		t.Fatal(err)
	}

	ents, err := access.Entitlements(ctx, w.Store, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	pair := func(e access.Entitlement) access.Entitlement {
		return access.Entitlement{AccountID: e.AccountID, PermissionSetID: e.PermissionSetID}
	}
	want := []access.Entitlement{{AccountID: "111111111111", PermissionSetID: power.ID}, {AccountID: "111111111111", PermissionSetID: view.ID}}
	if len(ents) != 2 || pair(ents[0]) != want[0] && pair(ents[0]) != want[1] || pair(ents[0]) == pair(ents[1]) {
		t.Fatalf("Entitlements = %+v, want %+v", ents, want)
	}

	// A provisioned permission set cannot be deleted.
	before = w.Snap(t)
	err = w.Access.DeletePermissionSet(ctx, power.ID)
	wantFault(t, err, fault.Conflict, "ConflictException")
	if after := w.Snap(t); after != before {
		t.Fatalf("refused delete changed the store: %+v -> %+v", before, after)
	}

	// Provisioning after a policy change brings the role to the latest version.
	if err := w.Access.AttachManagedPolicy(ctx, power.ID, "arn:aws:iam::aws:policy/PowerUserAccess"); err != nil {
		t.Fatal(err)
	}
	if r, _ := w.Store.GetProvisionedRole(ctx, "111111111111", power.ID); r.PermissionSetVersion != 1 {
		t.Fatalf("role version %d before provisioning, want 1", r.PermissionSetVersion)
	}
	if op, err := w.Access.Provision(ctx, power.ID, ""); err != nil || op.Status != store.StatusSucceeded {
		t.Fatalf("Provision = %+v, %v", op, err)
	}
	if r, _ := w.Store.GetProvisionedRole(ctx, "111111111111", power.ID); r.PermissionSetVersion != 2 {
		t.Fatalf("role version %d after provisioning, want 2", r.PermissionSetVersion)
	}

	// Removing the last assignment removes the role; a new one gets a new suffix.
	if _, err := w.Access.DeleteAssignment(ctx, groupPower); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Store.GetProvisionedRole(ctx, "111111111111", power.ID); err != nil {
		t.Fatalf("role gone while bob still has an assignment: %v", err)
	}
	if _, err := w.Access.DeleteAssignment(ctx, groupPower); fault.KindOf(err) != fault.NotFound {
		t.Fatalf("deleting a missing assignment: %v, want NotFound", err)
	}
	if _, err := w.Access.DeleteAssignment(ctx, userPower); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Store.GetProvisionedRole(ctx, "111111111111", power.ID); fault.KindOf(err) != fault.NotFound {
		t.Fatalf("role still there after the last assignment went: %v", err)
	}
	if _, err := w.Access.CreateAssignment(ctx, userPower); err != nil {
		t.Fatal(err)
	}
	if r, _ := w.Store.GetProvisionedRole(ctx, "111111111111", power.ID); r == nil || r.RoleName == role.RoleName {
		t.Fatalf("re-created role %+v kept the old suffix %s", r, role.RoleName)
	}
	if _, err := w.Access.DeleteAssignment(ctx, userPower); err != nil {
		t.Fatal(err)
	}
	if err := w.Access.DeletePermissionSet(ctx, power.ID); err != nil {
		t.Fatalf("delete after the last assignment: %v", err)
	}
}

func TestMissingCustomerPolicyFailsAssignment(t *testing.T) {
	w := domaintest.New(t)
	ctx := t.Context()
	mustAccount(t, w, "111111111111", "dev")
	u := mustUser(t, w, "ed")
	ps := mustPS(t, w, "Deploy", "")
	if err := w.Access.AttachCustomerPolicy(ctx, ps.ID, store.PolicyRef{Name: "S3Deploy", Path: "/team/"}); err != nil {
		t.Fatal(err)
	}
	in := access.AssignmentInput{AccountID: "111111111111", PermissionSetID: ps.ID, PrincipalType: store.PrincipalUser, PrincipalID: u.ID}
	op, err := w.Access.CreateAssignment(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if op.Status != store.StatusFailed || !strings.Contains(op.FailureReason, "arn:aws:iam::111111111111:policy/team/S3Deploy") {
		t.Fatalf("op = %+v, want FAILED naming the policy", op)
	}
	if as, _ := w.Access.ListAssignments(ctx, store.AssignmentFilter{AccountID: "111111111111"}); len(as) != 0 {
		t.Fatalf("failed assignment was stored: %+v", as)
	}
	if err := w.Store.PutCustomerPolicy(ctx, &store.CustomerPolicy{AccountID: "111111111111", Path: "/team/", Name: "S3Deploy", Document: `{"Version":"2012-10-17","Statement":[]}`}); err != nil {
		t.Fatal(err)
	}
	if op, err := w.Access.CreateAssignment(ctx, in); err != nil || op.Status != store.StatusSucceeded {
		t.Fatalf("with the policy stored: %+v, %v", op, err)
	}
}

// TestSessionDurationMessages checks that valid ISO-8601 durations outside
// the allowed range are called that, not "not an ISO-8601 duration".
func TestSessionDurationMessages(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"P1D", `SessionDuration "P1D" is outside PT1H to PT12H`},
		{"P1W", `"P1W" is outside PT1H to PT12H`},
		{"P1Y2M", `"P1Y2M" is outside PT1H to PT12H`},
		{"P1DT2H", `"P1DT2H" is outside PT1H to PT12H`},
		{"P0D", `"P0D" is outside PT1H to PT12H`},
		{"PT13H", "SessionDuration PT13H is outside PT1H to PT12H"},
		{"PT1.5H", `"PT1.5H" has a fraction; write whole units such as PT1H30M`},
		{"1 hour", `"1 hour" is not an ISO-8601 duration such as PT1H`},
		{"P", `"P" is not an ISO-8601 duration`},
		{"P1DT", `"P1DT" is not an ISO-8601 duration`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			w := domaintest.New(t)
			_, err := w.Access.CreatePermissionSet(t.Context(), access.PermissionSetInput{Name: "X", SessionDuration: tc.in})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("CreatePermissionSet(SessionDuration %q) = %v, want %q", tc.in, err, tc.want)
			}
			if fault.KindOf(err) != fault.Validation {
				t.Errorf("kind %v, want Validation", fault.KindOf(err))
			}
		})
	}
}

// TestPolicyValidationAlwaysOn builds access the production way
// (domaintest) and checks that policy documents and managed policy ARNs are
// validated by the policy engine, not merely parsed as JSON.
func TestPolicyValidationAlwaysOn(t *testing.T) {
	w := domaintest.New(t)
	ps := mustPS(t, w, "Checked", "PT1H")
	mustAccount(t, w, "111111111111", "dev")
	ctx := t.Context()
	bad := `{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"s3:*","Resource":"*"}]}`
	for name, run := range map[string]func() error{
		"inline grammar": func() error { return w.Access.PutInlinePolicy(ctx, ps.ID, bad) },
		"inline condition operator": func() error {
			return w.Access.PutInlinePolicy(ctx, ps.ID, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"NoSuchOperator":{"aws:username":"x"}}}]}`)
		},
		"customer grammar": func() error {
			return w.Access.PutCustomerPolicy(ctx, "111111111111", store.PolicyRef{Name: "P"}, bad)
		},
		"unknown managed policy": func() error {
			return w.Access.AttachManagedPolicy(ctx, ps.ID, "arn:aws:iam::aws:policy/NoSuchPolicyAnywhere")
		},
		"unknown managed boundary": func() error {
			return w.Access.PutBoundary(ctx, ps.ID, store.Boundary{ManagedPolicyARN: "arn:aws:iam::aws:policy/NoSuchPolicyAnywhere"})
		},
	} {
		t.Run(name, func(t *testing.T) {
			before := w.Snap(t)
			wantFault(t, run(), fault.Validation, "ValidationException")
			if after := w.Snap(t); after != before {
				t.Errorf("state changed: %+v -> %+v", before, after)
			}
		})
	}
	if err := w.Access.AttachManagedPolicy(ctx, ps.ID, "arn:aws:iam::aws:policy/PowerUserAccess"); err != nil {
		t.Fatalf("attach PowerUserAccess: %v", err)
	}
}
