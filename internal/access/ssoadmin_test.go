package access_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/domaintest"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/policy/managed"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

func TestResourceTags(t *testing.T) {
	w := domaintest.New(t)
	ctx := t.Context()
	ps := mustPS(t, w, "Tagged", "")
	insARN := arn.InstanceARN(w.Instance.InstanceID)
	psARN := w.Access.PermissionSetARN(ps.ID)

	for _, res := range []string{insARN, psARN} {
		if got, err := w.Access.ListTags(ctx, res); err != nil || len(got) != 0 || got == nil {
			t.Fatalf("ListTags(%s) before tagging = %#v, %v; want an empty list", res, got, err)
		}
		if err := w.Access.TagResource(ctx, res, []store.Tag{{Key: "team", Value: "infra"}, {Key: "cost", Value: "1"}}); err != nil {
			t.Fatal(err)
		}
		if err := w.Access.TagResource(ctx, res, []store.Tag{{Key: "cost", Value: "2"}, {Key: "env", Value: ""}}); err != nil {
			t.Fatal(err)
		}
		want := []store.Tag{{Key: "team", Value: "infra"}, {Key: "cost", Value: "2"}, {Key: "env", Value: ""}}
		got, err := w.Access.ListTags(ctx, res)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("tags of %s (-want +got):\n%s", res, d)
		}
		if err := w.Access.UntagResource(ctx, res, []string{"team", "absent"}); err != nil {
			t.Fatal(err)
		}
		got, _ = w.Access.ListTags(ctx, res)
		if d := cmp.Diff(want[1:], got); d != "" {
			t.Fatalf("tags of %s after untag (-want +got):\n%s", res, d)
		}
	}
	// Tagging a permission set does not make its roles stale.
	if got, _ := w.Access.GetPermissionSet(ctx, ps.ID); got.Version != 1 {
		t.Fatalf("version after tagging = %d, want 1", got.Version)
	}

	many := make([]store.Tag, 74)
	for i := range many {
		many[i] = store.Tag{Key: fmt.Sprintf("k%02d", i), Value: "v"}
	}
	otherIns := "arn:aws:sso:::instance/ssoins-00000000000000ff"
	before := w.Snap(t)
	for _, c := range []struct {
		name string
		err  error
		kind fault.Kind
	}{
		{"76 tags", w.Access.TagResource(ctx, insARN, many), fault.QuotaExceeded},
		{"no tags", w.Access.TagResource(ctx, insARN, nil), fault.Validation},
		{"bad key", w.Access.TagResource(ctx, insARN, []store.Tag{{Key: "a*b"}}), fault.Validation},
		{"other instance", w.Access.TagResource(ctx, otherIns, []store.Tag{{Key: "k"}}), fault.NotFound},
		{"other instance's permission set", w.Access.TagResource(ctx, "arn:aws:sso:::permissionSet/ssoins-00000000000000ff/ps-0000000000000001", []store.Tag{{Key: "k"}}), fault.NotFound},
		{"unknown permission set", w.Access.TagResource(ctx, w.Access.PermissionSetARN("ps-0000000000000001"), []store.Tag{{Key: "k"}}), fault.NotFound},
		{"application", w.Access.TagResource(ctx, "arn:aws:sso::111111111111:application/"+w.Instance.InstanceID+"/apl-0123456789abcdef", []store.Tag{{Key: "k"}}), fault.NotFound},
		{"not an ARN", w.Access.TagResource(ctx, "arn:aws:iam::111111111111:role/x", []store.Tag{{Key: "k"}}), fault.Validation},
		{"untag no keys", w.Access.UntagResource(ctx, insARN, nil), fault.Validation},
		{"untag bad key", w.Access.UntagResource(ctx, psARN, []string{""}), fault.Validation},
		{"untag other instance", w.Access.UntagResource(ctx, otherIns, []string{"k"}), fault.NotFound},
	} {
		if got := fault.KindOf(c.err); got != c.kind {
			t.Errorf("%s: %v (kind %v), want kind %v", c.name, c.err, got, c.kind)
		}
	}
	if _, err := w.Access.ListTags(ctx, otherIns); fault.KindOf(err) != fault.NotFound {
		t.Errorf("ListTags of another instance: %v, want NotFound", err)
	}
	if after := w.Snap(t); after != before {
		t.Fatalf("refused tag calls changed the store: %+v -> %+v", before, after)
	}
}

func TestQuotas(t *testing.T) {
	w := domaintest.New(t)
	ctx := t.Context()
	w.Access.MaxPermissionSets = 2
	w.Access.MaxProvisionedPerAccount = 1
	mustAccount(t, w, "111111111111", "dev")
	u := mustUser(t, w, "ed")
	a := mustPS(t, w, "A", "")
	b := mustPS(t, w, "B", "")

	before := w.Snap(t)
	_, err := w.Access.CreatePermissionSet(ctx, access.PermissionSetInput{Name: "C"})
	wantFault(t, err, fault.QuotaExceeded, "ServiceQuotaExceededException")
	if after := w.Snap(t); after != before {
		t.Fatalf("refused create changed the store: %+v -> %+v", before, after)
	}

	if _, err := w.Access.CreateAssignment(ctx, access.AssignmentInput{AccountID: "111111111111", PermissionSetID: a.ID, PrincipalType: store.PrincipalUser, PrincipalID: u.ID}); err != nil {
		t.Fatal(err)
	}
	before = w.Snap(t)
	_, err = w.Access.CreateAssignment(ctx, access.AssignmentInput{AccountID: "111111111111", PermissionSetID: b.ID, PrincipalType: store.PrincipalUser, PrincipalID: u.ID})
	wantFault(t, err, fault.QuotaExceeded, "ServiceQuotaExceededException")
	_, err = w.Access.Provision(ctx, b.ID, "111111111111")
	wantFault(t, err, fault.QuotaExceeded, "ServiceQuotaExceededException")
	if after := w.Snap(t); after != before {
		t.Fatalf("refused assignment changed the store: %+v -> %+v", before, after)
	}

	// 20 managed and customer-managed policies in all. The managed ones
	// must be real: attachments are validated.
	known := managed.ARNs()
	for i := range access.MaxAttachedPolicies {
		if i%2 == 0 {
			err = w.Access.AttachManagedPolicy(ctx, b.ID, known[i])
		} else {
			err = w.Access.AttachCustomerPolicy(ctx, b.ID, store.PolicyRef{Name: fmt.Sprintf("C%d", i)})
		}
		if err != nil {
			t.Fatalf("attach %d: %v", i, err)
		}
	}
	wantFault(t, w.Access.AttachManagedPolicy(ctx, b.ID, known[access.MaxAttachedPolicies+1]), fault.QuotaExceeded, "ServiceQuotaExceededException")
	wantFault(t, w.Access.AttachCustomerPolicy(ctx, b.ID, store.PolicyRef{Name: "One", Path: "/more/"}), fault.QuotaExceeded, "ServiceQuotaExceededException")
}

func TestProvisioningStatus(t *testing.T) {
	w := domaintest.New(t)
	ctx := t.Context()
	mustAccount(t, w, "111111111111", "dev")
	mustAccount(t, w, "222222222222", "prod")
	u := mustUser(t, w, "ed")
	ps := mustPS(t, w, "Power", "")
	idle := mustPS(t, w, "Idle", "")

	// Provisioning a set that is provisioned nowhere succeeds and does nothing.
	op, err := w.Access.Provision(ctx, idle.ID, "")
	if err != nil || op.Status != store.StatusSucceeded {
		t.Fatalf("Provision(ALL_PROVISIONED_ACCOUNTS) of an unprovisioned set = %+v, %v", op, err)
	}
	if accts, err := w.Access.AccountsForPermissionSet(ctx, idle.ID, ""); err != nil || len(accts) != 0 {
		t.Fatalf("accounts of an unprovisioned set = %v, %v", accts, err)
	}

	for _, acct := range []string{"111111111111", "222222222222"} {
		if _, err := w.Access.CreateAssignment(ctx, access.AssignmentInput{AccountID: acct, PermissionSetID: ps.ID, PrincipalType: store.PrincipalUser, PrincipalID: u.ID}); err != nil {
			t.Fatal(err)
		}
	}
	check := func(when string, latest, stale []string) {
		t.Helper()
		for status, want := range map[string][]string{"": append(slices.Clone(latest), stale...), access.ProvisionedLatest: latest, access.ProvisionedNotLatest: stale} {
			got, err := w.Access.AccountsForPermissionSet(ctx, ps.ID, status)
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(want)
			if want == nil {
				want = []string{}
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("%s: accounts with status %q (-want +got):\n%s", when, status, d)
			}
			for _, acct := range []string{"111111111111", "222222222222"} {
				sets, err := w.Access.PermissionSetsInAccount(ctx, acct, status)
				if err != nil {
					t.Fatal(err)
				}
				if in := slices.Contains(sets, ps.ID); in != slices.Contains(want, acct) {
					t.Errorf("%s: PermissionSetsInAccount(%s, %q) = %v, want it to list %s: %v", when, acct, status, sets, ps.ID, !in)
				}
			}
		}
	}
	check("after assigning", []string{"111111111111", "222222222222"}, nil)
	if err := w.Access.PutInlinePolicy(ctx, ps.ID, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`); err != nil {
		t.Fatal(err)
	}
	check("after a policy change", nil, []string{"111111111111", "222222222222"})
	if _, err := w.Access.Provision(ctx, ps.ID, "222222222222"); err != nil {
		t.Fatal(err)
	}
	check("after provisioning one account", []string{"222222222222"}, []string{"111111111111"})
	if _, err := w.Access.Provision(ctx, ps.ID, ""); err != nil {
		t.Fatal(err)
	}
	check("after provisioning all", []string{"111111111111", "222222222222"}, nil)

	if _, err := w.Access.AccountsForPermissionSet(ctx, ps.ID, "PROVISIONED"); fault.KindOf(err) != fault.Validation {
		t.Errorf("bad status: %v, want Validation", err)
	}
	if _, err := w.Access.AccountsForPermissionSet(ctx, "ps-0000000000000001", ""); fault.KindOf(err) != fault.NotFound {
		t.Errorf("unknown permission set: %v, want NotFound", err)
	}
	if _, err := w.Access.PermissionSetsInAccount(ctx, "333333333333", ""); fault.KindOf(err) != fault.NotFound {
		t.Errorf("unknown account: %v, want NotFound", err)
	}
	if _, err := w.Access.PermissionSetsInAccount(ctx, "3333", ""); fault.KindOf(err) != fault.Validation {
		t.Errorf("bad account: %v, want Validation", err)
	}

	// ProvisionPermissionSet into an account without assignments creates
	// the role there; deleting the unassigned set removes it.
	if _, err := w.Access.Provision(ctx, idle.ID, "111111111111"); err != nil {
		t.Fatal(err)
	}
	if accts, _ := w.Access.AccountsForPermissionSet(ctx, idle.ID, ""); !slices.Equal(accts, []string{"111111111111"}) {
		t.Fatalf("accounts of idle after provisioning = %v", accts)
	}
	if err := w.Access.DeletePermissionSet(ctx, idle.ID); err != nil {
		t.Fatalf("delete of an unassigned, provisioned set: %v", err)
	}
	if _, err := w.Store.GetProvisionedRole(ctx, "111111111111", idle.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("role of the deleted set: %v, want not found", err)
	}
}

func TestListOperations(t *testing.T) {
	w := domaintest.New(t)
	ctx := t.Context()
	mustAccount(t, w, "111111111111", "dev")
	u := mustUser(t, w, "ed")
	ps := mustPS(t, w, "Deploy", "")
	if err := w.Access.AttachCustomerPolicy(ctx, ps.ID, store.PolicyRef{Name: "Missing"}); err != nil {
		t.Fatal(err)
	}
	in := access.AssignmentInput{AccountID: "111111111111", PermissionSetID: ps.ID, PrincipalType: store.PrincipalUser, PrincipalID: u.ID}
	failed, err := w.Access.CreateAssignment(ctx, in)
	if err != nil || failed.Status != store.StatusFailed {
		t.Fatalf("CreateAssignment with a missing policy = %+v, %v", failed, err)
	}
	if err := w.Access.DetachCustomerPolicy(ctx, ps.ID, store.PolicyRef{Name: "Missing"}); err != nil {
		t.Fatal(err)
	}
	ok, err := w.Access.CreateAssignment(ctx, in)
	if err != nil || ok.Status != store.StatusSucceeded {
		t.Fatalf("CreateAssignment = %+v, %v", ok, err)
	}
	for status, want := range map[string][]string{"": {failed.RequestID, ok.RequestID}, store.StatusFailed: {failed.RequestID}, store.StatusSucceeded: {ok.RequestID}, store.StatusInProgress: {}} {
		ops, err := w.Access.ListOperations(ctx, store.OpCreateAssignment, status, store.Page{})
		if err != nil {
			t.Fatal(err)
		}
		got := []string{}
		for _, op := range ops {
			got = append(got, op.RequestID)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("operations with status %q (-want +got):\n%s", status, d)
		}
	}
	if _, err := w.Access.ListOperations(ctx, store.OpCreateAssignment, "DONE", store.Page{}); fault.KindOf(err) != fault.Validation {
		t.Errorf("bad status: %v, want Validation", err)
	}
}
