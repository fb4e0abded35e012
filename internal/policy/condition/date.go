package condition

import (
	"strconv"
	"strings"
	"time"
)

// Date family: DateEquals, DateNotEquals, DateLessThan, DateLessThanEquals,
// DateGreaterThan, DateGreaterThanEquals. Values are ISO-8601 dates or
// date-times (Z or a numeric offset; none means UTC) or epoch seconds, so
// aws:EpochTime works with the Date operators too.

func (c *Condition) compileDate(values []string, o Options) error {
	c.dates = make([]int64, 0, len(values))
	for _, v := range values {
		t, ok := parseDate(v)
		if !ok {
			if err := c.badValue(v, o, "not an ISO-8601 date or epoch seconds"); err != nil {
				return err
			}
			continue
		}
		c.dates = append(c.dates, t)
	}
	return nil
}

// parseDate returns s as Unix nanoseconds.
func parseDate(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	if isEpoch(s) {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f > 9e9 || f < -9e9 {
			return 0, false
		}
		return int64(f * 1e9), true
	}
	if strings.HasSuffix(s, "z") {
		s = s[:len(s)-1] + "Z"
	}
	// The ISO-8601 forms accepted, the one our server writes first; a form
	// without a zone is UTC.
	layouts := [...]string{
		time.RFC3339Nano,
		"2006-01-02T15:04Z07:00",
		"2006-01-02T15:04:05.999999999",
		"2006-01-02T15:04",
		"2006-01-02",
	}
	for _, layout := range layouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UnixNano(), true
		}
	}
	return 0, false
}

func isEpoch(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || c == '.' || i == 0 && c == '-') {
			return false
		}
	}
	return true
}

func (c *Condition) matchDate(r string) bool {
	x, ok := parseDate(r)
	if !ok {
		return false
	}
	for _, y := range c.dates {
		if compare(c.Op.cmp, x, y) {
			return true
		}
	}
	return false
}
