package scim

import (
	"net/http"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// FuzzPatchUser feeds PATCH bodies to the user patcher: it must never
// panic, and every refusal is a SCIM client error (4xx), never a 500.
func FuzzPatchUser(f *testing.F) {
	for _, s := range []string{
		`{"Operations":[{"op":"replace","value":{"active":false}}]}`,
		`{"Operations":[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"a@example.com"}]}`,
		`{"Operations":[{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"x"}]}`,
		`{"Operations":[{"op":"remove","path":"name.givenName"}]}`,
		`{"Operations":[{"op":"add","path":"emails","value":[{"value":"b@example.com"}]}]}`,
		`{"Operations":[{"op":"replace","path":"addresses[type eq \"work\"].locality","value":"Paris"}]}`,
		`{"Operations":[{"op":"replace","path":"name","value":"x"}]}`,
		`{"Operations":[{"op":"add","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"x"}}}]}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		p, err := decodePatch([]byte(body))
		if err == nil {
			u := &store.User{ID: "u-1", UserName: "dana", DisplayName: "Dana", Name: store.UserName{GivenName: "D", FamilyName: "S"},
				Emails: []store.Email{{Value: "d@example.com", Type: "work", Primary: true}}}
			err = applyUserPatch(u, p)
		}
		if err != nil {
			if e := asError(err); e.Status >= http.StatusInternalServerError {
				t.Fatalf("body %q: %d %v", body, e.Status, err)
			}
		}
	})
}

// FuzzFilter feeds query filters to the filter parser: no panic, and a
// refusal is 400 invalidFilter.
func FuzzFilter(f *testing.F) {
	for _, s := range []string{`userName eq "a"`, `id eq "g" and members eq "u"`, `members[value eq "u"]`, `userName co "a"`, `(a eq "b")`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if _, err := parseFilter(raw, "id", "username", "externalid", "members", "members.value", "displayname"); err != nil {
			if e := asError(err); e.Status != http.StatusBadRequest || e.ScimType != typeInvalidFilter {
				t.Fatalf("filter %q: %d %s %v", raw, e.Status, e.ScimType, err)
			}
		}
	})
}
