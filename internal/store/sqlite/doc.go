// Package sqlite is Gatehouse's embedded storage backend: a single SQLite
// file through modernc.org/sqlite (pure Go, no cgo), served by the shared
// sqldb implementation of store.Store.
//
// The database runs in WAL mode with synchronous=NORMAL: a committed
// transaction survives the process being killed at any moment, and a power
// loss or OS crash may lose the last few committed transactions but never
// corrupts the file. Writes go through a pool of one connection whose
// transactions begin IMMEDIATE, taking the write lock up front: a deferred
// transaction that reads and then writes can fail to upgrade its lock
// (SQLITE_BUSY that no busy timeout resolves), which IMMEDIATE avoids.
// Reads use a separate pool of read-only (query_only) connections that WAL
// lets run alongside the writer. Because the write pool has one
// connection, code inside Store.Update must use the Tx it is given, not the
// Store's own write methods, or it waits for itself.
//
// The schema lives in migrations/*.sql, embedded and applied at Open.
package sqlite
