package mfa_test

import (
	"context"
	"crypto/rand"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/mfa"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

func newSeed() []byte {
	b := make([]byte, mfa.SeedSize)
	rand.Read(b)
	return b
}

// Issue 8: at most 2 authenticator apps per user; the first-device
// registration (at sign-in) is refused once the user has one; each added
// device sends a security notice.
func TestTOTPDeviceLimits(t *testing.T) {
	s, w, c := newService(t)
	var notices []string
	s.Notify = func(_ context.Context, userID, subject, body string) error {
		notices = append(notices, userID+": "+subject)
		// The first administrator has no administrator to turn to: the
		// notice says where the user removes a device themselves.
		if !strings.Contains(body, "You can remove it on My sessions and devices (/account)") || strings.Contains(body, "your administrator") {
			t.Errorf("notice %q: %q", subject, body)
		}
		return nil
	}
	ctx := t.Context()
	u, err := w.Directory.CreateUser(ctx, directory.CreateUserInput{UserName: "ann", DisplayName: "Ann", Name: store.UserName{GivenName: "Ann", FamilyName: "A"}})
	if err != nil {
		t.Fatal(err)
	}
	seed := newSeed()
	if _, err := s.ConfirmFirst(ctx, u.ID, "", seed, mfa.Code(seed, mfa.Step(c.now()))); err != nil {
		t.Fatal(err)
	}
	seed = newSeed()
	if _, err := s.ConfirmFirst(ctx, u.ID, "", seed, mfa.Code(seed, mfa.Step(c.now()))); !errors.Is(err, mfa.ErrHasDevice) {
		t.Fatalf("second first device = %v, want ErrHasDevice", err)
	}
	if _, err := s.Confirm(ctx, u.ID, "", seed, mfa.Code(seed, mfa.Step(c.now()))); err != nil {
		t.Fatalf("second app: %v", err)
	}
	seed = newSeed()
	if _, err := s.Confirm(ctx, u.ID, "", seed, mfa.Code(seed, mfa.Step(c.now()))); !errors.Is(err, mfa.ErrTooManyDevices) {
		t.Fatalf("third app = %v, want ErrTooManyDevices", err)
	}
	if len(notices) != 2 {
		t.Errorf("notices %q, want 2", notices)
	}
}

func TestEnrolmentQRAndGroupedKey(t *testing.T) {
	s, _, _ := newService(t)
	s.Issuer = "Gatehouse"
	e := s.Enrolment("ann", newSeed())
	if !regexp.MustCompile(`^data:image/png;base64,iVBORw0KGgo[A-Za-z0-9+/=]+$`).MatchString(e.QR) {
		t.Errorf("QR %.60q is not a PNG data: URI", e.QR)
	}
	if !regexp.MustCompile(`^([A-Z2-7]{4} ){7}[A-Z2-7]{4}$`).MatchString(e.Key) {
		t.Errorf("key %q is not in blocks of 4", e.Key)
	}
}

// Issue 8: Remove deletes one device with a notice; ResetUser (contract 3,
// for admins) deletes them all.
func TestRemoveAndResetUser(t *testing.T) {
	s, w, c := newService(t)
	var notices []string
	s.Notify = func(_ context.Context, _, subject, body string) error {
		// invite.Service.Notify adds "If this was not you"; a body saying
		// it too makes the mail say it twice.
		if strings.Contains(body, "If this was not you") {
			t.Errorf("notice %q repeats the warning Notify adds: %q", subject, body)
		}
		notices = append(notices, subject)
		return nil
	}
	ctx := t.Context()
	u, err := w.Directory.CreateUser(ctx, directory.CreateUserInput{UserName: "ann", DisplayName: "Ann", Name: store.UserName{GivenName: "Ann", FamilyName: "A"}})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for range 2 {
		seed := newSeed()
		d, err := s.Confirm(ctx, u.ID, "", seed, mfa.Code(seed, mfa.Step(c.now())))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, d.ID)
	}
	if err := s.Remove(ctx, u.ID, "no-such-device", true); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Remove(unknown) = %v, want ErrNotFound", err)
	}
	if err := s.Remove(ctx, u.ID, ids[0], true); err != nil {
		t.Fatal(err)
	}
	if ds, _ := s.Devices(ctx, u.ID); len(ds) != 1 || ds[0].ID != ids[1] {
		t.Errorf("after Remove: %+v", ds)
	}
	// The last one stays while the policy requires a device.
	if err := s.Remove(ctx, u.ID, ids[1], true); !errors.Is(err, mfa.ErrLastDevice) {
		t.Errorf("Remove(last, keepOne) = %v, want ErrLastDevice", err)
	}
	if ds, _ := s.Devices(ctx, u.ID); len(ds) != 1 {
		t.Errorf("after a refused Remove: %+v", ds)
	}
	if err := s.ResetUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if has, _ := s.HasTOTP(ctx, u.ID); has {
		t.Error("a device survived ResetUser")
	}
	if len(notices) != 4 || notices[2] != "MFA device removed" || notices[3] != "MFA devices reset" {
		t.Errorf("notices %q", notices)
	}
}
