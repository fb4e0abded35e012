package oidc_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/gatehouse-dev/gatehouse/internal/accesscache"
	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/keyring"
	"github.com/gatehouse-dev/gatehouse/internal/oidc"
	"github.com/gatehouse-dev/gatehouse/internal/store"
	"github.com/gatehouse-dev/gatehouse/internal/store/sqlite"
)

const startURL = "https://d-1234567890.awsapps.com/start"

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is one Gatehouse replica's sso-oidc service on a SQLite store, served
// by an httptest server and driven with the real aws-sdk-go-v2 client.
type env struct {
	t      testing.TB
	st     store.Store
	keys   *keyring.Ring
	clock  *clock
	svc    *oidc.Service
	srv    *httptest.Server
	client *ssooidc.Client
	user   *store.User
	who    oidc.SignedIn
}

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return newEnvOn(t, st)
}

// newEnvOn is newEnv on the store st; the caller closes st.
func newEnvOn(t testing.TB, st store.Store) *env {
	t.Helper()
	ctx := t.Context()
	clk := &clock{t: time.Date(2026, 11, 22, 4, 0, 0, 0, time.UTC)}
	master := make([]byte, keyring.MasterKeySize)
	rand.Read(master)
	keys, err := keyring.Open(ctx, st, master, rand.Reader, clk.Now)
	if err != nil {
		t.Fatalf("open keyring: %v", err)
	}
	e := &env{t: t, st: st, keys: keys, clock: clk}
	// As the server builds it: revocation checks through the access cache.
	e.svc = e.replica(accesscache.New(st, clk.Now))
	mux := http.NewServeMux()
	e.svc.Register(mux)
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	e.client = ssooidc.New(ssooidc.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(e.srv.URL), Retryer: aws.NopRetryer{},
	})
	e.user = &store.User{ID: "u-alice", UserName: "alice", DisplayName: "Alice", CreatedAt: clk.Now(), UpdatedAt: clk.Now()}
	if err := st.CreateUser(ctx, e.user); err != nil {
		t.Fatalf("create user: %v", err)
	}
	e.who = e.signIn(8 * time.Hour)
	return e
}

// replica returns another Service on the same store and keys, as a second
// server process would have.
func (e *env) replica(cache *accesscache.Cache) *oidc.Service {
	ids := arn.Generator{Rand: rand.Reader}
	return &oidc.Service{
		Store: e.st, Keys: e.keys, IDs: ids, Now: e.clock.Now, Rand: rand.Reader,
		Audit:    &audit.Recorder{Now: e.clock.Now, NewID: ids.UUID, Region: "us-east-1"},
		Log:      slog.New(slog.DiscardHandler),
		Instance: &store.Instance{StartURL: startURL, Region: "us-east-1"},
		BaseURL:  "https://gatehouse.example", Cache: cache,
		PortalSessionDuration: 8 * time.Hour,
	}
}

// signIn creates a portal session for the user that ends after life.
func (e *env) signIn(life time.Duration) oidc.SignedIn {
	e.t.Helper()
	now := e.clock.Now()
	cookie := make([]byte, 16)
	rand.Read(cookie)
	s := &store.Session{
		IDHash: e.keys.Hash(base64.RawURLEncoding.EncodeToString(cookie)), UserID: e.user.ID, MFA: true,
		AuthTime: now, CreatedAt: now, ExpiresAt: now.Add(life),
	}
	if err := e.st.CreateSession(context.Background(), s); err != nil {
		e.t.Fatalf("create session: %v", err)
	}
	return oidc.SignedIn{UserID: e.user.ID, UserName: e.user.UserName, SessionID: s.IDHash, MFA: true, AuthTime: now, SessionExpiresAt: s.ExpiresAt}
}

// registration is a client registration as the CLI caches it.
type registration struct{ id, secret string }

func (e *env) register(in *ssooidc.RegisterClientInput) registration {
	e.t.Helper()
	out, err := e.client.RegisterClient(context.Background(), in)
	if err != nil {
		e.t.Fatalf("RegisterClient: %v", err)
	}
	return registration{aws.ToString(out.ClientId), aws.ToString(out.ClientSecret)}
}

// deviceClient registers a client as the CLI does for sso-session
// profiles with --use-device-code (scoped) or legacy profiles (no scopes).
func (e *env) deviceClient(scopes ...string) registration {
	return e.register(&ssooidc.RegisterClientInput{ClientName: aws.String("botocore-client-corp"), ClientType: aws.String("public"), Scopes: scopes})
}

// pkceClient registers a client as CLI 2.36 does for PKCE.
func (e *env) pkceClient() registration {
	return e.register(&ssooidc.RegisterClientInput{
		ClientName: aws.String("botocore-client-corp"), ClientType: aws.String("public"),
		GrantTypes: []string{"authorization_code", "refresh_token"}, IssuerUrl: aws.String(startURL),
		RedirectUris: []string{"http://127.0.0.1/oauth/callback"}, Scopes: []string{"sso:account:access"},
	})
}

// registrationInput is a PKCE registration with one redirect URI.
func registrationInput(redirectURI string) *ssooidc.RegisterClientInput {
	return &ssooidc.RegisterClientInput{
		ClientName: aws.String("web-app"), ClientType: aws.String("public"),
		GrantTypes: []string{"authorization_code", "refresh_token"}, RedirectUris: []string{redirectURI},
		Scopes: []string{"sso:account:access"},
	}
}

func (e *env) start(c registration) *ssooidc.StartDeviceAuthorizationOutput {
	e.t.Helper()
	out, err := e.client.StartDeviceAuthorization(context.Background(), &ssooidc.StartDeviceAuthorizationInput{
		ClientId: aws.String(c.id), ClientSecret: aws.String(c.secret), StartUrl: aws.String(startURL),
	})
	if err != nil {
		e.t.Fatalf("StartDeviceAuthorization: %v", err)
	}
	return out
}

func (e *env) pollDevice(c registration, deviceCode string) (*ssooidc.CreateTokenOutput, error) {
	return e.client.CreateToken(context.Background(), &ssooidc.CreateTokenInput{
		ClientId: aws.String(c.id), ClientSecret: aws.String(c.secret),
		GrantType: aws.String("urn:ietf:params:oauth:grant-type:device_code"), DeviceCode: aws.String(deviceCode),
	})
}

func (e *env) refresh(c registration, rt string) (*ssooidc.CreateTokenOutput, error) {
	return e.client.CreateToken(context.Background(), &ssooidc.CreateTokenInput{
		ClientId: aws.String(c.id), ClientSecret: aws.String(c.secret),
		GrantType: aws.String("refresh_token"), RefreshToken: aws.String(rt),
	})
}

// deviceLogin runs the whole device flow and returns the tokens.
func (e *env) deviceLogin(c registration) *ssooidc.CreateTokenOutput {
	e.t.Helper()
	sda := e.start(c)
	if err := e.svc.ApproveDevice(context.Background(), aws.ToString(sda.UserCode), e.who); err != nil {
		e.t.Fatalf("ApproveDevice: %v", err)
	}
	out, err := e.pollDevice(c, aws.ToString(sda.DeviceCode))
	if err != nil {
		e.t.Fatalf("CreateToken(device_code): %v", err)
	}
	e.clock.Advance(time.Second)
	return out
}

// wantAPIError checks that err is the SDK's typed error T and came with
// the given HTTP status.
func wantAPIError[T error](t testing.TB, err error, status int) T {
	t.Helper()
	var target T
	if !errors.As(err, &target) {
		t.Fatalf("error = %v (%T), want %T", err, err, target)
	}
	if re, ok := errors.AsType[*smithyhttp.ResponseError](err); !ok || re.HTTPStatusCode() != status {
		t.Fatalf("error %v: want HTTP status %d", err, status)
	}
	return target
}

// rawResponse is a response read off the wire.
type rawResponse struct {
	status    int
	errorType string
	body      string
}

// post sends a JSON body as the CLI does and returns the raw response.
func (e *env) post(path string, body any) rawResponse {
	e.t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		e.t.Fatal(err)
	}
	resp, err := http.Post(e.srv.URL+path, "application/json", bytes.NewReader(b))
	if err != nil {
		e.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	return rawResponse{resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"), string(rb)}
}

// pkce returns a verifier and its S256 challenge.
func pkce() (verifier, challenge string) {
	b := make([]byte, 48)
	rand.Read(b)
	verifier = base64.RawURLEncoding.EncodeToString(b) // 64 characters, like the CLI's
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// authorizeQuery is GET /authorize's query exactly as CLI 2.36 sends it.
func authorizeQuery(clientID, redirectURI, challenge string) url.Values {
	return url.Values{
		"response_type":         {"code"},
		"client_id":             {clientID},
		"redirect_uri":          {redirectURI},
		"state":                 {"92617275-9619-4eef-820b-f1557156495c"},
		"code_challenge_method": {"S256"},
		"scopes":                {"sso:account:access"},
		"code_challenge":        {challenge},
	}
}

// authorize runs /authorize and consent for the signed-in user and returns
// the code from the redirect.
func (e *env) authorize(c registration, redirectURI, challenge string) string {
	e.t.Helper()
	req, err := e.svc.ParseAuthorize(context.Background(), authorizeQuery(c.id, redirectURI, challenge))
	if err != nil {
		e.t.Fatalf("ParseAuthorize: %v", err)
	}
	loc, err := e.svc.IssueCode(context.Background(), req, e.who)
	if err != nil {
		e.t.Fatalf("IssueCode: %v", err)
	}
	u, err := url.Parse(loc)
	if err != nil {
		e.t.Fatalf("redirect %q: %v", loc, err)
	}
	if got := u.Query().Get("state"); got != "92617275-9619-4eef-820b-f1557156495c" {
		e.t.Fatalf("redirect state = %q", got)
	}
	return u.Query().Get("code")
}

func (e *env) redeemCode(c registration, code, redirectURI, verifier string) (*ssooidc.CreateTokenOutput, error) {
	return e.client.CreateToken(context.Background(), &ssooidc.CreateTokenInput{
		ClientId: aws.String(c.id), ClientSecret: aws.String(c.secret), GrantType: aws.String("authorization_code"),
		Code: aws.String(code), RedirectUri: aws.String(redirectURI), CodeVerifier: aws.String(verifier),
	})
}

// events returns the names and error codes of the audit events so far.
func (e *env) events() []store.EventRecord {
	e.t.Helper()
	evs, err := e.st.ListEvents(context.Background(), store.EventFilter{End: e.clock.Now().Add(time.Hour)})
	if err != nil {
		e.t.Fatalf("list events: %v", err)
	}
	return evs
}
