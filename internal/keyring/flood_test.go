package keyring_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/keyring"
)

// TestForgedKeyIDFloodIsBounded: values naming key IDs that exist nowhere
// (forged session tokens anyone can send to STS) make the ring read its
// keys at most once per keyring.MinReloadInterval, however many arrive,
// and a value sealed under a key rotated in by another replica during the
// flood still opens.
func TestForgedKeyIDFloodIsBounded(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "db")
	st := &countingStore{Store: openSQLite(t, path)}
	master := bytes.Repeat([]byte{7}, 32)
	r, err := keyring.Open(ctx, st, master, rand.Reader, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	other, err := keyring.Open(ctx, openSQLite(t, path), master, rand.Reader, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	st.lists.Store(0)
	const g, per = 16, 10
	start := time.Now()
	var wg sync.WaitGroup
	for i := range g {
		wg.Go(func() {
			for j := range per {
				forged := fmt.Sprintf("f%03d%04d.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", i, j)
				if _, err := r.Open(keyring.PurposeSeal, forged, nil); !errors.Is(err, keyring.ErrUnsealable) {
					t.Errorf("forged value: %v, want ErrUnsealable", err)
					return
				}
			}
		})
	}
	// Another replica rotates in the middle of the flood.
	if err := other.Rotate(ctx, openSQLite(t, path), keyring.PurposeSeal, time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	sealed, err := other.Seal(keyring.PurposeSeal, []byte("new"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := r.Open(keyring.PurposeSeal, sealed, nil); err != nil || string(pt) != "new" {
		t.Fatalf("a value of the key rotated in during the flood: %q, %v", pt, err)
	}
	wg.Wait()
	elapsed := time.Since(start)
	if n, most := st.lists.Load(), int64(elapsed/keyring.MinReloadInterval)+2; n > most {
		t.Fatalf("%d forged values made %d key reads in %v, want at most %d (one per %v)", g*per, n, elapsed, most, keyring.MinReloadInterval)
	}
}
