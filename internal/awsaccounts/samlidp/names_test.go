package samlidp

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

// TestSessionName fits user names to STS's RoleSessionName and
// SourceIdentity rules: [A-Za-z0-9_+=,.@-], 2 to 64 characters; a name
// that had to change carries a hash of the whole name.
func TestSessionName(t *testing.T) {
	hash := func(s string) string {
		h := sha256.Sum256([]byte(s))
		return "-" + hex.EncodeToString(h[:6])
	}
	for in, want := range map[string]string{
		"alice@example.com":        "alice@example.com",
		"Zoë Müller":               "Zo--M-ller" + hash("Zoë Müller"),
		"a":                        "a" + hash("a"),
		"x/y:z":                    "x-y-z" + hash("x/y:z"),
		strings.Repeat("b", 70):    strings.Repeat("b", 51) + hash(strings.Repeat("b", 70)),
		strings.Repeat("b", 64):    strings.Repeat("b", 64),
		"ed.developer+ops=1,team_": "ed.developer+ops=1,team_",
	} {
		if got := SessionName(in); got != want {
			t.Errorf("SessionName(%q) = %q, want %q", in, got, want)
		}
		if got := SessionName(in); len(got) > 64 {
			t.Errorf("SessionName(%q) is %d characters", in, len(got))
		}
	}
	if got := tagText("a<b>ç d", 5); got != "a-b-ç" {
		t.Errorf("tagText = %q", got)
	}
}
