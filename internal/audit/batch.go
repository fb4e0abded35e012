package audit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// Batcher records events that belong to no change of their own (credential
// issues, sign-in failures, denied calls) with group commit: concurrent
// callers' events share one transaction. Record returns only once its event
// is committed, so a request whose event cannot be recorded still fails,
// while the database sees one write per batch instead of one per request.
type Batcher struct {
	Store    store.Store
	Recorder *Recorder
	// MaxBatch bounds the events of one transaction (default 256).
	MaxBatch int

	once    sync.Once
	reqs    chan batchItem
	stopped chan struct{}
}

type batchItem struct {
	rec  *store.EventRecord
	done chan error
}

// ErrClosed is returned by Record after ctx of Run has ended.
var ErrClosed = errors.New("audit batcher stopped")

func (b *Batcher) init() {
	b.once.Do(func() {
		if b.MaxBatch <= 0 {
			b.MaxBatch = 256
		}
		b.reqs = make(chan batchItem, 4*b.MaxBatch)
		b.stopped = make(chan struct{})
	})
}

// Record writes an event as the actor of ctx, in a batch with concurrent
// ones, and waits for the batch to commit.
func (b *Batcher) Record(ctx context.Context, e Entry) error {
	b.init()
	rec, err := b.Recorder.Build(ctx, e)
	if err != nil {
		return err
	}
	it := batchItem{rec: rec, done: make(chan error, 1)}
	select {
	case b.reqs <- it:
	case <-b.stopped:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-it.done:
		return err
	case <-b.stopped:
		return ErrClosed
	case <-ctx.Done():
		// The event may still be committed; the caller's request fails.
		return ctx.Err()
	}
}

// Run commits batches until ctx ends. While one batch commits the next one
// gathers, so batches grow with load and a lone event waits for one commit.
func (b *Batcher) Run(ctx context.Context) error {
	b.init()
	batch := make([]batchItem, 0, b.MaxBatch)
	for {
		batch = batch[:0]
		select {
		case <-ctx.Done():
			close(b.stopped)
			b.drain(ErrClosed)
			return nil
		case it := <-b.reqs:
			batch = append(batch, it)
		}
	fill:
		for len(batch) < b.MaxBatch {
			select {
			case it := <-b.reqs:
				batch = append(batch, it)
			default:
				break fill
			}
		}
		err := b.Store.Update(ctx, func(tx store.Tx) error {
			for _, it := range batch {
				if err := tx.AppendEvent(ctx, it.rec); err != nil {
					return fmt.Errorf("audit %s: %w", it.rec.Name, err)
				}
			}
			return nil
		})
		for _, it := range batch {
			it.done <- err
		}
	}
}

func (b *Batcher) drain(err error) {
	for {
		select {
		case it := <-b.reqs:
			it.done <- err
		case <-time.After(10 * time.Millisecond):
			return
		}
	}
}
