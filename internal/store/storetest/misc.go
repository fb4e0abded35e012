package storetest

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/store"
)

func testRevocations(t *testing.T, s store.Store) {
	ctx := t.Context()
	rs := []store.Revocation{
		{Kind: store.RevokeUser, Subject: "u-1", At: at(time.Minute), ExpiresAt: at(12 * time.Hour)},
		{Kind: store.RevokeSession, Subject: "sh-1", At: at(2 * time.Minute), ExpiresAt: at(8 * time.Hour)},
		{Kind: store.RevokeGrant, Subject: "gr-1", At: at(3 * time.Minute), ExpiresAt: at(8 * time.Hour)},
	}
	for _, r := range rs {
		must(t, s.PutRevocation(ctx, &r))
	}
	got, err := s.ListRevocations(ctx, time.Time{})
	must(t, err)
	wantEqual(t, "all revocations", rs, got)
	got, err = s.ListRevocations(ctx, at(2*time.Minute))
	must(t, err)
	wantEqual(t, "revocations since the second", rs[1:], got)
	got, err = s.ListRevocations(ctx, at(time.Hour))
	must(t, err)
	wantEqual(t, "revocations since later", []store.Revocation{}, got)

	// Revoking again moves At and ExpiresAt forward, never back.
	later := store.Revocation{Kind: store.RevokeUser, Subject: "u-1", At: at(time.Hour), ExpiresAt: at(13 * time.Hour)}
	must(t, s.PutRevocation(ctx, &later))
	earlier := store.Revocation{Kind: store.RevokeUser, Subject: "u-1", At: at(30 * time.Second), ExpiresAt: at(time.Hour)}
	must(t, s.PutRevocation(ctx, &earlier))
	got, err = s.ListRevocations(ctx, at(time.Hour))
	must(t, err)
	wantEqual(t, "re-revoked user", []store.Revocation{later}, got)
	got, err = s.ListRevocations(ctx, time.Time{})
	must(t, err)
	wantEqual(t, "all after re-revoking", []store.Revocation{rs[1], rs[2], later}, got)
}

func testHitRate(t *testing.T, s store.Store) {
	ctx := t.Context()
	window := time.Minute
	start := t0.Truncate(window)
	for i := 1; i <= 3; i++ {
		n, err := s.HitRate(ctx, "login:alice", window, start.Add(time.Duration(i)*time.Second))
		must(t, err)
		if n != i {
			t.Fatalf("hit %d in window: count %d, want %d", i, n, i)
		}
	}
	n, err := s.HitRate(ctx, "login:bob", window, start)
	must(t, err)
	if n != 1 {
		t.Fatalf("other key: count %d, want 1", n)
	}
	// The last nanosecond of the window still counts in it; the next one
	// starts a new window.
	n, err = s.HitRate(ctx, "login:alice", window, start.Add(window-1))
	must(t, err)
	if n != 4 {
		t.Fatalf("end of window: count %d, want 4", n)
	}
	n, err = s.HitRate(ctx, "login:alice", window, start.Add(window))
	must(t, err)
	if n != 1 {
		t.Fatalf("next window: count %d, want 1", n)
	}
	must(t, s.ResetRate(ctx, "login:alice"))
	n, err = s.HitRate(ctx, "login:alice", window, start.Add(window+time.Second))
	must(t, err)
	if n != 1 {
		t.Fatalf("after reset: count %d, want 1", n)
	}
	n, err = s.HitRate(ctx, "login:bob", window, start.Add(time.Second))
	must(t, err)
	if n != 2 {
		t.Fatalf("other key after reset: count %d, want 2", n)
	}
	must(t, s.ResetRate(ctx, "never-seen"))
}

func testHitRateConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	const goroutines, hits = 20, 10
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		seen = map[int]bool{}
		errs []error
	)
	for range goroutines {
		wg.Go(func() {
			for range hits {
				n, err := s.HitRate(ctx, "device:poll", time.Hour, t0)
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else if seen[n] {
					errs = append(errs, fmt.Errorf("count %d returned twice", n))
				} else {
					seen[n] = true
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
	// Every count from 1 to the total came back exactly once.
	for i := 1; i <= goroutines*hits; i++ {
		if !seen[i] {
			t.Fatalf("count %d never returned", i)
		}
	}
	n, err := s.HitRate(ctx, "device:poll", time.Hour, t0)
	must(t, err)
	if want := goroutines*hits + 1; n != want {
		t.Fatalf("final count %d, want %d", n, want)
	}
}

func mfaDevice(id, user string, created time.Duration) store.MFADevice {
	return store.MFADevice{ID: id, UserID: user, Type: "TOTP", Name: "phone " + id, Sealed: []byte("sealed-" + id), CreatedAt: at(created)}
}

func testMFADevices(t *testing.T, s store.Store) {
	ctx := t.Context()
	seedDirectory(t, s, 2, 0)
	ds := []store.MFADevice{mfaDevice("d-2", "u-1", 1), mfaDevice("d-1", "u-1", 2), mfaDevice("d-3", "u-2", 0)}
	ds[1].Type = "WEBAUTHN"
	for _, d := range ds {
		must(t, s.CreateMFADevice(ctx, &d))
	}
	wantErr(t, s.CreateMFADevice(ctx, &ds[0]), store.ErrConflict)
	orphan := mfaDevice("d-9", "u-missing", 0)
	wantErr(t, s.CreateMFADevice(ctx, &orphan), store.ErrNotFound)

	got, err := s.ListMFADevices(ctx, "u-1")
	must(t, err)
	wantEqual(t, "devices of u-1", ds[:2], got)

	ds[0].LastStep = 59123456
	ds[0].LastUsedAt = at(time.Hour)
	ds[0].Name = "renamed"
	must(t, s.UpdateMFADevice(ctx, &ds[0]))
	got, err = s.ListMFADevices(ctx, "u-1")
	must(t, err)
	wantEqual(t, "devices after update", ds[:2], got)
	wrongUser := ds[0]
	wrongUser.UserID = "u-2"
	wantErr(t, s.UpdateMFADevice(ctx, &wrongUser), store.ErrNotFound)

	wantErr(t, s.DeleteMFADevice(ctx, "u-2", "d-2"), store.ErrNotFound)
	must(t, s.DeleteMFADevice(ctx, "u-1", "d-2"))
	wantErr(t, s.DeleteMFADevice(ctx, "u-1", "d-2"), store.ErrNotFound)
	got, err = s.ListMFADevices(ctx, "u-1")
	must(t, err)
	wantEqual(t, "devices after delete", ds[1:2], got)
}

func testDeleteExpired(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := at(time.Hour)
	past, future := now.Add(-time.Nanosecond), now.Add(time.Minute)

	for _, x := range []struct {
		id  string
		exp time.Time
	}{{"old", past}, {"new", future}} {
		must(t, s.CreateAuthCode(ctx, &store.AuthCode{CodeHash: "code-" + x.id, CreatedAt: t0, ExpiresAt: x.exp}))
		must(t, s.CreateToken(ctx, &store.Token{Hash: "tok-" + x.id, Kind: store.TokenAccess, CreatedAt: t0, ExpiresAt: x.exp}))
		must(t, s.CreateDeviceAuth(ctx, &store.DeviceAuth{DeviceCodeHash: "dev-" + x.id, UserCode: "CODE" + x.id, Status: store.DevicePending, CreatedAt: t0, ExpiresAt: x.exp}))
		must(t, s.CreateSession(ctx, &store.Session{IDHash: "sess-" + x.id, UserID: "u-1", CreatedAt: t0, ExpiresAt: x.exp}))
		must(t, s.CreateGrant(ctx, &store.Grant{ID: "grant-" + x.id, UserID: "u-1", CreatedAt: t0, ExpiresAt: x.exp}))
		must(t, s.PutRevocation(ctx, &store.Revocation{Kind: store.RevokeSession, Subject: "rev-" + x.id, At: t0, ExpiresAt: x.exp}))
	}
	// A window that has ended and one that is running at now.
	_, err := s.HitRate(ctx, "rate-old", time.Minute, now.Add(-time.Minute))
	must(t, err)
	_, err = s.HitRate(ctx, "rate-new", time.Minute, now)
	must(t, err)
	// Clients have their own cleanup; DeleteExpired leaves them.
	must(t, s.CreateClient(ctx, &store.Client{ID: "client-old", IssuedAt: t0, ExpiresAt: past}))

	check := func(t *testing.T) {
		t.Helper()
		_, err := s.GetAuthCode(ctx, "code-old")
		wantErr(t, err, store.ErrNotFound)
		_, err = s.GetToken(ctx, "tok-old")
		wantErr(t, err, store.ErrNotFound)
		_, err = s.GetDeviceAuth(ctx, "dev-old")
		wantErr(t, err, store.ErrNotFound)
		_, err = s.GetSession(ctx, "sess-old")
		wantErr(t, err, store.ErrNotFound)
		_, err = s.GetGrant(ctx, "grant-old")
		wantErr(t, err, store.ErrNotFound)

		_, err = s.GetAuthCode(ctx, "code-new")
		must(t, err)
		_, err = s.GetToken(ctx, "tok-new")
		must(t, err)
		_, err = s.GetDeviceAuth(ctx, "dev-new")
		must(t, err)
		_, err = s.GetSession(ctx, "sess-new")
		must(t, err)
		_, err = s.GetGrant(ctx, "grant-new")
		must(t, err)
		_, err = s.GetClient(ctx, "client-old")
		must(t, err)

		rs, err := s.ListRevocations(ctx, time.Time{})
		must(t, err)
		wantEqual(t, "revocations left", []store.Revocation{{Kind: store.RevokeSession, Subject: "rev-new", At: t0, ExpiresAt: future}}, rs)
	}

	must(t, s.DeleteExpired(ctx, now))
	check(t)
	// The ended window is gone (a hit starts from 1 again); the running
	// one still counts.
	n, err := s.HitRate(ctx, "rate-new", time.Minute, now)
	must(t, err)
	if n != 2 {
		t.Fatalf("running window: count %d, want 2", n)
	}
	n, err = s.HitRate(ctx, "rate-old", time.Minute, now.Add(-time.Minute))
	must(t, err)
	if n != 1 {
		t.Fatalf("ended window: count %d, want 1 (deleted)", n)
	}

	// Idempotent.
	must(t, s.DeleteExpired(ctx, now))
	must(t, s.DeleteExpired(ctx, now))
	check(t)
}

// testDeleteExpiredInBatches: a sweep after a flood deletes more rows than
// one batch (sqldb.ExpiredBatch is 1,000) from every kind of table, and
// keeps the live ones.
func testDeleteExpiredInBatches(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := at(time.Hour)
	const n = 2500
	must(t, s.Update(ctx, func(tx store.Tx) error {
		for i := range n {
			id := strconv.Itoa(i)
			if err := tx.PutUseMarker(ctx, "flood-"+id, now.Add(-time.Second)); err != nil {
				return err
			}
			if _, err := tx.HitRate(ctx, "flood-"+id, time.Minute, now.Add(-time.Minute)); err != nil {
				return err
			}
			if err := tx.CreateClient(ctx, &store.Client{ID: "flood-" + id, IssuedAt: t0, ExpiresAt: now.Add(-time.Second)}); err != nil {
				return err
			}
		}
		return tx.PutUseMarker(ctx, "live", now.Add(time.Hour))
	}))
	must(t, s.DeleteExpired(ctx, now))
	for _, key := range []string{"flood-0", "flood-1500", "flood-2499"} {
		used, err := s.HasUseMarker(ctx, key, now.Add(-time.Hour))
		must(t, err)
		if used {
			t.Fatalf("marker %s survived the sweep", key)
		}
		c, err := s.HitRate(ctx, key, time.Minute, now.Add(-time.Minute))
		must(t, err)
		if c != 1 {
			t.Fatalf("rate window %s: count %d after the sweep, want 1 (deleted)", key, c)
		}
	}
	used, err := s.HasUseMarker(ctx, "live", now)
	must(t, err)
	if !used {
		t.Fatal("the live marker was swept")
	}
	deleted, err := s.DeleteExpiredClients(ctx, now)
	must(t, err)
	if deleted != n {
		t.Fatalf("DeleteExpiredClients deleted %d, want %d", deleted, n)
	}
}

func testTimeRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	for _, tc := range []struct {
		name string
		in   time.Time
	}{
		{"nanoseconds in another zone", time.Date(2026, 1, 2, 3, 4, 5, 999999999, zone)},
		{"one nanosecond", time.Date(2030, 6, 1, 0, 0, 0, 1, time.UTC)},
		{"before 1970", time.Date(1969, 12, 31, 23, 59, 59, 5, time.UTC)},
		{"far future", time.Date(2200, 2, 3, 4, 5, 6, 7, time.UTC)},
		{"local monotonic", time.Now()},
		{"zero", time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := "a-" + tc.name
			must(t, s.CreateAccount(ctx, &store.Account{ID: id, CreatedAt: tc.in}))
			got, err := s.GetAccount(ctx, id)
			must(t, err)
			if tc.in.IsZero() {
				if !got.CreatedAt.IsZero() {
					t.Fatalf("zero time read back as %v", got.CreatedAt)
				}
				return
			}
			if !got.CreatedAt.Equal(tc.in) {
				t.Fatalf("read back %v, want %v", got.CreatedAt, tc.in)
			}
			if got.CreatedAt.Location() != time.UTC {
				t.Fatalf("read back in %v, want UTC", got.CreatedAt.Location())
			}
			if got.CreatedAt != tc.in.UTC().Round(0) {
				t.Fatalf("read back %#v, want exactly %#v", got.CreatedAt, tc.in.UTC().Round(0))
			}
		})
	}
}

func testRateCount(t *testing.T, s store.Store) {
	ctx := t.Context()
	window := time.Minute
	start := t0.Truncate(window)
	n, err := s.RateCount(ctx, "peek", window, start)
	must(t, err)
	if n != 0 {
		t.Fatalf("never hit: count %d, want 0", n)
	}
	for range 3 {
		_, err := s.HitRate(ctx, "peek", window, start.Add(time.Second))
		must(t, err)
	}
	for range 2 { // reading does not count
		n, err = s.RateCount(ctx, "peek", window, start.Add(2*time.Second))
		must(t, err)
		if n != 3 {
			t.Fatalf("count %d, want 3", n)
		}
	}
	n, err = s.RateCount(ctx, "peek", window, start.Add(window))
	must(t, err)
	if n != 0 {
		t.Fatalf("next window: count %d, want 0", n)
	}
	// Inside a transaction too.
	must(t, s.Update(ctx, func(tx store.Tx) error {
		n, err = tx.RateCount(ctx, "peek", window, start)
		return err
	}))
	if n != 3 {
		t.Fatalf("in a transaction: count %d, want 3", n)
	}
}

func testReserveAttempt(t *testing.T, s store.Store) {
	ctx := t.Context()
	rule := store.AttemptRule{Limit: 6, Free: 3, Delay: time.Second, MaxDelay: 3 * time.Second, TTL: time.Hour}
	now := t0
	type step struct {
		at        time.Duration // since t0
		ok        bool
		count     int
		notBefore time.Duration // since the step's time when ok, since t0 when refused; 0: none
	}
	steps := []step{
		{0, true, 1, 0},
		{0, true, 2, 0},
		{0, true, 3, time.Second}, // the Free-th attempt makes the next wait
		{0, false, 3, time.Second},
		{time.Second - 1, false, 3, time.Second},
		{time.Second, true, 4, 2 * time.Second}, // doubled
		{3 * time.Second, true, 5, 3 * time.Second},
		{6 * time.Second, true, 6, 3 * time.Second},   // capped
		{20 * time.Second, false, 6, 9 * time.Second}, // at the limit
	}
	for i, st := range steps {
		now = t0.Add(st.at)
		a, ok, err := s.ReserveAttempt(ctx, "signin:k", rule, now)
		must(t, err)
		wantNB := t0.Add(st.notBefore)
		if ok {
			wantNB = now.Add(st.notBefore)
		}
		if st.notBefore == 0 {
			wantNB = time.Time{} // no delay yet: NotBefore is unset
		}
		if ok != st.ok || a.Count != st.count || !a.NotBefore.Equal(wantNB) {
			t.Fatalf("step %d: ok=%v count=%d notBefore=%v; want %v %d %v", i, ok, a.Count, a.NotBefore, st.ok, st.count, wantNB)
		}
	}
	got, err := s.GetAttempts(ctx, "signin:k", now)
	must(t, err)
	if got.Count != 6 || !got.ExpiresAt.Equal(t0.Add(6*time.Second+time.Hour)) {
		t.Fatalf("GetAttempts = %+v", got)
	}
	// A refund uncounts one: the limit allows one more, after the wait.
	must(t, s.RefundAttempt(ctx, "signin:k"))
	if _, ok, err := s.ReserveAttempt(ctx, "signin:k", rule, t0.Add(9*time.Second)); err != nil || !ok {
		t.Fatalf("after refund: ok=%v err=%v", ok, err)
	}
	// Reset forgets everything.
	must(t, s.ResetAttempts(ctx, "signin:k"))
	if a, ok, err := s.ReserveAttempt(ctx, "signin:k", rule, t0.Add(10*time.Second)); err != nil || !ok || a.Count != 1 {
		t.Fatalf("after reset: %+v ok=%v err=%v", a, ok, err)
	}
	// An expired counter starts again; GetAttempts does not see it.
	later := t0.Add(10*time.Second + time.Hour)
	if got, err := s.GetAttempts(ctx, "signin:k", later); err != nil || got.Count != 0 {
		t.Fatalf("expired GetAttempts = %+v, %v", got, err)
	}
	if a, ok, err := s.ReserveAttempt(ctx, "signin:k", rule, later); err != nil || !ok || a.Count != 1 {
		t.Fatalf("after expiry: %+v ok=%v err=%v", a, ok, err)
	}
	// Other keys are separate; refund and reset of unknown keys are no-ops;
	// a rule without limit or delays just counts.
	free := store.AttemptRule{TTL: time.Minute}
	for i := 1; i <= 50; i++ {
		a, ok, err := s.ReserveAttempt(ctx, "signin:other", free, t0)
		if err != nil || !ok || a.Count != i {
			t.Fatalf("free rule attempt %d: %+v ok=%v err=%v", i, a, ok, err)
		}
	}
	must(t, s.RefundAttempt(ctx, "never-seen"))
	must(t, s.ResetAttempts(ctx, "never-seen"))
	if _, _, err := s.ReserveAttempt(ctx, "bad", store.AttemptRule{}, t0); err == nil {
		t.Fatal("a rule without TTL was accepted")
	}
	// Inside a transaction, and rolled back with it.
	errBack := errors.New("back")
	err = s.Update(ctx, func(tx store.Tx) error {
		if _, _, err := tx.ReserveAttempt(ctx, "signin:tx", rule, t0); err != nil {
			return err
		}
		return errBack
	})
	wantErr(t, err, errBack)
	if got, err := s.GetAttempts(ctx, "signin:tx", t0); err != nil || got.Count != 0 {
		t.Fatalf("rolled-back reservation kept: %+v, %v", got, err)
	}
}

func testReserveAttemptConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, tc := range []struct {
		name string
		rule store.AttemptRule
		want int
	}{
		{"limit", store.AttemptRule{Limit: 5, TTL: time.Hour}, 5},
		{"delay", store.AttemptRule{Free: 5, Delay: time.Minute, MaxDelay: time.Hour, TTL: time.Hour}, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var (
				wg   sync.WaitGroup
				mu   sync.Mutex
				ok   int
				errs []error
			)
			for range 40 {
				wg.Go(func() {
					_, got, err := s.ReserveAttempt(ctx, "conc:"+tc.name, tc.rule, t0)
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						errs = append(errs, err)
					} else if got {
						ok++
					}
				})
			}
			wg.Wait()
			for _, err := range errs {
				t.Error(err)
			}
			if ok != tc.want {
				t.Fatalf("%d of 40 concurrent reservations allowed, want %d", ok, tc.want)
			}
		})
	}
}

func testUseMarkers(t *testing.T, s store.Store) {
	ctx := t.Context()
	has := func(key string, now time.Time) bool {
		t.Helper()
		ok, err := s.HasUseMarker(ctx, key, now)
		must(t, err)
		return ok
	}
	if has("m1", t0) {
		t.Fatal("marker found before it was put")
	}
	must(t, s.PutUseMarker(ctx, "m1", at(time.Minute)))
	if !has("m1", t0) || has("m2", t0) {
		t.Fatal("marker not found, or found under another key")
	}
	wantErr(t, s.PutUseMarker(ctx, "m1", at(time.Minute)), store.ErrConflict)
	if has("m1", at(time.Minute)) {
		t.Fatal("expired marker still counts")
	}
	// Concurrent puts: exactly one wins.
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for range 20 {
		wg.Go(func() {
			err := s.PutUseMarker(ctx, "race", at(time.Minute))
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				won++
			} else if !errors.Is(err, store.ErrConflict) {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if won != 1 {
		t.Fatalf("%d concurrent puts won, want 1", won)
	}
	// DeleteExpired sweeps markers and attempt counters that ended.
	_, _, err := s.ReserveAttempt(ctx, "sweep", store.AttemptRule{TTL: time.Second}, t0)
	must(t, err)
	must(t, s.DeleteExpired(ctx, at(time.Hour)))
	must(t, s.PutUseMarker(ctx, "m1", at(2*time.Hour))) // no conflict: swept
	if got, err := s.GetAttempts(ctx, "sweep", t0); err != nil || got.Count != 0 {
		t.Fatalf("attempt counter not swept: %+v, %v", got, err)
	}
}
