package mfa

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/keyring"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// WebAuthn security keys and passkeys (W3C Web Authentication Level 3)
// through github.com/go-webauthn/webauthn, which checks the ceremonies:
// challenge, origin, RP ID hash, flags, the attestation statement and the
// assertion signature. The relying party is the public base URL: its
// origin is BaseURL and its RP ID the URL's host without port (§5.1.1).
// The ceremony state (webauthn.SessionData) is sealed into the page and
// comes back with the answer; its challenge is spent once used.

// ErrWebAuthn is a refused ceremony: a bad, replayed or expired answer, a
// credential not the user's, or one that looks cloned.
var ErrWebAuthn = errors.New("security key or passkey not accepted")

// ceremonyLifetime bounds how long a ceremony may take (W3C WebAuthn
// recommends a timeout of 300 s for user verification).
const ceremonyLifetime = 5 * time.Minute

var ceremonyAD = []byte("gatehouse/mfa/webauthn-ceremony/v1")

// waUser is a user as the library sees it. The user handle is the user's
// ID: stable, opaque and not personal.
type waUser struct {
	u     *store.User
	creds []webauthn.Credential
	// devs are the device records of creds, index for index.
	devs []store.MFADevice
}

func (w *waUser) WebAuthnID() []byte                         { return []byte(w.u.ID) }
func (w *waUser) WebAuthnName() string                       { return w.u.UserName }
func (w *waUser) WebAuthnDisplayName() string                { return displayName(w.u) }
func (w *waUser) WebAuthnCredentials() []webauthn.Credential { return w.creds }

func displayName(u *store.User) string {
	if u.DisplayName != "" {
		return u.DisplayName
	}
	return u.UserName
}

// ErrNoRelyingParty: WebAuthn is unavailable because the base URL's host
// is not a domain (an IP address cannot be an RP ID, W3C WebAuthn §5.1.1
// and the HTML "valid domain"); use a host name such as localhost.
var ErrNoRelyingParty = errors.New("webauthn needs a base URL with a domain name")

// WebAuthnAvailable reports whether the base URL allows WebAuthn.
func (s *Service) WebAuthnAvailable() bool {
	_, err := s.relyingParty()
	return err == nil
}

// relyingParty returns the library configured for BaseURL.
func (s *Service) relyingParty() (*webauthn.WebAuthn, error) {
	u, err := url.Parse(s.BaseURL)
	if err != nil || u.Hostname() == "" || net.ParseIP(u.Hostname()) != nil {
		return nil, ErrNoRelyingParty
	}
	return webauthn.New(&webauthn.Config{
		RPID: u.Hostname(), RPDisplayName: "Gatehouse", RPOrigins: []string{u.Scheme + "://" + u.Host},
		// The library would date and check the lifetime on the wall
		// clock; ceremony and openCeremony do it on s.Now instead.
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Timeout: ceremonyLifetime, TimeoutUVD: ceremonyLifetime},
			Registration: webauthn.TimeoutConfig{Timeout: ceremonyLifetime, TimeoutUVD: ceremonyLifetime},
		},
	})
}

// loadUser returns the user with their WebAuthn credentials, read in tx.
func (s *Service) loadUser(ctx context.Context, tx store.Tx, userID string) (*waUser, error) {
	u, err := tx.GetUser(ctx, userID)
	if err != nil {
		return nil, err
	}
	ds, err := tx.ListMFADevices(ctx, userID)
	if err != nil {
		return nil, err
	}
	w := &waUser{u: u}
	for _, d := range ds {
		if d.Type != TypeWebAuthn {
			continue
		}
		b, err := s.Keys.Open(keyring.PurposeSecrets, string(d.Sealed), sealAD(userID))
		if err != nil {
			return nil, fmt.Errorf("open webauthn credential of device %q: %w", d.ID, err)
		}
		var c webauthn.Credential
		if err := json.Unmarshal(b, &c); err != nil {
			return nil, fmt.Errorf("decode webauthn credential of device %q: %w", d.ID, err)
		}
		w.creds = append(w.creds, c)
		w.devs = append(w.devs, d)
	}
	return w, nil
}

// sealCeremony seals the ceremony state for the page.
func (s *Service) sealCeremony(sd *webauthn.SessionData) (string, error) {
	b, err := json.Marshal(sd)
	if err != nil {
		return "", err
	}
	return s.Keys.Seal(keyring.PurposeSecrets, b, ceremonyAD)
}

// openCeremony opens a sealed ceremony state and spends its challenge:
// an answer to a challenge already answered is ErrWebAuthn.
func (s *Service) openCeremony(ctx context.Context, sealed string) (*webauthn.SessionData, error) {
	if sealed == "" || len(sealed) > 8192 {
		return nil, ErrWebAuthn
	}
	b, err := s.Keys.Open(keyring.PurposeSecrets, sealed, ceremonyAD)
	if err != nil {
		return nil, ErrWebAuthn
	}
	var sd webauthn.SessionData
	if err := json.Unmarshal(b, &sd); err != nil || !s.Now().Before(sd.Expires) {
		return nil, ErrWebAuthn
	}
	h := sha256.Sum256([]byte("gatehouse/mfa/webauthn-challenge\x00" + sd.Challenge))
	if err := s.Store.PutUseMarker(ctx, fmt.Sprintf("webauthn:challenge:%x", h), sd.Expires); errors.Is(err, store.ErrConflict) {
		return nil, ErrWebAuthn
	} else if err != nil {
		return nil, err
	}
	sd.Expires = time.Time{} // checked here, on s.Now: the library would check it again on the wall clock
	return &sd, nil
}

// Ceremony is a started WebAuthn ceremony: Options go to the browser's
// navigator.credentials.create or .get (as JSON), State comes back with
// the answer.
type Ceremony struct {
	Options json.RawMessage
	State   string
}

// ceremony seals sd, expiring ceremonyLifetime from now on the service's
// clock, with the browser's options.
func (s *Service) ceremony(opts any, sd *webauthn.SessionData) (*Ceremony, error) {
	sd.Expires = s.Now().Add(ceremonyLifetime)
	b, err := json.Marshal(opts)
	if err != nil {
		return nil, err
	}
	st, err := s.sealCeremony(sd)
	if err != nil {
		return nil, err
	}
	return &Ceremony{Options: b, State: st}, nil
}

// BeginRegistration starts registering a security key or passkey for the
// user: a discoverable credential is preferred (a passkey, usable for
// passwordless sign-in), the user's existing ones are excluded, and no
// attestation is asked for (Gatehouse trusts no vendor list).
func (s *Service) BeginRegistration(ctx context.Context, userID string) (*Ceremony, error) {
	rp, err := s.relyingParty()
	if err != nil {
		return nil, err
	}
	var w *waUser
	if err := s.Store.Update(ctx, func(tx store.Tx) (err error) { w, err = s.loadUser(ctx, tx, userID); return err }); err != nil {
		return nil, fmt.Errorf("begin webauthn registration: %w", err)
	}
	var exclude []protocol.CredentialDescriptor
	for i := range w.creds {
		exclude = append(exclude, w.creds[i].Descriptor())
	}
	opts, sd, err := rp.BeginRegistration(w,
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementPreferred),
		webauthn.WithConveyancePreference(protocol.PreferNoAttestation),
		webauthn.WithExclusions(exclude))
	if err != nil {
		return nil, fmt.Errorf("begin webauthn registration: %w", err)
	}
	return s.ceremony(opts, sd)
}

// FinishRegistration checks the browser's answer (the
// PublicKeyCredential as JSON) to the ceremony sealed in state and stores
// the credential, sealed, as a TypeWebAuthn device named name. A user
// with MaxWebAuthnDevices already is ErrTooManyDevices.
func (s *Service) FinishRegistration(ctx context.Context, userID, name, state string, answer []byte) (*store.MFADevice, error) {
	return s.finishRegistration(ctx, userID, name, state, answer, false)
}

// FinishFirstRegistration is FinishRegistration for a user who must have
// no device yet (registration at sign-in, which only the password
// allowed): one found in the same transaction is ErrHasDevice.
func (s *Service) FinishFirstRegistration(ctx context.Context, userID, name, state string, answer []byte) (*store.MFADevice, error) {
	return s.finishRegistration(ctx, userID, name, state, answer, true)
}

func (s *Service) finishRegistration(ctx context.Context, userID, name, state string, answer []byte, first bool) (*store.MFADevice, error) {
	rp, err := s.relyingParty()
	if err != nil {
		return nil, err
	}
	sd, err := s.openCeremony(ctx, state)
	if err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(answer)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrWebAuthn, err)
	}
	if name == "" {
		name = "Security key or passkey"
	}
	now := s.Now().UTC()
	d := &store.MFADevice{ID: s.IDs.UUID(), UserID: userID, Type: TypeWebAuthn, Name: name, CreatedAt: now, LastUsedAt: now}
	err = s.Store.Update(ctx, func(tx store.Tx) error {
		w, err := s.loadUser(ctx, tx, userID)
		if err != nil {
			return err
		}
		c, err := rp.CreateCredential(w, *sd, parsed)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrWebAuthn, err)
		}
		if err := checkLimit(ctx, tx, userID, TypeWebAuthn, first); err != nil {
			return err
		}
		b, err := json.Marshal(c)
		if err != nil {
			return err
		}
		sealed, err := s.Keys.Seal(keyring.PurposeSecrets, b, sealAD(userID))
		if err != nil {
			return err
		}
		d.Sealed = []byte(sealed)
		if err := tx.CreateMFADevice(ctx, d); err != nil {
			return err
		}
		return s.Audit.Record(ctx, tx, audit.Entry{
			Source: audit.SourceSSO, Name: "CreateMfaDeviceForUser",
			Params:   map[string]any{"userId": userID, "deviceType": TypeWebAuthn, "discoverable": c.Flags.BackupEligible || parsed.Response.AttestationObject.AuthData.Flags.HasUserVerified()},
			Response: map[string]string{"deviceId": d.ID},
		})
	})
	if errors.Is(err, ErrWebAuthn) || errors.Is(err, ErrTooManyDevices) || errors.Is(err, ErrHasDevice) {
		return nil, err
	} else if err != nil {
		return nil, fmt.Errorf("store webauthn device of user %q: %w", userID, err)
	}
	s.notify(ctx, userID, "Security key or passkey added", "A security key or passkey was registered for your Gatehouse sign-in. You can remove it on My sessions and devices (/account), or an administrator can reset your MFA devices.")
	return d, nil
}

// BeginLogin starts an assertion: for the user's own credentials when
// userID is set (the second step of a sign-in), or for any discoverable
// credential when "" (passwordless sign-in with a passkey, which must
// verify the user).
func (s *Service) BeginLogin(ctx context.Context, userID string) (*Ceremony, error) {
	rp, err := s.relyingParty()
	if err != nil {
		return nil, err
	}
	if userID == "" {
		opts, sd, err := rp.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
		if err != nil {
			return nil, fmt.Errorf("begin passkey sign-in: %w", err)
		}
		return s.ceremony(opts, sd)
	}
	var w *waUser
	if err := s.Store.Update(ctx, func(tx store.Tx) (err error) { w, err = s.loadUser(ctx, tx, userID); return err }); err != nil {
		return nil, fmt.Errorf("begin webauthn sign-in: %w", err)
	}
	if len(w.creds) == 0 {
		return nil, ErrWebAuthn
	}
	opts, sd, err := rp.BeginLogin(w, webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return nil, fmt.Errorf("begin webauthn sign-in: %w", err)
	}
	return s.ceremony(opts, sd)
}

// FinishLogin checks an assertion (the PublicKeyCredential as JSON) for
// the ceremony sealed in state and returns the user it proves: userID's
// when set, else the passkey's owner (a disabled user is refused). The
// credential's signature counter moves forward in the same transaction;
// a counter that did not grow (a cloned authenticator, W3C WebAuthn
// §6.1.1) is refused and logged.
func (s *Service) FinishLogin(ctx context.Context, userID, state string, answer []byte) (*store.User, error) {
	rp, err := s.relyingParty()
	if err != nil {
		return nil, err
	}
	sd, err := s.openCeremony(ctx, state)
	if err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(answer)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrWebAuthn, err)
	}
	if userID == "" {
		userID = string(parsed.Response.UserHandle)
		if userID == "" || len(userID) > 128 {
			return nil, ErrWebAuthn
		}
	}
	now := s.Now().UTC()
	var found *store.User
	cloned := false
	err = s.Store.Update(ctx, func(tx store.Tx) error {
		found, cloned = nil, false
		w, err := s.loadUser(ctx, tx, userID)
		if errors.Is(err, store.ErrNotFound) {
			return ErrWebAuthn
		} else if err != nil {
			return err
		}
		if w.u.Disabled {
			return ErrWebAuthn
		}
		var c *webauthn.Credential
		if len(sd.UserID) == 0 {
			_, c, err = rp.ValidatePasskeyLogin(func(_, handle []byte) (webauthn.User, error) {
				if string(handle) != w.u.ID {
					return nil, ErrWebAuthn
				}
				return w, nil
			}, *sd, parsed)
		} else {
			c, err = rp.ValidateLogin(w, *sd, parsed)
		}
		if err != nil {
			return fmt.Errorf("%w: %v", ErrWebAuthn, err)
		}
		if c.Authenticator.CloneWarning {
			cloned = true
			return ErrWebAuthn
		}
		for i := range w.creds {
			if string(w.creds[i].ID) != string(c.ID) {
				continue
			}
			b, err := json.Marshal(c)
			if err != nil {
				return err
			}
			sealed, err := s.Keys.Seal(keyring.PurposeSecrets, b, sealAD(userID))
			if err != nil {
				return err
			}
			d := w.devs[i]
			d.Sealed, d.LastUsedAt = []byte(sealed), now
			if err := tx.UpdateMFADevice(ctx, &d); err != nil {
				return err
			}
			found = w.u
			return nil
		}
		return ErrWebAuthn
	})
	if cloned && s.Log != nil {
		s.Log.Warn("webauthn sign-in refused: signature counter did not grow (cloned authenticator?)", "user_id", userID)
	}
	if errors.Is(err, ErrWebAuthn) {
		return nil, err
	} else if err != nil {
		return nil, fmt.Errorf("finish webauthn sign-in: %w", err)
	}
	return found, nil
}
