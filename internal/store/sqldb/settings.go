package sqldb

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// GetSettings returns the instance settings; ErrNotFound when none were
// ever stored.
func (c *conn) GetSettings(ctx context.Context) (*store.Settings, error) {
	v, err := getOne(ctx, c, func(r rowScanner) (*store.Settings, error) {
		var s store.Settings
		var d int64
		err := r.Scan(&s.MFAPolicy, &d, timeCol{&s.UpdatedAt}, &s.UpdatedBy)
		s.PortalSessionDuration = time.Duration(d)
		return &s, err
	}, `SELECT mfa_policy, portal_session_duration, updated_at, updated_by FROM settings WHERE id = 1`)
	if err != nil {
		return nil, fmt.Errorf("get settings: %w", err)
	}
	return v, nil
}

// PutSettings stores the instance settings, replacing those stored.
func (c *conn) PutSettings(ctx context.Context, s *store.Settings) error {
	_, err := c.exec(ctx, `INSERT INTO settings (id, mfa_policy, portal_session_duration, updated_at, updated_by)
		VALUES (1, $1, $2, $3, $4)
		ON CONFLICT (id) DO UPDATE SET mfa_policy = excluded.mfa_policy,
			portal_session_duration = excluded.portal_session_duration,
			updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
		s.MFAPolicy, int64(s.PortalSessionDuration), nanos(s.UpdatedAt), s.UpdatedBy)
	if err != nil {
		return fmt.Errorf("put settings: %w", err)
	}
	return nil
}

// PutSettings runs Tx.PutSettings in its own transaction.
func (db *DB) PutSettings(ctx context.Context, s *store.Settings) error {
	return db.Update(ctx, func(tx store.Tx) error { return tx.PutSettings(ctx, s) })
}
