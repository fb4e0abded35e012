package clientconfig

// DiscoveryPath is where a Gatehouse instance answers, without
// authentication, what a client needs before it can sign in: the start URL
// and region of its sso-session. AWS has no such document (its start URL
// is handed out by the administrator); it lives under /.well-known/ as
// RFC 8615 §3 reserves that path for site-wide metadata.
const DiscoveryPath = "/.well-known/gatehouse-configuration"

// Discovery is the document at DiscoveryPath.
type Discovery struct {
	// StartURL is the identifier clients send as startUrl (never fetched).
	StartURL string `json:"startUrl"`
	// Region is the instance's home region, the sso-session's sso_region.
	Region string `json:"region"`
	// EndpointURL is the public URL every Gatehouse API is served on.
	EndpointURL string `json:"endpointUrl"`
	// PortalURL is the access portal people sign in to.
	PortalURL string `json:"portalUrl"`
}
