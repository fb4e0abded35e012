package portal_test

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/accesscache"
	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/domaintest"
	"github.com/gatehouse-dev/gatehouse/internal/keyring"
	"github.com/gatehouse-dev/gatehouse/internal/mfa"
	"github.com/gatehouse-dev/gatehouse/internal/oidc"
	"github.com/gatehouse-dev/gatehouse/internal/portal"
	"github.com/gatehouse-dev/gatehouse/internal/signin"
	"github.com/gatehouse-dev/gatehouse/internal/store"
	"github.com/gatehouse-dev/gatehouse/internal/sts"
)

const (
	alicePassword = "alice-password-1"
	bobPassword   = "bob-password-1"
	prodAccount   = "111111111111"
	sandAccount   = "222222222222"
	otherAccount  = "333333333333"
	// testIPHeader lets a test pick the client address the actor carries,
	// as the server's middleware would from the peer or a trusted proxy.
	testIPHeader = "X-Test-Source-Ip"
)

// env is the portal, sso-oidc and sts services on one SQLite store behind an
// httptest server, with a small world: alice has Admin and ReadOnly in
// Production and ReadOnly in Sandbox; bob has Admin in Other.
type env struct {
	t      *testing.T
	w      *domaintest.World
	keys   *keyring.Ring
	oidc   *oidc.Service
	portal *portal.Service
	srv    *httptest.Server
	url    string
	oidcC  *ssooidc.Client
	ssoC   *sso.Client
	alice  *store.User
	bob    *store.User
	// skew moves the sso-oidc service's clock ahead of the others', so a
	// test can pass a device code's polling interval without sleeping.
	skew atomic.Int64
	// cacheSkew moves the access cache's clock ahead; seq.Down makes the
	// store's change counter unreadable to it (fault injection).
	cacheSkew atomic.Int64
	seq       *domaintest.SeqFault
	// logs holds every record the services log, Debug and up, as text.
	logs domaintest.LogBuffer
}

// wait moves the sso-oidc clock on by d.
func (e *env) wait(d time.Duration) { e.skew.Add(int64(d)) }

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := t.Context()
	w := domaintest.New(t)
	master := make([]byte, keyring.MasterKeySize)
	rand.Read(master)
	keys, err := keyring.Open(ctx, w.Store, master, rand.Reader, time.Now)
	if err != nil {
		t.Fatalf("open keyring: %v", err)
	}
	var logOut io.Writer = io.Discard
	if os.Getenv("GATEHOUSE_TEST_LOG") != "" {
		logOut = os.Stderr
	}
	e := &env{t: t, w: w, keys: keys, seq: &domaintest.SeqFault{Store: w.Store}}
	log := slog.New(slog.NewTextHandler(io.MultiWriter(logOut, &e.logs), &slog.HandlerOptions{Level: slog.LevelDebug}))
	cache := accesscache.New(e.seq, func() time.Time {
		return time.Now().Add(time.Duration(e.cacheSkew.Load()))
	})
	w.Directory.RevocationTTL = 8*time.Hour + access.MaxSessionDuration

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	o := &oidc.Service{
		Store: w.Store, Keys: keys, Audit: w.Audit, IDs: w.IDs, Now: func() time.Time { return time.Now().Add(time.Duration(e.skew.Load())) }, Rand: rand.Reader, Log: log,
		Instance: w.Instance, BaseURL: base, Cache: cache, PortalSessionDuration: 8 * time.Hour,
	}
	iss := &sts.Issuer{Keys: keys, Cache: cache, Store: w.Store, Audit: w.Audit, IDs: w.IDs, Now: time.Now, Instance: w.Instance}
	p := &portal.Service{
		Store: w.Store, Keys: keys, Audit: w.Audit, IDs: w.IDs, Now: time.Now, Rand: rand.Reader, Log: log,
		Instance: w.Instance, BaseURL: base, Directory: w.Directory, OIDC: o, Issuer: iss, Cache: cache,
	}
	p.MFA = &mfa.Service{Store: w.Store, Keys: keys, Audit: w.Audit, IDs: w.IDs, Now: time.Now, Rand: rand.Reader, Issuer: "Gatehouse", BaseURL: base}
	p.SignIn = &signin.Service{
		Store: w.Store, Keys: keys, Audit: w.Audit, Directory: w.Directory, MFA: p.MFA,
		Now: time.Now, Rand: rand.Reader, Log: log, SessionDuration: 8 * time.Hour,
	}
	mux := http.NewServeMux()
	o.Register(mux)
	p.Register(mux)
	// The server's middleware puts the audit actor in the context; this
	// stands in for it.
	h := http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		ip, _, _ := net.SplitHostPort(r.RemoteAddr)
		if v := r.Header.Get(testIPHeader); v != "" {
			ip = v
		}
		ctx := audit.WithActor(r.Context(), audit.Actor{Identity: audit.Identity{Type: "Unknown"}, SourceIP: ip, UserAgent: r.UserAgent(), RequestID: "test-request"})
		mux.ServeHTTP(rw, r.WithContext(ctx))
	})
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)

	e.oidc, e.portal, e.srv, e.url = o, p, srv, base
	e.oidcC = ssooidc.New(ssooidc.Options{Region: "us-east-1", BaseEndpoint: aws.String(base), Retryer: aws.NopRetryer{}})
	e.ssoC = sso.New(sso.Options{Region: "us-east-1", BaseEndpoint: aws.String(base), Retryer: aws.NopRetryer{}})
	e.world()
	return e
}

func (e *env) world() {
	t, ctx := e.t, e.t.Context()
	mk := func(name, pw string) *store.User {
		u, err := e.w.Directory.CreateUser(ctx, directory.CreateUserInput{
			UserName: name, DisplayName: name, Name: store.UserName{GivenName: name, FamilyName: "Test"},
		})
		if err != nil {
			t.Fatalf("create user %s: %v", name, err)
		}
		if err := e.w.Directory.SetPassword(ctx, u.ID, pw); err != nil {
			t.Fatalf("set password: %v", err)
		}
		return u
	}
	e.alice, e.bob = mk("alice", alicePassword), mk("bob", bobPassword)
	for id, name := range map[string]string{prodAccount: "Production", sandAccount: "Sandbox", otherAccount: "Other"} {
		if _, err := e.w.Access.CreateAccount(ctx, id, name, strings.ToLower(name)+"@example.com"); err != nil {
			t.Fatalf("create account: %v", err)
		}
	}
	ps := map[string]string{}
	for _, name := range []string{"Admin", "ReadOnly"} {
		p, err := e.w.Access.CreatePermissionSet(ctx, access.PermissionSetInput{Name: name, SessionDuration: "PT2H"})
		if err != nil {
			t.Fatalf("create permission set: %v", err)
		}
		ps[name] = p.ID
	}
	for _, a := range []struct{ acct, ps, user string }{
		{prodAccount, "Admin", e.alice.ID}, {prodAccount, "ReadOnly", e.alice.ID}, {sandAccount, "ReadOnly", e.alice.ID},
		{otherAccount, "Admin", e.bob.ID},
	} {
		op, err := e.w.Access.CreateAssignment(ctx, access.AssignmentInput{AccountID: a.acct, PermissionSetID: ps[a.ps], PrincipalType: store.PrincipalUser, PrincipalID: a.user})
		if err != nil || op.Status != store.StatusSucceeded {
			t.Fatalf("create assignment: %v %+v", err, op)
		}
	}
}

// browser is an HTTP client with a cookie jar that does not follow
// redirects, so tests see every hop.
type browser struct {
	t    *testing.T
	e    *env
	c    *http.Client
	ip   string
	hdrs http.Header
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: e.t, e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// page is a response with its body read.
type page struct {
	Status int
	Header http.Header
	Body   string
}

// Location is the redirect target, resolved against the server.
func (p *page) Location() string { return p.Header.Get("Location") }

func (b *browser) do(method, target string, form url.Values) *page {
	b.t.Helper()
	if strings.HasPrefix(target, "/") {
		target = b.e.url + target
	}
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(b.t.Context(), method, target, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if b.ip != "" {
		req.Header.Set(testIPHeader, b.ip)
	}
	for k, vs := range b.hdrs {
		req.Header[k] = vs
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return &page{Status: resp.StatusCode, Header: resp.Header, Body: string(data)}
}

func (b *browser) get(target string) *page { b.t.Helper(); return b.do("GET", target, nil) }

var (
	formRe   = regexp.MustCompile(`(?s)<form method="(get|post)" action="([^"]*)"[^>]*>(.*?)</form>`)
	hiddenRe = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
)

// submit fills in the form of p that posts to action: its hidden fields
// plus fields, as a browser would send them.
func (b *browser) submit(p *page, action string, fields url.Values) *page {
	b.t.Helper()
	for _, m := range formRe.FindAllStringSubmatch(p.Body, -1) {
		if html.UnescapeString(m[2]) != action {
			continue
		}
		v := url.Values{}
		for _, h := range hiddenRe.FindAllStringSubmatch(m[3], -1) {
			v.Set(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
		}
		for k, vs := range fields {
			v[k] = vs
		}
		if m[1] == "get" {
			return b.get(action + "?" + v.Encode())
		}
		return b.do("POST", action, v)
	}
	b.t.Fatalf("no form posting to %s in page (status %d):\n%s", action, p.Status, p.Body)
	return nil
}

// follow requests a redirect's target on this server.
func (b *browser) follow(p *page) *page {
	b.t.Helper()
	if p.Status < 300 || p.Status > 399 {
		b.t.Fatalf("want a redirect, got %d:\n%s", p.Status, p.Body)
	}
	loc := p.Location()
	if !strings.HasPrefix(loc, "/") {
		b.t.Fatalf("redirect to %q leaves the server", loc)
	}
	return b.get(loc)
}

// signIn goes through the sign-in pages from start (a page that redirects
// to /login) and returns the response to the password step.
func (b *browser) signIn(userName, password string) *page {
	b.t.Helper()
	p := b.get("/login")
	p = b.submit(p, "/login", url.Values{"username": {userName}})
	if p.Status != http.StatusOK {
		b.t.Fatalf("user name step: %d\n%s", p.Status, p.Body)
	}
	return b.submit(p, "/login/password", url.Values{"password": {password}})
}

// mustSignIn signs in and fails the test unless it succeeded.
func (b *browser) mustSignIn(userName, password string) {
	b.t.Helper()
	p := b.signIn(userName, password)
	if p.Status != http.StatusSeeOther || p.Location() != "/start" {
		b.t.Fatalf("sign-in: %d %q\n%s", p.Status, p.Location(), p.Body)
	}
}

func wantStatus(t *testing.T, p *page, status int) {
	t.Helper()
	if p.Status != status {
		t.Fatalf("status %d, want %d; body:\n%s", p.Status, status, p.Body)
	}
}

func wantBody(t *testing.T, p *page, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(p.Body, s) {
			t.Errorf("page lacks %q:\n%s", s, p.Body)
		}
	}
}

// deviceClient registers a device-flow client as the CLI does.
func (e *env) deviceClient(name string) (id, secret string) {
	e.t.Helper()
	out, err := e.oidcC.RegisterClient(e.t.Context(), &ssooidc.RegisterClientInput{
		ClientName: aws.String(name), ClientType: aws.String("public"), Scopes: []string{"sso:account:access"},
	})
	if err != nil {
		e.t.Fatalf("RegisterClient: %v", err)
	}
	return aws.ToString(out.ClientId), aws.ToString(out.ClientSecret)
}

// deviceLogin runs the whole device flow for a user through the pages and
// returns the access token.
func (e *env) deviceLogin(b *browser, userName, password string) string {
	e.t.Helper()
	ctx := e.t.Context()
	id, secret := e.deviceClient("botocore-client-corp")
	start, err := e.oidcC.StartDeviceAuthorization(ctx, &ssooidc.StartDeviceAuthorizationInput{
		ClientId: aws.String(id), ClientSecret: aws.String(secret), StartUrl: aws.String(e.w.Instance.StartURL),
	})
	if err != nil {
		e.t.Fatalf("StartDeviceAuthorization: %v", err)
	}
	p := b.get(aws.ToString(start.VerificationUriComplete))
	if p.Status == http.StatusSeeOther && strings.HasPrefix(p.Location(), "/login") {
		p = b.follow(p)
		p = b.submit(p, "/login", url.Values{"username": {userName}})
		p = b.submit(p, "/login/password", url.Values{"password": {password}})
		p = b.follow(p)
	}
	wantStatus(e.t, p, http.StatusOK)
	p = b.submit(p, "/device", url.Values{"action": {"allow"}})
	wantStatus(e.t, p, http.StatusOK)
	tok, err := e.oidcC.CreateToken(ctx, &ssooidc.CreateTokenInput{
		ClientId: aws.String(id), ClientSecret: aws.String(secret), DeviceCode: start.DeviceCode,
		GrantType: aws.String("urn:ietf:params:oauth:grant-type:device_code"),
	})
	if err != nil {
		e.t.Fatalf("CreateToken: %v", err)
	}
	return aws.ToString(tok.AccessToken)
}

// pkceChallenge returns a verifier and its S256 challenge (RFC 7636 §4.2).
func pkceChallenge() (verifier, challenge string) {
	b := make([]byte, 48)
	rand.Read(b)
	verifier = base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

func isErr[T error](err error) bool {
	_, ok := errors.AsType[T](err)
	return ok
}
