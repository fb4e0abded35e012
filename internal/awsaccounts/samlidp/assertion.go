package samlidp

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/beevik/etree"
	csaml "github.com/crewjam/saml"
)

const (
	// AWSAudience is AWS's SAML service provider: the audience, Recipient
	// and Destination of every assertion for AWS (IAM User Guide,
	// "Configuring SAML assertions for the authentication response").
	AWSAudience = "https://signin.aws.amazon.com/saml"
	// AttributePrefix starts the names of the attributes AWS reads.
	AttributePrefix = "https://aws.amazon.com/SAML/Attributes/"
	// Lifetime is how long an assertion may be used: AssumeRoleWithSAML
	// follows at once, so five minutes covers clock skew and no more.
	Lifetime = 5 * time.Minute
)

// Tag is one PrincipalTag attribute: a session tag AWS sets from the
// assertion (IAM User Guide, "Passing session tags using
// AssumeRoleWithSAML"), usable in policies as aws:PrincipalTag/<Key>.
type Tag struct{ Key, Value string }

// Request is what an assertion says.
type Request struct {
	// RoleARN is the role to assume and ProviderARN the account's SAML
	// provider (arn:aws:iam::<account>:saml-provider/<name>).
	RoleARN, ProviderARN string
	// UserName is the NameID; SessionName(UserName) is the
	// RoleSessionName and the SourceIdentity.
	UserName string
	// SessionDuration is the permission set's session duration; AWS caps
	// it at the role's MaxSessionDuration. Zero leaves it out.
	SessionDuration time.Duration
	// AuthTime is when the person signed in (AuthnInstant); zero is now.
	AuthTime time.Time
	// Tags become PrincipalTag:<Key> attributes (at most 50, as AWS
	// allows; keys and values are cleaned to AWS's tag characters).
	Tags []Tag
}

// Response returns a signed SAML Response around a signed Assertion for
// r, as XML. Every call has fresh Response and Assertion IDs; the
// assertion is valid from now for Lifetime.
func (p *IdP) Response(ctx context.Context, r Request) ([]byte, error) {
	if r.RoleARN == "" || r.ProviderARN == "" || r.UserName == "" {
		return nil, errors.New("SAML assertion: role ARN, provider ARN and user name are required")
	}
	sk, _, err := p.signer(ctx)
	if err != nil {
		return nil, err
	}
	if sk == nil {
		return nil, errors.New("SAML assertion: no signing key")
	}
	now := p.now().Truncate(time.Second)
	entity, err := url.Parse(p.EntityID())
	if err != nil {
		return nil, fmt.Errorf("SAML IdP entity ID: %w", err)
	}
	idp := &csaml.IdentityProvider{Key: sk.Key, Certificate: sk.Cert, MetadataURL: *entity}
	aid, err := p.newID()
	if err != nil {
		return nil, err
	}
	auth := r.AuthTime.UTC()
	if auth.IsZero() || auth.After(now) {
		auth = now
	}
	until := now.Add(Lifetime)
	session := SessionName(r.UserName)
	attrs := []csaml.Attribute{
		attr("Role", r.RoleARN+","+r.ProviderARN),
		attr("RoleSessionName", session),
		attr("SourceIdentity", session),
	}
	if r.SessionDuration > 0 {
		attrs = append(attrs, attr("SessionDuration", strconv.Itoa(int(r.SessionDuration/time.Second))))
	}
	for i, t := range r.Tags {
		if i == 50 {
			break
		}
		k, v := tagText(t.Key, 128), tagText(t.Value, 256)
		if k == "" {
			continue
		}
		attrs = append(attrs, attr("PrincipalTag:"+k, v))
	}
	// AWS ends the credentials at the sooner of DurationSeconds and the
	// AuthnStatement's SessionNotOnOrAfter (STS API Reference,
	// AssumeRoleWithSAML): it carries the session's end, not the
	// assertion's.
	var sessionEnd *time.Time
	if r.SessionDuration > 0 {
		end := now.Add(r.SessionDuration)
		sessionEnd = &end
	}
	a := &csaml.Assertion{
		ID: aid, IssueInstant: now, Version: "2.0",
		Issuer: csaml.Issuer{Format: "urn:oasis:names:tc:SAML:2.0:nameid-format:entity", Value: p.EntityID()},
		Subject: &csaml.Subject{
			NameID: &csaml.NameID{Format: string(csaml.PersistentNameIDFormat), NameQualifier: p.EntityID(),
				SPNameQualifier: AWSAudience, Value: r.UserName},
			SubjectConfirmations: []csaml.SubjectConfirmation{{
				Method:                  "urn:oasis:names:tc:SAML:2.0:cm:bearer",
				SubjectConfirmationData: &csaml.SubjectConfirmationData{NotOnOrAfter: until, Recipient: AWSAudience},
			}},
		},
		Conditions: &csaml.Conditions{
			NotBefore: now, NotOnOrAfter: until,
			AudienceRestrictions: []csaml.AudienceRestriction{{Audience: csaml.Audience{Value: AWSAudience}}},
		},
		AuthnStatements: []csaml.AuthnStatement{{
			AuthnInstant: auth, SessionIndex: aid, SessionNotOnOrAfter: sessionEnd,
			AuthnContext: csaml.AuthnContext{AuthnContextClassRef: &csaml.AuthnContextClassRef{
				Value: "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"}},
		}},
		AttributeStatements: []csaml.AttributeStatement{{Attributes: attrs}},
	}
	req := &csaml.IdpAuthnRequest{
		IDP: idp, Now: now, Assertion: a,
		SPSSODescriptor: &csaml.SPSSODescriptor{},
		ACSEndpoint:     &csaml.IndexedEndpoint{Binding: csaml.HTTPPostBinding, Location: AWSAudience},
	}
	if err := req.MakeResponse(); err != nil {
		return nil, fmt.Errorf("sign SAML response: %w", err)
	}
	doc := etree.NewDocument()
	doc.SetRoot(req.ResponseEl)
	out, err := doc.WriteToBytes()
	if err != nil {
		return nil, fmt.Errorf("write SAML response: %w", err)
	}
	return out, nil
}

// EncodedResponse is Response in base64, as AssumeRoleWithSAML's
// SAMLAssertion takes it.
func (p *IdP) EncodedResponse(ctx context.Context, r Request) (string, error) {
	b, err := p.Response(ctx, r)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

func attr(name, value string) csaml.Attribute {
	return csaml.Attribute{
		Name: AttributePrefix + name, NameFormat: "urn:oasis:names:tc:SAML:2.0:attrname-format:uri",
		Values: []csaml.AttributeValue{{Type: "xs:string", Value: value}},
	}
}

// newID makes an XML ID (an NCName: it starts with a letter).
func (p *IdP) newID() (string, error) {
	b := make([]byte, 20)
	if _, err := io.ReadFull(p.rand(), b); err != nil {
		return "", fmt.Errorf("SAML ID: %w", err)
	}
	return "id-" + hex.EncodeToString(b), nil
}

// SessionName fits a user name to AWS's RoleSessionName and
// SourceIdentity: 2 to 64 of [A-Za-z0-9_+=,.@-] (STS API Reference,
// AssumeRoleWithSAML). A name that fits is its own session name, as in IAM
// Identity Center; any other is the name with other characters as '-', cut
// to 51, then '-' and 12 hex digits of the SHA-256 of the whole name, so
// that two users do not share a session name: a revocation denies
// sessions by it (package awsaccounts), and CloudTrail shows it as the
// SourceIdentity.
func SessionName(name string) string {
	var b strings.Builder
	fits := len(name) >= 2 && len(name) <= 64
	for _, c := range name {
		if c < unicode.MaxASCII && (unicode.IsLetter(c) || unicode.IsDigit(c)) || strings.ContainsRune("_+=,.@-", c) {
			b.WriteRune(c)
		} else {
			b.WriteByte('-')
			fits = false
		}
	}
	if fits {
		return name
	}
	s := b.String()
	if len(s) > 51 {
		s = s[:51]
	}
	h := sha256.Sum256([]byte(name))
	return s + "-" + hex.EncodeToString(h[:6])
}

// tagText fits s to AWS's tag characters (letters, digits, spaces and
// _.:/=+-@) and length n (IAM User Guide, "Tagging IAM resources": keys
// 128, values 256 characters).
func tagText(s string, n int) string {
	var b []rune
	for _, c := range s {
		if len(b) == n {
			break
		}
		if unicode.IsLetter(c) || unicode.IsDigit(c) || unicode.IsSpace(c) || strings.ContainsRune("_.:/=+-@", c) {
			b = append(b, c)
		} else {
			b = append(b, '-')
		}
	}
	return string(b)
}

// Metadata returns the IdP metadata: entity ID EntityID, the certificate
// of every signing and pending key as a signing KeyDescriptor (so that a
// rotation is trusted before it signs), persistent and transient NameID
// formats, and the portal as the single sign-on location. It has no
// validUntil: AWS keeps a provider's metadata until it is updated.
func (p *IdP) Metadata(ctx context.Context) (string, error) {
	_, certs, err := p.signer(ctx)
	if err != nil {
		return "", err
	}
	kds := make([]csaml.KeyDescriptor, 0, len(certs))
	for _, c := range certs {
		kds = append(kds, csaml.KeyDescriptor{Use: "signing", KeyInfo: csaml.KeyInfo{X509Data: csaml.X509Data{
			X509Certificates: []csaml.X509Certificate{{Data: base64.StdEncoding.EncodeToString(c.Raw)}}}}})
	}
	no := false
	ed := csaml.EntityDescriptor{
		EntityID: p.EntityID(),
		IDPSSODescriptors: []csaml.IDPSSODescriptor{{
			SSODescriptor: csaml.SSODescriptor{
				RoleDescriptor: csaml.RoleDescriptor{
					ProtocolSupportEnumeration: "urn:oasis:names:tc:SAML:2.0:protocol",
					KeyDescriptors:             kds,
				},
				NameIDFormats: []csaml.NameIDFormat{csaml.PersistentNameIDFormat, csaml.TransientNameIDFormat},
			},
			WantAuthnRequestsSigned: &no,
			SingleSignOnServices: []csaml.Endpoint{
				{Binding: csaml.HTTPRedirectBinding, Location: p.BaseURL + "/start"},
				{Binding: csaml.HTTPPostBinding, Location: p.BaseURL + "/start"},
			},
		}},
	}
	b, err := xml.MarshalIndent(ed, "", "  ")
	if err != nil {
		return "", fmt.Errorf("write SAML IdP metadata: %w", err)
	}
	return xml.Header + string(b) + "\n", nil
}
