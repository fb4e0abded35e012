package directory_test

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/domaintest"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

func input(name string) directory.CreateUserInput {
	return directory.CreateUserInput{
		UserName: name, DisplayName: "Ed Developer",
		Name:   store.UserName{GivenName: "Ed", FamilyName: "Dev"},
		Emails: []store.Email{{Value: "ed@example.com", Type: "work", Primary: true}},
	}
}

func TestUserRules(t *testing.T) {
	w := domaintest.New(t)
	ctx := t.Context()
	u, err := w.Directory.CreateUser(ctx, input("ed.developer"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u.ID, w.Instance.IdentityStoreID[2:]+"-") {
		t.Fatalf("user ID %q does not start with the identity store's hex", u.ID)
	}
	got, err := w.Directory.GetUserByName(ctx, "ED.Developer")
	if err != nil || got.ID != u.ID {
		t.Fatalf("GetUserByName is not case-insensitive: %+v, %v", got, err)
	}

	before := w.Snap(t)
	mod := func(f func(*directory.CreateUserInput)) directory.CreateUserInput {
		in := input("someone")
		f(&in)
		return in
	}
	cases := []struct {
		name   string
		in     directory.CreateUserInput
		kind   fault.Kind
		reason string
	}{
		{"duplicate user name", input("ed.developer"), fault.Conflict, "UNIQUENESS_CONSTRAINT_VIOLATION"},
		{"duplicate in other case", input("Ed.Developer"), fault.Conflict, "UNIQUENESS_CONSTRAINT_VIOLATION"},
		{"user name 129 chars", mod(func(in *directory.CreateUserInput) { in.UserName = strings.Repeat("u", 129) }), fault.Validation, ""},
		{"user name with space", mod(func(in *directory.CreateUserInput) { in.UserName = "ed dev" }), fault.Validation, ""},
		{"reserved user name", mod(func(in *directory.CreateUserInput) { in.UserName = "administrator" }), fault.Validation, ""},
		{"no display name", mod(func(in *directory.CreateUserInput) { in.DisplayName = "" }), fault.Validation, ""},
		{"display name 1025", mod(func(in *directory.CreateUserInput) { in.DisplayName = strings.Repeat("d", 1025) }), fault.Validation, ""},
		{"no given name", mod(func(in *directory.CreateUserInput) { in.Name.GivenName = "" }), fault.Validation, ""},
		{"two emails", mod(func(in *directory.CreateUserInput) { in.Emails = append(in.Emails, in.Emails[0]) }), fault.Validation, ""},
		{"bad email", mod(func(in *directory.CreateUserInput) { in.Emails[0].Value = "nope" }), fault.Validation, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := w.Directory.CreateUser(ctx, c.in)
			fe := fault.As(err)
			if err == nil || fe.Kind != c.kind || fe.Reason != c.reason {
				t.Fatalf("CreateUser: %v (kind %v reason %q), want kind %v reason %q", err, fe.Kind, fe.Reason, c.kind, c.reason)
			}
		})
	}
	if after := w.Snap(t); after != before {
		t.Fatalf("bad input changed the store: %+v -> %+v", before, after)
	}

	// Updates.
	err = w.Directory.UpdateUser(ctx, u.ID, []directory.AttributeOp{
		{Path: "displayName", Value: json.RawMessage(`"Edward"`)},
		{Path: "name.givenName", Value: json.RawMessage(`"Edward"`)},
		{Path: "title", Value: json.RawMessage(`"Engineer"`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _ = w.Directory.GetUser(ctx, u.ID)
	if got.DisplayName != "Edward" || got.Name.GivenName != "Edward" || got.Profile.Title != "Engineer" {
		t.Fatalf("after update: %+v", got)
	}
	for _, ops := range [][]directory.AttributeOp{
		{{Path: "displayName"}},                           // removes a required attribute
		{{Path: "userName", Value: json.RawMessage(`7`)}}, // not a string
		{{Path: "noSuchThing", Value: json.RawMessage(`"x"`)}},
		nil,
	} {
		if err := w.Directory.UpdateUser(ctx, u.ID, ops); fault.KindOf(err) != fault.Validation {
			t.Errorf("UpdateUser(%v) = %v, want ValidationException", ops, err)
		}
	}
	if err := w.Directory.UpdateUser(ctx, "1234567890-00000000-0000-4000-8000-000000000000", []directory.AttributeOp{{Path: "title", Value: json.RawMessage(`"x"`)}}); fault.As(err).ResourceType != "USER" {
		t.Errorf("UpdateUser of a missing user = %v, want NotFound USER", err)
	}
}

func TestPasswordsAndDisable(t *testing.T) {
	w := domaintest.New(t)
	ctx := t.Context()
	u, err := w.Directory.CreateUser(ctx, input("ed.developer"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Directory.Authenticate(ctx, "ed.developer", ""); !errors.Is(err, directory.ErrBadCredentials) {
		t.Fatalf("user without a password signed in: %v", err)
	}
	if err := w.Directory.SetPassword(ctx, u.ID, "short"); fault.KindOf(err) != fault.Validation {
		t.Fatalf("short password: %v", err)
	}
	if err := w.Directory.SetPassword(ctx, u.ID, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	stored, _ := w.Store.GetUser(ctx, u.ID)
	if !strings.HasPrefix(stored.PasswordHash, "$argon2id$v=19$") || strings.Contains(stored.PasswordHash, "horse") {
		t.Fatalf("stored hash %q", stored.PasswordHash)
	}
	if got, err := w.Directory.Authenticate(ctx, "ED.DEVELOPER", "correct horse battery"); err != nil || got.ID != u.ID {
		t.Fatalf("Authenticate = %v, %v", got, err)
	}
	for _, c := range [][2]string{{"ed.developer", "wrong password"}, {"nobody", "correct horse battery"}} {
		if _, err := w.Directory.Authenticate(ctx, c[0], c[1]); !errors.Is(err, directory.ErrBadCredentials) {
			t.Errorf("Authenticate(%q) = %v, want ErrBadCredentials", c[0], err)
		}
	}
	if err := w.Directory.SetUserDisabled(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Directory.Authenticate(ctx, "ed.developer", "correct horse battery"); !errors.Is(err, directory.ErrBadCredentials) {
		t.Fatalf("disabled user signed in: %v", err)
	}
	revs, err := w.Store.ListRevocations(ctx, stored.CreatedAt.Add(-1))
	if err != nil {
		t.Fatal(err)
	}
	if len(revs) != 1 || revs[0].Kind != store.RevokeUser || revs[0].Subject != u.ID {
		t.Fatalf("revocations after disable = %+v", revs)
	}
}

func TestGroupsAndMemberships(t *testing.T) {
	w := domaintest.New(t)
	ctx := t.Context()
	u, _ := w.Directory.CreateUser(ctx, input("ed.developer"))
	g, err := w.Directory.CreateGroup(ctx, "Developers", "Development team")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Directory.CreateGroup(ctx, "developers", ""); fault.KindOf(err) != fault.Conflict {
		t.Fatalf("duplicate group name: %v", err)
	}
	if _, err := w.Directory.CreateGroup(ctx, "", ""); fault.KindOf(err) != fault.Validation {
		t.Fatalf("empty group name: %v", err)
	}

	before := w.Snap(t)
	ghost := w.IDs.PrincipalID(w.Instance.IdentityStoreID)
	if _, err := w.Directory.AddMember(ctx, g.ID, ghost); fault.As(err).Kind != fault.NotFound || fault.As(err).ResourceType != "USER" {
		t.Fatalf("AddMember of a missing user = %v, want NotFound USER", err)
	}
	if _, err := w.Directory.AddMember(ctx, ghost, u.ID); fault.As(err).ResourceType != "GROUP" {
		t.Fatalf("AddMember to a missing group = %v, want NotFound GROUP", err)
	}
	if after := w.Snap(t); after != before {
		t.Fatalf("bad input changed the store: %+v -> %+v", before, after)
	}

	m, err := w.Directory.AddMember(ctx, g.ID, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Directory.AddMember(ctx, g.ID, u.ID); fault.As(err).Reason != "UNIQUENESS_CONSTRAINT_VIOLATION" {
		t.Fatalf("duplicate membership = %v", err)
	}

	// Deleting a user takes its memberships and assignments with it.
	if _, err := w.Access.CreateAccount(ctx, "111111111111", "dev", "dev@example.com"); err != nil {
		t.Fatal(err)
	}
	ps, _ := w.Access.CreatePermissionSet(ctx, access.PermissionSetInput{Name: "ReadOnly"})
	if _, err := w.Access.CreateAssignment(ctx, access.AssignmentInput{AccountID: "111111111111", PermissionSetID: ps.ID, PrincipalType: store.PrincipalUser, PrincipalID: u.ID}); err != nil {
		t.Fatal(err)
	}
	if err := w.Directory.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Directory.GetMembership(ctx, m.ID); fault.KindOf(err) != fault.NotFound {
		t.Fatalf("membership survived its user: %v", err)
	}
	if as, _ := w.Access.ListAssignments(ctx, store.AssignmentFilter{PrincipalID: u.ID}); len(as) != 0 {
		t.Fatalf("assignments survived their user: %+v", as)
	}
	if _, err := w.Store.GetProvisionedRole(ctx, "111111111111", ps.ID); fault.KindOf(err) != fault.NotFound {
		t.Fatalf("role survived its last assignment: %v", err)
	}
	if err := w.Directory.DeleteUser(ctx, u.ID); fault.KindOf(err) != fault.NotFound {
		t.Fatalf("second delete = %v, want NotFound", err)
	}
}

// TestEveryFailedSignInCostsOneHash: an unknown user, a wrong password, a
// user without a password and a disabled user each cost exactly one
// argon2id hash with the parameters of a stored password, so the time of
// the answer does not say which it was.
func TestEveryFailedSignInCostsOneHash(t *testing.T) {
	w := domaintest.New(t)
	ctx := t.Context()
	u, err := w.Directory.CreateUser(ctx, input("ed.developer"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Directory.CreateUser(ctx, input("no.password")); err != nil {
		t.Fatal(err)
	}
	off, err := w.Directory.CreateUser(ctx, input("gone"))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{u.ID, off.ID} {
		if err := w.Directory.SetPassword(ctx, id, "correct horse battery"); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Directory.SetUserDisabled(ctx, off.ID, true); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, user, password string }{
		{"unknown user", "nobody", "correct horse battery"},
		{"wrong password", "ed.developer", "wrong horse battery"},
		{"no password", "no.password", "correct horse battery"},
		{"no password, empty", "no.password", ""},
		{"disabled", "gone", "correct horse battery"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := directory.HashRuns()
			if _, err := w.Directory.Authenticate(ctx, tc.user, tc.password); !errors.Is(err, directory.ErrBadCredentials) {
				t.Fatalf("Authenticate = %v, want ErrBadCredentials", err)
			}
			if n := directory.HashRuns() - before; n != 1 {
				t.Errorf("%d hashes, want 1", n)
			}
		})
	}
	// The dummy hash has the parameters, salt and key sizes of a real one.
	stored, _ := w.Store.GetUser(ctx, u.ID)
	shape := func(h string) string {
		p := strings.Split(h, "$")
		if len(p) != 6 {
			return h
		}
		return strings.Join(p[:4], "$") + "$" + strconv.Itoa(len(p[4])) + "$" + strconv.Itoa(len(p[5]))
	}
	if got, want := shape(directory.DummyHash), shape(stored.PasswordHash); got != want {
		t.Errorf("dummy hash %s, stored hashes %s", got, want)
	}
}

// TestCannotDeleteYourself: identitystore's DeleteUser refuses the actor's
// own user (as the people service does), so an administrator cannot lock
// themselves out through the API either.
func TestCannotDeleteYourself(t *testing.T) {
	w := domaintest.New(t)
	u, err := w.Directory.CreateUser(t.Context(), input("ed"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := audit.WithUser(t.Context(), u.ID, u.UserName)
	if err := w.Directory.DeleteUser(ctx, u.ID); fault.KindOf(err) != fault.Validation || !strings.Contains(err.Error(), "You cannot delete yourself") {
		t.Fatalf("DeleteUser(yourself) = %v", err)
	}
	if _, err := w.Store.GetUser(ctx, u.ID); err != nil {
		t.Fatalf("user gone: %v", err)
	}
}
