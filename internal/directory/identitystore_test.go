package directory_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/domaintest"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

func raw(s string) json.RawMessage { return json.RawMessage(s) }

func ptr[T any](v T) *T { return &v }

// TestUserAttributesExactlyAsSet creates a user with every attribute and
// one with the required ones only: each reads back with exactly what was
// set, nothing invented.
func TestUserAttributesExactlyAsSet(t *testing.T) {
	w := domaintest.New(t)
	ctx := t.Context()
	full := input("ada")
	full.Name = store.UserName{GivenName: "Ada", FamilyName: "Lovelace", MiddleName: "B", Formatted: "Ada B. Lovelace", HonorificPrefix: "Dr", HonorificSuffix: "III"}
	full.Profile = store.UserProfile{
		NickName: "ada", ProfileURL: "https://example.com/ada", UserType: "Employee", Title: "Countess",
		PreferredLanguage: "en", Locale: "en-GB", Timezone: "Europe/London", Website: "https://ada.example", Birthdate: "1815-12-10",
		Addresses:    []store.Address{{StreetAddress: "12 St James's Square", Locality: "London", Country: "GB", Primary: true}},
		PhoneNumbers: []store.PhoneNumber{{Value: "+44 20 7946 0000", Type: "work"}},
		Photos:       []store.Photo{{Value: "https://example.com/a.png"}, {Value: "https://example.com/b.png", Primary: true}},
		Roles:        []store.Role{{Value: "Analyst"}},
		Extensions:   map[string]json.RawMessage{directory.EnterpriseExtension: raw(`{"costCenter":"1815"}`)},
	}
	u, err := w.Directory.CreateUser(ctx, full)
	if err != nil {
		t.Fatal(err)
	}
	got, err := w.Directory.GetUser(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := directory.CreateUserInput{UserName: got.UserName, DisplayName: got.DisplayName, Name: got.Name, Emails: got.Emails, Profile: got.Profile, ExternalIDs: got.ExternalIDs}
	if d := cmp.Diff(full, want); d != "" {
		t.Fatalf("full user read back differs (-set +got):\n%s", d)
	}

	bare := directory.CreateUserInput{UserName: "bare", DisplayName: "Bare", Name: store.UserName{GivenName: "B", FamilyName: "Are"}}
	u2, err := w.Directory.CreateUser(ctx, bare)
	if err != nil {
		t.Fatal(err)
	}
	got, _ = w.Directory.GetUser(ctx, u2.ID)
	if d := cmp.Diff(store.UserProfile{}, got.Profile); d != "" || got.Emails != nil || got.ExternalIDs != nil || got.Name != bare.Name {
		t.Fatalf("bare user got attributes it was not given: %+v", got)
	}

	// Extensions are returned only when asked for.
	sel, err := directory.WithExtensions(&store.User{Profile: full.Profile}, nil)
	if err != nil || sel.Profile.Extensions != nil {
		t.Fatalf("WithExtensions(none) = %+v, %v", sel.Profile.Extensions, err)
	}
	sel, err = directory.WithExtensions(&store.User{Profile: full.Profile}, []string{directory.EnterpriseExtension})
	if err != nil || string(sel.Profile.Extensions[directory.EnterpriseExtension]) != `{"costCenter":"1815"}` {
		t.Fatalf("WithExtensions(enterprise) = %+v, %v", sel.Profile.Extensions, err)
	}
	if _, err := directory.WithExtensions(&store.User{}, []string{"aws:identitystore:other"}); fault.KindOf(err) != fault.Validation {
		t.Fatalf("unsupported extension name: %v", err)
	}
}

func TestUserValidation(t *testing.T) {
	w := domaintest.New(t)
	ctx := t.Context()
	before := w.Snap(t)
	mod := func(f func(*directory.CreateUserInput)) directory.CreateUserInput {
		in := input("someone")
		f(&in)
		return in
	}
	for name, in := range map[string]directory.CreateUserInput{
		"empty emails list": mod(func(in *directory.CreateUserInput) { in.Emails = []store.Email{} }),
		"two addresses":     mod(func(in *directory.CreateUserInput) { in.Profile.Addresses = make([]store.Address, 2) }),
		"two phone numbers": mod(func(in *directory.CreateUserInput) {
			in.Profile.PhoneNumbers = []store.PhoneNumber{{Value: "1"}, {Value: "2"}}
		}),
		"two roles": mod(func(in *directory.CreateUserInput) { in.Profile.Roles = []store.Role{{Value: "a"}, {Value: "b"}} }),
		"four photos": mod(func(in *directory.CreateUserInput) {
			in.Profile.Photos = []store.Photo{{Value: "1"}, {Value: "2"}, {Value: "3"}, {Value: "4"}}
		}),
		"photo without value": mod(func(in *directory.CreateUserInput) { in.Profile.Photos = []store.Photo{{Type: "x"}} }),
		"title 1025":          mod(func(in *directory.CreateUserInput) { in.Profile.Title = string(make([]byte, 1025)) }),
		"control character":   mod(func(in *directory.CreateUserInput) { in.Profile.NickName = "a\x00b" }),
		"bad extension name": mod(func(in *directory.CreateUserInput) {
			in.Profile.Extensions = map[string]json.RawMessage{"Enterprise": raw(`{}`)}
		}),
		"other extension": mod(func(in *directory.CreateUserInput) {
			in.Profile.Extensions = map[string]json.RawMessage{"aws:identitystore:other": raw(`{}`)}
		}),
		"extension not an object": mod(func(in *directory.CreateUserInput) {
			in.Profile.Extensions = map[string]json.RawMessage{directory.EnterpriseExtension: raw(`"x"`)}
		}),
		"external ID with space": mod(func(in *directory.CreateUserInput) { in.ExternalIDs = []store.ExternalID{{Issuer: "a b", ID: "1"}} }),
		"eleven external IDs": mod(func(in *directory.CreateUserInput) {
			for i := range 11 {
				in.ExternalIDs = append(in.ExternalIDs, store.ExternalID{Issuer: "i", ID: fmt.Sprint(i)})
			}
		}),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := w.Directory.CreateUser(ctx, in); fault.KindOf(err) != fault.Validation {
				t.Fatalf("CreateUser = %v, want ValidationException", err)
			}
		})
	}
	if after := w.Snap(t); after != before {
		t.Fatalf("bad input changed the store: %+v -> %+v", before, after)
	}
}

func TestUpdateUserOperations(t *testing.T) {
	w := domaintest.New(t)
	ctx := t.Context()
	u, err := w.Directory.CreateUser(ctx, input("ed"))
	if err != nil {
		t.Fatal(err)
	}
	err = w.Directory.UpdateUser(ctx, u.ID, []directory.AttributeOp{
		{Path: "NickName", Value: raw(`"eddie"`)},
		{Path: "addresses", Value: raw(`[{"streetAddress":"1 Main St","primary":true}]`)},
		{Path: "phoneNumbers", Value: raw(`{"value":"+1 555 0100","type":"work"}`)},
		{Path: "emails", Value: raw(`[{"value":"new@example.com","type":"home","primary":true}]`)},
		{Path: "name.middleName", Value: raw(`"Q"`)},
		{Path: "aws:identitystore:enterprise.costCenter", Value: raw(`"42"`)},
		{Path: "aws:identitystore:enterprise.department", Value: raw(`"R&D"`)},
		{Path: "locale", Value: raw(`"en-US"`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := w.Directory.GetUser(ctx, u.ID)
	want := store.UserProfile{
		NickName: "eddie", Locale: "en-US",
		Addresses:    []store.Address{{StreetAddress: "1 Main St", Primary: true}},
		PhoneNumbers: []store.PhoneNumber{{Value: "+1 555 0100", Type: "work"}},
		Extensions:   map[string]json.RawMessage{directory.EnterpriseExtension: raw(`{"costCenter":"42","department":"R\u0026D"}`)},
	}
	if d := cmp.Diff(want, got.Profile); d != "" {
		t.Fatalf("profile after update (-want +got):\n%s", d)
	}
	if got.Emails[0].Value != "new@example.com" || got.Name.MiddleName != "Q" {
		t.Fatalf("after update: %+v", got)
	}

	// Removing: a null or absent value.
	err = w.Directory.UpdateUser(ctx, u.ID, []directory.AttributeOp{
		{Path: "nickName"}, {Path: "addresses", Value: raw(`null`)}, {Path: "phoneNumbers"}, {Path: "locale"},
		{Path: "aws:identitystore:enterprise.costCenter"}, {Path: "aws:identitystore:enterprise.department"},
		{Path: "name.middleName"},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _ = w.Directory.GetUser(ctx, u.ID)
	if d := cmp.Diff(store.UserProfile{}, got.Profile); d != "" || got.Name.MiddleName != "" {
		t.Fatalf("profile after removing everything:\n%s", d)
	}

	before := w.Snap(t)
	for name, ops := range map[string][]directory.AttributeOp{
		"101 operations":        make([]directory.AttributeOp, 101),
		"bad path":              {{Path: "name..x", Value: raw(`"x"`)}},
		"two emails":            {{Path: "emails", Value: raw(`[{"value":"a@x"},{"value":"b@x"}]`)}},
		"emails not a list":     {{Path: "emails", Value: raw(`"a@x"`)}},
		"unsupported extension": {{Path: "aws:identitystore:other", Value: raw(`{}`)}},
		"remove family name":    {{Path: "name.familyName"}},
		"username taken":        {{Path: "userName", Value: raw(`"taken"`)}},
	} {
		if name == "username taken" {
			if _, err := w.Directory.CreateUser(ctx, input("Taken")); err != nil {
				t.Fatal(err)
			}
			before = w.Snap(t)
		}
		t.Run(name, func(t *testing.T) {
			err := w.Directory.UpdateUser(ctx, u.ID, ops)
			want := fault.Validation
			if name == "username taken" {
				want = fault.Conflict
			}
			if fault.KindOf(err) != want {
				t.Fatalf("UpdateUser = %v, want %v", err, want)
			}
			if after := w.Snap(t); after != before {
				t.Fatalf("refused update changed the store: %+v -> %+v", before, after)
			}
		})
	}
}

func TestAlternateIdentifiers(t *testing.T) {
	w := domaintest.New(t)
	ctx := t.Context()
	u, _ := w.Directory.CreateUser(ctx, input("ed.developer"))
	g, _ := w.Directory.CreateGroup(ctx, "Developers", "")
	ext := store.ExternalID{Issuer: "https://scim.example", ID: "ed-1"}
	if err := w.Directory.SetUserExternalIDs(ctx, u.ID, []store.ExternalID{ext}); err != nil {
		t.Fatal(err)
	}
	if err := w.Directory.SetGroupExternalIDs(ctx, g.ID, []store.ExternalID{ext}); err != nil {
		t.Fatal(err)
	}
	ua := func(path, value string) directory.AlternateIdentifier {
		return directory.AlternateIdentifier{UniqueAttribute: &directory.UniqueAttribute{Path: path, Value: raw(value)}}
	}
	for _, a := range []directory.AlternateIdentifier{
		ua("userName", `"ed.developer"`), ua("UserName", `"ED.DEVELOPER"`), ua("emails.value", `"ED@example.com"`),
		ua("Emails.Value", `"ed@example.com"`), {ExternalID: &ext},
	} {
		if id, err := w.Directory.UserID(ctx, a); err != nil || id != u.ID {
			t.Errorf("UserID(%+v) = %q, %v", a.UniqueAttribute, id, err)
		}
	}
	for _, a := range []directory.AlternateIdentifier{ua("displayName", `"developers"`), ua("DisplayName", `"Developers"`), {ExternalID: &ext}} {
		if id, err := w.Directory.GroupID(ctx, a); err != nil || id != g.ID {
			t.Errorf("GroupID(%+v) = %q, %v", a.UniqueAttribute, id, err)
		}
	}
	for _, c := range []struct {
		a    directory.AlternateIdentifier
		kind fault.Kind
	}{
		{ua("userName", `"nobody"`), fault.NotFound},
		{directory.AlternateIdentifier{ExternalID: &store.ExternalID{Issuer: "x", ID: "y"}}, fault.NotFound},
		{ua("title", `"x"`), fault.Validation},
		{ua("userName", `7`), fault.Validation},
		{directory.AlternateIdentifier{}, fault.Validation},
		{directory.AlternateIdentifier{ExternalID: &ext, UniqueAttribute: &directory.UniqueAttribute{Path: "userName", Value: raw(`"x"`)}}, fault.Validation},
	} {
		_, err := w.Directory.UserID(ctx, c.a)
		if fe := fault.As(err); fe.Kind != c.kind || (c.kind == fault.NotFound && fe.ResourceType != "USER") {
			t.Errorf("UserID(%+v) = %v, want %v", c.a, err, c.kind)
		}
	}
	if _, err := w.Directory.GroupID(ctx, ua("userName", `"ed.developer"`)); fault.KindOf(err) != fault.Validation {
		t.Errorf("GroupID by userName = %v", err)
	}
	if _, err := w.Directory.GroupID(ctx, ua("displayName", `"Nobody"`)); fault.As(err).ResourceType != "GROUP" {
		t.Errorf("GroupID of a missing group = %v", err)
	}
	// An external ID held by one user cannot go to another.
	v, _ := w.Directory.CreateUser(ctx, input("other"))
	if err := w.Directory.SetUserExternalIDs(ctx, v.ID, []store.ExternalID{ext}); fault.As(err).Reason != "UNIQUENESS_CONSTRAINT_VIOLATION" {
		t.Errorf("duplicate external ID = %v", err)
	}
}

func TestListPagesAndFilters(t *testing.T) {
	w := domaintest.New(t)
	ctx := t.Context()
	var ids []string
	for i := range 7 {
		u, err := w.Directory.CreateUser(ctx, input(fmt.Sprintf("user%d", i)))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	var seen []string
	in := directory.ListInput{MaxResults: ptr[int32](3)}
	var tokens []string
	for {
		us, next, err := w.Directory.ListUsersPage(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range us {
			seen = append(seen, u.ID)
		}
		if next == "" {
			break
		}
		tokens = append(tokens, next)
		in.NextToken = next
	}
	if len(seen) != 7 || len(tokens) != 2 || tokens[0] == tokens[1] {
		t.Fatalf("pages: %d users, tokens %q", len(seen), tokens)
	}
	// Exactly full last page: no token.
	if _, next, _ := w.Directory.ListUsersPage(ctx, directory.ListInput{MaxResults: ptr[int32](7)}); next != "" {
		t.Fatalf("token after the last page: %q", next)
	}
	// Filter, case-insensitive path and value.
	us, next, err := w.Directory.ListUsersPage(ctx, directory.ListInput{Filters: []directory.Filter{{Path: "userName", Value: "USER3"}}})
	if err != nil || len(us) != 1 || us[0].UserName != "user3" || next != "" {
		t.Fatalf("filtered list = %+v, %q, %v", us, next, err)
	}
	us, _, err = w.Directory.ListUsersPage(ctx, directory.ListInput{Filters: []directory.Filter{{Path: "UserName", Value: "nobody"}}})
	if err != nil || len(us) != 0 {
		t.Fatalf("filtered list of nobody = %+v, %v", us, err)
	}
	for name, in := range map[string]directory.ListInput{
		"max 0":                     {MaxResults: ptr[int32](0)},
		"max 101":                   {MaxResults: ptr[int32](101)},
		"garbage token":             {NextToken: "not a token!"},
		"token of another query":    {NextToken: tokens[0], Filters: []directory.Filter{{Path: "UserName", Value: "user1"}}},
		"group token for users":     {NextToken: "YQ:0000000000000000"},
		"two filters":               {Filters: []directory.Filter{{Path: "UserName", Value: "a"}, {Path: "UserName", Value: "b"}}},
		"filter on other attribute": {Filters: []directory.Filter{{Path: "Title", Value: "a"}}},
	} {
		if _, _, err := w.Directory.ListUsersPage(ctx, in); fault.KindOf(err) != fault.Validation {
			t.Errorf("%s: ListUsersPage = %v, want ValidationException", name, err)
		}
	}

	// Groups and memberships.
	g, _ := w.Directory.CreateGroup(ctx, "Team", "")
	g2, _ := w.Directory.CreateGroup(ctx, "Other", "")
	for _, id := range ids[:5] {
		if _, err := w.Directory.AddMember(ctx, g.ID, id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Directory.AddMember(ctx, g2.ID, ids[0]); err != nil {
		t.Fatal(err)
	}
	ms, next, err := w.Directory.ListGroupMembershipsPage(ctx, g.ID, directory.ListInput{MaxResults: ptr[int32](4)})
	if err != nil || len(ms) != 4 || next == "" {
		t.Fatalf("first page of memberships = %d, %q, %v", len(ms), next, err)
	}
	ms, next, err = w.Directory.ListGroupMembershipsPage(ctx, g.ID, directory.ListInput{MaxResults: ptr[int32](4), NextToken: next})
	if err != nil || len(ms) != 1 || next != "" {
		t.Fatalf("last page of memberships = %d, %q, %v", len(ms), next, err)
	}
	if _, _, err := w.Directory.ListGroupMembershipsPage(ctx, g2.ID, directory.ListInput{NextToken: tokens[0]}); fault.KindOf(err) != fault.Validation {
		t.Fatalf("users token on memberships = %v", err)
	}
	ms, _, err = w.Directory.ListMembershipsForMemberPage(ctx, ids[0], directory.ListInput{})
	if err != nil || len(ms) != 2 {
		t.Fatalf("memberships of user 0 = %+v, %v", ms, err)
	}
	gs, _, err := w.Directory.ListGroupsPage(ctx, directory.ListInput{Filters: []directory.Filter{{Path: "displayname", Value: "team"}}})
	if err != nil || len(gs) != 1 || gs[0].ID != g.ID {
		t.Fatalf("filtered groups = %+v, %v", gs, err)
	}
	ghost := w.IDs.PrincipalID(w.Instance.IdentityStoreID)
	if _, _, err := w.Directory.ListGroupMembershipsPage(ctx, ghost, directory.ListInput{}); fault.As(err).ResourceType != "GROUP" {
		t.Fatalf("memberships of a missing group = %v", err)
	}
	if _, _, err := w.Directory.ListMembershipsForMemberPage(ctx, ghost, directory.ListInput{}); fault.As(err).ResourceType != "USER" {
		t.Fatalf("memberships of a missing user = %v", err)
	}
	res, err := w.Directory.IsMemberInGroups(ctx, ids[6], []string{g.ID})
	if err != nil || res[0] {
		t.Fatalf("IsMemberInGroups(non-member) = %v, %v", res, err)
	}
	res, err = w.Directory.IsMemberInGroups(ctx, ids[0], []string{g.ID, ghost, g2.ID})
	if err != nil || !cmp.Equal(res, []bool{true, false, true}) {
		t.Fatalf("IsMemberInGroups = %v, %v", res, err)
	}
	if _, err := w.Directory.IsMemberInGroups(ctx, ids[0], []string{"nope"}); fault.KindOf(err) != fault.Validation {
		t.Fatalf("IsMemberInGroups(bad ID) = %v", err)
	}
	if _, err := w.Directory.IsMemberInGroups(ctx, ghost, []string{g.ID}); fault.As(err).ResourceType != "USER" {
		t.Fatalf("IsMemberInGroups(missing user) = %v", err)
	}
}

func TestCheckIdentityStoreAndIDs(t *testing.T) {
	w := domaintest.New(t)
	if err := w.Directory.CheckIdentityStore(w.Instance.IdentityStoreID); err != nil {
		t.Fatal(err)
	}
	if err := w.Directory.CheckIdentityStore("d-0000000000"); fault.As(err).ResourceType != "IDENTITY_STORE" {
		t.Fatalf("other store = %v", err)
	}
	if err := w.Directory.CheckIdentityStore("store"); fault.KindOf(err) != fault.Validation {
		t.Fatalf("malformed store = %v", err)
	}
	for id, ok := range map[string]bool{
		"1234567890-4f6e0c2a-8b1d-4e5f-9a7b-1c2d3e4f5a6b": true,
		"4f6e0c2a-8b1d-4e5f-9a7b-1c2d3e4f5a6b":            true,
		"":                                                false,
		"u-1":                                             false,
		"1234567890-4f6e0c2a-8b1d-4e5f-9a7b-1c2d3e4f5a6bx": false,
	} {
		if err := directory.CheckID("UserId", id); (err == nil) != ok {
			t.Errorf("CheckID(%q) = %v", id, err)
		}
	}
}
