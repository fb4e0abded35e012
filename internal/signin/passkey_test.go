package signin_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"html"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/fxamacker/cbor/v2"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/settings"
)

// softKey is a software authenticator: one ES256 credential, built by
// hand as W3C WebAuthn Level 3 §6.1 and §6.5 lay the bytes out, with
// 'none' attestation.
type softKey struct {
	key    *ecdsa.PrivateKey
	id     []byte
	rpID   string
	origin string
	count  uint32
}

var b64 = base64.RawURLEncoding

func newSoftKey(t *testing.T, rpID, origin string) *softKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 16)
	rand.Read(id)
	return &softKey{key: k, id: id, rpID: rpID, origin: origin}
}

// challenge reads publicKey.challenge from ceremony options.
func challenge(t *testing.T, opts []byte) string {
	t.Helper()
	var o struct {
		PublicKey struct {
			Challenge string `json:"challenge"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(opts, &o); err != nil || o.PublicKey.Challenge == "" {
		t.Fatalf("options %s: %v", opts, err)
	}
	return o.PublicKey.Challenge
}

func (k *softKey) clientData(typ, chal string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": chal, "origin": k.origin, "crossOrigin": false})
	return b
}

func (k *softKey) authData(flags byte, attested []byte) []byte {
	h := sha256.Sum256([]byte(k.rpID))
	out := append(h[:], flags)
	out = binary.BigEndian.AppendUint32(out, k.count)
	return append(out, attested...)
}

// create answers navigator.credentials.create.
func (k *softKey) create(t *testing.T, opts []byte) []byte {
	t.Helper()
	x, y := k.key.PublicKey.X.FillBytes(make([]byte, 32)), k.key.PublicKey.Y.FillBytes(make([]byte, 32))
	cose, err := cbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: x, -3: y})
	if err != nil {
		t.Fatal(err)
	}
	att := make([]byte, 16) // AAGUID: none
	att = binary.BigEndian.AppendUint16(att, uint16(len(k.id)))
	att = append(append(att, k.id...), cose...)
	// UP | UV | AT
	ao, err := cbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": k.authData(0x45, att)})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{
		"id": b64.EncodeToString(k.id), "rawId": b64.EncodeToString(k.id), "type": "public-key",
		"response": map[string]string{
			"clientDataJSON":    b64.EncodeToString(k.clientData("webauthn.create", challenge(t, opts))),
			"attestationObject": b64.EncodeToString(ao),
		},
	})
	return b
}

// get answers navigator.credentials.get for userHandle.
func (k *softKey) get(t *testing.T, opts []byte, userHandle string) []byte {
	t.Helper()
	ad := k.authData(0x05, nil) // UP | UV
	cd := k.clientData("webauthn.get", challenge(t, opts))
	h := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, ad...), h[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, k.key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{
		"id": b64.EncodeToString(k.id), "rawId": b64.EncodeToString(k.id), "type": "public-key",
		"response": map[string]string{
			"clientDataJSON": b64.EncodeToString(cd), "authenticatorData": b64.EncodeToString(ad),
			"signature": b64.EncodeToString(sig), "userHandle": b64.EncodeToString([]byte(userHandle)),
		},
	})
	return b
}

var (
	optionsRe  = regexp.MustCompile(`data-options="([^"]+)"`)
	keyStateRe = regexp.MustCompile(`name="key_state" value="([^"]+)"`)
)

// ceremonyOf returns the WebAuthn options and sealed ceremony of a page's
// form posting to action.
func ceremonyOf(t *testing.T, a answer, action string) ([]byte, string) {
	t.Helper()
	i := regexp.MustCompile(`action="` + regexp.QuoteMeta(action) + `" data-webauthn`).FindStringIndex(a.Body)
	if i == nil {
		t.Fatalf("no WebAuthn form for %s:\n%s", action, a.Body)
	}
	rest := a.Body[i[0]:]
	o, st := optionsRe.FindStringSubmatch(rest), keyStateRe.FindStringSubmatch(rest)
	if o == nil || st == nil {
		t.Fatalf("form for %s lacks options or state", action)
	}
	return []byte(html.UnescapeString(o[1])), html.UnescapeString(st[1])
}

// Issue 8: a passkey registered on /mfa/key signs in without a password
// through the real handlers (RP ID localhost, origin the base URL), and
// serves as the second step after a password; "off" turns passwordless
// sign-in off.
func TestPasskeyThroughHandlers(t *testing.T) {
	srv, c := start(t, func(cfg *config.Config) {
		_, port, _ := net.SplitHostPort(cfg.Listen)
		cfg.PublicURL = "http://localhost:" + port
	})
	setPolicy(t, srv, settings.PolicyAlways)
	u, err := srv.Store.GetUserByName(t.Context(), user)
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, srv, "192.0.2.80")
	registerAtSignIn(t, b, c)
	k := newSoftKey(t, "localhost", srv.URL)
	p := b.get("/mfa/key")
	want(t, p, http.StatusOK, `data-webauthn="create"`, `<script src="/static/webauthn.js" defer></script>`)
	opts, st := ceremonyOf(t, p, "/mfa/key")
	want(t, b.post("/mfa/key", url.Values{"key_state": {st}, "answer": {string(k.create(t, opts))}, "name": {"Laptop"}}), http.StatusOK, "is registered")

	// Passwordless.
	k.count = 1
	nb := newBrowser(t, srv, "192.0.2.81")
	p = nb.get("/login")
	opts, st = ceremonyOf(t, p, "/login/passkey")
	want(t, nb.post("/login/passkey", url.Values{"key_state": {st}, "answer": {string(k.get(t, opts, u.ID))}}), http.StatusSeeOther)
	want(t, nb.get("/start"), http.StatusOK)
	// The same answer again is refused.
	want(t, newBrowser(t, srv, "192.0.2.81").post("/login/passkey", url.Values{"key_state": {st}, "answer": {string(k.get(t, opts, u.ID))}}), http.StatusUnauthorized)

	// Second step after the password.
	k.count = 2
	sb := newBrowser(t, srv, "192.0.2.82")
	p = sb.signIn(user, password)
	want(t, p, http.StatusOK, `action="/login/mfa"`)
	opts, st = ceremonyOf(t, p, "/login/key")
	want(t, sb.post("/login/key", url.Values{"state": {formState(t, p)}, "key_state": {st}, "answer": {string(k.get(t, opts, u.ID))}}), http.StatusSeeOther)

	// "off": no passkey button, and the handler refuses.
	setPolicy(t, srv, settings.PolicyOff)
	p = newBrowser(t, srv, "192.0.2.83").get("/login")
	if optionsRe.MatchString(p.Body) {
		t.Error("passkey offered with the MFA policy off")
	}
	want(t, newBrowser(t, srv, "192.0.2.83").post("/login/passkey", url.Values{"key_state": {st}, "answer": {"{}"}}), http.StatusForbidden)
}

// Issue 8: "register an authenticator at sign-in" also takes a security
// key or passkey instead of an authenticator app.
func TestRegisterKeyAtSignIn(t *testing.T) {
	srv, _ := start(t, func(cfg *config.Config) {
		_, port, _ := net.SplitHostPort(cfg.Listen)
		cfg.PublicURL = "http://localhost:" + port
	})
	setPolicy(t, srv, settings.PolicyAlways)
	u, err := srv.Store.GetUserByName(t.Context(), user)
	if err != nil {
		t.Fatal(err)
	}
	k := newSoftKey(t, "localhost", srv.URL)
	b := newBrowser(t, srv, "192.0.2.90")
	p := b.signIn(user, password)
	want(t, p, http.StatusOK, `action="/login/enrol"`)
	opts, st := ceremonyOf(t, p, "/login/enrol/key")
	bad := *k
	bad.origin = "http://evil.example"
	want(t, b.post("/login/enrol/key", url.Values{"state": {formState(t, p)}, "key_state": {st}, "answer": {string(bad.create(t, opts))}}), http.StatusUnauthorized, "was not registered")
	if n := devices(t, srv); n != 0 {
		t.Fatalf("a refused key was stored: %d devices", n)
	}
	p = b.signIn(user, password)
	opts, st = ceremonyOf(t, p, "/login/enrol/key")
	want(t, b.post("/login/enrol/key", url.Values{"state": {formState(t, p)}, "key_state": {st}, "answer": {string(k.create(t, opts))}}), http.StatusSeeOther)
	if n := devices(t, srv); n != 1 {
		t.Fatalf("%d devices, want 1", n)
	}
	// The passkey now signs in alone.
	k.count = 1
	nb := newBrowser(t, srv, "192.0.2.91")
	opts, st = ceremonyOf(t, nb.get("/login"), "/login/passkey")
	want(t, nb.post("/login/passkey", url.Values{"key_state": {st}, "answer": {string(k.get(t, opts, u.ID))}}), http.StatusSeeOther)
}
