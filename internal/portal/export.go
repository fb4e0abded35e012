package portal

import (
	"net/http"

	"github.com/gatehouse-dev/gatehouse/internal/oidc"
)

// SignedIn returns the person the request's portal session cookie speaks
// for, or nil when it is missing, unknown, expired or revoked, or its user
// is disabled or gone. Other page sets (the admin console) use it so that a
// single session check decides who is signed in.
func (s *Service) SignedIn(r *http.Request) (*oidc.SignedIn, error) {
	s.init()
	return s.signedIn(r)
}

// Page wraps h as a portal page for the identity sources' own routes (a
// SAML assertion consumer, an OIDC redirect URI): the portal's page
// headers, and errors shown as its error pages, a PageError with its own
// status and words. It adds no cross-origin check: a SAML response arrives
// as a cross-site POST by design (HTTP-POST binding), and those routes
// defend with what they verify (a signed, single-use assertion answering
// this browser's request; an OIDC state bound to this browser).
func (s *Service) Page(h func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	s.init()
	return s.page(h)
}

// PageError returns an error that Page shows as a page with status, a
// heading and a sentence for the person; err is kept for the log.
func PageError(status int, heading, message string, err error) error {
	return &pageError{Status: status, Heading: heading, Message: message, Err: err}
}

// SafeNext returns raw when it is a local portal or console page a
// sign-in may return to (with its query), else "": never anything a
// browser could resolve to another origin. Identity sources check the
// return address they carry through the provider (SAML RelayState, OIDC
// state) with it.
func SafeNext(raw string) string { return safeNext(raw) }
