package sqldb

import (
	"context"
	"fmt"
	"math"

	"github.com/gatehouse-dev/gatehouse/internal/store"
)

const linkTokenCols = `hash, kind, user_id, created_at, expires_at`

func scanLinkToken(r rowScanner) (*store.LinkToken, error) {
	var t store.LinkToken
	err := r.Scan(&t.Hash, &t.Kind, &t.UserID, timeCol{&t.CreatedAt}, timeCol{&t.ExpiresAt})
	return &t, err
}

// PutLinkToken stores t in place of any token of the same kind and user.
func (c *conn) PutLinkToken(ctx context.Context, t *store.LinkToken) error {
	if _, err := c.exec(ctx, `DELETE FROM link_tokens WHERE kind = $1 AND user_id = $2`, t.Kind, t.UserID); err != nil {
		return fmt.Errorf("put %s link token: %w", t.Kind, err)
	}
	if err := c.insert(ctx, `INSERT INTO link_tokens (`+linkTokenCols+`) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
		t.Hash, t.Kind, t.UserID, nanos(t.CreatedAt), nanos(t.ExpiresAt)); err != nil {
		return fmt.Errorf("put %s link token: %w", t.Kind, err)
	}
	return nil
}

// GetLinkToken returns the token stored under hash, expired or not.
func (c *conn) GetLinkToken(ctx context.Context, hash string) (*store.LinkToken, error) {
	t, err := getOne(ctx, c, scanLinkToken, `SELECT `+linkTokenCols+` FROM link_tokens WHERE hash = $1`, hash)
	if err != nil {
		return nil, fmt.Errorf("get link token: %w", err)
	}
	return t, nil
}

// TakeLinkToken deletes the token stored under hash and returns it. The
// DELETE ... RETURNING is one statement, so of two concurrent takes only
// one gets the row.
func (c *conn) TakeLinkToken(ctx context.Context, hash string) (*store.LinkToken, error) {
	t, err := getOne(ctx, c, scanLinkToken, `DELETE FROM link_tokens WHERE hash = $1 RETURNING `+linkTokenCols, hash)
	if err != nil {
		return nil, fmt.Errorf("take link token: %w", err)
	}
	return t, nil
}

// DeleteLinkTokens deletes every link token of the user.
func (c *conn) DeleteLinkTokens(ctx context.Context, userID string) error {
	if _, err := c.exec(ctx, `DELETE FROM link_tokens WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("delete link tokens of %q: %w", userID, err)
	}
	return nil
}

// AppendOutbox stores m, then trims the outbox to its newest keep
// messages.
func (c *conn) AppendOutbox(ctx context.Context, m *store.OutboxMessage, keep int) error {
	if err := c.insert(ctx, `INSERT INTO outbox (id, recipient, subject, body, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
		m.ID, m.To, m.Subject, m.Body, nanos(m.CreatedAt)); err != nil {
		return fmt.Errorf("append outbox message: %w", err)
	}
	if keep > 0 {
		if _, err := c.exec(ctx, `DELETE FROM outbox WHERE seq <= (SELECT seq FROM outbox ORDER BY seq DESC LIMIT 1 OFFSET $1)`,
			int64(keep)); err != nil {
			return fmt.Errorf("trim outbox: %w", err)
		}
	}
	return nil
}

// ListOutbox returns the newest limit messages, newest first.
func (c *conn) ListOutbox(ctx context.Context, lim int) ([]store.OutboxMessage, error) {
	n := int64(math.MaxInt64)
	if lim > 0 {
		n = int64(lim)
	}
	ms, err := list(ctx, c, func(r rowScanner) (*store.OutboxMessage, error) {
		var m store.OutboxMessage
		err := r.Scan(&m.ID, &m.To, &m.Subject, &m.Body, timeCol{&m.CreatedAt})
		return &m, err
	}, `SELECT id, recipient, subject, body, created_at FROM outbox ORDER BY seq DESC LIMIT $1`, n)
	if err != nil {
		return nil, fmt.Errorf("list outbox: %w", err)
	}
	return ms, nil
}

// PutLinkToken runs Tx.PutLinkToken in its own transaction (it deletes the
// token it replaces first).
func (db *DB) PutLinkToken(ctx context.Context, t *store.LinkToken) error {
	return db.Update(ctx, func(tx store.Tx) error { return tx.PutLinkToken(ctx, t) })
}

// TakeLinkToken runs Tx.TakeLinkToken on the write pool: one statement.
func (db *DB) TakeLinkToken(ctx context.Context, hash string) (*store.LinkToken, error) {
	var t *store.LinkToken
	err := db.direct(ctx, func(c *conn) error {
		var err error
		t, err = c.TakeLinkToken(ctx, hash)
		return err
	})
	return t, err
}

// DeleteLinkTokens runs Tx.DeleteLinkTokens on the write pool.
func (db *DB) DeleteLinkTokens(ctx context.Context, userID string) error {
	return db.direct(ctx, func(c *conn) error { return c.DeleteLinkTokens(ctx, userID) })
}

// AppendOutbox runs Tx.AppendOutbox in its own transaction.
func (db *DB) AppendOutbox(ctx context.Context, m *store.OutboxMessage, keep int) error {
	return db.Update(ctx, func(tx store.Tx) error { return tx.AppendOutbox(ctx, m, keep) })
}
