package condition_test

import (
	"errors"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/policy/condition"
)

// opCase is one operator test: the condition Op{key: values} against a
// request where key has req values (nil: the key is absent).
type opCase struct {
	name   string
	op     string
	values []string
	req    []string
	want   bool
}

const key = "test:Key"

func runOpCases(t *testing.T, tests []opCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			op, err := condition.ParseOperator(tc.op, true)
			if err != nil {
				t.Fatalf("ParseOperator(%q): %v", tc.op, err)
			}
			c, err := condition.Compile(op, key, tc.values, condition.Options{Vars: true, Strict: true})
			if err != nil {
				t.Fatalf("Compile(%s %v): %v", tc.op, tc.values, err)
			}
			var ctx condition.Context
			if tc.req != nil {
				ctx.Set("TEST:key", tc.req...)
			}
			if got := c.Eval(&ctx); got != tc.want {
				t.Errorf("%s{%s: %q} with %q = %v, want %v", tc.op, key, tc.values, tc.req, got, tc.want)
			}
		})
	}
}

var absent []string

func one(s string) []string { return []string{s} }

func TestString(t *testing.T) {
	runOpCases(t, []opCase{
		{"equals hit", "StringEquals", []string{"a", "b"}, one("b"), true},
		{"equals case", "StringEquals", one("red"), one("Red"), false},
		{"equals star literal", "StringEquals", one("*"), one("red"), false},
		{"equals star itself", "StringEquals", one("*"), one("*"), true},
		{"equals absent", "StringEquals", one("a"), absent, false},
		{"not equals absent", "StringNotEquals", one("a"), absent, true},
		{"not equals none match", "StringNotEquals", []string{"a", "b"}, one("c"), true},
		{"not equals one matches", "StringNotEquals", []string{"a", "b"}, one("b"), false},
		{"ignore case", "StringEqualsIgnoreCase", one("red"), one("RED"), true},
		{"not ignore case", "StringNotEqualsIgnoreCase", one("red"), one("RED"), false},
		{"like star", "StringLike", one("dev-*"), one("dev-alice"), true},
		{"like question", "StringLike", one("a?c"), one("abc"), true},
		{"like question exactly one", "StringLike", one("a?c"), one("abbc"), false},
		{"like case-sensitive", "StringLike", one("dev-*"), one("DEV-x"), false},
		{"not like", "StringNotLike", one("dev-*"), one("prod-x"), true},
		{"not like hit", "StringNotLike", one("dev-*"), one("dev-x"), false},
		{"not like absent", "StringNotLike", one("dev-*"), absent, true},
		{"IfExists absent", "StringEqualsIfExists", one("a"), absent, true},
		{"IfExists present", "StringEqualsIfExists", one("a"), one("b"), false},
		{"NotEquals IfExists absent", "StringNotEqualsIfExists", one("a"), absent, true},
		{"plain on multivalued is any", "StringEquals", one("b"), []string{"a", "b"}, true},
		{"escape star in Like is literal", "StringLike", one("a${*}"), one("ab"), false},
		{"escape star in Like matches star", "StringLike", one("a${*}"), one("a*"), true},
		{"escape dollar", "StringEquals", one("${$}x"), one("$x"), true},
		{"empty value", "StringEquals", one(""), one(""), true},
	})
}

func TestSetQualifiers(t *testing.T) {
	runOpCases(t, []opCase{
		{"ForAllValues absent is vacuous", "ForAllValues:StringEquals", []string{"env"}, absent, true},
		{"ForAllValues empty is vacuous", "ForAllValues:StringEquals", []string{"env"}, []string{}, true},
		{"ForAllValues all in", "ForAllValues:StringEquals", []string{"env", "team"}, []string{"team", "env"}, true},
		{"ForAllValues one out", "ForAllValues:StringEquals", []string{"env", "team"}, []string{"env", "owner"}, false},
		{"ForAnyValue absent", "ForAnyValue:StringEquals", []string{"env"}, absent, false},
		{"ForAnyValue one in", "ForAnyValue:StringEquals", []string{"env"}, []string{"owner", "env"}, true},
		{"ForAnyValue none in", "ForAnyValue:StringEquals", []string{"env"}, []string{"owner"}, false},
		{"ForAllValues NotEquals clean", "ForAllValues:StringNotEquals", []string{"secret"}, []string{"env", "team"}, true},
		{"ForAllValues NotEquals dirty", "ForAllValues:StringNotEquals", []string{"secret"}, []string{"env", "secret"}, false},
		{"ForAnyValue NotEquals one other", "ForAnyValue:StringNotEquals", []string{"secret"}, []string{"secret", "env"}, true},
		{"ForAnyValue NotEquals only listed", "ForAnyValue:StringNotEquals", []string{"secret"}, []string{"secret"}, false},
		{"ForAnyValue NotEquals absent", "ForAnyValue:StringNotEquals", []string{"secret"}, absent, false},
		{"ForAnyValue IfExists absent", "ForAnyValue:StringLikeIfExists", []string{"e*"}, absent, true},
		{"ForAllValues Like", "ForAllValues:StringLike", []string{"team-*"}, []string{"team-a", "team-b"}, true},
		{"ForAllValues ArnEquals", "ForAllValues:ArnEquals", []string{"arn:aws:iam::*:role/x"}, []string{"arn:aws:iam::1:role/x", "arn:aws:iam::2:role/y"}, false},
	})
}

func TestNumeric(t *testing.T) {
	runOpCases(t, []opCase{
		{"equals", "NumericEquals", one("10"), one("10"), true},
		{"equals decimal", "NumericEquals", one("10"), one("10.0"), true},
		{"not equals", "NumericNotEquals", one("10"), one("11"), true},
		{"not equals absent", "NumericNotEquals", one("10"), absent, true},
		{"less", "NumericLessThan", one("3600"), one("120"), true},
		{"less equal boundary", "NumericLessThan", one("3600"), one("3600"), false},
		{"less equals boundary", "NumericLessThanEquals", one("3600"), one("3600"), true},
		{"greater", "NumericGreaterThan", one("5"), one("5.5"), true},
		{"greater equals", "NumericGreaterThanEquals", one("5"), one("4"), false},
		{"negative", "NumericLessThan", one("0"), one("-1"), true},
		{"absent", "NumericLessThan", one("3600"), absent, false},
		{"IfExists absent", "NumericLessThanIfExists", one("3600"), absent, true},
		{"request not a number", "NumericLessThan", one("3600"), one("abc"), false},
		{"request not a number negated", "NumericNotEquals", one("3600"), one("abc"), true},
		{"any of several values", "NumericEquals", []string{"1", "2"}, one("2"), true},
	})
}

func TestDate(t *testing.T) {
	runOpCases(t, []opCase{
		{"less", "DateLessThan", one("2030-01-01T00:00:00Z"), one("2029-12-31T23:59:59Z"), true},
		{"less strict", "DateLessThan", one("2030-01-01T00:00:00Z"), one("2030-01-01T00:00:00Z"), false},
		{"less equals", "DateLessThanEquals", one("2030-01-01T00:00:00Z"), one("2030-01-01T00:00:00Z"), true},
		{"greater", "DateGreaterThan", one("2020-01-01"), one("2020-01-01T00:00:01Z"), true},
		{"greater equals", "DateGreaterThanEquals", one("2020-01-01T00:00:00Z"), one("2019-12-31T23:59:59Z"), false},
		{"equals offset", "DateEquals", one("2030-01-01T01:00:00+01:00"), one("2030-01-01T00:00:00Z"), true},
		{"not equals", "DateNotEquals", one("2030-01-01T00:00:00Z"), one("2030-01-01T00:00:01Z"), true},
		{"epoch request", "DateLessThan", one("2030-01-01T00:00:00Z"), one("1893455999"), true},
		{"epoch policy", "DateGreaterThanEquals", one("1893456000"), one("2030-01-01T00:00:00Z"), true},
		{"fractional seconds", "DateLessThan", one("2030-01-01T00:00:00Z"), one("2029-12-31T23:59:59.999Z"), true},
		{"absent", "DateLessThan", one("2030-01-01T00:00:00Z"), absent, false},
		{"bad request value", "DateLessThan", one("2030-01-01T00:00:00Z"), one("yesterday"), false},
	})
}

func TestBool(t *testing.T) {
	runOpCases(t, []opCase{
		{"true", "Bool", one("true"), one("true"), true},
		{"case-insensitive", "Bool", one("TRUE"), one("True"), true},
		{"mismatch", "Bool", one("false"), one("true"), false},
		{"absent", "Bool", one("false"), absent, false},
		{"IfExists absent", "BoolIfExists", one("false"), absent, true},
		{"IfExists present", "BoolIfExists", one("false"), one("true"), false},
		{"request not bool", "Bool", one("true"), one("yes"), false},
	})
}

func TestBinary(t *testing.T) {
	runOpCases(t, []opCase{
		{"equal", "BinaryEquals", one("QmluYXJ5VmFsdWU="), one("QmluYXJ5VmFsdWU="), true},
		{"different", "BinaryEquals", one("QmluYXJ5VmFsdWU="), one("T3RoZXI="), false},
		{"request not base64", "BinaryEquals", one("QmluYXJ5VmFsdWU="), one("!!"), false},
		{"absent", "BinaryEquals", one("QmluYXJ5VmFsdWU="), absent, false},
	})
}

func TestIP(t *testing.T) {
	runOpCases(t, []opCase{
		{"in v4 range", "IpAddress", one("10.0.0.0/8"), one("10.20.30.40"), true},
		{"out of v4 range", "IpAddress", one("10.0.0.0/8"), one("192.0.2.1"), false},
		{"v6 address v4 range", "IpAddress", one("10.0.0.0/8"), one("2001:db8::1"), false},
		{"v4-mapped v6 v4 range", "IpAddress", one("10.0.0.0/8"), one("::ffff:10.0.0.1"), false},
		{"v6 range", "IpAddress", one("2001:db8::/32"), one("2001:db8:1::5"), true},
		{"v4 address v6 range", "IpAddress", one("::/0"), one("10.0.0.1"), false},
		{"bare address is /32", "IpAddress", one("192.0.2.7"), one("192.0.2.7"), true},
		{"bare address is /32 miss", "IpAddress", one("192.0.2.7"), one("192.0.2.8"), false},
		{"unmasked CIDR", "IpAddress", one("10.1.2.3/8"), one("10.9.9.9"), true},
		{"not in", "NotIpAddress", one("10.0.0.0/8"), one("192.0.2.1"), true},
		{"not in hit", "NotIpAddress", []string{"192.0.2.0/24", "10.0.0.0/8"}, one("10.0.0.1"), false},
		{"not in absent", "NotIpAddress", one("10.0.0.0/8"), absent, true},
		{"bad request", "IpAddress", one("10.0.0.0/8"), one("not-an-ip"), false},
	})
}

func TestARN(t *testing.T) {
	role := "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123"
	runOpCases(t, []opCase{
		{"like", "ArnLike", one("arn:aws:iam::*:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_*"), one(role), true},
		{"equals globs too", "ArnEquals", one("arn:aws:iam::111122223333:role/*"), one(role), true},
		{"case-sensitive", "ArnLike", one("arn:aws:iam::111122223333:ROLE/*"), one(role), false},
		{"star does not cross colon in account", "ArnLike", one("arn:aws:*:role/*"), one(role), false},
		{"trailing star crosses colons", "ArnLike", one("arn:aws:iam::*"), one(role), true},
		{"not like", "ArnNotLike", one("arn:aws:iam::*:user/*"), one(role), true},
		{"not equals hit", "ArnNotEquals", one("arn:aws:iam::111122223333:role/*"), one(role), false},
		{"not like absent", "ArnNotLike", one("arn:aws:iam::*:user/*"), absent, true},
		{"like absent", "ArnLike", one("arn:aws:iam::*"), absent, false},
		{"IfExists absent", "ArnLikeIfExists", one("arn:aws:iam::*"), absent, true},
	})
}

func TestNull(t *testing.T) {
	runOpCases(t, []opCase{
		{"true absent", "Null", one("true"), absent, true},
		{"true present", "Null", one("true"), one("x"), false},
		{"false present", "Null", one("false"), one("x"), true},
		{"false absent", "Null", one("false"), absent, false},
		{"true empty set", "Null", one("true"), []string{}, true},
	})
}

func TestVariablesInValues(t *testing.T) {
	tests := []struct {
		name  string
		op    string
		value string
		ctx   map[string]string
		req   string
		want  bool
	}{
		{"equals variable", "StringEquals", "${aws:username}", map[string]string{"aws:username": "alice"}, "alice", true},
		{"variable key case-insensitive", "StringEquals", "${AWS:UserName}", map[string]string{"aws:username": "alice"}, "alice", true},
		{"like prefix variable", "StringLike", "home/${aws:username}/*", map[string]string{"aws:username": "alice"}, "home/alice/x", true},
		{"substituted star literal", "StringLike", "home/${aws:PrincipalTag/x}/*", map[string]string{"aws:principaltag/x": "*"}, "home/bob/x", false},
		{"substituted star matches itself", "StringLike", "home/${aws:PrincipalTag/x}/*", map[string]string{"aws:principaltag/x": "*"}, "home/*/x", true},
		{"default", "StringEquals", "${aws:username, 'nobody'}", nil, "nobody", true},
		{"default with quote", "StringEquals", "${aws:username, 'o''brien'}", nil, "o'brien", true},
		{"default ignored when present", "StringEquals", "${aws:username, 'nobody'}", map[string]string{"aws:username": "alice"}, "nobody", false},
		{"arn variable", "ArnLike", "arn:aws:iam::${aws:PrincipalAccount}:role/*", map[string]string{"aws:principalaccount": "111122223333"}, "arn:aws:iam::111122223333:role/x", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			op, err := condition.ParseOperator(tc.op, true)
			if err != nil {
				t.Fatal(err)
			}
			c, err := condition.Compile(op, "k", []string{tc.value}, condition.Options{Vars: true})
			if err != nil {
				t.Fatal(err)
			}
			var ctx condition.Context
			for k, v := range tc.ctx {
				ctx.Set(k, v)
			}
			ctx.Set("k", tc.req)
			if got := c.Eval(&ctx); got != tc.want {
				t.Errorf("Eval = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParseOperator(t *testing.T) {
	tests := []struct {
		name    string
		op      string
		exact   bool
		wantErr bool
		qual    condition.Qualifier
		ifEx    bool
		family  condition.Family
		negated bool
	}{
		{"plain", "StringEquals", true, false, condition.Single, false, condition.FamilyString, false},
		{"full", "ForAnyValue:StringNotLikeIfExists", true, false, condition.ForAnyValue, true, condition.FamilyString, true},
		{"for all arn", "ForAllValues:ArnEquals", true, false, condition.ForAllValues, false, condition.FamilyARN, false},
		{"not ip", "NotIpAddress", true, false, condition.Single, false, condition.FamilyIP, true},
		{"typo", "StringEqualz", true, true, 0, false, 0, false},
		{"Null has no IfExists", "NullIfExists", true, true, 0, false, 0, false},
		{"lower case rejected when exact", "stringequals", true, true, 0, false, 0, false},
		{"lower case accepted when lenient", "stringequals", false, false, condition.Single, false, condition.FamilyString, false},
		{"bare IfExists", "IfExists", true, true, 0, false, 0, false},
		{"qualifier only", "ForAllValues:", true, true, 0, false, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			op, err := condition.ParseOperator(tc.op, tc.exact)
			if tc.wantErr {
				if !errors.Is(err, condition.ErrUnknownOperator) {
					t.Fatalf("ParseOperator(%q) error = %v, want ErrUnknownOperator", tc.op, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseOperator(%q): %v", tc.op, err)
			}
			if op.Qualifier != tc.qual || op.IfExists != tc.ifEx || op.Family != tc.family || op.Negated != tc.negated {
				t.Errorf("ParseOperator(%q) = %+v", tc.op, op)
			}
		})
	}
}

func TestStrictLiterals(t *testing.T) {
	tests := []struct {
		op, value string
	}{
		{"NumericEquals", "ten"},
		{"NumericLessThan", "1e3"},
		{"DateLessThan", "next tuesday"},
		{"Bool", "yes"},
		{"BinaryEquals", "not base64!"},
		{"IpAddress", "10.0.0.0/33"},
		{"NotIpAddress", "10.0.0"},
		{"Null", "maybe"},
	}
	for _, tc := range tests {
		t.Run(tc.op+" "+tc.value, func(t *testing.T) {
			op, err := condition.ParseOperator(tc.op, true)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := condition.Compile(op, "k", []string{tc.value}, condition.Options{Strict: true}); !errors.Is(err, condition.ErrBadValue) {
				t.Errorf("strict Compile error = %v, want ErrBadValue", err)
			}
			c, err := condition.Compile(op, "k", []string{tc.value}, condition.Options{})
			if err != nil {
				t.Fatalf("lenient Compile: %v", err)
			}
			var ctx condition.Context
			ctx.Set("k", tc.value)
			if op.Negated {
				return
			}
			if c.Eval(&ctx) {
				t.Errorf("an unparseable literal matched")
			}
		})
	}
}
