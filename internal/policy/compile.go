package policy

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gatehouse-dev/gatehouse/internal/policy/condition"
)

// Context holds a request's condition keys; see condition.Context.
type Context = condition.Context

// NewContext returns an empty Context with room for n keys.
func NewContext(n int) *Context { return condition.NewContext(n) }

// Policy is a compiled policy document. It is immutable and safe for
// concurrent use; compile it once and evaluate it many times.
type Policy struct {
	// ID names the policy in evaluation results (an ARN, "inline", ...).
	// Set it before sharing the policy, or use WithID.
	ID string

	version string
	stmts   []statement
}

// indexThreshold is the number of action patterns above which a statement
// indexes them by service prefix instead of scanning them.
const indexThreshold = 16

type statement struct {
	index int
	sid   string
	deny  bool

	notAction bool
	actions   actionSet

	notResource bool
	anyResource bool // a "*" entry: every resource matches
	resources   []condition.Pattern

	conds []*condition.Condition

	// needVars are the variables without defaults that must resolve for
	// the statement to apply; keys are every context key the statement's
	// conditions and variables reference, for MissingContextValues.
	needVars []string
	keys     []string
}

// actionSet matches actions case-insensitively.
type actionSet struct {
	all   bool                // a "*" entry
	scan  []condition.Pattern // lower-case globs, when not indexed
	exact map[string]struct{} // lower-case literal actions, when indexed
	globs map[string][]condition.Pattern
	wild  []condition.Pattern // globs whose service part has wildcards
}

// Compile compiles a parsed document. Unknown condition operators are an
// error; condition literals that cannot be parsed never match (ParseStrict
// rejects them up front).
func Compile(d *Document) (*Policy, error) {
	return compile(d, false)
}

func compile(d *Document, strict bool) (*Policy, error) {
	if d == nil {
		return nil, errors.New("compile policy: nil document")
	}
	p := &Policy{version: d.Version, stmts: make([]statement, 0, len(d.Statements))}
	vars := d.Version == Version2012
	for i := range d.Statements {
		s := &d.Statements[i]
		st, err := compileStatement(i, s, vars, strict)
		if err != nil {
			return nil, err
		}
		p.stmts = append(p.stmts, st)
	}
	return p, nil
}

// ParseCompile parses data leniently and compiles it, naming it id.
func ParseCompile(id string, data []byte) (*Policy, error) {
	d, err := Parse(data)
	if err != nil {
		return nil, err
	}
	p, err := Compile(d)
	if err != nil {
		return nil, err
	}
	p.ID = id
	return p, nil
}

// WithID returns a copy of p named id, sharing the compiled statements.
func (p *Policy) WithID(id string) *Policy {
	q := *p
	q.ID = id
	return &q
}

// Version returns the document's Version, empty when it had none.
func (p *Policy) Version() string { return p.version }

// Len returns the number of statements.
func (p *Policy) Len() int { return len(p.stmts) }

func compileStatement(i int, s *Statement, vars, strict bool) (statement, error) {
	st := statement{index: i, sid: s.Sid, deny: s.Effect == EffectDeny}
	if s.Effect != EffectAllow && s.Effect != EffectDeny {
		return st, syntaxErr(i, s.Sid, "Effect", "Invalid effect %q: must be \"Allow\" or \"Deny\"", string(s.Effect))
	}
	acts := s.Action
	if s.NotAction != nil {
		st.notAction, acts = true, s.NotAction
	}
	st.actions = compileActions(acts)

	res := s.Resource
	if s.NotResource != nil {
		st.notResource, res = true, s.NotResource
	}
	for _, r := range res {
		if r == "*" {
			st.anyResource = true
			continue
		}
		st.resources = append(st.resources, condition.CompilePattern(r, true, vars, resourceSegment(r)))
	}

	opts := condition.Options{Vars: vars, Strict: strict}
	for _, c := range s.Conditions {
		op, err := condition.ParseOperator(c.Operator, strict)
		if err != nil {
			return st, &Error{Statement: i, Sid: s.Sid, Field: "Condition", Message: fmt.Sprintf("unknown operator %q", c.Operator), Err: err}
		}
		cc, err := condition.Compile(op, c.Key, c.Values, opts)
		if err != nil {
			return st, &Error{Statement: i, Sid: s.Sid, Field: "Condition", Message: fmt.Sprintf("%s %s: %v", c.Operator, c.Key, err), Err: err}
		}
		st.conds = append(st.conds, cc)
		st.keys = appendUnique(st.keys, cc.LowerKey())
	}

	var vs []condition.Var
	for j := range st.resources {
		vs = append(vs, st.resources[j].Vars()...)
	}
	for _, c := range st.conds {
		vs = append(vs, c.Vars()...)
	}
	for _, v := range vs {
		st.keys = appendUnique(st.keys, v.Key)
		if !v.HasDefault {
			st.needVars = appendUnique(st.needVars, v.Key)
		}
	}
	return st, nil
}

// resourceSegment returns the byte offset of an ARN's resource segment, after
// its fifth colon: the only place policy variables are substituted in a
// Resource (spec/iam-policy.md §3.3). It returns len(r) when there is none.
func resourceSegment(r string) int {
	off := 0
	for n := 0; n < 5; n++ {
		j := strings.IndexByte(r[off:], ':')
		if j < 0 {
			return len(r)
		}
		off += j + 1
	}
	return off
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

func compileActions(acts []string) actionSet {
	var as actionSet
	lower := make([]string, 0, len(acts))
	for _, a := range acts {
		if a == "*" {
			as.all = true
			continue
		}
		lower = append(lower, strings.ToLower(a))
	}
	if len(lower) <= indexThreshold {
		for _, a := range lower {
			as.scan = append(as.scan, condition.CompilePattern(a, true, false, 0))
		}
		return as
	}
	as.exact = make(map[string]struct{}, len(lower))
	as.globs = make(map[string][]condition.Pattern)
	for _, a := range lower {
		svc, _, ok := strings.Cut(a, ":")
		switch {
		case !strings.ContainsAny(a, "*?"):
			as.exact[a] = struct{}{}
		case ok && !strings.ContainsAny(svc, "*?"):
			as.globs[svc] = append(as.globs[svc], condition.CompilePattern(a, true, false, 0))
		default:
			as.wild = append(as.wild, condition.CompilePattern(a, true, false, 0))
		}
	}
	return as
}

// match reports whether action (lower is its ASCII lower-case form) matches
// one of the set's entries.
func (as *actionSet) match(action string, lower []byte) bool {
	if as.all {
		return true
	}
	if as.exact == nil {
		for i := range as.scan {
			if as.scan[i].MatchFold(action) {
				return true
			}
		}
		return false
	}
	if _, ok := as.exact[string(lower)]; ok {
		return true
	}
	if c := indexColon(lower); c >= 0 {
		g := as.globs[string(lower[:c])]
		for i := range g {
			if g[i].MatchFold(action) {
				return true
			}
		}
	}
	for i := range as.wild {
		if as.wild[i].MatchFold(action) {
			return true
		}
	}
	return false
}

func indexColon(b []byte) int {
	for i, c := range b {
		if c == ':' {
			return i
		}
	}
	return -1
}
