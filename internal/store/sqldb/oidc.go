package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/store"
)

const clientCols = `id, secret_hash, name, client_type, scopes, grant_types, redirect_uris, issuer_url, issued_at, expires_at`

func scanClient(r rowScanner) (*store.Client, error) {
	var cl store.Client
	err := r.Scan(&cl.ID, &cl.SecretHash, &cl.Name, &cl.Type, jsonCol{&cl.Scopes}, jsonCol{&cl.GrantTypes},
		jsonCol{&cl.RedirectURIs}, &cl.IssuerURL, timeCol{&cl.IssuedAt}, timeCol{&cl.ExpiresAt})
	return &cl, err
}

// CreateClient stores a new client registration.
func (c *conn) CreateClient(ctx context.Context, cl *store.Client) error {
	err := c.insert(ctx, `INSERT INTO oidc_clients (`+clientCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`,
		cl.ID, cl.SecretHash, cl.Name, cl.Type, toJSON(cl.Scopes), toJSON(cl.GrantTypes), toJSON(cl.RedirectURIs),
		cl.IssuerURL, nanos(cl.IssuedAt), nanos(cl.ExpiresAt))
	if err != nil {
		return fmt.Errorf("create client %q: %w", cl.ID, err)
	}
	return nil
}

// GetClient returns the client with the given ID.
func (c *conn) GetClient(ctx context.Context, id string) (*store.Client, error) {
	cl, err := getOne(ctx, c, scanClient, `SELECT `+clientCols+` FROM oidc_clients WHERE id = $1`, id)
	if err != nil {
		return nil, fmt.Errorf("get client %q: %w", id, err)
	}
	return cl, nil
}

// DeleteExpiredClients deletes the clients that expired before now (a zero
// ExpiresAt never expires) and returns how many it deleted.
func (c *conn) DeleteExpiredClients(ctx context.Context, now time.Time) (int, error) {
	n, err := c.deleteBatched(ctx, "oidc_clients", "id", "expires_at <> 0 AND expires_at < $1", nanos(now))
	if err != nil {
		return 0, fmt.Errorf("delete expired clients: %w", err)
	}
	return int(n), nil
}

const deviceAuthCols = `device_code_hash, user_code, client_id, start_url, scopes, status, user_id, session_id,
	poll_interval, last_polled_at, created_at, expires_at`

func scanDeviceAuth(r rowScanner) (*store.DeviceAuth, error) {
	var d store.DeviceAuth
	err := r.Scan(&d.DeviceCodeHash, &d.UserCode, &d.ClientID, &d.StartURL, jsonCol{&d.Scopes}, &d.Status, &d.UserID,
		&d.SessionID, durCol{&d.Interval}, timeCol{&d.LastPolledAt}, timeCol{&d.CreatedAt}, timeCol{&d.ExpiresAt})
	return &d, err
}

// CreateDeviceAuth stores a new device authorization. A device code hash or
// user code already stored (until DeleteExpired removes it) is ErrConflict.
func (c *conn) CreateDeviceAuth(ctx context.Context, d *store.DeviceAuth) error {
	err := c.insert(ctx, `INSERT INTO device_auths (`+deviceAuthCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING`,
		d.DeviceCodeHash, d.UserCode, d.ClientID, d.StartURL, toJSON(d.Scopes), d.Status, d.UserID, d.SessionID,
		int64(d.Interval), nanos(d.LastPolledAt), nanos(d.CreatedAt), nanos(d.ExpiresAt))
	if err != nil {
		return fmt.Errorf("create device authorization for client %q: %w", d.ClientID, err)
	}
	return nil
}

// GetDeviceAuth returns the device authorization with the given device-code
// hash.
func (c *conn) GetDeviceAuth(ctx context.Context, deviceCodeHash string) (*store.DeviceAuth, error) {
	d, err := getOne(ctx, c, scanDeviceAuth, `SELECT `+deviceAuthCols+` FROM device_auths WHERE device_code_hash = $1`, deviceCodeHash)
	if err != nil {
		return nil, fmt.Errorf("get device authorization: %w", err)
	}
	return d, nil
}

// GetDeviceAuthByUserCode returns the device authorization with the given
// normalized user code.
func (c *conn) GetDeviceAuthByUserCode(ctx context.Context, userCode string) (*store.DeviceAuth, error) {
	d, err := getOne(ctx, c, scanDeviceAuth, `SELECT `+deviceAuthCols+` FROM device_auths WHERE user_code = $1`, userCode)
	if err != nil {
		return nil, fmt.Errorf("get device authorization by user code: %w", err)
	}
	return d, nil
}

// UpdateDeviceAuth replaces the stored device authorization with d.
func (c *conn) UpdateDeviceAuth(ctx context.Context, d *store.DeviceAuth) error {
	err := c.change(ctx, `UPDATE device_auths SET user_code = $2, client_id = $3, start_url = $4, scopes = $5, status = $6,
		user_id = $7, session_id = $8, poll_interval = $9, last_polled_at = $10, created_at = $11, expires_at = $12
		WHERE device_code_hash = $1`,
		d.DeviceCodeHash, d.UserCode, d.ClientID, d.StartURL, toJSON(d.Scopes), d.Status, d.UserID, d.SessionID,
		int64(d.Interval), nanos(d.LastPolledAt), nanos(d.CreatedAt), nanos(d.ExpiresAt))
	if err != nil {
		return fmt.Errorf("update device authorization: %w", err)
	}
	return nil
}

const authCodeCols = `code_hash, client_id, redirect_uri, challenge, scopes, user_id, session_id, grant_id, used_at, created_at, expires_at`

func scanAuthCode(r rowScanner) (*store.AuthCode, error) {
	var a store.AuthCode
	err := r.Scan(&a.CodeHash, &a.ClientID, &a.RedirectURI, &a.Challenge, jsonCol{&a.Scopes}, &a.UserID, &a.SessionID,
		&a.GrantID, timeCol{&a.UsedAt}, timeCol{&a.CreatedAt}, timeCol{&a.ExpiresAt})
	return &a, err
}

// CreateAuthCode stores a new authorization code.
func (c *conn) CreateAuthCode(ctx context.Context, a *store.AuthCode) error {
	err := c.insert(ctx, `INSERT INTO auth_codes (`+authCodeCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING`,
		a.CodeHash, a.ClientID, a.RedirectURI, a.Challenge, toJSON(a.Scopes), a.UserID, a.SessionID, a.GrantID,
		nanos(a.UsedAt), nanos(a.CreatedAt), nanos(a.ExpiresAt))
	if err != nil {
		return fmt.Errorf("create authorization code for client %q: %w", a.ClientID, err)
	}
	return nil
}

// GetAuthCode returns the authorization code with the given hash.
func (c *conn) GetAuthCode(ctx context.Context, codeHash string) (*store.AuthCode, error) {
	a, err := getOne(ctx, c, scanAuthCode, `SELECT `+authCodeCols+` FROM auth_codes WHERE code_hash = $1`, codeHash)
	if err != nil {
		return nil, fmt.Errorf("get authorization code: %w", err)
	}
	return a, nil
}

// UpdateAuthCode replaces the stored authorization code with a.
func (c *conn) UpdateAuthCode(ctx context.Context, a *store.AuthCode) error {
	err := c.change(ctx, `UPDATE auth_codes SET client_id = $2, redirect_uri = $3, challenge = $4, scopes = $5, user_id = $6,
		session_id = $7, grant_id = $8, used_at = $9, created_at = $10, expires_at = $11 WHERE code_hash = $1`,
		a.CodeHash, a.ClientID, a.RedirectURI, a.Challenge, toJSON(a.Scopes), a.UserID, a.SessionID, a.GrantID,
		nanos(a.UsedAt), nanos(a.CreatedAt), nanos(a.ExpiresAt))
	if err != nil {
		return fmt.Errorf("update authorization code: %w", err)
	}
	return nil
}

const grantCols = `id, client_id, user_id, session_id, scopes, mfa, auth_time, created_at, expires_at, revoked_at`

func scanGrant(r rowScanner) (*store.Grant, error) {
	var g store.Grant
	err := r.Scan(&g.ID, &g.ClientID, &g.UserID, &g.SessionID, jsonCol{&g.Scopes}, &g.MFA, timeCol{&g.AuthTime},
		timeCol{&g.CreatedAt}, timeCol{&g.ExpiresAt}, timeCol{&g.RevokedAt})
	return &g, err
}

// CreateGrant stores a new grant.
func (c *conn) CreateGrant(ctx context.Context, g *store.Grant) error {
	err := c.insert(ctx, `INSERT INTO grants (`+grantCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`,
		g.ID, g.ClientID, g.UserID, g.SessionID, toJSON(g.Scopes), g.MFA, nanos(g.AuthTime), nanos(g.CreatedAt),
		nanos(g.ExpiresAt), nanos(g.RevokedAt))
	if err != nil {
		return fmt.Errorf("create grant %q: %w", g.ID, err)
	}
	return nil
}

// GetGrant returns the grant with the given ID.
func (c *conn) GetGrant(ctx context.Context, id string) (*store.Grant, error) {
	g, err := getOne(ctx, c, scanGrant, `SELECT `+grantCols+` FROM grants WHERE id = $1`, id)
	if err != nil {
		return nil, fmt.Errorf("get grant %q: %w", id, err)
	}
	return g, nil
}

// UpdateGrant replaces the stored grant with g.
func (c *conn) UpdateGrant(ctx context.Context, g *store.Grant) error {
	err := c.change(ctx, `UPDATE grants SET client_id = $2, user_id = $3, session_id = $4, scopes = $5, mfa = $6,
		auth_time = $7, created_at = $8, expires_at = $9, revoked_at = $10 WHERE id = $1`,
		g.ID, g.ClientID, g.UserID, g.SessionID, toJSON(g.Scopes), g.MFA, nanos(g.AuthTime), nanos(g.CreatedAt),
		nanos(g.ExpiresAt), nanos(g.RevokedAt))
	if err != nil {
		return fmt.Errorf("update grant %q: %w", g.ID, err)
	}
	return nil
}

// ListGrantsByUser returns the user's grants ordered by CreatedAt then ID.
func (c *conn) ListGrantsByUser(ctx context.Context, userID string) ([]store.Grant, error) {
	gs, err := list(ctx, c, scanGrant, `SELECT `+grantCols+` FROM grants WHERE user_id = $1 ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list grants of user %q: %w", userID, err)
	}
	return gs, nil
}

// ListGrantsBySession returns the portal session's grants ordered by
// CreatedAt then ID.
func (c *conn) ListGrantsBySession(ctx context.Context, sessionID string) ([]store.Grant, error) {
	gs, err := list(ctx, c, scanGrant, `SELECT `+grantCols+` FROM grants WHERE session_id = $1 ORDER BY created_at, id`, sessionID)
	if err != nil {
		return nil, fmt.Errorf("list grants of session: %w", err)
	}
	return gs, nil
}

const tokenCols = `hash, kind, grant_id, created_at, expires_at, used_at`

func scanToken(r rowScanner) (*store.Token, error) {
	var t store.Token
	err := r.Scan(&t.Hash, &t.Kind, &t.GrantID, timeCol{&t.CreatedAt}, timeCol{&t.ExpiresAt}, timeCol{&t.UsedAt})
	return &t, err
}

// CreateToken stores a new token.
func (c *conn) CreateToken(ctx context.Context, t *store.Token) error {
	err := c.insert(ctx, `INSERT INTO tokens (`+tokenCols+`) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
		t.Hash, t.Kind, t.GrantID, nanos(t.CreatedAt), nanos(t.ExpiresAt), nanos(t.UsedAt))
	if err != nil {
		return fmt.Errorf("create %s token of grant %q: %w", t.Kind, t.GrantID, err)
	}
	return nil
}

// maxTokenRows is the most tokens one INSERT of CreateTokens stores.
const maxTokenRows = 2

// tokenInserts holds the INSERT statement of n tokens under key n, for n up
// to maxTokenRows.
var tokenInserts = multiRowInserts(`INSERT INTO tokens (`+tokenCols+`) VALUES `, 6, maxTokenRows)

// CreateTokens stores ts with INSERTs of up to maxTokenRows rows. A hash
// already stored or repeated in ts is ErrConflict.
func (c *conn) CreateTokens(ctx context.Context, ts []store.Token) error {
	args := make([]any, 0, 6*maxTokenRows)
	for rest := ts; len(rest) > 0; {
		n := min(len(rest), maxTokenRows)
		args = args[:0]
		for _, t := range rest[:n] {
			args = append(args, t.Hash, t.Kind, t.GrantID, nanos(t.CreatedAt), nanos(t.ExpiresAt), nanos(t.UsedAt))
		}
		stored, err := c.exec(ctx, tokenInserts[n], args...)
		if err == nil && stored < int64(n) {
			err = store.ErrConflict
		}
		if err != nil {
			return fmt.Errorf("create %d tokens of grant %q: %w", len(ts), rest[0].GrantID, err)
		}
		rest = rest[n:]
	}
	return nil
}

// MarkTokenUsed sets used_at of the token with the given hash if it is 0,
// and reports whether a row changed.
func (c *conn) MarkTokenUsed(ctx context.Context, hash string, at time.Time) (bool, error) {
	n, err := c.exec(ctx, `UPDATE tokens SET used_at = $2 WHERE hash = $1 AND used_at = 0`, hash, nanos(at))
	if err != nil {
		return false, fmt.Errorf("mark token used: %w", err)
	}
	return n == 1, nil
}

// GetToken returns the token with the given hash.
func (c *conn) GetToken(ctx context.Context, hash string) (*store.Token, error) {
	t, err := getOne(ctx, c, scanToken, `SELECT `+tokenCols+` FROM tokens WHERE hash = $1`, hash)
	if err != nil {
		return nil, fmt.Errorf("get token: %w", err)
	}
	return t, nil
}

// UpdateToken replaces the stored token with t.
func (c *conn) UpdateToken(ctx context.Context, t *store.Token) error {
	err := c.change(ctx, `UPDATE tokens SET kind = $2, grant_id = $3, created_at = $4, expires_at = $5, used_at = $6 WHERE hash = $1`,
		t.Hash, t.Kind, t.GrantID, nanos(t.CreatedAt), nanos(t.ExpiresAt), nanos(t.UsedAt))
	if err != nil {
		return fmt.Errorf("update %s token of grant %q: %w", t.Kind, t.GrantID, err)
	}
	return nil
}

// refreshReads holds ReadRefresh's query for n rate windows under index n:
// the token joined to its grant, and one scalar subquery per window, so
// that a refresh reads in one statement (on SQLite one read transaction,
// with its WAL read lock and page loads, instead of four; on PostgreSQL one
// round trip) what it used to read in four. Window i's key and start are
// parameters 2+2i and 3+2i.
var refreshReads = func() []string {
	qs := make([]string, store.MaxRefreshRates+1)
	for n := range qs {
		var b strings.Builder
		b.WriteString(`SELECT t.hash, t.kind, t.grant_id, t.created_at, t.expires_at, t.used_at,
	g.id, g.client_id, g.user_id, g.session_id, g.scopes, g.mfa, g.auth_time, g.created_at, g.expires_at, g.revoked_at`)
		for i := range n {
			fmt.Fprintf(&b, `,
	COALESCE((SELECT hits FROM rate_counters WHERE rate_key = $%d AND window_start = $%d), 0)`, 2+2*i, 3+2*i)
		}
		b.WriteString(`
FROM tokens t JOIN grants g ON g.id = t.grant_id WHERE t.hash = $1`)
		qs[n] = b.String()
	}
	return qs
}()

// ReadRefresh reads the token with the given hash, its grant and the counts
// of rates in one query on the read pool.
func (db *DB) ReadRefresh(ctx context.Context, hash string, rates []store.RateWindow, now time.Time) (*store.RefreshRead, error) {
	if len(rates) > store.MaxRefreshRates {
		return nil, fmt.Errorf("read refresh: %d rate windows, at most %d", len(rates), store.MaxRefreshRates)
	}
	args := make([]any, 1, 1+2*len(rates))
	args[0] = hash
	for _, r := range rates {
		if r.Window <= 0 {
			return nil, fmt.Errorf("read refresh: rate %q: window %v is not positive", r.Key, r.Window)
		}
		args = append(args, r.Key, windowStart(now, r.Window))
	}
	rr := &store.RefreshRead{Counts: make([]int, len(rates))}
	t, g := &rr.Token, &rr.Grant
	hits := make([]int64, len(rates))
	dest := make([]any, 0, 16+len(rates))
	dest = append(dest, &t.Hash, &t.Kind, &t.GrantID, timeCol{&t.CreatedAt}, timeCol{&t.ExpiresAt}, timeCol{&t.UsedAt},
		&g.ID, &g.ClientID, &g.UserID, &g.SessionID, jsonCol{&g.Scopes}, &g.MFA, timeCol{&g.AuthTime},
		timeCol{&g.CreatedAt}, timeCol{&g.ExpiresAt}, timeCol{&g.RevokedAt})
	for i := range hits {
		dest = append(dest, &hits[i])
	}
	err := db.conn.queryRowContext(ctx, refreshReads[len(rates)], args...).Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("read refresh: %w", store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read refresh: %w", err)
	}
	for i, h := range hits {
		rr.Counts[i] = int(h)
	}
	return rr, nil
}
