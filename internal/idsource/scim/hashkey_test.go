package scim_test

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/idsource/scim"
	"github.com/gatehouse-dev/gatehouse/internal/keyring"
	"github.com/gatehouse-dev/gatehouse/internal/store/sqlite"
)

// TestTokenHashRotationOnOneSQLiteFile: two handles with their own key
// rings on one SQLite file, as a server and another process on its
// database. After the first rotates the token-hash key and issues a SCIM
// token (hashed under the new key), the second authenticates it without
// reopening its ring, and still authenticates one of the older key.
func TestTokenHashRotationOnOneSQLiteFile(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "db")
	master := bytes.Repeat([]byte{9}, 32)
	var ids atomic.Int64
	tokens := func() *scim.Tokens {
		st, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		ring, err := keyring.Open(ctx, st, master, rand.Reader, time.Now)
		if err != nil {
			t.Fatal(err)
		}
		rec := &audit.Recorder{Now: time.Now, NewID: func() string { return fmt.Sprint("ev-", ids.Add(1)) }, Region: "us-east-1", Account: "111111111111"}
		return &scim.Tokens{Store: st, Keys: ring, Audit: rec, Now: time.Now, Rand: rand.Reader}
	}
	a, b := tokens(), tokens()
	old, _, err := a.Create(ctx, "before", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Keys.Rotate(ctx, a.Store, keyring.PurposeTokenHash, time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	fresh, _, err := a.Create(ctx, "after", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Authenticate(ctx, string(fresh)); err != nil {
		t.Fatalf("the second handle refuses a token hashed under the just-rotated key: %v", err)
	}
	if _, err := b.Authenticate(ctx, string(old)); err != nil {
		t.Fatalf("the second handle refuses a token of the older key: %v", err)
	}
}
