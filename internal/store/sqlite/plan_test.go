package sqlite_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/store"
	"github.com/gatehouse-dev/gatehouse/internal/store/sqldb"
	"github.com/gatehouse-dev/gatehouse/internal/store/sqlite"
)

// TestListUsersReadsCoveringIndex: a page of ListUsers is read from the
// users_list index alone, in ID order, never from scattered table rows
// (what keeps ListUsers fast with 100,000 users while every call writes an
// audit event).
func TestListUsersReadsCoveringIndex(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "gatehouse.db"))
	if got := queryPlan(t, db, sqldb.ListUsersQuery, "", 100); got != "SEARCH users USING COVERING INDEX users_list (id>?)" {
		t.Fatalf("query plan of ListUsers: %q, want a search of the covering index users_list", got)
	}
}

// TestLookupByAccessKeyUsesIndex: a CloudTrail lookup by access key reads
// the partial index events_access_key (which holds only the events signed
// with a key, so that the others do not write to it), newest first,
// without sorting.
func TestLookupByAccessKeyUsesIndex(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "gatehouse.db"))
	q, args := sqldb.EventQuery(store.EventFilter{AccessKeyID: "ASIAEXAMPLE7KQ2RJ4XA", Newest: true, Page: store.Page{Limit: 50}})
	if got := queryPlan(t, db, q, args...); !strings.Contains(got, "USING INDEX events_access_key (access_key_id=?") || strings.Contains(got, "TEMP B-TREE") {
		t.Fatalf("query plan of a lookup by access key: %q, want a search of events_access_key without a sort", got)
	}
}

// queryPlan returns the details of EXPLAIN QUERY PLAN of q, joined by "; ".
func queryPlan(t *testing.T, db *sqlite.DB, q string, args ...any) string {
	t.Helper()
	rows, err := db.ReadPool().QueryContext(t.Context(), `EXPLAIN QUERY PLAN `+q, args...)
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
	return strings.Join(plan, "; ")
}

// TestLookupByResourceReadsKeysInOrder: a CloudTrail lookup by resource
// type or name reads event_resource_keys in the order of its key, newest
// first, without sorting (every credential issue names its account, so a
// lookup by AWS::Organizations::Account would otherwise fetch and sort
// them all for one page).
func TestLookupByResourceReadsKeysInOrder(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "gatehouse.db"))
	for _, f := range []store.EventFilter{
		{ResourceType: "AWS::Organizations::Account", Newest: true, Page: store.Page{Limit: 50}},
		{ResourceName: "111111111111", Newest: true, Page: store.Page{Limit: 50, After: "e-1"}},
		{ResourceName: "111111111111", ResourceType: "AWS::Organizations::Account", Page: store.Page{Limit: 50}},
	} {
		q, args := sqldb.EventQuery(f)
		if got := queryPlan(t, db, q, args...); !strings.HasPrefix(got, "SEARCH k USING PRIMARY KEY (attribute=? AND value=? AND event_time") || strings.Contains(got, "TEMP B-TREE") {
			t.Errorf("query plan of a lookup by %+v: %q, want a search of event_resource_keys' primary key without a sort", f, got)
		}
	}
}
