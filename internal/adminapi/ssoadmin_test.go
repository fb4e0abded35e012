package adminapi_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	"github.com/aws/smithy-go"

	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

func TestListInstances(t *testing.T) {
	srv := demoServer(t)
	ctx := t.Context()
	out, err := ssoAdmin(srv, adminCreds(t, srv)).ListInstances(ctx, &ssoadmin.ListInstancesInput{})
	if err != nil {
		t.Fatalf("ListInstances: %v", err)
	}
	if len(out.Instances) != 1 {
		t.Fatalf("instances = %d, want 1", len(out.Instances))
	}
	in := out.Instances[0]
	if got, want := aws.ToString(in.InstanceArn), arn.InstanceARN(srv.Instance.InstanceID); got != want {
		t.Errorf("InstanceArn = %q, want %q", got, want)
	}
	if aws.ToString(in.IdentityStoreId) != srv.Instance.IdentityStoreID || aws.ToString(in.OwnerAccountId) != srv.Instance.ManagementAccountID ||
		in.Status != "ACTIVE" || in.CreatedDate == nil || in.CreatedDate.IsZero() {
		t.Errorf("instance = %+v", in)
	}
	d, err := ssoAdmin(srv, adminCreds(t, srv)).DescribeInstance(ctx, &ssoadmin.DescribeInstanceInput{InstanceArn: in.InstanceArn})
	if err != nil || aws.ToString(d.IdentityStoreId) != srv.Instance.IdentityStoreID {
		t.Fatalf("DescribeInstance = %+v, %v", d, err)
	}
	_, err = ssoAdmin(srv, adminCreds(t, srv)).DescribeInstance(ctx, &ssoadmin.DescribeInstanceInput{InstanceArn: aws.String("arn:aws:sso:::instance/ssoins-0000000000000000")})
	if code := errCode(err); code != "ResourceNotFoundException" {
		t.Errorf("DescribeInstance(unknown) = %v, want ResourceNotFoundException", err)
	}
	events(t, srv, "ListInstances", "")
}

func TestAdminAPIAccessDenied(t *testing.T) {
	srv := demoServer(t)
	cases := []struct{ name, user, account, role string }{
		{"PowerUserAccess on a member account", "ed.developer", "dev", "PowerUserAccess"},
		{"AdministratorAccess on a member account", "alice@company.com", "dev", "AdministratorAccess"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			creds := roleCreds(t, srv, tc.user, tc.account, tc.role)
			_, err := ssoAdmin(srv, creds).ListInstances(t.Context(), &ssoadmin.ListInstancesInput{})
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" {
				t.Fatalf("ListInstances = %v, want AccessDeniedException", err)
			}
			want := "User: arn:aws:sts::" + accountID(t, srv, tc.account) + ":assumed-role/"
			if !strings.HasPrefix(ae.ErrorMessage(), want) || !strings.Contains(ae.ErrorMessage(), " is not authorized to perform: sso:ListInstances on resource: * because only the management account and delegated administrators may call sso APIs") {
				t.Errorf("message = %q", ae.ErrorMessage())
			}
		})
	}
	events(t, srv, "ListInstances", "AccessDeniedException")
}

func TestAdminAPIBadRequests(t *testing.T) {
	srv := demoServer(t)
	admin := adminCreds(t, srv)
	cases := []struct {
		name, target, body string
		sign               bool
		header             string
		wantStatus         int
		wantCode           string
	}{
		{"unsigned", "SWBExternalService.ListInstances", "{}", false, "", 403, "MissingAuthenticationTokenException"},
		{"unknown access key", "SWBExternalService.ListInstances", "{}", false,
			"AWS4-HMAC-SHA256 Credential=ASIAAAAAAAAAAAAAAAAA/" + time.Now().UTC().Format("20060102") + "/us-east-1/sso/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + strings.Repeat("0", 64), 403, "UnrecognizedClientException"},
		{"bad signature", "SWBExternalService.ListInstances", "{}", true, "tamper", 403, "InvalidSignatureException"},
		{"unknown target", "SWBExternalService.NoSuchOperation", "{}", true, "", 400, "UnknownOperationException"},
		{"bad JSON", "SWBExternalService.ListInstances", "{", true, "", 400, "SerializationException"},
		{"MaxResults out of range", "SWBExternalService.ListInstances", `{"MaxResults":0}`, true, "", 400, "ValidationException"},
		{"DescribeInstance without InstanceArn", "SWBExternalService.DescribeInstance", `{}`, true, "", 400, "ValidationException"},
	}
	before, _ := srv.Store.ChangeSeq(t.Context())
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/", strings.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			req.Header.Set("X-Amz-Target", tc.target)
			req.Header.Set("X-Amz-Date", time.Now().UTC().Format("20060102T150405Z"))
			if tc.header != "" && !tc.sign {
				req.Header.Set("Authorization", tc.header)
			}
			var resp *http.Response
			var err error
			if tc.header == "tamper" {
				req.Header.Set("X-Test-Tamper", "1")
			}
			if tc.sign {
				resp, err = signedDo(t, admin, req, tc.body)
			} else {
				resp, err = http.DefaultClient.Do(req)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			var body struct {
				Type string `json:"__type"`
			}
			json.Unmarshal(b, &body)
			if resp.StatusCode != tc.wantStatus || body.Type != tc.wantCode || resp.Header.Get("X-Amzn-Errortype") != tc.wantCode {
				t.Errorf("status %d, body %s; want %d %s", resp.StatusCode, b, tc.wantStatus, tc.wantCode)
			}
		})
	}
	if after, _ := srv.Store.ChangeSeq(t.Context()); after != before {
		t.Errorf("change counter moved from %d to %d", before, after)
	}
	for _, code := range []string{"MissingAuthenticationTokenException", "UnrecognizedClientException", "InvalidSignatureException", "SerializationException", "ValidationException"} {
		events(t, srv, "", code)
	}
}

// events fails unless the store holds an audit event named name (any if
// empty) with the error code code ("" for success).
func events(t *testing.T, srv *servertest.Server, name, code string) {
	t.Helper()
	evs, err := srv.Store.ListEvents(t.Context(), store.EventFilter{Name: name, Page: store.Page{Limit: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if e.Source == "sso.amazonaws.com" && e.ErrorCode == code {
			var rec struct {
				EventSource string `json:"eventSource"`
			}
			if json.Unmarshal(e.Record, &rec) == nil && rec.EventSource == "sso.amazonaws.com" && bytes.Contains(e.Record, []byte(`"userIdentity"`)) {
				return
			}
		}
	}
	t.Errorf("no sso.amazonaws.com event %q with error code %q among %d", name, code, len(evs))
}

func errCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

// signedDo signs req (with body) for sso as creds and sends it.
func signedDo(t *testing.T, creds aws.Credentials, req *http.Request, body string) (*http.Response, error) {
	t.Helper()
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(t.Context(), creds, req, hex.EncodeToString(sum[:]), "sso", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	if req.Header.Get("X-Test-Tamper") != "" {
		req.Header.Del("X-Test-Tamper")
		req.Header.Set("X-Amz-Date", time.Now().Add(-time.Second).UTC().Format("20060102T150405Z"))
	}
	return http.DefaultClient.Do(req)
}
