package sqldb

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/store"
)

const scimTokenCols = `id, hash, description, created_at, expires_at, last_used_at, created_by`

func scanSCIMToken(r rowScanner) (*store.SCIMToken, error) {
	var t store.SCIMToken
	err := r.Scan(&t.ID, &t.Hash, &t.Description, timeCol{&t.CreatedAt}, timeCol{&t.ExpiresAt}, timeCol{&t.LastUsedAt}, &t.CreatedBy)
	return &t, err
}

// CreateSCIMToken stores a new token; its ID or hash already stored is
// ErrConflict.
func (c *conn) CreateSCIMToken(ctx context.Context, t *store.SCIMToken) error {
	if err := c.insert(ctx, `INSERT INTO scim_tokens (`+scimTokenCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
		t.ID, t.Hash, t.Description, nanos(t.CreatedAt), nanos(t.ExpiresAt), nanos(t.LastUsedAt), t.CreatedBy); err != nil {
		return fmt.Errorf("create SCIM token %s: %w", t.ID, err)
	}
	return nil
}

// GetSCIMTokenByHash returns the token stored under hash, expired or not.
func (c *conn) GetSCIMTokenByHash(ctx context.Context, hash string) (*store.SCIMToken, error) {
	t, err := getOne(ctx, c, scanSCIMToken, `SELECT `+scimTokenCols+` FROM scim_tokens WHERE hash = $1`, hash)
	if err != nil {
		return nil, fmt.Errorf("get SCIM token: %w", err)
	}
	return t, nil
}

// ListSCIMTokens returns every token, oldest first.
func (c *conn) ListSCIMTokens(ctx context.Context) ([]store.SCIMToken, error) {
	ts, err := list(ctx, c, scanSCIMToken, `SELECT `+scimTokenCols+` FROM scim_tokens ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list SCIM tokens: %w", err)
	}
	return ts, nil
}

// DeleteSCIMToken deletes the token with the ID.
func (c *conn) DeleteSCIMToken(ctx context.Context, id string) error {
	n, err := c.exec(ctx, `DELETE FROM scim_tokens WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete SCIM token %s: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("delete SCIM token %s: %w", id, store.ErrNotFound)
	}
	return nil
}

// TouchSCIMToken records a use of the token unless a later one is
// recorded. One statement; ChangeSeq is left alone (no cache holds it).
func (c *conn) TouchSCIMToken(ctx context.Context, id string, usedAt time.Time) error {
	if _, err := c.exec(ctx, `UPDATE scim_tokens SET last_used_at = $2 WHERE id = $1 AND last_used_at < $2`, id, nanos(usedAt)); err != nil {
		return fmt.Errorf("touch SCIM token %s: %w", id, err)
	}
	return nil
}

// CreateSCIMToken runs Tx.CreateSCIMToken on the write pool: one
// statement.
func (db *DB) CreateSCIMToken(ctx context.Context, t *store.SCIMToken) error {
	return db.direct(ctx, func(c *conn) error { return c.CreateSCIMToken(ctx, t) })
}

// DeleteSCIMToken runs Tx.DeleteSCIMToken on the write pool.
func (db *DB) DeleteSCIMToken(ctx context.Context, id string) error {
	return db.direct(ctx, func(c *conn) error { return c.DeleteSCIMToken(ctx, id) })
}

// TouchSCIMToken runs Tx.TouchSCIMToken on the write pool.
func (db *DB) TouchSCIMToken(ctx context.Context, id string, usedAt time.Time) error {
	return db.direct(ctx, func(c *conn) error { return c.TouchSCIMToken(ctx, id, usedAt) })
}
