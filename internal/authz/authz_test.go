package authz_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/authz"
	"github.com/gatehouse-dev/gatehouse/internal/domaintest"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
	"github.com/gatehouse-dev/gatehouse/internal/policy/managed"
	"github.com/gatehouse-dev/gatehouse/internal/session"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

const acct = "111122223333"

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// storePS reads permission sets straight from the store, so tests see a
// change at once (the access cache would see it within its refresh
// interval).
type storePS struct{ st store.Store }

func (s storePS) PermissionSet(ctx context.Context, id string) (*store.PermissionSet, error) {
	return s.st.GetPermissionSet(ctx, id)
}

type fixture struct {
	w     *domaintest.World
	clock *clock
	pols  *authz.Policies
	az    *authz.Authorizer
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	w := domaintest.New(t)
	if _, err := w.Access.CreateAccount(t.Context(), acct, "Dev", "dev@example.test"); err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 11, 22, 4, 0, 0, 0, time.UTC)}
	pols := &authz.Policies{Store: w.Store, Now: c.Now}
	az := &authz.Authorizer{Policies: pols, PermissionSets: storePS{w.Store}, Store: w.Store, Audit: w.Audit, Instance: w.Instance}
	return &fixture{w: w, clock: c, pols: pols, az: az}
}

func (f *fixture) permissionSet(t testing.TB, name string, managedARNs ...string) *store.PermissionSet {
	t.Helper()
	ctx := t.Context()
	ps, err := f.w.Access.CreatePermissionSet(ctx, access.PermissionSetInput{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range managedARNs {
		if err := f.w.Access.AttachManagedPolicy(ctx, ps.ID, a); err != nil {
			t.Fatal(err)
		}
	}
	return f.get(t, ps.ID)
}

func (f *fixture) get(t testing.TB, id string) *store.PermissionSet {
	t.Helper()
	ps, err := f.w.Store.GetPermissionSet(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func (f *fixture) putCustomerPolicy(t testing.TB, name, doc string) {
	t.Helper()
	now := f.clock.Now()
	if err := f.w.Store.PutCustomerPolicy(t.Context(), &store.CustomerPolicy{
		AccountID: acct, Path: "/", Name: name, Document: doc, CreatedAt: now, UpdatedAt: now,
	}); err != nil {
		t.Fatal(err)
	}
}

func roleSession(ps *store.PermissionSet, mfa bool) *session.Role {
	return &session.Role{
		AccessKeyID: "ASIAEXAMPLEEXAMPLE00", UserID: "1234567890-4f6e0c2a", UserName: "alice@example.test",
		AccountID: acct, PermissionSetID: ps.ID, RoleName: "AWSReservedSSO_" + ps.Name + "_0123456789abcdef",
		RoleID: "AROAEXAMPLEROLEID1234", MFA: mfa,
		AuthTime: time.Date(2026, 11, 22, 3, 50, 0, 0, time.UTC), IssuedAt: time.Date(2026, 11, 22, 3, 55, 0, 0, time.UTC),
		Expiration: time.Date(2026, 11, 22, 4, 55, 0, 0, time.UTC),
	}
}

func TestBuildContext(t *testing.T) {
	now := time.Date(2026, 11, 22, 4, 0, 0, 0, time.UTC)
	ps := &store.PermissionSet{ID: "ps-0f1e2d3c4b5a6978", Name: "ReadOnly"}
	base := map[string][]string{
		"aws:currenttime":            {"2026-11-22T04:00:00Z"},
		"aws:epochtime":              {"1795320000"},
		"aws:securetransport":        {"true"},
		"aws:sourceip":               {"192.0.2.10"},
		"aws:useragent":              {"aws-cli/2.9.19"},
		"aws:requestedregion":        {"us-west-2"},
		"aws:viaawsservice":          {"false"},
		"aws:principalarn":           {"arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_ReadOnly_0123456789abcdef"},
		"aws:principalaccount":       {acct},
		"aws:principaltype":          {"AssumedRole"},
		"aws:userid":                 {"AROAEXAMPLEROLEID1234:alice@example.test"},
		"aws:tokenissuetime":         {"2026-11-22T03:55:00Z"},
		"aws:multifactorauthpresent": {"true"},
		"aws:multifactorauthage":     {"600"},
	}
	with := func(edit func(m map[string][]string)) map[string][]string {
		m := make(map[string][]string, len(base))
		for k, v := range base {
			m[k] = v
		}
		edit(m)
		return m
	}
	req := authz.Request{Time: now, Secure: true, SourceIP: "192.0.2.10", UserAgent: "aws-cli/2.9.19", Region: "us-west-2"}
	tests := []struct {
		name string
		sess *session.Role
		home string
		req  authz.Request
		want map[string][]string
	}{
		{name: "us-east-1 home region, MFA", sess: roleSession(ps, true), home: "us-east-1", req: req, want: base},
		{name: "other home region has a region path", sess: roleSession(ps, true), home: "us-west-2", req: req, want: with(func(m map[string][]string) {
			m["aws:principalarn"] = []string{"arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/us-west-2/AWSReservedSSO_ReadOnly_0123456789abcdef"}
		})},
		{name: "no MFA: present false, no age", sess: roleSession(ps, false), home: "us-east-1", req: req, want: with(func(m map[string][]string) {
			m["aws:multifactorauthpresent"] = []string{"false"}
			delete(m, "aws:multifactorauthage")
		})},
		{name: "plain HTTP, no user agent", sess: roleSession(ps, true), home: "us-east-1",
			req: authz.Request{Time: now, SourceIP: "192.0.2.10", Region: "us-west-2"}, want: with(func(m map[string][]string) {
				m["aws:securetransport"] = []string{"false"}
				delete(m, "aws:useragent")
			})},
		{name: "request tags and tag keys", sess: roleSession(ps, true), home: "us-east-1",
			req: authz.Request{Time: now, Secure: true, SourceIP: "192.0.2.10", UserAgent: "aws-cli/2.9.19", Region: "us-west-2",
				Tags: []store.Tag{{Key: "env", Value: "prod"}, {Key: "Team", Value: "red"}}, TagKeys: []string{"env", "owner"}},
			want: with(func(m map[string][]string) {
				m["aws:requesttag/env"] = []string{"prod"}
				m["aws:requesttag/team"] = []string{"red"}
				m["aws:tagkeys"] = []string{"env", "Team", "owner"}
			})},
		{name: "no session: transport keys only", home: "us-east-1", req: req, want: map[string][]string{
			"aws:currenttime": {"2026-11-22T04:00:00Z"}, "aws:epochtime": {"1795320000"}, "aws:securetransport": {"true"},
			"aws:sourceip": {"192.0.2.10"}, "aws:useragent": {"aws-cli/2.9.19"}, "aws:requestedregion": {"us-west-2"},
			"aws:viaawsservice": {"false"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := policy.NewContext(16)
			c.Set("stale:key", "x") // BuildContext starts afresh
			authz.BuildContext(c, tt.sess, tt.home, tt.req)
			got := map[string][]string{}
			for _, k := range c.Keys() {
				v, _ := c.Values(k)
				got[k] = v
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("context (-want +got):\n%s", diff)
			}
			if c.Has("aws:username") {
				t.Error("role sessions must not carry aws:username")
			}
		})
	}
}

const (
	readOnlyARN  = "arn:aws:iam::aws:policy/ReadOnlyAccess"
	adminARN     = "arn:aws:iam::aws:policy/AdministratorAccess"
	powerUserARN = "arn:aws:iam::aws:policy/PowerUserAccess"
)

// mixed builds a permission set with a managed policy, a customer-managed
// policy, a missing customer-managed policy, an inline policy and a
// customer-managed boundary.
func (f *fixture) mixed(t testing.TB) *store.PermissionSet {
	t.Helper()
	ctx := t.Context()
	ps := f.permissionSet(t, "Mixed", readOnlyARN)
	f.putCustomerPolicy(t, "S3Writer", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::bucket/*"}]}`)
	f.putCustomerPolicy(t, "Boundary", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["s3:*","sso:Describe*"],"Resource":"*"},
		{"Sid":"NoSecrets","Effect":"Deny","Action":"s3:PutObject","Resource":"arn:aws:s3:::bucket/secret/*"}]}`)
	for _, name := range []string{"S3Writer", "NotStored"} {
		if err := f.w.Access.AttachCustomerPolicy(ctx, ps.ID, store.PolicyRef{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.w.Access.PutInlinePolicy(ctx, ps.ID, `{"Version":"2012-10-17","Statement":[
		{"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"},
		{"Effect":"Allow","Action":"sso:CreatePermissionSet","Resource":"*"}]}`); err != nil {
		t.Fatal(err)
	}
	if err := f.w.Access.PutBoundary(ctx, ps.ID, store.Boundary{CustomerPolicy: &store.PolicyRef{Name: "Boundary"}}); err != nil {
		t.Fatal(err)
	}
	return f.get(t, ps.ID)
}

func TestEffectivePolicy(t *testing.T) {
	f := newFixture(t)
	ps := f.mixed(t)
	eff, err := f.pols.Effective(t.Context(), ps, acct)
	if err != nil {
		t.Fatal(err)
	}
	type src struct {
		ID       string
		Type     authz.SourceType
		Boundary bool
	}
	var gotSrc []src
	for _, s := range eff.Sources {
		if s.Document == "" {
			t.Errorf("source %s has no document text", s.ID)
		}
		gotSrc = append(gotSrc, src{s.ID, s.Type, s.Boundary})
	}
	wantSrc := []src{
		{readOnlyARN, authz.SourceAWSManaged, false},
		{"S3Writer", authz.SourceUserManaged, false},
		{authz.InlinePolicyName, authz.SourceRole, false},
		{"Boundary", authz.SourceUserManaged, true},
	}
	if diff := cmp.Diff(wantSrc, gotSrc); diff != "" {
		t.Errorf("sources (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]store.PolicyRef{{Name: "NotStored", Path: "/"}}, eff.MissingCustomerPolicies); diff != "" {
		t.Errorf("missing customer policies (-want +got):\n%s", diff)
	}
	tests := []struct {
		action, resource string
		want             policy.Decision
	}{
		{"s3:GetObject", "arn:aws:s3:::bucket/k", policy.Allow},               // managed ∩ boundary
		{"s3:PutObject", "arn:aws:s3:::bucket/k", policy.Allow},               // customer-managed ∩ boundary
		{"s3:PutObject", "arn:aws:s3:::other/k", policy.ImplicitDeny},         // no identity allow
		{"s3:PutObject", "arn:aws:s3:::bucket/secret/k", policy.ExplicitDeny}, // boundary deny
		{"s3:DeleteBucket", "arn:aws:s3:::bucket", policy.ExplicitDeny},       // inline deny
		{"ec2:DescribeInstances", "*", policy.ImplicitDeny},                   // managed allows, boundary does not
		{"sso:CreatePermissionSet", "*", policy.ImplicitDeny},                 // inline allows, boundary does not
		{"sso:DescribePermissionSet", "*", policy.Allow},                      // ReadOnlyAccess ∩ boundary
	}
	for _, tt := range tests {
		req := policy.Request{Action: tt.action, Resources: []string{tt.resource}}
		if got := eff.Set.Decide(&req); got != tt.want {
			t.Errorf("%s on %s = %v, want %v", tt.action, tt.resource, got, tt.want)
		}
	}
}

func TestMissingBoundaryAllowsNothing(t *testing.T) {
	f := newFixture(t)
	ps := f.permissionSet(t, "Bounded", adminARN)
	if err := f.w.Access.PutBoundary(t.Context(), ps.ID, store.Boundary{CustomerPolicy: &store.PolicyRef{Name: "Gone"}}); err != nil {
		t.Fatal(err)
	}
	eff, err := f.pols.Effective(t.Context(), f.get(t, ps.ID), acct)
	if err != nil {
		t.Fatal(err)
	}
	req := policy.Request{Action: "s3:GetObject"}
	if got := eff.Set.Decide(&req); got != policy.ImplicitDeny {
		t.Errorf("with an unresolvable boundary s3:GetObject = %v, want implicitDeny", got)
	}
}

func TestAuthorizeMessages(t *testing.T) {
	f := newFixture(t)
	mixed := f.mixed(t)
	admin := f.permissionSet(t, "AdministratorAccess", adminARN)
	power := f.permissionSet(t, "PowerUserAccess", powerUserARN)
	tests := []struct {
		name      string
		ps        *store.PermissionSet
		action    string
		resources []string
		want      string // "" = allowed
	}{
		{name: "admin allowed", ps: admin, action: "iam:SimulateCustomPolicy"},
		{name: "power user iam implicit deny", ps: power, action: "iam:SimulateCustomPolicy",
			want: "User: arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_PowerUserAccess_0123456789abcdef/alice@example.test is not authorized to perform: iam:SimulateCustomPolicy on resource: * because no identity-based policy allows the iam:SimulateCustomPolicy action"},
		{name: "power user may list roles", ps: power, action: "iam:ListRoles", resources: []string{"arn:aws:iam::111122223333:role/"}},
		{name: "identity explicit deny", ps: mixed, action: "s3:DeleteBucket", resources: []string{"arn:aws:s3:::bucket"},
			want: "User: arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Mixed_0123456789abcdef/alice@example.test is not authorized to perform: s3:DeleteBucket on resource: arn:aws:s3:::bucket with an explicit deny in an identity-based policy"},
		{name: "boundary explicit deny named over an earlier implicit deny", ps: mixed, action: "s3:PutObject",
			resources: []string{"arn:aws:s3:::other/k", "arn:aws:s3:::bucket/secret/k"},
			want:      "User: arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Mixed_0123456789abcdef/alice@example.test is not authorized to perform: s3:PutObject on resource: arn:aws:s3:::bucket/secret/k with an explicit deny in a permissions boundary"},
		{name: "first implicitly denied resource", ps: mixed, action: "s3:PutObject",
			resources: []string{"arn:aws:s3:::bucket/ok", "arn:aws:s3:::other/k", "arn:aws:s3:::third/k"},
			want:      "User: arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Mixed_0123456789abcdef/alice@example.test is not authorized to perform: s3:PutObject on resource: arn:aws:s3:::other/k because no identity-based policy allows the s3:PutObject action"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.w.Snap(t)
			c := policy.NewContext(16)
			s := roleSession(tt.ps, true)
			authz.BuildContext(c, s, "us-east-1", authz.Request{Time: f.clock.Now(), Secure: true, SourceIP: "192.0.2.1", Region: "us-east-1"})
			err := f.az.Authorize(t.Context(), s, tt.action, tt.resources, c)
			after := f.w.Snap(t)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Authorize: %v, want allowed", err)
				}
				if after.Events != before.Events {
					t.Errorf("an allowed call wrote %d audit events", after.Events-before.Events)
				}
				return
			}
			fe, ok := errors.AsType[*fault.Error](err)
			if !ok || fe.Kind != fault.AccessDenied {
				t.Fatalf("Authorize = %v, want a fault.AccessDenied", err)
			}
			if fe.Message != tt.want {
				t.Errorf("message\n got %s\nwant %s", fe.Message, tt.want)
			}
			if after.Events != before.Events+1 {
				t.Fatalf("denied call wrote %d audit events, want 1", after.Events-before.Events)
			}
			evs, err := f.w.Store.ListEvents(t.Context(), store.EventFilter{End: time.Now().Add(time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			last := evs[len(evs)-1]
			_, name, _ := strings.Cut(tt.action, ":")
			if last.Name != name || !strings.HasPrefix(last.ErrorCode, "AccessDenied") || !strings.Contains(string(last.Record), s.CallerARN()) {
				t.Errorf("audit event = %s %s %s, want %s AccessDenied… by %s", last.Name, last.ErrorCode, last.Record, name, s.CallerARN())
			}
		})
	}
}

func TestEffectiveCache(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	ps := f.permissionSet(t, "Cached", readOnlyARN)
	f.putCustomerPolicy(t, "Extra", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"}}`)
	if err := f.w.Access.AttachCustomerPolicy(ctx, ps.ID, store.PolicyRef{Name: "Extra"}); err != nil {
		t.Fatal(err)
	}
	ps = f.get(t, ps.ID)
	decide := func(eff *authz.Effective, action string) policy.Decision {
		return eff.Set.Decide(&policy.Request{Action: action})
	}
	e1, err := f.pols.Effective(ctx, ps, acct)
	if err != nil {
		t.Fatal(err)
	}
	e2, _ := f.pols.Effective(ctx, ps, acct)
	if e1 != e2 {
		t.Error("same permission set version compiled twice")
	}
	if other, _ := f.pols.Effective(ctx, ps, "444455556666"); other == e1 {
		t.Error("another account shares the compiled policy")
	}

	// A new Version recompiles.
	if err := f.w.Access.PutInlinePolicy(ctx, ps.ID, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"s3:GetObject","Resource":"*"}}`); err != nil {
		t.Fatal(err)
	}
	ps2 := f.get(t, ps.ID)
	if ps2.Version == ps.Version {
		t.Fatal("PutInlinePolicy did not bump Version")
	}
	e3, _ := f.pols.Effective(ctx, ps2, acct)
	if e3 == e1 || decide(e3, "s3:GetObject") != policy.ExplicitDeny {
		t.Fatalf("new version not recompiled: same=%v s3:GetObject=%v", e3 == e1, decide(e3, "s3:GetObject"))
	}

	// An edited customer policy is seen once the recheck interval passed.
	if decide(e3, "s3:PutObject") != policy.Allow {
		t.Fatal("customer policy not applied")
	}
	f.clock.Add(time.Minute)
	f.putCustomerPolicy(t, "Extra", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}}`)
	if e4, _ := f.pols.Effective(ctx, ps2, acct); e4 == e3 {
		t.Fatal("edited customer policy not recompiled after the recheck interval")
	} else if decide(e4, "s3:PutObject") != policy.ImplicitDeny || decide(e4, "s3:ListBucket") != policy.Allow {
		t.Errorf("recompiled policy does not reflect the edit")
	}
	e5, _ := f.pols.Effective(ctx, ps2, acct)
	f.clock.Add(2 * time.Second)
	if e6, _ := f.pols.Effective(ctx, ps2, acct); e6 != e5 {
		t.Error("unchanged customer policy recompiled on recheck")
	}
}

func TestChecker(t *testing.T) {
	if err := policy.CheckInline([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)); err != nil {
		t.Errorf("valid policy: %v", err)
	}
	bad := map[string]string{
		"unknown operator": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEqualz":{"aws:username":"x"}}}]}`,
		"principal":        `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}`,
		"not JSON":         `{"Version":`,
		"too large":        `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Sid":"` + strings.Repeat("a", 40000) + `"}]}`,
	}
	for name, doc := range bad {
		err := policy.CheckInline([]byte(doc))
		if _, ok := errors.AsType[*policy.Error](err); !ok {
			t.Errorf("%s: CheckInline = %v, want a *policy.Error", name, err)
		}
	}
	if _, ok := managed.Lookup(powerUserARN); !ok {
		t.Error("PowerUserAccess missing from the embedded catalog")
	}
	if _, ok := managed.Lookup("arn:aws:iam::aws:policy/NoSuchPolicyAtAll"); ok {
		t.Error("KnownManaged disagrees with the embedded catalog")
	}

	// Wired into access, bad input is refused and nothing is stored.
	f := newFixture(t)
	ps := f.permissionSet(t, "Checked")
	before := f.w.Snap(t)
	err := f.w.Access.PutInlinePolicy(t.Context(), ps.ID, bad["unknown operator"])
	if fe, ok := errors.AsType[*fault.Error](err); !ok || fe.Kind != fault.Validation || !strings.Contains(fe.Message, `StringEqualz`) {
		t.Errorf("PutInlinePolicy(bad operator) = %v, want a validation error naming the operator", err)
	}
	if err := f.w.Access.AttachManagedPolicy(t.Context(), ps.ID, "arn:aws:iam::aws:policy/NoSuchPolicyAtAll"); fault.KindOf(err) != fault.Validation {
		t.Errorf("AttachManagedPolicy(unknown) = %v, want a validation error", err)
	}
	if after := f.w.Snap(t); after != before {
		t.Errorf("refused input changed the store: %+v -> %+v", before, after)
	}
}
