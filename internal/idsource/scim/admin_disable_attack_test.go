package scim_test

import (
	"fmt"
	"net/http"
	"testing"
)

// TestAdministratorDisableStandsEverySpelling sends active true in every
// spelling a SCIM client may use (RFC 7644 §3.5.2: attribute names are
// case-insensitive, a PATCH may name the attribute by its URN or give it
// in a value object, remove leaves it as it was) and checks that none
// lifts an administrator's disable, nor does a change of userName.
func TestAdministratorDisableStandsEverySpelling(t *testing.T) {
	srv, _ := newServer(t, false)
	ctx := t.Context()
	c := newClient(t, srv)
	const doc = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"externalId":"kim-1",
		"userName":%q,%s"displayName":"Kim K","emails":[{"primary":true,"type":"work","value":"kim@company.com"}],
		"name":{"familyName":"K","givenName":"Kim"}}`
	uid := c.do("POST", "/Users", fmt.Sprintf(doc, "kim@company.com", `"active":true,`)).want(t, http.StatusCreated).str("id")
	if err := srv.People.DisableUser(ctx, uid); err != nil {
		t.Fatal(err)
	}
	patch := func(ops string) string {
		return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + ops + `]}`
	}
	for _, tc := range []struct{ method, body string }{
		{"PUT", fmt.Sprintf(doc, "kim@company.com", `"Active":true,`)},
		{"PUT", fmt.Sprintf(doc, "kim@company.com", `"ACTIVE":"true",`)},
		{"PUT", fmt.Sprintf(doc, "kim2@company.com", `"active":true,`)},
		{"PUT", fmt.Sprintf(doc, "kim2@company.com", ``)},
		{"PATCH", patch(`{"op":"replace","path":"Active","value":true}`)},
		{"PATCH", patch(`{"op":"Replace","path":"urn:ietf:params:scim:schemas:core:2.0:User:active","value":true}`)},
		{"PATCH", patch(`{"op":"replace","value":{"Active":true}}`)},
		{"PATCH", patch(`{"op":"replace","value":{"urn:ietf:params:scim:schemas:core:2.0:User:active":true}}`)},
		{"PATCH", patch(`{"op":"add","path":"active","value":true}`)},
		{"PATCH", patch(`{"op":"add","value":{"active":"True"}}`)},
		{"PATCH", patch(`{"op":"remove","path":"active"}`)},
		{"PATCH", patch(`{"op":"replace","path":"userName","value":"kim3@company.com"},{"op":"replace","path":"active","value":true}`)},
	} {
		r := c.do(tc.method, "/Users/"+uid, tc.body)
		if r.status >= 500 {
			t.Fatalf("%s %s: %d", tc.method, tc.body, r.status)
		}
		u, err := srv.Store.GetUser(ctx, uid)
		if err != nil {
			t.Fatal(err)
		}
		if !u.Disabled || !u.AdminDisabled {
			t.Fatalf("%s %s (answered %d) enabled a user an administrator disabled", tc.method, tc.body, r.status)
		}
	}
}
