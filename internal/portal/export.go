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
