package awsproto

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/gatehouse-dev/gatehouse/internal/fault"
)

// setRetryAfter sends e.RetryAfterSeconds as Retry-After (RFC 9110
// §10.2.3) when it is positive.
func setRetryAfter(h http.Header, e *Error) {
	if e.RetryAfterSeconds > 0 {
		h.Set("Retry-After", strconv.Itoa(e.RetryAfterSeconds))
	}
}

// ClientGone reports whether cause is the cancellation of ctx, the
// request's context: net/http cancels it when the client closes its
// connection (or the HTTP/2 stream) before the answer is written. Nobody
// is left to read the answer, and nothing is wrong with the server.
func ClientGone(ctx context.Context, cause error) bool {
	return errors.Is(cause, context.Canceled) && errors.Is(ctx.Err(), context.Canceled)
}

// LogFailure logs, once, the cause of a request that failed with the given
// HTTP status, where the answer is written (STYLE §4); ctx is the
// request's context, msg says which handler failed. The level says what
// the operator should do:
//
//   - a failure caused by the client going away (ClientGone) is Debug,
//     "client went away": a load balancer's health probe or a load test
//     closing its connections is not an error;
//   - a fault.Unavailable (the database unreachable or lagging, answered
//     with a retryable error) is Warn;
//   - any other status of 500 or more is Error;
//   - other client errors are not logged.
//
// log may be nil.
func LogFailure(ctx context.Context, log *slog.Logger, status int, cause error, msg string, attrs ...slog.Attr) {
	if log == nil {
		return
	}
	unavailable := fault.KindOf(cause) == fault.Unavailable
	if status < 500 && !unavailable {
		return
	}
	attrs = append(attrs, slog.Any("err", cause))
	switch {
	case ClientGone(ctx, cause):
		log.LogAttrs(ctx, slog.LevelDebug, "client went away", append(attrs, slog.String("handler", msg))...)
	case unavailable:
		log.LogAttrs(ctx, slog.LevelWarn, msg, append(attrs, slog.Int("status", status))...)
	default:
		log.LogAttrs(ctx, slog.LevelError, msg, attrs...)
	}
}
