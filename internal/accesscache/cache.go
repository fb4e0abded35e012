package accesscache

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// Defaults used when the Cache fields are zero.
const (
	// DefaultRefreshInterval is how often the change counter is read.
	DefaultRefreshInterval = 200 * time.Millisecond
	// DefaultMaxStale is how long a view may still be used after the last
	// successful read of the change counter. Past it the cache fails closed:
	// a database it cannot reach could hold a revocation it has not seen.
	DefaultMaxStale = 2 * time.Second
	// DefaultMaxLifetime is how far back revocations are loaded: the longest
	// life of role credentials (access.MaxSessionDuration) and a margin for
	// the refresh delay. A revocation older than MaxLifetime is not seen, so
	// a server whose Revoked callers check things issued under portal
	// sessions sets MaxLifetime to access.RevocationLifetime of their
	// duration plus the margin instead.
	DefaultMaxLifetime = access.MaxSessionDuration + time.Minute
	// maxEntries bounds each per-key map of a view; a full map is emptied
	// before the next insert, so keys an attacker makes up (unknown account
	// IDs) cannot grow memory without bound.
	maxEntries = 1 << 16
)

// ErrStale is matched (errors.Is) by the error of a lookup refused because
// the change counter could not be read for longer than MaxStale, so cached
// answers may miss revocations. That error is a *fault.Error of Kind
// fault.Unavailable, which the APIs answer with their retryable error
// (TooManyRequestsException, ServiceUnavailable, ThrottlingException) and
// Retry-After, never an internal error.
var ErrStale = errors.New("access cache is stale: change counter unreadable")

// Source is what the cache reads; store.Store implements it.
type Source interface {
	access.AssignmentReader
	// ChangeSeq is store.Store.ChangeSeq: the change counter views are
	// keyed by.
	ChangeSeq(ctx context.Context) (int64, error)
	GetUser(ctx context.Context, id string) (*store.User, error)
	GetPermissionSet(ctx context.Context, id string) (*store.PermissionSet, error)
	GetAccount(ctx context.Context, id string) (*store.Account, error)
	GetProvisionedRole(ctx context.Context, accountID, permissionSetID string) (*store.ProvisionedRole, error)
	ListRevocations(ctx context.Context, since time.Time) ([]store.Revocation, error)
	ListDelegatedAdmins(ctx context.Context, f store.DelegatedAdminFilter) ([]store.DelegatedAdmin, error)
	GetAccountLink(ctx context.Context, accountID string) (*store.AccountLink, error)
}

var _ Source = store.Store(nil)

// Cache holds hot-path records in memory. Set its fields before first use;
// it is safe for concurrent use afterwards. Records it returns are shared
// between callers and must not be modified.
type Cache struct {
	Store Source
	// Now is the clock; it decides when the change counter is read again
	// and how far back revocations are loaded.
	Now func() time.Time
	// RefreshInterval, MaxStale and MaxLifetime default to the constants
	// of the same names when zero.
	RefreshInterval time.Duration
	MaxStale        time.Duration
	MaxLifetime     time.Duration

	view      atomic.Pointer[view]
	checkedAt atomic.Int64 // Unix nanoseconds of the last counter read attempt
	okAt      atomic.Int64 // Unix nanoseconds when the last successful read began
	failedAt  atomic.Int64 // Unix nanoseconds when the last failed read began
	// epoch counts Invalidate calls. A view answers only while its epoch
	// is the cache's: it was begun after the last write this process
	// reported had committed.
	epoch atomic.Int64
}

// New returns a cache of st's records using the clock now.
func New(st Source, now func() time.Time) *Cache {
	return &Cache{Store: st, Now: now}
}

type roleKey struct{ account, permissionSet string }

type revKey struct{ kind, subject string }

// view is the set of records loaded while the change counter had value seq.
// A nil map value records that the key does not exist.
type view struct {
	seq int64
	// epoch is the cache's epoch when the change counter was read for
	// this view.
	epoch int64

	mu       sync.RWMutex
	users    map[string]*store.User
	ents     map[string][]access.Entitlement
	sets     map[string]*store.PermissionSet
	accounts map[string]*store.Account
	roles    map[roleKey]*store.ProvisionedRole
	// links holds account links (nil: the account is local).
	links map[string]*store.AccountLink
	revs  map[revKey]time.Time // nil until loaded
	// delegated holds the delegated administrator registrations; nil
	// until loaded.
	delegated map[delegatedKey]struct{}
}

type delegatedKey struct{ account, servicePrincipal string }

func newView(seq int64) *view {
	return &view{
		seq:      seq,
		users:    make(map[string]*store.User),
		ents:     make(map[string][]access.Entitlement),
		sets:     make(map[string]*store.PermissionSet),
		accounts: make(map[string]*store.Account),
		roles:    make(map[roleKey]*store.ProvisionedRole),
		links:    make(map[string]*store.AccountLink),
	}
}

func (c *Cache) interval() time.Duration {
	if c.RefreshInterval > 0 {
		return c.RefreshInterval
	}
	return DefaultRefreshInterval
}

func (c *Cache) maxStale() int64 {
	if c.MaxStale > 0 {
		return int64(c.MaxStale)
	}
	return int64(DefaultMaxStale)
}

// Invalidate makes the next lookup read the change counter again and drop
// every record loaded before the call. Stores call it through
// store.Store.OnChange once a write of this process has committed, so that
// a revocation holds for the very next request on the replica that wrote
// it; writes elsewhere are seen within RefreshInterval.
func (c *Cache) Invalidate() { c.epoch.Add(1) }

// current returns the view to answer from, reading the change counter when
// RefreshInterval has passed since the last read or Invalidate was called
// since the view was begun. Only the caller that wins the compare-and-swap
// on checkedAt reads it on a timed refresh; the others use the view they
// have. After Invalidate every caller reads it until a view of the new
// epoch is installed.
//
// A view whose last successful counter read is older than MaxStale answers
// no one: after an idle spell that long, every caller reads the counter
// itself rather than answering from a view that may predate a revocation
// (or failing because another caller's read is still under way). While the
// database is unreachable, a caller within RefreshInterval of a failed read
// fails at once without a query of its own. The error is unavailable's:
// retryable on every API, never an internal error.
func (c *Cache) current(ctx context.Context) (*view, error) {
	now := c.Now().UnixNano()
	// The epoch is read before the counter, so a view tagged with it holds
	// nothing older than the writes reported before.
	epoch := c.epoch.Load()
	v := c.view.Load()
	switch {
	case v == nil:
		c.checkedAt.Store(now)
	case v.epoch != epoch:
		// Invalidated: the view may predate a write of this process.
		c.checkedAt.Store(now)
		v = nil
	case c.fresh(now):
		last := c.checkedAt.Load()
		if d := now - last; d >= 0 && d < int64(c.interval()) {
			return v, nil
		}
		if !c.checkedAt.CompareAndSwap(last, now) {
			// Another caller is reading the counter; v is young enough.
			return v, nil
		}
	default:
		// v is older than MaxStale. If a read failed a moment ago the
		// database is still out: fail without adding a query.
		if f := c.failedAt.Load(); f > c.okAt.Load() && now-f >= 0 && now-f < int64(c.interval()) {
			return nil, unavailable(errRecentFailure)
		}
		c.checkedAt.Store(now)
	}
	seq, err := c.Store.ChangeSeq(ctx)
	if err != nil && ctx.Err() == nil {
		// Once more: a connection the database dropped or a lock that
		// outlived the busy timeout need not fail the request.
		seq, err = c.Store.ChangeSeq(ctx)
	}
	if err != nil {
		if ctx.Err() == nil {
			c.failedAt.Store(now)
		}
		if v != nil && c.fresh(now) {
			return v, nil
		}
		return nil, unavailable(err)
	}
	storeMax(&c.okAt, now)
	if v != nil && v.seq == seq {
		return v, nil
	}
	nv := newView(seq)
	nv.epoch = epoch
	for {
		old := c.view.Load()
		if old != nil && old != v && old.epoch >= epoch {
			// Another caller installed a view meanwhile, of this epoch or
			// a later one; it read the counter no earlier than we did.
			return old, nil
		}
		if c.view.CompareAndSwap(old, nv) {
			return nv, nil
		}
	}
}

// fresh reports whether the last successful counter read is no older than
// MaxStale at now.
func (c *Cache) fresh(now int64) bool {
	return now-c.okAt.Load() <= c.maxStale()
}

// storeMax sets a to x unless it holds a later time already: reads that
// began earlier may finish later.
func storeMax(a *atomic.Int64, x int64) {
	for {
		old := a.Load()
		if old >= x || a.CompareAndSwap(old, x) {
			return
		}
	}
}

// errRecentFailure is the cause of a lookup refused because a counter
// read failed less than RefreshInterval before.
var errRecentFailure = errors.New("the last read failed moments ago")

// unavailableMessage is what a client is told when the cache cannot answer.
const unavailableMessage = "The service cannot verify access right now; retry the request."

// unavailable returns the error of a lookup the cache refuses because the
// change counter could not be read (cause) and no view younger than
// MaxStale is at hand: a fault.Unavailable matching ErrStale and cause.
func unavailable(cause error) error {
	return fault.Unavailablef(fmt.Errorf("%w: %w", ErrStale, cause), unavailableMessage)
}

// get looks key up in the map m of v.
func get[K comparable, V any](v *view, m map[K]V, key K) (V, bool) {
	v.mu.RLock()
	x, ok := m[key]
	v.mu.RUnlock()
	return x, ok
}

// put stores key in the map m of v, emptying a full map first.
func put[K comparable, V any](v *view, m map[K]V, key K, x V) {
	v.mu.Lock()
	if len(m) >= maxEntries {
		clear(m)
	}
	m[key] = x
	v.mu.Unlock()
}

// user returns the user with id, or nil if it does not exist.
func (c *Cache) user(ctx context.Context, v *view, id string) (*store.User, error) {
	if u, ok := get(v, v.users, id); ok {
		return u, nil
	}
	u, err := c.Store.GetUser(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		u = nil
	} else if err != nil {
		return nil, fmt.Errorf("get user %s: %w", id, err)
	}
	put(v, v.users, id, u)
	return u, nil
}

// User returns the user with id; a deleted user is a fault.NotFound error.
func (c *Cache) User(ctx context.Context, id string) (*store.User, error) {
	v, err := c.current(ctx)
	if err != nil {
		return nil, err
	}
	u, err := c.user(ctx, v, id)
	if err != nil {
		return nil, err
	}
	if u == nil {
		return nil, fault.NotFoundf("USER", id, "User %s not found", id)
	}
	return u, nil
}

func (c *Cache) entitlements(ctx context.Context, v *view, userID string) ([]access.Entitlement, error) {
	if es, ok := get(v, v.ents, userID); ok {
		return es, nil
	}
	es, err := access.Entitlements(ctx, c.Store, userID)
	if err != nil {
		return nil, fmt.Errorf("entitlements of user %s: %w", userID, err)
	}
	if es == nil {
		es = []access.Entitlement{}
	}
	put(v, v.ents, userID, es)
	return es, nil
}

// Entitlements returns the (account, permission set) pairs the user may use
// through direct and group assignments, sorted. The slice is the caller's.
func (c *Cache) Entitlements(ctx context.Context, userID string) ([]access.Entitlement, error) {
	v, err := c.current(ctx)
	if err != nil {
		return nil, err
	}
	es, err := c.entitlements(ctx, v, userID)
	if err != nil {
		return nil, err
	}
	return slices.Clone(es), nil
}

// Entitled reports whether credentials issued at issuedAt for the permission
// set in the account are still backed by an assignment: the user may use it
// and has been able to without a break since issuedAt (access.Entitlement's
// Since), so removing an assignment or membership and making it again does
// not bring earlier credentials back. Unlike Entitlements it allocates
// nothing in steady state, for the request-verification hot path.
func (c *Cache) Entitled(ctx context.Context, userID, accountID, permissionSetID string, issuedAt time.Time) (bool, error) {
	v, err := c.current(ctx)
	if err != nil {
		return false, err
	}
	es, err := c.entitlements(ctx, v, userID)
	if err != nil {
		return false, err
	}
	i, found := slices.BinarySearchFunc(es, access.Entitlement{AccountID: accountID, PermissionSetID: permissionSetID}, access.CompareEntitlements)
	return found && !issuedAt.Before(es[i].Since), nil
}

// PermissionSet returns the permission set with id; a missing one is a
// fault.NotFound error.
func (c *Cache) PermissionSet(ctx context.Context, id string) (*store.PermissionSet, error) {
	v, err := c.current(ctx)
	if err != nil {
		return nil, err
	}
	ps, ok := get(v, v.sets, id)
	if !ok {
		ps, err = c.Store.GetPermissionSet(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			ps = nil
		} else if err != nil {
			return nil, fmt.Errorf("get permission set %s: %w", id, err)
		}
		put(v, v.sets, id, ps)
	}
	if ps == nil {
		return nil, fault.NotFoundf(access.ResourcePermissionSet, id, "Permission set %s not found", id)
	}
	return ps, nil
}

// Link returns the link of accountID to a real AWS account, or nil when
// the account is local. Links are cached like the other records, so a
// local account costs one map lookup in steady state.
func (c *Cache) Link(ctx context.Context, accountID string) (*store.AccountLink, error) {
	v, err := c.current(ctx)
	if err != nil {
		return nil, err
	}
	l, ok := get(v, v.links, accountID)
	if !ok {
		l, err = c.Store.GetAccountLink(ctx, accountID)
		if errors.Is(err, store.ErrNotFound) {
			l = nil
		} else if err != nil {
			return nil, fmt.Errorf("get account link %s: %w", accountID, err)
		}
		put(v, v.links, accountID, l)
	}
	return l, nil
}

// Account returns the account with id; a missing one is a fault.NotFound
// error.
func (c *Cache) Account(ctx context.Context, id string) (*store.Account, error) {
	v, err := c.current(ctx)
	if err != nil {
		return nil, err
	}
	a, ok := get(v, v.accounts, id)
	if !ok {
		a, err = c.Store.GetAccount(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			a = nil
		} else if err != nil {
			return nil, fmt.Errorf("get account %s: %w", id, err)
		}
		put(v, v.accounts, id, a)
	}
	if a == nil {
		return nil, fault.NotFoundf(access.ResourceAccount, id, "Account %s not found", id)
	}
	return a, nil
}

// Role returns the role the permission set is provisioned as in the account;
// a permission set not provisioned there is a fault.NotFound error.
func (c *Cache) Role(ctx context.Context, accountID, permissionSetID string) (*store.ProvisionedRole, error) {
	v, err := c.current(ctx)
	if err != nil {
		return nil, err
	}
	k := roleKey{accountID, permissionSetID}
	r, ok := get(v, v.roles, k)
	if !ok {
		r, err = c.Store.GetProvisionedRole(ctx, accountID, permissionSetID)
		if errors.Is(err, store.ErrNotFound) {
			r = nil
		} else if err != nil {
			return nil, fmt.Errorf("get role of %s in %s: %w", permissionSetID, accountID, err)
		}
		put(v, v.roles, k, r)
	}
	if r == nil {
		return nil, fault.NotFoundf("ROLE", permissionSetID, "Permission set %s is not provisioned in account %s", permissionSetID, accountID)
	}
	return r, nil
}

// revocations returns v's revocation list, loading it on first use: the
// latest At per (kind, subject) among revocations since now − MaxLifetime.
func (c *Cache) revocations(ctx context.Context, v *view) (map[revKey]time.Time, error) {
	v.mu.RLock()
	revs := v.revs
	v.mu.RUnlock()
	if revs != nil {
		return revs, nil
	}
	life := c.MaxLifetime
	if life <= 0 {
		life = DefaultMaxLifetime
	}
	list, err := c.Store.ListRevocations(ctx, c.Now().Add(-life))
	if err != nil {
		return nil, fmt.Errorf("list revocations: %w", err)
	}
	revs = make(map[revKey]time.Time, len(list))
	for _, r := range list {
		k := revKey{r.Kind, r.Subject}
		if at, ok := revs[k]; !ok || r.At.After(at) {
			revs[k] = r.At
		}
	}
	v.mu.Lock()
	if v.revs == nil {
		v.revs = revs
	}
	revs = v.revs
	v.mu.Unlock()
	return revs, nil
}

// Revoked reports whether something issued at issuedAt to this user, grant
// or portal session has been revoked since: a store.Revocation of the user,
// the grant or the session with At at or after issuedAt, or the user being
// disabled or deleted. Empty grantID or sessionID are not checked.
func (c *Cache) Revoked(ctx context.Context, userID, grantID, sessionID string, issuedAt time.Time) (bool, error) {
	v, err := c.current(ctx)
	if err != nil {
		return false, err
	}
	u, err := c.user(ctx, v, userID)
	if err != nil {
		return false, err
	}
	if u == nil || u.Disabled {
		return true, nil
	}
	revs, err := c.revocations(ctx, v)
	if err != nil {
		return false, err
	}
	for _, k := range [...]revKey{{store.RevokeUser, userID}, {store.RevokeGrant, grantID}, {store.RevokeSession, sessionID}} {
		if k.subject == "" {
			continue
		}
		if at, ok := revs[k]; ok && !at.Before(issuedAt) {
			return true, nil
		}
	}
	return false, nil
}

// DelegatedAdmin reports whether the account is registered as a delegated
// administrator of the service principal. The registrations (a handful:
// Identity Center allows one) are loaded once per view, so the admin APIs'
// account gate reads no database in steady state; a deregistration written
// on this replica holds for the very next call (Invalidate), one written
// elsewhere within RefreshInterval.
func (c *Cache) DelegatedAdmin(ctx context.Context, accountID, servicePrincipal string) (bool, error) {
	v, err := c.current(ctx)
	if err != nil {
		return false, err
	}
	v.mu.RLock()
	ds := v.delegated
	v.mu.RUnlock()
	if ds == nil {
		list, err := c.Store.ListDelegatedAdmins(ctx, store.DelegatedAdminFilter{})
		if err != nil {
			return false, fmt.Errorf("list delegated admins: %w", err)
		}
		ds = make(map[delegatedKey]struct{}, len(list))
		for _, d := range list {
			ds[delegatedKey{d.AccountID, d.ServicePrincipal}] = struct{}{}
		}
		v.mu.Lock()
		if v.delegated == nil {
			v.delegated = ds
		}
		ds = v.delegated
		v.mu.Unlock()
	}
	_, ok := ds[delegatedKey{accountID, servicePrincipal}]
	return ok, nil
}
