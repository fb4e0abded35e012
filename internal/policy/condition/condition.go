package condition

import (
	"errors"
	"fmt"
	"strings"
)

// Family is an operator family of spec/iam-policy.md §3.2.
type Family uint8

// The operator families.
const (
	FamilyString Family = iota + 1
	FamilyNumeric
	FamilyDate
	FamilyBool
	FamilyBinary
	FamilyIP
	FamilyARN
	FamilyNull
)

// Qualifier is the set qualifier prefixed to an operator.
type Qualifier uint8

// The set qualifiers (spec/iam-policy.md §3.2).
const (
	Single       Qualifier = iota // no prefix
	ForAllValues                  // ForAllValues:
	ForAnyValue                   // ForAnyValue:
)

// comparison selects the test an operator applies within its family.
type comparison uint8

const (
	cmpEquals comparison = iota
	cmpEqualsIgnoreCase
	cmpLike
	cmpLess
	cmpLessEquals
	cmpGreater
	cmpGreaterEquals
)

// baseOp describes one operator name without qualifier or IfExists suffix.
type baseOp struct {
	family  Family
	cmp     comparison
	negated bool
}

// lookupBase finds a base operator by its lower-case name and returns its
// exact IAM spelling.
func lookupBase(lower string) (string, baseOp, bool) {
	switch lower {
	case "stringequals":
		return "StringEquals", baseOp{FamilyString, cmpEquals, false}, true
	case "stringnotequals":
		return "StringNotEquals", baseOp{FamilyString, cmpEquals, true}, true
	case "stringequalsignorecase":
		return "StringEqualsIgnoreCase", baseOp{FamilyString, cmpEqualsIgnoreCase, false}, true
	case "stringnotequalsignorecase":
		return "StringNotEqualsIgnoreCase", baseOp{FamilyString, cmpEqualsIgnoreCase, true}, true
	case "stringlike":
		return "StringLike", baseOp{FamilyString, cmpLike, false}, true
	case "stringnotlike":
		return "StringNotLike", baseOp{FamilyString, cmpLike, true}, true
	case "numericequals":
		return "NumericEquals", baseOp{FamilyNumeric, cmpEquals, false}, true
	case "numericnotequals":
		return "NumericNotEquals", baseOp{FamilyNumeric, cmpEquals, true}, true
	case "numericlessthan":
		return "NumericLessThan", baseOp{FamilyNumeric, cmpLess, false}, true
	case "numericlessthanequals":
		return "NumericLessThanEquals", baseOp{FamilyNumeric, cmpLessEquals, false}, true
	case "numericgreaterthan":
		return "NumericGreaterThan", baseOp{FamilyNumeric, cmpGreater, false}, true
	case "numericgreaterthanequals":
		return "NumericGreaterThanEquals", baseOp{FamilyNumeric, cmpGreaterEquals, false}, true
	case "dateequals":
		return "DateEquals", baseOp{FamilyDate, cmpEquals, false}, true
	case "datenotequals":
		return "DateNotEquals", baseOp{FamilyDate, cmpEquals, true}, true
	case "datelessthan":
		return "DateLessThan", baseOp{FamilyDate, cmpLess, false}, true
	case "datelessthanequals":
		return "DateLessThanEquals", baseOp{FamilyDate, cmpLessEquals, false}, true
	case "dategreaterthan":
		return "DateGreaterThan", baseOp{FamilyDate, cmpGreater, false}, true
	case "dategreaterthanequals":
		return "DateGreaterThanEquals", baseOp{FamilyDate, cmpGreaterEquals, false}, true
	case "bool":
		return "Bool", baseOp{FamilyBool, cmpEquals, false}, true
	case "binaryequals":
		return "BinaryEquals", baseOp{FamilyBinary, cmpEquals, false}, true
	case "ipaddress":
		return "IpAddress", baseOp{FamilyIP, cmpEquals, false}, true
	case "notipaddress":
		return "NotIpAddress", baseOp{FamilyIP, cmpEquals, true}, true
	case "arnequals":
		return "ArnEquals", baseOp{FamilyARN, cmpLike, false}, true
	case "arnlike":
		return "ArnLike", baseOp{FamilyARN, cmpLike, false}, true
	case "arnnotequals":
		return "ArnNotEquals", baseOp{FamilyARN, cmpLike, true}, true
	case "arnnotlike":
		return "ArnNotLike", baseOp{FamilyARN, cmpLike, true}, true
	case "null":
		return "Null", baseOp{FamilyNull, cmpEquals, false}, true
	}
	return "", baseOp{}, false
}

// ErrUnknownOperator is wrapped by errors for operator names IAM does not
// define.
var ErrUnknownOperator = errors.New("unknown operator")

// ErrBadValue is wrapped by errors for policy values that cannot be parsed
// for their operator family.
var ErrBadValue = errors.New("invalid value")

// Operator is a parsed operator name such as "ForAnyValue:StringLikeIfExists".
type Operator struct {
	Name      string // as written in the policy
	Qualifier Qualifier
	IfExists  bool
	Family    Family
	Negated   bool
	cmp       comparison
}

// ParseOperator parses an operator name. With exact false, the qualifier,
// operator and suffix are matched case-insensitively.
func ParseOperator(name string, exact bool) (Operator, error) {
	op := Operator{Name: name}
	rest := name
	eqPrefix := func(s, prefix string) bool {
		if len(s) < len(prefix) {
			return false
		}
		if exact {
			return s[:len(prefix)] == prefix
		}
		return strings.EqualFold(s[:len(prefix)], prefix)
	}
	switch {
	case eqPrefix(rest, "ForAllValues:"):
		op.Qualifier, rest = ForAllValues, rest[len("ForAllValues:"):]
	case eqPrefix(rest, "ForAnyValue:"):
		op.Qualifier, rest = ForAnyValue, rest[len("ForAnyValue:"):]
	}
	const suffix = "IfExists"
	if n := len(rest) - len(suffix); n > 0 && (rest[n:] == suffix || !exact && strings.EqualFold(rest[n:], suffix)) {
		op.IfExists, rest = true, rest[:n]
	}
	canon, b, ok := lookupBase(strings.ToLower(rest))
	if exact && canon != rest {
		ok = false
	}
	if !ok || (op.IfExists && b.family == FamilyNull) {
		return Operator{}, fmt.Errorf("%w %q", ErrUnknownOperator, name)
	}
	op.Family, op.Negated, op.cmp = b.family, b.negated, b.cmp
	return op, nil
}

// Condition is one compiled (operator, key, values) test of a policy's
// Condition block.
type Condition struct {
	Op  Operator
	Key string // as written in the policy
	key string // lower case

	strs  []Pattern // String and ARN families
	nums  []float64
	dates []int64 // Unix nanoseconds
	bools []bool
	bins  [][]byte
	nets  []netPrefix
	null  []bool // Null: true = must be absent

	bad  int // values that failed to parse and never match
	vars bool
}

// Options control how Compile treats a condition.
type Options struct {
	// Vars enables policy variables in String and ARN values (policy
	// Version 2012-10-17).
	Vars bool
	// Strict rejects values that cannot be parsed for the operator family
	// instead of compiling them to values that never match.
	Strict bool
}

// Compile compiles one condition test.
func Compile(op Operator, key string, values []string, o Options) (*Condition, error) {
	c := &Condition{Op: op, Key: key, key: strings.ToLower(key)}
	var err error
	switch op.Family {
	case FamilyString:
		err = c.compileString(values, o)
	case FamilyNumeric:
		err = c.compileNumeric(values, o)
	case FamilyDate:
		err = c.compileDate(values, o)
	case FamilyBool:
		err = c.compileBool(values, o)
	case FamilyBinary:
		err = c.compileBinary(values, o)
	case FamilyIP:
		err = c.compileIP(values, o)
	case FamilyARN:
		err = c.compileARN(values, o)
	case FamilyNull:
		err = c.compileNull(values, o)
	default:
		err = fmt.Errorf("%w %q", ErrUnknownOperator, op.Name)
	}
	if err != nil {
		return nil, err
	}
	for i := range c.strs {
		if c.strs[i].HasVars() {
			c.vars = true
		}
	}
	return c, nil
}

// badValue reports an unparseable value: an error when strict, else it is
// counted and skipped so that it never matches.
func (c *Condition) badValue(v string, o Options, why string) error {
	if o.Strict {
		return fmt.Errorf("%w %q for %s: %s", ErrBadValue, v, c.Op.Name, why)
	}
	c.bad++
	return nil
}

// LowerKey returns the condition key in lower case.
func (c *Condition) LowerKey() string { return c.key }

// Vars returns the policy variables the condition's values reference.
func (c *Condition) Vars() []Var {
	var out []Var
	for i := range c.strs {
		out = append(out, c.strs[i].Vars()...)
	}
	return out
}

// Eval evaluates the condition against ctx per spec/iam-policy.md §3.1–3.2.
// Policy variables in values must be resolvable (see Pattern.Resolvable);
// callers skip statements whose variables are not.
func (c *Condition) Eval(ctx *Context) bool {
	if c.Op.Family == FamilyNull {
		return c.evalNull(ctx)
	}
	vals, present := ctx.Values(c.key)
	if !present {
		if c.Op.IfExists {
			return true
		}
		switch c.Op.Qualifier {
		case ForAllValues:
			return true // vacuous truth
		case ForAnyValue:
			return false
		}
		return c.Op.Negated
	}
	switch c.Op.Qualifier {
	case ForAllValues:
		for _, r := range vals {
			if !c.matchOne(ctx, r) {
				return false
			}
		}
		return true
	default:
		// ForAnyValue, and plain operators on multivalued keys
		// (spec/iam-policy.md §3.1 Rule).
		for _, r := range vals {
			if c.matchOne(ctx, r) {
				return true
			}
		}
		return false
	}
}

// matchOne tests one request value: for a positive operator it matches when
// any policy value matches; for a negated one when none does.
func (c *Condition) matchOne(ctx *Context, r string) bool {
	var hit bool
	switch c.Op.Family {
	case FamilyString:
		hit = c.matchString(ctx, r)
	case FamilyNumeric:
		hit = c.matchNumeric(r)
	case FamilyDate:
		hit = c.matchDate(r)
	case FamilyBool:
		hit = c.matchBool(r)
	case FamilyBinary:
		hit = c.matchBinary(r)
	case FamilyIP:
		hit = c.matchIP(r)
	case FamilyARN:
		hit = c.matchARN(ctx, r)
	}
	return hit != c.Op.Negated
}

// compare applies an ordering comparison to a request value x and a policy
// value y.
func compare[T int64 | float64](cmp comparison, x, y T) bool {
	switch cmp {
	case cmpEquals:
		return x == y
	case cmpLess:
		return x < y
	case cmpLessEquals:
		return x <= y
	case cmpGreater:
		return x > y
	case cmpGreaterEquals:
		return x >= y
	}
	return false
}
