package automation_test

import (
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/automation"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
)

// BenchmarkLookupAccessKey measures the key source of an AKIA-signed
// request: the key and user reads and the unsealing of the secret.
func BenchmarkLookupAccessKey(b *testing.B) {
	f := newBenchFixture(b)
	ctx := b.Context()
	if _, err := f.svc.CreateUser(ctx, acct, "ci", "", nil); err != nil {
		b.Fatal(err)
	}
	k, err := f.svc.CreateAccessKey(ctx, acct, "ci")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := f.svc.Lookup(ctx, k.Key.ID); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUserPolicySet measures what authorizing an automation user adds
// per call: reading the user and deciding with its cached compiled
// policies.
func BenchmarkUserPolicySet(b *testing.B) {
	f := newBenchFixture(b)
	ctx := b.Context()
	u, err := f.svc.CreateUser(ctx, acct, "ci", "", nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := f.svc.AttachUserPolicy(ctx, acct, "ci", "arn:aws:iam::aws:policy/ReadOnlyAccess"); err != nil {
		b.Fatal(err)
	}
	pols := &automation.Policies{Store: f.w.Store, Users: f.svc, Now: f.clock.Now}
	req := &policy.Request{Action: "iam:GetUser", Resources: []string{"arn:aws:iam::111111111111:user/ci"}}
	b.ReportAllocs()
	for b.Loop() {
		set, err := pols.UserPolicySet(ctx, u.ID)
		if err != nil {
			b.Fatal(err)
		}
		if set.Decide(req) != policy.Allow {
			b.Fatal("denied")
		}
	}
}
