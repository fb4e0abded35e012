package samlidp

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/keyring"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

const (
	// KeyPurpose names the IdP's keys in the store (store.Key.Purpose).
	KeyPurpose = "saml-idp"
	// MetadataPath serves the IdP metadata; EntityPath is the entity ID's
	// path.
	MetadataPath = "/saml/idp/metadata"
	EntityPath   = "/saml/idp"
)

// Key states (KeyInfo.State).
const (
	StateSigning = "signing"
	StatePending = "pending"
	StateRetired = "retired"
)

// IdP is Gatehouse's SAML identity provider for linked accounts. Set its
// fields, then use it from any number of goroutines.
type IdP struct {
	Store store.Store
	Keys  *keyring.Ring
	// BaseURL is Gatehouse's public URL (no trailing slash).
	BaseURL string
	Now     func() time.Time
	// Rand makes IDs and certificate serial numbers; nil is crypto/rand.
	Rand io.Reader
	// Publish pushes the current metadata (Metadata) into the SAML
	// provider of every linked account (awsaccounts.Service.RefreshProviders).
	// Rotate refuses to run without it while any account is linked.
	Publish func(ctx context.Context) error
	Log     *slog.Logger

	mu     sync.Mutex
	parsed map[string]*signingKey // by store.Key.ID
}

type signingKey struct {
	key  *rsa.PrivateKey
	cert *x509.Certificate
}

// KeyInfo describes one IdP key for `gatehouse saml-idp show`.
type KeyInfo struct {
	ID        string
	State     string // StateSigning, StatePending or StateRetired
	CreatedAt time.Time
	// NotAfter and SHA256 (the certificate's fingerprint, hex) are zero for
	// a retired key.
	NotAfter time.Time
	SHA256   string
}

// EntityID is the IdP entity ID, the Issuer of its assertions.
func (p *IdP) EntityID() string { return p.BaseURL + EntityPath }

// MetadataURL is where the metadata is served.
func (p *IdP) MetadataURL() string { return p.BaseURL + MetadataPath }

func (p *IdP) now() time.Time { return p.Now().UTC() }

func (p *IdP) rand() io.Reader {
	if p.Rand != nil {
		return p.Rand
	}
	return rand.Reader
}

// storedKey is the sealed form of a key.
type storedKey struct {
	Key  []byte `json:"key"`  // PKCS #8 DER
	Cert []byte `json:"cert"` // DER
}

func keyAD(id string) []byte { return []byte("gatehouse/saml/idp-key/" + id) }

func state(k store.Key) string {
	switch {
	case len(k.Sealed) == 0:
		return StateRetired
	case k.Active:
		return StateSigning
	}
	return StatePending
}

// sortKeys orders keys oldest first.
func sortKeys(ks []store.Key) {
	slices.SortFunc(ks, func(a, b store.Key) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// current returns the stored keys, making the first signing key when
// there is none. Replicas that make one at once each store theirs; the
// newest signing key signs and all are published.
func (p *IdP) current(ctx context.Context) ([]store.Key, error) {
	ks, err := p.Store.ListKeys(ctx, KeyPurpose)
	if err != nil {
		return nil, fmt.Errorf("list SAML IdP keys: %w", err)
	}
	if slices.ContainsFunc(ks, func(k store.Key) bool { return state(k) == StateSigning }) {
		sortKeys(ks)
		return ks, nil
	}
	k, err := p.newKey(true)
	if err != nil {
		return nil, err
	}
	err = p.Store.Update(ctx, func(tx store.Tx) error {
		if err := tx.PutKey(ctx, k); err != nil {
			return err
		}
		ks, err = tx.ListKeys(ctx, KeyPurpose)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store SAML IdP key: %w", err)
	}
	sortKeys(ks)
	return ks, nil
}

// open returns the parsed key k, caching it by ID.
func (p *IdP) open(k store.Key) (*signingKey, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if sk, ok := p.parsed[k.ID]; ok {
		return sk, nil
	}
	pt, err := p.Keys.Open(keyring.PurposeSecrets, string(k.Sealed), keyAD(k.ID))
	if err != nil {
		return nil, fmt.Errorf("open SAML IdP key %s: %w", k.ID, err)
	}
	var st storedKey
	if err := json.Unmarshal(pt, &st); err != nil {
		return nil, fmt.Errorf("decode SAML IdP key %s: %w", k.ID, err)
	}
	pk, err := x509.ParsePKCS8PrivateKey(st.Key)
	if err != nil {
		return nil, fmt.Errorf("parse SAML IdP key %s: %w", k.ID, err)
	}
	rk, ok := pk.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("SAML IdP key %s is not an RSA key", k.ID)
	}
	cert, err := x509.ParseCertificate(st.Cert)
	if err != nil {
		return nil, fmt.Errorf("parse SAML IdP certificate %s: %w", k.ID, err)
	}
	if p.parsed == nil {
		p.parsed = make(map[string]*signingKey)
	}
	sk := &signingKey{key: rk, cert: cert}
	p.parsed[k.ID] = sk
	return sk, nil
}

// signer returns the key that signs now (the newest signing one) and the
// certificates to publish (every signing and pending key's, oldest first).
func (p *IdP) signer(ctx context.Context) (*signingKey, []*x509.Certificate, error) {
	ks, err := p.current(ctx)
	if err != nil {
		return nil, nil, err
	}
	var sign *signingKey
	var certs []*x509.Certificate
	for _, k := range ks {
		st := state(k)
		if st == StateRetired {
			continue
		}
		sk, err := p.open(k)
		if err != nil {
			return nil, nil, err
		}
		certs = append(certs, sk.cert)
		if st == StateSigning {
			sign = sk
		}
	}
	return sign, certs, nil
}

// KeyInfos lists the IdP's keys, oldest first, making the first one if there
// is none.
func (p *IdP) KeyInfos(ctx context.Context) ([]KeyInfo, error) {
	ks, err := p.current(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]KeyInfo, 0, len(ks))
	for _, k := range ks {
		ki := KeyInfo{ID: k.ID, State: state(k), CreatedAt: k.CreatedAt}
		if ki.State != StateRetired {
			sk, err := p.open(k)
			if err != nil {
				return nil, err
			}
			sum := sha256.Sum256(sk.cert.Raw)
			ki.NotAfter, ki.SHA256 = sk.cert.NotAfter, hex.EncodeToString(sum[:])
		}
		out = append(out, ki)
	}
	return out, nil
}

// ErrNoPublisher is returned by Rotate when accounts are linked but the
// IdP has no Publish function to tell them about the new key.
var ErrNoPublisher = errors.New("accounts are linked but the IdP cannot update their SAML providers (no publisher): not rotating")

// Rotate replaces the signing key without breaking sign-in to any linked
// account: it stores a new pending key (or reuses one left pending by an
// interrupted rotation), publishes the metadata listing both certificates
// (Publish), and only when every linked account's SAML provider holds it
// makes the new key the signing one and retires the old ones (their
// private keys are erased), then publishes again without them. A failed
// first publication leaves the old key signing and the new one pending;
// run Rotate again. A failed second publication is returned too, but the
// rotation stands: the accounts still trust the retired certificate until
// the next publication succeeds, which is harmless. It returns the new
// key's ID.
func (p *IdP) Rotate(ctx context.Context) (string, error) {
	ks, err := p.current(ctx)
	if err != nil {
		return "", err
	}
	if p.Publish == nil {
		links, err := p.Store.ListAccountLinks(ctx)
		if err != nil {
			return "", fmt.Errorf("list account links: %w", err)
		}
		if len(links) > 0 {
			return "", ErrNoPublisher
		}
	}
	var next *store.Key
	for i := range ks {
		if state(ks[i]) == StatePending {
			next = &ks[i]
		}
	}
	if next == nil {
		if next, err = p.newKey(false); err != nil {
			return "", err
		}
		if err := p.Store.Update(ctx, func(tx store.Tx) error { return tx.PutKey(ctx, next) }); err != nil {
			return "", fmt.Errorf("store SAML IdP key: %w", err)
		}
	}
	if p.Publish != nil {
		if err := p.Publish(ctx); err != nil {
			return "", fmt.Errorf("publish the new SAML IdP certificate to the linked accounts (the old key keeps signing, the new one %s is pending; run the rotation again): %w", next.ID, err)
		}
	}
	err = p.Store.Update(ctx, func(tx store.Tx) error {
		cur, err := tx.ListKeys(ctx, KeyPurpose)
		if err != nil {
			return err
		}
		for _, k := range cur {
			switch {
			case k.ID == next.ID:
				k.Active = true
			case state(k) == StateRetired:
				continue
			default:
				k.Active, k.Sealed = false, nil
			}
			if err := tx.PutKey(ctx, &k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("switch to SAML IdP key %s: %w", next.ID, err)
	}
	p.mu.Lock()
	for id := range p.parsed {
		if id != next.ID {
			delete(p.parsed, id)
		}
	}
	p.mu.Unlock()
	if p.Publish != nil {
		if err := p.Publish(ctx); err != nil {
			return next.ID, fmt.Errorf("key %s signs now, but removing the retired certificate from the linked accounts failed (harmless; it is retried at the next rotation or link refresh): %w", next.ID, err)
		}
	}
	return next.ID, nil
}

// newKey makes an RSA 2048 key with a self-signed certificate valid for
// 10 years (AWS IAM reads the certificate as a bare key; its expiry is not
// checked against a chain, but rotation is how a key ends).
func (p *IdP) newKey(active bool) (*store.Key, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate SAML IdP key: %w", err)
	}
	serial := make([]byte, 16)
	if _, err := io.ReadFull(p.rand(), serial); err != nil {
		return nil, err
	}
	now := p.now()
	host := p.BaseURL
	if u, err := url.Parse(p.BaseURL); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	tmpl := &x509.Certificate{
		SerialNumber: new(big.Int).SetBytes(serial),
		Subject:      pkix.Name{CommonName: host, Organization: []string{"Gatehouse SAML identity provider"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(10, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		return nil, fmt.Errorf("make SAML IdP certificate: %w", err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	pt, err := json.Marshal(storedKey{Key: pkcs8, Cert: der})
	if err != nil {
		return nil, err
	}
	idb := make([]byte, 8)
	if _, err := io.ReadFull(p.rand(), idb); err != nil {
		return nil, err
	}
	id := hex.EncodeToString(idb)
	sealed, err := p.Keys.Seal(keyring.PurposeSecrets, pt, keyAD(id))
	if err != nil {
		return nil, fmt.Errorf("seal SAML IdP key: %w", err)
	}
	return &store.Key{ID: id, Purpose: KeyPurpose, Sealed: []byte(sealed), CreatedAt: now, Active: active}, nil
}

// ServeMetadata serves Metadata (GET MetadataPath), publicly as SAML IdP
// metadata is, for administrators who register the provider by hand.
func (p *IdP) ServeMetadata(w http.ResponseWriter, r *http.Request) {
	md, err := p.Metadata(r.Context())
	if err != nil {
		if p.Log != nil {
			p.Log.Error("SAML IdP metadata", "err", err)
		}
		http.Error(w, "SAML identity provider metadata unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	w.Header().Set("Cache-Control", "no-cache")
	io.WriteString(w, md)
}
