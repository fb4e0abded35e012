package awsaccounts

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// EndpointSetting names the operator's setting of the endpoints links may
// use, as refusals tell administrators.
const EndpointSetting = "--aws-endpoint-allow (GATEHOUSE_AWS_ENDPOINT_ALLOW, aws_endpoint_allow)"

// EndpointList is the operator's allow-list of IAM/STS endpoints a link
// may use besides real AWS (a link with no endpoint), which is always
// allowed. A link's endpoint receives Gatehouse-signed SAML assertions
// that real AWS accepts for their five minutes and Gatehouse's signed
// calls, so whoever may link an account (a delegated administrator
// allowed gatehouse:LinkAccount) must not choose it freely.
//
// Endpoints are compared in their canonical form (CanonicalEndpoint). A
// nil *EndpointList allows real AWS only.
type EndpointList struct {
	allowed []string // canonical, sorted
}

// NewEndpointList returns the list of urls, each an http or https URL
// with a host, an optional port and no user information, query, fragment
// or path other than "/". An empty url is skipped. All malformed urls are
// reported at once.
func NewEndpointList(urls ...string) (*EndpointList, error) {
	e := &EndpointList{}
	var errs []error
	for _, u := range urls {
		if u == "" {
			continue
		}
		c, err := CanonicalEndpoint(u)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		e.allowed = append(e.allowed, c)
	}
	slices.Sort(e.allowed)
	e.allowed = slices.Compact(e.allowed)
	return e, errors.Join(errs...)
}

// Allows reports whether a link may use endpoint: "" (real AWS) always,
// any other when its canonical form is on the list.
func (e *EndpointList) Allows(endpoint string) bool {
	if endpoint == "" {
		return true
	}
	if e == nil {
		return false
	}
	c, err := CanonicalEndpoint(endpoint)
	if err != nil {
		return false
	}
	_, found := slices.BinarySearch(e.allowed, c)
	return found
}

// Endpoints returns the canonical forms on the list, sorted.
func (e *EndpointList) Endpoints() []string {
	if e == nil {
		return nil
	}
	return slices.Clone(e.allowed)
}

// hostnamePattern is a DNS name of letters, digits and hyphens in dot-
// separated labels (RFC 1123 §2.1), a final dot allowed. Anything else
// (percent-escapes, underscores, brackets around a name) is refused, so
// that no two spellings of a host that the HTTP client would resolve
// alike compare unequal, and none that it resolves apart compare equal.
var hostnamePattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$`)

// CanonicalEndpoint returns raw as scheme://host:port: the scheme (http or
// https) and host lower-cased, an IP address in its shortest form (IPv6 in
// brackets), the port always written (80 or 443 by default). A final dot
// is kept: "host." is a fully qualified name and "host" may be completed by
// the resolver's search list, so they are different endpoints. Refused:
// another scheme, user information (http://allowed@evil), a path other
// than "/" (http://evil/allowed), a query or fragment, an empty or
// malformed host or port.
func CanonicalEndpoint(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("endpoint %q is not a URL: give scheme://host[:port], e.g. http://127.0.0.1:5000", raw)
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", fmt.Errorf("endpoint %q is not an http or https URL: give scheme://host[:port], e.g. http://127.0.0.1:5000", raw)
	}
	if u.User != nil || strings.Contains(u.Host, "@") {
		return "", fmt.Errorf("endpoint %q holds user information, which an endpoint never has", raw)
	}
	if u.Opaque != "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(raw, "#") {
		return "", fmt.Errorf("endpoint %q has a path, query or fragment: give only scheme://host[:port]", raw)
	}
	host, port := u.Hostname(), u.Port()
	if strings.HasSuffix(u.Host, ":") {
		return "", fmt.Errorf("endpoint %q has an empty port", raw)
	}
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[scheme]
	} else if n, ok := portNumber(port); !ok {
		return "", fmt.Errorf("endpoint %q has no valid port", raw)
	} else {
		port = n
	}
	if host == "" {
		return "", fmt.Errorf("endpoint %q has no host", raw)
	}
	if strings.HasPrefix(u.Host, "[") {
		ip := net.ParseIP(host)
		if ip == nil || ip.To4() != nil && !strings.Contains(host, ":") || strings.Contains(host, "%") {
			return "", fmt.Errorf("endpoint %q has a malformed IPv6 address", raw)
		}
		return scheme + "://[" + ip.String() + "]:" + port, nil
	}
	if ip := net.ParseIP(host); ip != nil {
		return scheme + "://" + ip.String() + ":" + port, nil
	}
	host = strings.ToLower(host)
	if !hostnamePattern.MatchString(host) || len(host) > 254 {
		return "", fmt.Errorf("endpoint %q has a malformed host name", raw)
	}
	return scheme + "://" + host + ":" + port, nil
}

// portNumber returns p without leading zeros when it is a port number
// (1 to 65535).
func portNumber(p string) (string, bool) {
	if p == "" || len(p) > 5 {
		return "", false
	}
	n := 0
	for _, c := range p {
		if c < '0' || c > '9' {
			return "", false
		}
		n = n*10 + int(c-'0')
	}
	if n < 1 || n > 65535 {
		return "", false
	}
	return fmt.Sprint(n), true
}

// endpointRefusal returns why a link to endpoint may not be used or made,
// or "" when it may (real AWS, a listed endpoint, or AnyEndpoint).
func (s *Service) endpointRefusal(accountID, endpoint string) string {
	if s.AnyEndpoint || s.Endpoints.Allows(endpoint) {
		return ""
	}
	return fmt.Sprintf("Endpoint %s (account %s) is not on the operator's list of AWS endpoints Gatehouse may call, %s; "+
		"leave the endpoint empty for real AWS, or ask the operator to list it", endpoint, accountID, EndpointSetting)
}

// RefusedLinks returns the stored links whose endpoint is off
// Service.Endpoints, by account ID: they get no role credentials and no
// provisioning until the operator lists the endpoint or the account is
// linked again. None when AnyEndpoint is set.
func (s *Service) RefusedLinks(ctx context.Context) ([]store.AccountLink, error) {
	ls, err := s.Store.ListAccountLinks(ctx)
	if err != nil {
		return nil, fmt.Errorf("list account links: %w", err)
	}
	return slices.DeleteFunc(ls, func(l store.AccountLink) bool { return s.endpointRefusal(l.AccountID, l.Endpoint) == "" }), nil
}
