package awsproto

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
	"github.com/gatehouse-dev/gatehouse/internal/sigv4"
	"github.com/gatehouse-dev/gatehouse/internal/store"
	"github.com/google/go-cmp/cmp"
)

func TestAuthError(t *testing.T) {
	type wire struct {
		Code   string
		Status int
	}
	tests := []struct {
		kind        sigv4.Kind
		json, query wire
	}{
		{sigv4.KindMissingAuthentication, wire{"MissingAuthenticationTokenException", 403}, wire{"MissingAuthenticationToken", 403}},
		{sigv4.KindUnknownAccessKey, wire{"UnrecognizedClientException", 403}, wire{"InvalidClientTokenId", 403}},
		{sigv4.KindSignatureMismatch, wire{"InvalidSignatureException", 403}, wire{"SignatureDoesNotMatch", 403}},
		{sigv4.KindIncompleteSignature, wire{"IncompleteSignatureException", 400}, wire{"IncompleteSignature", 400}},
		{sigv4.KindExpiredToken, wire{"ExpiredTokenException", 403}, wire{"ExpiredToken", 403}},
		{sigv4.KindSignatureExpired, wire{"InvalidSignatureException", 403}, wire{"SignatureDoesNotMatch", 403}},
		{sigv4.KindServiceMismatch, wire{"InvalidSignatureException", 403}, wire{"SignatureDoesNotMatch", 403}},
		{sigv4.Kind(99), wire{"InternalServerException", 500}, wire{"InternalFailure", 500}},
	}
	for _, tt := range tests {
		t.Run(tt.kind.String(), func(t *testing.T) {
			se := &sigv4.Error{Kind: tt.kind, Message: "msg"}
			// Wrapped, as an Authenticate hook may return it.
			err := fmt.Errorf("authenticate: %w", se)
			for _, p := range []struct {
				p    Protocol
				want wire
			}{{ProtocolJSON, tt.json}, {ProtocolOIDC, tt.json}, {ProtocolQuery, tt.query}} {
				e := ErrorFor(p.p, err)
				if diff := cmp.Diff(p.want, wire{e.Code, e.HTTPStatus()}); diff != "" {
					t.Errorf("protocol %d mismatch (-want +got):\n%s", p.p, diff)
				}
				if tt.kind != sigv4.Kind(99) && e.Message != "msg" {
					t.Errorf("Message = %q, want the verifier's message", e.Message)
				}
				if !errors.Is(e, se) {
					t.Errorf("mapped error does not wrap the sigv4 error")
				}
			}
		})
	}
}

func TestErrorFor(t *testing.T) {
	conflict := Conflict("exists")
	if got := ErrorFor(ProtocolJSON, fmt.Errorf("create: %w", conflict)); got != conflict {
		t.Errorf("ErrorFor(wrapped *Error) = %v, want the *Error itself", got)
	}
	if got := ErrorFor(ProtocolJSON, nil); got != nil {
		t.Errorf("ErrorFor(nil) = %v, want nil", got)
	}
	cause := errors.New("disk full")
	for p, want := range map[Protocol]string{ProtocolJSON: "InternalServerException", ProtocolOIDC: "InternalServerException", ProtocolQuery: "InternalFailure"} {
		e := ErrorFor(p, cause)
		if e.Code != want || e.HTTPStatus() != 500 || !errors.Is(e, cause) || strings.Contains(e.Message, "disk") {
			t.Errorf("ErrorFor(%d, cause) = %+v, want %s 500 wrapping the cause with a generic message", p, e, want)
		}
	}
	if e := ErrorFor(ProtocolOIDC, cause); e.OAuthError != "server_error" {
		t.Errorf("OIDC internal error has OAuthError %q, want server_error", e.OAuthError)
	}
}

func TestNewRequestID(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := NewRequestID()
		if !uuidPattern.MatchString(id) {
			t.Fatalf("NewRequestID() = %q, not a UUID v4", id)
		}
		if seen[id] {
			t.Fatalf("NewRequestID() repeated %q", id)
		}
		seen[id] = true
	}
	rec := httptest.NewRecorder()
	id := RequestID(rec)
	if again := RequestID(rec); again != id || rec.Header().Get("x-amzn-RequestId") != id {
		t.Errorf("RequestID is not stable: %q, %q, header %q", id, again, rec.Header().Get("x-amzn-RequestId"))
	}
}

func TestTimestamp(t *testing.T) {
	tests := []struct {
		json string
		time time.Time
	}{
		{"1732245600", time.Unix(1732245600, 0)},
		{"1732245600.123", time.Unix(1732245600, 123e6)},
		{"1732245600.5", time.Unix(1732245600, 500e6)},
		{"0", time.Unix(0, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.json, func(t *testing.T) {
			b, err := json.Marshal(Timestamp{tt.time})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.json, string(b)); diff != "" {
				t.Errorf("MarshalJSON mismatch (-want +got):\n%s", diff)
			}
			var got Timestamp
			if err := json.Unmarshal([]byte(tt.json), &got); err != nil {
				t.Fatal(err)
			}
			if !got.Equal(tt.time) {
				t.Errorf("UnmarshalJSON(%s) = %v, want %v", tt.json, got.Time, tt.time)
			}
		})
	}
	for in, want := range map[string]time.Time{
		"1.7322456e9":          time.Unix(1732245600, 0),
		"1732245600.123456789": time.Unix(1732245600, 123456789),
		"-1.5":                 time.Unix(-1, -500e6),
	} {
		var got Timestamp
		if err := json.Unmarshal([]byte(in), &got); err != nil || !got.Equal(want) {
			t.Errorf("UnmarshalJSON(%s) = %v, %v; want %v", in, got.Time, err, want)
		}
	}
	var ts Timestamp
	if err := json.Unmarshal([]byte(`"2026-11-22"`), &ts); err == nil {
		t.Error("UnmarshalJSON accepted a string")
	}
	out, _ := json.Marshal(struct {
		T Timestamp `json:",omitzero"`
	}{})
	if string(out) != "{}" {
		t.Errorf("zero Timestamp with omitzero = %s, want {}", out)
	}
}

func TestISOTime(t *testing.T) {
	var got struct {
		Expiration ISOTime
	}
	if err := xml.Unmarshal([]byte(`<R><Expiration>2026-11-22T05:02:01.5+01:00</Expiration></R>`), &got); err != nil {
		t.Fatal(err)
	}
	b, _ := got.Expiration.MarshalText()
	if diff := cmp.Diff("2026-11-22T04:02:01.5Z", string(b)); diff != "" {
		t.Errorf("round trip mismatch (-want +got):\n%s", diff)
	}
}

func TestParseQueryRequest(t *testing.T) {
	form := url.Values{
		"Action":                     {"AssumeRole"},
		"Version":                    {"2011-06-15"},
		"RoleArn":                    {"arn:aws:iam::111122223333:role/r"},
		"PolicyArns.member.1.arn":    {"arn:aws:iam::aws:policy/ReadOnlyAccess"},
		"PolicyArns.member.2.arn":    {"arn:aws:iam::aws:policy/Billing"},
		"Tags.member.1.Key":          {"team"},
		"Tags.member.1.Value":        {"a b"},
		"Tags.member.2.Key":          {"env"},
		"Tags.member.2.Value":        {""},
		"Tags.member.4.Key":          {"unreachable"},
		"TransitiveTagKeys.member.1": {"team"},
		"TransitiveTagKeys.member.2": {"env"},
	}
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	q, err := ParseQueryRequest(r, []byte(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	got := struct {
		Action, Version, RoleArn string
		Transitive               []string
		Tags, PolicyArns         []map[string]string
		Missing                  []string
	}{q.Action, q.Version, q.Get("RoleArn"), q.List("TransitiveTagKeys"), q.StructList("Tags"), q.StructList("PolicyArns"), q.List("Nope")}
	want := struct {
		Action, Version, RoleArn string
		Transitive               []string
		Tags, PolicyArns         []map[string]string
		Missing                  []string
	}{
		"AssumeRole", "2011-06-15", "arn:aws:iam::111122223333:role/r",
		[]string{"team", "env"},
		[]map[string]string{{"Key": "team", "Value": "a b"}, {"Key": "env", "Value": ""}},
		[]map[string]string{{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}, {"arn": "arn:aws:iam::aws:policy/Billing"}},
		nil,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parsed request mismatch (-want +got):\n%s", diff)
	}

	get := httptest.NewRequest(http.MethodGet, "/?Action=GetCallerIdentity&Version=2011-06-15", nil)
	if q, err := ParseQueryRequest(get, nil); err != nil || q.Action != "GetCallerIdentity" || q.Version != "2011-06-15" {
		t.Errorf("GET: %+v, %v", q, err)
	}

	for name, req := range map[string]*http.Request{
		"no action": httptest.NewRequest(http.MethodGet, "/?Version=2011-06-15", nil),
		"json body": func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/", nil)
			r.Header.Set("Content-Type", "application/json")
			return r
		}(),
		"bad escape": httptest.NewRequest(http.MethodGet, "/?Action=%zz", nil),
	} {
		body := []byte(nil)
		if name == "json body" {
			body = []byte(`{"Action":"GetCallerIdentity"}`)
		}
		_, err := ParseQueryRequest(req, body)
		e, ok := errors.AsType[*Error](err)
		if !ok || e.HTTPStatus() != 400 {
			t.Errorf("%s: error = %v, want a 400 *Error", name, err)
		}
	}
}

type ctxKey struct{}

func TestJSONServiceAuthenticateAndLogging(t *testing.T) {
	var logs bytes.Buffer
	var authOps []string
	svc := &JSONService{
		TargetPrefix: "AWSIdentityStore",
		Logger:       slog.New(slog.NewJSONHandler(&logs, nil)),
		Authenticate: func(r *http.Request, op string, body []byte) (context.Context, error) {
			authOps = append(authOps, op)
			if op == "Denied" {
				return nil, AccessDenied("User: arn:aws:sts::111122223333:assumed-role/r/alice is not authorized to perform: identitystore:Denied")
			}
			return context.WithValue(r.Context(), ctxKey{}, "alice"), nil
		},
		Operations: map[string]Operation{
			"WhoAmI": Op(func(ctx context.Context, in *struct{}) (*struct{ Caller string }, error) {
				return &struct{ Caller string }{ctx.Value(ctxKey{}).(string)}, nil
			}),
			"Denied": Op(func(ctx context.Context, in *struct{}) (*struct{}, error) {
				t.Error("operation ran although Authenticate failed")
				return nil, nil
			}),
			"Fail": Op(func(ctx context.Context, in *struct{}) (*struct{}, error) {
				return nil, fmt.Errorf("list users: %w", errors.New("connection refused"))
			}),
		},
	}
	rec := serve(svc, "AWSIdentityStore.WhoAmI", "{}")
	if rec.Code != 200 || rec.Body.String() != `{"Caller":"alice"}` {
		t.Errorf("WhoAmI = %d %s", rec.Code, rec.Body)
	}
	rec = serve(svc, "AWSIdentityStore.Denied", "{}")
	if rec.Code != 400 || rec.Header().Get("X-Amzn-ErrorType") != "AccessDeniedException" {
		t.Errorf("Denied = %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	if logs.Len() != 0 {
		t.Errorf("client error was logged: %s", logs.String())
	}
	rec = serve(svc, "AWSIdentityStore.Fail", "{}")
	if rec.Code != 500 {
		t.Errorf("Fail = %d %s", rec.Code, rec.Body)
	}
	var entry struct {
		Msg       string `json:"msg"`
		RequestID string `json:"request_id"`
		Op        string `json:"op"`
		Err       string `json:"err"`
	}
	if err := json.Unmarshal(logs.Bytes(), &entry); err != nil {
		t.Fatalf("want exactly one JSON log record, got %q: %v", logs.String(), err)
	}
	want := struct {
		Msg       string `json:"msg"`
		RequestID string `json:"request_id"`
		Op        string `json:"op"`
		Err       string `json:"err"`
	}{"internal error", pinnedRequestID, "Fail", "list users: connection refused"}
	if diff := cmp.Diff(want, entry); diff != "" {
		t.Errorf("log record mismatch (-want +got):\n%s", diff)
	}
	serve(svc, "AWSIdentityStore.Unknown", "{}")
	if diff := cmp.Diff([]string{"WhoAmI", "Denied", "Fail"}, authOps); diff != "" {
		t.Errorf("Authenticate calls mismatch (-want +got):\n%s", diff)
	}
}

func TestJSONServiceBodyLimit(t *testing.T) {
	svc := testService()
	svc.MaxBodyBytes = 16
	rec := serve(svc, "SWBExternalService.Echo", `{"Name":"a very long name indeed"}`)
	if rec.Code != 400 || rec.Header().Get("X-Amzn-ErrorType") != "SerializationException" {
		t.Errorf("oversized body = %d %s", rec.Code, rec.Body)
	}
}

func TestDispatch(t *testing.T) {
	svc := testService()
	out, err := svc.Dispatch(t.Context(), "SWBExternalService.Echo", []byte(`{"Name":"x"}`))
	if err != nil || string(out) != `{"Name":"x","CreatedDate":1795320121.123}` {
		t.Errorf("Dispatch = %s, %v", out, err)
	}
	_, err = svc.Dispatch(t.Context(), "SWBExternalService.Nope", nil)
	if e, ok := errors.AsType[*Error](err); !ok || e.Code != "UnknownOperationException" {
		t.Errorf("Dispatch(unknown) error = %v, want UnknownOperationException", err)
	}
}

// FuzzOp checks that no request body makes the awsJson decoder panic and that
// every rejection is a SerializationException.
func FuzzOp(f *testing.F) {
	for _, s := range []string{`{}`, `{"Name":"x","Count":3,"Nested":{"Value":"v"}}`, `[]`, `{"Count":"x"}`, `null`, ``, `{"Name":`} {
		f.Add([]byte(s))
	}
	op := Op(func(ctx context.Context, in *testInput) (*testInput, error) { return in, nil })
	f.Fuzz(func(t *testing.T, body []byte) {
		out, err := op(context.Background(), body)
		if err != nil {
			if e, ok := errors.AsType[*Error](err); !ok || e.Code != "SerializationException" {
				t.Fatalf("error = %v, want SerializationException", err)
			}
			return
		}
		var again testInput
		if err := json.Unmarshal(out, &again); err != nil {
			t.Fatalf("output %s does not decode: %v", out, err)
		}
	})
}

// TestRestErrorBodiesCarryMessage checks that every sso-oidc and portal
// error body has a non-empty "message": botocore prints that member after
// "when calling the … operation:" and prints nothing without it. The
// sso-oidc bodies keep "error" and "error_description" for the SDKs.
func TestRestErrorBodiesCarryMessage(t *testing.T) {
	tests := []struct {
		name  string
		e     *Error
		oauth string
	}{
		{"authorization_pending", OIDCAuthorizationPending("pending"), "authorization_pending"},
		{"slow_down", OIDCSlowDown("slow"), "slow_down"},
		{"expired_token", OIDCExpiredToken("expired"), "expired_token"},
		{"access_denied", OIDCAccessDenied("denied"), "access_denied"},
		{"invalid_grant", OIDCInvalidGrant("grant"), "invalid_grant"},
		{"invalid_client", OIDCInvalidClient("client"), "invalid_client"},
		{"unauthorized_client", OIDCUnauthorizedClient("unauthorized"), "unauthorized_client"},
		{"unsupported_grant_type", OIDCUnsupportedGrantType("grant type"), "unsupported_grant_type"},
		{"invalid_scope", OIDCInvalidScope("scope"), "invalid_scope"},
		{"invalid_request", OIDCInvalidRequest("Unknown startUrl."), "invalid_request"},
		{"invalid_client_metadata", OIDCInvalidClientMetadata("metadata"), "invalid_client_metadata"},
		{"invalid_redirect_uri", OIDCInvalidRedirectURI("redirect"), "invalid_redirect_uri"},
		{"invalid_request_region", OIDCInvalidRequestRegion("region", "https://oidc.eu-west-1.amazonaws.com", "eu-west-1"), "invalid_request"},
		{"server_error", OIDCInternal(errors.New("boom")), "server_error"},
		{"portal_invalid_request", PortalInvalidRequest("bad"), ""},
		{"portal_unauthorized", PortalUnauthorized("Session token not found or invalid"), ""},
		{"portal_not_found", PortalResourceNotFound("no such role"), ""},
		{"portal_too_many", PortalTooManyRequests("slow down"), ""},
		{"portal_forbidden", PortalForbidden("No access"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			WriteError(rec, tt.e)
			var body map[string]string
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %s: %v", rec.Body, err)
			}
			if body["message"] == "" || body["message"] != tt.e.Message {
				t.Errorf("body %s: message = %q, want %q", rec.Body, body["message"], tt.e.Message)
			}
			if tt.oauth == "" {
				return
			}
			if body["error"] != tt.oauth || body["error_description"] != tt.e.Message {
				t.Errorf("body %s: want error %q and error_description %q", rec.Body, tt.oauth, tt.e.Message)
			}
		})
	}
}

// TestErrorForDomainFaults is the one domain-error → wire-error table of
// every protocol: fault kinds, store sentinels and invalid policy documents
// (awsJson1_1 codes from the botocore sso-admin and identitystore models,
// awsQuery codes from the sts and iam models, the portal's from sso).
func TestErrorForDomainFaults(t *testing.T) {
	type wire struct {
		Code    string
		Status  int
		Message string
	}
	badPolicy := policy.CheckInline([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"*","Resource":"*"}]}`))
	if _, ok := errors.AsType[*policy.Error](badPolicy); !ok {
		t.Fatalf("CheckInline(bad) = %v, want a *policy.Error", badPolicy)
	}
	internal := map[Protocol]wire{
		ProtocolJSON: {"InternalServerException", 500, "An internal error occurred."}, ProtocolOIDC: {"InternalServerException", 500, "An internal error occurred."},
		ProtocolQuery: {"InternalFailure", 500, "An internal error occurred."}, ProtocolIAM: {"InternalFailure", 500, "An internal error occurred."},
		ProtocolPortal: {"InternalServerException", 500, "An internal error occurred."},
	}
	tests := []struct {
		name string
		err  error
		want map[Protocol]wire
	}{
		{"validation", fmt.Errorf("put: %w", fault.Validationf("bad name")), map[Protocol]wire{
			ProtocolJSON: {"ValidationException", 400, "bad name"}, ProtocolQuery: {"ValidationError", 400, "bad name"},
			ProtocolIAM: {"InvalidInput", 400, "bad name"}, ProtocolPortal: {"InvalidRequestException", 400, "bad name"},
		}},
		{"not found", fault.NotFoundf("USER", "u-1", "User not found"), map[Protocol]wire{
			ProtocolJSON: {"ResourceNotFoundException", 400, "User not found"}, ProtocolIAM: {"NoSuchEntity", 404, "User not found"},
			ProtocolPortal: {"ResourceNotFoundException", 404, "User not found"},
		}},
		{"store not found", fmt.Errorf("get: %w", store.ErrNotFound), map[Protocol]wire{
			ProtocolJSON: {"ResourceNotFoundException", 400, "The specified resource was not found"}, ProtocolIAM: {"NoSuchEntity", 404, "The specified resource was not found"},
			ProtocolPortal: {"ResourceNotFoundException", 404, "The specified resource was not found"},
		}},
		{"conflict", fault.Conflictf("exists"), map[Protocol]wire{
			ProtocolJSON: {"ConflictException", 400, "exists"}, ProtocolIAM: {"EntityAlreadyExists", 409, "exists"},
		}},
		{"quota", fault.Quotaf("too many"), map[Protocol]wire{
			ProtocolJSON: {"ServiceQuotaExceededException", 400, "too many"}, ProtocolIAM: {"LimitExceeded", 409, "too many"},
			ProtocolPortal: {"TooManyRequestsException", 429, "too many"},
		}},
		{"denied", fault.Deniedf("User: arn:x is not authorized to perform: sso:ListInstances"), map[Protocol]wire{
			ProtocolJSON:   {"AccessDeniedException", 400, "User: arn:x is not authorized to perform: sso:ListInstances"},
			ProtocolQuery:  {"AccessDenied", 403, "User: arn:x is not authorized to perform: sso:ListInstances"},
			ProtocolIAM:    {"AccessDenied", 403, "User: arn:x is not authorized to perform: sso:ListInstances"},
			ProtocolPortal: {"ForbiddenException", 403, "No access"},
		}},
		{"unavailable", fmt.Errorf("check revocation: %w", fault.Unavailablef(errors.New("read change sequence: database is locked"), "retry")), map[Protocol]wire{
			ProtocolJSON: {"ThrottlingException", 400, "retry"}, ProtocolOIDC: {"ServiceUnavailableException", 503, "retry"},
			ProtocolQuery: {"ServiceUnavailable", 503, "retry"}, ProtocolIAM: {"ServiceUnavailable", 503, "retry"},
			ProtocolPortal: {"TooManyRequestsException", 429, "retry"},
		}},
		{"policy", fmt.Errorf("put inline: %w", badPolicy), map[Protocol]wire{
			ProtocolJSON: {"ValidationException", 400, badPolicy.Error()}, ProtocolQuery: {"MalformedPolicyDocument", 400, badPolicy.Error()},
			ProtocolIAM: {"MalformedPolicyDocument", 400, badPolicy.Error()}, ProtocolPortal: {"InvalidRequestException", 400, badPolicy.Error()},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, p := range []Protocol{ProtocolJSON, ProtocolOIDC, ProtocolQuery, ProtocolIAM, ProtocolPortal} {
				want, ok := tt.want[p]
				if !ok {
					want = internal[p] // no code for this kind: an internal error, cause logged
				}
				e := ErrorFor(p, tt.err)
				if diff := cmp.Diff(want, wire{e.Code, e.HTTPStatus(), e.Message}); diff != "" {
					t.Errorf("protocol %d mismatch (-want +got):\n%s", p, diff)
				}
				if !errors.Is(e, tt.err) {
					t.Errorf("protocol %d: mapped error does not wrap the cause", p)
				}
			}
		})
	}
	// identitystore's members travel with the JSON error.
	e := ErrorFor(ProtocolJSON, &fault.Error{Kind: fault.Conflict, Message: "dup", Reason: "UNIQUENESS_CONSTRAINT_VIOLATION"})
	if e.Reason != "UNIQUENESS_CONSTRAINT_VIOLATION" {
		t.Errorf("Reason = %q", e.Reason)
	}
	e = ErrorFor(ProtocolJSON, fault.NotFoundf("USER", "u-1", "User not found"))
	if e.ResourceType != "USER" || e.ResourceID != "u-1" {
		t.Errorf("ResourceType, ResourceID = %q, %q", e.ResourceType, e.ResourceID)
	}
}

// TestUnavailableRetryAfter: every protocol's writer sends the answer to a
// fault.Unavailable with Retry-After, and never as a 500.
func TestUnavailableRetryAfter(t *testing.T) {
	err := fault.Unavailablef(errors.New("read change sequence: database is locked"), "retry")
	write := map[Protocol]func(http.ResponseWriter, *Error){
		ProtocolJSON:   WriteJSONError,
		ProtocolOIDC:   WriteError,
		ProtocolPortal: WriteError,
		ProtocolQuery:  func(w http.ResponseWriter, e *Error) { WriteQueryError(w, STSNamespace, e) },
		ProtocolIAM:    func(w http.ResponseWriter, e *Error) { WriteQueryError(w, IAMNamespace, e) },
	}
	for p, wr := range write {
		rec := httptest.NewRecorder()
		wr(rec, ErrorFor(p, err))
		if rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable {
			t.Errorf("protocol %d: status %d", p, rec.Code)
		}
		if got := rec.Header().Get("Retry-After"); got != "1" {
			t.Errorf("protocol %d: Retry-After %q, want 1", p, got)
		}
	}
	rec := httptest.NewRecorder()
	WriteError(rec, PortalInvalidRequest("bad"))
	if got := rec.Header().Get("Retry-After"); got != "" {
		t.Errorf("Retry-After %q on a client error", got)
	}
}

// TestLogFailure checks the level of each kind of failure: a client that
// went away is Debug "client went away", an unavailable database Warn, an
// internal error Error, a client error nothing.
func TestLogFailure(t *testing.T) {
	gone, cancel := context.WithCancel(t.Context())
	cancel()
	unavailable := fault.Unavailablef(errors.New("read change sequence: database is locked"), "retry")
	tests := []struct {
		name   string
		ctx    context.Context
		status int
		err    error
		want   string // "" for nothing logged, else "LEVEL msg"
	}{
		{"internal", t.Context(), 500, errors.New("disk full"), "ERROR handler failed"},
		{"client went away", gone, 500, fmt.Errorf("record GetRoleCredentials: %w", context.Canceled), "DEBUG client went away"},
		{"unavailable, client went away", gone, 429, fmt.Errorf("check: %w", fault.Unavailablef(context.Canceled, "retry")), "DEBUG client went away"},
		{"canceled, but not the request", t.Context(), 500, context.Canceled, "ERROR handler failed"},
		{"unavailable", t.Context(), 429, unavailable, "WARN handler failed"},
		{"client error", t.Context(), 400, errors.New("bad input"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
			LogFailure(tt.ctx, log, tt.status, tt.err, "handler failed", slog.String("op", "GetRoleCredentials"))
			got := buf.String()
			if tt.want == "" {
				if got != "" {
					t.Errorf("logged %q, want nothing", got)
				}
				return
			}
			level, msg, _ := strings.Cut(tt.want, " ")
			if !strings.Contains(got, "level="+level) || !strings.Contains(got, fmt.Sprintf("msg=%q", msg)) && !strings.Contains(got, "msg="+msg) ||
				!strings.Contains(got, "op=GetRoleCredentials") {
				t.Errorf("logged %q, want %s", got, tt.want)
			}
		})
	}
	LogFailure(t.Context(), nil, 500, errors.New("x"), "nil logger") // must not panic
}
