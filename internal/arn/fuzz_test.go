package arn

import "testing"

// FuzzParseARNs checks that the ARN parsers never panic and that what they
// accept formats back to an ARN that parses to the same IDs.
func FuzzParseARNs(f *testing.F) {
	for _, s := range []string{
		"arn:aws:sso:::instance/ssoins-7223a1b2c3d4e5f6",
		"arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-0f1e2d3c4b5a6978",
		"arn:aws-us-gov:sso:::permissionSet/ins-abcdefghijklmnop/ps-a/b.c-d/efghijklm",
		"arn:aws:sso:::instance/", "", "arn:aws:iam::111122223333:role/x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ins, err := ParseInstanceARN(s); err == nil {
			if again, err := ParseInstanceARN(InstanceARN(ins)); err != nil || again != ins {
				t.Fatalf("instance %q: formatted %q parses to %q, %v", s, InstanceARN(ins), again, err)
			}
		}
		if ins, ps, err := ParsePermissionSetARN(s); err == nil {
			i2, p2, err := ParsePermissionSetARN(PermissionSetARN(ins, ps))
			if err != nil || i2 != ins || p2 != ps {
				t.Fatalf("permission set %q: round trip gave %q %q, %v", s, i2, p2, err)
			}
		}
		if n := SessionName(s); len(n) < 2 || len(n) > 64 {
			t.Fatalf("SessionName(%q) = %q: length %d", s, n, len(n))
		}
	})
}
