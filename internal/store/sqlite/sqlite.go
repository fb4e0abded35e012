package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/gatehouse-dev/gatehouse/internal/store"
	"github.com/gatehouse-dev/gatehouse/internal/store/sqldb"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// busyTimeout is how long a connection waits for another process's lock
// before reporting SQLITE_BUSY.
const busyTimeout = 10 * time.Second

// DB is a SQLite-backed store.Store.
type DB struct {
	*sqldb.DB
	ckpt *checkpointer
}

var _ store.Store = (*DB)(nil)

// Open opens (creating if needed, mode 0600) the SQLite database at path
// and applies any pending migrations. Several processes may open the same file at once.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("open sqlite: empty path")
	}
	// The database holds sealed secrets and the audit trail: create it
	// readable by its owner only. SQLite gives the -wal and -shm files it
	// creates next to it the database file's permissions.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %q: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("open sqlite %q: %w", path, err)
	}
	// SQLite reads the name as a file: URI, so escape what a URI would
	// interpret.
	name := "file:" + strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(path)
	common := fmt.Sprintf("_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)", busyTimeout.Milliseconds())
	// temp_store(MEMORY) keeps the write connection's statement journals
	// in memory: group commit runs each Update in a savepoint, whose journal
	// would otherwise spill to a temporary file (a write system call per
	// page) once past 64 KiB. wal_autocheckpoint sets how many WAL pages a
	// commit leaves before it copies them into the database (and fsyncs
	// it); see walCheckpointPages.
	write, err := sql.Open("sqlite", name+"?"+common+
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=temp_store(MEMORY)"+
		fmt.Sprintf("&_pragma=wal_autocheckpoint(%d)", walCheckpointPages)+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open sqlite %q: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)

	ms, err := sqldb.EmbeddedMigrations(migrationFS, "migrations")
	if err == nil {
		err = migrate(ctx, write, ms)
	}
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open sqlite %q: %w", path, err)
	}

	read, err := sql.Open("sqlite", name+"?"+common+"&_pragma=query_only(1)")
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open sqlite %q: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	if err := read.PingContext(ctx); err != nil {
		read.Close()
		write.Close()
		return nil, fmt.Errorf("open sqlite %q: %w", path, err)
	}
	ckpt, err := startCheckpointer(name + "?" + common)
	if err != nil {
		read.Close()
		write.Close()
		return nil, fmt.Errorf("open sqlite %q: %w", path, err)
	}
	return &DB{DB: sqldb.New(read, write, Dialect()), ckpt: ckpt}, nil
}

// Close stops the checkpointer and closes the pools.
func (db *DB) Close() error {
	return errors.Join(db.ckpt.stop(), db.DB.Close())
}

// walCheckpointPages is the WAL size, in pages (4 KiB), past which a
// commit checkpoints itself (SQLite's default, 4 MiB). It is the backstop:
// the checkpointer (checkpoint.go) copies committed pages into the
// database every checkpointInterval off the commit path, so a commit seldom
// reaches it. A larger threshold wrote fewer pages per commit but made the
// commit that crossed it copy tens of MiB while every commit queued behind
// it waited: at 8,000 pages GetRoleCredentials' p99 went from about 25 ms to
// 75–95 ms under load (docs/benchmarks.md, "Third pass").
const walCheckpointPages = 1000

// migrate applies ms, retrying while another process holds the database's
// lock for longer than the busy timeout allows (two processes starting at
// once: one migrates, the other then finds nothing to do).
func migrate(ctx context.Context, write *sql.DB, ms []sqldb.Migration) error {
	var err error
	for range 5 {
		err = sqldb.Migrate(ctx, write, ms, "", time.Now())
		if err == nil || !isRetryable(err) {
			return err
		}
	}
	return err
}

// Dialect returns the sqldb dialect of SQLite.
func Dialect() sqldb.Dialect {
	return sqldb.Dialect{
		Name:         "sqlite",
		GroupCommit:  true,             // one writer: concurrent transactions share commits
		Isolation:    sql.LevelDefault, // SQLite transactions are serializable.
		Anonymous:    true,             // numbered parameters bind in n² steps
		IsUnique:     isUnique,
		IsForeignKey: isForeignKey,
		IsRetryable:  isRetryable,
	}
}

func code(err error) (int, bool) {
	e, ok := errors.AsType[*sqlite.Error](err)
	if !ok {
		return 0, false
	}
	return e.Code(), true
}

func isUnique(err error) bool {
	c, ok := code(err)
	return ok && (c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
}

func isForeignKey(err error) bool {
	c, ok := code(err)
	return ok && c == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

// isRetryable reports SQLITE_BUSY and SQLITE_LOCKED in all their extended
// forms: another connection held a lock past the busy timeout, or a WAL
// snapshot went stale.
func isRetryable(err error) bool {
	c, ok := code(err)
	return ok && (c&0xff == sqlite3.SQLITE_BUSY || c&0xff == sqlite3.SQLITE_LOCKED)
}

// IntegrityCheck runs PRAGMA integrity_check and returns an error unless
// SQLite reports the database intact.
func (db *DB) IntegrityCheck(ctx context.Context) error {
	rows, err := db.ReadPool().QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return fmt.Errorf("integrity check: %w", err)
		}
		problems = append(problems, s)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	if len(problems) != 1 || problems[0] != "ok" {
		return fmt.Errorf("integrity check: %s", strings.Join(problems, "; "))
	}
	return nil
}
