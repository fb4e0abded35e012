package adminapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/idsource"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// lockedBuffer is a bytes.Buffer the server's goroutines may log to.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// fakeOIDC is a kind standing in for the OIDC relying party (built in its
// own package): its fields, an optional secret, a check, info and a
// preview that matches ed.developer.
func fakeOIDC() *idsource.Kind {
	return &idsource.Kind{
		Name: idsource.OIDC, Title: "OpenID Connect provider",
		Fields: []idsource.Field{
			{Name: "issuer", Label: "Issuer URL", Help: "The provider's issuer.", Required: true},
			{Name: "clientId", Label: "Client ID", Required: true},
			{Name: "preset", Label: "Preset", Options: []string{"okta", "google", "entra"}, Default: "okta"},
		},
		Secret: &idsource.Field{Name: "clientSecret", Label: "Client secret"},
		Check: func(_ context.Context, s map[string]string, _ bool) error {
			if !strings.HasPrefix(s["issuer"], "https://") {
				return fault.Validationf("issuer must be an https URL")
			}
			return nil
		},
		Info: func() []idsource.Info {
			return []idsource.Info{{Label: "Redirect URI", Value: "https://gatehouse.example/oidc/callback"}}
		},
		Preview: func(context.Context) (*idsource.Preview, error) {
			return &idsource.Preview{Matched: []string{"ed.developer"}, New: []string{"zoe"}}, nil
		},
		Begin: func(w http.ResponseWriter, r *http.Request, next string) error {
			http.Redirect(w, r, "https://idp.example/authorize", http.StatusSeeOther)
			return nil
		},
	}
}

// TestGatehouseIdentitySource drives the identity-source operations as the
// demo admin: Describe lists the kind with its fields, defaults and info;
// Update refuses bad settings with ValidationException (storing nothing)
// and stores good ones with a write-only secret (kept when absent,
// removed when ""); Preview answers the plan without switching; Switch
// refuses a stale ExpectedActiveKind, then switches; with OIDC active the
// password and MFA resets are refused with ValidationException and change
// nothing; switching back to the built-in directory works. The secret is
// in no answer, audit event or log line.
func TestGatehouseIdentitySource(t *testing.T) {
	var logs lockedBuffer
	srv := servertest.NewLogged(t, func(c *config.Config) { c.Demo = true; c.Region = "us-east-1"; c.LogLevel = "debug" }, &logs)
	srv.Sources.Register(fakeOIDC())
	ctx := t.Context()
	admin := adminCreds(t, srv)
	const secret = "s3cr3t-client-value-never-shown"
	var answers []string
	call := func(op string, body any) gatehouseCall {
		t.Helper()
		r := callGatehouse(t, srv, admin, op, body)
		b, _ := json.Marshal(r.body)
		answers = append(answers, string(b))
		return r
	}
	describe := func() map[string]any {
		t.Helper()
		r := call("DescribeIdentitySource", map[string]any{})
		if r.status != 200 {
			t.Fatalf("DescribeIdentitySource: %d %s %s", r.status, r.code, r.message)
		}
		return r.body
	}
	kind := func(d map[string]any) map[string]any {
		t.Helper()
		ks, _ := d["Kinds"].([]any)
		for _, k := range ks {
			if k := k.(map[string]any); k["Kind"] == "oidc" {
				return k
			}
		}
		t.Fatalf("Kinds = %v, want the oidc kind registered", d["Kinds"])
		return nil
	}

	d := describe()
	k := kind(d)
	if d["ActiveKind"] != "directory" || k["Kind"] != "oidc" || k["Configured"] != false || k["HasSecret"] != false || k["Active"] != false {
		t.Fatalf("Describe before configuring = %v", d)
	}
	if fs, _ := k["Fields"].([]any); len(fs) != 3 || fs[0].(map[string]any)["Label"] != "Issuer URL" || fs[0].(map[string]any)["Required"] != true {
		t.Errorf("Fields = %v", k["Fields"])
	}
	if st, _ := k["Settings"].(map[string]any); st["preset"] != "okta" || len(st) != 1 {
		t.Errorf("Settings before configuring = %v, want the defaults", k["Settings"])
	}
	if info, _ := k["Info"].([]any); len(info) != 1 || info[0].(map[string]any)["Value"] != "https://gatehouse.example/oidc/callback" {
		t.Errorf("Info = %v", k["Info"])
	}
	if sec, _ := k["Secret"].(map[string]any); sec["Name"] != "clientSecret" {
		t.Errorf("Secret = %v", k["Secret"])
	}

	// Refused settings: nothing stored; the audit event has no secret.
	for _, tc := range []struct {
		name string
		body any
		want string
	}{
		{"no kind", map[string]any{"Settings": map[string]string{}}, "'kind'"},
		{"unknown kind", map[string]any{"Kind": "kerberos"}, `"kerberos" is not one of`},
		{"directory", map[string]any{"Kind": "directory"}, "no settings"},
		{"missing required", map[string]any{"Kind": "oidc", "Settings": map[string]string{"issuer": "https://idp.example"}, "Secret": secret}, "clientId is required"},
		{"unknown setting", map[string]any{"Kind": "oidc", "Settings": map[string]string{"issuer": "https://idp.example", "clientId": "c", "color": "red"}, "Secret": secret}, `unknown setting "color"`},
		{"bad option", map[string]any{"Kind": "oidc", "Settings": map[string]string{"issuer": "https://idp.example", "clientId": "c", "preset": "aol"}, "Secret": secret}, "preset must be one of okta, google, entra"},
		{"kind's check", map[string]any{"Kind": "oidc", "Settings": map[string]string{"issuer": "http://idp.example", "clientId": "c"}, "Secret": secret}, "https URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := call("UpdateIdentitySource", tc.body)
			if r.status != 400 || r.code != "ValidationException" || !strings.Contains(r.message, tc.want) {
				t.Fatalf("UpdateIdentitySource = %d %s %q, want 400 ValidationException saying %q", r.status, r.code, r.message, tc.want)
			}
		})
	}
	if _, err := srv.Store.GetIdentitySource(ctx, "oidc"); err == nil {
		t.Fatal("a refused UpdateIdentitySource stored settings")
	}

	good := map[string]string{"issuer": "https://idp.example", "clientId": "gatehouse"}
	if r := call("UpdateIdentitySource", map[string]any{"Kind": "oidc", "Settings": good, "Secret": secret}); r.status != 200 || len(r.body) != 0 {
		t.Fatalf("UpdateIdentitySource: %d %v", r.status, r.body)
	}
	k = kind(describe())
	if st, _ := k["Settings"].(map[string]any); k["Configured"] != true || k["HasSecret"] != true || st["issuer"] != "https://idp.example" || st["preset"] != "okta" {
		t.Fatalf("Describe after Update = %v", k)
	}
	if got, err := srv.Sources.Secret(ctx, "oidc"); err != nil || got != secret {
		t.Fatalf("stored secret = %q, %v", got, err)
	}
	// Absent keeps the secret.
	good["preset"] = "google"
	if r := call("UpdateIdentitySource", map[string]any{"Kind": "oidc", "Settings": good}); r.status != 200 {
		t.Fatalf("UpdateIdentitySource without a secret: %d %s %s", r.status, r.code, r.message)
	}
	if k = kind(describe()); k["HasSecret"] != true || k["Settings"].(map[string]any)["preset"] != "google" {
		t.Fatalf("an absent Secret did not keep it: %v", k)
	}

	// Preview changes nothing.
	carol := newUser(t, srv, "carol")
	if err := srv.Store.CreateMFADevice(ctx, &store.MFADevice{ID: "mfa-carol", UserID: carol.ID, Type: "TOTP", Name: "phone",
		Sealed: []byte("x"), CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	users, err := srv.Store.ListUsers(ctx, store.Page{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	r := call("PreviewIdentitySourceSwitch", map[string]any{"Kind": "oidc"})
	if r.status != 200 || r.body["FromKind"] != "directory" || r.body["ToKind"] != "oidc" || r.body["UserCount"] != float64(len(users)) ||
		r.body["MFADeviceCount"] != float64(1) || r.body["PasswordCount"].(float64) < 1 {
		t.Fatalf("PreviewIdentitySourceSwitch = %d %v", r.status, r.body)
	}
	if pv, _ := r.body["Preview"].(map[string]any); pv == nil || len(pv["Matched"].([]any)) != 1 || len(pv["Unmatched"].([]any)) != 0 {
		t.Errorf("Preview = %v", r.body["Preview"])
	}
	if notes, _ := r.body["Notes"].([]any); len(notes) == 0 {
		t.Error("the plan has no notes")
	}
	if a, _ := srv.Sources.ActiveKind(ctx); a != "directory" {
		t.Fatalf("a preview switched to %s", a)
	}
	if r := call("PreviewIdentitySourceSwitch", map[string]any{"Kind": "directory"}); r.code != "ValidationException" || !strings.Contains(r.message, "already active") {
		t.Errorf("preview of the active kind = %d %s %q", r.status, r.code, r.message)
	}

	// A switch planned against another active kind is refused.
	if r := call("SwitchIdentitySource", map[string]any{"Kind": "oidc", "ExpectedActiveKind": "ldap"}); r.status != 400 || r.code != "ConflictException" {
		t.Fatalf("stale switch = %d %s %q, want 400 ConflictException", r.status, r.code, r.message)
	}
	if a, _ := srv.Sources.ActiveKind(ctx); a != "directory" {
		t.Fatalf("a refused switch switched to %s", a)
	}
	if r := call("SwitchIdentitySource", map[string]any{"Kind": "oidc", "ExpectedActiveKind": "directory"}); r.status != 200 || r.body["ToKind"] != "oidc" {
		t.Fatalf("SwitchIdentitySource = %d %s %q", r.status, r.code, r.message)
	}
	if d := describe(); d["ActiveKind"] != "oidc" || kind(d)["Active"] != true {
		t.Fatalf("Describe after the switch = %v", d)
	}
	evs, err := srv.Store.ListEvents(ctx, store.EventFilter{Name: "SwitchIdentitySource", Source: audit.SourceGatehouse})
	if err != nil || len(evs) != 2 {
		t.Fatalf("SwitchIdentitySource events: %d, %v; want the refused and the done", len(evs), err)
	}
	byCode := map[string]store.EventRecord{}
	for _, e := range evs {
		byCode[e.ErrorCode] = e
	}
	if _, ok := byCode["ConflictException"]; !ok {
		t.Error("the refused switch was not audited")
	}
	if rec := string(byCode[""].Record); !strings.Contains(rec, "AWSReservedSSO_AdministratorAccess_") || !strings.Contains(rec, `"to":"oidc"`) {
		t.Errorf("the switch's event is not the admin's: %s", rec)
	}

	// With the identity provider active, its passwords and MFA are its own.
	sid := srv.Instance.IdentityStoreID
	for op, want := range map[string]string{"ResetPassword": "Passwords are managed by the organization's OpenID Connect identity provider",
		"ResetMFA": "MFA is managed by the organization's OpenID Connect identity provider"} {
		r := call(op, map[string]string{"IdentityStoreId": sid, "UserId": carol.ID})
		if r.status != 400 || r.code != "ValidationException" || !strings.Contains(r.message, want) {
			t.Errorf("%s with OIDC active = %d %s %q, want ValidationException saying %q", op, r.status, r.code, r.message, want)
		}
	}
	if u, _ := srv.Store.GetUser(ctx, carol.ID); u.PasswordHash == "" {
		t.Error("a refused ResetPassword cleared the password")
	}
	if ds, _ := srv.Store.ListMFADevices(ctx, carol.ID); len(ds) != 1 {
		t.Errorf("a refused ResetMFA left %d devices", len(ds))
	}

	// "" removes the secret (the fake's is optional).
	if r := call("UpdateIdentitySource", map[string]any{"Kind": "oidc", "Settings": good, "Secret": ""}); r.status != 200 {
		t.Fatalf("UpdateIdentitySource removing the secret: %d %s %s", r.status, r.code, r.message)
	}
	if k := kind(describe()); k["HasSecret"] != false {
		t.Fatalf(`Secret "" did not remove it: %v`, k)
	}

	// The break-glass way back.
	if r := call("SwitchIdentitySource", map[string]any{"Kind": "directory"}); r.status != 200 || r.body["FromKind"] != "oidc" {
		t.Fatalf("switch back = %d %s %q", r.status, r.code, r.message)
	}
	if r := call("ResetMFA", map[string]string{"IdentityStoreId": sid, "UserId": carol.ID}); r.status != 200 {
		t.Fatalf("ResetMFA with the directory back = %d %s %q", r.status, r.code, r.message)
	}

	// The secret is in no answer, event or log line.
	all, err := srv.Store.ListEvents(ctx, store.EventFilter{Page: store.Page{Limit: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	updates := 0
	for _, e := range all {
		if strings.Contains(string(e.Record), secret) {
			t.Errorf("event %s %s holds the secret: %s", e.Name, e.ErrorCode, e.Record)
		}
		if e.Name == "UpdateIdentitySource" {
			updates++
		}
	}
	if updates < 10 {
		t.Errorf("%d UpdateIdentitySource events, want the refused and the stored ones", updates)
	}
	for _, a := range answers {
		if strings.Contains(a, secret) {
			t.Errorf("an answer holds the secret: %s", a)
		}
	}
	if l := logs.String(); strings.Contains(l, secret) {
		t.Errorf("the log holds the secret:\n%s", l)
	} else if !strings.Contains(l, "identity source switched") {
		t.Errorf("the log was not captured (no switch line):\n%.2000s", l)
	}
}

// TestGatehouseIdentitySourceAuthorization: ReadOnlyAccess describes the
// identity source (Gatehouse's extension of it) but may not update,
// preview or switch it; a member account is refused by the account gate.
func TestGatehouseIdentitySourceAuthorization(t *testing.T) {
	srv := demoServer(t)
	srv.Sources.Register(fakeOIDC())
	ctx := t.Context()
	edID := mustUserID(t, srv, "ed.developer")
	ro, err := srv.Access.Store.GetPermissionSetByName(ctx, "ReadOnlyAccess")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Access.CreateAssignment(ctx, access.AssignmentInput{AccountID: srv.Instance.ManagementAccountID, PermissionSetID: ro.ID,
		PrincipalType: store.PrincipalUser, PrincipalID: edID}); err != nil {
		t.Fatal(err)
	}
	readOnly := roleCreds(t, srv, "ed.developer", "management", "ReadOnlyAccess")
	member := roleCreds(t, srv, "ed.developer", "dev", "PowerUserAccess")
	update := map[string]any{"Kind": "oidc", "Settings": map[string]string{"issuer": "https://idp.example", "clientId": "c"}}
	for _, tc := range []struct {
		name, op string
		body     any
		why      string
	}{
		{"read-only describes", "DescribeIdentitySource", map[string]any{}, ""},
		{"read-only updates", "UpdateIdentitySource", update, "no identity-based policy allows the gatehouse:UpdateIdentitySource action"},
		{"read-only previews", "PreviewIdentitySourceSwitch", map[string]any{"Kind": "oidc"}, "no identity-based policy allows the gatehouse:PreviewIdentitySourceSwitch action"},
		{"read-only switches", "SwitchIdentitySource", map[string]any{"Kind": "directory"}, "no identity-based policy allows the gatehouse:SwitchIdentitySource action"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := callGatehouse(t, srv, readOnly, tc.op, tc.body)
			if tc.why == "" {
				if r.status != 200 {
					t.Fatalf("%s: %d %s %s", tc.op, r.status, r.code, r.message)
				}
				return
			}
			if r.code != "AccessDeniedException" || !strings.Contains(r.message, tc.why) {
				t.Fatalf("%s = %d %s %q, want AccessDeniedException saying %q", tc.op, r.status, r.code, r.message, tc.why)
			}
		})
	}
	if r := callGatehouse(t, srv, member, "DescribeIdentitySource", map[string]any{}); r.code != "AccessDeniedException" ||
		!strings.Contains(r.message, "only the management account and delegated administrators") {
		t.Fatalf("member account Describe = %d %s %q", r.status, r.code, r.message)
	}
	if _, err := srv.Store.GetIdentitySource(ctx, "oidc"); err == nil {
		t.Error("a refused UpdateIdentitySource stored settings")
	}
}
