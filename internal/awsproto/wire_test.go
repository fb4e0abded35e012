package awsproto

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/sigv4"
	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// pinnedRequestID replaces the random request ID in golden tests.
const pinnedRequestID = "0f8fad5b-d9cb-469f-a165-70867728950e"

// dump renders a recorded response as status, sorted headers and body.
func dump(rec *httptest.ResponseRecorder) string {
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP %d\n", rec.Code)
	h := rec.Result().Header
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range h {
			if !yield(k) {
				return
			}
		}
	}) {
		fmt.Fprintf(&b, "%s: %s\n", k, strings.Join(h[k], ", "))
	}
	b.WriteString("\n")
	b.WriteString(rec.Body.String())
	b.WriteString("\n")
	return b.String()
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

type testInput struct {
	Name   string
	Count  int
	Nested *struct{ Value string }
}

type testOutput struct {
	Name        string    `json:",omitempty"`
	CreatedDate Timestamp `json:",omitzero"`
}

func testService() *JSONService {
	return &JSONService{
		TargetPrefix: "SWBExternalService",
		Operations: map[string]Operation{
			"Echo": Op(func(ctx context.Context, in *testInput) (*testOutput, error) {
				switch in.Name {
				case "conflict":
					return nil, Conflict("Permission set with the same name already exists.")
				case "boom":
					return nil, errors.New("database is on fire")
				case "wrapped":
					return nil, fmt.Errorf("create: %w", Validation("Name is required."))
				}
				return &testOutput{Name: in.Name, CreatedDate: Timestamp{time.Date(2026, 11, 22, 4, 2, 1, 123e6, time.UTC)}}, nil
			}),
			"Empty": Op(func(ctx context.Context, in *struct{}) (*struct{}, error) { return nil, nil }),
		},
	}
}

func serve(h http.Handler, target, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	r.Header.Set("Content-Type", JSONContentType)
	if target != "" {
		r.Header.Set("X-Amz-Target", target)
	}
	rec := httptest.NewRecorder()
	rec.Header().Set(RequestIDHeader, pinnedRequestID)
	h.ServeHTTP(rec, r)
	return rec
}

func record(write func(w http.ResponseWriter)) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	rec.Header().Set(RequestIDHeader, pinnedRequestID)
	write(rec)
	return rec
}

func TestGolden(t *testing.T) {
	svc := testService()
	idstore := testService()
	idstore.TargetPrefix = "AWSIdentityStore"
	idstore.ErrorRequestID = true
	idstore.Operations["Missing"] = Op(func(ctx context.Context, in *struct{}) (*struct{}, error) {
		e := ResourceNotFound("User not found.")
		e.ResourceType, e.ResourceID = "USER", "9067d0a6-e0b1-70c3-3bf4-4ff7d1e3b6e1"
		return nil, e
	})
	denyAll := testService()
	denyAll.Authenticate = func(r *http.Request, op string, body []byte) (context.Context, error) {
		_, err := (&sigv4.Verifier{}).Verify(r.Context(), r, body, "sso", nil)
		return nil, err
	}
	gci := struct {
		Arn     string
		UserID  string `xml:"UserId"`
		Account string
	}{
		Arn:     "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_ReadOnly_0123456789abcdef/alice@example.test",
		UserID:  "AROAEXAMPLEROLEID1234:alice@example.test",
		Account: "111122223333",
	}
	creds := struct {
		Credentials struct {
			AccessKeyID string  `xml:"AccessKeyId"`
			Expiration  ISOTime `xml:"Expiration"`
		}
	}{}
	creds.Credentials.AccessKeyID = "ASIAEXAMPLE"
	creds.Credentials.Expiration = ISOTime{time.Date(2026, 11, 22, 5, 2, 1, 0, time.FixedZone("CET", 3600))}

	tests := []struct {
		name string
		rec  *httptest.ResponseRecorder
	}{
		{"json_success", serve(svc, "SWBExternalService.Echo", `{"Name":"ReadOnly","Unknown":[1,2],"Nested":{"Value":"x","Extra":true}}`)},
		{"json_empty_output", serve(svc, "SWBExternalService.Empty", ``)},
		{"json_conflict", serve(svc, "SWBExternalService.Echo", `{"Name":"conflict"}`)},
		{"json_wrapped_validation", serve(svc, "SWBExternalService.Echo", `{"Name":"wrapped"}`)},
		{"json_internal", serve(svc, "SWBExternalService.Echo", `{"Name":"boom"}`)},
		{"json_malformed", serve(svc, "SWBExternalService.Echo", `{"Name":`)},
		{"json_wrong_type", serve(svc, "SWBExternalService.Echo", `{"Count":"three"}`)},
		{"json_unknown_operation", serve(svc, "SWBExternalService.Nope", `{}`)},
		{"json_other_prefix", serve(svc, "AWSIdentityStore.Echo", `{}`)},
		{"json_identitystore_not_found", serve(idstore, "AWSIdentityStore.Missing", `{}`)},
		{"json_missing_authentication", serve(denyAll, "SWBExternalService.Echo", `{}`)},
		{"rest_json", record(func(w http.ResponseWriter) {
			WriteJSON(w, http.StatusOK, map[string]any{"accountList": []map[string]string{{"accountId": "111122223333"}}})
		})},
		{"rest_json_nil", record(func(w http.ResponseWriter) { WriteJSON(w, http.StatusOK, nil) })},
		{"oidc_authorization_pending", record(func(w http.ResponseWriter) {
			WriteError(w, OIDCAuthorizationPending("Authorization is still pending"))
		})},
		{"oidc_access_denied_reason", record(func(w http.ResponseWriter) {
			e := OIDCAccessDenied("Access denied")
			e.Reason = "KMS_AccessDeniedException"
			WriteError(w, e)
		})},
		{"oidc_invalid_client", record(func(w http.ResponseWriter) { WriteError(w, OIDCInvalidClient("Invalid client secret")) })},
		{"oidc_internal", record(func(w http.ResponseWriter) {
			WriteError(w, ErrorFor(ProtocolOIDC, errors.New("secret cause")))
		})},
		{"portal_unauthorized", record(func(w http.ResponseWriter) {
			WriteError(w, PortalUnauthorized("Session token not found or invalid"))
		})},
		{"portal_forbidden", record(func(w http.ResponseWriter) { WriteError(w, PortalForbidden("No access")) })},
		{"query_get_caller_identity", record(func(w http.ResponseWriter) {
			WriteQueryResponse(w, STSNamespace, "GetCallerIdentity", gci)
		})},
		{"query_iso_time", record(func(w http.ResponseWriter) { WriteQueryResponse(w, STSNamespace, "GetSessionToken", creds) })},
		{"query_no_result", record(func(w http.ResponseWriter) { WriteQueryResponse(w, IAMNamespace, "DeleteUser", nil) })},
		{"query_invalid_client_token_id", record(func(w http.ResponseWriter) {
			WriteQueryError(w, STSNamespace, AuthError(ProtocolQuery, &sigv4.Error{Kind: sigv4.KindUnknownAccessKey, Message: "The security token included in the request is invalid."}))
		})},
		{"query_internal", record(func(w http.ResponseWriter) {
			WriteQueryError(w, IAMNamespace, ErrorFor(ProtocolQuery, errors.New("secret cause")))
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := dump(tt.rec)
			if strings.Contains(got, "secret cause") || strings.Contains(got, "on fire") {
				t.Errorf("response leaks an internal cause:\n%s", got)
			}
			checkGolden(t, tt.name, got)
		})
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
