package condition

import "strings"

// Context holds the condition keys of one request. Key names are
// case-insensitive (spec/iam-policy.md §3.1); each key has one or more string
// values. The zero value is an empty context ready to use.
//
// A Context is filled once per request with Set or Add and is then only read;
// it is not safe for concurrent mutation. Lookups scan a short slice, which
// for the dozen keys a request carries is faster than hashing.
type Context struct {
	entries []entry
}

type entry struct {
	key  string // lower case
	one  [1]string
	many []string
	n    int
}

// NewContext returns a Context with room for n keys.
func NewContext(n int) *Context {
	return &Context{entries: make([]entry, 0, n)}
}

// Reset removes every key, keeping the allocated space for reuse.
func (c *Context) Reset() {
	c.entries = c.entries[:0]
}

// Len reports how many keys the context holds.
func (c *Context) Len() int {
	if c == nil {
		return 0
	}
	return len(c.entries)
}

// Set sets key to the given values, replacing any previous values; the
// values are copied. Setting a key with no values makes it present but
// empty, which operators treat as absent. Setting a single value does not
// allocate for the keys of spec/iam-policy.md §5 or for lower-case keys.
func (c *Context) Set(key string, values ...string) {
	lk := lowerKey(key)
	e := entry{key: lk, n: len(values)}
	if len(values) == 1 {
		e.one[0] = values[0]
	} else {
		e.many = append([]string(nil), values...)
	}
	for i := range c.entries {
		if c.entries[i].key == lk {
			c.entries[i] = e
			return
		}
	}
	c.entries = append(c.entries, e)
}

// Add appends value to the values of key, creating the key if needed.
func (c *Context) Add(key, value string) {
	lk := lowerKey(key)
	for i := range c.entries {
		e := &c.entries[i]
		if e.key != lk {
			continue
		}
		switch e.n {
		case 0:
			e.one[0] = value
			e.many = nil
		case 1:
			e.many = []string{e.one[0], value}
		default:
			e.many = append(e.many, value)
		}
		e.n++
		return
	}
	c.entries = append(c.entries, entry{key: lk, one: [1]string{value}, n: 1})
}

// Delete removes key.
func (c *Context) Delete(key string) {
	i := c.index(key)
	if i < 0 {
		return
	}
	c.entries = append(c.entries[:i], c.entries[i+1:]...)
}

// Values returns the values of key and whether the key is present with at
// least one value. The returned slice must not be modified.
func (c *Context) Values(key string) ([]string, bool) {
	i := c.index(key)
	if i < 0 {
		return nil, false
	}
	e := &c.entries[i]
	if e.n == 0 {
		return nil, false
	}
	if e.n == 1 && e.many == nil {
		return e.one[:], true
	}
	return e.many, true
}

// Get returns the value of a single-valued key. It reports false when the key
// is absent or has more than one value, the cases in which a policy variable
// cannot be substituted (spec/iam-policy.md §3.3).
func (c *Context) Get(key string) (string, bool) {
	vs, ok := c.Values(key)
	if !ok || len(vs) != 1 {
		return "", false
	}
	return vs[0], true
}

// Has reports whether key is present with at least one value.
func (c *Context) Has(key string) bool {
	_, ok := c.Values(key)
	return ok
}

// Keys returns the lower-case names of the keys present, in insertion order.
func (c *Context) Keys() []string {
	if c == nil {
		return nil
	}
	out := make([]string, 0, len(c.entries))
	for _, e := range c.entries {
		out = append(out, e.key)
	}
	return out
}

// index finds key. Compiled policies look keys up in lower case, which the
// first loop finds by plain comparison; other spellings are lowered first.
func (c *Context) index(key string) int {
	if c == nil {
		return -1
	}
	for i := range c.entries {
		if c.entries[i].key == key {
			return i
		}
	}
	if isLower(key) {
		return -1
	}
	lk := lowerKey(key)
	for i := range c.entries {
		if c.entries[i].key == lk {
			return i
		}
	}
	return -1
}

// isLower reports whether key is ASCII without upper-case letters, so that
// lowering it would not change it.
func isLower(key string) bool {
	for i := 0; i < len(key); i++ {
		if b := key[i]; 'A' <= b && b <= 'Z' || b >= 0x80 {
			return false
		}
	}
	return true
}

// lowerKey lower-cases a key name, without allocating for lower-case keys
// and for the spellings AWS documents for the global keys our server sets.
func lowerKey(key string) string {
	if isLower(key) {
		return key
	}
	switch key {
	case "aws:CurrentTime":
		return "aws:currenttime"
	case "aws:EpochTime":
		return "aws:epochtime"
	case "aws:SecureTransport":
		return "aws:securetransport"
	case "aws:SourceIp":
		return "aws:sourceip"
	case "aws:UserAgent":
		return "aws:useragent"
	case "aws:RequestedRegion":
		return "aws:requestedregion"
	case "aws:PrincipalArn":
		return "aws:principalarn"
	case "aws:PrincipalAccount":
		return "aws:principalaccount"
	case "aws:PrincipalType":
		return "aws:principaltype"
	case "aws:PrincipalOrgID":
		return "aws:principalorgid"
	case "aws:TokenIssueTime":
		return "aws:tokenissuetime"
	case "aws:MultiFactorAuthPresent":
		return "aws:multifactorauthpresent"
	case "aws:MultiFactorAuthAge":
		return "aws:multifactorauthage"
	case "aws:TagKeys":
		return "aws:tagkeys"
	case "aws:ViaAWSService":
		return "aws:viaawsservice"
	case "aws:CalledVia":
		return "aws:calledvia"
	case "aws:SourceIdentity":
		return "aws:sourceidentity"
	}
	return strings.ToLower(key)
}
