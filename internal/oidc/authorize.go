package oidc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// AuthorizeRequest is a validated GET /authorize request (spec/aws-wire.md
// §3.4). RedirectURI is the one the client sent, port included.
type AuthorizeRequest struct {
	ClientID, ClientName, RedirectURI, State, CodeChallenge string
	Scopes                                                  []string
}

// RedirectError is an authorization error that goes back to the client's
// (validated) redirect URI as ?error=...&error_description=...&state=...
// (RFC 6749 §4.1.2.1).
type RedirectError struct{ RedirectURI, State, Code, Description string }

// Error implements the error interface.
func (e *RedirectError) Error() string {
	return "authorize: " + e.Code + ": " + e.Description
}

// RedirectURL returns the redirect URI with the error parameters added.
func (e *RedirectError) RedirectURL() string {
	return withParams(e.RedirectURI, "error", e.Code, "error_description", e.Description, "state", e.State)
}

// withParams returns raw with the given key/value pairs added to its query;
// empty values are left out.
func withParams(raw string, kv ...string) string {
	u, err := url.Parse(raw)
	if err != nil {
		// Only validated redirect URIs reach here.
		return raw
	}
	q := u.Query()
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// ErrBadAuthorizeRequest is wrapped by ParseAuthorize errors that must be
// shown on an error page, never redirected: unknown client, missing or
// unregistered redirect URI.
var ErrBadAuthorizeRequest = errors.New("invalid authorization request")

func badAuthorize(msg string) error {
	return &fault.Error{Kind: fault.Validation, Message: msg, Err: ErrBadAuthorizeRequest}
}

// ParseAuthorize validates GET /authorize's query. A *RedirectError means
// the redirect URI is trusted and the error goes back to it
// (RedirectURL()); any other error means show an error page and never
// redirect.
func (s *Service) ParseAuthorize(ctx context.Context, q url.Values) (*AuthorizeRequest, error) {
	for _, k := range []string{"client_id", "redirect_uri"} {
		if len(q[k]) > 1 {
			return nil, badAuthorize("The request repeats " + k + ".")
		}
	}
	clientID, redirectURI := q.Get("client_id"), q.Get("redirect_uri")
	if clientID == "" {
		return nil, badAuthorize("The request has no client_id.")
	}
	cl, err := s.client(ctx, clientID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, badAuthorize("The application is not registered.")
	} else if err != nil {
		return nil, err
	}
	if !cl.ExpiresAt.IsZero() && !s.now().Before(cl.ExpiresAt) {
		return nil, badAuthorize("The application's registration has expired.")
	}
	if redirectURI == "" || !redirectMatches(cl.RedirectURIs, redirectURI) {
		return nil, badAuthorize("The redirect URI is not registered for this application.")
	}
	state := q.Get("state")
	fail := func(code, desc string) error {
		return &RedirectError{RedirectURI: redirectURI, State: state, Code: code, Description: desc}
	}
	for k, v := range q {
		if len(v) > 1 {
			return nil, fail("invalid_request", "The request repeats "+k+".")
		}
	}
	if len(state) > maxStateLen {
		return nil, fail("invalid_request", "state is too long.")
	}
	if !mayUse(cl, GrantAuthorizationCode) {
		return nil, fail("unauthorized_client", "The application is not registered for the authorization_code grant.")
	}
	if q.Get("response_type") != "code" {
		return nil, fail("unsupported_response_type", "response_type must be code.")
	}
	// RFC 7636 §4.4.1, RFC 9700 §2.1.1: S256 only, never a downgrade to
	// plain or to no PKCE.
	if q.Get("code_challenge_method") != "S256" {
		return nil, fail("invalid_request", "code_challenge_method must be S256.")
	}
	challenge := q.Get("code_challenge")
	if !validChallenge(challenge) {
		return nil, fail("invalid_request", "code_challenge must be 43 base64url characters.")
	}
	raw := q.Get("scopes") // what the CLI sends
	if raw == "" {
		raw = q.Get("scope") // RFC 6749 §3.3
	}
	scopes := strings.Fields(raw)
	for _, sc := range scopes {
		if len(sc) > maxScopeLen || !scopeRe.MatchString(sc) || len(cl.Scopes) > 0 && !slices.Contains(cl.Scopes, sc) {
			return nil, fail("invalid_scope", "The scope "+truncate(sc)+" is not allowed for this application.")
		}
	}
	if len(scopes) == 0 {
		scopes = cl.Scopes
	}
	return &AuthorizeRequest{
		ClientID: cl.ID, ClientName: cl.Name, RedirectURI: redirectURI, State: state,
		CodeChallenge: challenge, Scopes: scopes,
	}, nil
}

// validChallenge reports whether c is an S256 challenge: base64url of 32
// bytes, unpadded.
func validChallenge(c string) bool {
	if len(c) != challengeLen {
		return false
	}
	for i := 0; i < len(c); i++ {
		ch := c[i]
		if !(ch >= 'A' && ch <= 'Z' || ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_') {
			return false
		}
	}
	return true
}

// redirectMatches reports whether got is one of the registered redirect
// URIs: exactly, or for loopback hosts with any port (RFC 8252 §7.3; the
// CLI registers http://127.0.0.1/oauth/callback and listens on a random
// port). A port outside 1–65535 never matches.
func redirectMatches(registered []string, got string) bool {
	gu, err := url.Parse(got)
	if err != nil || !validPort(gu) {
		return false
	}
	if slices.Contains(registered, got) {
		return true
	}
	if gu.Scheme != "http" || !isLoopback(gu.Hostname()) || gu.Fragment != "" || gu.User != nil {
		return false
	}
	for _, r := range registered {
		ru, err := url.Parse(r)
		if err != nil || ru.Scheme != "http" || !isLoopback(ru.Hostname()) {
			continue
		}
		if strings.EqualFold(ru.Hostname(), gu.Hostname()) && ru.EscapedPath() == gu.EscapedPath() && ru.RawQuery == gu.RawQuery {
			return true
		}
	}
	return false
}

// IssueCode creates the single-use authorization code for an approved
// request and returns the redirect URL <redirect_uri>?code=...&state=...
// It checks the request again, since the portal may have carried it
// through a sign-in form.
func (s *Service) IssueCode(ctx context.Context, req *AuthorizeRequest, who SignedIn) (string, error) {
	cl, err := s.client(ctx, req.ClientID)
	if err != nil {
		return "", fmt.Errorf("client of authorization request: %w", err)
	}
	now := s.now()
	if !cl.ExpiresAt.IsZero() && !now.Before(cl.ExpiresAt) || !mayUse(cl, GrantAuthorizationCode) ||
		!redirectMatches(cl.RedirectURIs, req.RedirectURI) || !validChallenge(req.CodeChallenge) {
		return "", badAuthorize("The authorization request is no longer valid.")
	}
	if who.UserID == "" || who.SessionID == "" {
		return "", errors.New("issue code: signed-in user and session are required")
	}
	if !who.SessionExpiresAt.IsZero() && !now.Before(who.SessionExpiresAt) {
		return "", &fault.Error{Kind: fault.AccessDenied, Message: "Your session has ended. Sign in again."}
	}
	code, err := s.random(bearerValueBytes)
	if err != nil {
		return "", err
	}
	c := &store.AuthCode{
		CodeHash: s.Keys.Hash(code), ClientID: cl.ID, RedirectURI: req.RedirectURI, Challenge: req.CodeChallenge,
		Scopes: req.Scopes, UserID: who.UserID, SessionID: who.SessionID, CreatedAt: now, ExpiresAt: now.Add(AuthCodeLifetime),
	}
	ctx = who.actor(ctx)
	err = s.Store.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateAuthCode(ctx, c); err != nil {
			return err
		}
		return s.Audit.Record(ctx, tx, audit.Entry{
			Source: audit.SourceOIDC, Name: "Authorize",
			Params: map[string]any{"clientId": cl.ID, "redirectUri": req.RedirectURI, "scopes": req.Scopes},
		})
	})
	if err != nil {
		return "", err
	}
	s.logger().LogAttrs(ctx, slog.LevelInfo, "browser sign-in approved",
		slog.String("principal", who.UserName), slog.String("client_id", cl.ID), slog.String("client_name", cl.Name))
	return withParams(req.RedirectURI, "code", code, "state", req.State), nil
}

// DenyURL returns <redirect_uri>?error=access_denied&error_description=...&state=...
func (s *Service) DenyURL(req *AuthorizeRequest) string {
	e := &RedirectError{RedirectURI: req.RedirectURI, State: req.State, Code: "access_denied", Description: "The user denied the request."}
	return e.RedirectURL()
}
