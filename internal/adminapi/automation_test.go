package adminapi_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// oidcIssuer is an in-process OpenID Connect issuer, as GitHub Actions'
// token.actions.githubusercontent.com: discovery and JWKS over TLS, ID
// tokens signed with a generated RSA key.
type oidcIssuer struct {
	srv    *httptest.Server
	signer jose.Signer
}

func newOIDCIssuer(t *testing.T) *oidcIssuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: "gh"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	is := &oidcIssuer{signer: signer}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"issuer": is.srv.URL, "jwks_uri": is.srv.URL + "/.well-known/jwks",
			"id_token_signing_alg_values_supported": []string{"RS256"}})
	})
	mux.HandleFunc("GET /.well-known/jwks", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "gh", Algorithm: "RS256", Use: "sig"}}})
	})
	is.srv = httptest.NewTLSServer(mux)
	t.Cleanup(is.srv.Close)
	return is
}

func (is *oidcIssuer) token(t *testing.T, sub string) string {
	t.Helper()
	now := time.Now()
	b, _ := json.Marshal(map[string]any{"iss": is.srv.URL, "sub": sub, "aud": "sts.amazonaws.com",
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "repository": "org/app"})
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

func autoIAM(srv *servertest.Server, creds aws.Credentials) *awsiam.Client {
	return awsiam.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials(creds), RetryMaxAttempts: 1},
		func(o *awsiam.Options) { o.BaseEndpoint = aws.String(srv.URL) })
}

func autoSTS(srv *servertest.Server, creds aws.CredentialsProvider) *sts.Client {
	return sts.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: creds, RetryMaxAttempts: 1},
		func(o *sts.Options) { o.BaseEndpoint = aws.String(srv.URL) })
}

func errorCode(t *testing.T, err error) string {
	t.Helper()
	ae, ok := errors.AsType[smithy.APIError](err)
	if !ok {
		t.Fatalf("error %v is not an API error", err)
	}
	return ae.ErrorCode()
}

// TestPipelineAccess plays a CI/CD pipeline: an automation user's access
// key and a GitHub-Actions-style web-identity session each call
// sts get-caller-identity and an admin call their policy allows (and are
// refused one it does not); a disabled key and a session whose provider
// was deleted are refused at once.
func TestPipelineAccess(t *testing.T) {
	is := newOIDCIssuer(t)
	srv := servertest.New(t, func(c *config.Config) {
		c.Demo = true
		c.Region = "us-east-1"
		c.WebIdentityClient = is.srv.Client()
	})
	ctx := t.Context()
	mgmt := srv.Instance.ManagementAccountID
	admin := autoIAM(srv, adminCreds(t, srv))

	// The admin creates the automation user, its policy and a key.
	if _, err := admin.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("pipeline")}); err != nil {
		t.Fatal(err)
	}
	pol := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sso:ListInstances","iam:GetUser"],"Resource":"*"}]}`
	if _, err := admin.PutUserPolicy(ctx, &awsiam.PutUserPolicyInput{UserName: aws.String("pipeline"), PolicyName: aws.String("deploy"), PolicyDocument: aws.String(pol)}); err != nil {
		t.Fatal(err)
	}
	key, err := admin.CreateAccessKey(ctx, &awsiam.CreateAccessKeyInput{UserName: aws.String("pipeline")})
	if err != nil {
		t.Fatal(err)
	}
	keyCreds := aws.Credentials{AccessKeyID: aws.ToString(key.AccessKey.AccessKeyId), SecretAccessKey: aws.ToString(key.AccessKey.SecretAccessKey)}

	// With the key: who am I, an allowed admin call, a refused one.
	id, err := autoSTS(srv, credentials(keyCreds)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	user, err := admin.GetUser(ctx, &awsiam.GetUserInput{UserName: aws.String("pipeline")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(id.Arn) != "arn:aws:iam::"+mgmt+":user/pipeline" || aws.ToString(id.UserId) != aws.ToString(user.User.UserId) ||
		!strings.HasPrefix(aws.ToString(id.UserId), "AIDA") || aws.ToString(id.Account) != mgmt {
		t.Errorf("caller identity of the key: %s %s %s", aws.ToString(id.Arn), aws.ToString(id.UserId), aws.ToString(id.Account))
	}
	if _, err := ssoAdmin(srv, keyCreds).ListInstances(ctx, &ssoadmin.ListInstancesInput{}); err != nil {
		t.Errorf("ListInstances with the key: %v", err)
	}
	// GetUser without a name is the caller's own user.
	self, err := autoIAM(srv, keyCreds).GetUser(ctx, &awsiam.GetUserInput{})
	if err != nil || aws.ToString(self.User.UserName) != "pipeline" {
		t.Errorf("GetUser of self: %v", err)
	}
	_, err = autoIAM(srv, keyCreds).CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("escalate")})
	if code := errorCode(t, err); code != "AccessDenied" {
		t.Errorf("CreateUser with the key: %s, want AccessDenied", code)
	}
	last, err := admin.GetAccessKeyLastUsed(ctx, &awsiam.GetAccessKeyLastUsedInput{AccessKeyId: key.AccessKey.AccessKeyId})
	if err != nil {
		t.Fatal(err)
	}
	if last.AccessKeyLastUsed.LastUsedDate == nil || aws.ToString(last.AccessKeyLastUsed.ServiceName) != "sts" {
		t.Errorf("last used: %+v", last.AccessKeyLastUsed)
	}

	// Disabled: refused at once; deleted: refused too.
	if _, err := admin.UpdateAccessKey(ctx, &awsiam.UpdateAccessKeyInput{UserName: aws.String("pipeline"),
		AccessKeyId: key.AccessKey.AccessKeyId, Status: types.StatusTypeInactive}); err != nil {
		t.Fatal(err)
	}
	_, err = autoSTS(srv, credentials(keyCreds)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if code := errorCode(t, err); code != "InvalidClientTokenId" {
		t.Errorf("disabled key: %s, want InvalidClientTokenId", code)
	}
	_, err = ssoAdmin(srv, keyCreds).ListInstances(ctx, &ssoadmin.ListInstancesInput{})
	if code := errorCode(t, err); code != "UnrecognizedClientException" && code != "InvalidClientTokenId" {
		t.Errorf("disabled key on sso-admin: %s", code)
	}

	// Web identity: the admin registers the issuer for the management
	// account's AdministratorAccess role, for the main branch only.
	roles, err := srv.Store.ListProvisionedRoles(ctx, store.RoleFilter{AccountID: mgmt})
	if err != nil {
		t.Fatal(err)
	}
	var roleARN string
	for _, r := range roles {
		if strings.HasPrefix(r.RoleName, "AWSReservedSSO_AdministratorAccess_") {
			roleARN = "arn:aws:iam::" + mgmt + ":role/aws-reserved/sso.amazonaws.com/" + r.RoleName
		}
	}
	if roleARN == "" {
		t.Fatal("no AdministratorAccess role in the management account")
	}
	prov, err := admin.CreateOpenIDConnectProvider(ctx, &awsiam.CreateOpenIDConnectProviderInput{
		Url: aws.String(is.srv.URL), ClientIDList: []string{"sts.amazonaws.com"},
		Tags: []types.Tag{{Key: aws.String("gatehouse:role:AdministratorAccess"), Value: aws.String("repo:org/app:ref:refs/heads/main")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	anon := autoSTS(srv, aws.AnonymousCredentials{})
	_, err = anon.AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{RoleArn: aws.String(roleARN),
		RoleSessionName: aws.String("gh-run-1"), WebIdentityToken: aws.String(is.token(t, "repo:org/app:ref:refs/heads/feature"))})
	if code := errorCode(t, err); code != "AccessDenied" {
		t.Errorf("another branch: %s, want AccessDenied", code)
	}
	out, err := anon.AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{RoleArn: aws.String(roleARN),
		RoleSessionName: aws.String("gh-run-1"), WebIdentityToken: aws.String(is.token(t, "repo:org/app:ref:refs/heads/main")),
		DurationSeconds: aws.Int32(900)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(aws.ToString(out.Credentials.AccessKeyId), "ASIA") || aws.ToString(out.SubjectFromWebIdentityToken) != "repo:org/app:ref:refs/heads/main" {
		t.Errorf("web identity result: %+v", out)
	}
	webCreds := aws.Credentials{AccessKeyID: aws.ToString(out.Credentials.AccessKeyId),
		SecretAccessKey: aws.ToString(out.Credentials.SecretAccessKey), SessionToken: aws.ToString(out.Credentials.SessionToken)}
	wid, err := autoSTS(srv, credentials(webCreds)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if want := aws.ToString(out.AssumedRoleUser.Arn); aws.ToString(wid.Arn) != want || !strings.HasSuffix(want, "/gh-run-1") {
		t.Errorf("caller identity of the session: %s, want %s ending in /gh-run-1", aws.ToString(wid.Arn), want)
	}
	if _, err := ssoAdmin(srv, webCreds).ListInstances(ctx, &ssoadmin.ListInstancesInput{}); err != nil {
		t.Errorf("ListInstances with the web-identity session: %v", err)
	}
	// Deleting the provider ends the session at once.
	if _, err := admin.DeleteOpenIDConnectProvider(ctx, &awsiam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: prov.OpenIDConnectProviderArn}); err != nil {
		t.Fatal(err)
	}
	_, err = autoSTS(srv, credentials(webCreds)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if code := errorCode(t, err); code != "InvalidClientTokenId" {
		t.Errorf("session of a deleted provider: %s, want InvalidClientTokenId", code)
	}
}

// TestAssumeRoleWithWebIdentityErrors checks STS's modeled errors of
// AssumeRoleWithWebIdentity, through the real SDK, and that refusals
// change nothing but the audit trail.
func TestAssumeRoleWithWebIdentityErrors(t *testing.T) {
	is := newOIDCIssuer(t)
	srv := servertest.New(t, func(c *config.Config) {
		c.Demo = true
		c.Region = "us-east-1"
		c.WebIdentityClient = is.srv.Client()
	})
	ctx := t.Context()
	mgmt := srv.Instance.ManagementAccountID
	admin := autoIAM(srv, adminCreds(t, srv))
	if _, err := admin.CreateOpenIDConnectProvider(ctx, &awsiam.CreateOpenIDConnectProviderInput{
		Url: aws.String(is.srv.URL), ClientIDList: []string{"sts.amazonaws.com"},
		Tags: []types.Tag{{Key: aws.String("gatehouse:role:AdministratorAccess"), Value: aws.String("repo:org/app:*")}},
	}); err != nil {
		t.Fatal(err)
	}
	roles, err := srv.Store.ListProvisionedRoles(ctx, store.RoleFilter{AccountID: mgmt})
	if err != nil {
		t.Fatal(err)
	}
	var roleARN string
	for _, r := range roles {
		if strings.HasPrefix(r.RoleName, "AWSReservedSSO_AdministratorAccess_") {
			roleARN = "arn:aws:iam::" + mgmt + ":role/aws-reserved/sso.amazonaws.com/" + r.RoleName
		}
	}
	good := is.token(t, "repo:org/app:ref:refs/heads/main")
	stranger := newOIDCIssuer(t)
	expired := func() string {
		b, _ := json.Marshal(map[string]any{"iss": is.srv.URL, "sub": "repo:org/app:x", "aud": "sts.amazonaws.com",
			"iat": time.Now().Add(-time.Hour).Unix(), "exp": time.Now().Add(-time.Minute).Unix()})
		sig, _ := is.signer.Sign(b)
		s, _ := sig.CompactSerialize()
		return s
	}()
	tests := []struct {
		name     string
		in       sts.AssumeRoleWithWebIdentityInput
		wantCode string
	}{
		{"garbage token", sts.AssumeRoleWithWebIdentityInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("s1"), WebIdentityToken: aws.String("garbage.token.here")}, "InvalidIdentityToken"},
		{"expired token", sts.AssumeRoleWithWebIdentityInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("s1"), WebIdentityToken: aws.String(expired)}, "ExpiredTokenException"},
		{"unregistered issuer", sts.AssumeRoleWithWebIdentityInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("s1"), WebIdentityToken: aws.String(stranger.token(t, "repo:org/app:x"))}, "InvalidIdentityToken"},
		{"session name too short", sts.AssumeRoleWithWebIdentityInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("s"), WebIdentityToken: aws.String(good)}, "ValidationError"},
		{"duration over the role's maximum", sts.AssumeRoleWithWebIdentityInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("s1"), WebIdentityToken: aws.String(good), DurationSeconds: aws.Int32(43200)}, "ValidationError"},
		{"session policy", sts.AssumeRoleWithWebIdentityInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("s1"), WebIdentityToken: aws.String(good), Policy: aws.String(`{"Version":"2012-10-17","Statement":[]}`)}, "ValidationError"},
		{"role not trusted", sts.AssumeRoleWithWebIdentityInput{RoleArn: aws.String("arn:aws:iam::" + mgmt + ":role/Other"), RoleSessionName: aws.String("s1"), WebIdentityToken: aws.String(good)}, "AccessDenied"},
	}
	anon := autoSTS(srv, aws.AnonymousCredentials{})
	seq, err := srv.Store.ChangeSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := anon.AssumeRoleWithWebIdentity(ctx, &tt.in)
			if err == nil {
				t.Fatal("call succeeded")
			}
			if code := errorCode(t, err); code != tt.wantCode {
				t.Errorf("error %s (%v), want %s", code, err, tt.wantCode)
			}
		})
	}
	if after, _ := srv.Store.ChangeSeq(ctx); after != seq {
		t.Errorf("refused calls moved the change counter from %d to %d", seq, after)
	}
	evs, err := srv.Store.ListEvents(ctx, store.EventFilter{End: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	refused := 0
	for _, e := range evs {
		if e.Name == "AssumeRoleWithWebIdentity" && e.ErrorCode != "" {
			refused++
		}
	}
	if refused != len(tests) {
		t.Errorf("%d refused AssumeRoleWithWebIdentity events, want %d", refused, len(tests))
	}
}
