package policy_test

import (
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/policy"
	"github.com/gatehouse-dev/gatehouse/internal/policy/managed"
)

const readOnlyARN = "arn:aws:iam::aws:policy/ReadOnlyAccess"

func readOnlyDocument(b *testing.B) []byte {
	b.Helper()
	m, ok := managed.Lookup(readOnlyARN)
	if !ok {
		b.Fatalf("%s not embedded", readOnlyARN)
	}
	return m.Document
}

// requestContext fills a context the way the server does for a role session.
func requestContext(c *policy.Context) {
	c.Set("aws:CurrentTime", "2026-11-22T05:00:00Z")
	c.Set("aws:EpochTime", "1795410000")
	c.Set("aws:SecureTransport", "true")
	c.Set("aws:SourceIp", "10.20.30.40")
	c.Set("aws:UserAgent", "aws-cli/2.22.0")
	c.Set("aws:RequestedRegion", "eu-west-1")
	c.Set("aws:PrincipalArn", "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_0123456789abcdef")
	c.Set("aws:PrincipalAccount", "111122223333")
	c.Set("aws:PrincipalType", "AssumedRole")
	c.Set("aws:userid", "AROAEXAMPLEID:alice@example.com")
	c.Set("aws:PrincipalTag/team", "red")
	c.Set("aws:MultiFactorAuthPresent", "true")
	c.Set("aws:MultiFactorAuthAge", "120")
}

// BenchmarkEvaluateReadOnlyAccess evaluates one request against the
// compiled ReadOnlyAccess (about 2,900 actions in three statements).
func BenchmarkEvaluateReadOnlyAccess(b *testing.B) {
	p, err := policy.ParseCompile(readOnlyARN, readOnlyDocument(b))
	if err != nil {
		b.Fatal(err)
	}
	set := &policy.Set{Identity: []*policy.Policy{p}}
	cases := []struct {
		name, action string
		want         policy.Decision
	}{
		{"allowed glob", "s3:GetObject", policy.Allow},
		{"allowed exact", "ec2:DescribeInstances", policy.Allow},
		{"denied", "s3:PutObject", policy.ImplicitDeny},
	}
	for _, c := range cases {
		req := &policy.Request{Action: c.action, Resources: []string{"arn:aws:s3:::bucket/key"}}
		requestContext(&req.Context)
		if got := set.Decide(req); got != c.want {
			b.Fatalf("%s: Decide = %v, want %v", c.action, got, c.want)
		}
		b.Run("Decide/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				set.Decide(req)
			}
		})
		b.Run("Evaluate/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				set.Evaluate(req)
			}
		})
	}
}

// BenchmarkEvaluateTenStatements evaluates a 10-statement policy where
// every statement carries conditions.
func BenchmarkEvaluateTenStatements(b *testing.B) {
	src := doc(
		`{"Sid":"S0","Effect":"Allow","Action":["sso:Describe*","sso:List*"],"Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":["eu-west-1","us-east-1"]}}}`,
		`{"Sid":"S1","Effect":"Allow","Action":"sso:CreatePermissionSet","Resource":"arn:aws:sso:::instance/*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"red"}}}`,
		`{"Sid":"S2","Effect":"Allow","Action":"identitystore:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","192.168.0.0/16"]}}}`,
		`{"Sid":"S3","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::home/${aws:PrincipalTag/team}/*"}`,
		`{"Sid":"S4","Effect":"Allow","Action":"sso:TagResource","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["env","team"]}}}`,
		`{"Sid":"S5","Effect":"Allow","Action":"sso:*","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_Admin_*"},"NumericLessThan":{"aws:MultiFactorAuthAge":"3600"}}}`,
		`{"Sid":"D6","Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}`,
		`{"Sid":"D7","Effect":"Deny","Action":"sso:Delete*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}}`,
		`{"Sid":"D8","Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotEqualsIfExists":{"aws:PrincipalAccount":"111122223333"}}}`,
		`{"Sid":"D9","Effect":"Deny","NotAction":["sso:*","identitystore:*","s3:*","sts:*"],"Resource":"*","Condition":{"Null":{"aws:PrincipalTag/team":"false"}}}`,
	)
	p := mustCompile(b, "ten", src)
	set := &policy.Set{Identity: []*policy.Policy{p}}
	req := &policy.Request{Action: "sso:CreatePermissionSet", Resources: []string{"arn:aws:sso:::instance/ssoins-7223a1b2c3d4e5f6"}}
	requestContext(&req.Context)
	if got := set.Decide(req); got != policy.Allow {
		b.Fatalf("Decide = %v, want allowed", got)
	}
	b.Run("Decide", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			set.Decide(req)
		}
	})
	b.Run("Evaluate", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			set.Evaluate(req)
		}
	})
}

// BenchmarkParseCompileReadOnlyAccess parses and compiles ReadOnlyAccess.
func BenchmarkParseCompileReadOnlyAccess(b *testing.B) {
	data := readOnlyDocument(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := policy.ParseCompile(readOnlyARN, data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkContextFill measures building a request context per request,
// reusing its storage.
func BenchmarkContextFill(b *testing.B) {
	c := policy.NewContext(16)
	b.ReportAllocs()
	for b.Loop() {
		c.Reset()
		requestContext(c)
	}
}
