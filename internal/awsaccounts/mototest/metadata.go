package mototest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/xml"
	"math/big"
	"net/url"
	"testing"
	"time"

	"github.com/crewjam/saml"
)

// IdPMetadata returns a real SAML IdP metadata document, made by
// crewjam/saml's IdentityProvider for a fresh self-signed key, for tests
// that register a SAML provider in the stand-in before Gatehouse's own IdP
// is wired (IAM's CreateSAMLProvider wants a document of at least 1000
// characters).
func IdPMetadata(t testing.TB, base string) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "gatehouse test IdP"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	meta, _ := url.Parse(base + "/saml/metadata")
	sso, _ := url.Parse(base + "/saml/sso")
	idp := saml.IdentityProvider{Key: key, Certificate: cert, MetadataURL: *meta, SSOURL: *sso}
	b, err := xml.MarshalIndent(idp.Metadata(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
