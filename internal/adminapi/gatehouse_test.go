package adminapi_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/adminapi"
	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/mfa"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// gatehouseCall is one signed call of the Gatehouse admin API: the answer's
// status, its error code (the __type) and message, and its body.
type gatehouseCall struct {
	status  int
	code    string
	message string
	body    map[string]any
}

// callGatehouse signs body for the "gatehouse" service with creds (SigV4,
// as the users subcommand does) and posts it as GatehouseAdmin_20261201.<op>.
func callGatehouse(t *testing.T, srv *servertest.Server, creds aws.Credentials, op string, body any) gatehouseCall {
	t.Helper()
	var data []byte
	switch b := body.(type) {
	case string:
		data = []byte(b)
	default:
		var err error
		if data, err = json.Marshal(b); err != nil {
			t.Fatal(err)
		}
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", adminapi.GatehousePrefix+"."+op)
	sum := sha256.Sum256(data)
	if err := v4.NewSigner().SignHTTP(t.Context(), creds, req, hex.EncodeToString(sum[:]), adminapi.GatehouseSigningName, srv.Instance.Region, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := gatehouseCall{status: resp.StatusCode}
	if err := json.Unmarshal(raw, &out.body); err != nil {
		t.Fatalf("%s answered %d with a body that is not JSON: %s", op, resp.StatusCode, raw)
	}
	out.code, _ = out.body["__type"].(string)
	out.message, _ = out.body["Message"].(string)
	return out
}

// newUser creates a user with a password.
func newUser(t *testing.T, srv *servertest.Server, name string) *store.User {
	t.Helper()
	u, err := srv.Directory.CreateUser(t.Context(), directory.CreateUserInput{
		UserName: name, DisplayName: name, Name: store.UserName{GivenName: name, FamilyName: "Test"},
		Emails: []store.Email{{Value: name + "@example.com", Primary: true}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Directory.SetPassword(t.Context(), u.ID, "a-long-password-1"); err != nil {
		t.Fatal(err)
	}
	return u
}

// TestGatehouseAdminAPI drives every action of the Gatehouse admin API as
// the demo admin (AdministratorAccess on the management account): each
// changes the stored user and is audited as a gatehouse.amazonaws.com
// event of the admin's role session; DescribeUserStatus reports the
// result; bad input gets identitystore's errors.
func TestGatehouseAdminAPI(t *testing.T) {
	srv := demoServer(t)
	ctx := t.Context()
	admin := adminCreds(t, srv)
	carol := newUser(t, srv, "carol")
	sid := srv.Instance.IdentityStoreID
	in := map[string]string{"IdentityStoreId": sid, "UserId": carol.ID}
	if err := srv.Store.CreateMFADevice(ctx, &store.MFADevice{ID: "mfa-1", UserID: carol.ID, Type: "TOTP", Name: "phone",
		Sealed: []byte("x"), CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	status := func(want string) {
		t.Helper()
		r := callGatehouse(t, srv, admin, "DescribeUserStatus", in)
		if r.status != 200 {
			t.Fatalf("DescribeUserStatus: %d %s %s", r.status, r.code, r.message)
		}
		got := make([]string, 0, 4)
		for _, k := range []string{"Disabled", "HasPassword", "MFADeviceCount", "UserName"} {
			b, _ := json.Marshal(r.body[k])
			got = append(got, k+"="+string(b))
		}
		if s := strings.Join(got, " "); s != want {
			t.Fatalf("DescribeUserStatus = %s, want %s", s, want)
		}
	}
	status(`Disabled=false HasPassword=true MFADeviceCount=1 UserName="carol"`)

	for _, step := range []struct {
		op, want string
	}{
		{"DisableUser", `Disabled=true HasPassword=true MFADeviceCount=1 UserName="carol"`},
		{"EnableUser", `Disabled=false HasPassword=true MFADeviceCount=1 UserName="carol"`},
		{"EndSessions", `Disabled=false HasPassword=true MFADeviceCount=1 UserName="carol"`},
		{"ResetMFA", `Disabled=false HasPassword=true MFADeviceCount=0 UserName="carol"`},
		{"ResetPassword", `Disabled=false HasPassword=false MFADeviceCount=0 UserName="carol"`},
	} {
		r := callGatehouse(t, srv, admin, step.op, in)
		// ResetPassword answers where the link went; the others nothing.
		wantBody := 0
		if step.op == "ResetPassword" {
			wantBody = 1
			if to, _ := r.body["LinkSentTo"].(string); !strings.HasPrefix(to, "the outbox: no SMTP server is configured, so nothing was mailed to ") {
				t.Errorf("ResetPassword LinkSentTo = %v", r.body["LinkSentTo"])
			}
		}
		if r.status != 200 || len(r.body) != wantBody {
			t.Fatalf("%s: %d %v", step.op, r.status, r.body)
		}
		status(step.want)
		evs, err := srv.Store.ListEvents(ctx, store.EventFilter{Name: step.op, Source: audit.SourceGatehouse, ResourceName: carol.ID})
		if err != nil || len(evs) != 1 {
			t.Fatalf("%s events: %d, %v", step.op, len(evs), err)
		}
		if rec := string(evs[0].Record); !strings.Contains(rec, `"type":"AssumedRole"`) || !strings.Contains(rec, "AWSReservedSSO_AdministratorAccess_") {
			t.Errorf("%s event's actor is not the admin's role session: %s", step.op, rec)
		}
	}

	other := carol.ID[:len(carol.ID)-1] + map[bool]string{true: "0", false: "1"}[strings.HasSuffix(carol.ID, "1")]
	for _, tc := range []struct {
		name, op string
		body     any
		code     string
	}{
		{"no user ID", "DisableUser", map[string]string{"IdentityStoreId": sid}, "ValidationException"},
		{"malformed user ID", "DisableUser", map[string]string{"IdentityStoreId": sid, "UserId": "not an id"}, "ValidationException"},
		{"no identity store", "DisableUser", map[string]string{"UserId": carol.ID}, "ValidationException"},
		{"other identity store", "DisableUser", map[string]string{"IdentityStoreId": "d-0000000000", "UserId": carol.ID}, "ResourceNotFoundException"},
		{"unknown user", "EnableUser", map[string]string{"IdentityStoreId": sid, "UserId": other}, "ResourceNotFoundException"},
		{"unknown user status", "DescribeUserStatus", map[string]string{"IdentityStoreId": sid, "UserId": other}, "ResourceNotFoundException"},
		{"not JSON", "DisableUser", "{", "SerializationException"},
		{"unknown operation", "DeleteEverything", in, "UnknownOperationException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := callGatehouse(t, srv, admin, tc.op, tc.body)
			if r.code != tc.code || r.status != 400 || r.message == "" {
				t.Fatalf("%s = %d %q %q, want 400 %s", tc.op, r.status, r.code, r.message, tc.code)
			}
		})
	}
	if u, _ := srv.Store.GetUser(ctx, carol.ID); u.Disabled {
		t.Error("a refused call disabled the user")
	}

	// A user without an e-mail address could never get the reset link: the
	// reset is refused and the password stays.
	dave, err := srv.Directory.CreateUser(ctx, directory.CreateUserInput{UserName: "dave", DisplayName: "dave", Name: store.UserName{GivenName: "d", FamilyName: "d"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Directory.SetPassword(ctx, dave.ID, "a-long-password-1"); err != nil {
		t.Fatal(err)
	}
	r := callGatehouse(t, srv, admin, "ResetPassword", map[string]string{"IdentityStoreId": sid, "UserId": dave.ID})
	if r.status != 400 || r.code != "ValidationException" || !strings.Contains(r.message, "no e-mail address") {
		t.Fatalf("ResetPassword without an e-mail address = %d %q %q", r.status, r.code, r.message)
	}
	if u, _ := srv.Store.GetUser(ctx, dave.ID); u.PasswordHash == "" {
		t.Error("a refused reset cleared the password")
	}
}

// TestGatehouseAdminAPIAuthorization checks who may call what: ReadOnlyAccess
// on the management account reads the status and is refused every change,
// naming the gatehouse action; a member account is refused by the account
// gate; a permission set whose inline policy allows gatehouse:DisableUser
// on one user's canonical ARN may disable that user and nobody else, and
// nothing more.
func TestGatehouseAdminAPIAuthorization(t *testing.T) {
	srv := demoServer(t)
	ctx := t.Context()
	mgmt := srv.Instance.ManagementAccountID
	carol, dave := newUser(t, srv, "carol"), newUser(t, srv, "dave")
	sid := srv.Instance.IdentityStoreID
	edID := mustUserID(t, srv, "ed.developer")
	ro, err := srv.Access.Store.GetPermissionSetByName(ctx, "ReadOnlyAccess")
	if err != nil {
		t.Fatal(err)
	}
	ps, err := srv.Access.CreatePermissionSet(ctx, access.PermissionSetInput{Name: "CarolKeeper"})
	if err != nil {
		t.Fatal(err)
	}
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"gatehouse:DisableUser",` +
		`"Resource":"` + arn.IdentityStoreUserARN(carol.ID) + `"},{"Effect":"Allow","Action":"gatehouse:DisableUser",` +
		`"Resource":"` + arn.IdentityStoreARN(mgmt, sid) + `"}]}`
	if err := srv.Access.PutInlinePolicy(ctx, ps.ID, doc); err != nil {
		t.Fatalf("an inline policy naming gatehouse: actions refused: %v", err)
	}
	if err := policy.CheckCustomer([]byte(doc)); err != nil {
		t.Fatalf("a customer-managed policy naming gatehouse: actions refused: %v", err)
	}
	for _, id := range []string{ro.ID, ps.ID} {
		if _, err := srv.Access.CreateAssignment(ctx, access.AssignmentInput{AccountID: mgmt, PermissionSetID: id,
			PrincipalType: store.PrincipalUser, PrincipalID: edID}); err != nil {
			t.Fatal(err)
		}
	}
	readOnly := roleCreds(t, srv, "ed.developer", "management", "ReadOnlyAccess")
	keeper := roleCreds(t, srv, "ed.developer", "management", "CarolKeeper")
	member := roleCreds(t, srv, "ed.developer", "dev", "PowerUserAccess")
	user := func(u *store.User) map[string]string {
		return map[string]string{"IdentityStoreId": sid, "UserId": u.ID}
	}

	for _, tc := range []struct {
		name  string
		creds aws.Credentials
		op    string
		user  *store.User
		why   string // "" means allowed
	}{
		{"read-only reads", readOnly, "DescribeUserStatus", carol, ""},
		{"read-only disables", readOnly, "DisableUser", carol, "because no identity-based policy allows the gatehouse:DisableUser action"},
		{"read-only resets MFA", readOnly, "ResetMFA", carol, "because no identity-based policy allows the gatehouse:ResetMFA action"},
		{"read-only enables", readOnly, "EnableUser", carol, "because no identity-based policy allows the gatehouse:EnableUser action"},
		{"read-only ends sessions", readOnly, "EndSessions", carol, "because no identity-based policy allows the gatehouse:EndSessions action"},
		{"read-only resets the password", readOnly, "ResetPassword", carol, "because no identity-based policy allows the gatehouse:ResetPassword action"},
		{"member account", member, "DescribeUserStatus", carol, "because only the management account and delegated administrators may call gatehouse APIs"},
		{"keeper disables another", keeper, "DisableUser", dave, "because no identity-based policy allows the gatehouse:DisableUser action"},
		{"keeper enables", keeper, "EnableUser", carol, "because no identity-based policy allows the gatehouse:EnableUser action"},
		{"keeper disables carol", keeper, "DisableUser", carol, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := callGatehouse(t, srv, tc.creds, tc.op, user(tc.user))
			if tc.why == "" {
				if r.status != 200 {
					t.Fatalf("%s: %d %s %s, want success", tc.op, r.status, r.code, r.message)
				}
				return
			}
			if r.code != "AccessDeniedException" || !strings.Contains(r.message, "is not authorized to perform: gatehouse:"+tc.op) ||
				!strings.Contains(r.message, tc.why) {
				t.Fatalf("%s = %d %s %q, want AccessDeniedException saying %q", tc.op, r.status, r.code, r.message, tc.why)
			}
		})
	}
	if u, _ := srv.Store.GetUser(ctx, dave.ID); u.Disabled {
		t.Error("a refused DisableUser disabled dave")
	}
	if u, _ := srv.Store.GetUser(ctx, carol.ID); !u.Disabled {
		t.Error("the allowed DisableUser did not disable carol")
	}
	evs, err := srv.Store.ListEvents(ctx, store.EventFilter{Name: "DisableUser", Source: audit.SourceGatehouse})
	if err != nil {
		t.Fatal(err)
	}
	denied := 0
	for _, e := range evs {
		if e.ErrorCode == "AccessDeniedException" {
			denied++
		}
	}
	if denied != 2 {
		t.Errorf("%d denied DisableUser calls audited, want 2", denied)
	}
}

// TestGatehouseResetOwnMFARefused: role credentials of a user (derived
// from a portal session, perhaps a stolen one) cannot reset that user's
// own MFA, which would skip the fresh sign-in that removing a device on
// /account needs; resetting another user's MFA still works.
func TestGatehouseResetOwnMFARefused(t *testing.T) {
	srv := demoServer(t)
	ctx := t.Context()
	admin := adminCreds(t, srv)
	sid := srv.Instance.IdentityStoreID
	aliceID := mustUserID(t, srv, "alice@company.com")
	enr, err := srv.MFA.NewEnrolment("alice@company.com")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.MFA.Confirm(ctx, aliceID, "phone", enr.Seed, mfa.Code(enr.Seed, mfa.Step(time.Now()))); err != nil {
		t.Fatal(err)
	}
	r := callGatehouse(t, srv, admin, "ResetMFA", map[string]string{"IdentityStoreId": sid, "UserId": aliceID})
	if r.status != 400 || r.code != "ValidationException" || !strings.Contains(r.message, "your own MFA") {
		t.Fatalf("ResetMFA of oneself = %d %q %q, want 400 ValidationException", r.status, r.code, r.message)
	}
	if ds, _ := srv.MFA.Devices(ctx, aliceID); len(ds) != 1 {
		t.Fatalf("own MFA reset through the API: %d devices", len(ds))
	}
	carol := newUser(t, srv, "carol")
	if r := callGatehouse(t, srv, admin, "ResetMFA", map[string]string{"IdentityStoreId": sid, "UserId": carol.ID}); r.status != 200 {
		t.Fatalf("ResetMFA of another user = %d %q %q", r.status, r.code, r.message)
	}
}
