package mfa_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/mfa"
	"github.com/gatehouse-dev/gatehouse/internal/store"
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
	// noUV leaves out the user-verified flag (a key touched, no PIN or
	// biometric).
	noUV bool
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
	flags := byte(0x05) // UP | UV
	if k.noUV {
		flags = 0x01
	}
	ad := k.authData(flags, nil)
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

// Issue 8: registration and sign-in ceremonies with a software
// authenticator; a replayed answer, a foreign origin and a signature
// counter that did not grow are refused; a passkey signs in without a
// user name.
func TestWebAuthnCeremonies(t *testing.T) {
	s, w, c := newService(t)
	c.t = time.Now() // the library dates ceremonies by the wall clock
	s.BaseURL = "https://gatehouse.example:8443"
	ctx := t.Context()
	u, err := w.Directory.CreateUser(ctx, directory.CreateUserInput{UserName: "ann", DisplayName: "Ann", Name: store.UserName{GivenName: "Ann", FamilyName: "A"}})
	if err != nil {
		t.Fatal(err)
	}
	k := newSoftKey(t, "gatehouse.example", "https://gatehouse.example:8443")

	reg, err := s.BeginRegistration(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	d, err := s.FinishRegistration(ctx, u.ID, "YubiKey", reg.State, k.create(t, reg.Options))
	if err != nil {
		t.Fatalf("FinishRegistration: %v", err)
	}
	if d.Type != mfa.TypeWebAuthn || d.Name != "YubiKey" {
		t.Errorf("device %+v", d)
	}
	// The same answer again: the challenge is spent.
	if _, err := s.FinishRegistration(ctx, u.ID, "again", reg.State, k.create(t, reg.Options)); !errors.Is(err, mfa.ErrWebAuthn) {
		t.Errorf("replayed registration = %v, want ErrWebAuthn", err)
	}

	// Second factor for the user.
	k.count = 1
	lg, err := s.BeginLogin(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	answer := k.get(t, lg.Options, u.ID)
	got, err := s.FinishLogin(ctx, u.ID, lg.State, answer)
	if err != nil || got.ID != u.ID {
		t.Fatalf("FinishLogin = %v, %v", got, err)
	}
	if _, err := s.FinishLogin(ctx, u.ID, lg.State, answer); !errors.Is(err, mfa.ErrWebAuthn) {
		t.Errorf("replayed assertion = %v, want ErrWebAuthn", err)
	}

	// Another origin (a phishing site relaying the challenge) is refused.
	lg, _ = s.BeginLogin(ctx, u.ID)
	phish := *k
	phish.origin, phish.count = "https://gatehouse.example.evil", 2
	if _, err := s.FinishLogin(ctx, u.ID, lg.State, phish.get(t, lg.Options, u.ID)); !errors.Is(err, mfa.ErrWebAuthn) {
		t.Errorf("foreign origin = %v, want ErrWebAuthn", err)
	}

	// Passwordless: a discoverable ceremony names no user.
	k.count = 5
	lg, err = s.BeginLogin(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	got, err = s.FinishLogin(ctx, "", lg.State, k.get(t, lg.Options, u.ID))
	if err != nil || got.ID != u.ID {
		t.Fatalf("passkey sign-in = %v, %v", got, err)
	}

	// A counter that did not grow: a cloned key.
	lg, _ = s.BeginLogin(ctx, u.ID)
	if _, err := s.FinishLogin(ctx, u.ID, lg.State, k.get(t, lg.Options, u.ID)); !errors.Is(err, mfa.ErrWebAuthn) {
		t.Errorf("counter not grown = %v, want ErrWebAuthn", err)
	}
}

// A key proves only the user it was registered to, and only for this
// relying party: bob's key answering a discoverable ceremony in ann's
// name, or ann's second-factor ceremony, is refused; so is ann's own key
// signing for another RP ID (a look-alike domain relaying the challenge
// with its own rpIdHash) from the right origin.
func TestWebAuthnOtherUserOrRelyingParty(t *testing.T) {
	s, w, c := newService(t)
	c.t = time.Now()
	s.BaseURL = "https://gatehouse.example:8443"
	ctx := t.Context()
	newUser := func(name string) (*store.User, *softKey) {
		u, err := w.Directory.CreateUser(ctx, directory.CreateUserInput{UserName: name, DisplayName: name, Name: store.UserName{GivenName: name, FamilyName: "A"}})
		if err != nil {
			t.Fatal(err)
		}
		k := newSoftKey(t, "gatehouse.example", "https://gatehouse.example:8443")
		reg, err := s.BeginRegistration(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.FinishRegistration(ctx, u.ID, "key", reg.State, k.create(t, reg.Options)); err != nil {
			t.Fatalf("FinishRegistration: %v", err)
		}
		return u, k
	}
	ann, annKey := newUser("ann")
	_, bobKey := newUser("bob")

	bobKey.count = 1
	lg, err := s.BeginLogin(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.FinishLogin(ctx, "", lg.State, bobKey.get(t, lg.Options, ann.ID)); !errors.Is(err, mfa.ErrWebAuthn) {
		t.Errorf("bob's passkey with ann's user handle = %v, %v; want ErrWebAuthn", got, err)
	}
	bobKey.count = 2
	lg, err = s.BeginLogin(ctx, ann.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.FinishLogin(ctx, ann.ID, lg.State, bobKey.get(t, lg.Options, ann.ID)); !errors.Is(err, mfa.ErrWebAuthn) {
		t.Errorf("bob's key as ann's second factor = %v, %v; want ErrWebAuthn", got, err)
	}
	other := *annKey
	other.rpID, other.count = "gatehouse.example.evil", 3
	for _, id := range []string{ann.ID, ""} {
		lg, err = s.BeginLogin(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := s.FinishLogin(ctx, id, lg.State, other.get(t, lg.Options, ann.ID)); !errors.Is(err, mfa.ErrWebAuthn) {
			t.Errorf("ann's key for another RP ID (user %q) = %v, %v; want ErrWebAuthn", id, got, err)
		}
	}
	// A passkey sign-in replaces the password and the second factor: the
	// key must have verified its user (PIN, biometric), not only been
	// touched.
	touched := *annKey
	touched.noUV, touched.count = true, 4
	lg, _ = s.BeginLogin(ctx, "")
	if got, err := s.FinishLogin(ctx, "", lg.State, touched.get(t, lg.Options, ann.ID)); !errors.Is(err, mfa.ErrWebAuthn) {
		t.Errorf("passkey without user verification = %v, %v; want ErrWebAuthn", got, err)
	}
	// Her own key, for this RP, still works.
	annKey.count = 5
	lg, _ = s.BeginLogin(ctx, "")
	if got, err := s.FinishLogin(ctx, "", lg.State, annKey.get(t, lg.Options, ann.ID)); err != nil || got.ID != ann.ID {
		t.Errorf("ann's passkey = %v, %v", got, err)
	}
}
