package audit_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
)

// TestThrottleOtherAddressesWindowEnds: the shared count of addresses
// the table has no room for has windows like any address's: once its
// window has ended, the next refusal counted there starts a new one (and
// is recorded one by one) instead of being added to the ended window's
// summary, which would then name a period it did not happen in.
func TestThrottleOtherAddressesWindowEnds(t *testing.T) {
	now := time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)
	rec := &recorded{}
	th := &audit.Throttle{Events: rec, Limit: 1, Window: time.Minute, Addresses: 1, Now: func() time.Time { return now }}
	e := audit.Entry{Source: audit.SourceSignIn, Name: "UserAuthentication", ErrorCode: "Bad"}
	must(t, th.Record(from("192.0.2.1"), e)) // the table's one address
	must(t, th.Record(from("192.0.2.2"), e)) // other-addresses: recorded
	must(t, th.Record(from("192.0.2.3"), e)) // other-addresses: counted
	rec.take()
	now = now.Add(2 * time.Minute)
	must(t, th.Record(from("192.0.2.4"), e))
	got := strings.Join(rec.take(), "|")
	want := audit.OtherAddresses + " EventsNotRecorded 1|192.0.2.4 Bad"
	if got != want {
		t.Fatalf("after the shared window ended: %q, want %q", got, want)
	}
}

// TestThrottleCloseRecordsOpenWindows: on shutdown (a deploy, a restart)
// the counts of refusals not recorded one by one are recorded, open
// windows' included, rather than lost with the replica's memory.
func TestThrottleCloseRecordsOpenWindows(t *testing.T) {
	now := time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)
	rec := &recorded{}
	th := &audit.Throttle{Events: rec, Limit: 1, Window: time.Minute, Now: func() time.Time { return now }}
	e := audit.Entry{Source: audit.SourceSignIn, Name: "UserAuthentication", ErrorCode: "Bad"}
	for range 3 {
		must(t, th.Record(from("192.0.2.1"), e))
	}
	must(t, th.Record(from("192.0.2.2"), e))
	rec.take()
	now = now.Add(10 * time.Second)
	must(t, th.Close(t.Context()))
	if got, want := strings.Join(rec.take(), "|"), "192.0.2.1 EventsNotRecorded 2"; got != want {
		t.Fatalf("Close recorded %q, want %q", got, want)
	}
}
