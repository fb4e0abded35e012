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
// fill the queue and starve everyone else. When the gate is entered with a
// user (the known-device gate, whose attempts prove the user with the
// user's own cookie), one user holds at most perUser tickets over all
// sources, so that a user flooding with their own password from many
// addresses cannot starve another user's browser either.
type gate struct {
	slots     chan struct{}
	tickets   chan struct{}
	wait      time.Duration
	perSource int
	perUser   int

	mu   sync.Mutex
	held map[string]int // tickets held per source ("s" + key) and per user ("u" + ID)
}

// newGate makes a gate; perUser ≤ 0 means 1.
func newGate(concurrency, queue, perSource, perUser int, wait time.Duration) *gate {
	return &gate{
		slots: make(chan struct{}, concurrency), tickets: make(chan struct{}, concurrency+queue),
		wait: wait, perSource: max(perSource, 1), perUser: max(perUser, 1), held: map[string]int{},
	}
}

// take counts one ticket for src and user (when not ""), or reports false
// when either holds its share already.
func (g *gate) take(src, user string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.held["s"+src] >= g.perSource || (user != "" && g.held["u"+user] >= g.perUser) {
		return false
	}
	g.held["s"+src]++
	if user != "" {
		g.held["u"+user]++
	}
	return true
}

func (g *gate) give(src, user string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.drop("s" + src)
	if user != "" {
		g.drop("u" + user)
	}
}

func (g *gate) drop(k string) {
	if g.held[k] <= 1 {
		delete(g.held, k)
	} else {
		g.held[k]--
	}
}

// enter waits for a hash slot for an attempt from src (for user, or ""
// when the attempt does not prove its user) and returns its release, or a
// *BusyError when src or user holds its share of tickets, the queue is
// full or the wait ran out.
func (g *gate) enter(ctx context.Context, src, user string) (func(), error) {
	if !g.take(src, user) {
		return nil, &BusyError{RetryAfter: time.Second}
	}
	select {
	case g.tickets <- struct{}{}:
	default:
		g.give(src, user)
		return nil, &BusyError{RetryAfter: time.Second}
	}
	t := time.NewTimer(g.wait)
	defer t.Stop()
	leave := func() { <-g.tickets; g.give(src, user) }
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
