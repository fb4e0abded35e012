package storetest

import (
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// testUserLookups covers GetUserByEmail: the primary address (else the
// first), ignoring case, following updates, lowest ID on a tie.
func testUserLookups(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := newUser("u-2", "ada")
	a.Emails = []store.Email{{Value: "Ada@Example.com", Type: "work"}}
	must(t, s.CreateUser(ctx, &a))
	b := newUser("u-1", "bob")
	b.Emails = []store.Email{{Value: "other@example.com"}, {Value: "BOB@example.com", Primary: true}}
	must(t, s.CreateUser(ctx, &b))
	none := store.User{ID: "u-3", UserName: "noemail", CreatedAt: t0}
	must(t, s.CreateUser(ctx, &none))

	got, err := s.GetUserByEmail(ctx, "ada@EXAMPLE.com")
	must(t, err)
	wantEqual(t, "user by e-mail", &a, got)
	got, err = s.GetUserByEmail(ctx, "bob@example.com")
	must(t, err)
	wantEqual(t, "user by primary e-mail", &b, got)
	_, err = s.GetUserByEmail(ctx, "other@example.com")
	wantErr(t, err, store.ErrNotFound)
	_, err = s.GetUserByEmail(ctx, "")
	wantErr(t, err, store.ErrNotFound)

	// A shared address finds the lowest ID.
	b.Emails = []store.Email{{Value: "ada@example.com"}}
	must(t, s.UpdateUser(ctx, &b))
	got, err = s.GetUserByEmail(ctx, "ada@example.com")
	must(t, err)
	wantEqual(t, "lowest ID on a shared address", &b, got)
	_, err = s.GetUserByEmail(ctx, "bob@example.com")
	wantErr(t, err, store.ErrNotFound)

	must(t, s.DeleteUser(ctx, "u-1"))
	got, err = s.GetUserByEmail(ctx, "ada@example.com")
	must(t, err)
	wantEqual(t, "after delete", &a, got)
}

// testUserExternalIDs covers external IDs of users: lookup, uniqueness
// among users (not across kinds), replacement on update, release on delete.
func testUserExternalIDs(t *testing.T, s store.Store) {
	ctx := t.Context()
	x1 := store.ExternalID{Issuer: "https://idp.example", ID: "1"}
	x2 := store.ExternalID{Issuer: "https://idp.example", ID: "2"}
	other := store.ExternalID{Issuer: "https://other.example", ID: "1"}
	u := newUser("u-1", "ada")
	u.ExternalIDs = []store.ExternalID{x1, other}
	must(t, s.CreateUser(ctx, &u))
	for _, x := range []store.ExternalID{x1, other} {
		got, err := s.GetUserByExternalID(ctx, x)
		must(t, err)
		wantEqual(t, "user by external ID", &u, got)
	}
	_, err := s.GetUserByExternalID(ctx, x2)
	wantErr(t, err, store.ErrNotFound)
	// IDs are compared exactly.
	_, err = s.GetUserByExternalID(ctx, store.ExternalID{Issuer: "https://IDP.example", ID: "1"})
	wantErr(t, err, store.ErrNotFound)

	// Another user cannot take x1, on create or on update; nothing of the
	// failed write stays.
	v := newUser("u-2", "bob")
	v.ExternalIDs = []store.ExternalID{x2, x1}
	wantErr(t, s.CreateUser(ctx, &v), store.ErrConflict)
	_, err = s.GetUser(ctx, "u-2")
	wantErr(t, err, store.ErrNotFound)
	_, err = s.GetUserByExternalID(ctx, x2)
	wantErr(t, err, store.ErrNotFound)
	v.ExternalIDs = nil
	must(t, s.CreateUser(ctx, &v))
	clash := v
	clash.ExternalIDs = []store.ExternalID{x1}
	wantErr(t, s.UpdateUser(ctx, &clash), store.ErrConflict)
	got, err := s.GetUser(ctx, "u-2")
	must(t, err)
	wantEqual(t, "user after conflicting update", &v, got)

	// A group may hold the same external ID as a user.
	g := newGroup("g-1", "Team")
	g.ExternalIDs = []store.ExternalID{x1}
	must(t, s.CreateGroup(ctx, &g))

	// An update replaces the set.
	u.ExternalIDs = []store.ExternalID{x2}
	must(t, s.UpdateUser(ctx, &u))
	_, err = s.GetUserByExternalID(ctx, x1)
	wantErr(t, err, store.ErrNotFound)
	got, err = s.GetUserByExternalID(ctx, x2)
	must(t, err)
	wantEqual(t, "user by new external ID", &u, got)
	v.ExternalIDs = []store.ExternalID{x1}
	must(t, s.UpdateUser(ctx, &v))
	got, err = s.GetUserByExternalID(ctx, x1)
	must(t, err)
	wantEqual(t, "released ID taken by another user", &v, got)

	// Deleting frees the IDs.
	must(t, s.DeleteUser(ctx, "u-1"))
	_, err = s.GetUserByExternalID(ctx, x2)
	wantErr(t, err, store.ErrNotFound)
	w := newUser("u-3", "carol")
	w.ExternalIDs = []store.ExternalID{x2}
	must(t, s.CreateUser(ctx, &w))
}

// testGroupExternalIDs covers external IDs of groups.
func testGroupExternalIDs(t *testing.T, s store.Store) {
	ctx := t.Context()
	x1 := store.ExternalID{Issuer: "scim", ID: "g1"}
	x2 := store.ExternalID{Issuer: "scim", ID: "g2"}
	g := newGroup("g-1", "Team")
	g.ExternalIDs = []store.ExternalID{x1}
	must(t, s.CreateGroup(ctx, &g))
	got, err := s.GetGroupByExternalID(ctx, x1)
	must(t, err)
	wantEqual(t, "group by external ID", &g, got)
	_, err = s.GetGroupByExternalID(ctx, x2)
	wantErr(t, err, store.ErrNotFound)

	h := newGroup("g-2", "Other")
	h.ExternalIDs = []store.ExternalID{x1}
	wantErr(t, s.CreateGroup(ctx, &h), store.ErrConflict)
	h.ExternalIDs = []store.ExternalID{x2}
	must(t, s.CreateGroup(ctx, &h))
	h.ExternalIDs = []store.ExternalID{x1}
	wantErr(t, s.UpdateGroup(ctx, &h), store.ErrConflict)

	g.ExternalIDs = nil
	must(t, s.UpdateGroup(ctx, &g))
	got, err = s.GetGroup(ctx, "g-1")
	must(t, err)
	wantEqual(t, "group without external IDs", &g, got)
	_, err = s.GetGroupByExternalID(ctx, x1)
	wantErr(t, err, store.ErrNotFound)

	must(t, s.DeleteGroup(ctx, "g-2"))
	_, err = s.GetGroupByExternalID(ctx, x2)
	wantErr(t, err, store.ErrNotFound)
}
