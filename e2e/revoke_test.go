package e2e

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// signInPKCE signs user in through the real pages with the authorization
// code flow (no polling interval to wait out) and returns the client
// registration and the tokens.
func signInPKCE(t *testing.T, srv *servertest.Server, user string) (*ssooidc.RegisterClientOutput, *ssooidc.CreateTokenOutput) {
	t.Helper()
	ctx := t.Context()
	oc := oidcClient(srv)
	reg, err := oc.RegisterClient(ctx, &ssooidc.RegisterClientInput{
		ClientName: aws.String("botocore-client-revoke"), ClientType: aws.String("public"),
		GrantTypes: []string{"authorization_code", "refresh_token"}, RedirectUris: []string{"http://127.0.0.1/oauth/callback"},
		IssuerUrl: aws.String(srv.Instance.StartURL), Scopes: []string{"sso:account:access"},
	})
	if err != nil {
		t.Fatalf("RegisterClient: %v", err)
	}
	redirect, callbacks := loopbackCallback(t)
	verifier, challenge := pkceVerifier()
	q := url.Values{
		"response_type": {"code"}, "client_id": {aws.ToString(reg.ClientId)}, "redirect_uri": {redirect}, "state": {"s1"},
		"code_challenge_method": {"S256"}, "scopes": {"sso:account:access"}, "code_challenge": {challenge},
	}
	b := newBrowser(t)
	b.Get(srv.URL + "/authorize?" + q.Encode())
	for step := 0; step < 6 && !strings.Contains(b.Body, `value="allow"`); step++ {
		switch {
		case strings.Contains(b.Body, `name="password"`):
			b.Submit(map[string]string{"password": demoPassword}, "Sign in")
		case strings.Contains(b.Body, `name="username"`):
			b.Submit(map[string]string{"username": user}, "Next")
		default:
			t.Fatalf("unexpected page %s (%d):\n%s", b.URL, b.Status, b.Text())
		}
	}
	b.Submit(nil, "Allow")
	var cb url.Values
	select {
	case cb = <-callbacks:
	case <-time.After(10 * time.Second):
		t.Fatalf("no callback on %s; last page %s:\n%s", redirect, b.URL, b.Text())
	}
	tok, err := oc.CreateToken(ctx, &ssooidc.CreateTokenInput{
		ClientId: reg.ClientId, ClientSecret: reg.ClientSecret, GrantType: aws.String("authorization_code"),
		Code: aws.String(cb.Get("code")), CodeVerifier: aws.String(verifier), RedirectUri: aws.String(redirect),
	})
	if err != nil {
		t.Fatalf("CreateToken(authorization_code): %v", err)
	}
	return reg, tok
}

// errorCode returns the AWS error code of err, or "" for success.
func errorCode(err error) string {
	if err == nil {
		return ""
	}
	if ae, ok := errors.AsType[smithy.APIError](err); ok {
		return ae.ErrorCode()
	}
	return err.Error()
}

// TestRevocationIsImmediateOnThisReplica revokes role credentials in every
// way a replica writes a revocation — Logout, refresh-token reuse, disabling
// the user, removing the assignment — and calls GetCallerIdentity and the
// IAM API with them at once, without sleeping: the replica that wrote the
// revocation must refuse the very next request (issue 9 item 12). Before the
// fix the access cache answered from a view up to 200 ms old.
//
// The server's clock is moved forward a second each round, so the rounds'
// client registrations stay under RegisterClient's per-second limit, and
// past the refresh grace before a refresh token is reused, so the reuse
// revokes instead of being a lost refresh race.
func TestRevocationIsImmediateOnThisReplica(t *testing.T) {
	srv, clk := demoServerWithClock(t)
	ctx := t.Context()
	mgmt := srv.Instance.ManagementAccountID
	alice, err := srv.Directory.GetUserByName(ctx, "alice@company.com")
	if err != nil {
		t.Fatal(err)
	}
	admin, err := srv.Access.GetPermissionSetByName(ctx, "AdministratorAccess")
	if err != nil {
		t.Fatal(err)
	}
	assignment := access.AssignmentInput{AccountID: mgmt, PermissionSetID: admin.ID, PrincipalType: store.PrincipalUser, PrincipalID: alice.ID}
	pc := portalClient(srv)
	oc := oidcClient(srv)

	revokers := []struct {
		name   string
		revoke func(t *testing.T, reg *ssooidc.RegisterClientOutput, tok *ssooidc.CreateTokenOutput)
		undo   func(t *testing.T)
	}{
		{name: "logout", revoke: func(t *testing.T, _ *ssooidc.RegisterClientOutput, tok *ssooidc.CreateTokenOutput) {
			if _, err := pc.Logout(ctx, &sso.LogoutInput{AccessToken: tok.AccessToken}); err != nil {
				t.Fatalf("Logout: %v", err)
			}
		}},
		{name: "refresh token reuse", revoke: func(t *testing.T, reg *ssooidc.RegisterClientOutput, tok *ssooidc.CreateTokenOutput) {
			in := &ssooidc.CreateTokenInput{ClientId: reg.ClientId, ClientSecret: reg.ClientSecret, GrantType: aws.String("refresh_token"), RefreshToken: tok.RefreshToken}
			if _, err := oc.CreateToken(ctx, in); err != nil {
				t.Fatalf("refresh: %v", err)
			}
			clk.Advance(srv.Config.RefreshGrace + time.Second)
			if _, err := oc.CreateToken(ctx, in); err == nil {
				t.Fatal("reused refresh token accepted")
			}
		}},
		{name: "disable user", revoke: func(t *testing.T, _ *ssooidc.RegisterClientOutput, _ *ssooidc.CreateTokenOutput) {
			if err := srv.Directory.SetUserDisabled(ctx, alice.ID, true); err != nil {
				t.Fatal(err)
			}
		}, undo: func(t *testing.T) {
			if err := srv.Directory.SetUserDisabled(ctx, alice.ID, false); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "remove assignment", revoke: func(t *testing.T, _ *ssooidc.RegisterClientOutput, _ *ssooidc.CreateTokenOutput) {
			if _, err := srv.Access.DeleteAssignment(ctx, assignment); err != nil {
				t.Fatal(err)
			}
		}, undo: func(t *testing.T) {
			if _, err := srv.Access.CreateAssignment(ctx, assignment); err != nil {
				t.Fatal(err)
			}
		}},
	}

	const rounds = 24
	for i := range rounds {
		// Logout, the case the issue names, every other round; the other
		// ways in turn in between.
		rv := revokers[0]
		if i%2 == 1 {
			rv = revokers[1+(i/2)%(len(revokers)-1)]
		}
		clk.Advance(time.Second)
		t.Run(fmt.Sprintf("%02d %s", i, rv.name), func(t *testing.T) {
			reg, tok := signInPKCE(t, srv, "alice@company.com")
			rc, err := pc.GetRoleCredentials(ctx, &sso.GetRoleCredentialsInput{AccessToken: tok.AccessToken, AccountId: aws.String(mgmt), RoleName: aws.String("AdministratorAccess")})
			if err != nil {
				t.Fatalf("GetRoleCredentials: %v", err)
			}
			creds := credentials.NewStaticCredentialsProvider(aws.ToString(rc.RoleCredentials.AccessKeyId),
				aws.ToString(rc.RoleCredentials.SecretAccessKey), aws.ToString(rc.RoleCredentials.SessionToken))
			stc := stsClient(srv, creds)
			iamc := iam.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: creds, RetryMaxAttempts: 1},
				func(o *iam.Options) { o.BaseEndpoint = aws.String(srv.URL) })
			// The credentials work, and the cache holds a fresh view of them.
			if _, err := stc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
				t.Fatalf("GetCallerIdentity before revocation: %v", err)
			}
			if _, err := iamc.ListRoles(ctx, &iam.ListRolesInput{}); err != nil {
				t.Fatalf("iam ListRoles before revocation: %v", err)
			}

			rv.revoke(t, reg, tok)
			if rv.undo != nil {
				defer rv.undo(t)
			}
			_, stsErr := stc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			_, iamErr := iamc.ListRoles(ctx, &iam.ListRolesInput{})
			if got := errorCode(stsErr); got != "InvalidClientTokenId" {
				t.Errorf("GetCallerIdentity right after %s = %q, want InvalidClientTokenId", rv.name, got)
			}
			if got := errorCode(iamErr); got != "InvalidClientTokenId" {
				t.Errorf("iam ListRoles right after %s = %q, want InvalidClientTokenId", rv.name, got)
			}
		})
	}
}
