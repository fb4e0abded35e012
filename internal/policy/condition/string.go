package condition

import "strings"

// String family: StringEquals, StringNotEquals, StringEqualsIgnoreCase,
// StringNotEqualsIgnoreCase, StringLike, StringNotLike. Only the Like
// operators treat '*' and '?' as wildcards; all take policy variables.

func (c *Condition) compileString(values []string, o Options) error {
	glob := c.Op.cmp == cmpLike
	c.strs = make([]Pattern, 0, len(values))
	for _, v := range values {
		c.strs = append(c.strs, CompilePattern(v, glob, o.Vars, 0))
	}
	return nil
}

func (c *Condition) matchString(ctx *Context, r string) bool {
	var buf [256]byte
	for i := range c.strs {
		p := &c.strs[i]
		if !p.HasVars() {
			if matchStringText(c.Op.cmp, p.text, r) {
				return true
			}
			continue
		}
		b, ok := p.Expand(ctx, buf[:0])
		if ok && matchStringText(c.Op.cmp, b, r) {
			return true
		}
	}
	return false
}

func matchStringText[P ~string | ~[]byte](cmp comparison, p P, r string) bool {
	switch cmp {
	case cmpEquals:
		return string(p) == r
	case cmpEqualsIgnoreCase:
		return strings.EqualFold(string(p), r)
	case cmpLike:
		return matchWild(p, r, false, false)
	}
	return false
}
