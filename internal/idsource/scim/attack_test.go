package scim_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/idsource/scim"
)

// wantUnauthorized fails unless r is the 401 every bad token gets, with
// WWW-Authenticate: Bearer (RFC 6750 §3).
func wantUnauthorized(t *testing.T, r *response) {
	t.Helper()
	r.wantError(t, http.StatusUnauthorized, "")
	if h := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(h, "Bearer") {
		t.Fatalf("WWW-Authenticate %q, want Bearer", h)
	}
}

func TestTokensRefused(t *testing.T) {
	srv, clk := newServer(t, false)
	other, _ := newServer(t, false)
	good := newClient(t, srv)
	good.do("GET", "/ServiceProviderConfig", "").want(t, http.StatusOK)

	bad := func(token string) *response {
		t.Helper()
		c := *good
		c.token = token
		return c.do("GET", "/Users", "")
	}
	t.Run("missing", func(t *testing.T) { wantUnauthorized(t, bad("")) })
	t.Run("malformed", func(t *testing.T) {
		wantUnauthorized(t, bad("not-a-token"))
		wantUnauthorized(t, bad(good.token+"x"))
		wantUnauthorized(t, bad(strings.Repeat("ghscim_", 100)))
	})
	t.Run("wrong scheme", func(t *testing.T) {
		req, _ := http.NewRequestWithContext(t.Context(), "GET", good.base+"/Users", nil)
		req.Header.Set("Authorization", "Basic "+good.token)
		wantUnauthorized(t, send(t, req))
	})
	t.Run("query string", func(t *testing.T) {
		// Refused even with a valid header beside it: the URL must not
		// carry tokens (RFC 6750 §5.3).
		wantUnauthorized(t, good.do("GET", "/Users?access_token="+good.token, ""))
		c := *good
		c.token = ""
		wantUnauthorized(t, c.do("GET", "/Users?access_token="+good.token, ""))
	})
	t.Run("another instance", func(t *testing.T) {
		// A token the second server issued, sent to the first.
		c := newClient(t, other)
		c.do("GET", "/Users", "").want(t, http.StatusOK)
		c.base = good.base
		wantUnauthorized(t, c.do("GET", "/Users", ""))
	})
	t.Run("revoked", func(t *testing.T) {
		tok, rec, err := srv.SCIMTokens.Create(t.Context(), "to revoke", 0)
		if err != nil {
			t.Fatal(err)
		}
		c := *good
		c.token = tok.Reveal()
		c.do("GET", "/Users", "").want(t, http.StatusOK)
		if err := srv.SCIMTokens.Delete(t.Context(), rec.ID); err != nil {
			t.Fatal(err)
		}
		wantUnauthorized(t, c.do("GET", "/Users", ""))
	})
	t.Run("expired", func(t *testing.T) {
		tok, _, err := srv.SCIMTokens.Create(t.Context(), "short", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		c := *good
		c.token = tok.Reveal()
		c.do("GET", "/Users", "").want(t, http.StatusOK)
		clk.Advance(time.Hour)
		wantUnauthorized(t, c.do("GET", "/Users", ""))
		// The year-long token still works.
		good.do("GET", "/Users", "").want(t, http.StatusOK)
	})
	t.Run("provisioning off", func(t *testing.T) {
		srv.SCIM.Allowed = func(context.Context) (string, error) { return "Automatic provisioning is off", nil }
		defer func() { srv.SCIM.Allowed = nil }()
		r := good.do("POST", "/Users", `{"userName":"x@example.com","name":{"givenName":"X","familyName":"X"},"displayName":"X"}`)
		r.wantError(t, http.StatusForbidden, "")
		if r.str("detail") != "Automatic provisioning is off" {
			t.Fatalf("detail %q", r.str("detail"))
		}
		if _, err := srv.Store.GetUserByName(t.Context(), "x@example.com"); err == nil {
			t.Fatal("a refused request created a user")
		}
	})
	t.Run("last use written once a minute", func(t *testing.T) {
		tok, rec, err := srv.SCIMTokens.Create(t.Context(), "touch", 0)
		if err != nil {
			t.Fatal(err)
		}
		c := *good
		c.token = tok.Reveal()
		lastUsed := func() time.Time {
			t.Helper()
			ts, err := srv.Store.ListSCIMTokens(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range ts {
				if x.ID == rec.ID {
					return x.LastUsedAt
				}
			}
			t.Fatal("token gone")
			return time.Time{}
		}
		c.do("GET", "/Users", "").want(t, http.StatusOK)
		first := lastUsed()
		if first.IsZero() {
			t.Fatal("first use not recorded")
		}
		clk.Advance(30 * time.Second)
		c.do("GET", "/Users", "").want(t, http.StatusOK)
		if got := lastUsed(); !got.Equal(first) {
			t.Fatalf("a use 30 s later was written (%v, first %v)", got, first)
		}
		clk.Advance(31 * time.Second)
		c.do("GET", "/Users", "").want(t, http.StatusOK)
		if got := lastUsed(); !got.After(first) {
			t.Fatalf("a use over a minute later was not written (%v, first %v)", got, first)
		}
	})
	t.Run("last used", func(t *testing.T) {
		ts, err := srv.SCIMTokens.List(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, tk := range ts {
			if tk.Description == "test IdP" && tk.LastUsedAt.IsZero() {
				t.Fatalf("a used token has no last use: %+v", tk)
			}
		}
	})
}

func send(t *testing.T, req *http.Request) *response {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := &response{status: res.StatusCode, header: res.Header, raw: raw}
	if err := jsonUnmarshal(raw, &r.body); err != nil {
		t.Fatalf("not JSON: %s", raw)
	}
	return r
}

func TestBadInputIsAClientError(t *testing.T) {
	srv, _ := newServer(t, false)
	c := newClient(t, srv)
	uid := c.do("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"eve@example.com",
		"name":{"givenName":"Eve","familyName":"E"},"displayName":"Eve","emails":[{"primary":true,"value":"eve@example.com"}]}`).
		want(t, http.StatusCreated).str("id")
	patch := func(ops string) string {
		return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":` + ops + `}`
	}
	cases := []struct {
		name, method, path, body string
		status                   int
		scimType                 string
	}{
		{"bad JSON", "POST", "/Users", `{"userName": `, 400, "invalidSyntax"},
		{"not an object", "POST", "/Users", `["a"]`, 400, "invalidSyntax"},
		{"wrong type", "POST", "/Users", `{"userName": 5}`, 400, "invalidSyntax"},
		{"missing required", "POST", "/Users", `{"userName":"x@example.com"}`, 400, "invalidValue"},
		{"password", "POST", "/Users", `{"userName":"p@example.com","name":{"givenName":"P","familyName":"P"},"displayName":"P","password":"hunter2"}`, 400, "invalidValue"},
		{"two emails", "POST", "/Users", `{"userName":"m@example.com","name":{"givenName":"M","familyName":"M"},"displayName":"M",
			"emails":[{"value":"a@example.com"},{"value":"b@example.com"}]}`, 400, "invalidValue"},
		{"reserved name", "POST", "/Users", `{"userName":"Administrator","name":{"givenName":"A","familyName":"A"},"displayName":"A"}`, 400, "invalidValue"},
		{"group without name", "POST", "/Groups", `{"displayName":""}`, 400, "invalidValue"},
		{"unknown op", "PATCH", "/Users/" + uid, patch(`[{"op":"move","path":"title","value":"x"}]`), 400, "invalidSyntax"},
		{"no operations", "PATCH", "/Users/" + uid, patch(`[]`), 400, "invalidSyntax"},
		{"bad path", "PATCH", "/Users/" + uid, patch(`[{"op":"replace","path":"emails[type eq","value":"x"}]`), 400, "invalidPath"},
		{"other schema path", "PATCH", "/Users/" + uid, patch(`[{"op":"replace","path":"urn:example:schema:x","value":"x"}]`), 400, "invalidPath"},
		{"remove without path", "PATCH", "/Users/" + uid, patch(`[{"op":"remove"}]`), 400, "noTarget"},
		{"replace with a string", "PATCH", "/Users/" + uid, patch(`[{"op":"replace","value":"x"}]`), 400, "invalidValue"},
		{"patch filter operator", "PATCH", "/Users/" + uid, patch(`[{"op":"replace","path":"emails[type sw \"w\"].value","value":"x@example.com"}]`), 400, "invalidFilter"},
		{"change id", "PUT", "/Users/" + uid, `{"id":"other","userName":"eve@example.com","name":{"givenName":"Eve","familyName":"E"},"displayName":"Eve"}`, 400, "mutability"},
		{"missing user", "PATCH", "/Users/no-such-user", patch(`[{"op":"replace","path":"title","value":"x"}]`), 404, ""},
		{"missing group", "DELETE", "/Groups/no-such-group", "", 404, ""},
		{"unknown endpoint", "GET", "/Bulk", "", 404, ""},
		{"search endpoint", "POST", "/.search", `{}`, 404, ""},
		{"method on collection", "DELETE", "/Users", "", 405, ""},
		{"method on discovery", "POST", "/Schemas", `{}`, 405, ""},
		{"unknown schema", "GET", "/Schemas/urn:nope", "", 404, ""},
		{"bad startIndex", "GET", "/Users?startIndex=x", "", 400, "invalidValue"},
	}
	filters := []string{
		`userName co "eve"`, `userName sw "e"`, `userName pr`, `userName ne "x"`, `userName gt "a"`,
		`userName eq "eve@example.com" or userName eq "x"`, `not (userName eq "x")`,
		`userName eq "x") or (userName pr`, `displayName eq "Eve"`,
		`emails.value eq "eve@example.com"`, `userName eq 5`, `userName eq true`, `urn:x:y:name eq "a"`,
		`title eq "x"`, strings.Repeat("a", 2000), `userName eq`, `"`, `userName eq "a" and`,
	}
	for _, f := range filters {
		cases = append(cases, struct {
			name, method, path, body string
			status                   int
			scimType                 string
		}{"filter " + f, "GET", "/Users?filter=" + urlq(f), "", 400, "invalidFilter"})
	}
	cases = append(cases, struct {
		name, method, path, body string
		status                   int
		scimType                 string
	}{"group filter", "GET", "/Groups?filter=" + urlq(`displayName co "a"`), "", 400, "invalidFilter"})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c.do(tc.method, tc.path, tc.body).wantError(t, tc.status, tc.scimType)
		})
	}
	// A quote inside the value is part of the value: no injection.
	for _, f := range []string{`userName eq "x\" or userName eq \"eve@example.com"`, `userName eq "eve@example.com\""`} {
		r := c.do("GET", "/Users?filter="+urlq(f), "").want(t, http.StatusOK)
		if r.total(t) != 0 {
			t.Fatalf("filter %s found %s", f, r.raw)
		}
	}
	// None of them changed the user.
	u := getUser(t, srv, uid)
	if u.DisplayName != "Eve" || u.Profile.Title != "" || u.Emails[0].Value != "eve@example.com" {
		t.Fatalf("user changed by refused requests: %+v", u)
	}

	t.Run("oversized body", func(t *testing.T) {
		big := `{"userName":"big@example.com","displayName":"` + strings.Repeat("x", scim.MaxBody) + `"}`
		c.do("POST", "/Users", big).wantError(t, http.StatusRequestEntityTooLarge, "")
	})
	t.Run("content type", func(t *testing.T) {
		c2 := *c
		c2.contentType = "text/plain"
		c2.do("POST", "/Users", `{}`).wantError(t, http.StatusUnsupportedMediaType, "")
		c2.contentType = "application/json; charset=utf-8"
		c2.do("POST", "/Users", `{"userName":"json@example.com","name":{"givenName":"J","familyName":"J"},"displayName":"J"}`).
			want(t, http.StatusCreated)
	})
}

func TestDiscoveryAndPaging(t *testing.T) {
	srv, _ := newServer(t, false)
	c := newClient(t, srv)
	r := c.do("GET", "/ServiceProviderConfig", "").want(t, http.StatusOK)
	if r.body["patch"].(map[string]any)["supported"] != true || r.body["bulk"].(map[string]any)["supported"] != false ||
		r.body["filter"].(map[string]any)["maxResults"] != float64(scim.MaxResults) ||
		r.str("authenticationSchemes", "type") != "oauthbearertoken" {
		t.Fatalf("ServiceProviderConfig: %s", r.raw)
	}
	r = c.do("GET", "/Schemas", "").want(t, http.StatusOK)
	if r.total(t) != 3 {
		t.Fatalf("Schemas: %s", r.raw)
	}
	r = c.do("GET", "/Schemas/"+scim.SchemaEnterpriseUser, "").want(t, http.StatusOK)
	if r.str("name") != "EnterpriseUser" {
		t.Fatalf("enterprise schema: %s", r.raw)
	}
	r = c.do("GET", "/ResourceTypes", "").want(t, http.StatusOK)
	if r.total(t) != 2 || r.str("Resources", "schemaExtensions", "schema") != scim.SchemaEnterpriseUser {
		t.Fatalf("ResourceTypes: %s", r.raw)
	}
	c.do("GET", "/ResourceTypes/Group", "").want(t, http.StatusOK)

	var ids []string
	for _, n := range []string{"p1", "p2", "p3", "p4", "p5"} {
		ids = append(ids, c.do("POST", "/Users", `{"userName":"`+n+`@example.com","name":{"givenName":"P","familyName":"P"},"displayName":"`+n+`"}`).
			want(t, http.StatusCreated).str("id"))
	}
	seen := map[string]bool{}
	for start := 1; start <= 5; start += 2 {
		r := c.do("GET", "/Users?startIndex="+itoa(start)+"&count=2", "").want(t, http.StatusOK)
		if r.total(t) != 5 || r.body["startIndex"] != float64(start) {
			t.Fatalf("page at %d: %s", start, r.raw)
		}
		res := r.body["Resources"].([]any)
		want := min(2, 6-start)
		if len(res) != want || r.body["itemsPerPage"] != float64(want) {
			t.Fatalf("page at %d holds %d, want %d: %s", start, len(res), want, r.raw)
		}
		for _, x := range res {
			seen[x.(map[string]any)["id"].(string)] = true
		}
	}
	for _, id := range ids {
		if !seen[id] {
			t.Fatalf("paging missed user %s", id)
		}
	}
	r = c.do("GET", "/Users?count=0", "").want(t, http.StatusOK)
	if r.total(t) != 5 || len(r.body["Resources"].([]any)) != 0 {
		t.Fatalf("count=0: %s", r.raw)
	}
	r = c.do("GET", "/Users?startIndex=99", "").want(t, http.StatusOK)
	if len(r.body["Resources"].([]any)) != 0 {
		t.Fatalf("past the end: %s", r.raw)
	}
	r = c.do("GET", "/Users?count=1000", "").want(t, http.StatusOK)
	if r.body["itemsPerPage"] != float64(5) {
		t.Fatalf("count above the maximum: %s", r.raw)
	}
}
