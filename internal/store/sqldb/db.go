package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// Dialect describes how a database differs from the common SQL sqldb
// writes.
type Dialect struct {
	// Name is what Store.Backend returns: "sqlite" or "postgres".
	Name string
	// Isolation is the isolation level of Update's transactions.
	Isolation sql.IsolationLevel
	// RowLockIsolation is the isolation level of the transactions whose
	// correctness rests on the row lock of a conditional UPDATE alone
	// (RotateToken): at a level weaker than Isolation they do not conflict
	// with each other through predicate locks. LevelDefault means they run
	// through Update (with its isolation level and any group commit).
	RowLockIsolation sql.IsolationLevel
	// IsUnique reports whether err is a unique or primary-key violation.
	IsUnique func(err error) bool
	// IsForeignKey reports whether err is a foreign-key violation.
	IsForeignKey func(err error) bool
	// IsRetryable reports whether err means the transaction lost a race
	// (serialization failure, deadlock, busy database) and running it again
	// may succeed.
	IsRetryable func(err error) bool
	// MaxAttempts bounds how many times Update runs a transaction that keeps
	// failing with retryable errors; 0 means 10.
	MaxAttempts int
	// GroupCommit runs the Update calls that arrive while a transaction is
	// running together in the next one, each in a savepoint (a database
	// with one writer, SQLite: concurrent writes queue anyway, and one
	// commit per group instead of per call is what makes them cheap).
	GroupCommit bool
	// Anonymous writes the parameters of the multi-row INSERTs (audit
	// events and their resources, up to 640 parameters) as "?" rather
	// than "$1", "$2", ...: SQLite finds a numbered parameter's name by a
	// linear search, so binding n numbered parameters costs n² steps
	// (sqlite3_bind_parameter_name, which modernc.org/sqlite calls for
	// every parameter), while anonymous ones have no name to search.
	Anonymous bool
}

// DB implements store.Store over a read pool and a write pool, which may be
// the same *sql.DB. Reads outside Update run on the read pool; every write
// runs in a transaction on the write pool, through Update, so that
// autocommit writes bump ChangeSeq exactly as transactional ones do.
type DB struct {
	// conn serves the Store's reads. Every write method of store.Tx is
	// overridden in writes.go; the sqlite backend opens the read pool with
	// query_only so that a missing override fails loudly in tests.
	*conn
	read, write *sql.DB
	// readStmts and writeStmts are the prepared statements of the pools,
	// the same cache when the pools are.
	readStmts, writeStmts *stmtCache
	d                     *Dialect
	// onChange holds the functions OnChange registered.
	onChange atomic.Pointer[[]func()]
	// group queues Update calls under Dialect.GroupCommit.
	group groupCommit
	// retries counts the attempts retry has run again (see Retries).
	retries atomic.Int64
}

var _ store.Store = (*DB)(nil)

// New returns a store over read and write with the given dialect. Close
// closes both pools (once if they are the same).
func New(read, write *sql.DB, d Dialect) *DB {
	dp := &d
	ws := &stmtCache{pool: write}
	rs := ws
	if read != write {
		rs = &stmtCache{pool: read}
	}
	return &DB{conn: &conn{stmts: rs, d: dp}, read: read, write: write, readStmts: rs, writeStmts: ws, d: dp}
}

// Backend returns the dialect's name.
func (db *DB) Backend() string { return db.d.Name }

// Close closes the prepared statements and the pools.
func (db *DB) Close() error {
	err := db.writeStmts.close()
	if db.readStmts != db.writeStmts {
		err = errors.Join(err, db.readStmts.close())
	}
	err = errors.Join(err, db.write.Close())
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}

// ReadPool returns the pool reads run on, for backend-specific checks
// (integrity checks, tests).
func (db *DB) ReadPool() *sql.DB { return db.read }

// WritePool returns the pool transactions run on.
func (db *DB) WritePool() *sql.DB { return db.write }

// ChangeSeq returns the change counter.
func (db *DB) ChangeSeq(ctx context.Context) (int64, error) {
	var seq int64
	if err := db.conn.queryRowContext(ctx, `SELECT seq FROM change_seq WHERE id = 1`).Scan(&seq); err != nil {
		return 0, fmt.Errorf("read change sequence: %w", err)
	}
	return seq, nil
}

// OnChange registers fn to be called after every committed write of db that
// moved ChangeSeq.
func (db *DB) OnChange(fn func()) {
	for {
		old := db.onChange.Load()
		var fns []func()
		if old != nil {
			fns = slices.Clone(*old)
		}
		fns = append(fns, fn)
		if db.onChange.CompareAndSwap(old, &fns) {
			return
		}
	}
}

// changed calls the OnChange functions.
func (db *DB) changed() {
	if fns := db.onChange.Load(); fns != nil {
		for _, fn := range *fns {
			fn()
		}
	}
}

// Retries returns how many times, since Open, a transaction (or an
// autocommit write) failed with an error the dialect considers retryable
// (on PostgreSQL a serialization failure, SQLSTATE 40001, or a deadlock,
// 40P01; on SQLite a busy or locked database) and was rolled back to be
// run again. Every such retry is a rolled-back transaction and a backoff
// the caller waited through; tests and benchmarks use it to tell contention
// between writes that should be independent.
func (db *DB) Retries() int64 { return db.retries.Load() }

// Backoff bounds between attempts of a retried transaction.
const (
	minBackoff = 2 * time.Millisecond
	maxBackoff = 100 * time.Millisecond
)

// Update runs fn in a transaction and commits it if fn returns nil. When the
// database reports a retryable error (from fn's statements or from the
// commit) it rolls back and runs fn again, at most Dialect.MaxAttempts
// times, sleeping a short jittered, growing backoff in between. The Tx must
// not be used after fn returns. Under Dialect.GroupCommit concurrent calls
// share transactions (see groupUpdate); fn sees the writes of the calls
// before it in the group, as if they had committed just before.
func (db *DB) Update(ctx context.Context, fn func(tx store.Tx) error) error {
	if db.d.GroupCommit {
		return db.groupUpdate(ctx, fn)
	}
	return db.retry(ctx, func() error { return db.updateOnce(ctx, db.d.Isolation, fn) })
}

// RotateToken marks the token hash used and, if that marked it, stores ts
// and appends e, in one transaction at Dialect.RowLockIsolation. On
// PostgreSQL that is READ COMMITTED, and each statement is correct there:
// the UPDATE ... WHERE used_at = 0 takes the token's row lock, waits for a
// transaction holding it to end and then evaluates its condition again on
// the row as that one left it, so of any number of concurrent rotations
// exactly one changes the row; the INSERTs add rows under primary keys no
// other transaction writes (the tokens' keyed hashes and the event's
// random ID), a duplicate failing as ErrConflict and rolling the mark back
// with it. Nothing in it reads a range, so nothing needs SERIALIZABLE's
// predicate locks; at SERIALIZABLE those (on the pages of the tokens
// index, or the whole table when the planner scans it) made rotations of
// unrelated chains fail with serialization errors and be retried.
func (db *DB) RotateToken(ctx context.Context, hash string, at time.Time, ts []store.Token, e *store.EventRecord) (marked bool, err error) {
	fn := func(tx store.Tx) error {
		marked = false
		m, err := tx.MarkTokenUsed(ctx, hash, at)
		if err != nil || !m {
			return err
		}
		if len(ts) > 0 {
			if err := tx.CreateTokens(ctx, ts); err != nil {
				return err
			}
		}
		if e != nil {
			if err := tx.AppendEvent(ctx, e); err != nil {
				return err
			}
		}
		marked = true
		return nil
	}
	if db.d.RowLockIsolation == sql.LevelDefault {
		err = db.Update(ctx, fn)
	} else {
		err = db.retry(ctx, func() error { return db.updateOnce(ctx, db.d.RowLockIsolation, fn) })
	}
	if err != nil {
		return false, fmt.Errorf("rotate token: %w", err)
	}
	return marked, nil
}

// direct runs fn's statements in autocommit mode on the write pool, retried
// like Update. Should fn mark the change counter dirty, it is bumped after
// fn's writes are visible, so that a cache never records a counter value
// newer than the data it loaded.
func (db *DB) direct(ctx context.Context, fn func(c *conn) error) error {
	return db.retry(ctx, func() error {
		c := &conn{stmts: db.writeStmts, d: db.d}
		if err := fn(c); err != nil {
			return err
		}
		if c.dirty {
			if _, err := c.execContext(ctx, bumpChangeSeq); err != nil {
				return fmt.Errorf("bump change sequence: %w", err)
			}
			db.changed()
		}
		return nil
	})
}

// retry runs once until it succeeds, fails with an error the dialect does
// not consider retryable, or has run MaxAttempts times.
func (db *DB) retry(ctx context.Context, once func() error) error {
	attempts := db.d.MaxAttempts
	if attempts <= 0 {
		attempts = 10
	}
	backoff := minBackoff
	for attempt := 1; ; attempt++ {
		err := once()
		if err == nil {
			return nil
		}
		if attempt >= attempts || db.d.IsRetryable == nil || !db.d.IsRetryable(err) {
			if attempt > 1 {
				return fmt.Errorf("after %d attempts: %w", attempt, err)
			}
			return err
		}
		db.retries.Add(1)
		// Jitter in [backoff/2, backoff*3/2) keeps competing transactions
		// from retrying in lock step.
		t := time.NewTimer(backoff/2 + rand.N(backoff))
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("retry transaction: %w (last error: %w)", ctx.Err(), err)
		case <-t.C:
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// bumpChangeSeq grows the change counter.
const bumpChangeSeq = `UPDATE change_seq SET seq = seq + 1 WHERE id = 1`

// updateOnce runs fn once in a transaction at the isolation level iso.
func (db *DB) updateOnce(ctx context.Context, iso sql.IsolationLevel, fn func(tx store.Tx) error) error {
	tx, err := db.write.BeginTx(ctx, &sql.TxOptions{Isolation: iso})
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	c := &conn{stmts: db.writeStmts, tx: tx, d: db.d}
	err = c.run(ctx, fn)
	// Now that tx has given its connection back, prepare what it ran
	// unprepared.
	db.writeStmts.prepare(ctx, c.unprepared)
	if err == nil && c.dirty {
		db.changed()
	}
	return err
}

// run runs fn on c and commits c.tx if fn returns nil, rolling it back
// otherwise.
func (c *conn) run(ctx context.Context, fn func(tx store.Tx) error) error {
	if err := fn(c); err != nil {
		_ = c.tx.Rollback()
		return err
	}
	if c.dirty {
		if _, err := c.execContext(ctx, bumpChangeSeq); err != nil {
			_ = c.tx.Rollback()
			return fmt.Errorf("bump change sequence: %w", err)
		}
	}
	if err := c.tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
