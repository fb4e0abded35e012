package sqlite

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// checkpointInterval is how often the checkpointer copies the WAL's
// committed pages into the database file.
const checkpointInterval = 250 * time.Millisecond

// checkpointer runs SQLite's PASSIVE checkpoints on a connection of its own,
// off the commit path (https://www.sqlite.org/wal.html#checkpointing,
// https://www.sqlite.org/c3ref/wal_checkpoint_v2.html). A passive checkpoint
// takes no lock a writer or reader waits for: it copies what committed
// frames it can into the database file and fsyncs it while commits go on,
// and the next writer after a complete one starts the WAL again from its
// beginning. Left to wal_autocheckpoint, the commit that crosses the
// threshold runs the whole checkpoint (tens of MiB at walCheckpointPages)
// before it returns, and every commit queued behind it waits: that was the
// write path's tail latency. wal_autocheckpoint stays set as a backstop for
// when this goroutine cannot keep up or another process writes alone.
type checkpointer struct {
	db   *sql.DB
	done chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

// startCheckpointer opens one connection to name (a file: URI with the
// common pragmas) and checkpoints every checkpointInterval until stop.
func startCheckpointer(name string) (*checkpointer, error) {
	db, err := sql.Open("sqlite", name)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	c := &checkpointer{db: db, done: make(chan struct{})}
	c.wg.Add(1)
	go c.run()
	return c, nil
}

func (c *checkpointer) run() {
	defer c.wg.Done()
	t := time.NewTicker(checkpointInterval)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
			// A failure (SQLITE_BUSY while another process
			// checkpoints, say) leaves the frames to the next tick
			// or to wal_autocheckpoint; nothing is lost.
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_, _ = c.db.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
			cancel()
		}
	}
}

// stop ends the checkpoints and closes the connection; later calls return
// nil.
func (c *checkpointer) stop() error {
	var err error
	c.once.Do(func() {
		close(c.done)
		c.wg.Wait()
		err = c.db.Close()
	})
	return err
}
