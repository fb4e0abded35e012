package awsproto

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	idstypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/sso/types"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssoadmintypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"
	oidctypes "github.com/aws/aws-sdk-go-v2/service/ssooidc/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse/internal/sigv4"
)

// The SDK tests run the real aws-sdk-go-v2 clients against handlers built
// from this package: the SDK is the oracle of wire compatibility.

const (
	sdkKeyID  = "AKIAIOSFODNN7EXAMPLE"
	sdkSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func sdkSecrets(_ context.Context, akid, _ string) (string, error) {
	switch akid {
	case sdkKeyID:
		return sdkSecret, nil
	case "ASIAEXPIREDEXAMPLE00":
		return "", sigv4.ErrExpiredToken
	}
	return "", sigv4.ErrUnknownAccessKey
}

// sigv4Auth is a JSONService.Authenticate hook verifying SigV4 for service.
func sigv4Auth(service string) func(*http.Request, string, []byte) (context.Context, error) {
	v := &sigv4.Verifier{}
	return func(r *http.Request, _ string, body []byte) (context.Context, error) {
		if _, err := v.Verify(r.Context(), r, body, service, sdkSecrets); err != nil {
			return nil, err
		}
		return r.Context(), nil
	}
}

func staticCreds(id, secret string) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(id, secret, "")
}

type createPermissionSetInput struct {
	InstanceArn     string
	Name            string
	Description     string
	SessionDuration string
}

type permissionSet struct {
	Name             string    `json:",omitempty"`
	PermissionSetArn string    `json:",omitempty"`
	Description      string    `json:",omitempty"`
	SessionDuration  string    `json:",omitempty"`
	CreatedDate      Timestamp `json:",omitzero"`
}

type createPermissionSetOutput struct {
	PermissionSet *permissionSet `json:",omitempty"`
}

var created = time.Date(2026, 11, 22, 4, 2, 1, 250e6, time.UTC)

func ssoAdminServer(t *testing.T) *httptest.Server {
	t.Helper()
	svc := &JSONService{
		TargetPrefix: "SWBExternalService",
		Authenticate: sigv4Auth("sso"),
		Operations: map[string]Operation{
			"CreatePermissionSet": Op(func(ctx context.Context, in *createPermissionSetInput) (*createPermissionSetOutput, error) {
				switch in.Name {
				case "Duplicate":
					return nil, Conflict("A permission set with name Duplicate already exists.")
				case "Kms":
					e := Validation("KMS key is disabled.")
					e.Reason = "KMS_DisabledException"
					return nil, e
				case "Boom":
					return nil, errors.New("disk full")
				}
				return &createPermissionSetOutput{PermissionSet: &permissionSet{
					Name:             in.Name,
					PermissionSetArn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222",
					Description:      in.Description,
					SessionDuration:  in.SessionDuration,
					CreatedDate:      Timestamp{created},
				}}, nil
			}),
		},
	}
	srv := httptest.NewServer(svc)
	t.Cleanup(srv.Close)
	return srv
}

func TestSSOAdminSDK(t *testing.T) {
	srv := ssoAdminServer(t)
	client := ssoadmin.New(ssoadmin.Options{
		Region:       "eu-west-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  staticCreds(sdkKeyID, sdkSecret),
		Retryer:      aws.NopRetryer{},
	})
	call := func(name string) (*ssoadmin.CreatePermissionSetOutput, error) {
		return client.CreatePermissionSet(t.Context(), &ssoadmin.CreatePermissionSetInput{
			InstanceArn:     aws.String("arn:aws:sso:::instance/ssoins-1111111111111111"),
			Name:            aws.String(name),
			Description:     aws.String("read only"),
			SessionDuration: aws.String("PT8H"),
		})
	}

	t.Run("success", func(t *testing.T) {
		out, err := call("ReadOnly")
		if err != nil {
			t.Fatal(err)
		}
		want := &ssoadmintypes.PermissionSet{
			Name:             aws.String("ReadOnly"),
			PermissionSetArn: aws.String("arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222"),
			Description:      aws.String("read only"),
			SessionDuration:  aws.String("PT8H"),
			CreatedDate:      aws.Time(created),
		}
		if diff := cmp.Diff(want, out.PermissionSet, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) }), cmp.AllowUnexported(ssoadmintypes.PermissionSet{})); diff != "" {
			t.Errorf("PermissionSet mismatch (-want +got):\n%s", diff)
		}
		if raw, ok := awsmiddleware.GetRawResponse(out.ResultMetadata).(*smithyhttp.Response); ok {
			if got := raw.Header.Get("X-Amzn-RequestId"); !uuidPattern.MatchString(got) {
				t.Errorf("x-amzn-RequestId = %q, want a UUID v4", got)
			}
			if raw.Header.Get("Date") == "" {
				t.Error("response has no Date header")
			}
		} else {
			t.Error("no raw response in result metadata")
		}
	})

	t.Run("conflict", func(t *testing.T) {
		_, err := call("Duplicate")
		ce, ok := errors.AsType[*ssoadmintypes.ConflictException](err)
		if !ok {
			t.Fatalf("error = %v, want *types.ConflictException", err)
		}
		if diff := cmp.Diff("A permission set with name Duplicate already exists.", aws.ToString(ce.Message)); diff != "" {
			t.Errorf("Message mismatch (-want +got):\n%s", diff)
		}
		wantStatus(t, err, http.StatusBadRequest)
	})

	t.Run("validation with reason", func(t *testing.T) {
		_, err := call("Kms")
		ve, ok := errors.AsType[*ssoadmintypes.ValidationException](err)
		if !ok {
			t.Fatalf("error = %v, want *types.ValidationException", err)
		}
		if diff := cmp.Diff(ssoadmintypes.ValidationExceptionReasonKmsDisabledException, ve.Reason); diff != "" {
			t.Errorf("Reason mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("internal", func(t *testing.T) {
		_, err := call("Boom")
		if _, ok := errors.AsType[*ssoadmintypes.InternalServerException](err); !ok {
			t.Fatalf("error = %v, want *types.InternalServerException", err)
		}
		wantStatus(t, err, http.StatusInternalServerError)
	})

	t.Run("wrong secret", func(t *testing.T) {
		bad := ssoadmin.New(ssoadmin.Options{
			Region:       "eu-west-1",
			BaseEndpoint: aws.String(srv.URL),
			Credentials:  staticCreds(sdkKeyID, "wrong"),
			Retryer:      aws.NopRetryer{},
		})
		_, err := bad.CreatePermissionSet(t.Context(), &ssoadmin.CreatePermissionSetInput{
			InstanceArn: aws.String("arn:aws:sso:::instance/ssoins-1111111111111111"), Name: aws.String("X"),
		})
		wantAPIError(t, err, "InvalidSignatureException", http.StatusForbidden)
	})

	t.Run("unknown key", func(t *testing.T) {
		bad := ssoadmin.New(ssoadmin.Options{
			Region:       "eu-west-1",
			BaseEndpoint: aws.String(srv.URL),
			Credentials:  staticCreds("AKIAUNKNOWN000000000", sdkSecret),
			Retryer:      aws.NopRetryer{},
		})
		_, err := bad.CreatePermissionSet(t.Context(), &ssoadmin.CreatePermissionSetInput{
			InstanceArn: aws.String("arn:aws:sso:::instance/ssoins-1111111111111111"), Name: aws.String("X"),
		})
		wantAPIError(t, err, "UnrecognizedClientException", http.StatusForbidden)
	})

	t.Run("unknown operation", func(t *testing.T) {
		_, err := client.ListInstances(t.Context(), &ssoadmin.ListInstancesInput{})
		wantAPIError(t, err, "UnknownOperationException", http.StatusBadRequest)
	})
}

func wantStatus(t *testing.T, err error, status int) {
	t.Helper()
	re, ok := errors.AsType[*awshttp.ResponseError](err)
	if !ok {
		t.Fatalf("error = %v, want an HTTP response error", err)
	}
	if re.HTTPStatusCode() != status {
		t.Errorf("status = %d, want %d", re.HTTPStatusCode(), status)
	}
}

func wantAPIError(t *testing.T, err error, code string, status int) {
	t.Helper()
	ae, ok := errors.AsType[smithy.APIError](err)
	if !ok {
		t.Fatalf("error = %v, want a smithy.APIError", err)
	}
	if ae.ErrorCode() != code {
		t.Errorf("ErrorCode() = %q, want %q (%v)", ae.ErrorCode(), code, err)
	}
	wantStatus(t, err, status)
}

func TestIdentityStoreSDKResourceNotFound(t *testing.T) {
	svc := &JSONService{
		TargetPrefix:   "AWSIdentityStore",
		Authenticate:   sigv4Auth("identitystore"),
		ErrorRequestID: true,
		Operations: map[string]Operation{
			"DescribeUser": Op(func(ctx context.Context, in *struct{ IdentityStoreId, UserId string }) (*struct{}, error) {
				e := ResourceNotFound("User " + in.UserId + " not found.")
				e.ResourceType, e.ResourceID = "USER", in.UserId
				return nil, e
			}),
		},
	}
	srv := httptest.NewServer(svc)
	t.Cleanup(srv.Close)
	client := identitystore.New(identitystore.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  staticCreds(sdkKeyID, sdkSecret),
		Retryer:      aws.NopRetryer{},
	})
	const userID = "9067d0a6-e0b1-70c3-3bf4-4ff7d1e3b6e1"
	_, err := client.DescribeUser(t.Context(), &identitystore.DescribeUserInput{
		IdentityStoreId: aws.String("d-1234567890"), UserId: aws.String(userID),
	})
	nf, ok := errors.AsType[*idstypes.ResourceNotFoundException](err)
	if !ok {
		t.Fatalf("error = %v, want *types.ResourceNotFoundException", err)
	}
	got := struct{ Message, ResourceType, ResourceID, RequestID string }{
		aws.ToString(nf.Message), string(nf.ResourceType), aws.ToString(nf.ResourceId), aws.ToString(nf.RequestId),
	}
	want := struct{ Message, ResourceType, ResourceID, RequestID string }{
		"User " + userID + " not found.", "USER", userID, got.RequestID,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ResourceNotFoundException mismatch (-want +got):\n%s", diff)
	}
	if !uuidPattern.MatchString(got.RequestID) {
		t.Errorf("RequestId = %q, want a UUID v4", got.RequestID)
	}
	re, _ := errors.AsType[*awshttp.ResponseError](err)
	if re == nil || re.ServiceRequestID() != got.RequestID {
		t.Errorf("header request ID differs from body RequestId %q: %v", got.RequestID, err)
	}
}

func TestSSOOIDCSDKErrors(t *testing.T) {
	errs := map[string]*Error{
		"pending":        OIDCAuthorizationPending("Authorization is pending."),
		"slow":           OIDCSlowDown("Slow down."),
		"expired":        OIDCExpiredToken("Device code expired."),
		"denied":         OIDCAccessDenied("Denied."),
		"grant":          OIDCInvalidGrant("Invalid grant provided"),
		"client":         OIDCInvalidClient("Invalid client."),
		"unauthorized":   OIDCUnauthorizedClient("Not allowed."),
		"grant_type":     OIDCUnsupportedGrantType("Unsupported grant type."),
		"scope":          OIDCInvalidScope("Invalid scope."),
		"request":        OIDCInvalidRequest("Missing clientSecret."),
		"region":         OIDCInvalidRequestRegion("Wrong region.", "https://oidc.eu-west-1.amazonaws.com", "eu-west-1"),
		"internal_error": ErrorFor(ProtocolOIDC, errors.New("cause")),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ ClientId string }
		body, _ := io.ReadAll(r.Body)
		if err := jsonUnmarshal(body, &in); err != nil {
			WriteError(w, OIDCInvalidRequest(err.Error()))
			return
		}
		WriteError(w, errs[in.ClientId])
	})
	mux.HandleFunc("POST /client/register", func(w http.ResponseWriter, r *http.Request) {
		e := OIDCInvalidClientMetadata("clientType must be public.")
		if r.URL.Query().Has("redirect") {
			e = OIDCInvalidRedirectURI("Bad redirect.")
		}
		WriteError(w, e)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	client := ssooidc.New(ssooidc.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Retryer: aws.NopRetryer{}})
	createToken := func(clientID string) error {
		_, err := client.CreateToken(t.Context(), &ssooidc.CreateTokenInput{
			ClientId: aws.String(clientID), ClientSecret: aws.String("s"),
			GrantType: aws.String("urn:ietf:params:oauth:grant-type:device_code"), DeviceCode: aws.String("dc"),
		})
		return err
	}

	t.Run("authorization pending is typed", func(t *testing.T) {
		err := createToken("pending")
		var pending *oidctypes.AuthorizationPendingException
		if !errors.As(err, &pending) {
			t.Fatalf("error = %v, want *types.AuthorizationPendingException", err)
		}
		got := [2]string{aws.ToString(pending.Error_), aws.ToString(pending.Error_description)}
		if diff := cmp.Diff([2]string{"authorization_pending", "Authorization is pending."}, got); diff != "" {
			t.Errorf("error members mismatch (-want +got):\n%s", diff)
		}
		wantStatus(t, err, http.StatusBadRequest)
	})

	typed := []struct {
		clientID string
		is       func(error) bool
		status   int
	}{
		{"slow", isType[*oidctypes.SlowDownException], 400},
		{"expired", isType[*oidctypes.ExpiredTokenException], 400},
		{"denied", isType[*oidctypes.AccessDeniedException], 400},
		{"grant", isType[*oidctypes.InvalidGrantException], 400},
		{"client", isType[*oidctypes.InvalidClientException], 401},
		{"unauthorized", isType[*oidctypes.UnauthorizedClientException], 400},
		{"grant_type", isType[*oidctypes.UnsupportedGrantTypeException], 400},
		{"scope", isType[*oidctypes.InvalidScopeException], 400},
		{"request", isType[*oidctypes.InvalidRequestException], 400},
		{"region", func(err error) bool {
			e, ok := errors.AsType[*oidctypes.InvalidRequestRegionException](err)
			return ok && aws.ToString(e.Region) == "eu-west-1" && aws.ToString(e.Endpoint) == "https://oidc.eu-west-1.amazonaws.com"
		}, 400},
		{"internal_error", isType[*oidctypes.InternalServerException], 500},
	}
	for _, tt := range typed {
		t.Run(tt.clientID, func(t *testing.T) {
			err := createToken(tt.clientID)
			if !tt.is(err) {
				t.Fatalf("error = %#v (%v): not the expected typed error", err, err)
			}
			wantStatus(t, err, tt.status)
		})
	}

	t.Run("register client errors", func(t *testing.T) {
		_, err := client.RegisterClient(t.Context(), &ssooidc.RegisterClientInput{ClientName: aws.String("c"), ClientType: aws.String("confidential")})
		if !isType[*oidctypes.InvalidClientMetadataException](err) {
			t.Fatalf("error = %v, want *types.InvalidClientMetadataException", err)
		}
	})
}

func isType[T error](err error) bool {
	_, ok := errors.AsType[T](err)
	return ok
}

func TestPortalSDK(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /federation/credentials", func(w http.ResponseWriter, r *http.Request) {
		switch r.Header.Get("X-Amz-Sso_bearer_token") {
		case "good":
			WriteJSON(w, http.StatusOK, map[string]any{"roleCredentials": map[string]any{
				"accessKeyId": "ASIAEXAMPLE", "secretAccessKey": "s", "sessionToken": "t", "expiration": created.UnixMilli(),
			}})
		case "no-access":
			WriteError(w, PortalForbidden("No access"))
		default:
			WriteError(w, PortalUnauthorized("Session token not found or invalid"))
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	client := sso.New(sso.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Retryer: aws.NopRetryer{}})
	get := func(token string) (*sso.GetRoleCredentialsOutput, error) {
		return client.GetRoleCredentials(t.Context(), &sso.GetRoleCredentialsInput{
			AccessToken: aws.String(token), AccountId: aws.String("111122223333"), RoleName: aws.String("ReadOnly"),
		})
	}
	out, err := get("good")
	if err != nil {
		t.Fatal(err)
	}
	if got := out.RoleCredentials.Expiration; got != created.UnixMilli() {
		t.Errorf("expiration = %d, want %d", got, created.UnixMilli())
	}
	_, err = get("bad")
	ue, ok := errors.AsType[*ssotypes.UnauthorizedException](err)
	if !ok || aws.ToString(ue.Message) != "Session token not found or invalid" {
		t.Fatalf("error = %v, want *types.UnauthorizedException with the AWS message", err)
	}
	_, err = get("no-access")
	wantAPIError(t, err, "ForbiddenException", http.StatusForbidden)
}

type getCallerIdentityResult struct {
	Arn     string
	UserID  string `xml:"UserId"`
	Account string
}

func TestSTSSDK(t *testing.T) {
	v := &sigv4.Verifier{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		q, err := ParseQueryRequest(r, body)
		if err != nil {
			WriteQueryError(w, STSNamespace, ErrorFor(ProtocolQuery, err))
			return
		}
		if _, err := v.Verify(r.Context(), r, body, "sts", sdkSecrets); err != nil {
			WriteQueryError(w, STSNamespace, ErrorFor(ProtocolQuery, err))
			return
		}
		if q.Action != "GetCallerIdentity" || q.Version != "2011-06-15" {
			WriteQueryError(w, STSNamespace, QueryInvalidAction(q.Action, q.Version))
			return
		}
		WriteQueryResponse(w, STSNamespace, q.Action, getCallerIdentityResult{
			Arn: "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_ReadOnly_0123456789abcdef/alice", UserID: "AROAEXAMPLE:alice", Account: "111122223333",
		})
	}))
	t.Cleanup(srv.Close)
	newClient := func(id, secret, token string) *sts.Client {
		return sts.New(sts.Options{
			Region: "us-west-2", BaseEndpoint: aws.String(srv.URL), Retryer: aws.NopRetryer{},
			Credentials: credentials.NewStaticCredentialsProvider(id, secret, token),
		})
	}

	out, err := newClient(sdkKeyID, sdkSecret, "").GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	got := getCallerIdentityResult{aws.ToString(out.Arn), aws.ToString(out.UserId), aws.ToString(out.Account)}
	want := getCallerIdentityResult{"arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_ReadOnly_0123456789abcdef/alice", "AROAEXAMPLE:alice", "111122223333"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GetCallerIdentity mismatch (-want +got):\n%s", diff)
	}

	_, err = newClient("ASIAEXPIREDEXAMPLE00", "x", "st-old").GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
	wantAPIError(t, err, "ExpiredToken", http.StatusForbidden)
	_, err = newClient("AKIAUNKNOWN000000000", "x", "").GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
	wantAPIError(t, err, "InvalidClientTokenId", http.StatusForbidden)
	_, err = newClient(sdkKeyID, "wrong", "").GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
	wantAPIError(t, err, "SignatureDoesNotMatch", http.StatusForbidden)
	_, err = newClient(sdkKeyID, sdkSecret, "").GetSessionToken(t.Context(), &sts.GetSessionTokenInput{})
	wantAPIError(t, err, "InvalidAction", http.StatusBadRequest)
}
