package sqlite_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/store"
	"github.com/gatehouse-dev/gatehouse/internal/store/sqlite"
)

// TestCheckpointsOffTheCommitPath: committed pages reach the database file
// within a few checkpoint intervals although the WAL is far below
// wal_autocheckpoint's threshold, so no commit had to copy them (the
// background checkpointer did); Close stops it and may be called twice.
func TestCheckpointsOffTheCommitPath(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	size := func() int64 {
		t.Helper()
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	time.Sleep(time.Second) // the migrations' pages are checkpointed
	before := size()
	// About 400 KiB of events: about 100 pages, a tenth of the threshold.
	rec := strings.Repeat("x", 4000)
	es := make([]store.EventRecord, 100)
	for i := range es {
		es[i] = store.EventRecord{ID: fmt.Sprintf("0194f3a2-%08x-7000-8000-000000000000", i), Time: time.Unix(int64(i), 0),
			Name: "GetRoleCredentials", Principal: "ed", Record: []byte(rec)}
	}
	if err := db.AppendEvents(ctx, es); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for size() < before+300<<10 {
		if time.Now().After(deadline) {
			t.Fatalf("database file %d bytes 5 s after a 400 KiB commit, was %d: no checkpoint ran", size(), before)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	_ = db.Close() // a second Close must not panic
}
