package keyring_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/keyring"
	"github.com/gatehouse-dev/gatehouse/internal/loadkit"
	"github.com/gatehouse-dev/gatehouse/internal/store"
	"github.com/gatehouse-dev/gatehouse/internal/store/postgres"
	"github.com/gatehouse-dev/gatehouse/internal/store/sqlite"
)

// TestRotationAcrossReplicas: two replicas, each with its own store and
// ring over one database. The first rotates a key and seals with the new
// one at once; the second, which has not loaded that key yet, reloads its
// ring and opens the value instead of failing the request. A value naming
// a key that exists nowhere still fails, and concurrent ones share
// reloads.
func TestRotationAcrossReplicas(t *testing.T) {
	for _, b := range sharedStores {
		t.Run(b.name, func(t *testing.T) {
			ctx := t.Context()
			st1, st2 := b.open(t)
			master := bytes.Repeat([]byte{7}, 32)
			r1, err := keyring.Open(ctx, st1, master, rand.Reader, time.Now)
			if err != nil {
				t.Fatal(err)
			}
			r2, err := keyring.Open(ctx, st2, master, rand.Reader, time.Now)
			if err != nil {
				t.Fatal(err)
			}
			before, err := r1.Seal(keyring.PurposeSeal, []byte("before"), nil)
			if err != nil {
				t.Fatal(err)
			}
			if pt, err := r2.Open(keyring.PurposeSeal, before, nil); err != nil || string(pt) != "before" {
				t.Fatalf("replica 2 opens a value of the shared key: %q, %v", pt, err)
			}
			if err := r1.Rotate(ctx, st1, keyring.PurposeSeal, time.Now().Add(time.Second)); err != nil {
				t.Fatal(err)
			}
			after, err := r1.Seal(keyring.PurposeSeal, []byte("after"), nil)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Split(after, ".")[0] == strings.Split(before, ".")[0] {
				t.Fatal("the rotation did not change the sealing key")
			}
			// Replicas meeting the new key at once, in parallel.
			var wg sync.WaitGroup
			errs := make(chan error, 20)
			for range 20 {
				wg.Go(func() {
					pt, err := r2.Open(keyring.PurposeSeal, after, nil)
					if err == nil && string(pt) != "after" {
						err = errors.New("wrong plaintext " + string(pt))
					}
					errs <- err
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatalf("replica 2 opening a value sealed under the just-rotated key: %v", err)
				}
			}
			// Replica 2 now seals with the new key too, and still opens
			// the old key's values.
			mine, err := r2.Seal(keyring.PurposeSeal, []byte("mine"), nil)
			if err != nil || strings.Split(mine, ".")[0] != strings.Split(after, ".")[0] {
				t.Fatalf("replica 2 seals %q (%v), want the new key %q", mine, err, strings.Split(after, ".")[0])
			}
			if pt, err := r2.Open(keyring.PurposeSeal, before, nil); err != nil || string(pt) != "before" {
				t.Fatalf("replica 2 after reload opens the old key's value: %q, %v", pt, err)
			}
			// A key that exists nowhere is still refused.
			forged := "AAAAAAAA" + after[strings.Index(after, "."):]
			if _, err := r2.Open(keyring.PurposeSeal, forged, nil); !errors.Is(err, keyring.ErrUnsealable) {
				t.Fatalf("value of an unknown key: %v, want ErrUnsealable", err)
			}
		})
	}
}

// sharedStores opens two stores on one database: two handles on one
// SQLite file, or two on one fresh PostgreSQL schema.
var sharedStores = []struct {
	name string
	open func(t *testing.T) (store.Store, store.Store)
}{
	{"sqlite", func(t *testing.T) (store.Store, store.Store) {
		path := filepath.Join(t.TempDir(), "db")
		return openSQLite(t, path), openSQLite(t, path)
	}},
	{"postgres", func(t *testing.T) (store.Store, store.Store) {
		dsn := postgresSchema(t)
		return openPostgres(t, dsn), openPostgres(t, dsn)
	}},
}

func openSQLite(t *testing.T, path string) store.Store {
	t.Helper()
	st, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func openPostgres(t *testing.T, dsn string) store.Store {
	t.Helper()
	st, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// postgresSchema returns GATEHOUSE_TEST_POSTGRES_DSN with search_path set
// to a fresh schema dropped when t ends, or skips t when it is not set.
func postgresSchema(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("GATEHOUSE_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("GATEHOUSE_TEST_POSTGRES_DSN not set: PostgreSQL server needed")
	}
	u, drop, err := loadkit.PostgresSchema(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := drop(); err != nil {
			t.Error(err)
		}
	})
	return u
}

// countingStore counts the key-list reads a ring makes.
type countingStore struct {
	store.Store
	lists atomic.Int64
}

func (s *countingStore) ListKeys(ctx context.Context, purpose string) ([]store.Key, error) {
	s.lists.Add(1)
	return s.Store.ListKeys(ctx, purpose)
}

// TestHashRotationAcrossReplicas: tokens are stored as keyed hashes that
// name no key. Replica 1 rotates the token-hash key and hashes a token
// under the new key; replica 2, not restarted, finds it (Find) and
// verifies a stored hash naming the new key (Verify), and still finds
// values hashed under the older key. A flood of unknown tokens makes
// replica 2 read its keys at most once per HashReloadGap.
func TestHashRotationAcrossReplicas(t *testing.T) {
	for _, b := range sharedStores {
		t.Run(b.name, func(t *testing.T) {
			ctx := t.Context()
			st1, st2 := b.open(t)
			counted := &countingStore{Store: st2}
			master := bytes.Repeat([]byte{7}, 32)
			r1, err := keyring.Open(ctx, st1, master, rand.Reader, time.Now)
			if err != nil {
				t.Fatal(err)
			}
			r2, err := keyring.Open(ctx, counted, master, rand.Reader, time.Now)
			if err != nil {
				t.Fatal(err)
			}
			// table stands for a token table both replicas share.
			var mu sync.Mutex
			table := map[string]string{}
			put := func(r *keyring.Ring, value string) {
				mu.Lock()
				table[r.Hash(value)] = value
				mu.Unlock()
			}
			get := func(h string) (string, error) {
				mu.Lock()
				defer mu.Unlock()
				if v, ok := table[h]; ok {
					return v, nil
				}
				return "", store.ErrNotFound
			}
			put(r1, "old-token")
			if err := r1.Rotate(ctx, st1, keyring.PurposeTokenHash, time.Now().Add(time.Second)); err != nil {
				t.Fatal(err)
			}
			put(r1, "new-token")
			secretHash := r1.Hash("client-secret")

			var wg sync.WaitGroup
			errs := make(chan error, 20)
			for range 20 {
				wg.Go(func() {
					v, err := keyring.Find(ctx, r2, "new-token", get)
					if err == nil && v != "new-token" {
						err = errors.New("found " + v)
					}
					errs <- err
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatalf("replica 2 finding a token hashed under the just-rotated key: %v", err)
				}
			}
			if v, err := keyring.Find(ctx, r2, "old-token", get); err != nil || v != "old-token" {
				t.Fatalf("replica 2 finding a token of the older key: %q, %v", v, err)
			}
			if r2.Hash("x") != r1.Hash("x") {
				t.Fatal("replica 2 does not hash with the new key after its reload")
			}

			if err := r1.Rotate(ctx, st1, keyring.PurposeTokenHash, time.Now().Add(2*time.Second)); err != nil {
				t.Fatal(err)
			}
			secretHash = r1.Hash("client-secret")
			if ok, err := r2.Verify(ctx, "client-secret", secretHash); err != nil || !ok {
				t.Fatalf("replica 2 verifying a hash of the just-rotated key: %v, %v", ok, err)
			}
			if ok, err := r2.Verify(ctx, "other-secret", secretHash); err != nil || ok {
				t.Fatalf("replica 2 verifying a wrong secret: %v, %v", ok, err)
			}

			// A flood of unknown tokens from many callers.
			before := counted.lists.Load()
			start := time.Now()
			var flood sync.WaitGroup
			for g := range 50 {
				flood.Go(func() {
					for i := range 4 {
						if _, err := keyring.Find(ctx, r2, fmt.Sprintf("forged-%d-%d", g, i), get); !errors.Is(err, store.ErrNotFound) {
							t.Errorf("forged token: %v, want store.ErrNotFound", err)
							return
						}
					}
				})
			}
			flood.Wait()
			elapsed := time.Since(start)
			reloads := counted.lists.Load() - before
			if bound := int64(elapsed/keyring.HashReloadGap) + 1; reloads > bound {
				t.Fatalf("200 forged tokens in %v made %d key reads, want at most %d (one per %v)", elapsed, reloads, bound, keyring.HashReloadGap)
			}
			if reloads == 0 {
				t.Fatal("the flood made no reload: a miss must look for new keys")
			}
			t.Logf("200 forged tokens from 50 callers: %d key reads in %v", reloads, elapsed)
		})
	}
}
