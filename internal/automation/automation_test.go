package automation_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/automation"
	"github.com/gatehouse-dev/gatehouse/internal/domaintest"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/keyring"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
	"github.com/gatehouse-dev/gatehouse/internal/sigv4"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

const acct = "111111111111"

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type fixture struct {
	w     *domaintest.World
	clock *clock
	svc   *automation.Service
}

func newFixture(t *testing.T) *fixture { return newBenchFixture(t) }

func newBenchFixture(t testing.TB) *fixture {
	t.Helper()
	w := domaintest.New(t)
	c := &clock{t: time.Date(2026, 11, 22, 4, 0, 0, 0, time.UTC)}
	master := make([]byte, keyring.MasterKeySize)
	rand.Read(master)
	ring, err := keyring.Open(t.Context(), w.Store, master, rand.Reader, c.Now)
	if err != nil {
		t.Fatal(err)
	}
	svc := &automation.Service{Store: w.Store, Keys: ring, IDs: w.IDs, Now: c.Now}
	w.Store.OnChange(svc.Invalidate)
	return &fixture{w: w, clock: c, svc: svc}
}

func wantKind(t *testing.T, err error, kind fault.Kind, reason string) {
	t.Helper()
	fe, ok := errors.AsType[*fault.Error](err)
	if !ok || fe.Kind != kind || fe.Reason != reason {
		t.Fatalf("got error %v, want a fault of kind %v reason %q", err, kind, reason)
	}
}

func TestUsers(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	u, err := f.svc.CreateUser(ctx, acct, "deployer", "", []store.Tag{{Key: "team", Value: "red"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u.ID, "AIDA") || len(u.ID) != 21 || u.Path != "/" {
		t.Errorf("user %+v: want an AIDA ID of 21 characters and path /", u)
	}
	if got := automation.UserARN(u); got != "arn:aws:iam::111111111111:user/deployer" {
		t.Errorf("ARN %s", got)
	}
	_, err = f.svc.CreateUser(ctx, acct, "Deployer", "", nil)
	wantKind(t, err, fault.Conflict, "")
	for _, bad := range []string{"", "has space", strings.Repeat("x", 65)} {
		_, err = f.svc.CreateUser(ctx, acct, bad, "", nil)
		wantKind(t, err, fault.Validation, "")
	}
	_, err = f.svc.CreateUser(ctx, acct, "p", "no-slash", nil)
	wantKind(t, err, fault.Validation, "")
	_, err = f.svc.CreateUser(ctx, acct, "t", "", []store.Tag{{Key: automation.ExpiryTag, Value: "soon"}})
	wantKind(t, err, fault.Validation, "")

	if err := f.svc.AttachUserPolicy(ctx, acct, "deployer", "arn:aws:iam::aws:policy/ReadOnlyAccess"); err != nil {
		t.Fatal(err)
	}
	err = f.svc.AttachUserPolicy(ctx, acct, "deployer", "arn:aws:iam::111111111111:policy/Missing")
	wantKind(t, err, fault.NotFound, "")
	err = f.svc.AttachUserPolicy(ctx, acct, "nobody", "arn:aws:iam::aws:policy/ReadOnlyAccess")
	wantKind(t, err, fault.NotFound, "")
	if err := f.svc.PutUserPolicy(ctx, acct, "deployer", "s3", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"}]}`); err != nil {
		t.Fatal(err)
	}
	err = f.svc.PutUserPolicy(ctx, acct, "deployer", "bad", `{"Statement":[{"Effect":"Maybe"}]}`)
	if _, ok := errors.AsType[*policy.Error](err); !ok {
		t.Errorf("malformed policy: got %v, want a *policy.Error", err)
	}
	big := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + strings.Repeat("b", 2100) + `"}]}`
	wantKind(t, f.svc.PutUserPolicy(ctx, acct, "deployer", "big", big), fault.QuotaExceeded, "")

	// Deleting a user with policies or keys is a DeleteConflict.
	wantKind(t, f.svc.DeleteUser(ctx, acct, "deployer"), fault.Conflict, "DeleteConflict")

	u, err = f.svc.GetUser(ctx, acct, "DEPLOYER")
	if err != nil {
		t.Fatal(err)
	}
	set, err := (&automation.Policies{Store: f.w.Store, Now: f.clock.Now}).Set(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		action string
		want   policy.Decision
	}{{"s3:PutObject", policy.Allow}, {"iam:GetUser", policy.Allow}, {"iam:CreateUser", policy.ImplicitDeny}} {
		if got := set.Decide(&policy.Request{Action: tc.action}); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.action, got, tc.want)
		}
	}

	if err := f.svc.DetachUserPolicy(ctx, acct, "deployer", "arn:aws:iam::aws:policy/ReadOnlyAccess"); err != nil {
		t.Fatal(err)
	}
	wantKind(t, f.svc.DetachUserPolicy(ctx, acct, "deployer", "arn:aws:iam::aws:policy/ReadOnlyAccess"), fault.NotFound, "")
	if err := f.svc.DeleteUserPolicy(ctx, acct, "deployer", "s3"); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.DeleteUser(ctx, acct, "deployer"); err != nil {
		t.Fatal(err)
	}
	wantKind(t, f.svc.DeleteUser(ctx, acct, "deployer"), fault.NotFound, "")
}

func TestAccessKeys(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	if _, err := f.svc.CreateUser(ctx, acct, "ci", "", []store.Tag{{Key: automation.ExpiryTag, Value: "1d"}}); err != nil {
		t.Fatal(err)
	}
	k1, err := f.svc.CreateAccessKey(ctx, acct, "ci")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(k1.Key.ID, "AKIA") || len(k1.Key.ID) != 20 || len(k1.Secret) != 40 {
		t.Fatalf("key %s secret of %d characters: want AKIA… of 20 and 40", k1.Key.ID, len(k1.Secret))
	}
	if strings.Contains(k1.Key.SealedSecret, string(k1.Secret)) {
		t.Fatal("the stored secret is not sealed")
	}
	if want := f.clock.Now().Add(24 * time.Hour); !k1.Key.ExpiresAt.Equal(want) {
		t.Errorf("expires at %v, want %v", k1.Key.ExpiresAt, want)
	}
	if _, err := f.svc.CreateAccessKey(ctx, acct, "ci"); err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.CreateAccessKey(ctx, acct, "ci")
	wantKind(t, err, fault.QuotaExceeded, "")

	p, secret, err := f.svc.Lookup(ctx, k1.Key.ID)
	if err != nil {
		t.Fatal(err)
	}
	if secret != string(k1.Secret) || p.ARN() != "arn:aws:iam::111111111111:user/ci" {
		t.Errorf("lookup: %s, secret matches %v", p.ARN(), secret == string(k1.Secret))
	}
	// Disabled: refused at once; enabled again: accepted.
	if err := f.svc.UpdateAccessKey(ctx, acct, "ci", k1.Key.ID, store.KeyInactive); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.Lookup(ctx, k1.Key.ID); !errors.Is(err, sigv4.ErrUnknownAccessKey) {
		t.Errorf("inactive key: %v, want ErrUnknownAccessKey", err)
	}
	if err := f.svc.UpdateAccessKey(ctx, acct, "ci", k1.Key.ID, store.KeyActive); err != nil {
		t.Fatal(err)
	}
	wantKind(t, f.svc.UpdateAccessKey(ctx, acct, "ci", k1.Key.ID, "Paused"), fault.Validation, "")
	wantKind(t, f.svc.UpdateAccessKey(ctx, acct, "ci", "AKIANOSUCHKEY0000000", store.KeyActive), fault.NotFound, "")
	// Expired: refused.
	f.clock.Add(24 * time.Hour)
	if _, _, err := f.svc.Lookup(ctx, k1.Key.ID); !errors.Is(err, sigv4.ErrUnknownAccessKey) {
		t.Errorf("expired key: %v, want ErrUnknownAccessKey", err)
	}
	// Last use: recorded once a minute at most.
	var uses automation.Uses
	t1 := f.clock.Now()
	for i, d := range []time.Duration{0, 30 * time.Second, 90 * time.Second} {
		svc := []string{"sts", "iam", "iam"}[i]
		if err := uses.Record(ctx, f.w.Store, k1.Key.ID, t1.Add(d), svc, "us-east-1"); err != nil {
			t.Fatal(err)
		}
	}
	k, _, err := f.svc.LastUsed(ctx, acct, k1.Key.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !k.LastUsedAt.Equal(t1.Add(90*time.Second)) || k.LastUsedService != "iam" {
		t.Errorf("last used %v %s, want the third use", k.LastUsedAt, k.LastUsedService)
	}
	_, _, err = f.svc.LastUsed(ctx, "222222222222", k1.Key.ID)
	wantKind(t, err, fault.NotFound, "")

	if err := f.svc.DeleteAccessKey(ctx, acct, "ci", k1.Key.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.Lookup(ctx, k1.Key.ID); !errors.Is(err, sigv4.ErrUnknownAccessKey) {
		t.Errorf("deleted key: %v, want ErrUnknownAccessKey", err)
	}
}

func TestGlob(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"repo:org/app:ref:refs/heads/main", "repo:org/app:ref:refs/heads/main", true},
		{"repo:org/app:ref:refs/heads/main", "repo:org/app:ref:refs/heads/mainx", false},
		{"repo:org/app:*", "repo:org/app:environment:prod", true},
		{"repo:org/*:ref:refs/heads/main", "repo:org/a/b:ref:refs/heads/main", true},
		{"repo:org/app:ref:refs/tags/v?.*", "repo:org/app:ref:refs/tags/v1.2", true},
		{"repo:org/app:*", "repo:evil/app:x", false},
		{"*", "", true},
		{"", "x", false},
	}
	for _, tt := range tests {
		if got := automation.Glob(tt.pattern, tt.s); got != tt.want {
			t.Errorf("Glob(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

// issuer is an in-process OpenID Connect issuer: discovery and JWKS over
// TLS, tokens signed with a generated RSA key.
type issuer struct {
	srv    *httptest.Server
	signer jose.Signer
}

func newIssuer(t *testing.T) *issuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: "k1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	is := &issuer{signer: signer}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"issuer": is.srv.URL, "jwks_uri": is.srv.URL + "/jwks",
			"id_token_signing_alg_values_supported": []string{"RS256"}})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	is.srv = httptest.NewTLSServer(mux)
	t.Cleanup(is.srv.Close)
	return is
}

func (is *issuer) token(t *testing.T, claims map[string]any) string {
	t.Helper()
	if _, ok := claims["iss"]; !ok {
		claims["iss"] = is.srv.URL
	}
	b, _ := json.Marshal(claims)
	sig, err := is.signer.Sign(b)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sig.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestWebIdentity(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	is := newIssuer(t)
	other := newIssuer(t) // same claims, keys the provider does not know
	if _, err := f.w.Access.CreateAccount(ctx, acct, "Dev", "dev@example.test"); err != nil {
		t.Fatal(err)
	}
	ps, err := f.w.Access.CreatePermissionSet(ctx, accessInput("Deploy"))
	if err != nil {
		t.Fatal(err)
	}
	role := &store.ProvisionedRole{AccountID: acct, PermissionSetID: ps.ID, RoleName: "AWSReservedSSO_Deploy_0123456789abcdef",
		RoleID: "AROAEXAMPLEROLE000001", CreatedAt: f.clock.Now(), UpdatedAt: f.clock.Now()}
	if err := f.w.Store.PutProvisionedRole(ctx, role); err != nil {
		t.Fatal(err)
	}
	prov, err := f.svc.CreateOIDCProvider(ctx, acct, is.srv.URL, []string{"sts.amazonaws.com"}, nil,
		[]store.Tag{{Key: automation.RoleTagPrefix + "Deploy", Value: "repo:org/app:ref:refs/heads/main repo:org/app:environment:*"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CreateOIDCProvider(ctx, acct, is.srv.URL, nil, nil, nil); fault.KindOf(err) != fault.Conflict {
		t.Errorf("second provider for the URL: %v, want a conflict", err)
	}
	if _, err := f.svc.CreateOIDCProvider(ctx, acct, "http://insecure.example", nil, nil, nil); fault.KindOf(err) != fault.Validation {
		t.Errorf("http URL: %v, want a validation error", err)
	}
	wi := &automation.WebIdentity{Store: f.w.Store, Now: f.clock.Now, Client: is.srv.Client()}
	roleARN := "arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Deploy_0123456789abcdef"
	now := f.clock.Now()
	good := map[string]any{"sub": "repo:org/app:ref:refs/heads/main", "aud": "sts.amazonaws.com", "exp": now.Add(5 * time.Minute).Unix(), "iat": now.Unix()}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for k, v := range good {
			m[k] = v
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	tok, err := wi.Authorize(ctx, roleARN, is.token(t, with("sub", good["sub"])))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{prov.ARN, "repo:org/app:ref:refs/heads/main", "sts.amazonaws.com", role.RoleName, "Deploy"},
		[]string{tok.Provider.ARN, tok.Subject, tok.Audience, tok.Role.RoleName, tok.PermissionSet.Name}); diff != "" {
		t.Errorf("token (-want +got):\n%s", diff)
	}
	if _, err := wi.Authorize(ctx, roleARN, is.token(t, with("sub", "repo:org/app:environment:prod"))); err != nil {
		t.Errorf("pattern subject: %v", err)
	}

	tests := []struct {
		name   string
		role   string
		token  string
		kind   fault.Kind
		reason string
	}{
		{"subject not allowed", roleARN, is.token(t, with("sub", "repo:org/app:ref:refs/heads/dev")), fault.AccessDenied, "AccessDenied"},
		{"wrong audience", roleARN, is.token(t, with("aud", "other")), fault.Validation, automation.ReasonInvalidToken},
		{"expired", roleARN, is.token(t, with("exp", now.Add(-time.Minute).Unix())), fault.Validation, automation.ReasonExpiredToken},
		{"forged signature", roleARN, other.token(t, with("iss", is.srv.URL)), fault.Validation, automation.ReasonInvalidToken},
		{"unregistered issuer", roleARN, other.token(t, with("sub", good["sub"])), fault.Validation, automation.ReasonInvalidToken},
		{"not a JWT", roleARN, "not-a-token", fault.Validation, automation.ReasonInvalidToken},
		{"unknown role", "arn:aws:iam::111111111111:role/Other", is.token(t, with("sub", good["sub"])), fault.AccessDenied, "AccessDenied"},
		{"role of another account", "arn:aws:iam::222222222222:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Deploy_0123456789abcdef",
			is.token(t, with("sub", good["sub"])), fault.Validation, automation.ReasonInvalidToken},
		{"bad role ARN", "arn:aws:iam::1:role/x", is.token(t, with("sub", good["sub"])), fault.Validation, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := wi.Authorize(ctx, tt.role, tt.token)
			wantKind(t, err, tt.kind, tt.reason)
		})
	}

	// Deleting the provider ends trust at once.
	if err := f.svc.DeleteOIDCProvider(ctx, acct, prov.ARN); err != nil {
		t.Fatal(err)
	}
	_, err = wi.Authorize(ctx, roleARN, is.token(t, with("sub", good["sub"])))
	wantKind(t, err, fault.Validation, automation.ReasonInvalidToken)
}

func accessInput(name string) access.PermissionSetInput { return access.PermissionSetInput{Name: name} }

// TestLookupCache: a key disabled through this process's store is refused
// on the very next lookup; a replica that does not hear of the write
// (its Service has no OnChange registration) refuses it once
// DefaultCacheTTL has passed.
func TestLookupCache(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	if _, err := f.svc.CreateUser(ctx, acct, "ci", "", nil); err != nil {
		t.Fatal(err)
	}
	k, err := f.svc.CreateAccessKey(ctx, acct, "ci")
	if err != nil {
		t.Fatal(err)
	}
	replica := &automation.Service{Store: f.w.Store, Keys: f.svc.Keys, IDs: f.w.IDs, Now: f.clock.Now}
	for _, s := range []*automation.Service{f.svc, replica} {
		if _, _, err := s.Lookup(ctx, k.Key.ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.svc.UpdateAccessKey(ctx, acct, "ci", k.Key.ID, store.KeyInactive); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.Lookup(ctx, k.Key.ID); !errors.Is(err, sigv4.ErrUnknownAccessKey) {
		t.Errorf("this process, next lookup: %v, want refused", err)
	}
	if _, _, err := replica.Lookup(ctx, k.Key.ID); err != nil {
		t.Errorf("other replica within the TTL: %v (a cached answer is allowed)", err)
	}
	f.clock.Add(automation.DefaultCacheTTL)
	if _, _, err := replica.Lookup(ctx, k.Key.ID); !errors.Is(err, sigv4.ErrUnknownAccessKey) {
		t.Errorf("other replica after the TTL: %v, want refused", err)
	}
}
