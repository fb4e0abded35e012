package storetest

import (
	"fmt"
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
