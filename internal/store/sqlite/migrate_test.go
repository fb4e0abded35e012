package sqlite

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/store"
	"github.com/gatehouse-dev/gatehouse/internal/store/sqldb"
)

// TestMigration0003KeepsUsers migrates a database holding users written
// before 0003 (profile JSON of the old free-form kind): their attributes read
// back typed, and the new e-mail lookup finds them.
func TestMigration0003KeepsUsers(t *testing.T) {
	ctx := t.Context()
	path, raw := migratedBelow(t, 3)
	_, err := raw.ExecContext(ctx, `INSERT INTO users (id, user_name, user_name_key, display_name, name, emails, profile, disabled,
		password_hash, created_at, updated_at, created_by, updated_by) VALUES
		('u-1', 'Ed', 'ed', 'Ed', '{"GivenName":"Ed"}', '[{"Value":"Ed@Example.com","Primary":true}]', '{"Title":"Engineer","NickName":"eddie"}', 0, '', 1, 1, 'a', 'a'),
		('u-2', 'Bo', 'bo', 'Bo', '{}', 'null', NULL, 0, '', 1, 1, 'a', 'a')`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.ExecContext(ctx, `INSERT INTO directory_groups (id, display_name, display_name_key, description, created_at, updated_at, created_by, updated_by)
		VALUES ('g-1', 'Team', 'team', '', 1, 1, 'a', 'a')`); err != nil {
		t.Fatal(err)
	}
	db := reopen(t, raw, path)
	u, err := db.GetUserByEmail(ctx, "ed@example.com")
	if err != nil || u.ID != "u-1" || u.Profile.Title != "Engineer" || u.Profile.NickName != "eddie" || u.ExternalIDs != nil {
		t.Fatalf("old user after migration = %+v, %v", u, err)
	}
	u, err = db.GetUser(ctx, "u-2")
	if err != nil || u.Emails != nil || u.Profile.Title != "" {
		t.Fatalf("old user without e-mail = %+v, %v", u, err)
	}
	g, err := db.GetGroup(ctx, "g-1")
	if err != nil || g.ExternalIDs != nil {
		t.Fatalf("old group = %+v, %v", g, err)
	}
	if _, err := db.GetUserByEmail(ctx, ""); err == nil {
		t.Fatal("the empty address found a user")
	}
	_, err = db.GetUserByExternalID(ctx, store.ExternalID{Issuer: "i", ID: "x"})
	if err == nil {
		t.Fatal("unknown external ID found a user")
	}
}

// TestMigration0017KeepsEvents migrates a database holding events written
// before 0017 (event_resources with a rowid, events_access_key over every
// event): lookups by resource and by access key find the same events, and
// events appended afterwards are found too.
func TestMigration0017KeepsEvents(t *testing.T) {
	ctx := t.Context()
	path, raw := migratedBelow(t, 17)
	_, err := raw.ExecContext(ctx, `INSERT INTO events (id, event_time, source, name, principal, error_code, record, read_only, resources, access_key_id) VALUES
		('e-1', 1, 'sso.amazonaws.com', 'GetRoleCredentials', 'ed', '', '{}', 1, '[{"ResourceType":"AWS::Organizations::Account","ResourceName":"111111111111"}]', ''),
		('e-2', 2, 'sts.amazonaws.com', 'GetCallerIdentity', 'ed', '', '{}', 1, NULL, 'ASIAEXAMPLE7KQ2RJ4XA')`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.ExecContext(ctx, `INSERT INTO event_resources (event_id, resource_type, resource_name)
		VALUES ('e-1', 'AWS::Organizations::Account', '111111111111')`); err != nil {
		t.Fatal(err)
	}
	db := reopen(t, raw, path)
	if err := db.AppendEvents(ctx, []store.EventRecord{
		{ID: "e-3", Time: time.Unix(0, 3), Name: "GetRoleCredentials", Resources: []store.EventResource{{Type: "AWS::Organizations::Account", Name: "111111111111"}}},
		{ID: "e-4", Time: time.Unix(0, 4), Name: "GetCallerIdentity", AccessKeyID: "ASIAEXAMPLE7KQ2RJ4XA"},
	}); err != nil {
		t.Fatal(err)
	}
	wantLookups(t, db, []lookup{
		{"ResourceName", store.EventFilter{ResourceName: "111111111111"}, "e-1 e-3"},
		{"ResourceType", store.EventFilter{ResourceType: "AWS::Organizations::Account"}, "e-1 e-3"},
		{"AccessKeyId", store.EventFilter{AccessKeyID: "ASIAEXAMPLE7KQ2RJ4XA"}, "e-2 e-4"},
		{"all", store.EventFilter{}, "e-1 e-2 e-3 e-4"},
	})
	if n, err := db.DeleteEventsBefore(ctx, time.Unix(0, 2)); err != nil || n != 1 {
		t.Fatalf("DeleteEventsBefore = %d, %v; want 1", n, err)
	}
	if got := eventIDs(t, db, store.EventFilter{ResourceName: "111111111111"}); got != "e-3" {
		t.Errorf("after deleting e-1: events %q, want e-3", got)
	}
}

// TestMigration0018KeepsDisabledUsers migrates a database holding disabled
// users written before 0018: each stays disabled until an administrator
// enables it (the old rows do not say who disabled it), by the SCIM client
// too when a SCIM client made its last change, and an enabled user has
// neither side set.
func TestMigration0018KeepsDisabledUsers(t *testing.T) {
	ctx := t.Context()
	path, raw := migratedBelow(t, 18)
	_, err := raw.ExecContext(ctx, `INSERT INTO users (id, user_name, user_name_key, display_name, name, emails, profile, disabled,
		password_hash, created_at, updated_at, created_by, updated_by, email_key) VALUES
		('u-1', 'Ed', 'ed', 'Ed', '{}', 'null', NULL, 1, '', 1, 1, 'a', 'arn:aws:sts::111111111111:assumed-role/Admin/root', ''),
		('u-2', 'Bo', 'bo', 'Bo', '{}', 'null', NULL, 1, '', 1, 1, 'a', 'scim/tok-1', ''),
		('u-3', 'Al', 'al', 'Al', '{}', 'null', NULL, 0, '', 1, 1, 'a', 'scim/tok-1', '')`)
	if err != nil {
		t.Fatal(err)
	}
	db := reopen(t, raw, path)
	for _, tc := range []struct {
		id                              string
		disabled, admin, sourceInactive bool
	}{
		{"u-1", true, true, false},
		{"u-2", true, true, true},
		{"u-3", false, false, false},
	} {
		u, err := db.GetUser(ctx, tc.id)
		if err != nil {
			t.Fatal(err)
		}
		if u.Disabled != tc.disabled || u.AdminDisabled != tc.admin || u.SourceInactive != tc.sourceInactive {
			t.Errorf("%s: disabled %v, admin %v, source inactive %v; want %v, %v, %v", tc.id,
				u.Disabled, u.AdminDisabled, u.SourceInactive, tc.disabled, tc.admin, tc.sourceInactive)
		}
	}
	us, err := db.ListUsers(ctx, store.Page{})
	if err != nil || len(us) != 3 || !us[0].AdminDisabled || !us[1].AdminDisabled || !us[1].SourceInactive {
		t.Fatalf("ListUsers after migration = %+v, %v", us, err)
	}
}

// TestMigration0019KeepsResourceLookups migrates a database holding
// events and their event_resources rows written before 0019: lookups by
// resource type and by resource name find the same events after it, an
// event with two resources of one type once, and events appended
// afterwards too; retention deletes their keys.
func TestMigration0019KeepsResourceLookups(t *testing.T) {
	ctx := t.Context()
	path, raw := migratedBelow(t, 19)
	_, err := raw.ExecContext(ctx, `INSERT INTO events (id, event_time, source, name, principal, error_code, record, read_only, resources, access_key_id) VALUES
		('e-1', 1, 'sso.amazonaws.com', 'GetRoleCredentials', 'ed', '', '{}', 1, '[{"ResourceType":"AWS::Organizations::Account","ResourceName":"111111111111"}]', ''),
		('e-2', 2, 'identitystore.amazonaws.com', 'CreateGroupMembership', 'ed', '', '{}', 0, '[{"ResourceType":"AWS::IdentityStore::User","ResourceName":"u-1"},{"ResourceType":"AWS::IdentityStore::User","ResourceName":"u-2"}]', '')`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.ExecContext(ctx, `INSERT INTO event_resources (event_id, resource_type, resource_name) VALUES
		('e-1', 'AWS::Organizations::Account', '111111111111'),
		('e-2', 'AWS::IdentityStore::User', 'u-1'),
		('e-2', 'AWS::IdentityStore::User', 'u-2')`); err != nil {
		t.Fatal(err)
	}
	db := reopen(t, raw, path)
	if err := db.AppendEvents(ctx, []store.EventRecord{
		{ID: "e-3", Time: time.Unix(0, 3), Name: "GetRoleCredentials", Resources: []store.EventResource{{Type: "AWS::Organizations::Account", Name: "111111111111"}}},
		{ID: "e-4", Time: time.Unix(0, 4), Name: "CreateUser", Resources: []store.EventResource{{Type: "AWS::IdentityStore::User", Name: "u-2"}}},
	}); err != nil {
		t.Fatal(err)
	}
	wantLookups(t, db, []lookup{
		{"ResourceName account", store.EventFilter{ResourceName: "111111111111"}, "e-1 e-3"},
		{"ResourceType account", store.EventFilter{ResourceType: "AWS::Organizations::Account"}, "e-1 e-3"},
		{"ResourceName u-1", store.EventFilter{ResourceName: "u-1"}, "e-2"},
		{"ResourceName u-2", store.EventFilter{ResourceName: "u-2"}, "e-2 e-4"},
		{"ResourceType user", store.EventFilter{ResourceType: "AWS::IdentityStore::User"}, "e-2 e-4"},
	})
	if n, err := db.DeleteEventsBefore(ctx, time.Unix(0, 3)); err != nil || n != 2 {
		t.Fatalf("DeleteEventsBefore = %d, %v; want 2", n, err)
	}
	var keys int
	if err := db.ReadPool().QueryRowContext(ctx, `SELECT count(*) FROM event_resource_keys`).Scan(&keys); err != nil {
		t.Fatal(err)
	}
	if keys != 4 { // e-3's and e-4's type and name
		t.Errorf("%d resource keys after retention, want 4", keys)
	}
}

// lookup is a filter and the IDs of the events it should list.
type lookup struct {
	name string
	f    store.EventFilter
	want string
}

// wantLookups checks that db lists the events each lookup wants.
func wantLookups(t *testing.T, db *DB, ls []lookup) {
	t.Helper()
	for _, l := range ls {
		if got := eventIDs(t, db, l.f); got != l.want {
			t.Errorf("%s: events %q, want %q", l.name, got, l.want)
		}
	}
}

// eventIDs returns the IDs of the events db lists for f, space-separated.
func eventIDs(t *testing.T, db *DB, f store.EventFilter) string {
	t.Helper()
	es, err := db.ListEvents(t.Context(), f)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.ID)
	}
	return strings.Join(out, " ")
}

// migratedBelow returns a new database, open without the store, with the
// migrations before version applied, and its path.
func migratedBelow(t *testing.T, version int64) (string, *sql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "old.db")
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	ms, err := sqldb.EmbeddedMigrations(migrationFS, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	var old []sqldb.Migration
	for _, m := range ms {
		if m.Version < version {
			old = append(old, m)
		}
	}
	if err := sqldb.Migrate(t.Context(), raw, old, "", time.Now()); err != nil {
		t.Fatal(err)
	}
	return path, raw
}

// reopen closes raw and opens path as the store does, applying the
// remaining migrations.
func reopen(t *testing.T, raw *sql.DB, path string) *DB {
	t.Helper()
	raw.Close()
	db, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
