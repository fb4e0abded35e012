package ldap

import "testing"

// TestUniqueID: objectGUID in the byte order .NET's Guid.ToByteArray and
// AD use (MS-DTYP §2.3.4.2: Data1..Data3 little-endian), text IDs as they
// are, other binary values in hex.
func TestUniqueID(t *testing.T) {
	guid := []byte{0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}
	for _, c := range []struct {
		attr string
		raw  []byte
		want string
	}{
		{"objectGUID", guid, "00112233-4455-6677-8899-aabbccddeeff"},
		{"objectguid", guid, "00112233-4455-6677-8899-aabbccddeeff"},
		{"entryUUID", []byte("5f0c8d1e-9a8b-4c7d-8e6f-102132435465"), "5f0c8d1e-9a8b-4c7d-8e6f-102132435465"},
		{"nsUniqueId", []byte{0x00, 0x01, 0xfe}, "0001fe"},
		{"objectGUID", nil, ""},
	} {
		if got := uniqueID(c.attr, c.raw); got != c.want {
			t.Errorf("uniqueID(%s, %x) = %q, want %q", c.attr, c.raw, got, c.want)
		}
	}
}

// TestDisabledTest covers each form of the disabledWhen setting.
func TestDisabledTest(t *testing.T) {
	for _, c := range []struct {
		when   string
		values []string
		want   bool
	}{
		{"flag:0x2", []string{"514"}, true},
		{"flag:0x2", []string{"512"}, false},
		{"flag:2", []string{"66050"}, true},
		{"flag:0x2", []string{"not a number"}, false},
		{"flag:0x2", nil, false},
		{"equals:disabled", []string{"staff", "Disabled"}, true},
		{"equals:disabled", []string{"staff"}, false},
		{"present", []string{"20261201000000Z"}, true},
		{"present", nil, false},
		{"none", []string{"514"}, false},
	} {
		d, err := parseDisabled(c.when)
		if err != nil {
			t.Fatalf("parseDisabled(%q): %v", c.when, err)
		}
		if got := d.test(c.values); got != c.want {
			t.Errorf("%s on %q = %v, want %v", c.when, c.values, got, c.want)
		}
	}
	for _, bad := range []string{"flag:", "flag:-1", "equals:", "present:x", "bit:2", ""} {
		if _, err := parseDisabled(bad); err == nil {
			t.Errorf("parseDisabled(%q) accepted", bad)
		}
	}
}
