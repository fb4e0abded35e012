package server

// wireSources registers the kinds of external identity source (SAML,
// OIDC, LDAP) with s.Sources and mounts their pages. Each kind's package
// adds its lines here.
func (s *Server) wireSources() {
}
