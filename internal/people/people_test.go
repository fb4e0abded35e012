package people_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// server starts a demo server on a clock the test moves by hand.
func server(t *testing.T) (*servertest.Server, *time.Time) {
	t.Helper()
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	srv := servertest.New(t, func(c *config.Config) {
		c.Demo = true
		c.Now = func() time.Time { return now }
	})
	return srv, &now
}

func userID(t *testing.T, srv *servertest.Server, name string) string {
	t.Helper()
	u, err := srv.Store.GetUserByName(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// TestActionsOnUnknownUser: every action on a user that does not exist is
// identitystore's ResourceNotFoundException and writes nothing.
func TestActionsOnUnknownUser(t *testing.T) {
	srv, _ := server(t)
	ctx := t.Context()
	before, _ := srv.Store.ChangeSeq(ctx)
	for name, act := range map[string]func(context.Context, string) error{
		"DisableUser": srv.People.DisableUser, "EnableUser": srv.People.EnableUser, "DeleteUser": srv.People.DeleteUser,
		"EndSessions": srv.People.EndSessions, "ResetPassword": srv.People.ResetPassword, "ResetMFA": srv.People.ResetMFA,
		"Describe": func(ctx context.Context, id string) error { _, err := srv.People.Describe(ctx, id); return err },
	} {
		err := act(ctx, "90670000-0000-0000-0000-000000000000")
		if fault.KindOf(err) != fault.NotFound {
			t.Errorf("%s(unknown) = %v, want not found", name, err)
		}
	}
	if after, _ := srv.Store.ChangeSeq(ctx); after != before {
		t.Errorf("actions on an unknown user moved the change counter from %d to %d", before, after)
	}
}

// TestDisableRevokesAndAudits: DisableUser stores the user disabled, writes
// a user revocation at the clock's time and one audit event naming the
// actor of ctx; disabling again is not an error and revokes again;
// EnableUser keeps the revocations.
func TestDisableRevokesAndAudits(t *testing.T) {
	srv, now := server(t)
	ed := userID(t, srv, "ed.developer")
	ctx := audit.WithUser(t.Context(), "admin-id", "the.admin")
	if err := srv.People.DisableUser(ctx, ed); err != nil {
		t.Fatal(err)
	}
	first := *now
	*now = now.Add(time.Minute)
	if err := srv.People.DisableUser(ctx, ed); err != nil {
		t.Fatalf("disabling a disabled user: %v", err)
	}
	if err := srv.People.EnableUser(ctx, ed); err != nil {
		t.Fatal(err)
	}
	u, err := srv.Store.GetUser(ctx, ed)
	if err != nil {
		t.Fatal(err)
	}
	if u.Disabled || u.UpdatedBy != "the.admin" {
		t.Errorf("user after enable: disabled %t, updated by %q", u.Disabled, u.UpdatedBy)
	}
	rs, err := srv.Store.ListRevocations(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var ats []time.Time
	for _, r := range rs {
		if r.Kind == store.RevokeUser && r.Subject == ed {
			ats = append(ats, r.At)
		}
	}
	// The store keeps the latest revocation per subject.
	if len(ats) != 1 || !ats[0].Equal(first.Add(time.Minute)) {
		t.Errorf("user revocations at %v, want the second disable's %v", ats, first.Add(time.Minute))
	}
	for name, want := range map[string]int{"DisableUser": 2, "EnableUser": 1} {
		evs, err := srv.Store.ListEvents(ctx, store.EventFilter{Name: name, Source: audit.SourceGatehouse, ResourceName: ed})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != want {
			t.Fatalf("%d %s events, want %d", len(evs), name, want)
		}
		if rec := string(evs[0].Record); !strings.Contains(rec, `"userName":"the.admin"`) {
			t.Errorf("%s event's actor is not the admin: %s", name, rec)
		}
	}
}

// TestResetPasswordSendFails: the password is reset even when the reset
// link cannot be sent, and the error says both.
func TestResetPasswordSendFails(t *testing.T) {
	srv, _ := server(t)
	ed := userID(t, srv, "ed.developer")
	srv.People.SendPasswordReset = func(context.Context, string) (string, error) { return "", errors.New("smtp down") }
	err := srv.People.ResetPassword(t.Context(), ed)
	if err == nil || !strings.Contains(err.Error(), "password of "+ed+" reset, but the reset link was not sent: smtp down") {
		t.Fatalf("ResetPassword = %v", err)
	}
	st, err := srv.People.Describe(t.Context(), ed)
	if err != nil {
		t.Fatal(err)
	}
	if st.HasPassword {
		t.Error("password still set")
	}
}

// TestCannotActOnYourself: an administrator cannot disable, delete, reset
// the password of or reset the MFA of themselves (the actor of ctx): each
// is a validation error that says so and changes nothing. Ending their
// own sessions and enabling themselves are allowed.
func TestCannotActOnYourself(t *testing.T) {
	srv, _ := server(t)
	ed := userID(t, srv, "ed.developer")
	ctx := audit.WithUser(t.Context(), ed, "ed.developer")
	before, _ := srv.Store.ChangeSeq(ctx)
	for name, act := range map[string]func(context.Context, string) error{
		"DisableUser": srv.People.DisableUser, "DeleteUser": srv.People.DeleteUser,
		"ResetPassword": srv.People.ResetPassword, "ResetMFA": srv.People.ResetMFA,
	} {
		err := act(ctx, ed)
		if fault.KindOf(err) != fault.Validation || !strings.Contains(err.Error(), "yourself") {
			t.Errorf("%s(yourself) = %v, want a validation error about yourself", name, err)
		}
	}
	if after, _ := srv.Store.ChangeSeq(ctx); after != before {
		t.Errorf("refused actions moved the change counter from %d to %d", before, after)
	}
	for name, act := range map[string]func(context.Context, string) error{
		"EnableUser": srv.People.EnableUser, "EndSessions": srv.People.EndSessions,
	} {
		if err := act(ctx, ed); err != nil {
			t.Errorf("%s(yourself) = %v", name, err)
		}
	}
}

// TestResetMFANotifies: an administrator's ResetMFA sends the user the
// security notice that their MFA devices were removed, and none when the
// user had no device.
func TestResetMFANotifies(t *testing.T) {
	srv, _ := server(t)
	ed := userID(t, srv, "ed.developer")
	ctx := audit.WithUser(t.Context(), "admin-id", "the.admin")
	// Without a device there is nothing to remove, and no notice.
	if err := srv.People.ResetMFA(ctx, ed); err != nil {
		t.Fatal(err)
	}
	if ms, err := srv.Outbox.List(ctx, 10); err != nil || len(ms) != 0 {
		t.Fatalf("notice of a reset that removed nothing: %+v, %v", ms, err)
	}
	if err := srv.Store.CreateMFADevice(ctx, &store.MFADevice{ID: "mfa-1", UserID: ed, Type: "TOTP", Name: "phone",
		Sealed: []byte("x"), CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := srv.People.ResetMFA(ctx, ed); err != nil {
		t.Fatal(err)
	}
	ms, err := srv.Outbox.List(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if strings.Contains(m.Subject, "MFA") && strings.Contains(m.Body, "removed") {
			return
		}
	}
	t.Errorf("no MFA-removed notice in the outbox: %+v", ms)
}
