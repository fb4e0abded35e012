// Package samlkey makes, seals, opens and lists the RSA keys with
// self-signed X.509 certificates that Gatehouse signs SAML messages with:
// the service provider's key (package idsource/saml) and the identity
// provider's keys for linked accounts (package awsaccounts/samlidp).
//
// A key is a store.Key whose Sealed value is the keyring's AEAD
// (keyring.PurposeSecrets) over a JSON object holding the PKCS #8 private
// key and the DER certificate, with additional data naming the key's kind
// and ID, so that a sealed value cannot be moved to another record. Every
// replica reads the same keys from the store.
//
// A key is signing (Active, sealed), pending (sealed, not yet Active:
// published ahead of a rotation) or retired (its sealed material erased).
// SAML peers take these certificates from metadata as keys, not as a chain
// of trust (saml-metadata-2.0-os §2.4.1.1), so they are self-signed.
package samlkey

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/keyring"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// Key states (State).
const (
	StateSigning = "signing"
	StatePending = "pending"
	StateRetired = "retired"
)

// Kind describes one set of keys: how they are stored and what their
// certificates say.
type Kind struct {
	// Purpose is the keys' store.Key.Purpose ("saml-sp", "saml-idp").
	Purpose string
	// Role names the keys in errors ("SAML SP", "SAML IdP").
	Role string
	// AD prefixes the key ID in the additional data a key is sealed with
	// ("gatehouse/saml/sp-key/"). Changing it makes stored keys unopenable.
	AD string
	// Organization is the certificate subject's O; its CN is the host of
	// Set.BaseURL.
	Organization string
	// Years is how long a certificate is valid from its making.
	Years int
	// Usage is the certificate's key usage.
	Usage x509.KeyUsage
}

// Pair is an opened key: the private key and its certificate.
type Pair struct {
	Key  *rsa.PrivateKey
	Cert *x509.Certificate
}

// Set is the keys of one Kind in one store. It is a value: callers build
// one from their own fields where they need it; Cache carries the opened
// keys from one call to the next.
type Set struct {
	Kind
	Store store.Store
	Ring  *keyring.Ring
	// BaseURL is Gatehouse's public URL; its host is the certificate CN
	// (the whole string when it has none).
	BaseURL string
	Now     func() time.Time
	// Rand makes key IDs and certificate serial numbers; nil is
	// crypto/rand. The RSA key itself always comes from crypto/rand.
	Rand io.Reader
	// Cache keeps opened keys by ID; nil opens every time.
	Cache *Cache
}

// Cache keeps opened keys by store.Key.ID. The zero Cache is ready; it is
// safe for concurrent use.
type Cache struct {
	mu     sync.Mutex
	opened map[string]*Pair
}

// Keep forgets every opened key but the one with ID id (after a rotation
// has retired the others).
func (c *Cache) Keep(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.opened {
		if k != id {
			delete(c.opened, k)
		}
	}
}

// stored is the sealed form of a key.
type stored struct {
	Key  []byte `json:"key"`  // PKCS #8 DER
	Cert []byte `json:"cert"` // DER
}

func (s Set) ad(id string) []byte { return []byte(s.AD + id) }

func (s Set) rand() io.Reader {
	if s.Rand != nil {
		return s.Rand
	}
	return rand.Reader
}

// State returns k's state: StateSigning, StatePending or StateRetired.
func State(k store.Key) string {
	switch {
	case len(k.Sealed) == 0:
		return StateRetired
	case k.Active:
		return StateSigning
	}
	return StatePending
}

// Sort orders keys oldest first (by CreatedAt, then ID).
func Sort(ks []store.Key) {
	slices.SortFunc(ks, func(a, b store.Key) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// List returns the stored keys of s's Kind, oldest first, making and
// storing a signing key first when none is signing. Replicas that make one
// at once each store theirs; callers choose among them by age.
func (s Set) List(ctx context.Context) ([]store.Key, error) {
	ks, err := s.Store.ListKeys(ctx, s.Purpose)
	if err != nil {
		return nil, fmt.Errorf("list %s keys: %w", s.Role, err)
	}
	if slices.ContainsFunc(ks, func(k store.Key) bool { return State(k) == StateSigning }) {
		Sort(ks)
		return ks, nil
	}
	k, err := s.New(true)
	if err != nil {
		return nil, err
	}
	err = s.Store.Update(ctx, func(tx store.Tx) error {
		if err := tx.PutKey(ctx, k); err != nil {
			return err
		}
		ks, err = tx.ListKeys(ctx, s.Purpose)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store %s key: %w", s.Role, err)
	}
	Sort(ks)
	return ks, nil
}

// New makes an RSA 2048 key (the size every SAML peer, AWS IAM included,
// accepts) with a self-signed certificate valid from an hour ago for
// Kind.Years, sealed as a store.Key of Kind.Purpose that is Active when
// active says so. It does not store it.
func (s Set) New(active bool) (*store.Key, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate %s key: %w", s.Role, err)
	}
	serial := make([]byte, 16)
	if _, err := io.ReadFull(s.rand(), serial); err != nil {
		return nil, err
	}
	now := s.Now().UTC()
	host := s.BaseURL
	if u, err := url.Parse(s.BaseURL); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	tmpl := &x509.Certificate{
		SerialNumber: new(big.Int).SetBytes(serial),
		Subject:      pkix.Name{CommonName: host, Organization: []string{s.Organization}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(s.Years, 0, 0),
		KeyUsage:     s.Usage,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		return nil, fmt.Errorf("make %s certificate: %w", s.Role, err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	pt, err := json.Marshal(stored{Key: pkcs8, Cert: der})
	if err != nil {
		return nil, err
	}
	idb := make([]byte, 8)
	if _, err := io.ReadFull(s.rand(), idb); err != nil {
		return nil, err
	}
	id := hex.EncodeToString(idb)
	sealed, err := s.Ring.Seal(keyring.PurposeSecrets, pt, s.ad(id))
	if err != nil {
		return nil, fmt.Errorf("seal %s key: %w", s.Role, err)
	}
	return &store.Key{ID: id, Purpose: s.Purpose, Sealed: []byte(sealed), CreatedAt: now, Active: active}, nil
}

// Open unseals and parses k, through Cache when there is one. A retired
// key (nothing sealed) does not open.
func (s Set) Open(k store.Key) (*Pair, error) {
	if s.Cache == nil {
		return s.open(k)
	}
	c := s.Cache
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.opened[k.ID]; ok {
		return p, nil
	}
	p, err := s.open(k)
	if err != nil {
		return nil, err
	}
	if c.opened == nil {
		c.opened = make(map[string]*Pair)
	}
	c.opened[k.ID] = p
	return p, nil
}

func (s Set) open(k store.Key) (*Pair, error) {
	pt, err := s.Ring.Open(keyring.PurposeSecrets, string(k.Sealed), s.ad(k.ID))
	if err != nil {
		return nil, fmt.Errorf("open %s key %s: %w", s.Role, k.ID, err)
	}
	var st stored
	if err := json.Unmarshal(pt, &st); err != nil {
		return nil, fmt.Errorf("decode %s key %s: %w", s.Role, k.ID, err)
	}
	pk, err := x509.ParsePKCS8PrivateKey(st.Key)
	if err != nil {
		return nil, fmt.Errorf("parse %s key %s: %w", s.Role, k.ID, err)
	}
	rk, ok := pk.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s key %s is not an RSA key", s.Role, k.ID)
	}
	cert, err := x509.ParseCertificate(st.Cert)
	if err != nil {
		return nil, fmt.Errorf("parse %s certificate %s: %w", s.Role, k.ID, err)
	}
	return &Pair{Key: rk, Cert: cert}, nil
}
