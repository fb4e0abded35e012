package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// rowScanner is the Scan method of *sql.Row and *sql.Rows.
type rowScanner interface {
	Scan(dest ...any) error
}

// conn implements store.Tx on a pool (the read pool for the Store's own
// reads, the write pool for its autocommit writes) or, inside Update, on a
// transaction of the write pool. Statements run prepared, from the pool's
// stmtCache.
type conn struct {
	stmts *stmtCache
	// tx is the transaction inside Update, nil on a pool.
	tx *sql.Tx
	d  *Dialect
	// dirty records that the transaction wrote a record that ChangeSeq
	// covers, so Update bumps the counter before committing.
	dirty bool
	// unprepared lists the queries tx ran that the pool had no statement
	// for yet; Update prepares them once tx has ended and given its
	// connection back.
	unprepared []string
}

var _ store.Tx = (*conn)(nil)

// stmt returns the prepared statement to run query with. Inside a
// transaction it returns nil when the pool has not prepared query yet: the
// caller runs the text on tx, and Update prepares it afterwards, since
// preparing now would need a second connection of the pool.
func (c *conn) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if c.tx == nil {
		return c.stmts.get(ctx, query)
	}
	s := c.stmts.lookup(query)
	if s == nil {
		c.unprepared = append(c.unprepared, query)
		return nil, nil
	}
	return c.tx.StmtContext(ctx, s), nil
}

// execContext runs a statement that returns no rows.
func (c *conn) execContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	s, err := c.stmt(ctx, query)
	switch {
	case err != nil:
		return nil, err
	case s == nil:
		return c.tx.ExecContext(ctx, query, args...)
	}
	return s.ExecContext(ctx, args...)
}

// queryContext runs a query that returns rows.
func (c *conn) queryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	s, err := c.stmt(ctx, query)
	switch {
	case err != nil:
		return nil, err
	case s == nil:
		return c.tx.QueryContext(ctx, query, args...)
	}
	return s.QueryContext(ctx, args...)
}

// queryRowContext runs a query that returns at most one row.
func (c *conn) queryRowContext(ctx context.Context, query string, args ...any) rowScanner {
	s, err := c.stmt(ctx, query)
	switch {
	case err != nil:
		return errRow{err}
	case s == nil:
		return c.tx.QueryRowContext(ctx, query, args...)
	}
	return s.QueryRowContext(ctx, args...)
}

// mapErr turns driver errors for broken constraints into the store's
// sentinel errors, keeping the driver error in the chain.
func (c *conn) mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case c.d.IsUnique != nil && c.d.IsUnique(err):
		return fmt.Errorf("%w: %w", store.ErrConflict, err)
	case c.d.IsForeignKey != nil && c.d.IsForeignKey(err):
		return fmt.Errorf("referenced record: %w: %w", store.ErrNotFound, err)
	}
	return err
}

// exec runs a statement and returns the number of rows it affected.
func (c *conn) exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := c.execContext(ctx, query, args...)
	if err != nil {
		return 0, c.mapErr(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("rows affected: %w", err)
	}
	return n, nil
}

// insert runs an INSERT ... ON CONFLICT DO NOTHING and reports ErrConflict
// when it inserted nothing.
func (c *conn) insert(ctx context.Context, query string, args ...any) error {
	n, err := c.exec(ctx, query, args...)
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrConflict
	}
	return nil
}

// change runs an UPDATE or DELETE of one record and reports ErrNotFound when
// it matched nothing.
func (c *conn) change(ctx context.Context, query string, args ...any) error {
	n, err := c.exec(ctx, query, args...)
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// exists reports whether query returns a row.
func (c *conn) exists(ctx context.Context, query string, args ...any) (bool, error) {
	var one int
	err := c.queryRowContext(ctx, query, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, nil
}

// getOne scans the single row of query with scan, mapping no rows to
// ErrNotFound.
func getOne[T any](ctx context.Context, c *conn, scan func(rowScanner) (*T, error), query string, args ...any) (*T, error) {
	v, err := scan(c.queryRowContext(ctx, query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return v, nil
}

// list scans every row of query with scan. It returns an empty, non-nil
// slice when there are none.
func list[T any](ctx context.Context, c *conn, scan func(rowScanner) (*T, error), query string, args ...any) ([]T, error) {
	rows, err := c.queryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// limit turns Page.Limit into a LIMIT argument; 0 (no limit) becomes the
// largest value both databases accept.
func limit(p store.Page) int64 {
	if p.Limit <= 0 {
		return math.MaxInt64
	}
	return int64(p.Limit)
}

// nanos stores a time as Unix nanoseconds, the zero time as 0.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// timeCol scans Unix nanoseconds into a UTC time, 0 into the zero time.
type timeCol struct{ t *time.Time }

func (s timeCol) Scan(src any) error {
	n, ok := src.(int64)
	if !ok {
		return fmt.Errorf("time column: unexpected %T", src)
	}
	if n == 0 {
		*s.t = time.Time{}
	} else {
		*s.t = time.Unix(0, n).UTC()
	}
	return nil
}

// durCol scans nanoseconds into a duration.
type durCol struct{ d *time.Duration }

func (s durCol) Scan(src any) error {
	n, ok := src.(int64)
	if !ok {
		return fmt.Errorf("duration column: unexpected %T", src)
	}
	*s.d = time.Duration(n)
	return nil
}

// toJSON encodes a list or nested value for a JSON text column. The types
// stored this way always encode, so a failure is a programmer error.
func toJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("sqldb: encode %T: %v", v, err))
	}
	return string(b)
}

// jsonCol decodes a JSON text column into v.
type jsonCol struct{ v any }

func (s jsonCol) Scan(src any) error {
	var b []byte
	switch x := src.(type) {
	case string:
		b = []byte(x)
	case []byte:
		b = x
	default:
		return fmt.Errorf("json column: unexpected %T", src)
	}
	if err := json.Unmarshal(b, s.v); err != nil {
		return fmt.Errorf("json column: %w", err)
	}
	return nil
}

// blobArg stores a byte slice, nil and empty as NULL.
func blobArg(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// blobCol scans a nullable binary column; NULL and empty read as nil.
type blobCol struct{ b *[]byte }

func (s blobCol) Scan(src any) error {
	switch x := src.(type) {
	case nil:
		*s.b = nil
	case []byte:
		if len(x) == 0 {
			*s.b = nil
		} else {
			*s.b = append([]byte(nil), x...)
		}
	case string:
		if x == "" {
			*s.b = nil
		} else {
			*s.b = []byte(x)
		}
	default:
		return fmt.Errorf("blob column: unexpected %T", src)
	}
	return nil
}
