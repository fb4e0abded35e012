package keyring

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"sync"
	"testing"
)

// TestHashWithIsHMACSHA256 checks hashWith, whose HMAC states are pooled
// and reused, against HMAC-SHA256 computed afresh, from many goroutines at
// once (run with -race) and for values of every length around the block
// size.
func TestHashWithIsHMACSHA256(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	k := key{id: "k1", secret: secret, macs: newMACs(secret)}
	want := func(v string) string {
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(v))
		return "k1." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for n := range 130 {
				v := fmt.Sprintf("%d-%0*d", g, n, 0)
				if got := hashWith(k, v); got != want(v) {
					t.Errorf("hashWith(%q) = %q, want %q", v, got, want(v))
					return
				}
			}
		})
	}
	wg.Wait()
}

// BenchmarkHashWith compares hashWith with the HMAC made afresh per call,
// as it was before its states were pooled:
//
//	go test -run '^$' -bench HashWith -benchmem ./internal/keyring
func BenchmarkHashWith(b *testing.B) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	k := key{id: "k1", secret: secret, macs: newMACs(secret)}
	v := "aor" + base64.RawURLEncoding.EncodeToString(make([]byte, 32)) // a refresh token's length
	b.Run("pooled", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			hashWith(k, v)
		}
	})
	b.Run("fresh", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m := hmac.New(sha256.New, secret)
			m.Write([]byte(v))
			_ = k.id + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
		}
	})
}
