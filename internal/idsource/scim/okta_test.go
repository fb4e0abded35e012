package scim_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/idsource/scim"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// The requests below follow Okta's "SCIM 2.0 protocol reference"
// (developer.okta.com/docs/api/openapi/okta-scim/guides/scim-20): Okta
// looks a user up by userName, creates it (with "groups": []), reads it,
// replaces it with PUT on profile changes, deactivates it with a PATCH
// replace of active without a path, and pushes groups with PATCH add of
// members and remove by members[value eq "…"].

func filterQ(f string) string { return "?filter=" + url.QueryEscape(f) + "&startIndex=1&count=100" }

func TestOktaUserLifecycle(t *testing.T) {
	srv, _ := newServer(t, false)
	c := newClient(t, srv)

	// Okta's "Test API credentials" and first import probe: fixed pages
	// of users and groups.
	for _, path := range []string{"/Users?startIndex=1&count=2", "/Groups?startIndex=1&count=100"} {
		r := c.do("GET", path, "").want(t, http.StatusOK)
		if r.total(t) != 0 || r.body["startIndex"] != float64(1) {
			t.Fatalf("GET %s: %s", path, r.raw)
		}
	}
	// Does the user exist? Not yet.
	r := c.do("GET", "/Users"+filterQ(`userName eq "dana@example.com"`), "").want(t, http.StatusOK)
	if r.total(t) != 0 || len(r.body["Resources"].([]any)) != 0 {
		t.Fatalf("lookup of a new user found %s", r.raw)
	}

	r = c.do("POST", "/Users", `{
		"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
		"userName": "dana@example.com",
		"name": {"givenName": "Dana", "familyName": "Scully"},
		"emails": [{"primary": true, "value": "dana@example.com", "type": "work"}],
		"displayName": "Dana Scully",
		"locale": "en-US",
		"externalId": "00u1ab2cd3EF4gh5ij6",
		"groups": [],
		"active": true
	}`).want(t, http.StatusCreated)
	id := r.str("id")
	if r.header.Get("Location") != c.base+"/Users/"+id {
		t.Fatalf("Location %q", r.header.Get("Location"))
	}
	if r.str("userName") != "dana@example.com" || r.str("externalId") != "00u1ab2cd3EF4gh5ij6" || r.body["active"] != true {
		t.Fatalf("created user: %s", r.raw)
	}
	u := getUser(t, srv, id)
	if u.DisplayName != "Dana Scully" || u.Name.GivenName != "Dana" || u.Profile.Locale != "en-US" || u.Disabled ||
		len(u.Emails) != 1 || u.Emails[0].Value != "dana@example.com" || !u.Emails[0].Primary {
		t.Fatalf("stored user %+v", u)
	}
	// The externalId is the identity store's ExternalId of issuer SCIM:
	// identitystore GetUserId finds the user by it.
	got, err := srv.Directory.UserID(t.Context(), directory.AlternateIdentifier{
		ExternalID: &store.ExternalID{Issuer: scim.ExternalIDIssuer, ID: "00u1ab2cd3EF4gh5ij6"}})
	if err != nil || got != id {
		t.Fatalf("GetUserId by external ID = %q, %v; want %q", got, err, id)
	}

	// Now it is found, by userName in any case and by externalId.
	r = c.do("GET", "/Users"+filterQ(`userName eq "DANA@example.com"`), "").want(t, http.StatusOK)
	if r.total(t) != 1 || r.str("Resources", "id") != id {
		t.Fatalf("lookup: %s", r.raw)
	}
	r = c.do("GET", "/Users"+filterQ(`externalId eq "00u1ab2cd3EF4gh5ij6"`), "").want(t, http.StatusOK)
	if r.total(t) != 1 {
		t.Fatalf("lookup by externalId: %s", r.raw)
	}
	c.do("GET", "/Users/"+id, "").want(t, http.StatusOK)

	// A second create of the same userName is a uniqueness conflict.
	c.do("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"Dana@Example.com",
		"name":{"givenName":"D","familyName":"S"},"displayName":"D S","emails":[{"primary":true,"value":"d2@example.com"}]}`).
		wantError(t, http.StatusConflict, "uniqueness")

	// Profile push: PUT with the whole user.
	r = c.do("PUT", "/Users/"+id, `{
		"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
		"id": "`+id+`",
		"userName": "dana@example.com",
		"name": {"givenName": "Dana", "familyName": "Mulder"},
		"emails": [{"primary": true, "value": "dana.mulder@example.com", "type": "work"}],
		"displayName": "Dana Mulder",
		"title": "Agent",
		"externalId": "00u1ab2cd3EF4gh5ij6",
		"active": true
	}`).want(t, http.StatusOK)
	u = getUser(t, srv, id)
	if u.Name.FamilyName != "Mulder" || u.Emails[0].Value != "dana.mulder@example.com" || u.Profile.Title != "Agent" || u.Profile.Locale != "" {
		t.Fatalf("after PUT: %+v", u)
	}

	// Deactivation.
	c.do("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"replace","value":{"active":false}}]}`).want(t, http.StatusOK)
	if u = getUser(t, srv, id); !u.Disabled {
		t.Fatal("user still enabled after active=false")
	}
	r = c.do("GET", "/Users/"+id, "").want(t, http.StatusOK)
	if r.body["active"] != false {
		t.Fatalf("GET after deactivation: %s", r.raw)
	}
	// Reactivation.
	c.do("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"replace","value":{"active":true}}]}`).want(t, http.StatusOK)
	if u = getUser(t, srv, id); u.Disabled {
		t.Fatal("user still disabled after active=true")
	}

	c.do("DELETE", "/Users/"+id, "").want(t, http.StatusNoContent)
	c.do("GET", "/Users/"+id, "").wantError(t, http.StatusNotFound, "")
	c.do("DELETE", "/Users/"+id, "").wantError(t, http.StatusNotFound, "")

	// Every write is in the audit trail, under the SCIM source, with the
	// token's ID as the actor and never the token itself.
	evs, err := srv.Store.ListEvents(t.Context(), store.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range evs {
		if e.Source == audit.SourceIdentityStoreSCIM {
			names = append(names, e.Name+":"+e.ErrorCode)
		}
		if containsStr(string(e.Record), c.token) {
			t.Fatalf("event %s holds the bearer token", e.Name)
		}
	}
	want := []string{"CreateUser:", "CreateUser:ConflictException", "PutUser:", "PatchUser:", "PatchUser:", "DeleteUser:",
		"DeleteUser:ResourceNotFoundException"}
	if fmt.Sprint(names) != fmt.Sprint(want) {
		t.Fatalf("SCIM events %v, want %v", names, want)
	}
}

func TestOktaGroupPush(t *testing.T) {
	srv, _ := newServer(t, false)
	c := newClient(t, srv)
	var users []string
	for _, n := range []string{"ann", "bob"} {
		r := c.do("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"`+n+`@example.com",
			"name":{"givenName":"`+n+`","familyName":"X"},"displayName":"`+n+` X","emails":[{"primary":true,"value":"`+n+`@example.com","type":"work"}],"active":true}`).
			want(t, http.StatusCreated)
		users = append(users, r.str("id"))
	}
	r := c.do("GET", "/Groups"+filterQ(`displayName eq "Engineering"`), "").want(t, http.StatusOK)
	if r.total(t) != 0 {
		t.Fatalf("group found before creation: %s", r.raw)
	}
	r = c.do("POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Engineering","members":[]}`).
		want(t, http.StatusCreated)
	gid := r.str("id")

	c.do("PATCH", "/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"add","path":"members","value":[{"value":"`+users[0]+`","display":"ann@example.com"},{"value":"`+users[1]+`","display":"bob@example.com"}]}]}`).
		want(t, http.StatusNoContent)
	members := func() []string {
		t.Helper()
		ms, err := srv.Store.ListMembershipsByGroup(t.Context(), gid, store.Page{})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, m := range ms {
			ids = append(ids, m.UserID)
		}
		return ids
	}
	if got := members(); len(got) != 2 {
		t.Fatalf("members after add: %v", got)
	}
	r = c.do("GET", "/Groups"+filterQ(`members[value eq "`+users[0]+`"]`), "").want(t, http.StatusOK)
	if r.total(t) != 1 || r.str("Resources", "id") != gid {
		t.Fatalf("groups of ann: %s", r.raw)
	}
	// Rename, then remove one member by filter.
	c.do("PATCH", "/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"replace","value":{"id":"`+gid+`","displayName":"Engineering Team"}}]}`).want(t, http.StatusNoContent)
	c.do("PATCH", "/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"remove","path":"members[value eq \"`+users[0]+`\"]"}]}`).want(t, http.StatusNoContent)
	if got := members(); len(got) != 1 || got[0] != users[1] {
		t.Fatalf("members after remove: %v, want [%s]", got, users[1])
	}
	g, err := srv.Store.GetGroup(t.Context(), gid)
	if err != nil || g.DisplayName != "Engineering Team" {
		t.Fatalf("group after rename: %+v, %v", g, err)
	}
	r = c.do("GET", "/Groups/"+gid, "").want(t, http.StatusOK)
	if r.str("displayName") != "Engineering Team" || r.str("members", "value") != users[1] {
		t.Fatalf("GET group: %s", r.raw)
	}
	// A member that is not a user is refused, and nothing changes.
	c.do("PATCH", "/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"add","path":"members","value":[{"value":"`+users[0]+`"},{"value":"no-such-user"}]}]}`).
		wantError(t, http.StatusBadRequest, "invalidValue")
	if got := members(); len(got) != 1 {
		t.Fatalf("a failed PATCH changed members: %v", got)
	}
	c.do("DELETE", "/Groups/"+gid, "").want(t, http.StatusNoContent)
	if _, err := srv.Store.GetGroup(t.Context(), gid); err == nil {
		t.Fatal("group still stored after DELETE")
	}
}

func containsStr(s, sub string) bool { return sub != "" && len(s) >= len(sub) && indexOf(s, sub) >= 0 }

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}
