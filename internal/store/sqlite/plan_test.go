package sqlite_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/store/sqldb"
)

// TestListUsersReadsCoveringIndex: a page of ListUsers is read from the
// users_list index alone, in ID order, never from scattered table rows
// (what keeps ListUsers fast with 100,000 users while every call writes an
// audit event).
func TestListUsersReadsCoveringIndex(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "gatehouse.db"))
	rows, err := db.ReadPool().QueryContext(t.Context(), `EXPLAIN QUERY PLAN `+sqldb.ListUsersQuery, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(plan, "; "); got != "SEARCH users USING COVERING INDEX users_list (id>?)" {
		t.Fatalf("query plan of ListUsers: %q, want a search of the covering index users_list", got)
	}
}
