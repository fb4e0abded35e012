package sqldb

import (
	"context"
	"fmt"

	"github.com/gatehouse-dev/gatehouse/internal/store"
)

const accountLinkCols = `account_id, endpoint, region, access_key_id, sealed_secret, role_arn, external_id,
	saml_provider_arn, status, status_reason, created_at, updated_at, updated_by`

func scanAccountLink(r rowScanner) (*store.AccountLink, error) {
	var l store.AccountLink
	err := r.Scan(&l.AccountID, &l.Endpoint, &l.Region, &l.AccessKeyID, &l.SealedSecret, &l.RoleARN, &l.ExternalID,
		&l.SAMLProviderARN, &l.Status, &l.StatusReason, timeCol{&l.CreatedAt}, timeCol{&l.UpdatedAt}, &l.UpdatedBy)
	return &l, err
}

// PutAccountLink creates or replaces the link of l.AccountID.
func (c *conn) PutAccountLink(ctx context.Context, l *store.AccountLink) error {
	secret := l.SealedSecret
	if secret == nil {
		secret = []byte{}
	}
	_, err := c.exec(ctx, `INSERT INTO account_links (`+accountLinkCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
		ON CONFLICT (account_id) DO UPDATE SET endpoint = excluded.endpoint, region = excluded.region,
			access_key_id = excluded.access_key_id, sealed_secret = excluded.sealed_secret, role_arn = excluded.role_arn,
			external_id = excluded.external_id, saml_provider_arn = excluded.saml_provider_arn, status = excluded.status,
			status_reason = excluded.status_reason, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
		l.AccountID, l.Endpoint, l.Region, l.AccessKeyID, secret, l.RoleARN, l.ExternalID,
		l.SAMLProviderARN, l.Status, l.StatusReason, nanos(l.CreatedAt), nanos(l.UpdatedAt), l.UpdatedBy)
	if err != nil {
		return fmt.Errorf("put account link %s: %w", l.AccountID, err)
	}
	c.dirty = true
	return nil
}

// GetAccountLink returns the link of accountID.
func (c *conn) GetAccountLink(ctx context.Context, accountID string) (*store.AccountLink, error) {
	l, err := getOne(ctx, c, scanAccountLink, `SELECT `+accountLinkCols+` FROM account_links WHERE account_id = $1`, accountID)
	if err != nil {
		return nil, fmt.Errorf("get account link %s: %w", accountID, err)
	}
	return l, nil
}

// ListAccountLinks returns every link ordered by account ID.
func (c *conn) ListAccountLinks(ctx context.Context) ([]store.AccountLink, error) {
	ls, err := list(ctx, c, scanAccountLink, `SELECT `+accountLinkCols+` FROM account_links ORDER BY account_id`)
	if err != nil {
		return nil, fmt.Errorf("list account links: %w", err)
	}
	return ls, nil
}

// DeleteAccountLink removes the link of accountID.
func (c *conn) DeleteAccountLink(ctx context.Context, accountID string) error {
	if err := c.change(ctx, `DELETE FROM account_links WHERE account_id = $1`, accountID); err != nil {
		return fmt.Errorf("delete account link %s: %w", accountID, err)
	}
	c.dirty = true
	return nil
}

// PutAccountLink runs Tx.PutAccountLink in its own transaction.
func (db *DB) PutAccountLink(ctx context.Context, l *store.AccountLink) error {
	return db.Update(ctx, func(tx store.Tx) error { return tx.PutAccountLink(ctx, l) })
}

// DeleteAccountLink runs Tx.DeleteAccountLink in its own transaction.
func (db *DB) DeleteAccountLink(ctx context.Context, accountID string) error {
	return db.Update(ctx, func(tx store.Tx) error { return tx.DeleteAccountLink(ctx, accountID) })
}
