package portal

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/awsproto"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/oidc"
	"github.com/gatehouse-dev/gatehouse/internal/web"
)

// pageHandler serves a page; an error it returns becomes an error page
// through pageErrorFor.
type pageHandler func(w http.ResponseWriter, r *http.Request) error

// pageError is an error shown to the person as a page: a status, a heading
// and a sentence, with the cause kept for the log.
type pageError struct {
	Status  int
	Heading string
	Message string
	Err     error
	// RetryAfter, when positive, is sent as the Retry-After header.
	RetryAfter time.Duration
}

func (e *pageError) Error() string {
	if e.Err != nil {
		return e.Heading + ": " + e.Err.Error()
	}
	return e.Heading
}

func (e *pageError) Unwrap() error { return e.Err }

// The error pages a person can meet.
var (
	// errTooMany names the wait: wait is how long until the limit lifts
	// (sent as Retry-After too); when the limit did not say, it is the
	// longest window a page limit has (oidc's code lookups, 5 minutes).
	errTooMany = func(cause error, wait time.Duration) *pageError {
		if wait <= 0 {
			wait = 5 * time.Minute
		}
		w := humanWait(wait)
		return &pageError{Status: http.StatusTooManyRequests, Heading: "Too many attempts, try again in " + w,
			Message: "For your security, sign-in and code entry are paused after several failed attempts. Try again in " + w + ".", Err: cause, RetryAfter: wait}
	}
	errExpired = func(cause error) *pageError {
		return &pageError{Status: http.StatusGone, Heading: "This code has expired",
			Message: "Start the sign-in again on your device or application to get a new code.", Err: cause}
	}
	errInvalidLink = func(cause error) *pageError {
		return &pageError{Status: http.StatusBadRequest, Heading: "This link is not valid",
			Message: "The link is incomplete, was changed, or belongs to an application Gatehouse does not know. Start again from your application.", Err: cause}
	}
	errCodeUsed = func(cause error) *pageError {
		return &pageError{Status: http.StatusConflict, Heading: "This code has already been used",
			Message: "Each code works once. Start the sign-in again on your device to get a new code.", Err: cause}
	}
)

// pageErrorFor maps any error from a page handler onto the page shown: the
// one place page errors are classified. Unknown errors are logged here,
// once, and shown as a generic failure; a page of a server-side failure
// (5xx, such as LDAP's "The directory is unavailable") that carries its
// cause logs that cause once at Warn — causes never hold secrets (a bind
// DN, never a password).
func (s *Service) pageErrorFor(r *http.Request, err error) *pageError {
	if pe, ok := errors.AsType[*pageError](err); ok {
		if pe.Status >= 500 && pe.Err != nil {
			s.log().Warn("portal page unavailable", "request_id", audit.ActorFrom(r.Context()).RequestID, "path", r.URL.Path,
				"status", pe.Status, "heading", pe.Heading, "err", pe.Err)
		}
		return pe
	}
	switch {
	case errors.Is(err, oidc.ErrRateLimited):
		var wait time.Duration
		if rl, ok := errors.AsType[*oidc.RateLimitedError](err); ok {
			wait = rl.RetryAfter
		}
		return errTooMany(err, wait)
	case errors.Is(err, oidc.ErrCodeExpired):
		return errExpired(err)
	case errors.Is(err, oidc.ErrCodeUsed):
		return errCodeUsed(err)
	case errors.Is(err, oidc.ErrBadAuthorizeRequest):
		return errInvalidLink(err)
	case errors.Is(err, oidc.ErrUnknownUserCode):
		return &pageError{Status: http.StatusNotFound, Heading: "This code is not valid",
			Message: "Check the code your device shows and enter it again.", Err: err}
	}
	if fe, ok := errors.AsType[*fault.Error](err); ok && fe.Kind != fault.Internal {
		status := http.StatusBadRequest
		switch fe.Kind {
		case fault.NotFound:
			status = http.StatusNotFound
		case fault.AccessDenied:
			status = http.StatusForbidden
		case fault.Conflict:
			status = http.StatusConflict
		case fault.QuotaExceeded:
			return errTooMany(err, 0)
		case fault.Unavailable:
			awsproto.LogFailure(r.Context(), s.log(), http.StatusServiceUnavailable, err, "portal page unavailable",
				slog.String("request_id", audit.ActorFrom(r.Context()).RequestID), slog.String("path", r.URL.Path))
			return &pageError{Status: http.StatusServiceUnavailable, Heading: "Gatehouse is busy",
				Message: "Gatehouse could not check your access just now. Try again in a moment.", Err: err,
				RetryAfter: awsproto.UnavailableRetryAfter * time.Second}
		}
		return &pageError{Status: status, Heading: "Your request could not be completed", Message: fe.Message, Err: err}
	}
	awsproto.LogFailure(r.Context(), s.log(), http.StatusInternalServerError, err, "portal page failed",
		slog.String("request_id", audit.ActorFrom(r.Context()).RequestID), slog.String("path", r.URL.Path))
	return &pageError{Status: http.StatusInternalServerError, Heading: "Something went wrong",
		Message: "Gatehouse could not complete your request. Try again in a moment.", Err: err}
}

// page adapts a pageHandler: security headers first, then the handler, then
// the error page if it failed.
func (s *Service) page(h pageHandler) http.Handler {
	return withPageHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			pe := s.pageErrorFor(r, err)
			if pe.RetryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(int((pe.RetryAfter+time.Second-1)/time.Second)))
			}
			lay := web.Layout{Title: pe.Heading}
			if who, _ := s.signedIn(r); who != nil {
				lay.User = who.UserName
			}
			s.writePage(w, r, pe.Status, web.Error{Layout: lay, Heading: pe.Heading, Message: pe.Message, Link: "/start", LinkText: "Go to the portal"})
		}
	}), true)
}

// contentSecurityPolicy allows nothing but this origin's own styles and
// images, no framing, and forms that post here. form-action also names the
// loopback redirect URIs of native clients (RFC 8252 §7.3): browsers apply
// form-action to the redirects that follow a form submission, and the
// consent form's answer is a 302 to http://127.0.0.1:<port>/oauth/callback.
// img-src adds data: for the QR code of a new authenticator key (a PNG
// in a data: URI).
const contentSecurityPolicy = "default-src 'self'; img-src 'self' data:; base-uri 'none'; object-src 'none'; frame-ancestors 'none'; " +
	"form-action 'self' http://127.0.0.1:* http://localhost:*"

// withPageHeaders sets the headers every page and asset carries; noStore
// also forbids caching (pages show codes and session state).
func withPageHeaders(next http.Handler, noStore bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if noStore {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// writePage renders page with status. A rendering failure is a programmer
// error: it is logged and answered with a plain 500.
func (s *Service) writePage(w http.ResponseWriter, r *http.Request, status int, page web.Page) {
	var b strings.Builder
	if err := s.pages.Render(&b, page); err != nil {
		s.log().Error("render page", "request_id", audit.ActorFrom(r.Context()).RequestID, "path", r.URL.Path, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprint(w, b.String())
}

// localPaths are the pages a sign-in may return to.
var localPaths = map[string]bool{"/start": true, "/start/credentials": true, "/device": true, "/authorize": true, "/mfa": true, "/mfa/key": true, "/account": true}

// adminPath reports whether p is one of the admin console's pages
// (/admin and below), which a sign-in may also return to.
func adminPath(p string) bool {
	return (p == "/admin" || strings.HasPrefix(p, "/admin/")) && !strings.Contains(p, "/.") && !strings.Contains(p, "//")
}

// safeNext returns raw if it is a local path to one of the portal's own
// pages (with its query), and "" otherwise. It never returns anything a
// browser could resolve to another origin: no scheme, no host, no "//" or
// "/\" prefix, no control characters or backslashes anywhere.
func safeNext(raw string) string {
	if raw == "" || len(raw) > 4096 || !strings.HasPrefix(raw, "/") || strings.HasPrefix(raw, "//") {
		return ""
	}
	bad := func(s string) bool {
		return strings.ContainsAny(s, "\\") || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
	}
	if bad(raw) {
		return ""
	}
	// The path is returned decoded: what it decodes to ("%09", "%5C")
	// must pass the same test.
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || bad(u.Path) || !(localPaths[u.Path] || adminPath(u.Path)) {
		return ""
	}
	if u.RawQuery == "" {
		return u.Path
	}
	return u.Path + "?" + u.RawQuery
}

// loginURL returns the sign-in page that comes back to next.
// passwordSetURL is where setting a password (an invitation, a reset
// link, the first administrator's setup) lands: the sign-in page saying
// the password is set, then /start. The flag carries no address, so it
// cannot redirect anywhere else.
const passwordSetURL = "/login?next=%2Fstart&set=1"

func loginURL(next string) string {
	if next = safeNext(next); next == "" {
		return "/login"
	}
	return "/login?" + url.Values{"next": {next}}.Encode()
}
