package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// stmtCache holds one prepared statement per query text for a pool, so
// that a statement is parsed (and on PostgreSQL planned) once per connection
// instead of once per call; on SQLite the parser was a large share of the
// CPU a write cost. A *sql.Stmt prepares itself on each connection of the
// pool it runs on, re-preparing when the pool replaces a connection, and
// Tx.StmtContext reuses the copy already prepared on the transaction's
// connection.
//
// The query texts of this package are constants or, for AppendEvents, one
// of a few sizes, so the cache is bounded without eviction.
type stmtCache struct {
	pool *sql.DB
	m    sync.Map // query text -> *sql.Stmt
}

// lookup returns the prepared statement of query, or nil if there is none
// yet.
func (sc *stmtCache) lookup(query string) *sql.Stmt {
	if s, ok := sc.m.Load(query); ok {
		return s.(*sql.Stmt)
	}
	return nil
}

// get returns the prepared statement of query, preparing it on the pool if
// needed. It takes a connection of the pool to prepare on, so it must not be
// called while the caller holds one: inside a transaction on SQLite's
// one-connection write pool it would wait forever.
func (sc *stmtCache) get(ctx context.Context, query string) (*sql.Stmt, error) {
	if s := sc.lookup(query); s != nil {
		return s, nil
	}
	s, err := sc.pool.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := sc.m.LoadOrStore(query, s); loaded {
		// Another goroutine prepared it first.
		s.Close()
		return prev.(*sql.Stmt), nil
	}
	return s, nil
}

// prepare prepares the statements of queries that are not in the cache
// yet. Failures are ignored: the queries run unprepared until a later
// prepare succeeds.
func (sc *stmtCache) prepare(ctx context.Context, queries []string) {
	for _, q := range queries {
		if _, err := sc.get(ctx, q); err != nil {
			return
		}
	}
}

// close closes every cached statement.
func (sc *stmtCache) close() error {
	var errs []error
	sc.m.Range(func(q, s any) bool {
		sc.m.Delete(q)
		errs = append(errs, s.(*sql.Stmt).Close())
		return true
	})
	return errors.Join(errs...)
}

// errRow is a rowScanner that fails with err, for a query row whose
// statement could not be prepared.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
