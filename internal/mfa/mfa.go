package mfa

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/keyring"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// Device types (store.MFADevice Type).
const (
	// TypeTOTP is a TOTP authenticator app.
	TypeTOTP = "TOTP"
	// TypeWebAuthn is a security key or passkey.
	TypeWebAuthn = "WEBAUTHN"
)

// ErrInvalidCode is returned for a code that is wrong, outside the time
// window, or already used.
var ErrInvalidCode = errors.New("invalid authentication code")

// Service enrols and verifies a user's TOTP authenticators.
type Service struct {
	Store store.Store
	Keys  *keyring.Ring
	Audit *audit.Recorder
	IDs   arn.Generator
	Now   func() time.Time
	Rand  io.Reader
	// Issuer names the service in authenticator apps ("Gatehouse").
	Issuer string
	// BaseURL is the public URL (no trailing slash): the WebAuthn origin,
	// its host the RP ID.
	BaseURL string
	// Notify sends a user a security notice (a device added or removed);
	// body is the notice's own paragraph: Notify adds the greeting and the
	// "If this was not you" line (invite.Service.Notify);
	// nil sends none. Its failure is logged, never returned: the change
	// is made.
	Notify func(ctx context.Context, userID, subject, body string) error
	Log    *slog.Logger
}

// notify sends a security notice through Notify, when set.
func (s *Service) notify(ctx context.Context, userID, subject, body string) {
	if s.Notify == nil {
		return
	}
	if err := s.Notify(context.WithoutCancel(ctx), userID, subject, body); err != nil && s.Log != nil {
		s.Log.Warn("security notice not sent", "user_id", userID, "subject", subject, "err", err)
	}
}

// Seed is a TOTP secret. Its LogValue and String never show it.
type Seed []byte

// String hides the seed from fmt.
func (Seed) String() string { return "REDACTED" }

// GoString hides the seed from %#v.
func (Seed) GoString() string { return "REDACTED" }

// Enrolment is a new, unconfirmed authenticator: show URI and Secret, then
// confirm it with a code through Confirm.
type Enrolment struct {
	Seed Seed
	// Secret is the seed in base32, for typing into an app.
	Secret string
	// URI is the otpauth:// URI.
	URI string
	// QR is URI as a QR code (QRDataURI); "" when it could not be made.
	QR string
	// Key is Secret in blocks of 4 characters (GroupKey).
	Key string
}

// NewEnrolment generates a fresh 20-byte seed for a user.
func (s *Service) NewEnrolment(userName string) (*Enrolment, error) {
	seed := make([]byte, SeedSize)
	if _, err := io.ReadFull(s.Rand, seed); err != nil {
		return nil, fmt.Errorf("generate totp seed: %w", err)
	}
	return s.Enrolment(userName, seed), nil
}

// Enrolment describes an existing seed (for showing it again while the
// person confirms).
func (s *Service) Enrolment(userName string, seed []byte) *Enrolment {
	issuer := s.Issuer
	if issuer == "" {
		issuer = "Gatehouse"
	}
	e := &Enrolment{Seed: Seed(seed), Secret: EncodeSeed(seed), URI: URI(issuer, userName, seed)}
	e.Key = GroupKey(e.Secret)
	e.QR, _ = QRDataURI(e.URI) // only a URI too long for any QR code fails
	return e
}

// sealAD binds a sealed seed to its user, so that a sealed value cannot be
// moved to another user's device record.
func sealAD(userID string) []byte { return []byte("gatehouse/totp-seed/v1:" + userID) }

// Device limits per user, as AWS has them: up to 2 authenticator apps
// and 6 FIDO devices (security keys and passkeys) (AWS docs, "MFA in IAM
// Identity Center").
const (
	MaxTOTPDevices     = 2
	MaxWebAuthnDevices = 6
)

// Errors of enrolment.
var (
	// ErrTooManyDevices: the user has the most devices of that type.
	ErrTooManyDevices = errors.New("too many mfa devices of this type")
	// ErrHasDevice: a first device was to be registered (at sign-in, with
	// the password alone) but the user has one already.
	ErrHasDevice = errors.New("user already has an mfa device")
)

// Confirm checks code against the enrolment's seed and, if it matches,
// stores the authenticator (seed sealed) for the user, with the matched
// step recorded so the same code cannot then sign in. A user with
// MaxTOTPDevices already is ErrTooManyDevices.
func (s *Service) Confirm(ctx context.Context, userID, name string, seed []byte, code string) (*store.MFADevice, error) {
	return s.confirm(ctx, userID, name, seed, code, false)
}

// ConfirmFirst is Confirm for a user who must have no device yet (the
// registration at sign-in, which only the password allowed): one found in
// the same transaction is ErrHasDevice.
func (s *Service) ConfirmFirst(ctx context.Context, userID, name string, seed []byte, code string) (*store.MFADevice, error) {
	return s.confirm(ctx, userID, name, seed, code, true)
}

// checkLimit refuses a new device of typ for the user in tx: any device
// when first, else one beyond the type's limit.
func checkLimit(ctx context.Context, tx store.Tx, userID, typ string, first bool) error {
	ds, err := tx.ListMFADevices(ctx, userID)
	if err != nil {
		return err
	}
	if first && len(ds) > 0 {
		return ErrHasDevice
	}
	n := 0
	for _, d := range ds {
		if d.Type == typ {
			n++
		}
	}
	limit := MaxTOTPDevices
	if typ == TypeWebAuthn {
		limit = MaxWebAuthnDevices
	}
	if n >= limit {
		return ErrTooManyDevices
	}
	return nil
}

func (s *Service) confirm(ctx context.Context, userID, name string, seed []byte, code string, first bool) (*store.MFADevice, error) {
	now := s.Now().UTC()
	step, ok := Match(seed, code, now, 0)
	if !ok {
		return nil, ErrInvalidCode
	}
	sealed, err := s.Keys.Seal(keyring.PurposeSecrets, seed, sealAD(userID))
	if err != nil {
		return nil, fmt.Errorf("seal totp seed: %w", err)
	}
	if name == "" {
		name = "Authenticator app"
	}
	d := &store.MFADevice{
		ID: s.IDs.UUID(), UserID: userID, Type: TypeTOTP, Name: name,
		Sealed: []byte(sealed), LastStep: step, CreatedAt: now, LastUsedAt: now,
	}
	err = s.Store.Update(ctx, func(tx store.Tx) error {
		if err := checkLimit(ctx, tx, userID, TypeTOTP, first); err != nil {
			return err
		}
		if err := tx.CreateMFADevice(ctx, d); err != nil {
			return err
		}
		return s.Audit.Record(ctx, tx, audit.Entry{
			Source: audit.SourceSSO, Name: "CreateMfaDeviceForUser",
			Params:   map[string]string{"userId": userID, "deviceType": TypeTOTP},
			Response: map[string]string{"deviceId": d.ID},
		})
	})
	if errors.Is(err, ErrTooManyDevices) || errors.Is(err, ErrHasDevice) {
		return nil, err
	} else if err != nil {
		return nil, fmt.Errorf("store totp device of user %q: %w", userID, err)
	}
	s.notify(ctx, userID, "Authenticator app added", "An authenticator app was registered for your Gatehouse sign-in. You can remove it on My sessions and devices (/account), or an administrator can reset your MFA devices.")
	return d, nil
}

// HasTOTP reports whether the user has a TOTP authenticator, and so must
// give a code to sign in.
func (s *Service) HasTOTP(ctx context.Context, userID string) (bool, error) {
	ds, err := s.Store.ListMFADevices(ctx, userID)
	if err != nil {
		return false, fmt.Errorf("list mfa devices of user %q: %w", userID, err)
	}
	for _, d := range ds {
		if d.Type == TypeTOTP {
			return true, nil
		}
	}
	return false, nil
}

// Verify checks a sign-in code against the user's TOTP authenticators. The
// device's last used step moves forward in the same transaction, so a code
// is accepted at most once (RFC 6238 §5.2), even by concurrent requests.
func (s *Service) Verify(ctx context.Context, userID, code string) error {
	now := s.Now().UTC()
	matched := false
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		matched = false
		ds, err := tx.ListMFADevices(ctx, userID)
		if err != nil {
			return err
		}
		for i := range ds {
			d := &ds[i]
			if d.Type != TypeTOTP {
				continue
			}
			seed, err := s.Keys.Open(keyring.PurposeSecrets, string(d.Sealed), sealAD(userID))
			if err != nil {
				return fmt.Errorf("open totp seed of device %q: %w", d.ID, err)
			}
			step, ok := Match(seed, code, now, d.LastStep)
			clear(seed)
			if !ok {
				continue
			}
			d.LastStep = step
			d.LastUsedAt = now
			matched = true
			return tx.UpdateMFADevice(ctx, d)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("verify totp of user %q: %w", userID, err)
	}
	if !matched {
		return ErrInvalidCode
	}
	return nil
}

// Devices lists the user's MFA devices, oldest first as the store keeps
// them.
func (s *Service) Devices(ctx context.Context, userID string) ([]store.MFADevice, error) {
	ds, err := s.Store.ListMFADevices(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("list mfa devices of user %q: %w", userID, err)
	}
	return ds, nil
}

// ErrLastDevice refuses removing the last MFA device while the MFA policy
// requires one: the next sign-in would register a new device with the
// password alone.
var ErrLastDevice = &fault.Error{Kind: fault.Conflict,
	Message: "This is your last MFA device and your administrator requires one: register another device first, then remove this one."}

// Remove deletes one of the user's MFA devices, audited, and sends a
// security notice. The caller checks that the person is freshly signed in
// (signin.Service.Fresh). An unknown device is store.ErrNotFound; with
// keepOne (the MFA policy requires a device), removing the last one is
// ErrLastDevice.
func (s *Service) Remove(ctx context.Context, userID, deviceID string, keepOne bool) error {
	var typ string
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		ds, err := tx.ListMFADevices(ctx, userID)
		if err != nil {
			return err
		}
		if keepOne && len(ds) == 1 && ds[0].ID == deviceID {
			return ErrLastDevice
		}
		typ = ""
		for _, d := range ds {
			if d.ID == deviceID {
				typ = d.Type
			}
		}
		if typ == "" {
			return store.ErrNotFound
		}
		if err := tx.DeleteMFADevice(ctx, userID, deviceID); err != nil {
			return err
		}
		return s.Audit.Record(ctx, tx, audit.Entry{
			Source: audit.SourceSSO, Name: "DeleteMfaDeviceForUser",
			Params: map[string]string{"userId": userID, "deviceId": deviceID, "deviceType": typ},
		})
	})
	if err != nil {
		return fmt.Errorf("remove mfa device %q of user %q: %w", deviceID, userID, err)
	}
	s.notify(ctx, userID, "MFA device removed", "An MFA device was removed from your Gatehouse sign-in. Whoever removed it knew your password: your administrator can reset it and your MFA devices.")
	return nil
}

// DeleteDevices deletes every MFA device (authenticator apps, security
// keys, passkeys) of the user in tx and returns how many there were. A
// device deleted meanwhile (store.ErrNotFound) counts as deleted. It
// neither audits nor notifies: its callers do (ResetUser,
// people.Service.ResetMFA).
func DeleteDevices(ctx context.Context, tx store.Tx, userID string) (int, error) {
	ds, err := tx.ListMFADevices(ctx, userID)
	if err != nil {
		return 0, fmt.Errorf("list MFA devices: %w", err)
	}
	for _, d := range ds {
		if err := tx.DeleteMFADevice(ctx, userID, d.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return 0, fmt.Errorf("delete MFA device %s: %w", d.ID, err)
		}
	}
	return len(ds), nil
}

// ResetUser deletes every MFA device of the user (DeleteDevices), audited
// as ResetMfaDevicesForUser, and sends the user a notice when there were
// any: at the next sign-in the user registers a new one (when the MFA
// policy requires one). It does not end the user's sessions; the
// administrator's action that does is people.Service.ResetMFA.
func (s *Service) ResetUser(ctx context.Context, userID string) error {
	n := 0
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		var err error
		if n, err = DeleteDevices(ctx, tx, userID); err != nil {
			return err
		}
		return s.Audit.Record(ctx, tx, audit.Entry{
			Source: audit.SourceSSO, Name: "ResetMfaDevicesForUser",
			Params:   map[string]string{"userId": userID},
			Response: map[string]int{"devicesRemoved": n},
		})
	})
	if err != nil {
		return fmt.Errorf("reset mfa devices of user %q: %w", userID, err)
	}
	if n > 0 {
		s.notify(ctx, userID, "MFA devices reset", "An administrator removed all MFA devices from your Gatehouse sign-in. You will register a new one at your next sign-in.")
	}
	return nil
}

// Kinds reports which kinds of device the user has: authenticator apps
// (totp) and security keys or passkeys (key).
func (s *Service) Kinds(ctx context.Context, userID string) (totp, key bool, err error) {
	ds, err := s.Devices(ctx, userID)
	if err != nil {
		return false, false, err
	}
	for _, d := range ds {
		totp = totp || d.Type == TypeTOTP
		key = key || d.Type == TypeWebAuthn
	}
	return totp, key, nil
}
