package oidc

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/keyring"
	"github.com/gatehouse-dev/gatehouse/internal/session"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// tokenEntry is a verified access token in the cache.
type tokenEntry struct {
	p         session.Principal
	expiresAt time.Time // the token's expiry (never after the grant's)
	checkedAt time.Time // when the store last confirmed it
}

// tokenCache holds verified access tokens by hash, so that the
// portal API does not read the database per request (GetRoleCredentials is
// the hot path). Entries are re-checked for revocation on every use.
//
// It is bounded twice: entries whose token has expired are dropped by a
// sweep on insert at most once per tokenSweepInterval, so under steady
// traffic it holds about one AccessTokenLifetime of tokens used on this
// replica; and it never holds more than maxCachedTokens.
type tokenCache struct {
	mu      sync.RWMutex
	m       map[tokenKey]*tokenEntry
	sweptAt time.Time // when expired entries were last dropped
}

// tokenKey is the cache key of a bearer token: its SHA-256. The token is
// 256 random bits, so an unkeyed hash is enough in memory (the keyed hash
// is for storage) and saves an HMAC and an allocation per request.
type tokenKey [sha256.Size]byte

const maxCachedTokens = 1 << 16

// tokenSweepInterval is how often at most put walks the cache to drop
// expired entries (one pass over at most maxCachedTokens entries).
const tokenSweepInterval = time.Minute

func (c *tokenCache) get(hash tokenKey) *tokenEntry {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.m[hash]
}

func (c *tokenCache) put(hash tokenKey, e *tokenEntry, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[tokenKey]*tokenEntry)
	}
	if d := now.Sub(c.sweptAt); d >= tokenSweepInterval || d < 0 {
		c.sweptAt = now
		for k, old := range c.m {
			if !now.Before(old.expiresAt) {
				delete(c.m, k)
			}
		}
	}
	if len(c.m) >= maxCachedTokens {
		// Drop an arbitrary eighth (map order is random): cheap, and the
		// dropped tokens are simply verified against the store again.
		n := maxCachedTokens / 8
		for k := range c.m {
			delete(c.m, k)
			if n--; n == 0 {
				break
			}
		}
	}
	c.m[hash] = e
}

func (c *tokenCache) drop(hash tokenKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, hash)
}

// dropGrant forgets every cached token of a grant.
func (c *tokenCache) dropGrant(grantID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.m {
		if e.p.GrantID == grantID {
			delete(c.m, k)
		}
	}
}

// dropSession forgets every cached token issued under a portal session.
func (c *tokenCache) dropSession(sessionID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.m {
		if e.p.SessionID == sessionID {
			delete(c.m, k)
		}
	}
}

func invalidToken(why string) error { return fmt.Errorf("%w: %s", ErrInvalidToken, why) }

// AuthenticateAccessToken checks a bearer access token (portal API).
// Unknown, expired or revoked tokens (grant revoked, user disabled or
// deleted, portal session ended) give an error wrapping ErrInvalidToken.
// In steady state it reads nothing from the database: the token is found
// in the cache and revocation is answered by Cache.
func (s *Service) AuthenticateAccessToken(ctx context.Context, token string) (*session.Principal, error) {
	if token == "" {
		return nil, invalidToken("no token")
	}
	now := s.now()
	key := tokenKey(sha256.Sum256([]byte(token)))
	if e := s.tokens.get(key); e != nil {
		if !now.Before(e.expiresAt) {
			s.tokens.drop(key)
			return nil, invalidToken("expired")
		}
		if s.Cache != nil {
			revoked, err := s.Cache.Revoked(ctx, e.p.UserID, e.p.GrantID, e.p.SessionID, e.p.IssuedAt)
			if err != nil {
				return nil, fmt.Errorf("check revocation: %w", err)
			}
			if revoked {
				s.tokens.drop(key)
				return nil, invalidToken("revoked")
			}
			p := e.p
			return &p, nil
		}
		// Without a Cache, trust the entry for recheckEvery, then ask the
		// store again, so other replicas' revocations are seen within 1 s.
		if now.Sub(e.checkedAt) < recheckEvery {
			p := e.p
			return &p, nil
		}
	}
	e, err := s.verifyAccessToken(ctx, token, now)
	if err != nil {
		s.tokens.drop(key)
		return nil, err
	}
	s.tokens.put(key, e, now)
	p := e.p
	return &p, nil
}

// verifyAccessToken checks an access token against the store.
func (s *Service) verifyAccessToken(ctx context.Context, token string, now time.Time) (*tokenEntry, error) {
	t, err := keyring.Find(ctx, s.Keys, token, func(h string) (*store.Token, error) { return s.Store.GetToken(ctx, h) })
	if errors.Is(err, store.ErrNotFound) {
		return nil, invalidToken("unknown")
	} else if err != nil {
		return nil, err
	}
	if t.Kind != store.TokenAccess {
		return nil, invalidToken("not an access token")
	}
	if !now.Before(t.ExpiresAt) {
		return nil, invalidToken("expired")
	}
	g, err := s.Store.GetGrant(ctx, t.GrantID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, invalidToken("grant gone")
	} else if err != nil {
		return nil, err
	}
	if !g.RevokedAt.IsZero() || !now.Before(g.ExpiresAt) {
		return nil, invalidToken("grant ended")
	}
	u, _, why, err := s.grantCheck(ctx, s.Store, g.UserID, g.SessionID, now)
	if err != nil {
		return nil, err
	}
	if why != "" {
		return nil, invalidToken(why)
	}
	revoked, err := s.revoked(ctx, g.UserID, g.ID, g.SessionID, g.CreatedAt)
	if err != nil {
		return nil, fmt.Errorf("check revocation: %w", err)
	}
	if revoked {
		return nil, invalidToken("revoked")
	}
	exp := t.ExpiresAt
	if g.ExpiresAt.Before(exp) {
		exp = g.ExpiresAt
	}
	return &tokenEntry{
		p: session.Principal{
			UserID: u.ID, UserName: u.UserName, GrantID: g.ID, SessionID: g.SessionID,
			MFA: g.MFA, AuthTime: g.AuthTime, IssuedAt: g.CreatedAt,
		},
		expiresAt: exp,
		checkedAt: now,
	}, nil
}

// Logout revokes the token's grant (all its access and refresh tokens) and
// the portal session it came from, and writes revocation records (grant and
// session) so that role credentials issued under them stop verifying on
// Gatehouse's own APIs (DESIGN §6). An access token that has merely expired
// still logs out (the CLI sends whatever token it cached); an unknown token
// or one whose grant is already revoked gives an error wrapping
// ErrInvalidToken.
func (s *Service) Logout(ctx context.Context, token string) error {
	if token == "" {
		return invalidToken("no token")
	}
	t, err := keyring.Find(ctx, s.Keys, token, func(h string) (*store.Token, error) { return s.Store.GetToken(ctx, h) })
	if errors.Is(err, store.ErrNotFound) {
		return invalidToken("unknown")
	} else if err != nil {
		return err
	}
	if t.Kind != store.TokenAccess {
		return invalidToken("not an access token")
	}
	g, err := s.Store.GetGrant(ctx, t.GrantID)
	if errors.Is(err, store.ErrNotFound) {
		return invalidToken("grant gone")
	} else if err != nil {
		return err
	}
	if !g.RevokedAt.IsZero() {
		return invalidToken("already revoked")
	}
	p := &session.Principal{UserID: g.UserID, GrantID: g.ID, SessionID: g.SessionID}
	if u, err := s.Store.GetUser(ctx, g.UserID); err == nil {
		p.UserName = u.UserName
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	now := s.now()
	a := audit.ActorFrom(ctx)
	a.Identity = audit.Identity{Type: "IdentityCenterUser", PrincipalID: p.UserID, UserID: p.UserID, UserName: p.UserName}
	ctx = audit.WithActor(ctx, a)
	err = s.Store.Update(ctx, func(tx store.Tx) error {
		if err := s.revokeGrant(ctx, tx, p.GrantID, now); err != nil {
			return err
		}
		sess, err := tx.GetSession(ctx, p.SessionID)
		if err == nil && sess.RevokedAt.IsZero() {
			sess.RevokedAt = now
			if err := tx.UpdateSession(ctx, sess); err != nil {
				return err
			}
		} else if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err := tx.PutRevocation(ctx, &store.Revocation{
			Kind: store.RevokeSession, Subject: p.SessionID, At: now, ExpiresAt: now.Add(s.revocationTTL()),
		}); err != nil {
			return err
		}
		return s.Audit.Record(ctx, tx, audit.Entry{Source: audit.SourcePortal, Name: "Logout"})
	})
	if err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	s.tokens.dropGrant(p.GrantID)
	s.tokens.dropSession(p.SessionID)
	return nil
}
