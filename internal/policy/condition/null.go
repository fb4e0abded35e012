package condition

// Null family: Null with "true" tests that the key is absent (or has no
// values), with "false" that it is present. It takes no qualifier or
// IfExists semantics of its own.

func (c *Condition) compileNull(values []string, o Options) error {
	c.null = make([]bool, 0, len(values))
	for _, v := range values {
		b, ok := parseBool(v)
		if !ok {
			if err := c.badValue(v, o, "not true or false"); err != nil {
				return err
			}
			continue
		}
		c.null = append(c.null, b)
	}
	return nil
}

func (c *Condition) evalNull(ctx *Context) bool {
	absent := !ctx.Has(c.key)
	for _, want := range c.null {
		if want == absent {
			return true
		}
	}
	return false
}
