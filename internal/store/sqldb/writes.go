package sqldb

import (
	"context"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// The Store's write methods. Writes to records that ChangeSeq covers, and
// writes of more than one statement, run in a transaction through Update;
// single-statement writes of other records run as one autocommit statement
// on the write pool (on PostgreSQL that is READ COMMITTED, where an upsert
// such as HitRate's is exact without serialization retries).

// CreateAccount runs Tx.CreateAccount in its own transaction.
func (db *DB) CreateAccount(ctx context.Context, a *store.Account) error {
	return db.Update(ctx, func(tx store.Tx) error { return tx.CreateAccount(ctx, a) })
}

// UpdateAccount runs Tx.UpdateAccount in its own transaction.
func (db *DB) UpdateAccount(ctx context.Context, a *store.Account) error {
	return db.Update(ctx, func(tx store.Tx) error { return tx.UpdateAccount(ctx, a) })
}

// CreateDelegatedAdmin runs Tx.CreateDelegatedAdmin in its own
// transaction.
func (db *DB) CreateDelegatedAdmin(ctx context.Context, d *store.DelegatedAdmin) error {
	return db.Update(ctx, func(tx store.Tx) error { return tx.CreateDelegatedAdmin(ctx, d) })
}

// DeleteDelegatedAdmin runs Tx.DeleteDelegatedAdmin in its own
// transaction.
func (db *DB) DeleteDelegatedAdmin(ctx context.Context, accountID, servicePrincipal string) error {
	return db.Update(ctx, func(tx store.Tx) error { return tx.DeleteDelegatedAdmin(ctx, accountID, servicePrincipal) })
}

// CreateUser runs Tx.CreateUser in its own transaction.
func (db *DB) CreateUser(ctx context.Context, u *store.User) error {
	return db.Update(ctx, func(tx store.Tx) error { return tx.CreateUser(ctx, u) })
}

// UpdateUser runs Tx.UpdateUser in its own transaction.
func (db *DB) UpdateUser(ctx context.Context, u *store.User) error {
	return db.Update(ctx, func(tx store.Tx) error { return tx.UpdateUser(ctx, u) })
}

// DeleteUser runs Tx.DeleteUser in its own transaction.
func (db *DB) DeleteUser(ctx context.Context, id string) error {
	return db.Update(ctx, func(tx store.Tx) error { return tx.DeleteUser(ctx, id) })
}

// CreateGroup runs Tx.CreateGroup in its own transaction.
func (db *DB) CreateGroup(ctx context.Context, g *store.Group) error {
	return db.Update(ctx, func(tx store.Tx) error { return tx.CreateGroup(ctx, g) })
}

// UpdateGroup runs Tx.UpdateGroup in its own transaction.
func (db *DB) UpdateGroup(ctx context.Context, g *store.Group) error {
	return db.Update(ctx, func(tx store.Tx) error { return tx.UpdateGroup(ctx, g) })
}

// DeleteGroup runs Tx.DeleteGroup in its own transaction.
func (db *DB) DeleteGroup(ctx context.Context, id string) error {
	return db.Update(ctx, func(tx store.Tx) error { return tx.DeleteGroup(ctx, id) })
}

// CreateMembership runs Tx.CreateMembership in its own transaction.
func (db *DB) CreateMembership(ctx context.Context, m *store.Membership) error {
	return db.Update(ctx, func(tx store.Tx) error { return tx.CreateMembership(ctx, m) })
}

// DeleteMembership runs Tx.DeleteMembership in its own transaction.
func (db *DB) DeleteMembership(ctx context.Context, id string) error {
	return db.Update(ctx, func(tx store.Tx) error { return tx.DeleteMembership(ctx, id) })
}

// CreatePermissionSet runs Tx.CreatePermissionSet in its own transaction.
func (db *DB) CreatePermissionSet(ctx context.Context, ps *store.PermissionSet) error {
	return db.Update(ctx, func(tx store.Tx) error { return tx.CreatePermissionSet(ctx, ps) })
}

// UpdatePermissionSet runs Tx.UpdatePermissionSet in its own transaction.
func (db *DB) UpdatePermissionSet(ctx context.Context, ps *store.PermissionSet) error {
	return db.Update(ctx, func(tx store.Tx) error { return tx.UpdatePermissionSet(ctx, ps) })
}

// DeletePermissionSet runs Tx.DeletePermissionSet in its own transaction.
func (db *DB) DeletePermissionSet(ctx context.Context, id string) error {
	return db.Update(ctx, func(tx store.Tx) error { return tx.DeletePermissionSet(ctx, id) })
}

// CreateAssignment runs Tx.CreateAssignment in its own transaction.
func (db *DB) CreateAssignment(ctx context.Context, a *store.Assignment) error {
	return db.Update(ctx, func(tx store.Tx) error { return tx.CreateAssignment(ctx, a) })
}

// DeleteAssignment runs Tx.DeleteAssignment in its own transaction.
func (db *DB) DeleteAssignment(ctx context.Context, a *store.Assignment) error {
	return db.Update(ctx, func(tx store.Tx) error { return tx.DeleteAssignment(ctx, a) })
}

// PutProvisionedRole runs Tx.PutProvisionedRole in its own transaction.
func (db *DB) PutProvisionedRole(ctx context.Context, r *store.ProvisionedRole) error {
	return db.Update(ctx, func(tx store.Tx) error { return tx.PutProvisionedRole(ctx, r) })
}

// DeleteProvisionedRole runs Tx.DeleteProvisionedRole in its own transaction.
func (db *DB) DeleteProvisionedRole(ctx context.Context, accountID, permissionSetID string) error {
	return db.Update(ctx, func(tx store.Tx) error { return tx.DeleteProvisionedRole(ctx, accountID, permissionSetID) })
}

// PutRevocation runs Tx.PutRevocation in its own transaction.
func (db *DB) PutRevocation(ctx context.Context, r *store.Revocation) error {
	return db.Update(ctx, func(tx store.Tx) error { return tx.PutRevocation(ctx, r) })
}

// CreateMFADevice runs Tx.CreateMFADevice in its own transaction.
func (db *DB) CreateMFADevice(ctx context.Context, d *store.MFADevice) error {
	return db.Update(ctx, func(tx store.Tx) error { return tx.CreateMFADevice(ctx, d) })
}

// CreateInstance runs Tx.CreateInstance on the write pool.
func (db *DB) CreateInstance(ctx context.Context, in *store.Instance) error {
	return db.direct(ctx, func(c *conn) error { return c.CreateInstance(ctx, in) })
}

// PutKey runs Tx.PutKey on the write pool.
func (db *DB) PutKey(ctx context.Context, k *store.Key) error {
	return db.direct(ctx, func(c *conn) error { return c.PutKey(ctx, k) })
}

// PutOperation runs Tx.PutOperation on the write pool.
func (db *DB) PutOperation(ctx context.Context, op *store.Operation) error {
	return db.direct(ctx, func(c *conn) error { return c.PutOperation(ctx, op) })
}

// PutResourceTags runs Tx.PutResourceTags on the write pool.
func (db *DB) PutResourceTags(ctx context.Context, resourceARN string, tags []store.Tag) error {
	return db.direct(ctx, func(c *conn) error { return c.PutResourceTags(ctx, resourceARN, tags) })
}

// PutCustomerPolicy runs Tx.PutCustomerPolicy on the write pool.
func (db *DB) PutCustomerPolicy(ctx context.Context, p *store.CustomerPolicy) error {
	return db.direct(ctx, func(c *conn) error { return c.PutCustomerPolicy(ctx, p) })
}

// DeleteCustomerPolicy runs Tx.DeleteCustomerPolicy on the write pool.
func (db *DB) DeleteCustomerPolicy(ctx context.Context, accountID, path, name string) error {
	return db.direct(ctx, func(c *conn) error { return c.DeleteCustomerPolicy(ctx, accountID, path, name) })
}

// AppendEvent runs Tx.AppendEvent on the write pool, in a transaction when
// the event has resources (two tables to write).
func (db *DB) AppendEvent(ctx context.Context, e *store.EventRecord) error {
	if len(e.Resources) > 0 {
		return db.Update(ctx, func(tx store.Tx) error { return tx.AppendEvent(ctx, e) })
	}
	return db.direct(ctx, func(c *conn) error { return c.AppendEvent(ctx, e) })
}

// PutCreateAccountStatus runs Tx.PutCreateAccountStatus on the write pool.
func (db *DB) PutCreateAccountStatus(ctx context.Context, s *store.CreateAccountStatus) error {
	return db.direct(ctx, func(c *conn) error { return c.PutCreateAccountStatus(ctx, s) })
}

// AppendEvents runs Tx.AppendEvents in its own transaction, so that it
// stores all of es or none.
func (db *DB) AppendEvents(ctx context.Context, es []store.EventRecord) error {
	if len(es) == 0 {
		return nil
	}
	return db.Update(ctx, func(tx store.Tx) error { return tx.AppendEvents(ctx, es) })
}

// CreateClient runs Tx.CreateClient on the write pool.
func (db *DB) CreateClient(ctx context.Context, cl *store.Client) error {
	return db.direct(ctx, func(c *conn) error { return c.CreateClient(ctx, cl) })
}

// CreateDeviceAuth runs Tx.CreateDeviceAuth on the write pool.
func (db *DB) CreateDeviceAuth(ctx context.Context, d *store.DeviceAuth) error {
	return db.direct(ctx, func(c *conn) error { return c.CreateDeviceAuth(ctx, d) })
}

// UpdateDeviceAuth runs Tx.UpdateDeviceAuth on the write pool.
func (db *DB) UpdateDeviceAuth(ctx context.Context, d *store.DeviceAuth) error {
	return db.direct(ctx, func(c *conn) error { return c.UpdateDeviceAuth(ctx, d) })
}

// CreateAuthCode runs Tx.CreateAuthCode on the write pool.
func (db *DB) CreateAuthCode(ctx context.Context, a *store.AuthCode) error {
	return db.direct(ctx, func(c *conn) error { return c.CreateAuthCode(ctx, a) })
}

// UpdateAuthCode runs Tx.UpdateAuthCode on the write pool.
func (db *DB) UpdateAuthCode(ctx context.Context, a *store.AuthCode) error {
	return db.direct(ctx, func(c *conn) error { return c.UpdateAuthCode(ctx, a) })
}

// CreateGrant runs Tx.CreateGrant on the write pool.
func (db *DB) CreateGrant(ctx context.Context, g *store.Grant) error {
	return db.direct(ctx, func(c *conn) error { return c.CreateGrant(ctx, g) })
}

// UpdateGrant runs Tx.UpdateGrant on the write pool.
func (db *DB) UpdateGrant(ctx context.Context, g *store.Grant) error {
	return db.direct(ctx, func(c *conn) error { return c.UpdateGrant(ctx, g) })
}

// CreateToken runs Tx.CreateToken on the write pool.
func (db *DB) CreateToken(ctx context.Context, t *store.Token) error {
	return db.direct(ctx, func(c *conn) error { return c.CreateToken(ctx, t) })
}

// UpdateToken runs Tx.UpdateToken on the write pool.
func (db *DB) UpdateToken(ctx context.Context, t *store.Token) error {
	return db.direct(ctx, func(c *conn) error { return c.UpdateToken(ctx, t) })
}

// CreateTokens runs Tx.CreateTokens in its own transaction, so that it
// stores all of ts or none.
func (db *DB) CreateTokens(ctx context.Context, ts []store.Token) error {
	if len(ts) == 0 {
		return nil
	}
	return db.Update(ctx, func(tx store.Tx) error { return tx.CreateTokens(ctx, ts) })
}

// MarkTokenUsed runs Tx.MarkTokenUsed on the write pool.
func (db *DB) MarkTokenUsed(ctx context.Context, hash string, at time.Time) (marked bool, err error) {
	err = db.direct(ctx, func(c *conn) error {
		marked, err = c.MarkTokenUsed(ctx, hash, at)
		return err
	})
	return marked, err
}

// CreateSession runs Tx.CreateSession on the write pool.
func (db *DB) CreateSession(ctx context.Context, s *store.Session) error {
	return db.direct(ctx, func(c *conn) error { return c.CreateSession(ctx, s) })
}

// UpdateSession runs Tx.UpdateSession on the write pool.
func (db *DB) UpdateSession(ctx context.Context, s *store.Session) error {
	return db.direct(ctx, func(c *conn) error { return c.UpdateSession(ctx, s) })
}

// ResetRate runs Tx.ResetRate on the write pool.
func (db *DB) ResetRate(ctx context.Context, key string) error {
	return db.direct(ctx, func(c *conn) error { return c.ResetRate(ctx, key) })
}

// UpdateMFADevice runs Tx.UpdateMFADevice on the write pool.
func (db *DB) UpdateMFADevice(ctx context.Context, d *store.MFADevice) error {
	return db.direct(ctx, func(c *conn) error { return c.UpdateMFADevice(ctx, d) })
}

// DeleteMFADevice runs Tx.DeleteMFADevice on the write pool.
func (db *DB) DeleteMFADevice(ctx context.Context, userID, id string) error {
	return db.direct(ctx, func(c *conn) error { return c.DeleteMFADevice(ctx, userID, id) })
}

// DeleteExpired runs Tx.DeleteExpired on the write pool.
func (db *DB) DeleteExpired(ctx context.Context, now time.Time) error {
	return db.direct(ctx, func(c *conn) error { return c.DeleteExpired(ctx, now) })
}

// DeleteEventsBefore runs Tx.DeleteEventsBefore on the write pool.
func (db *DB) DeleteEventsBefore(ctx context.Context, t time.Time) (int, error) {
	var n int
	err := db.direct(ctx, func(c *conn) error {
		var err error
		n, err = c.DeleteEventsBefore(ctx, t)
		return err
	})
	return n, err
}

// DeleteExpiredClients runs Tx.DeleteExpiredClients on the write pool.
func (db *DB) DeleteExpiredClients(ctx context.Context, now time.Time) (int, error) {
	var n int
	err := db.direct(ctx, func(c *conn) error {
		var err error
		n, err = c.DeleteExpiredClients(ctx, now)
		return err
	})
	return n, err
}

// HitRate runs Tx.HitRate on the write pool.
func (db *DB) HitRate(ctx context.Context, key string, window time.Duration, now time.Time) (int, error) {
	var n int
	err := db.direct(ctx, func(c *conn) error {
		var err error
		n, err = c.HitRate(ctx, key, window, now)
		return err
	})
	return n, err
}

// ReserveAttempt runs Tx.ReserveAttempt on the write pool.
func (db *DB) ReserveAttempt(ctx context.Context, key string, rule store.AttemptRule, now time.Time) (store.Attempts, bool, error) {
	var a store.Attempts
	var ok bool
	err := db.direct(ctx, func(c *conn) error {
		var err error
		a, ok, err = c.ReserveAttempt(ctx, key, rule, now)
		return err
	})
	return a, ok, err
}

// RefundAttempt runs Tx.RefundAttempt on the write pool.
func (db *DB) RefundAttempt(ctx context.Context, key string) error {
	return db.direct(ctx, func(c *conn) error { return c.RefundAttempt(ctx, key) })
}

// ResetAttempts runs Tx.ResetAttempts on the write pool.
func (db *DB) ResetAttempts(ctx context.Context, key string) error {
	return db.direct(ctx, func(c *conn) error { return c.ResetAttempts(ctx, key) })
}

// PutUseMarker runs Tx.PutUseMarker on the write pool.
func (db *DB) PutUseMarker(ctx context.Context, key string, expiresAt time.Time) error {
	return db.direct(ctx, func(c *conn) error { return c.PutUseMarker(ctx, key, expiresAt) })
}

// CreateIAMUser runs Tx.CreateIAMUser in its own transaction.
func (db *DB) CreateIAMUser(ctx context.Context, u *store.IAMUser) error {
	return db.Update(ctx, func(tx store.Tx) error { return tx.CreateIAMUser(ctx, u) })
}

// UpdateIAMUser runs Tx.UpdateIAMUser in its own transaction.
func (db *DB) UpdateIAMUser(ctx context.Context, u *store.IAMUser) error {
	return db.Update(ctx, func(tx store.Tx) error { return tx.UpdateIAMUser(ctx, u) })
}

// DeleteIAMUser runs Tx.DeleteIAMUser in its own transaction.
func (db *DB) DeleteIAMUser(ctx context.Context, id string) error {
	return db.Update(ctx, func(tx store.Tx) error { return tx.DeleteIAMUser(ctx, id) })
}

// CreateAccessKey runs Tx.CreateAccessKey in its own transaction.
func (db *DB) CreateAccessKey(ctx context.Context, k *store.AccessKey) error {
	return db.Update(ctx, func(tx store.Tx) error { return tx.CreateAccessKey(ctx, k) })
}

// UpdateAccessKey runs Tx.UpdateAccessKey in its own transaction.
func (db *DB) UpdateAccessKey(ctx context.Context, k *store.AccessKey) error {
	return db.Update(ctx, func(tx store.Tx) error { return tx.UpdateAccessKey(ctx, k) })
}

// DeleteAccessKey runs Tx.DeleteAccessKey in its own transaction.
func (db *DB) DeleteAccessKey(ctx context.Context, id string) error {
	return db.Update(ctx, func(tx store.Tx) error { return tx.DeleteAccessKey(ctx, id) })
}

// TouchAccessKey runs Tx.TouchAccessKey on the write pool.
func (db *DB) TouchAccessKey(ctx context.Context, id string, usedAt time.Time, service, region string) error {
	return db.direct(ctx, func(c *conn) error { return c.TouchAccessKey(ctx, id, usedAt, service, region) })
}

// CreateOIDCProvider runs Tx.CreateOIDCProvider in its own transaction.
func (db *DB) CreateOIDCProvider(ctx context.Context, p *store.OIDCProvider) error {
	return db.Update(ctx, func(tx store.Tx) error { return tx.CreateOIDCProvider(ctx, p) })
}

// UpdateOIDCProvider runs Tx.UpdateOIDCProvider in its own transaction.
func (db *DB) UpdateOIDCProvider(ctx context.Context, p *store.OIDCProvider) error {
	return db.Update(ctx, func(tx store.Tx) error { return tx.UpdateOIDCProvider(ctx, p) })
}

// DeleteOIDCProvider runs Tx.DeleteOIDCProvider in its own transaction.
func (db *DB) DeleteOIDCProvider(ctx context.Context, arn string) error {
	return db.Update(ctx, func(tx store.Tx) error { return tx.DeleteOIDCProvider(ctx, arn) })
}
