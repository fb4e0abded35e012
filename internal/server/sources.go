package server

import (
	"net/http"
	"strings"

	"github.com/gatehouse-dev/gatehouse/internal/awsaccounts/samlidp"
	"github.com/gatehouse-dev/gatehouse/internal/idsource/ldap"
	oidcrp "github.com/gatehouse-dev/gatehouse/internal/idsource/oidc"
	"github.com/gatehouse-dev/gatehouse/internal/idsource/saml"
)

// wireSources registers the kinds of external identity source (SAML,
// OIDC, LDAP) with s.Sources and mounts their pages. Each kind's package
// adds its lines here.
func (s *Server) wireSources() {
	base := s.BaseURL()
	s.oidcRP = &oidcrp.RP{
		Sources: s.Sources, Portal: s.Portal, Store: s.Store, Keys: s.Keys, Events: s.Events,
		BaseURL: base, Secure: strings.HasPrefix(base, "https://"), Client: s.Config.WebIdentityClient,
		Now: s.Config.Now, Log: s.Log, Refusals: s.refusals,
	}
	s.Sources.Register(s.oidcRP.Kind())
	s.LDAP = &ldap.Source{Sources: s.Sources, Now: s.Config.Now, Log: s.Log}
	s.Sources.Register(s.LDAP.Kind())
	s.SAML = &saml.Service{
		Store: s.Store, Keys: s.Keys, Audit: s.Audit, Sources: s.Sources, Portal: s.Portal,
		BaseURL: base, Secure: strings.HasPrefix(base, "https://"), Now: s.Config.Now, Rand: s.Config.Rand, Log: s.Log,
		Refusals: s.refusals,
	}
	s.Sources.Register(s.SAML.Kind())
}

// mountSources mounts the identity source kinds' own routes (the OIDC
// redirect URI; the SAML SP metadata and assertion consumer service), and
// the metadata of Gatehouse's own SAML IdP for linked AWS accounts.
func (s *Server) mountSources(mux *http.ServeMux) {
	s.oidcRP.Register(mux)
	s.SAML.Register(mux)
	mux.HandleFunc("GET "+samlidp.MetadataPath, s.SAMLIdP.ServeMetadata)
}
