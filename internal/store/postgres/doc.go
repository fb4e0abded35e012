// Package postgres is Gatehouse's multi-replica storage backend: PostgreSQL
// through pgx (database/sql via pgx's stdlib adapter), served by the shared
// sqldb implementation of store.Store.
//
// Store.Update runs SERIALIZABLE transactions and retries them on
// serialization failures (SQLSTATE 40001) and deadlocks (40P01). Callers
// read, decide and write through the store.Tx interface, which has no way to
// say "lock this row"; SERIALIZABLE makes every such read-modify-write
// correct without one, at the price of retries under contention (REPEATABLE
// READ with explicit SELECT ... FOR UPDATE would need the interface to expose
// locking, and would still have to retry on 40001). Every transaction that
// changes directory records also updates the one change_seq row, so those
// transactions serialize against each other; they are admin writes and rare.
// Single-statement writes of other records (tokens, sessions, rate
// counters, ...) run in autocommit at READ COMMITTED, where they need no
// retries: HitRate's upsert is atomic there. So does RotateToken's
// transaction (a refresh: the single-use conditional UPDATE of the old
// token, the INSERTs of its successors and of the audit event), whose
// correctness rests on that UPDATE's row lock alone: at SERIALIZABLE the
// UPDATE's predicate lock (the whole tokens table while the planner scans
// it, a leaf page of its primary key after) conflicted with the INSERTs of
// every other refresh, and unrelated refreshes were rolled back and
// retried.
//
// The schema lives in migrations/*.sql, embedded and applied at Open under a
// transaction-scoped advisory lock, so any number of replicas can start at
// once.
package postgres
