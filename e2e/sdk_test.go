package e2e

import (
	"context"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"
	oidctypes "github.com/aws/aws-sdk-go-v2/service/ssooidc/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/gatehouse-dev/gatehouse/internal/clientconfig"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
)

func sdkConfig(region string) aws.Config {
	return aws.Config{Region: region, Credentials: aws.AnonymousCredentials{}}
}

func oidcClient(srv *servertest.Server) *ssooidc.Client {
	return ssooidc.NewFromConfig(sdkConfig(srv.Instance.Region), func(o *ssooidc.Options) { o.BaseEndpoint = aws.String(srv.URL) })
}

func portalClient(srv *servertest.Server) *sso.Client {
	return sso.NewFromConfig(sdkConfig(srv.Instance.Region), func(o *sso.Options) { o.BaseEndpoint = aws.String(srv.URL) })
}

func stsClient(srv *servertest.Server, creds aws.CredentialsProvider) *sts.Client {
	return sts.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: creds}, func(o *sts.Options) { o.BaseEndpoint = aws.String(srv.URL) })
}

// deviceLogin runs the device flow with the SDK and approves it through
// the pages as user; it returns the registration and the tokens.
func deviceLogin(t *testing.T, srv *servertest.Server, user string) (*ssooidc.RegisterClientOutput, *ssooidc.CreateTokenOutput) {
	t.Helper()
	ctx := t.Context()
	oc := oidcClient(srv)
	reg, err := oc.RegisterClient(ctx, &ssooidc.RegisterClientInput{
		ClientName: aws.String("botocore-client-sdk-test"), ClientType: aws.String("public"), Scopes: []string{"sso:account:access"},
	})
	if err != nil {
		t.Fatalf("RegisterClient: %v", err)
	}
	if exp := time.Unix(reg.ClientSecretExpiresAt, 0); exp.Sub(time.Unix(reg.ClientIdIssuedAt, 0)) != 90*24*time.Hour {
		t.Errorf("registration lasts %s, want 90 days", exp.Sub(time.Unix(reg.ClientIdIssuedAt, 0)))
	}
	dev, err := oc.StartDeviceAuthorization(ctx, &ssooidc.StartDeviceAuthorizationInput{
		ClientId: reg.ClientId, ClientSecret: reg.ClientSecret, StartUrl: aws.String(srv.Instance.StartURL),
	})
	if err != nil {
		t.Fatalf("StartDeviceAuthorization: %v", err)
	}
	if dev.ExpiresIn != 600 || !userCodeRe.MatchString(aws.ToString(dev.UserCode)) {
		t.Errorf("device authorization = expiresIn %d, user code %q", dev.ExpiresIn, aws.ToString(dev.UserCode))
	}
	tokenIn := &ssooidc.CreateTokenInput{
		ClientId: reg.ClientId, ClientSecret: reg.ClientSecret, DeviceCode: dev.DeviceCode,
		GrantType: aws.String("urn:ietf:params:oauth:grant-type:device_code"),
	}
	_, err = oc.CreateToken(ctx, tokenIn)
	var pending *oidctypes.AuthorizationPendingException
	if !errors.As(err, &pending) || aws.ToString(pending.Error_) != "authorization_pending" {
		t.Fatalf("CreateToken before approval = %v, want AuthorizationPendingException", err)
	}
	approveDevice(t, aws.ToString(dev.VerificationUriComplete), user, demoPassword)
	time.Sleep(time.Duration(dev.Interval) * time.Second)
	tok, err := oc.CreateToken(ctx, tokenIn)
	if err != nil {
		t.Fatalf("CreateToken after approval: %v", err)
	}
	if aws.ToString(tok.TokenType) != "Bearer" || tok.ExpiresIn != 3600 || aws.ToString(tok.RefreshToken) == "" {
		t.Fatalf("token = type %q expiresIn %d refresh %t", aws.ToString(tok.TokenType), tok.ExpiresIn, tok.RefreshToken != nil)
	}
	// A device code is redeemed once.
	time.Sleep(time.Duration(dev.Interval) * time.Second)
	var invalid *oidctypes.InvalidGrantException
	if _, err := oc.CreateToken(ctx, tokenIn); !errors.As(err, &invalid) {
		t.Fatalf("second redemption = %v, want InvalidGrantException", err)
	}
	return reg, tok
}

func TestSDKDeviceFlowCredentialsAndRefresh(t *testing.T) {
	srv, clk := demoServerWithClock(t)
	ctx := t.Context()
	reg, tok := deviceLogin(t, srv, "alice@company.com")
	pc := portalClient(srv)
	accts, err := pc.ListAccounts(ctx, &sso.ListAccountsInput{AccessToken: tok.AccessToken})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range accts.AccountList {
		names = append(names, aws.ToString(a.AccountName))
	}
	slices.Sort(names)
	if strings.Join(names, ",") != "dev,management,prod,staging" {
		t.Fatalf("alice's accounts = %v, want dev, staging, prod and management", names)
	}
	rc, err := pc.GetRoleCredentials(ctx, &sso.GetRoleCredentialsInput{AccessToken: tok.AccessToken, AccountId: aws.String("333333333333"), RoleName: aws.String("PowerUserAccess")})
	if err != nil {
		t.Fatal(err)
	}
	creds := rc.RoleCredentials
	exp := time.UnixMilli(creds.Expiration)
	if d := time.Until(exp); d < 59*time.Minute || d > 61*time.Minute {
		t.Fatalf("credentials expire in %s, want the permission set's 1 h", d)
	}
	out, err := stsClient(srv, credentials.NewStaticCredentialsProvider(aws.ToString(creds.AccessKeyId), aws.ToString(creds.SecretAccessKey), aws.ToString(creds.SessionToken))).
		GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	wantCaller(t, callerIdentity{UserID: aws.ToString(out.UserId), Account: aws.ToString(out.Account), Arn: aws.ToString(out.Arn)}, "333333333333", "PowerUserAccess", "alice@company.com")

	// Refresh rotates the refresh token; reusing an old one ends the session.
	oc := oidcClient(srv)
	refreshed, err := oc.CreateToken(ctx, &ssooidc.CreateTokenInput{
		ClientId: reg.ClientId, ClientSecret: reg.ClientSecret, GrantType: aws.String("refresh_token"), RefreshToken: tok.RefreshToken,
	})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(refreshed.RefreshToken) == "" || aws.ToString(refreshed.RefreshToken) == aws.ToString(tok.RefreshToken) || aws.ToString(refreshed.AccessToken) == aws.ToString(tok.AccessToken) {
		t.Fatal("refresh did not return a new access and refresh token")
	}
	if _, err := pc.ListAccounts(ctx, &sso.ListAccountsInput{AccessToken: refreshed.AccessToken}); err != nil {
		t.Fatalf("refreshed token: %v", err)
	}
	// Past the refresh grace, a rotated refresh token is a replay.
	clk.Advance(31 * time.Second)
	var invalid *oidctypes.InvalidGrantException
	if _, err := oc.CreateToken(ctx, &ssooidc.CreateTokenInput{
		ClientId: reg.ClientId, ClientSecret: reg.ClientSecret, GrantType: aws.String("refresh_token"), RefreshToken: tok.RefreshToken,
	}); !errors.As(err, &invalid) {
		t.Fatalf("reused refresh token = %v, want InvalidGrantException", err)
	}
	if _, err := pc.ListAccounts(ctx, &sso.ListAccountsInput{AccessToken: refreshed.AccessToken}); err == nil || !strings.Contains(err.Error(), "UnauthorizedException") {
		t.Fatalf("after refresh-token reuse the session still works: %v", err)
	}
}

// loopbackCallback listens on a random loopback port like the AWS CLI's
// PKCE listener and returns the redirect URI and a channel of the queries
// it receives.
func loopbackCallback(t *testing.T) (string, <-chan url.Values) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan url.Values, 1)
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case got <- r.URL.Query():
		default:
		}
		w.Write([]byte("<html><body>You may close this window.</body></html>"))
	})}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	return "http://" + ln.Addr().String() + "/oauth/callback", got
}

func pkceVerifier() (verifier, challenge string) {
	b := make([]byte, 48)
	rand.Read(b)
	verifier = base64.RawURLEncoding.EncodeToString(b) // 64 chars of [A-Za-z0-9-_]
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

func TestSDKPKCEFlow(t *testing.T) {
	srv := demoServer(t)
	ctx := t.Context()
	oc := oidcClient(srv)
	reg, err := oc.RegisterClient(ctx, &ssooidc.RegisterClientInput{
		ClientName: aws.String("botocore-client-gatehouse"), ClientType: aws.String("public"),
		GrantTypes: []string{"authorization_code", "refresh_token"}, RedirectUris: []string{"http://127.0.0.1/oauth/callback"},
		IssuerUrl: aws.String(srv.Instance.StartURL), Scopes: []string{"sso:account:access"},
	})
	if err != nil {
		t.Fatalf("RegisterClient: %v", err)
	}
	redirect, callbacks := loopbackCallback(t)
	verifier, challenge := pkceVerifier()
	state := "2f1d6a0e-5b7c-4d3e-9f8a-0b1c2d3e4f5a"
	q := url.Values{
		"response_type": {"code"}, "client_id": {aws.ToString(reg.ClientId)}, "redirect_uri": {redirect}, "state": {state},
		"code_challenge_method": {"S256"}, "scopes": {"sso:account:access"}, "code_challenge": {challenge},
	}
	b := newBrowser(t)
	b.Get(srv.URL + "/authorize?" + q.Encode())
	for step := 0; step < 6 && !strings.Contains(b.Body, `value="allow"`); step++ {
		switch {
		case strings.Contains(b.Body, `name="password"`):
			b.Submit(map[string]string{"password": demoPassword}, "Sign in")
		case strings.Contains(b.Body, `name="username"`):
			b.Submit(map[string]string{"username": "ed.developer"}, "Next")
		default:
			t.Fatalf("unexpected page %s (%d):\n%s", b.URL, b.Status, b.Text())
		}
	}
	if !strings.Contains(b.Text(), "botocore-client-gatehouse") {
		t.Errorf("consent page does not name the client:\n%s", b.Text())
	}
	b.Submit(nil, "Allow") // follows the 302 to the loopback listener
	var cb url.Values
	select {
	case cb = <-callbacks:
	case <-time.After(10 * time.Second):
		t.Fatalf("no callback on %s; last page %s:\n%s", redirect, b.URL, b.Text())
	}
	if cb.Get("state") != state || cb.Get("code") == "" || cb.Get("error") != "" {
		t.Fatalf("callback query = %v", cb)
	}
	tok, err := oc.CreateToken(ctx, &ssooidc.CreateTokenInput{
		ClientId: reg.ClientId, ClientSecret: reg.ClientSecret, GrantType: aws.String("authorization_code"),
		Code: aws.String(cb.Get("code")), CodeVerifier: aws.String(verifier), RedirectUri: aws.String(redirect),
	})
	if err != nil {
		t.Fatalf("CreateToken(authorization_code): %v", err)
	}
	roles, err := portalClient(srv).ListAccountRoles(ctx, &sso.ListAccountRolesInput{AccessToken: tok.AccessToken, AccountId: aws.String("111111111111")})
	if err != nil {
		t.Fatal(err)
	}
	var rn []string
	for _, r := range roles.RoleList {
		rn = append(rn, aws.ToString(r.RoleName))
	}
	if strings.Join(rn, ",") != "PowerUserAccess,ViewOnlyAccess" {
		t.Fatalf("ed's roles in dev = %v", rn)
	}
	// The code works once.
	var invalid *oidctypes.InvalidGrantException
	if _, err := oc.CreateToken(ctx, &ssooidc.CreateTokenInput{
		ClientId: reg.ClientId, ClientSecret: reg.ClientSecret, GrantType: aws.String("authorization_code"),
		Code: aws.String(cb.Get("code")), CodeVerifier: aws.String(verifier), RedirectUri: aws.String(redirect),
	}); !errors.As(err, &invalid) {
		t.Fatalf("second redemption = %v, want InvalidGrantException", err)
	}
	if _, err := portalClient(srv).ListAccounts(ctx, &sso.ListAccountsInput{AccessToken: tok.AccessToken}); err == nil {
		t.Fatal("tokens issued from a reused code still work")
	}
}

// TestSDKLoadDefaultConfig uses the SDK's own SSO credential and token
// providers, as an application would: an sso-session profile in
// ~/.aws/config, a token cache written as the CLI writes it, and the
// endpoints in a [services] section.
func TestSDKLoadDefaultConfig(t *testing.T) {
	srv := demoServer(t)
	reg, tok := deviceLogin(t, srv, "ed.developer")
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(home, ".aws", "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(home, ".aws", "credentials"))
	for _, v := range []string{"AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION"} {
		t.Setenv(v, "")
		os.Unsetenv(v)
	}
	sess := clientconfig.Session{Name: "gatehouse", StartURL: srv.Instance.StartURL, Region: srv.Instance.Region, BaseURL: srv.URL}
	cfgText := sess.SessionSection() + "\n" + sess.ServicesSection() + "\n" +
		clientconfig.Profile{Name: "prod", AccountID: "222222222222", RoleName: "ReadOnlyAccess", Region: "us-east-1"}.Section(sess)
	if err := os.MkdirAll(filepath.Join(home, ".aws", "sso", "cache"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".aws", "config"), []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha1.Sum([]byte("gatehouse"))
	cacheFile := filepath.Join(home, ".aws", "sso", "cache", hex.EncodeToString(sum[:])+".json")
	writeCache := func(expiresAt time.Time) {
		entry := map[string]string{
			"startUrl": srv.Instance.StartURL, "region": srv.Instance.Region, "accessToken": aws.ToString(tok.AccessToken),
			"expiresAt": expiresAt.UTC().Format(time.RFC3339), "clientId": aws.ToString(reg.ClientId), "clientSecret": aws.ToString(reg.ClientSecret),
			"registrationExpiresAt": time.Unix(reg.ClientSecretExpiresAt, 0).UTC().Format(time.RFC3339), "refreshToken": aws.ToString(tok.RefreshToken),
		}
		data, _ := json.Marshal(entry)
		if err := os.WriteFile(cacheFile, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeCache(time.Now().Add(time.Hour))

	call := func() *sts.GetCallerIdentityOutput {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		cfg, err := config.LoadDefaultConfig(ctx, config.WithSharedConfigProfile("prod"))
		if err != nil {
			t.Fatalf("LoadDefaultConfig: %v", err)
		}
		out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatalf("GetCallerIdentity: %v", err)
		}
		return out
	}
	out := call()
	wantCaller(t, callerIdentity{UserID: aws.ToString(out.UserId), Account: aws.ToString(out.Account), Arn: aws.ToString(out.Arn)}, "222222222222", "ReadOnlyAccess", "ed.developer")

	// An expired token is refreshed by the SDK's token provider, which
	// rewrites the cache file.
	writeCache(time.Now().Add(-time.Minute))
	out = call()
	wantCaller(t, callerIdentity{UserID: aws.ToString(out.UserId), Account: aws.ToString(out.Account), Arn: aws.ToString(out.Arn)}, "222222222222", "ReadOnlyAccess", "ed.developer")
	data, err := os.ReadFile(cacheFile)
	if err != nil {
		t.Fatal(err)
	}
	var after struct {
		AccessToken  string `json:"accessToken"`
		RefreshToken string `json:"refreshToken"`
	}
	if err := json.Unmarshal(data, &after); err != nil {
		t.Fatal(err)
	}
	if after.AccessToken == aws.ToString(tok.AccessToken) || after.RefreshToken == "" || after.RefreshToken == aws.ToString(tok.RefreshToken) {
		t.Fatalf("the SDK did not refresh and rewrite the token cache: %s", data)
	}
}
