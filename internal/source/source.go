// Package source names where a request comes from for the per-address
// limits: the sign-in attempt counters and hash gate (internal/signin) and
// the sso-oidc request limits (internal/oidc) key on the same value, so an
// address is counted alike everywhere.
package source

import "net/netip"

// Key is the key a client address is counted under: an IPv4 address (or
// an IPv4-mapped IPv6 address) as the IPv4 address, an IPv6 address by its
// /64 prefix, since one host commonly holds a whole /64 (RFC 4291 §2.5.1;
// RFC 8981 temporary addresses rotate within it) and could otherwise
// rotate addresses to escape every per-address limit. A zone is dropped.
// Anything that does not parse as an address is returned as is.
func Key(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	p, err := a.Prefix(64)
	if err != nil {
		return a.String()
	}
	return p.String()
}
