package audit

import (
	"context"
	"fmt"
	"net/netip"
	"sort"
	"sync"
	"time"
)

// Throttle defaults: see the fields of Throttle.
const (
	DefaultThrottleLimit     = 20
	DefaultThrottleWindow    = time.Minute
	DefaultThrottleAddresses = 4096
	// maxThrottleCodes bounds the error codes a summary counts one by one;
	// further ones are counted under "other".
	maxThrottleCodes = 16
)

// OtherAddresses is the key under which a Throttle counts the requests of
// addresses it has no room to track one by one.
const OtherAddresses = "other-addresses"

// Recorder of events outside a transaction (Batcher, Direct).
type eventRecorder interface {
	Record(ctx context.Context, e Entry) error
}

// Throttle records the audit events of refused, unauthenticated requests
// (a sign-in response an identity source's callback refused) so that a
// flood of them cannot flood the audit log: per source address (IPv6 per
// /64), at most Limit events a Window are recorded one by one; the rest
// are counted, and once the window has ended one summary event says how
// many were not recorded, from when to when and with which error codes.
// At most Addresses addresses are tracked at once; the requests of any
// other address are counted together under OtherAddresses, so memory stays
// bounded whatever the number of addresses.
//
// A Throttle holds its counts in the replica's memory: with N replicas an
// address gets at most N×Limit events a window recorded one by one. That is
// deliberate: a count kept in the store would itself be a write per
// refused request.
//
// The summary of a window is recorded by the first Record of that address
// after the window ended, or by Flush (Run calls it every Window); Summary
// events have the refused events' source and name, type AwsServiceEvent,
// error code EventsNotRecorded and requestParameters {"sourceAddress",
// "notRecorded", "windowStart", "windowEnd", "errorCodes"}.
type Throttle struct {
	Events eventRecorder
	// Limit is the events recorded one by one per address and window
	// (DefaultThrottleLimit when 0).
	Limit int
	// Window is the counting period (DefaultThrottleWindow when 0).
	Window time.Duration
	// Addresses is the most addresses tracked at once
	// (DefaultThrottleAddresses when 0).
	Addresses int
	Now       func() time.Time

	mu      sync.Mutex
	buckets map[string]*throttleBucket
	// pending are summaries of ended windows taken out of buckets but not
	// yet recorded (Flush and Close record them).
	pending []*summary
}

type throttleBucket struct {
	start        time.Time
	recorded     int
	dropped      int
	source, name string
	codes        map[string]int
}

// summary is a window's summary, ready to record.
type summary struct {
	key   string
	entry Entry
}

func (t *Throttle) limit() int {
	if t.Limit > 0 {
		return t.Limit
	}
	return DefaultThrottleLimit
}

func (t *Throttle) window() time.Duration {
	if t.Window > 0 {
		return t.Window
	}
	return DefaultThrottleWindow
}

func (t *Throttle) addresses() int {
	if t.Addresses > 0 {
		return t.Addresses
	}
	return DefaultThrottleAddresses
}

// ThrottleKey is the key a Throttle counts the address addr under: an
// IPv4 address itself, the /64 of an IPv6 address (one host's share), or
// addr unchanged when it is not an address.
func ThrottleKey(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, _ := a.WithZone("").Prefix(64)
	return p.String()
}

// Record records e as the actor of ctx when its source address is within
// its limit, else counts it; it first records the summary of the
// address's previous window when that one has ended with events not
// recorded. An error is the recorder's.
func (t *Throttle) Record(ctx context.Context, e Entry) error {
	now := t.Now()
	key := ThrottleKey(ActorFrom(ctx).SourceIP)
	t.mu.Lock()
	if t.buckets == nil {
		t.buckets = map[string]*throttleBucket{}
	}
	var due *summary
	b := t.buckets[key]
	if b != nil && !now.Before(b.start.Add(t.window())) {
		due = t.summaryOf(key, b, b.start.Add(t.window()))
		delete(t.buckets, key)
		b = nil
	}
	if b == nil {
		if len(t.buckets) >= t.addresses() {
			t.sweepLocked(now, nil)
		}
		if len(t.buckets) >= t.addresses() {
			key = OtherAddresses
			b = t.buckets[key]
			// The shared count's window ends as any other's. An address's
			// own summary, if due, was recorded above; the shared one's,
			// if also due, is recorded by this call or the next Flush.
			if b != nil && !now.Before(b.start.Add(t.window())) {
				if s := t.summaryOf(key, b, b.start.Add(t.window())); due == nil {
					due = s
				} else if s != nil {
					t.pending = append(t.pending, s)
				}
				delete(t.buckets, key)
				b = nil
			}
		}
		if b == nil {
			b = &throttleBucket{start: now}
			t.buckets[key] = b
		}
	}
	record := b.recorded < t.limit()
	if record {
		b.recorded++
	} else {
		b.dropped++
		b.source, b.name = e.Source, e.Name
		if b.codes == nil {
			b.codes = map[string]int{}
		}
		c := e.ErrorCode
		if _, ok := b.codes[c]; !ok && len(b.codes) >= maxThrottleCodes {
			c = "other"
		}
		b.codes[c]++
	}
	t.mu.Unlock()
	if due != nil {
		if err := t.Events.Record(summaryContext(ctx, due.key), due.entry); err != nil {
			return err
		}
	}
	if !record {
		return nil
	}
	return t.Events.Record(ctx, e)
}

// Flush records the summaries of the windows that have ended, and forgets
// those windows. The first error is returned; the summaries after it are
// lost.
func (t *Throttle) Flush(ctx context.Context) error {
	t.mu.Lock()
	due := t.pending
	t.pending = nil
	t.sweepLocked(t.Now(), &due)
	t.mu.Unlock()
	return t.recordSummaries(ctx, due)
}

// Close records the summaries of every window with events not recorded,
// those not yet ended included (their windowEnd is now), and forgets every
// window: a replica that stops (Server.Close) records what it counted
// rather than lose it with its memory. Call it before the recorder stops;
// the Throttle may be used again after it. The first error is returned.
func (t *Throttle) Close(ctx context.Context) error {
	now := t.Now()
	t.mu.Lock()
	due := t.pending
	t.pending = nil
	for k, b := range t.buckets {
		end := b.start.Add(t.window())
		if now.Before(end) {
			end = now
		}
		if s := t.summaryOf(k, b, end); s != nil {
			due = append(due, s)
		}
	}
	t.buckets = nil
	t.mu.Unlock()
	sort.Slice(due, func(i, j int) bool { return due[i].key < due[j].key })
	return t.recordSummaries(ctx, due)
}

// recordSummaries records due in order; the first error is returned and
// the summaries after it are lost.
func (t *Throttle) recordSummaries(ctx context.Context, due []*summary) error {
	for _, s := range due {
		if err := t.Events.Record(summaryContext(ctx, s.key), s.entry); err != nil {
			return err
		}
	}
	return nil
}

// Run calls Flush every Window until ctx ends.
func (t *Throttle) Run(ctx context.Context) {
	tk := time.NewTicker(t.window())
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
			_ = t.Flush(ctx) // the recorder fails only when it is closed
		}
	}
}

// sweepLocked forgets the windows ended by now, adding their summaries to
// due (dropped when due is nil: only Flush and Record's own address keep
// them; a sweep for room drops windows whose summaries are due, so it is
// done only when the table is full).
func (t *Throttle) sweepLocked(now time.Time, due *[]*summary) {
	for k, b := range t.buckets {
		if now.Before(b.start.Add(t.window())) {
			continue
		}
		if s := t.summaryOf(k, b, b.start.Add(t.window())); s != nil {
			if due == nil {
				// Keep a window with a summary due until it is recorded.
				continue
			}
			*due = append(*due, s)
		}
		delete(t.buckets, k)
	}
	if due != nil {
		sort.Slice(*due, func(i, j int) bool { return (*due)[i].key < (*due)[j].key })
	}
}

// summaryOf is the summary of the window b of key, ending at end, or nil
// when every event of it was recorded.
func (t *Throttle) summaryOf(key string, b *throttleBucket, end time.Time) *summary {
	if b.dropped == 0 {
		return nil
	}
	return &summary{key: key, entry: Entry{
		Source: b.source, Name: b.name, Type: "AwsServiceEvent",
		Params: map[string]any{"sourceAddress": key, "notRecorded": b.dropped, "errorCodes": b.codes,
			"windowStart": b.start.UTC().Format(time.RFC3339), "windowEnd": end.UTC().Format(time.RFC3339)},
		Response:  map[string]string{"result": "Failure"},
		ErrorCode: "EventsNotRecorded",
		ErrorMsg: fmt.Sprintf("%d more refused requests from %s between %s and %s were not recorded one by one (more than %d a %s)",
			b.dropped, key, b.start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339), t.limit(), t.window()),
	}}
}

// summaryContext is ctx (without its cancellation) acting as the unknown
// caller at the summary's address.
func summaryContext(ctx context.Context, key string) context.Context {
	a := ActorFrom(ctx)
	a.Identity = Identity{Type: "Unknown", UserName: "HIDDEN_DUE_TO_SECURITY_REASONS"}
	a.SourceIP, a.UserAgent, a.RequestID = key, "", ""
	return WithActor(context.WithoutCancel(ctx), a)
}
