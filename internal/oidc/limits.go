package oidc

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/awsproto"
	"github.com/gatehouse-dev/gatehouse/internal/source"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// Limit is at most Count requests per Window, counted in fixed windows in
// the store (store.Tx.HitRate), so every replica shares the count.
type Limit struct {
	Count  int
	Window time.Duration
}

// Per-address limits of the unauthenticated (or self-authenticated) writes.
// Each request is counted before any other work, so a burst of parallel
// requests cannot slip past the limit, and refused requests count too.
var (
	// RegisterClientLimits bound RegisterClient per source address: the 20
	// per second per address AWS publishes for IAM Identity Center's
	// RegisterClient, 1,000 per hour, as a CLI registers once per
	// sso-session every 90 days, and 2,000 per day, so that one address can
	// add at most about 2,000 × 18 KiB ≈ 35 MiB of registrations and their
	// audit events a day even with every field at its cap.
	RegisterClientLimits = []Limit{{20, time.Second}, {1000, time.Hour}, {2000, 24 * time.Hour}}
	// StartDeviceAuthorizationLimits bound StartDeviceAuthorization per
	// source address: 20 per second, and 600 per device-code lifetime (10
	// minutes), so one address holds at most 600 live device codes.
	StartDeviceAuthorizationLimits = []Limit{{20, time.Second}, {600, DeviceCodeLifetime}}
)

// ClientAuthFailureLimits bound the failed client authentications
// (unknown client, wrong secret, expired registration, over-long
// credentials) of CreateToken and StartDeviceAuthorization per source
// address. A CLI fails at most once per expired registration before it
// registers again, so an office behind one address stays far below them;
// past them the source is refused with SlowDownException until the window
// ends, without a lookup and without an audit event.
var ClientAuthFailureLimits = []Limit{{20, time.Minute}, {200, time.Hour}}

// failureKey is the rate-counter key of a source's failed client
// authentications in windows of w.
func failureKey(src string, w time.Duration) string {
	return "oidc:ClientAuthFailure:" + w.String() + ":" + src
}

// checkFailureLimits refuses a client authentication from a source already
// past ClientAuthFailureLimits; it writes nothing.
func (s *Service) checkFailureLimits(ctx context.Context, op string) error {
	now := s.now()
	for i, w := range s.failureWindows(ctx) {
		n, err := s.Store.RateCount(ctx, w.Key, w.Window, now)
		if err != nil {
			return fmt.Errorf("count failed client authentications: %w", err)
		}
		if l := ClientAuthFailureLimits[i]; n >= l.Count {
			return throttledFailures(op, l)
		}
	}
	return nil
}

// failureWindows are the rate counters of the failed client
// authentications of the request's source, one per
// ClientAuthFailureLimits, in its order.
func (s *Service) failureWindows(ctx context.Context) []store.RateWindow {
	src := source.Key(audit.ActorFrom(ctx).SourceIP)
	ws := make([]store.RateWindow, len(ClientAuthFailureLimits))
	for i, l := range ClientAuthFailureLimits {
		ws[i] = store.RateWindow{Key: failureKey(src, l.Window), Window: l.Window}
	}
	return ws
}

// pastFailureLimits is checkFailureLimits on counts already read, one per
// ClientAuthFailureLimits.
func pastFailureLimits(op string, counts []int) error {
	for i, l := range ClientAuthFailureLimits {
		if counts[i] >= l.Count {
			return throttledFailures(op, l)
		}
	}
	return nil
}

// countFailure counts one failed client authentication from the request's
// source and returns SlowDownException when it is past a limit. The count
// is atomic, so parallel failures cannot record more than the limit.
func (s *Service) countFailure(ctx context.Context, op string) error {
	src := source.Key(audit.ActorFrom(ctx).SourceIP)
	now := s.now()
	var over error
	for _, l := range ClientAuthFailureLimits {
		n, err := s.Store.HitRate(ctx, failureKey(src, l.Window), l.Window, now)
		if err != nil {
			return fmt.Errorf("count failed client authentications: %w", err)
		}
		if n > l.Count && over == nil {
			over = throttledFailures(op, l)
		}
	}
	return over
}

// throttledFailures is the SlowDownException of a source past a limit l on
// failed client authentications.
func throttledFailures(op string, l Limit) *awsproto.Error {
	e := throttled(op, l)
	e.Message = fmt.Sprintf("Too many failed client authentications from this address (limit %d per %s). Check the client ID and secret, register the client again, and retry later.", l.Count, l.Window)
	return e
}

// checkLimits counts one request of op from the request's source address
// against limits and returns SlowDownException when any is exceeded, the
// throttling error the botocore sso-oidc model lists for RegisterClient and
// StartDeviceAuthorization (HTTP 400, "error":"slow_down"). Throttled
// requests are not audited: recording them would let a flood grow the
// audit log instead of the client table.
func (s *Service) checkLimits(r *http.Request, op string, limits []Limit) error {
	ctx := r.Context()
	src := source.Key(sourceAddr(r))
	now := s.now()
	for _, l := range limits {
		key := "oidc:" + op + ":" + l.Window.String() + ":" + src
		n, err := s.Store.HitRate(ctx, key, l.Window, now)
		if err != nil {
			return fmt.Errorf("count %s requests: %w", op, err)
		}
		if n > l.Count {
			return throttled(op, l)
		}
	}
	return nil
}

// throttled is the SlowDownException of a request over limit l. Its body
// carries "message" as well as "error" and "error_description", because
// botocore (CLI 2.9) prints the error message from "message".
func throttled(op string, l Limit) *awsproto.Error {
	desc := fmt.Sprintf("Too many %s requests from this address (limit %d per %s). Wait and try again.", op, l.Count, l.Window)
	e := awsproto.OIDCThrottled(desc)
	e.RetryAfterSeconds = int(max(l.Window, time.Second) / time.Second)
	return e
}

// sourceAddr is the client address the server's middleware resolved
// (X-Forwarded-For from trusted proxies), or the peer address.
func sourceAddr(r *http.Request) string {
	if a := audit.ActorFrom(r.Context()).SourceIP; a != "" {
		return a
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
