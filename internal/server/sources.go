package server

import (
	"github.com/gatehouse-dev/gatehouse/internal/idsource/ldap"
)

// wireSources registers the kinds of external identity source (SAML,
// OIDC, LDAP) with s.Sources and mounts their pages. Each kind's package
// adds its lines here.
func (s *Server) wireSources() {
	s.LDAP = &ldap.Source{Sources: s.Sources, Now: s.Config.Now, Log: s.Log}
	s.Sources.Register(s.LDAP.Kind())
}
