package scim_test

import (
	"fmt"
	"net/http"
	"testing"
)

// TestAdministratorDisableStands: a user an administrator disabled in
// Gatehouse stays disabled when the IdP's next sync sends active true (a
// full PUT, as Okta sends, and a PATCH, as Entra ID sends); SCIM reads
// report what the IdP set. The user is enabled again only when an
// administrator enables them and the IdP has them active.
func TestAdministratorDisableStands(t *testing.T) {
	srv, _ := newServer(t, false)
	ctx := t.Context()
	c := newClient(t, srv)
	const doc = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"externalId":"lee-1",
		"userName":"lee@company.com","active":%s,"displayName":"Lee K","emails":[{"primary":true,"type":"work","value":"lee@company.com"}],
		"name":{"familyName":"K","givenName":"Lee"}}`
	body := func(active string) string { return fmt.Sprintf(doc, active) }
	uid := c.do("POST", "/Users", body("true")).want(t, http.StatusCreated).str("id")
	disabled := func() bool {
		t.Helper()
		u, err := srv.Store.GetUser(ctx, uid)
		if err != nil {
			t.Fatal(err)
		}
		return u.Disabled
	}
	if err := srv.People.DisableUser(ctx, uid); err != nil {
		t.Fatal(err)
	}
	if !disabled() {
		t.Fatal("the administrator's disable did not take")
	}

	// Okta's routine full PUT, then Entra ID's PATCH.
	r := c.do("PUT", "/Users/"+uid, body("true")).want(t, http.StatusOK)
	if r.body["active"] != true {
		t.Errorf("PUT answer active = %v, want what the IdP set (true)", r.body["active"])
	}
	if !disabled() {
		t.Fatal("a SCIM PUT with active true enabled a user an administrator disabled")
	}
	c.do("PATCH", "/Users/"+uid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"replace","path":"active","value":"True"}]}`).want(t, http.StatusOK)
	if !disabled() {
		t.Fatal("a SCIM PATCH with active true enabled a user an administrator disabled")
	}
	if got := c.do("GET", "/Users/"+uid, "").want(t, http.StatusOK).body["active"]; got != true {
		t.Errorf("GET active = %v, want what the IdP set (true)", got)
	}

	// The IdP deactivates too; the administrator's enable leaves the
	// user disabled until the IdP activates them.
	c.do("PUT", "/Users/"+uid, body("false")).want(t, http.StatusOK)
	if err := srv.People.EnableUser(ctx, uid); err != nil {
		t.Fatal(err)
	}
	if !disabled() {
		t.Fatal("an administrator's enable overrode the IdP's active false")
	}
	if got := c.do("GET", "/Users/"+uid, "").want(t, http.StatusOK).body["active"]; got != false {
		t.Errorf("GET active = %v, want what the IdP set (false)", got)
	}
	if st, err := srv.People.Describe(ctx, uid); err != nil || !st.Disabled || !st.DisabledBySource {
		t.Fatalf("status of a user the IdP set inactive = %+v, %v", st, err)
	}
	c.do("PUT", "/Users/"+uid, body("true")).want(t, http.StatusOK)
	if disabled() {
		t.Fatal("the user is still disabled though neither side disables them")
	}

	// The IdP alone deactivates and activates again: its own disable is
	// its to lift.
	c.do("PATCH", "/Users/"+uid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"replace","value":{"active":false}}]}`).want(t, http.StatusOK)
	if !disabled() {
		t.Fatal("the IdP's active false did not disable the user")
	}
	c.do("PATCH", "/Users/"+uid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"replace","value":{"active":true}}]}`).want(t, http.StatusOK)
	if disabled() {
		t.Fatal("the IdP's active true did not lift its own disable")
	}
}
