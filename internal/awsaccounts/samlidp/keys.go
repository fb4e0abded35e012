package samlidp

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/keyring"
	"github.com/gatehouse-dev/gatehouse/internal/samlkey"
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
	StateSigning = samlkey.StateSigning
	StatePending = samlkey.StatePending
	StateRetired = samlkey.StateRetired
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

	opened samlkey.Cache
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

// keys is the IdP's key set: RSA 2048 keys with self-signed certificates
// valid for 10 years (AWS IAM reads the certificate as a bare key; its
// expiry is not checked against a chain, but rotation is how a key ends).
func (p *IdP) keys() samlkey.Set {
	return samlkey.Set{
		Kind: samlkey.Kind{
			Purpose:      KeyPurpose,
			Role:         "SAML IdP",
			AD:           "gatehouse/saml/idp-key/",
			Organization: "Gatehouse SAML identity provider",
			Years:        10,
			Usage:        x509.KeyUsageDigitalSignature,
		},
		Store: p.Store, Ring: p.Keys, BaseURL: p.BaseURL, Now: p.Now, Rand: p.Rand,
		Cache: &p.opened,
	}
}

// signer returns the key that signs now (the newest signing one) and the
// certificates to publish (every signing and pending key's, oldest first).
// Replicas that make the first key at once each store theirs; the newest
// signs and all are published.
func (p *IdP) signer(ctx context.Context) (*samlkey.Pair, []*x509.Certificate, error) {
	ks, err := p.keys().List(ctx)
	if err != nil {
		return nil, nil, err
	}
	var sign *samlkey.Pair
	var certs []*x509.Certificate
	for _, k := range ks {
		st := samlkey.State(k)
		if st == StateRetired {
			continue
		}
		sk, err := p.keys().Open(k)
		if err != nil {
			return nil, nil, err
		}
		certs = append(certs, sk.Cert)
		if st == StateSigning {
			sign = sk
		}
	}
	return sign, certs, nil
}

// KeyInfos lists the IdP's keys, oldest first, making the first one if there
// is none.
func (p *IdP) KeyInfos(ctx context.Context) ([]KeyInfo, error) {
	ks, err := p.keys().List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]KeyInfo, 0, len(ks))
	for _, k := range ks {
		ki := KeyInfo{ID: k.ID, State: samlkey.State(k), CreatedAt: k.CreatedAt}
		if ki.State != StateRetired {
			sk, err := p.keys().Open(k)
			if err != nil {
				return nil, err
			}
			sum := sha256.Sum256(sk.Cert.Raw)
			ki.NotAfter, ki.SHA256 = sk.Cert.NotAfter, hex.EncodeToString(sum[:])
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
	ks, err := p.keys().List(ctx)
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
		if samlkey.State(ks[i]) == StatePending {
			next = &ks[i]
		}
	}
	if next == nil {
		if next, err = p.keys().New(false); err != nil {
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
			case samlkey.State(k) == StateRetired:
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
	p.opened.Keep(next.ID)
	if p.Publish != nil {
		if err := p.Publish(ctx); err != nil {
			return next.ID, fmt.Errorf("key %s signs now, but removing the retired certificate from the linked accounts failed (harmless; it is retried at the next rotation or link refresh): %w", next.ID, err)
		}
	}
	return next.ID, nil
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
