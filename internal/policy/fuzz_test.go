package policy_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse/internal/policy"
	"github.com/gatehouse-dev/gatehouse/internal/policy/condition"
)

// FuzzParse checks that parsing never panics, that an accepted document
// survives MarshalJSON and re-parsing unchanged, that whatever ParseStrict
// accepts Parse accepts identically and compiles, and that evaluating a
// compiled document does not panic.
func FuzzParse(f *testing.F) {
	seeds := []string{
		doc(allowAll),
		`{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}`,
		doc(`{"Sid":"A1","Effect":"Deny","NotAction":["iam:*","sts:*"],"NotResource":"arn:aws:iam::*:role/x"}`),
		doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForAllValues:StringLike":{"aws:TagKeys":["env","team-*"]},"Bool":{"aws:SecureTransport":true},"NumericLessThan":{"aws:MultiFactorAuthAge":3600}}}`),
		doc(`{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::home/${aws:username, 'o''x'}/${*}"}`),
		doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:db8::/32"]},"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}}`),
		doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Null":{"aws:PrincipalTag/team":"true"},"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/*"}}}`),
		`{"Version":"2008-10-17","Id":"x","Statement":[{"Effect":"Allow","Action":[],"Resource":[]}]}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`,
		`{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqualz":{"a":"b"}}}]}`,
		`{"Statement":[`,
		`[]`,
		`{"Statement":[{"Effect":"Allow","Effect":"Deny","Action":"a:b","Resource":"*","Condition":{"StringEquals":{"k":"1","k":"2"}}}]}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := policy.Parse(data)
		if err != nil {
			if _, ok := errors.AsType[*policy.Error](err); !ok {
				t.Fatalf("Parse error %v is a %T, not *policy.Error", err, err)
			}
			if _, serr := policy.ParseStrict(data); serr == nil {
				t.Fatalf("ParseStrict accepted what Parse rejected: %v", err)
			}
			return
		}
		out, err := d.MarshalJSON()
		if err != nil {
			t.Fatalf("MarshalJSON: %v", err)
		}
		d2, err := policy.Parse(out)
		if err != nil {
			t.Fatalf("re-Parse of %s: %v", out, err)
		}
		if diff := cmp.Diff(d, d2); diff != "" {
			t.Fatalf("round trip mismatch (-first +second):\n%s", diff)
		}
		if sd, err := policy.ParseStrict(data); err == nil {
			if diff := cmp.Diff(d, sd); diff != "" {
				t.Fatalf("Parse and ParseStrict disagree (-lenient +strict):\n%s", diff)
			}
			if _, err := policy.Compile(sd); err != nil {
				t.Fatalf("Compile of a strictly valid document: %v", err)
			}
		}
		p, err := policy.Compile(d)
		if err != nil {
			if _, ok := errors.AsType[*policy.Error](err); !ok {
				t.Fatalf("Compile error %v is a %T, not *policy.Error", err, err)
			}
			return
		}
		set := policy.Set{Identity: []*policy.Policy{p}}
		req := &policy.Request{Action: "s3:GetObject", Resources: []string{"arn:aws:s3:::home/alice/x", "*"}}
		req.Context.Set("aws:username", "alice")
		req.Context.Set("aws:TagKeys", "env", "team")
		req.Context.Set("aws:CurrentTime", "2029-01-01T00:00:00Z")
		res := set.Evaluate(req)
		if dec := set.Decide(req); dec != res.Decision {
			t.Fatalf("Decide = %v but Evaluate = %v", dec, res.Decision)
		}
	})
}

// globRegexp is an independent reference for IAM globs.
func globRegexp(p string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`^(?s:`)
	for _, r := range p {
		switch r {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString(`)$`)
	return regexp.MustCompile(b.String())
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// FuzzMatch checks the glob and ARN matchers against a regular-expression
// reference and against each other.
func FuzzMatch(f *testing.F) {
	seeds := [][2]string{
		{"arn:aws:s3:::b/*", "arn:aws:s3:::b/k"},
		{"arn:aws:iam::*", "arn:aws:iam::111122223333:role/x"},
		{"arn:aws:iam::*:role/?", "arn:aws:iam::111122223333:role/ab"},
		{"a*b*c", "abxbyc"},
		{"SSO:describe*", "sso:DescribePermissionSet"},
		{"arn:aws:logs:*:*:log-group:*", "arn:aws:logs:us-east-1:1:log-group:g:log-stream:s"},
		{"?", "é"},
		{"*:*", "a:b:c"},
		{"arn:*", "arn:"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, s string) {
		if len(pattern) > 256 || len(s) > 256 {
			return
		}
		if strings.ContainsAny(pattern, "\x00\x01\x7f") || !validUTF8(pattern) || !validUTF8(s) {
			return // not IAM policy text
		}
		glob := condition.MatchGlob(pattern, s)
		if want := globRegexp(pattern).MatchString(s); glob != want {
			t.Fatalf("MatchGlob(%q, %q) = %v, reference says %v", pattern, s, glob, want)
		}
		if fold, want := condition.MatchGlobFold(pattern, s), condition.MatchGlob(lowerASCII(pattern), lowerASCII(s)); fold != want {
			t.Fatalf("MatchGlobFold(%q, %q) = %v, want %v", pattern, s, fold, want)
		}
		arn := condition.MatchARN(pattern, s)
		if arn && !glob {
			t.Fatalf("MatchARN(%q, %q) matched but the plain glob does not", pattern, s)
		}
		if !strings.HasPrefix(pattern, "arn:") && arn != glob {
			t.Fatalf("MatchARN(%q, %q) = %v differs from MatchGlob for a non-ARN pattern", pattern, s, arn)
		}
		if !strings.ContainsAny(pattern, "*?") {
			if glob != (pattern == s) || arn != (pattern == s) {
				t.Fatalf("literal pattern %q vs %q: glob %v arn %v", pattern, s, glob, arn)
			}
		}
		if !condition.MatchGlob(pattern+"*", s+"tail") && glob {
			t.Fatalf("adding a trailing * lost the match of %q on %q", pattern, s)
		}
	})
}

func validUTF8(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }
