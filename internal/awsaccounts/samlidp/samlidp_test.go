package samlidp_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	csaml "github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/gatehouse-dev/gatehouse/internal/awsaccounts/samlidp"
	"github.com/gatehouse-dev/gatehouse/internal/domaintest"
	"github.com/gatehouse-dev/gatehouse/internal/keyring"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

const (
	roleARN     = "arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Dev_0123456789abcdef"
	providerARN = "arn:aws:iam::111111111111:saml-provider/Gatehouse"
)

// clock is a settable clock.
type clock struct{ t atomic.Int64 }

func (c *clock) now() time.Time   { return time.Unix(0, c.t.Load()).UTC() }
func (c *clock) set(t time.Time)  { c.t.Store(t.UnixNano()) }
func newClock(t time.Time) *clock { c := &clock{}; c.set(t); return c }

func newIdP(t *testing.T, now func() time.Time) (*samlidp.IdP, store.Store) {
	t.Helper()
	w := domaintest.New(t)
	master := make([]byte, keyring.MasterKeySize)
	rand.Read(master)
	keys, err := keyring.Open(t.Context(), w.Store, master, rand.Reader, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	return &samlidp.IdP{Store: w.Store, Keys: keys, BaseURL: "https://gatehouse.example.com", Now: now}, w.Store
}

// awsSP is AWS's sign-in endpoint as a SAML relying party: entity ID,
// audience and ACS https://signin.aws.amazon.com/saml, trusting the
// certificates of metadata, with the clock at now.
func awsSP(t *testing.T, metadata string, now time.Time) *csaml.ServiceProvider {
	t.Helper()
	var ed csaml.EntityDescriptor
	if err := xml.Unmarshal([]byte(metadata), &ed); err != nil {
		t.Fatalf("parse IdP metadata: %v\n%s", err, metadata)
	}
	acs, _ := url.Parse(samlidp.AWSAudience)
	return &csaml.ServiceProvider{
		EntityID: samlidp.AWSAudience, AcsURL: *acs, MetadataURL: *acs, IDPMetadata: &ed,
		AllowIDPInitiated: true, RejectSHA1Signatures: true, Clock: dsig.NewFakeClockAt(now),
	}
}

func parse(sp *csaml.ServiceProvider, resp []byte) (*csaml.Assertion, error) {
	return sp.ParseXMLResponse(resp, nil, sp.AcsURL)
}

func attrs(a *csaml.Assertion) map[string][]string {
	m := map[string][]string{}
	for _, st := range a.AttributeStatements {
		for _, at := range st.Attributes {
			for _, v := range at.Values {
				m[at.Name] = append(m[at.Name], v.Value)
			}
		}
	}
	return m
}

func request() samlidp.Request {
	return samlidp.Request{
		RoleARN: roleARN, ProviderARN: providerARN, UserName: "alice@example.com",
		SessionDuration: 4 * time.Hour,
		Tags:            []samlidp.Tag{{"Email", "alice@example.com"}, {"UserId", "9067d2a8-1234"}},
	}
}

// TestAssertionValidatesAsAWS checks the Response against crewjam's
// service provider configured as AWS's sign-in endpoint, and every
// attribute AWS reads.
func TestAssertionValidatesAsAWS(t *testing.T) {
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	idp, _ := newIdP(t, newClock(now).now)
	md, err := idp.Metadata(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md, `entityID="https://gatehouse.example.com/saml/idp"`) || strings.Contains(md, "validUntil") {
		t.Fatalf("metadata:\n%s", md)
	}
	resp, err := idp.Response(t.Context(), request())
	if err != nil {
		t.Fatal(err)
	}
	a, err := parse(awsSP(t, md, now.Add(time.Minute)), resp)
	if err != nil {
		t.Fatalf("AWS-configured SP refused the response: %v\n%s", err, resp)
	}
	if a.Issuer.Value != idp.EntityID() || a.Subject.NameID.Value != "alice@example.com" ||
		a.Subject.NameID.Format != string(csaml.PersistentNameIDFormat) {
		t.Fatalf("issuer %q, NameID %+v", a.Issuer.Value, a.Subject.NameID)
	}
	if got := a.Conditions.NotOnOrAfter.Sub(now); got != samlidp.Lifetime {
		t.Fatalf("NotOnOrAfter is %s after issue, want %s", got, samlidp.Lifetime)
	}
	// The session may last the permission set's duration: AWS ends the
	// credentials at SessionNotOnOrAfter if it is sooner.
	if end := a.AuthnStatements[0].SessionNotOnOrAfter; end == nil || !end.Equal(now.Add(4*time.Hour)) {
		t.Fatalf("SessionNotOnOrAfter = %v, want %s", end, now.Add(4*time.Hour))
	}
	sc := a.Subject.SubjectConfirmations[0].SubjectConfirmationData
	if sc.Recipient != samlidp.AWSAudience {
		t.Fatalf("Recipient = %q", sc.Recipient)
	}
	if !bytes.Contains(resp, []byte(`Destination="https://signin.aws.amazon.com/saml"`)) {
		t.Fatal("the Response has no AWS Destination")
	}
	got := attrs(a)
	want := map[string]string{
		"Role":                roleARN + "," + providerARN,
		"RoleSessionName":     "alice@example.com",
		"SourceIdentity":      "alice@example.com",
		"SessionDuration":     "14400",
		"PrincipalTag:Email":  "alice@example.com",
		"PrincipalTag:UserId": "9067d2a8-1234",
	}
	for k, v := range want {
		if vs := got[samlidp.AttributePrefix+k]; len(vs) != 1 || vs[0] != v {
			t.Errorf("attribute %s = %q, want [%q]", k, vs, v)
		}
	}
	// Each response has fresh IDs.
	resp2, err := idp.Response(t.Context(), request())
	if err != nil {
		t.Fatal(err)
	}
	a2, err := parse(awsSP(t, md, now), resp2)
	if err != nil {
		t.Fatal(err)
	}
	if a2.ID == a.ID {
		t.Fatalf("two assertions share ID %s", a.ID)
	}
}

// TestTamperedAssertionsAreRefused: the relying party refuses a changed
// Role, a changed audience, a response signed by another key and an
// expired one.
func TestTamperedAssertionsAreRefused(t *testing.T) {
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	idp, _ := newIdP(t, newClock(now).now)
	md, err := idp.Metadata(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := idp.Response(t.Context(), request())
	if err != nil {
		t.Fatal(err)
	}
	other, _ := newIdP(t, newClock(now).now)
	forged, err := other.Response(t.Context(), request())
	if err != nil {
		t.Fatal(err)
	}
	replace := func(old, new string) []byte {
		t.Helper()
		if !bytes.Contains(resp, []byte(old)) {
			t.Fatalf("response lacks %q", old)
		}
		return bytes.ReplaceAll(resp, []byte(old), []byte(new))
	}
	cases := []struct {
		name string
		resp []byte
		at   time.Time
	}{
		{"role changed", replace("AWSReservedSSO_Dev_", "AWSReservedSSO_Adm_"), now},
		{"audience changed", replace("<saml:Audience>"+samlidp.AWSAudience, "<saml:Audience>https://evil.example.com/saml"), now},
		{"signed by another key", forged, now},
		{"expired", resp, now.Add(samlidp.Lifetime + csaml.MaxClockSkew + time.Second)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := parse(awsSP(t, md, c.at), c.resp)
			if err == nil {
				t.Fatal("the relying party accepted it")
			}
			t.Logf("refused: %v", errors.Unwrap(err))
		})
	}
	// The untampered one passes with the same SP setup.
	if _, err := parse(awsSP(t, md, now), resp); err != nil {
		t.Fatal(err)
	}
}

// TestRotation: the new certificate is published before it signs, the
// old key is retired (its material erased) after, and a failed
// publication leaves the old key signing.
func TestRotation(t *testing.T) {
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	idp, st := newIdP(t, newClock(now).now)
	ctx := t.Context()
	oldMD, err := idp.Metadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Without a publisher, rotation is refused while an account is linked.
	if err := st.Update(ctx, func(tx store.Tx) error {
		return tx.PutAccountLink(ctx, &store.AccountLink{AccountID: "111111111111", Region: "us-east-1", Status: store.LinkActive,
			CreatedAt: now, UpdatedAt: now})
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := idp.Rotate(ctx); !errors.Is(err, samlidp.ErrNoPublisher) {
		t.Fatalf("Rotate without publisher = %v, want ErrNoPublisher", err)
	}
	// A failed publication: the old key keeps signing.
	var published []string
	fail := true
	idp.Publish = func(ctx context.Context) error {
		md, err := idp.Metadata(ctx)
		if err != nil {
			return err
		}
		published = append(published, md)
		if fail {
			return errors.New("AccessDenied: iam:UpdateSAMLProvider")
		}
		return nil
	}
	if _, err := idp.Rotate(ctx); err == nil || !strings.Contains(err.Error(), "pending") {
		t.Fatalf("Rotate with failing publication = %v", err)
	}
	resp, err := idp.Response(ctx, request())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parse(awsSP(t, oldMD, now), resp); err != nil {
		t.Fatalf("after a failed rotation the old key should still sign: %v", err)
	}
	if n := nCerts(t, published[0]); n != 2 {
		t.Fatalf("the first publication should list both certificates:\n%s", published[0])
	}
	// Now it succeeds: two publications, the first with both certificates.
	fail = false
	published = nil
	newID, err := idp.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(published) != 2 || nCerts(t, published[0]) != 2 || nCerts(t, published[1]) != 1 {
		t.Fatalf("%d publications, want 2: the first with both certificates, the second with the new one", len(published))
	}
	infos, err := idp.KeyInfos(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var signing, retired int
	for _, k := range infos {
		switch k.State {
		case samlidp.StateSigning:
			signing++
			if k.ID != newID {
				t.Fatalf("signing key %s, want %s", k.ID, newID)
			}
		case samlidp.StateRetired:
			retired++
		}
	}
	if signing != 1 || retired != 1 || len(infos) != 2 {
		t.Fatalf("keys after rotation: %+v", infos)
	}
	ks, _ := st.ListKeys(ctx, samlidp.KeyPurpose)
	for _, k := range ks {
		if k.ID != newID && len(k.Sealed) != 0 {
			t.Fatalf("retired key %s still holds its material", k.ID)
		}
	}
	resp, err = idp.Response(ctx, request())
	if err != nil {
		t.Fatal(err)
	}
	// Signed by the new key: trusted by the metadata of the first
	// publication (both certificates) and the final one, not the old one.
	if _, err := parse(awsSP(t, published[0], now), resp); err != nil {
		t.Fatalf("metadata with both certificates refused the new signature: %v", err)
	}
	if _, err := parse(awsSP(t, published[1], now), resp); err != nil {
		t.Fatalf("final metadata refused the new signature: %v", err)
	}
	if _, err := parse(awsSP(t, oldMD, now), resp); err == nil {
		t.Fatal("the old certificate verified a signature by the new key")
	}
	final, _ := idp.Metadata(ctx)
	if final != published[1] || strings.Contains(final, certOf(t, oldMD)) {
		t.Fatal("the final metadata still lists the retired certificate")
	}
}

// certOf returns the first certificate in metadata md.
func certOf(t *testing.T, md string) string {
	t.Helper()
	var ed csaml.EntityDescriptor
	if err := xml.Unmarshal([]byte(md), &ed); err != nil {
		t.Fatal(err)
	}
	c := ed.IDPSSODescriptors[0].KeyDescriptors[0].KeyInfo.X509Data.X509Certificates[0].Data
	if _, err := base64.StdEncoding.DecodeString(c); err != nil {
		t.Fatal(err)
	}
	return c
}

// nCerts counts the signing certificates in metadata md.
func nCerts(t *testing.T, md string) int {
	t.Helper()
	var ed csaml.EntityDescriptor
	if err := xml.Unmarshal([]byte(md), &ed); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, kd := range ed.IDPSSODescriptors[0].KeyDescriptors {
		if kd.Use == "signing" {
			n += len(kd.KeyInfo.X509Data.X509Certificates)
		}
	}
	return n
}
