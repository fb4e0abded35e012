package automation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/policy"
	"github.com/gatehouse-dev/gatehouse/internal/policy/managed"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// recheck is how long a compiled user policy set is trusted before the
// UpdatedAt of the customer-managed policies it uses is read again
// (customer policies do not move the user's Version).
const recheck = time.Second

// Policies compiles and caches the policy sets of IAM users: attached AWS
// managed and customer-managed policies, then inline policies, all identity
// policies evaluated by the one policy engine. The zero value is ready to
// use (with Store set); it is safe for concurrent use.
type Policies struct {
	Store interface {
		GetCustomerPolicy(ctx context.Context, accountID, path, name string) (*store.CustomerPolicy, error)
		GetIAMUserByID(ctx context.Context, id string) (*store.IAMUser, error)
	}
	Now func() time.Time
	// Users, when set, reads users for UserPolicySet (a *Service, whose
	// cache spares a query per call); nil means Store.
	Users interface {
		UserByID(ctx context.Context, id string) (*store.IAMUser, error)
	}

	mu      sync.Mutex
	entries map[string]*userSet
	managed managed.Cache
}

type userSet struct {
	version   int64
	stamps    []time.Time
	checkedAt time.Time
	set       *policy.Set
}

// UserPolicySet returns the compiled policy set of the user with the given
// ID (read through Users, or the store); a deleted user has none.
func (p *Policies) UserPolicySet(ctx context.Context, userID string) (*policy.Set, error) {
	var u *store.IAMUser
	var err error
	if p.Users != nil {
		u, err = p.Users.UserByID(ctx, userID)
	} else {
		u, err = p.Store.GetIAMUserByID(ctx, userID)
	}
	if errors.Is(err, store.ErrNotFound) {
		return &policy.Set{}, nil
	} else if err != nil {
		return nil, err
	}
	return p.Set(ctx, u)
}

// Set returns the compiled policy set of u. A customer-managed policy no
// longer stored, or one that no longer compiles, grants nothing; an AWS
// managed policy Gatehouse does not ship cannot be attached.
func (p *Policies) Set(ctx context.Context, u *store.IAMUser) (*policy.Set, error) {
	now := p.Now()
	p.mu.Lock()
	e := p.entries[u.ID]
	p.mu.Unlock()
	if e != nil && e.version == u.Version && now.Sub(e.checkedAt) < recheck {
		return e.set, nil
	}
	docs := make([]*store.CustomerPolicy, len(u.ManagedPolicies))
	stamps := make([]time.Time, len(u.ManagedPolicies))
	for i, a := range u.ManagedPolicies {
		path, name, ok := customerRef(u.AccountID, a)
		if !ok {
			continue
		}
		cp, err := p.Store.GetCustomerPolicy(ctx, u.AccountID, path, name)
		if errors.Is(err, store.ErrNotFound) {
			continue
		} else if err != nil {
			return nil, fmt.Errorf("customer policy %s of user %s: %w", a, u.UserName, err)
		}
		docs[i], stamps[i] = cp, cp.UpdatedAt
	}
	if e != nil && e.version == u.Version && slices.EqualFunc(e.stamps, stamps, time.Time.Equal) {
		p.put(u.ID, &userSet{version: e.version, stamps: stamps, checkedAt: now, set: e.set})
		return e.set, nil
	}
	set := &policy.Set{}
	for i, a := range u.ManagedPolicies {
		if _, ok := managed.Lookup(a); ok {
			pol, err := p.managed.Policy(a)
			if err != nil {
				return nil, err
			}
			set.Identity = append(set.Identity, pol)
			continue
		}
		if docs[i] == nil {
			continue
		}
		if pol, err := policy.ParseCompile(a, []byte(docs[i].Document)); err == nil {
			set.Identity = append(set.Identity, pol)
		}
	}
	for _, ip := range u.InlinePolicies {
		pol, err := policy.ParseCompile(ip.Name, []byte(ip.Document))
		if err != nil {
			return nil, fmt.Errorf("compile inline policy %s of user %s: %w", ip.Name, u.UserName, err)
		}
		set.Identity = append(set.Identity, pol)
	}
	p.put(u.ID, &userSet{version: u.Version, stamps: stamps, checkedAt: now, set: set})
	return set, nil
}

func (p *Policies) put(id string, e *userSet) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.entries == nil || len(p.entries) >= 1<<14 {
		p.entries = map[string]*userSet{}
	}
	p.entries[id] = e
}
