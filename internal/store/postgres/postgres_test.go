package postgres_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/gatehouse-dev/gatehouse/internal/store"
	"github.com/gatehouse-dev/gatehouse/internal/store/postgres"
	"github.com/gatehouse-dev/gatehouse/internal/store/storetest"
)

const dsnEnv = "GATEHOUSE_TEST_POSTGRES_DSN"

func TestPostgres(t *testing.T) {
	dsn := serverDSN(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, schemaDSN(t, dsn))
	})
}

// serverDSN returns the test server's DSN or skips the test.
func serverDSN(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv(dsnEnv)
	if dsn == "" {
		t.Skip(dsnEnv + " not set: PostgreSQL server needed")
	}
	return dsn
}

// schemaDSN creates a fresh schema, dropped when t ends, and returns dsn
// with search_path pointing at it, so tests sharing a server do not see
// each other's tables.
func schemaDSN(t *testing.T, dsn string) string {
	t.Helper()
	schema := "gatehouse_test_" + strings.ToLower(rand.Text())
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	if _, err := admin.ExecContext(t.Context(), `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		// t.Context is done by now.
		if _, err := admin.ExecContext(context.Background(), `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		t.Fatalf("%s must be a postgres:// URL: %q", dsnEnv, dsn)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func open(t *testing.T, dsn string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(t.Context(), dsn)
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

// TestOpenConcurrently starts several replicas on one empty schema at once:
// the advisory lock lets exactly one apply the migrations, and all open.
func TestOpenConcurrently(t *testing.T) {
	dsn := schemaDSN(t, serverDSN(t))
	const n = 6
	dbs := make([]*postgres.DB, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { dbs[i], errs[i] = postgres.Open(t.Context(), dsn) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
		t.Cleanup(func() { dbs[i].Close() })
	}
	var rows, distinct int
	err := dbs[0].ReadPool().QueryRowContext(t.Context(), `SELECT count(*), count(DISTINCT version) FROM schema_migrations`).Scan(&rows, &distinct)
	if err != nil {
		t.Fatal(err)
	}
	if rows == 0 || rows != distinct {
		t.Fatalf("schema_migrations has %d rows for %d versions", rows, distinct)
	}
	// Opening again applies nothing.
	again := open(t, dsn)
	var after int
	if err := again.ReadPool().QueryRowContext(t.Context(), `SELECT count(*) FROM schema_migrations`).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if after != rows {
		t.Fatalf("reopening changed schema_migrations from %d to %d rows", rows, after)
	}
}
