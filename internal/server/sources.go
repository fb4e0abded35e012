package server

import (
	"net/http"
	"strings"

	"github.com/gatehouse-dev/gatehouse/internal/idsource/saml"
)

// wireSources registers the kinds of external identity source (SAML,
// OIDC, LDAP) with s.Sources and mounts their pages. Each kind's package
// adds its lines here.
func (s *Server) wireSources() {
	cfg := &s.Config
	base := s.BaseURL()
	s.SAML = &saml.Service{
		Store: s.Store, Keys: s.Keys, Audit: s.Audit, Sources: s.Sources, Portal: s.Portal,
		BaseURL: base, Secure: strings.HasPrefix(base, "https://"), Now: cfg.Now, Rand: cfg.Rand, Log: s.Log,
	}
	s.Sources.Register(s.SAML.Kind())
}

// mountSources mounts the identity sources' own routes (the SAML SP
// metadata and assertion consumer service, OIDC redirect URIs).
func (s *Server) mountSources(mux *http.ServeMux) {
	s.SAML.Register(mux)
}
