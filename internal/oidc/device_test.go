package oidc_test

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc/types"
	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/oidc"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

func TestRegisterClient(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	now := e.clock.Now()

	t.Run("device form", func(t *testing.T) {
		out, err := e.client.RegisterClient(ctx, &ssooidc.RegisterClientInput{
			ClientName: aws.String("botocore-client-corp"), ClientType: aws.String("public"), Scopes: []string{"sso:account:access"},
		})
		if err != nil {
			t.Fatal(err)
		}
		id, secret := aws.ToString(out.ClientId), aws.ToString(out.ClientSecret)
		if !regexp.MustCompile(`^[A-Za-z0-9_-]{22,}$`).MatchString(id) {
			t.Errorf("clientId %q is not opaque URL-safe of 22+ characters", id)
		}
		if len(secret) < 22 {
			t.Errorf("clientSecret %q is shorter than 128 bits of base64url", secret)
		}
		if out.ClientIdIssuedAt != now.Unix() || out.ClientSecretExpiresAt != now.Add(90*24*time.Hour).Unix() {
			t.Errorf("issuedAt/expiresAt = %d/%d, want epoch seconds %d/%d", out.ClientIdIssuedAt, out.ClientSecretExpiresAt, now.Unix(), now.Add(90*24*time.Hour).Unix())
		}
		if out.AuthorizationEndpoint != nil || out.TokenEndpoint != nil {
			t.Errorf("device registration got endpoints %v %v", out.AuthorizationEndpoint, out.TokenEndpoint)
		}
		cl, err := e.st.GetClient(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if cl.SecretHash == secret || cl.SecretHash != e.keys.Hash(secret) {
			t.Errorf("stored secret %q is not the keyed hash of the secret", cl.SecretHash)
		}
	})

	t.Run("pkce form", func(t *testing.T) {
		out, err := e.client.RegisterClient(ctx, &ssooidc.RegisterClientInput{
			ClientName: aws.String("botocore-client-corp"), ClientType: aws.String("public"),
			GrantTypes: []string{"authorization_code", "refresh_token"}, IssuerUrl: aws.String(startURL),
			RedirectUris: []string{"http://127.0.0.1/oauth/callback"}, Scopes: []string{"sso:account:access"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(out.AuthorizationEndpoint) != "https://gatehouse.example/authorize" || aws.ToString(out.TokenEndpoint) != "https://gatehouse.example/token" {
			t.Errorf("endpoints = %v %v", aws.ToString(out.AuthorizationEndpoint), aws.ToString(out.TokenEndpoint))
		}
		cl, err := e.st.GetClient(ctx, aws.ToString(out.ClientId))
		if err != nil {
			t.Fatal(err)
		}
		if cl.IssuerURL != startURL || !cmp.Equal(cl.RedirectURIs, []string{"http://127.0.0.1/oauth/callback"}) {
			t.Errorf("stored client = %+v", cl)
		}
	})

	ok := []map[string]any{
		{"clientName": "a", "clientType": "public", "grantTypes": []string{"authorization_code"}, "redirectUris": []string{"http://[::1]/cb"}},
		{"clientName": "a", "clientType": "public", "grantTypes": []string{"authorization_code"}, "redirectUris": []string{"http://localhost:8080/cb"}},
		{"clientName": "a", "clientType": "public", "grantTypes": []string{"authorization_code"}, "redirectUris": []string{"https://app.example.com/cb"}},
		{"clientName": "a", "clientType": "public", "scopes": []string{"openid", "codewhisperer:completions", "sso-portal:*"}},
		{"clientName": "a", "clientType": "public", "unknownMember": 1},
	}
	for _, body := range ok {
		if r := e.post("/client/register", body); r.status != 200 {
			t.Errorf("register %v: %d %s", body, r.status, r.body)
		}
	}

	bad := []struct {
		name      string
		body      map[string]any
		errorType string
		oauth     string
	}{
		{"confidential", map[string]any{"clientName": "a", "clientType": "confidential"}, "InvalidClientMetadataException", "invalid_client_metadata"},
		{"no client type", map[string]any{"clientName": "a"}, "InvalidClientMetadataException", "invalid_client_metadata"},
		{"no name", map[string]any{"clientType": "public"}, "InvalidRequestException", "invalid_request"},
		{"junk scope", map[string]any{"clientName": "a", "clientType": "public", "scopes": []string{"sso:account:access", "<script>"}}, "InvalidScopeException", "invalid_scope"},
		{"empty scope", map[string]any{"clientName": "a", "clientType": "public", "scopes": []string{""}}, "InvalidScopeException", "invalid_scope"},
		{"implicit grant", map[string]any{"clientName": "a", "clientType": "public", "grantTypes": []string{"implicit"}}, "UnsupportedGrantTypeException", "unsupported_grant_type"},
		{"http non-loopback", map[string]any{"clientName": "a", "clientType": "public", "grantTypes": []string{"authorization_code"}, "redirectUris": []string{"http://example.com/cb"}}, "InvalidRedirectUriException", "invalid_redirect_uri"},
		{"relative", map[string]any{"clientName": "a", "clientType": "public", "grantTypes": []string{"authorization_code"}, "redirectUris": []string{"/cb"}}, "InvalidRedirectUriException", "invalid_redirect_uri"},
		{"custom scheme", map[string]any{"clientName": "a", "clientType": "public", "grantTypes": []string{"authorization_code"}, "redirectUris": []string{"myapp://cb"}}, "InvalidRedirectUriException", "invalid_redirect_uri"},
		{"fragment", map[string]any{"clientName": "a", "clientType": "public", "grantTypes": []string{"authorization_code"}, "redirectUris": []string{"https://a.example/cb#x"}}, "InvalidRedirectUriException", "invalid_redirect_uri"},
		{"code without redirect", map[string]any{"clientName": "a", "clientType": "public", "grantTypes": []string{"authorization_code"}}, "InvalidRedirectUriException", "invalid_redirect_uri"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			r := e.post("/client/register", tc.body)
			if r.status != 400 || r.errorType != tc.errorType || !strings.HasPrefix(r.body, `{"error":"`+tc.oauth+`","error_description":"`) {
				t.Errorf("got %d %q %s, want 400 %s {\"error\":%q,...}", r.status, r.errorType, r.body, tc.errorType, tc.oauth)
			}
		})
	}

	_, err := e.client.RegisterClient(ctx, &ssooidc.RegisterClientInput{ClientName: aws.String("a"), ClientType: aws.String("confidential")})
	wantAPIError[*types.InvalidClientMetadataException](t, err, 400)
}

func TestDeviceFlow(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	c := e.deviceClient("sso:account:access")
	e.clock.Advance(time.Millisecond) // audit events list in time order
	sda := e.start(c)

	uc := aws.ToString(sda.UserCode)
	if !regexp.MustCompile(`^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$`).MatchString(uc) {
		t.Errorf("userCode %q is not XXXX-XXXX from the RFC 8628 alphabet", uc)
	}
	if dc := aws.ToString(sda.DeviceCode); len(dc) < 32 {
		t.Errorf("deviceCode %q shorter than 32", dc)
	}
	if sda.ExpiresIn != 600 || sda.Interval != 1 {
		t.Errorf("expiresIn/interval = %d/%d, want 600/1", sda.ExpiresIn, sda.Interval)
	}
	if got := aws.ToString(sda.VerificationUri); got != "https://gatehouse.example/device" {
		t.Errorf("verificationUri = %q", got)
	}
	if got := aws.ToString(sda.VerificationUriComplete); got != "https://gatehouse.example/device?user_code="+uc {
		t.Errorf("verificationUriComplete = %q", got)
	}
	dc := aws.ToString(sda.DeviceCode)

	// The CLI polls once at once, then every interval.
	_, err := e.pollDevice(c, dc)
	pending := wantAPIError[*types.AuthorizationPendingException](t, err, 400)
	if aws.ToString(pending.Error_) != "authorization_pending" {
		t.Errorf("Error_ = %q", aws.ToString(pending.Error_))
	}
	e.clock.Advance(time.Second)
	_, err = e.pollDevice(c, dc)
	wantAPIError[*types.AuthorizationPendingException](t, err, 400)
	e.clock.Advance(850 * time.Millisecond) // within the 200 ms leniency
	_, err = e.pollDevice(c, dc)
	wantAPIError[*types.AuthorizationPendingException](t, err, 400)

	// The approval page.
	req, err := e.svc.LookupUserCode(ctx, strings.ToLower(strings.ReplaceAll(uc, "-", "")), "192.0.2.1", "")
	if err != nil {
		t.Fatalf("LookupUserCode: %v", err)
	}
	want := &oidc.DeviceRequest{UserCode: uc, ClientName: "botocore-client-corp", ClientID: c.id, ExpiresAt: e.clock.Now().Add(600*time.Second - 1850*time.Millisecond), Status: store.DevicePending}
	if d := cmp.Diff(want, req); d != "" {
		t.Errorf("LookupUserCode (-want +got):\n%s", d)
	}
	if err := e.svc.ApproveDevice(ctx, uc, e.who); err != nil {
		t.Fatalf("ApproveDevice: %v", err)
	}
	if err := e.svc.ApproveDevice(ctx, uc, e.who); !errors.Is(err, oidc.ErrCodeUsed) {
		t.Errorf("second ApproveDevice = %v, want ErrCodeUsed", err)
	}

	e.clock.Advance(time.Second)
	tok, err := e.pollDevice(c, dc)
	if err != nil {
		t.Fatalf("CreateToken after approval: %v", err)
	}
	if aws.ToString(tok.TokenType) != "Bearer" || tok.ExpiresIn != 3600 || aws.ToString(tok.AccessToken) == "" || aws.ToString(tok.RefreshToken) == "" {
		t.Errorf("token = %+v", tok)
	}
	if aws.ToString(tok.IdToken) != "" {
		t.Errorf("idToken = %q, want none", aws.ToString(tok.IdToken))
	}
	p, err := e.svc.AuthenticateAccessToken(ctx, aws.ToString(tok.AccessToken))
	if err != nil {
		t.Fatalf("AuthenticateAccessToken: %v", err)
	}
	if p.UserID != e.user.ID || p.UserName != "alice" || p.SessionID != e.who.SessionID || !p.MFA || p.GrantID == "" || !p.AuthTime.Equal(e.who.AuthTime) {
		t.Errorf("principal = %+v", p)
	}

	// Single redemption.
	e.clock.Advance(time.Second)
	_, err = e.pollDevice(c, dc)
	wantAPIError[*types.InvalidGrantException](t, err, 400)

	// Stored as hashes only.
	if _, err := e.st.GetToken(ctx, aws.ToString(tok.AccessToken)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("access token stored in the clear (err %v)", err)
	}
	if _, err := e.st.GetDeviceAuth(ctx, dc); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("device code stored in the clear (err %v)", err)
	}

	var names []string
	for _, ev := range e.events() {
		names = append(names, ev.Name)
		if strings.Contains(string(ev.Record), aws.ToString(tok.AccessToken)) || strings.Contains(string(ev.Record), aws.ToString(tok.RefreshToken)) ||
			strings.Contains(string(ev.Record), c.secret) || strings.Contains(string(ev.Record), dc) {
			t.Errorf("audit event %s contains a secret: %s", ev.Name, ev.Record)
		}
	}
	wantNames := []string{"RegisterClient", "StartDeviceAuthorization", "ApproveDeviceAuthorization", "CreateToken"}
	if d := cmp.Diff(wantNames, names); d != "" {
		t.Errorf("audit events (-want +got):\n%s", d)
	}
	// CloudTrail's Username of the sign-in's CreateToken is the user name,
	// so LookupEvents with AttributeKey=Username finds it.
	for _, ev := range e.events() {
		if ev.Name == "CreateToken" && (ev.Principal != "alice" || !strings.Contains(string(ev.Record), `"userName":"alice"`)) {
			t.Errorf("CreateToken event has principal %q: %s", ev.Principal, ev.Record)
		}
	}
}

func TestDeviceSlowDown(t *testing.T) {
	e := newEnv(t)
	c := e.deviceClient("sso:account:access")
	dc := aws.ToString(e.start(c).DeviceCode)
	_, err := e.pollDevice(c, dc)
	wantAPIError[*types.AuthorizationPendingException](t, err, 400)
	e.clock.Advance(500 * time.Millisecond)
	_, err = e.pollDevice(c, dc)
	sd := wantAPIError[*types.SlowDownException](t, err, 400)
	if aws.ToString(sd.Error_) != "slow_down" {
		t.Errorf("Error_ = %q", aws.ToString(sd.Error_))
	}
	// RFC 8628 §3.5: the interval is now 6 s (the client adds 5 s as well),
	// with 200 ms leniency.
	e.clock.Advance(6*time.Second - 150*time.Millisecond)
	_, err = e.pollDevice(c, dc)
	wantAPIError[*types.AuthorizationPendingException](t, err, 400)
	e.clock.Advance(time.Second)
	_, err = e.pollDevice(c, dc)
	wantAPIError[*types.SlowDownException](t, err, 400)
	// Each slow_down adds 5 s more: now 11 s.
	e.clock.Advance(11*time.Second - 150*time.Millisecond)
	_, err = e.pollDevice(c, dc)
	wantAPIError[*types.AuthorizationPendingException](t, err, 400)

	r := e.post("/token", map[string]string{"clientId": c.id, "clientSecret": c.secret, "grantType": "urn:ietf:params:oauth:grant-type:device_code", "deviceCode": dc})
	want := rawResponse{400, "SlowDownException", `{"error":"slow_down","error_description":"Polling too fast; slow down.","message":"Polling too fast; slow down."}`}
	if r != want {
		t.Errorf("wire = %+v, want %+v", r, want)
	}
}

func TestDeviceExpiryDenialAndOtherClient(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	c := e.deviceClient("sso:account:access")

	expired := aws.ToString(e.start(c).DeviceCode)
	e.clock.Advance(601 * time.Second)
	_, err := e.pollDevice(c, expired)
	wantAPIError[*types.ExpiredTokenException](t, err, 400)

	sda := e.start(c)
	if err := e.svc.DenyDevice(ctx, aws.ToString(sda.UserCode), e.who); err != nil {
		t.Fatal(err)
	}
	_, err = e.pollDevice(c, aws.ToString(sda.DeviceCode))
	wantAPIError[*types.AccessDeniedException](t, err, 400)

	other := e.deviceClient("sso:account:access")
	sda = e.start(c)
	if err := e.svc.ApproveDevice(ctx, aws.ToString(sda.UserCode), e.who); err != nil {
		t.Fatal(err)
	}
	_, err = e.pollDevice(other, aws.ToString(sda.DeviceCode))
	wantAPIError[*types.InvalidGrantException](t, err, 400)
	_, err = e.pollDevice(c, "not-a-device-code-at-all-0123456789abcdef")
	wantAPIError[*types.InvalidGrantException](t, err, 400)
	// The rightful client still gets its tokens.
	if _, err := e.pollDevice(c, aws.ToString(sda.DeviceCode)); err != nil {
		t.Fatalf("own device code: %v", err)
	}
}

func TestLegacyRegistration(t *testing.T) {
	e := newEnv(t)
	c := e.deviceClient() // no scopes: legacy token, 8 h, no refresh token
	tok := e.deviceLogin(c)
	if tok.ExpiresIn != 8*3600 || tok.RefreshToken != nil {
		t.Errorf("legacy token: expiresIn %d, refreshToken %v; want 28800 and none", tok.ExpiresIn, tok.RefreshToken)
	}
	// Clamped to the end of the portal session.
	e.who = e.signIn(2 * time.Hour)
	tok = e.deviceLogin(c)
	if tok.ExpiresIn != 2*3600 {
		t.Errorf("legacy token in a 2 h session: expiresIn %d, want 7200", tok.ExpiresIn)
	}
	sc := e.deviceClient("sso:account:access")
	e.who = e.signIn(30 * time.Minute)
	tok = e.deviceLogin(sc)
	if tok.ExpiresIn != 1800 || tok.RefreshToken == nil {
		t.Errorf("scoped token in a 30 min session: expiresIn %d, refresh %v; want 1800 and a refresh token", tok.ExpiresIn, tok.RefreshToken)
	}
}

func TestClientAuthentication(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	c := e.deviceClient("sso:account:access")

	wire := []struct {
		name string
		path string
		body map[string]string
		want rawResponse
	}{
		{"unknown client", "/device_authorization", map[string]string{"clientId": "nope", "clientSecret": "x", "startUrl": startURL},
			rawResponse{401, "InvalidClientException", `{"error":"invalid_client","error_description":"Unknown client.","message":"Unknown client."}`}},
		{"wrong secret", "/token", map[string]string{"clientId": c.id, "clientSecret": c.secret + "x", "grantType": "refresh_token", "refreshToken": "r"},
			rawResponse{401, "InvalidClientException", `{"error":"invalid_client","error_description":"Invalid client credentials.","message":"Invalid client credentials."}`}},
		{"missing secret", "/token", map[string]string{"clientId": c.id, "grantType": "refresh_token", "refreshToken": "r"},
			rawResponse{400, "InvalidRequestException", `{"error":"invalid_request","error_description":"clientId, clientSecret and grantType are required.","message":"clientId, clientSecret and grantType are required."}`}},
		{"unknown grant", "/token", map[string]string{"clientId": c.id, "clientSecret": c.secret, "grantType": "password"},
			rawResponse{400, "UnsupportedGrantTypeException", `{"error":"unsupported_grant_type","error_description":"Unsupported grant type: password","message":"Unsupported grant type: password"}`}},
		{"missing device code", "/token", map[string]string{"clientId": c.id, "clientSecret": c.secret, "grantType": "urn:ietf:params:oauth:grant-type:device_code"},
			rawResponse{400, "InvalidRequestException", `{"error":"invalid_request","error_description":"deviceCode is required.","message":"deviceCode is required."}`}},
		{"other start URL", "/device_authorization", map[string]string{"clientId": c.id, "clientSecret": c.secret, "startUrl": "https://d-9999999999.awsapps.com/start"},
			rawResponse{400, "InvalidRequestException", `{"error":"invalid_request","error_description":"Unknown start URL https://d-9999999999.awsapps.com/start. This Gatehouse's start URL is https://d-1234567890.awsapps.com/start: use it as sso_start_url. The portal address https://gatehouse.example/start is where you sign in with a browser; it is not the start URL.","message":"Unknown start URL https://d-9999999999.awsapps.com/start. This Gatehouse's start URL is https://d-1234567890.awsapps.com/start: use it as sso_start_url. The portal address https://gatehouse.example/start is where you sign in with a browser; it is not the start URL."}`}},
	}
	for _, tc := range wire {
		t.Run(tc.name, func(t *testing.T) {
			if got := e.post(tc.path, tc.body); got != tc.want {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
	if r := e.post("/token", "not an object"); r.status != 400 || r.errorType != "InvalidRequestException" {
		t.Errorf("malformed body: %+v", r)
	}

	// Start URLs compare with scheme and host lower-cased, one trailing slash trimmed.
	if _, err := e.client.StartDeviceAuthorization(ctx, &ssooidc.StartDeviceAuthorizationInput{
		ClientId: aws.String(c.id), ClientSecret: aws.String(c.secret), StartUrl: aws.String("HTTPS://D-1234567890.AWSAPPS.COM/start/"),
	}); err != nil {
		t.Errorf("start URL variant: %v", err)
	}

	_, err := e.client.StartDeviceAuthorization(ctx, &ssooidc.StartDeviceAuthorizationInput{
		ClientId: aws.String("nope"), ClientSecret: aws.String("x"), StartUrl: aws.String(startURL),
	})
	wantAPIError[*types.InvalidClientException](t, err, 401)

	// An expired registration.
	e.clock.Advance(90*24*time.Hour + time.Second)
	_, err = e.client.StartDeviceAuthorization(ctx, &ssooidc.StartDeviceAuthorizationInput{
		ClientId: aws.String(c.id), ClientSecret: aws.String(c.secret), StartUrl: aws.String(startURL),
	})
	wantAPIError[*types.InvalidClientException](t, err, 401)

	failures := 0
	for _, ev := range e.events() {
		if ev.ErrorCode == "InvalidClientException" {
			failures++
		}
	}
	if failures != 4 {
		t.Errorf("audited %d client-authentication failures, want 4", failures)
	}
}

func TestGrantTypeMatrix(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	pk := e.pkceClient()
	_, err := e.client.StartDeviceAuthorization(ctx, &ssooidc.StartDeviceAuthorizationInput{
		ClientId: aws.String(pk.id), ClientSecret: aws.String(pk.secret), StartUrl: aws.String(startURL),
	})
	wantAPIError[*types.UnauthorizedClientException](t, err, 400)
	_, err = e.pollDevice(pk, "whatever-device-code-0123456789abcdefgh")
	wantAPIError[*types.UnauthorizedClientException](t, err, 400)

	dev := e.deviceClient("sso:account:access")
	_, err = e.redeemCode(dev, "code", "http://127.0.0.1:1234/oauth/callback", strings.Repeat("a", 43))
	wantAPIError[*types.UnauthorizedClientException](t, err, 400)
	_, err = e.svc.ParseAuthorize(ctx, authorizeQuery(dev.id, "http://127.0.0.1:1234/oauth/callback", strings.Repeat("a", 43)))
	if err == nil || !errors.Is(err, oidc.ErrBadAuthorizeRequest) {
		t.Errorf("ParseAuthorize for a device client = %v, want a plain error", err)
	}

	dOnly := e.register(&ssooidc.RegisterClientInput{ClientName: aws.String("d"), ClientType: aws.String("public"),
		GrantTypes: []string{"urn:ietf:params:oauth:grant-type:device_code"}, Scopes: []string{"sso:account:access"}})
	tok := e.deviceLogin(dOnly)
	if tok.RefreshToken != nil {
		t.Errorf("client without refresh_token grant got a refresh token")
	}
}

func TestLookupUserCodeRateLimit(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	c := e.deviceClient("sso:account:access")
	uc := aws.ToString(e.start(c).UserCode)

	for i := range 10 {
		_, err := e.svc.LookupUserCode(ctx, "BBBB-BBBB", "192.0.2.7", "")
		if !errors.Is(err, oidc.ErrUnknownUserCode) {
			t.Fatalf("bad lookup %d = %v, want ErrUnknownUserCode", i, err)
		}
		if f, ok := errors.AsType[*fault.Error](err); !ok || f.Message == "" {
			t.Fatalf("bad lookup error %v is not a *fault.Error with a message", err)
		}
	}
	// The 11th lookup from that address fails even with the right code.
	_, err := e.svc.LookupUserCode(ctx, uc, "192.0.2.7", "")
	if !errors.Is(err, oidc.ErrRateLimited) {
		t.Fatalf("11th lookup = %v, want ErrRateLimited", err)
	}
	if _, err := e.svc.LookupUserCode(ctx, uc, "192.0.2.8", ""); err != nil {
		t.Errorf("another address: %v", err)
	}
	e.clock.Advance(5 * time.Minute)
	if _, err := e.svc.LookupUserCode(ctx, uc, "192.0.2.7", ""); err != nil {
		t.Errorf("after the window: %v", err)
	}
	// Successful lookups do not use up the allowance.
	for i := range 20 {
		if _, err := e.svc.LookupUserCode(ctx, uc, "192.0.2.9", ""); err != nil {
			t.Fatalf("good lookup %d: %v", i, err)
		}
	}
	e.clock.Advance(5 * time.Minute)
	if _, err := e.svc.LookupUserCode(ctx, uc, "192.0.2.9", ""); !errors.Is(err, oidc.ErrCodeExpired) {
		t.Errorf("expired code lookup = %v, want ErrCodeExpired", err)
	}
}

// TestLookupUserCodeLimitSurvivesSuccess is issue 9 item 4: a person who
// looks up their own valid code between guesses must not reset the count
// of failed guesses.
func TestLookupUserCodeLimitSurvivesSuccess(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	c := e.deviceClient("sso:account:access")
	uc := aws.ToString(e.start(c).UserCode)

	limited := false
	for i := range 40 {
		code := "BBBB-BBBB"
		if i%2 == 0 {
			code = uc
		}
		_, err := e.svc.LookupUserCode(ctx, code, "192.0.2.7", "")
		if errors.Is(err, oidc.ErrRateLimited) {
			if i < 20 {
				t.Fatalf("limited after %d lookups (%d failed), want 10 failures allowed", i, i/2)
			}
			limited = true
			break
		}
	}
	if !limited {
		t.Fatal("20 failed lookups between successful ones were never limited")
	}
	// The address stays limited, good code or not.
	if _, err := e.svc.LookupUserCode(ctx, uc, "192.0.2.7", ""); !errors.Is(err, oidc.ErrRateLimited) {
		t.Fatalf("good code after the limit = %v, want ErrRateLimited", err)
	}
}

// TestLookupUserCodeLimitPerSession: one portal session guessing from many
// addresses is limited too, and parallel guesses cannot outrun the count.
func TestLookupUserCodeLimitPerSession(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	c := e.deviceClient("sso:account:access")
	uc := aws.ToString(e.start(c).UserCode)

	for i := range 10 {
		_, err := e.svc.LookupUserCode(ctx, "BBBB-BBBB", fmt.Sprintf("198.51.100.%d", i), "session-a")
		if !errors.Is(err, oidc.ErrUnknownUserCode) {
			t.Fatalf("bad lookup %d = %v, want ErrUnknownUserCode", i, err)
		}
	}
	if _, err := e.svc.LookupUserCode(ctx, uc, "198.51.100.99", "session-a"); !errors.Is(err, oidc.ErrRateLimited) {
		t.Fatalf("11th lookup of the session from a new address = %v, want ErrRateLimited", err)
	}
	if _, err := e.svc.LookupUserCode(ctx, uc, "198.51.100.99", "session-b"); err != nil {
		t.Fatalf("another session from that address: %v", err)
	}

	// 40 parallel guesses from one IPv6 /64 (each from its own address):
	// exactly 10 are answered, the rest refused.
	var wg sync.WaitGroup
	var mu sync.Mutex
	counts := map[error]int{}
	for i := range 40 {
		wg.Go(func() {
			_, err := e.svc.LookupUserCode(ctx, "CCCC-CCCC", fmt.Sprintf("2001:db8:1:2::%x", i+1), "")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case errors.Is(err, oidc.ErrUnknownUserCode):
				counts[oidc.ErrUnknownUserCode]++
			case errors.Is(err, oidc.ErrRateLimited):
				counts[oidc.ErrRateLimited]++
			default:
				t.Errorf("parallel lookup: %v", err)
			}
		})
	}
	wg.Wait()
	if counts[oidc.ErrUnknownUserCode] != 10 || counts[oidc.ErrRateLimited] != 30 {
		t.Errorf("parallel lookups: %d answered, %d limited; want 10 and 30", counts[oidc.ErrUnknownUserCode], counts[oidc.ErrRateLimited])
	}
}

// TestDecideDeviceIsOneCall (issue 8): the approval page's lookup, pending
// check and decision are one domain call that returns what the page
// shows; its failed lookups count under the lookup limit.
func TestDecideDeviceIsOneCall(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	c := e.deviceClient("sso:account:access")
	uc := aws.ToString(e.start(c).UserCode)

	guesser := e.who
	guesser.SessionID = "session-guessing"
	for i := range 10 {
		_, err := e.svc.DecideDevice(ctx, "BBBB-BBBB", fmt.Sprintf("198.51.100.%d", i), guesser, true)
		if !errors.Is(err, oidc.ErrUnknownUserCode) {
			t.Fatalf("bad decision %d = %v, want ErrUnknownUserCode", i, err)
		}
	}
	if _, err := e.svc.DecideDevice(ctx, uc, "198.51.100.99", guesser, true); !errors.Is(err, oidc.ErrRateLimited) {
		t.Fatalf("11th decision of the session = %v, want ErrRateLimited", err)
	}
	req, err := e.svc.DecideDevice(ctx, strings.ToLower(uc), "198.51.100.99", e.who, true)
	if err != nil {
		t.Fatalf("DecideDevice: %v", err)
	}
	if req.UserCode != uc || req.ClientName != "botocore-client-corp" || req.Status != store.DeviceApproved {
		t.Errorf("DecideDevice = %+v", req)
	}
	for _, allow := range []bool{true, false} {
		if _, err := e.svc.DecideDevice(ctx, uc, "198.51.100.99", e.who, allow); !errors.Is(err, oidc.ErrCodeUsed) {
			t.Errorf("second decision (allow=%v) = %v, want ErrCodeUsed", allow, err)
		}
	}
}
