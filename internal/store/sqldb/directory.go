package sqldb

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// nameKey is the form of a case-insensitive name stored in the UNIQUE key
// column and looked up by the ByName methods.
func nameKey(s string) string { return strings.ToLower(s) }

const instanceCols = `instance_id, identity_store_id, management_account_id, name, region, start_url, created_at`

func scanInstance(r rowScanner) (*store.Instance, error) {
	var in store.Instance
	err := r.Scan(&in.InstanceID, &in.IdentityStoreID, &in.ManagementAccountID, &in.Name, &in.Region, &in.StartURL, timeCol{&in.CreatedAt})
	return &in, err
}

// GetInstance returns the deployment's instance.
func (c *conn) GetInstance(ctx context.Context) (*store.Instance, error) {
	in, err := getOne(ctx, c, scanInstance, `SELECT `+instanceCols+` FROM instance WHERE id = 1`)
	if err != nil {
		return nil, fmt.Errorf("get instance: %w", err)
	}
	return in, nil
}

// CreateInstance stores the instance; a second one is ErrConflict.
func (c *conn) CreateInstance(ctx context.Context, in *store.Instance) error {
	err := c.insert(ctx, `INSERT INTO instance (id, `+instanceCols+`) VALUES (1, $1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
		in.InstanceID, in.IdentityStoreID, in.ManagementAccountID, in.Name, in.Region, in.StartURL, nanos(in.CreatedAt))
	if err != nil {
		return fmt.Errorf("create instance %q: %w", in.InstanceID, err)
	}
	return nil
}

const keyCols = `id, purpose, sealed, created_at, active`

func scanKey(r rowScanner) (*store.Key, error) {
	var k store.Key
	err := r.Scan(&k.ID, &k.Purpose, blobCol{&k.Sealed}, timeCol{&k.CreatedAt}, &k.Active)
	return &k, err
}

// PutKey stores k, replacing the key with the same ID.
func (c *conn) PutKey(ctx context.Context, k *store.Key) error {
	_, err := c.exec(ctx, `INSERT INTO keys (`+keyCols+`) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (id) DO UPDATE SET purpose = excluded.purpose, sealed = excluded.sealed,
			created_at = excluded.created_at, active = excluded.active`,
		k.ID, k.Purpose, blobArg(k.Sealed), nanos(k.CreatedAt), k.Active)
	if err != nil {
		return fmt.Errorf("put key %q: %w", k.ID, err)
	}
	return nil
}

// ListKeys returns the keys of purpose (every key when purpose is empty),
// oldest first.
func (c *conn) ListKeys(ctx context.Context, purpose string) ([]store.Key, error) {
	ks, err := list(ctx, c, scanKey, `SELECT `+keyCols+` FROM keys WHERE ($1 = '' OR purpose = $1) ORDER BY created_at, id`, purpose)
	if err != nil {
		return nil, fmt.Errorf("list keys %q: %w", purpose, err)
	}
	return ks, nil
}

const accountCols = `id, name, email, state, joined_method, tags, created_at, closed_at`

func scanAccount(r rowScanner) (*store.Account, error) {
	var a store.Account
	err := r.Scan(&a.ID, &a.Name, &a.Email, &a.State, &a.JoinedMethod, jsonCol{&a.Tags}, timeCol{&a.CreatedAt}, timeCol{&a.ClosedAt})
	return &a, err
}

// CreateAccount stores a new account.
func (c *conn) CreateAccount(ctx context.Context, a *store.Account) error {
	err := c.insert(ctx, `INSERT INTO accounts (`+accountCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
		a.ID, a.Name, a.Email, a.State, a.JoinedMethod, toJSON(a.Tags), nanos(a.CreatedAt), nanos(a.ClosedAt))
	if err != nil {
		return fmt.Errorf("create account %q: %w", a.ID, err)
	}
	c.dirty = true
	return nil
}

// GetAccount returns the account with the given ID.
func (c *conn) GetAccount(ctx context.Context, id string) (*store.Account, error) {
	a, err := getOne(ctx, c, scanAccount, `SELECT `+accountCols+` FROM accounts WHERE id = $1`, id)
	if err != nil {
		return nil, fmt.Errorf("get account %q: %w", id, err)
	}
	return a, nil
}

// UpdateAccount replaces the stored account with a.
func (c *conn) UpdateAccount(ctx context.Context, a *store.Account) error {
	err := c.change(ctx, `UPDATE accounts SET name = $2, email = $3, state = $4, joined_method = $5, tags = $6, created_at = $7, closed_at = $8
		WHERE id = $1`,
		a.ID, a.Name, a.Email, a.State, a.JoinedMethod, toJSON(a.Tags), nanos(a.CreatedAt), nanos(a.ClosedAt))
	if err != nil {
		return fmt.Errorf("update account %q: %w", a.ID, err)
	}
	c.dirty = true
	return nil
}

// ListAccounts returns a page of accounts ordered by ID.
func (c *conn) ListAccounts(ctx context.Context, p store.Page) ([]store.Account, error) {
	as, err := list(ctx, c, scanAccount, `SELECT `+accountCols+` FROM accounts WHERE id > $1 ORDER BY id LIMIT $2`, p.After, limit(p))
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	return as, nil
}

const createAccountStatusCols = `id, account_name, state, failure_reason, account_id, requested_at, completed_at`

func scanCreateAccountStatus(r rowScanner) (*store.CreateAccountStatus, error) {
	var s store.CreateAccountStatus
	err := r.Scan(&s.ID, &s.AccountName, &s.State, &s.FailureReason, &s.AccountID, timeCol{&s.RequestedAt}, timeCol{&s.CompletedAt})
	return &s, err
}

// PutCreateAccountStatus stores s, replacing the status with its ID.
func (c *conn) PutCreateAccountStatus(ctx context.Context, s *store.CreateAccountStatus) error {
	_, err := c.exec(ctx, `INSERT INTO create_account_statuses (`+createAccountStatusCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (id) DO UPDATE SET account_name = excluded.account_name, state = excluded.state,
			failure_reason = excluded.failure_reason, account_id = excluded.account_id,
			requested_at = excluded.requested_at, completed_at = excluded.completed_at`,
		s.ID, s.AccountName, s.State, s.FailureReason, s.AccountID, nanos(s.RequestedAt), nanos(s.CompletedAt))
	if err != nil {
		return fmt.Errorf("put create-account status %q: %w", s.ID, err)
	}
	return nil
}

// GetCreateAccountStatus returns the status with the given ID.
func (c *conn) GetCreateAccountStatus(ctx context.Context, id string) (*store.CreateAccountStatus, error) {
	s, err := getOne(ctx, c, scanCreateAccountStatus, `SELECT `+createAccountStatusCols+` FROM create_account_statuses WHERE id = $1`, id)
	if err != nil {
		return nil, fmt.Errorf("get create-account status %q: %w", id, err)
	}
	return s, nil
}

// ListCreateAccountStatuses returns a page of statuses in f's states,
// ordered by ID. The states are few (three), so they are passed as
// separate parameters.
func (c *conn) ListCreateAccountStatuses(ctx context.Context, f store.CreateAccountStatusFilter) ([]store.CreateAccountStatus, error) {
	var st [3]string
	n := copy(st[:], f.States)
	if n < len(f.States) {
		return nil, fmt.Errorf("list create-account statuses: %d states, at most %d", len(f.States), len(st))
	}
	ss, err := list(ctx, c, scanCreateAccountStatus, `SELECT `+createAccountStatusCols+` FROM create_account_statuses
		WHERE id > $1 AND ($2 = '' OR state IN ($2, $3, $4)) ORDER BY id LIMIT $5`,
		f.Page.After, st[0], st[1], st[2], limit(f.Page))
	if err != nil {
		return nil, fmt.Errorf("list create-account statuses: %w", err)
	}
	return ss, nil
}

const delegatedAdminCols = `account_id, service_principal, enabled_at`

func scanDelegatedAdmin(r rowScanner) (*store.DelegatedAdmin, error) {
	var d store.DelegatedAdmin
	err := r.Scan(&d.AccountID, &d.ServicePrincipal, timeCol{&d.EnabledAt})
	return &d, err
}

// CreateDelegatedAdmin registers d; an existing registration of the same
// account and service principal is ErrConflict.
func (c *conn) CreateDelegatedAdmin(ctx context.Context, d *store.DelegatedAdmin) error {
	err := c.insert(ctx, `INSERT INTO delegated_admins (`+delegatedAdminCols+`) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		d.AccountID, d.ServicePrincipal, nanos(d.EnabledAt))
	if err != nil {
		return fmt.Errorf("register delegated admin %s for %s: %w", d.AccountID, d.ServicePrincipal, err)
	}
	c.dirty = true
	return nil
}

// DeleteDelegatedAdmin removes a registration; a missing one is
// ErrNotFound.
func (c *conn) DeleteDelegatedAdmin(ctx context.Context, accountID, servicePrincipal string) error {
	err := c.change(ctx, `DELETE FROM delegated_admins WHERE account_id = $1 AND service_principal = $2`, accountID, servicePrincipal)
	if err != nil {
		return fmt.Errorf("deregister delegated admin %s for %s: %w", accountID, servicePrincipal, err)
	}
	c.dirty = true
	return nil
}

// ListDelegatedAdmins returns the registrations f selects, ordered by
// account ID and service principal.
func (c *conn) ListDelegatedAdmins(ctx context.Context, f store.DelegatedAdminFilter) ([]store.DelegatedAdmin, error) {
	ds, err := list(ctx, c, scanDelegatedAdmin, `SELECT `+delegatedAdminCols+` FROM delegated_admins
		WHERE account_id > $1 AND ($2 = '' OR account_id = $2) AND ($3 = '' OR service_principal = $3)
		ORDER BY account_id, service_principal LIMIT $4`,
		f.Page.After, f.AccountID, f.ServicePrincipal, limit(f.Page))
	if err != nil {
		return nil, fmt.Errorf("list delegated admins: %w", err)
	}
	return ds, nil
}

// userCols are the columns of a user. On SQLite the index users_list
// (migrations 0009, 0018) holds all of them in ID order for ListUsers; a column
// added here belongs in that index too.
const userCols = `id, user_name, display_name, name, emails, profile, disabled, password_hash, created_at, updated_at, created_by, updated_by,
	admin_disabled, source_inactive`

// userDoc is what the profile column holds: the user's remaining
// attributes and its external IDs, as one JSON object (NULL when empty).
type userDoc struct {
	store.UserProfile
	ExternalIDs []store.ExternalID `json:"ExternalIds,omitempty"`
}

func profileArg(u *store.User) any {
	b, err := json.Marshal(userDoc{u.Profile, u.ExternalIDs})
	if err != nil {
		panic(fmt.Sprintf("sqldb: encode user profile: %v", err))
	}
	if string(b) == "{}" {
		return nil
	}
	return b
}

// emailKey is the users.email_key of u: its primary e-mail address (the
// first when none is marked primary), lower-cased.
func emailKey(emails []store.Email) string {
	return nameKey(store.PrimaryEmail(emails))
}

func scanUser(r rowScanner) (*store.User, error) {
	var u store.User
	if err := scanUserTo(r, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// scanUserTo scans a row of userCols into u.
func scanUserTo(r rowScanner, u *store.User) error {
	var prof []byte
	err := r.Scan(&u.ID, &u.UserName, &u.DisplayName, jsonCol{&u.Name}, jsonCol{&u.Emails}, blobCol{&prof}, &u.Disabled,
		&u.PasswordHash, timeCol{&u.CreatedAt}, timeCol{&u.UpdatedAt}, &u.CreatedBy, &u.UpdatedBy, &u.AdminDisabled, &u.SourceInactive)
	if err == nil && len(prof) > 0 {
		var d userDoc
		if err := json.Unmarshal(prof, &d); err != nil {
			return fmt.Errorf("user %q profile: %w", u.ID, err)
		}
		u.Profile, u.ExternalIDs = d.UserProfile, d.ExternalIDs
	}
	return err
}

// putExternalIDs replaces the external_ids rows of a principal; an external
// ID another principal of the kind holds is ErrConflict.
func (c *conn) putExternalIDs(ctx context.Context, kind, principalID string, ids []store.ExternalID, replace bool) error {
	if replace {
		if _, err := c.exec(ctx, `DELETE FROM external_ids WHERE principal_type = $1 AND principal_id = $2`, kind, principalID); err != nil {
			return err
		}
	}
	for _, x := range ids {
		err := c.insert(ctx, `INSERT INTO external_ids (principal_type, issuer, external_id, principal_id) VALUES ($1, $2, $3, $4)
			ON CONFLICT DO NOTHING`, kind, x.Issuer, x.ID, principalID)
		if err != nil {
			return fmt.Errorf("external ID %q of %q: %w", x.ID, x.Issuer, err)
		}
	}
	return nil
}

// CreateUser stores a new user; a user name already taken (ignoring case)
// or an external ID another user holds is ErrConflict.
func (c *conn) CreateUser(ctx context.Context, u *store.User) error {
	err := c.insert(ctx, `INSERT INTO users (`+userCols+`, user_name_key, email_key)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) ON CONFLICT DO NOTHING`,
		u.ID, u.UserName, u.DisplayName, toJSON(u.Name), toJSON(u.Emails), profileArg(u), u.Disabled,
		u.PasswordHash, nanos(u.CreatedAt), nanos(u.UpdatedAt), u.CreatedBy, u.UpdatedBy, u.AdminDisabled, u.SourceInactive,
		nameKey(u.UserName), emailKey(u.Emails))
	if err == nil {
		err = c.putExternalIDs(ctx, store.PrincipalUser, u.ID, u.ExternalIDs, false)
	}
	if err != nil {
		return fmt.Errorf("create user %q: %w", u.UserName, err)
	}
	c.dirty = true
	return nil
}

// GetUser returns the user with the given ID.
func (c *conn) GetUser(ctx context.Context, id string) (*store.User, error) {
	u, err := getOne(ctx, c, scanUser, `SELECT `+userCols+` FROM users WHERE id = $1`, id)
	if err != nil {
		return nil, fmt.Errorf("get user %q: %w", id, err)
	}
	return u, nil
}

// GetUserByName returns the user whose name equals userName ignoring case.
func (c *conn) GetUserByName(ctx context.Context, userName string) (*store.User, error) {
	u, err := getOne(ctx, c, scanUser, `SELECT `+userCols+` FROM users WHERE user_name_key = $1`, nameKey(userName))
	if err != nil {
		return nil, fmt.Errorf("get user by name %q: %w", userName, err)
	}
	return u, nil
}

// GetUserByEmail returns the user of lowest ID whose primary e-mail address
// equals email ignoring case.
func (c *conn) GetUserByEmail(ctx context.Context, email string) (*store.User, error) {
	if email == "" {
		return nil, fmt.Errorf("get user by empty e-mail address: %w", store.ErrNotFound)
	}
	u, err := getOne(ctx, c, scanUser, `SELECT `+userCols+` FROM users WHERE email_key = $1 ORDER BY id LIMIT 1`, nameKey(email))
	if err != nil {
		return nil, fmt.Errorf("get user by e-mail address: %w", err)
	}
	return u, nil
}

// GetUserByExternalID returns the user holding the external ID.
func (c *conn) GetUserByExternalID(ctx context.Context, id store.ExternalID) (*store.User, error) {
	u, err := getOne(ctx, c, scanUser, `SELECT `+userCols+` FROM users WHERE id =
		(SELECT principal_id FROM external_ids WHERE principal_type = $1 AND issuer = $2 AND external_id = $3)`,
		store.PrincipalUser, id.Issuer, id.ID)
	if err != nil {
		return nil, fmt.Errorf("get user by external ID %q of %q: %w", id.ID, id.Issuer, err)
	}
	return u, nil
}

// UpdateUser replaces the stored user with u.
func (c *conn) UpdateUser(ctx context.Context, u *store.User) error {
	err := c.updateUser(ctx, u)
	if err != nil {
		return fmt.Errorf("update user %q: %w", u.ID, err)
	}
	c.dirty = true
	return nil
}

func (c *conn) updateUser(ctx context.Context, u *store.User) error {
	taken, err := c.exists(ctx, `SELECT 1 FROM users WHERE user_name_key = $1 AND id <> $2`, nameKey(u.UserName), u.ID)
	if err != nil {
		return err
	}
	if taken {
		return fmt.Errorf("user name %q: %w", u.UserName, store.ErrConflict)
	}
	err = c.change(ctx, `UPDATE users SET user_name = $2, display_name = $3, name = $4, emails = $5, profile = $6,
		disabled = $7, password_hash = $8, created_at = $9, updated_at = $10, created_by = $11, updated_by = $12,
		user_name_key = $13, email_key = $14, admin_disabled = $15, source_inactive = $16 WHERE id = $1`,
		u.ID, u.UserName, u.DisplayName, toJSON(u.Name), toJSON(u.Emails), profileArg(u), u.Disabled,
		u.PasswordHash, nanos(u.CreatedAt), nanos(u.UpdatedAt), u.CreatedBy, u.UpdatedBy, nameKey(u.UserName), emailKey(u.Emails),
		u.AdminDisabled, u.SourceInactive)
	if err != nil {
		return err
	}
	return c.putExternalIDs(ctx, store.PrincipalUser, u.ID, u.ExternalIDs, true)
}

// DeleteUser deletes the user with its memberships and MFA devices.
func (c *conn) DeleteUser(ctx context.Context, id string) error {
	err := c.deleteUser(ctx, id)
	if err != nil {
		return fmt.Errorf("delete user %q: %w", id, err)
	}
	c.dirty = true
	return nil
}

func (c *conn) deleteUser(ctx context.Context, id string) error {
	// The foreign keys cascade too; deleting explicitly keeps the rule
	// visible here and independent of the schema.
	if _, err := c.exec(ctx, `DELETE FROM group_memberships WHERE user_id = $1`, id); err != nil {
		return err
	}
	if _, err := c.exec(ctx, `DELETE FROM mfa_devices WHERE user_id = $1`, id); err != nil {
		return err
	}
	if _, err := c.exec(ctx, `DELETE FROM link_tokens WHERE user_id = $1`, id); err != nil {
		return err
	}
	if _, err := c.exec(ctx, `DELETE FROM external_ids WHERE principal_type = $1 AND principal_id = $2`, store.PrincipalUser, id); err != nil {
		return err
	}
	return c.change(ctx, `DELETE FROM users WHERE id = $1`, id)
}

// ListUsersQuery is ListUsers' query: the users after $1 by ID, at most $2.
const ListUsersQuery = `SELECT ` + userCols + ` FROM users WHERE id > $1 ORDER BY id LIMIT $2`

// ListUsers returns a page of users ordered by ID.
func (c *conn) ListUsers(ctx context.Context, p store.Page) ([]store.User, error) {
	us, err := c.listUsers(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return us, nil
}

// listUsers is list for users, scanning each row straight into a slice
// sized for the page (a user is ~700 bytes; growing the slice and copying
// each scanned user was half the memory a page of ListUsers cost).
func (c *conn) listUsers(ctx context.Context, p store.Page) ([]store.User, error) {
	rows, err := c.queryContext(ctx, ListUsersQuery, p.After, limit(p))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]store.User, 0, min(max(p.Limit, 0), 1000))
	for rows.Next() {
		out = append(out, store.User{})
		if err := scanUserTo(rows, &out[len(out)-1]); err != nil {
			return nil, err
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

const groupCols = `id, display_name, description, external_ids, created_at, updated_at, created_by, updated_by`

func scanGroup(r rowScanner) (*store.Group, error) {
	var g store.Group
	err := r.Scan(&g.ID, &g.DisplayName, &g.Description, jsonCol{&g.ExternalIDs}, timeCol{&g.CreatedAt}, timeCol{&g.UpdatedAt}, &g.CreatedBy, &g.UpdatedBy)
	if len(g.ExternalIDs) == 0 {
		g.ExternalIDs = nil
	}
	return &g, err
}

// externalIDsArg is the external_ids column value of ids: a JSON list,
// "[]" when empty so that it reads back as nil.
func externalIDsArg(ids []store.ExternalID) string {
	if len(ids) == 0 {
		return "[]"
	}
	return toJSON(ids)
}

// CreateGroup stores a new group; a display name already taken (ignoring
// case) or an external ID another group holds is ErrConflict.
func (c *conn) CreateGroup(ctx context.Context, g *store.Group) error {
	err := c.insert(ctx, `INSERT INTO directory_groups (`+groupCols+`, display_name_key)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
		g.ID, g.DisplayName, g.Description, externalIDsArg(g.ExternalIDs), nanos(g.CreatedAt), nanos(g.UpdatedAt), g.CreatedBy, g.UpdatedBy, nameKey(g.DisplayName))
	if err == nil {
		err = c.putExternalIDs(ctx, store.PrincipalGroup, g.ID, g.ExternalIDs, false)
	}
	if err != nil {
		return fmt.Errorf("create group %q: %w", g.DisplayName, err)
	}
	c.dirty = true
	return nil
}

// GetGroup returns the group with the given ID.
func (c *conn) GetGroup(ctx context.Context, id string) (*store.Group, error) {
	g, err := getOne(ctx, c, scanGroup, `SELECT `+groupCols+` FROM directory_groups WHERE id = $1`, id)
	if err != nil {
		return nil, fmt.Errorf("get group %q: %w", id, err)
	}
	return g, nil
}

// GetGroupByName returns the group whose display name equals displayName
// ignoring case.
func (c *conn) GetGroupByName(ctx context.Context, displayName string) (*store.Group, error) {
	g, err := getOne(ctx, c, scanGroup, `SELECT `+groupCols+` FROM directory_groups WHERE display_name_key = $1`, nameKey(displayName))
	if err != nil {
		return nil, fmt.Errorf("get group by name %q: %w", displayName, err)
	}
	return g, nil
}

// GetGroupByExternalID returns the group holding the external ID.
func (c *conn) GetGroupByExternalID(ctx context.Context, id store.ExternalID) (*store.Group, error) {
	g, err := getOne(ctx, c, scanGroup, `SELECT `+groupCols+` FROM directory_groups WHERE id =
		(SELECT principal_id FROM external_ids WHERE principal_type = $1 AND issuer = $2 AND external_id = $3)`,
		store.PrincipalGroup, id.Issuer, id.ID)
	if err != nil {
		return nil, fmt.Errorf("get group by external ID %q of %q: %w", id.ID, id.Issuer, err)
	}
	return g, nil
}

// UpdateGroup replaces the stored group with g.
func (c *conn) UpdateGroup(ctx context.Context, g *store.Group) error {
	err := c.updateGroup(ctx, g)
	if err != nil {
		return fmt.Errorf("update group %q: %w", g.ID, err)
	}
	c.dirty = true
	return nil
}

func (c *conn) updateGroup(ctx context.Context, g *store.Group) error {
	taken, err := c.exists(ctx, `SELECT 1 FROM directory_groups WHERE display_name_key = $1 AND id <> $2`, nameKey(g.DisplayName), g.ID)
	if err != nil {
		return err
	}
	if taken {
		return fmt.Errorf("display name %q: %w", g.DisplayName, store.ErrConflict)
	}
	err = c.change(ctx, `UPDATE directory_groups SET display_name = $2, description = $3, external_ids = $4, created_at = $5,
		updated_at = $6, created_by = $7, updated_by = $8, display_name_key = $9 WHERE id = $1`,
		g.ID, g.DisplayName, g.Description, externalIDsArg(g.ExternalIDs), nanos(g.CreatedAt), nanos(g.UpdatedAt), g.CreatedBy, g.UpdatedBy, nameKey(g.DisplayName))
	if err != nil {
		return err
	}
	return c.putExternalIDs(ctx, store.PrincipalGroup, g.ID, g.ExternalIDs, true)
}

// DeleteGroup deletes the group and its memberships.
func (c *conn) DeleteGroup(ctx context.Context, id string) error {
	err := c.deleteGroup(ctx, id)
	if err != nil {
		return fmt.Errorf("delete group %q: %w", id, err)
	}
	c.dirty = true
	return nil
}

func (c *conn) deleteGroup(ctx context.Context, id string) error {
	if _, err := c.exec(ctx, `DELETE FROM group_memberships WHERE group_id = $1`, id); err != nil {
		return err
	}
	if _, err := c.exec(ctx, `DELETE FROM external_ids WHERE principal_type = $1 AND principal_id = $2`, store.PrincipalGroup, id); err != nil {
		return err
	}
	return c.change(ctx, `DELETE FROM directory_groups WHERE id = $1`, id)
}

// ListGroups returns a page of groups ordered by ID.
func (c *conn) ListGroups(ctx context.Context, p store.Page) ([]store.Group, error) {
	gs, err := list(ctx, c, scanGroup, `SELECT `+groupCols+` FROM directory_groups WHERE id > $1 ORDER BY id LIMIT $2`, p.After, limit(p))
	if err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	return gs, nil
}

const membershipCols = `id, group_id, user_id, created_at, created_by`

func scanMembership(r rowScanner) (*store.Membership, error) {
	var m store.Membership
	err := r.Scan(&m.ID, &m.GroupID, &m.UserID, timeCol{&m.CreatedAt}, &m.CreatedBy)
	return &m, err
}

// CreateMembership stores a new membership. A second membership of the
// same user in the same group is ErrConflict; a missing user or group is
// ErrNotFound.
func (c *conn) CreateMembership(ctx context.Context, m *store.Membership) error {
	err := c.createMembership(ctx, m)
	if err != nil {
		return fmt.Errorf("create membership of user %q in group %q: %w", m.UserID, m.GroupID, err)
	}
	c.dirty = true
	return nil
}

func (c *conn) createMembership(ctx context.Context, m *store.Membership) error {
	// Checked first so that the common mistake does not abort a PostgreSQL
	// transaction; the foreign keys still catch a concurrent delete.
	ok, err := c.exists(ctx, `SELECT 1 FROM users WHERE id = $1`, m.UserID)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("user %q: %w", m.UserID, store.ErrNotFound)
	}
	ok, err = c.exists(ctx, `SELECT 1 FROM directory_groups WHERE id = $1`, m.GroupID)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("group %q: %w", m.GroupID, store.ErrNotFound)
	}
	return c.insert(ctx, `INSERT INTO group_memberships (`+membershipCols+`) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
		m.ID, m.GroupID, m.UserID, nanos(m.CreatedAt), m.CreatedBy)
}

// GetMembership returns the membership with the given ID.
func (c *conn) GetMembership(ctx context.Context, id string) (*store.Membership, error) {
	m, err := getOne(ctx, c, scanMembership, `SELECT `+membershipCols+` FROM group_memberships WHERE id = $1`, id)
	if err != nil {
		return nil, fmt.Errorf("get membership %q: %w", id, err)
	}
	return m, nil
}

// FindMembership returns the membership of userID in groupID.
func (c *conn) FindMembership(ctx context.Context, groupID, userID string) (*store.Membership, error) {
	m, err := getOne(ctx, c, scanMembership, `SELECT `+membershipCols+` FROM group_memberships WHERE group_id = $1 AND user_id = $2`, groupID, userID)
	if err != nil {
		return nil, fmt.Errorf("find membership of user %q in group %q: %w", userID, groupID, err)
	}
	return m, nil
}

// DeleteMembership deletes the membership with the given ID.
func (c *conn) DeleteMembership(ctx context.Context, id string) error {
	if err := c.change(ctx, `DELETE FROM group_memberships WHERE id = $1`, id); err != nil {
		return fmt.Errorf("delete membership %q: %w", id, err)
	}
	c.dirty = true
	return nil
}

// ListMembershipsByGroup returns a page of the group's memberships ordered
// by ID.
func (c *conn) ListMembershipsByGroup(ctx context.Context, groupID string, p store.Page) ([]store.Membership, error) {
	ms, err := list(ctx, c, scanMembership, `SELECT `+membershipCols+` FROM group_memberships
		WHERE group_id = $1 AND id > $2 ORDER BY id LIMIT $3`, groupID, p.After, limit(p))
	if err != nil {
		return nil, fmt.Errorf("list memberships of group %q: %w", groupID, err)
	}
	return ms, nil
}

// ListMembershipsByUser returns a page of the user's memberships ordered by
// ID.
func (c *conn) ListMembershipsByUser(ctx context.Context, userID string, p store.Page) ([]store.Membership, error) {
	ms, err := list(ctx, c, scanMembership, `SELECT `+membershipCols+` FROM group_memberships
		WHERE user_id = $1 AND id > $2 ORDER BY id LIMIT $3`, userID, p.After, limit(p))
	if err != nil {
		return nil, fmt.Errorf("list memberships of user %q: %w", userID, err)
	}
	return ms, nil
}
