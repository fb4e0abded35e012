package signin

import (
	"context"
	"time"
)

// gate bounds the concurrent password hashes: each argon2id hash holds a
// 19 MiB buffer, so an unbounded burst of sign-ins exhausts memory. At most
// cap(slots) hash at once, at most cap(tickets) - cap(slots) more wait, each
// for at most wait; the rest are refused at once.
type gate struct {
	slots   chan struct{}
	tickets chan struct{}
	wait    time.Duration
}

func newGate(concurrency, queue int, wait time.Duration) *gate {
	return &gate{slots: make(chan struct{}, concurrency), tickets: make(chan struct{}, concurrency+queue), wait: wait}
}

// enter waits for a hash slot and returns its release, or ErrBusy when the
// queue is full or the wait ran out.
func (g *gate) enter(ctx context.Context) (func(), error) {
	select {
	case g.tickets <- struct{}{}:
	default:
		return nil, &BusyError{RetryAfter: time.Second}
	}
	t := time.NewTimer(g.wait)
	defer t.Stop()
	select {
	case g.slots <- struct{}{}:
		return func() { <-g.slots; <-g.tickets }, nil
	case <-t.C:
		<-g.tickets
		return nil, &BusyError{RetryAfter: time.Second}
	case <-ctx.Done():
		<-g.tickets
		return nil, ctx.Err()
	}
}
