package saml

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	csaml "github.com/crewjam/saml"
	"github.com/crewjam/saml/samlsp"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/idsource"
	"github.com/gatehouse-dev/gatehouse/internal/keyring"
	"github.com/gatehouse-dev/gatehouse/internal/portal"
	"github.com/gatehouse-dev/gatehouse/internal/samlkey"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// Paths of the service provider on Gatehouse's origin.
const (
	// MetadataPath serves the SP metadata; its URL is the SP entity ID
	// (the Audience URI an IdP puts in assertions).
	MetadataPath = "/saml/metadata"
	// ACSPath is the assertion consumer service (the Single sign-on URL,
	// Reply URL or ACS URL of the IdP's application).
	ACSPath = "/saml/acs"
)

// Setting names (idsource.Field.Name).
const (
	SettingMetadataXML       = "metadataXML"
	SettingMetadataURL       = "metadataURL"
	SettingUserName          = "userNameAttribute"
	SettingEmail             = "emailAttribute"
	SettingGivenName         = "givenNameAttribute"
	SettingFamilyName        = "familyNameAttribute"
	SettingDisplayName       = "displayNameAttribute"
	SettingGroups            = "groupsAttribute"
	SettingAllowIdPInitiated = "allowIdPInitiated"
)

// Default attribute names, tried in order: Entra ID's claim URIs (AWS docs,
// "Configure SAML and SCIM with Microsoft Entra ID"; Microsoft docs,
// "Customize claims issued in the SAML token"), the names Okta's and
// Google Workspace's application templates are usually given, and the
// LDAP OIDs other IdPs (Shibboleth, Keycloak, crewjam's IdP) send.
const (
	DefaultEmail       = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress, email, mail, urn:oid:0.9.2342.19200300.100.1.3"
	DefaultGivenName   = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname, firstName, givenName, urn:oid:2.5.4.42"
	DefaultFamilyName  = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname, lastName, familyName, surname, urn:oid:2.5.4.4"
	DefaultDisplayName = "http://schemas.microsoft.com/identity/claims/displayname, displayName, name, urn:oid:2.16.840.1.113730.3.1.241, urn:oid:2.5.4.3"
	DefaultGroups      = "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups, groups, memberOf"
)

// Limits.
const (
	// maxMetadataBytes bounds an IdP metadata document, pasted or fetched
	// (idsource keeps settings up to 256 KiB).
	maxMetadataBytes = 256 << 10
	// fetchTimeout bounds fetching the IdP metadata at save time.
	fetchTimeout = 10 * time.Second
	// keyPurpose names the SP's key in the store (store.Key.Purpose).
	keyPurpose = "saml-sp"
)

// Service is the SAML service provider. Set its fields, then use Kind and
// Register; it is safe for concurrent use.
type Service struct {
	Store   store.Store
	Keys    *keyring.Ring
	Audit   *audit.Recorder
	Sources *idsource.Service
	Portal  *portal.Service
	// BaseURL is Gatehouse's public URL (no trailing slash).
	BaseURL string
	// Secure says the pages are served over TLS: the request cookie is
	// then Secure and SameSite=None, so that the IdP's cross-site POST
	// carries it.
	Secure bool
	Now    func() time.Time
	Rand   io.Reader
	Log    *slog.Logger
	// Client fetches IdP metadata at save time; nil uses a client with a
	// 10 s timeout that follows at most 3 redirects.
	Client *http.Client
	// Refusals, when set, records the audit events of refused responses,
	// a bounded number per source address (the ACS is unauthenticated);
	// nil records each in a transaction of its own.
	Refusals *audit.Throttle

	mu  sync.Mutex
	key *samlkey.Pair
}

func (s *Service) now() time.Time { return s.Now().UTC() }

// EntityID is the SP entity ID: the SP metadata URL.
func (s *Service) EntityID() string { return s.BaseURL + MetadataPath }

// ACSURL is the assertion consumer service URL.
func (s *Service) ACSURL() string { return s.BaseURL + ACSPath }

// Kind returns the idsource kind to register.
func (s *Service) Kind() *idsource.Kind {
	return &idsource.Kind{
		Name:  idsource.SAML,
		Title: "SAML 2.0 identity provider",
		Fields: []idsource.Field{
			{Name: SettingMetadataXML, Label: "IdP metadata (XML)", Multiline: true,
				Help: "The identity provider's SAML metadata document. Leave empty when a metadata URL is given: the document fetched from it is stored here."},
			{Name: SettingMetadataURL, Label: "IdP metadata URL",
				Help: "An https URL of the identity provider's metadata, fetched once when the settings are saved (save again to refresh it)."},
			{Name: SettingUserName, Label: "User name attribute",
				Help: "The attribute whose value is the Gatehouse user name; empty uses the assertion's NameID."},
			{Name: SettingEmail, Label: "E-mail attribute", Default: DefaultEmail,
				Help: "Attribute names, comma-separated; the first one present is used."},
			{Name: SettingGivenName, Label: "Given name attribute", Default: DefaultGivenName,
				Help: "Attribute names, comma-separated; the first one present is used."},
			{Name: SettingFamilyName, Label: "Family name attribute", Default: DefaultFamilyName,
				Help: "Attribute names, comma-separated; the first one present is used."},
			{Name: SettingDisplayName, Label: "Display name attribute", Default: DefaultDisplayName,
				Help: "Attribute names, comma-separated; the first one present is used."},
			{Name: SettingGroups, Label: "Groups attribute", Default: DefaultGroups,
				Help: "Attribute names, comma-separated; each value of the first one present names a group. When none is present the person is in none of the groups the IdP names (as IdPs send no attribute for no group); after an Entra ID group overage (groups.link) memberships are left as they are."},
			{Name: SettingAllowIdPInitiated, Label: "Allow IdP-initiated sign-in", Default: "true", Options: []string{"true", "false"},
				Help: "Accept sign-ins started from the identity provider's app dashboard (responses that answer no request of Gatehouse's)."},
		},
		Check: s.check,
		Begin: s.Begin,
		Info: func() []idsource.Info {
			return []idsource.Info{
				{Label: "ACS URL (Single sign-on URL, Reply URL)", Value: s.ACSURL()},
				{Label: "SP entity ID (Audience URI, Identifier)", Value: s.EntityID()},
				{Label: "SP metadata URL", Value: s.EntityID()},
			}
		},
	}
}

// settings is the parsed configuration.
type settings struct {
	idp                                           *csaml.EntityDescriptor
	userName                                      string
	email, givenName, familyName, display, groups []string
	allowIdPInitiated                             bool
}

// check validates settings at save time: it fetches the metadata URL when
// one is given (storing the fetched document as metadataXML) and refuses
// metadata that does not parse or names no signing certificate.
func (s *Service) check(ctx context.Context, m map[string]string, _ bool) error {
	if raw := m[SettingMetadataURL]; raw != "" {
		doc, err := s.fetch(ctx, raw)
		if err != nil {
			return fault.Validationf("Invalid saml settings: cannot fetch the IdP metadata from %s: %v", raw, err)
		}
		m[SettingMetadataXML] = doc
	}
	if m[SettingMetadataXML] == "" {
		return fault.Validationf("Invalid saml settings: give the IdP metadata (%s) or its URL (%s)", SettingMetadataXML, SettingMetadataURL)
	}
	_, err := parseSettings(m)
	return err
}

// fetch gets the metadata document at raw: https (or http on loopback),
// bounded in time, redirects and size.
func (s *Service) fetch(ctx context.Context, raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && loopback(u.Hostname()))) {
		return "", errors.New("not an https URL (http is allowed for localhost only): the metadata names the keys assertions are checked with")
	}
	client := s.Client
	if client == nil {
		client = &http.Client{Timeout: fetchTimeout, CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 3 {
				return errors.New("too many redirects")
			}
			return nil
		}}
	}
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Accept", "application/samlmetadata+xml, application/xml, text/xml")
	resp, err := client.Do(req)
	if err != nil {
		return "", errors.New("the request failed or timed out")
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("HTTP status %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxMetadataBytes+1))
	if err != nil {
		return "", errors.New("reading the document failed")
	}
	if len(body) > maxMetadataBytes {
		return "", fmt.Errorf("the document is larger than %d KiB", maxMetadataBytes>>10)
	}
	return string(bytes.TrimSpace(body)), nil
}

// loopback reports whether host is this machine (a test or a local IdP).
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// parseSettings parses stored settings (defaults applied).
func parseSettings(m map[string]string) (*settings, error) {
	idp, err := samlsp.ParseMetadata([]byte(m[SettingMetadataXML]))
	if err != nil {
		return nil, fault.Validationf("Invalid saml settings: the IdP metadata does not parse: %v", err)
	}
	if len(idp.IDPSSODescriptors) == 0 {
		return nil, fault.Validationf("Invalid saml settings: the metadata describes no identity provider (IDPSSODescriptor)")
	}
	if idp.EntityID == "" {
		return nil, fault.Validationf("Invalid saml settings: the IdP metadata has no entityID")
	}
	if !hasSigningCert(idp) {
		return nil, fault.Validationf("Invalid saml settings: the IdP metadata has no signing certificate; Gatehouse accepts only signed assertions")
	}
	if redirectSSO(idp) == "" {
		return nil, fault.Validationf("Invalid saml settings: the IdP metadata has no SingleSignOnService with the HTTP-Redirect binding")
	}
	return &settings{
		idp:      idp,
		userName: strings.TrimSpace(m[SettingUserName]),
		email:    names(m[SettingEmail]), givenName: names(m[SettingGivenName]), familyName: names(m[SettingFamilyName]),
		display: names(m[SettingDisplayName]), groups: names(m[SettingGroups]),
		allowIdPInitiated: m[SettingAllowIdPInitiated] != "false",
	}, nil
}

// names splits a comma-separated list of attribute names.
func names(v string) []string {
	var out []string
	for _, n := range strings.Split(v, ",") {
		if n = strings.TrimSpace(n); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// hasSigningCert reports whether an IDPSSODescriptor of idp names a
// certificate that parses for signing (use "signing" or unspecified,
// saml-metadata-2.0-os §2.4.1.1).
func hasSigningCert(idp *csaml.EntityDescriptor) bool {
	for _, d := range idp.IDPSSODescriptors {
		for _, kd := range d.KeyDescriptors {
			if kd.Use != "" && kd.Use != "signing" {
				continue
			}
			for _, c := range kd.KeyInfo.X509Data.X509Certificates {
				der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(c.Data), ""))
				if err != nil {
					continue
				}
				if _, err := x509.ParseCertificate(der); err == nil {
					return true
				}
			}
		}
	}
	return false
}

func redirectSSO(idp *csaml.EntityDescriptor) string {
	for _, d := range idp.IDPSSODescriptors {
		for _, e := range d.SingleSignOnServices {
			if e.Binding == csaml.HTTPRedirectBinding {
				return e.Location
			}
		}
	}
	return ""
}

// load reads and parses the stored settings; ok false when the SAML source
// is not configured.
func (s *Service) load(ctx context.Context) (*settings, bool, error) {
	m, _, err := s.Sources.Settings(ctx, idsource.SAML)
	if errors.Is(err, store.ErrNotFound) {
		return nil, false, nil
	} else if err != nil {
		return nil, false, err
	}
	set, err := parseSettings(m)
	if err != nil {
		return nil, false, err
	}
	return set, true, nil
}

// provider builds the crewjam service provider for one request; idp may
// be nil (metadata only). now is the request's time.
func (s *Service) provider(ctx context.Context, set *settings, now time.Time) (*csaml.ServiceProvider, error) {
	k, err := s.spKey(ctx)
	if err != nil {
		return nil, err
	}
	meta, _ := url.Parse(s.EntityID())
	acs, _ := url.Parse(s.ACSURL())
	sp := &csaml.ServiceProvider{
		EntityID:    s.EntityID(),
		Key:         k.Key,
		Certificate: k.Cert,
		MetadataURL: *meta,
		AcsURL:      *acs,
		// A persistent or e-mail NameID is the person's subject; an IdP
		// that must choose picks one of its own (not transient).
		AuthnNameIDFormat:                csaml.UnspecifiedNameIDFormat,
		AssertionConsumerServiceBindings: []string{csaml.HTTPPostBinding},
		RejectSHA1Signatures:             true,
		Clock:                            dsig.NewFakeClockAt(now),
		// IdPs keep the SP metadata they were given: no validUntil to
		// run out (cacheDuration instead).
		MetadataOmitValidUntil: true,
	}
	if set != nil {
		sp.IDPMetadata = set.idp
		sp.AllowIDPInitiated = set.allowIdPInitiated
	}
	return sp, nil
}

// spKey returns the SP's signing key and certificate, generating and
// storing them on first use: an RSA 2048 key (the size every IdP accepts
// for XML encryption) with a self-signed certificate valid for 20 years,
// as IdPs take SP certificates from metadata as keys, not as a chain of
// trust. Replicas that generate at once each store one; all then use the
// oldest.
func (s *Service) spKey(ctx context.Context) (*samlkey.Pair, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.key != nil {
		return s.key, nil
	}
	set := samlkey.Set{
		Kind: samlkey.Kind{
			Purpose:      keyPurpose,
			Role:         "SAML SP",
			AD:           "gatehouse/saml/sp-key/",
			Organization: "Gatehouse SAML service provider",
			Years:        20,
			Usage:        x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		},
		Store: s.Store, Ring: s.Keys, BaseURL: s.BaseURL, Now: s.Now, Rand: s.Rand,
	}
	ks, err := set.List(ctx)
	if err != nil {
		return nil, err
	}
	k, err := set.Open(ks[0])
	if err != nil {
		return nil, err
	}
	s.key = k
	return s.key, nil
}

// shortHash names a request cookie after its request ID.
func shortHash(v string) string {
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:8])
}
