package scim

import (
	"context"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/keyring"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// DefaultTokenTTL is how long a SCIM token lasts unless the administrator
// says otherwise: one year, as IAM Identity Center's access tokens ("Generate
// an access token": tokens are valid for one year).
const DefaultTokenTTL = 365 * 24 * time.Hour

// MaxTokenTTL is the longest lifetime an administrator may give a token.
const MaxTokenTTL = 2 * 365 * 24 * time.Hour

// MaxTokens is how many tokens may exist at once. AWS allows two, so that
// one can be rotated while the other serves; Gatehouse allows a few more
// for several identity providers.
const MaxTokens = 10

// tokenPrefix starts every token, so that secret scanners and people can
// tell what a leaked one is.
const tokenPrefix = "ghscim_"

// touchEvery is how often at most a token's last use is written to the
// store per process (not a write per request).
const touchEvery = time.Minute

// Secret is a SCIM bearer token in clear: shown once when it is created,
// never stored or logged. String and LogValue hide it; Reveal gives it.
type Secret string

// String hides the token.
func (Secret) String() string { return "[secret]" }

// LogValue hides the token.
func (Secret) LogValue() slog.Value { return slog.StringValue("[secret]") }

// Reveal returns the token itself, for the one response that shows it.
func (s Secret) Reveal() string { return string(s) }

// Tokens issues, lists, revokes and checks SCIM bearer tokens. Only keyed
// hashes (keyring.Ring.Hash) are stored: a token is found by its hash, so
// the check is a constant-time MAC plus an index lookup, and a token of
// another instance (other keys) matches nothing.
type Tokens struct {
	Store store.Store
	Keys  *keyring.Ring
	Audit *audit.Recorder
	Now   func() time.Time
	Rand  io.Reader

	mu      sync.Mutex
	touched map[string]time.Time // token ID → last use written
}

// ErrUnauthorized is the answer of Authenticate to a missing, malformed,
// unknown, expired or revoked token alike.
var ErrUnauthorized = errors.New("the SCIM bearer token is missing, invalid, expired or revoked")

// Create issues a token valid for ttl (DefaultTokenTTL when zero) and
// returns it with its record; the token is in no log or audit event.
func (t *Tokens) Create(ctx context.Context, description string, ttl time.Duration) (Secret, *store.SCIMToken, error) {
	if ttl == 0 {
		ttl = DefaultTokenTTL
	}
	if ttl < time.Hour || ttl > MaxTokenTTL {
		return "", nil, fault.Validationf("A SCIM access token must last 1 hour to %d days", int(MaxTokenTTL/(24*time.Hour)))
	}
	if len(description) > 256 || strings.ContainsAny(description, "\x00\r\n") {
		return "", nil, fault.Validationf("Description must be at most 256 characters on one line")
	}
	raw := make([]byte, 32)
	if _, err := io.ReadFull(t.Rand, raw); err != nil {
		return "", nil, fmt.Errorf("generate SCIM token: %w", err)
	}
	idRaw := make([]byte, 8)
	if _, err := io.ReadFull(t.Rand, idRaw); err != nil {
		return "", nil, fmt.Errorf("generate SCIM token ID: %w", err)
	}
	secret := Secret(tokenPrefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw)))
	now := t.Now().UTC()
	rec := &store.SCIMToken{
		ID: "scimtok-" + hex.EncodeToString(idRaw), Hash: t.Keys.Hash(string(secret)), Description: description,
		CreatedAt: now, ExpiresAt: now.Add(ttl), CreatedBy: directory.PrincipalOf(audit.ActorFrom(ctx).Identity),
	}
	err := t.Store.Update(ctx, func(tx store.Tx) error {
		all, err := tx.ListSCIMTokens(ctx)
		if err != nil {
			return err
		}
		if len(all) >= MaxTokens {
			return fault.Quotaf("There are %d SCIM access tokens already; delete one first", len(all))
		}
		if err := tx.CreateSCIMToken(ctx, rec); err != nil {
			return err
		}
		return t.Audit.Record(ctx, tx, audit.Entry{
			Source: audit.SourceGatehouse, Name: "CreateSCIMAccessToken",
			Params:   map[string]string{"description": description, "expiresAt": rec.ExpiresAt.Format(time.RFC3339)},
			Response: map[string]string{"tokenId": rec.ID},
		})
	})
	if err != nil {
		return "", nil, err
	}
	return secret, rec, nil
}

// List returns every token (expired ones until the sweep removes them),
// oldest first.
func (t *Tokens) List(ctx context.Context) ([]store.SCIMToken, error) {
	return t.Store.ListSCIMTokens(ctx)
}

// Delete revokes a token: the very next request with it is refused, on
// every replica (tokens are looked up in the store on each request).
func (t *Tokens) Delete(ctx context.Context, id string) error {
	return t.Store.Update(ctx, func(tx store.Tx) error {
		if err := tx.DeleteSCIMToken(ctx, id); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return fault.NotFoundf("SCIM_ACCESS_TOKEN", id, "SCIM access token %s not found", id)
			}
			return err
		}
		return t.Audit.Record(ctx, tx, audit.Entry{
			Source: audit.SourceGatehouse, Name: "DeleteSCIMAccessToken",
			Params: map[string]string{"tokenId": id},
		})
	})
}

// Authenticate returns the record of a valid bearer token, or
// ErrUnauthorized. It records the use at most once a minute per token in
// this process.
func (t *Tokens) Authenticate(ctx context.Context, bearer string) (*store.SCIMToken, error) {
	if !strings.HasPrefix(bearer, tokenPrefix) || len(bearer) > 128 {
		return nil, ErrUnauthorized
	}
	rec, err := keyring.Find(ctx, t.Keys, bearer, func(h string) (*store.SCIMToken, error) { return t.Store.GetSCIMTokenByHash(ctx, h) })
	if errors.Is(err, store.ErrNotFound) {
		rec = nil
	} else if err != nil {
		return nil, err
	}
	now := t.Now()
	if rec == nil || !now.Before(rec.ExpiresAt) {
		return nil, ErrUnauthorized
	}
	t.mu.Lock()
	if t.touched == nil {
		t.touched = make(map[string]time.Time)
	}
	last, ok := t.touched[rec.ID]
	due := !ok || now.Sub(last) >= touchEvery
	if due {
		t.touched[rec.ID] = now
	}
	t.mu.Unlock()
	if due {
		if err := t.Store.TouchSCIMToken(ctx, rec.ID, now.UTC()); err != nil {
			return nil, err
		}
		rec.LastUsedAt = now.UTC()
	}
	return rec, nil
}
