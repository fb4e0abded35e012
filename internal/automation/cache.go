package automation

import (
	"context"
	"sync"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// DefaultCacheTTL is how long Service trusts a key or user it read for
// SigV4 authentication and authorization. Writes through this process's
// store drop the cache at once (Invalidate, registered with
// store.Store.OnChange), so a disabled key is refused on the very next
// request here; other replicas see the change within this time, inside the
// 1 s that DESIGN §6 allows.
const DefaultCacheTTL = 500 * time.Millisecond

// maxCached bounds each map; when full it is emptied before the next
// insert.
const maxCached = 1 << 14

type cachedKey struct {
	p      *KeyPrincipal
	secret string
	at     time.Time
}

type cachedUser struct {
	u  *store.IAMUser
	at time.Time
}

// cache holds recently looked-up access keys (with their unsealed secret)
// and users. A miss, or a negative answer, always goes to the store.
type cache struct {
	mu    sync.Mutex
	gen   uint64
	keys  map[string]cachedKey
	users map[string]cachedUser
}

// Invalidate forgets every cached key and user. It is quick and does not
// use the store, as store.Store.OnChange requires.
func (s *Service) Invalidate() {
	s.cache.mu.Lock()
	s.cache.gen++
	s.cache.keys, s.cache.users = nil, nil
	s.cache.mu.Unlock()
}

func (s *Service) ttl() time.Duration {
	if s.CacheTTL < 0 {
		return 0
	}
	if s.CacheTTL == 0 {
		return DefaultCacheTTL
	}
	return s.CacheTTL
}

// UserByID returns the IAM user with the given ID, from the cache when
// read less than the cache TTL ago.
func (s *Service) UserByID(ctx context.Context, id string) (*store.IAMUser, error) {
	now := s.Now()
	c := &s.cache
	c.mu.Lock()
	e, ok := c.users[id]
	gen := c.gen
	c.mu.Unlock()
	if ok && now.Sub(e.at) < s.ttl() {
		return e.u, nil
	}
	u, err := s.Store.GetIAMUserByID(ctx, id)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.gen == gen {
		if c.users == nil || len(c.users) >= maxCached {
			c.users = map[string]cachedUser{}
		}
		c.users[id] = cachedUser{u: u, at: now}
	}
	c.mu.Unlock()
	return u, nil
}

func (s *Service) cachedKey(id string, now time.Time) (*KeyPrincipal, string, uint64, bool) {
	c := &s.cache
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.keys[id]
	if ok && now.Sub(e.at) < s.ttl() {
		return e.p, e.secret, c.gen, true
	}
	return nil, "", c.gen, false
}

func (s *Service) putKey(id string, p *KeyPrincipal, secret string, now time.Time, gen uint64) {
	c := &s.cache
	c.mu.Lock()
	defer c.mu.Unlock()
	// A write since the read began may have changed what was read.
	if c.gen != gen {
		return
	}
	if c.keys == nil || len(c.keys) >= maxCached {
		c.keys = map[string]cachedKey{}
	}
	c.keys[id] = cachedKey{p: p, secret: secret, at: now}
}
