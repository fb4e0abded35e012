package sqlite_test

import (
	"os"
	"path/filepath"
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
