package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/gatehouse-dev/gatehouse/internal/store"
	"github.com/gatehouse-dev/gatehouse/internal/store/sqldb"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migrationLock is the advisory lock key held while migrating ("gatehous").
const migrationLock = 0x6761746568_6f7573

// maxConns bounds the pool of connections to the server.
const maxConns = 20

// DB is a PostgreSQL-backed store.Store.
type DB struct {
	*sqldb.DB
}

var _ store.Store = (*DB)(nil)

// Open connects to the database named by dsn (a postgres:// URL or a
// key=value connection string, as pgx parses it; other parameters such as
// search_path are sent to the server as run-time settings) and applies any
// pending migrations.
func Open(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns / 2)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open postgres %s@%s/%s: %w", cfg.User, cfg.Host, cfg.Database, err)
	}
	ms, err := sqldb.EmbeddedMigrations(migrationFS, "migrations")
	if err == nil {
		err = migrate(ctx, db, ms)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open postgres %s@%s/%s: %w", cfg.User, cfg.Host, cfg.Database, err)
	}
	return &DB{DB: sqldb.New(db, db, Dialect())}, nil
}

// migrate applies ms under the advisory lock. Two replicas creating
// schema_migrations at the same moment can still collide on the catalog
// before either holds the lock's effect, so a unique violation or
// serialization failure is retried.
func migrate(ctx context.Context, db *sql.DB, ms []sqldb.Migration) error {
	lock := fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", int64(migrationLock))
	var err error
	for range 5 {
		err = sqldb.Migrate(ctx, db, ms, lock, time.Now())
		if err == nil || !(isRetryable(err) || isUnique(err)) {
			return err
		}
	}
	return err
}

// Dialect returns the sqldb dialect of PostgreSQL.
func Dialect() sqldb.Dialect {
	return sqldb.Dialect{
		Name:             "postgres",
		Isolation:        sql.LevelSerializable,
		RowLockIsolation: sql.LevelReadCommitted,
		IsUnique:         isUnique,
		IsForeignKey:     isForeignKey,
		IsRetryable:      isRetryable,
		MaxAttempts:      20,
	}
}

// SQLSTATE codes, from the PostgreSQL manual's appendix A.
const (
	uniqueViolation      = "23505"
	foreignKeyViolation  = "23503"
	serializationFailure = "40001"
	deadlockDetected     = "40P01"
)

func sqlState(err error) string {
	if e, ok := errors.AsType[*pgconn.PgError](err); ok {
		return e.Code
	}
	return ""
}

func isUnique(err error) bool     { return sqlState(err) == uniqueViolation }
func isForeignKey(err error) bool { return sqlState(err) == foreignKeyViolation }

func isRetryable(err error) bool {
	switch sqlState(err) {
	case serializationFailure, deadlockDetected:
		return true
	}
	return false
}
