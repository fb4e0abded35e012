package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// maxGroup bounds the Update calls one group commit carries.
const maxGroup = 64

// groupCommit queues the Update calls that arrive while a transaction of
// the write pool is running (Dialect.GroupCommit).
type groupCommit struct {
	mu    sync.Mutex
	queue []*pendingUpdate
	// running is set while a leader runs queued calls.
	running bool
}

// pendingUpdate is one queued Update call and, once done is closed, its
// outcome.
type pendingUpdate struct {
	ctx  context.Context
	fn   func(tx store.Tx) error
	err  error
	done chan struct{}
}

// groupUpdate is Update with group commit: the calls that queue while one
// transaction runs share the next one, each in a savepoint of its own. A
// call whose fn fails is rolled back to its savepoint and gets its error;
// the others commit together. Every call returns only once its outcome is
// committed (or failed), exactly as with a transaction of its own; the
// database sees one commit (one WAL write) per group instead of per call.
func (db *DB) groupUpdate(ctx context.Context, fn func(tx store.Tx) error) error {
	p := &pendingUpdate{ctx: ctx, fn: fn, done: make(chan struct{})}
	g := &db.group
	g.mu.Lock()
	g.queue = append(g.queue, p)
	lead := !g.running
	g.running = true
	g.mu.Unlock()
	if lead {
		db.lead()
	}
	// Wait even if ctx ends: fn may be running in the current group, and
	// the caller must not see a failure for a call that then commits. A
	// call whose ctx has ended before its turn is not run.
	<-p.done
	if fp, ok := errors.AsType[*fnPanic](p.err); ok {
		// fn panicked on the goroutine that ran the group: panic here,
		// on the caller's, as without group commit.
		panic(fp.value)
	}
	return p.err
}

// fnPanic carries a panic of an Update fn run for another goroutine.
type fnPanic struct{ value any }

func (p *fnPanic) Error() string { return fmt.Sprintf("update function panicked: %v", p.value) }

// call runs fn, turning a panic into a *fnPanic error, so that one call's
// panic neither kills the goroutine that runs the group nor leaves the other
// callers waiting.
func call(fn func(tx store.Tx) error, tx store.Tx) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &fnPanic{value: v}
		}
	}()
	return fn(tx)
}

// lead runs the next group of queued calls. Calls that queued meanwhile are
// left to a new leader goroutine, so that the caller that led gets its
// answer after one group.
func (db *DB) lead() {
	g := &db.group
	// Let the goroutines that can run go first, some of them about to
	// call Update: under load the group fills, and one commit (its WAL
	// frames, its locks) covers more calls. With nothing else to run,
	// Gosched returns at once.
	runtime.Gosched()
	g.mu.Lock()
	n := min(len(g.queue), maxGroup)
	batch := g.queue[:n:n]
	g.queue = g.queue[n:]
	g.mu.Unlock()
	db.runGroup(batch)
	g.mu.Lock()
	if len(g.queue) == 0 {
		g.running = false
		g.mu.Unlock()
		return
	}
	g.mu.Unlock()
	go db.lead()
}

// runGroup runs the calls of batch in one transaction, retried like Update,
// and closes their done channels.
func (db *DB) runGroup(batch []*pendingUpdate) {
	defer func() {
		for _, p := range batch {
			close(p.done)
		}
	}()
	if len(batch) == 1 {
		p := batch[0]
		p.err = db.retry(p.ctx, func() error {
			return db.updateOnce(p.ctx, db.d.Isolation, func(tx store.Tx) error { return call(p.fn, tx) })
		})
		return
	}
	// The group's transaction outlives any one caller's context.
	ctx := context.WithoutCancel(batch[0].ctx)
	if err := db.retry(ctx, func() error { return db.groupOnce(ctx, batch) }); err != nil {
		for _, p := range batch {
			if p.err == nil {
				p.err = err
			}
		}
	}
}

// groupOnce runs batch once in one transaction. It returns an error when
// the whole transaction failed (then no call of the group committed);
// failures of single calls are in their err.
func (db *DB) groupOnce(ctx context.Context, batch []*pendingUpdate) (err error) {
	for _, p := range batch {
		p.err = nil
	}
	tx, err := db.write.BeginTx(ctx, &sql.TxOptions{Isolation: db.d.Isolation})
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	c := &conn{stmts: db.writeStmts, tx: tx, d: db.d}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
		// Now that tx has given its connection back, prepare what it ran
		// unprepared.
		db.writeStmts.prepare(ctx, c.unprepared)
	}()
	dirty := false
	for _, p := range batch {
		if p.err = p.ctx.Err(); p.err != nil {
			continue
		}
		// Through c, so that the pool's prepared statements serve them.
		if _, err := c.execContext(ctx, `SAVEPOINT group_update`); err != nil {
			return fmt.Errorf("savepoint: %w", err)
		}
		c.dirty = false
		p.err = call(p.fn, c)
		if p.err == nil && c.dirty {
			// Each call moves the change counter, as its own
			// transaction would.
			if _, err := c.execContext(ctx, bumpChangeSeq); err != nil {
				p.err = fmt.Errorf("bump change sequence: %w", err)
			}
		}
		if p.err != nil {
			if db.d.IsRetryable != nil && db.d.IsRetryable(p.err) {
				// The database lost a race: run the whole group again.
				return p.err
			}
			if _, err := c.execContext(ctx, `ROLLBACK TO group_update`); err != nil {
				return fmt.Errorf("roll back to savepoint: %w (after %w)", err, p.err)
			}
		} else {
			dirty = dirty || c.dirty
		}
		if _, err := c.execContext(ctx, `RELEASE group_update`); err != nil {
			return fmt.Errorf("release savepoint: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if dirty {
		db.changed()
	}
	return nil
}
