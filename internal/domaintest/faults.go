package domaintest

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// LogBuffer is a bytes.Buffer safe for a server's goroutines: a log sink
// for tests that check what was logged, and at which level.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns everything written so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// ErrInjected is the error of a fault a test injected.
var ErrInjected = errors.New("database is locked (5) (injected)")

// SeqFault is a store whose change counter (ChangeSeq) fails with
// ErrInjected while Down is set, as when the database cannot answer: give
// it to an access cache to see how requests fail when the cache goes stale.
type SeqFault struct {
	store.Store
	Down atomic.Bool
}

// ChangeSeq returns the store's change counter, or ErrInjected while Down
// is set.
func (f *SeqFault) ChangeSeq(ctx context.Context) (int64, error) {
	if f.Down.Load() {
		return 0, ErrInjected
	}
	return f.Store.ChangeSeq(ctx)
}
