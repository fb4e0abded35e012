package condition

import "strings"

// Bool family: Bool compares "true"/"false" case-insensitively. A request
// value that is neither never matches.

func (c *Condition) compileBool(values []string, o Options) error {
	c.bools = make([]bool, 0, len(values))
	for _, v := range values {
		b, ok := parseBool(v)
		if !ok {
			if err := c.badValue(v, o, "not true or false"); err != nil {
				return err
			}
			continue
		}
		c.bools = append(c.bools, b)
	}
	return nil
}

func parseBool(s string) (bool, bool) {
	switch {
	case strings.EqualFold(s, "true"):
		return true, true
	case strings.EqualFold(s, "false"):
		return false, true
	}
	return false, false
}

func (c *Condition) matchBool(r string) bool {
	x, ok := parseBool(r)
	if !ok {
		return false
	}
	for _, y := range c.bools {
		if x == y {
			return true
		}
	}
	return false
}
