package policy

import (
	"strings"
)

// Decision is the outcome of an evaluation (spec/iam-policy.md §4).
type Decision uint8

// The three decisions; explicit deny beats allow beats implicit deny.
const (
	ImplicitDeny Decision = iota
	Allow
	ExplicitDeny
)

// String returns the IAM policy simulator's name for d.
func (d Decision) String() string {
	switch d {
	case ImplicitDeny:
		return "implicitDeny"
	case Allow:
		return "allowed"
	case ExplicitDeny:
		return "explicitDeny"
	}
	return "unknown"
}

// Kind says which layer of a Set a policy belongs to.
type Kind uint8

// The policy layers.
const (
	KindIdentity Kind = iota + 1
	KindBoundary
	KindSession
)

// String returns the policy type as the IAM simulator and AccessDenied
// messages name it.
func (k Kind) String() string {
	switch k {
	case KindIdentity:
		return "identity-based"
	case KindBoundary:
		return "permissions boundary"
	case KindSession:
		return "session"
	}
	return "unknown"
}

// Set is the policies that apply to a principal: its identity policies
// (AWS-managed, customer-managed, inline), its permissions boundary and the
// session policies of its session. Effective permissions are
// Identity ∩ Boundary ∩ Session; an empty Boundary or Session means none is
// set.
type Set struct {
	Identity []*Policy
	Boundary []*Policy
	Session  []*Policy
}

// Request is one authorization question: may the caller perform Action on
// every one of Resources, given Context? No resources means "*", the resource
// of actions without resource-level permissions.
type Request struct {
	Action    string
	Resources []string
	Context   Context
}

// Match identifies a statement that decided an evaluation.
type Match struct {
	PolicyID  string
	Kind      Kind
	Statement int // index in the policy's Statement array
	Sid       string
	Effect    Effect
}

// Result is a full evaluation result.
type Result struct {
	Decision Decision
	// Matched lists the statements that produced the decision: the
	// matching Deny statements for ExplicitDeny, the matching Allow
	// statements of every layer for Allow, none for ImplicitDeny.
	Matched []Match
	// MissingContextKeys lists (in lower case) the condition keys and
	// policy variables that statements matching the action and resource
	// referenced but the request did not carry, as the simulator's
	// MissingContextValues.
	MissingContextKeys []string
}

const getCallerIdentity = "sts:GetCallerIdentity"

// Decide evaluates req and returns only the decision. It does not allocate
// for requests whose action fits in 128 bytes.
func (s *Set) Decide(req *Request) Decision {
	if strings.EqualFold(req.Action, getCallerIdentity) {
		return Allow // never authorized by AWS (spec/iam-policy.md §4)
	}
	var lb [128]byte
	lower := appendLower(lb[:0], req.Action)
	res := req.Resources
	if len(res) == 0 {
		res = []string{"*"}
	}
	d := Allow
	for _, r := range res {
		switch s.decideOne(req, lower, r, nil) {
		case ExplicitDeny:
			return ExplicitDeny
		case ImplicitDeny:
			d = ImplicitDeny
		}
	}
	return d
}

// Evaluate evaluates req and reports the decision with the statements that
// produced it and the missing context keys. A multi-resource request is
// allowed only if every resource is; any explicit deny denies it.
func (s *Set) Evaluate(req *Request) Result {
	if strings.EqualFold(req.Action, getCallerIdentity) {
		return Result{Decision: Allow}
	}
	var lb [128]byte
	lower := appendLower(lb[:0], req.Action)
	res := req.Resources
	if len(res) == 0 {
		res = []string{"*"}
	}
	var out Result
	var allows, denies []Match
	out.Decision = Allow
	for _, r := range res {
		var c collector
		d := s.decideOne(req, lower, r, &c)
		switch d {
		case ExplicitDeny:
			out.Decision = ExplicitDeny
		case ImplicitDeny:
			if out.Decision == Allow {
				out.Decision = ImplicitDeny
			}
		}
		denies = appendMatches(denies, c.denies)
		if d == Allow {
			allows = appendMatches(allows, c.allows)
		}
		for _, k := range c.missing {
			out.MissingContextKeys = appendUnique(out.MissingContextKeys, k)
		}
	}
	switch out.Decision {
	case ExplicitDeny:
		out.Matched = denies
	case Allow:
		out.Matched = allows
	}
	return out
}

func appendMatches(dst, src []Match) []Match {
next:
	for _, m := range src {
		for _, d := range dst {
			if d == m {
				continue next
			}
		}
		dst = append(dst, m)
	}
	return dst
}

// collector gathers the details Evaluate reports; Decide passes nil and
// stops at the first decisive statement.
type collector struct {
	denies, allows []Match
	missing        []string
}

// decideOne applies the algorithm of spec/iam-policy.md §4 to one resource.
func (s *Set) decideOne(req *Request, lower []byte, resource string, c *collector) Decision {
	denied := false
	layers := [...]struct {
		kind     Kind
		policies []*Policy
	}{{KindIdentity, s.Identity}, {KindBoundary, s.Boundary}, {KindSession, s.Session}}
	for _, l := range layers {
		for _, p := range l.policies {
			if p.match(req, lower, resource, true, l.kind, c) {
				if c == nil {
					return ExplicitDeny
				}
				denied = true
			}
		}
	}
	if denied {
		return ExplicitDeny
	}
	for _, l := range layers {
		if l.kind != KindIdentity && len(l.policies) == 0 {
			continue // layer not set
		}
		allowed := false
		for _, p := range l.policies {
			if p.match(req, lower, resource, false, l.kind, c) {
				allowed = true
				if c == nil {
					break
				}
			}
		}
		if !allowed {
			return ImplicitDeny
		}
	}
	return Allow
}

// match reports whether a statement of p with the given effect matches. With
// a collector it visits every statement, recording matches and missing keys.
func (p *Policy) match(req *Request, lower []byte, resource string, deny bool, kind Kind, c *collector) bool {
	matched := false
	for i := range p.stmts {
		st := &p.stmts[i]
		if st.deny != deny {
			continue
		}
		if !st.matches(req, lower, resource, c) {
			continue
		}
		if c == nil {
			return true
		}
		matched = true
		m := Match{PolicyID: p.ID, Kind: kind, Statement: st.index, Sid: st.sid, Effect: EffectAllow}
		if deny {
			m.Effect = EffectDeny
			c.denies = append(c.denies, m)
		} else {
			c.allows = append(c.allows, m)
		}
	}
	return matched
}

// matches evaluates one statement: action, then resource, then conditions.
func (st *statement) matches(req *Request, lower []byte, resource string, c *collector) bool {
	if st.actions.match(req.Action, lower) == st.notAction {
		return false
	}
	ctx := &req.Context
	if c != nil {
		for _, k := range st.keys {
			if !ctx.Has(k) {
				c.missing = appendUnique(c.missing, k)
			}
		}
	}
	// A variable that cannot be substituted and has no default makes the
	// whole statement inapplicable (spec/iam-policy.md §3.3 Rule).
	for _, k := range st.needVars {
		if _, ok := ctx.Get(k); !ok {
			return false
		}
	}
	if !st.matchResource(ctx, resource) {
		return false
	}
	for _, cond := range st.conds {
		if !cond.Eval(ctx) {
			return false
		}
	}
	return true
}

func (st *statement) matchResource(ctx *Context, resource string) bool {
	hit := st.anyResource
	for i := 0; !hit && i < len(st.resources); i++ {
		hit = st.resources[i].MatchARN(ctx, resource)
	}
	return hit != st.notResource
}

// appendLower appends s with ASCII letters lower-cased.
func appendLower(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}
