package condition_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse/internal/policy/condition"
)

func TestMatchGlob(t *testing.T) {
	tests := []struct {
		name, pattern, s string
		want             bool
	}{
		{"exact", "abc", "abc", true},
		{"exact miss", "abc", "abd", false},
		{"star all", "*", "", true},
		{"star empty run", "a*b", "ab", true},
		{"star run", "a*b", "axxxb", true},
		{"star backtracks", "a*b*c", "abxbyc", true},
		{"star must reach end", "a*b", "abc", false},
		{"question one", "a?c", "abc", true},
		{"question not zero", "a?c", "ac", false},
		{"question not two", "a?c", "abbc", false},
		{"case-sensitive", "ABC", "abc", false},
		{"whole string", "ab", "abc", false},
		{"star crosses colon and slash", "a*z", "a:/b:z", true},
		{"empty pattern", "", "", true},
		{"empty pattern miss", "", "a", false},
		{"question is one character", "?", "é", true},
		{"question is not two characters", "?", "éé", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := condition.MatchGlob(tc.pattern, tc.s); got != tc.want {
				t.Errorf("MatchGlob(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
			}
		})
	}
}

func TestMatchGlobFold(t *testing.T) {
	tests := []struct {
		name, pattern, s string
		want             bool
	}{
		{"action case", "SSO:describe*", "sso:DescribePermissionSet", true},
		{"action upper input", "s3:getobject", "S3:GETOBJECT", true},
		{"miss", "sso:Describe*", "sso:ListInstances", false},
		{"question", "s3:Get?bject", "s3:getObject", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := condition.MatchGlobFold(tc.pattern, tc.s); got != tc.want {
				t.Errorf("MatchGlobFold(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
			}
		})
	}
}

func TestMatchARN(t *testing.T) {
	tests := []struct {
		name, pattern, arn string
		want               bool
	}{
		{"exact", "arn:aws:s3:::b/k", "arn:aws:s3:::b/k", true},
		{"resource star crosses slash", "arn:aws:s3:::b/*", "arn:aws:s3:::b/x/y/z", true},
		{"resource case-sensitive", "arn:aws:s3:::b/*", "arn:aws:s3:::B/k", false},
		{"trailing star in account crosses colons", "arn:aws:iam::*", "arn:aws:iam::111122223333:role/x", true},
		{"trailing star in region", "arn:aws:logs:*", "arn:aws:logs:us-east-1:111122223333:log-group:x", true},
		{"star in account stays in segment", "arn:aws:iam::*:role/x", "arn:aws:iam::111122223333:role/x", true},
		{"star in account cannot cross", "arn:aws:iam::*role/x", "arn:aws:iam::111122223333:role/x", false},
		{"question is one char", "arn:aws:iam::*:role/?", "arn:aws:iam::111122223333:role/ab", false},
		{"question exact", "arn:aws:iam::*:role/??", "arn:aws:iam::111122223333:role/ab", true},
		{"question does not match colon", "arn:aws:iam:?111122223333:role/x", "arn:aws:iam::111122223333:role/x", false},
		{"resource segment has colons", "arn:aws:logs:*:*:log-group:*", "arn:aws:logs:us-east-1:1:log-group:g:log-stream:s", true},
		{"resource segment colon literal", "arn:aws:logs:*:*:log-group:g", "arn:aws:logs:us-east-1:1:log-group:g:log-stream:s", false},
		{"short ARN request", "arn:aws:s3:::b/*", "arn:aws:s3", false},
		{"empty region segment", "arn:aws:sso:::permissionSet/*", "arn:aws:sso:::permissionSet/ssoins-1/ps-1", true},
		{"region must match", "arn:aws:sso:us-east-1::instance/*", "arn:aws:sso:::instance/ssoins-1", false},
		{"partition star", "arn:*:iam::*:role/x", "arn:aws-cn:iam::1:role/x", true},
		{"non-ARN pattern is a plain glob", "foo*", "foo:bar", true},
		{"star matches anything", "*", "arn:aws:iam::1:role/x", true},
		{"four-segment pattern without star", "arn:aws:iam::111122223333", "arn:aws:iam::111122223333:role/x", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := condition.MatchARN(tc.pattern, tc.arn); got != tc.want {
				t.Errorf("MatchARN(%q, %q) = %v, want %v", tc.pattern, tc.arn, got, tc.want)
			}
		})
	}
}

func TestContext(t *testing.T) {
	var c condition.Context
	c.Set("AWS:PrincipalTag/Team", "red")
	c.Set("aws:TagKeys", "env", "team")
	c.Add("aws:CalledVia", "a")
	c.Add("AWS:CALLEDVIA", "b")
	c.Add("aws:CalledVia", "c")
	c.Set("aws:Empty")

	type got struct {
		Team     string
		TeamOK   bool
		Tags     []string
		Called   []string
		EmptyHas bool
		GetMulti bool
		Keys     []string
	}
	team, teamOK := c.Get("aws:principaltag/team")
	tags, _ := c.Values("AWS:TAGKEYS")
	called, _ := c.Values("aws:calledvia")
	_, multi := c.Get("aws:TagKeys")
	g := got{team, teamOK, tags, called, c.Has("aws:empty"), multi, c.Keys()}
	want := got{
		Team: "red", TeamOK: true,
		Tags:     []string{"env", "team"},
		Called:   []string{"a", "b", "c"},
		EmptyHas: false,
		GetMulti: false,
		Keys:     []string{"aws:principaltag/team", "aws:tagkeys", "aws:calledvia", "aws:empty"},
	}
	if diff := cmp.Diff(want, g); diff != "" {
		t.Errorf("context mismatch (-want +got):\n%s", diff)
	}
	c.Set("aws:principaltag/team", "blue")
	if v, _ := c.Get("aws:PrincipalTag/Team"); v != "blue" {
		t.Errorf("after Set, Get = %q, want blue", v)
	}
	c.Delete("AWS:TagKeys")
	if c.Has("aws:tagkeys") || c.Len() != 3 {
		t.Errorf("Delete left the key (len %d)", c.Len())
	}
	c.Reset()
	if c.Len() != 0 {
		t.Errorf("Reset left %d keys", c.Len())
	}
}
