package condition

import (
	"math"
	"strconv"
	"strings"
)

// Numeric family: NumericEquals, NumericNotEquals, NumericLessThan,
// NumericLessThanEquals, NumericGreaterThan, NumericGreaterThanEquals over
// integers and decimals. A request value that is not a number never matches.

func (c *Condition) compileNumeric(values []string, o Options) error {
	c.nums = make([]float64, 0, len(values))
	for _, v := range values {
		f, ok := parseNumber(v)
		if !ok {
			if err := c.badValue(v, o, "not a number"); err != nil {
				return err
			}
			continue
		}
		c.nums = append(c.nums, f)
	}
	return nil
}

// parseNumber parses an integer or decimal; exponents, hex, infinities and
// NaN are not IAM numbers.
func parseNumber(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if s == "" || strings.ContainsAny(s, "eExXpPnNiI_") {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

func (c *Condition) matchNumeric(r string) bool {
	x, ok := parseNumber(r)
	if !ok {
		return false
	}
	for _, y := range c.nums {
		if compare(c.Op.cmp, x, y) {
			return true
		}
	}
	return false
}
