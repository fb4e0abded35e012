package samlidp

import (
	"strings"
	"testing"
)

// TestSessionName fits user names to STS's RoleSessionName and
// SourceIdentity rules: [A-Za-z0-9_+=,.@-], 2 to 64 characters.
func TestSessionName(t *testing.T) {
	for in, want := range map[string]string{
		"alice@example.com":        "alice@example.com",
		"Zoë Müller":               "Zo--M-ller",
		"a":                        "a-",
		"x/y:z":                    "x-y-z",
		strings.Repeat("b", 70):    strings.Repeat("b", 64),
		"ed.developer+ops=1,team_": "ed.developer+ops=1,team_",
	} {
		if got := SessionName(in); got != want {
			t.Errorf("SessionName(%q) = %q, want %q", in, got, want)
		}
	}
	if got := tagText("a<b>ç d", 5); got != "a-b-ç" {
		t.Errorf("tagText = %q", got)
	}
}
