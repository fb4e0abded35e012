package e2e

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
)

// TestReplicasOnPostgres runs three Gatehouse replicas on one PostgreSQL
// database, as behind a load balancer (DESIGN §5): a device code started on
// the first is approved on the second's pages and redeemed on the third;
// credentials issued by one verify on another; a logout on one ends the
// session on all of them within a second.
func TestReplicasOnPostgres(t *testing.T) {
	schemaDSN := postgresSchema(t)
	key := make([]byte, 32)
	rand.Read(key)
	replica := func(demo bool) *servertest.Server {
		return servertest.New(t, func(c *config.Config) {
			c.DatabaseURL = schemaDSN
			c.MasterKey = base64.StdEncoding.EncodeToString(key)
			c.Demo = demo
		})
	}
	a := replica(true)
	b, c := replica(false), replica(true)
	if b.Instance.InstanceID != a.Instance.InstanceID || c.Instance.InstanceID != a.Instance.InstanceID || a.Store.Backend() != "postgres" {
		t.Fatalf("replicas disagree on the instance: %s %s %s (%s)", a.Instance.InstanceID, b.Instance.InstanceID, c.Instance.InstanceID, a.Store.Backend())
	}
	ctx := t.Context()

	// Register and start on A.
	reg, err := oidcClient(a).RegisterClient(ctx, &ssooidc.RegisterClientInput{
		ClientName: aws.String("botocore-client-replicas"), ClientType: aws.String("public"), Scopes: []string{"sso:account:access"},
	})
	if err != nil {
		t.Fatal(err)
	}
	dev, err := oidcClient(a).StartDeviceAuthorization(ctx, &ssooidc.StartDeviceAuthorizationInput{
		ClientId: reg.ClientId, ClientSecret: reg.ClientSecret, StartUrl: aws.String(a.Instance.StartURL),
	})
	if err != nil {
		t.Fatal(err)
	}
	// Approve on B's pages.
	onB := strings.Replace(aws.ToString(dev.VerificationUriComplete), a.URL, b.URL, 1)
	approveDevice(t, onB, "ed.developer", demoPassword)
	// Redeem on C.
	tok, err := oidcClient(c).CreateToken(ctx, &ssooidc.CreateTokenInput{
		ClientId: reg.ClientId, ClientSecret: reg.ClientSecret, DeviceCode: dev.DeviceCode,
		GrantType: aws.String("urn:ietf:params:oauth:grant-type:device_code"),
	})
	if err != nil {
		t.Fatalf("redeeming on the third replica: %v", err)
	}
	// Credentials from B verify on C.
	rc, err := portalClient(b).GetRoleCredentials(ctx, &sso.GetRoleCredentialsInput{AccessToken: tok.AccessToken, AccountId: aws.String("222222222222"), RoleName: aws.String("ReadOnlyAccess")})
	if err != nil {
		t.Fatal(err)
	}
	creds := credentials.NewStaticCredentialsProvider(aws.ToString(rc.RoleCredentials.AccessKeyId), aws.ToString(rc.RoleCredentials.SecretAccessKey), aws.ToString(rc.RoleCredentials.SessionToken))
	out, err := stsClient(c, creds).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("credentials from one replica on another: %v", err)
	}
	wantCaller(t, callerIdentity{UserID: aws.ToString(out.UserId), Account: aws.ToString(out.Account), Arn: aws.ToString(out.Arn)}, "222222222222", "ReadOnlyAccess", "ed.developer")
	if _, err := portalClient(c).ListAccounts(ctx, &sso.ListAccountsInput{AccessToken: tok.AccessToken}); err != nil {
		t.Fatalf("token on C: %v", err)
	}

	// Logout on A ends the session everywhere within a second.
	if _, err := portalClient(a).Logout(ctx, &sso.LogoutInput{AccessToken: tok.AccessToken}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Second)
	for {
		_, errToken := portalClient(c).ListAccounts(ctx, &sso.ListAccountsInput{AccessToken: tok.AccessToken})
		_, errCreds := stsClient(b, creds).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if errToken != nil && errCreds != nil {
			if !strings.Contains(errToken.Error(), "UnauthorizedException") || !strings.Contains(errCreds.Error(), "InvalidClientTokenId") {
				t.Fatalf("after logout: token %v; credentials %v", errToken, errCreds)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a second after logout on A: token on C %v, credentials on B %v", errToken, errCreds)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var invalid interface{ ErrorCode() string }
	_, err = oidcClient(b).CreateToken(ctx, &ssooidc.CreateTokenInput{
		ClientId: reg.ClientId, ClientSecret: reg.ClientSecret, GrantType: aws.String("refresh_token"), RefreshToken: tok.RefreshToken,
	})
	if !errors.As(err, &invalid) || invalid.ErrorCode() != "InvalidGrantException" {
		t.Fatalf("refresh on B after logout on A = %v, want InvalidGrantException", err)
	}
}
