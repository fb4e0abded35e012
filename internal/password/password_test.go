package password

import (
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/fault"
)

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		in   Input
		want string // substring of the message; "" means accepted
	}{
		{"long passphrase alone", Input{Password: "violet tractor minus lantern"}, ""},
		{"8 with MFA", Input{Password: "Tq7#vLm2", MFARequired: true}, ""},
		{"8 without MFA", Input{Password: "Tq7#vLm2"}, "at least 15"},
		{"7 with MFA", Input{Password: "Tq7#vLm", MFARequired: true}, "at least 8"},
		{"no composition rules: lower case only", Input{Password: "velvetcarrotsnoring", MFARequired: true}, ""},
		{"unicode counts code points", Input{Password: "ñandú café über", MFARequired: false}, ""},
		{"emoji code points", Input{Password: "🐢🐢🐇🐇🐢🐇🐇🐢", MFARequired: true}, ""},
		{"256 allowed", Input{Password: strings.Repeat("horse battery ", 18) + "abcd", MFARequired: true}, ""},
		{"257 refused", Input{Password: strings.Repeat("x", 200) + strings.Repeat("horse bat", 7) + "y", MFARequired: true}, "at most 256"},
		{"control character", Input{Password: "tab\there and more words", MFARequired: true}, "control"},
		{"blocklisted", Input{Password: "password", MFARequired: true}, "too common"},
		{"blocklisted any case", Input{Password: "PassWord123", MFARequired: true}, "too common"},
		{"blocklisted with suffix", Input{Password: "iloveyou2026!!", MFARequired: true}, "too common"},
		{"blocklisted long", Input{Password: "correcthorsebatterystaple"}, "too common"},
		{"qwertyuiop", Input{Password: "qwertyuiop", MFARequired: true}, "too common"},
		{"repeated char", Input{Password: "zzzzzzzzzzz", MFARequired: true}, "repeated or sequential"},
		{"repeated unit", Input{Password: "xyzwxyzwxyzw", MFARequired: true}, "repeated or sequential"},
		{"sequential digits", Input{Password: "23456789", MFARequired: true}, "repeated or sequential"},
		{"sequential down", Input{Password: "98765432", MFARequired: true}, "too common"},
		{"sequential letters", Input{Password: "lmnopqrstu", MFARequired: true}, "repeated or sequential"},
		{"keyboard row", Input{Password: "sdfghjkl", MFARequired: true}, "repeated or sequential"},
		{"service name", Input{Password: "Gatehouse2026!", MFARequired: true}, "name of this service"},
		{"user name", Input{Password: "JaneDoe-01", UserName: "janedoe", MFARequired: true}, "user name"},
		{"user name exactly", Input{Password: "bartholomew", UserName: "Bartholomew", MFARequired: true}, "user name"},
		{"user name inside a long passphrase is fine", Input{Password: "jane walks eleven dogs at dawn", UserName: "jane"}, ""},
		{"email", Input{Password: "jane.doe@example.com", Email: "Jane.Doe@example.com", MFARequired: true}, "e-mail"},
		{"family name with digits", Input{Password: "Doe2026!!", Names: []string{"Jane", "Doe", "Jane Doe"}, MFARequired: true}, "your name"},
		{"given and family name", Input{Password: "JaneDoe!", Names: []string{"Jane", "Doe", "Jane Doe"}, MFARequired: true}, "your name"},
		{"given name with digits", Input{Password: "Jane2026!", Names: []string{"Jane", "Doe", "Jane Doe"}, MFARequired: true}, "your name"},
		{"name in a long passphrase is fine", Input{Password: "jane walks eleven dogs at dawn", Names: []string{"Jane", "Doe"}}, ""},
		{"short name parts are not checked", Input{Password: "Li#river-stone", Names: []string{"Li", "Wu"}, MFARequired: true}, ""},
		{"email local part", Input{Password: "jane.doe#2026", Email: "jane.doe@example.com", MFARequired: true}, "e-mail"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Check(tc.in)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Check refused a good password: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Check accepted %q, want an error mentioning %q", tc.in.Password, tc.want)
			}
			fe, ok := errors.AsType[*fault.Error](err)
			if !ok || fe.Kind != fault.Validation {
				t.Fatalf("error %v is not a validation fault", err)
			}
			if !strings.Contains(fe.Message, tc.want) {
				t.Fatalf("message %q does not mention %q", fe.Message, tc.want)
			}
		})
	}
}

// TestBlocklistShipped checks the embedded list is there and large.
func TestBlocklistShipped(t *testing.T) {
	if len(blocklist) < 500 {
		t.Fatalf("blocklist has %d entries, want several hundred", len(blocklist))
	}
	for _, pw := range []string{"123456", "qwerty123", "p@ssw0rd", "letmein", "1q2w3e4r", "iloveyou"} {
		if !Blocklisted(pw) {
			t.Errorf("%q is not blocklisted", pw)
		}
	}
}
