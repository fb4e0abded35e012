package keyring_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/keyring"
	"github.com/gatehouse-dev/gatehouse/internal/store/sqlite"
)

func TestMasterKeyFile(t *testing.T) {
	dir := t.TempDir()
	k1, err := keyring.LoadMasterKey("", filepath.Join(dir, "master.key"), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := keyring.LoadMasterKey("", filepath.Join(dir, "master.key"), rand.Reader)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("second load gave another key (%v)", err)
	}
	fi, err := os.Stat(filepath.Join(dir, "master.key"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("master.key: %v, mode %v", err, fi.Mode())
	}
	enc := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{1}, 32))
	if k, err := keyring.LoadMasterKey(enc, filepath.Join(dir, "master.key"), rand.Reader); err != nil || !bytes.Equal(k, bytes.Repeat([]byte{1}, 32)) {
		t.Fatalf("explicit key: %v", err)
	}
	if _, err := keyring.LoadMasterKey("c2hvcnQ=", filepath.Join(dir, "master.key"), rand.Reader); err == nil {
		t.Fatal("short key accepted")
	}
}

func TestSealHashRotate(t *testing.T) {
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	master := bytes.Repeat([]byte{7}, 32)
	ring, err := keyring.Open(ctx, st, master, rand.Reader, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := ring.Seal(keyring.PurposeSeal, []byte("secret payload"), []byte("ASIAEXAMPLE"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, "secret") || strings.ContainsAny(sealed, "+/=") {
		t.Fatalf("sealed value %q is not opaque URL-safe text", sealed)
	}
	if pt, err := ring.Open(keyring.PurposeSeal, sealed, []byte("ASIAEXAMPLE")); err != nil || string(pt) != "secret payload" {
		t.Fatalf("Open = %q, %v", pt, err)
	}
	if _, err := ring.Open(keyring.PurposeSeal, sealed, []byte("ASIAOTHER")); !errors.Is(err, keyring.ErrUnsealable) {
		t.Fatalf("other additional data opened: %v", err)
	}
	forged := []byte(sealed)
	forged[len(forged)-3] ^= 1
	if _, err := ring.Open(keyring.PurposeSeal, string(forged), []byte("ASIAEXAMPLE")); !errors.Is(err, keyring.ErrUnsealable) {
		t.Fatalf("forged value opened: %v", err)
	}
	if _, err := ring.Open(keyring.PurposeSecrets, sealed, []byte("ASIAEXAMPLE")); !errors.Is(err, keyring.ErrUnsealable) {
		t.Fatalf("value of another purpose opened: %v", err)
	}

	h1 := ring.Hash("token-value")
	if h1 != ring.Hash("token-value") || h1 == ring.Hash("token-valuf") || strings.Contains(h1, "token") {
		t.Fatalf("Hash is not a stable keyed hash: %q", h1)
	}

	// A second replica with the same master key opens what the first sealed.
	ring2, err := keyring.Open(ctx, st, master, rand.Reader, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ring2.Open(keyring.PurposeSeal, sealed, []byte("ASIAEXAMPLE")); err != nil || ring2.Hash("token-value") != h1 {
		t.Fatalf("second ring disagrees: %v", err)
	}
	// A wrong master key cannot unseal the stored keys.
	if _, err := keyring.Open(ctx, st, bytes.Repeat([]byte{8}, 32), rand.Reader, time.Now); err == nil {
		t.Fatal("wrong master key opened the ring")
	}

	// After a rotation new values use the new key and old ones still open.
	if err := ring.Rotate(ctx, st, keyring.PurposeSeal, time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := ring.Rotate(ctx, st, keyring.PurposeTokenHash, time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := ring.Open(keyring.PurposeSeal, sealed, []byte("ASIAEXAMPLE")); err != nil {
		t.Fatalf("old value after rotation: %v", err)
	}
	sealed2, _ := ring.Seal(keyring.PurposeSeal, []byte("x"), nil)
	if strings.Split(sealed2, ".")[0] == strings.Split(sealed, ".")[0] {
		t.Fatal("rotation did not change the sealing key")
	}
	if hs := ring.Hashes("token-value"); len(hs) != 2 || hs[1] != h1 || hs[0] == h1 {
		t.Fatalf("Hashes after rotation = %v, want [new, %s]", hs, h1)
	}
}
