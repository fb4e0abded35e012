package oidc

import (
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/session"
)

// TestTokenCacheDropsExpiredEntries checks that the access-token cache
// does not keep tokens past their expiry until it is full: under steady
// sign-ins and refreshes every token used once would otherwise stay until
// maxCachedTokens entries (tens of MiB) are held, most of them expired (the
// PostgreSQL soak's slow RSS climb).
func TestTokenCacheDropsExpiredEntries(t *testing.T) {
	var c tokenCache
	t0 := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	key := func(i int) tokenKey { return tokenKey(sha256.Sum256(fmt.Appendf(nil, "aoa%d", i))) }
	entry := func(at time.Time) *tokenEntry {
		return &tokenEntry{p: session.Principal{UserID: "u", GrantID: "g"}, expiresAt: at.Add(AccessTokenLifetime), checkedAt: at}
	}
	// Six tokens a minute for two hours, each used once (the soak's rate
	// on one replica, scaled down).
	const perMinute = 6
	n := 0
	for m := range 120 {
		at := t0.Add(time.Duration(m) * time.Minute)
		for range perMinute {
			c.put(key(n), entry(at), at)
			n++
		}
	}
	now := t0.Add(119 * time.Minute)
	live := 0
	for _, e := range c.m {
		if now.Before(e.expiresAt) {
			live++
		}
	}
	// At most the tokens of the last hour and those of one sweep interval
	// before it may be held.
	if max := perMinute * int((AccessTokenLifetime+tokenSweepInterval)/time.Minute+1); len(c.m) > max {
		t.Fatalf("cache holds %d entries (%d unexpired) after %d puts; want at most %d", len(c.m), live, n, max)
	}
	if live != perMinute*60 {
		t.Fatalf("%d unexpired entries held; want %d (no live token dropped)", live, perMinute*60)
	}
	// A get of an expired entry is still answered by the caller's expiry
	// check; the sweep only frees memory.
	if e := c.get(key(n - 1)); e == nil {
		t.Fatal("newest token not cached")
	}
}
