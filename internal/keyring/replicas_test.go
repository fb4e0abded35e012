package keyring_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
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
	for _, b := range []struct {
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
	} {
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
