package oidc

import (
	"fmt"
	"net/url"
	"strings"
)

// normalizeStartURL returns the form in which start URLs are compared. A
// start URL is an identifier of the instance, never fetched (clients send
// it back as startUrl), so two spellings of the same URL must name the same
// instance: the fragment is dropped (AWS's own portal hands out
// "https://d-…awsapps.com/start/#" and "…/start#/"), as are trailing
// slashes and the scheme's default port, and the scheme and host are
// lower-cased (RFC 3986 §6.2.2.1 and §6.2.3). The path keeps its case.
// Anything that does not parse as an absolute URL is compared as is,
// without its fragment.
func normalizeStartURL(raw string) string {
	raw, _, _ = strings.Cut(strings.TrimSpace(raw), "#")
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" || u.Opaque != "" {
		return strings.TrimRight(raw, "/")
	}
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") { // an IPv6 literal
		host = "[" + host + "]"
	}
	if port := u.Port(); port != "" && !(scheme == "https" && port == "443" || scheme == "http" && port == "80") {
		host += ":" + port
	}
	out := scheme + "://"
	if u.User != nil {
		out += u.User.String() + "@"
	}
	out += host + strings.TrimRight(u.EscapedPath(), "/")
	if u.RawQuery != "" || u.ForceQuery {
		out += "?" + u.RawQuery
	}
	return out
}

// unknownStartURL is the message for a startUrl that is not the
// instance's. People most often paste the portal's web address, where they
// sign in, so the message says that it is not the start URL.
func (s *Service) unknownStartURL(got string) string {
	return fmt.Sprintf("Unknown start URL %s. This Gatehouse's start URL is %s: use it as sso_start_url. "+
		"The portal address %s/start is where you sign in with a browser; it is not the start URL.",
		truncate(got), s.Instance.StartURL, s.BaseURL)
}
