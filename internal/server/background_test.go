package server_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/server"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

var errRollback = errors.New("rollback")

// TestBackgroundSweepsAtStart is issue 9 item 3: the background loop that
// `gatehouse serve` runs deletes, at once, expired rows of every kind —
// client registrations, device codes, authorization codes, tokens, grants,
// sessions, revocations, rate counters — and audit events past the
// retention, and keeps the live ones.
func TestBackgroundSweepsAtStart(t *testing.T) {
	now := time.Date(2026, 11, 22, 4, 0, 0, 0, time.UTC)
	srv := servertest.New(t, func(c *config.Config) {
		c.Now = func() time.Time { return now }
		c.AuditRetention = 30 * 24 * time.Hour
	})
	ctx := t.Context()
	st := srv.Store
	past, future := now.Add(-time.Nanosecond), now.Add(time.Hour)

	// One expired ("old") and one live ("new") row of every kind.
	for _, x := range []struct {
		id  string
		exp time.Time
	}{{"old", past}, {"new", future}} {
		steps := []error{
			st.CreateClient(ctx, &store.Client{ID: "client-" + x.id, Name: "c", Type: "public", IssuedAt: now.Add(-90 * 24 * time.Hour), ExpiresAt: x.exp}),
			st.CreateDeviceAuth(ctx, &store.DeviceAuth{DeviceCodeHash: "dev-" + x.id, UserCode: "CODE" + x.id, Status: store.DevicePending, CreatedAt: now.Add(-time.Hour), ExpiresAt: x.exp}),
			st.CreateAuthCode(ctx, &store.AuthCode{CodeHash: "code-" + x.id, CreatedAt: now.Add(-time.Hour), ExpiresAt: x.exp}),
			st.CreateToken(ctx, &store.Token{Hash: "tok-" + x.id, Kind: store.TokenRefresh, CreatedAt: now.Add(-time.Hour), ExpiresAt: x.exp}),
			st.CreateGrant(ctx, &store.Grant{ID: "grant-" + x.id, UserID: "u", CreatedAt: now.Add(-time.Hour), ExpiresAt: x.exp}),
			st.CreateSession(ctx, &store.Session{IDHash: "sess-" + x.id, UserID: "u", CreatedAt: now.Add(-time.Hour), ExpiresAt: x.exp}),
			st.PutRevocation(ctx, &store.Revocation{Kind: store.RevokeSession, Subject: "rev-" + x.id, At: now.Add(-time.Hour), ExpiresAt: x.exp}),
		}
		if err := errors.Join(steps...); err != nil {
			t.Fatal(err)
		}
	}
	// A rate window that has ended and one that is running.
	for key, at := range map[string]time.Time{"rate-old": now.Add(-time.Minute), "rate-new": now} {
		if _, err := st.HitRate(ctx, key, time.Minute, at); err != nil {
			t.Fatal(err)
		}
	}
	// Audit events beyond the retention and within it.
	if err := st.AppendEvents(ctx, []store.EventRecord{
		{ID: "event-old", Time: now.Add(-31 * 24 * time.Hour), Source: "sso.amazonaws.com", Name: "Old"},
		{ID: "event-new", Time: now.Add(-29 * 24 * time.Hour), Source: "sso.amazonaws.com", Name: "New"},
	}); err != nil {
		t.Fatal(err)
	}

	count := func(suffix string) int {
		t.Helper()
		n := 0
		found := func(err error) {
			if err == nil {
				n++
			} else if !errors.Is(err, store.ErrNotFound) {
				t.Fatal(err)
			}
		}
		_, err := st.GetClient(ctx, "client-"+suffix)
		found(err)
		_, err = st.GetDeviceAuth(ctx, "dev-"+suffix)
		found(err)
		_, err = st.GetAuthCode(ctx, "code-"+suffix)
		found(err)
		_, err = st.GetToken(ctx, "tok-"+suffix)
		found(err)
		_, err = st.GetGrant(ctx, "grant-"+suffix)
		found(err)
		_, err = st.GetSession(ctx, "sess-"+suffix)
		found(err)
		rs, err := st.ListRevocations(ctx, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			if r.Subject == "rev-"+suffix {
				n++
			}
		}
		// A rate window exists when a hit (rolled back) counts more than 1.
		err = st.Update(ctx, func(tx store.Tx) error {
			at := now
			if suffix == "old" {
				at = now.Add(-time.Minute)
			}
			if h, err := tx.HitRate(ctx, "rate-"+suffix, time.Minute, at); err != nil {
				return err
			} else if h > 1 {
				n++
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			t.Fatal(err)
		}
		evs, err := st.ListEvents(ctx, store.EventFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if e.ID == "event-"+suffix {
				n++
			}
		}
		return n
	}
	const kinds = 9
	if o, n := count("old"), count("new"); o != kinds || n != kinds {
		t.Fatalf("before the sweep: %d expired and %d live rows, want %d of each", o, n, kinds)
	}

	swept := make(chan server.SweepResult, 1)
	srv.OnSweep(func(r server.SweepResult, err error) {
		if err != nil {
			t.Errorf("sweep: %v", err)
		}
		select {
		case swept <- r:
		default:
		}
	})
	bg, stop := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- srv.RunBackground(bg) }()
	var res server.SweepResult
	select {
	case res = <-swept:
	case <-time.After(30 * time.Second):
		t.Fatal("no sweep at start")
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if res.Clients != 1 || res.Events != 1 {
		t.Errorf("sweep result %+v, want 1 client and 1 event", res)
	}
	if o, n := count("old"), count("new"); o != 0 || n != kinds {
		t.Errorf("after the sweep: %d expired and %d live rows, want 0 and %d", o, n, kinds)
	}
}

// TestAuditRetentionZeroKeepsEvents: audit_retention 0 keeps every event.
func TestAuditRetentionZeroKeepsEvents(t *testing.T) {
	now := time.Date(2026, 11, 22, 4, 0, 0, 0, time.UTC)
	srv := servertest.New(t, func(c *config.Config) {
		c.Now = func() time.Time { return now }
		c.AuditRetention = 0
	})
	ctx := t.Context()
	if err := srv.Store.AppendEvent(ctx, &store.EventRecord{ID: "ancient", Time: now.AddDate(-10, 0, 0), Source: "sso.amazonaws.com", Name: "Old"}); err != nil {
		t.Fatal(err)
	}
	res, err := srv.Sweep(ctx)
	if err != nil || res.Events != 0 {
		t.Fatalf("Sweep = %+v, %v; want no events deleted", res, err)
	}
	evs, err := srv.Store.ListEvents(ctx, store.EventFilter{End: now.AddDate(-9, 0, 0)})
	if err != nil || len(evs) != 1 {
		t.Fatalf("events left = %d, %v; want the ancient one", len(evs), err)
	}
}
