package scim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	filter "github.com/scim2/filter-parser/v2"
)

// maxOperations bounds the operations of one PATCH request.
const maxOperations = 1000

// patchRequest is a PATCH body (RFC 7644 §3.5.2).
type patchRequest struct {
	Schemas    []string  `json:"schemas"`
	Operations []patchOp `json:"Operations"`
}

// patchOp is one operation. Op is matched ignoring case: Entra ID sends
// "Add", "Replace" and "Remove" ("Known issues and resolutions with SCIM
// 2.0 protocol compliance"), Okta lower case.
type patchOp struct {
	Op    string          `json:"op"`
	Path  string          `json:"path"`
	Value json.RawMessage `json:"value"`
}

// opPaths lists p's operations as "op path" strings, for the audit
// trail: the paths say what changed without the values.
func (p *patchRequest) opPaths() []string {
	paths := make([]string, len(p.Operations))
	for i, op := range p.Operations {
		paths[i] = op.Op + " " + op.Path
	}
	return paths
}

// decodePatch decodes a PATCH body (RFC 7644 §3.5.2), lower-casing each
// op. A body that is not a JSON object, names another schema, holds no
// operations or more than maxOperations, or has an unknown op is 400
// invalidSyntax.
func decodePatch(body []byte) (*patchRequest, error) {
	var p patchRequest
	if err := decodeBody(body, &p); err != nil {
		return nil, err
	}
	if len(p.Schemas) > 0 && !slices.ContainsFunc(p.Schemas, func(s string) bool { return strings.EqualFold(s, SchemaPatchOp) }) {
		return nil, badRequest(typeInvalidSyntax, "A PATCH request must name the schema %s", SchemaPatchOp)
	}
	if len(p.Operations) == 0 || len(p.Operations) > maxOperations {
		return nil, badRequest(typeInvalidSyntax, "Operations must hold 1 to %d operations", maxOperations)
	}
	for i := range p.Operations {
		op := &p.Operations[i]
		op.Op = strings.ToLower(op.Op)
		switch op.Op {
		case "add", "replace", "remove":
		default:
			return nil, badRequest(typeInvalidSyntax, "Unknown PATCH operation %q: use add, replace or remove", op.Op)
		}
		if op.Op != "remove" && len(bytes.TrimSpace(op.Value)) == 0 {
			return nil, badRequest(typeInvalidValue, "The %s operation needs a value", op.Op)
		}
	}
	return &p, nil
}

// docPatcher applies PATCH operations to a resource rendered as a JSON
// object. The result is decoded as a PUT body is, so PATCH and PUT share
// every rule.
type docPatcher struct {
	doc map[string]any
	// single names the multi-valued attributes IAM Identity Center keeps
	// one value of: a filtered add or replace that matches no value
	// replaces the one there instead of adding a second.
	single []string
}

// key returns the key of m that equals name ignoring case, or name.
func key(m map[string]any, name string) string {
	for k := range m {
		if strings.EqualFold(k, name) {
			return k
		}
	}
	return name
}

func decodeValue(raw json.RawMessage) (any, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, badRequest(typeInvalidSyntax, "The operation's value is not JSON")
	}
	return v, nil
}

func (p *docPatcher) apply(op patchOp) error {
	v, err := decodeValue(op.Value)
	if err != nil {
		return err
	}
	if op.Path == "" {
		if op.Op == "remove" {
			return badRequest(typeNoTarget, "A remove operation needs a path")
		}
		obj, ok := v.(map[string]any)
		if !ok {
			return badRequest(typeInvalidValue, "An operation without a path needs an object value")
		}
		for k, sub := range obj {
			if strings.EqualFold(k, SchemaEnterpriseUser) {
				if err := p.applyAt(p.doc, op.Op, k, "", sub); err != nil {
					return err
				}
				continue
			}
			if err := p.applyPath(op.Op, k, sub); err != nil {
				return err
			}
		}
		return nil
	}
	return p.applyPath(op.Op, op.Path, v)
}

func (p *docPatcher) applyPath(opName, raw string, v any) error {
	if len(raw) > 512 {
		return badRequest(typeInvalidPath, "The path is too long")
	}
	// The extension's URN alone names the whole extension object.
	if strings.EqualFold(raw, SchemaEnterpriseUser) {
		return p.applyAt(p.doc, opName, key(p.doc, SchemaEnterpriseUser), "", v)
	}
	path, err := filter.ParsePath([]byte(raw))
	if err != nil {
		return badRequest(typeInvalidPath, "The path %q is not a valid SCIM path", raw)
	}
	container := p.doc
	switch uri := path.AttributePath.URI(); {
	case uri == "", strings.EqualFold(uri, SchemaUser), strings.EqualFold(uri, SchemaGroup):
	case strings.EqualFold(uri, SchemaEnterpriseUser):
		k := key(p.doc, SchemaEnterpriseUser)
		ext, _ := p.doc[k].(map[string]any)
		if ext == nil {
			ext = map[string]any{}
			p.doc[k] = ext
		}
		container = ext
	default:
		return badRequest(typeInvalidPath, "The schema %q is not supported", uri)
	}
	name := key(container, path.AttributePath.AttributeName)
	if path.ValueExpression != nil {
		if path.AttributePath.SubAttribute != nil {
			return badRequest(typeInvalidPath, "The path %q is not supported", raw)
		}
		return p.applyFiltered(container, opName, name, path.ValueExpression, path.SubAttributeName(), v)
	}
	return p.applyAt(container, opName, name, path.AttributePath.SubAttributeName(), v)
}

// applyAt applies an operation to container[name] (or its sub-attribute
// sub).
func (p *docPatcher) applyAt(container map[string]any, opName, name, sub string, v any) error {
	if sub != "" {
		obj, _ := container[name].(map[string]any)
		if obj == nil {
			if opName == "remove" {
				return nil
			}
			obj = map[string]any{}
			container[name] = obj
		}
		k := key(obj, sub)
		if opName == "remove" || v == nil {
			delete(obj, k)
		} else {
			obj[k] = v
		}
		return nil
	}
	cur, exists := container[name]
	switch opName {
	case "remove":
		if list, ok := cur.([]any); ok && v != nil {
			// Remove the listed values (matched by their value).
			rm, _ := v.([]any)
			if o, ok := v.(map[string]any); ok {
				rm = []any{o}
			}
			container[name] = slices.DeleteFunc(list, func(e any) bool {
				return slices.ContainsFunc(rm, func(r any) bool { return sameValue(e, r) })
			})
			return nil
		}
		delete(container, name)
		return nil
	case "add":
		if list, ok := cur.([]any); ok && exists {
			add, ok := v.([]any)
			if !ok {
				add = []any{v}
			}
			for _, a := range add {
				if !slices.ContainsFunc(list, func(e any) bool { return reflect.DeepEqual(e, a) }) {
					list = append(list, a)
				}
			}
			container[name] = list
			return nil
		}
		fallthrough
	default: // replace, or add of a new or single-valued attribute
		if old, ok := cur.(map[string]any); ok {
			if nw, ok := v.(map[string]any); ok {
				// A complex attribute's sub-attributes are merged
				// (RFC 7644 §3.5.2.1 and §3.5.2.3).
				for k, sv := range nw {
					old[key(old, k)] = sv
				}
				return nil
			}
		}
		if o, ok := v.(map[string]any); ok && p.multi(name) {
			v = []any{o}
		}
		if v == nil {
			delete(container, name)
		} else {
			container[name] = v
		}
		return nil
	}
}

func (p *docPatcher) multi(name string) bool {
	return slices.ContainsFunc(p.single, func(s string) bool { return strings.EqualFold(s, name) })
}

// sameValue reports whether two values of a multi-valued attribute are the
// same: equal "value" sub-attributes, or equal wholes.
func sameValue(a, b any) bool {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		av, bv := am[key(am, "value")], bm[key(bm, "value")]
		if av != nil || bv != nil {
			return fmt.Sprint(av) == fmt.Sprint(bv)
		}
	}
	return reflect.DeepEqual(a, b)
}

// applyFiltered applies an operation to the values of container[name]
// that match expr (emails[type eq "work"], optionally .sub).
func (p *docPatcher) applyFiltered(container map[string]any, opName, name string, expr filter.Expression, sub string, v any) error {
	terms, err := eqTerms(expr)
	if err != nil {
		return err
	}
	list, _ := container[name].([]any)
	var hits []int
	for i, e := range list {
		if m, ok := e.(map[string]any); ok && matches(m, terms) {
			hits = append(hits, i)
		}
	}
	if opName == "remove" {
		if sub == "" {
			keep := list[:0:0]
			for i, e := range list {
				if !slices.Contains(hits, i) {
					keep = append(keep, e)
				}
			}
			container[name] = keep
			return nil
		}
		for _, i := range hits {
			m := list[i].(map[string]any)
			delete(m, key(m, sub))
		}
		return nil
	}
	if len(hits) == 0 {
		// No value matches: make one from the filter's terms (Entra
		// ID's emails[type eq "work"].value on a user without one).
		m := map[string]any{}
		for _, t := range terms {
			m[t.attr] = t.value
		}
		if p.multi(name) && len(list) == 1 {
			if old, ok := list[0].(map[string]any); ok {
				m = old
				for _, t := range terms {
					m[key(m, t.attr)] = t.value
				}
			}
			list = list[:0]
		}
		list = append(list, m)
		hits = []int{len(list) - 1}
		container[name] = list
	}
	for _, i := range hits {
		m := list[i].(map[string]any)
		if sub != "" {
			m[key(m, sub)] = v
			continue
		}
		nw, ok := v.(map[string]any)
		if !ok {
			return badRequest(typeInvalidValue, "A filtered %s without a sub-attribute needs an object value", opName)
		}
		for k, sv := range nw {
			m[key(m, k)] = sv
		}
	}
	return nil
}

// term is one `attr eq "value"` of a filter.
type term struct {
	attr  string // lower case, with its sub-attribute: "username", "members.value"
	value string
	// quoted says the value was a string (not true or false).
	quoted bool
}

// eqTerms flattens a filter of eq comparisons joined by and, the only
// filters IAM Identity Center supports ("Limitations from SCIM
// specification": only eq with and). Anything else is invalidFilter.
func eqTerms(e filter.Expression) ([]term, error) {
	switch x := e.(type) {
	case *filter.AttributeExpression:
		if !strings.EqualFold(string(x.Operator), string(filter.EQ)) {
			return nil, badRequest(typeInvalidFilter, "The filter operator %q is not supported: only eq (with and) is", x.Operator)
		}
		var v string
		quoted := false
		switch c := x.CompareValue.(type) {
		case string:
			v, quoted = c, true
		case bool:
			v = fmt.Sprint(c)
		default:
			return nil, badRequest(typeInvalidFilter, "Filter values must be quoted strings")
		}
		if uri := x.AttributePath.URI(); uri != "" && !strings.EqualFold(uri, SchemaUser) && !strings.EqualFold(uri, SchemaGroup) {
			return nil, badRequest(typeInvalidFilter, "The filter attribute %s is not supported", x.AttributePath.String())
		}
		attr := strings.ToLower(x.AttributePath.AttributeName)
		if s := x.AttributePath.SubAttributeName(); s != "" {
			attr += "." + strings.ToLower(s)
		}
		return []term{{attr, v, quoted}}, nil
	case *filter.LogicalExpression:
		if !strings.EqualFold(string(x.Operator), string(filter.AND)) {
			return nil, badRequest(typeInvalidFilter, "The filter operator %q is not supported: only and joins comparisons", x.Operator)
		}
		l, err := eqTerms(x.Left)
		if err != nil {
			return nil, err
		}
		r, err := eqTerms(x.Right)
		if err != nil {
			return nil, err
		}
		return append(l, r...), nil
	case *filter.ValuePath:
		inner, err := eqTerms(x.ValueFilter)
		if err != nil {
			return nil, err
		}
		prefix := strings.ToLower(x.AttributePath.AttributeName)
		for i := range inner {
			inner[i].attr = prefix + "." + inner[i].attr
		}
		return inner, nil
	}
	return nil, badRequest(typeInvalidFilter, "The filter is not supported: only eq comparisons joined by and are")
}

// matches reports whether a value of a multi-valued attribute has every
// term's sub-attribute equal to its value, ignoring case.
func matches(m map[string]any, terms []term) bool {
	for _, t := range terms {
		v, ok := m[key(m, t.attr)]
		if !ok || !strings.EqualFold(fmt.Sprint(v), t.value) {
			return false
		}
	}
	return true
}
