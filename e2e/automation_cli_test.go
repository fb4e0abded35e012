package e2e

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
	"github.com/gatehouse-dev/gatehouse/internal/session"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// TestCLIAutomationUser plays the tutorial's admin and pipeline with
// Debian's AWS CLI 2.9.19: the admin (demo AdministratorAccess on the
// management account) creates an automation user, its policy and an access
// key; the pipeline uses the key for sts get-caller-identity and an IAM
// call its policy allows, is refused one it does not, and is refused
// altogether once the admin disables the key.
func TestCLIAutomationUser(t *testing.T) {
	srv := demoServer(t)
	c := newCLI(t, srv)
	ctx := t.Context()
	mgmt := srv.Instance.ManagementAccountID
	u, err := srv.Store.GetUserByName(ctx, "alice@company.com")
	if err != nil {
		t.Fatal(err)
	}
	creds, err := srv.Issuer.Issue(ctx, session.Principal{UserID: u.ID, UserName: u.UserName, GrantID: "g-cli", SessionID: "s-cli",
		AuthTime: time.Now().Add(-time.Minute)}, mgmt, "AdministratorAccess")
	if err != nil {
		t.Fatal(err)
	}
	admin := []string{"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=" + creds.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + creds.SecretAccessKey, "AWS_SESSION_TOKEN=" + creds.SessionToken}
	as := func(env []string, args ...string) (string, error) {
		t.Helper()
		return c.run(env, append(args, "--output", "json")...)
	}
	must := func(env []string, args ...string) string {
		t.Helper()
		out, err := as(env, args...)
		if err != nil {
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	must(admin, "iam", "create-user", "--user-name", "pipeline", "--tags", "Key=team,Value=platform")
	must(admin, "iam", "put-user-policy", "--user-name", "pipeline", "--policy-name", "self",
		"--policy-document", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:ListAccessKeys","iam:GetUser"],"Resource":"arn:aws:iam::*:user/pipeline"}]}`)
	var key struct {
		AccessKey struct{ AccessKeyId, SecretAccessKey string }
	}
	if err := json.Unmarshal([]byte(must(admin, "iam", "create-access-key", "--user-name", "pipeline")), &key); err != nil {
		t.Fatal(err)
	}
	pipeline := []string{"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=" + key.AccessKey.AccessKeyId,
		"AWS_SECRET_ACCESS_KEY=" + key.AccessKey.SecretAccessKey}

	var id callerIdentity
	if err := json.Unmarshal([]byte(must(pipeline, "sts", "get-caller-identity")), &id); err != nil {
		t.Fatal(err)
	}
	if id.Arn != "arn:aws:iam::"+mgmt+":user/pipeline" || !strings.HasPrefix(id.UserID, "AIDA") || id.Account != mgmt {
		t.Errorf("caller identity %+v", id)
	}
	if out := must(pipeline, "iam", "list-access-keys"); !strings.Contains(out, key.AccessKey.AccessKeyId) {
		t.Errorf("list-access-keys of self:\n%s", out)
	}
	if out, err := as(pipeline, "iam", "create-user", "--user-name", "escalate"); err == nil || !strings.Contains(out, "AccessDenied") {
		t.Errorf("create-user with the key: %v\n%s", err, out)
	}
	must(admin, "iam", "update-access-key", "--user-name", "pipeline", "--access-key-id", key.AccessKey.AccessKeyId, "--status", "Inactive")
	if out, err := as(pipeline, "sts", "get-caller-identity"); err == nil || !strings.Contains(out, "InvalidClientTokenId") {
		t.Errorf("disabled key: %v\n%s", err, out)
	}
	if out := must(admin, "iam", "get-access-key-last-used", "--access-key-id", key.AccessKey.AccessKeyId); !strings.Contains(out, `"ServiceName": "sts"`) {
		t.Errorf("last used:\n%s", out)
	}
}

// TestCLIAssumeRoleWithWebIdentity: a pipeline with a GitHub-Actions-style
// token runs the unsigned aws sts assume-role-with-web-identity with
// Debian's AWS CLI and uses the credentials it gets.
func TestCLIAssumeRoleWithWebIdentity(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	var issuer *httptest.Server
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"issuer": issuer.URL, "jwks_uri": issuer.URL + "/jwks"})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k", Algorithm: "RS256", Use: "sig"}}})
	})
	issuer = httptest.NewTLSServer(mux)
	t.Cleanup(issuer.Close)
	srv := servertest.New(t, func(c *config.Config) {
		c.Demo, c.Region, c.WebIdentityClient = true, "us-east-1", issuer.Client()
	})
	ctx := t.Context()
	mgmt := srv.Instance.ManagementAccountID
	var roleName string
	roles, err := srv.Store.ListProvisionedRoles(ctx, store.RoleFilter{AccountID: mgmt})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range roles {
		if strings.HasPrefix(r.RoleName, "AWSReservedSSO_AdministratorAccess_") {
			roleName = r.RoleName
		}
	}
	if _, err := srv.Automation.CreateOIDCProvider(ctx, mgmt, issuer.URL, []string{"sts.amazonaws.com"}, nil,
		[]store.Tag{{Key: "gatehouse:role:AdministratorAccess", Value: "repo:org/app:ref:refs/heads/main"}}); err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: "k"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	claims, _ := json.Marshal(map[string]any{"iss": issuer.URL, "sub": "repo:org/app:ref:refs/heads/main", "aud": "sts.amazonaws.com",
		"iat": time.Now().Unix(), "exp": time.Now().Add(5 * time.Minute).Unix()})
	sig, err := signer.Sign(claims)
	if err != nil {
		t.Fatal(err)
	}
	token, _ := sig.CompactSerialize()

	c := newCLI(t, srv)
	out, err := c.run([]string{"AWS_REGION=us-east-1"}, "sts", "assume-role-with-web-identity", "--output", "json",
		"--role-arn", "arn:aws:iam::"+mgmt+":role/aws-reserved/sso.amazonaws.com/"+roleName,
		"--role-session-name", "gh-run-7", "--web-identity-token", token)
	if err != nil {
		t.Fatalf("assume-role-with-web-identity: %v\n%s", err, out)
	}
	var res struct {
		Credentials     struct{ AccessKeyId, SecretAccessKey, SessionToken string }
		AssumedRoleUser struct{ Arn string }
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("output: %v\n%s", err, out)
	}
	id, out, err := c.callerIdentity([]string{"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=" + res.Credentials.AccessKeyId,
		"AWS_SECRET_ACCESS_KEY=" + res.Credentials.SecretAccessKey, "AWS_SESSION_TOKEN=" + res.Credentials.SessionToken})
	if err != nil {
		t.Fatalf("get-caller-identity: %v\n%s", err, out)
	}
	if id.Arn != res.AssumedRoleUser.Arn || id.Arn != "arn:aws:sts::"+mgmt+":assumed-role/"+roleName+"/gh-run-7" {
		t.Errorf("caller %s, assumed %s", id.Arn, res.AssumedRoleUser.Arn)
	}
}
