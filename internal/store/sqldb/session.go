package sqldb

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/store"
)

const sessionCols = `id_hash, user_id, mfa, auth_time, source_ip, user_agent, created_at, expires_at, revoked_at`

func scanSession(r rowScanner) (*store.Session, error) {
	var s store.Session
	err := r.Scan(&s.IDHash, &s.UserID, &s.MFA, timeCol{&s.AuthTime}, &s.SourceIP, &s.UserAgent, timeCol{&s.CreatedAt},
		timeCol{&s.ExpiresAt}, timeCol{&s.RevokedAt})
	return &s, err
}

// CreateSession stores a new portal session.
func (c *conn) CreateSession(ctx context.Context, s *store.Session) error {
	err := c.insert(ctx, `INSERT INTO sessions (`+sessionCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
		s.IDHash, s.UserID, s.MFA, nanos(s.AuthTime), s.SourceIP, s.UserAgent, nanos(s.CreatedAt), nanos(s.ExpiresAt), nanos(s.RevokedAt))
	if err != nil {
		return fmt.Errorf("create session of user %q: %w", s.UserID, err)
	}
	return nil
}

// GetSession returns the session with the given ID hash.
func (c *conn) GetSession(ctx context.Context, idHash string) (*store.Session, error) {
	s, err := getOne(ctx, c, scanSession, `SELECT `+sessionCols+` FROM sessions WHERE id_hash = $1`, idHash)
	if err != nil {
		return nil, fmt.Errorf("get session: %w", err)
	}
	return s, nil
}

// UpdateSession replaces the stored session with s.
func (c *conn) UpdateSession(ctx context.Context, s *store.Session) error {
	err := c.change(ctx, `UPDATE sessions SET user_id = $2, mfa = $3, auth_time = $4, source_ip = $5, user_agent = $6,
		created_at = $7, expires_at = $8, revoked_at = $9 WHERE id_hash = $1`,
		s.IDHash, s.UserID, s.MFA, nanos(s.AuthTime), s.SourceIP, s.UserAgent, nanos(s.CreatedAt), nanos(s.ExpiresAt), nanos(s.RevokedAt))
	if err != nil {
		return fmt.Errorf("update session of user %q: %w", s.UserID, err)
	}
	return nil
}

// ListSessionsByUser returns the user's sessions ordered by CreatedAt then
// ID hash.
func (c *conn) ListSessionsByUser(ctx context.Context, userID string) ([]store.Session, error) {
	ss, err := list(ctx, c, scanSession, `SELECT `+sessionCols+` FROM sessions WHERE user_id = $1 ORDER BY created_at, id_hash`, userID)
	if err != nil {
		return nil, fmt.Errorf("list sessions of user %q: %w", userID, err)
	}
	return ss, nil
}

const revocationCols = `kind, subject, revoked_at, expires_at`

func scanRevocation(r rowScanner) (*store.Revocation, error) {
	var rv store.Revocation
	err := r.Scan(&rv.Kind, &rv.Subject, timeCol{&rv.At}, timeCol{&rv.ExpiresAt})
	return &rv, err
}

// PutRevocation stores r. A subject revoked again keeps the later At and the
// later ExpiresAt of the two, so that a delayed or replayed revocation never
// narrows an earlier one.
func (c *conn) PutRevocation(ctx context.Context, r *store.Revocation) error {
	_, err := c.exec(ctx, `INSERT INTO revocations (`+revocationCols+`) VALUES ($1, $2, $3, $4)
		ON CONFLICT (kind, subject) DO UPDATE SET
			revoked_at = CASE WHEN excluded.revoked_at > revocations.revoked_at THEN excluded.revoked_at ELSE revocations.revoked_at END,
			expires_at = CASE WHEN excluded.expires_at > revocations.expires_at THEN excluded.expires_at ELSE revocations.expires_at END`,
		r.Kind, r.Subject, nanos(r.At), nanos(r.ExpiresAt))
	if err != nil {
		return fmt.Errorf("put %s revocation: %w", r.Kind, err)
	}
	c.dirty = true
	return nil
}

// ListRevocations returns the revocations whose At is at or after since,
// ordered by At, Kind and Subject.
func (c *conn) ListRevocations(ctx context.Context, since time.Time) ([]store.Revocation, error) {
	rs, err := list(ctx, c, scanRevocation, `SELECT `+revocationCols+` FROM revocations WHERE revoked_at >= $1
		ORDER BY revoked_at, kind, subject`, nanos(since))
	if err != nil {
		return nil, fmt.Errorf("list revocations: %w", err)
	}
	return rs, nil
}

// HitRate counts a hit for key in the fixed window of length window that
// contains now (windows start at multiples of window since the Unix epoch)
// and returns the window's count including this hit. The single upsert
// makes concurrent counting exact on both backends.
func (c *conn) HitRate(ctx context.Context, key string, window time.Duration, now time.Time) (int, error) {
	if window <= 0 {
		return 0, fmt.Errorf("hit rate %q: window %v is not positive", key, window)
	}
	start := windowStart(now, window)
	var hits int64
	err := c.queryRowContext(ctx, `INSERT INTO rate_counters (rate_key, window_start, window_end, hits) VALUES ($1, $2, $3, 1)
		ON CONFLICT (rate_key, window_start) DO UPDATE SET hits = rate_counters.hits + 1
		RETURNING hits`, key, start, start+int64(window)).Scan(&hits)
	if err != nil {
		return 0, fmt.Errorf("hit rate %q: %w", key, c.mapErr(err))
	}
	return int(hits), nil
}

// windowStart is the start, in unix nanoseconds, of the fixed window of
// length window (positive) that contains now.
func windowStart(now time.Time, window time.Duration) int64 {
	n := now.UnixNano()
	start := n - n%int64(window)
	if n%int64(window) < 0 {
		start -= int64(window)
	}
	return start
}

// ResetRate forgets every window of key.
func (c *conn) ResetRate(ctx context.Context, key string) error {
	if _, err := c.exec(ctx, `DELETE FROM rate_counters WHERE rate_key = $1`, key); err != nil {
		return fmt.Errorf("reset rate %q: %w", key, err)
	}
	return nil
}

const mfaDeviceCols = `id, user_id, device_type, name, sealed, last_step, created_at, last_used_at`

func scanMFADevice(r rowScanner) (*store.MFADevice, error) {
	var d store.MFADevice
	err := r.Scan(&d.ID, &d.UserID, &d.Type, &d.Name, blobCol{&d.Sealed}, &d.LastStep, timeCol{&d.CreatedAt}, timeCol{&d.LastUsedAt})
	return &d, err
}

// CreateMFADevice stores a new MFA device of an existing user.
func (c *conn) CreateMFADevice(ctx context.Context, d *store.MFADevice) error {
	if err := c.createMFADevice(ctx, d); err != nil {
		return fmt.Errorf("create MFA device %q of user %q: %w", d.ID, d.UserID, err)
	}
	return nil
}

func (c *conn) createMFADevice(ctx context.Context, d *store.MFADevice) error {
	ok, err := c.exists(ctx, `SELECT 1 FROM users WHERE id = $1`, d.UserID)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("user %q: %w", d.UserID, store.ErrNotFound)
	}
	return c.insert(ctx, `INSERT INTO mfa_devices (`+mfaDeviceCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
		d.ID, d.UserID, d.Type, d.Name, blobArg(d.Sealed), d.LastStep, nanos(d.CreatedAt), nanos(d.LastUsedAt))
}

// ListMFADevices returns the user's devices ordered by CreatedAt then ID.
func (c *conn) ListMFADevices(ctx context.Context, userID string) ([]store.MFADevice, error) {
	ds, err := list(ctx, c, scanMFADevice, `SELECT `+mfaDeviceCols+` FROM mfa_devices WHERE user_id = $1 ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list MFA devices of user %q: %w", userID, err)
	}
	return ds, nil
}

// UpdateMFADevice replaces the stored device (found by user and ID) with d.
func (c *conn) UpdateMFADevice(ctx context.Context, d *store.MFADevice) error {
	err := c.change(ctx, `UPDATE mfa_devices SET device_type = $3, name = $4, sealed = $5, last_step = $6, created_at = $7,
		last_used_at = $8 WHERE id = $1 AND user_id = $2`,
		d.ID, d.UserID, d.Type, d.Name, blobArg(d.Sealed), d.LastStep, nanos(d.CreatedAt), nanos(d.LastUsedAt))
	if err != nil {
		return fmt.Errorf("update MFA device %q of user %q: %w", d.ID, d.UserID, err)
	}
	return nil
}

// DeleteMFADevice deletes the user's device with the given ID.
func (c *conn) DeleteMFADevice(ctx context.Context, userID, id string) error {
	if err := c.change(ctx, `DELETE FROM mfa_devices WHERE id = $1 AND user_id = $2`, id, userID); err != nil {
		return fmt.Errorf("delete MFA device %q of user %q: %w", id, userID, err)
	}
	return nil
}

// ExpiredBatch is how many rows one DELETE of the sweeps removes. Outside
// a transaction each statement commits on its own, so after a flood the
// sweep holds SQLite's write lock for one batch at a time and other
// writers get in between.
const ExpiredBatch = 1000

// sweep is one table's expiry: its key columns and the condition, on $1
// (unix nanoseconds), of an expired row.
type sweep struct{ table, key, expired string }

var sweeps = []sweep{
	{"auth_codes", "code_hash", "expires_at <> 0 AND expires_at < $1"},
	{"tokens", "hash", "expires_at <> 0 AND expires_at < $1"},
	{"device_auths", "device_code_hash", "expires_at <> 0 AND expires_at < $1"},
	{"sessions", "id_hash", "expires_at <> 0 AND expires_at < $1"},
	{"grants", "id", "expires_at <> 0 AND expires_at < $1"},
	{"rate_counters", "rate_key, window_start", "window_end <= $1"},
	{"attempt_counters", "counter_key", "expires_at <= $1"},
	{"use_markers", "marker_key", "expires_at <= $1"},
	{"link_tokens", "hash", "expires_at < $1"},
	{"revocations", "kind, subject", "expires_at <> 0 AND expires_at < $1"},
	// SCIM tokens stay listed for store.SCIMTokenRetention (30 days)
	// after they expire.
	{"scim_tokens", "id", "expires_at + " + strconv.FormatInt(int64(store.SCIMTokenRetention), 10) + " < $1"},
}

// deleteBatched deletes the rows of table whose key is in the first
// ExpiredBatch rows matching where, again until a batch comes back short,
// and returns how many it deleted. table, key and where are constants of
// this package, never input.
func (c *conn) deleteBatched(ctx context.Context, table, key, where string, arg any) (int64, error) {
	q := `DELETE FROM ` + table + ` WHERE (` + key + `) IN (SELECT ` + key + ` FROM ` + table + ` WHERE ` + where +
		` LIMIT ` + strconv.Itoa(ExpiredBatch) + `)`
	var total int64
	for {
		n, err := c.exec(ctx, q, arg)
		total += n
		if err != nil || n < ExpiredBatch {
			return total, err
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
}

// DeleteExpired removes authorization codes, tokens, device
// authorizations, sessions, grants and revocations whose ExpiresAt is before
// now (a zero ExpiresAt never expires), and rate windows, attempt counters
// and use markers that ended by now, and SCIM tokens that expired more than
// store.SCIMTokenRetention before now, ExpiredBatch rows per statement.
// Deleting revocations bumps ChangeSeq only when some were deleted.
func (c *conn) DeleteExpired(ctx context.Context, now time.Time) error {
	t := nanos(now)
	var errs []error
	for _, sw := range sweeps {
		n, err := c.deleteBatched(ctx, sw.table, sw.key, sw.expired, t)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", sw.table, err))
		}
		if sw.table == "revocations" && n > 0 {
			c.dirty = true
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("delete expired: %w", err)
	}
	return nil
}

// DeleteEventsBefore deletes the events older than t (events_time index).
func (c *conn) DeleteEventsBefore(ctx context.Context, t time.Time) (int, error) {
	// The events' resource keys first: should the second statement fail,
	// a retry finds the events again.
	_, err := c.exec(ctx, `DELETE FROM event_resource_keys WHERE event_time < $1`, nanos(t))
	if err != nil {
		return 0, fmt.Errorf("delete resources of events before %s: %w", t.Format(time.RFC3339), err)
	}
	n, err := c.deleteBatched(ctx, "events", "id", "event_time < $1", nanos(t))
	if err != nil {
		return 0, fmt.Errorf("delete events before %s: %w", t.Format(time.RFC3339), err)
	}
	return int(n), nil
}
