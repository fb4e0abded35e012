package storetest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/store"
)

func testUpdateCommits(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := newUser("u-1", "alice")
	g := newGroup("g-1", "admins")
	m := membership("m-1", "g-1", "u-1")
	err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateUser(ctx, &u); err != nil {
			return err
		}
		if err := tx.CreateGroup(ctx, &g); err != nil {
			return err
		}
		// The transaction sees its own writes.
		if _, err := tx.GetUserByName(ctx, "ALICE"); err != nil {
			return err
		}
		return tx.CreateMembership(ctx, &m)
	})
	must(t, err)
	got, err := s.FindMembership(ctx, "g-1", "u-1")
	must(t, err)
	wantEqual(t, "membership", &m, got)
}

func testUpdateRollsBack(t *testing.T, s store.Store) {
	ctx := t.Context()
	seq0, err := s.ChangeSeq(ctx)
	must(t, err)
	boom := errors.New("boom")
	err = s.Update(ctx, func(tx store.Tx) error {
		u := newUser("u-1", "alice")
		if err := tx.CreateUser(ctx, &u); err != nil {
			return err
		}
		if err := tx.CreateAccount(ctx, &store.Account{ID: "111111111111", CreatedAt: t0}); err != nil {
			return err
		}
		if err := tx.CreateSession(ctx, &store.Session{IDHash: "sh-1", UserID: "u-1", CreatedAt: t0}); err != nil {
			return err
		}
		if _, err := tx.HitRate(ctx, "k", time.Minute, t0); err != nil {
			return err
		}
		return fmt.Errorf("wrapped: %w", boom)
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update returned %v, want fn's error", err)
	}
	_, err = s.GetUser(ctx, "u-1")
	wantErr(t, err, store.ErrNotFound)
	_, err = s.GetUserByName(ctx, "alice")
	wantErr(t, err, store.ErrNotFound)
	_, err = s.GetAccount(ctx, "111111111111")
	wantErr(t, err, store.ErrNotFound)
	_, err = s.GetSession(ctx, "sh-1")
	wantErr(t, err, store.ErrNotFound)
	n, err := s.HitRate(ctx, "k", time.Minute, t0)
	must(t, err)
	if n != 1 {
		t.Fatalf("rate count after rollback: %d, want 1", n)
	}
	seq1, err := s.ChangeSeq(ctx)
	must(t, err)
	if seq1 != seq0 {
		t.Fatalf("ChangeSeq moved from %d to %d on a rolled-back transaction", seq0, seq1)
	}
	// The name is still free.
	u := newUser("u-2", "Alice")
	must(t, s.CreateUser(ctx, &u))
}

// testUpdateContinuesAfterSentinel checks that a transaction stays usable
// after a write reports ErrConflict or ErrNotFound, on every backend: a
// caller may handle the error and carry on.
func testUpdateContinuesAfterSentinel(t *testing.T, s store.Store) {
	ctx := t.Context()
	seedDirectory(t, s, 1, 1)
	err := s.Update(ctx, func(tx store.Tx) error {
		dup := newUser("u-2", "USER1")
		if err := tx.CreateUser(ctx, &dup); !errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("duplicate user name: got %v, want ErrConflict", err)
		}
		if err := tx.DeleteGroup(ctx, "g-missing"); !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("missing group: got %v, want ErrNotFound", err)
		}
		orphan := membership("m-0", "g-1", "u-missing")
		if err := tx.CreateMembership(ctx, &orphan); !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("membership of missing user: got %v, want ErrNotFound", err)
		}
		rename := newUser("u-1", "user1-renamed")
		if err := tx.UpdateUser(ctx, &rename); err != nil {
			return err
		}
		m := membership("m-1", "g-1", "u-1")
		return tx.CreateMembership(ctx, &m)
	})
	must(t, err)
	if _, err := s.GetUserByName(ctx, "user1-renamed"); err != nil {
		t.Fatalf("write after handled errors was lost: %v", err)
	}
	if _, err := s.GetMembership(ctx, "m-1"); err != nil {
		t.Fatalf("write after handled errors was lost: %v", err)
	}
}

// testUpdateConcurrent increments a counter kept in an account's name from
// several goroutines, each increment a read-modify-write in one Update. Any
// lost update shows in the final value.
func testUpdateConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	const id = "123456789012"
	must(t, s.CreateAccount(ctx, &store.Account{ID: id, Name: "0", CreatedAt: t0}))
	seq0, err := s.ChangeSeq(ctx)
	must(t, err)
	const goroutines, increments = 8, 5
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*increments)
	for range goroutines {
		wg.Go(func() {
			for range increments {
				errs <- s.Update(ctx, func(tx store.Tx) error {
					a, err := tx.GetAccount(ctx, id)
					if err != nil {
						return err
					}
					n, err := strconv.Atoi(a.Name)
					if err != nil {
						return err
					}
					a.Name = strconv.Itoa(n + 1)
					return tx.UpdateAccount(ctx, a)
				})
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	a, err := s.GetAccount(ctx, id)
	must(t, err)
	if want := strconv.Itoa(goroutines * increments); a.Name != want {
		t.Fatalf("counter = %s, want %s: updates were lost", a.Name, want)
	}
	seq1, err := s.ChangeSeq(ctx)
	must(t, err)
	if want := seq0 + goroutines*increments; seq1 != want {
		t.Fatalf("ChangeSeq = %d after %d committed transactions from %d, want %d", seq1, goroutines*increments, seq0, want)
	}
}

// seqStep is one write and whether it must move ChangeSeq.
type seqStep struct {
	name string
	fn   func(tx store.Tx) error
}

// directoryWrites returns a sequence of writes, each of which changes a
// record that ChangeSeq covers.
// IDs end in sfx so that calls with different suffixes do not collide.
func directoryWrites(t *testing.T, sfx string) []seqStep {
	ctx := t.Context()
	acct := "11111111111" + sfx
	u := newUser("u-1"+sfx, "alice"+sfx)
	g := newGroup("g-1"+sfx, "admins"+sfx)
	m := membership("m-1"+sfx, g.ID, u.ID)
	ps := newPermissionSet("ps-1"+sfx, "Admin"+sfx)
	a := store.Assignment{AccountID: acct, PermissionSetID: ps.ID, PrincipalType: store.PrincipalUser, PrincipalID: u.ID, CreatedAt: t0}
	r := store.ProvisionedRole{AccountID: acct, PermissionSetID: ps.ID, RoleName: "AWSReservedSSO_Admin_0123456789abcdef", CreatedAt: t0}
	return []seqStep{
		{"CreateAccount", func(tx store.Tx) error { return tx.CreateAccount(ctx, &store.Account{ID: acct, CreatedAt: t0}) }},
		{"CreateDelegatedAdmin", func(tx store.Tx) error {
			return tx.CreateDelegatedAdmin(ctx, &store.DelegatedAdmin{AccountID: acct, ServicePrincipal: "sso.amazonaws.com", EnabledAt: t0})
		}},
		{"DeleteDelegatedAdmin", func(tx store.Tx) error { return tx.DeleteDelegatedAdmin(ctx, acct, "sso.amazonaws.com") }},
		{"UpdateAccount", func(tx store.Tx) error {
			return tx.UpdateAccount(ctx, &store.Account{ID: acct, Name: "prod", CreatedAt: t0})
		}},
		{"CreateUser", func(tx store.Tx) error { return tx.CreateUser(ctx, &u) }},
		{"UpdateUser", func(tx store.Tx) error { u.Disabled = true; return tx.UpdateUser(ctx, &u) }},
		{"CreateGroup", func(tx store.Tx) error { return tx.CreateGroup(ctx, &g) }},
		{"UpdateGroup", func(tx store.Tx) error { g.Description = "changed"; return tx.UpdateGroup(ctx, &g) }},
		{"CreateMembership", func(tx store.Tx) error { return tx.CreateMembership(ctx, &m) }},
		{"DeleteMembership", func(tx store.Tx) error { return tx.DeleteMembership(ctx, m.ID) }},
		{"CreatePermissionSet", func(tx store.Tx) error { return tx.CreatePermissionSet(ctx, &ps) }},
		{"UpdatePermissionSet", func(tx store.Tx) error { ps.Version++; return tx.UpdatePermissionSet(ctx, &ps) }},
		{"CreateAssignment", func(tx store.Tx) error { return tx.CreateAssignment(ctx, &a) }},
		{"PutProvisionedRole", func(tx store.Tx) error { return tx.PutProvisionedRole(ctx, &r) }},
		{"DeleteProvisionedRole", func(tx store.Tx) error { return tx.DeleteProvisionedRole(ctx, acct, ps.ID) }},
		{"DeleteAssignment", func(tx store.Tx) error { return tx.DeleteAssignment(ctx, &a) }},
		{"DeletePermissionSet", func(tx store.Tx) error { return tx.DeletePermissionSet(ctx, ps.ID) }},
		{"PutRevocation", func(tx store.Tx) error {
			return tx.PutRevocation(ctx, &store.Revocation{Kind: store.RevokeUser, Subject: u.ID, At: t0, ExpiresAt: at(time.Hour)})
		}},
		{"DeleteExpiredRevocation", func(tx store.Tx) error { return tx.DeleteExpired(ctx, at(2*time.Hour)) }},
		{"DeleteGroup", func(tx store.Tx) error { return tx.DeleteGroup(ctx, g.ID) }},
		{"DeleteUser", func(tx store.Tx) error { return tx.DeleteUser(ctx, u.ID) }},
	}
}

// otherWrites returns writes of records ChangeSeq does not cover, with IDs
// ending in sfx. Only the call with an empty sfx creates the instance.
func otherWrites(t *testing.T, sfx string) []seqStep {
	ctx := t.Context()
	tok := store.Token{Hash: "th-1" + sfx, Kind: store.TokenRefresh, CreatedAt: t0, ExpiresAt: at(time.Hour)}
	sess := store.Session{IDHash: "sh-1" + sfx, UserID: "u-1", CreatedAt: t0, ExpiresAt: at(time.Hour)}
	gr := store.Grant{ID: "gr-1" + sfx, UserID: "u-1", CreatedAt: t0, ExpiresAt: at(time.Hour)}
	da := store.DeviceAuth{DeviceCodeHash: "dc-1" + sfx, UserCode: "ABCDEFGH" + sfx, Status: store.DevicePending, CreatedAt: t0, ExpiresAt: at(time.Hour)}
	ac := store.AuthCode{CodeHash: "ac-1" + sfx, CreatedAt: t0, ExpiresAt: at(time.Hour)}
	var steps []seqStep
	if sfx == "" {
		steps = append(steps, seqStep{"CreateInstance", func(tx store.Tx) error {
			return tx.CreateInstance(ctx, &store.Instance{InstanceID: "ssoins-1", CreatedAt: t0})
		}})
	}
	return append(steps, []seqStep{
		{"PutKey", func(tx store.Tx) error {
			return tx.PutKey(ctx, &store.Key{ID: "k-1" + sfx, Purpose: "p", CreatedAt: t0})
		}},
		{"CreateToken", func(tx store.Tx) error { return tx.CreateToken(ctx, &tok) }},
		{"UpdateToken", func(tx store.Tx) error { tok.UsedAt = at(1); return tx.UpdateToken(ctx, &tok) }},
		{"CreateSession", func(tx store.Tx) error { return tx.CreateSession(ctx, &sess) }},
		{"UpdateSession", func(tx store.Tx) error { sess.RevokedAt = at(1); return tx.UpdateSession(ctx, &sess) }},
		{"CreateGrant", func(tx store.Tx) error { return tx.CreateGrant(ctx, &gr) }},
		{"UpdateGrant", func(tx store.Tx) error { gr.RevokedAt = at(1); return tx.UpdateGrant(ctx, &gr) }},
		{"CreateDeviceAuth", func(tx store.Tx) error { return tx.CreateDeviceAuth(ctx, &da) }},
		{"UpdateDeviceAuth", func(tx store.Tx) error { da.Status = store.DeviceApproved; return tx.UpdateDeviceAuth(ctx, &da) }},
		{"CreateAuthCode", func(tx store.Tx) error { return tx.CreateAuthCode(ctx, &ac) }},
		{"UpdateAuthCode", func(tx store.Tx) error { ac.UsedAt = at(1); return tx.UpdateAuthCode(ctx, &ac) }},
		{"CreateClient", func(tx store.Tx) error {
			return tx.CreateClient(ctx, &store.Client{ID: "c-1" + sfx, IssuedAt: t0, ExpiresAt: at(1)})
		}},
		{"DeleteExpiredClients", func(tx store.Tx) error { _, err := tx.DeleteExpiredClients(ctx, at(time.Hour)); return err }},
		{"HitRate", func(tx store.Tx) error { _, err := tx.HitRate(ctx, "k"+sfx, time.Minute, t0); return err }},
		{"ResetRate", func(tx store.Tx) error { return tx.ResetRate(ctx, "k"+sfx) }},
		{"ReserveAttempt", func(tx store.Tx) error {
			_, _, err := tx.ReserveAttempt(ctx, "a"+sfx, store.AttemptRule{Limit: 9, TTL: time.Hour}, t0)
			return err
		}},
		{"RefundAttempt", func(tx store.Tx) error { return tx.RefundAttempt(ctx, "a"+sfx) }},
		{"ResetAttempts", func(tx store.Tx) error { return tx.ResetAttempts(ctx, "a"+sfx) }},
		{"PutUseMarker", func(tx store.Tx) error { return tx.PutUseMarker(ctx, "u"+sfx, at(time.Hour)) }},
		{"PutOperation", func(tx store.Tx) error {
			return tx.PutOperation(ctx, &store.Operation{RequestID: "r-1" + sfx, Kind: store.OpProvision, Status: store.StatusInProgress, CreatedAt: t0})
		}},
		{"PutCustomerPolicy", func(tx store.Tx) error {
			return tx.PutCustomerPolicy(ctx, &store.CustomerPolicy{AccountID: "1" + sfx, Path: "/", Name: "P", Document: "{}", CreatedAt: t0})
		}},
		{"DeleteCustomerPolicy", func(tx store.Tx) error { return tx.DeleteCustomerPolicy(ctx, "1"+sfx, "/", "P") }},
		{"PutResourceTags", func(tx store.Tx) error {
			return tx.PutResourceTags(ctx, "arn:aws:sso:::instance/ssoins-"+sfx, []store.Tag{{Key: "k", Value: "v"}})
		}},
		{"AppendEvent", func(tx store.Tx) error { return tx.AppendEvent(ctx, &store.EventRecord{ID: "e-1" + sfx, Time: t0}) }},
		{"AppendEvents", func(tx store.Tx) error {
			return tx.AppendEvents(ctx, []store.EventRecord{{ID: "e-2" + sfx, Time: t0}, {ID: "e-3" + sfx, Time: t0}})
		}},
		{"DeleteEventsBefore", func(tx store.Tx) error { _, err := tx.DeleteEventsBefore(ctx, at(time.Hour)); return err }},
		{"CreateSCIMToken", func(tx store.Tx) error {
			return tx.CreateSCIMToken(ctx, &store.SCIMToken{ID: "st-1" + sfx, Hash: "sth-1" + sfx, CreatedAt: t0, ExpiresAt: at(time.Hour)})
		}},
		{"TouchSCIMToken", func(tx store.Tx) error { return tx.TouchSCIMToken(ctx, "st-1"+sfx, at(time.Minute)) }},
		{"DeleteSCIMToken", func(tx store.Tx) error { return tx.DeleteSCIMToken(ctx, "st-1"+sfx) }},
		{"DeleteExpired", func(tx store.Tx) error { return tx.DeleteExpired(ctx, at(2*time.Hour)) }},
	}...)
}

func testChangeSeqBumps(t *testing.T, s store.Store) {
	for _, mode := range []string{"Store", "Update"} {
		t.Run(mode, func(t *testing.T) {
			ctx := t.Context()
			for _, step := range directoryWrites(t, mode[:1]) {
				before, err := s.ChangeSeq(ctx)
				must(t, err)
				if mode == "Store" {
					err = step.fn(s)
				} else {
					err = s.Update(ctx, step.fn)
				}
				if err != nil {
					t.Fatalf("%s: %v", step.name, err)
				}
				after, err := s.ChangeSeq(ctx)
				must(t, err)
				if after <= before {
					t.Fatalf("%s via %s: ChangeSeq %d -> %d, want it to grow", step.name, mode, before, after)
				}
			}
		})
	}
	// Several directory writes in one transaction bump it at least once.
	ctx := t.Context()
	before, err := s.ChangeSeq(ctx)
	must(t, err)
	must(t, s.Update(ctx, func(tx store.Tx) error {
		for i := range 3 {
			if err := tx.CreateAccount(ctx, &store.Account{ID: fmt.Sprintf("99999999999%d", i), CreatedAt: t0}); err != nil {
				return err
			}
		}
		return nil
	}))
	after, err := s.ChangeSeq(ctx)
	must(t, err)
	if after <= before {
		t.Fatalf("multi-write transaction: ChangeSeq %d -> %d, want it to grow", before, after)
	}
}

func testChangeSeqStill(t *testing.T, s store.Store) {
	for _, mode := range []string{"Store", "Update"} {
		t.Run(mode, func(t *testing.T) {
			ctx := t.Context()
			sfx := ""
			if mode == "Update" {
				sfx = "u"
			}
			for _, step := range otherWrites(t, sfx) {
				before, err := s.ChangeSeq(ctx)
				must(t, err)
				if mode == "Store" {
					err = step.fn(s)
				} else {
					err = s.Update(ctx, step.fn)
				}
				if err != nil {
					t.Fatalf("%s: %v", step.name, err)
				}
				after, err := s.ChangeSeq(ctx)
				must(t, err)
				if after != before {
					t.Fatalf("%s via %s: ChangeSeq %d -> %d, want it unchanged", step.name, mode, before, after)
				}
			}
		})
	}
}

// testOnChange checks that OnChange functions run, before the write
// returns, after every committed write that moves ChangeSeq, and not after
// other writes or rolled-back transactions.
func testOnChange(t *testing.T, s store.Store) {
	ctx := t.Context()
	var calls, calls2 atomic.Int64
	s.OnChange(func() { calls.Add(1) })
	s.OnChange(func() { calls2.Add(1) })
	for _, mode := range []string{"Store", "Update"} {
		for _, step := range directoryWrites(t, "c"+mode[:1]) {
			before := calls.Load()
			var err error
			if mode == "Store" {
				err = step.fn(s)
			} else {
				err = s.Update(ctx, step.fn)
			}
			if err != nil {
				t.Fatalf("%s: %v", step.name, err)
			}
			if calls.Load() <= before {
				t.Fatalf("%s via %s: OnChange not called before the write returned", step.name, mode)
			}
		}
		for _, step := range otherWrites(t, "c"+mode[:1]) {
			before := calls.Load()
			var err error
			if mode == "Store" {
				err = step.fn(s)
			} else {
				err = s.Update(ctx, step.fn)
			}
			if err != nil {
				t.Fatalf("%s: %v", step.name, err)
			}
			if calls.Load() != before {
				t.Fatalf("%s via %s: OnChange called for a write ChangeSeq does not cover", step.name, mode)
			}
		}
	}
	before := calls.Load()
	errRollback := errors.New("roll back")
	err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateAccount(ctx, &store.Account{ID: "999999999990", CreatedAt: t0}); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("Update = %v, want the function's error", err)
	}
	if calls.Load() != before {
		t.Fatal("OnChange called for a rolled-back transaction")
	}
	if calls2.Load() != calls.Load() {
		t.Fatalf("second OnChange function called %d times, first %d", calls2.Load(), calls.Load())
	}
}

// testUpdateConcurrentFailuresIsolated runs many Updates at once (SQLite
// groups them into shared transactions): every third fails after writing,
// one has its context cancelled before it starts. Each call's outcome is
// its own: the failed ones leave nothing, the others all commit, and the
// change counter moves once per committed call.
func testUpdateConcurrentFailuresIsolated(t *testing.T, s store.Store) {
	ctx := t.Context()
	seq0, err := s.ChangeSeq(ctx)
	must(t, err)
	errRefused := errors.New("refused by fn")
	const n = 30
	errs := make([]error, n)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	var start, wg, calling sync.WaitGroup
	start.Add(1)
	calling.Add(n)
	for i := range n {
		wg.Go(func() {
			start.Wait()
			callCtx := ctx
			if i == n-1 {
				callCtx = cancelled
			}
			calling.Done()
			errs[i] = s.Update(callCtx, func(tx store.Tx) error {
				if err := tx.CreateAccount(callCtx, &store.Account{ID: fmt.Sprintf("9000000000%02d", i), Name: fmt.Sprintf("acct-%d", i), CreatedAt: t0}); err != nil {
					return err
				}
				if i == 0 {
					// Hold the first transaction until the other calls
					// are on their way, so that a backend with one writer
					// has them queued together.
					calling.Wait()
					time.Sleep(5 * time.Millisecond)
				}
				if i%3 == 0 {
					return errRefused
				}
				return nil
			})
		})
	}
	start.Done()
	wg.Wait()
	committed := 0
	for i, err := range errs {
		_, gerr := s.GetAccount(ctx, fmt.Sprintf("9000000000%02d", i))
		switch {
		case i == n-1:
			if err == nil || !errors.Is(gerr, store.ErrNotFound) {
				t.Errorf("call %d with a cancelled context: error %v, account lookup %v; want an error and no account", i, err, gerr)
			}
		case i%3 == 0:
			if !errors.Is(err, errRefused) || !errors.Is(gerr, store.ErrNotFound) {
				t.Errorf("failing call %d: error %v, account lookup %v; want %v and no account", i, err, gerr, errRefused)
			}
		default:
			if err != nil || gerr != nil {
				t.Errorf("call %d: error %v, account lookup %v; want it committed", i, err, gerr)
			}
			committed++
		}
	}
	seq1, err := s.ChangeSeq(ctx)
	must(t, err)
	if seq1 != seq0+int64(committed) {
		t.Errorf("ChangeSeq moved %d -> %d after %d committed calls", seq0, seq1, committed)
	}
}
