// Package sqldb implements store.Store once over database/sql, for both the
// sqlite and postgres backends. The backends own their drivers, schemas and
// connection pools; they hand sqldb a read pool, a write pool and a Dialect
// describing the few ways the databases differ (isolation level and which
// errors mean a duplicate key, a missing referenced row or a retryable
// transaction).
//
// The SQL here is the common subset of SQLite (3.35 or newer) and
// PostgreSQL: $N placeholders, INSERT ... ON CONFLICT, RETURNING and row-value
// comparisons. Times are stored as int64 Unix nanoseconds (the zero time as
// 0, so the instant 1970-01-01T00:00:00Z reads back as the zero time, and
// only years 1678 to 2262 fit) and read back in UTC; durations as int64
// nanoseconds; lists and nested values as JSON text (a nil list reads back
// nil, an empty one empty); byte slices as nullable binary columns (nil and
// empty both read back nil); case-insensitive names through a lower-cased
// key column with a UNIQUE index. Lists return an empty, non-nil slice when
// nothing matches.
//
// Creates use INSERT ... ON CONFLICT DO NOTHING and updates check names
// first, so an ErrConflict or ErrNotFound does not abort the surrounding
// transaction on PostgreSQL: a caller may go on using the Tx after handling
// one, on either backend.
package sqldb
