package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/gatehouse-dev/gatehouse/internal/policy/condition"
)

// Policy language versions (spec/iam-policy.md §1).
const (
	Version2012 = "2012-10-17"
	Version2008 = "2008-10-17"
)

// Effect is a statement's Effect.
type Effect string

// The two effects, spelled as IAM requires.
const (
	EffectAllow Effect = "Allow"
	EffectDeny  Effect = "Deny"
)

// Document is a parsed IAM identity policy. Element lists keep the order of
// the source; a nil list means the element was absent, an empty non-nil list
// that it was an empty array.
type Document struct {
	Version    string // empty when absent (2008-10-17 semantics)
	ID         string
	Statements []Statement
}

// Statement is one element of a policy's Statement.
type Statement struct {
	Sid         string
	Effect      Effect
	Action      []string
	NotAction   []string
	Resource    []string
	NotResource []string
	Conditions  []Condition
}

// Condition is one (operator, key, values) test of a statement's Condition
// block, in source order. JSON numbers and booleans are kept as their
// literal text.
type Condition struct {
	Operator string
	Key      string
	Values   []string
}

// Parse parses a policy leniently, accepting what IAM accepts: a missing
// Version, a single statement object instead of an array, numbers and
// booleans as condition values, unknown elements (ignored), duplicate keys
// (the last wins) and empty arrays. It still rejects what no identity policy
// may hold: bad JSON, a missing or misspelt Effect, missing Action or
// Resource, both an element and its Not form, Principal/NotPrincipal and
// condition values that are not scalars. Every error is an *Error.
func Parse(data []byte) (*Document, error) {
	return parse(data, false)
}

// ParseStrict parses like Parse and additionally rejects unknown elements,
// duplicate keys, empty Action/Resource/condition-value arrays, malformed
// actions and resources, unknown condition operators, duplicate Sids, Sids
// with characters outside [A-Za-z0-9], and condition literals that cannot be
// parsed for their operator family. Every AWS managed policy passes it.
func ParseStrict(data []byte) (*Document, error) {
	d, err := parse(data, true)
	if err != nil {
		return nil, err
	}
	if _, err := compile(d, true); err != nil {
		return nil, err
	}
	return d, nil
}

type parser struct {
	strict bool
}

func parse(data []byte, strict bool) (*Document, error) {
	root, err := decodeJSON(data)
	if err != nil {
		return nil, &Error{Statement: -1, Message: "Syntax errors in policy: " + err.Error(), Err: fmt.Errorf("%w: %w", ErrSyntax, err)}
	}
	p := parser{strict: strict}
	return p.document(root)
}

func syntaxErr(stmt int, sid, field, format string, args ...any) *Error {
	return &Error{Statement: stmt, Sid: sid, Field: field, Message: fmt.Sprintf(format, args...), Err: ErrSyntax}
}

func (p *parser) document(root jsonValue) (*Document, error) {
	if root.kind != jsonObject {
		return nil, syntaxErr(-1, "", "", "Syntax errors in policy: the document must be a JSON object, not %s", root.kind)
	}
	if key, dup := p.duplicate(root); dup {
		return nil, syntaxErr(-1, "", key, "Duplicate field %s", key)
	}
	d := &Document{}
	var stmts *jsonValue
	for i := range root.members {
		m := &root.members[i]
		switch m.key {
		case "Version":
			if m.val.kind != jsonString {
				return nil, syntaxErr(-1, "", "Version", "must be a string, not %s", m.val.kind)
			}
			if m.val.text != Version2012 && m.val.text != Version2008 {
				return nil, syntaxErr(-1, "", "Version", "The policy must contain a valid version string: %q", m.val.text)
			}
			d.Version = m.val.text
		case "Id":
			if m.val.kind != jsonString {
				return nil, syntaxErr(-1, "", "Id", "must be a string, not %s", m.val.kind)
			}
			d.ID = m.val.text
		case "Statement":
			stmts = &m.val
		default:
			if p.strict {
				return nil, syntaxErr(-1, "", m.key, "Unknown field %s", m.key)
			}
		}
	}
	if stmts == nil {
		return nil, syntaxErr(-1, "", "Statement", "Missing required field Statement")
	}
	var list []jsonValue
	switch stmts.kind {
	case jsonObject:
		list = []jsonValue{*stmts}
	case jsonArray:
		list = stmts.elems
	default:
		return nil, syntaxErr(-1, "", "Statement", "must be an object or an array of objects, not %s", stmts.kind)
	}
	if len(list) == 0 {
		return nil, syntaxErr(-1, "", "Statement", "Missing required field Statement: the array is empty")
	}
	sids := make(map[string]int)
	for i := range list {
		s, err := p.statement(i, list[i])
		if err != nil {
			return nil, err
		}
		if p.strict && s.Sid != "" {
			if j, dup := sids[s.Sid]; dup {
				return nil, syntaxErr(i, s.Sid, "Sid", "Statement IDs (SID) in a single policy must be unique: also used by Statement[%d]", j)
			}
			sids[s.Sid] = i
		}
		d.Statements = append(d.Statements, s)
	}
	return d, nil
}

// duplicate returns the first key repeated in an object, in strict mode.
func (p *parser) duplicate(v jsonValue) (string, bool) {
	if !p.strict {
		return "", false
	}
	for i := 1; i < len(v.members); i++ {
		for j := 0; j < i; j++ {
			if v.members[i].key == v.members[j].key {
				return v.members[i].key, true
			}
		}
	}
	return "", false
}

func (p *parser) statement(i int, v jsonValue) (Statement, error) {
	var s Statement
	if v.kind != jsonObject {
		return s, syntaxErr(i, "", "", "Syntax errors in policy: a statement must be an object, not %s", v.kind)
	}
	// The Sid first, so that every later error can name it.
	for _, m := range v.members {
		if m.key == "Sid" {
			if m.val.kind != jsonString {
				return s, syntaxErr(i, "", "Sid", "must be a string, not %s", m.val.kind)
			}
			s.Sid = m.val.text
		}
	}
	if key, dup := p.duplicate(v); dup {
		return s, syntaxErr(i, s.Sid, key, "Duplicate field %s", key)
	}
	if p.strict {
		for _, r := range s.Sid {
			if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
				return s, syntaxErr(i, s.Sid, "Sid", "Statement IDs (SID) must be alpha-numeric")
			}
		}
	}
	var haveEffect bool
	for _, m := range v.members {
		var err error
		switch m.key {
		case "Sid":
		case "Effect":
			if m.val.kind != jsonString {
				return s, syntaxErr(i, s.Sid, "Effect", "must be a string, not %s", m.val.kind)
			}
			s.Effect, haveEffect = Effect(m.val.text), true
		case "Action":
			s.Action, err = p.stringList(i, s.Sid, m)
		case "NotAction":
			s.NotAction, err = p.stringList(i, s.Sid, m)
		case "Resource":
			s.Resource, err = p.stringList(i, s.Sid, m)
		case "NotResource":
			s.NotResource, err = p.stringList(i, s.Sid, m)
		case "Condition":
			s.Conditions, err = p.conditions(i, s.Sid, m.val)
		case "Principal", "NotPrincipal":
			return s, syntaxErr(i, s.Sid, m.key, "Policy document should not specify a principal")
		default:
			if p.strict {
				return s, syntaxErr(i, s.Sid, m.key, "Unknown field %s", m.key)
			}
		}
		if err != nil {
			return s, err
		}
	}
	switch {
	case !haveEffect:
		return s, syntaxErr(i, s.Sid, "Effect", "Missing required field Effect")
	case s.Effect != EffectAllow && s.Effect != EffectDeny:
		return s, syntaxErr(i, s.Sid, "Effect", "Invalid effect %q: must be \"Allow\" or \"Deny\"", string(s.Effect))
	case s.Action == nil && s.NotAction == nil:
		return s, syntaxErr(i, s.Sid, "Action", "Missing required field Action")
	case s.Action != nil && s.NotAction != nil:
		return s, syntaxErr(i, s.Sid, "NotAction", "Action and NotAction cannot both be present")
	case s.Resource == nil && s.NotResource == nil:
		return s, syntaxErr(i, s.Sid, "Resource", "Missing required field Resource")
	case s.Resource != nil && s.NotResource != nil:
		return s, syntaxErr(i, s.Sid, "NotResource", "Resource and NotResource cannot both be present")
	}
	if p.strict {
		if err := p.checkActions(i, s); err != nil {
			return s, err
		}
		if err := p.checkResources(i, s); err != nil {
			return s, err
		}
	}
	return s, nil
}

// stringList decodes "a string or an array of strings".
func (p *parser) stringList(i int, sid string, m jsonMember) ([]string, error) {
	switch m.val.kind {
	case jsonString:
		return []string{m.val.text}, nil
	case jsonArray:
		if p.strict && len(m.val.elems) == 0 {
			return nil, syntaxErr(i, sid, m.key, "Syntax errors in policy: %s must not be an empty array", m.key)
		}
		out := make([]string, 0, len(m.val.elems))
		for _, e := range m.val.elems {
			if e.kind != jsonString {
				return nil, syntaxErr(i, sid, m.key, "Syntax errors in policy: every entry must be a string, not %s", e.kind)
			}
			out = append(out, e.text)
		}
		return out, nil
	}
	return nil, syntaxErr(i, sid, m.key, "Syntax errors in policy: must be a string or an array of strings, not %s", m.val.kind)
}

func (p *parser) conditions(i int, sid string, v jsonValue) ([]Condition, error) {
	if v.kind != jsonObject {
		return nil, syntaxErr(i, sid, "Condition", "Syntax errors in policy: must be an object, not %s", v.kind)
	}
	if key, dup := p.duplicate(v); dup {
		return nil, syntaxErr(i, sid, "Condition", "Duplicate operator %s", key)
	}
	var out []Condition
	for _, op := range lastWins(v.members) {
		if p.strict {
			if _, err := condition.ParseOperator(op.key, true); err != nil {
				return nil, &Error{Statement: i, Sid: sid, Field: "Condition", Message: fmt.Sprintf("unknown operator %q", op.key), Err: err}
			}
		}
		if op.val.kind != jsonObject {
			return nil, syntaxErr(i, sid, "Condition", "Syntax errors in policy: %s must map condition keys to values, not be a %s", op.key, op.val.kind)
		}
		if key, dup := p.duplicate(op.val); dup {
			return nil, syntaxErr(i, sid, "Condition", "Duplicate condition key %s under %s", key, op.key)
		}
		for _, kv := range lastWins(op.val.members) {
			c := Condition{Operator: op.key, Key: kv.key}
			switch kv.val.kind {
			case jsonString, jsonNumber, jsonBool:
				c.Values = []string{kv.val.text}
			case jsonArray:
				if p.strict && len(kv.val.elems) == 0 {
					return nil, syntaxErr(i, sid, "Condition", "Syntax errors in policy: %s %s has an empty array of values", op.key, kv.key)
				}
				c.Values = make([]string, 0, len(kv.val.elems))
				for _, e := range kv.val.elems {
					switch e.kind {
					case jsonString, jsonNumber, jsonBool:
						c.Values = append(c.Values, e.text)
					default:
						return nil, syntaxErr(i, sid, "Condition", "Syntax errors in policy: %s %s: a value must be a string, number or boolean, not %s", op.key, kv.key, e.kind)
					}
				}
			default:
				return nil, syntaxErr(i, sid, "Condition", "Syntax errors in policy: %s %s: a value must be a string, number or boolean, not %s", op.key, kv.key, kv.val.kind)
			}
			out = append(out, c)
		}
	}
	if out == nil {
		out = []Condition{}
	}
	return out, nil
}

// checkActions validates the form of action entries: "*" or
// "<service>:<pattern>" with a service prefix of letters, digits and '-'.
func (p *parser) checkActions(i int, s Statement) error {
	field, list := "Action", s.Action
	if s.NotAction != nil {
		field, list = "NotAction", s.NotAction
	}
	for _, a := range list {
		if a == "*" {
			continue
		}
		svc, rest, ok := strings.Cut(a, ":")
		valid := ok && svc != "" && rest != ""
		for _, r := range svc {
			if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-') {
				valid = false
			}
		}
		if !valid {
			return syntaxErr(i, s.Sid, field, "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.: %q", a)
		}
	}
	return nil
}

// checkResources validates the form of resource entries: "*" or an ARN
// pattern of at least "arn:<partition>:<service>:", without wildcards in the
// service segment (spec/iam-policy.md §2).
func (p *parser) checkResources(i int, s Statement) error {
	field, list := "Resource", s.Resource
	if s.NotResource != nil {
		field, list = "NotResource", s.NotResource
	}
	for _, r := range list {
		if r == "*" {
			continue
		}
		if !strings.HasPrefix(r, "arn:") || strings.Count(r, ":") < 3 {
			return syntaxErr(i, s.Sid, field, "Resource %s must be in ARN format or \"*\"", r)
		}
		if svc := strings.SplitN(r, ":", 4)[2]; strings.ContainsAny(svc, "*?") {
			return syntaxErr(i, s.Sid, field, "Resource %s must not use wildcards in its service segment", r)
		}
	}
	return nil
}

// MarshalJSON encodes the document as an IAM policy, keeping statement and
// condition order. Parsing the result gives back an equal Document.
func (d *Document) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	if d.Version != "" {
		b.WriteString(`"Version":`)
		writeString(&b, d.Version)
		b.WriteByte(',')
	}
	if d.ID != "" {
		b.WriteString(`"Id":`)
		writeString(&b, d.ID)
		b.WriteByte(',')
	}
	b.WriteString(`"Statement":[`)
	for i, s := range d.Statements {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('{')
		if s.Sid != "" {
			b.WriteString(`"Sid":`)
			writeString(&b, s.Sid)
			b.WriteByte(',')
		}
		b.WriteString(`"Effect":`)
		writeString(&b, string(s.Effect))
		for _, l := range []struct {
			name string
			list []string
		}{{"Action", s.Action}, {"NotAction", s.NotAction}, {"Resource", s.Resource}, {"NotResource", s.NotResource}} {
			if l.list == nil {
				continue
			}
			fmt.Fprintf(&b, `,"%s":`, l.name)
			writeList(&b, l.list)
		}
		if s.Conditions != nil {
			b.WriteString(`,"Condition":{`)
			done := make(map[int]bool)
			first := true
			for j, c := range s.Conditions {
				if done[j] {
					continue
				}
				if !first {
					b.WriteByte(',')
				}
				first = false
				writeString(&b, c.Operator)
				b.WriteString(":{")
				for k := j; k < len(s.Conditions); k++ {
					if s.Conditions[k].Operator != c.Operator {
						continue
					}
					if k > j {
						b.WriteByte(',')
					}
					done[k] = true
					writeString(&b, s.Conditions[k].Key)
					b.WriteByte(':')
					writeList(&b, s.Conditions[k].Values)
				}
				b.WriteByte('}')
			}
			b.WriteByte('}')
		}
		b.WriteByte('}')
	}
	b.WriteString("]}")
	return b.Bytes(), nil
}

func writeString(b *bytes.Buffer, s string) {
	enc, _ := json.Marshal(s) // marshalling a string cannot fail
	b.Write(enc)
}

func writeList(b *bytes.Buffer, l []string) {
	b.WriteByte('[')
	for i, s := range l {
		if i > 0 {
			b.WriteByte(',')
		}
		writeString(b, s)
	}
	b.WriteByte(']')
}

// lastWins drops all but the last of repeated keys, as encoding/json does;
// strict parsing rejects repeated keys before this is reached.
func lastWins(ms []jsonMember) []jsonMember {
	dup := false
	for i := 1; i < len(ms) && !dup; i++ {
		for j := 0; j < i; j++ {
			if ms[i].key == ms[j].key {
				dup = true
				break
			}
		}
	}
	if !dup {
		return ms
	}
	out := make([]jsonMember, 0, len(ms))
	for i, m := range ms {
		later := false
		for _, n := range ms[i+1:] {
			if n.key == m.key {
				later = true
				break
			}
		}
		if !later {
			out = append(out, m)
		}
	}
	return out
}

// Warnings returns advice about a document that is valid but probably not
// what its author meant, as IAM Access Analyzer would give it.
func (d *Document) Warnings() []string {
	var w []string
	switch d.Version {
	case "":
		w = append(w, "Version is missing: 2008-10-17 semantics apply and policy variables such as ${aws:username} are literal text")
	case Version2008:
		w = append(w, "Version 2008-10-17 is outdated: policy variables such as ${aws:username} are literal text")
	}
	for i, s := range d.Statements {
		if s.Effect != EffectAllow {
			continue
		}
		for _, c := range s.Conditions {
			if strings.HasPrefix(c.Operator, "ForAllValues:") {
				w = append(w, fmt.Sprintf("Statement[%d]: Condition: %s in an Allow is true when %s is absent or empty", i, c.Operator, c.Key))
			}
		}
	}
	return w
}
