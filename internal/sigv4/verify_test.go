package sigv4

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	gocmp "github.com/google/go-cmp/cmp"
)

// testNow is the pinned server clock of every test.
var testNow = time.Date(2026, 11, 22, 4, 2, 1, 0, time.UTC)

const (
	longKeyID  = "AKIAIOSFODNN7EXAMPLE"
	longSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	tempKeyID  = "ASIAF6VLHEQI4OBKG42D"
	tempSecret = "tempSecretKeyXXXXXXXXXXXXXXXXXXXXXXXXXXX"
	tempToken  = "st-Tx5nhdqp5JRG6aHBf2uvRaCng37wGxQrMEI2Q6vWRhiogIFbFuLQ3qeRWB0hsrtERxXMihfmZuttlWhy"
	expiredKey = "ASIAEXPIREDEXAMPLE00"
)

var errStoreDown = errors.New("store unavailable")

// fakeSecrets is the SecretFunc of the tests: two live keys, one expired
// temporary key, and a key whose lookup fails.
func fakeSecrets(_ context.Context, akid, token string) (string, error) {
	switch akid {
	case longKeyID:
		return longSecret, nil
	case tempKeyID:
		if token != tempToken {
			return "", ErrRevoked
		}
		return tempSecret, nil
	case expiredKey:
		return "", ErrExpiredToken
	case "AKIASTOREDOWN0000000":
		return "", errStoreDown
	}
	return "", ErrUnknownAccessKey
}

type signSpec struct {
	method  string
	url     string
	body    string
	headers http.Header
	creds   aws.Credentials
	service string
	region  string
	at      time.Time
}

func defaultSpec() signSpec {
	return signSpec{
		method:  http.MethodPost,
		url:     "http://127.0.0.1:9911/",
		body:    "Action=GetCallerIdentity&Version=2011-06-15",
		headers: http.Header{"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"}},
		creds:   aws.Credentials{AccessKeyID: longKeyID, SecretAccessKey: longSecret},
		service: "sts",
		region:  "us-west-2",
		at:      testNow,
	}
}

// sign signs a client request with the SDK's signer and returns it as the
// server sees it, after a round trip through the HTTP/1.1 wire format.
func sign(t testing.TB, s signSpec) (*http.Request, []byte) {
	t.Helper()
	req, err := http.NewRequest(s.method, s.url, strings.NewReader(s.body))
	if err != nil {
		t.Fatal(err)
	}
	if s.body == "" {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	for k, vs := range s.headers {
		req.Header[k] = vs
	}
	sum := sha256.Sum256([]byte(s.body))
	if err := v4.NewSigner().SignHTTP(context.Background(), s.creds, req, hex.EncodeToString(sum[:]), s.service, s.region, s.at); err != nil {
		t.Fatal(err)
	}
	return toServer(t, req)
}

// toServer writes req in wire format and reads it back as a server request.
func toServer(t testing.TB, req *http.Request) (*http.Request, []byte) {
	t.Helper()
	var wire bytes.Buffer
	if err := req.Write(&wire); err != nil {
		t.Fatal(err)
	}
	sr, err := http.ReadRequest(bufio.NewReader(&wire))
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	if _, err := body.ReadFrom(sr.Body); err != nil {
		t.Fatal(err)
	}
	return sr, body.Bytes()
}

func newVerifier() *Verifier { return &Verifier{Now: func() time.Time { return testNow }} }

func TestVerifySDKSigned(t *testing.T) {
	tests := []struct {
		name string
		edit func(*signSpec)
		want Result
	}{
		{
			name: "sts form post",
			edit: func(*signSpec) {},
			want: Result{AccessKeyID: longKeyID, Region: "us-west-2", Service: "sts", Time: testNow},
		},
		{
			name: "session token",
			edit: func(s *signSpec) {
				s.creds = aws.Credentials{AccessKeyID: tempKeyID, SecretAccessKey: tempSecret, SessionToken: tempToken}
			},
			want: Result{AccessKeyID: tempKeyID, SessionToken: tempToken, Region: "us-west-2", Service: "sts", Time: testNow},
		},
		{
			name: "default port and other region",
			edit: func(s *signSpec) { s.url = "https://sts.amazonaws.com/"; s.region = "us-east-1" },
			want: Result{AccessKeyID: longKeyID, Region: "us-east-1", Service: "sts", Time: testNow},
		},
		{
			name: "get with query string",
			edit: func(s *signSpec) {
				s.method, s.body = http.MethodGet, ""
				s.url = "http://localhost:8443/?Version=2011-06-15&Action=GetCallerIdentity&Tags.member.1.Key=a%20b+c&empty=&multi=2&multi=1&x=%2F%3D%26"
			},
			want: Result{AccessKeyID: longKeyID, Region: "us-west-2", Service: "sts", Time: testNow},
		},
		{
			name: "path needing escapes",
			edit: func(s *signSpec) {
				s.url = "http://localhost:8443/assignment/a%20b/c~d/e+f/%C3%A9/x:y"
			},
			want: Result{AccessKeyID: longKeyID, Region: "us-west-2", Service: "sts", Time: testNow},
		},
		{
			name: "awsJson with sdk headers, spaces and repeated values",
			edit: func(s *signSpec) {
				s.service = "identitystore"
				s.body = `{"IdentityStoreId":"d-1234567890","UserName":"alice"}`
				s.headers = http.Header{
					"Content-Type":           {"application/x-amz-json-1.1"},
					"X-Amz-Target":           {"AWSIdentityStore.CreateUser"},
					"Amz-Sdk-Invocation-Id":  {"06fb45d6-2da6-4dac-834f-e7142fd028be"},
					"Amz-Sdk-Request":        {"attempt=1;   max=3"},
					"X-Amz-Meta-Padded":      {"  lots   of    space  "},
					"X-Amz-Meta-Multi-Value": {"one", "two  too"},
				}
			},
			want: Result{AccessKeyID: longKeyID, Region: "us-west-2", Service: "identitystore", Time: testNow},
		},
		{
			name: "content sha256 header",
			edit: func(s *signSpec) {
				sum := sha256.Sum256([]byte(s.body))
				s.headers.Set("X-Amz-Content-Sha256", hex.EncodeToString(sum[:]))
			},
			want: Result{AccessKeyID: longKeyID, Region: "us-west-2", Service: "sts", Time: testNow},
		},
		{
			name: "signed 14 minutes ago",
			edit: func(s *signSpec) { s.at = testNow.Add(-14 * time.Minute) },
			want: Result{AccessKeyID: longKeyID, Region: "us-west-2", Service: "sts", Time: testNow.Add(-14 * time.Minute)},
		},
		{
			name: "signed 14 minutes ahead",
			edit: func(s *signSpec) { s.at = testNow.Add(14 * time.Minute) },
			want: Result{AccessKeyID: longKeyID, Region: "us-west-2", Service: "sts", Time: testNow.Add(14 * time.Minute)},
		},
	}
	v := newVerifier()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := defaultSpec()
			tt.edit(&spec)
			r, body := sign(t, spec)
			got, err := v.Verify(t.Context(), r, body, spec.service, fakeSecrets)
			if err != nil {
				t.Fatalf("Verify: %v\nAuthorization: %s", err, r.Header.Get("Authorization"))
			}
			if diff := gocmp.Diff(&tt.want, got); diff != "" {
				t.Errorf("Result mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestVerifyContentLengthOnlyInField covers a server request whose
// Content-Length was consumed into r.ContentLength.
func TestVerifyContentLengthOnlyInField(t *testing.T) {
	spec := defaultSpec()
	spec.headers.Set("Amz-Sdk-Request", "attempt=1; max=3")
	r, body := sign(t, spec)
	if !strings.Contains(r.Header.Get("Authorization"), "content-length") {
		t.Fatalf("content-length not signed: %s", r.Header.Get("Authorization"))
	}
	r.Header.Del("Content-Length")
	if _, err := newVerifier().Verify(t.Context(), r, body, "sts", fakeSecrets); err != nil {
		t.Fatal(err)
	}
	r.ContentLength++
	_, err := newVerifier().Verify(t.Context(), r, body, "sts", fakeSecrets)
	wantKind(t, err, KindSignatureMismatch)
}

func wantKind(t *testing.T, err error, want Kind) *Error {
	t.Helper()
	e, ok := errors.AsType[*Error](err)
	if !ok {
		t.Fatalf("error = %v, want *sigv4.Error of kind %v", err, want)
	}
	if e.Kind != want {
		t.Fatalf("error kind = %v (%v), want %v", e.Kind, err, want)
	}
	return e
}

func TestVerifyFailures(t *testing.T) {
	type tc struct {
		name    string
		spec    func(*signSpec)
		tamper  func(r *http.Request, body []byte) []byte
		service string
		secret  SecretFunc
		want    Kind
		wantIs  error
		wantMsg string
	}
	otherSecret := func(context.Context, string, string) (string, error) { return "not-the-secret", nil }
	setAuth := func(v string) func(*http.Request, []byte) []byte {
		return func(r *http.Request, b []byte) []byte { r.Header.Set("Authorization", v); return b }
	}
	goodSig := strings.Repeat("ab", 32)
	tests := []tc{
		{
			name:   "no authentication",
			tamper: func(r *http.Request, b []byte) []byte { r.Header.Del("Authorization"); return b },
			want:   KindMissingAuthentication, wantMsg: "Missing Authentication Token",
		},
		{
			name:   "changed body",
			tamper: func(r *http.Request, b []byte) []byte { return []byte("Action=GetCallerIdentity&Version=2011-06-16") },
			want:   KindSignatureMismatch, wantMsg: msgSignatureInvalid,
		},
		{
			name: "changed signed header",
			spec: func(s *signSpec) { s.headers.Set("X-Amz-Target", "AWSIdentityStore.ListUsers") },
			tamper: func(r *http.Request, b []byte) []byte {
				r.Header.Set("X-Amz-Target", "AWSIdentityStore.DeleteUser")
				return b
			},
			want: KindSignatureMismatch,
		},
		{
			name:   "changed host port",
			tamper: func(r *http.Request, b []byte) []byte { r.Host = "127.0.0.1:9912"; return b },
			want:   KindSignatureMismatch,
		},
		{
			name: "changed query",
			spec: func(s *signSpec) {
				s.method, s.body, s.url = http.MethodGet, "", "http://localhost/?Action=GetCallerIdentity&Version=2011-06-15"
			},
			tamper: func(r *http.Request, b []byte) []byte { r.URL.RawQuery += "&Extra=1"; return b },
			want:   KindSignatureMismatch,
		},
		{
			name:   "changed path",
			tamper: func(r *http.Request, b []byte) []byte { r.URL.Path = "/other"; return b },
			want:   KindSignatureMismatch,
		},
		{
			name:   "wrong secret",
			secret: otherSecret,
			want:   KindSignatureMismatch,
		},
		{
			name:    "wrong service",
			service: "sso",
			want:    KindServiceMismatch, wantMsg: "Credential should be scoped to correct service: 'sso'.",
		},
		{
			name:    "signed 16 minutes ago",
			spec:    func(s *signSpec) { s.at = testNow.Add(-16 * time.Minute) },
			want:    KindSignatureExpired,
			wantMsg: "Signature expired: 20261122T034601Z is now earlier than 20261122T034701Z (20261122T040201Z - 15 min.)",
		},
		{
			name:    "signed 16 minutes ahead",
			spec:    func(s *signSpec) { s.at = testNow.Add(16 * time.Minute) },
			want:    KindSignatureExpired,
			wantMsg: "Signature not yet current: 20261122T041801Z is still later than 20261122T041701Z (20261122T040201Z + 15 min.)",
		},
		{
			name: "unknown access key",
			spec: func(s *signSpec) { s.creds.AccessKeyID = "AKIAUNKNOWN000000000" },
			want: KindUnknownAccessKey, wantIs: ErrUnknownAccessKey,
			wantMsg: "The security token included in the request is invalid.",
		},
		{
			name: "session token of another key",
			spec: func(s *signSpec) {
				s.creds = aws.Credentials{AccessKeyID: tempKeyID, SecretAccessKey: tempSecret, SessionToken: "st-other"}
			},
			want: KindUnknownAccessKey, wantIs: ErrRevoked,
		},
		{
			name: "session token stripped",
			spec: func(s *signSpec) {
				s.creds = aws.Credentials{AccessKeyID: tempKeyID, SecretAccessKey: tempSecret, SessionToken: tempToken}
			},
			tamper: func(r *http.Request, b []byte) []byte { r.Header.Del("X-Amz-Security-Token"); return b },
			want:   KindUnknownAccessKey, wantIs: ErrRevoked,
		},
		{
			name: "expired token",
			spec: func(s *signSpec) {
				s.creds = aws.Credentials{AccessKeyID: expiredKey, SecretAccessKey: "x", SessionToken: "st-old"}
			},
			want: KindExpiredToken, wantIs: ErrExpiredToken,
			wantMsg: "The security token included in the request is expired",
		},
		{
			name: "content sha256 does not match body",
			spec: func(s *signSpec) { s.headers.Set("X-Amz-Content-Sha256", strings.Repeat("0", 64)) },
			want: KindSignatureMismatch,
		},
		{
			name: "unsigned payload with a body",
			spec: func(s *signSpec) { s.headers.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD") },
			want: KindSignatureMismatch,
		},
		{
			name:   "missing x-amz-date",
			tamper: func(r *http.Request, b []byte) []byte { r.Header.Del("X-Amz-Date"); return b },
			want:   KindIncompleteSignature,
		},
		{
			name:   "bad x-amz-date",
			tamper: func(r *http.Request, b []byte) []byte { r.Header.Set("X-Amz-Date", "2026-11-22T04:02:01Z"); return b },
			want:   KindIncompleteSignature,
		},
		{
			name:   "credential date differs from x-amz-date",
			tamper: func(r *http.Request, b []byte) []byte { r.Header.Set("X-Amz-Date", "20261123T040201Z"); return b },
			want:   KindSignatureMismatch,
		},
		{name: "other scheme", tamper: setAuth("Bearer abc"), want: KindIncompleteSignature},
		{name: "algorithm only", tamper: setAuth("AWS4-HMAC-SHA256"), want: KindIncompleteSignature},
		{name: "sigv4a", tamper: setAuth("AWS4-ECDSA-P256-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261122/sts/aws4_request, SignedHeaders=host, Signature=" + goodSig), want: KindIncompleteSignature},
		{name: "missing signature", tamper: setAuth("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261122/us-west-2/sts/aws4_request, SignedHeaders=host;x-amz-date"), want: KindIncompleteSignature, wantMsg: "Authorization header requires 'Signature' parameter."},
		{name: "missing credential", tamper: setAuth("AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date, Signature=" + goodSig), want: KindIncompleteSignature},
		{name: "missing signed headers", tamper: setAuth("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261122/us-west-2/sts/aws4_request, Signature=" + goodSig), want: KindIncompleteSignature},
		{name: "credential too short", tamper: setAuth("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261122/sts/aws4_request, SignedHeaders=host, Signature=" + goodSig), want: KindIncompleteSignature},
		{name: "credential bad terminator", tamper: setAuth("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261122/us-west-2/sts/aws5_request, SignedHeaders=host, Signature=" + goodSig), want: KindIncompleteSignature},
		{name: "credential bad date", tamper: setAuth("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/2026112/us-west-2/sts/aws4_request, SignedHeaders=host, Signature=" + goodSig), want: KindIncompleteSignature},
		{name: "host not signed", tamper: setAuth("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261122/us-west-2/sts/aws4_request, SignedHeaders=x-amz-date, Signature=" + goodSig), want: KindIncompleteSignature, wantMsg: "'Host' must be a signed header"},
		{name: "upper-case signed header", tamper: setAuth("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261122/us-west-2/sts/aws4_request, SignedHeaders=Host;x-amz-date, Signature=" + goodSig), want: KindIncompleteSignature},
		{name: "short signature", tamper: setAuth("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261122/us-west-2/sts/aws4_request, SignedHeaders=host, Signature=abcd"), want: KindIncompleteSignature},
		{name: "non-hex signature", tamper: setAuth("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261122/us-west-2/sts/aws4_request, SignedHeaders=host, Signature=" + strings.Repeat("zz", 32)), want: KindIncompleteSignature},
		{name: "duplicate credential", tamper: setAuth("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261122/us-west-2/sts/aws4_request, Credential=AKIAIOSFODNN7EXAMPLE/20261122/us-west-2/sts/aws4_request, SignedHeaders=host, Signature=" + goodSig), want: KindIncompleteSignature},
		{name: "component without equals", tamper: setAuth("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261122/us-west-2/sts/aws4_request, SignedHeaders, Signature=" + goodSig), want: KindIncompleteSignature},
		{name: "well formed but wrong signature", tamper: setAuth("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261122/us-west-2/sts/aws4_request, SignedHeaders=content-length;content-type;host;x-amz-date, Signature=" + goodSig), want: KindSignatureMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := defaultSpec()
			if tt.spec != nil {
				tt.spec(&spec)
			}
			r, body := sign(t, spec)
			if tt.tamper != nil {
				body = tt.tamper(r, body)
			}
			service := cmp.Or(tt.service, spec.service)
			secret := fakeSecrets
			if tt.secret != nil {
				secret = tt.secret
			}
			res, err := newVerifier().Verify(t.Context(), r, body, service, secret)
			if res != nil {
				t.Errorf("Result = %+v, want nil", res)
			}
			e := wantKind(t, err, tt.want)
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.wantIs)
			}
			if tt.wantMsg != "" {
				if diff := gocmp.Diff(tt.wantMsg, e.Message); diff != "" {
					t.Errorf("Message mismatch (-want +got):\n%s", diff)
				}
			}
			for _, s := range []string{longSecret, tempSecret} {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error text contains a secret: %v", err)
				}
			}
		})
	}
}

func TestVerifySecretLookupFailure(t *testing.T) {
	spec := defaultSpec()
	spec.creds.AccessKeyID = "AKIASTOREDOWN0000000"
	r, body := sign(t, spec)
	_, err := newVerifier().Verify(t.Context(), r, body, "sts", fakeSecrets)
	if !errors.Is(err, errStoreDown) {
		t.Fatalf("error = %v, want wrapping errStoreDown", err)
	}
	if _, ok := errors.AsType[*Error](err); ok {
		t.Fatalf("error = %v is a verification failure, want an internal error", err)
	}
}

// presign returns a presigned server request for a GET of rawURL.
func presign(t *testing.T, rawURL string, expires time.Duration, creds aws.Credentials, payloadHash string, header http.Header) *http.Request {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	if expires > 0 {
		q := u.Query()
		q.Set("X-Amz-Expires", strconv.Itoa(int(expires/time.Second)))
		u.RawQuery = q.Encode()
	}
	req, err := http.NewRequest(http.MethodGet, u.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	signedURL, signedHeaders, err := v4.NewSigner().PresignHTTP(t.Context(), creds, req, payloadHash, "sts", "us-east-1", testNow)
	if err != nil {
		t.Fatal(err)
	}
	out, err := http.NewRequest(http.MethodGet, signedURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range signedHeaders {
		if k != "Host" {
			out.Header[k] = vs
		}
	}
	r, _ := toServer(t, out)
	return r
}

func TestVerifyPresigned(t *testing.T) {
	const gci = "https://127.0.0.1:8443/?Action=GetCallerIdentity&Version=2011-06-15"
	emptyHash := hex.EncodeToString(sha256.New().Sum(nil))
	temp := aws.Credentials{AccessKeyID: tempKeyID, SecretAccessKey: tempSecret, SessionToken: tempToken}
	long := aws.Credentials{AccessKeyID: longKeyID, SecretAccessKey: longSecret}
	k8s := http.Header{"X-K8s-Aws-Id": {"my-cluster"}}

	tests := []struct {
		name    string
		r       *http.Request
		now     time.Time
		want    *Result
		wantErr Kind
	}{
		{
			name: "unsigned payload with token and extra signed header",
			r:    presign(t, gci, 60*time.Second, temp, unsignedPayload, k8s),
			now:  testNow.Add(30 * time.Second),
			want: &Result{AccessKeyID: tempKeyID, SessionToken: tempToken, Region: "us-east-1", Service: "sts", Time: testNow, Presigned: true},
		},
		{
			name: "empty body hash without expires",
			r:    presign(t, gci, 0, long, emptyHash, nil),
			now:  testNow.Add(14 * time.Minute),
			want: &Result{AccessKeyID: longKeyID, Region: "us-east-1", Service: "sts", Time: testNow, Presigned: true},
		},
		{
			name:    "past expires",
			r:       presign(t, gci, 60*time.Second, temp, unsignedPayload, k8s),
			now:     testNow.Add(61 * time.Second),
			wantErr: KindSignatureExpired,
		},
		{
			name:    "default expiry passed",
			r:       presign(t, gci, 0, long, emptyHash, nil),
			now:     testNow.Add(16 * time.Minute),
			wantErr: KindSignatureExpired,
		},
		{
			name:    "dated in the future",
			r:       presign(t, gci, time.Hour, long, emptyHash, nil),
			now:     testNow.Add(-16 * time.Minute),
			wantErr: KindSignatureExpired,
		},
		{
			name: "signed header changed",
			r: func() *http.Request {
				r := presign(t, gci, 60*time.Second, temp, unsignedPayload, k8s)
				r.Header.Set("X-K8s-Aws-Id", "other-cluster")
				return r
			}(),
			now:     testNow,
			wantErr: KindSignatureMismatch,
		},
		{
			name: "query parameter added",
			r: func() *http.Request {
				r := presign(t, gci, 60*time.Second, long, unsignedPayload, nil)
				r.URL.RawQuery += "&Extra=1"
				return r
			}(),
			now:     testNow,
			wantErr: KindSignatureMismatch,
		},
		{
			name: "expires lengthened",
			r: func() *http.Request {
				r := presign(t, gci, 60*time.Second, long, unsignedPayload, nil)
				r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "X-Amz-Expires=60", "X-Amz-Expires=3600", 1)
				return r
			}(),
			now:     testNow.Add(30 * time.Second),
			wantErr: KindSignatureMismatch,
		},
		{
			name: "signature missing",
			r: func() *http.Request {
				r := presign(t, gci, 60*time.Second, long, unsignedPayload, nil)
				q := r.URL.Query()
				q.Del("X-Amz-Signature")
				r.URL.RawQuery = q.Encode()
				return r
			}(),
			now:     testNow,
			wantErr: KindIncompleteSignature,
		},
		{
			name: "expires out of range",
			r: func() *http.Request {
				r := presign(t, gci, 60*time.Second, long, unsignedPayload, nil)
				r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "X-Amz-Expires=60", "X-Amz-Expires=604801", 1)
				return r
			}(),
			now:     testNow,
			wantErr: KindIncompleteSignature,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := &Verifier{Now: func() time.Time { return tt.now }}
			got, err := v.Verify(t.Context(), tt.r, nil, "sts", fakeSecrets)
			if tt.wantErr != 0 {
				wantKind(t, err, tt.wantErr)
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v (URL %s)", err, tt.r.URL)
			}
			if diff := gocmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Result mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestKeyCacheBounded(t *testing.T) {
	c := newKeyCache(8)
	want := deriveKey(longSecret, "20261122", "us-west-2", "sts")
	if got := c.signingKey(longSecret, "20261122", "us-west-2", "sts"); got != want {
		t.Fatalf("signing key = %x, want %x", got, want)
	}
	for i := range 100 {
		c.signingKey(longSecret, "20261122", "region-"+strconv.Itoa(i), "sts")
		if n := c.len(); n > 8 {
			t.Fatalf("cache holds %d keys, want at most 8", n)
		}
	}
	if got := c.signingKey(longSecret, "20261122", "us-west-2", "sts"); got != want {
		t.Fatalf("signing key after eviction = %x, want %x", got, want)
	}
	if got := c.signingKey("other", "20261122", "us-west-2", "sts"); got == want {
		t.Fatal("different secrets share a cached key")
	}
}

// TestDeriveKeyAWSExample checks the key derivation against the worked
// example of the AWS SigV4 documentation ("Examples of how to derive a
// signing key for Signature Version 4").
func TestDeriveKeyAWSExample(t *testing.T) {
	got := deriveKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam")
	const want = "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
	if diff := gocmp.Diff(want, hex.EncodeToString(got[:])); diff != "" {
		t.Errorf("signing key mismatch (-want +got):\n%s", diff)
	}
}

func TestVerifyConcurrent(t *testing.T) {
	v := newVerifier()
	spec := defaultSpec()
	r, body := sign(t, spec)
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			var err error
			for range 200 {
				if _, err = v.Verify(context.Background(), r, body, "sts", fakeSecrets); err != nil {
					break
				}
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func TestAppendCanonicalKey(t *testing.T) {
	for _, name := range []string{"host", "x-amz-date", "x-amz-sso_bearer_token", "amz-sdk-invocation-id", "x-k8s-aws-id", "content-md5", "a--b", "-x"} {
		if got, want := string(appendCanonicalKey(nil, name)), http.CanonicalHeaderKey(name); got != want {
			t.Errorf("appendCanonicalKey(%q) = %q, want %q", name, got, want)
		}
	}
}
