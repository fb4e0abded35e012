package condition

// ARN family: ArnEquals, ArnLike, ArnNotEquals, ArnNotLike. All four glob
// each ARN segment as in resource matching and are case-sensitive, so
// ArnEquals behaves as ArnLike (spec/iam-policy.md §3.2). Values take policy
// variables.

func (c *Condition) compileARN(values []string, o Options) error {
	c.strs = make([]Pattern, 0, len(values))
	for _, v := range values {
		c.strs = append(c.strs, CompilePattern(v, true, o.Vars, 0))
	}
	return nil
}

func (c *Condition) matchARN(ctx *Context, r string) bool {
	var buf [256]byte
	for i := range c.strs {
		p := &c.strs[i]
		if !p.HasVars() {
			if matchARN(p.text, r) {
				return true
			}
			continue
		}
		b, ok := p.Expand(ctx, buf[:0])
		if ok && matchARN(b, r) {
			return true
		}
	}
	return false
}

// MatchARN matches a pattern compiled as a glob against an ARN with the
// segment rules of MatchARN, substituting variables from ctx. It reports
// false when a variable cannot be substituted.
func (p *Pattern) MatchARN(ctx *Context, s string) bool {
	if !p.HasVars() {
		return matchARN(p.text, s)
	}
	var buf [256]byte
	b, ok := p.Expand(ctx, buf[:0])
	return ok && matchARN(b, s)
}

// MatchFold matches a pattern compiled as a lower-case glob against s,
// folding ASCII letters of s, as actions are compared.
func (p *Pattern) MatchFold(s string) bool {
	return matchWild(p.text, s, true, false)
}
