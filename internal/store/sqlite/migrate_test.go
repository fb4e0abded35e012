package sqlite

import (
	"database/sql"
	"path/filepath"
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
		if m.Version < 3 {
			old = append(old, m)
		}
	}
	if err := sqldb.Migrate(ctx, raw, old, "", time.Now()); err != nil {
		t.Fatal(err)
	}
	_, err = raw.ExecContext(ctx, `INSERT INTO users (id, user_name, user_name_key, display_name, name, emails, profile, disabled,
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
	raw.Close()

	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
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
