package sqlite_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// TestGroupCommitPanicStaysWithItsCaller: an Update fn that panics while
// its call shares a group commit with others panics in its own caller's
// goroutine, leaves nothing behind, and the other calls commit.
func TestGroupCommitPanicStaysWithItsCaller(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "gatehouse.db"))
	ctx := t.Context()
	const n = 12
	errs := make([]error, n)
	panics := make([]any, n)
	var wg, calling sync.WaitGroup
	calling.Add(n)
	for i := range n {
		wg.Go(func() {
			defer func() { panics[i] = recover() }()
			calling.Done()
			errs[i] = db.Update(ctx, func(tx store.Tx) error {
				if err := tx.CreateAccount(ctx, &store.Account{ID: fmt.Sprintf("8000000000%02d", i), Name: fmt.Sprintf("a%d", i), CreatedAt: time.Unix(1, 0)}); err != nil {
					return err
				}
				switch i {
				case 0:
					// Hold the first transaction until the others are
					// queued behind it.
					calling.Wait()
					time.Sleep(5 * time.Millisecond)
				case 5:
					panic("boom")
				}
				return nil
			})
		})
	}
	wg.Wait()
	for i := range n {
		_, err := db.GetAccount(ctx, fmt.Sprintf("8000000000%02d", i))
		if i == 5 {
			if panics[i] != "boom" || !errors.Is(err, store.ErrNotFound) {
				t.Errorf("panicking call: recovered %v, account lookup %v; want the panic and no account", panics[i], err)
			}
			continue
		}
		if panics[i] != nil || errs[i] != nil || err != nil {
			t.Errorf("call %d: panic %v, error %v, account lookup %v; want it committed", i, panics[i], errs[i], err)
		}
	}
}
