package storetest

import (
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/store"
)

func testSCIMTokens(t *testing.T, s store.Store) {
	ctx := t.Context()
	ts, err := s.ListSCIMTokens(ctx)
	must(t, err)
	if len(ts) != 0 {
		t.Fatalf("empty store lists %d SCIM tokens", len(ts))
	}
	a := &store.SCIMToken{ID: "st-a", Hash: "k1.aaa", Description: "Okta", CreatedAt: t0, ExpiresAt: at(365 * 24 * time.Hour), CreatedBy: "arn:aws:sts::1:assumed-role/x/alice"}
	b := &store.SCIMToken{ID: "st-b", Hash: "k1.bbb", CreatedAt: at(time.Second), ExpiresAt: at(time.Hour)}
	must(t, s.CreateSCIMToken(ctx, a))
	must(t, s.Update(ctx, func(tx store.Tx) error { return tx.CreateSCIMToken(ctx, b) }))
	wantErr(t, s.CreateSCIMToken(ctx, &store.SCIMToken{ID: "st-a", Hash: "k1.other", CreatedAt: t0, ExpiresAt: t0}), store.ErrConflict)
	wantErr(t, s.CreateSCIMToken(ctx, &store.SCIMToken{ID: "st-c", Hash: "k1.aaa", CreatedAt: t0, ExpiresAt: t0}), store.ErrConflict)

	got, err := s.GetSCIMTokenByHash(ctx, "k1.aaa")
	must(t, err)
	wantEqual(t, "token by hash", *a, *got)
	_, err = s.GetSCIMTokenByHash(ctx, "k1.AAA")
	wantErr(t, err, store.ErrNotFound)

	ts, err = s.ListSCIMTokens(ctx)
	must(t, err)
	wantEqual(t, "list", []store.SCIMToken{*a, *b}, ts)

	// Touch records later uses only; a missing token is no error.
	must(t, s.TouchSCIMToken(ctx, "st-a", at(time.Minute)))
	must(t, s.TouchSCIMToken(ctx, "st-a", at(time.Second)))
	must(t, s.TouchSCIMToken(ctx, "st-gone", at(time.Minute)))
	got, err = s.GetSCIMTokenByHash(ctx, "k1.aaa")
	must(t, err)
	if !got.LastUsedAt.Equal(at(time.Minute)) {
		t.Fatalf("LastUsedAt = %v, want %v", got.LastUsedAt, at(time.Minute))
	}

	// Touching and creating tokens are not directory changes.
	before, err := s.ChangeSeq(ctx)
	must(t, err)
	must(t, s.TouchSCIMToken(ctx, "st-a", at(2*time.Minute)))
	after, err := s.ChangeSeq(ctx)
	must(t, err)
	if after != before {
		t.Fatalf("TouchSCIMToken moved ChangeSeq from %d to %d", before, after)
	}

	// An expired token stays listed for the retention period, then the
	// sweep removes it; the unexpired one stays.
	must(t, s.DeleteExpired(ctx, at(2*time.Hour)))
	_, err = s.GetSCIMTokenByHash(ctx, "k1.bbb")
	must(t, err)
	must(t, s.DeleteExpired(ctx, at(time.Hour+store.SCIMTokenRetention+time.Second)))
	_, err = s.GetSCIMTokenByHash(ctx, "k1.bbb")
	wantErr(t, err, store.ErrNotFound)
	_, err = s.GetSCIMTokenByHash(ctx, "k1.aaa")
	must(t, err)

	must(t, s.DeleteSCIMToken(ctx, "st-a"))
	wantErr(t, s.DeleteSCIMToken(ctx, "st-a"), store.ErrNotFound)
	_, err = s.GetSCIMTokenByHash(ctx, "k1.aaa")
	wantErr(t, err, store.ErrNotFound)
}
