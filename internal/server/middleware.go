package server

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
)

// maxBody bounds every request body: the largest legal input (an inline
// policy of 32 KiB inside JSON) is far below it.
const maxBody = 1 << 20

// MaxHeaderBytes bounds a request's header block (request line, header
// names and values); the server answers 431 beyond it. Real clients send
// a few kilobytes at most (a SigV4 Authorization header and a session
// token are under 4 KiB); net/http's default of 1 MiB would let every
// request carry a megabyte user agent into memory and the audit log.
const MaxHeaderBytes = 32 << 10

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// trustedProxies parses the configured proxy addresses and CIDRs.
func trustedProxies(list []string) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range list {
		if pfx, err := netip.ParsePrefix(p); err == nil {
			out = append(out, pfx)
		} else if a, err := netip.ParseAddr(p); err == nil {
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	return out
}

func peerAddr(r *http.Request) (netip.Addr, string) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, host
	}
	return a.Unmap(), host
}

func contains(trusted []netip.Prefix, a netip.Addr) bool {
	for _, p := range trusted {
		if p.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}

// fromTrustedProxy reports whether the request's peer is a trusted proxy.
func (s *Server) fromTrustedProxy(r *http.Request) bool {
	peer, _ := peerAddr(r)
	return peer.IsValid() && contains(s.trusted, peer)
}

// clientIP returns the address of the client: the peer, or the last
// X-Forwarded-For hop that is not a trusted proxy when the peer is one.
func clientIP(r *http.Request, trusted []netip.Prefix) string {
	peer, host := peerAddr(r)
	if !peer.IsValid() {
		return host
	}
	isTrusted := func(a netip.Addr) bool { return contains(trusted, a) }
	if !isTrusted(peer) {
		return peer.Unmap().String()
	}
	hops := strings.Split(r.Header.Get("X-Forwarded-For"), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		if !isTrusted(a) {
			return a.Unmap().String()
		}
	}
	return peer.Unmap().String()
}

// hsts is the Strict-Transport-Security value sent on every response that
// went out over TLS: browsers then use only https for the next year
// (RFC 6797 §6.1). It names no includeSubDomains, since Gatehouse cannot
// know what else lives under its parent domain. Over plain HTTP the header
// is not sent (RFC 6797 §7.2: a user agent ignores it there).
const hsts = "max-age=31536000"

// middleware wraps every request: a request ID, the audit actor's address
// and user agent, HSTS over TLS, a body limit, panic recovery and an access
// log line.
func (s *Server) middleware(next http.Handler) http.Handler {
	trusted := s.trusted
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.Config.Now()
		reqID := s.IDs.UUID()
		w.Header().Set("x-amzn-RequestId", reqID)
		w.Header().Set("Date", start.UTC().Format(http.TimeFormat))
		if s.secure(r) {
			w.Header().Set("Strict-Transport-Security", hsts)
		}
		sw := &statusWriter{ResponseWriter: w}
		r.Body = http.MaxBytesReader(sw, r.Body, maxBody)
		ctx := audit.WithActor(r.Context(), audit.Actor{
			Identity:  audit.Identity{Type: "Unknown"},
			SourceIP:  clientIP(r, trusted),
			UserAgent: r.UserAgent(),
			RequestID: reqID,
		})
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.Log.Error("panic serving request", "request_id", reqID, "method", r.Method, "path", r.URL.Path, "err", fmt.Sprint(v))
				if sw.status == 0 {
					sw.Header().Set("Content-Type", "application/json")
					sw.Header().Set("x-amzn-ErrorType", "InternalServerException")
					sw.WriteHeader(http.StatusInternalServerError)
					fmt.Fprintf(sw, `{"__type":"InternalServerException","message":"An internal error occurred (request %s)"}`, reqID)
				}
			}
			s.Log.Debug("request", "request_id", reqID, "method", r.Method, "path", r.URL.Path,
				"status", sw.status, "bytes", sw.bytes, "duration", time.Since(start).String(), "target", r.Header.Get("X-Amz-Target"))
		}()
		next.ServeHTTP(sw, r.WithContext(ctx))
	})
}
