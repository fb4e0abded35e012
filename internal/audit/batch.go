package audit

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// BatchAppender is what Batcher writes to: store.Store.AppendEvents, which
// appends every event in one transaction or none.
type BatchAppender interface {
	AppendEvents(ctx context.Context, es []store.EventRecord) error
}

var _ BatchAppender = store.Store(nil)

// Batcher records events that belong to no change of their own (credential
// issues, sign-in failures, denied calls) with group commit: concurrent
// callers' events share one transaction. Record returns only once its event
// is committed, so a request whose event cannot be recorded still fails,
// while the database sees one write per batch instead of one per request.
type Batcher struct {
	Store    BatchAppender
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
// A batch is one multi-row statement: its cost is mostly the commit's,
// whatever the number of events.
func (b *Batcher) Run(ctx context.Context) error {
	b.init()
	batch := make([]batchItem, 0, b.MaxBatch)
	recs := make([]store.EventRecord, 0, b.MaxBatch)
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
		batch = b.gather(batch)
		recs = recs[:0]
		for _, it := range batch {
			recs = append(recs, *it.rec)
		}
		// A failure rolls the whole batch back and reaches every caller
		// in it.
		err := b.Store.AppendEvents(ctx, recs)
		if err != nil {
			err = fmt.Errorf("audit %d events: %w", len(recs), err)
		}
		for _, it := range batch {
			it.done <- err
		}
	}
}

// gather adds queued events to batch, up to MaxBatch. Before cutting the
// batch it yields to the goroutines ready to run (requests on their way to
// Record), for as long as that brings more events: on a busy server batches
// grow and commits get fewer, while on an idle one Gosched returns at once.
func (b *Batcher) gather(batch []batchItem) []batchItem {
	for {
		batch = b.queued(batch)
		if len(batch) == b.MaxBatch {
			return batch
		}
		runtime.Gosched()
		if len(b.reqs) == 0 {
			return batch
		}
	}
}

// queued adds the events already queued to batch, up to MaxBatch.
func (b *Batcher) queued(batch []batchItem) []batchItem {
	for len(batch) < b.MaxBatch {
		select {
		case it := <-b.reqs:
			batch = append(batch, it)
		default:
			return batch
		}
	}
	return batch
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
