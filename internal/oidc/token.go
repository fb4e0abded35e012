package oidc

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/awsproto"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/keyring"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// CreateTokenInput is the CreateToken request body, decoded once; the
// members each grant needs are checked by its handler.
type CreateTokenInput struct {
	ClientID     string   `json:"clientId"`
	ClientSecret Secret   `json:"clientSecret"`
	GrantType    string   `json:"grantType"`
	DeviceCode   Secret   `json:"deviceCode"`
	Code         Secret   `json:"code"`
	RefreshToken Secret   `json:"refreshToken"`
	Scope        []string `json:"scope"` // ignored, as AWS does
	RedirectURI  string   `json:"redirectUri"`
	CodeVerifier Secret   `json:"codeVerifier"`
}

// CreateTokenOutput is the CreateToken response body. RefreshToken is
// omitted for legacy (unscoped) registrations.
type CreateTokenOutput struct {
	AccessToken  Secret `json:"accessToken"`
	TokenType    string `json:"tokenType"`
	ExpiresIn    int32  `json:"expiresIn"`
	RefreshToken Secret `json:"refreshToken,omitempty"`

	// userID is whom the tokens speak for, for the log line; not sent.
	userID string
}

// grantHandler runs one grant type for an authenticated client.
type grantHandler func(ctx context.Context, cl *store.Client, in *CreateTokenInput) (*CreateTokenOutput, error)

// createToken serves CreateToken: decode, required members, client
// authentication and grant permission here; the rest per grant type.
func (s *Service) createToken(r *http.Request) (any, error) {
	ctx := r.Context()
	var in CreateTokenInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if in.ClientID == "" || in.ClientSecret == "" || in.GrantType == "" {
		return nil, awsproto.OIDCInvalidRequest("clientId, clientSecret and grantType are required.")
	}
	var h grantHandler
	switch in.GrantType {
	case GrantDeviceCode:
		h = s.deviceCodeGrant
	case GrantAuthorizationCode:
		h = s.authorizationCodeGrant
	case GrantRefreshToken:
		h = s.refreshTokenGrant
	default:
		return nil, awsproto.OIDCUnsupportedGrantType("Unsupported grant type: " + truncate(in.GrantType))
	}
	cl, err := s.verifyClient(ctx, "CreateToken", in.ClientID, in.ClientSecret)
	if err != nil {
		return nil, err
	}
	// A source past ClientAuthFailureLimits is refused even with the right
	// secret, before anything else is answered. A refresh reads the
	// counters in the query that reads its token (readRefresh): one read
	// instead of three on the hottest grant. Every other answer checks
	// them here.
	if in.GrantType != GrantRefreshToken || in.RefreshToken == "" || !mayUse(cl, in.GrantType) {
		if err := s.checkFailureLimits(ctx, "CreateToken"); err != nil {
			return nil, err
		}
	}
	if !mayUse(cl, in.GrantType) {
		return nil, awsproto.OIDCUnauthorizedClient("The client is not registered for the " + in.GrantType + " grant.")
	}
	out, err := h(ctx, cl, &in)
	if err != nil {
		return nil, err
	}
	// The CreateToken audit event, summarised for the operator's log.
	s.logger().LogAttrs(ctx, slog.LevelInfo, "tokens granted",
		slog.String("principal", out.userID), slog.String("client_id", cl.ID), slog.String("client_name", cl.Name),
		slog.String("grant_type", grantTypeName(in.GrantType)), slog.Bool("refresh_token", out.RefreshToken != ""))
	return out, nil
}

// grantTypeName shortens the device grant's URN for the log.
func grantTypeName(g string) string {
	if g == GrantDeviceCode {
		return "device_code"
	}
	return g
}

// grantCheck says why a grant's portal session or user can no longer back
// tokens, or "" if they can. tx may be the store itself.
func (s *Service) grantCheck(ctx context.Context, tx store.Tx, userID, sessionID string, now time.Time) (*store.User, *store.Session, string, error) {
	sess, err := tx.GetSession(ctx, sessionID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, "The sign-in session has ended.", nil
	} else if err != nil {
		return nil, nil, "", err
	}
	if !sess.RevokedAt.IsZero() || !now.Before(sess.ExpiresAt) {
		return nil, nil, "The sign-in session has ended.", nil
	}
	u, err := tx.GetUser(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, "The user no longer exists.", nil
	} else if err != nil {
		return nil, nil, "", err
	}
	if u.Disabled {
		return nil, nil, "The user is disabled.", nil
	}
	return u, sess, "", nil
}

// deviceCodeGrant redeems an approved device code (RFC 8628 §3.4–3.5).
func (s *Service) deviceCodeGrant(ctx context.Context, cl *store.Client, in *CreateTokenInput) (*CreateTokenOutput, error) {
	if in.DeviceCode == "" {
		return nil, awsproto.OIDCInvalidRequest("deviceCode is required.")
	}
	now := s.now()
	var out *CreateTokenOutput
	var result error
	hashes, retried := s.Keys.Hashes(string(in.DeviceCode)), false
	redeem := func(tx store.Tx) error {
		out, result = nil, nil
		d, err := findByHashes(hashes, func(h string) (*store.DeviceAuth, error) { return tx.GetDeviceAuth(ctx, h) })
		if errors.Is(err, store.ErrNotFound) {
			if !retried {
				return errHashMiss
			}
			result = awsproto.OIDCInvalidGrant("Invalid device code.")
			return nil
		} else if err != nil {
			return err
		}
		if d.ClientID != cl.ID || d.Status == store.DeviceRedeemed {
			result = awsproto.OIDCInvalidGrant("Invalid device code.")
			return nil
		}
		if !now.Before(d.ExpiresAt) {
			result = awsproto.OIDCExpiredToken("The device code has expired.")
			return nil
		}
		// RFC 8628 §3.5: polling faster than the interval is slow_down, and
		// the interval grows by 5 s. The first poll, which clients send right
		// after StartDeviceAuthorization, is always allowed.
		if !d.LastPolledAt.IsZero() && now.Sub(d.LastPolledAt) < d.Interval-pollLeniency {
			d.LastPolledAt = now
			d.Interval += 5 * time.Second
			result = awsproto.OIDCSlowDown("Polling too fast; slow down.")
			return tx.UpdateDeviceAuth(ctx, d)
		}
		d.LastPolledAt = now
		switch d.Status {
		case store.DevicePending:
			result = awsproto.OIDCAuthorizationPending("The user has not approved the request yet.")
			return tx.UpdateDeviceAuth(ctx, d)
		case store.DeviceDenied:
			result = awsproto.OIDCAccessDenied("The user denied the request.")
			return tx.UpdateDeviceAuth(ctx, d)
		case store.DeviceApproved:
		default:
			return fmt.Errorf("device authorization in unknown state %q", d.Status)
		}
		u, sess, why, err := s.grantCheck(ctx, tx, d.UserID, d.SessionID, now)
		if err != nil {
			return err
		}
		if why != "" {
			result = awsproto.OIDCInvalidGrant(why)
			return nil
		}
		d.Status = store.DeviceRedeemed
		if err := tx.UpdateDeviceAuth(ctx, d); err != nil {
			return err
		}
		g, err := s.newGrant(ctx, tx, cl, u, sess, d.Scopes, now)
		if err != nil {
			return err
		}
		out, err = s.issue(ctx, tx, cl, g, in.GrantType, u.UserName, now)
		return err
	}
	err := s.Store.Update(ctx, redeem)
	if errors.Is(err, errHashMiss) {
		err = s.redeemAfterMiss(ctx, string(in.DeviceCode), &hashes, &retried, redeem)
	}
	if err != nil {
		return nil, err
	}
	if result != nil {
		return nil, result
	}
	return out, nil
}

// authorizationCodeGrant redeems a PKCE authorization code (RFC 6749
// §4.1.3, RFC 7636 §4.6). A code presented again revokes the grant it
// issued (RFC 6749 §4.1.2).
func (s *Service) authorizationCodeGrant(ctx context.Context, cl *store.Client, in *CreateTokenInput) (*CreateTokenOutput, error) {
	if in.Code == "" || in.RedirectURI == "" || in.CodeVerifier == "" {
		return nil, awsproto.OIDCInvalidRequest("code, redirectUri and codeVerifier are required.")
	}
	now := s.now()
	var out *CreateTokenOutput
	var result error
	var reusedGrant string
	hashes, retried := s.Keys.Hashes(string(in.Code)), false
	redeem := func(tx store.Tx) error {
		out, result, reusedGrant = nil, nil, ""
		c, err := findByHashes(hashes, func(h string) (*store.AuthCode, error) { return tx.GetAuthCode(ctx, h) })
		if errors.Is(err, store.ErrNotFound) {
			if !retried {
				return errHashMiss
			}
			result = awsproto.OIDCInvalidGrant("Invalid authorization code.")
			return nil
		} else if err != nil {
			return err
		}
		if c.ClientID != cl.ID {
			result = awsproto.OIDCInvalidGrant("Invalid authorization code.")
			return nil
		}
		if !c.UsedAt.IsZero() {
			e := awsproto.OIDCInvalidGrant("Invalid authorization code.")
			result = e
			reusedGrant = c.GrantID
			if err := s.revokeGrant(ctx, tx, c.GrantID, now); err != nil {
				return err
			}
			return s.Audit.Record(ctx, tx, audit.Entry{
				Source: audit.SourceOIDC, Name: "CreateToken",
				Params:    map[string]string{"clientId": cl.ID, "grantType": in.GrantType, "reason": "authorization code reuse; grant revoked"},
				ErrorCode: e.Code, ErrorMsg: e.Message,
			})
		}
		if !now.Before(c.ExpiresAt) {
			result = awsproto.OIDCExpiredToken("The authorization code has expired.")
			return nil
		}
		if in.RedirectURI != c.RedirectURI {
			result = awsproto.OIDCInvalidGrant("redirectUri does not match the authorization request.")
			return nil
		}
		if !verifierMatches(string(in.CodeVerifier), c.Challenge) {
			result = awsproto.OIDCInvalidGrant("The code verifier does not match the code challenge.")
			return nil
		}
		u, sess, why, err := s.grantCheck(ctx, tx, c.UserID, c.SessionID, now)
		if err != nil {
			return err
		}
		if why != "" {
			result = awsproto.OIDCInvalidGrant(why)
			return nil
		}
		g, err := s.newGrant(ctx, tx, cl, u, sess, c.Scopes, now)
		if err != nil {
			return err
		}
		c.UsedAt, c.GrantID = now, g.ID
		if err := tx.UpdateAuthCode(ctx, c); err != nil {
			return err
		}
		out, err = s.issue(ctx, tx, cl, g, in.GrantType, u.UserName, now)
		return err
	}
	err := s.Store.Update(ctx, redeem)
	if errors.Is(err, errHashMiss) {
		err = s.redeemAfterMiss(ctx, string(in.Code), &hashes, &retried, redeem)
	}
	if err != nil {
		return nil, err
	}
	if reusedGrant != "" {
		s.tokens.dropGrant(reusedGrant)
	}
	if result != nil {
		return nil, result
	}
	return out, nil
}

// verifierMatches checks a PKCE S256 verifier (RFC 7636 §4.1, §4.6).
func verifierMatches(verifier, challenge string) bool {
	if len(verifier) < minVerifierLen || len(verifier) > maxVerifierLen {
		return false
	}
	for i := 0; i < len(verifier); i++ {
		c := verifier[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	sum := sha256.Sum256([]byte(verifier))
	got := base64.RawURLEncoding.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(got), []byte(challenge)) == 1
}

// refreshTokenGrant exchanges a refresh token for a new access and refresh
// token. Refresh tokens rotate on every use, and one presented again after
// RefreshGrace revokes the whole grant: RFC 9700 §4.14.2 (OAuth 2.0
// Security BCP, refresh token rotation), which lets the server detect that
// a token was copied because the legitimate client and the attacker both
// hold it and one of them will present it after the other has used it.
//
// Within RefreshGrace of its rotation, a refresh token presented again gets
// the successor pair its first use issued, and revokes nothing. Processes
// that share one sso-session (the AWS CLI, Terraform provider aliases, the
// Go SDK's SSOTokenProvider) refresh without a lock, so all but the first
// of them present a token that has just been used; botocore shrugs a lost
// race off, the Go SDK fails the caller, and without the grace the loser's
// request revoked the winner's tokens too. Handing back the same pair,
// rather than minting a new one per request, keeps the grant a single
// chain, which is what keeps reuse detection meaningful: someone who
// replays a stolen token within the grace gets the token the legitimate
// client also holds, so whichever of them presents it second (after its
// grace) still revokes the grant, and the stolen token itself is worth
// nothing once the grace has passed. The successor is not stored in a
// readable form: it is derived from the presented token with the
// token-hash key (successorValues), so only this server can recompute it
// and only someone who holds the presented token can ask.
func (s *Service) refreshTokenGrant(ctx context.Context, cl *store.Client, in *CreateTokenInput) (*CreateTokenOutput, error) {
	if in.RefreshToken == "" {
		return nil, awsproto.OIDCInvalidRequest("refreshToken is required.")
	}
	invalid := func() *awsproto.Error { return awsproto.OIDCInvalidGrant("Invalid refresh token.") }
	now := s.now()
	// Read what does not need the write lock outside the transaction, so
	// that concurrent refreshes only serialize on the writes.
	t, g, err := s.readRefresh(ctx, string(in.RefreshToken), now)
	if err != nil {
		return nil, err
	}
	if t == nil || g == nil || t.Kind != store.TokenRefresh {
		return nil, invalid()
	}
	if g.ClientID != cl.ID {
		return nil, invalid()
	}
	// iss is what rotating the token writes, made here if it was unused
	// when read, so that the write transaction only runs the statements.
	var iss *issuance
	if t.UsedAt.IsZero() || s.inRefreshGrace(t, now) {
		if !g.RevokedAt.IsZero() || !now.Before(g.ExpiresAt) || !now.Before(t.ExpiresAt) {
			return nil, awsproto.OIDCInvalidGrant("The refresh token has expired or been revoked.")
		}
		// With an access cache, revocation records answer for the user
		// (disabled, deleted) and the portal session (signed out), and the
		// grant's expiry is the session's; without one, read them.
		var u *store.User
		if s.Cache == nil {
			var why string
			u, _, why, err = s.grantCheck(ctx, s.Store, g.UserID, g.SessionID, now)
			if err != nil {
				return nil, err
			}
			if why != "" {
				return nil, awsproto.OIDCInvalidGrant(why)
			}
		}
		revoked, err := s.revoked(ctx, g.UserID, g.ID, g.SessionID, g.CreatedAt)
		if err != nil {
			return nil, fmt.Errorf("check revocation of grant: %w", err)
		}
		if revoked {
			return nil, awsproto.OIDCInvalidGrant("The refresh token has been revoked.")
		}
		if t.UsedAt.IsZero() {
			if u == nil {
				// The revocation check has just loaded the user.
				if u, err = s.Cache.User(ctx, g.UserID); err != nil && fault.KindOf(err) != fault.NotFound {
					return nil, err
				}
			}
			iss, err = s.newIssuance(ctx, cl, g, in.GrantType, in.RefreshToken, userName(u), now)
			if err != nil {
				return nil, err
			}
		}
	}

	// Single use is decided here, by one conditional UPDATE under the
	// token's row lock, in the transaction that stores the successors and
	// the event (RotateToken; on PostgreSQL at READ COMMITTED, so that
	// rotations of other chains never conflict with it). The grant is not:
	// tokens minted while another replica revokes it are refused on use,
	// as the revocation covers everything issued under the grant.
	if iss != nil {
		marked, err := s.Store.RotateToken(ctx, t.Hash, now, iss.tokens, iss.event)
		if err != nil {
			return nil, err
		}
		if marked {
			return iss.out, nil
		}
	}
	var out *CreateTokenOutput
	var result error
	reused := false
	err = s.Store.Update(ctx, func(tx store.Tx) error {
		out, result, reused = nil, nil, false
		// Used before, or since it was read: read it again to tell a race
		// within the grace from a reuse.
		t, err := tx.GetToken(ctx, t.Hash)
		if err != nil {
			return err
		}
		if !t.UsedAt.IsZero() && s.inRefreshGrace(t, now) {
			out, err = s.successor(ctx, tx, t, in.RefreshToken, now)
			if err != nil || out == nil {
				// No successor to hand back (issued before a key rotation
				// or by an older version): refuse, but this is a race, not
				// a replay, so revoke nothing.
				result = invalid()
				return err
			}
			out.userID = g.UserID
			actx, err := s.asUser(ctx, tx, g.UserID)
			if err != nil {
				return err
			}
			return s.Audit.Record(actx, tx, audit.Entry{
				Source: audit.SourceOIDC, Name: "CreateToken",
				Params:   map[string]string{"clientId": cl.ID, "grantType": in.GrantType, "reason": "refresh token presented again within the rotation grace; its successor returned"},
				Response: map[string]any{"tokenType": out.TokenType, "expiresIn": out.ExpiresIn, "refreshTokenIssued": true},
			})
		}
		if !t.UsedAt.IsZero() {
			e := invalid()
			result, reused = e, true
			if err := s.revokeGrant(ctx, tx, t.GrantID, now); err != nil {
				return err
			}
			return s.Audit.Record(ctx, tx, audit.Entry{
				Source: audit.SourceOIDC, Name: "CreateToken",
				Params:    map[string]string{"clientId": cl.ID, "grantType": in.GrantType, "reason": "refresh token reuse; grant revoked"},
				ErrorCode: e.Code, ErrorMsg: e.Message,
			})
		}
		// Unused although RotateToken did not mark it, or read as used
		// before: neither can happen, as nothing clears UsedAt.
		return fmt.Errorf("refresh token of grant %q: stored as unused but not marked used", t.GrantID)
	})
	if err != nil {
		return nil, err
	}
	if reused {
		s.tokens.dropGrant(t.GrantID)
		s.logger().LogAttrs(ctx, slog.LevelWarn, "refresh token reused; grant revoked",
			slog.String("client_id", cl.ID), slog.String("client_name", cl.Name))
	}
	if result != nil {
		return nil, result
	}
	return out, nil
}

// readRefresh reads the refresh token presented with the given hashes
// (under each token-hash key, newest first) and its grant, t or g nil for
// none, and first refuses a source past ClientAuthFailureLimits, the check
// createToken leaves to this grant. The counters come from the store in
// the same query as the token (Store.ReadRefresh), so the limit holds
// across replicas and restarts exactly as a separate read would make it.
// That one query does it all when the token is stored under the newest key
// and its grant exists, as it nearly always is; otherwise each is read on
// its own.
func (s *Service) readRefresh(ctx context.Context, value string, now time.Time) (*store.Token, *store.Grant, error) {
	hashes := s.Keys.Hashes(value)
	if ws := s.failureWindows(ctx); len(hashes) > 0 && len(ws) <= store.MaxRefreshRates {
		rr, err := s.Store.ReadRefresh(ctx, hashes[0], ws, now)
		if err == nil {
			if err := pastFailureLimits("CreateToken", rr.Counts); err != nil {
				return nil, nil, err
			}
			return &rr.Token, &rr.Grant, nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, nil, err
		}
	}
	if err := s.checkFailureLimits(ctx, "CreateToken"); err != nil {
		return nil, nil, err
	}
	t, err := keyring.Find(ctx, s.Keys, value, func(h string) (*store.Token, error) { return s.Store.GetToken(ctx, h) })
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, err
	}
	g, err := s.Store.GetGrant(ctx, t.GrantID)
	if errors.Is(err, store.ErrNotFound) {
		return t, nil, nil
	} else if err != nil {
		return nil, nil, err
	}
	return t, g, nil
}

// inRefreshGrace reports whether the used refresh token t was rotated less
// than RefreshGrace before now.
func (s *Service) inRefreshGrace(t *store.Token, now time.Time) bool {
	return s.RefreshGrace > 0 && !t.UsedAt.IsZero() && now.Sub(t.UsedAt) < s.RefreshGrace
}

// successorLabel separates the derivation of successor tokens from every
// other value hashed with the token-hash key; the NUL bytes cannot occur in
// bearer values, codes or names that are hashed for storage.
const successorLabel = "\x00gatehouse/oidc/refresh-successor\x00"

// successorValues returns the access and refresh token values that
// rotating the refresh token rt issues, derived under every token-hash key
// (newest first): HMAC-SHA256 with the key, over a label and rt. They are
// as unpredictable as random values to anyone without the key, and rt is
// 256 random bits, so knowing stored hashes does not reveal them.
func (s *Service) successorValues(rt Secret) (access, refresh []string) {
	for _, h := range s.Keys.Hashes(successorLabel + "access\x00" + string(rt)) {
		_, v, _ := strings.Cut(h, ".")
		access = append(access, "aoa"+v)
	}
	for _, h := range s.Keys.Hashes(successorLabel + "refresh\x00" + string(rt)) {
		_, v, _ := strings.Cut(h, ".")
		refresh = append(refresh, "aor"+v)
	}
	return access, refresh
}

// maxSuccessorHops bounds how many rotations, each within the grace of the
// one before, successor follows.
const maxSuccessorHops = 8

// successor returns the tokens that the first use of the refresh token
// presented as rt (stored as t) issued, or nil if they cannot be found or
// no longer work. If that refresh token has itself been rotated within its
// grace, its successor is returned instead (and so on), so that a client
// that lost a race never caches a refresh token that is already used.
func (s *Service) successor(ctx context.Context, tx store.Tx, t *store.Token, rt Secret, now time.Time) (*CreateTokenOutput, error) {
	for range maxSuccessorHops {
		a, r, av, rv, err := s.findSuccessor(ctx, tx, t.GrantID, rt)
		if err != nil || a == nil {
			return nil, err
		}
		if !r.UsedAt.IsZero() {
			if !s.inRefreshGrace(r, now) {
				return nil, nil
			}
			t, rt = r, Secret(rv)
			continue
		}
		if !now.Before(a.ExpiresAt) {
			return nil, nil
		}
		return &CreateTokenOutput{
			AccessToken: Secret(av), TokenType: "Bearer",
			ExpiresIn: max(int32(a.ExpiresAt.Sub(now)/time.Second), 1), RefreshToken: Secret(rv),
		}, nil
	}
	return nil, nil
}

// findSuccessor finds the stored access and refresh token that rotating
// rt issued under grantID, and their values; a is nil if there are none.
func (s *Service) findSuccessor(ctx context.Context, tx store.Tx, grantID string, rt Secret) (a, r *store.Token, av, rv string, err error) {
	get := func(h string) (*store.Token, error) { return tx.GetToken(ctx, h) }
	accessValues, refreshValues := s.successorValues(rt)
	for i := range accessValues {
		a, err := findByHashes(s.Keys.Hashes(accessValues[i]), get)
		if errors.Is(err, store.ErrNotFound) {
			continue
		} else if err != nil {
			return nil, nil, "", "", err
		}
		r, err := findByHashes(s.Keys.Hashes(refreshValues[i]), get)
		if errors.Is(err, store.ErrNotFound) {
			continue
		} else if err != nil {
			return nil, nil, "", "", err
		}
		if a.Kind != store.TokenAccess || r.Kind != store.TokenRefresh || a.GrantID != grantID || r.GrantID != grantID {
			return nil, nil, "", "", nil
		}
		return a, r, accessValues[i], refreshValues[i], nil
	}
	return nil, nil, "", "", nil
}

// errHashMiss is returned by a code's redeeming transaction when the code
// is found under none of the token-hash keys loaded: redeemAfterMiss then
// looks for keys another replica has just added.
var errHashMiss = errors.New("code not found under the loaded token-hash keys")

// redeemAfterMiss runs redeem again after it missed the code value under
// every hash in *hashes: with the value's hashes under the token-hash keys
// the ring has loaded since (keyring.Ring.MoreHashes, whose reload is
// bounded; it runs outside the transaction, which must not read the keys),
// and *retried set so that a second miss is the usual invalid grant.
func (s *Service) redeemAfterMiss(ctx context.Context, value string, hashes *[]string, retried *bool, redeem func(store.Tx) error) error {
	more, err := s.Keys.MoreHashes(ctx, value, *hashes)
	if err != nil {
		return err
	}
	*hashes, *retried = more, true
	return s.Store.Update(ctx, redeem)
}

// findByHashes looks a bearer value up under each of its hashes (newest
// key first), so values stored before a key rotation are still found.
func findByHashes[T any](hashes []string, get func(hash string) (*T, error)) (*T, error) {
	err := store.ErrNotFound
	for _, h := range hashes {
		var v *T
		if v, err = get(h); err == nil {
			return v, nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	return nil, err
}

// newGrant creates the grant behind a new chain of tokens. It ends when the
// portal session it came from ends.
func (s *Service) newGrant(ctx context.Context, tx store.Tx, cl *store.Client, u *store.User, sess *store.Session, scopes []string, now time.Time) (*store.Grant, error) {
	id, err := s.random(16)
	if err != nil {
		return nil, err
	}
	g := &store.Grant{
		ID: "grant-" + id, ClientID: cl.ID, UserID: u.ID, SessionID: sess.IDHash, Scopes: scopes,
		MFA: sess.MFA, AuthTime: sess.AuthTime, CreatedAt: now, ExpiresAt: sess.ExpiresAt,
	}
	if err := tx.CreateGrant(ctx, g); err != nil {
		return nil, err
	}
	return g, nil
}

// issue creates an access token (and, for scoped registrations, a refresh
// token) for g and records the CreateToken event, as the user named
// userName ("" if the user no longer exists).
func (s *Service) issue(ctx context.Context, tx store.Tx, cl *store.Client, g *store.Grant, grantType, userName string, now time.Time) (*CreateTokenOutput, error) {
	iss, err := s.newIssuance(ctx, cl, g, grantType, "", userName, now)
	if err != nil {
		return nil, err
	}
	return iss.out, iss.write(ctx, tx)
}

// issuance is what issuing tokens writes: the tokens (as stored) and the
// CreateToken event, and the answer. It is made before the transaction
// that writes it where it can be, so that the transaction (on SQLite run
// with those of other requests on one goroutine, group commit) does not
// also compute keyed hashes and encode the event.
type issuance struct {
	out    *CreateTokenOutput
	tokens []store.Token
	event  *store.EventRecord
}

// newIssuance makes the tokens that issue stores for g, and the event, as
// the user named userName. The values are random or, when rotating the
// refresh token parent, its successorValues.
func (s *Service) newIssuance(ctx context.Context, cl *store.Client, g *store.Grant, grantType string, parent Secret, userName string, now time.Time) (*issuance, error) {
	refresh := issuesRefreshTokens(cl)
	life := LegacyTokenLifetime
	if len(cl.Scopes) > 0 {
		life = AccessTokenLifetime
	}
	exp := now.Add(life)
	if exp.After(g.ExpiresAt) {
		exp = g.ExpiresAt
	}
	if !now.Before(exp) {
		return nil, awsproto.OIDCInvalidGrant("The sign-in session has ended.")
	}
	var derivedAccess, derivedRefresh []string
	if parent != "" {
		derivedAccess, derivedRefresh = s.successorValues(parent)
	}
	access, err := s.tokenValue("aoa", derivedAccess)
	if err != nil {
		return nil, err
	}
	iss := &issuance{tokens: make([]store.Token, 1, 2)}
	iss.tokens[0] = store.Token{Hash: s.Keys.Hash(access), Kind: store.TokenAccess, GrantID: g.ID, CreatedAt: now, ExpiresAt: exp}
	iss.out = &CreateTokenOutput{AccessToken: Secret(access), TokenType: "Bearer", ExpiresIn: int32(exp.Sub(now) / time.Second), userID: g.UserID}
	if iss.out.ExpiresIn < 1 {
		iss.out.ExpiresIn = 1
	}
	if refresh {
		rt, err := s.tokenValue("aor", derivedRefresh)
		if err != nil {
			return nil, err
		}
		iss.tokens = append(iss.tokens, store.Token{Hash: s.Keys.Hash(rt), Kind: store.TokenRefresh, GrantID: g.ID, CreatedAt: now, ExpiresAt: g.ExpiresAt})
		iss.out.RefreshToken = Secret(rt)
	}
	// CloudTrail's Username of Identity Center sign-in events is the
	// user name, so LookupEvents with AttributeKey=Username finds them.
	a := audit.ActorFrom(ctx)
	a.Identity = audit.Identity{Type: "IdentityCenterUser", PrincipalID: g.UserID, UserID: g.UserID, UserName: userName}
	iss.event, err = s.Audit.Build(audit.WithActor(ctx, a), audit.Entry{
		Source: audit.SourceOIDC, Name: "CreateToken",
		Params:   map[string]string{"clientId": cl.ID, "grantType": grantType},
		Response: map[string]any{"tokenType": iss.out.TokenType, "expiresIn": iss.out.ExpiresIn, "refreshTokenIssued": refresh},
	})
	if err != nil {
		return nil, fmt.Errorf("audit CreateToken: %w", err)
	}
	return iss, nil
}

// write stores the tokens and the event of iss in tx.
func (iss *issuance) write(ctx context.Context, tx store.Tx) error {
	if err := tx.CreateTokens(ctx, iss.tokens); err != nil {
		return err
	}
	if err := tx.AppendEvent(ctx, iss.event); err != nil {
		return fmt.Errorf("audit CreateToken: %w", err)
	}
	return nil
}

// userName is u's name, or "" for no user.
func userName(u *store.User) string {
	if u == nil {
		return ""
	}
	return u.UserName
}

// asUser returns ctx whose audit actor is the Identity Center user userID,
// the one whom the tokens of a CreateToken event speak for. CloudTrail's
// Username of Identity Center sign-in events is the user name, so
// LookupEvents with AttributeKey=Username finds them; a user deleted
// meanwhile is named by ID only.
func (s *Service) asUser(ctx context.Context, tx store.Tx, userID string) (context.Context, error) {
	a := audit.ActorFrom(ctx)
	a.Identity = audit.Identity{Type: "IdentityCenterUser", PrincipalID: userID, UserID: userID}
	if u, err := tx.GetUser(ctx, userID); err == nil {
		a.Identity.UserName = u.UserName
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("audit CreateToken: get user %q: %w", userID, err)
	}
	return audit.WithActor(ctx, a), nil
}

// tokenValue returns the newest of derived, or else a random value with
// prefix.
func (s *Service) tokenValue(prefix string, derived []string) (string, error) {
	if len(derived) > 0 {
		return derived[0], nil
	}
	v, err := s.random(bearerValueBytes)
	if err != nil {
		return "", err
	}
	return prefix + v, nil
}

// revokeGrant ends a grant: every access and refresh token of it, and
// (through the revocation record) every role credential issued under it.
func (s *Service) revokeGrant(ctx context.Context, tx store.Tx, grantID string, now time.Time) error {
	if grantID == "" {
		return nil
	}
	g, err := tx.GetGrant(ctx, grantID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if g.RevokedAt.IsZero() {
		g.RevokedAt = now
		if err := tx.UpdateGrant(ctx, g); err != nil {
			return err
		}
	}
	return tx.PutRevocation(ctx, &store.Revocation{Kind: store.RevokeGrant, Subject: grantID, At: now, ExpiresAt: now.Add(s.revocationTTL())})
}
