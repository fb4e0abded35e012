package sqldb

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/gatehouse-dev/gatehouse/internal/store"
)

const identitySourceCols = `kind, settings, sealed_secret, active, updated_at, updated_by`

func scanIdentitySource(r rowScanner) (*store.IdentitySource, error) {
	var s store.IdentitySource
	var settings string
	var active int64
	if err := r.Scan(&s.Kind, &settings, &s.SealedSecret, &active, timeCol{&s.UpdatedAt}, &s.UpdatedBy); err != nil {
		return nil, err
	}
	s.Active = active != 0
	if err := json.Unmarshal([]byte(settings), &s.Settings); err != nil {
		return nil, fmt.Errorf("identity source %s settings: %w", s.Kind, err)
	}
	if len(s.SealedSecret) == 0 {
		s.SealedSecret = nil
	}
	return &s, nil
}

// GetIdentitySource returns the source of kind.
func (c *conn) GetIdentitySource(ctx context.Context, kind string) (*store.IdentitySource, error) {
	s, err := getOne(ctx, c, scanIdentitySource, `SELECT `+identitySourceCols+` FROM identity_sources WHERE kind = $1`, kind)
	if err != nil {
		return nil, fmt.Errorf("get identity source %q: %w", kind, err)
	}
	return s, nil
}

// ListIdentitySources returns every configured source ordered by kind.
func (c *conn) ListIdentitySources(ctx context.Context) ([]store.IdentitySource, error) {
	ss, err := list(ctx, c, scanIdentitySource, `SELECT `+identitySourceCols+` FROM identity_sources ORDER BY kind`)
	if err != nil {
		return nil, fmt.Errorf("list identity sources: %w", err)
	}
	return ss, nil
}

// PutIdentitySource creates or replaces the settings of s.Kind, keeping
// its Active flag.
func (c *conn) PutIdentitySource(ctx context.Context, s *store.IdentitySource) error {
	settings := s.Settings
	if settings == nil {
		settings = map[string]string{}
	}
	b, err := json.Marshal(settings)
	if err != nil {
		return fmt.Errorf("put identity source %q: %w", s.Kind, err)
	}
	var secret []byte
	if len(s.SealedSecret) > 0 {
		secret = s.SealedSecret
	}
	_, err = c.exec(ctx, `INSERT INTO identity_sources (kind, settings, sealed_secret, active, updated_at, updated_by)
		VALUES ($1, $2, $3, 0, $4, $5)
		ON CONFLICT (kind) DO UPDATE SET settings = excluded.settings, sealed_secret = excluded.sealed_secret,
			updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
		s.Kind, string(b), secret, nanos(s.UpdatedAt), s.UpdatedBy)
	if err != nil {
		return fmt.Errorf("put identity source %q: %w", s.Kind, err)
	}
	return nil
}

// ActivateIdentitySource makes kind the only active source; "directory"
// deactivates every one.
func (c *conn) ActivateIdentitySource(ctx context.Context, kind string) error {
	if kind != "directory" {
		n, err := c.exec(ctx, `UPDATE identity_sources SET active = 1 WHERE kind = $1`, kind)
		if err != nil {
			return fmt.Errorf("activate identity source %q: %w", kind, err)
		}
		if n == 0 {
			return fmt.Errorf("activate identity source %q: %w", kind, store.ErrNotFound)
		}
	}
	if _, err := c.exec(ctx, `UPDATE identity_sources SET active = 0 WHERE kind <> $1 AND active <> 0`, kind); err != nil {
		return fmt.Errorf("activate identity source %q: %w", kind, err)
	}
	return nil
}

// PutIdentitySource runs Tx.PutIdentitySource on the write pool: one
// statement.
func (db *DB) PutIdentitySource(ctx context.Context, s *store.IdentitySource) error {
	return db.direct(ctx, func(c *conn) error { return c.PutIdentitySource(ctx, s) })
}

// ActivateIdentitySource runs Tx.ActivateIdentitySource in its own
// transaction (two statements).
func (db *DB) ActivateIdentitySource(ctx context.Context, kind string) error {
	return db.Update(ctx, func(tx store.Tx) error { return tx.ActivateIdentitySource(ctx, kind) })
}
