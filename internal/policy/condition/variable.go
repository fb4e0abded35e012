package condition

import (
	"strings"
)

// Var is a policy variable referenced by a pattern: ${Key} or
// ${Key, 'Default'} (spec/iam-policy.md §3.3).
type Var struct {
	Key        string // lower case
	Default    string
	HasDefault bool
}

// Pattern is compiled policy text that may contain policy variables and,
// when compiled as a glob, the wildcards '*' and '?'. Text substituted from a
// variable is always literal.
type Pattern struct {
	raw   string
	text  string // compiled text when the pattern has no variables
	parts []part // the pattern split at its variables, nil when it has none
}

type part struct {
	text string // compiled text; unused when v is set
	v    *Var
}

// CompilePattern compiles s. With glob, '*' and '?' are wildcards. With
// vars, ${...} references are recognised from byte offset from onwards (a
// resource ARN allows them only in its resource segment); without vars the
// text is taken literally, as under policy Version 2008-10-17.
func CompilePattern(s string, glob, vars bool, from int) Pattern {
	enc := func(t string) string {
		if glob {
			return encodeGlob(t)
		}
		return t
	}
	if !vars || from > len(s) || !strings.Contains(s[from:], "${") {
		return Pattern{raw: s, text: enc(s)}
	}
	var parts []part
	lit := s[:from]
	rest := s[from:]
	for {
		i := strings.Index(rest, "${")
		if i < 0 {
			lit += rest
			break
		}
		lit += rest[:i]
		end, v, escaped, ok := parseVar(rest[i:])
		if !ok {
			// Not a well-formed variable: the text stays literal.
			lit += rest[i : i+2]
			rest = rest[i+2:]
			continue
		}
		if v == nil {
			// ${*}, ${?}, ${$}: a literal character, never a wildcard.
			parts = appendText(parts, enc(lit)+escaped)
		} else {
			parts = appendText(parts, enc(lit))
			parts = append(parts, part{v: v})
		}
		lit = ""
		rest = rest[i+end:]
	}
	parts = appendText(parts, enc(lit))
	hasVar := false
	for _, p := range parts {
		if p.v != nil {
			hasVar = true
		}
	}
	if !hasVar {
		var b strings.Builder
		for _, p := range parts {
			b.WriteString(p.text)
		}
		return Pattern{raw: s, text: b.String()}
	}
	return Pattern{raw: s, parts: parts}
}

func appendText(parts []part, t string) []part {
	if t == "" {
		return parts
	}
	if n := len(parts); n > 0 && parts[n-1].v == nil {
		parts[n-1].text += t
		return parts
	}
	return append(parts, part{text: t})
}

// parseVar parses the variable at the start of s ("${"). It returns the
// length consumed and either the variable or, for the escapes ${*}, ${?} and
// ${$}, the literal character.
func parseVar(s string) (n int, v *Var, escaped string, ok bool) {
	inQuote := false
	end := -1
	for i := 2; i < len(s); i++ {
		switch s[i] {
		case '\'':
			inQuote = !inQuote
		case '}':
			if !inQuote {
				end = i
			}
		}
		if end >= 0 {
			break
		}
	}
	if end < 0 {
		return 0, nil, "", false
	}
	inner := strings.TrimSpace(s[2:end])
	switch inner {
	case "*", "?", "$":
		return end + 1, nil, inner, true
	case "":
		return 0, nil, "", false
	}
	key, def, hasDef := inner, "", false
	if c := strings.IndexByte(inner, ','); c >= 0 {
		key = strings.TrimSpace(inner[:c])
		d := strings.TrimSpace(inner[c+1:])
		if len(d) < 2 || d[0] != '\'' || d[len(d)-1] != '\'' {
			return 0, nil, "", false
		}
		body := d[1 : len(d)-1]
		// Inside the quotes a quote is written twice.
		if strings.Count(body, "'")%2 != 0 || strings.Contains(strings.ReplaceAll(body, "''", ""), "'") {
			return 0, nil, "", false
		}
		def, hasDef = strings.ReplaceAll(body, "''", "'"), true
	}
	if key == "" || strings.ContainsAny(key, " \t'${}") {
		return 0, nil, "", false
	}
	return end + 1, &Var{Key: strings.ToLower(key), Default: def, HasDefault: hasDef}, "", true
}

// Raw returns the policy text the pattern was compiled from.
func (p *Pattern) Raw() string { return p.raw }

// HasVars reports whether the pattern references policy variables.
func (p *Pattern) HasVars() bool { return p.parts != nil }

// Vars returns the variables the pattern references.
func (p *Pattern) Vars() []Var {
	var out []Var
	for _, pt := range p.parts {
		if pt.v != nil {
			out = append(out, *pt.v)
		}
	}
	return out
}

// Text returns the compiled text of a pattern without variables.
func (p *Pattern) Text() string { return p.text }

// Expand appends the pattern with its variables substituted from ctx to buf.
// It reports false when a variable is absent or multivalued and has no
// default, or when a substituted value holds bytes reserved for wildcards.
func (p *Pattern) Expand(ctx *Context, buf []byte) ([]byte, bool) {
	if p.parts == nil {
		return append(buf, p.text...), true
	}
	for _, pt := range p.parts {
		if pt.v == nil {
			buf = append(buf, pt.text...)
			continue
		}
		val, ok := ctx.Get(pt.v.Key)
		if !ok {
			if !pt.v.HasDefault {
				return buf, false
			}
			val = pt.v.Default
		}
		if strings.ContainsAny(val, "\x00\x01") {
			return buf, false
		}
		buf = append(buf, val...)
	}
	return buf, true
}

// Resolvable reports whether every variable of the pattern can be
// substituted from ctx (or has a default).
func (p *Pattern) Resolvable(ctx *Context) bool {
	for _, pt := range p.parts {
		if pt.v != nil && !pt.v.HasDefault {
			if _, ok := ctx.Get(pt.v.Key); !ok {
				return false
			}
		}
	}
	return true
}
