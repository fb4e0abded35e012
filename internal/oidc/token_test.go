package oidc_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc/types"

	"github.com/gatehouse-dev/gatehouse/internal/accesscache"
	"github.com/gatehouse-dev/gatehouse/internal/oidc"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

const cliRedirect = "http://127.0.0.1:42597/oauth/callback"

func TestPKCE(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	c := e.pkceClient()

	t.Run("success", func(t *testing.T) {
		v, ch := pkce()
		code := e.authorize(c, cliRedirect, ch)
		tok, err := e.redeemCode(c, code, cliRedirect, v)
		if err != nil {
			t.Fatalf("CreateToken(authorization_code): %v", err)
		}
		if tok.ExpiresIn != 3600 || aws.ToString(tok.RefreshToken) == "" || aws.ToString(tok.TokenType) != "Bearer" {
			t.Errorf("token = %+v", tok)
		}
		if _, err := e.svc.AuthenticateAccessToken(ctx, aws.ToString(tok.AccessToken)); err != nil {
			t.Errorf("AuthenticateAccessToken: %v", err)
		}
	})

	t.Run("wrong verifier", func(t *testing.T) {
		v, ch := pkce()
		code := e.authorize(c, cliRedirect, ch)
		other, _ := pkce()
		_, err := e.redeemCode(c, code, cliRedirect, other)
		wantAPIError[*types.InvalidGrantException](t, err, 400)
		// Malformed verifiers too.
		for _, bad := range []string{"short", strings.Repeat("a", 129), strings.Repeat("!", 64)} {
			_, err = e.redeemCode(c, code, cliRedirect, bad)
			wantAPIError[*types.InvalidGrantException](t, err, 400)
		}
		// A failed attempt does not burn the code for its owner.
		if _, err := e.redeemCode(c, code, cliRedirect, v); err != nil {
			t.Errorf("right verifier after wrong ones: %v", err)
		}
	})

	t.Run("redirect mismatch", func(t *testing.T) {
		v, ch := pkce()
		code := e.authorize(c, cliRedirect, ch)
		_, err := e.redeemCode(c, code, "http://127.0.0.1:42598/oauth/callback", v)
		wantAPIError[*types.InvalidGrantException](t, err, 400)
		r := e.post("/token", map[string]string{"clientId": c.id, "clientSecret": c.secret, "grantType": "authorization_code",
			"code": code, "redirectUri": "http://127.0.0.1/oauth/callback", "codeVerifier": v})
		want := rawResponse{400, "InvalidGrantException", `{"error":"invalid_grant","error_description":"redirectUri does not match the authorization request.","message":"redirectUri does not match the authorization request."}`}
		if r != want {
			t.Errorf("wire = %+v, want %+v", r, want)
		}
	})

	t.Run("other client", func(t *testing.T) {
		v, ch := pkce()
		code := e.authorize(c, cliRedirect, ch)
		_, err := e.redeemCode(e.pkceClient(), code, cliRedirect, v)
		wantAPIError[*types.InvalidGrantException](t, err, 400)
	})

	t.Run("expired code", func(t *testing.T) {
		v, ch := pkce()
		code := e.authorize(c, cliRedirect, ch)
		e.clock.Advance(5*time.Minute + time.Second)
		_, err := e.redeemCode(c, code, cliRedirect, v)
		wantAPIError[*types.ExpiredTokenException](t, err, 400)
	})

	t.Run("reuse revokes the grant", func(t *testing.T) {
		v, ch := pkce()
		code := e.authorize(c, cliRedirect, ch)
		tok, err := e.redeemCode(c, code, cliRedirect, v)
		if err != nil {
			t.Fatal(err)
		}
		at, rt := aws.ToString(tok.AccessToken), aws.ToString(tok.RefreshToken)
		if _, err := e.svc.AuthenticateAccessToken(ctx, at); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Second)
		_, err = e.redeemCode(c, code, cliRedirect, v)
		wantAPIError[*types.InvalidGrantException](t, err, 400)
		if _, err := e.svc.AuthenticateAccessToken(ctx, at); !errors.Is(err, oidc.ErrInvalidToken) {
			t.Errorf("access token after code reuse: %v, want ErrInvalidToken", err)
		}
		_, err = e.refresh(c, rt)
		wantAPIError[*types.InvalidGrantException](t, err, 400)
		if !hasRevocation(t, e, store.RevokeGrant) {
			t.Errorf("no grant revocation record after code reuse")
		}
	})
}

func hasRevocation(t *testing.T, e *env, kind string) bool {
	t.Helper()
	rs, err := e.st.ListRevocations(t.Context(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Kind == kind {
			return true
		}
	}
	return false
}

func TestParseAuthorize(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	loop := e.pkceClient()
	web := e.register(registrationInput("https://app.example.com/cb"))
	_, ch := pkce()

	req, err := e.svc.ParseAuthorize(ctx, authorizeQuery(loop.id, cliRedirect, ch))
	if err != nil {
		t.Fatal(err)
	}
	if req.ClientID != loop.id || req.ClientName != "botocore-client-corp" || req.RedirectURI != cliRedirect ||
		req.State != "92617275-9619-4eef-820b-f1557156495c" || req.CodeChallenge != ch || len(req.Scopes) != 1 || req.Scopes[0] != "sso:account:access" {
		t.Errorf("request = %+v", req)
	}
	deny, err := url.Parse(e.svc.DenyURL(req))
	if err != nil || deny.Host != "127.0.0.1:42597" || deny.Query().Get("error") != "access_denied" ||
		deny.Query().Get("state") != req.State || deny.Query().Get("error_description") == "" || deny.Query().Has("code") {
		t.Errorf("DenyURL = %s", e.svc.DenyURL(req))
	}

	with := func(base url.Values, kv ...string) url.Values {
		q := url.Values{}
		for k, v := range base {
			q[k] = append([]string(nil), v...)
		}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "-" {
				q.Del(kv[i])
			} else {
				q.Set(kv[i], kv[i+1])
			}
		}
		return q
	}
	cli := authorizeQuery(loop.id, cliRedirect, ch)
	ok := []struct {
		name string
		q    url.Values
	}{
		{"loopback any port", with(cli, "redirect_uri", "http://127.0.0.1:1/oauth/callback")},
		{"scope singular", with(cli, "scopes", "-", "scope", "sso:account:access")},
		{"no scopes: the registration's", with(cli, "scopes", "-")},
		{"exact non-loopback", authorizeQuery(web.id, "https://app.example.com/cb", ch)},
	}
	for _, tc := range ok {
		if _, err := e.svc.ParseAuthorize(ctx, tc.q); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
	}

	redirected := []struct {
		name, code string
		q          url.Values
	}{
		{"plain downgrade", "invalid_request", with(cli, "code_challenge_method", "plain")},
		{"no method", "invalid_request", with(cli, "code_challenge_method", "-")},
		{"no challenge", "invalid_request", with(cli, "code_challenge", "-")},
		{"short challenge", "invalid_request", with(cli, "code_challenge", "abc")},
		{"token response", "unsupported_response_type", with(cli, "response_type", "token")},
		{"unregistered scope", "invalid_scope", with(cli, "scopes", "sso:account:access openid")},
	}
	for _, tc := range redirected {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.ParseAuthorize(ctx, tc.q)
			re, ok := errors.AsType[*oidc.RedirectError](err)
			if !ok {
				t.Fatalf("error = %v, want *RedirectError", err)
			}
			u, _ := url.Parse(re.RedirectURL())
			if re.Code != tc.code || u.Query().Get("error") != tc.code || u.Query().Get("state") != "92617275-9619-4eef-820b-f1557156495c" ||
				!strings.HasPrefix(re.RedirectURL(), tc.q.Get("redirect_uri")+"?") {
				t.Errorf("RedirectURL = %s, want error %s", re.RedirectURL(), tc.code)
			}
		})
	}

	plain := []struct {
		name string
		q    url.Values
	}{
		{"unknown client", with(cli, "client_id", "nope")},
		{"no client", with(cli, "client_id", "-")},
		{"no redirect", with(cli, "redirect_uri", "-")},
		{"other loopback path", with(cli, "redirect_uri", "http://127.0.0.1:42597/other")},
		{"loopback https", with(cli, "redirect_uri", "https://127.0.0.1:42597/oauth/callback")},
		{"other host", with(cli, "redirect_uri", "https://evil.example/oauth/callback")},
		{"non-loopback other port", authorizeQuery(web.id, "https://app.example.com:8443/cb", ch)},
		{"non-loopback other path", authorizeQuery(web.id, "https://app.example.com/cb/x", ch)},
		{"two redirect URIs", with(cli, "redirect_uri", "-")},
	}
	plain[len(plain)-1].q["redirect_uri"] = []string{cliRedirect, "https://evil.example/cb"}
	for _, tc := range plain {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.ParseAuthorize(ctx, tc.q)
			if _, ok := errors.AsType[*oidc.RedirectError](err); ok || !errors.Is(err, oidc.ErrBadAuthorizeRequest) {
				t.Errorf("error = %v, want a plain (non-redirect) error", err)
			}
		})
	}
}

func TestRefreshRotation(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	c := e.deviceClient("sso:account:access")
	tok := e.deviceLogin(c)
	seen := map[string]bool{aws.ToString(tok.RefreshToken): true, aws.ToString(tok.AccessToken): true}
	rt := aws.ToString(tok.RefreshToken)
	for i := range 3 {
		e.clock.Advance(time.Minute)
		out, err := e.refresh(c, rt)
		if err != nil {
			t.Fatalf("refresh %d: %v", i, err)
		}
		nrt, nat := aws.ToString(out.RefreshToken), aws.ToString(out.AccessToken)
		if nrt == "" || seen[nrt] || seen[nat] || out.ExpiresIn != 3600 || aws.ToString(out.TokenType) != "Bearer" {
			t.Fatalf("refresh %d returned %+v: want a new access and refresh token", i, out)
		}
		seen[nrt], seen[nat] = true, true
		if _, err := e.svc.AuthenticateAccessToken(ctx, nat); err != nil {
			t.Fatalf("new access token: %v", err)
		}
		rt = nrt
	}
	// A refresh token of another client.
	_, err := e.refresh(e.deviceClient("sso:account:access"), rt)
	wantAPIError[*types.InvalidGrantException](t, err, 400)
	if _, err := e.refresh(c, rt); err != nil {
		t.Errorf("owner's refresh after another client tried it: %v", err)
	}
	_, err = e.refresh(c, "aor-unknown")
	wantAPIError[*types.InvalidGrantException](t, err, 400)
}

func TestRefreshReuseRevokesGrant(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	c := e.deviceClient("sso:account:access")
	tok := e.deviceLogin(c)
	rt1 := aws.ToString(tok.RefreshToken)
	out, err := e.refresh(c, rt1)
	if err != nil {
		t.Fatal(err)
	}
	rt2, at2 := aws.ToString(out.RefreshToken), aws.ToString(out.AccessToken)
	if _, err := e.svc.AuthenticateAccessToken(ctx, at2); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Second)
	_, err = e.refresh(c, rt1)
	wantAPIError[*types.InvalidGrantException](t, err, 400)
	_, err = e.refresh(c, rt2)
	wantAPIError[*types.InvalidGrantException](t, err, 400)
	for _, at := range []string{aws.ToString(tok.AccessToken), at2} {
		if _, err := e.svc.AuthenticateAccessToken(ctx, at); !errors.Is(err, oidc.ErrInvalidToken) {
			t.Errorf("access token after refresh reuse: %v, want ErrInvalidToken", err)
		}
	}
	if !hasRevocation(t, e, store.RevokeGrant) {
		t.Errorf("no grant revocation record")
	}
	reuse := false
	for _, ev := range e.events() {
		if ev.Name == "CreateToken" && ev.ErrorCode == "InvalidGrantException" && strings.Contains(string(ev.Record), "refresh token reuse") {
			reuse = true
		}
	}
	if !reuse {
		t.Errorf("refresh reuse not audited")
	}
	// Other sign-ins of the same user are unaffected.
	if _, err := e.refresh(c, aws.ToString(e.deviceLogin(c).RefreshToken)); err != nil {
		t.Errorf("unrelated grant: %v", err)
	}
}

func TestRefreshEndsWithSessionAndUser(t *testing.T) {
	for _, mode := range []string{"access cache", "store only"} {
		t.Run(mode, func(t *testing.T) {
			e := newEnv(t)
			if mode == "store only" {
				e.svc.Cache = nil
			}
			ctx := t.Context()
			c := e.deviceClient("sso:account:access")

			e.who = e.signIn(2 * time.Hour)
			tok := e.deviceLogin(c)
			e.clock.Advance(2 * time.Hour)
			_, err := e.refresh(c, aws.ToString(tok.RefreshToken))
			wantAPIError[*types.InvalidGrantException](t, err, 400)
			if _, err := e.svc.AuthenticateAccessToken(ctx, aws.ToString(tok.AccessToken)); !errors.Is(err, oidc.ErrInvalidToken) {
				t.Errorf("access token after the session ended: %v", err)
			}

			e.who = e.signIn(8 * time.Hour)
			tok = e.deviceLogin(c)
			if _, err := e.svc.AuthenticateAccessToken(ctx, aws.ToString(tok.AccessToken)); err != nil {
				t.Fatal(err)
			}
			// Disabled as internal/directory does it: the flag and a user
			// revocation record.
			u := *e.user
			u.Disabled = true
			now := e.clock.Now()
			if err := e.st.Update(ctx, func(tx store.Tx) error {
				if err := tx.UpdateUser(ctx, &u); err != nil {
					return err
				}
				return tx.PutRevocation(ctx, &store.Revocation{Kind: store.RevokeUser, Subject: u.ID, At: now, ExpiresAt: now.Add(24 * time.Hour)})
			}); err != nil {
				t.Fatal(err)
			}
			e.clock.Advance(time.Second) // every replica sees a change within 1 s
			_, err = e.refresh(c, aws.ToString(tok.RefreshToken))
			wantAPIError[*types.InvalidGrantException](t, err, 400)
			if _, err := e.svc.AuthenticateAccessToken(ctx, aws.ToString(tok.AccessToken)); !errors.Is(err, oidc.ErrInvalidToken) {
				t.Errorf("access token of a disabled user: %v", err)
			}
		})
	}
}

func TestLogout(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	c := e.deviceClient("sso:account:access")
	tok := e.deviceLogin(c)
	at, rt := aws.ToString(tok.AccessToken), aws.ToString(tok.RefreshToken)

	// Two more replicas: one with the access cache, one without.
	cache := accesscache.New(e.st, e.clock.Now)
	withCache, without := e.replica(cache), e.replica(nil)
	for _, s := range []*oidc.Service{e.svc, withCache, without} {
		if _, err := s.AuthenticateAccessToken(ctx, at); err != nil {
			t.Fatalf("before logout: %v", err)
		}
	}
	e.clock.Advance(time.Second)
	if err := e.svc.Logout(ctx, at); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	if _, err := e.svc.AuthenticateAccessToken(ctx, at); !errors.Is(err, oidc.ErrInvalidToken) {
		t.Errorf("same replica after logout: %v, want ErrInvalidToken", err)
	}
	e.clock.Advance(time.Second)
	for name, s := range map[string]*oidc.Service{"accesscache replica": withCache, "store replica": without} {
		if _, err := s.AuthenticateAccessToken(ctx, at); !errors.Is(err, oidc.ErrInvalidToken) {
			t.Errorf("%s 1 s after logout: %v, want ErrInvalidToken", name, err)
		}
	}
	_, err := e.refresh(c, rt)
	wantAPIError[*types.InvalidGrantException](t, err, 400)
	if err := e.svc.Logout(ctx, at); !errors.Is(err, oidc.ErrInvalidToken) {
		t.Errorf("second Logout = %v, want ErrInvalidToken", err)
	}
	if !hasRevocation(t, e, store.RevokeSession) || !hasRevocation(t, e, store.RevokeGrant) {
		t.Errorf("logout did not write grant and session revocations")
	}
	// The portal session is over, so its other grants end too.
	sda := e.start(c)
	if err := e.svc.ApproveDevice(ctx, aws.ToString(sda.UserCode), e.who); err != nil {
		t.Fatal(err)
	}
	_, err = e.pollDevice(c, aws.ToString(sda.DeviceCode))
	wantAPIError[*types.InvalidGrantException](t, err, 400)
	if _, err := e.svc.AuthenticateAccessToken(ctx, "aoa-never-issued"); !errors.Is(err, oidc.ErrInvalidToken) {
		t.Errorf("unknown token: %v", err)
	}
	logouts := 0
	for _, ev := range e.events() {
		if ev.Name == "Logout" && ev.Source == "sso.amazonaws.com" {
			logouts++
		}
	}
	if logouts != 1 {
		t.Errorf("%d Logout events, want 1", logouts)
	}
}

func TestLogoutWithExpiredAccessToken(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	c := e.deviceClient("sso:account:access")
	tok := e.deviceLogin(c)
	e.clock.Advance(time.Hour + time.Second)
	if _, err := e.svc.AuthenticateAccessToken(ctx, aws.ToString(tok.AccessToken)); !errors.Is(err, oidc.ErrInvalidToken) {
		t.Fatalf("expired access token: %v, want ErrInvalidToken", err)
	}
	if err := e.svc.Logout(ctx, aws.ToString(tok.AccessToken)); err != nil {
		t.Fatalf("Logout with an expired access token: %v", err)
	}
	_, err := e.refresh(c, aws.ToString(tok.RefreshToken))
	wantAPIError[*types.InvalidGrantException](t, err, 400)
	if err := e.svc.Logout(ctx, aws.ToString(tok.RefreshToken)); !errors.Is(err, oidc.ErrInvalidToken) {
		t.Errorf("Logout with a refresh token = %v, want ErrInvalidToken", err)
	}
}
