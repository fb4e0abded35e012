package signin

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/keyring"
	"github.com/gatehouse-dev/gatehouse/internal/mfa"
	"github.com/gatehouse-dev/gatehouse/internal/settings"
	"github.com/gatehouse-dev/gatehouse/internal/source"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// Service checks sign-in attempts under the limits and starts portal
// sessions. Set its fields, then use it from any number of goroutines.
type Service struct {
	Store     store.Store
	Keys      *keyring.Ring
	Audit     *audit.Recorder
	Directory *directory.Service
	MFA       *mfa.Service
	Now       func() time.Time
	Rand      io.Reader
	Log       *slog.Logger
	// Limits are the attempt limits; zero fields take DefaultLimits.
	Limits Limits
	// Settings says the MFA policy and the portal session length; nil
	// means PolicyOff with SessionDuration as the length.
	Settings *settings.Service
	// SessionDuration is how long a portal session lasts when Settings is
	// nil (default 8 h).
	SessionDuration time.Duration
	// Passwords checks passwords against the active identity source
	// (idsource.Service: the stored hash, an LDAP bind, or none when people
	// sign in at an external identity provider); nil means the built-in
	// directory's stored hash (Directory.Authenticate).
	Passwords Passwords

	once   sync.Once
	limits Limits
	// gate bounds the password hashes; deviceGate those of attempts with
	// the named user's valid known-device cookie.
	gate, deviceGate *gate
	// busyLog and addressLog log the refusals a flood repeats (busy, and
	// throttled by the address counter) once a second.
	busyLog, addressLog quietLog
}

// Passwords checks passwords for the active identity source.
type Passwords interface {
	// Authenticate returns the enabled user whose name and password
	// match, or directory.ErrBadCredentials.
	Authenticate(ctx context.Context, userName, password string) (*store.User, error)
	// ManagesPasswords reports whether the built-in directory is the
	// active source: only then may a passkey replace the password.
	ManagesPasswords(ctx context.Context) (bool, error)
}

// Errors of an attempt. ThrottledError and BusyError say when to come back.
var (
	// ErrBadCredentials: the user name and password do not match an
	// enabled user (or the user of a sign-in in progress is gone).
	ErrBadCredentials = errors.New("incorrect user name or password")
	// ErrBadCode: the TOTP code is wrong or was used already.
	ErrBadCode = errors.New("incorrect or reused authentication code")
	// ErrStateUsed: the sealed sign-in state was already used to finish a
	// sign-in, or was spent by failing past the limit.
	ErrStateUsed = errors.New("sign-in state already used")
)

// ThrottledError refuses an attempt because a limit is reached.
type ThrottledError struct {
	// RetryAfter is how long until the next attempt is allowed (at least
	// one second).
	RetryAfter time.Duration
	// Bucket names the limit: "user-source", "user", "device" or
	// "address".
	Bucket string
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("sign-in throttled (%s) for %s", e.Bucket, e.RetryAfter)
}

// BusyError refuses an attempt because too many password checks are
// running; nothing was counted.
type BusyError struct{ RetryAfter time.Duration }

func (e *BusyError) Error() string { return "too many sign-ins at once" }

// hiddenUserName stands for a user name that matches no user in audit
// events, as CloudTrail does, since people sometimes type their password
// into the user-name field.
const hiddenUserName = "HIDDEN_DUE_TO_SECURITY_REASONS"

// Attempt is what a sign-in request says about itself.
type Attempt struct {
	// UserName is the user name as typed.
	UserName  string
	SourceIP  string
	UserAgent string
	// Device is the known-device cookie's value, "" when there is none.
	Device string
}

// PasswordResult is a matched password.
type PasswordResult struct {
	User *store.User
	// NeedsMFA says the user must pass the TOTP step before a session
	// starts.
	NeedsMFA bool
	// MustEnrol says MFA is required and the user has no authenticator:
	// they register one (Enrol) before a session starts.
	MustEnrol bool
	// Verified is the passed step, for Start when no other step follows.
	Verified *Verified
}

// Verified is a sign-in whose steps passed, ready for Start.
type Verified struct {
	User *store.User
	// MFA says a second factor was checked.
	MFA bool
	// marks are the user's counters' counts right after this sign-in's
	// last reservation, by key: Start forgets a counter only when no other
	// attempt was counted since.
	marks map[string]int
}

// verified returns the Verified of u after reserving states in bs.
func verified(u *store.User, withMFA bool, bs []bucket, states []store.Attempts) *Verified {
	v := &Verified{User: u, MFA: withMFA, marks: map[string]int{}}
	for i, b := range bs {
		if !b.refund {
			v.marks[b.key] = states[i].Count
		}
	}
	return v
}

func (s *Service) init() {
	s.once.Do(func() {
		s.limits = s.Limits.withDefaults()
		l := s.limits
		s.gate = newGate(l.HashConcurrency, l.HashQueue, l.HashPerSource, 0, l.HashWait)
		// One place per user at the known-device gate: a person signs in
		// once at a time, and the cookie proves whose attempt it is.
		s.deviceGate = newGate(l.DeviceHashConcurrency, 2*l.DeviceHashConcurrency, l.HashPerSource, 1, l.HashWait)
	})
}

func (s *Service) now() time.Time { return s.Now().UTC() }

func (s *Service) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

// Password checks a user name and password. The attempt is reserved in
// every counter first (the address's first of all), before the hash and
// its concurrency bound, so that a source flooding with unknown user names
// is throttled by its counter without taking a place at the gate. The hash
// runs under the concurrency bound, in a gate of its own when the attempt
// carries the named user's valid known-device cookie; an unknown user name
// costs the same hash as a known one.
func (s *Service) Password(ctx context.Context, a Attempt, password string) (*PasswordResult, error) {
	s.init()
	known, err := s.lookup(ctx, a.UserName)
	if err != nil {
		return nil, err
	}
	var dev *device
	if known != nil {
		dev = s.openDevice(a.Device, known.ID)
	}
	bs := s.buckets(a.UserName, a.SourceIP, dev)
	states, err := s.reserve(ctx, bs)
	if err != nil {
		return nil, s.refused(ctx, a, known, "CredentialVerification", err)
	}
	// The main gate is entered without a user: anyone can type a user
	// name, so a cap per user there would let a stranger block the user.
	// The known-device gate caps its places per user, whom the cookie
	// proves.
	g, gateUser := s.gate, ""
	if dev != nil {
		g, gateUser = s.deviceGate, known.ID
	}
	release, err := g.enter(ctx, source.Key(a.SourceIP), gateUser)
	if err != nil {
		// Nothing was checked: the user's counters forget the attempt, the
		// address's keeps it, so that a source refused as busy again and
		// again reaches its address limit.
		if rerr := s.uncount(context.WithoutCancel(ctx), bs); rerr != nil {
			return nil, rerr
		}
		if _, ok := errors.AsType[*BusyError](err); ok {
			s.busyLog.note(s, "sign-in refused: too many at once", a.SourceIP)
		}
		return nil, err
	}
	var u *store.User
	if s.Passwords != nil {
		u, err = s.Passwords.Authenticate(ctx, a.UserName, password)
	} else {
		u, err = s.Directory.Authenticate(ctx, a.UserName, password)
	}
	release()
	if errors.Is(err, directory.ErrBadCredentials) {
		return nil, s.failed(ctx, a, known, "CredentialVerification", "InvalidCredentials", "Incorrect user name or password", ErrBadCredentials, bs, states)
	} else if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	uctx := withIdentity(ctx, u)
	// The password step passed. Its attempt stays counted in the user's
	// counters until the whole sign-in completes (Start resets them): a
	// refund here would free a place mid-burst for another attempt to
	// reserve, so that more than the limit could reach the hash, and a
	// right password followed by a failed second step would forget the
	// failures before it. Only the shared address counter, which Start
	// does not reset, takes the success back.
	err = s.Store.Update(uctx, func(tx store.Tx) error {
		if err := s.refund(uctx, tx, bs); err != nil {
			return err
		}
		return s.Audit.Record(uctx, tx, audit.Entry{
			Source: audit.SourceSignIn, Name: "CredentialVerification", Type: "AwsServiceEvent",
			Params: map[string]string{"userName": u.UserName}, Response: map[string]string{"result": "Success"},
		})
	})
	if err != nil {
		return nil, fmt.Errorf("record credential verification: %w", err)
	}
	hasTOTP, hasKey, err := s.MFA.Kinds(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	set, err := s.settings(ctx)
	if err != nil {
		return nil, err
	}
	res := &PasswordResult{User: u, Verified: verified(u, false, bs, states)}
	switch required := mfaRequired(set.MFAPolicy, dev != nil); {
	case (hasTOTP || hasKey) && (required || set.MFAPolicy == settings.PolicyOff):
		res.NeedsMFA = true
	case required:
		res.MustEnrol = true
	}
	return res, nil
}

// mfaRequired says whether policy requires a second factor of a sign-in
// from a browser with (knownDevice) or without the user's valid
// known-device cookie.
func mfaRequired(policy string, knownDevice bool) bool {
	switch policy {
	case settings.PolicyOff:
		return false
	case settings.PolicyNewBrowser:
		return !knownDevice
	}
	return true
}

// Code checks the TOTP step of a sign-in whose password matched userID.
// state is the sealed state the step came with: once spent (by a finished
// sign-in or by failing past a limit) it is refused.
func (s *Service) Code(ctx context.Context, a Attempt, userID, code, state string, stateExpires time.Time) (*Verified, error) {
	return s.second(ctx, a, userID, state, stateExpires, func(u *store.User) error {
		return s.MFA.Verify(ctx, u.ID, code)
	})
}

// Enrol registers the user's first authenticator app at sign-in, when the
// password step said MustEnrol: code must match seed (the key the page
// showed). It counts under the limits like Code. A user who has an
// authenticator by now is refused (mfa.ErrHasDevice): the password alone
// may register only the first. The code used here cannot sign in again.
func (s *Service) Enrol(ctx context.Context, a Attempt, userID string, seed []byte, code, state string, stateExpires time.Time) (*Verified, error) {
	return s.second(ctx, a, userID, state, stateExpires, func(u *store.User) error {
		_, err := s.MFA.ConfirmFirst(withIdentity(ctx, u), u.ID, "", seed, code)
		return err
	})
}

// EnrolKey is Enrol with a security key or passkey: answer is the
// browser's answer to the registration ceremony sealed in keyState.
func (s *Service) EnrolKey(ctx context.Context, a Attempt, userID, keyState string, answer []byte, state string, stateExpires time.Time) (*Verified, error) {
	return s.second(ctx, a, userID, state, stateExpires, func(u *store.User) error {
		_, err := s.MFA.FinishFirstRegistration(withIdentity(ctx, u), u.ID, "", keyState, answer)
		if errors.Is(err, mfa.ErrWebAuthn) {
			return mfa.ErrInvalidCode
		}
		return err
	})
}

// Key checks the second step of a sign-in whose password matched userID
// with a security key or passkey: answer is the browser's
// PublicKeyCredential (JSON) for the ceremony sealed in keyState. It counts
// under the limits like Code.
func (s *Service) Key(ctx context.Context, a Attempt, userID, keyState string, answer []byte, state string, stateExpires time.Time) (*Verified, error) {
	return s.second(ctx, a, userID, state, stateExpires, func(u *store.User) error {
		return keyCheck(s.MFA.FinishLogin(ctx, u.ID, keyState, answer))
	})
}

// keyCheck maps a refused WebAuthn ceremony to a wrong code, so that it
// counts as a failed attempt.
func keyCheck(_ *store.User, err error) error {
	if errors.Is(err, mfa.ErrWebAuthn) {
		return mfa.ErrInvalidCode
	}
	return err
}

// ErrPasskeyOff: the MFA policy is "off", where passkeys do not replace
// the password.
var ErrPasskeyOff = errors.New("passkey sign-in is off")

// Passkey signs in without a user name or password with a passkey (a
// discoverable credential that verified its user): answer is the
// browser's PublicKeyCredential for the discoverable ceremony sealed in
// keyState. Allowed unless the MFA policy is "off". Before the check only
// the address's counter is known; a refused passkey counts there and is
// audited as a failure.
func (s *Service) Passkey(ctx context.Context, a Attempt, keyState string, answer []byte) (*Verified, error) {
	s.init()
	set, err := s.settings(ctx)
	if err != nil {
		return nil, err
	}
	if set.MFAPolicy == settings.PolicyOff {
		return nil, ErrPasskeyOff
	}
	if ok, err := s.managesPasswords(ctx); err != nil {
		return nil, err
	} else if !ok {
		return nil, ErrPasskeyOff
	}
	bs := s.buckets("", a.SourceIP, nil)[:1] // the address's
	states, err := s.reserve(ctx, bs)
	if err != nil {
		return nil, s.refused(ctx, a, nil, "UserAuthentication", err)
	}
	u, err := s.MFA.FinishLogin(ctx, "", keyState, answer)
	if errors.Is(err, mfa.ErrWebAuthn) {
		return nil, s.failed(ctx, a, nil, "UserAuthentication", "InvalidPasskey", "Passkey not accepted", ErrBadCode, bs, states)
	} else if err != nil {
		return nil, err
	}
	if err := s.Store.Update(ctx, func(tx store.Tx) error { return s.refund(ctx, tx, bs) }); err != nil {
		return nil, err
	}
	return &Verified{User: u, MFA: true}, nil
}

// second runs the second step of a sign-in whose password matched userID
// under the limits: check returns mfa.ErrInvalidCode for a wrong code.
func (s *Service) second(ctx context.Context, a Attempt, userID, state string, stateExpires time.Time, check func(u *store.User) error) (*Verified, error) {
	s.init()
	used := false
	if state != "" {
		var err error
		if used, err = s.Store.HasUseMarker(ctx, s.stateKey(state), s.now()); err != nil {
			return nil, err
		}
	}
	if used {
		s.log().Info("sign-in refused: sign-in state replayed", "source_ip", a.SourceIP)
		return nil, ErrStateUsed
	}
	u, err := s.Store.GetUser(ctx, userID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.Disabled) {
		return nil, ErrBadCredentials
	} else if err != nil {
		return nil, fmt.Errorf("get user: %w", err)
	}
	bs := s.buckets(a.UserName, a.SourceIP, s.openDevice(a.Device, u.ID))
	states, err := s.reserve(ctx, bs)
	if err != nil {
		if te, ok := errors.AsType[*ThrottledError](err); ok {
			return nil, s.spend(ctx, state, stateExpires, s.refused(ctx, a, u, "UserAuthentication", te))
		}
		return nil, err
	}
	err = check(u)
	if errors.Is(err, mfa.ErrInvalidCode) {
		err := s.failed(ctx, a, u, "UserAuthentication", "InvalidMFACode", "Incorrect or reused authentication code", ErrBadCode, bs, states)
		if _, ok := errors.AsType[*ThrottledError](err); ok {
			return nil, s.spend(ctx, state, stateExpires, err)
		}
		return nil, err
	} else if err != nil {
		return nil, err
	}
	if err := s.Store.Update(ctx, func(tx store.Tx) error { return s.refund(ctx, tx, bs) }); err != nil {
		return nil, err
	}
	return verified(u, true, bs, states), nil
}

// spend marks state used (when not "") and returns cause.
func (s *Service) spend(ctx context.Context, state string, expires time.Time, cause error) error {
	if state == "" {
		return cause
	}
	if err := s.Store.PutUseMarker(ctx, s.stateKey(state), expires); err != nil && !errors.Is(err, store.ErrConflict) {
		return err
	}
	return cause
}

// stateKey is the use-marker key of a sealed sign-in state.
func (s *Service) stateKey(state string) string {
	return "signin:state:" + s.Keys.Hash("gatehouse/signin/state\x00"+state)
}

// Session is a started portal session: the cookie values to set.
type Session struct {
	// Value is the session cookie's random value; the store holds its
	// keyed hash.
	Value     string
	ExpiresAt time.Time
	// Lifetime is the session's length (the instance settings' portal
	// session duration when it started).
	Lifetime time.Duration
	// Device is the known-device cookie's new value.
	Device string
}

// sessionBytes is the size of a session cookie's random value (160 bits).
const sessionBytes = 20

// sessionValue returns a new session cookie value: sessionBytes from
// s.Rand, base64url without padding (RFC 4648 §5).
func (s *Service) sessionValue() (string, error) {
	b := make([]byte, sessionBytes)
	if _, err := io.ReadFull(s.Rand, b); err != nil {
		return "", fmt.Errorf("session value: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// Start starts a portal session for u after a successful sign-in: in one
// transaction it creates the session, spends state (when the sign-in had a
// TOTP step), forgets the user's counted attempts (the steps' own
// included: they stay counted until here) unless other attempts overlapped
// it, and records the sign-in.
// A state already spent is ErrStateUsed and starts nothing.
func (s *Service) Start(ctx context.Context, a Attempt, v *Verified, state string, stateExpires time.Time) (*Session, error) {
	s.init()
	u, withMFA := v.User, v.MFA
	value, err := s.sessionValue()
	if err != nil {
		return nil, err
	}
	set, err := s.settings(ctx)
	if err != nil {
		return nil, err
	}
	dur := set.PortalSessionDuration
	now := s.now()
	sess := &store.Session{
		IDHash: s.Keys.Hash(value), UserID: u.ID, MFA: withMFA, AuthTime: now,
		SourceIP: a.SourceIP, UserAgent: truncate(a.UserAgent, 512),
		CreatedAt: now, ExpiresAt: now.Add(dur),
	}
	dev := s.openDevice(a.Device, u.ID)
	devValue, err := s.newDevice(u.ID, dev)
	if err != nil {
		return nil, fmt.Errorf("known-device token: %w", err)
	}
	uctx := withIdentity(ctx, u)
	err = s.Store.Update(uctx, func(tx store.Tx) error {
		if state != "" {
			if err := tx.PutUseMarker(uctx, s.stateKey(state), stateExpires); errors.Is(err, store.ErrConflict) {
				return ErrStateUsed
			} else if err != nil {
				return err
			}
		}
		if err := tx.CreateSession(uctx, sess); err != nil {
			return err
		}
		if err := s.forget(uctx, tx, a, v, dev, now); err != nil {
			return err
		}
		return s.Audit.Record(uctx, tx, audit.Entry{
			Source: audit.SourceSignIn, Name: "UserAuthentication", Type: "AwsServiceEvent",
			Params:   map[string]any{"userName": u.UserName, "mfaAuthenticated": withMFA},
			Response: map[string]string{"result": "Success"},
		})
	})
	if errors.Is(err, ErrStateUsed) {
		s.log().Info("sign-in refused: sign-in state replayed", "principal", u.UserName, "source_ip", a.SourceIP)
		return nil, err
	} else if err != nil {
		return nil, fmt.Errorf("start portal session: %w", err)
	}
	s.log().Info("sign-in succeeded", "principal", u.UserName, "source_ip", a.SourceIP, "mfa", withMFA, "known_device", dev != nil)
	return &Session{Value: value, ExpiresAt: sess.ExpiresAt, Lifetime: dur, Device: devValue}, nil
}

// External is a sign-in an external identity provider vouched for
// (idsource/saml, idsource/oidc).
type External struct {
	// Source names the identity source kind ("saml", "oidc") for the
	// audit event and the log.
	Source string
	// MFA says the provider reported a multi-factor sign-in.
	MFA bool
	// NotAfter caps the portal session (SAML's SessionNotOnOrAfter); zero
	// means the instance settings' session length alone.
	NotAfter time.Time
}

// StartExternal starts a portal session for u, whom an external identity
// provider has just signed in (and Provision has just written), and
// records the sign-in. The session lasts the settings' portal session
// length, cut to ext.NotAfter when that comes sooner; a NotAfter already
// past is ErrBadCredentials. A disabled user is ErrBadCredentials.
func (s *Service) StartExternal(ctx context.Context, a Attempt, u *store.User, ext External) (*Session, error) {
	s.init()
	if u.Disabled {
		return nil, ErrBadCredentials
	}
	value, err := s.sessionValue()
	if err != nil {
		return nil, err
	}
	set, err := s.settings(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	dur := set.PortalSessionDuration
	if !ext.NotAfter.IsZero() {
		if left := ext.NotAfter.Sub(now); left < dur {
			dur = left
		}
	}
	if dur <= 0 {
		return nil, ErrBadCredentials
	}
	sess := &store.Session{
		IDHash: s.Keys.Hash(value), UserID: u.ID, MFA: ext.MFA, AuthTime: now,
		SourceIP: a.SourceIP, UserAgent: truncate(a.UserAgent, 512),
		CreatedAt: now, ExpiresAt: now.Add(dur),
	}
	devValue, err := s.newDevice(u.ID, s.openDevice(a.Device, u.ID))
	if err != nil {
		return nil, fmt.Errorf("known-device token: %w", err)
	}
	uctx := withIdentity(ctx, u)
	err = s.Store.Update(uctx, func(tx store.Tx) error {
		if err := tx.CreateSession(uctx, sess); err != nil {
			return err
		}
		return s.Audit.Record(uctx, tx, audit.Entry{
			Source: audit.SourceSignIn, Name: "UserAuthentication", Type: "AwsServiceEvent",
			Params:   map[string]any{"userName": u.UserName, "mfaAuthenticated": ext.MFA, "identitySource": ext.Source},
			Response: map[string]string{"result": "Success"},
		})
	})
	if err != nil {
		return nil, fmt.Errorf("start portal session: %w", err)
	}
	s.log().Info("sign-in succeeded", "principal", u.UserName, "source_ip", a.SourceIP, "identity_source", ext.Source, "mfa", ext.MFA)
	return &Session{Value: value, ExpiresAt: sess.ExpiresAt, Lifetime: dur, Device: devValue}, nil
}

// quietLog logs a refusal that a flood repeats at most once a second,
// with the count since the last line.
type quietLog struct {
	// n counts refusals not yet logged; last is when the last line was
	// written (unix nanoseconds).
	n, last atomic.Int64
}

func (q *quietLog) note(s *Service, msg, ip string) {
	q.n.Add(1)
	now := s.now().UnixNano()
	last := q.last.Load()
	if now-last < int64(time.Second) || !q.last.CompareAndSwap(last, now) {
		return
	}
	s.log().Info(msg, "refused", q.n.Swap(0), "last_source_ip", ip)
}

// uncount takes an attempt that was never checked back from every counter
// but the address's.
func (s *Service) uncount(ctx context.Context, bs []bucket) error {
	for _, b := range bs {
		if !b.refund {
			if err := s.Store.RefundAttempt(ctx, b.key); err != nil {
				return fmt.Errorf("refund sign-in attempt: %w", err)
			}
		}
	}
	return nil
}

// lookup returns the user named userName, or nil when there is none.
func (s *Service) lookup(ctx context.Context, userName string) (*store.User, error) {
	u, err := s.Store.GetUserByName(ctx, userName)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("get user by name: %w", err)
	}
	return u, nil
}

// reserve counts the attempt in every bucket, in order, before the check
// it guards. When one refuses, the ones already counted are refunded and a
// *ThrottledError says how long to wait.
func (s *Service) reserve(ctx context.Context, bs []bucket) ([]store.Attempts, error) {
	now := s.now()
	states := make([]store.Attempts, len(bs))
	for i, b := range bs {
		st, ok, err := s.Store.ReserveAttempt(ctx, b.key, b.rule, now)
		if err == nil && ok {
			states[i] = st
			continue
		}
		for _, done := range bs[:i] {
			if rerr := s.Store.RefundAttempt(ctx, done.key); rerr != nil && err == nil {
				err = rerr
			}
		}
		if err != nil {
			return nil, fmt.Errorf("reserve sign-in attempt: %w", err)
		}
		return nil, &ThrottledError{RetryAfter: wait(st, b.rule, now), Bucket: b.name}
	}
	return states, nil
}

// blocked returns the first counter that, after this attempt, refuses the
// next one now.
func blocked(bs []bucket, states []store.Attempts, now time.Time) *ThrottledError {
	for i, b := range bs {
		st := states[i]
		if (b.rule.Limit > 0 && st.Count >= b.rule.Limit) || st.NotBefore.After(now) {
			return &ThrottledError{RetryAfter: wait(st, b.rule, now), Bucket: b.name}
		}
	}
	return nil
}

// wait is how long until counter st allows an attempt, rounded up to whole
// seconds and at least one.
func wait(st store.Attempts, rule store.AttemptRule, now time.Time) time.Duration {
	until := st.NotBefore
	if rule.Limit > 0 && st.Count >= rule.Limit && st.ExpiresAt.After(until) {
		until = st.ExpiresAt
	}
	d := until.Sub(now)
	return max(time.Duration(math.Ceil(d.Seconds()))*time.Second, time.Second)
}

// refund uncounts a successful step from the shared counters (the
// address's) that a session start does not reset; the user's counters
// keep it until Start resets them.
func (s *Service) refund(ctx context.Context, tx store.Tx, bs []bucket) error {
	for _, b := range bs {
		if b.refund {
			if err := tx.RefundAttempt(ctx, b.key); err != nil {
				return err
			}
		}
	}
	return nil
}

// refused records an attempt a limit refused before any check and returns
// err (the *ThrottledError) or a store failure.
func (s *Service) refused(ctx context.Context, a Attempt, known *store.User, event string, err error) error {
	te, ok := errors.AsType[*ThrottledError](err)
	if !ok {
		return err
	}
	if te.Bucket == "address" {
		// A flood from one address: neither audited nor logged one by one,
		// so that refusing it costs one counter read.
		s.addressLog.note(s, "sign-in throttled: too many attempts from one address", a.SourceIP)
		return te
	}
	if rerr := s.recordFailure(ctx, known, event, "TooManyAttempts", "Sign-in paused after repeated failures"); rerr != nil {
		return rerr
	}
	s.log().Info("sign-in throttled", "principal", principal(known), "source_ip", a.SourceIP,
		"limit", te.Bucket, "retry_after", te.RetryAfter.String())
	return te
}

// failed records a failed check and returns cause, or a *ThrottledError
// when this failure made a limit refuse the next attempt.
func (s *Service) failed(ctx context.Context, a Attempt, known *store.User, event, code, msg string, cause error, bs []bucket, states []store.Attempts) error {
	if err := s.recordFailure(ctx, known, event, code, msg); err != nil {
		return err
	}
	step := "password"
	if event == "UserAuthentication" {
		step = "code"
	}
	s.log().Info("sign-in failed", "principal", principal(known), "source_ip", a.SourceIP, "step", step)
	if te := blocked(bs, states, s.now()); te != nil {
		s.log().Info("sign-in throttled", "principal", principal(known), "source_ip", a.SourceIP,
			"limit", te.Bucket, "retry_after", te.RetryAfter.String())
		return te
	}
	return cause
}

// recordFailure writes the audit event of a failed or refused attempt,
// naming the user only when the name matched one.
func (s *Service) recordFailure(ctx context.Context, known *store.User, event, code, msg string) error {
	audited := hiddenUserName
	var actx context.Context
	if known != nil {
		audited = known.UserName
		actx = withIdentity(ctx, known)
	} else {
		act := audit.ActorFrom(ctx)
		act.Identity = audit.Identity{Type: "Unknown", UserName: hiddenUserName}
		actx = audit.WithActor(ctx, act)
	}
	err := s.Store.Update(actx, func(tx store.Tx) error {
		return s.Audit.Record(actx, tx, audit.Entry{
			Source: audit.SourceSignIn, Name: event, Type: "AwsServiceEvent",
			Params:    map[string]string{"userName": audited},
			Response:  map[string]string{"result": "Failure"},
			ErrorCode: code, ErrorMsg: msg,
		})
	})
	if err != nil {
		return fmt.Errorf("record sign-in failure: %w", err)
	}
	return nil
}

// principal is the user name to log: the real user's, or nothing.
func principal(u *store.User) string {
	if u == nil {
		return ""
	}
	return u.UserName
}

// withIdentity returns ctx whose audit actor is u.
func withIdentity(ctx context.Context, u *store.User) context.Context {
	return audit.WithUser(ctx, u.ID, u.UserName)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// RequiresMFA reports whether the MFA policy asks for a second factor
// (always, or on a new browser): then a person keeps at least one device.
func (s *Service) RequiresMFA(ctx context.Context) (bool, error) {
	v, err := s.settings(ctx)
	return v.MFAPolicy != settings.PolicyOff, err
}

// settings returns the settings in force: Settings', or without it the
// policy "off" and SessionDuration.
func (s *Service) settings(ctx context.Context) (settings.Settings, error) {
	if s.Settings != nil {
		v, err := s.Settings.Get(ctx)
		if err != nil {
			return settings.Settings{}, fmt.Errorf("get settings: %w", err)
		}
		return v, nil
	}
	d := s.SessionDuration
	if d <= 0 {
		d = settings.DefaultSessionDuration
	}
	return settings.Settings{MFAPolicy: settings.PolicyOff, PortalSessionDuration: d}, nil
}

// forget forgets, in tx, the user's counted attempts after the sign-in v
// completed (from a browser with the known-device token dev, or nil), its
// own included, unless other attempts were counted after its last
// reservation: those overlap it (a parallel burst), and forgetting the
// count would let that many more reach the hash at once, beyond the limit.
// Their count then ends by its TTL, or at the next sign-in that nothing
// overlaps.
func (s *Service) forget(ctx context.Context, tx store.Tx, a Attempt, v *Verified, dev *device, now time.Time) error {
	for _, b := range append(s.buckets(a.UserName, a.SourceIP, nil), s.buckets(a.UserName, a.SourceIP, dev)...) {
		if b.refund {
			continue
		}
		st, err := tx.GetAttempts(ctx, b.key, now)
		if err != nil {
			return err
		}
		if mark, ok := v.marks[b.key]; ok && st.Count > mark {
			continue
		}
		if err := tx.ResetAttempts(ctx, b.key); err != nil {
			return err
		}
	}
	return nil
}

// FreshAuth is how recently the person at a portal session must have given
// their password (and their authenticator's code, when they have one) to
// add or remove an MFA device: a stolen session cookie or a phished
// password alone cannot enrol an attacker's authenticator.
const FreshAuth = 5 * time.Minute

// Fresh reports whether a session authenticated at authTime (with a
// second factor: withMFA) is fresh enough to change the MFA devices of a
// user who has hasDevice or not, with slack added to FreshAuth (the time a
// form may take to fill in).
func (s *Service) Fresh(authTime time.Time, withMFA, hasDevice bool, slack time.Duration) bool {
	if authTime.IsZero() || s.now().Sub(authTime) > FreshAuth+slack {
		return false
	}
	return withMFA || !hasDevice
}

// Factor is a second factor given at re-authentication: a TOTP code, or
// a security key's answer (KeyAnswer, the PublicKeyCredential JSON) to
// the ceremony sealed in KeyState.
type Factor struct {
	Code      string
	KeyState  string
	KeyAnswer []byte
}

// Reauthenticate checks, under the sign-in limits, the password of the
// user signed in at the portal session sessionID, and the code of their
// authenticator when they have one, then marks the session freshly
// authenticated (AuthTime now; MFA when a code was checked). Errors are
// those of Password and Code.
func (s *Service) Reauthenticate(ctx context.Context, a Attempt, sessionID, userID, password string, f Factor) error {
	s.init()
	u, err := s.Store.GetUser(ctx, userID)
	if err != nil {
		return fmt.Errorf("get user: %w", err)
	}
	a.UserName = u.UserName
	res, err := s.Password(ctx, a, password)
	if err != nil {
		return err
	}
	if res.User.ID != userID {
		return ErrBadCredentials
	}
	v := res.Verified
	hasTOTP, hasKey, err := s.MFA.Kinds(ctx, userID)
	if err != nil {
		return err
	}
	if hasTOTP || hasKey {
		if v, err = s.second(ctx, a, userID, "", time.Time{}, func(u *store.User) error {
			if f.KeyAnswer != nil {
				return keyCheck(s.MFA.FinishLogin(ctx, u.ID, f.KeyState, f.KeyAnswer))
			}
			return s.MFA.Verify(ctx, u.ID, f.Code)
		}); err != nil {
			return err
		}
	}
	now := s.now()
	dev := s.openDevice(a.Device, u.ID)
	uctx := withIdentity(ctx, u)
	err = s.Store.Update(uctx, func(tx store.Tx) error {
		sess, err := tx.GetSession(uctx, sessionID)
		if err != nil {
			return err
		}
		if sess.UserID != userID {
			return ErrBadCredentials
		}
		sess.AuthTime = now
		sess.MFA = sess.MFA || v.MFA
		if err := tx.UpdateSession(uctx, sess); err != nil {
			return err
		}
		if err := s.forget(uctx, tx, a, v, dev, now); err != nil {
			return err
		}
		return s.Audit.Record(uctx, tx, audit.Entry{
			Source: audit.SourceSignIn, Name: "UserAuthentication", Type: "AwsServiceEvent",
			Params:   map[string]any{"userName": u.UserName, "mfaAuthenticated": v.MFA, "reauthentication": true},
			Response: map[string]string{"result": "Success"},
		})
	})
	if err != nil {
		return fmt.Errorf("reauthenticate: %w", err)
	}
	return nil
}

// Sessions lists the user's portal sessions that are still live at now
// (neither ended nor expired).
func (s *Service) Sessions(ctx context.Context, userID string) ([]store.Session, error) {
	all, err := s.Store.ListSessionsByUser(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("list sessions of user %q: %w", userID, err)
	}
	now := s.now()
	var live []store.Session
	for _, ss := range all {
		if ss.RevokedAt.IsZero() && now.Before(ss.ExpiresAt) {
			live = append(live, ss)
		}
	}
	return live, nil
}

// EndSession ends the user's portal session sessionID (its ID hash) and
// everything issued under it, in one transaction: the session is marked
// ended and a session revocation stops the OIDC tokens of its approvals
// and the role credentials issued with them. A session of
// another user is store.ErrNotFound; one already ended is left as it is.
func (s *Service) EndSession(ctx context.Context, userID, sessionID string) error {
	now := s.now()
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		sess, err := tx.GetSession(ctx, sessionID)
		if err != nil {
			return err
		}
		if sess.UserID != userID {
			return store.ErrNotFound
		}
		if !sess.RevokedAt.IsZero() {
			return nil
		}
		sess.RevokedAt = now
		if err := tx.UpdateSession(ctx, sess); err != nil {
			return err
		}
		if err := tx.PutRevocation(ctx, &store.Revocation{
			Kind: store.RevokeSession, Subject: sess.IDHash, At: now,
			ExpiresAt: sess.ExpiresAt.Add(access.MaxSessionDuration),
		}); err != nil {
			return err
		}
		return s.Audit.Record(ctx, tx, audit.Entry{Source: audit.SourceSignIn, Name: "Logout", Type: "AwsServiceEvent"})
	})
	if err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

// PasskeysAllowed reports whether passkeys may replace the password: when
// the MFA policy is not "off".
func (s *Service) PasskeysAllowed(ctx context.Context) (bool, error) {
	set, err := s.settings(ctx)
	if err != nil || set.MFAPolicy == settings.PolicyOff {
		return false, err
	}
	return s.managesPasswords(ctx)
}

// managesPasswords reports whether the built-in directory is the active
// identity source (always, without Passwords).
func (s *Service) managesPasswords(ctx context.Context) (bool, error) {
	if s.Passwords == nil {
		return true, nil
	}
	return s.Passwords.ManagesPasswords(ctx)
}
