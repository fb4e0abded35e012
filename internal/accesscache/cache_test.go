package accesscache_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/accesscache"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/store"
	"github.com/gatehouse-dev/gatehouse/internal/store/sqlite"
)

// counting wraps a store and counts the reads the cache makes. It holds
// only the cache's narrow Source, so every test here also checks that the
// cache needs nothing more.
type counting struct {
	accesscache.Source
	seq, users, assignments, memberships, sets, accounts, roles, revocations, delegated atomic.Int64
	failSeq                                                                             atomic.Bool
}

func (c *counting) ChangeSeq(ctx context.Context) (int64, error) {
	c.seq.Add(1)
	if c.failSeq.Load() {
		return 0, errors.New("database unreachable")
	}
	return c.Source.ChangeSeq(ctx)
}

func (c *counting) GetUser(ctx context.Context, id string) (*store.User, error) {
	c.users.Add(1)
	return c.Source.GetUser(ctx, id)
}

func (c *counting) ListAssignments(ctx context.Context, f store.AssignmentFilter) ([]store.Assignment, error) {
	c.assignments.Add(1)
	return c.Source.ListAssignments(ctx, f)
}

func (c *counting) ListMembershipsByUser(ctx context.Context, userID string, p store.Page) ([]store.Membership, error) {
	c.memberships.Add(1)
	return c.Source.ListMembershipsByUser(ctx, userID, p)
}

func (c *counting) GetPermissionSet(ctx context.Context, id string) (*store.PermissionSet, error) {
	c.sets.Add(1)
	return c.Source.GetPermissionSet(ctx, id)
}

func (c *counting) GetAccount(ctx context.Context, id string) (*store.Account, error) {
	c.accounts.Add(1)
	return c.Source.GetAccount(ctx, id)
}

func (c *counting) GetProvisionedRole(ctx context.Context, accountID, psID string) (*store.ProvisionedRole, error) {
	c.roles.Add(1)
	return c.Source.GetProvisionedRole(ctx, accountID, psID)
}

func (c *counting) ListRevocations(ctx context.Context, since time.Time) ([]store.Revocation, error) {
	c.revocations.Add(1)
	return c.Source.ListRevocations(ctx, since)
}

func (c *counting) ListDelegatedAdmins(ctx context.Context, f store.DelegatedAdminFilter) ([]store.DelegatedAdmin, error) {
	c.delegated.Add(1)
	return c.Source.ListDelegatedAdmins(ctx, f)
}

// reads returns the number of record reads (everything but ChangeSeq).
func (c *counting) reads() int64 {
	return c.users.Load() + c.assignments.Load() + c.memberships.Load() + c.sets.Load() +
		c.accounts.Load() + c.roles.Load() + c.revocations.Load() + c.delegated.Load()
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func open(t *testing.T, path string) store.Store {
	t.Helper()
	st, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

const (
	userID  = "1234567890-aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
	groupID = "1234567890-bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"
	account = "111122223333"
	psID    = "ps-0123456789abcdef"
)

// world writes one user in one group, one account and one permission set
// provisioned there, and returns the user.
func world(t *testing.T, st store.Store) *store.User {
	t.Helper()
	ctx := t.Context()
	now := time.Now().UTC()
	u := &store.User{ID: userID, UserName: "alice@example.test", DisplayName: "Alice", CreatedAt: now, UpdatedAt: now}
	must(t, st.CreateUser(ctx, u))
	must(t, st.CreateGroup(ctx, &store.Group{ID: groupID, DisplayName: "Engineers", CreatedAt: now, UpdatedAt: now}))
	must(t, st.CreateMembership(ctx, &store.Membership{ID: "1234567890-cccccccc-cccc-4ccc-8ccc-cccccccccccc", GroupID: groupID, UserID: userID, CreatedAt: now}))
	must(t, st.CreateAccount(ctx, &store.Account{ID: account, Name: "Dev", Email: "dev@example.test", CreatedAt: now}))
	must(t, st.CreatePermissionSet(ctx, &store.PermissionSet{ID: psID, Name: "ReadOnly", SessionDuration: time.Hour, Version: 1, CreatedAt: now, UpdatedAt: now}))
	must(t, st.PutProvisionedRole(ctx, &store.ProvisionedRole{AccountID: account, PermissionSetID: psID,
		RoleName: "AWSReservedSSO_ReadOnly_0123456789abcdef", RoleID: "AROAEXAMPLEROLEID1234", PermissionSetVersion: 1, CreatedAt: now, UpdatedAt: now}))
	return u
}

// within polls cond every 10 ms and fails unless it holds within limit;
// it returns how long it took.
func within(t *testing.T, limit time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		if cond() {
			return time.Since(start)
		}
		if time.Since(start) > limit {
			t.Fatalf("%s: not seen within %v", what, limit)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestWritesOnAnotherHandle writes through a second store handle on the same
// database file, as another replica would, and expects the cache to see each
// write within 1 s.
func TestWritesOnAnotherHandle(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "db")
	a, b := open(t, path), open(t, path)
	u := world(t, b)
	c := accesscache.New(a, time.Now)

	revoked := func(grant, session string, issuedAt time.Time) bool {
		t.Helper()
		r, err := c.Revoked(ctx, userID, grant, session, issuedAt)
		must(t, err)
		return r
	}
	entitled := func() bool {
		t.Helper()
		ok, err := c.Entitled(ctx, userID, account, psID, time.Now())
		must(t, err)
		return ok
	}
	issued := time.Now()
	if revoked("g1", "s1", issued) {
		t.Fatal("fresh user is revoked")
	}
	if entitled() {
		t.Fatal("entitled before any assignment")
	}
	if es, err := c.Entitlements(ctx, userID); err != nil || len(es) != 0 {
		t.Fatalf("Entitlements = %v, %v; want none", es, err)
	}

	// A group assignment on the other handle.
	must(t, b.CreateAssignment(ctx, &store.Assignment{AccountID: account, PermissionSetID: psID,
		PrincipalType: store.PrincipalGroup, PrincipalID: groupID, CreatedAt: time.Now()}))
	d := within(t, time.Second, "new assignment", entitled)
	t.Logf("assignment seen after %v", d)
	es, err := c.Entitlements(ctx, userID)
	must(t, err)
	if diff := cmp.Diff([]access.Entitlement{{AccountID: account, PermissionSetID: psID}}, es, cmpopts.IgnoreFields(access.Entitlement{}, "Since")); diff != "" {
		t.Errorf("Entitlements (-want +got):\n%s", diff)
	}

	// A grant revocation.
	must(t, b.PutRevocation(ctx, &store.Revocation{Kind: store.RevokeGrant, Subject: "g1", At: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}))
	within(t, time.Second, "grant revocation", func() bool { return revoked("g1", "s1", issued) })
	if revoked("g2", "s1", issued) {
		t.Error("another grant of the user is revoked too")
	}
	if revoked("g1", "s1", time.Now().Add(time.Second)) {
		t.Error("credentials issued after the revocation are revoked")
	}

	// Disabling the user.
	u.Disabled = true
	must(t, b.UpdateUser(ctx, u))
	d = within(t, time.Second, "disabled user", func() bool { return revoked("g2", "s2", time.Now()) })
	t.Logf("disable seen after %v", d)
	u.Disabled = false
	must(t, b.UpdateUser(ctx, u))
	within(t, time.Second, "re-enabled user", func() bool { return !revoked("g2", "s2", time.Now()) })

	// Removing the assignment.
	must(t, b.DeleteAssignment(ctx, &store.Assignment{AccountID: account, PermissionSetID: psID,
		PrincipalType: store.PrincipalGroup, PrincipalID: groupID}))
	within(t, time.Second, "removed assignment", func() bool { return !entitled() })

	// Deleting the user.
	must(t, b.DeleteUser(ctx, userID))
	within(t, time.Second, "deleted user", func() bool { return revoked("g2", "s2", time.Now()) })
	if _, err := c.User(ctx, userID); fault.KindOf(err) != fault.NotFound {
		t.Errorf("User of deleted user: err = %v, want NotFound", err)
	}
}

func TestRecords(t *testing.T) {
	ctx := t.Context()
	st := open(t, filepath.Join(t.TempDir(), "db"))
	world(t, st)
	c := accesscache.New(st, time.Now)

	u, err := c.User(ctx, userID)
	must(t, err)
	if u.UserName != "alice@example.test" {
		t.Errorf("User.UserName = %q", u.UserName)
	}
	ps, err := c.PermissionSet(ctx, psID)
	must(t, err)
	if ps.Name != "ReadOnly" || ps.SessionDuration != time.Hour {
		t.Errorf("PermissionSet = %+v", ps)
	}
	a, err := c.Account(ctx, account)
	must(t, err)
	if a.Name != "Dev" {
		t.Errorf("Account = %+v", a)
	}
	r, err := c.Role(ctx, account, psID)
	must(t, err)
	if r.RoleName != "AWSReservedSSO_ReadOnly_0123456789abcdef" || r.RoleID != "AROAEXAMPLEROLEID1234" {
		t.Errorf("Role = %+v", r)
	}
	for name, err := range map[string]error{
		"User":          second(c.User(ctx, "1234567890-dddddddd-dddd-4ddd-8ddd-dddddddddddd")),
		"PermissionSet": second(c.PermissionSet(ctx, "ps-ffffffffffffffff")),
		"Account":       second(c.Account(ctx, "999999999999")),
		"Role":          second(c.Role(ctx, "999999999999", psID)),
	} {
		if fault.KindOf(err) != fault.NotFound {
			t.Errorf("%s of a missing record: err = %v, want NotFound", name, err)
		}
	}
	// Entitlements hands out a copy.
	must(t, st.CreateAssignment(ctx, &store.Assignment{AccountID: account, PermissionSetID: psID,
		PrincipalType: store.PrincipalUser, PrincipalID: userID, CreatedAt: time.Now()}))
	c2 := accesscache.New(st, time.Now)
	es, err := c2.Entitlements(ctx, userID)
	must(t, err)
	es[0].AccountID = "000000000000"
	if ok, err := c2.Entitled(ctx, userID, account, psID, time.Now()); err != nil || !ok {
		t.Errorf("Entitled after the caller changed its copy = %v, %v; want true", ok, err)
	}
}

func second[T any](_ T, err error) error { return err }

func TestRevokedRules(t *testing.T) {
	ctx := t.Context()
	st := open(t, filepath.Join(t.TempDir(), "db"))
	world(t, st)
	t0 := time.Now().UTC().Truncate(time.Second)
	for _, r := range []store.Revocation{
		{Kind: store.RevokeSession, Subject: "sess-revoked", At: t0},
		{Kind: store.RevokeGrant, Subject: "grant-revoked", At: t0},
		{Kind: store.RevokeUser, Subject: "1234567890-eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee", At: t0},
	} {
		r.ExpiresAt = t0.Add(time.Hour)
		must(t, st.PutRevocation(ctx, &r))
	}
	c := accesscache.New(st, time.Now)
	tests := []struct {
		name           string
		grant, session string
		issued         time.Time
		want           bool
	}{
		{"nothing revoked", "grant-ok", "sess-ok", t0.Add(-time.Hour), false},
		{"session revoked after issue", "grant-ok", "sess-revoked", t0.Add(-time.Nanosecond), true},
		{"session revoked at the issue instant", "grant-ok", "sess-revoked", t0, true},
		{"session revoked before issue", "grant-ok", "sess-revoked", t0.Add(time.Nanosecond), false},
		{"grant revoked after issue", "grant-revoked", "sess-ok", t0.Add(-time.Minute), true},
		{"grant revoked before issue", "grant-revoked", "sess-ok", t0.Add(time.Minute), false},
		{"no grant or session given", "", "", t0.Add(-time.Minute), false},
		{"another user's revocation", "", "", t0.Add(-time.Minute), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.Revoked(ctx, userID, tc.grant, tc.session, tc.issued)
			must(t, err)
			if got != tc.want {
				t.Errorf("Revoked = %v, want %v", got, tc.want)
			}
		})
	}
	if got, err := c.Revoked(ctx, "1234567890-ffffffff-ffff-4fff-8fff-ffffffffffff", "", "", t0); err != nil || !got {
		t.Errorf("Revoked of an unknown user = %v, %v; want true", got, err)
	}
}

// TestSteadyState checks that warm lookups make no query, that the change
// counter is read at most once per interval, and that a change drops the
// view.
func TestSteadyState(t *testing.T) {
	ctx := t.Context()
	raw := open(t, filepath.Join(t.TempDir(), "db"))
	world(t, raw)
	must(t, raw.CreateAssignment(ctx, &store.Assignment{AccountID: account, PermissionSetID: psID,
		PrincipalType: store.PrincipalUser, PrincipalID: userID, CreatedAt: time.Now()}))
	st := &counting{Source: raw}
	clk := &clock{t: time.Now()}
	c := accesscache.New(st, clk.Now)

	lookups := func() {
		t.Helper()
		if r, err := c.Revoked(ctx, userID, "g", "s", clk.Now()); err != nil || r {
			t.Fatalf("Revoked = %v, %v", r, err)
		}
		if ok, err := c.Entitled(ctx, userID, account, psID, time.Now()); err != nil || !ok {
			t.Fatalf("Entitled = %v, %v", ok, err)
		}
		for _, err := range []error{second(c.User(ctx, userID)), second(c.PermissionSet(ctx, psID)),
			second(c.Account(ctx, account)), second(c.Role(ctx, account, psID))} {
			must(t, err)
		}
	}
	lookups()
	warm := st.reads()
	if st.seq.Load() != 1 {
		t.Fatalf("change counter read %d times on first use, want 1", st.seq.Load())
	}
	for range 1000 {
		lookups()
	}
	if got := st.reads(); got != warm {
		t.Errorf("warm lookups made %d queries, want 0", got-warm)
	}
	if got := st.seq.Load(); got != 1 {
		t.Errorf("change counter read %d times within one interval, want 1", got)
	}
	clk.Advance(accesscache.DefaultRefreshInterval)
	for range 100 {
		lookups()
	}
	if got := st.seq.Load(); got != 2 {
		t.Errorf("change counter read %d times after one interval, want 2", got)
	}
	if got := st.reads(); got != warm {
		t.Errorf("an unchanged counter reloaded records: %d queries", got-warm)
	}

	// A change: the next read of the counter drops every record.
	must(t, raw.PutRevocation(ctx, &store.Revocation{Kind: store.RevokeGrant, Subject: "other", At: clk.Now(), ExpiresAt: clk.Now().Add(time.Hour)}))
	lookups()
	if got := st.reads(); got != warm {
		t.Errorf("records reloaded before the interval passed: %d queries", got-warm)
	}
	clk.Advance(accesscache.DefaultRefreshInterval)
	lookups()
	if got := st.reads(); got != 2*warm {
		t.Errorf("after a change: %d queries, want %d (one per record)", got-warm, warm)
	}

	// Allocation-light: a warm Revoked and Entitled allocate nothing.
	allocs := testing.AllocsPerRun(1000, func() {
		c.Revoked(ctx, userID, "g", "s", clk.Now())
		c.Entitled(ctx, userID, account, psID, time.Now())
	})
	if allocs != 0 {
		t.Errorf("warm Revoked+Entitled allocate %v times, want 0", allocs)
	}
}

// primed returns a cache over a counting store of the small world, with
// a view loaded, and its clock.
func primed(t *testing.T) (*accesscache.Cache, *counting, *clock) {
	t.Helper()
	raw := open(t, filepath.Join(t.TempDir(), "db"))
	world(t, raw)
	st := &counting{Source: raw}
	clk := &clock{t: time.Now()}
	c := accesscache.New(st, clk.Now)
	if _, err := c.User(t.Context(), userID); err != nil {
		t.Fatal(err)
	}
	return c, st, clk
}

// TestFailsClosed checks that the cache keeps answering through a short
// database outage and refuses once its view is older than MaxStale.
func TestFailsClosed(t *testing.T) {
	ctx := t.Context()
	c, st, clk := primed(t)
	st.failSeq.Store(true)
	clk.Advance(time.Second)
	if _, err := c.User(ctx, userID); err != nil {
		t.Errorf("1 s into an outage: %v, want the cached user", err)
	}
	clk.Advance(accesscache.DefaultMaxStale)
	if _, err := c.Revoked(ctx, userID, "", "", clk.Now()); err == nil {
		t.Error("Revoked answered from a view older than MaxStale")
	}
	st.failSeq.Store(false)
	clk.Advance(accesscache.DefaultRefreshInterval)
	if _, err := c.User(ctx, userID); err != nil {
		t.Errorf("after the outage: %v", err)
	}
}

// TestConcurrent hammers the cache from many goroutines while another
// handle writes; run with -race.
func TestConcurrent(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "db")
	a, b := open(t, path), open(t, path)
	u := world(t, b)
	c := &accesscache.Cache{Store: a, Now: time.Now, RefreshInterval: 5 * time.Millisecond}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 8 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := c.Revoked(ctx, userID, "g", "s", time.Now()); err != nil {
					errs <- err
					return
				}
				if _, err := c.Entitlements(ctx, userID); err != nil {
					errs <- err
					return
				}
				if _, err := c.Role(ctx, account, psID); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for i := range 20 {
		u.Disabled = i%2 == 0
		must(t, b.UpdateUser(ctx, u))
		time.Sleep(5 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// The last write enabled the user again (i = 19).
	within(t, time.Second, "final state", func() bool {
		r, err := c.Revoked(ctx, userID, "g", "s", time.Now())
		return err == nil && !r
	})
}

// TestInvalidateOnOwnWrites wires the cache to its store's OnChange, as the
// server does, and checks with a stopped clock (no timed refresh ever
// happens) that every kind of write the cache depends on is seen by the
// very next lookup.
func TestInvalidateOnOwnWrites(t *testing.T) {
	ctx := t.Context()
	st := open(t, filepath.Join(t.TempDir(), "g.db"))
	u := world(t, st)
	clk := &clock{t: time.Now()}
	c := accesscache.New(st, clk.Now)
	st.OnChange(c.Invalidate)
	authTime := clk.Now().Add(-time.Minute)

	revoked := func() bool {
		t.Helper()
		r, err := c.Revoked(ctx, u.ID, "g1", "s1", authTime)
		must(t, err)
		return r
	}
	entitled := func() bool {
		t.Helper()
		ok, err := c.Entitled(ctx, u.ID, account, psID, time.Now())
		must(t, err)
		return ok
	}
	a := &store.Assignment{AccountID: account, PermissionSetID: psID, PrincipalType: store.PrincipalUser, PrincipalID: u.ID, CreatedAt: time.Now()}
	must(t, st.CreateAssignment(ctx, a))
	if revoked() || !entitled() {
		t.Fatal("fresh user: revoked or not entitled")
	}
	must(t, st.DeleteAssignment(ctx, a))
	if entitled() {
		t.Error("assignment removal not seen by the next lookup")
	}
	must(t, st.CreateAssignment(ctx, a))
	if !entitled() {
		t.Error("new assignment not seen by the next lookup")
	}
	for _, kind := range []string{store.RevokeSession, store.RevokeGrant, store.RevokeUser} {
		subject := map[string]string{store.RevokeSession: "s1", store.RevokeGrant: "g1", store.RevokeUser: u.ID}[kind]
		if kind != store.RevokeSession && revoked() {
			continue // already revoked by an earlier kind; checked below
		}
		must(t, st.Update(ctx, func(tx store.Tx) error {
			return tx.PutRevocation(ctx, &store.Revocation{Kind: kind, Subject: subject, At: clk.Now(), ExpiresAt: clk.Now().Add(time.Hour)})
		}))
		if !revoked() {
			t.Errorf("%s revocation not seen by the next lookup", kind)
		}
	}
	// A disabled user, through a write of the user record.
	u2 := *u
	u2.ID, u2.UserName = "1234567890-dddddddd-dddd-4ddd-8ddd-dddddddddddd", "bob@example.test"
	must(t, st.CreateUser(ctx, &u2))
	if r, err := c.Revoked(ctx, u2.ID, "", "", authTime); err != nil || r {
		t.Fatalf("bob revoked = %t, %v", r, err)
	}
	u2.Disabled = true
	must(t, st.UpdateUser(ctx, &u2))
	if r, err := c.Revoked(ctx, u2.ID, "", "", authTime); err != nil || !r {
		t.Errorf("disabling not seen by the next lookup: revoked = %t, %v", r, err)
	}
}

// TestInvalidateRacingRefresh checks that a view begun before Invalidate
// is never answered from after it, however lookups interleave.
func TestInvalidateRacingRefresh(t *testing.T) {
	ctx := t.Context()
	st := open(t, filepath.Join(t.TempDir(), "g.db"))
	u := world(t, st)
	c := accesscache.New(st, time.Now)
	st.OnChange(c.Invalidate)
	authTime := time.Now().Add(-time.Minute)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				_, _ = c.Revoked(ctx, u.ID, "", "", authTime)
			}
		})
	}
	for i := range 50 {
		sid := "s-" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		must(t, st.Update(ctx, func(tx store.Tx) error {
			return tx.PutRevocation(ctx, &store.Revocation{Kind: store.RevokeSession, Subject: sid, At: time.Now(), ExpiresAt: time.Now().Add(time.Hour)})
		}))
		r, err := c.Revoked(ctx, u.ID, "", sid, authTime)
		must(t, err)
		if !r {
			close(stop)
			wg.Wait()
			t.Fatalf("round %d: revocation written before the lookup not seen", i)
		}
	}
	close(stop)
	wg.Wait()
}

// TestEntitledSinceRemoval checks that credentials issued under an
// assignment or membership that was removed stay refused when it is made
// again: only credentials issued since the current path began count.
func TestEntitledSinceRemoval(t *testing.T) {
	ctx := t.Context()
	st := open(t, filepath.Join(t.TempDir(), "db"))
	world(t, st)
	t0 := time.Now().UTC()
	direct := &store.Assignment{AccountID: account, PermissionSetID: psID, PrincipalType: store.PrincipalUser, PrincipalID: userID, CreatedAt: t0}
	viaGroup := &store.Assignment{AccountID: account, PermissionSetID: psID, PrincipalType: store.PrincipalGroup, PrincipalID: groupID, CreatedAt: t0}
	const membershipID = "1234567890-cccccccc-cccc-4ccc-8ccc-cccccccccccc"
	entitled := func(issuedAt time.Time) bool {
		t.Helper()
		c := accesscache.New(st, time.Now) // a fresh view each time: no waiting for the change counter
		ok, err := c.Entitled(ctx, userID, account, psID, issuedAt)
		must(t, err)
		return ok
	}
	issued := t0.Add(time.Second)

	// A direct assignment removed and made again.
	must(t, st.CreateAssignment(ctx, direct))
	if !entitled(issued) {
		t.Fatal("credentials issued under the assignment are refused")
	}
	must(t, st.DeleteAssignment(ctx, direct))
	if entitled(issued) {
		t.Fatal("credentials accepted after the assignment was removed")
	}
	again := *direct
	again.CreatedAt = t0.Add(2 * time.Second)
	must(t, st.CreateAssignment(ctx, &again))
	if entitled(issued) {
		t.Error("credentials issued before the assignment was removed are accepted again once it is made again")
	}
	if !entitled(t0.Add(3 * time.Second)) {
		t.Error("credentials issued under the new assignment are refused")
	}
	must(t, st.DeleteAssignment(ctx, &again))

	// A group assignment whose membership is removed and made again.
	must(t, st.CreateAssignment(ctx, viaGroup))
	if !entitled(issued) {
		t.Fatal("credentials issued through the group are refused")
	}
	must(t, st.DeleteMembership(ctx, membershipID))
	must(t, st.CreateMembership(ctx, &store.Membership{ID: "1234567890-eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee", GroupID: groupID, UserID: userID, CreatedAt: t0.Add(4 * time.Second)}))
	if entitled(t0.Add(3 * time.Second)) {
		t.Error("credentials issued before the membership was removed are accepted again once it is made again")
	}
	if !entitled(t0.Add(5 * time.Second)) {
		t.Error("credentials issued under the new membership are refused")
	}

	// Two paths: the earlier one counts, so removing the later one
	// refuses nothing it did not grant.
	must(t, st.CreateAssignment(ctx, &store.Assignment{AccountID: account, PermissionSetID: psID, PrincipalType: store.PrincipalUser, PrincipalID: userID, CreatedAt: t0.Add(-time.Hour)}))
	if !entitled(t0.Add(-time.Minute)) {
		t.Error("credentials issued under the older direct assignment are refused while the group path also exists")
	}
}

// TestDelegatedAdmin checks the delegated-administrator lookup of the admin
// APIs' account gate: one read per view, deregistration on this handle
// seen by the very next lookup, registration on another handle (another
// replica) within 1 s.
func TestDelegatedAdmin(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "d.db")
	st := open(t, path)
	other := open(t, path)
	world(t, st)
	src := &counting{Source: st}
	c := accesscache.New(src, time.Now)
	st.OnChange(c.Invalidate)
	const sso = "sso.amazonaws.com"
	is := func(acct, sp string) bool {
		t.Helper()
		ok, err := c.DelegatedAdmin(ctx, acct, sp)
		must(t, err)
		return ok
	}
	if is(account, sso) {
		t.Fatal("delegated admin before any registration")
	}
	must(t, st.CreateDelegatedAdmin(ctx, &store.DelegatedAdmin{AccountID: account, ServicePrincipal: sso, EnabledAt: time.Now()}))
	if !is(account, sso) {
		t.Fatal("registration not seen by the next lookup")
	}
	if is(account, "guardduty.amazonaws.com") || is("999999999999", sso) {
		t.Error("registration answers for another service or account")
	}
	before := src.delegated.Load()
	for range 100 {
		is(account, sso)
	}
	if n := src.delegated.Load() - before; n != 0 {
		t.Errorf("steady state: %d registration reads for 100 lookups, want 0", n)
	}
	must(t, st.DeleteDelegatedAdmin(ctx, account, sso))
	if is(account, sso) {
		t.Error("deregistration not seen by the next lookup")
	}
	must(t, other.CreateDelegatedAdmin(ctx, &store.DelegatedAdmin{AccountID: account, ServicePrincipal: sso, EnabledAt: time.Now()}))
	within(t, time.Second, "registration on another handle", func() bool { return is(account, sso) })
}

// gated is a Source whose ChangeSeq can be held at a gate, to freeze one
// caller in the middle of a counter read.
type gated struct {
	accesscache.Source
	hold    atomic.Bool   // the next ChangeSeq waits at the gate
	entered chan struct{} // receives when a held read reaches the gate
	gate    chan struct{} // closed to let the held read go on
}

func (g *gated) ChangeSeq(ctx context.Context) (int64, error) {
	if g.hold.CompareAndSwap(true, false) {
		g.entered <- struct{}{}
		<-g.gate
	}
	return g.Source.ChangeSeq(ctx)
}

// TestIdleThenBurst is the hotload failure: after an idle spell longer than
// MaxStale, the first request of a burst reads the change counter while the
// others arrive. A request that lost the race to read it must neither
// answer from the view that is now too old (it could miss a revocation
// written meanwhile on another replica) nor fail with ErrStale, since
// nothing is wrong with the database.
func TestIdleThenBurst(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "db")
	a, b := open(t, path), open(t, path)
	world(t, b)
	g := &gated{Source: a, entered: make(chan struct{}), gate: make(chan struct{})}
	clk := &clock{t: time.Now()}
	c := accesscache.New(g, clk.Now)
	issued := clk.Now().Add(-time.Minute)
	if r, err := c.Revoked(ctx, userID, "", "", issued); err != nil || r {
		t.Fatalf("Revoked = %v, %v before the idle spell", r, err)
	}
	// Idle for longer than MaxStale; meanwhile another replica revokes
	// the user.
	clk.Advance(accesscache.DefaultMaxStale + time.Second)
	must(t, b.Update(ctx, func(tx store.Tx) error {
		return tx.PutRevocation(ctx, &store.Revocation{Kind: store.RevokeUser, Subject: userID, At: clk.Now(), ExpiresAt: clk.Now().Add(time.Hour)})
	}))
	issued = clk.Now().Add(-time.Second)

	// The first request of the burst reads the counter and is held there.
	g.hold.Store(true)
	first := make(chan error, 1)
	go func() {
		_, err := c.Revoked(ctx, userID, "", "", issued)
		first <- err
	}()
	<-g.entered
	r, err := c.Revoked(ctx, userID, "", "", issued)
	close(g.gate)
	if err != nil {
		t.Errorf("second request of the burst: %v, want an answer", err)
	} else if !r {
		t.Error("second request of the burst answered from a view older than MaxStale: revocation missed")
	}
	if err := <-first; err != nil {
		t.Errorf("first request of the burst: %v", err)
	}

	// Many bursts after idle spells: no request fails.
	for round := range 50 {
		clk.Advance(accesscache.DefaultMaxStale + time.Second)
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make(chan error, 16)
		for range 16 {
			wg.Go(func() {
				<-start
				if _, err := c.Revoked(ctx, userID, "", "", issued); err != nil {
					errs <- err
				}
			})
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("round %d: %v", round, err)
		}
	}
}

// TestStaleIsUnavailable checks the shape of the fail-closed answer: a
// fault.Unavailable (a retryable error on every API) that still matches
// ErrStale and the database's error, and no answer from the old view to
// any caller, including those inside RefreshInterval of the failed read.
func TestStaleIsUnavailable(t *testing.T) {
	ctx := t.Context()
	c, st, clk := primed(t)
	st.failSeq.Store(true)
	clk.Advance(accesscache.DefaultMaxStale + time.Second)
	for i := range 3 {
		_, err := c.Revoked(ctx, userID, "", "", clk.Now())
		if !errors.Is(err, accesscache.ErrStale) || fault.KindOf(err) != fault.Unavailable {
			t.Fatalf("lookup %d with the counter unreadable: %v (kind %v), want ErrStale as fault.Unavailable", i, err, fault.KindOf(err))
		}
		clk.Advance(accesscache.DefaultRefreshInterval / 4)
	}
	// Within RefreshInterval of a failed read the others fail at once,
	// without a query each.
	n := st.seq.Load()
	for range 10 {
		if _, err := c.User(ctx, userID); !errors.Is(err, accesscache.ErrStale) {
			t.Fatalf("User: %v, want ErrStale", err)
		}
	}
	if got := st.seq.Load() - n; got > 2 {
		t.Errorf("%d counter reads for 10 lookups inside RefreshInterval of a failure, want at most one read retried once", got)
	}
	st.failSeq.Store(false)
	clk.Advance(accesscache.DefaultRefreshInterval)
	if _, err := c.User(ctx, userID); err != nil {
		t.Errorf("after the outage: %v", err)
	}
}
