package condition

import (
	"net/netip"
	"strings"
)

// IP family: IpAddress and NotIpAddress over IPv4/IPv6 addresses and CIDR
// blocks. A bare address is a /32 or /128; an IPv4 address never matches an
// IPv6 range nor the reverse.

type netPrefix = netip.Prefix

func (c *Condition) compileIP(values []string, o Options) error {
	c.nets = make([]netip.Prefix, 0, len(values))
	for _, v := range values {
		p, ok := parsePrefix(v)
		if !ok {
			if err := c.badValue(v, o, "not an IP address or CIDR block"); err != nil {
				return err
			}
			continue
		}
		c.nets = append(c.nets, p)
	}
	return nil
}

func parsePrefix(s string) (netip.Prefix, bool) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		return p.Masked(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(a, a.BitLen()), true
}

func (c *Condition) matchIP(r string) bool {
	a, err := netip.ParseAddr(strings.TrimSpace(r))
	if err != nil {
		return false
	}
	for _, p := range c.nets {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
