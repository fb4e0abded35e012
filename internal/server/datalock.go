package server

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// LockFileName is the file in a SQLite data folder that a serving (or
// migrating) Gatehouse holds an exclusive lock on, so that a second one on
// the same folder refuses to start instead of sharing the database file:
// each would keep its own caches and background sweeps, and SQLite over a
// network file system does not lock reliably. It holds the process ID of
// the holder, for the error message.
const LockFileName = "gatehouse.lock"

// DataDirInUseError is returned when another Gatehouse holds the data
// folder's lock.
type DataDirInUseError struct {
	// Dir is the data folder, absolute.
	Dir string
	// PID is the holder's process ID as it wrote it; 0 if unknown.
	PID int
}

func (e *DataDirInUseError) Error() string {
	holder := ""
	if e.PID > 0 {
		holder = fmt.Sprintf(" (process %d)", e.PID)
	}
	return fmt.Sprintf("the data folder %s is in use by another Gatehouse%s, which holds its %s: stop that one first, or give this one another --data folder",
		e.Dir, holder, LockFileName)
}

// lockDataDir takes the exclusive lock of dir, without waiting. The lock
// lives as long as the returned file is open (the operating system drops
// it when the process ends, however it ends).
func lockDataDir(dir string) (*os.File, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	path := filepath.Join(abs, LockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock data folder: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		if errors.Is(err, errLocked) {
			inUse := &DataDirInUseError{Dir: abs}
			if data, rerr := os.ReadFile(path); rerr == nil {
				inUse.PID, _ = strconv.Atoi(strings.TrimSpace(string(data)))
			}
			return nil, inUse
		}
		return nil, fmt.Errorf("lock data folder %s: %w", abs, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}

// lockedStore is a store whose data folder lock is released when it is
// closed.
type lockedStore struct {
	store.Store
	lock *os.File
}

func (s *lockedStore) Close() error {
	err := s.Store.Close()
	// Closing the file releases the lock; the file stays, so that its
	// name is not raced between unlink and a new open.
	return errors.Join(err, s.lock.Close())
}
