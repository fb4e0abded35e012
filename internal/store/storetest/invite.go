package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/store"
)

func testLinkTokens(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := &store.User{ID: "u-link", UserName: "link", CreatedAt: t0, UpdatedAt: t0}
	must(t, s.CreateUser(ctx, u))
	first := &store.LinkToken{Hash: "h1", Kind: store.LinkInvite, UserID: u.ID, CreatedAt: t0, ExpiresAt: at(7 * 24 * time.Hour)}
	must(t, s.PutLinkToken(ctx, first))
	got, err := s.GetLinkToken(ctx, "h1")
	must(t, err)
	wantEqual(t, "token", *first, *got)

	// A token of another kind for the same user lives beside it.
	reset := &store.LinkToken{Hash: "r1", Kind: store.LinkReset, UserID: u.ID, CreatedAt: t0, ExpiresAt: at(time.Hour)}
	must(t, s.PutLinkToken(ctx, reset))
	// Resending replaces the invitation: the old hash is gone.
	second := &store.LinkToken{Hash: "h2", Kind: store.LinkInvite, UserID: u.ID, CreatedAt: at(time.Minute), ExpiresAt: at(8 * 24 * time.Hour)}
	must(t, s.PutLinkToken(ctx, second))
	_, err = s.GetLinkToken(ctx, "h1")
	wantErr(t, err, store.ErrNotFound)
	if _, err := s.GetLinkToken(ctx, "r1"); err != nil {
		t.Fatalf("reset token lost when the invitation was resent: %v", err)
	}
	// The same hash twice is a conflict.
	wantErr(t, s.PutLinkToken(ctx, &store.LinkToken{Hash: "h2", Kind: store.LinkReset, UserID: "other", CreatedAt: t0, ExpiresAt: t0}), store.ErrConflict)

	// Taking is single use.
	got, err = s.TakeLinkToken(ctx, "h2")
	must(t, err)
	wantEqual(t, "taken", *second, *got)
	_, err = s.TakeLinkToken(ctx, "h2")
	wantErr(t, err, store.ErrNotFound)
	_, err = s.TakeLinkToken(ctx, "never")
	wantErr(t, err, store.ErrNotFound)

	// Setup links name no user; a new one replaces the old.
	must(t, s.PutLinkToken(ctx, &store.LinkToken{Hash: "s1", Kind: store.LinkSetup, CreatedAt: t0, ExpiresAt: at(time.Hour)}))
	must(t, s.PutLinkToken(ctx, &store.LinkToken{Hash: "s2", Kind: store.LinkSetup, CreatedAt: t0, ExpiresAt: at(time.Hour)}))
	_, err = s.GetLinkToken(ctx, "s1")
	wantErr(t, err, store.ErrNotFound)

	// DeleteLinkTokens and DeleteUser remove the user's tokens.
	must(t, s.DeleteLinkTokens(ctx, u.ID))
	_, err = s.GetLinkToken(ctx, "r1")
	wantErr(t, err, store.ErrNotFound)
	must(t, s.PutLinkToken(ctx, reset))
	must(t, s.DeleteUser(ctx, u.ID))
	_, err = s.GetLinkToken(ctx, "r1")
	wantErr(t, err, store.ErrNotFound)

	// DeleteExpired removes expired tokens only.
	must(t, s.DeleteExpired(ctx, at(2*time.Hour)))
	_, err = s.GetLinkToken(ctx, "s2")
	wantErr(t, err, store.ErrNotFound)
}

func testLinkTokenTakeConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	must(t, s.PutLinkToken(ctx, &store.LinkToken{Hash: "c1", Kind: store.LinkReset, UserID: "u", CreatedAt: t0, ExpiresAt: at(time.Hour)}))
	const n = 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	taken := 0
	var errs []error
	for range n {
		wg.Go(func() {
			err := s.Update(ctx, func(tx store.Tx) error {
				_, err := tx.TakeLinkToken(ctx, "c1")
				return err
			})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				taken++
			case !errors.Is(err, store.ErrNotFound):
				errs = append(errs, err)
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if taken != 1 {
		t.Fatalf("%d concurrent takes succeeded, want 1", taken)
	}
}

func testOutbox(t *testing.T, s store.Store) {
	ctx := t.Context()
	got, err := s.ListOutbox(ctx, 10)
	must(t, err)
	if len(got) != 0 {
		t.Fatalf("empty outbox lists %d messages", len(got))
	}
	add := func(ctx context.Context, i, keep int) {
		t.Helper()
		must(t, s.AppendOutbox(ctx, &store.OutboxMessage{
			ID: fmt.Sprintf("m%02d", i), To: "a@example.com", Subject: fmt.Sprint("subject ", i),
			Body: "body", CreatedAt: at(time.Duration(i) * time.Second),
		}, keep))
	}
	for i := range 5 {
		add(ctx, i, 3)
	}
	got, err = s.ListOutbox(ctx, 0)
	must(t, err)
	var ids []string
	for _, m := range got {
		ids = append(ids, m.ID)
	}
	wantEqual(t, "kept, newest first", []string{"m04", "m03", "m02"}, ids)
	wantEqual(t, "message", store.OutboxMessage{ID: "m04", To: "a@example.com", Subject: "subject 4", Body: "body", CreatedAt: at(4 * time.Second)}, got[0])
	got, err = s.ListOutbox(ctx, 2)
	must(t, err)
	if len(got) != 2 || got[0].ID != "m04" {
		t.Fatalf("ListOutbox(2) = %+v", got)
	}
	wantErr(t, s.AppendOutbox(ctx, &store.OutboxMessage{ID: "m04", CreatedAt: t0}, 3), store.ErrConflict)
}
