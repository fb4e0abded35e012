package authz_test

import (
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/accesscache"
	"github.com/gatehouse-dev/gatehouse/internal/authz"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
)

// BenchmarkAuthorize measures an allowed Authorize call in steady state:
// the permission set comes from the access cache and the effective policy
// is already compiled.
func BenchmarkAuthorize(b *testing.B) {
	cases := []struct {
		name, managedARN, action, resource string
	}{
		{"AdministratorAccess", adminARN, "sso:CreatePermissionSet", "arn:aws:sso:::instance/ssoins-7223a1b2c3d4e5f6"},
		{"ReadOnlyAccess", readOnlyARN, "sso:DescribePermissionSet", "arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-0f1e2d3c4b5a6978"},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			f := newFixture(b)
			ps := f.permissionSet(b, bc.name, bc.managedARN)
			f.az.PermissionSets = accesscache.New(f.w.Store, time.Now)
			s := roleSession(ps, true)
			c := policy.NewContext(16)
			authz.BuildContext(c, s, "us-east-1", authz.Request{Time: f.clock.Now(), Secure: true, SourceIP: "192.0.2.1", UserAgent: "aws-cli/2.9.19", Region: "us-east-1"})
			ctx := b.Context()
			res := []string{bc.resource}
			if err := f.az.Authorize(ctx, s, bc.action, res, c); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := f.az.Authorize(ctx, s, bc.action, res, c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
