package arn

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestGeneratorFormats(t *testing.T) {
	g := Generator{Rand: rand.Reader}
	for i := 0; i < 200; i++ {
		checks := []struct {
			name, value, pattern string
		}{
			{"instance", g.InstanceID(), `^ssoins-[0-9a-f]{16}$`},
			{"identity store", g.IdentityStoreID(), `^d-[0-9a-f]{10}$`},
			{"permission set", g.PermissionSetID(), `^ps-[0-9a-f]{16}$`},
			{"uuid", g.UUID(), `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`},
			{"principal", g.PrincipalID("d-1234567890"), `^1234567890-[0-9a-f-]{36}$`},
			{"role suffix", g.RoleSuffix(), `^[0-9a-f]{16}$`},
			{"role id", g.RoleID(), `^AROA[A-Z0-9]{17}$`},
			{"access key", g.TemporaryAccessKeyID(), `^ASIA[A-Z2-7]{16}$`},
			{"secret", g.SecretAccessKey(), `^[A-Za-z0-9+/]{40}$`},
			{"account", g.AccountID(), `^[1-9][0-9]{11}$`},
		}
		for _, c := range checks {
			if !regexp.MustCompile(c.pattern).MatchString(c.value) {
				t.Fatalf("%s %q does not match %s", c.name, c.value, c.pattern)
			}
		}
		if p := g.PrincipalID("d-1234567890"); !ValidPrincipalID(p) {
			t.Fatalf("ValidPrincipalID(%q) = false", p)
		}
	}
}

func TestGeneratorDeterministic(t *testing.T) {
	a := Generator{Rand: bytes.NewReader(bytes.Repeat([]byte{7}, 64))}
	b := Generator{Rand: bytes.NewReader(bytes.Repeat([]byte{7}, 64))}
	if x, y := a.PermissionSetID(), b.PermissionSetID(); x != y {
		t.Fatalf("same random stream gave %q and %q", x, y)
	}
}

func TestARNs(t *testing.T) {
	ins := InstanceARN("ssoins-7223a1b2c3d4e5f6")
	if ins != "arn:aws:sso:::instance/ssoins-7223a1b2c3d4e5f6" {
		t.Fatalf("InstanceARN = %q", ins)
	}
	id, err := ParseInstanceARN(ins)
	if err != nil || id != "ssoins-7223a1b2c3d4e5f6" {
		t.Fatalf("ParseInstanceARN = %q, %v", id, err)
	}
	ps := PermissionSetARN("ssoins-7223a1b2c3d4e5f6", "ps-0f1e2d3c4b5a6978")
	i, p, err := ParsePermissionSetARN(ps)
	if err != nil || i != "ssoins-7223a1b2c3d4e5f6" || p != "ps-0f1e2d3c4b5a6978" {
		t.Fatalf("ParsePermissionSetARN = %q %q %v", i, p, err)
	}
	for _, bad := range []string{"", "arn:aws:sso:::instance/x", ps + "x", "arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6"} {
		if _, _, err := ParsePermissionSetARN(bad); err == nil {
			t.Errorf("ParsePermissionSetARN(%q) accepted", bad)
		}
	}
	role := RoleName("ReadOnly", "0123456789abcdef")
	if got, want := RoleARN("111122223333", "us-west-2", role), "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/us-west-2/AWSReservedSSO_ReadOnly_0123456789abcdef"; got != want {
		t.Errorf("RoleARN = %q, want %q", got, want)
	}
	if got, want := RoleARN("111122223333", "us-east-1", role), "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_ReadOnly_0123456789abcdef"; got != want {
		t.Errorf("RoleARN(us-east-1) = %q, want %q", got, want)
	}
	if got, want := AssumedRoleARN("111122223333", role, "alice@example.test"), "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_ReadOnly_0123456789abcdef/alice@example.test"; got != want {
		t.Errorf("AssumedRoleARN = %q, want %q", got, want)
	}
}

func TestSessionName(t *testing.T) {
	cases := map[string]string{
		"alice@example.test":    "alice@example.test",
		"ed.developer":          "ed.developer",
		"a":                     "a-",
		"José Ñ":                "Jos---",
		strings.Repeat("x", 80): strings.Repeat("x", 64),
	}
	for in, want := range cases {
		if got := SessionName(in); got != want {
			t.Errorf("SessionName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestParseARNFastPathMatchesPattern: the hand-written checks of the aws
// partition's instance and permission-set ARNs accept and return exactly
// what the regular expressions do, for valid ARNs and every one-character
// change, deletion and insertion of them.
func TestParseARNFastPathMatchesPattern(t *testing.T) {
	valid := []string{
		"arn:aws:sso:::instance/ssoins-7223a1b2c3d4e5f6",
		"arn:aws:sso:::instance/ins-7223a1b2c3d4e5f6",
		"arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-0f1e2d3c4b5a6978",
		"arn:aws:sso:::permissionSet/ins-a.b-c.d-e.f-g.h-/ps-a/b.c-d/e.f-g/h.",
		"arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-0f1e2d3c4b5a697/",
	}
	var inputs []string
	for _, v := range valid {
		inputs = append(inputs, v, v+"x", v[:len(v)-1])
		for i := range len(v) {
			inputs = append(inputs, v[:i]+v[i+1:])
			for _, c := range "a/Z9-.:_ \n" {
				inputs = append(inputs, v[:i]+string(c)+v[i+1:], v[:i]+string(c)+v[i:])
			}
		}
	}
	for _, in := range inputs {
		m := psARNRe.FindStringSubmatch(in)
		ins, ps, err := ParsePermissionSetARN(in)
		if (m != nil) != (err == nil) || (m != nil && (ins != m[2] || ps != m[4])) {
			t.Errorf("ParsePermissionSetARN(%q) = %q, %q, %v; pattern match %q", in, ins, ps, err, m)
		}
		m = instanceARNRe.FindStringSubmatch(in)
		id, err := ParseInstanceARN(in)
		if (m != nil) != (err == nil) || (m != nil && id != m[2]) {
			t.Errorf("ParseInstanceARN(%q) = %q, %v; pattern match %q", in, id, err, m)
		}
	}
}

// TestTimeUUID: event IDs are version 7 UUIDs that carry their
// millisecond and sort by it (RFC 9562 §5.7).
func TestTimeUUID(t *testing.T) {
	g := Generator{Rand: rand.Reader}
	at := time.Date(2026, 12, 1, 1, 2, 3, 456_000_000, time.UTC)
	id := g.TimeUUID(at)
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(id) {
		t.Fatalf("TimeUUID = %q, not a version 7 UUID", id)
	}
	if want := fmt.Sprintf("%012x", at.UnixMilli()); strings.ReplaceAll(id, "-", "")[:12] != want {
		t.Fatalf("TimeUUID = %q, want it to start with the milliseconds %s", id, want)
	}
	prev := g.TimeUUID(at)
	for i := 1; i < 100; i++ {
		next := g.TimeUUID(at.Add(time.Duration(i) * time.Millisecond))
		if next <= prev {
			t.Fatalf("TimeUUID %q of a later millisecond sorts before %q", next, prev)
		}
		prev = next
	}
}
