package mfa_test

import (
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/mfa"
	"github.com/gatehouse-dev/gatehouse/internal/mfa/mfatest"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// Issue 8: registration and sign-in ceremonies with a software
// authenticator; a replayed answer, a foreign origin and a signature
// counter that did not grow are refused; a passkey signs in without a
// user name.
func TestWebAuthnCeremonies(t *testing.T) {
	s, w, c := newService(t)
	c.t = time.Now()
	s.BaseURL = "https://gatehouse.example:8443"
	ctx := t.Context()
	u, err := w.Directory.CreateUser(ctx, directory.CreateUserInput{UserName: "ann", DisplayName: "Ann", Name: store.UserName{GivenName: "Ann", FamilyName: "A"}})
	if err != nil {
		t.Fatal(err)
	}
	k := mfatest.NewSoftKey(t, "gatehouse.example", "https://gatehouse.example:8443")

	reg, err := s.BeginRegistration(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	d, err := s.FinishRegistration(ctx, u.ID, "YubiKey", reg.State, k.Create(t, reg.Options))
	if err != nil {
		t.Fatalf("FinishRegistration: %v", err)
	}
	if d.Type != mfa.TypeWebAuthn || d.Name != "YubiKey" {
		t.Errorf("device %+v", d)
	}
	// The same answer again: the challenge is spent.
	if _, err := s.FinishRegistration(ctx, u.ID, "again", reg.State, k.Create(t, reg.Options)); !errors.Is(err, mfa.ErrWebAuthn) {
		t.Errorf("replayed registration = %v, want ErrWebAuthn", err)
	}

	// Second factor for the user.
	k.Count = 1
	lg, err := s.BeginLogin(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	answer := k.Get(t, lg.Options, u.ID)
	got, err := s.FinishLogin(ctx, u.ID, lg.State, answer)
	if err != nil || got.ID != u.ID {
		t.Fatalf("FinishLogin = %v, %v", got, err)
	}
	if _, err := s.FinishLogin(ctx, u.ID, lg.State, answer); !errors.Is(err, mfa.ErrWebAuthn) {
		t.Errorf("replayed assertion = %v, want ErrWebAuthn", err)
	}

	// Another origin (a phishing site relaying the challenge) is refused.
	lg, _ = s.BeginLogin(ctx, u.ID)
	phish := *k
	phish.Origin, phish.Count = "https://gatehouse.example.evil", 2
	if _, err := s.FinishLogin(ctx, u.ID, lg.State, phish.Get(t, lg.Options, u.ID)); !errors.Is(err, mfa.ErrWebAuthn) {
		t.Errorf("foreign origin = %v, want ErrWebAuthn", err)
	}

	// Passwordless: a discoverable ceremony names no user.
	k.Count = 5
	lg, err = s.BeginLogin(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	got, err = s.FinishLogin(ctx, "", lg.State, k.Get(t, lg.Options, u.ID))
	if err != nil || got.ID != u.ID {
		t.Fatalf("passkey sign-in = %v, %v", got, err)
	}

	// A counter that did not grow: a cloned key.
	lg, _ = s.BeginLogin(ctx, u.ID)
	if _, err := s.FinishLogin(ctx, u.ID, lg.State, k.Get(t, lg.Options, u.ID)); !errors.Is(err, mfa.ErrWebAuthn) {
		t.Errorf("counter not grown = %v, want ErrWebAuthn", err)
	}
}

// TestWebAuthnCeremonyOnServiceClock: a ceremony's lifetime is counted on
// the service's clock (the configuration's), not the wall clock, so a
// server whose clock is ahead or behind still completes one, and an
// answer after the lifetime on that clock is refused.
func TestWebAuthnCeremonyOnServiceClock(t *testing.T) {
	for _, skew := range []time.Duration{10 * time.Minute, -10 * time.Minute} {
		t.Run(skew.String(), func(t *testing.T) {
			s, w, c := newService(t)
			c.t = time.Now().Add(skew)
			s.BaseURL = "https://gatehouse.example"
			ctx := t.Context()
			u, err := w.Directory.CreateUser(ctx, directory.CreateUserInput{UserName: "ann", DisplayName: "Ann", Name: store.UserName{GivenName: "Ann", FamilyName: "A"}})
			if err != nil {
				t.Fatal(err)
			}
			k := mfatest.NewSoftKey(t, "gatehouse.example", "https://gatehouse.example")
			reg, err := s.BeginRegistration(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.FinishRegistration(ctx, u.ID, "Key", reg.State, k.Create(t, reg.Options)); err != nil {
				t.Fatalf("FinishRegistration with the service clock %v off the wall clock: %v", skew, err)
			}
			k.Count = 1
			lg, err := s.BeginLogin(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			c.t = c.t.Add(5*time.Minute + time.Second)
			if _, err := s.FinishLogin(ctx, u.ID, lg.State, k.Get(t, lg.Options, u.ID)); !errors.Is(err, mfa.ErrWebAuthn) {
				t.Errorf("FinishLogin after the ceremony's lifetime on the service clock = %v, want ErrWebAuthn", err)
			}
		})
	}
}

// A key proves only the user it was registered to, and only for this
// relying party: bob's key answering a discoverable ceremony in ann's
// name, or ann's second-factor ceremony, is refused; so is ann's own key
// signing for another RP ID (a look-alike domain relaying the challenge
// with its own rpIdHash) from the right origin.
func TestWebAuthnOtherUserOrRelyingParty(t *testing.T) {
	s, w, c := newService(t)
	c.t = time.Now()
	s.BaseURL = "https://gatehouse.example:8443"
	ctx := t.Context()
	newUser := func(name string) (*store.User, *mfatest.SoftKey) {
		u, err := w.Directory.CreateUser(ctx, directory.CreateUserInput{UserName: name, DisplayName: name, Name: store.UserName{GivenName: name, FamilyName: "A"}})
		if err != nil {
			t.Fatal(err)
		}
		k := mfatest.NewSoftKey(t, "gatehouse.example", "https://gatehouse.example:8443")
		reg, err := s.BeginRegistration(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.FinishRegistration(ctx, u.ID, "key", reg.State, k.Create(t, reg.Options)); err != nil {
			t.Fatalf("FinishRegistration: %v", err)
		}
		return u, k
	}
	ann, annKey := newUser("ann")
	_, bobKey := newUser("bob")

	bobKey.Count = 1
	lg, err := s.BeginLogin(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.FinishLogin(ctx, "", lg.State, bobKey.Get(t, lg.Options, ann.ID)); !errors.Is(err, mfa.ErrWebAuthn) {
		t.Errorf("bob's passkey with ann's user handle = %v, %v; want ErrWebAuthn", got, err)
	}
	bobKey.Count = 2
	lg, err = s.BeginLogin(ctx, ann.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.FinishLogin(ctx, ann.ID, lg.State, bobKey.Get(t, lg.Options, ann.ID)); !errors.Is(err, mfa.ErrWebAuthn) {
		t.Errorf("bob's key as ann's second factor = %v, %v; want ErrWebAuthn", got, err)
	}
	other := *annKey
	other.RPID, other.Count = "gatehouse.example.evil", 3
	for _, id := range []string{ann.ID, ""} {
		lg, err = s.BeginLogin(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := s.FinishLogin(ctx, id, lg.State, other.Get(t, lg.Options, ann.ID)); !errors.Is(err, mfa.ErrWebAuthn) {
			t.Errorf("ann's key for another RP ID (user %q) = %v, %v; want ErrWebAuthn", id, got, err)
		}
	}
	// A passkey sign-in replaces the password and the second factor: the
	// key must have verified its user (PIN, biometric), not only been
	// touched.
	touched := *annKey
	touched.NoUV, touched.Count = true, 4
	lg, _ = s.BeginLogin(ctx, "")
	if got, err := s.FinishLogin(ctx, "", lg.State, touched.Get(t, lg.Options, ann.ID)); !errors.Is(err, mfa.ErrWebAuthn) {
		t.Errorf("passkey without user verification = %v, %v; want ErrWebAuthn", got, err)
	}
	// Her own key, for this RP, still works.
	annKey.Count = 5
	lg, _ = s.BeginLogin(ctx, "")
	if got, err := s.FinishLogin(ctx, "", lg.State, annKey.Get(t, lg.Options, ann.ID)); err != nil || got.ID != ann.ID {
		t.Errorf("ann's passkey = %v, %v", got, err)
	}
}
