package signin

import (
	"context"
	"sync"
	"time"
)

// gate bounds the concurrent password hashes: each argon2id hash holds a
// 19 MiB buffer, so an unbounded burst of sign-ins exhausts memory. At most
// cap(slots) hash at once, at most cap(tickets) - cap(slots) more wait, each
// for at most wait; the rest are refused at once. One source (source.Key)
// holds at most perSource tickets, so that a flood from one address cannot
// fill the queue and starve everyone else.
type gate struct {
	slots     chan struct{}
	tickets   chan struct{}
	wait      time.Duration
	perSource int

	mu   sync.Mutex
	held map[string]int // tickets held per source
}

func newGate(concurrency, queue, perSource int, wait time.Duration) *gate {
	return &gate{
		slots: make(chan struct{}, concurrency), tickets: make(chan struct{}, concurrency+queue),
		wait: wait, perSource: max(perSource, 1), held: map[string]int{},
	}
}

// take counts one ticket for src, or reports false when src holds its
// share already.
func (g *gate) take(src string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.held[src] >= g.perSource {
		return false
	}
	g.held[src]++
	return true
}

func (g *gate) give(src string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.held[src] <= 1 {
		delete(g.held, src)
	} else {
		g.held[src]--
	}
}

// enter waits for a hash slot for an attempt from src and returns its
// release, or a *BusyError when src holds its share of tickets, the queue
// is full or the wait ran out.
func (g *gate) enter(ctx context.Context, src string) (func(), error) {
	if !g.take(src) {
		return nil, &BusyError{RetryAfter: time.Second}
	}
	select {
	case g.tickets <- struct{}{}:
	default:
		g.give(src)
		return nil, &BusyError{RetryAfter: time.Second}
	}
	t := time.NewTimer(g.wait)
	defer t.Stop()
	leave := func() { <-g.tickets; g.give(src) }
	select {
	case g.slots <- struct{}{}:
		return func() { <-g.slots; leave() }, nil
	case <-t.C:
		leave()
		return nil, &BusyError{RetryAfter: time.Second}
	case <-ctx.Done():
		leave()
		return nil, ctx.Err()
	}
}
