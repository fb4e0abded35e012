package saml_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/idsource"
	"github.com/gatehouse-dev/gatehouse/internal/idsource/saml"
	"github.com/gatehouse-dev/gatehouse/internal/idsource/saml/samltest"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// world is a Gatehouse server with the SAML source switched on and a
// real IdP that trusts it.
type world struct {
	t      *testing.T
	srv    *servertest.Server
	idp    *samltest.IdP
	offset atomic.Int64 // the server's clock, shifted
}

var ana = samltest.User{UserName: "ana@corp.example", Password: "idp-password", NameID: "00u1ana", Email: "ana@corp.example",
	GivenName: "Ana", FamilyName: "Lima", DisplayName: "Ana Lima", Groups: []string{"engineers", "aws-admins"}}

func newWorld(t *testing.T, settings map[string]string, edit func(*samltest.IdP)) *world {
	t.Helper()
	w := &world{t: t}
	w.srv = servertest.New(t, func(c *config.Config) {
		c.Now = func() time.Time { return time.Now().Add(time.Duration(w.offset.Load())) }
	})
	w.idp = samltest.New(t)
	if edit != nil {
		edit(w.idp)
	}
	w.idp.AddUser(ana)
	if settings == nil {
		settings = map[string]string{}
	}
	if settings[saml.SettingMetadataURL] == "" {
		settings[saml.SettingMetadataXML] = w.idp.MetadataXML(t)
	}
	ctx := w.admin()
	if err := w.srv.Sources.Configure(ctx, idsource.SAML, settings, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := w.srv.Sources.Switch(ctx, idsource.SAML); err != nil {
		t.Fatal(err)
	}
	w.idp.TrustSP(t, w.srv.URL+saml.MetadataPath)
	return w
}

func (w *world) admin() context.Context {
	return audit.WithUser(w.t.Context(), "admin", "admin")
}

// browser follows redirects by hand, so that each hop can be seen.
type browser struct {
	t *testing.T
	c *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type page struct {
	status   int
	url      string
	location string
	body     string
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, url: req.URL.String(), location: resp.Header.Get("Location"), body: string(body)}
}

// get loads rawURL and follows redirects, stopping before stop (a URL
// prefix) when given.
func (b *browser) get(rawURL string) page {
	b.t.Helper()
	for range 10 {
		req, _ := http.NewRequest("GET", rawURL, nil)
		p := b.do(req)
		if p.location == "" {
			return p
		}
		u, _ := url.Parse(rawURL)
		next, _ := u.Parse(p.location)
		rawURL = next.String()
	}
	b.t.Fatalf("too many redirects at %s", rawURL)
	return page{}
}

func (b *browser) post(rawURL string, fields url.Values, origin string) page {
	b.t.Helper()
	req, _ := http.NewRequest("POST", rawURL, strings.NewReader(fields.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin)
	return b.do(req)
}

// idpResponse signs in at the IdP, starting from startURL (Gatehouse's
// /login or the IdP's own /start), and returns the response form the IdP
// gives the browser to post to the ACS.
func (w *world) idpResponse(b *browser, startURL string, u samltest.User) (string, url.Values) {
	w.t.Helper()
	p := b.get(startURL)
	if strings.Contains(p.body, "idp_username") {
		form := url.Values{"idp_username": {u.UserName}, "idp_password": {u.Password}}
		start := strings.Index(p.body, `name="return" value="`) + len(`name="return" value="`)
		ret := p.body[start : start+strings.Index(p.body[start:], `"`)]
		form.Set("return", htmlUnescape(ret))
		lp := b.post(w.idp.URL+"/login", form, w.idp.URL)
		if lp.status != http.StatusFound {
			w.t.Fatalf("IdP sign-in: %d %s", lp.status, lp.body)
		}
		p = b.get(w.idp.URL + lp.location)
	}
	action, fields, ok := samltest.PostForm(p.body)
	if !ok {
		w.t.Fatalf("no SAML response form at %s (%d):\n%s", p.url, p.status, p.body)
	}
	return action, fields
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&#34;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">").Replace(s)
}

func (w *world) spInitiated(b *browser, next string) (string, url.Values) {
	return w.idpResponse(b, w.srv.URL+"/login?next="+url.QueryEscape(next), ana)
}

func (w *world) idpInitiated(b *browser, relay string) (string, url.Values) {
	return w.idpResponse(b, w.idp.URL+"/start?sp="+url.QueryEscape(w.srv.URL+saml.MetadataPath)+"&RelayState="+url.QueryEscape(relay), ana)
}

func (w *world) user(name string) *store.User {
	w.t.Helper()
	u, err := w.srv.Directory.GetUserByName(w.t.Context(), name)
	if err != nil {
		w.t.Fatalf("user %s: %v", name, err)
	}
	return u
}

func (w *world) groupsOf(userID string) []string {
	w.t.Helper()
	ms, err := w.srv.Store.ListMembershipsByUser(w.t.Context(), userID, store.Page{})
	if err != nil {
		w.t.Fatal(err)
	}
	var names []string
	for _, m := range ms {
		g, err := w.srv.Store.GetGroup(w.t.Context(), m.GroupID)
		if err != nil {
			w.t.Fatal(err)
		}
		names = append(names, g.DisplayName)
	}
	slices.Sort(names)
	return names
}

// failures returns the error codes of the refused SAML sign-ins audited.
func (w *world) failures() []string {
	w.t.Helper()
	evs, err := w.srv.Store.ListEvents(w.t.Context(), store.EventFilter{Name: "UserAuthentication", End: time.Now().Add(time.Hour)})
	if err != nil {
		w.t.Fatal(err)
	}
	var codes []string
	for _, e := range evs {
		rec := string(e.Record)
		if strings.Contains(rec, `"identitySource":"saml"`) && strings.Contains(rec, `"errorCode":"`) {
			i := strings.Index(rec, `"errorCode":"`) + len(`"errorCode":"`)
			codes = append(codes, rec[i:i+strings.Index(rec[i:], `"`)])
		}
	}
	return codes
}

func TestSPInitiatedSignIn(t *testing.T) {
	w := newWorld(t, nil, func(i *samltest.IdP) { i.SessionLifetime = 30 * time.Minute })
	mfaAna := ana
	mfaAna.AuthnContextClassRef = "http://schemas.microsoft.com/claims/multipleauthn"
	w.idp.AddUser(mfaAna)
	b := newBrowser(t)
	action, fields := w.spInitiated(b, "/device?user_code=BCDF-GHJK")
	if action != w.srv.URL+saml.ACSPath {
		t.Fatalf("the IdP posts to %s, want the ACS", action)
	}
	p := b.post(action, fields, w.idp.URL)
	if p.status != http.StatusSeeOther || p.location != "/device?user_code=BCDF-GHJK" {
		t.Fatalf("ACS answered %d to %q:\n%s", p.status, p.location, p.body)
	}
	u := w.user("00u1ana") // the NameID is the user name by default
	if u.Name.GivenName != "Ana" || u.Name.FamilyName != "Lima" || u.DisplayName != "Ana Lima" || len(u.Emails) == 0 || u.Emails[0].Value != "ana@corp.example" {
		t.Fatalf("provisioned user = %+v", u)
	}
	if !slices.Contains(u.ExternalIDs, store.ExternalID{Issuer: w.idp.URL + "/metadata", ID: "00u1ana"}) {
		t.Fatalf("external IDs = %+v", u.ExternalIDs)
	}
	if got := w.groupsOf(u.ID); !slices.Equal(got, []string{"aws-admins", "engineers"}) {
		t.Fatalf("groups = %v", got)
	}
	// SessionNotOnOrAfter (30 minutes) caps the portal session (8 hours).
	sess, err := w.srv.Store.ListSessionsByUser(t.Context(), u.ID)
	if err != nil || len(sess) != 1 {
		t.Fatalf("sessions = %+v, %v", sess, err)
	}
	if left := time.Until(sess[0].ExpiresAt); left > 31*time.Minute || left < 28*time.Minute {
		t.Fatalf("portal session ends in %s, want the IdP's 30 minutes", left)
	}
	if !sess[0].MFA {
		t.Fatal("the session does not count the IdP's multipleauthn as MFA")
	}
	// The portal now knows her.
	if p := b.get(w.srv.URL + "/start"); p.status != 200 || !strings.Contains(p.body, "Signed in as <strong>00u1ana</strong>") {
		t.Fatalf("/start after the SAML sign-in: %d", p.status)
	}
	// The request cookie was used up: the same response cannot come back
	// in this browser, and the refusal is audited.
	p = b.post(action, fields, w.idp.URL)
	if p.status != http.StatusBadRequest {
		t.Fatalf("second post of the response = %d", p.status)
	}
	if got := w.failures(); len(got) != 1 {
		t.Fatalf("audited failures = %v", got)
	}
}

func TestIdPInitiatedSignInOktaNames(t *testing.T) {
	w := newWorld(t, map[string]string{saml.SettingUserName: "email"}, func(i *samltest.IdP) { i.Style = samltest.Okta })
	b := newBrowser(t)
	action, fields := w.idpInitiated(b, "/start")
	p := b.post(action, fields, w.idp.URL)
	if p.status != http.StatusSeeOther || p.location != "/start" {
		t.Fatalf("ACS answered %d to %q:\n%s", p.status, p.location, p.body)
	}
	u := w.user("ana@corp.example")
	if u.Name.GivenName != "Ana" || u.Name.FamilyName != "Lima" {
		t.Fatalf("user = %+v", u)
	}
	if got := w.groupsOf(u.ID); !slices.Equal(got, []string{"aws-admins", "engineers"}) {
		t.Fatalf("groups = %v", got)
	}
	// No SessionNotOnOrAfter: the instance's session length.
	sess, _ := w.srv.Store.ListSessionsByUser(t.Context(), u.ID)
	if len(sess) != 1 || time.Until(sess[0].ExpiresAt) < 7*time.Hour || sess[0].MFA {
		t.Fatalf("sessions = %+v", sess)
	}
	// Disabled in Gatehouse: the IdP's word does not enable her.
	if err := w.srv.People.DisableUser(w.admin(), u.ID); err != nil {
		t.Fatal(err)
	}
	b = newBrowser(t)
	action, fields = w.idpInitiated(b, "/start")
	if p := b.post(action, fields, w.idp.URL); p.status != http.StatusForbidden || !strings.Contains(p.body, "disabled") {
		t.Fatalf("disabled user's sign-in = %d:\n%s", p.status, p.body)
	}
	if got := w.failures(); !slices.Equal(got, []string{"UserDisabled"}) {
		t.Fatalf("audited = %v", got)
	}
	if after, _ := w.srv.Store.ListSessionsByUser(t.Context(), u.ID); len(after) != len(sess) {
		t.Fatalf("a disabled user got a session: %d sessions, had %d", len(after), len(sess))
	}
}

func TestEncryptedAssertion(t *testing.T) {
	w := newWorld(t, nil, func(i *samltest.IdP) { i.Encrypt = true })
	b := newBrowser(t)
	action, fields := w.spInitiated(b, "/start")
	raw, _ := base64.StdEncoding.DecodeString(fields.Get("SAMLResponse"))
	if !strings.Contains(string(raw), "EncryptedAssertion") {
		t.Fatal("the IdP did not encrypt the assertion")
	}
	if p := b.post(action, fields, w.idp.URL); p.status != http.StatusSeeOther {
		t.Fatalf("ACS answered %d:\n%s", p.status, p.body)
	}
	w.user("00u1ana")
}

func TestOpenRedirectThroughRelayState(t *testing.T) {
	w := newWorld(t, nil, nil)
	for _, relay := range []string{"https://evil.example", "//evil", `/\evil`, "/start/../\\evil", "javascript:alert(1)"} {
		b := newBrowser(t)
		action, fields := w.idpInitiated(b, relay)
		p := b.post(action, fields, w.idp.URL)
		if p.status != http.StatusSeeOther || p.location != "/start" {
			t.Errorf("RelayState %q: %d to %q, want /start", relay, p.status, p.location)
		}
	}
}

func TestUnsolicitedRefusedWhenIdPInitiatedOff(t *testing.T) {
	w := newWorld(t, map[string]string{saml.SettingAllowIdPInitiated: "false"}, nil)
	b := newBrowser(t)
	action, fields := w.idpInitiated(b, "/start")
	p := b.post(action, fields, w.idp.URL)
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "Sign-in failed") {
		t.Fatalf("unsolicited response = %d:\n%s", p.status, p.body)
	}
	if got := w.failures(); !slices.Equal(got, []string{"UnsolicitedResponse"}) {
		t.Fatalf("audited = %v", got)
	}
	if _, err := w.srv.Directory.GetUserByName(t.Context(), "00u1ana"); err == nil {
		t.Fatal("an unsolicited response created the user")
	}
	// SP-initiated still works.
	b = newBrowser(t)
	action, fields = w.spInitiated(b, "/start")
	if p := b.post(action, fields, w.idp.URL); p.status != http.StatusSeeOther {
		t.Fatalf("SP-initiated with IdP-initiated off = %d:\n%s", p.status, p.body)
	}
	// A response for this browser's request, posted from another browser,
	// answers none of that one's requests.
	action, fields = w.spInitiated(newBrowser(t), "/start")
	if p := newBrowser(t).post(action, fields, w.idp.URL); p.status != http.StatusBadRequest {
		t.Fatalf("response posted from another browser = %d", p.status)
	}
}

func TestReplayedAssertion(t *testing.T) {
	w := newWorld(t, nil, nil)
	b := newBrowser(t)
	action, fields := w.idpInitiated(b, "/start")
	if p := b.post(action, fields, w.idp.URL); p.status != http.StatusSeeOther {
		t.Fatalf("first use = %d:\n%s", p.status, p.body)
	}
	for _, c := range []*browser{b, newBrowser(t)} {
		if p := c.post(action, fields, w.idp.URL); p.status != http.StatusBadRequest {
			t.Fatalf("replay = %d", p.status)
		}
	}
	if got := w.failures(); !slices.Equal(got, []string{"AssertionReplayed", "AssertionReplayed"}) {
		t.Fatalf("audited = %v", got)
	}
}

func TestWrongAudienceAndRecipient(t *testing.T) {
	w := newWorld(t, nil, nil)
	// The IdP issues for another SP whose ACS is Gatehouse's (audience
	// wrong) and for Gatehouse under another ACS URL (recipient wrong).
	other := w.idp.SPMetadata(t, w.srv.URL+saml.MetadataPath)
	other.EntityID = "https://other-sp.example/saml/metadata"
	w.idp.Trust(other)
	elsewhere := w.idp.SPMetadata(t, w.srv.URL+saml.MetadataPath)
	elsewhere.EntityID = "https://gatehouse-elsewhere.example/saml/metadata"
	for k := range elsewhere.SPSSODescriptors[0].AssertionConsumerServices {
		elsewhere.SPSSODescriptors[0].AssertionConsumerServices[k].Location = "https://evil.example/saml/acs"
	}
	w.idp.Trust(elsewhere)
	cases := []struct{ sp, want string }{
		{other.EntityID, "AudienceMismatch"},
		{elsewhere.EntityID, "RecipientMismatch"},
	}
	for _, c := range cases {
		b := newBrowser(t)
		_, fields := w.idpResponse(b, w.idp.URL+"/start?sp="+url.QueryEscape(c.sp), ana)
		if p := b.post(w.srv.URL+saml.ACSPath, fields, w.idp.URL); p.status != http.StatusBadRequest {
			t.Fatalf("%s: ACS answered %d", c.want, p.status)
		}
	}
	// The recipient case has the wrong audience too; which check speaks
	// first is the library's, both are refusals.
	got := w.failures()
	if len(got) != 2 || got[0] != "AudienceMismatch" || (got[1] != "RecipientMismatch" && got[1] != "AudienceMismatch") {
		t.Fatalf("audited = %v", got)
	}
}

func TestRecipientMismatchSameAudience(t *testing.T) {
	w := newWorld(t, nil, nil)
	ed := w.idp.SPMetadata(t, w.srv.URL+saml.MetadataPath)
	for k := range ed.SPSSODescriptors[0].AssertionConsumerServices {
		ed.SPSSODescriptors[0].AssertionConsumerServices[k].Location = w.srv.URL + "/saml/acs-other"
	}
	w.idp.Trust(ed)
	b := newBrowser(t)
	action, fields := w.idpInitiated(b, "/start")
	if action == w.srv.URL+saml.ACSPath {
		t.Fatal("the IdP did not use the changed ACS")
	}
	if p := b.post(w.srv.URL+saml.ACSPath, fields, w.idp.URL); p.status != http.StatusBadRequest {
		t.Fatalf("ACS answered %d", p.status)
	}
	if got := w.failures(); !slices.Equal(got, []string{"RecipientMismatch"}) {
		t.Fatalf("audited = %v", got)
	}
}

func TestExpiredAssertion(t *testing.T) {
	w := newWorld(t, nil, nil)
	b := newBrowser(t)
	action, fields := w.spInitiated(b, "/start")
	w.offset.Store(int64(6 * time.Minute)) // the assertion is 6 minutes old
	if p := b.post(action, fields, w.idp.URL); p.status != http.StatusBadRequest {
		t.Fatalf("expired assertion = %d:\n%s", p.status, p.body)
	}
	if got := w.failures(); !slices.Equal(got, []string{"AssertionExpired"}) {
		t.Fatalf("audited = %v", got)
	}
}

// tamper decodes the response, lets f change it and encodes it again.
func tamper(t *testing.T, fields url.Values, f func(doc *etree.Document)) url.Values {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(fields.Get("SAMLResponse"))
	if err != nil {
		t.Fatal(err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		t.Fatal(err)
	}
	f(doc)
	out, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	v := url.Values{}
	for k, vs := range fields {
		v[k] = vs
	}
	v.Set("SAMLResponse", base64.StdEncoding.EncodeToString(out))
	return v
}

func assertionOf(t *testing.T, doc *etree.Document) *etree.Element {
	t.Helper()
	a := doc.Root().SelectElement("Assertion")
	if a == nil {
		t.Fatal("no assertion in the IdP's response")
	}
	return a
}

// evil is a copy of the signed assertion for another person, unsigned.
func evil(t *testing.T, doc *etree.Document) *etree.Element {
	e := assertionOf(t, doc).Copy()
	e.RemoveChild(e.SelectElement("Signature"))
	e.CreateAttr("ID", "id-evil")
	e.FindElement(".//NameID").SetText("admin")
	return e
}

// resign signs the Response again with the IdP's key, after f changed
// what it holds: what an attacker cannot do, but what shows the check
// beyond the Response's signature.
func resign(t *testing.T, idp *samltest.IdP, doc *etree.Document) {
	t.Helper()
	root := doc.Root()
	root.RemoveChild(root.SelectElement("Signature"))
	ks := dsig.TLSCertKeyStore(tls.Certificate{Certificate: [][]byte{idp.Cert.Raw}, PrivateKey: idp.Key, Leaf: idp.Cert})
	ctx := dsig.NewDefaultSigningContext(ks)
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	signed, err := ctx.SignEnveloped(root)
	if err != nil {
		t.Fatal(err)
	}
	doc.SetRoot(signed)
}

func TestSignatureAttacks(t *testing.T) {
	w := newWorld(t, nil, nil)
	var logs bytes.Buffer
	w.srv.SAML.Log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cases := []struct {
		name, code string
		f          func(doc *etree.Document)
	}{
		{"unsigned assertion, Response signed", "UnsignedAssertion", func(doc *etree.Document) {
			a := assertionOf(t, doc)
			a.RemoveChild(a.SelectElement("Signature"))
			resign(t, w.idp, doc)
		}},
		{"nothing signed", "UnsignedAssertion", func(doc *etree.Document) {
			a := assertionOf(t, doc)
			a.RemoveChild(a.SelectElement("Signature"))
			doc.Root().RemoveChild(doc.Root().SelectElement("Signature"))
		}},
		{"changed attribute in the signed assertion", "InvalidSignature", func(doc *etree.Document) {
			doc.Root().RemoveChild(doc.Root().SelectElement("Signature"))
			assertionOf(t, doc).FindElement(".//NameID").SetText("admin")
		}},
		{"wrapping: evil assertion before the signed one", "AssertionCount", func(doc *etree.Document) {
			doc.Root().InsertChildAt(assertionOf(t, doc).Index(), evil(t, doc))
		}},
		{"wrapping: signed assertion moved into Extensions, evil in its place", "AssertionCount", func(doc *etree.Document) {
			a := assertionOf(t, doc)
			e := evil(t, doc)
			idx := a.Index()
			doc.Root().RemoveChild(a)
			ext := etree.NewElement("samlp:Extensions")
			ext.AddChild(a)
			doc.Root().InsertChildAt(idx, ext)
			doc.Root().AddChild(e)
		}},
		{"wrapping: evil assertion carrying the original signature", "InvalidSignature", func(doc *etree.Document) {
			a := assertionOf(t, doc)
			e := evil(t, doc)
			e.AddChild(a.SelectElement("Signature").Copy())
			doc.Root().RemoveChild(doc.Root().SelectElement("Signature"))
			doc.Root().InsertChildAt(a.Index(), e)
			doc.Root().RemoveChild(a)
		}},
		{"two signed assertions", "AssertionCount", func(doc *etree.Document) {
			doc.Root().AddChild(assertionOf(t, doc).Copy())
		}},
		{"doubly signed assertion", "InvalidSignature", func(doc *etree.Document) {
			a := assertionOf(t, doc)
			a.AddChild(a.SelectElement("Signature").Copy())
			doc.Root().RemoveChild(doc.Root().SelectElement("Signature"))
		}},
	}
	var want []string
	for _, c := range cases {
		b := newBrowser(t)
		action, fields := w.spInitiated(b, "/start")
		bad := tamper(t, fields, c.f)
		p := b.post(action, bad, w.idp.URL)
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, "Sign-in failed") {
			t.Errorf("%s: ACS answered %d", c.name, p.status)
		}
		want = append(want, c.code)
		// The untouched response still works afterwards: the refusal
		// used nothing up, and proves the tampering is what was refused.
		if p := b.post(action, fields, w.idp.URL); p.status != http.StatusSeeOther {
			t.Fatalf("%s: the untouched response = %d:\n%s", c.name, p.status, p.body)
		}
	}
	if got := w.failures(); !slices.Equal(got, want) {
		t.Fatalf("audited %v\nwant    %v", got, want)
	}
	if _, err := w.srv.Directory.GetUserByName(t.Context(), "admin"); err == nil {
		t.Fatal("an attack created the user of the evil assertion")
	}
	// Refusals are logged with their reason, never with the assertion.
	if !strings.Contains(logs.String(), "SAML sign-in refused") {
		t.Fatalf("refusals were not logged:\n%s", logs.String())
	}
	for _, secret := range []string{"00u1ana", "ana@corp.example", "<saml", "xmlns", "PHNhbWxw", "X509Certificate"} {
		if strings.Contains(logs.String(), secret) {
			t.Fatalf("the log holds %q:\n%s", secret, logs.String())
		}
	}
}

func TestConfigureChecks(t *testing.T) {
	w := newWorld(t, nil, nil)
	ctx := w.admin()
	// A metadata URL is fetched at save time; the document is stored.
	if err := w.srv.Sources.Configure(ctx, idsource.SAML, map[string]string{saml.SettingMetadataURL: w.idp.URL + "/metadata"}, nil); err != nil {
		t.Fatal(err)
	}
	m, _, err := w.srv.Sources.Settings(ctx, idsource.SAML)
	if err != nil || !strings.Contains(m[saml.SettingMetadataXML], w.idp.URL+"/sso") {
		t.Fatalf("stored settings = %v, %v", m, err)
	}
	// Metadata without a signing certificate is refused.
	md := etree.NewDocument()
	if err := md.ReadFromString(w.idp.MetadataXML(t)); err != nil {
		t.Fatal(err)
	}
	for _, kd := range md.FindElements("//KeyDescriptor") {
		kd.Parent().RemoveChild(kd)
	}
	bare, _ := md.WriteToString()
	err = w.srv.Sources.Configure(ctx, idsource.SAML, map[string]string{saml.SettingMetadataXML: bare}, nil)
	if err == nil || !strings.Contains(err.Error(), "signing certificate") {
		t.Fatalf("metadata without a certificate = %v", err)
	}
	for _, bad := range []string{"not xml", "<EntityDescriptor/>"} {
		if err := w.srv.Sources.Configure(ctx, idsource.SAML, map[string]string{saml.SettingMetadataXML: bad}, nil); err == nil {
			t.Fatalf("metadata %q accepted", bad)
		}
	}
	if err := w.srv.Sources.Configure(ctx, idsource.SAML, map[string]string{saml.SettingMetadataURL: "http://idp.example/metadata"}, nil); err == nil || !strings.Contains(err.Error(), "https") {
		t.Fatalf("a plain-http metadata URL = %v", err)
	}
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", 500) }))
	defer slow.Close()
	if err := w.srv.Sources.Configure(ctx, idsource.SAML, map[string]string{saml.SettingMetadataURL: slow.URL}, nil); err == nil {
		t.Fatal("a failing metadata URL was accepted")
	}
	// The SP key is generated once and sealed: the metadata's certificate
	// stays the same, and the stored key holds no PEM or DER in clear.
	m1 := w.idp.SPMetadata(t, w.srv.URL+saml.MetadataPath)
	m2 := w.idp.SPMetadata(t, w.srv.URL+saml.MetadataPath)
	c1 := m1.SPSSODescriptors[0].KeyDescriptors[0].KeyInfo.X509Data.X509Certificates[0].Data
	if c1 == "" || c1 != m2.SPSSODescriptors[0].KeyDescriptors[0].KeyInfo.X509Data.X509Certificates[0].Data {
		t.Fatal("the SP certificate changed between two metadata requests")
	}
	ks, err := w.srv.Store.ListKeys(t.Context(), "saml-sp")
	if err != nil || len(ks) != 1 || strings.Contains(string(ks[0].Sealed), "PRIVATE KEY") {
		t.Fatalf("stored SP keys = %d, %v", len(ks), err)
	}
	if m1.EntityID != w.srv.URL+saml.MetadataPath || m1.SPSSODescriptors[0].AssertionConsumerServices[0].Location != w.srv.URL+saml.ACSPath {
		t.Fatalf("SP metadata = %+v", m1)
	}
}

// TestGroupsFollowTheIdPToNone: IdPs leave the groups attribute out when
// a person is in none of the groups sent (Okta's group attribute filter,
// Entra ID's groups claim): a person removed from their last group upstream
// leaves it in Gatehouse too, rather than keeping its assignments. Entra
// ID's overage (a groups.link claim instead of the groups) leaves the
// memberships as they are.
func TestGroupsFollowTheIdPToNone(t *testing.T) {
	w := newWorld(t, nil, nil)
	signIn := func() {
		t.Helper()
		b := newBrowser(t)
		action, fields := w.spInitiated(b, "/start")
		if p := b.post(action, fields, w.idp.URL); p.status != http.StatusSeeOther {
			t.Fatalf("ACS answered %d:\n%s", p.status, p.body)
		}
	}
	signIn()
	u := w.user("00u1ana")
	if got := w.groupsOf(u.ID); !slices.Equal(got, []string{"aws-admins", "engineers"}) {
		t.Fatalf("groups = %v", got)
	}

	overage := ana
	overage.Groups = nil
	overage.Extra = map[string][]string{"http://schemas.microsoft.com/claims/groups.link": {"https://graph.windows.net/tenant/users/ana/getMemberObjects"}}
	w.idp.AddUser(overage)
	signIn()
	if got := w.groupsOf(u.ID); !slices.Equal(got, []string{"aws-admins", "engineers"}) {
		t.Fatalf("groups after an overage = %v, want them left as they were", got)
	}

	none := ana
	none.Groups = nil
	w.idp.AddUser(none)
	signIn()
	if got := w.groupsOf(u.ID); len(got) != 0 {
		t.Fatalf("groups after the IdP removed her from every group = %v, want none", got)
	}
}

// TestTransientNameIDRefused: a transient NameID names a person for one
// sign-in only (saml-core-2.0-os §8.3.8). Taken as the subject, it would
// make a new user at each sign-in, or lock the person out once their user
// name is held by the subject of an earlier sign-in; it is refused with a
// page saying why, and nobody is created.
func TestTransientNameIDRefused(t *testing.T) {
	w := newWorld(t, nil, nil)
	tr := ana
	tr.NameID, tr.NameIDFormat = "_transient-4c1a9e", "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
	w.idp.AddUser(tr)
	b := newBrowser(t)
	action, fields := w.spInitiated(b, "/start")
	if p := b.post(action, fields, w.idp.URL); p.status != http.StatusBadRequest || !strings.Contains(p.body, "Sign-in failed") {
		t.Fatalf("transient NameID: ACS answered %d:\n%s", p.status, p.body)
	}
	if got := w.failures(); !slices.Equal(got, []string{"TransientNameID"}) {
		t.Fatalf("audited %v", got)
	}
	if _, err := w.srv.Directory.GetUserByName(t.Context(), "_transient-4c1a9e"); err == nil {
		t.Fatal("a user was made of a transient NameID")
	}
}
