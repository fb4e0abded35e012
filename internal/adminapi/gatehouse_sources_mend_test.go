package adminapi_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/idsource"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// TestIdentitySourcePlanWarningsAndSync: PreviewIdentitySourceSwitch
// carries Warnings naming the caller the new source does not match and
// the preview's failure (PreviewError); SyncIdentitySource syncs the
// active LDAP source (ValidationException with another source active or
// when the sync fails, which is audited with its error).
func TestIdentitySourcePlanWarningsAndSync(t *testing.T) {
	srv := servertest.New(t, func(c *config.Config) { c.Demo = true; c.Region = "us-east-1" })
	ctx := t.Context()
	var previewErr, syncErr error
	srv.Sources.Register(&idsource.Kind{Name: idsource.LDAP, Title: "LDAP directory",
		Preview: func(context.Context) (*idsource.Preview, error) {
			if previewErr != nil {
				return nil, previewErr
			}
			return &idsource.Preview{New: []string{"zoe"}, Unmatched: []string{"alice@company.com"}}, nil
		},
		Sync: func(ctx context.Context) (idsource.SyncCounts, error) {
			if syncErr != nil {
				return idsource.SyncCounts{}, syncErr
			}
			return idsource.SyncCounts{Users: 4, Retired: 1}, srv.Store.Update(ctx, func(tx store.Tx) error {
				return srv.Audit.Record(ctx, tx, audit.Entry{Source: audit.SourceGatehouse, Name: "SyncIdentitySource",
					Response: map[string]any{"users": 4, "retired": 1}})
			})
		}})
	if err := srv.Sources.Configure(ctx, idsource.LDAP, nil, nil); err != nil {
		t.Fatal(err)
	}
	admin := adminCreds(t, srv)
	call := func(op string, body any) gatehouseCall { t.Helper(); return callGatehouse(t, srv, admin, op, body) }

	r := call("PreviewIdentitySourceSwitch", map[string]any{"Kind": "ldap"})
	ws, _ := r.body["Warnings"].([]any)
	if r.status != 200 || len(ws) != 2 || !strings.Contains(ws[0].(string), "You (alice@company.com) are not matched") ||
		!strings.Contains(ws[1].(string), "No existing user is matched") || r.body["PreviewError"] != nil {
		t.Fatalf("PreviewIdentitySourceSwitch = %d %v", r.status, r.body)
	}
	previewErr = errors.New("the LDAP directory is unreachable: connect to ldap://dc:389: connection refused")
	r = call("PreviewIdentitySourceSwitch", map[string]any{"Kind": "ldap"})
	if pe, _ := r.body["PreviewError"].(string); r.status != 200 || !strings.Contains(pe, "connection refused") {
		t.Fatalf("PreviewIdentitySourceSwitch with a failed preview = %d %v", r.status, r.body)
	}

	if r := call("SyncIdentitySource", map[string]any{}); r.status != 400 || r.code != "ValidationException" || !strings.Contains(r.message, "nothing to sync") {
		t.Fatalf("SyncIdentitySource with the directory active = %d %s %q", r.status, r.code, r.message)
	}
	if _, err := srv.Sources.Switch(ctx, idsource.LDAP); err != nil {
		t.Fatal(err)
	}
	if r := call("SyncIdentitySource", map[string]any{}); r.status != 200 || r.body["UserCount"] != float64(4) || r.body["RetiredCount"] != float64(1) {
		t.Fatalf("SyncIdentitySource = %d %s %q %v", r.status, r.code, r.message, r.body)
	}
	syncErr = errors.New("the LDAP directory refused the service account's bind: Invalid Credentials (49)")
	if r := call("SyncIdentitySource", map[string]any{}); r.status != 400 || r.code != "ValidationException" || !strings.Contains(r.message, "Invalid Credentials (49)") {
		t.Fatalf("failed SyncIdentitySource = %d %s %q", r.status, r.code, r.message)
	}
	if st, err := srv.Sources.LastSync(ctx); err != nil || st == nil || !strings.Contains(st.Error, "Invalid Credentials (49)") {
		t.Fatalf("the failed sync's audit event: %+v %v", st, err)
	}
}
