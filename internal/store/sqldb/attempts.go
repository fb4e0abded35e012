package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// RateCount returns key's count in the fixed window of length window that
// contains now, without counting a hit.
func (c *conn) RateCount(ctx context.Context, key string, window time.Duration, now time.Time) (int, error) {
	if window <= 0 {
		return 0, fmt.Errorf("rate count %q: window %v is not positive", key, window)
	}
	var hits int64
	err := c.queryRowContext(ctx, `SELECT hits FROM rate_counters WHERE rate_key = $1 AND window_start = $2`, key, windowStart(now, window)).Scan(&hits)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("rate count %q: %w", key, err)
	}
	return int(hits), nil
}

// reserveAttempt is ReserveAttempt's one statement. An existing counter is
// counted only when the WHERE clause holds, so concurrent reservations are
// exact on both backends without a transaction: SQLite runs one writer at
// a time, and PostgreSQL at READ COMMITTED re-checks the WHERE clause on
// the row a concurrent reservation left. The delay column doubles from
// $7 up to $8 once the new count reaches $6 (Free); not_before is then now
// ($4) plus that delay, and is otherwise left as it was: an attempt without
// a delay never moves it, so that concurrent attempts whose clocks read a
// little apart do not refuse each other. Every parameter is cast so
// PostgreSQL types it as BIGINT.
const reserveAttempt = `INSERT INTO attempt_counters (counter_key, attempts, delay, not_before, expires_at)
	VALUES ($1, 1, CAST($2 AS BIGINT), CAST($9 AS BIGINT), CAST($3 AS BIGINT))
	ON CONFLICT (counter_key) DO UPDATE SET
		attempts = attempt_counters.attempts + 1,
		delay = CASE
			WHEN CAST($6 AS BIGINT) = 0 OR attempt_counters.attempts + 1 < CAST($6 AS BIGINT) THEN 0
			WHEN attempt_counters.delay = 0 THEN CAST($7 AS BIGINT)
			WHEN attempt_counters.delay * 2 > CAST($8 AS BIGINT) THEN CAST($8 AS BIGINT)
			ELSE attempt_counters.delay * 2 END,
		not_before = CASE
			WHEN CAST($6 AS BIGINT) = 0 OR attempt_counters.attempts + 1 < CAST($6 AS BIGINT) THEN attempt_counters.not_before
			WHEN attempt_counters.delay = 0 THEN CAST($4 AS BIGINT) + CAST($7 AS BIGINT)
			WHEN attempt_counters.delay * 2 > CAST($8 AS BIGINT) THEN CAST($4 AS BIGINT) + CAST($8 AS BIGINT)
			ELSE CAST($4 AS BIGINT) + attempt_counters.delay * 2 END,
		expires_at = CAST($3 AS BIGINT)
	WHERE (CAST($5 AS BIGINT) = 0 OR attempt_counters.attempts < CAST($5 AS BIGINT))
		AND attempt_counters.not_before <= CAST($4 AS BIGINT)
	RETURNING attempts, not_before, expires_at`

// ReserveAttempt counts one attempt under key if rule allows it at now.
func (c *conn) ReserveAttempt(ctx context.Context, key string, rule store.AttemptRule, now time.Time) (store.Attempts, bool, error) {
	if rule.TTL <= 0 || rule.Delay < 0 || rule.MaxDelay < rule.Delay || rule.Limit < 0 || rule.Free < 0 {
		return store.Attempts{}, false, fmt.Errorf("reserve attempt %q: invalid rule %+v", key, rule)
	}
	t := nanos(now)
	// An expired counter is forgotten first; a concurrent reservation that
	// already replaced it has a later expiry and stays.
	if _, err := c.exec(ctx, `DELETE FROM attempt_counters WHERE counter_key = $1 AND expires_at <= $2`, key, t); err != nil {
		return store.Attempts{}, false, fmt.Errorf("reserve attempt %q: forget expired: %w", key, err)
	}
	first, firstNB := int64(0), int64(0)
	if rule.Free == 1 {
		first, firstNB = int64(rule.Delay), nanos(now.Add(rule.Delay))
	}
	var a store.Attempts
	var count int64
	err := c.queryRowContext(ctx, reserveAttempt, key, first, nanos(now.Add(rule.TTL)), t,
		int64(rule.Limit), int64(rule.Free), int64(rule.Delay), int64(rule.MaxDelay), firstNB).
		Scan(&count, timeCol{&a.NotBefore}, timeCol{&a.ExpiresAt})
	if errors.Is(err, sql.ErrNoRows) {
		a, err := c.GetAttempts(ctx, key, now)
		return a, false, err
	}
	if err != nil {
		return store.Attempts{}, false, fmt.Errorf("reserve attempt %q: %w", key, c.mapErr(err))
	}
	a.Count = int(count)
	return a, true, nil
}

// GetAttempts returns key's counter as of now.
func (c *conn) GetAttempts(ctx context.Context, key string, now time.Time) (store.Attempts, error) {
	var a store.Attempts
	var count int64
	err := c.queryRowContext(ctx, `SELECT attempts, not_before, expires_at FROM attempt_counters
		WHERE counter_key = $1 AND expires_at > $2`, key, nanos(now)).Scan(&count, timeCol{&a.NotBefore}, timeCol{&a.ExpiresAt})
	if errors.Is(err, sql.ErrNoRows) {
		return store.Attempts{}, nil
	}
	if err != nil {
		return store.Attempts{}, fmt.Errorf("get attempts %q: %w", key, err)
	}
	a.Count = int(count)
	return a, nil
}

// RefundAttempt uncounts one attempt under key.
func (c *conn) RefundAttempt(ctx context.Context, key string) error {
	if _, err := c.exec(ctx, `UPDATE attempt_counters SET attempts = attempts - 1 WHERE counter_key = $1 AND attempts > 0`, key); err != nil {
		return fmt.Errorf("refund attempt %q: %w", key, err)
	}
	return nil
}

// ResetAttempts forgets key's counter.
func (c *conn) ResetAttempts(ctx context.Context, key string) error {
	if _, err := c.exec(ctx, `DELETE FROM attempt_counters WHERE counter_key = $1`, key); err != nil {
		return fmt.Errorf("reset attempts %q: %w", key, err)
	}
	return nil
}

// PutUseMarker stores a use marker; one already stored is ErrConflict.
func (c *conn) PutUseMarker(ctx context.Context, key string, expiresAt time.Time) error {
	if err := c.insert(ctx, `INSERT INTO use_markers (marker_key, expires_at) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
		key, nanos(expiresAt)); err != nil {
		return fmt.Errorf("put use marker: %w", err)
	}
	return nil
}

// HasUseMarker reports whether an unexpired marker is stored under key.
func (c *conn) HasUseMarker(ctx context.Context, key string, now time.Time) (bool, error) {
	ok, err := c.exists(ctx, `SELECT 1 FROM use_markers WHERE marker_key = $1 AND expires_at > $2`, key, nanos(now))
	if err != nil {
		return false, fmt.Errorf("has use marker: %w", err)
	}
	return ok, nil
}
