package scim_test

import (
	"encoding/json"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/idsource/scim"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
	"github.com/gatehouse-dev/gatehouse/internal/store"
	"github.com/gatehouse-dev/gatehouse/internal/sts"
)

// clock is a test clock that can be moved forward.
type clock struct{ skew atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Now().Add(time.Duration(c.skew.Load())) }
func (c *clock) Advance(d time.Duration) { c.skew.Add(int64(d)) }
func newServer(t *testing.T, demo bool) (*servertest.Server, *clock) {
	t.Helper()
	c := &clock{}
	srv := servertest.New(t, func(cfg *config.Config) {
		cfg.Demo = demo
		cfg.Region = "us-east-1"
		cfg.Now = c.Now
	})
	return srv, c
}

// client is a SCIM client of a test server, as an IdP's connector is.
type client struct {
	t     *testing.T
	base  string
	token string
	// contentType of bodies sent; Okta and Entra ID both send
	// application/scim+json.
	contentType string
}

func newClient(t *testing.T, srv *servertest.Server) *client {
	t.Helper()
	tok, rec, err := srv.SCIMTokens.Create(t.Context(), "test IdP", 0)
	if err != nil {
		t.Fatal(err)
	}
	if rec.ExpiresAt.Sub(rec.CreatedAt) != scim.DefaultTokenTTL {
		t.Fatalf("token lives %s, want %s", rec.ExpiresAt.Sub(rec.CreatedAt), scim.DefaultTokenTTL)
	}
	return &client{t: t, base: srv.URL + scim.Prefix, token: tok.Reveal(), contentType: "application/scim+json"}
}

// response is a SCIM answer.
type response struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

func (c *client) do(method, path, body string) *response {
	c.t.Helper()
	req, err := http.NewRequestWithContext(c.t.Context(), method, c.base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if body != "" {
		req.Header.Set("Content-Type", c.contentType)
	}
	req.Header.Set("Accept", "application/scim+json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	r := &response{status: res.StatusCode, header: res.Header, raw: raw}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			c.t.Fatalf("%s %s: answer is not JSON (%d): %s", method, path, res.StatusCode, raw)
		}
		if ct := res.Header.Get("Content-Type"); ct != "application/scim+json" {
			c.t.Fatalf("%s %s: Content-Type %q, want application/scim+json", method, path, ct)
		}
	}
	return r
}

// want fails unless the answer has the status.
func (r *response) want(t *testing.T, status int) *response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	return r
}

// wantError fails unless the answer is a SCIM error with the status and
// scimType ("" for none).
func (r *response) wantError(t *testing.T, status int, scimType string) *response {
	t.Helper()
	r.want(t, status)
	schemas, _ := r.body["schemas"].([]any)
	if len(schemas) != 1 || schemas[0] != scim.SchemaError {
		t.Fatalf("error schemas = %v: %s", r.body["schemas"], r.raw)
	}
	if got, _ := r.body["status"].(string); got != itoa(status) {
		t.Fatalf("error status %v, want the string %q: %s", r.body["status"], itoa(status), r.raw)
	}
	if got, _ := r.body["scimType"].(string); got != scimType {
		t.Fatalf("scimType %q, want %q: %s", got, scimType, r.raw)
	}
	if d, _ := r.body["detail"].(string); d == "" {
		t.Fatalf("error without detail: %s", r.raw)
	}
	return r
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func (r *response) str(path ...string) string {
	var v any = r.body
	for _, p := range path {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			i := 0
			if len(x) == 0 {
				return ""
			}
			v = x[i]
			if p != "0" {
				v = x[0].(map[string]any)[p]
			}
		default:
			return ""
		}
	}
	s, _ := v.(string)
	return s
}

func (r *response) total(t *testing.T) int {
	t.Helper()
	n, ok := r.body["totalResults"].(float64)
	if !ok {
		t.Fatalf("no totalResults: %s", r.raw)
	}
	return int(n)
}

func getUser(t *testing.T, srv *servertest.Server, id string) *store.User {
	t.Helper()
	u, err := srv.Store.GetUser(t.Context(), id)
	if err != nil {
		t.Fatalf("get user %s: %v", id, err)
	}
	return u
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func mustAccounts(t *testing.T, srv *servertest.Server) []store.Account {
	t.Helper()
	as, err := srv.Store.ListAccounts(t.Context(), store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	return as
}

// callerIdentity calls STS GetCallerIdentity on srv with role credentials.
func callerIdentity(t *testing.T, srv *servertest.Server, c *sts.Credentials) error {
	t.Helper()
	cl := awssts.NewFromConfig(aws.Config{Region: srv.Instance.Region, Credentials: credentials.NewStaticCredentialsProvider(
		c.AccessKeyID, c.SecretAccessKey, c.SessionToken)}, func(o *awssts.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	_, err := cl.GetCallerIdentity(t.Context(), &awssts.GetCallerIdentityInput{})
	return err
}
