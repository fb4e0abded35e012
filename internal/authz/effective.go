package authz

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/policy"
	"github.com/gatehouse-dev/gatehouse/internal/policy/managed"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// InlinePolicyName is the name Identity Center gives the inline policy of a
// provisioned role; effective policies use it as the inline policy's ID.
const InlinePolicyName = "AwsSSOInlinePolicy"

// SourceType says where a policy of an effective policy comes from, named
// as the IAM simulator's PolicySourceType enum names it.
type SourceType string

// Policy source types (the PolicySourceType enum of the IAM API model).
const (
	SourceAWSManaged  SourceType = "aws-managed"
	SourceUserManaged SourceType = "user-managed" // a customer-managed policy
	SourceRole        SourceType = "role"         // the role's inline policy
)

// Source describes one policy of an effective policy.
type Source struct {
	// ID is the policy's ID in evaluation results: the managed policy ARN,
	// the customer-managed policy's name or InlinePolicyName.
	ID   string
	Type SourceType
	// Boundary says the policy is the permissions boundary.
	Boundary bool
	// Document is the policy's JSON text.
	Document string
}

// Effective is the compiled effective policy of a permission set in an
// account. It is immutable and shared; do not modify it.
type Effective struct {
	PermissionSetID string
	Version         int64
	AccountID       string
	// Set is the compiled policy set: identity policies (AWS-managed,
	// customer-managed, inline, in that order) and the boundary.
	Set policy.Set
	// Sources describes every policy of Set, identity policies first.
	Sources []Source
	// MissingCustomerPolicies lists customer-managed references (policies
	// and boundary) with no document stored for the account; missing
	// policies are left out, a missing boundary allows nothing.
	MissingCustomerPolicies []store.PolicyRef

	stamps []time.Time // UpdatedAt of each customer reference, zero if missing
}

// Source returns the source of the policy with the given ID.
func (e *Effective) Source(id string) (Source, bool) {
	for _, s := range e.Sources {
		if s.ID == id {
			return s, true
		}
	}
	return Source{}, false
}

// CustomerPolicyStore is the storage Policies reads customer-managed policy
// documents from; store.Store implements it.
type CustomerPolicyStore interface {
	GetCustomerPolicy(ctx context.Context, accountID, path, name string) (*store.CustomerPolicy, error)
}

// DefaultRecheckInterval is how long Policies trusts its copy of the
// customer-managed policies an effective policy uses before reading their
// UpdatedAt again. Customer policies do not move store.ChangeSeq, so this
// bounds how long an edited customer policy may go unnoticed.
const DefaultRecheckInterval = time.Second

// maxEffective bounds the cache; when full it is emptied before the next
// insert.
const maxEffective = 1 << 14

// Policies compiles and caches effective policies. Set its fields before
// first use; it is safe for concurrent use afterwards.
type Policies struct {
	Store CustomerPolicyStore
	// Managed compiles AWS managed policies; nil means a cache of the
	// Policies' own.
	Managed *managed.Cache
	Now     func() time.Time
	// RecheckInterval defaults to DefaultRecheckInterval when zero.
	RecheckInterval time.Duration

	mu      sync.Mutex
	entries map[effKey]*effEntry
	own     managed.Cache
}

func (p *Policies) managedCache() *managed.Cache {
	if p.Managed != nil {
		return p.Managed
	}
	return &p.own
}

type effKey struct{ permissionSet, account string }

type effEntry struct {
	eff       *Effective
	checkedAt time.Time
}

// customerRefs returns the customer-managed references of ps: its policies,
// then its boundary's, if any.
func customerRefs(ps *store.PermissionSet) []store.PolicyRef {
	refs := ps.CustomerPolicies
	if ps.Boundary != nil && ps.Boundary.CustomerPolicy != nil {
		refs = append(refs[:len(refs):len(refs)], *ps.Boundary.CustomerPolicy)
	}
	return refs
}

// Effective returns the effective policy of ps in accountID, compiling it
// only when ps's Version, the account or the UpdatedAt of a customer policy
// it refers to changed since the cached copy.
func (p *Policies) Effective(ctx context.Context, ps *store.PermissionSet, accountID string) (*Effective, error) {
	key := effKey{ps.ID, accountID}
	now := p.Now()
	p.mu.Lock()
	e := p.entries[key]
	p.mu.Unlock()
	refs := customerRefs(ps)
	var stamps []time.Time
	var docs []*store.CustomerPolicy
	if e != nil && e.eff.Version == ps.Version {
		if len(refs) == 0 || now.Sub(e.checkedAt) < p.recheck() {
			return e.eff, nil
		}
		var err error
		if docs, stamps, err = p.customerPolicies(ctx, accountID, refs); err != nil {
			return nil, err
		}
		if equalStamps(stamps, e.eff.stamps) {
			p.store(key, &effEntry{eff: e.eff, checkedAt: now})
			return e.eff, nil
		}
	} else if len(refs) > 0 {
		var err error
		if docs, stamps, err = p.customerPolicies(ctx, accountID, refs); err != nil {
			return nil, err
		}
	}
	eff, err := p.compile(ps, accountID, docs, stamps)
	if err != nil {
		return nil, err
	}
	p.store(key, &effEntry{eff: eff, checkedAt: now})
	return eff, nil
}

func (p *Policies) recheck() time.Duration {
	if p.RecheckInterval > 0 {
		return p.RecheckInterval
	}
	return DefaultRecheckInterval
}

func (p *Policies) store(key effKey, e *effEntry) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.entries == nil || len(p.entries) >= maxEffective {
		p.entries = make(map[effKey]*effEntry)
	}
	p.entries[key] = e
}

// customerPolicies reads the documents refs name in accountID; a missing
// one is nil with a zero stamp.
func (p *Policies) customerPolicies(ctx context.Context, accountID string, refs []store.PolicyRef) ([]*store.CustomerPolicy, []time.Time, error) {
	docs := make([]*store.CustomerPolicy, len(refs))
	stamps := make([]time.Time, len(refs))
	for i, r := range refs {
		cp, err := p.Store.GetCustomerPolicy(ctx, accountID, r.Path, r.Name)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("get customer policy %s%s in %s: %w", r.Path, r.Name, accountID, err)
		}
		docs[i], stamps[i] = cp, cp.UpdatedAt
	}
	return docs, stamps, nil
}

func equalStamps(a, b []time.Time) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(b[i]) {
			return false
		}
	}
	return true
}

// compile builds the effective policy from ps and the customer documents
// read for customerRefs(ps).
func (p *Policies) compile(ps *store.PermissionSet, accountID string, docs []*store.CustomerPolicy, stamps []time.Time) (*Effective, error) {
	eff := &Effective{PermissionSetID: ps.ID, Version: ps.Version, AccountID: accountID, stamps: stamps}
	for _, a := range ps.ManagedPolicies {
		pol, doc, err := p.managedPolicy(a)
		if err != nil {
			return nil, err
		}
		eff.Set.Identity = append(eff.Set.Identity, pol)
		eff.Sources = append(eff.Sources, Source{ID: a, Type: SourceAWSManaged, Document: doc})
	}
	for i, ref := range ps.CustomerPolicies {
		cp := docs[i]
		if cp == nil {
			eff.MissingCustomerPolicies = append(eff.MissingCustomerPolicies, ref)
			continue
		}
		pol, err := policy.ParseCompile(ref.Name, []byte(cp.Document))
		if err != nil {
			// Stored documents were validated when stored; one that no
			// longer compiles grants nothing.
			eff.MissingCustomerPolicies = append(eff.MissingCustomerPolicies, ref)
			continue
		}
		eff.Set.Identity = append(eff.Set.Identity, pol)
		eff.Sources = append(eff.Sources, Source{ID: ref.Name, Type: SourceUserManaged, Document: cp.Document})
	}
	if ps.InlinePolicy != "" {
		pol, err := policy.ParseCompile(InlinePolicyName, []byte(ps.InlinePolicy))
		if err != nil {
			return nil, fmt.Errorf("compile inline policy of permission set %s: %w", ps.ID, err)
		}
		eff.Set.Identity = append(eff.Set.Identity, pol)
		eff.Sources = append(eff.Sources, Source{ID: InlinePolicyName, Type: SourceRole, Document: ps.InlinePolicy})
	}
	if b := ps.Boundary; b != nil {
		switch {
		case b.ManagedPolicyARN != "":
			pol, doc, err := p.managedPolicy(b.ManagedPolicyARN)
			if err != nil {
				return nil, err
			}
			eff.Set.Boundary = []*policy.Policy{pol}
			eff.Sources = append(eff.Sources, Source{ID: b.ManagedPolicyARN, Type: SourceAWSManaged, Boundary: true, Document: doc})
		case b.CustomerPolicy != nil:
			ref := *b.CustomerPolicy
			var pol *policy.Policy
			var text string
			if cp := docs[len(docs)-1]; cp != nil {
				if q, err := policy.ParseCompile(ref.Name, []byte(cp.Document)); err == nil {
					pol, text = q, cp.Document
				}
			}
			if pol == nil {
				// A boundary that cannot be resolved allows nothing: failing
				// open would grant more than the admin configured.
				eff.MissingCustomerPolicies = append(eff.MissingCustomerPolicies, ref)
				pol = &policy.Policy{ID: ref.Name}
			}
			eff.Set.Boundary = []*policy.Policy{pol}
			eff.Sources = append(eff.Sources, Source{ID: ref.Name, Type: SourceUserManaged, Boundary: true, Document: text})
		}
	}
	return eff, nil
}

// managedPolicy returns a compiled AWS managed policy and its text. An ARN
// Gatehouse does not ship cannot have been attached through the checker; if
// it is there anyway it grants nothing (and bounds to nothing).
func (p *Policies) managedPolicy(a string) (*policy.Policy, string, error) {
	m, ok := managed.Lookup(a)
	if !ok {
		return &policy.Policy{ID: a}, "", nil
	}
	pol, err := p.managedCache().Policy(a)
	if err != nil {
		return nil, "", err
	}
	return pol, string(m.Document), nil
}
