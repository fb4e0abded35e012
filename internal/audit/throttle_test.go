package audit_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
)

// recorded keeps what a Throttle records.
type recorded struct {
	mu sync.Mutex
	es []string // "address code" or "address EventsNotRecorded n"
}

func (r *recorded) Record(ctx context.Context, e audit.Entry) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := audit.ActorFrom(ctx).SourceIP + " " + e.ErrorCode
	if p, ok := e.Params.(map[string]any); ok {
		s += fmt.Sprintf(" %v", p["notRecorded"])
	}
	r.es = append(r.es, s)
	return nil
}

func (r *recorded) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.es
	r.es = nil
	return out
}

func from(addr string) context.Context {
	return audit.WithActor(context.Background(), audit.Actor{SourceIP: addr})
}

func TestThrottle(t *testing.T) {
	now := time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)
	rec := &recorded{}
	th := &audit.Throttle{Events: rec, Limit: 2, Window: time.Minute, Addresses: 3, Now: func() time.Time { return now }}
	e := audit.Entry{Source: audit.SourceSignIn, Name: "UserAuthentication", ErrorCode: "Bad"}
	for range 5 {
		if err := th.Record(from("192.0.2.1"), e); err != nil {
			t.Fatal(err)
		}
	}
	// Two IPv6 addresses of one /64 count as one; an IPv4-mapped one as
	// its IPv4 address.
	for _, a := range []string{"2001:db8::1", "2001:db8::2", "2001:db8::3", "::ffff:192.0.2.1"} {
		must(t, th.Record(from(a), e))
	}
	got := rec.take()
	want := []string{"192.0.2.1 Bad", "192.0.2.1 Bad", "2001:db8::1 Bad", "2001:db8::2 Bad"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("recorded %q, want %q", got, want)
	}

	// The table holds 3 addresses: the fourth and later share one count
	// (two recorded, two counted).
	for _, a := range []string{"198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4", "198.51.100.5"} {
		must(t, th.Record(from(a), e))
	}
	got = rec.take()
	want = []string{"198.51.100.1 Bad", "198.51.100.2 Bad", "198.51.100.3 Bad"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("recorded %q, want %q", got, want)
	}

	// Nothing is summarised before the window ends; then once each.
	must(t, th.Flush(context.Background()))
	if got := rec.take(); len(got) != 0 {
		t.Fatalf("flushed before the window ended: %q", got)
	}
	now = now.Add(time.Minute)
	must(t, th.Flush(context.Background()))
	got = rec.take()
	want = []string{"192.0.2.1 EventsNotRecorded 4", "2001:db8::/64 EventsNotRecorded 1", "other-addresses EventsNotRecorded 2"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("summaries %q, want %q", got, want)
	}
	must(t, th.Flush(context.Background()))
	if got := rec.take(); len(got) != 0 {
		t.Fatalf("summarised twice: %q", got)
	}
	// The table is empty again: a new address is tracked on its own.
	must(t, th.Record(from("203.0.113.9"), e))
	if got := rec.take(); strings.Join(got, "|") != "203.0.113.9 Bad" {
		t.Fatalf("after the window: %q", got)
	}
}

// TestThrottleParallel records from many goroutines: exactly Limit events
// per address are recorded, and the summary counts the rest.
func TestThrottleParallel(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	rec := &recorded{}
	th := &audit.Throttle{Events: rec, Limit: 5, Now: clock}
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			_ = th.Record(from(fmt.Sprintf("192.0.2.%d", i%4)), audit.Entry{ErrorCode: "Bad"})
		})
	}
	wg.Wait()
	if got := rec.take(); len(got) != 20 {
		t.Fatalf("%d recorded, want 20", len(got))
	}
	mu.Lock()
	now = now.Add(audit.DefaultThrottleWindow)
	mu.Unlock()
	must(t, th.Flush(context.Background()))
	got := rec.take()
	if len(got) != 4 || got[0] != "192.0.2.0 EventsNotRecorded 45" {
		t.Fatalf("summaries %q", got)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
