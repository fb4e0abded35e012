package sqldb

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/store"
)

const iamUserCols = `id, account_id, user_name, path, tags, managed_policies, inline_policies, version, created_at, updated_at`

func scanIAMUser(r rowScanner) (*store.IAMUser, error) {
	var u store.IAMUser
	err := r.Scan(&u.ID, &u.AccountID, &u.UserName, &u.Path, jsonCol{&u.Tags}, jsonCol{&u.ManagedPolicies},
		jsonCol{&u.InlinePolicies}, &u.Version, timeCol{&u.CreatedAt}, timeCol{&u.UpdatedAt})
	return &u, err
}

// CreateIAMUser stores a new IAM user; a name already taken in the account
// (ignoring case) or an ID already stored is ErrConflict.
func (c *conn) CreateIAMUser(ctx context.Context, u *store.IAMUser) error {
	err := c.insert(ctx, `INSERT INTO iam_users (`+iamUserCols+`, name_key)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING`,
		u.ID, u.AccountID, u.UserName, u.Path, toJSON(nonNil(u.Tags)), toJSON(nonNil(u.ManagedPolicies)),
		toJSON(nonNil(u.InlinePolicies)), u.Version, nanos(u.CreatedAt), nanos(u.UpdatedAt), nameKey(u.UserName))
	if err != nil {
		return fmt.Errorf("create IAM user %q in %s: %w", u.UserName, u.AccountID, err)
	}
	c.dirty = true
	return nil
}

// GetIAMUser returns the user of accountID named userName, ignoring case.
func (c *conn) GetIAMUser(ctx context.Context, accountID, userName string) (*store.IAMUser, error) {
	u, err := getOne(ctx, c, scanIAMUser, `SELECT `+iamUserCols+` FROM iam_users WHERE account_id = $1 AND name_key = $2`,
		accountID, nameKey(userName))
	if err != nil {
		return nil, fmt.Errorf("get IAM user %q in %s: %w", userName, accountID, err)
	}
	return u, nil
}

// GetIAMUserByID returns the IAM user with the given unique ID.
func (c *conn) GetIAMUserByID(ctx context.Context, id string) (*store.IAMUser, error) {
	u, err := getOne(ctx, c, scanIAMUser, `SELECT `+iamUserCols+` FROM iam_users WHERE id = $1`, id)
	if err != nil {
		return nil, fmt.Errorf("get IAM user %q: %w", id, err)
	}
	return u, nil
}

// UpdateIAMUser replaces the stored user with u (its account and name
// stay).
func (c *conn) UpdateIAMUser(ctx context.Context, u *store.IAMUser) error {
	err := c.change(ctx, `UPDATE iam_users SET path = $2, tags = $3, managed_policies = $4, inline_policies = $5,
		version = $6, updated_at = $7 WHERE id = $1`,
		u.ID, u.Path, toJSON(nonNil(u.Tags)), toJSON(nonNil(u.ManagedPolicies)), toJSON(nonNil(u.InlinePolicies)),
		u.Version, nanos(u.UpdatedAt))
	if err != nil {
		return fmt.Errorf("update IAM user %q: %w", u.ID, err)
	}
	c.dirty = true
	return nil
}

// DeleteIAMUser deletes the user and (by cascade) its access keys.
func (c *conn) DeleteIAMUser(ctx context.Context, id string) error {
	if err := c.change(ctx, `DELETE FROM iam_users WHERE id = $1`, id); err != nil {
		return fmt.Errorf("delete IAM user %q: %w", id, err)
	}
	c.dirty = true
	return nil
}

// ListIAMUsers returns a page of accountID's users ordered by lower-cased
// name; p.After is a lower-cased name.
func (c *conn) ListIAMUsers(ctx context.Context, accountID string, p store.Page) ([]store.IAMUser, error) {
	us, err := list(ctx, c, scanIAMUser, `SELECT `+iamUserCols+` FROM iam_users
		WHERE account_id = $1 AND name_key > $2 ORDER BY name_key LIMIT $3`, accountID, p.After, limit(p))
	if err != nil {
		return nil, fmt.Errorf("list IAM users of %s: %w", accountID, err)
	}
	return us, nil
}

const accessKeyCols = `id, user_id, account_id, status, sealed_secret, created_at, expires_at, last_used_at,
	last_used_service, last_used_region`

func scanAccessKey(r rowScanner) (*store.AccessKey, error) {
	var k store.AccessKey
	err := r.Scan(&k.ID, &k.UserID, &k.AccountID, &k.Status, &k.SealedSecret, timeCol{&k.CreatedAt},
		timeCol{&k.ExpiresAt}, timeCol{&k.LastUsedAt}, &k.LastUsedService, &k.LastUsedRegion)
	return &k, err
}

// CreateAccessKey stores a new access key of an existing user; an ID
// already stored is ErrConflict, an unknown user ErrNotFound.
func (c *conn) CreateAccessKey(ctx context.Context, k *store.AccessKey) error {
	ok, err := c.exists(ctx, `SELECT 1 FROM iam_users WHERE id = $1`, k.UserID)
	if err != nil {
		return fmt.Errorf("create access key of %q: %w", k.UserID, err)
	}
	if !ok {
		return fmt.Errorf("create access key of %q: user: %w", k.UserID, store.ErrNotFound)
	}
	err = c.insert(ctx, `INSERT INTO access_keys (`+accessKeyCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`,
		k.ID, k.UserID, k.AccountID, k.Status, k.SealedSecret, nanos(k.CreatedAt), nanos(k.ExpiresAt),
		nanos(k.LastUsedAt), k.LastUsedService, k.LastUsedRegion)
	if err != nil {
		return fmt.Errorf("create access key of %q: %w", k.UserID, err)
	}
	c.dirty = true
	return nil
}

// GetAccessKey returns the access key with the given ID.
func (c *conn) GetAccessKey(ctx context.Context, id string) (*store.AccessKey, error) {
	k, err := getOne(ctx, c, scanAccessKey, `SELECT `+accessKeyCols+` FROM access_keys WHERE id = $1`, id)
	if err != nil {
		return nil, fmt.Errorf("get access key: %w", err)
	}
	return k, nil
}

// UpdateAccessKey stores k's status and expiry.
func (c *conn) UpdateAccessKey(ctx context.Context, k *store.AccessKey) error {
	if err := c.change(ctx, `UPDATE access_keys SET status = $2, expires_at = $3 WHERE id = $1`,
		k.ID, k.Status, nanos(k.ExpiresAt)); err != nil {
		return fmt.Errorf("update access key %s: %w", k.ID, err)
	}
	c.dirty = true
	return nil
}

// DeleteAccessKey deletes the access key with the given ID.
func (c *conn) DeleteAccessKey(ctx context.Context, id string) error {
	if err := c.change(ctx, `DELETE FROM access_keys WHERE id = $1`, id); err != nil {
		return fmt.Errorf("delete access key %s: %w", id, err)
	}
	c.dirty = true
	return nil
}

// ListAccessKeys returns the user's keys ordered by creation, then ID.
func (c *conn) ListAccessKeys(ctx context.Context, userID string) ([]store.AccessKey, error) {
	ks, err := list(ctx, c, scanAccessKey, `SELECT `+accessKeyCols+` FROM access_keys
		WHERE user_id = $1 ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list access keys of %q: %w", userID, err)
	}
	return ks, nil
}

// TouchAccessKey records a use of the key unless a later one is recorded.
// It is one statement and leaves ChangeSeq alone: last use is not data any
// cache holds.
func (c *conn) TouchAccessKey(ctx context.Context, id string, usedAt time.Time, service, region string) error {
	if _, err := c.exec(ctx, `UPDATE access_keys SET last_used_at = $2, last_used_service = $3, last_used_region = $4
		WHERE id = $1 AND last_used_at < $2`, id, nanos(usedAt), service, region); err != nil {
		return fmt.Errorf("touch access key %s: %w", id, err)
	}
	return nil
}

const oidcProviderCols = `arn, account_id, url, client_ids, thumbprints, tags, created_at`

func scanOIDCProvider(r rowScanner) (*store.OIDCProvider, error) {
	var p store.OIDCProvider
	err := r.Scan(&p.ARN, &p.AccountID, &p.URL, jsonCol{&p.ClientIDs}, jsonCol{&p.Thumbprints}, jsonCol{&p.Tags},
		timeCol{&p.CreatedAt})
	return &p, err
}

// CreateOIDCProvider stores a new provider; its ARN or its (account, URL)
// already stored is ErrConflict.
func (c *conn) CreateOIDCProvider(ctx context.Context, p *store.OIDCProvider) error {
	err := c.insert(ctx, `INSERT INTO oidc_providers (`+oidcProviderCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT DO NOTHING`, p.ARN, p.AccountID, p.URL, toJSON(nonNil(p.ClientIDs)), toJSON(nonNil(p.Thumbprints)),
		toJSON(nonNil(p.Tags)), nanos(p.CreatedAt))
	if err != nil {
		return fmt.Errorf("create OIDC provider %s: %w", p.ARN, err)
	}
	c.dirty = true
	return nil
}

// GetOIDCProvider returns the provider with the given ARN.
func (c *conn) GetOIDCProvider(ctx context.Context, arn string) (*store.OIDCProvider, error) {
	p, err := getOne(ctx, c, scanOIDCProvider, `SELECT `+oidcProviderCols+` FROM oidc_providers WHERE arn = $1`, arn)
	if err != nil {
		return nil, fmt.Errorf("get OIDC provider %s: %w", arn, err)
	}
	return p, nil
}

// UpdateOIDCProvider stores p's client IDs, thumbprints and tags.
func (c *conn) UpdateOIDCProvider(ctx context.Context, p *store.OIDCProvider) error {
	if err := c.change(ctx, `UPDATE oidc_providers SET client_ids = $2, thumbprints = $3, tags = $4 WHERE arn = $1`,
		p.ARN, toJSON(nonNil(p.ClientIDs)), toJSON(nonNil(p.Thumbprints)), toJSON(nonNil(p.Tags))); err != nil {
		return fmt.Errorf("update OIDC provider %s: %w", p.ARN, err)
	}
	c.dirty = true
	return nil
}

// DeleteOIDCProvider deletes the provider with the given ARN.
func (c *conn) DeleteOIDCProvider(ctx context.Context, arn string) error {
	if err := c.change(ctx, `DELETE FROM oidc_providers WHERE arn = $1`, arn); err != nil {
		return fmt.Errorf("delete OIDC provider %s: %w", arn, err)
	}
	c.dirty = true
	return nil
}

// ListOIDCProviders returns accountID's providers ordered by ARN.
func (c *conn) ListOIDCProviders(ctx context.Context, accountID string) ([]store.OIDCProvider, error) {
	ps, err := list(ctx, c, scanOIDCProvider, `SELECT `+oidcProviderCols+` FROM oidc_providers
		WHERE account_id = $1 ORDER BY arn`, accountID)
	if err != nil {
		return nil, fmt.Errorf("list OIDC providers of %s: %w", accountID, err)
	}
	return ps, nil
}

// nonNil returns s, or an empty slice for nil, so that lists are stored as
// [] and read back as empty rather than nil.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
