package oidc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/awsproto"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/source"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// StartDeviceAuthorizationInput is the StartDeviceAuthorization request body.
type StartDeviceAuthorizationInput struct {
	ClientID     string `json:"clientId"`
	ClientSecret Secret `json:"clientSecret"`
	StartURL     string `json:"startUrl"`
}

// StartDeviceAuthorizationOutput is the StartDeviceAuthorization response body.
type StartDeviceAuthorizationOutput struct {
	DeviceCode              Secret `json:"deviceCode"`
	UserCode                string `json:"userCode"`
	VerificationURI         string `json:"verificationUri"`
	VerificationURIComplete string `json:"verificationUriComplete"`
	ExpiresIn               int32  `json:"expiresIn"`
	Interval                int32  `json:"interval"`
}

// Errors for the portal's device pages. They come wrapped in a
// *fault.Error whose Message the page can show.
var (
	// ErrRateLimited means too many failed user-code lookups came from the
	// source address; the page should ask the person to wait.
	ErrRateLimited = errors.New("too many failed attempts")
	// ErrUnknownUserCode means no device authorization has the user code.
	ErrUnknownUserCode = errors.New("unknown user code")
	// ErrCodeExpired means the device authorization has expired.
	ErrCodeExpired = errors.New("code expired")
	// ErrCodeUsed means the device authorization was already approved,
	// denied or redeemed.
	ErrCodeUsed = errors.New("code already used")
)

// RateLimitedError is ErrRateLimited with the time until the limit's
// window ends, when the next lookup is allowed.
type RateLimitedError struct {
	RetryAfter time.Duration
}

func (e *RateLimitedError) Error() string { return ErrRateLimited.Error() }

// Unwrap makes errors.Is(err, ErrRateLimited) hold.
func (e *RateLimitedError) Unwrap() error { return ErrRateLimited }

// lookupWindow is the fixed window of the per-address lookup limit.
const lookupWindow = 5 * time.Minute

// startDeviceAuthorization serves StartDeviceAuthorization (RFC 8628 §3.1–3.2).
func (s *Service) startDeviceAuthorization(r *http.Request) (any, error) {
	ctx := r.Context()
	const op = "StartDeviceAuthorization"
	if err := s.checkLimits(r, op, StartDeviceAuthorizationLimits); err != nil {
		return nil, err
	}
	var in StartDeviceAuthorizationInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if in.ClientID == "" || in.ClientSecret == "" || in.StartURL == "" {
		return nil, awsproto.OIDCInvalidRequest("clientId, clientSecret and startUrl are required.")
	}
	cl, err := s.authenticateClient(ctx, op, in.ClientID, in.ClientSecret)
	if err != nil {
		return nil, err
	}
	if !mayUse(cl, GrantDeviceCode) {
		return nil, awsproto.OIDCUnauthorizedClient("The client is not registered for the device code grant.")
	}
	if normalizeStartURL(in.StartURL) != normalizeStartURL(s.Instance.StartURL) {
		return nil, awsproto.OIDCInvalidRequest(s.unknownStartURL(in.StartURL))
	}
	deviceCode, err := s.random(deviceCodeBytes)
	if err != nil {
		return nil, err
	}
	now := s.now()
	d := &store.DeviceAuth{
		DeviceCodeHash: s.Keys.Hash(deviceCode),
		ClientID:       cl.ID,
		StartURL:       in.StartURL,
		Scopes:         cl.Scopes,
		Status:         store.DevicePending,
		Interval:       DeviceInterval,
		CreatedAt:      now,
		ExpiresAt:      now.Add(DeviceCodeLifetime),
	}
	// A user code is 20^8 ≈ 2.6e10 values; a collision with a live one is
	// rare but possible, so draw again on conflict.
	for attempt := 1; ; attempt++ {
		if d.UserCode, err = newUserCode(s.Rand); err != nil {
			return nil, err
		}
		err = s.Store.Update(ctx, func(tx store.Tx) error {
			if err := tx.CreateDeviceAuth(ctx, d); err != nil {
				return err
			}
			return s.Audit.Record(ctx, tx, audit.Entry{
				Source: audit.SourceOIDC, Name: op,
				Params:   map[string]string{"clientId": cl.ID, "startUrl": in.StartURL},
				Response: map[string]any{"userCode": formatUserCode(d.UserCode), "expiresIn": int(DeviceCodeLifetime.Seconds())},
			})
		})
		if err == nil {
			break
		}
		if !errors.Is(err, store.ErrConflict) || attempt == userCodeAttempts {
			return nil, err
		}
	}
	uc := formatUserCode(d.UserCode)
	return &StartDeviceAuthorizationOutput{
		DeviceCode:              Secret(deviceCode),
		UserCode:                uc,
		VerificationURI:         s.BaseURL + "/device",
		VerificationURIComplete: s.BaseURL + "/device?user_code=" + url.QueryEscape(uc),
		ExpiresIn:               int32(DeviceCodeLifetime / time.Second),
		Interval:                int32(DeviceInterval / time.Second),
	}, nil
}

// newUserCode draws 8 letters uniformly from userCodeAlphabet.
func newUserCode(rand io.Reader) (string, error) {
	const limit = 256 - 256%len(userCodeAlphabet)
	out := make([]byte, 0, userCodeLen)
	buf := make([]byte, 16)
	for len(out) < userCodeLen {
		if _, err := io.ReadFull(rand, buf); err != nil {
			return "", fmt.Errorf("read random bytes: %w", err)
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < userCodeLen {
				out = append(out, userCodeAlphabet[int(b)%len(userCodeAlphabet)])
			}
		}
	}
	return string(out), nil
}

// normalizeUserCode returns the stored form of a user code typed by a
// person (case-insensitive, dashes and spaces ignored), or "" if it cannot
// be one.
func normalizeUserCode(in string) string {
	var b strings.Builder
	for _, c := range strings.ToUpper(in) {
		if c == '-' || c == ' ' {
			continue
		}
		if !strings.ContainsRune(userCodeAlphabet, c) || b.Len() == userCodeLen {
			return ""
		}
		b.WriteRune(c)
	}
	if b.Len() != userCodeLen {
		return ""
	}
	return b.String()
}

func formatUserCode(c string) string {
	if len(c) != userCodeLen {
		return c
	}
	return c[:4] + "-" + c[4:]
}

// DeviceRequest is a device authorization as the approval page shows it.
type DeviceRequest struct {
	UserCode   string // XXXX-XXXX
	ClientName string
	ClientID   string
	ExpiresAt  time.Time
	Status     string // store.DevicePending, DeviceApproved, ...
}

// LookupUserCode finds the device authorization a person typed the user
// code of, for the confirmation page. Failed lookups are limited per
// source address and per portal session (sessionID, the session's ID hash;
// "" when there is none): 10 per 5 minutes each, counted in the store so
// every replica shares them; beyond that every lookup from the address or
// session fails with ErrRateLimited until the window ends. A successful
// lookup writes nothing: it neither counts nor forgets earlier failures,
// so looking up one's own code between guesses buys no more guesses.
// Errors are *fault.Error wrapping ErrRateLimited, ErrUnknownUserCode or
// ErrCodeExpired.
func (s *Service) LookupUserCode(ctx context.Context, userCode, sourceIP, sessionID string) (*DeviceRequest, error) {
	now := s.now()
	var d *store.DeviceAuth
	var refused error
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		var err error
		d, refused, err = s.findUserCode(ctx, tx, userCode, lookupKeys(sourceIP, sessionID), now)
		return err
	})
	if err != nil {
		return nil, err
	}
	if refused != nil {
		return nil, refused
	}
	return s.deviceRequest(ctx, d)
}

// lookupKeys are the rate-counter keys of user-code lookups from sourceIP
// and in the portal session sessionID ("" for none of either).
func lookupKeys(sourceIP, sessionID string) []string {
	var keys []string
	if sourceIP != "" {
		keys = append(keys, "oidc-user-code:addr:"+source.Key(sourceIP))
	}
	if sessionID != "" {
		keys = append(keys, "oidc-user-code:session:"+sessionID)
	}
	return keys
}

// findUserCode looks up the unexpired device authorization of userCode in
// tx under the lookup limit: the counts are read first (a plain read), and
// a failed lookup counts one hit on each key. Update's transactions are
// serializable on both backends, so that parallel guesses cannot outrun
// the count. A refusal comes back as refused, with the transaction left to
// commit (the hit must stay counted).
func (s *Service) findUserCode(ctx context.Context, tx store.Tx, userCode string, keys []string, now time.Time) (d *store.DeviceAuth, refused, err error) {
	for _, key := range keys {
		n, err := tx.RateCount(ctx, key, lookupWindow, now)
		if err != nil {
			return nil, nil, fmt.Errorf("count user-code lookups: %w", err)
		}
		if n >= lookupFailureLimit {
			wait := lookupWindow - time.Duration(now.UnixNano()%int64(lookupWindow))
			return nil, &fault.Error{Kind: fault.QuotaExceeded, Message: "Too many attempts. Wait a few minutes and try again.", Err: &RateLimitedError{RetryAfter: wait}}, nil
		}
	}
	failed := func(refusal error) (*store.DeviceAuth, error, error) {
		for _, key := range keys {
			if _, err := tx.HitRate(ctx, key, lookupWindow, now); err != nil {
				return nil, nil, fmt.Errorf("count user-code lookup: %w", err)
			}
		}
		return nil, refusal, nil
	}
	code := normalizeUserCode(userCode)
	if code == "" {
		return failed(unknownUserCode())
	}
	got, err := tx.GetDeviceAuthByUserCode(ctx, code)
	if errors.Is(err, store.ErrNotFound) {
		return failed(unknownUserCode())
	} else if err != nil {
		return nil, nil, err
	}
	if !now.Before(got.ExpiresAt) {
		return failed(&fault.Error{Kind: fault.Validation, Message: "This code has expired. Start the sign-in again on your device.", Err: ErrCodeExpired})
	}
	return got, nil, nil
}

// deviceRequest describes d as the pages show it.
func (s *Service) deviceRequest(ctx context.Context, d *store.DeviceAuth) (*DeviceRequest, error) {
	cl, err := s.client(ctx, d.ClientID)
	if err != nil {
		return nil, fmt.Errorf("client of device authorization: %w", err)
	}
	return &DeviceRequest{
		UserCode: formatUserCode(d.UserCode), ClientName: cl.Name, ClientID: cl.ID,
		ExpiresAt: d.ExpiresAt, Status: d.Status,
	}, nil
}

func unknownUserCode() error {
	return &fault.Error{Kind: fault.NotFound, Message: "That code is not valid. Check it and try again.", Err: ErrUnknownUserCode}
}

// SignedIn is the person approving a device code or authorization request.
// SessionID is the portal session's ID hash (store.Session.IDHash).
type SignedIn struct {
	UserID, UserName, SessionID string
	MFA                         bool
	AuthTime                    time.Time
	SessionExpiresAt            time.Time
}

// actor returns ctx with the signed-in person as the audit identity.
func (w SignedIn) actor(ctx context.Context) context.Context {
	return audit.WithUser(ctx, w.UserID, w.UserName)
}

// ApproveDevice approves the pending device authorization with userCode
// for the signed-in person; the client's next poll gets tokens. It is
// DecideDevice without a source address.
func (s *Service) ApproveDevice(ctx context.Context, userCode string, who SignedIn) error {
	_, err := s.DecideDevice(ctx, userCode, "", who, true)
	return err
}

// DenyDevice denies the pending device authorization with userCode; the
// client's next poll gets AccessDeniedException.
func (s *Service) DenyDevice(ctx context.Context, userCode string, who SignedIn) error {
	_, err := s.DecideDevice(ctx, userCode, "", who, false)
	return err
}

// DecideDevice approves (allow) or denies the device authorization with
// userCode for the signed-in person, in one transaction: the lookup under
// LookupUserCode's limit (a failure counted for sourceIP and the
// session), the check that it is still pending, the decision and its
// audit event. It returns the authorization as the result page shows it
// (Status is the decision). Errors are *fault.Error wrapping
// ErrRateLimited, ErrUnknownUserCode, ErrCodeExpired or ErrCodeUsed.
func (s *Service) DecideDevice(ctx context.Context, userCode, sourceIP string, who SignedIn, allow bool) (*DeviceRequest, error) {
	status, event := store.DeviceDenied, "DenyDeviceAuthorization"
	if allow {
		status, event = store.DeviceApproved, "ApproveDeviceAuthorization"
	}
	if who.UserID == "" || who.SessionID == "" {
		return nil, fmt.Errorf("%s: signed-in user and session are required", event)
	}
	now := s.now()
	if !who.SessionExpiresAt.IsZero() && !now.Before(who.SessionExpiresAt) {
		return nil, &fault.Error{Kind: fault.AccessDenied, Message: "Your session has ended. Sign in again."}
	}
	ctx = who.actor(ctx)
	var d *store.DeviceAuth
	var refused error
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		var err error
		d, refused, err = s.findUserCode(ctx, tx, userCode, lookupKeys(sourceIP, who.SessionID), now)
		if err != nil || refused != nil {
			return err
		}
		if d.Status != store.DevicePending {
			refused = &fault.Error{Kind: fault.Conflict, Message: "This code has already been used.", Err: ErrCodeUsed}
			return nil
		}
		d.Status, d.UserID, d.SessionID = status, who.UserID, who.SessionID
		if err := tx.UpdateDeviceAuth(ctx, d); err != nil {
			return err
		}
		return s.Audit.Record(ctx, tx, audit.Entry{
			Source: audit.SourcePortal, Name: event,
			Params: map[string]string{"userCode": formatUserCode(d.UserCode), "clientId": d.ClientID},
		})
	})
	if err != nil {
		return nil, err
	}
	if refused != nil {
		return nil, refused
	}
	// The audit event, summarised for the operator's log.
	msg := "device sign-in approved"
	if !allow {
		msg = "device sign-in denied"
	}
	s.logger().LogAttrs(ctx, slog.LevelInfo, msg, slog.String("principal", who.UserName), slog.String("client_id", d.ClientID))
	return s.deviceRequest(ctx, d)
}
