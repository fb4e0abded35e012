package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gatehouse-dev/gatehouse/internal/store"
)

const permissionSetCols = `id, name, description, session_duration, relay_state, managed_policies, customer_policies,
	inline_policy, boundary, tags, version, created_at, updated_at`

func scanPermissionSet(r rowScanner) (*store.PermissionSet, error) {
	var ps store.PermissionSet
	err := r.Scan(&ps.ID, &ps.Name, &ps.Description, durCol{&ps.SessionDuration}, &ps.RelayState,
		jsonCol{&ps.ManagedPolicies}, jsonCol{&ps.CustomerPolicies}, &ps.InlinePolicy, jsonCol{&ps.Boundary},
		jsonCol{&ps.Tags}, &ps.Version, timeCol{&ps.CreatedAt}, timeCol{&ps.UpdatedAt})
	return &ps, err
}

// CreatePermissionSet stores a new permission set; a name already taken
// (ignoring case) is ErrConflict.
func (c *conn) CreatePermissionSet(ctx context.Context, ps *store.PermissionSet) error {
	err := c.insert(ctx, `INSERT INTO permission_sets (`+permissionSetCols+`, name_key)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT DO NOTHING`,
		ps.ID, ps.Name, ps.Description, int64(ps.SessionDuration), ps.RelayState, toJSON(ps.ManagedPolicies),
		toJSON(ps.CustomerPolicies), ps.InlinePolicy, toJSON(ps.Boundary), toJSON(ps.Tags), ps.Version,
		nanos(ps.CreatedAt), nanos(ps.UpdatedAt), nameKey(ps.Name))
	if err != nil {
		return fmt.Errorf("create permission set %q: %w", ps.Name, err)
	}
	c.dirty = true
	return nil
}

// GetPermissionSet returns the permission set with the given ID.
func (c *conn) GetPermissionSet(ctx context.Context, id string) (*store.PermissionSet, error) {
	ps, err := getOne(ctx, c, scanPermissionSet, `SELECT `+permissionSetCols+` FROM permission_sets WHERE id = $1`, id)
	if err != nil {
		return nil, fmt.Errorf("get permission set %q: %w", id, err)
	}
	return ps, nil
}

// GetPermissionSetByName returns the permission set whose name equals name
// ignoring case.
func (c *conn) GetPermissionSetByName(ctx context.Context, name string) (*store.PermissionSet, error) {
	ps, err := getOne(ctx, c, scanPermissionSet, `SELECT `+permissionSetCols+` FROM permission_sets WHERE name_key = $1`, nameKey(name))
	if err != nil {
		return nil, fmt.Errorf("get permission set by name %q: %w", name, err)
	}
	return ps, nil
}

// UpdatePermissionSet replaces the stored permission set with ps.
func (c *conn) UpdatePermissionSet(ctx context.Context, ps *store.PermissionSet) error {
	err := c.updatePermissionSet(ctx, ps)
	if err != nil {
		return fmt.Errorf("update permission set %q: %w", ps.ID, err)
	}
	c.dirty = true
	return nil
}

func (c *conn) updatePermissionSet(ctx context.Context, ps *store.PermissionSet) error {
	taken, err := c.exists(ctx, `SELECT 1 FROM permission_sets WHERE name_key = $1 AND id <> $2`, nameKey(ps.Name), ps.ID)
	if err != nil {
		return err
	}
	if taken {
		return fmt.Errorf("name %q: %w", ps.Name, store.ErrConflict)
	}
	return c.change(ctx, `UPDATE permission_sets SET name = $2, description = $3, session_duration = $4, relay_state = $5,
		managed_policies = $6, customer_policies = $7, inline_policy = $8, boundary = $9, tags = $10, version = $11,
		created_at = $12, updated_at = $13, name_key = $14 WHERE id = $1`,
		ps.ID, ps.Name, ps.Description, int64(ps.SessionDuration), ps.RelayState, toJSON(ps.ManagedPolicies),
		toJSON(ps.CustomerPolicies), ps.InlinePolicy, toJSON(ps.Boundary), toJSON(ps.Tags), ps.Version,
		nanos(ps.CreatedAt), nanos(ps.UpdatedAt), nameKey(ps.Name))
}

// DeletePermissionSet deletes the permission set with the given ID. Its
// assignments and provisioned roles are the caller's to remove first.
func (c *conn) DeletePermissionSet(ctx context.Context, id string) error {
	if err := c.change(ctx, `DELETE FROM permission_sets WHERE id = $1`, id); err != nil {
		return fmt.Errorf("delete permission set %q: %w", id, err)
	}
	c.dirty = true
	return nil
}

// ListPermissionSets returns a page of permission sets ordered by ID.
func (c *conn) ListPermissionSets(ctx context.Context, p store.Page) ([]store.PermissionSet, error) {
	pss, err := list(ctx, c, scanPermissionSet, `SELECT `+permissionSetCols+` FROM permission_sets WHERE id > $1 ORDER BY id LIMIT $2`, p.After, limit(p))
	if err != nil {
		return nil, fmt.Errorf("list permission sets: %w", err)
	}
	return pss, nil
}

// CountPermissionSets returns the number of permission sets.
func (c *conn) CountPermissionSets(ctx context.Context) (int, error) {
	var n int
	if err := c.queryRowContext(ctx, `SELECT COUNT(*) FROM permission_sets`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count permission sets: %w", err)
	}
	return n, nil
}

// GetResourceTags returns the tags of resourceARN, an empty list when it
// has none.
func (c *conn) GetResourceTags(ctx context.Context, resourceARN string) ([]store.Tag, error) {
	tags := []store.Tag{}
	err := c.queryRowContext(ctx, `SELECT tags FROM resource_tags WHERE resource_arn = $1`, resourceARN).Scan(jsonCol{&tags})
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return []store.Tag{}, nil
	case err != nil:
		return nil, fmt.Errorf("get tags of %q: %w", resourceARN, err)
	case tags == nil:
		tags = []store.Tag{}
	}
	return tags, nil
}

// PutResourceTags replaces the tags of resourceARN; an empty list deletes
// the row.
func (c *conn) PutResourceTags(ctx context.Context, resourceARN string, tags []store.Tag) error {
	var err error
	if len(tags) == 0 {
		_, err = c.exec(ctx, `DELETE FROM resource_tags WHERE resource_arn = $1`, resourceARN)
	} else {
		_, err = c.exec(ctx, `INSERT INTO resource_tags (resource_arn, tags) VALUES ($1, $2)
			ON CONFLICT (resource_arn) DO UPDATE SET tags = excluded.tags`, resourceARN, toJSON(tags))
	}
	if err != nil {
		return fmt.Errorf("put tags of %q: %w", resourceARN, err)
	}
	return nil
}

const assignmentCols = `account_id, permission_set_id, principal_type, principal_id, created_at`

func scanAssignment(r rowScanner) (*store.Assignment, error) {
	var a store.Assignment
	err := r.Scan(&a.AccountID, &a.PermissionSetID, &a.PrincipalType, &a.PrincipalID, timeCol{&a.CreatedAt})
	return &a, err
}

// CreateAssignment stores a new assignment; the same one twice is
// ErrConflict.
func (c *conn) CreateAssignment(ctx context.Context, a *store.Assignment) error {
	err := c.insert(ctx, `INSERT INTO assignments (`+assignmentCols+`) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
		a.AccountID, a.PermissionSetID, a.PrincipalType, a.PrincipalID, nanos(a.CreatedAt))
	if err != nil {
		return fmt.Errorf("create assignment of %s %q to %q in %q: %w", a.PrincipalType, a.PrincipalID, a.PermissionSetID, a.AccountID, err)
	}
	c.dirty = true
	return nil
}

// DeleteAssignment deletes the assignment with a's key (CreatedAt is
// ignored).
func (c *conn) DeleteAssignment(ctx context.Context, a *store.Assignment) error {
	err := c.change(ctx, `DELETE FROM assignments WHERE account_id = $1 AND permission_set_id = $2 AND principal_type = $3 AND principal_id = $4`,
		a.AccountID, a.PermissionSetID, a.PrincipalType, a.PrincipalID)
	if err != nil {
		return fmt.Errorf("delete assignment of %s %q to %q in %q: %w", a.PrincipalType, a.PrincipalID, a.PermissionSetID, a.AccountID, err)
	}
	c.dirty = true
	return nil
}

// ListAssignments returns the assignments matching f.
func (c *conn) ListAssignments(ctx context.Context, f store.AssignmentFilter) ([]store.Assignment, error) {
	as, err := list(ctx, c, scanAssignment, `SELECT `+assignmentCols+` FROM assignments
		WHERE ($1 = '' OR account_id = $1) AND ($2 = '' OR permission_set_id = $2)
			AND ($3 = '' OR principal_type = $3) AND ($4 = '' OR principal_id = $4)
		ORDER BY account_id, permission_set_id, principal_type, principal_id`,
		f.AccountID, f.PermissionSetID, f.PrincipalType, f.PrincipalID)
	if err != nil {
		return nil, fmt.Errorf("list assignments: %w", err)
	}
	return as, nil
}

const roleCols = `account_id, permission_set_id, role_name, role_id, permission_set_version, created_at, updated_at`

func scanRole(r rowScanner) (*store.ProvisionedRole, error) {
	var pr store.ProvisionedRole
	err := r.Scan(&pr.AccountID, &pr.PermissionSetID, &pr.RoleName, &pr.RoleID, &pr.PermissionSetVersion, timeCol{&pr.CreatedAt}, timeCol{&pr.UpdatedAt})
	return &pr, err
}

// PutProvisionedRole stores r, replacing the role of the same account and
// permission set.
func (c *conn) PutProvisionedRole(ctx context.Context, r *store.ProvisionedRole) error {
	_, err := c.exec(ctx, `INSERT INTO provisioned_roles (`+roleCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (account_id, permission_set_id) DO UPDATE SET role_name = excluded.role_name, role_id = excluded.role_id,
			permission_set_version = excluded.permission_set_version, created_at = excluded.created_at, updated_at = excluded.updated_at`,
		r.AccountID, r.PermissionSetID, r.RoleName, r.RoleID, r.PermissionSetVersion, nanos(r.CreatedAt), nanos(r.UpdatedAt))
	if err != nil {
		return fmt.Errorf("put provisioned role of %q in %q: %w", r.PermissionSetID, r.AccountID, err)
	}
	c.dirty = true
	return nil
}

// GetProvisionedRole returns the role of permissionSetID in accountID.
func (c *conn) GetProvisionedRole(ctx context.Context, accountID, permissionSetID string) (*store.ProvisionedRole, error) {
	r, err := getOne(ctx, c, scanRole, `SELECT `+roleCols+` FROM provisioned_roles WHERE account_id = $1 AND permission_set_id = $2`, accountID, permissionSetID)
	if err != nil {
		return nil, fmt.Errorf("get provisioned role of %q in %q: %w", permissionSetID, accountID, err)
	}
	return r, nil
}

// DeleteProvisionedRole deletes the role of permissionSetID in accountID.
func (c *conn) DeleteProvisionedRole(ctx context.Context, accountID, permissionSetID string) error {
	err := c.change(ctx, `DELETE FROM provisioned_roles WHERE account_id = $1 AND permission_set_id = $2`, accountID, permissionSetID)
	if err != nil {
		return fmt.Errorf("delete provisioned role of %q in %q: %w", permissionSetID, accountID, err)
	}
	c.dirty = true
	return nil
}

// ListProvisionedRoles returns the roles matching f, ordered by account and
// permission set.
func (c *conn) ListProvisionedRoles(ctx context.Context, f store.RoleFilter) ([]store.ProvisionedRole, error) {
	rs, err := list(ctx, c, scanRole, `SELECT `+roleCols+` FROM provisioned_roles
		WHERE ($1 = '' OR account_id = $1) AND ($2 = '' OR permission_set_id = $2)
		ORDER BY account_id, permission_set_id`, f.AccountID, f.PermissionSetID)
	if err != nil {
		return nil, fmt.Errorf("list provisioned roles: %w", err)
	}
	return rs, nil
}

const operationCols = `request_id, kind, status, failure_reason, account_id, permission_set_id, principal_type, principal_id, created_at`

func scanOperation(r rowScanner) (*store.Operation, error) {
	var op store.Operation
	err := r.Scan(&op.RequestID, &op.Kind, &op.Status, &op.FailureReason, &op.AccountID, &op.PermissionSetID,
		&op.PrincipalType, &op.PrincipalID, timeCol{&op.CreatedAt})
	return &op, err
}

// PutOperation stores op, replacing the operation with the same request ID.
func (c *conn) PutOperation(ctx context.Context, op *store.Operation) error {
	_, err := c.exec(ctx, `INSERT INTO operations (`+operationCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (request_id) DO UPDATE SET kind = excluded.kind, status = excluded.status,
			failure_reason = excluded.failure_reason, account_id = excluded.account_id,
			permission_set_id = excluded.permission_set_id, principal_type = excluded.principal_type,
			principal_id = excluded.principal_id, created_at = excluded.created_at`,
		op.RequestID, op.Kind, op.Status, op.FailureReason, op.AccountID, op.PermissionSetID, op.PrincipalType,
		op.PrincipalID, nanos(op.CreatedAt))
	if err != nil {
		return fmt.Errorf("put operation %q: %w", op.RequestID, err)
	}
	return nil
}

// GetOperation returns the operation with the given request ID.
func (c *conn) GetOperation(ctx context.Context, requestID string) (*store.Operation, error) {
	op, err := getOne(ctx, c, scanOperation, `SELECT `+operationCols+` FROM operations WHERE request_id = $1`, requestID)
	if err != nil {
		return nil, fmt.Errorf("get operation %q: %w", requestID, err)
	}
	return op, nil
}

// ListOperations returns the operations matching f ordered by CreatedAt then
// RequestID. An empty Kind matches every kind; Page.After is the request ID
// of the last operation already seen, and one that does not exist yields an
// empty page.
func (c *conn) ListOperations(ctx context.Context, f store.OperationFilter) ([]store.Operation, error) {
	ops, err := list(ctx, c, scanOperation, `SELECT `+operationCols+` FROM operations
		WHERE ($1 = '' OR kind = $1) AND ($2 = '' OR status = $2)
			AND ($3 = '' OR (created_at, request_id) > (SELECT created_at, request_id FROM operations WHERE request_id = $3))
		ORDER BY created_at, request_id LIMIT $4`, f.Kind, f.Status, f.Page.After, limit(f.Page))
	if err != nil {
		return nil, fmt.Errorf("list operations: %w", err)
	}
	return ops, nil
}

const customerPolicyCols = `account_id, path, name, document, created_at, updated_at,
	policy_id, description, default_version, versions, next_version, tags`

func scanCustomerPolicy(r rowScanner) (*store.CustomerPolicy, error) {
	var p store.CustomerPolicy
	err := r.Scan(&p.AccountID, &p.Path, &p.Name, &p.Document, timeCol{&p.CreatedAt}, timeCol{&p.UpdatedAt},
		&p.ID, &p.Description, &p.DefaultVersion, jsonCol{&p.Versions}, &p.NextVersion, jsonCol{&p.Tags})
	// Empty lists read as nil, as a record without them is written.
	if len(p.Versions) == 0 {
		p.Versions = nil
	}
	if len(p.Tags) == 0 {
		p.Tags = nil
	}
	return &p, err
}

// PutCustomerPolicy stores p, replacing the policy with the same account,
// path and name.
func (c *conn) PutCustomerPolicy(ctx context.Context, p *store.CustomerPolicy) error {
	versions, tags := p.Versions, p.Tags
	if versions == nil {
		versions = []store.PolicyVersion{}
	}
	if tags == nil {
		tags = []store.Tag{}
	}
	_, err := c.exec(ctx, `INSERT INTO customer_policies (`+customerPolicyCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT (account_id, path, name) DO UPDATE SET document = excluded.document,
			created_at = excluded.created_at, updated_at = excluded.updated_at, policy_id = excluded.policy_id,
			description = excluded.description, default_version = excluded.default_version,
			versions = excluded.versions, next_version = excluded.next_version, tags = excluded.tags`,
		p.AccountID, p.Path, p.Name, p.Document, nanos(p.CreatedAt), nanos(p.UpdatedAt),
		p.ID, p.Description, p.DefaultVersion, toJSON(versions), p.NextVersion, toJSON(tags))
	if err != nil {
		return fmt.Errorf("put customer policy %s%s in %q: %w", p.Path, p.Name, p.AccountID, err)
	}
	return nil
}

// GetCustomerPolicy returns the policy named path and name in accountID.
func (c *conn) GetCustomerPolicy(ctx context.Context, accountID, path, name string) (*store.CustomerPolicy, error) {
	p, err := getOne(ctx, c, scanCustomerPolicy, `SELECT `+customerPolicyCols+` FROM customer_policies
		WHERE account_id = $1 AND path = $2 AND name = $3`, accountID, path, name)
	if err != nil {
		return nil, fmt.Errorf("get customer policy %s%s in %q: %w", path, name, accountID, err)
	}
	return p, nil
}

// DeleteCustomerPolicy deletes the policy named path and name in accountID.
func (c *conn) DeleteCustomerPolicy(ctx context.Context, accountID, path, name string) error {
	err := c.change(ctx, `DELETE FROM customer_policies WHERE account_id = $1 AND path = $2 AND name = $3`, accountID, path, name)
	if err != nil {
		return fmt.Errorf("delete customer policy %s%s in %q: %w", path, name, accountID, err)
	}
	return nil
}

// ListCustomerPolicies returns the account's policies ordered by path and
// name.
func (c *conn) ListCustomerPolicies(ctx context.Context, accountID string) ([]store.CustomerPolicy, error) {
	ps, err := list(ctx, c, scanCustomerPolicy, `SELECT `+customerPolicyCols+` FROM customer_policies
		WHERE account_id = $1 ORDER BY path, name`, accountID)
	if err != nil {
		return nil, fmt.Errorf("list customer policies in %q: %w", accountID, err)
	}
	return ps, nil
}

const eventCols = `id, event_time, source, name, principal, error_code, read_only, access_key_id, resources, record`

// eventParams is the number of columns of eventCols.
const eventParams = 10

func scanEvent(r rowScanner) (*store.EventRecord, error) {
	var e store.EventRecord
	err := r.Scan(&e.ID, timeCol{&e.Time}, &e.Source, &e.Name, &e.Principal, &e.ErrorCode, &e.ReadOnly, &e.AccessKeyID, resourcesCol{&e.Resources}, blobCol{&e.Record})
	return &e, err
}

func eventArgs(args []any, e *store.EventRecord) []any {
	return append(args, e.ID, nanos(e.Time), e.Source, e.Name, e.Principal, e.ErrorCode, e.ReadOnly, e.AccessKeyID, resourcesArg(e.Resources), blobArg(e.Record))
}

// AppendEvent stores a new audit event and its resources; a second event
// with the same ID is ErrConflict.
func (c *conn) AppendEvent(ctx context.Context, e *store.EventRecord) error {
	err := c.insert(ctx, eventInserts.of(c.d, 1), eventArgs(nil, e)...)
	if err == nil {
		err = c.appendResources(ctx, []store.EventRecord{*e})
	}
	if err != nil {
		return fmt.Errorf("append event %q: %w", e.ID, err)
	}
	return nil
}

// appendResources stores the lookup keys of the resources of es
// (event_resource_keys: a row per resource type and one per resource name
// of each event, with its time) with multi-row INSERTs, like AppendEvents stores the
// events: one statement per up to maxResourceRows rows rather than one per
// row, since the audit recorder gives almost every event one or more. A key
// listed twice is stored once.
func (c *conn) appendResources(ctx context.Context, es []store.EventRecord) error {
	var args []any
	rows := 0
	flush := func() error {
		for rows > 0 {
			n := maxResourceRows
			for n > rows {
				n /= 2
			}
			if _, err := c.exec(ctx, resourceInserts.of(c.d, n), args[:resourceParams*n]...); err != nil {
				return fmt.Errorf("%d event resource keys: %w", n, err)
			}
			args = append(args[:0], args[resourceParams*n:]...)
			rows -= n
		}
		return nil
	}
	add := func(attr int64, value string, at any, id string) error {
		args = append(args, attr, value, at, id)
		rows++
		if rows == maxResourceRows {
			return flush()
		}
		return nil
	}
	for i := range es {
		rs := es[i].Resources
		if len(rs) == 0 {
			continue
		}
		at := any(nanos(es[i].Time)) // boxed once for the event's rows
		for j, r := range rs {
			if !typeListed(rs[:j], r.Type) {
				if err := add(resourceTypeKey, r.Type, at, es[i].ID); err != nil {
					return err
				}
			}
			if err := add(resourceNameKey, r.Name, at, es[i].ID); err != nil {
				return err
			}
		}
	}
	return flush()
}

// typeListed reports whether a resource of rs has type typ.
func typeListed(rs []store.EventResource, typ string) bool {
	for _, r := range rs {
		if r.Type == typ {
			return true
		}
	}
	return false
}

// The attributes of event_resource_keys rows: what LookupEvents'
// AttributeKey ResourceType and ResourceName look up.
const (
	resourceTypeKey = 0
	resourceNameKey = 1
)

// maxResourceRows bounds the rows of one event_resource_keys INSERT: 128
// rows of resourceParams parameters, far below SQLite's 32766 and
// PostgreSQL's 65535.
const maxResourceRows = 128

// resourceParams is the number of columns of an event_resource_keys row.
const resourceParams = 4

// resourceInserts holds the INSERT statements of 1, 2, 4, ...
// maxResourceRows event resource keys.
var resourceInserts = newRowInserts(`INSERT INTO event_resource_keys (attribute, value, event_time, event_id) VALUES `,
	resourceParams, maxResourceRows)

// rowInserts holds an INSERT statement of n rows for each n a power
// of two up to a maximum, in both placeholder forms (Dialect.Anonymous).
type rowInserts struct {
	numbered, anonymous map[int]string
}

// newRowInserts returns the statements prefix followed by n rows of
// params parameters each and ON CONFLICT DO NOTHING, for n a power of two
// up to max.
func newRowInserts(prefix string, params, max int) rowInserts {
	return rowInserts{
		numbered:  multiRowInserts(prefix, params, max),
		anonymous: multiRowTexts(prefix, params, max, func(int) string { return "?" }),
	}
}

// of returns the statement of n rows in d's placeholder form.
func (m rowInserts) of(d *Dialect, n int) string {
	if d.Anonymous {
		return m.anonymous[n]
	}
	return m.numbered[n]
}

// multiRowInserts returns the statements of newRowInserts with numbered
// parameters ($1, $2, ...), which both dialects take, under key n.
func multiRowInserts(prefix string, params, max int) map[int]string {
	return multiRowTexts(prefix, params, max, func(i int) string { return fmt.Sprintf("$%d", i) })
}

// multiRowTexts returns prefix followed by n rows of params parameters
// each, the i-th (from 1) written as ph(i), and ON CONFLICT DO NOTHING,
// under key n, for n a power of two up to max.
func multiRowTexts(prefix string, params, max int, ph func(i int) string) map[int]string {
	m := map[int]string{}
	for n := 1; n <= max; n *= 2 {
		var b strings.Builder
		b.WriteString(prefix)
		for i := range n {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(")
			for j := range params {
				if j > 0 {
					b.WriteString(", ")
				}
				b.WriteString(ph(params*i + j + 1))
			}
			b.WriteString(")")
		}
		b.WriteString(` ON CONFLICT DO NOTHING`)
		m[n] = b.String()
	}
	return m
}

// resourcesArg stores an event's resources as JSON, none as NULL. The
// event_resource_keys table holds their types and names again, for
// filtering.
func resourcesArg(rs []store.EventResource) any {
	if len(rs) == 0 {
		return nil
	}
	return toJSON(rs)
}

// resourcesCol scans resourcesArg's column.
type resourcesCol struct{ rs *[]store.EventResource }

func (s resourcesCol) Scan(src any) error {
	if src == nil {
		*s.rs = nil
		return nil
	}
	return jsonCol{s.rs}.Scan(src)
}

// maxEventRows bounds the rows of one AppendEvents statement: 64 rows of 10
// parameters, far below SQLite's 32766 and PostgreSQL's 65535.
const maxEventRows = 64

// eventInserts holds the INSERT statements of 1, 2, 4, ... maxEventRows
// events.
var eventInserts = newRowInserts(`INSERT INTO events (`+eventCols+`) VALUES `, eventParams, maxEventRows)

// AppendEvents stores es with multi-row INSERTs. Their sizes are powers of
// two (a slice of 37 takes 32, 4 and 1 rows), so that a few prepared
// statements serve every length. An ID already stored or repeated in es is
// ErrConflict.
func (c *conn) AppendEvents(ctx context.Context, es []store.EventRecord) error {
	args := make([]any, 0, eventParams*min(len(es), maxEventRows))
	for rest := es; len(rest) > 0; {
		n := maxEventRows
		for n > len(rest) {
			n /= 2
		}
		args = args[:0]
		for i := range rest[:n] {
			args = eventArgs(args, &rest[i])
		}
		stored, err := c.exec(ctx, eventInserts.of(c.d, n), args...)
		if err == nil && stored < int64(n) {
			err = store.ErrConflict
		}
		if err != nil {
			return fmt.Errorf("append %d events from %q: %w", len(es), rest[0].ID, err)
		}
		rest = rest[n:]
	}
	if err := c.appendResources(ctx, es); err != nil {
		return fmt.Errorf("append %d events from %q: %w", len(es), es[0].ID, err)
	}
	return nil
}

// EventQuery returns ListEvents' query of f and its arguments, for
// query-plan tests.
func EventQuery(f store.EventFilter) (string, []any) { return eventQuery(f) }

// eventQuery returns the query of f and its arguments. Only the filters f
// sets appear in it, so that the planner can use the index of the one
// attribute a lookup names (a catch-all term, true whenever its parameter
// is empty, cannot be planned with one); the query texts stay few (one per combination of set
// filters and order), which the statement cache holds.
func eventQuery(f store.EventFilter) (string, []any) {
	var b strings.Builder
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	// A lookup by resource is driven by event_resource_keys, in the
	// order of its key (attribute, value, event_time, event_id): a page
	// reads its own events only, not every event naming the resource.
	// Columns of events are then qualified (e.), and time and ID order
	// come from the key (k.).
	p, t, id := "", "event_time", "id"
	drive, driveValue := -1, ""
	switch {
	case f.ResourceName != "":
		drive, driveValue = resourceNameKey, f.ResourceName
	case f.ResourceType != "":
		drive, driveValue = resourceTypeKey, f.ResourceType
	}
	if drive >= 0 {
		p, t, id = "e.", "k.event_time", "k.event_id"
		b.WriteString(`SELECT ` + qualifiedEventCols + ` FROM event_resource_keys k JOIN events e ON e.id = k.event_id
			WHERE k.attribute = ` + strconv.Itoa(drive) + ` AND k.value = ` + arg(driveValue) + ` AND k.event_time >= ` + arg(nanos(f.Start)))
	} else {
		b.WriteString(`SELECT ` + eventCols + ` FROM events WHERE event_time >= ` + arg(nanos(f.Start)))
	}
	if !f.End.IsZero() {
		b.WriteString(` AND ` + t + ` < ` + arg(nanos(f.End)))
	}
	for _, c := range [...]struct{ col, v string }{
		{"id", f.ID}, {"name", f.Name}, {"source", f.Source}, {"principal", f.Principal}, {"access_key_id", f.AccessKeyID},
	} {
		if c.v != "" {
			b.WriteString(` AND ` + p + c.col + ` = ` + arg(c.v))
		}
	}
	if f.AccessKeyID != "" {
		// The condition of the partial index events_access_key, written
		// as the index has it: neither planner infers it from the
		// parameter.
		b.WriteString(` AND ` + p + `access_key_id <> ''`)
	}
	if f.ReadOnly != nil {
		b.WriteString(` AND ` + p + `read_only = ` + arg(*f.ReadOnly))
	}
	if f.ResourceType != "" && drive != resourceTypeKey {
		b.WriteString(` AND ` + p + `id IN (SELECT event_id FROM event_resource_keys WHERE attribute = ` + strconv.Itoa(resourceTypeKey) + ` AND value = ` + arg(f.ResourceType) + `)`)
	}
	cmp, order := ">", t+`, `+id
	if f.Newest {
		cmp, order = "<", t+` DESC, `+id+` DESC`
	}
	if f.Page.After != "" {
		b.WriteString(` AND (` + t + `, ` + id + `) ` + cmp + ` (SELECT event_time, id FROM events WHERE id = ` + arg(f.Page.After) + `)`)
	}
	b.WriteString(` ORDER BY ` + order + ` LIMIT ` + arg(limit(f.Page)))
	return b.String(), args
}

// qualifiedEventCols is eventCols as columns of events e.
var qualifiedEventCols = "e." + strings.ReplaceAll(eventCols, ", ", ", e.")

// ListEvents returns the events matching f ordered by (Time, ID), or newest
// first. A zero End means no upper bound; Page.After is the ID of the last
// event already seen.
func (c *conn) ListEvents(ctx context.Context, f store.EventFilter) ([]store.EventRecord, error) {
	q, args := eventQuery(f)
	es, err := list(ctx, c, scanEvent, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	return es, nil
}
