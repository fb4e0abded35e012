package saml

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/beevik/etree"
	csaml "github.com/crewjam/saml"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/idsource"
	"github.com/gatehouse-dev/gatehouse/internal/keyring"
	"github.com/gatehouse-dev/gatehouse/internal/portal"
	"github.com/gatehouse-dev/gatehouse/internal/signin"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

const (
	// requestCookiePrefix names the cookies that bind an AuthnRequest to
	// the browser that was sent with it; one cookie per pending request,
	// so that two tabs signing in at once both succeed.
	requestCookiePrefix = "gatehouse_saml_"
	// requestLifetime is how long a sign-in at the IdP may take.
	requestLifetime = 10 * time.Minute
	// maxRelayState is the RelayState length senders keep to
	// (saml-bindings-2.0-os §3.4.3); a longer next travels in the cookie
	// only.
	maxRelayState = 80
	// maxResponseBytes bounds the posted form (a response with a large
	// group list stays far below).
	maxResponseBytes = 1 << 20
	// samlNS and dsigNS are the SAML assertion and XML-DSig namespaces.
	samlNS = "urn:oasis:names:tc:SAML:2.0:assertion"
	dsigNS = "http://www.w3.org/2000/09/xmldsig#"
)

// Register mounts the SP metadata and the assertion consumer service.
func (s *Service) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET "+MetadataPath, s.serveMetadata)
	mux.Handle("POST "+ACSPath, s.Portal.Page(s.acs))
}

// serveMetadata writes the SP metadata (saml-metadata-2.0-os §2.4.4):
// entity ID, ACS (HTTP-POST), signing and encryption certificate.
func (s *Service) serveMetadata(w http.ResponseWriter, r *http.Request) {
	sp, err := s.provider(r.Context(), nil, s.now())
	if err != nil {
		s.Log.Error("SAML SP metadata", "err", err)
		http.Error(w, "SAML service provider metadata unavailable", http.StatusServiceUnavailable)
		return
	}
	buf, err := xml.MarshalIndent(sp.Metadata(), "", "  ")
	if err != nil {
		s.Log.Error("SAML SP metadata", "err", err)
		http.Error(w, "SAML service provider metadata unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	w.Header().Set("Content-Disposition", `inline; filename="gatehouse-sp-metadata.xml"`)
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(buf)
}

// pending is the sealed content of a request cookie.
type pending struct {
	ID      string    `json:"id"`
	Next    string    `json:"next"`
	Expires time.Time `json:"exp"`
}

func cookieAD(name string) []byte { return []byte("gatehouse/saml/request/" + name) }

// Begin sends the browser to the IdP with an AuthnRequest (HTTP-Redirect
// binding), to come back to next. The request ID is kept in a sealed
// cookie for the ACS to check InResponseTo against.
func (s *Service) Begin(w http.ResponseWriter, r *http.Request, next string) error {
	ctx := r.Context()
	set, ok, err := s.load(ctx)
	if err != nil {
		return err
	}
	if !ok {
		return portal.PageError(http.StatusServiceUnavailable, "Sign-in is not set up",
			"The SAML identity provider is not configured. Contact your administrator.", errors.New("saml: not configured"))
	}
	now := s.now()
	sp, err := s.provider(ctx, set, now)
	if err != nil {
		return err
	}
	req, err := sp.MakeAuthenticationRequest(redirectSSO(set.idp), csaml.HTTPRedirectBinding, csaml.HTTPPostBinding)
	if err != nil {
		return fmt.Errorf("saml authentication request: %w", err)
	}
	next = portal.SafeNext(next)
	relay := next
	if len(relay) > maxRelayState {
		relay = ""
	}
	to, err := req.Redirect(relay, sp)
	if err != nil {
		return fmt.Errorf("saml redirect: %w", err)
	}
	name := requestCookiePrefix + shortHash(req.ID)
	b, err := json.Marshal(pending{ID: req.ID, Next: next, Expires: now.Add(requestLifetime)})
	if err != nil {
		return err
	}
	sealed, err := s.Keys.Seal(keyring.PurposeSecrets, b, cookieAD(name))
	if err != nil {
		return fmt.Errorf("seal saml request: %w", err)
	}
	http.SetCookie(w, s.requestCookie(name, sealed, int(requestLifetime/time.Second)))
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, to.String(), http.StatusFound)
	return nil
}

// requestCookie is a request cookie, sent only to the ACS. The IdP posts
// the response cross-site, so over TLS it is SameSite=None (with Secure);
// over plain HTTP (a local setup) SameSite is left to the browser, which
// cannot be None there.
func (s *Service) requestCookie(name, value string, maxAge int) *http.Cookie {
	c := &http.Cookie{Name: name, Value: value, Path: ACSPath, MaxAge: maxAge, HttpOnly: true}
	if s.Secure {
		c.Secure, c.SameSite = true, http.SameSiteNoneMode
	}
	return c
}

// pendingRequests opens the request cookies of r that are still valid.
func (s *Service) pendingRequests(r *http.Request, now time.Time) map[string]pending {
	out := map[string]pending{}
	for _, c := range r.Cookies() {
		if !strings.HasPrefix(c.Name, requestCookiePrefix) || len(out) >= 20 {
			continue
		}
		b, err := s.Keys.Open(keyring.PurposeSecrets, c.Value, cookieAD(c.Name))
		if err != nil {
			continue
		}
		var p pending
		if json.Unmarshal(b, &p) != nil || !now.Before(p.Expires) || requestCookiePrefix+shortHash(p.ID) != c.Name {
			continue
		}
		out[p.ID] = p
	}
	return out
}

// refusal is a refused response: what the person reads, and the audit
// event's error code and reason.
type refusal struct {
	status           int
	heading, message string
	code, reason     string
	cause            error
	// userName names the person in the audit event when the assertion
	// was valid and the refusal came after (a disabled user).
	userName string
}

func (e *refusal) Error() string { return "saml: " + e.reason }
func (e *refusal) Unwrap() error { return e.cause }

func refuse(code, reason string, cause error) *refusal {
	return &refusal{status: http.StatusBadRequest, heading: "Sign-in failed",
		message: "Your identity provider's answer could not be accepted. Start the sign-in again; if it keeps failing, contact your administrator.",
		code:    code, reason: reason, cause: cause}
}

// acs is the assertion consumer service (HTTP-POST binding).
func (s *Service) acs(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	now := s.now()
	in, err := s.consume(ctx, r, now)
	if err != nil {
		return s.refused(ctx, err)
	}
	id := in.identity
	u, err := s.Sources.Provision(ctx, *id, idsource.SignIn)
	switch {
	case errors.Is(err, idsource.ErrUserDisabled):
		return s.refused(ctx, &refusal{status: http.StatusForbidden, heading: "Sign-in refused",
			message: "Your user is disabled in Gatehouse. Contact your administrator.",
			code:    "UserDisabled", reason: "the user is disabled", cause: err, userName: id.UserName})
	case fault.KindOf(err) == fault.Validation || fault.KindOf(err) == fault.Conflict:
		return s.refused(ctx, &refusal{status: http.StatusConflict, heading: "Sign-in refused",
			message: "Gatehouse cannot take your user from the identity provider: " + fault.As(err).Message + " Contact your administrator.",
			code:    "ProvisioningRefused", reason: "provisioning refused: " + fault.As(err).Message, cause: err, userName: id.UserName})
	case err != nil:
		return err
	}
	if in.cookie != "" {
		http.SetCookie(w, s.requestCookie(in.cookie, "", -1))
	}
	return s.Portal.FinishExternal(w, r, u, signin.External{Source: idsource.SAML, MFA: in.mfa, NotAfter: in.notAfter}, in.next)
}

// accepted is what an accepted response says.
type accepted struct {
	// identity is the person it vouches for.
	identity *idsource.Identity
	// mfa says they used a second factor.
	mfa bool
	// notAfter is when the IdP's session ends (SessionNotOnOrAfter); zero
	// when it does not say.
	notAfter time.Time
	// next is the page to go on to; cookie the request cookie the
	// response answered ("" for an IdP-initiated sign-in).
	next, cookie string
}

// consume checks the posted response and records its assertion as used.
func (s *Service) consume(ctx context.Context, r *http.Request, now time.Time) (*accepted, error) {
	r.Body = http.MaxBytesReader(nil, r.Body, maxResponseBytes)
	if err := r.ParseForm(); err != nil {
		return nil, refuse("MalformedResponse", "the form could not be read", err)
	}
	set, ok, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	kind, _ := s.Sources.ActiveKind(ctx)
	if !ok || kind != idsource.SAML {
		return nil, &refusal{status: http.StatusNotFound, heading: "SAML sign-in is not on",
			message: "Gatehouse does not take sign-ins from a SAML identity provider. Sign in at " + s.BaseURL + "/start.",
			code:    "SourceNotActive", reason: "the SAML identity source is not active"}
	}
	if r.PostForm.Get("SAMLart") != "" || r.PostForm.Get("SigAlg") != "" || r.PostForm.Get("Signature") != "" {
		return nil, refuse("UnsupportedBinding", "only the HTTP-POST binding with signed assertions is accepted", nil)
	}
	raw, err := base64.StdEncoding.DecodeString(r.PostForm.Get("SAMLResponse"))
	if err != nil || len(raw) == 0 {
		return nil, refuse("MalformedResponse", "no SAMLResponse, or it is not base64", err)
	}
	if err := oneAssertion(raw); err != nil {
		return nil, err
	}
	reqs := s.pendingRequests(r, now)
	possible := make([]string, 0, len(reqs))
	for rid := range reqs {
		possible = append(possible, rid)
	}
	sp, err := s.provider(ctx, set, now)
	if err != nil {
		return nil, err
	}
	seen := &replayCache{}
	sp.ReplayCache = seen
	a, err := sp.ParseXMLResponse(raw, possible, sp.AcsURL)
	if err != nil {
		return nil, classifyError(err, set.allowIdPInitiated, len(possible) > 0)
	}
	// The library accepts an unsigned assertion inside a signed Response;
	// Gatehouse wants the assertion itself signed (as AWS does). A
	// Signature present was verified, and the assertion read from what it
	// covers.
	if a.Signature == nil {
		return nil, refuse("UnsignedAssertion", "the assertion is not signed", nil)
	}
	if a.Subject == nil || a.Subject.NameID == nil || strings.TrimSpace(a.Subject.NameID.Value) == "" {
		return nil, refuse("MissingNameID", "the assertion has no NameID", nil)
	}
	// A transient NameID names the person for this sign-in only
	// (saml-core-2.0-os §8.3.8): as the subject it would make a new user
	// each time, or refuse the person once their user name is taken.
	if a.Subject.NameID.Format == string(csaml.TransientNameIDFormat) {
		return nil, refuse("TransientNameID", "the NameID is transient: set the IdP to send a persistent or e-mail address NameID", nil)
	}
	irt := ""
	for _, c := range a.Subject.SubjectConfirmations {
		if c.SubjectConfirmationData != nil && c.SubjectConfirmationData.InResponseTo != "" {
			irt = c.SubjectConfirmationData.InResponseTo
		}
	}
	in := &accepted{mfa: usedMFA(a)}
	if p, ok := reqs[irt]; ok && irt != "" {
		in.next, in.cookie = p.Next, requestCookiePrefix+shortHash(irt)
	} else {
		in.next = portal.SafeNext(r.PostForm.Get("RelayState"))
	}
	in.identity, err = mapIdentity(set, a)
	if err != nil {
		return nil, err
	}
	for _, st := range a.AuthnStatements {
		if st.SessionNotOnOrAfter != nil && (in.notAfter.IsZero() || st.SessionNotOnOrAfter.Before(in.notAfter)) {
			in.notAfter = st.SessionNotOnOrAfter.UTC()
		}
	}
	if !in.notAfter.IsZero() && !in.notAfter.After(now) {
		return nil, refuse("SessionExpired", "the IdP session ended (SessionNotOnOrAfter has passed)", nil)
	}
	if err := s.consumeAssertion(ctx, set.idp.EntityID, seen); err != nil {
		return nil, err
	}
	return in, nil
}

// oneAssertion refuses a response that holds anything but exactly one
// Assertion or EncryptedAssertion, anywhere in the document: signature
// wrapping hides an assertion beside, inside or around the signed one,
// and no IdP sends two.
func oneAssertion(raw []byte) error {
	doc := etree.NewDocument()
	doc.ReadSettings.Permissive = false
	if err := doc.ReadFromBytes(raw); err != nil || doc.Root() == nil {
		return refuse("MalformedResponse", "the response is not well-formed XML", err)
	}
	root := doc.Root()
	if root.Tag != "Response" || root.NamespaceURI() != "urn:oasis:names:tc:SAML:2.0:protocol" {
		return refuse("MalformedResponse", "the message is not a SAML Response", nil)
	}
	var found []*etree.Element
	var walk func(el *etree.Element)
	walk = func(el *etree.Element) {
		for _, c := range el.ChildElements() {
			if (c.Tag == "Assertion" || c.Tag == "EncryptedAssertion") && c.NamespaceURI() == samlNS {
				found = append(found, c)
			}
			walk(c)
		}
	}
	walk(root)
	if len(found) != 1 {
		return refuse("AssertionCount", fmt.Sprintf("the response holds %d assertions, not exactly one", len(found)), nil)
	}
	// A plain assertion must carry its own signature (checked by the
	// library); an encrypted one is checked once decrypted.
	if a := found[0]; a.Tag == "Assertion" {
		signed := false
		for _, c := range a.ChildElements() {
			signed = signed || (c.Tag == "Signature" && c.NamespaceURI() == dsigNS)
		}
		if !signed {
			return refuse("UnsignedAssertion", "the assertion is not signed", nil)
		}
	}
	return nil
}

// classifyError maps the library's refusal onto a reason.
func classifyError(err error, allowIdP, solicited bool) error {
	r := func(code, reason string) error { return refuse(code, reason, err) }
	switch {
	case errors.Is(err, csaml.ErrAssertionReplayed):
		return r("AssertionReplayed", "the assertion was already used")
	case errors.Is(err, csaml.ErrUntrustedCertificate):
		return r("InvalidSignature", "signed with a certificate that is not in the IdP metadata")
	case errors.Is(err, csaml.ErrInvalidSignature):
		return r("InvalidSignature", "a signature is missing or invalid")
	case errors.Is(err, csaml.ErrAudienceMismatch):
		return r("AudienceMismatch", "the assertion is for another service provider (audience)")
	case errors.Is(err, csaml.ErrDestinationMismatch):
		return r("RecipientMismatch", "the response is addressed to another recipient or destination")
	case errors.Is(err, csaml.ErrRequestIDMismatch):
		if !allowIdP && !solicited {
			return r("UnsolicitedResponse", "IdP-initiated sign-in is not allowed and the response answers no request of this browser")
		}
		return r("RequestMismatch", "the response answers no pending request of this browser")
	case errors.Is(err, csaml.ErrExpired):
		return r("AssertionExpired", "the response or assertion has expired")
	case errors.Is(err, csaml.ErrNotYetValid):
		return r("AssertionNotYetValid", "the assertion is not valid yet (clocks differ?)")
	case errors.Is(err, csaml.ErrIssuerMismatch):
		return r("IssuerMismatch", "the issuer is not the configured identity provider")
	case errors.Is(err, csaml.ErrDecryptionFailed):
		return r("DecryptionFailed", "the encrypted assertion could not be decrypted")
	case errors.As(err, new(csaml.ErrBadStatus)):
		var bs csaml.ErrBadStatus
		errors.As(err, &bs)
		return &refusal{status: http.StatusForbidden, heading: "Sign-in refused by your identity provider",
			message: "Your identity provider did not sign you in. Try again, or contact your administrator.",
			code:    "IdPStatus", reason: "the IdP answered with status " + bs.Status, cause: err}
	case errors.Is(err, csaml.ErrMissingElement):
		return r("MalformedResponse", "a required element is missing")
	case errors.Is(err, csaml.ErrMalformedMessage):
		return r("MalformedResponse", "the response is malformed")
	case errors.Is(err, csaml.ErrUnsupported):
		return r("Unsupported", "the response uses something Gatehouse does not support")
	}
	return r("InvalidResponse", "the response is invalid")
}

// refused records the audit event of a refused response (through
// s.Refusals, bounded per source address, when set) and returns its page;
// other errors pass through.
func (s *Service) refused(ctx context.Context, err error) error {
	rf, ok := errors.AsType[*refusal](err)
	if !ok {
		return err
	}
	name := rf.userName
	if name == "" {
		name = "HIDDEN_DUE_TO_SECURITY_REASONS"
	}
	act := audit.ActorFrom(ctx)
	act.Identity = audit.Identity{Type: "Unknown", UserName: name}
	actx := audit.WithActor(ctx, act)
	e := audit.Entry{
		Source: audit.SourceSignIn, Name: "UserAuthentication", Type: "AwsServiceEvent",
		Params:    map[string]string{"userName": name, "identitySource": idsource.SAML},
		Response:  map[string]string{"result": "Failure"},
		ErrorCode: rf.code, ErrorMsg: rf.reason,
	}
	var rerr error
	if s.Refusals != nil {
		rerr = s.Refusals.Record(actx, e)
	} else {
		rerr = s.Store.Update(actx, func(tx store.Tx) error { return s.Audit.Record(actx, tx, e) })
	}
	if rerr != nil {
		return fmt.Errorf("record SAML sign-in failure: %w", rerr)
	}
	s.Log.Info("SAML sign-in refused", "op", "saml.acs", "reason", rf.reason, "code", rf.code)
	return portal.PageError(rf.status, rf.heading, rf.message, rf)
}

// replayCache takes the assertion ID the library hands over once the
// response has passed its checks (csaml.AssertionReplayCache); ACS
// records it with consumeAssertion after its own checks, so that a
// response refused for another reason uses nothing up.
type replayCache struct {
	id      string
	expires time.Time
}

// Consume keeps the assertion ID and the moment the library would refuse
// the assertion anyway (its NotOnOrAfter, with skew).
func (c *replayCache) Consume(assertionID string, expiresAt time.Time) error {
	c.id, c.expires = assertionID, expiresAt
	return nil
}

// consumeAssertion records the assertion ID of issuer as a store use
// marker until it expires, so that each assertion is accepted once on
// every replica.
func (s *Service) consumeAssertion(ctx context.Context, issuer string, c *replayCache) error {
	if c.id == "" {
		return refuse("MalformedResponse", "the assertion has no ID", nil)
	}
	sum := sha256.Sum256([]byte(issuer + "\x00" + c.id))
	key := "saml-assertion:" + hex.EncodeToString(sum[:])
	err := s.Store.Update(ctx, func(tx store.Tx) error { return tx.PutUseMarker(ctx, key, c.expires) })
	if errors.Is(err, store.ErrConflict) {
		return refuse("AssertionReplayed", "the assertion was already used", err)
	}
	return err
}
