package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/store"
)

func newPermissionSet(id, name string) store.PermissionSet {
	return store.PermissionSet{
		ID:               id,
		Name:             name,
		Description:      "grants " + name,
		SessionDuration:  4 * time.Hour,
		RelayState:       "https://console.aws.amazon.com/",
		ManagedPolicies:  []string{"arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::aws:policy/job-function/Billing"},
		CustomerPolicies: []store.PolicyRef{{Name: "Extra", Path: "/team/"}, {Name: "More", Path: "/"}},
		InlinePolicy:     `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`,
		Boundary:         &store.Boundary{CustomerPolicy: &store.PolicyRef{Name: "Bound", Path: "/b/"}},
		Tags:             []store.Tag{{Key: "team", Value: "infra"}, {Key: "cost", Value: ""}},
		Version:          3,
		CreatedAt:        at(time.Second),
		UpdatedAt:        at(time.Minute),
	}
}

func testPermissionSets(t *testing.T, s store.Store) {
	ctx := t.Context()
	var want []store.PermissionSet
	for i := range 4 {
		ps := newPermissionSet(fmt.Sprintf("ps-%016d", i), fmt.Sprintf("Admin%d", i))
		must(t, s.CreatePermissionSet(ctx, &ps))
		want = append(want, ps)
	}
	bare := store.PermissionSet{ID: "ps-9999999999999999", Name: "Bare", SessionDuration: time.Hour, CreatedAt: t0}
	must(t, s.CreatePermissionSet(ctx, &bare))

	got, err := s.GetPermissionSet(ctx, want[1].ID)
	must(t, err)
	wantEqual(t, "permission set", &want[1], got)
	got, err = s.GetPermissionSet(ctx, bare.ID)
	must(t, err)
	wantEqual(t, "bare permission set", &bare, got)
	got, err = s.GetPermissionSetByName(ctx, "admin2")
	must(t, err)
	wantEqual(t, "permission set by name", &want[2], got)
	_, err = s.GetPermissionSet(ctx, "ps-missing")
	wantErr(t, err, store.ErrNotFound)
	_, err = s.GetPermissionSetByName(ctx, "missing")
	wantErr(t, err, store.ErrNotFound)

	dupName := newPermissionSet("ps-new", "ADMIN1")
	wantErr(t, s.CreatePermissionSet(ctx, &dupName), store.ErrConflict)
	dupID := newPermissionSet(want[0].ID, "Fresh")
	wantErr(t, s.CreatePermissionSet(ctx, &dupID), store.ErrConflict)

	ps := want[0]
	ps.Name = "Renamed"
	ps.SessionDuration = 12 * time.Hour
	ps.ManagedPolicies = nil
	ps.CustomerPolicies = []store.PolicyRef{}
	ps.Boundary = &store.Boundary{ManagedPolicyARN: "arn:aws:iam::aws:policy/PowerUserAccess"}
	ps.Tags = nil
	ps.InlinePolicy = ""
	ps.Version++
	ps.UpdatedAt = at(time.Hour)
	must(t, s.UpdatePermissionSet(ctx, &ps))
	want[0] = ps
	got, err = s.GetPermissionSetByName(ctx, "RENAMED")
	must(t, err)
	wantEqual(t, "updated permission set", &ps, got)
	clash := want[1]
	clash.Name = "bare"
	wantErr(t, s.UpdatePermissionSet(ctx, &clash), store.ErrConflict)
	missing := newPermissionSet("ps-missing", "Missing")
	wantErr(t, s.UpdatePermissionSet(ctx, &missing), store.ErrNotFound)

	must(t, s.DeletePermissionSet(ctx, want[3].ID))
	wantErr(t, s.DeletePermissionSet(ctx, want[3].ID), store.ErrNotFound)
	want = append(want[:3], bare)

	all, err := s.ListPermissionSets(ctx, store.Page{})
	must(t, err)
	wantEqual(t, "all permission sets", want, all)
	page, err := s.ListPermissionSets(ctx, store.Page{After: want[0].ID, Limit: 2})
	must(t, err)
	wantEqual(t, "page", want[1:3], page)
}

func testCountPermissionSets(t *testing.T, s store.Store) {
	ctx := t.Context()
	n, err := s.CountPermissionSets(ctx)
	must(t, err)
	wantEqual(t, "count of none", 0, n)
	for i := range 3 {
		ps := newPermissionSet(fmt.Sprintf("ps-%016d", i), fmt.Sprintf("Count%d", i))
		must(t, s.CreatePermissionSet(ctx, &ps))
	}
	must(t, s.DeletePermissionSet(ctx, fmt.Sprintf("ps-%016d", 1)))
	must(t, s.Update(ctx, func(tx store.Tx) error {
		n, err = tx.CountPermissionSets(ctx)
		return err
	}))
	wantEqual(t, "count in a transaction", 2, n)
}

func testResourceTags(t *testing.T, s store.Store) {
	ctx := t.Context()
	const ins = "arn:aws:sso:::instance/ssoins-0123456789abcdef"
	const app = "arn:aws:sso::111122223333:application/ssoins-0123456789abcdef/apl-0123456789abcdef"
	got, err := s.GetResourceTags(ctx, ins)
	must(t, err)
	wantEqual(t, "tags of an untagged resource", []store.Tag{}, got)

	// Order is kept as given, not sorted; values may be empty.
	tags := []store.Tag{{Key: "team", Value: "infra"}, {Key: "cost center", Value: ""}, {Key: "Émoji", Value: "ünïcode"}}
	must(t, s.PutResourceTags(ctx, ins, tags))
	must(t, s.PutResourceTags(ctx, app, tags[:1]))
	got, err = s.GetResourceTags(ctx, ins)
	must(t, err)
	wantEqual(t, "instance tags", tags, got)

	// Put replaces every tag, inside a transaction too.
	must(t, s.Update(ctx, func(tx store.Tx) error { return tx.PutResourceTags(ctx, ins, tags[1:2]) }))
	got, err = s.GetResourceTags(ctx, ins)
	must(t, err)
	wantEqual(t, "replaced tags", tags[1:2], got)

	// An empty list removes them; other resources keep theirs.
	must(t, s.PutResourceTags(ctx, ins, nil))
	got, err = s.GetResourceTags(ctx, ins)
	must(t, err)
	wantEqual(t, "removed tags", []store.Tag{}, got)
	must(t, s.PutResourceTags(ctx, ins, nil))
	got, err = s.GetResourceTags(ctx, app)
	must(t, err)
	wantEqual(t, "other resource's tags", tags[:1], got)
}

func testAssignments(t *testing.T, s store.Store) {
	ctx := t.Context()
	as := []store.Assignment{
		{AccountID: "111111111111", PermissionSetID: "ps-a", PrincipalType: store.PrincipalGroup, PrincipalID: "g-1", CreatedAt: at(1)},
		{AccountID: "111111111111", PermissionSetID: "ps-a", PrincipalType: store.PrincipalUser, PrincipalID: "u-1", CreatedAt: at(2)},
		{AccountID: "111111111111", PermissionSetID: "ps-b", PrincipalType: store.PrincipalUser, PrincipalID: "u-1", CreatedAt: at(3)},
		{AccountID: "222222222222", PermissionSetID: "ps-a", PrincipalType: store.PrincipalUser, PrincipalID: "u-1", CreatedAt: at(4)},
		{AccountID: "222222222222", PermissionSetID: "ps-a", PrincipalType: store.PrincipalUser, PrincipalID: "u-2", CreatedAt: at(5)},
	}
	for _, i := range []int{4, 2, 0, 3, 1} {
		must(t, s.CreateAssignment(ctx, &as[i]))
	}
	dup := as[2]
	dup.CreatedAt = at(time.Hour)
	wantErr(t, s.CreateAssignment(ctx, &dup), store.ErrConflict)

	for _, tc := range []struct {
		name string
		f    store.AssignmentFilter
		want []store.Assignment
	}{
		{"all", store.AssignmentFilter{}, as},
		{"account", store.AssignmentFilter{AccountID: "111111111111"}, as[:3]},
		{"permission set", store.AssignmentFilter{PermissionSetID: "ps-a"}, []store.Assignment{as[0], as[1], as[3], as[4]}},
		{"principal", store.AssignmentFilter{PrincipalType: store.PrincipalUser, PrincipalID: "u-1"}, []store.Assignment{as[1], as[2], as[3]}},
		{"type", store.AssignmentFilter{PrincipalType: store.PrincipalGroup}, as[:1]},
		{"exact", store.AssignmentFilter{AccountID: "222222222222", PermissionSetID: "ps-a", PrincipalType: store.PrincipalUser, PrincipalID: "u-2"}, as[4:]},
		{"none", store.AssignmentFilter{AccountID: "333333333333"}, []store.Assignment{}},
	} {
		got, err := s.ListAssignments(ctx, tc.f)
		must(t, err)
		wantEqual(t, "assignments: "+tc.name, tc.want, got)
	}

	// Delete matches the key, whatever CreatedAt says.
	del := as[1]
	del.CreatedAt = time.Time{}
	must(t, s.DeleteAssignment(ctx, &del))
	wantErr(t, s.DeleteAssignment(ctx, &del), store.ErrNotFound)
	got, err := s.ListAssignments(ctx, store.AssignmentFilter{AccountID: "111111111111"})
	must(t, err)
	wantEqual(t, "after delete", []store.Assignment{as[0], as[2]}, got)
}

func testProvisionedRoles(t *testing.T, s store.Store) {
	ctx := t.Context()
	rs := []store.ProvisionedRole{
		{AccountID: "111111111111", PermissionSetID: "ps-a", RoleName: "AWSReservedSSO_A_0123456789abcdef", RoleID: "AROA1", PermissionSetVersion: 1, CreatedAt: at(1), UpdatedAt: at(2)},
		{AccountID: "111111111111", PermissionSetID: "ps-b", RoleName: "AWSReservedSSO_B_0123456789abcdef", RoleID: "AROA2", PermissionSetVersion: 1, CreatedAt: at(1), UpdatedAt: at(2)},
		{AccountID: "222222222222", PermissionSetID: "ps-a", RoleName: "AWSReservedSSO_A_fedcba9876543210", RoleID: "AROA3", PermissionSetVersion: 2, CreatedAt: at(1), UpdatedAt: at(2)},
	}
	for _, i := range []int{2, 0, 1} {
		must(t, s.PutProvisionedRole(ctx, &rs[i]))
	}
	got, err := s.GetProvisionedRole(ctx, "111111111111", "ps-b")
	must(t, err)
	wantEqual(t, "role", &rs[1], got)
	_, err = s.GetProvisionedRole(ctx, "222222222222", "ps-b")
	wantErr(t, err, store.ErrNotFound)

	// Put replaces.
	rs[0].PermissionSetVersion = 7
	rs[0].UpdatedAt = at(time.Hour)
	must(t, s.PutProvisionedRole(ctx, &rs[0]))
	got, err = s.GetProvisionedRole(ctx, "111111111111", "ps-a")
	must(t, err)
	wantEqual(t, "replaced role", &rs[0], got)

	for _, tc := range []struct {
		name string
		f    store.RoleFilter
		want []store.ProvisionedRole
	}{
		{"all", store.RoleFilter{}, rs},
		{"account", store.RoleFilter{AccountID: "111111111111"}, rs[:2]},
		{"permission set", store.RoleFilter{PermissionSetID: "ps-a"}, []store.ProvisionedRole{rs[0], rs[2]}},
		{"both", store.RoleFilter{AccountID: "222222222222", PermissionSetID: "ps-a"}, rs[2:]},
		{"none", store.RoleFilter{AccountID: "333333333333"}, []store.ProvisionedRole{}},
	} {
		got, err := s.ListProvisionedRoles(ctx, tc.f)
		must(t, err)
		wantEqual(t, "roles: "+tc.name, tc.want, got)
	}

	must(t, s.DeleteProvisionedRole(ctx, "111111111111", "ps-a"))
	wantErr(t, s.DeleteProvisionedRole(ctx, "111111111111", "ps-a"), store.ErrNotFound)
	_, err = s.GetProvisionedRole(ctx, "111111111111", "ps-a")
	wantErr(t, err, store.ErrNotFound)
}

func testOperations(t *testing.T, s store.Store) {
	ctx := t.Context()
	// CreatedAt order differs from RequestID order, and two share a time.
	ops := []store.Operation{
		{RequestID: "r-9", Kind: store.OpCreateAssignment, Status: store.StatusSucceeded, AccountID: "111111111111", PermissionSetID: "ps-a", PrincipalType: store.PrincipalUser, PrincipalID: "u-1", CreatedAt: at(1)},
		{RequestID: "r-2", Kind: store.OpCreateAssignment, Status: store.StatusInProgress, AccountID: "111111111111", PermissionSetID: "ps-a", PrincipalType: store.PrincipalGroup, PrincipalID: "g-1", CreatedAt: at(2)},
		{RequestID: "r-3", Kind: store.OpCreateAssignment, Status: store.StatusFailed, FailureReason: "no such account", CreatedAt: at(2)},
		{RequestID: "r-1", Kind: store.OpProvision, Status: store.StatusSucceeded, PermissionSetID: "ps-a", CreatedAt: at(3)},
		{RequestID: "r-0", Kind: store.OpCreateAssignment, Status: store.StatusSucceeded, CreatedAt: at(4)},
	}
	for _, op := range ops {
		must(t, s.PutOperation(ctx, &op))
	}
	got, err := s.GetOperation(ctx, "r-3")
	must(t, err)
	wantEqual(t, "operation", &ops[2], got)
	_, err = s.GetOperation(ctx, "r-missing")
	wantErr(t, err, store.ErrNotFound)

	// Put replaces: r-2 finishes.
	ops[1].Status = store.StatusSucceeded
	must(t, s.PutOperation(ctx, &ops[1]))
	got, err = s.GetOperation(ctx, "r-2")
	must(t, err)
	wantEqual(t, "finished operation", &ops[1], got)

	for _, tc := range []struct {
		name string
		f    store.OperationFilter
		want []store.Operation
	}{
		{"kind", store.OperationFilter{Kind: store.OpCreateAssignment}, []store.Operation{ops[0], ops[1], ops[2], ops[4]}},
		{"kind and status", store.OperationFilter{Kind: store.OpCreateAssignment, Status: store.StatusSucceeded}, []store.Operation{ops[0], ops[1], ops[4]}},
		{"other kind", store.OperationFilter{Kind: store.OpProvision}, ops[3:4]},
		{"no match", store.OperationFilter{Kind: store.OpDeleteAssignment}, []store.Operation{}},
		{"first page", store.OperationFilter{Kind: store.OpCreateAssignment, Page: store.Page{Limit: 2}}, ops[:2]},
		{"second page", store.OperationFilter{Kind: store.OpCreateAssignment, Page: store.Page{After: "r-2", Limit: 2}}, []store.Operation{ops[2], ops[4]}},
		{"after tie", store.OperationFilter{Kind: store.OpCreateAssignment, Page: store.Page{After: "r-3"}}, ops[4:]},
	} {
		got, err := s.ListOperations(ctx, tc.f)
		must(t, err)
		wantEqual(t, "operations: "+tc.name, tc.want, got)
	}
}

func testCustomerPolicies(t *testing.T, s store.Store) {
	ctx := t.Context()
	ps := []store.CustomerPolicy{
		{AccountID: "111111111111", Path: "/", Name: "B", Document: `{"Version":"2012-10-17"}`, CreatedAt: at(1), UpdatedAt: at(1)},
		{AccountID: "111111111111", Path: "/", Name: "C", Document: `{}`, CreatedAt: at(2), UpdatedAt: at(2)},
		{AccountID: "111111111111", Path: "/team/", Name: "A", Document: `{}`, CreatedAt: at(3), UpdatedAt: at(3)},
		{AccountID: "222222222222", Path: "/", Name: "B", Document: `{"other":true}`, CreatedAt: at(4), UpdatedAt: at(4)},
	}
	for _, i := range []int{3, 2, 1, 0} {
		must(t, s.PutCustomerPolicy(ctx, &ps[i]))
	}
	got, err := s.GetCustomerPolicy(ctx, "111111111111", "/", "B")
	must(t, err)
	wantEqual(t, "policy", &ps[0], got)
	_, err = s.GetCustomerPolicy(ctx, "111111111111", "/team/", "B")
	wantErr(t, err, store.ErrNotFound)

	ps[0].Document = `{"Version":"2012-10-17","Statement":[]}`
	ps[0].UpdatedAt = at(time.Hour)
	must(t, s.PutCustomerPolicy(ctx, &ps[0]))
	got, err = s.GetCustomerPolicy(ctx, "111111111111", "/", "B")
	must(t, err)
	wantEqual(t, "replaced policy", &ps[0], got)

	list, err := s.ListCustomerPolicies(ctx, "111111111111")
	must(t, err)
	wantEqual(t, "policies of account", ps[:3], list)

	must(t, s.DeleteCustomerPolicy(ctx, "111111111111", "/", "C"))
	wantErr(t, s.DeleteCustomerPolicy(ctx, "111111111111", "/", "C"), store.ErrNotFound)
	list, err = s.ListCustomerPolicies(ctx, "111111111111")
	must(t, err)
	wantEqual(t, "policies after delete", []store.CustomerPolicy{ps[0], ps[2]}, list)
	list, err = s.ListCustomerPolicies(ctx, "333333333333")
	must(t, err)
	wantEqual(t, "policies of empty account", []store.CustomerPolicy{}, list)
}

// testCustomerPolicyVersions checks that a policy's ID, description,
// versions, version counter and tags round-trip and are replaced whole.
func testCustomerPolicyVersions(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := store.CustomerPolicy{AccountID: "111111111111", Path: "/ci/", Name: "Deploy", Document: `{"v":2}`,
		CreatedAt: at(1), UpdatedAt: at(2), ID: "ANPAEXAMPLE0000000001", Description: "deploys",
		DefaultVersion: "v2", NextVersion: 3,
		Versions: []store.PolicyVersion{{ID: "v1", Document: `{"v":1}`, CreatedAt: at(1)}, {ID: "v2", Document: `{"v":2}`, CreatedAt: at(2)}},
		Tags:     []store.Tag{{Key: "team", Value: "red"}}}
	must(t, s.PutCustomerPolicy(ctx, &p))
	got, err := s.GetCustomerPolicy(ctx, p.AccountID, p.Path, p.Name)
	must(t, err)
	wantEqual(t, "policy with versions", &p, got)

	p.Versions = p.Versions[1:]
	p.Tags = nil
	p.Description = ""
	p.NextVersion = 4
	must(t, s.PutCustomerPolicy(ctx, &p))
	list, err := s.ListCustomerPolicies(ctx, p.AccountID)
	must(t, err)
	wantEqual(t, "replaced policy with versions", []store.CustomerPolicy{p}, list)
}

func testEvents(t *testing.T, s store.Store) {
	ctx := t.Context()
	es := []store.EventRecord{
		{ID: "e-5", Time: at(1), Source: "sso.amazonaws.com", Name: "CreatePermissionSet", Principal: "alice", Record: []byte(`{"eventName":"CreatePermissionSet"}`)},
		{ID: "e-1", Time: at(2), Source: "identitystore.amazonaws.com", Name: "CreateUser", Principal: "bob", Record: []byte(`{}`)},
		{ID: "e-2", Time: at(2), Source: "sso.amazonaws.com", Name: "CreatePermissionSet", Principal: "bob", ErrorCode: "ConflictException", Record: []byte(`{}`)},
		{ID: "e-0", Time: at(3), Source: "signin.amazonaws.com", Name: "UserAuthentication", Principal: "alice"},
	}
	for _, e := range es {
		must(t, s.AppendEvent(ctx, &e))
	}
	dup := es[0]
	dup.Name = "Other"
	wantErr(t, s.AppendEvent(ctx, &dup), store.ErrConflict)

	for _, tc := range []struct {
		name string
		f    store.EventFilter
		want []store.EventRecord
	}{
		{"all", store.EventFilter{}, es},
		{"range", store.EventFilter{Start: at(2), End: at(3)}, es[1:3]},
		{"start only", store.EventFilter{Start: at(2)}, es[1:]},
		{"name", store.EventFilter{Name: "CreatePermissionSet"}, []store.EventRecord{es[0], es[2]}},
		{"principal", store.EventFilter{Principal: "alice"}, []store.EventRecord{es[0], es[3]}},
		{"page", store.EventFilter{Page: store.Page{Limit: 2}}, es[:2]},
		{"after tie", store.EventFilter{Page: store.Page{After: "e-1", Limit: 2}}, es[2:4]},
		{"after in range", store.EventFilter{Start: at(1), End: at(3), Page: store.Page{After: "e-5"}}, es[1:3]},
		{"empty range", store.EventFilter{Start: at(4)}, []store.EventRecord{}},
	} {
		got, err := s.ListEvents(ctx, tc.f)
		must(t, err)
		wantEqual(t, "events: "+tc.name, tc.want, got)
	}
}

// testEventLookup covers the filters of CloudTrail's LookupEvents:
// attributes, newest first, resources, and resources kept through
// AppendEvents and DeleteEventsBefore.
func testEventLookup(t *testing.T, s store.Store) {
	ctx := t.Context()
	acct := store.EventResource{Type: "AWS::Organizations::Account", Name: "111111111111"}
	user := store.EventResource{Type: "AWS::IdentityStore::User", Name: "ed.developer"}
	// A second resource of the type of another, listed once by
	// ResourceType.
	user2 := store.EventResource{Type: "AWS::IdentityStore::User", Name: "ann"}
	es := []store.EventRecord{
		{ID: "e-3", Time: at(1), Source: "organizations.amazonaws.com", Name: "CreateAccount", Principal: "admin",
			AccessKeyID: "ASIAONE", Resources: []store.EventResource{acct}, Record: []byte(`{}`)},
		{ID: "e-1", Time: at(2), Source: "organizations.amazonaws.com", Name: "ListAccounts", Principal: "admin",
			ReadOnly: true, AccessKeyID: "ASIAONE", Record: []byte(`{}`)},
		{ID: "e-2", Time: at(2), Source: "identitystore.amazonaws.com", Name: "CreateUser", Principal: "ed.developer",
			AccessKeyID: "ASIATWO", Resources: []store.EventResource{user, acct, user2}},
	}
	must(t, s.AppendEvent(ctx, &es[0]))
	must(t, s.AppendEvents(ctx, es[1:]))

	yes, no := true, false
	for _, tc := range []struct {
		name string
		f    store.EventFilter
		want []store.EventRecord
	}{
		{"all", store.EventFilter{}, es},
		{"newest first", store.EventFilter{Newest: true}, []store.EventRecord{es[2], es[1], es[0]}},
		{"newest page", store.EventFilter{Newest: true, Page: store.Page{Limit: 1}}, es[2:]},
		{"newest after tie", store.EventFilter{Newest: true, Page: store.Page{After: "e-2", Limit: 1}}, es[1:2]},
		{"newest after", store.EventFilter{Newest: true, Page: store.Page{After: "e-1"}}, es[:1]},
		{"id", store.EventFilter{ID: "e-1"}, es[1:2]},
		{"source", store.EventFilter{Source: "organizations.amazonaws.com"}, es[:2]},
		{"access key", store.EventFilter{AccessKeyID: "ASIATWO"}, es[2:]},
		{"read only", store.EventFilter{ReadOnly: &yes}, es[1:2]},
		{"not read only", store.EventFilter{ReadOnly: &no}, []store.EventRecord{es[0], es[2]}},
		{"resource type", store.EventFilter{ResourceType: "AWS::IdentityStore::User"}, es[2:]},
		{"resource name", store.EventFilter{ResourceName: "111111111111"}, []store.EventRecord{es[0], es[2]}},
		{"resource name newest", store.EventFilter{ResourceName: "111111111111", Newest: true}, []store.EventRecord{es[2], es[0]}},
		{"no such resource", store.EventFilter{ResourceName: "222222222222"}, []store.EventRecord{}},
		{"second resource of a type", store.EventFilter{ResourceName: "ann"}, es[2:]},
		{"a type is no resource name", store.EventFilter{ResourceName: "AWS::IdentityStore::User"}, []store.EventRecord{}},
		{"a name is no resource type", store.EventFilter{ResourceType: "111111111111"}, []store.EventRecord{}},
		{"end", store.EventFilter{End: at(2), Newest: true}, es[:1]},
	} {
		got, err := s.ListEvents(ctx, tc.f)
		must(t, err)
		wantEqual(t, "lookup: "+tc.name, tc.want, got)
	}

	n, err := s.DeleteEventsBefore(ctx, at(2))
	must(t, err)
	if n != 1 {
		t.Errorf("DeleteEventsBefore deleted %d events, want 1", n)
	}
	got, err := s.ListEvents(ctx, store.EventFilter{ResourceName: "111111111111"})
	must(t, err)
	wantEqual(t, "resource name after retention", es[2:], got)
	// A new event may take the ID of a deleted one without inheriting its
	// resources.
	again := store.EventRecord{ID: "e-3", Time: at(5), Name: "Again"}
	must(t, s.AppendEvent(ctx, &again))
	got, err = s.ListEvents(ctx, store.EventFilter{ResourceType: "AWS::Organizations::Account"})
	must(t, err)
	wantEqual(t, "resource type after reuse", es[2:], got)
}

// testEventResourcesMany appends more resources in one AppendEvents call
// than one INSERT statement holds, one of them listed twice, and finds
// every event by each of its resources.
func testEventResourcesMany(t *testing.T, s store.Store) {
	ctx := t.Context()
	shared := store.EventResource{Type: "AWS::SSO::Instance", Name: "arn:aws:sso:::instance/ssoins-1111111111111111"}
	es := make([]store.EventRecord, 150)
	for i := range es {
		own := store.EventResource{Type: "AWS::SSO::PermissionSet", Name: fmt.Sprintf("arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-%016d", i)}
		es[i] = store.EventRecord{ID: fmt.Sprintf("m-%03d", i), Time: at(1), Name: "DescribePermissionSet",
			ReadOnly: true, Resources: []store.EventResource{shared, own}}
	}
	es[7].Resources = append(es[7].Resources, shared)
	must(t, s.AppendEvents(ctx, es))
	got, err := s.ListEvents(ctx, store.EventFilter{ResourceName: shared.Name})
	must(t, err)
	if len(got) != len(es) {
		t.Fatalf("ListEvents by %s = %d events, want %d", shared.Name, len(got), len(es))
	}
	for _, i := range []int{0, 7, 63, 64, 127, 128, 149} {
		got, err := s.ListEvents(ctx, store.EventFilter{ResourceName: es[i].Resources[1].Name})
		must(t, err)
		wantEqual(t, "lookup by the resource of "+es[i].ID, es[i:i+1], got)
	}
	got, err = s.ListEvents(ctx, store.EventFilter{ResourceType: "AWS::SSO::PermissionSet"})
	must(t, err)
	if len(got) != len(es) {
		t.Errorf("ListEvents by resource type = %d events, want %d", len(got), len(es))
	}
}

func testAppendEvents(t *testing.T, s store.Store) {
	ctx := t.Context()
	must(t, s.AppendEvents(ctx, nil))

	// More events than one statement holds, in an order that is not the
	// list order, with every column set or empty.
	es := make([]store.EventRecord, 300)
	for i := range es {
		e := store.EventRecord{ID: fmt.Sprintf("e-%03d", len(es)-1-i), Time: at(time.Duration(i % 7)), Source: "sso.amazonaws.com",
			Name: "GetRoleCredentials", Principal: fmt.Sprintf("user-%d", i%3)}
		if i%2 == 0 {
			e.ErrorCode = "UnauthorizedException"
			e.Record = []byte(fmt.Sprintf(`{"i":%d}`, i))
		}
		es[i] = e
	}
	must(t, s.AppendEvents(ctx, es[:1]))
	must(t, s.AppendEvents(ctx, es[1:]))
	want := slices.Clone(es)
	slices.SortFunc(want, func(a, b store.EventRecord) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	got, err := s.ListEvents(ctx, store.EventFilter{})
	must(t, err)
	wantEqual(t, "appended events", want, got)

	// An ID already stored, or twice in the slice, is ErrConflict and the
	// Store stores none of the slice.
	fresh := func(n int) []store.EventRecord {
		out := make([]store.EventRecord, n)
		for i := range out {
			out[i] = store.EventRecord{ID: fmt.Sprintf("f-%03d", i), Time: at(time.Hour), Name: "Fresh"}
		}
		return out
	}
	for _, tc := range []struct {
		name string
		es   []store.EventRecord
	}{
		{"stored first", append([]store.EventRecord{es[7]}, fresh(100)...)},
		{"stored last", append(fresh(100), es[7])},
		{"repeated", append(fresh(100), fresh(1)...)},
	} {
		wantErr(t, s.AppendEvents(ctx, tc.es), store.ErrConflict)
		got, err := s.ListEvents(ctx, store.EventFilter{Name: "Fresh"})
		must(t, err)
		wantEqual(t, "events after conflict: "+tc.name, []store.EventRecord{}, got)
	}

	// Inside Update: the events commit with the transaction or not at all.
	must(t, s.Update(ctx, func(tx store.Tx) error {
		if err := tx.AppendEvent(ctx, &store.EventRecord{ID: "g-000", Time: at(2 * time.Hour), Name: "InTx"}); err != nil {
			return err
		}
		return tx.AppendEvents(ctx, []store.EventRecord{{ID: "g-001", Time: at(2 * time.Hour), Name: "InTx"}, {ID: "g-002", Time: at(2 * time.Hour), Name: "InTx"}})
	}))
	errRollback := errors.New("roll back")
	err = s.Update(ctx, func(tx store.Tx) error {
		if err := tx.AppendEvents(ctx, fresh(3)); err != nil {
			return err
		}
		return errRollback
	})
	wantErr(t, err, errRollback)
	got, err = s.ListEvents(ctx, store.EventFilter{Start: at(time.Hour)})
	must(t, err)
	wantEqual(t, "events of transactions", []store.EventRecord{
		{ID: "g-000", Time: at(2 * time.Hour), Name: "InTx"},
		{ID: "g-001", Time: at(2 * time.Hour), Name: "InTx"},
		{ID: "g-002", Time: at(2 * time.Hour), Name: "InTx"},
	}, got)
}

func testDeleteEventsBefore(t *testing.T, s store.Store) {
	ctx := t.Context()
	es := []store.EventRecord{
		{ID: "e-1", Time: at(time.Hour - time.Nanosecond), Source: "sso.amazonaws.com", Name: "Old"},
		{ID: "e-2", Time: at(time.Hour), Source: "sso.amazonaws.com", Name: "AtCutoff"},
		{ID: "e-3", Time: at(2 * time.Hour), Source: "sso.amazonaws.com", Name: "New"},
	}
	must(t, s.AppendEvents(ctx, es))
	seq, err := s.ChangeSeq(ctx)
	must(t, err)

	n, err := s.DeleteEventsBefore(ctx, at(time.Hour))
	must(t, err)
	if n != 1 {
		t.Fatalf("DeleteEventsBefore deleted %d, want 1", n)
	}
	got, err := s.ListEvents(ctx, store.EventFilter{})
	must(t, err)
	wantEqual(t, "events left", es[1:], got)
	// Idempotent, and inside Update it rolls back with the transaction.
	n, err = s.DeleteEventsBefore(ctx, at(time.Hour))
	must(t, err)
	if n != 0 {
		t.Fatalf("second DeleteEventsBefore deleted %d, want 0", n)
	}
	errStop := errors.New("stop")
	err = s.Update(ctx, func(tx store.Tx) error {
		if n, err := tx.DeleteEventsBefore(ctx, at(3*time.Hour)); err != nil || n != 2 {
			t.Errorf("DeleteEventsBefore in Update = %d, %v; want 2", n, err)
		}
		return errStop
	})
	wantErr(t, err, errStop)
	got, err = s.ListEvents(ctx, store.EventFilter{})
	must(t, err)
	wantEqual(t, "events after rollback", es[1:], got)
	after, err := s.ChangeSeq(ctx)
	must(t, err)
	if after != seq {
		t.Errorf("ChangeSeq moved from %d to %d", seq, after)
	}
}
