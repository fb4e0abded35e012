// Package samltest runs a real SAML 2.0 identity provider in the test
// process, built from github.com/crewjam/saml's IdentityProvider, to stand
// in for Okta or Entra ID in Gatehouse's tests: its own sign-in form,
// SP-initiated (HTTP-Redirect in, HTTP-POST out) and IdP-initiated
// sign-in, signed (and, when the SP publishes an encryption key,
// encrypted) assertions, with Entra ID's or Okta's attribute names.
package samltest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/xml"
	"fmt"
	"html"
	"io"
	"maps"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	csaml "github.com/crewjam/saml"
)

// User is a person known only to the IdP.
type User struct {
	UserName, Password string
	// NameID is the assertion's subject (format NameIDFormat, default
	// persistent); empty uses UserName with the e-mail address format.
	NameID, NameIDFormat                      string
	Email, GivenName, FamilyName, DisplayName string
	Groups                                    []string
	// AuthnContextClassRef is asserted in the AuthnStatement (default
	// PasswordProtectedTransport).
	AuthnContextClassRef string
	// Extra are more attributes, by name (Entra ID's groups.link, say).
	Extra map[string][]string
}

// Attribute name styles.
const (
	// Entra sends Microsoft's claim URIs.
	Entra = "entra"
	// Okta sends the short names Okta's attribute statements are usually
	// given (email, firstName, lastName, groups).
	Okta = "okta"
)

// IdP is a running identity provider.
type IdP struct {
	*csaml.IdentityProvider
	Server *httptest.Server
	// URL is the IdP's base URL; its metadata is at URL+"/metadata".
	URL string
	// Style is Entra (default) or Okta.
	Style string
	// SessionLifetime, when positive, sets SessionNotOnOrAfter that far
	// after the sign-in.
	SessionLifetime time.Duration
	// Encrypt encrypts assertions to the SP's encryption key (as Okta and
	// Entra ID do when asked); set it before TrustSP.
	Encrypt bool
	// Key and Cert sign the IdP's messages.
	Key  *rsa.PrivateKey
	Cert *x509.Certificate

	mu       sync.Mutex
	users    map[string]User
	sessions map[string]string // cookie value -> user name
	sps      map[string]*csaml.EntityDescriptor
}

// New starts an IdP; it stops at the end of the test.
func New(t testing.TB) *IdP {
	t.Helper()
	key, cert := KeyPair(t, "idp.test")
	i := &IdP{Key: key, Cert: cert, Style: Entra, users: map[string]User{}, sessions: map[string]string{}, sps: map[string]*csaml.EntityDescriptor{}}
	mux := http.NewServeMux()
	i.Server = httptest.NewServer(mux)
	t.Cleanup(i.Server.Close)
	i.URL = i.Server.URL
	base, _ := url.Parse(i.URL)
	i.IdentityProvider = &csaml.IdentityProvider{
		Key: key, Certificate: cert,
		MetadataURL:             *base.JoinPath("metadata"),
		SSOURL:                  *base.JoinPath("sso"),
		ServiceProviderProvider: i,
		SessionProvider:         i,
		AssertionMaker:          i,
	}
	mux.HandleFunc("GET /metadata", i.ServeMetadata)
	mux.HandleFunc("/sso", i.ServeSSO)
	mux.HandleFunc("POST /login", i.login)
	mux.HandleFunc("GET /start", func(w http.ResponseWriter, r *http.Request) {
		i.ServeIDPInitiated(w, r, r.URL.Query().Get("sp"), r.URL.Query().Get("RelayState"))
	})
	return i
}

// KeyPair makes an RSA key with a self-signed certificate.
func KeyPair(t testing.TB, cn string) (*rsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return key, cert
}

// MetadataXML returns the IdP's metadata document.
func (i *IdP) MetadataXML(t testing.TB) string {
	t.Helper()
	b, err := xml.MarshalIndent(i.Metadata(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// AddUser adds a person.
func (i *IdP) AddUser(u User) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.users[u.UserName] = u
}

// TrustSP fetches the service provider's metadata from metadataURL and
// registers it, as an administrator does in the IdP's console.
func (i *IdP) TrustSP(t testing.TB, metadataURL string) {
	t.Helper()
	i.Trust(i.SPMetadata(t, metadataURL))
}

// SPMetadata fetches a service provider's metadata, to edit before Trust.
func (i *IdP) SPMetadata(t testing.TB, metadataURL string) *csaml.EntityDescriptor {
	t.Helper()
	resp, err := http.Get(metadataURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("SP metadata: %d %s", resp.StatusCode, b)
	}
	var ed csaml.EntityDescriptor
	if err := xml.Unmarshal(b, &ed); err != nil {
		t.Fatalf("SP metadata: %v\n%s", err, b)
	}
	return &ed
}

// Trust registers a service provider by its metadata. Unless Encrypt is
// set, its encryption keys are left out, so assertions go unencrypted.
func (i *IdP) Trust(ed *csaml.EntityDescriptor) {
	if !i.Encrypt {
		for k := range ed.SPSSODescriptors {
			var kds []csaml.KeyDescriptor
			for _, kd := range ed.SPSSODescriptors[k].KeyDescriptors {
				if kd.Use != "encryption" {
					kds = append(kds, kd)
				}
			}
			ed.SPSSODescriptors[k].KeyDescriptors = kds
		}
	}
	i.mu.Lock()
	i.sps[ed.EntityID] = ed
	i.mu.Unlock()
}

// GetServiceProvider implements csaml.ServiceProviderProvider.
func (i *IdP) GetServiceProvider(_ *http.Request, id string) (*csaml.EntityDescriptor, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if ed := i.sps[id]; ed != nil {
		return ed, nil
	}
	return nil, os.ErrNotExist
}

const sessionCookie = "idp_session"

// GetSession implements csaml.SessionProvider: the signed-in person, or
// the IdP's sign-in form, which comes back to this URL.
func (i *IdP) GetSession(w http.ResponseWriter, r *http.Request, _ *csaml.IdpAuthnRequest) *csaml.Session {
	if c, err := r.Cookie(sessionCookie); err == nil {
		i.mu.Lock()
		name, ok := i.sessions[c.Value]
		u := i.users[name]
		i.mu.Unlock()
		if ok {
			now := time.Now()
			s := &csaml.Session{ID: c.Value, CreateTime: now, ExpireTime: now.Add(time.Hour), Index: c.Value,
				NameID: u.NameID, NameIDFormat: u.NameIDFormat, UserName: u.UserName, AuthnContextClassRef: u.AuthnContextClassRef}
			if s.NameID == "" {
				s.NameID, s.NameIDFormat = u.UserName, string(csaml.EmailAddressNameIDFormat)
			}
			if s.NameIDFormat == "" {
				s.NameIDFormat = string(csaml.PersistentNameIDFormat)
			}
			return s
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, `<html><body><h1>Test IdP sign-in</h1><form method="post" action="/login">`+
		`<input type="hidden" name="return" value="%s">`+
		`<input id="idp_username" name="idp_username" value=""><input id="idp_password" type="password" name="idp_password" value="">`+
		`<button id="idp_signin" type="submit">Sign in at the IdP</button></form></body></html>`, html.EscapeString(r.URL.RequestURI()))
	return nil
}

func (i *IdP) login(w http.ResponseWriter, r *http.Request) {
	i.mu.Lock()
	u, ok := i.users[r.PostFormValue("idp_username")]
	i.mu.Unlock()
	if !ok || u.Password != r.PostFormValue("idp_password") {
		http.Error(w, "wrong user name or password", http.StatusForbidden)
		return
	}
	v := rand.Text()
	i.mu.Lock()
	i.sessions[v] = u.UserName
	i.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: v, Path: "/", HttpOnly: true})
	ret := r.PostFormValue("return")
	if !strings.HasPrefix(ret, "/") || strings.HasPrefix(ret, "//") {
		ret = "/"
	}
	http.Redirect(w, r, ret, http.StatusFound)
}

// MakeAssertion implements csaml.AssertionMaker: crewjam's default
// assertion, with the person's attributes under the Style's names and
// SessionNotOnOrAfter when SessionLifetime is set.
func (i *IdP) MakeAssertion(req *csaml.IdpAuthnRequest, s *csaml.Session) error {
	i.mu.Lock()
	u := i.users[s.UserName]
	i.mu.Unlock()
	names := map[string]string{
		"email": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress", "given": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
		"family": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname", "display": "http://schemas.microsoft.com/identity/claims/displayname",
		"groups": "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups",
	}
	if i.Style == Okta {
		names = map[string]string{"email": "email", "given": "firstName", "family": "lastName", "display": "displayName", "groups": "groups"}
	}
	attr := func(name string, vs ...string) {
		if len(vs) == 0 || (len(vs) == 1 && vs[0] == "") {
			return
		}
		a := csaml.Attribute{Name: name, NameFormat: "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified"}
		if strings.HasPrefix(name, "http") {
			a.NameFormat = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
		}
		for _, v := range vs {
			a.Values = append(a.Values, csaml.AttributeValue{Type: "xs:string", Value: v})
		}
		s.CustomAttributes = append(s.CustomAttributes, a)
	}
	s.UserName = "" // only the Style's attributes, not crewjam's LDAP OIDs
	attr(names["email"], u.Email)
	attr(names["given"], u.GivenName)
	attr(names["family"], u.FamilyName)
	attr(names["display"], u.DisplayName)
	attr(names["groups"], u.Groups...)
	for _, n := range slices.Sorted(maps.Keys(u.Extra)) {
		attr(n, u.Extra[n]...)
	}
	if err := (csaml.DefaultAssertionMaker{}).MakeAssertion(req, s); err != nil {
		return err
	}
	if i.SessionLifetime > 0 {
		t := req.Now.Add(i.SessionLifetime)
		for k := range req.Assertion.AuthnStatements {
			req.Assertion.AuthnStatements[k].SessionNotOnOrAfter = &t
		}
	}
	return nil
}

var (
	formRe  = regexp.MustCompile(`(?is)<form\b[^>]*action="([^"]*)"[^>]*>(.*?)</form>`)
	inputRe = regexp.MustCompile(`(?is)<input\b[^>]*name="([^"]*)"[^>]*value="([^"]*)"`)
)

// PostForm reads the auto-submitting form an IdP page carries (the SAML
// response for the ACS): its action and fields.
func PostForm(page string) (action string, fields url.Values, ok bool) {
	m := formRe.FindStringSubmatch(page)
	if m == nil {
		return "", nil, false
	}
	fields = url.Values{}
	for _, in := range inputRe.FindAllStringSubmatch(m[2], -1) {
		fields.Set(html.UnescapeString(in[1]), html.UnescapeString(in[2]))
	}
	return html.UnescapeString(m[1]), fields, fields.Get("SAMLResponse") != ""
}
