package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"

	"github.com/gatehouse-dev/gatehouse/internal/keyring"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
)

// TestTokenHashRotationOnReplicas: two replicas on one database (a
// PostgreSQL schema; one SQLite data folder serves one process, and
// keyring's tests cover two handles on one file). A rotates the token-hash
// key and then issues, hashed under the new key, an OIDC access and
// refresh token, a device code, a portal session and a SCIM token; B, which has not
// loaded that key and is not restarted, accepts each of them over HTTP.
// Values hashed before the rotation keep working on both.
func TestTokenHashRotationOnReplicas(t *testing.T) {
	rs := postgresReplicas(t, true, false)
	a, b := rs[0], rs[1]
	ctx := t.Context()
	_, old := signInPKCE(t, a, "ed.developer")
	oldSCIM, _, err := a.SCIMTokens.Create(ctx, "before rotation", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// Each check follows a rotation of its own, so that no earlier check
	// has made B load the key it needs.
	rotations := 0
	rotate := func() {
		t.Helper()
		rotations++
		if err := a.Keys.Rotate(ctx, a.Store, keyring.PurposeTokenHash, time.Now().Add(time.Duration(rotations)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	rotate()

	// OIDC access and refresh tokens issued by A after the rotation.
	reg, tok := signInPKCE(t, a, "ed.developer")
	if _, err := portalClient(b).ListAccounts(ctx, &sso.ListAccountsInput{AccessToken: tok.AccessToken}); err != nil {
		t.Fatalf("B refuses an access token A hashed under the new key: %v", err)
	}
	// A refresh token A issued after a rotation, for a client registered
	// before it (B checks the client secret under a key it has).
	rotate()
	next, err := oidcClient(a).CreateToken(ctx, &ssooidc.CreateTokenInput{
		ClientId: reg.ClientId, ClientSecret: reg.ClientSecret, GrantType: aws.String("refresh_token"), RefreshToken: tok.RefreshToken,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := oidcClient(b).CreateToken(ctx, &ssooidc.CreateTokenInput{
		ClientId: reg.ClientId, ClientSecret: reg.ClientSecret, GrantType: aws.String("refresh_token"), RefreshToken: next.RefreshToken,
	}); err != nil {
		t.Fatalf("B refuses a refresh token A hashed under the new key: %v", err)
	}
	// A client registered on A after a rotation authenticates on B.
	rotate()
	reg2, tok2 := signInPKCE(t, a, "ed.developer")
	if _, err := oidcClient(b).CreateToken(ctx, &ssooidc.CreateTokenInput{
		ClientId: reg2.ClientId, ClientSecret: reg2.ClientSecret, GrantType: aws.String("refresh_token"), RefreshToken: tok2.RefreshToken,
	}); err != nil {
		t.Fatalf("B refuses a client secret A hashed under the new key: %v", err)
	}

	// A device code started and approved on A after a rotation, redeemed
	// on B (the code is looked up inside B's redeeming transaction), for a
	// client registered before it.
	devReg, err := oidcClient(a).RegisterClient(ctx, &ssooidc.RegisterClientInput{
		ClientName: aws.String("botocore-client-hashkey"), ClientType: aws.String("public"), Scopes: []string{"sso:account:access"},
	})
	if err != nil {
		t.Fatal(err)
	}
	rotate()
	dev, err := oidcClient(a).StartDeviceAuthorization(ctx, &ssooidc.StartDeviceAuthorizationInput{
		ClientId: devReg.ClientId, ClientSecret: devReg.ClientSecret, StartUrl: aws.String(a.Instance.StartURL),
	})
	if err != nil {
		t.Fatal(err)
	}
	approveDeviceFor(t, aws.ToString(dev.VerificationUriComplete), "ed.developer", demoPassword, "botocore-client")
	if _, err := oidcClient(b).CreateToken(ctx, &ssooidc.CreateTokenInput{
		ClientId: devReg.ClientId, ClientSecret: devReg.ClientSecret, DeviceCode: dev.DeviceCode,
		GrantType: aws.String("urn:ietf:params:oauth:grant-type:device_code"),
	}); err != nil {
		t.Fatalf("B refuses a device code A hashed under the new key: %v", err)
	}
	// Tokens hashed under the older key still work on both.
	for _, srv := range []*servertest.Server{a, b} {
		if _, err := portalClient(srv).ListAccounts(ctx, &sso.ListAccountsInput{AccessToken: old.AccessToken}); err != nil {
			t.Fatalf("an access token of the older key on %s: %v", srv.URL, err)
		}
	}

	// A portal session A started after the rotation, on B's pages
	// (the cookie jar ignores the port).
	rotate()
	br := newBrowser(t)
	br.Get(a.URL + "/login")
	for step := 0; step < 6 && (strings.Contains(br.Body, `name="username"`) || strings.Contains(br.Body, `name="password"`)); step++ {
		if strings.Contains(br.Body, `name="password"`) {
			br.Submit(map[string]string{"password": demoPassword}, "Sign in")
		} else {
			br.Submit(map[string]string{"username": "ed.developer"}, "Next")
		}
	}
	br.Get(a.URL + "/start")
	if br.Status != 200 || strings.Contains(br.URL.Path, "/login") {
		t.Fatalf("not signed in on A: %d %s\n%s", br.Status, br.URL, br.Text())
	}
	br.Get(b.URL + "/start")
	if br.Status != 200 || strings.Contains(br.URL.Path, "/login") {
		t.Fatalf("B does not know A's portal session hashed under the new key: %d %s\n%s", br.Status, br.URL, br.Text())
	}

	// SCIM tokens: one created on A after the rotation, and one
	// from before.
	rotate()
	newSCIM, _, err := a.SCIMTokens.Create(ctx, "after rotation", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for name, secret := range map[string]string{"new": string(newSCIM), "old": string(oldSCIM)} {
		req, _ := http.NewRequestWithContext(ctx, "GET", b.URL+"/scim/v2/Users", nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("B answers %d to the %s SCIM token", resp.StatusCode, name)
		}
	}
}
