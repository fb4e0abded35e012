package e2e

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"
	oidctypes "github.com/aws/aws-sdk-go-v2/service/ssooidc/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/clientconfig"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// devAccount is the demo world's dev account, where ed.developer has
// PowerUserAccess through the Developers group.
const devAccount = "111111111111"

// signedIn is one sign-in of a person: the browser holding the portal
// cookie, the OIDC registration and tokens the device flow gave the SDK,
// and role credentials issued with the access token.
type signedIn struct {
	browser *browser
	reg     *ssooidc.RegisterClientOutput
	tok     *ssooidc.CreateTokenOutput
	creds   aws.CredentialsProvider
}

// deviceSignIn runs the device flow with the Go SDK, approves it in a
// browser as user, redeems the device code and gets role credentials for
// role in account.
func deviceSignIn(t *testing.T, srv *servertest.Server, user, account, role string) *signedIn {
	t.Helper()
	ctx := t.Context()
	oc := oidcClient(srv)
	reg, err := oc.RegisterClient(ctx, &ssooidc.RegisterClientInput{
		ClientName: aws.String("botocore-client-people"), ClientType: aws.String("public"), Scopes: []string{"sso:account:access"},
	})
	if err != nil {
		t.Fatalf("RegisterClient: %v", err)
	}
	dev, err := oc.StartDeviceAuthorization(ctx, &ssooidc.StartDeviceAuthorizationInput{
		ClientId: reg.ClientId, ClientSecret: reg.ClientSecret, StartUrl: aws.String(srv.Instance.StartURL),
	})
	if err != nil {
		t.Fatalf("StartDeviceAuthorization: %v", err)
	}
	b := newBrowser(t)
	approveDeviceIn(t, b, aws.ToString(dev.VerificationUriComplete), user, demoPassword, "botocore-client")
	in := &ssooidc.CreateTokenInput{
		ClientId: reg.ClientId, ClientSecret: reg.ClientSecret, DeviceCode: dev.DeviceCode,
		GrantType: aws.String("urn:ietf:params:oauth:grant-type:device_code"),
	}
	var tok *ssooidc.CreateTokenOutput
	for range 30 {
		if tok, err = oc.CreateToken(ctx, in); err == nil {
			break
		}
		var pending *oidctypes.AuthorizationPendingException
		var slow *oidctypes.SlowDownException
		if !errors.As(err, &pending) && !errors.As(err, &slow) {
			t.Fatalf("CreateToken after approval: %v", err)
		}
		time.Sleep(time.Duration(dev.Interval) * time.Second)
	}
	if err != nil {
		t.Fatalf("CreateToken after approval: %v", err)
	}
	rc, err := portalClient(srv).GetRoleCredentials(ctx, &sso.GetRoleCredentialsInput{
		AccessToken: tok.AccessToken, AccountId: aws.String(account), RoleName: aws.String(role),
	})
	if err != nil {
		t.Fatalf("GetRoleCredentials: %v", err)
	}
	c := rc.RoleCredentials
	return &signedIn{browser: b, reg: reg, tok: tok, creds: credentials.NewStaticCredentialsProvider(
		aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))}
}

// refusals reports which of the sign-in's portal cookie, access token,
// refresh token and role credentials srv refuses now; an unexpected answer
// fails the test.
func (s *signedIn) refusals(t *testing.T, srv *servertest.Server, account, role string) []string {
	t.Helper()
	return s.check(t, srv, account, role, true)
}

// check is refusals, leaving the refresh token out unless refresh is set.
func (s *signedIn) check(t *testing.T, srv *servertest.Server, account, role string, refresh bool) []string {
	t.Helper()
	ctx := t.Context()
	var out []string
	s.browser.Get(srv.URL + "/start")
	switch {
	case s.browser.URL.Path == "/login":
		out = append(out, "cookie")
	case s.browser.Status != 200 || s.browser.URL.Path != "/start":
		t.Fatalf("GET /start: %d at %s", s.browser.Status, s.browser.URL)
	}
	_, err := portalClient(srv).GetRoleCredentials(ctx, &sso.GetRoleCredentialsInput{
		AccessToken: s.tok.AccessToken, AccountId: aws.String(account), RoleName: aws.String(role),
	})
	switch errorCode(err) {
	case "UnauthorizedException":
		out = append(out, "access token")
	case "":
	default:
		t.Fatalf("GetRoleCredentials: %v", err)
	}
	_, err = stsClient(srv, s.creds).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	switch errorCode(err) {
	case "InvalidClientTokenId":
		out = append(out, "role credentials")
	case "":
	default:
		t.Fatalf("GetCallerIdentity: %v", err)
	}
	if !refresh {
		return out
	}
	// The refresh comes last: a successful one replaces the tokens.
	_, err = oidcClient(srv).CreateToken(ctx, &ssooidc.CreateTokenInput{
		ClientId: s.reg.ClientId, ClientSecret: s.reg.ClientSecret, GrantType: aws.String("refresh_token"), RefreshToken: s.tok.RefreshToken,
	})
	switch errorCode(err) {
	case "InvalidGrantException":
		out = append(out, "refresh token")
	case "":
	default:
		t.Fatalf("CreateToken(refresh_token): %v", err)
	}
	return out
}

var everything = []string{"cookie", "access token", "role credentials", "refresh token"}

// asAdmin is ctx acting as the demo admin, as the admin API or the console
// would set it.
func asAdmin(t *testing.T, srv *servertest.Server) context.Context {
	t.Helper()
	alice, err := srv.Directory.GetUserByName(t.Context(), "alice@company.com")
	if err != nil {
		t.Fatal(err)
	}
	return audit.WithUser(t.Context(), alice.ID, alice.UserName)
}

// wantEvent checks that the audit log has an event name about userID by
// the demo admin.
func wantEvent(t *testing.T, srv *servertest.Server, name, userID string) {
	t.Helper()
	evs, err := srv.Store.ListEvents(t.Context(), store.EventFilter{Name: name, Source: audit.SourceGatehouse, ResourceName: userID})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) == 0 {
		t.Fatalf("no %s event about %s in the audit log", name, userID)
	}
	if rec := string(evs[len(evs)-1].Record); !strings.Contains(rec, `"userName":"alice@company.com"`) {
		t.Errorf("%s event does not name the admin as actor: %s", name, rec)
	}
}

// TestDisableUserEndsEverythingAtOnce signs ed.developer in for real (the
// device flow of the Go SDK approved in the pages), disables him through
// the people service and checks, without waiting, that his portal cookie,
// access token, refresh token and role credentials are all refused on
// this replica; that the change is audited with the admin as actor; and
// that after EnableUser he signs in again and his new credentials work,
// while everything from before stays ended.
func TestDisableUserEndsEverythingAtOnce(t *testing.T) {
	srv := demoServer(t)
	ctx := asAdmin(t, srv)
	ed, err := srv.Directory.GetUserByName(ctx, "ed.developer")
	if err != nil {
		t.Fatal(err)
	}
	before := deviceSignIn(t, srv, "ed.developer", devAccount, "PowerUserAccess")
	if got := before.refusals(t, srv, devAccount, "PowerUserAccess"); len(got) != 0 {
		t.Fatalf("before disabling, refused: %v", got)
	}
	before = deviceSignIn(t, srv, "ed.developer", devAccount, "PowerUserAccess") // the refresh above replaced the tokens

	if err := srv.People.DisableUser(ctx, ed.ID); err != nil {
		t.Fatal(err)
	}
	if got := before.refusals(t, srv, devAccount, "PowerUserAccess"); !slices.Equal(got, everything) {
		t.Fatalf("right after DisableUser, refused %v, want %v", got, everything)
	}
	wantEvent(t, srv, "DisableUser", ed.ID)
	if _, err := srv.Directory.Authenticate(ctx, "ed.developer", demoPassword); !errors.Is(err, directory.ErrBadCredentials) {
		t.Fatalf("sign-in of a disabled user = %v, want refused", err)
	}
	if u, _ := srv.Store.GetUser(ctx, ed.ID); !u.Disabled {
		t.Fatal("user not stored as disabled")
	}

	if err := srv.People.EnableUser(ctx, ed.ID); err != nil {
		t.Fatal(err)
	}
	wantEvent(t, srv, "EnableUser", ed.ID)
	after := deviceSignIn(t, srv, "ed.developer", devAccount, "PowerUserAccess")
	if got := after.refusals(t, srv, devAccount, "PowerUserAccess"); len(got) != 0 {
		t.Fatalf("a sign-in after EnableUser: refused %v", got)
	}
	if got := before.refusals(t, srv, devAccount, "PowerUserAccess"); !slices.Equal(got, everything) {
		t.Fatalf("after EnableUser, the sign-in from before it: refused %v, want %v", got, everything)
	}
}

// TestUserActionsEndSessions runs EndSessions, ResetMFA, ResetPassword and DeleteUser
// on a real sign-in: each ends the cookie, tokens and role credentials at
// once and is audited; EndSessions lets the user sign in again,
// ResetPassword clears the password and asks for a reset link, ResetMFA
// deletes every MFA device, DeleteUser removes the user and their direct
// assignments.
func TestUserActionsEndSessions(t *testing.T) {
	srv := demoServer(t)
	ctx := asAdmin(t, srv)
	ed, err := srv.Directory.GetUserByName(ctx, "ed.developer")
	if err != nil {
		t.Fatal(err)
	}
	var resetFor []string
	srv.People.SendPasswordReset = func(_ context.Context, userID string) (string, error) {
		resetFor = append(resetFor, userID)
		return "", nil
	}
	for _, tc := range []struct {
		event string
		act   func(ctx context.Context, userID string) error
		check func(t *testing.T)
	}{
		{"EndSessions", srv.People.EndSessions, func(t *testing.T) {
			again := deviceSignIn(t, srv, "ed.developer", devAccount, "PowerUserAccess")
			if got := again.refusals(t, srv, devAccount, "PowerUserAccess"); len(got) != 0 {
				t.Fatalf("a sign-in after EndSessions: refused %v", got)
			}
		}},
		{"ResetMFA", srv.People.ResetMFA, func(t *testing.T) {
			ds, err := srv.Store.ListMFADevices(ctx, ed.ID)
			if err != nil || len(ds) != 0 {
				t.Fatalf("MFA devices after ResetMFA: %v, %v", ds, err)
			}
		}},
		{"ResetPassword", srv.People.ResetPassword, func(t *testing.T) {
			if u, _ := srv.Store.GetUser(ctx, ed.ID); u.PasswordHash != "" {
				t.Error("password still set after ResetPassword")
			}
			if _, err := srv.Directory.Authenticate(ctx, "ed.developer", demoPassword); !errors.Is(err, directory.ErrBadCredentials) {
				t.Errorf("sign-in with the old password = %v, want refused", err)
			}
			if !slices.Equal(resetFor, []string{ed.ID}) {
				t.Errorf("reset links sent for %v, want [%s]", resetFor, ed.ID)
			}
		}},
		// Last: the user is gone afterwards.
		{"DeleteUser", srv.People.DeleteUser, func(t *testing.T) {
			if _, err := srv.Store.GetUser(ctx, ed.ID); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("user after DeleteUser: %v", err)
			}
			as, err := srv.Store.ListAssignments(ctx, store.AssignmentFilter{PrincipalType: store.PrincipalUser, PrincipalID: ed.ID})
			if err != nil || len(as) != 0 {
				t.Errorf("direct assignments after DeleteUser: %v, %v", as, err)
			}
		}},
	} {
		t.Run(tc.event, func(t *testing.T) {
			if err := srv.Directory.SetPassword(ctx, ed.ID, demoPassword); err != nil { // after ResetPassword
				t.Fatal(err)
			}
			s := deviceSignIn(t, srv, "ed.developer", devAccount, "PowerUserAccess")
			if tc.event == "ResetMFA" {
				// Devices registered after the sign-in (one of each kind).
				for _, typ := range []string{"TOTP", "WEBAUTHN"} {
					d := &store.MFADevice{ID: "mfa-" + typ, UserID: ed.ID, Type: typ, Name: typ, Sealed: []byte("x"), CreatedAt: time.Now()}
					if err := srv.Store.CreateMFADevice(ctx, d); err != nil {
						t.Fatal(err)
					}
				}
			}
			if st, err := srv.People.Describe(ctx, ed.ID); err != nil || st.ActiveSessions == 0 {
				t.Fatalf("status after a sign-in: %+v, %v; want an active session", st, err)
			}
			if err := tc.act(ctx, ed.ID); err != nil {
				t.Fatal(err)
			}
			if got := s.refusals(t, srv, devAccount, "PowerUserAccess"); !slices.Equal(got, everything) {
				t.Fatalf("right after %s, refused %v, want %v", tc.event, got, everything)
			}
			wantEvent(t, srv, tc.event, ed.ID)
			if tc.event != "DeleteUser" {
				if st, err := srv.People.Describe(ctx, ed.ID); err != nil || st.ActiveSessions != 0 {
					t.Fatalf("status after %s: %+v, %v; want no active session", tc.event, st, err)
				}
			}
			tc.check(t)
		})
	}
}

// TestDisableUserOnOtherReplica disables a user on one replica of two that
// share a PostgreSQL database: the other replica, where the user signed
// in, refuses the portal cookie, the access token and the role
// credentials within a second (its access cache's refresh), and the
// refresh token once it does.
func TestDisableUserOnOtherReplica(t *testing.T) {
	replicas := postgresReplicas(t, true, false)
	a, b := replicas[0], replicas[1]
	ed, err := a.Directory.GetUserByName(t.Context(), "ed.developer")
	if err != nil {
		t.Fatal(err)
	}
	s := deviceSignIn(t, a, "ed.developer", devAccount, "PowerUserAccess")
	if got := s.check(t, a, devAccount, "PowerUserAccess", false); len(got) != 0 {
		t.Fatalf("before disabling, refused: %v", got)
	}
	if err := b.People.DisableUser(asAdmin(t, b), ed.ID); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Second)
	want := []string{"cookie", "access token", "role credentials"}
	for {
		got := s.check(t, a, devAccount, "PowerUserAccess", false)
		if slices.Equal(got, want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a second after DisableUser on the other replica, refused %v, want %v", got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := s.refusals(t, a, devAccount, "PowerUserAccess"); !slices.Equal(got, everything) {
		t.Fatalf("refused %v, want %v", got, everything)
	}
}

// postgresSchema creates a fresh schema in the PostgreSQL database
// GATEHOUSE_TEST_POSTGRES_DSN names, or skips the test when it is not set,
// and returns the DSN with that schema as its search_path. The schema and
// everything in it is dropped when the test ends (after the servers using
// it, stopped by cleanups registered later, have ended).
func postgresSchema(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("GATEHOUSE_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("GATEHOUSE_TEST_POSTGRES_DSN not set: PostgreSQL server needed")
	}
	schemaBytes := make([]byte, 6)
	rand.Read(schemaBytes)
	schema := "e2e_" + hex.EncodeToString(schemaBytes)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// t.Context is done by now.
		if _, err := db.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
		db.Close()
	})
	if _, err := db.ExecContext(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// postgresReplicas starts one replica per entry of demo on a fresh
// PostgreSQL schema (postgresSchema), all with the same master key; demo
// loads the demo world on that replica.
func postgresReplicas(t *testing.T, demo ...bool) []*servertest.Server {
	t.Helper()
	schemaDSN := postgresSchema(t)
	key := make([]byte, 32)
	rand.Read(key)
	var out []*servertest.Server
	for _, d := range demo {
		out = append(out, servertest.New(t, func(c *config.Config) {
			c.DatabaseURL = schemaDSN
			c.MasterKey = base64.StdEncoding.EncodeToString(key)
			c.Demo = d
			c.Region = "us-east-1"
		}))
	}
	return out
}

// TestUsersCommandWithSSOProfile is the admin's remote path end to end:
// Debian's AWS CLI signs alice@company.com in with `aws sso login` on an
// sso-session profile whose endpoints are in a [services] section, and the
// built gatehouse binary, run as she runs it, disables and re-enables
// ed.developer with that profile (the SDK's SSO credential provider
// reading the CLI's token cache). While disabled, ed's sign-in is refused.
func TestUsersCommandWithSSOProfile(t *testing.T) {
	srv := demoServer(t)
	in := srv.Instance
	bin := buildGatehouse(t)
	sess := clientconfig.Session{Name: "gatehouse", StartURL: in.StartURL, Region: in.Region, BaseURL: srv.URL}
	admin := newCLI(t, srv)
	admin.appendConfig(sess.SessionSection() + "\n" + sess.ServicesSection() + "\n" +
		clientconfig.Profile{Name: "mgmt", AccountID: in.ManagementAccountID, RoleName: "AdministratorAccess", Region: in.Region}.Section(sess))
	admin.login("mgmt", "alice@company.com")
	ed, err := srv.Directory.GetUserByName(t.Context(), "ed.developer")
	if err != nil {
		t.Fatal(err)
	}
	users := func(args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), bin, append([]string{"users"}, args...)...)
		cmd.Env, cmd.Dir = admin.env, admin.home
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("gatehouse users %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	users("disable", "--profile", "mgmt", "--user-name", "ed.developer")
	if u, _ := srv.Store.GetUser(t.Context(), ed.ID); !u.Disabled {
		t.Fatal("gatehouse users disable did not disable the user")
	}
	if _, err := srv.Directory.Authenticate(t.Context(), "ed.developer", demoPassword); err == nil {
		t.Fatal("a disabled user signed in")
	}
	if out := users("status", "--profile", "mgmt", "--user-name", "ed.developer"); !strings.Contains(out, "disabled") {
		t.Fatalf("status of the disabled user:\n%s", out)
	}
	users("enable", "--profile", "mgmt", "--user-name", "ed.developer")
	deviceSignIn(t, srv, "ed.developer", devAccount, "PowerUserAccess")
}

// TestDeviceCodeApprovedBeforeEndSessions: a device code approved before
// the admin ends the user's sessions (or disables them) and redeemed after
// gets no tokens, and an approval still in the browser is not honoured.
func TestDeviceCodeApprovedBeforeEndSessions(t *testing.T) {
	srv := demoServer(t)
	ctx := asAdmin(t, srv)
	ed, err := srv.Directory.GetUserByName(ctx, "ed.developer")
	if err != nil {
		t.Fatal(err)
	}
	oc := oidcClient(srv)
	for _, tc := range []struct {
		name string
		act  func(ctx context.Context, userID string) error
	}{
		{"EndSessions", srv.People.EndSessions},
		{"DisableUser", srv.People.DisableUser},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg, err := oc.RegisterClient(ctx, &ssooidc.RegisterClientInput{
				ClientName: aws.String("botocore-client-people"), ClientType: aws.String("public"), Scopes: []string{"sso:account:access"},
			})
			if err != nil {
				t.Fatal(err)
			}
			dev, err := oc.StartDeviceAuthorization(ctx, &ssooidc.StartDeviceAuthorizationInput{
				ClientId: reg.ClientId, ClientSecret: reg.ClientSecret, StartUrl: aws.String(srv.Instance.StartURL),
			})
			if err != nil {
				t.Fatal(err)
			}
			approveDevice(t, aws.ToString(dev.VerificationUriComplete), "ed.developer", demoPassword)
			if err := tc.act(ctx, ed.ID); err != nil {
				t.Fatal(err)
			}
			_, err = oc.CreateToken(ctx, &ssooidc.CreateTokenInput{
				ClientId: reg.ClientId, ClientSecret: reg.ClientSecret, DeviceCode: dev.DeviceCode,
				GrantType: aws.String("urn:ietf:params:oauth:grant-type:device_code"),
			})
			if code := errorCode(err); code != "InvalidGrantException" {
				t.Fatalf("redeeming a code approved before %s = %v, want InvalidGrantException", tc.name, err)
			}
		})
	}
}
