package signin

import (
	"runtime"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/source"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// Limits are the sign-in limits. The zero value of a field means its
// default (DefaultLimits).
type Limits struct {
	// UserSource throttles one user name from one source address: free
	// attempts, then delays that double up to a cap.
	UserSource store.AttemptRule
	// User is the hard limit on consecutive failures of one user name from
	// sources without the user's known-device cookie (at most 100, NIST SP
	// 800-63B §5.2.2).
	User store.AttemptRule
	// Device throttles attempts made with a valid known-device cookie, per
	// (user, device), like UserSource, with its own hard limit.
	Device store.AttemptRule
	// Address throttles one source address over all user names. It is high
	// and only delays, so that one office behind a NAT is never locked out.
	Address store.AttemptRule
	// HashConcurrency is how many password hashes run at once (default the
	// number of CPUs, at least 2); HashQueue how many more may wait
	// (default 2 × HashConcurrency) and HashWait how long (default 3 s).
	// Attempts beyond them are refused as busy.
	HashConcurrency int
	HashQueue       int
	HashWait        time.Duration
	// HashPerSource is how many of those running and waiting places one
	// source address (an IPv6 /64) may hold at once (default
	// HashConcurrency), so that one client cannot take them all.
	HashPerSource int
	// DeviceHashConcurrency is how many password hashes of attempts that
	// carry the named user's valid known-device cookie run at once, apart
	// from all others (default HashConcurrency / 2, at least 1), with a
	// queue of twice that: a stranger's flood cannot starve the user's own
	// browser. One user holds at most one of its running and waiting places
	// over all sources, so that a user's own flood cannot starve another
	// user's browser.
	DeviceHashConcurrency int
	// DeviceLifetime is how long a known-device cookie is valid (default
	// 90 days).
	DeviceLifetime time.Duration
}

// MaxUserFailures is NIST SP 800-63B §5.2.2's ceiling on consecutive failed
// attempts on one account.
const MaxUserFailures = 100

// DefaultLimits returns the limits used when nothing is configured:
//
//   - per (user, address): 5 attempts, then 30 s, 1 min, 2 min, ... up to
//     15 min between attempts; forgotten 24 h after the last;
//   - per user: 100 consecutive failures, then refused until 24 h after the
//     last counted one, or a successful sign-in from a known device;
//   - per (user, known device): as per (user, address), with its own limit
//     of 100;
//   - per address: 200 attempts in a row without a success, then 1 s, 2 s,
//     ... up to 1 min between attempts; forgotten 1 h after the last.
func DefaultLimits() Limits {
	throttle := store.AttemptRule{Free: 5, Delay: 30 * time.Second, MaxDelay: 15 * time.Minute, TTL: 24 * time.Hour}
	device := throttle
	device.Limit = MaxUserFailures
	n := max(runtime.NumCPU(), 2)
	return Limits{
		UserSource:            throttle,
		User:                  store.AttemptRule{Limit: MaxUserFailures, TTL: 24 * time.Hour},
		Device:                device,
		Address:               store.AttemptRule{Free: 200, Delay: time.Second, MaxDelay: time.Minute, TTL: time.Hour},
		HashConcurrency:       n,
		HashQueue:             2 * n,
		HashWait:              3 * time.Second,
		HashPerSource:         n,
		DeviceHashConcurrency: max(n/2, 1),
		DeviceLifetime:        90 * 24 * time.Hour,
	}
}

// withDefaults fills l's zero fields from DefaultLimits.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.UserSource.TTL == 0 {
		l.UserSource = d.UserSource
	}
	if l.User.TTL == 0 {
		l.User = d.User
	}
	if l.Device.TTL == 0 {
		l.Device = d.Device
	}
	if l.Address.TTL == 0 {
		l.Address = d.Address
	}
	if l.HashConcurrency <= 0 {
		l.HashConcurrency = d.HashConcurrency
	}
	if l.HashQueue < 0 {
		l.HashQueue = 0
	} else if l.HashQueue == 0 {
		l.HashQueue = 2 * l.HashConcurrency
	}
	if l.HashPerSource <= 0 {
		l.HashPerSource = l.HashConcurrency
	}
	if l.DeviceHashConcurrency <= 0 {
		l.DeviceHashConcurrency = max(l.HashConcurrency/2, 1)
	}
	if l.HashWait <= 0 {
		l.HashWait = d.HashWait
	}
	if l.DeviceLifetime <= 0 {
		l.DeviceLifetime = d.DeviceLifetime
	}
	return l
}

// bucket is one attempt counter an attempt is reserved in.
type bucket struct {
	name string // for logs: "user-source", "user", "device", "address"
	key  string // keyed hash
	rule store.AttemptRule
	// refund: a success uncounts the attempt rather than resetting the
	// counter (the address's, shared by many users).
	refund bool
}

// normalName is how user names are compared: trimmed and case-folded, as
// the store compares them.
func normalName(userName string) string { return strings.ToLower(strings.TrimSpace(userName)) }

// counterKey returns the keyed hash a counter is stored under: an HMAC
// with the keyring's token-hash key of the kind and its parts, so that no
// typed user name (people sometimes type their password there) or address
// is stored in the clear.
func (s *Service) counterKey(kind string, parts ...string) string {
	return "signin:" + kind + ":" + s.Keys.Hash("gatehouse/signin/"+kind+"\x00"+strings.Join(parts, "\x00"))
}

// buckets returns the counters an attempt for userName from ip counts in:
// the device's alone when dev is the user's valid known-device token,
// otherwise address, (user, address) and user. The address comes first, so
// that a flooding address is refused before any per-user counter is made.
// Addresses are keyed by source.Key (an IPv6 address by its /64).
func (s *Service) buckets(userName, ip string, dev *device) []bucket {
	l := s.limits
	if dev != nil {
		return []bucket{{name: "device", key: s.counterKey("device", dev.UserID, dev.ID), rule: l.Device}}
	}
	name := normalName(userName)
	src := source.Key(ip)
	return []bucket{
		{name: "address", key: s.counterKey("address", src), rule: l.Address, refund: true},
		{name: "user-source", key: s.counterKey("user-source", name, src), rule: l.UserSource},
		{name: "user", key: s.counterKey("user", name), rule: l.User},
	}
}
