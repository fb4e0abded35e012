// Package oidctest starts a real OpenID Provider in process for the tests
// of the OpenID Connect relying party (internal/idsource/oidc) and the e2e
// package: github.com/zitadel/oidc/v3's pkg/op, with its example storage
// and login page (example/server), on an httptest server.
//
// Why zitadel/oidc: it is a certified OpenID Provider library kept by
// ZITADEL, so the relying party is tested against a provider that speaks
// the protocol as real ones do (discovery, authorization code with PKCE,
// client_secret_basic, a "thin" ID token beside an access token with the
// profile claims at the userinfo endpoint, as Okta sends them) rather than
// against hand-made responses. It is a test-only dependency: nothing under
// cmd/ imports this package.
//
// The provider signs with a key of this package (so attack tests can sign
// tokens the relying party must still refuse), adds a "groups" claim to the
// ID token when the "groups" scope is asked for, and lets a test rewrite
// the ID token of a token response (RewriteIDToken) or drop the PKCE
// verifier of a token request (DropVerifier), playing a provider that
// misbehaves or a network attacker.
package oidctest

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// User is a person known only to the provider.
type User struct {
	ID, UserName, Password       string
	GivenName, FamilyName, Email string
	// Groups go into the "groups" claim.
	Groups []string
}

// Provider is a running OpenID Provider.
type Provider struct {
	// Issuer is the provider's issuer URL (http://127.0.0.1:port).
	Issuer string
	// ClientID and ClientSecret name the one registered web client.
	ClientID, ClientSecret string
	// Server serves the provider.
	Server *httptest.Server
	// Key signs the provider's tokens.
	Key *rsa.PrivateKey
	// KeyID is Key's "kid".
	KeyID string

	mu      sync.Mutex
	rewrite func(claims map[string]any) string
	drop    bool
	tokens  []string
}

// Start starts a provider with one confidential web client (clientID,
// secret) that may redirect to redirectURI, and users. It stops when t
// ends.
func Start(t testing.TB, clientID, secret, redirectURI string, users ...User) *Provider {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &Provider{ClientID: clientID, ClientSecret: secret, Key: key, KeyID: "oidctest-1"}
	var h http.Handler
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(p.Server.Close)
	p.Issuer = p.Server.URL
	us := userStore{users: map[string]*storage.User{}, groups: map[string][]string{}}
	for _, u := range users {
		us.users[u.ID] = &storage.User{ID: u.ID, Username: u.UserName, Password: u.Password, FirstName: u.GivenName,
			LastName: u.FamilyName, Email: u.Email, EmailVerified: true}
		us.groups[u.ID] = u.Groups
	}
	st := &opStorage{Storage: storage.NewStorageWithClients(us, map[string]*storage.Client{
		clientID: storage.WebClient(clientID, secret, redirectURI),
	}), p: p, groups: us.groups}
	router := exampleop.SetupServer(p.Issuer, st, nil, false)
	h = p.intercept(router)
	return p
}

// RewriteIDToken makes the token endpoint answer with f's token instead of
// the ID token the provider issued; f gets that token's claims. nil stops
// rewriting.
func (p *Provider) RewriteIDToken(f func(claims map[string]any) string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rewrite = f
}

// DropVerifier makes the provider receive token requests without their
// PKCE code_verifier.
func (p *Provider) DropVerifier(drop bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.drop = drop
}

// IDTokens returns the ID tokens the token endpoint has sent.
func (p *Provider) IDTokens() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.tokens)
}

// Sign signs claims with the provider's key (RS256), as the provider does.
func (p *Provider) Sign(t testing.TB, claims map[string]any) string {
	t.Helper()
	return SignWith(t, p.Key, p.KeyID, claims)
}

// SignWith signs claims with key (RS256) and kid.
func SignWith(t testing.TB, key *rsa.PrivateKey, kid string, claims map[string]any) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(claims)
	o, err := s.Sign(b)
	if err != nil {
		t.Fatal(err)
	}
	c, err := o.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Unsigned returns claims as a JWT with "alg": "none" and no signature.
func Unsigned(claims map[string]any) string {
	h, _ := json.Marshal(map[string]string{"alg": "none", "typ": "JWT"})
	b, _ := json.Marshal(claims)
	return enc(h) + "." + enc(b) + "."
}

// HS256WithPublicKey returns claims signed with HMAC-SHA256 keyed by the
// provider's public key in PKIX DER form: the algorithm-confusion attack
// on verifiers that take the algorithm from the token.
func (p *Provider) HS256WithPublicKey(t testing.TB) func(claims map[string]any) string {
	der, err := x509.MarshalPKIXPublicKey(&p.Key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return func(claims map[string]any) string {
		h, _ := json.Marshal(map[string]string{"alg": "HS256", "typ": "JWT", "kid": p.KeyID})
		b, _ := json.Marshal(claims)
		in := enc(h) + "." + enc(b)
		m := hmac.New(sha256.New, der)
		m.Write([]byte(in))
		return in + "." + enc(m.Sum(nil))
	}
}

func enc(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// intercept plays the misbehaviours the test asked for around the token
// endpoint.
func (p *Provider) intercept(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/oauth/token" {
			next.ServeHTTP(w, r)
			return
		}
		p.mu.Lock()
		rewrite, drop := p.rewrite, p.drop
		p.mu.Unlock()
		if drop {
			body, _ := io.ReadAll(r.Body)
			form, _ := url.ParseQuery(string(body))
			form.Del("code_verifier")
			enc := form.Encode()
			r.Body = io.NopCloser(strings.NewReader(enc))
			r.ContentLength = int64(len(enc))
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		var resp map[string]any
		if rec.Code == http.StatusOK && json.Unmarshal(body, &resp) == nil {
			if tok, _ := resp["id_token"].(string); tok != "" {
				if rewrite != nil {
					resp["id_token"] = rewrite(claimsOf(tok))
					body, _ = json.Marshal(resp)
				}
				p.mu.Lock()
				p.tokens = append(p.tokens, resp["id_token"].(string))
				p.mu.Unlock()
			}
		}
		for k, v := range rec.Header() {
			if k != "Content-Length" {
				w.Header()[k] = v
			}
		}
		w.WriteHeader(rec.Code)
		w.Write(body)
	})
}

// claimsOf decodes a JWT's payload without checking it (the provider
// issued it a moment ago).
func claimsOf(tok string) map[string]any {
	parts := strings.Split(tok, ".")
	out := map[string]any{}
	if len(parts) == 3 {
		b, _ := base64.RawURLEncoding.DecodeString(parts[1])
		_ = json.Unmarshal(b, &out)
	}
	return out
}

// userStore is the example storage's user list.
type userStore struct {
	users  map[string]*storage.User
	groups map[string][]string
}

func (u userStore) GetUserByID(id string) *storage.User { return u.users[id] }
func (u userStore) GetUserByUsername(name string) *storage.User {
	for _, x := range u.users {
		if x.Username == name {
			return x
		}
	}
	return nil
}
func (u userStore) ExampleClientID() string { return storage.ServiceUserID }

// opStorage is the example storage with the provider's signing key and a
// groups claim.
type opStorage struct {
	*storage.Storage
	p      *Provider
	groups map[string][]string
}

func (s *opStorage) SigningKey(context.Context) (op.SigningKey, error) {
	return signingKey{s.p}, nil
}

func (s *opStorage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s *opStorage) KeySet(context.Context) ([]op.Key, error) {
	return []op.Key{publicKey{s.p}}, nil
}

// SetUserinfoFromRequest adds the groups claim to ID tokens.
func (s *opStorage) SetUserinfoFromRequest(ctx context.Context, ui *oidc.UserInfo, token op.IDTokenRequest, scopes []string) error {
	if err := s.Storage.SetUserinfoFromRequest(ctx, ui, token, scopes); err != nil {
		return err
	}
	if slices.Contains(scopes, "groups") {
		ui.AppendClaims("groups", s.groups[token.GetSubject()])
	}
	return nil
}

type signingKey struct{ p *Provider }

func (k signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k signingKey) Key() any                                    { return k.p.Key }
func (k signingKey) ID() string                                  { return k.p.KeyID }

type publicKey struct{ p *Provider }

func (k publicKey) ID() string                         { return k.p.KeyID }
func (k publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return &k.p.Key.PublicKey }

// GetClientByClientID returns the client, allowed to ask for the "groups"
// scope.
func (s *opStorage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, id)
	if err != nil {
		return nil, err
	}
	return groupsClient{c}, nil
}

type groupsClient struct{ op.Client }

func (c groupsClient) IsScopeAllowed(scope string) bool {
	return scope == "groups" || c.Client.IsScopeAllowed(scope)
}
