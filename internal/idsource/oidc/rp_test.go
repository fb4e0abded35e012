package oidcrp_test

import (
	"crypto/rand"
	"crypto/rsa"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/idsource"
	oidcrp "github.com/gatehouse-dev/gatehouse/internal/idsource/oidc"
	"github.com/gatehouse-dev/gatehouse/internal/idsource/oidc/oidctest"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

const (
	clientID     = "gatehouse-client"
	clientSecret = "s3cret-client-secret-value"
)

var alice = oidctest.User{ID: "sub-alice-1", UserName: "alice@corp.example", Password: "alice-password-1",
	GivenName: "Alice", FamilyName: "Liddell", Email: "alice@corp.example", Groups: []string{"platform-engineers", "readers"}}

type world struct {
	srv *servertest.Server
	op  *oidctest.Provider
}

// newWorld starts Gatehouse and a provider, configures the OIDC source
// with the okta preset (groups scope) and switches to it.
func newWorld(t *testing.T) *world {
	t.Helper()
	srv := servertest.New(t, nil)
	op := oidctest.Start(t, clientID, clientSecret, srv.URL+oidcrp.CallbackPath, alice)
	secret := clientSecret
	if err := srv.Sources.Configure(t.Context(), idsource.OIDC, map[string]string{
		oidcrp.SettingIssuer: op.Issuer, oidcrp.SettingClientID: clientID, oidcrp.SettingPreset: "okta",
	}, &secret); err != nil {
		t.Fatalf("configure: %v", err)
	}
	if _, err := srv.Sources.Switch(t.Context(), idsource.OIDC); err != nil {
		t.Fatalf("switch: %v", err)
	}
	return &world{srv: srv, op: op}
}

// browser is a cookie-keeping HTTP client; stopAtCallback makes it stop
// before following the provider's redirect to Gatehouse's callback.
type browser struct {
	c              *http.Client
	stopAtCallback bool
	callback       string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &browser{}
	b.c = &http.Client{Jar: jar, Timeout: 20 * time.Second, CheckRedirect: func(r *http.Request, via []*http.Request) error {
		if r.URL.Path == oidcrp.CallbackPath {
			b.callback = r.URL.String()
			if b.stopAtCallback {
				return http.ErrUseLastResponse
			}
		}
		return nil
	}}
	return b
}

func (b *browser) get(t *testing.T, u string) (*http.Response, string) {
	t.Helper()
	resp, err := b.c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

var authRequestID = regexp.MustCompile(`name="id" value="([^"]+)"`)

// signIn starts at Gatehouse's /login?next=, submits the provider's login
// page and returns the last response and its body.
func (b *browser) signIn(t *testing.T, w *world, next, user, password string) (*http.Response, string) {
	t.Helper()
	resp, body := b.get(t, w.srv.URL+"/login?next="+url.QueryEscape(next))
	if !strings.HasPrefix(resp.Request.URL.String(), w.op.Issuer+"/login/username") {
		t.Fatalf("sign-in landed on %s (%d), want the provider's login page; body %.300s", resp.Request.URL, resp.StatusCode, body)
	}
	m := authRequestID.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no auth request id on the provider's login page: %.500s", body)
	}
	resp, err := b.c.PostForm(w.op.Issuer+"/login/username", url.Values{"id": {m[1]}, "username": {user}, "password": {password}})
	if err != nil {
		t.Fatalf("submit provider login: %v", err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, string(out)
}

func lastEventCode(t *testing.T, st store.Store) string {
	t.Helper()
	evs, err := st.ListEvents(t.Context(), store.EventFilter{End: time.Now().Add(time.Hour), Name: "UserAuthentication", Newest: true})
	if err != nil || len(evs) == 0 {
		t.Fatalf("events: %v, %d", err, len(evs))
	}
	return evs[0].ErrorCode
}

func memberOf(t *testing.T, st store.Store, userID string) []string {
	t.Helper()
	ms, err := st.ListMembershipsByUser(t.Context(), userID, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range ms {
		g, err := st.GetGroup(t.Context(), m.GroupID)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, g.DisplayName)
	}
	slices.Sort(names)
	return names
}

func TestCodeFlowProvisionsUpstreamUser(t *testing.T) {
	w := newWorld(t)
	b := newBrowser(t)
	resp, body := b.signIn(t, w, "/account", alice.UserName, alice.Password)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/account" || !strings.HasPrefix(resp.Request.URL.String(), w.srv.URL) {
		t.Fatalf("after sign-in: %d at %s; body %.400s", resp.StatusCode, resp.Request.URL, body)
	}
	cb, _ := url.Parse(b.callback)
	if cb.Query().Get("state") == "" || cb.Query().Get("code") == "" {
		t.Fatalf("callback %s lacks state or code", b.callback)
	}
	u, err := w.srv.Store.GetUserByName(t.Context(), alice.UserName)
	if err != nil {
		t.Fatalf("user not provisioned: %v", err)
	}
	if u.Name.GivenName != "Alice" || u.Name.FamilyName != "Liddell" || u.DisplayName != "Alice Liddell" {
		t.Fatalf("user names = %+v / %q", u.Name, u.DisplayName)
	}
	if !slices.Contains(u.ExternalIDs, store.ExternalID{Issuer: w.op.Issuer, ID: alice.ID}) {
		t.Fatalf("external IDs = %v, want (%s, %s)", u.ExternalIDs, w.op.Issuer, alice.ID)
	}
	if len(u.Emails) == 0 || u.Emails[0].Value != alice.Email {
		t.Fatalf("emails = %+v", u.Emails)
	}
	if got := memberOf(t, w.srv.Store, u.ID); !slices.Equal(got, []string{"platform-engineers", "readers"}) {
		t.Fatalf("groups = %v", got)
	}
	if code := lastEventCode(t, w.srv.Store); code != "" {
		t.Fatalf("last sign-in event error code %q, want success", code)
	}
	// The provider sent a thin ID token (groups, no profile): the profile
	// came from the userinfo endpoint.
	toks := w.op.IDTokens()
	if len(toks) != 1 {
		t.Fatalf("provider issued %d ID tokens", len(toks))
	}
	// The portal session works: /start is served, not a redirect to /login.
	resp, _ = b.get(t, w.srv.URL+"/start")
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/start" {
		t.Fatalf("/start after sign-in: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	// Info names the redirect URI.
	if info := w.srv.Sources.Kind(idsource.OIDC).Info(); len(info) != 1 || info[0].Value != w.srv.URL+"/oidc/callback" {
		t.Fatalf("info = %+v", info)
	}
}

func TestCheckRefusesDiscoveryIssuerMismatch(t *testing.T) {
	srv := servertest.New(t, nil)
	op := oidctest.Start(t, clientID, clientSecret, srv.URL+oidcrp.CallbackPath, alice)
	target, _ := url.Parse(op.Issuer)
	proxy := httptest.NewServer(httputil.NewSingleHostReverseProxy(target))
	t.Cleanup(proxy.Close)
	secret := clientSecret
	for name, issuer := range map[string]string{
		"discovery names another issuer": proxy.URL,
		"not https":                      "http://idp.example.com",
		"query":                          op.Issuer + "?x=1",
		"unreachable":                    "https://127.0.0.1:1",
	} {
		err := srv.Sources.Configure(t.Context(), idsource.OIDC, map[string]string{
			oidcrp.SettingIssuer: issuer, oidcrp.SettingClientID: clientID}, &secret)
		if fault.KindOf(err) != fault.Validation {
			t.Errorf("%s: Configure(%s) = %v, want a Validation fault", name, issuer, err)
		}
	}
	if err := srv.Sources.Configure(t.Context(), idsource.OIDC, map[string]string{
		oidcrp.SettingIssuer: op.Issuer, oidcrp.SettingClientID: clientID}, nil); fault.KindOf(err) != fault.Validation {
		t.Errorf("Configure without a client secret = %v, want a Validation fault", err)
	}
	if _, err := srv.Store.GetIdentitySource(t.Context(), idsource.OIDC); err == nil {
		t.Fatal("a refused configuration was stored")
	}
}

// TestTokenAttacks plays a provider (or a network attacker at its token
// endpoint) answering with ID tokens the relying party must refuse.
func TestTokenAttacks(t *testing.T) {
	w := newWorld(t)
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	now := time.Now()
	cases := []struct {
		name    string
		rewrite func(c map[string]any) string
	}{
		{"issuer of another provider", func(c map[string]any) string {
			c["iss"] = "https://evil.example"
			return w.op.Sign(t, c)
		}},
		{"signed by another provider's key", func(c map[string]any) string { return oidctest.SignWith(t, other, w.op.KeyID, c) }},
		{"wrong audience", func(c map[string]any) string {
			c["aud"] = []string{"another-client"}
			return w.op.Sign(t, c)
		}},
		{"several audiences without azp", func(c map[string]any) string {
			c["aud"] = []string{clientID, "another-client"}
			delete(c, "azp")
			return w.op.Sign(t, c)
		}},
		{"bad nonce", func(c map[string]any) string {
			c["nonce"] = "attacker-nonce"
			return w.op.Sign(t, c)
		}},
		{"no nonce", func(c map[string]any) string {
			delete(c, "nonce")
			return w.op.Sign(t, c)
		}},
		{"alg none", func(c map[string]any) string { return oidctest.Unsigned(c) }},
		{"HS256 keyed with the public key", w.op.HS256WithPublicKey(t)},
		{"expired", func(c map[string]any) string {
			c["iat"] = now.Add(-2 * time.Hour).Unix()
			c["exp"] = now.Add(-time.Hour).Unix()
			return w.op.Sign(t, c)
		}},
		{"no id_token", func(c map[string]any) string { return "" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w.op.RewriteIDToken(tc.rewrite)
			defer w.op.RewriteIDToken(nil)
			b := newBrowser(t)
			resp, body := b.signIn(t, w, "/start", alice.UserName, alice.Password)
			if resp.StatusCode != http.StatusForbidden || resp.Request.URL.Path != oidcrp.CallbackPath {
				t.Fatalf("got %d at %s, want 403 at the callback; body %.300s", resp.StatusCode, resp.Request.URL, body)
			}
			if !strings.Contains(body, "Sign-in refused") {
				t.Fatalf("refusal page lacks its heading: %.500s", body)
			}
			if code := lastEventCode(t, w.srv.Store); code != "InvalidIDToken" {
				t.Fatalf("audit error code %q, want InvalidIDToken", code)
			}
			if _, err := w.srv.Store.GetUserByName(t.Context(), alice.UserName); err == nil {
				t.Fatal("user provisioned from a refused token")
			}
			// No portal session either.
			resp, _ = b.get(t, w.srv.URL+"/start")
			if resp.Request.URL.Path == "/start" {
				t.Fatal("/start served after a refused sign-in")
			}
		})
	}
	// The same world still signs in with honest tokens.
	resp, body := newBrowser(t).signIn(t, w, "/start", alice.UserName, alice.Password)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/start" {
		t.Fatalf("honest sign-in after the attacks: %d at %s: %.300s", resp.StatusCode, resp.Request.URL, body)
	}
}

func TestMissingVerifierRefusedByProvider(t *testing.T) {
	w := newWorld(t)
	w.op.DropVerifier(true)
	resp, body := newBrowser(t).signIn(t, w, "/start", alice.UserName, alice.Password)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "refused the sign-in") {
		t.Fatalf("got %d: %.400s", resp.StatusCode, body)
	}
	if code := lastEventCode(t, w.srv.Store); code != "CodeExchangeRefused" {
		t.Fatalf("audit code %q", code)
	}
}

// stopped signs in up to the provider's redirect to the callback, which is
// returned unvisited with the browser's cookies for it.
func stopped(t *testing.T, w *world) (*browser, string) {
	t.Helper()
	b := newBrowser(t)
	b.stopAtCallback = true
	resp, _ := b.signIn(t, w, "/start", alice.UserName, alice.Password)
	if resp.StatusCode != http.StatusFound || b.callback == "" {
		t.Fatalf("no redirect to the callback: %d", resp.StatusCode)
	}
	return b, b.callback
}

func TestStateBoundToBrowser(t *testing.T) {
	w := newWorld(t)
	_, victimCallback := stopped(t, w)
	// Another browser, with a sign-in of its own under way, is sent to
	// the victim's callback (login CSRF / mixed-up state).
	attacker, _ := stopped(t, w)
	attacker.stopAtCallback = false
	resp, body := attacker.get(t, victimCallback)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "cannot be finished") {
		t.Fatalf("foreign callback: %d %.300s", resp.StatusCode, body)
	}
	if code := lastEventCode(t, w.srv.Store); code != "InvalidState" {
		t.Fatalf("audit code %q", code)
	}
	// A browser with no cookie at all, and a callback without state.
	resp, _ = newBrowser(t).get(t, victimCallback)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("callback without cookie: %d", resp.StatusCode)
	}
	resp, _ = newBrowser(t).get(t, w.srv.URL+oidcrp.CallbackPath+"?code=x")
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("callback without state: %d", resp.StatusCode)
	}
	if _, err := w.srv.Store.GetUserByName(t.Context(), alice.UserName); err == nil {
		t.Fatal("user provisioned by a foreign callback")
	}
}

func TestReplayedCallbackRefused(t *testing.T) {
	w := newWorld(t)
	b, cb := stopped(t, w)
	u, _ := url.Parse(cb)
	cookies := b.c.Jar.Cookies(u)
	if len(cookies) == 0 {
		t.Fatal("no flow cookie for the callback")
	}
	send := func() *http.Response {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, cb, nil)
		for _, c := range cookies {
			req.AddCookie(c)
		}
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := send(); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/start" {
		t.Fatalf("first callback: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp := send(); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("replayed callback: %d, want 400", resp.StatusCode)
	}
	if code := lastEventCode(t, w.srv.Store); code != "ReplayedCallback" {
		t.Fatalf("audit code %q", code)
	}
}

func TestOpenRedirectThroughNext(t *testing.T) {
	w := newWorld(t)
	for _, next := range []string{"https://evil.example/x", "//evil.example/x", "/\\evil.example", "/start@evil.example"} {
		resp, body := newBrowser(t).signIn(t, w, next, alice.UserName, alice.Password)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Request.URL.String(), w.srv.URL+"/") || resp.Request.URL.Path != "/start" {
			t.Errorf("next %q: landed on %s (%d): %.200s", next, resp.Request.URL, resp.StatusCode, body)
		}
	}
}

func TestProviderErrorIsAPage(t *testing.T) {
	w := newWorld(t)
	resp, body := newBrowser(t).get(t, w.srv.URL+oidcrp.CallbackPath+"?error=access_denied&error_description=User+is+not+assigned&state=abc")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "access_denied") {
		t.Fatalf("got %d: %.400s", resp.StatusCode, body)
	}
	if code := lastEventCode(t, w.srv.Store); code != "AccessDenied" {
		t.Fatalf("audit code %q", code)
	}
}

// TestMain quiets the example provider's request log, which goes to the
// default logger.
func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.DiscardHandler))
	os.Exit(m.Run())
}

func TestProviderDownAtCallbackIsAPage(t *testing.T) {
	w := newWorld(t)
	b, cb := stopped(t, w)
	w.op.Server.Close()
	b.stopAtCallback = false
	resp, body := b.get(t, cb)
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(body, "cannot be reached") {
		t.Fatalf("got %d: %.400s", resp.StatusCode, body)
	}
}

// TestUnverifiedEmailIsNoUserName: with the google preset the user name is
// the email claim; an address the provider has not verified could name an
// existing user, so the sign-in is refused.
func TestUnverifiedEmailIsNoUserName(t *testing.T) {
	srv := servertest.New(t, nil)
	op := oidctest.Start(t, clientID, clientSecret, srv.URL+oidcrp.CallbackPath, alice)
	secret := clientSecret
	if err := srv.Sources.Configure(t.Context(), idsource.OIDC, map[string]string{
		oidcrp.SettingIssuer: op.Issuer, oidcrp.SettingClientID: clientID, oidcrp.SettingPreset: "google",
	}, &secret); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Sources.Switch(t.Context(), idsource.OIDC); err != nil {
		t.Fatal(err)
	}
	w := &world{srv: srv, op: op}
	op.RewriteIDToken(func(c map[string]any) string {
		c["email"], c["email_verified"] = "alice@company.com", false
		return op.Sign(t, c)
	})
	resp, body := newBrowser(t).signIn(t, w, "/start", alice.UserName, alice.Password)
	if resp.StatusCode != http.StatusForbidden || lastEventCode(t, srv.Store) != "UnverifiedEmail" {
		t.Fatalf("got %d: %.300s", resp.StatusCode, body)
	}
	// A provider that does not say whether it verified the address (no
	// email_verified, as Entra ID's email claim): not verified either.
	op.RewriteIDToken(func(c map[string]any) string {
		c["email"] = "alice@company.com"
		delete(c, "email_verified")
		return op.Sign(t, c)
	})
	resp, body = newBrowser(t).signIn(t, w, "/start", alice.UserName, alice.Password)
	if resp.StatusCode != http.StatusForbidden || lastEventCode(t, srv.Store) != "UnverifiedEmail" {
		t.Fatalf("no email_verified: got %d: %.300s", resp.StatusCode, body)
	}
	if _, err := srv.Store.GetUserByName(t.Context(), "alice@company.com"); err == nil {
		t.Fatal("a user was made of an address nobody said was verified")
	}
	// Verified, the google preset signs in by e-mail and leaves groups
	// alone (no groups claim).
	op.RewriteIDToken(nil)
	resp, body = newBrowser(t).signIn(t, w, "/start", alice.UserName, alice.Password)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/start" {
		t.Fatalf("verified sign-in: %d at %s: %.300s", resp.StatusCode, resp.Request.URL, body)
	}
	u, err := srv.Store.GetUserByName(t.Context(), alice.Email)
	if err != nil {
		t.Fatal(err)
	}
	if got := memberOf(t, srv.Store, u.ID); len(got) != 0 {
		t.Fatalf("google preset gave groups %v", got)
	}
}

// TestChangedIssuerNeedsTheClientSecretAgain: the client secret is
// write-only; another issuer with the stored secret kept would send it to
// that provider's token endpoint at the next sign-in. Changing the issuer
// needs the secret typed again; other settings change without it.
func TestChangedIssuerNeedsTheClientSecretAgain(t *testing.T) {
	w := newWorld(t)
	other := oidctest.Start(t, clientID, "other-secret", w.srv.URL+oidcrp.CallbackPath, alice)
	moved := map[string]string{oidcrp.SettingIssuer: other.Issuer, oidcrp.SettingClientID: clientID, oidcrp.SettingPreset: "okta"}
	err := w.srv.Sources.Configure(t.Context(), idsource.OIDC, moved, nil)
	if fault.KindOf(err) != fault.Validation || !strings.Contains(err.Error(), "client secret") {
		t.Fatalf("issuer changed with the stored secret kept: %v, want a Validation fault asking for the client secret", err)
	}
	if m, _, err := w.srv.Sources.Settings(t.Context(), idsource.OIDC); err != nil || m[oidcrp.SettingIssuer] != w.op.Issuer {
		t.Fatalf("stored issuer = %q, %v; want the first provider's", m[oidcrp.SettingIssuer], err)
	}
	secret := "other-secret"
	if err := w.srv.Sources.Configure(t.Context(), idsource.OIDC, moved, &secret); err != nil {
		t.Fatalf("issuer changed with the secret: %v", err)
	}
	moved[oidcrp.SettingPreset] = "custom"
	if err := w.srv.Sources.Configure(t.Context(), idsource.OIDC, moved, nil); err != nil {
		t.Fatalf("preset changed with the stored secret kept: %v", err)
	}
}
