package samlkey_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse/internal/keyring"
	"github.com/gatehouse-dev/gatehouse/internal/samlkey"
	"github.com/gatehouse-dev/gatehouse/internal/store"
	"github.com/gatehouse-dev/gatehouse/internal/store/sqlite"
)

var (
	now  = time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	kind = samlkey.Kind{
		Purpose:      "saml-test",
		Role:         "SAML test",
		AD:           "gatehouse/saml/test-key/",
		Organization: "Gatehouse SAML test",
		Years:        10,
		Usage:        x509.KeyUsageDigitalSignature,
	}
)

// newSet returns a Set of kind over a fresh SQLite store and keyring, its
// clock at now (in another zone, which New must turn into UTC).
func newSet(t *testing.T) samlkey.Set {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "gatehouse.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	master := make([]byte, keyring.MasterKeySize)
	rand.Read(master)
	ring, err := keyring.Open(t.Context(), st, master, rand.Reader, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	return samlkey.Set{
		Kind: kind, Store: st, Ring: ring, BaseURL: "https://gatehouse.example.com:8443",
		Now: func() time.Time { return now.In(time.FixedZone("CET", 3600)) },
	}
}

func TestNewOpen(t *testing.T) {
	s := newSet(t)
	s.Rand = bytes.NewReader(bytes.Repeat([]byte{0xab}, 24))
	k, err := s.New(false)
	if err != nil {
		t.Fatal(err)
	}
	want := store.Key{ID: "abababababababab", Purpose: kind.Purpose, CreatedAt: now, Active: false}
	got := *k
	got.Sealed = nil
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("key (-want +got):\n%s", diff)
	}
	if len(k.Sealed) == 0 || bytes.Contains(k.Sealed, []byte("PRIVATE KEY")) || bytes.Contains(k.Sealed, []byte(`"key"`)) {
		t.Fatalf("sealed value looks unsealed: %.80q", k.Sealed)
	}
	p, err := s.Open(*k)
	if err != nil {
		t.Fatal(err)
	}
	c := p.Cert
	if c.Subject.CommonName != "gatehouse.example.com" || len(c.Subject.Organization) != 1 || c.Subject.Organization[0] != kind.Organization {
		t.Errorf("subject %v", c.Subject)
	}
	if c.SerialNumber.Text(16) != strings.Repeat("ab", 16) {
		t.Errorf("serial %x, want the 16 bytes Rand gave", c.SerialNumber)
	}
	if !c.NotBefore.Equal(now.Add(-time.Hour)) || !c.NotAfter.Equal(now.AddDate(10, 0, 0)) {
		t.Errorf("valid %s to %s", c.NotBefore, c.NotAfter)
	}
	if c.KeyUsage != kind.Usage {
		t.Errorf("key usage %v, want %v", c.KeyUsage, kind.Usage)
	}
	if err := c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature); err != nil {
		t.Errorf("certificate is not self-signed: %v", err)
	}
	if pub, ok := c.PublicKey.(*rsa.PublicKey); !ok || !pub.Equal(&p.Key.PublicKey) || p.Key.N.BitLen() != 2048 {
		t.Errorf("certificate key does not match the RSA 2048 private key")
	}
}

// TestSealBinding checks that a sealed key opens only under its own ID and
// its own kind's additional data.
func TestSealBinding(t *testing.T) {
	s := newSet(t)
	k, err := s.New(true)
	if err != nil {
		t.Fatal(err)
	}
	moved := *k
	moved.ID = "0000000000000000"
	if _, err := s.Open(moved); err == nil || !strings.Contains(err.Error(), "open SAML test key 0000000000000000") {
		t.Errorf("key under another ID: err = %v", err)
	}
	other := s
	other.AD = "gatehouse/saml/other-key/"
	if _, err := other.Open(*k); err == nil {
		t.Error("key opened under another kind's additional data")
	}
	retired := *k
	retired.Sealed = nil
	if _, err := s.Open(retired); err == nil {
		t.Error("a retired key opened")
	}
}

func TestState(t *testing.T) {
	for _, tc := range []struct {
		name string
		key  store.Key
		want string
	}{
		{"active sealed", store.Key{Active: true, Sealed: []byte("x")}, samlkey.StateSigning},
		{"inactive sealed", store.Key{Sealed: []byte("x")}, samlkey.StatePending},
		{"active erased", store.Key{Active: true}, samlkey.StateRetired},
		{"inactive erased", store.Key{}, samlkey.StateRetired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := samlkey.State(tc.key); got != tc.want {
				t.Errorf("State = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSort(t *testing.T) {
	ks := []store.Key{
		{ID: "c", CreatedAt: now.Add(time.Second)},
		{ID: "b", CreatedAt: now},
		{ID: "a", CreatedAt: now},
		{ID: "d", CreatedAt: now.Add(-time.Second)},
	}
	samlkey.Sort(ks)
	var ids []string
	for _, k := range ks {
		ids = append(ids, k.ID)
	}
	if diff := cmp.Diff([]string{"d", "a", "b", "c"}, ids); diff != "" {
		t.Fatalf("order (-want +got):\n%s", diff)
	}
}

// TestList checks that List makes a signing key when none is signing, and
// only then.
func TestList(t *testing.T) {
	ctx := t.Context()
	s := newSet(t)
	ks, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ks) != 1 || samlkey.State(ks[0]) != samlkey.StateSigning {
		t.Fatalf("first List = %+v, want one signing key", ks)
	}
	first := ks[0].ID
	if ks, err = s.List(ctx); err != nil || len(ks) != 1 || ks[0].ID != first {
		t.Fatalf("second List = %+v, %v; want the same key", ks, err)
	}

	// A pending key is listed, oldest first, and makes no new one.
	s.Now = func() time.Time { return now.Add(time.Minute) }
	pending, err := s.New(false)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Store.Update(ctx, func(tx store.Tx) error { return tx.PutKey(ctx, pending) }); err != nil {
		t.Fatal(err)
	}
	if ks, err = s.List(ctx); err != nil || len(ks) != 2 || ks[0].ID != first || ks[1].ID != pending.ID {
		t.Fatalf("List with a pending key = %+v, %v", ks, err)
	}

	// Once the signing key is retired and the other is still pending, a
	// new signing key is made.
	ks[0].Active, ks[0].Sealed = false, nil
	if err := s.Store.Update(ctx, func(tx store.Tx) error { return tx.PutKey(ctx, &ks[0]) }); err != nil {
		t.Fatal(err)
	}
	s.Now = func() time.Time { return now.Add(2 * time.Minute) }
	if ks, err = s.List(ctx); err != nil || len(ks) != 3 {
		t.Fatalf("List with no signing key = %+v, %v; want three keys", ks, err)
	}
	var states []string
	for _, k := range ks {
		states = append(states, samlkey.State(k))
	}
	if diff := cmp.Diff([]string{samlkey.StateRetired, samlkey.StatePending, samlkey.StateSigning}, states); diff != "" {
		t.Fatalf("states (-want +got):\n%s", diff)
	}
}

func TestCache(t *testing.T) {
	s := newSet(t)
	s.Cache = new(samlkey.Cache)
	a, err := s.New(true)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.New(false)
	if err != nil {
		t.Fatal(err)
	}
	pa, _ := s.Open(*a)
	pb, _ := s.Open(*b)
	if again, _ := s.Open(*a); again != pa {
		t.Error("second Open of a key did not come from the cache")
	}
	s.Cache.Keep(b.ID)
	if again, _ := s.Open(*b); again != pb {
		t.Error("Keep forgot the key it keeps")
	}
	if again, err := s.Open(*a); err != nil || again == pa {
		t.Errorf("Keep kept a key it should forget (err %v)", err)
	}
	// Without a cache every Open parses afresh.
	s.Cache = nil
	if again, _ := s.Open(*b); again == pb {
		t.Error("Open without a cache returned a cached key")
	}
}
