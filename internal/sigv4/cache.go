package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"sync"
)

// keyCache holds derived signing keys. It is bounded by keeping two
// generations of at most max/2 entries each: when the current generation is
// full it becomes the old one and the previous old one is dropped; a hit in
// the old generation is promoted. Entries are keyed by a SHA-256 digest of
// secret and scope, so the cache never holds a secret.
type keyCache struct {
	mu       sync.Mutex
	half     int
	cur, old map[[32]byte][32]byte
}

func newKeyCache(size int) *keyCache {
	half := max(size/2, 1)
	return &keyCache{half: half, cur: make(map[[32]byte][32]byte, half)}
}

// signingKey returns the SigV4 signing key for secret and the scope parts,
// deriving it (AWS SigV4 reference, "Derive a signing key") on a miss.
func (c *keyCache) signingKey(secret, date, region, service string) [32]byte {
	var buf [256]byte
	b := append(buf[:0], secret...)
	for _, s := range [...]string{date, region, service} {
		b = append(b, 0)
		b = append(b, s...)
	}
	id := sha256.Sum256(b)
	clear(b)

	c.mu.Lock()
	k, ok := c.cur[id]
	if !ok {
		if k, ok = c.old[id]; ok {
			c.putLocked(id, k)
		}
	}
	c.mu.Unlock()
	if ok {
		return k
	}

	k = deriveKey(secret, date, region, service)
	c.mu.Lock()
	c.putLocked(id, k)
	c.mu.Unlock()
	return k
}

func (c *keyCache) putLocked(id, k [32]byte) {
	if len(c.cur) >= c.half {
		c.old, c.cur = c.cur, make(map[[32]byte][32]byte, c.half)
	}
	c.cur[id] = k
}

// len returns the number of cached keys.
func (c *keyCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.cur) + len(c.old)
}

func deriveKey(secret, date, region, service string) [32]byte {
	k := hmacSum([]byte("AWS4"+secret), date)
	k = hmacSum(k[:], region)
	k = hmacSum(k[:], service)
	return hmacSum(k[:], scopeTerminator)
}

func hmacSum(key []byte, data string) [32]byte {
	var out [32]byte
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	m.Sum(out[:0])
	return out
}
