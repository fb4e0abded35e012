package policy_test

import (
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/policy"
	"github.com/gatehouse-dev/gatehouse/internal/policy/managed"
)

// TestDecideDoesNotAllocate pins the promise that compiled policies decide
// without allocating.
func TestDecideDoesNotAllocate(t *testing.T) {
	var c managed.Cache
	ro, err := c.Policy(readOnlyARN)
	if err != nil {
		t.Fatal(err)
	}
	conds := mustCompile(t, "conds", doc(
		`{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::home/${aws:PrincipalTag/team}/*","Condition":{"StringLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/${aws:PrincipalTag/team}-*"}}}`,
		`{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"},"NumericGreaterThan":{"aws:MultiFactorAuthAge":"3600"}}}`,
		`{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"aws:TagKeys":"secret"},"BinaryEquals":{"test:Bin":"QUJD"}}}`,
	))
	tests := []struct {
		name string
		set  policy.Set
		req  policy.Request
	}{
		{"ReadOnlyAccess allowed", policy.Set{Identity: []*policy.Policy{ro}}, policy.Request{Action: "s3:GetObject", Resources: []string{"arn:aws:s3:::b/k"}}},
		{"ReadOnlyAccess denied", policy.Set{Identity: []*policy.Policy{ro}}, policy.Request{Action: "s3:PutObject"}},
		{"variables and conditions", policy.Set{Identity: []*policy.Policy{conds}, Boundary: []*policy.Policy{ro}}, policy.Request{Action: "s3:GetObject", Resources: []string{"arn:aws:s3:::home/red/x", "arn:aws:s3:::home/red/y"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			requestContext(&tc.req.Context)
			tc.req.Context.Set("aws:TagKeys", "env", "team")
			tc.req.Context.Set("test:bin", "QUJD")
			if n := testing.AllocsPerRun(100, func() { tc.set.Decide(&tc.req) }); n != 0 {
				t.Errorf("Decide allocates %v times per run", n)
			}
		})
	}
}
