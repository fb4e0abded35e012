package portal_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"
)

// callback is a CLI's loopback listener: it records the query of every
// request it gets.
type callback struct {
	srv  *httptest.Server
	mu   sync.Mutex
	got  []url.Values
	port string
}

func newCallback(t *testing.T) *callback {
	c := &callback{}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/oauth/callback" {
			http.NotFound(w, r) // a browser also asks for /favicon.ico
			return
		}
		c.mu.Lock()
		c.got = append(c.got, r.URL.Query())
		c.mu.Unlock()
		w.Write([]byte("done"))
	}))
	t.Cleanup(c.srv.Close)
	u, _ := url.Parse(c.srv.URL)
	c.port = u.Port()
	return c
}

func (c *callback) redirectURI() string { return "http://127.0.0.1:" + c.port + "/oauth/callback" }

func (c *callback) last() url.Values {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.got) == 0 {
		return nil
	}
	return c.got[len(c.got)-1]
}

func (e *env) pkceClient(name string) (id, secret string) {
	e.t.Helper()
	out, err := e.oidcC.RegisterClient(e.t.Context(), &ssooidc.RegisterClientInput{
		ClientName: aws.String(name), ClientType: aws.String("public"),
		GrantTypes: []string{"authorization_code", "refresh_token"}, IssuerUrl: aws.String(e.w.Instance.StartURL),
		RedirectUris: []string{"http://127.0.0.1/oauth/callback"}, Scopes: []string{"sso:account:access"},
	})
	if err != nil {
		e.t.Fatalf("RegisterClient: %v", err)
	}
	return aws.ToString(out.ClientId), aws.ToString(out.ClientSecret)
}

// authorizeQuery is the query CLI 2.36 sends to /authorize.
func authorizeQuery(clientID, redirectURI, state, challenge string) string {
	return "response_type=code&client_id=" + url.QueryEscape(clientID) + "&redirect_uri=" + url.QueryEscape(redirectURI) +
		"&state=" + state + "&code_challenge_method=S256&scopes=" + url.QueryEscape("sso:account:access") +
		"&code_challenge=" + challenge
}

func TestPKCEEndToEnd(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	cb := newCallback(t)
	id, secret := e.pkceClient("botocore-client-corp")
	verifier, challenge := pkceChallenge()
	const state = "7f1b3c9e-0d2a-4a55-9d1e-2b7c3f1a9e10"

	b := e.browser()
	p := b.get("/authorize?" + authorizeQuery(id, cb.redirectURI(), state, challenge))
	wantStatus(t, p, http.StatusSeeOther)
	if !strings.HasPrefix(p.Location(), "/login?next=") {
		t.Fatalf("signed-out /authorize redirects to %q", p.Location())
	}
	p = b.follow(p)
	p = b.submit(p, "/login", url.Values{"username": {"alice"}})
	p = b.submit(p, "/login/password", url.Values{"password": {alicePassword}})
	wantStatus(t, p, http.StatusSeeOther)
	if !strings.HasPrefix(p.Location(), "/authorize?") {
		t.Fatalf("after sign-in: redirect to %q, want back to /authorize", p.Location())
	}
	p = b.follow(p)
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "Allow botocore-client-corp to access your AWS accounts?", "sso:account:access", "127.0.0.1:"+cb.port)
	if csp := p.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' http://127.0.0.1:*") {
		t.Errorf("consent CSP %q does not let the form's answer redirect to the loopback listener", csp)
	}
	if cb.last() != nil {
		t.Fatal("the callback was called before consent")
	}

	p = b.submit(p, "/authorize", url.Values{"action": {"allow"}})
	wantStatus(t, p, http.StatusFound)
	loc, err := url.Parse(p.Location())
	if err != nil || loc.Scheme+"://"+loc.Host+loc.Path != cb.redirectURI() {
		t.Fatalf("Allow redirects to %q, want %s", p.Location(), cb.redirectURI())
	}
	b.get(p.Location())
	q := cb.last()
	if q.Get("state") != state || q.Get("code") == "" || q.Get("error") != "" {
		t.Fatalf("callback got %v", q)
	}
	tok, err := e.oidcC.CreateToken(ctx, &ssooidc.CreateTokenInput{
		ClientId: aws.String(id), ClientSecret: aws.String(secret), GrantType: aws.String("authorization_code"),
		Code: aws.String(q.Get("code")), CodeVerifier: aws.String(verifier), RedirectUri: aws.String(cb.redirectURI()),
	})
	if err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	if _, err := e.ssoC.ListAccounts(ctx, &sso.ListAccountsInput{AccessToken: tok.AccessToken}); err != nil {
		t.Errorf("ListAccounts with the PKCE token: %v", err)
	}

	// Signed in already: straight to consent; Deny sends access_denied.
	_, challenge2 := pkceChallenge()
	p = b.get("/authorize?" + authorizeQuery(id, cb.redirectURI(), "second-state", challenge2))
	wantStatus(t, p, http.StatusOK)
	p = b.submit(p, "/authorize", url.Values{"action": {"deny"}})
	wantStatus(t, p, http.StatusFound)
	b.get(p.Location())
	q = cb.last()
	if q.Get("error") != "access_denied" || q.Get("state") != "second-state" || q.Get("code") != "" {
		t.Errorf("Deny: callback got %v", q)
	}

	// A consent form cannot be replayed from another session.
	_, challenge3 := pkceChallenge()
	consent := b.get("/authorize?" + authorizeQuery(id, cb.redirectURI(), "third", challenge3))
	other := e.browser()
	other.mustSignIn("bob", bobPassword)
	p = other.submit(consent, "/authorize", url.Values{"action": {"allow"}})
	wantStatus(t, p, http.StatusBadRequest)
	if p.Location() != "" {
		t.Errorf("consent replayed in another session redirected to %q", p.Location())
	}
}

func TestAuthorizeBadRequestsNeverRedirect(t *testing.T) {
	e := newEnv(t)
	cb := newCallback(t)
	id, _ := e.pkceClient("botocore-client-corp")
	_, challenge := pkceChallenge()
	b := e.browser()
	b.mustSignIn("alice", alicePassword)
	for _, tc := range []struct{ name, query string }{
		{"unregistered redirect URI", authorizeQuery(id, "http://evil.example:8080/oauth/callback", "s", challenge)},
		{"other path", authorizeQuery(id, "http://127.0.0.1:"+cb.port+"/steal", "s", challenge)},
		{"unknown client", authorizeQuery("no-such-client", cb.redirectURI(), "s", challenge)},
		{"no client", "response_type=code&redirect_uri=" + url.QueryEscape(cb.redirectURI())},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, br := range []*browser{b, e.browser()} { // signed in and signed out
				p := br.get("/authorize?" + tc.query)
				wantStatus(t, p, http.StatusBadRequest)
				wantBody(t, p, "This link is not valid")
				if p.Location() != "" {
					t.Errorf("redirected to %q", p.Location())
				}
			}
		})
	}
	// With a trusted redirect URI, a bad parameter goes back to it.
	p := b.get("/authorize?" + strings.Replace(authorizeQuery(id, cb.redirectURI(), "s", challenge), "S256", "plain", 1))
	wantStatus(t, p, http.StatusFound)
	if loc, _ := url.Parse(p.Location()); loc == nil || loc.Query().Get("error") != "invalid_request" || loc.Query().Get("state") != "s" {
		t.Errorf("plain PKCE: redirect to %q, want error=invalid_request", p.Location())
	}
	if cb.last() != nil {
		t.Error("the callback was called")
	}
}
