package adminapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// scimGet calls the SCIM server's ServiceProviderConfig with token.
func scimGet(t *testing.T, url, token string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", url+"/ServiceProviderConfig", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// TestSCIMAccessTokens drives the token operations as the demo admin: a
// created token is shown once and works at the SCIM endpoint, the list
// shows it without its value, deleting it refuses it at once; read-only
// access lists but cannot create or delete; member accounts are refused.
func TestSCIMAccessTokens(t *testing.T) {
	srv := demoServer(t)
	ctx := t.Context()
	admin := adminCreds(t, srv)

	r := callGatehouse(t, srv, admin, "CreateSCIMAccessToken", map[string]any{"Description": "Okta", "ExpiresInDays": 90})
	if r.status != 200 {
		t.Fatalf("CreateSCIMAccessToken: %d %s %s", r.status, r.code, r.message)
	}
	token, _ := r.body["AccessToken"].(string)
	endpoint, _ := r.body["SCIMEndpoint"].(string)
	desc := r.body["SCIMAccessToken"].(map[string]any)
	id, _ := desc["TokenId"].(string)
	if !strings.HasPrefix(token, "ghscim_") || endpoint != srv.URL+"/scim/v2" || id == "" || desc["Status"] != "ACTIVE" {
		t.Fatalf("CreateSCIMAccessToken answered %v", r.body)
	}
	created, _ := desc["CreatedAt"].(float64)
	expires, _ := desc["ExpiresAt"].(float64)
	if d := expires - created; d != 90*24*3600 {
		t.Fatalf("token lives %v s, want 90 days", d)
	}
	if got := scimGet(t, endpoint, token); got != 200 {
		t.Fatalf("the new token at the SCIM endpoint: %d", got)
	}

	r = callGatehouse(t, srv, admin, "ListSCIMAccessTokens", map[string]any{})
	list, _ := r.body["SCIMAccessTokens"].([]any)
	if r.status != 200 || len(list) != 1 || list[0].(map[string]any)["TokenId"] != id || list[0].(map[string]any)["LastUsedAt"] == nil {
		t.Fatalf("ListSCIMAccessTokens: %d %v", r.status, r.body)
	}

	// Bad input.
	for _, in := range []map[string]any{{"ExpiresInDays": 0}, {"ExpiresInDays": 731}, {"Description": "a\nb"}} {
		if r := callGatehouse(t, srv, admin, "CreateSCIMAccessToken", in); r.code != "ValidationException" {
			t.Fatalf("CreateSCIMAccessToken %v = %d %s, want ValidationException", in, r.status, r.code)
		}
	}
	if r := callGatehouse(t, srv, admin, "DeleteSCIMAccessToken", map[string]any{"TokenId": "scimtok-nope"}); r.code != "ResourceNotFoundException" {
		t.Fatalf("DeleteSCIMAccessToken of a missing token = %d %s", r.status, r.code)
	}

	// Read-only access lists, and may not create or delete.
	edID := mustUserID(t, srv, "ed.developer")
	ro, err := srv.Access.Store.GetPermissionSetByName(ctx, "ReadOnlyAccess")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Access.CreateAssignment(ctx, access.AssignmentInput{AccountID: srv.Instance.ManagementAccountID,
		PermissionSetID: ro.ID, PrincipalType: store.PrincipalUser, PrincipalID: edID}); err != nil {
		t.Fatal(err)
	}
	readOnly := roleCreds(t, srv, "ed.developer", "management", "ReadOnlyAccess")
	member := roleCreds(t, srv, "ed.developer", "dev", "PowerUserAccess")
	if r := callGatehouse(t, srv, readOnly, "ListSCIMAccessTokens", map[string]any{}); r.status != 200 {
		t.Fatalf("read-only ListSCIMAccessTokens: %d %s %s", r.status, r.code, r.message)
	}
	for _, op := range []string{"CreateSCIMAccessToken", "DeleteSCIMAccessToken"} {
		r := callGatehouse(t, srv, readOnly, op, map[string]any{"TokenId": id})
		if r.code != "AccessDeniedException" || !strings.Contains(r.message, "gatehouse:"+op) {
			t.Fatalf("read-only %s = %d %s %q", op, r.status, r.code, r.message)
		}
	}
	if r := callGatehouse(t, srv, member, "ListSCIMAccessTokens", map[string]any{}); r.code != "AccessDeniedException" {
		t.Fatalf("member account ListSCIMAccessTokens = %d %s", r.status, r.code)
	}

	if r := callGatehouse(t, srv, admin, "DeleteSCIMAccessToken", map[string]any{"TokenId": id}); r.status != 200 {
		t.Fatalf("DeleteSCIMAccessToken: %d %s %s", r.status, r.code, r.message)
	}
	if got := scimGet(t, endpoint, token); got != 401 {
		t.Fatalf("a deleted token at the SCIM endpoint: %d, want 401", got)
	}

	// Audited, without the token.
	evs, err := srv.Store.ListEvents(ctx, store.EventFilter{Source: audit.SourceGatehouse})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, e := range evs {
		seen[e.Name+"/"+e.ErrorCode]++
		if strings.Contains(string(e.Record), token) {
			t.Fatalf("event %s holds the token", e.Name)
		}
	}
	for _, want := range []string{"CreateSCIMAccessToken/", "DeleteSCIMAccessToken/", "ListSCIMAccessTokens/",
		"CreateSCIMAccessToken/AccessDeniedException", "DeleteSCIMAccessToken/ResourceNotFoundException"} {
		if seen[want] == 0 {
			t.Fatalf("no %s event; events: %v", want, seen)
		}
	}
}
