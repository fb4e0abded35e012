package oidc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/awsproto"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// RegisterClientInput is the RegisterClient request body.
type RegisterClientInput struct {
	ClientName             string   `json:"clientName"`
	ClientType             string   `json:"clientType"`
	Scopes                 []string `json:"scopes"`
	RedirectURIs           []string `json:"redirectUris"`
	GrantTypes             []string `json:"grantTypes"`
	IssuerURL              string   `json:"issuerUrl"`
	EntitledApplicationARN string   `json:"entitledApplicationArn"`
}

// RegisterClientOutput is the RegisterClient response body. Times are epoch
// seconds.
type RegisterClientOutput struct {
	ClientID              string `json:"clientId"`
	ClientSecret          Secret `json:"clientSecret"`
	ClientIDIssuedAt      int64  `json:"clientIdIssuedAt"`
	ClientSecretExpiresAt int64  `json:"clientSecretExpiresAt"`
	AuthorizationEndpoint string `json:"authorizationEndpoint,omitempty"`
	TokenEndpoint         string `json:"tokenEndpoint,omitempty"`
}

// Registration limits. The botocore sso-oidc model constrains none of
// these fields; the caps keep a registration row small (under 16 KiB),
// far above what any client sends (the CLI: a 20-character name, one
// scope, one redirect URI).
const (
	maxNameLen         = 256 // characters
	maxScopes          = 25
	maxRedirectURIs    = 10
	maxURILen          = 1024
	clientIDBytes      = 16 // 22 base64url characters, like AWS's IDs
	clientSecretBytes  = 32 // 256 bits
	bearerValueBytes   = 32
	deviceCodeBytes    = 30 // 40 characters
	maxScopeLen        = 128
	maxStateLen        = 1024
	challengeLen       = 43
	minVerifierLen     = 43
	maxVerifierLen     = 128
	userCodeLen        = 8
	userCodeAlphabet   = "BCDFGHJKLMNPQRSTVWXZ" // RFC 8628 §6.1
	userCodeAttempts   = 5
	lookupFailureLimit = 10
)

// scopeRe accepts the scope forms AWS uses: "sso:account:access",
// "codewhisperer:completions", "openid", "sso-portal:*".
var scopeRe = regexp.MustCompile(`^[a-z][a-z0-9_.-]*(:[a-zA-Z0-9_.*-]+)*$`)

var knownGrants = []string{GrantAuthorizationCode, GrantRefreshToken, GrantDeviceCode}

// registerClient serves RegisterClient.
func (s *Service) registerClient(r *http.Request) (any, error) {
	ctx := r.Context()
	if err := s.checkLimits(r, "RegisterClient", RegisterClientLimits); err != nil {
		return nil, err
	}
	var in RegisterClientInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if in.ClientName == "" || utf8.RuneCountInString(in.ClientName) > maxNameLen {
		return nil, awsproto.OIDCInvalidRequest("clientName is required and must be at most 256 characters.")
	}
	if err := checkClientName(in.ClientName); err != nil {
		return nil, err
	}
	if in.ClientType != "public" {
		return nil, awsproto.OIDCInvalidClientMetadata("clientType must be public.")
	}
	if len(in.Scopes) > maxScopes {
		return nil, awsproto.OIDCInvalidScope("Too many scopes.")
	}
	for _, sc := range in.Scopes {
		if len(sc) > maxScopeLen || !scopeRe.MatchString(sc) {
			return nil, awsproto.OIDCInvalidScope("Invalid scope: " + truncate(sc))
		}
	}
	for _, g := range in.GrantTypes {
		if !slices.Contains(knownGrants, g) {
			return nil, awsproto.OIDCUnsupportedGrantType("Unsupported grant type: " + truncate(g))
		}
	}
	for i, g := range in.GrantTypes {
		if slices.Contains(in.GrantTypes[:i], g) {
			return nil, awsproto.OIDCInvalidClientMetadata("grantTypes lists " + g + " more than once.")
		}
	}
	if len(in.RedirectURIs) > maxRedirectURIs {
		return nil, awsproto.OIDCInvalidRedirectURI("Too many redirect URIs.")
	}
	for _, u := range in.RedirectURIs {
		if err := checkRedirectURI(u); err != nil {
			return nil, err
		}
	}
	pkce := slices.Contains(in.GrantTypes, GrantAuthorizationCode)
	if pkce && len(in.RedirectURIs) == 0 {
		return nil, awsproto.OIDCInvalidRedirectURI("redirectUris is required for the authorization_code grant.")
	}
	if len(in.IssuerURL) > maxURILen {
		return nil, awsproto.OIDCInvalidClientMetadata("issuerUrl must be at most 1024 characters.")
	}
	if len(in.EntitledApplicationARN) > maxURILen {
		return nil, awsproto.OIDCInvalidClientMetadata("entitledApplicationArn must be at most 1024 characters.")
	}

	id, err := s.random(clientIDBytes)
	if err != nil {
		return nil, err
	}
	secret, err := s.random(clientSecretBytes)
	if err != nil {
		return nil, err
	}
	now := s.now()
	cl := &store.Client{
		ID:           id,
		SecretHash:   s.Keys.Hash(secret),
		Name:         in.ClientName,
		Type:         in.ClientType,
		Scopes:       in.Scopes,
		GrantTypes:   in.GrantTypes,
		RedirectURIs: in.RedirectURIs,
		IssuerURL:    in.IssuerURL,
		IssuedAt:     now,
		ExpiresAt:    now.Add(RegistrationLifetime),
	}
	out := &RegisterClientOutput{
		ClientID:              id,
		ClientSecret:          Secret(secret),
		ClientIDIssuedAt:      now.Unix(),
		ClientSecretExpiresAt: cl.ExpiresAt.Unix(),
	}
	if pkce {
		out.AuthorizationEndpoint = s.BaseURL + "/authorize"
		out.TokenEndpoint = s.BaseURL + "/token"
	}
	err = s.Store.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateClient(ctx, cl); err != nil {
			return err
		}
		return s.Audit.Record(ctx, tx, audit.Entry{
			Source: audit.SourceOIDC, Name: "RegisterClient",
			Params:   registerParams(&in),
			Response: map[string]any{"clientId": id, "clientSecretExpiresAt": out.ClientSecretExpiresAt},
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// registerParams is what the audit event of a registration keeps of its
// request: the name cut to 64 characters, the type, the grant types, the
// first 5 scopes and the first redirect URI with their counts, and the
// issuer URL's first 128 bytes. A registration at every cap (10 redirect
// URIs of 1,024 bytes, 25 scopes) thus adds under 2 KiB of audit event to
// its row, not a second copy of it; the registration itself keeps
// everything.
func registerParams(in *RegisterClientInput) map[string]any {
	p := map[string]any{
		"clientName": clipRunes(in.ClientName, 64), "clientType": in.ClientType,
		"grantTypes": in.GrantTypes, "scopeCount": len(in.Scopes), "redirectUriCount": len(in.RedirectURIs),
	}
	if len(in.Scopes) > 0 {
		p["scopes"] = in.Scopes[:min(len(in.Scopes), 5)]
	}
	if len(in.RedirectURIs) > 0 {
		p["redirectUri"] = clipRunes(in.RedirectURIs[0], 256)
	}
	if in.IssuerURL != "" {
		p["issuerUrl"] = clipRunes(in.IssuerURL, 128)
	}
	return p
}

// clipRunes returns s cut to at most n characters, ending in "…" when cut.
func clipRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// checkRedirectURI accepts absolute http(s) URIs without fragment; plain
// http only for loopback hosts (RFC 8252 §7.3, §8.3).
func checkRedirectURI(raw string) error {
	bad := func(why string) error {
		return awsproto.OIDCInvalidRedirectURI("Invalid redirect URI " + truncate(raw) + ": " + why)
	}
	if len(raw) > maxURILen {
		return bad("too long")
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return bad("it must be an absolute URI")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return bad("it must not have a fragment")
	}
	if u.User != nil {
		return bad("it must not carry user information")
	}
	if !validPort(u) {
		return bad("the port must be a number from 1 to 65535")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return bad("http is allowed only for loopback hosts")
		}
	default:
		return bad("the scheme must be http or https")
	}
	return nil
}

// validPort reports whether u has no port or a decimal port from 1 to
// 65535 without leading zeros (RFC 3986 §3.2.3 allows any digits; a TCP
// port cannot be more). url.Parse checks only that the port is digits.
func validPort(u *url.URL) bool {
	if strings.HasSuffix(u.Host, ":") {
		return false // "host:" with an empty port
	}
	p := u.Port()
	if p == "" {
		return true
	}
	n, err := strconv.Atoi(p)
	return err == nil && n >= 1 && n <= 65535 && p[0] != '0'
}

// checkClientName refuses names with characters that would hide or
// disguise text where the name is shown (the approval page asks "Did you
// start this sign-in from <name>?"): C0 and C1 controls, bidirectional
// embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069; see
// Unicode UAX #9 and CVE-2021-42574), other invisible format characters
// (category Cf: zero-width spaces and joiners, U+FEFF, tag characters),
// line and paragraph separators, private-use characters (category Co, no
// agreed glyph) and noncharacters (U+FDD0–U+FDEF and the last two code
// points of every plane, Unicode §23.7), runs of more than
// maxCombiningRun combining marks (stacked marks draw over neighbouring
// text), and names with no visible character: a name must hold a letter,
// number, punctuation or symbol other than the blank fillers (U+115F,
// U+1160, U+3164, U+FFA0, U+2800), so that a name of spaces, fillers or
// marks alone is refused. It also refuses invalid UTF-8.
func checkClientName(name string) error {
	if !utf8.ValidString(name) {
		return awsproto.OIDCInvalidClientMetadata("clientName is not valid UTF-8.")
	}
	visible := false
	marks := 0
	for _, c := range name {
		switch {
		case unicode.In(c, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp):
			return awsproto.OIDCInvalidClientMetadata(fmt.Sprintf("clientName must not contain control or invisible formatting characters (found %U).", c))
		case unicode.Is(unicode.Co, c) || isNoncharacter(c):
			return awsproto.OIDCInvalidClientMetadata(fmt.Sprintf("clientName must not contain private-use characters or noncharacters (found %U).", c))
		}
		if unicode.In(c, unicode.Mn, unicode.Me, unicode.Mc) {
			if marks++; marks > maxCombiningRun {
				return awsproto.OIDCInvalidClientMetadata(fmt.Sprintf("clientName must not stack more than %d combining marks on one character.", maxCombiningRun))
			}
			continue
		}
		marks = 0
		if unicode.In(c, unicode.L, unicode.N, unicode.P, unicode.S) && !slices.Contains(blankFillers, c) {
			visible = true
		}
	}
	if !visible {
		return awsproto.OIDCInvalidClientMetadata("clientName must contain a visible letter, number, punctuation mark or symbol.")
	}
	return nil
}

// maxCombiningRun is the most combining marks allowed in a row: enough for
// every script's real stacks (Vietnamese and Indic scripts use two or
// three), far below the hundreds that draw over neighbouring lines.
const maxCombiningRun = 4

// blankFillers are letters and symbols that draw nothing: the Hangul
// fillers and the blank Braille pattern.
var blankFillers = []rune{'\u115F', '\u1160', '\u3164', '\uFFA0', '\u2800'}

// isNoncharacter reports whether c is one of Unicode's 66 noncharacters.
func isNoncharacter(c rune) bool {
	return (c >= 0xFDD0 && c <= 0xFDEF) || c&0xFFFE == 0xFFFE
}

// isLoopback reports whether host is a loopback host of RFC 8252 §7.3 (and
// "localhost", which the CLI does not send but other tools do).
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// mayUse reports whether cl may use grant. Registrations without grantTypes
// (the device-code form every CLI sends) may use the device code and
// refresh grants.
func mayUse(cl *store.Client, grant string) bool {
	if len(cl.GrantTypes) == 0 {
		return grant == GrantDeviceCode || grant == GrantRefreshToken
	}
	return slices.Contains(cl.GrantTypes, grant)
}

// issuesRefreshTokens reports whether tokens granted to cl come with a
// refresh token: scoped registrations that may refresh (spec §3.2).
func issuesRefreshTokens(cl *store.Client) bool {
	return len(cl.Scopes) > 0 && mayUse(cl, GrantRefreshToken)
}

// client returns a registration by ID, from the cache or the store.
func (s *Service) client(ctx context.Context, id string) (*store.Client, error) {
	if cl := s.clients.get(id); cl != nil {
		return cl, nil
	}
	cl, err := s.Store.GetClient(ctx, id)
	if err != nil {
		return nil, err
	}
	s.clients.put(cl)
	return cl, nil
}

// Bounds on the client credentials a request may present, checked before
// any lookup. Gatehouse issues 22-character IDs and 43-character secrets;
// the bounds leave room for AWS-issued forms (their secrets are long
// signed strings) in recorded traces.
const (
	maxClientIDLen     = 256  // bytes
	maxClientSecretLen = 4096 // bytes
)

// authenticateClient checks clientId and clientSecret: unknown client,
// wrong secret or expired registration is InvalidClientException (401),
// audited as a failure of op; credentials over their bounds are
// InvalidRequestException. Failed authentications are counted per source
// address (ClientAuthFailureLimits): past the limit the source's requests
// are refused with SlowDownException, right credentials or wrong, before
// any lookup in the store, and not audited.
func (s *Service) authenticateClient(ctx context.Context, op, clientID string, secret Secret) (*store.Client, error) {
	cl, err := s.verifyClient(ctx, op, clientID, secret)
	if err != nil {
		return nil, err
	}
	if err := s.checkFailureLimits(ctx, op); err != nil {
		return nil, err
	}
	return cl, nil
}

// verifyClient is authenticateClient except that, when the credentials
// are right and the registration was cached, it leaves the check of the
// source's ClientAuthFailureLimits to the caller, which must make it
// before it answers anything else (the refresh grant reads the counters in
// the query that reads its token). The counters live in the store only, so
// that the limit holds across replicas and restarts; what this process
// remembers (the registration) says nothing about them. Every other path
// checks them first: a registration not cached is read from the store
// only for a source under the limits, and a failure is counted only then.
func (s *Service) verifyClient(ctx context.Context, op, clientID string, secret Secret) (*store.Client, error) {
	checked := false
	fail := func(e *awsproto.Error) error {
		if !checked {
			if err := s.checkFailureLimits(ctx, op); err != nil {
				return err
			}
		}
		return s.clientRequestFailed(ctx, op, clientID, e)
	}
	if len(clientID) > maxClientIDLen {
		return nil, fail(awsproto.OIDCInvalidClient("Unknown client."))
	}
	if len(secret) > maxClientSecretLen {
		return nil, fail(awsproto.OIDCInvalidRequest("clientSecret must be at most 4096 characters."))
	}
	cl := s.clients.get(clientID)
	if cl == nil {
		if err := s.checkFailureLimits(ctx, op); err != nil {
			return nil, err
		}
		checked = true
		var err error
		cl, err = s.client(ctx, clientID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, fail(awsproto.OIDCInvalidClient("Unknown client."))
		} else if err != nil {
			return nil, err
		}
	}
	ok, err := s.Keys.Verify(ctx, string(secret), cl.SecretHash)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fail(awsproto.OIDCInvalidClient("Invalid client credentials."))
	}
	if !cl.ExpiresAt.IsZero() && !s.now().Before(cl.ExpiresAt) {
		return nil, fail(awsproto.OIDCInvalidClient("The client registration has expired."))
	}
	return cl, nil
}

// clientRequestFailed counts a failed client authentication against the
// source's ClientAuthFailureLimits and records it, unless this failure is
// past a limit: then it answers SlowDownException and records nothing, so
// that the audit events a source can cause are bounded by the limits.
func (s *Service) clientRequestFailed(ctx context.Context, op, clientID string, e *awsproto.Error) error {
	if err := s.countFailure(ctx, op); err != nil {
		return err
	}
	if err := s.recordFailure(ctx, audit.SourceOIDC, op, map[string]string{"clientId": truncate(clientID)}, e); err != nil {
		return err
	}
	return e
}

// recordFailure writes an audit event for a refused request in its own
// transaction.
func (s *Service) recordFailure(ctx context.Context, source, op string, params any, e *awsproto.Error) error {
	return s.Store.Update(ctx, func(tx store.Tx) error {
		return s.Audit.Record(ctx, tx, audit.Entry{
			Source: source, Name: op, Params: params, ErrorCode: e.Code, ErrorMsg: e.Message,
		})
	})
}
