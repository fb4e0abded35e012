package sqlite_test

import (
	"path/filepath"
	"sync"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/store"
	"github.com/gatehouse-dev/gatehouse/internal/store/sqlite"
	"github.com/gatehouse-dev/gatehouse/internal/store/storetest"
)

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, filepath.Join(t.TempDir(), "gatehouse.db"))
	})
}

func open(t *testing.T, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db
}

// TestOpenConcurrentlyAndReopen opens one new file from several goroutines
// at once (each its own pools, as separate processes would have) and then
// again: migrations apply exactly once and data survives reopening.
func TestOpenConcurrentlyAndReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	const n = 6
	dbs := make([]*sqlite.DB, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { dbs[i], errs[i] = sqlite.Open(t.Context(), path) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		t.Cleanup(func() { dbs[i].Close() })
	}
	ctx := t.Context()
	if err := dbs[0].CreateAccount(ctx, &store.Account{ID: "111111111111", Name: "one"}); err != nil {
		t.Fatal(err)
	}
	if _, err := dbs[n-1].GetAccount(ctx, "111111111111"); err != nil {
		t.Fatalf("write on one handle not seen on another: %v", err)
	}
	var versions int
	if err := dbs[1].ReadPool().QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&versions); err != nil {
		t.Fatal(err)
	}
	var files int
	if err := dbs[1].ReadPool().QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = 1`).Scan(&files); err != nil {
		t.Fatal(err)
	}
	if files != 1 {
		t.Fatalf("migration 1 recorded %d times", files)
	}
	for _, db := range dbs {
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}

	db := open(t, path)
	a, err := db.GetAccount(ctx, "111111111111")
	if err != nil {
		t.Fatalf("after reopening: %v", err)
	}
	if a.Name != "one" {
		t.Fatalf("after reopening: name %q, want one", a.Name)
	}
	var again int
	if err := db.ReadPool().QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&again); err != nil {
		t.Fatal(err)
	}
	if again != versions {
		t.Fatalf("reopening changed schema_migrations from %d to %d rows", versions, again)
	}
	var mode string
	if err := db.ReadPool().QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Fatalf("journal_mode = %q, want wal", mode)
	}
	if err := db.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestReadPoolIsReadOnly checks that the Store's read pool refuses writes,
// which is what makes a Store write method that forgot to go through the
// write pool fail in the conformance suite.
func TestReadPoolIsReadOnly(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "gatehouse.db"))
	_, err := db.ReadPool().ExecContext(t.Context(), `UPDATE change_seq SET seq = seq + 1`)
	if err == nil {
		t.Fatal("write on the read pool succeeded")
	}
}
