package adminapi_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
	"github.com/gatehouse-dev/gatehouse/internal/session"
)

// demoServer starts a server with the demo world: alice@company.com has
// AdministratorAccess on the management account, ed.developer
// PowerUserAccess (through Developers) on dev.
func demoServer(t *testing.T) *servertest.Server {
	t.Helper()
	return servertest.New(t, func(c *config.Config) { c.Demo = true; c.Region = "us-east-1" })
}

// accountID returns the ID of the demo account named name.
func accountID(t *testing.T, srv *servertest.Server, name string) string {
	t.Helper()
	return servertest.AccountID(t, srv.Store, name)
}

// roleCreds issues role credentials for user's permission set role in the
// account named account, as GetRoleCredentials would after a sign-in.
func roleCreds(t *testing.T, srv *servertest.Server, user, account, role string) aws.Credentials {
	t.Helper()
	u, err := srv.Store.GetUserByName(t.Context(), user)
	if err != nil {
		t.Fatal(err)
	}
	p := session.Principal{UserID: u.ID, UserName: u.UserName, GrantID: "grant-" + user, SessionID: "session-" + user,
		AuthTime: time.Now().Add(-time.Minute)}
	c, err := srv.Issuer.Issue(t.Context(), p, accountID(t, srv, account), role)
	if err != nil {
		t.Fatalf("issue %s in %s for %s: %v", role, account, user, err)
	}
	return aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}
}

// adminCreds are the demo admin's: AdministratorAccess on the management
// account.
func adminCreds(t *testing.T, srv *servertest.Server) aws.Credentials {
	return roleCreds(t, srv, "alice@company.com", "management", "AdministratorAccess")
}

// ssoAdmin returns an sso-admin client of srv signing with creds.
func ssoAdmin(srv *servertest.Server, creds aws.Credentials) *ssoadmin.Client {
	return ssoadmin.NewFromConfig(aws.Config{Region: srv.Instance.Region, Credentials: credentials(creds)},
		func(o *ssoadmin.Options) { o.BaseEndpoint = aws.String(srv.URL) })
}

func credentials(c aws.Credentials) aws.CredentialsProvider {
	return aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) { return c, nil })
}
