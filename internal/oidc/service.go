package oidc

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/accesscache"
	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/awsproto"
	"github.com/gatehouse-dev/gatehouse/internal/keyring"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// Lifetimes and limits of spec/identifiers.md §4 and §7.
const (
	// RegistrationLifetime is how long a client registration is valid.
	RegistrationLifetime = 90 * 24 * time.Hour
	// DeviceCodeLifetime is the device code's expiresIn.
	DeviceCodeLifetime = 600 * time.Second
	// DeviceInterval is the polling interval returned to clients.
	DeviceInterval = time.Second
	// AuthCodeLifetime is the lifetime of a PKCE authorization code.
	AuthCodeLifetime = 5 * time.Minute
	// AccessTokenLifetime is the access-token lifetime of scoped
	// registrations.
	AccessTokenLifetime = time.Hour
	// LegacyTokenLifetime is the access-token lifetime of registrations
	// without scopes, which get no refresh token.
	LegacyTokenLifetime = 8 * time.Hour
	// DefaultPortalSessionDuration is used when PortalSessionDuration is 0.
	DefaultPortalSessionDuration = 8 * time.Hour

	// pollLeniency is how much earlier than interval a poll may come before
	// it is answered with slow_down (client timers and network jitter).
	pollLeniency = 200 * time.Millisecond
	// recheckEvery bounds how long a cached access token is trusted without
	// looking at the store when no Cache is configured.
	recheckEvery = time.Second
	// maxBodyBytes bounds sso-oidc request bodies: the largest legal
	// RegisterClient body (every field at its cap, see register.go) is
	// below it; the CLI's are a few hundred bytes.
	maxBodyBytes = 32 << 10
)

// Grant types (spec/aws-wire.md §3.2).
const (
	GrantDeviceCode        = "urn:ietf:params:oauth:grant-type:device_code"
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
)

// ErrInvalidToken is wrapped by AuthenticateAccessToken and Logout errors
// for a bearer token that is unknown, expired or revoked; the portal API
// answers it with UnauthorizedException.
var ErrInvalidToken = errors.New("access token is unknown, expired or revoked")

// Service is the sso-oidc service. Set its fields before first use; it is
// then safe for concurrent use.
type Service struct {
	Store    store.Store
	Keys     *keyring.Ring
	Audit    *audit.Recorder
	IDs      arn.Generator
	Now      func() time.Time
	Rand     io.Reader
	Log      *slog.Logger
	Instance *store.Instance
	// BaseURL is the public URL of the server, without a trailing slash.
	BaseURL string
	// Cache answers revocation checks on the access-token hot path. Its
	// MaxLifetime must cover access.RevocationLifetime(PortalSessionDuration). When nil, cached tokens
	// are re-checked against the store at most every second instead.
	Cache *accesscache.Cache
	// PortalSessionDuration is the configured portal-session lifetime; it
	// bounds grants and sizes revocation records.
	PortalSessionDuration time.Duration
	// RefreshGrace is how long after its rotation a refresh token presented
	// again gets the tokens its first use issued instead of revoking the
	// grant as a reuse (see refreshTokenGrant). 0 turns the grace off.
	RefreshGrace time.Duration

	clients clientCache
	tokens  tokenCache
}

// Register mounts POST /client/register, POST /device_authorization and
// POST /token on mux.
func (s *Service) Register(mux *http.ServeMux) {
	mux.Handle("POST /client/register", s.handler("RegisterClient", s.registerClient))
	mux.Handle("POST /device_authorization", s.handler("StartDeviceAuthorization", s.startDeviceAuthorization))
	mux.Handle("POST /token", s.handler("CreateToken", s.createToken))
}

// operation is one sso-oidc operation: it reads the request and returns
// the response body or an error.
type operation func(r *http.Request) (any, error)

// handler adapts an operation to http.Handler, writing its result as
// restJson1 and its error through writeError.
func (s *Service) handler(name string, op operation) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		awsproto.RequestID(w)
		out, err := op(r)
		if err != nil {
			s.writeError(w, r, name, err)
			return
		}
		if err := awsproto.WriteJSON(w, http.StatusOK, out); err != nil {
			s.writeError(w, r, name, err)
		}
	})
}

// writeError is the one place errors become sso-oidc wire errors: an
// *awsproto.Error goes out as it is, anything else is an internal error
// whose cause is logged here, once.
func (s *Service) writeError(w http.ResponseWriter, r *http.Request, op string, err error) {
	e := awsproto.ErrorFor(awsproto.ProtocolOIDC, err)
	awsproto.LogFailure(r.Context(), s.logger(), e.HTTPStatus(), e.Err, "internal error",
		slog.String("request_id", awsproto.RequestID(w)), slog.String("op", op))
	awsproto.WriteError(w, e)
}

func (s *Service) logger() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

// decode reads the JSON request body into in. Unknown members are ignored
// (clients are newer than us); a body that is not a JSON object is an
// InvalidRequestException.
func decode(r *http.Request, in any) error {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBodyBytes))
	if err != nil {
		return awsproto.OIDCInvalidRequest("The request body could not be read or is too large.")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, in); err != nil {
		e := awsproto.OIDCInvalidRequest("The request body is not a valid JSON object of the operation's members.")
		e.Err = err
		return e
	}
	return nil
}

// Secret is a bearer value (client secret, device code, authorization code,
// token, PKCE verifier). It marshals to JSON as itself but never prints or
// logs its value.
type Secret string

// String returns a placeholder, so that a Secret formatted by accident
// reveals nothing.
func (Secret) String() string { return "[REDACTED]" }

// LogValue implements slog.LogValuer.
func (Secret) LogValue() slog.Value { return slog.StringValue("[REDACTED]") }

// random returns n random bytes encoded as unpadded base64url.
func (s *Service) random(n int) (string, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(s.Rand, b); err != nil {
		return "", fmt.Errorf("read random bytes: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// now returns the service's current time in UTC.
func (s *Service) now() time.Time { return s.Now().UTC() }

func (s *Service) portalSessionDuration() time.Duration {
	if s.PortalSessionDuration > 0 {
		return s.PortalSessionDuration
	}
	return DefaultPortalSessionDuration
}

// revocationTTL is how long a revocation record must live: longer than any
// grant and any role credential issued under one.
func (s *Service) revocationTTL() time.Duration {
	return access.RevocationLifetime(s.portalSessionDuration())
}

// revoked reports whether something issued at issuedAt to the user, grant
// or session has been revoked since: through Cache when there is one,
// otherwise by reading the revocation records.
func (s *Service) revoked(ctx context.Context, userID, grantID, sessionID string, issuedAt time.Time) (bool, error) {
	if s.Cache != nil {
		return s.Cache.Revoked(ctx, userID, grantID, sessionID, issuedAt)
	}
	rs, err := s.Store.ListRevocations(ctx, issuedAt)
	if err != nil {
		return false, err
	}
	for _, r := range rs {
		if r.At.Before(issuedAt) { // as accesscache: At at or after issuedAt revokes
			continue
		}
		switch {
		case r.Kind == store.RevokeUser && r.Subject == userID,
			r.Kind == store.RevokeGrant && r.Subject == grantID,
			r.Kind == store.RevokeSession && sessionID != "" && r.Subject == sessionID:
			return true, nil
		}
	}
	return false, nil
}

// clientCache holds client registrations, which never change once
// created; expiry is checked on every use.
type clientCache struct {
	mu sync.RWMutex
	m  map[string]*store.Client
}

const maxCachedClients = 4096

func (c *clientCache) get(id string) *store.Client {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.m[id]
}

func (c *clientCache) put(cl *store.Client) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedClients {
		c.m = make(map[string]*store.Client)
	}
	c.m[cl.ID] = cl
}
