package idsource_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/idsource"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// TestConfigureVerifiesWithSecret: a kind's Verify gets the secret being
// saved, or the stored one when it is kept; its refusal is Configure's
// and nothing is stored.
func TestConfigureVerifiesWithSecret(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	var got []string
	w.src.Register(&idsource.Kind{Name: idsource.LDAP, Title: "LDAP", Fields: []idsource.Field{{Name: "url"}},
		Secret: &idsource.Field{Name: "bindPassword", Required: true},
		Verify: func(_ context.Context, settings map[string]string, secret string) error {
			got = append(got, secret)
			if secret == "wrong" {
				return fault.Validationf("the directory refused the bind DN and password: Invalid Credentials (49)")
			}
			return nil
		}})
	first := "right"
	if err := w.src.Configure(ctx, idsource.LDAP, map[string]string{"url": "ldap://a"}, &first); err != nil {
		t.Fatal(err)
	}
	if err := w.src.Configure(ctx, idsource.LDAP, map[string]string{"url": "ldap://b"}, nil); err != nil {
		t.Fatal(err)
	}
	wrong := "wrong"
	err := w.src.Configure(ctx, idsource.LDAP, map[string]string{"url": "ldap://c"}, &wrong)
	if fe, ok := errors.AsType[*fault.Error](err); !ok || fe.Kind != fault.Validation || !strings.Contains(fe.Message, "Invalid Credentials (49)") {
		t.Fatalf("Configure with a refused secret = %v", err)
	}
	if strings.Join(got, ",") != "right,right,wrong" {
		t.Fatalf("Verify got secrets %q, want right,right,wrong", got)
	}
	st, _, err := w.src.Settings(ctx, idsource.LDAP)
	if pw, _ := w.src.Secret(ctx, idsource.LDAP); err != nil || st["url"] != "ldap://b" || pw != "right" {
		t.Fatalf("after the refused Save: settings %v, secret %q, %v", st, pw, err)
	}
}

// TestPlanWarnsOfLockouts: the plan names the acting administrator not
// matched by the new source, a preview that failed (PreviewError), and
// for SAML/OIDC who keeps a user, each with the break glass; passwords
// "stop being used" only when switching away from the built-in directory.
func TestPlanWarnsOfLockouts(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	alice, err := w.Directory.CreateUser(ctx, directoryInput("alice"))
	if err != nil {
		t.Fatal(err)
	}
	bob, err := w.Directory.CreateUser(ctx, directoryInput("bob"))
	if err != nil {
		t.Fatal(err)
	}
	alice.PasswordHash = "not-a-real-hash"
	if err := w.Store.Update(ctx, func(tx store.Tx) error { return tx.UpdateUser(ctx, alice) }); err != nil {
		t.Fatal(err)
	}
	var previewErr error
	w.src.Register(&idsource.Kind{Name: idsource.LDAP, Title: "LDAP",
		Preview: func(context.Context) (*idsource.Preview, error) {
			if previewErr != nil {
				return nil, previewErr
			}
			return &idsource.Preview{Matched: []string{"bob"}, Unmatched: []string{"alice"}}, nil
		}})
	if err := w.src.Configure(ctx, idsource.LDAP, nil, nil); err != nil {
		t.Fatal(err)
	}
	asAlice := audit.WithUser(ctx, alice.ID, alice.UserName)
	p, err := w.src.PlanSwitch(asAlice, idsource.LDAP)
	if err != nil {
		t.Fatal(err)
	}
	if p.Actor != "alice" || len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "You (alice) are not matched by the ldap source") ||
		!strings.Contains(p.Warnings[0], "gatehouse identity-source switch directory") || p.PreviewError != "" || p.Passwords != 1 {
		t.Fatalf("plan as alice: %+v", p)
	}
	if p, err := w.src.PlanSwitch(audit.WithUser(ctx, bob.ID, bob.UserName), idsource.LDAP); err != nil || len(p.Warnings) != 0 {
		t.Fatalf("plan as bob (matched): %+v %v", p, err)
	}
	previewErr = errors.New("the LDAP directory is unreachable: connect to ldap://dc:389: connection refused")
	p, err = w.src.PlanSwitch(asAlice, idsource.LDAP)
	if err != nil || p.PreviewError != previewErr.Error() || len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "could not be read") {
		t.Fatalf("plan with a failed preview: %+v %v", p, err)
	}
	previewErr = nil
	if _, err := w.src.Switch(ctx, idsource.LDAP); err != nil {
		t.Fatal(err)
	}
	secret := "s"
	if err := w.src.Configure(ctx, idsource.OIDC, map[string]string{"issuer": "https://idp.example"}, &secret); err != nil {
		t.Fatal(err)
	}
	p, err = w.src.PlanSwitch(asAlice, idsource.OIDC)
	if err != nil {
		t.Fatal(err)
	}
	if p.Passwords != 0 || len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "matching user name or external ID") ||
		!strings.Contains(p.Warnings[0], `"alice"`) || !strings.Contains(p.Warnings[0], "gatehouse identity-source switch directory") {
		t.Fatalf("plan ldap → oidc: %+v", p)
	}
}

// TestSyncAndLastSync: Sync runs the active kind's sync, refuses a kind
// without one, turns a failure into a Validation fault; LastSync reads
// the newest SyncIdentitySource event, worked or failed.
func TestSyncAndLastSync(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	if _, err := w.src.Sync(ctx); !isValidation(err) {
		t.Fatalf("Sync with the built-in directory: %v, want a Validation fault", err)
	}
	if st, err := w.src.LastSync(ctx); err != nil || st != nil {
		t.Fatalf("LastSync before any: %+v %v", st, err)
	}
	var fail error
	w.src.Register(&idsource.Kind{Name: idsource.LDAP, Title: "LDAP",
		Sync: func(ctx context.Context) (idsource.SyncCounts, error) {
			if fail != nil {
				return idsource.SyncCounts{}, fail
			}
			c := idsource.SyncCounts{Users: 3, Disabled: 1, Retired: 2}
			return c, w.Store.Update(ctx, func(tx store.Tx) error {
				return w.Audit.Record(ctx, tx, audit.Entry{Source: audit.SourceGatehouse, Name: "SyncIdentitySource",
					Response: map[string]any{"users": 3, "disabled": 1, "retired": 2, "failed": 0, "skipped": 0}})
			})
		}})
	if err := w.src.Configure(ctx, idsource.LDAP, nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := w.src.Switch(ctx, idsource.LDAP); err != nil {
		t.Fatal(err)
	}
	if c, err := w.src.Sync(ctx); err != nil || c.Users != 3 {
		t.Fatalf("Sync: %+v %v", c, err)
	}
	st, err := w.src.LastSync(ctx)
	if err != nil || st == nil || st.Counts != (idsource.SyncCounts{Users: 3, Disabled: 1, Retired: 2}) || st.Error != "" || st.Time.IsZero() {
		t.Fatalf("LastSync after a sync: %+v %v", st, err)
	}
	fail = errors.New("the LDAP directory refused the service account's bind: Invalid Credentials (49)")
	_, err = w.src.Sync(ctx)
	if fe, ok := errors.AsType[*fault.Error](err); !ok || fe.Kind != fault.Validation || !strings.Contains(fe.Message, "changed nothing") {
		t.Fatalf("failed Sync: %v", err)
	}
	if err := w.src.RecordSyncFailure(ctx, err); err != nil {
		t.Fatal(err)
	}
	if st, err := w.src.LastSync(ctx); err != nil || st == nil || !strings.Contains(st.Error, "Invalid Credentials (49)") {
		t.Fatalf("LastSync after a failure: %+v %v", st, err)
	}
}

func isValidation(err error) bool {
	fe, ok := errors.AsType[*fault.Error](err)
	return ok && fe.Kind == fault.Validation
}
