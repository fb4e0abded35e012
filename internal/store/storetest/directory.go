package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/store"
)

func testInstance(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.GetInstance(ctx)
	wantErr(t, err, store.ErrNotFound)

	in := &store.Instance{
		InstanceID:          "ssoins-0123456789abcdef",
		IdentityStoreID:     "d-0123456789",
		ManagementAccountID: "111111111111",
		Name:                "gatehouse",
		Region:              "eu-west-1",
		StartURL:            "https://d-0123456789.awsapps.com/start",
		CreatedAt:           t0,
	}
	must(t, s.CreateInstance(ctx, in))
	got, err := s.GetInstance(ctx)
	must(t, err)
	wantEqual(t, "instance", in, got)

	second := *in
	second.InstanceID = "ssoins-fedcba9876543210"
	wantErr(t, s.CreateInstance(ctx, &second), store.ErrConflict)
	got, err = s.GetInstance(ctx)
	must(t, err)
	wantEqual(t, "instance after second create", in, got)
}

func testKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	ks, err := s.ListKeys(ctx, "token-hmac")
	must(t, err)
	wantEqual(t, "keys of empty store", []store.Key{}, ks)

	k1 := store.Key{ID: "k1", Purpose: "token-hmac", Sealed: []byte{0, 1, 2, 255}, CreatedAt: at(time.Second), Active: true}
	k2 := store.Key{ID: "k2", Purpose: "token-hmac", Sealed: []byte("second"), CreatedAt: at(2 * time.Second), Active: true}
	k3 := store.Key{ID: "k3", Purpose: "session-seal", Sealed: []byte("third"), CreatedAt: at(0), Active: true}
	for _, k := range []store.Key{k2, k1, k3} {
		must(t, s.PutKey(ctx, &k))
	}
	ks, err = s.ListKeys(ctx, "token-hmac")
	must(t, err)
	wantEqual(t, "token-hmac keys", []store.Key{k1, k2}, ks)

	// Put replaces: retire k1.
	k1.Active = false
	must(t, s.PutKey(ctx, &k1))
	ks, err = s.ListKeys(ctx, "token-hmac")
	must(t, err)
	wantEqual(t, "token-hmac keys after retiring k1", []store.Key{k1, k2}, ks)

	ks, err = s.ListKeys(ctx, "session-seal")
	must(t, err)
	wantEqual(t, "session-seal keys", []store.Key{k3}, ks)
}

func testCreateAccountStatuses(t *testing.T, s store.Store) {
	ctx := t.Context()
	ss := []store.CreateAccountStatus{
		{ID: "car-aaaaaaaa", AccountName: "a", State: store.CreateAccountSucceeded, AccountID: "111111111111", RequestedAt: at(1), CompletedAt: at(2)},
		{ID: "car-bbbbbbbb", AccountName: "b", State: store.CreateAccountFailed, FailureReason: "EMAIL_ALREADY_EXISTS", RequestedAt: at(3), CompletedAt: at(4)},
		{ID: "car-cccccccc", AccountName: "c", State: store.CreateAccountInProgress, RequestedAt: at(5)},
	}
	for _, x := range []int{2, 0, 1} {
		must(t, s.PutCreateAccountStatus(ctx, &ss[x]))
	}
	got, err := s.GetCreateAccountStatus(ctx, "car-bbbbbbbb")
	must(t, err)
	wantEqual(t, "status", &ss[1], got)
	_, err = s.GetCreateAccountStatus(ctx, "car-zzzzzzzz")
	wantErr(t, err, store.ErrNotFound)

	ss[2].State = store.CreateAccountSucceeded
	ss[2].AccountID = "222222222222"
	ss[2].CompletedAt = at(6)
	must(t, s.PutCreateAccountStatus(ctx, &ss[2]))
	got, err = s.GetCreateAccountStatus(ctx, ss[2].ID)
	must(t, err)
	wantEqual(t, "replaced status", &ss[2], got)

	for _, tc := range []struct {
		name string
		f    store.CreateAccountStatusFilter
		want []store.CreateAccountStatus
	}{
		{"all", store.CreateAccountStatusFilter{}, ss},
		{"succeeded", store.CreateAccountStatusFilter{States: []string{store.CreateAccountSucceeded}}, []store.CreateAccountStatus{ss[0], ss[2]}},
		{"two states", store.CreateAccountStatusFilter{States: []string{store.CreateAccountFailed, store.CreateAccountInProgress}}, ss[1:2]},
		{"page", store.CreateAccountStatusFilter{Page: store.Page{Limit: 2}}, ss[:2]},
		{"after", store.CreateAccountStatusFilter{Page: store.Page{After: ss[0].ID, Limit: 1}}, ss[1:2]},
		{"none", store.CreateAccountStatusFilter{States: []string{store.CreateAccountInProgress}}, []store.CreateAccountStatus{}},
	} {
		got, err := s.ListCreateAccountStatuses(ctx, tc.f)
		must(t, err)
		wantEqual(t, "statuses: "+tc.name, tc.want, got)
	}
}

func testAccounts(t *testing.T, s store.Store) {
	ctx := t.Context()
	var want []store.Account
	for i := range 5 {
		a := store.Account{ID: fmt.Sprintf("%012d", 5-i), Name: fmt.Sprintf("acct-%d", i), Email: fmt.Sprintf("a%d@example.com", i), CreatedAt: at(time.Duration(i))}
		must(t, s.CreateAccount(ctx, &a))
		want = append([]store.Account{a}, want...) // IDs descend as i grows
	}
	dup := want[0]
	dup.Name = "other"
	wantErr(t, s.CreateAccount(ctx, &dup), store.ErrConflict)

	got, err := s.GetAccount(ctx, want[2].ID)
	must(t, err)
	wantEqual(t, "account", &want[2], got)
	_, err = s.GetAccount(ctx, "999999999999")
	wantErr(t, err, store.ErrNotFound)

	want[2].Name = "renamed"
	want[2].Email = "renamed@example.com"
	want[2].State = store.AccountSuspended
	want[2].JoinedMethod = store.JoinedCreated
	want[2].Tags = []store.Tag{{Key: "team", Value: "blue"}, {Key: "empty", Value: ""}}
	want[2].ClosedAt = at(time.Hour)
	must(t, s.UpdateAccount(ctx, &want[2]))
	got, err = s.GetAccount(ctx, want[2].ID)
	must(t, err)
	wantEqual(t, "updated account", &want[2], got)
	wantErr(t, s.UpdateAccount(ctx, &store.Account{ID: "999999999999", Name: "x"}), store.ErrNotFound)

	all, err := s.ListAccounts(ctx, store.Page{})
	must(t, err)
	wantEqual(t, "all accounts", want, all)
	page, err := s.ListAccounts(ctx, store.Page{Limit: 2})
	must(t, err)
	wantEqual(t, "first page", want[:2], page)
	page, err = s.ListAccounts(ctx, store.Page{After: page[1].ID, Limit: 2})
	must(t, err)
	wantEqual(t, "second page", want[2:4], page)
	page, err = s.ListAccounts(ctx, store.Page{After: page[1].ID, Limit: 2})
	must(t, err)
	wantEqual(t, "last page", want[4:], page)
	page, err = s.ListAccounts(ctx, store.Page{After: want[4].ID})
	must(t, err)
	wantEqual(t, "past the end", []store.Account{}, page)

	full := store.Account{ID: "777777777777", Name: "full", Email: "full@example.com", State: store.AccountActive,
		JoinedMethod: store.JoinedInvited, Tags: []store.Tag{{Key: "k", Value: "v"}}, CreatedAt: at(5)}
	must(t, s.CreateAccount(ctx, &full))
	got, err = s.GetAccount(ctx, full.ID)
	must(t, err)
	wantEqual(t, "account with every field", &full, got)
}

// newUser returns a user with every field set.
func newUser(id, name string) store.User {
	return store.User{
		ID:          id,
		UserName:    name,
		DisplayName: "Display " + name,
		Name:        store.UserName{Formatted: "Ada B. Lovelace", FamilyName: "Lovelace", GivenName: "Ada", MiddleName: "B", HonorificPrefix: "Dr", HonorificSuffix: "III"},
		Emails: []store.Email{
			{Value: name + "@example.com", Type: "work", Primary: true},
			{Value: name + "@home.example", Type: "home"},
		},
		Profile: store.UserProfile{
			NickName: "ada", ProfileURL: "https://example.com/" + name, UserType: "Employee", Title: "Countess",
			PreferredLanguage: "en-GB", Locale: "en_GB", Timezone: "Europe/London", Website: "https://ada.example",
			Birthdate:    "1815-12-10",
			Addresses:    []store.Address{{StreetAddress: "12 St James's Square", Locality: "London", Region: "LDN", PostalCode: "SW1Y 4JH", Country: "GB", Formatted: "12 St James's Square, London", Type: "home", Primary: true}},
			PhoneNumbers: []store.PhoneNumber{{Value: "+44 20 7946 0000", Type: "work", Primary: true}},
			Photos:       []store.Photo{{Value: "https://example.com/ada.png", Type: "photo", Display: "Ada", Primary: true}, {Value: "https://example.com/ada2.png"}},
			Roles:        []store.Role{{Value: "Analyst", Type: "job"}},
			Extensions:   map[string]json.RawMessage{"aws:identitystore:enterprise": json.RawMessage(`{"costCenter":"1815"}`)},
		},
		ExternalIDs:  []store.ExternalID{{Issuer: "https://idp.example", ID: "ext-" + id}},
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
		CreatedAt:    at(time.Minute),
		UpdatedAt:    at(2 * time.Minute),
		CreatedBy:    "admin",
		UpdatedBy:    "admin2",
	}
}

func testUsers(t *testing.T, s store.Store) {
	ctx := t.Context()
	var want []store.User
	for i, id := range []string{"u-3", "u-1", "u-4", "u-2", "u-5"} {
		u := newUser(id, fmt.Sprintf("user%d", i))
		must(t, s.CreateUser(ctx, &u))
		want = append(want, u)
	}
	// Sparse users: nil lists and profile read back as nil.
	sparse := store.User{ID: "u-6", UserName: "sparse", CreatedAt: t0}
	must(t, s.CreateUser(ctx, &sparse))
	got, err := s.GetUser(ctx, "u-6")
	must(t, err)
	wantEqual(t, "sparse user", &sparse, got)

	got, err = s.GetUser(ctx, "u-4")
	must(t, err)
	wantEqual(t, "user", &want[2], got)
	_, err = s.GetUser(ctx, "u-missing")
	wantErr(t, err, store.ErrNotFound)
	_, err = s.GetUserByName(ctx, "nobody")
	wantErr(t, err, store.ErrNotFound)

	dupID := newUser("u-1", "fresh-name")
	wantErr(t, s.CreateUser(ctx, &dupID), store.ErrConflict)

	// Update every field, including the name.
	u := want[0]
	u.UserName = "renamed"
	u.DisplayName = "Renamed"
	u.Name = store.UserName{GivenName: "Re"}
	u.Emails = []store.Email{{Value: "re@example.com", Primary: true}}
	u.Profile = store.UserProfile{Title: "Engineer"}
	u.ExternalIDs = nil
	u.Disabled, u.AdminDisabled, u.SourceInactive = true, true, true
	u.PasswordHash = ""
	u.UpdatedAt = at(time.Hour)
	u.UpdatedBy = "someone"
	must(t, s.UpdateUser(ctx, &u))
	want[0] = u
	got, err = s.GetUser(ctx, u.ID)
	must(t, err)
	wantEqual(t, "updated user", &u, got)
	got, err = s.GetUserByName(ctx, "renamed")
	must(t, err)
	wantEqual(t, "updated user by new name", &u, got)
	_, err = s.GetUserByName(ctx, "user0")
	wantErr(t, err, store.ErrNotFound)
	// The old name is free again.
	reuse := newUser("u-7", "USER0")
	must(t, s.CreateUser(ctx, &reuse))

	// Renaming onto another user's name (in another case) conflicts; the
	// user is unchanged.
	clash := want[1]
	clash.UserName = "User2"
	wantErr(t, s.UpdateUser(ctx, &clash), store.ErrConflict)
	got, err = s.GetUser(ctx, clash.ID)
	must(t, err)
	wantEqual(t, "user after conflicting rename", &want[1], got)
	// Changing only the case of one's own name is fine.
	recase := want[1]
	recase.UserName = "USER1"
	must(t, s.UpdateUser(ctx, &recase))
	want[1] = recase

	missing := newUser("u-missing", "missing")
	wantErr(t, s.UpdateUser(ctx, &missing), store.ErrNotFound)

	must(t, s.DeleteUser(ctx, "u-5"))
	_, err = s.GetUser(ctx, "u-5")
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.DeleteUser(ctx, "u-5"), store.ErrNotFound)

	// Ordered by ID: u-1 u-2 u-3 u-4 u-6 u-7.
	byID := []store.User{want[1], want[3], want[0], want[2], sparse, reuse}
	all, err := s.ListUsers(ctx, store.Page{})
	must(t, err)
	wantEqual(t, "all users", byID, all)
	page, err := s.ListUsers(ctx, store.Page{After: "u-2", Limit: 3})
	must(t, err)
	wantEqual(t, "page after u-2", byID[2:5], page)
	page, err = s.ListUsers(ctx, store.Page{Limit: 1})
	must(t, err)
	wantEqual(t, "first user", byID[:1], page)
}

func testUserNameCase(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := newUser("u-1", "Alice.Smith")
	must(t, s.CreateUser(ctx, &u))
	for _, name := range []string{"alice.smith", "ALICE.SMITH", "Alice.Smith", "aLiCe.SmItH"} {
		got, err := s.GetUserByName(ctx, name)
		if err != nil {
			t.Fatalf("GetUserByName(%q): %v", name, err)
		}
		wantEqual(t, "user by "+name, &u, got)

		other := newUser("u-other", name)
		wantErr(t, s.CreateUser(ctx, &other), store.ErrConflict)
	}
	_, err := s.GetUser(ctx, "u-other")
	wantErr(t, err, store.ErrNotFound)
}

func newGroup(id, name string) store.Group {
	return store.Group{
		ID: id, DisplayName: name, Description: "the " + name + " group",
		CreatedAt: at(time.Second), UpdatedAt: at(3 * time.Second), CreatedBy: "admin", UpdatedBy: "admin",
	}
}

func testGroups(t *testing.T, s store.Store) {
	ctx := t.Context()
	var want []store.Group
	for i := range 4 {
		g := newGroup(fmt.Sprintf("g-%d", i), fmt.Sprintf("Team%d", i))
		must(t, s.CreateGroup(ctx, &g))
		want = append(want, g)
	}
	got, err := s.GetGroup(ctx, "g-2")
	must(t, err)
	wantEqual(t, "group", &want[2], got)
	got, err = s.GetGroupByName(ctx, "TEAM2")
	must(t, err)
	wantEqual(t, "group by name", &want[2], got)
	_, err = s.GetGroup(ctx, "g-missing")
	wantErr(t, err, store.ErrNotFound)
	_, err = s.GetGroupByName(ctx, "missing")
	wantErr(t, err, store.ErrNotFound)

	dupName := newGroup("g-9", "team1")
	wantErr(t, s.CreateGroup(ctx, &dupName), store.ErrConflict)
	dupID := newGroup("g-1", "Other")
	wantErr(t, s.CreateGroup(ctx, &dupID), store.ErrConflict)

	g := want[1]
	g.DisplayName = "Renamed"
	g.Description = ""
	g.UpdatedAt = at(time.Hour)
	must(t, s.UpdateGroup(ctx, &g))
	want[1] = g
	got, err = s.GetGroupByName(ctx, "renamed")
	must(t, err)
	wantEqual(t, "renamed group", &g, got)
	clash := want[2]
	clash.DisplayName = "team3"
	wantErr(t, s.UpdateGroup(ctx, &clash), store.ErrConflict)
	missing := newGroup("g-missing", "x")
	wantErr(t, s.UpdateGroup(ctx, &missing), store.ErrNotFound)

	must(t, s.DeleteGroup(ctx, "g-0"))
	wantErr(t, s.DeleteGroup(ctx, "g-0"), store.ErrNotFound)
	want = want[1:]

	all, err := s.ListGroups(ctx, store.Page{})
	must(t, err)
	wantEqual(t, "all groups", want, all)
	page, err := s.ListGroups(ctx, store.Page{After: "g-1", Limit: 1})
	must(t, err)
	wantEqual(t, "page", want[1:2], page)
}

// seedDirectory creates users u-1..u-nu and groups g-1..g-ng.
func seedDirectory(t *testing.T, s store.Store, nu, ng int) {
	t.Helper()
	ctx := t.Context()
	for i := 1; i <= nu; i++ {
		u := newUser(fmt.Sprintf("u-%d", i), fmt.Sprintf("user%d", i))
		must(t, s.CreateUser(ctx, &u))
	}
	for i := 1; i <= ng; i++ {
		g := newGroup(fmt.Sprintf("g-%d", i), fmt.Sprintf("group%d", i))
		must(t, s.CreateGroup(ctx, &g))
	}
}

func membership(id, group, user string) store.Membership {
	return store.Membership{ID: id, GroupID: group, UserID: user, CreatedAt: at(time.Duration(len(id)) * time.Second), CreatedBy: "admin"}
}

func testMemberships(t *testing.T, s store.Store) {
	ctx := t.Context()
	seedDirectory(t, s, 3, 2)
	ms := []store.Membership{
		membership("m-1", "g-1", "u-1"),
		membership("m-2", "g-1", "u-2"),
		membership("m-3", "g-2", "u-1"),
		membership("m-4", "g-1", "u-3"),
	}
	for _, m := range ms {
		must(t, s.CreateMembership(ctx, &m))
	}
	dup := membership("m-5", "g-1", "u-2")
	wantErr(t, s.CreateMembership(ctx, &dup), store.ErrConflict)
	dupID := membership("m-1", "g-2", "u-2")
	wantErr(t, s.CreateMembership(ctx, &dupID), store.ErrConflict)
	noUser := membership("m-6", "g-1", "u-missing")
	wantErr(t, s.CreateMembership(ctx, &noUser), store.ErrNotFound)
	noGroup := membership("m-7", "g-missing", "u-1")
	wantErr(t, s.CreateMembership(ctx, &noGroup), store.ErrNotFound)

	got, err := s.GetMembership(ctx, "m-3")
	must(t, err)
	wantEqual(t, "membership", &ms[2], got)
	_, err = s.GetMembership(ctx, "m-5")
	wantErr(t, err, store.ErrNotFound)
	got, err = s.FindMembership(ctx, "g-1", "u-2")
	must(t, err)
	wantEqual(t, "found membership", &ms[1], got)
	_, err = s.FindMembership(ctx, "g-2", "u-2")
	wantErr(t, err, store.ErrNotFound)

	byGroup, err := s.ListMembershipsByGroup(ctx, "g-1", store.Page{})
	must(t, err)
	wantEqual(t, "memberships of g-1", []store.Membership{ms[0], ms[1], ms[3]}, byGroup)
	byGroup, err = s.ListMembershipsByGroup(ctx, "g-1", store.Page{After: "m-1", Limit: 1})
	must(t, err)
	wantEqual(t, "page of g-1", []store.Membership{ms[1]}, byGroup)
	byUser, err := s.ListMembershipsByUser(ctx, "u-1", store.Page{})
	must(t, err)
	wantEqual(t, "memberships of u-1", []store.Membership{ms[0], ms[2]}, byUser)
	byUser, err = s.ListMembershipsByUser(ctx, "u-1", store.Page{After: "m-1"})
	must(t, err)
	wantEqual(t, "page of u-1", []store.Membership{ms[2]}, byUser)

	must(t, s.DeleteMembership(ctx, "m-1"))
	wantErr(t, s.DeleteMembership(ctx, "m-1"), store.ErrNotFound)
	_, err = s.FindMembership(ctx, "g-1", "u-1")
	wantErr(t, err, store.ErrNotFound)
	// The pair is free again.
	again := membership("m-8", "g-1", "u-1")
	must(t, s.CreateMembership(ctx, &again))
}

func testDeleteUserCascades(t *testing.T, s store.Store) {
	ctx := t.Context()
	seedDirectory(t, s, 2, 2)
	for _, m := range []store.Membership{
		membership("m-1", "g-1", "u-1"), membership("m-2", "g-2", "u-1"), membership("m-3", "g-1", "u-2"),
	} {
		must(t, s.CreateMembership(ctx, &m))
	}
	d1 := mfaDevice("d-1", "u-1", 0)
	d2 := mfaDevice("d-2", "u-2", 0)
	must(t, s.CreateMFADevice(ctx, &d1))
	must(t, s.CreateMFADevice(ctx, &d2))

	must(t, s.DeleteUser(ctx, "u-1"))

	ms, err := s.ListMembershipsByUser(ctx, "u-1", store.Page{})
	must(t, err)
	wantEqual(t, "memberships of deleted user", []store.Membership{}, ms)
	for _, id := range []string{"m-1", "m-2"} {
		_, err := s.GetMembership(ctx, id)
		wantErr(t, err, store.ErrNotFound)
	}
	ds, err := s.ListMFADevices(ctx, "u-1")
	must(t, err)
	wantEqual(t, "MFA devices of deleted user", []store.MFADevice{}, ds)

	// Nothing of the other user went.
	ms, err = s.ListMembershipsByGroup(ctx, "g-1", store.Page{})
	must(t, err)
	wantEqual(t, "memberships of g-1", []store.Membership{membership("m-3", "g-1", "u-2")}, ms)
	ds, err = s.ListMFADevices(ctx, "u-2")
	must(t, err)
	wantEqual(t, "MFA devices of u-2", []store.MFADevice{d2}, ds)
	if _, err := s.GetGroup(ctx, "g-2"); err != nil {
		t.Fatalf("group of deleted user's membership: %v", err)
	}
}

func testDeleteGroupCascades(t *testing.T, s store.Store) {
	ctx := t.Context()
	seedDirectory(t, s, 2, 2)
	for _, m := range []store.Membership{
		membership("m-1", "g-1", "u-1"), membership("m-2", "g-1", "u-2"), membership("m-3", "g-2", "u-1"),
	} {
		must(t, s.CreateMembership(ctx, &m))
	}
	must(t, s.DeleteGroup(ctx, "g-1"))
	ms, err := s.ListMembershipsByGroup(ctx, "g-1", store.Page{})
	must(t, err)
	wantEqual(t, "memberships of deleted group", []store.Membership{}, ms)
	ms, err = s.ListMembershipsByUser(ctx, "u-1", store.Page{})
	must(t, err)
	wantEqual(t, "memberships of u-1", []store.Membership{membership("m-3", "g-2", "u-1")}, ms)
	for _, id := range []string{"u-1", "u-2"} {
		if _, err := s.GetUser(ctx, id); err != nil {
			t.Fatalf("member of deleted group: %v", err)
		}
	}
}

func testDelegatedAdmins(t *testing.T, s store.Store) {
	ctx := t.Context()
	all, err := s.ListDelegatedAdmins(ctx, store.DelegatedAdminFilter{})
	must(t, err)
	wantEqual(t, "delegated admins of empty store", []store.DelegatedAdmin{}, all)

	const sso, guard = "sso.amazonaws.com", "guardduty.amazonaws.com"
	ds := []store.DelegatedAdmin{
		{AccountID: "111111111111", ServicePrincipal: guard, EnabledAt: at(1)},
		{AccountID: "111111111111", ServicePrincipal: sso, EnabledAt: at(2)},
		{AccountID: "222222222222", ServicePrincipal: sso, EnabledAt: at(3)},
		{AccountID: "333333333333", ServicePrincipal: guard, EnabledAt: at(4)},
	}
	for _, i := range []int{2, 0, 3} {
		must(t, s.CreateDelegatedAdmin(ctx, &ds[i]))
	}
	must(t, s.Update(ctx, func(tx store.Tx) error { return tx.CreateDelegatedAdmin(ctx, &ds[1]) }))
	dup := ds[1]
	dup.EnabledAt = at(time.Hour)
	wantErr(t, s.CreateDelegatedAdmin(ctx, &dup), store.ErrConflict)

	for _, tc := range []struct {
		name string
		f    store.DelegatedAdminFilter
		want []store.DelegatedAdmin
	}{
		{"all", store.DelegatedAdminFilter{}, ds},
		{"by principal", store.DelegatedAdminFilter{ServicePrincipal: sso}, []store.DelegatedAdmin{ds[1], ds[2]}},
		{"by account", store.DelegatedAdminFilter{AccountID: "111111111111"}, ds[:2]},
		{"by both", store.DelegatedAdminFilter{AccountID: "333333333333", ServicePrincipal: guard}, ds[3:]},
		{"none", store.DelegatedAdminFilter{AccountID: "333333333333", ServicePrincipal: sso}, []store.DelegatedAdmin{}},
		{"first page", store.DelegatedAdminFilter{Page: store.Page{Limit: 3}}, ds[:3]},
		{"after account", store.DelegatedAdminFilter{Page: store.Page{After: "111111111111", Limit: 1}}, ds[2:3]},
		{"principal after", store.DelegatedAdminFilter{ServicePrincipal: guard, Page: store.Page{After: "111111111111"}}, ds[3:]},
	} {
		got, err := s.ListDelegatedAdmins(ctx, tc.f)
		must(t, err)
		wantEqual(t, tc.name, tc.want, got)
	}

	must(t, s.DeleteDelegatedAdmin(ctx, "111111111111", sso))
	wantErr(t, s.DeleteDelegatedAdmin(ctx, "111111111111", sso), store.ErrNotFound)
	wantErr(t, s.DeleteDelegatedAdmin(ctx, "444444444444", sso), store.ErrNotFound)
	// A failed transaction leaves the registration in place.
	errStop := errors.New("stop")
	wantErr(t, s.Update(ctx, func(tx store.Tx) error {
		if err := tx.DeleteDelegatedAdmin(ctx, "222222222222", sso); err != nil {
			return err
		}
		return errStop
	}), errStop)
	got, err := s.ListDelegatedAdmins(ctx, store.DelegatedAdminFilter{ServicePrincipal: sso})
	must(t, err)
	wantEqual(t, "sso admins after delete", ds[2:3], got)
}
