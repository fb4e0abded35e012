package sqlite_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// TestPathIsLiteral checks that characters a file: URI would interpret are
// taken literally in the path given to Open.
func TestPathIsLiteral(t *testing.T) {
	for _, name := range []string{"with space.db", "pct%20x.db", "q?mark.db", "hash#x.db"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			db := open(t, filepath.Join(dir, name))
			if err := db.CreateAccount(t.Context(), &store.Account{ID: "111111111111"}); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
				t.Fatalf("database not at the given path: %v", err)
			}
		})
	}
}

// TestFilesOwnerOnly checks that the database, and the WAL and shared
// memory files SQLite makes next to it, are created readable by their
// owner only, whatever the umask allows.
func TestFilesOwnerOnly(t *testing.T) {
	old := syscall.Umask(0o022)
	t.Cleanup(func() { syscall.Umask(old) })
	dir := t.TempDir()
	path := filepath.Join(dir, "gatehouse.db")
	db := open(t, path)
	if err := db.CreateAccount(t.Context(), &store.Account{ID: "111111111111"}); err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) && p != path {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		seen++
		if m := fi.Mode().Perm(); m != 0o600 {
			t.Errorf("%s has mode %v, want -rw-------", filepath.Base(p), m)
		}
	}
	if seen < 2 {
		t.Errorf("only %d of the database files exist; the WAL should too", seen)
	}
}
