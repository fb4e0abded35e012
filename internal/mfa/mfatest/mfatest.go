// Package mfatest is a software WebAuthn authenticator for tests that
// drive registration and sign-in ceremonies without a browser.
package mfatest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

// SoftKey is a software authenticator: one ES256 credential, built by
// hand as W3C WebAuthn Level 3 §6.1 and §6.5 lay the bytes out, with
// 'none' attestation.
type SoftKey struct {
	key *ecdsa.PrivateKey
	id  []byte
	// RPID is the relying party ID whose SHA-256 the authenticator data
	// carries (the host name).
	RPID string
	// Origin is the origin the client data claims (scheme://host[:port]).
	Origin string
	// Count is the signature counter the next answer carries.
	Count uint32
	// NoUV leaves the user-verified flag out of Get's answers (a key
	// touched, no PIN or biometric).
	NoUV bool
}

var b64 = base64.RawURLEncoding

// NewSoftKey returns an authenticator with a fresh P-256 key and a
// random 16-byte credential ID, answering for rpID from origin.
func NewSoftKey(t testing.TB, rpID, origin string) *SoftKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 16)
	rand.Read(id)
	return &SoftKey{key: k, id: id, RPID: rpID, Origin: origin}
}

// Challenge reads publicKey.challenge from ceremony options (the JSON of
// CredentialCreationOptions or CredentialRequestOptions).
func Challenge(t testing.TB, opts []byte) string {
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

func (k *SoftKey) clientData(typ, chal string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": chal, "origin": k.Origin, "crossOrigin": false})
	return b
}

func (k *SoftKey) authData(flags byte, attested []byte) []byte {
	h := sha256.Sum256([]byte(k.RPID))
	out := append(h[:], flags)
	out = binary.BigEndian.AppendUint32(out, k.Count)
	return append(out, attested...)
}

// Create answers navigator.credentials.create for the options opts: the
// PublicKeyCredential as JSON.
func (k *SoftKey) Create(t testing.TB, opts []byte) []byte {
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
			"clientDataJSON":    b64.EncodeToString(k.clientData("webauthn.create", Challenge(t, opts))),
			"attestationObject": b64.EncodeToString(ao),
		},
	})
	return b
}

// Get answers navigator.credentials.get for the options opts as the
// credential of userHandle (the user ID): the PublicKeyCredential as JSON.
func (k *SoftKey) Get(t testing.TB, opts []byte, userHandle string) []byte {
	t.Helper()
	flags := byte(0x05) // UP | UV
	if k.NoUV {
		flags = 0x01 // UP
	}
	ad := k.authData(flags, nil)
	cd := k.clientData("webauthn.get", Challenge(t, opts))
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
