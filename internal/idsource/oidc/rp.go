package oidcrp

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/idsource"
	"github.com/gatehouse-dev/gatehouse/internal/keyring"
	"github.com/gatehouse-dev/gatehouse/internal/portal"
	"github.com/gatehouse-dev/gatehouse/internal/signin"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// CallbackPath is the redirect URI's path: the provider sends the browser
// back here with the code (or an error) and the state.
const CallbackPath = "/oidc/callback"

// Timing bounds.
const (
	// flowTTL bounds a sign-in from Begin to the callback: the person's
	// time at the provider's sign-in page.
	flowTTL = 10 * time.Minute
	// fetchTimeout bounds each request to the provider (discovery, JWKS,
	// token, userinfo).
	fetchTimeout = 10 * time.Second
	// discoveryTTL is how long a fetched discovery document is reused.
	discoveryTTL = 10 * time.Minute
)

// cookiePrefix names the flow cookies; the rest of the name is a hash
// prefix of the state, so parallel sign-ins in several tabs keep apart.
const cookiePrefix = "gatehouse_oidc_"

// maxNext bounds the return address kept in the flow cookie (bytes).
const maxNext = 1536

// asymmetric are the ID token signature algorithms accepted: those the
// provider advertises among these, RS256 when it advertises none (OpenID
// Connect Discovery §3 makes RS256 the default). "none" and the HMAC
// algorithms never verify: a verifier taking HS256 with the provider's
// public key as the secret would accept anyone's token.
var asymmetric = []string{
	oidc.RS256, oidc.RS384, oidc.RS512, oidc.ES256, oidc.ES384, oidc.ES512, oidc.PS256, oidc.PS384, oidc.PS512, oidc.EdDSA,
}

// Portal is what the relying party needs of the access portal
// (portal.Service).
type Portal interface {
	// Page wraps a page handler: errors become pages.
	Page(h func(w http.ResponseWriter, r *http.Request) error) http.Handler
	// FinishExternal starts the portal session and redirects to next.
	FinishExternal(w http.ResponseWriter, r *http.Request, u *store.User, ext signin.External, next string) error
}

// Events records audit events outside a transaction (audit.Batcher).
type Events interface {
	Record(ctx context.Context, e audit.Entry) error
}

// RP is the OpenID Connect relying party. Set its fields, then Register
// its route and the kind; use it from any number of goroutines.
type RP struct {
	Sources *idsource.Service
	Portal  Portal
	Store   store.Store
	Keys    *keyring.Ring
	Events  Events
	// BaseURL is Gatehouse's public URL; the redirect URI is BaseURL +
	// CallbackPath.
	BaseURL string
	// Secure marks the flow cookie Secure (BaseURL is https).
	Secure bool
	// Client makes the requests to the provider (discovery, JWKS, token,
	// userinfo); nil means one with fetchTimeout. Each request is bounded
	// by fetchTimeout either way.
	Client *http.Client
	Now    func() time.Time
	Log    *slog.Logger
	// Refusals, when set, records the audit events of refused callbacks
	// instead of Events, a bounded number per source address (the
	// callback is unauthenticated).
	Refusals *audit.Throttle

	mu        sync.Mutex
	providers map[string]cachedProvider
}

type cachedProvider struct {
	p       *oidc.Provider
	algs    []string
	fetched time.Time
}

// RedirectURI is what the administrator registers at the provider.
func (rp *RP) RedirectURI() string { return strings.TrimSuffix(rp.BaseURL, "/") + CallbackPath }

// Kind returns the idsource kind for Register.
func (rp *RP) Kind() *idsource.Kind {
	return &idsource.Kind{
		Name:   idsource.OIDC,
		Title:  "OpenID Connect identity provider",
		Fields: fields(),
		Secret: &idsource.Field{Name: SecretName, Label: "Client secret", Required: true,
			Help: "The client secret of the web application at the provider. Sealed at rest, never shown again; enter it again when you change the issuer URL."},
		Check: rp.check,
		Begin: rp.Begin,
		Info: func() []idsource.Info {
			return []idsource.Info{{Label: "Redirect URI (sign-in redirect URI)", Value: rp.RedirectURI()}}
		},
	}
}

// Register mounts GET /oidc/callback on mux.
func (rp *RP) Register(mux *http.ServeMux) {
	mux.Handle("GET "+CallbackPath, rp.Portal.Page(rp.callback))
}

func (rp *RP) now() time.Time { return rp.Now().UTC() }

func (rp *RP) log() *slog.Logger {
	if rp.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return rp.Log
}

// clientCtx returns ctx with rp.Client for go-oidc and x/oauth2.
func (rp *RP) clientCtx(ctx context.Context) context.Context {
	c := rp.Client
	if c == nil {
		c = &http.Client{Timeout: fetchTimeout}
	}
	ctx = oidc.ClientContext(ctx, c)
	return context.WithValue(ctx, oauth2.HTTPClient, c)
}

// check validates settings and fetches the provider's discovery document:
// it must be reachable, name the same issuer, and list the endpoints the
// flow uses.
func (rp *RP) check(ctx context.Context, m map[string]string, hasSecret bool) error {
	s, err := parse(m)
	if err != nil {
		return err
	}
	if !hasSecret {
		return fault.Validationf("Invalid oidc settings: %s is required", SecretName)
	}
	if _, err := rp.discover(ctx, s.Issuer, true); err != nil {
		return fault.Validationf("Cannot use the OpenID Provider at %s: %v", s.Issuer, err)
	}
	return nil
}

// discover returns the provider of issuer, fetching its discovery document
// when not cached, older than discoveryTTL, or fresh is set. go-oidc
// refuses a document whose issuer differs from the URL fetched
// (Discovery §4.3).
func (rp *RP) discover(ctx context.Context, issuer string, fresh bool) (cachedProvider, error) {
	now := rp.now()
	rp.mu.Lock()
	c, ok := rp.providers[issuer]
	rp.mu.Unlock()
	if ok && !fresh && now.Sub(c.fetched) < discoveryTTL {
		return c, nil
	}
	fctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	p, err := oidc.NewProvider(rp.clientCtx(fctx), issuer)
	if err != nil {
		return cachedProvider{}, err
	}
	var meta struct {
		JWKS          string   `json:"jwks_uri"`
		Algs          []string `json:"id_token_signing_alg_values_supported"`
		ResponseTypes []string `json:"response_types_supported"`
	}
	if err := p.Claims(&meta); err != nil {
		return cachedProvider{}, fmt.Errorf("read discovery document: %w", err)
	}
	ep := p.Endpoint()
	if ep.AuthURL == "" || ep.TokenURL == "" || meta.JWKS == "" {
		return cachedProvider{}, errors.New("the discovery document lacks authorization_endpoint, token_endpoint or jwks_uri")
	}
	if len(meta.ResponseTypes) > 0 && !slices.Contains(meta.ResponseTypes, "code") {
		return cachedProvider{}, errors.New("the provider does not support the authorization code flow (response type code)")
	}
	var algs []string
	for _, a := range meta.Algs {
		if slices.Contains(asymmetric, a) {
			algs = append(algs, a)
		}
	}
	if len(meta.Algs) == 0 {
		algs = []string{oidc.RS256}
	}
	if len(algs) == 0 {
		return cachedProvider{}, fmt.Errorf("the provider signs ID tokens only with %s; Gatehouse accepts %s", strings.Join(meta.Algs, ", "), strings.Join(asymmetric, ", "))
	}
	c = cachedProvider{p: p, algs: algs, fetched: now}
	rp.mu.Lock()
	if rp.providers == nil || len(rp.providers) > 16 {
		rp.providers = map[string]cachedProvider{}
	}
	rp.providers[issuer] = c
	rp.mu.Unlock()
	return c, nil
}

// flow is what the sealed cookie keeps between Begin and the callback.
type flow struct {
	State    string    `json:"s"`
	Nonce    string    `json:"n"`
	Verifier string    `json:"v"`
	Next     string    `json:"x,omitempty"`
	Issuer   string    `json:"i"`
	ClientID string    `json:"c"`
	Expires  time.Time `json:"e"`
}

// flowAD binds the sealed cookie to its use.
var flowAD = []byte("gatehouse/idsource/oidc/flow")

func cookieName(state string) string {
	h := sha256.Sum256([]byte(state))
	return cookiePrefix + hex.EncodeToString(h[:8])
}

// config returns the parsed settings and the OAuth 2.0 client of the
// active configuration.
func (rp *RP) config(ctx context.Context) (*settings, cachedProvider, *oauth2.Config, error) {
	m, _, err := rp.Sources.Settings(ctx, idsource.OIDC)
	if err != nil {
		return nil, cachedProvider{}, nil, err
	}
	s, err := parse(m)
	if err != nil {
		return nil, cachedProvider{}, nil, err
	}
	c, err := rp.discover(ctx, s.Issuer, false)
	if err != nil {
		return s, c, nil, err
	}
	return s, c, &oauth2.Config{ClientID: s.ClientID, Endpoint: c.p.Endpoint(), RedirectURL: rp.RedirectURI(), Scopes: s.Scopes}, nil
}

// Begin sends the browser to the provider's authorization endpoint
// (OpenID Connect Core §3.1.2.1) with response_type=code, a PKCE S256
// challenge (RFC 7636 §4.2), and a state and nonce that a sealed cookie
// binds to this browser; next (a checked local path) rides in the cookie.
func (rp *RP) Begin(w http.ResponseWriter, r *http.Request, next string) error {
	ctx := r.Context()
	s, _, oc, err := rp.config(ctx)
	if err != nil {
		return rp.unreachable(err)
	}
	next = portal.SafeNext(next)
	if len(next) > maxNext {
		// A browser drops a cookie over 4 KiB; the sign-in then lands on
		// /start rather than failing.
		next = ""
	}
	f := flow{State: rand.Text() + rand.Text(), Nonce: rand.Text() + rand.Text(), Verifier: oauth2.GenerateVerifier(),
		Next: next, Issuer: s.Issuer, ClientID: s.ClientID, Expires: rp.now().Add(flowTTL)}
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	sealed, err := rp.Keys.Seal(keyring.PurposeSecrets, b, flowAD)
	if err != nil {
		return fmt.Errorf("seal oidc flow: %w", err)
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName(f.State), Value: sealed, Path: CallbackPath, MaxAge: int(flowTTL / time.Second),
		HttpOnly: true, Secure: rp.Secure, SameSite: http.SameSiteLaxMode})
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, oc.AuthCodeURL(f.State, oauth2.S256ChallengeOption(f.Verifier), oidc.Nonce(f.Nonce)), http.StatusFound)
	return nil
}

// unreachable is the page for a provider that cannot be used right now.
func (rp *RP) unreachable(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return portal.PageError(http.StatusServiceUnavailable, "Sign-in is not set up",
			"The OpenID Connect identity provider is not configured. Contact your administrator.", err)
	}
	if _, ok := errors.AsType[*fault.Error](err); ok {
		return portal.PageError(http.StatusServiceUnavailable, "Sign-in is not set up",
			"The OpenID Connect identity provider's settings are incomplete. Contact your administrator.", err)
	}
	return portal.PageError(http.StatusBadGateway, "Your identity provider cannot be reached",
		"Gatehouse could not reach your organisation's identity provider. Try again in a minute; if it keeps failing, contact your administrator.", err)
}

// refusal is one reason a callback is refused.
type refusal struct {
	status           int
	code             string
	heading, message string
}

var (
	refuseState = refusal{http.StatusBadRequest, "InvalidState", "This sign-in cannot be finished",
		"The answer from your identity provider does not belong to a sign-in started in this browser, or it took longer than 10 minutes. Start again from the sign-in page."}
	refuseReplay = refusal{http.StatusBadRequest, "ReplayedCallback", "This sign-in was already finished",
		"The answer from your identity provider was used once already. Start again from the sign-in page."}
	refuseChanged = refusal{http.StatusBadRequest, "SourceChanged", "This sign-in cannot be finished",
		"The identity provider settings changed while you were signing in. Start again from the sign-in page."}
	refuseExchange = refusal{http.StatusForbidden, "CodeExchangeRefused", "Your identity provider refused the sign-in",
		"Gatehouse could not redeem the sign-in at your identity provider. Start again from the sign-in page; if it keeps failing, contact your administrator."}
	refuseToken = refusal{http.StatusForbidden, "InvalidIDToken", "Sign-in refused",
		"The identity provider's answer could not be verified, so Gatehouse did not sign you in. Contact your administrator."}
	refuseClaims = refusal{http.StatusForbidden, "MissingClaims", "Sign-in refused",
		"Your identity provider did not say who you are (no user name or email). Contact your administrator."}
	refuseUnverified = refusal{http.StatusForbidden, "UnverifiedEmail", "Sign-in refused",
		"Your identity provider has not verified your e-mail address, which would be your user name. Verify it there, then sign in again."}
	refuseDisabled = refusal{http.StatusForbidden, "UserDisabled", "Sign-in refused",
		"Your user is disabled in Gatehouse. Contact your administrator."}
)

// refuse records the refusal and returns its page.
func (rp *RP) refuse(ctx context.Context, rf refusal, issuer, detail string, cause error) error {
	params := map[string]any{"identitySource": idsource.OIDC}
	if issuer != "" {
		params["issuer"] = issuer
	}
	e := audit.Entry{Source: audit.SourceSignIn, Name: "UserAuthentication", Type: "AwsServiceEvent", Params: params,
		Response: map[string]string{"result": "Failure"}, ErrorCode: rf.code, ErrorMsg: detail}
	rec := rp.Events.Record
	if rp.Refusals != nil {
		rec = rp.Refusals.Record
	}
	if err := rec(ctx, e); err != nil {
		return fmt.Errorf("audit oidc refusal: %w", err)
	}
	rp.log().Info("oidc sign-in refused", "code", rf.code, "detail", detail, "err", cause)
	return portal.PageError(rf.status, rf.heading, rf.message, fmt.Errorf("%s: %s: %w", rf.code, detail, errOr(cause)))
}

func errOr(err error) error {
	if err == nil {
		return errors.New("refused")
	}
	return err
}

// callback finishes the sign-in: OpenID Connect Core §3.1.2.5–§3.1.3.7.
func (rp *RP) callback(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	q := r.URL.Query()
	state := q.Get("state")
	var f *flow
	if c, err := r.Cookie(cookieName(state)); err == nil && state != "" {
		http.SetCookie(w, &http.Cookie{Name: c.Name, Value: "", Path: CallbackPath, MaxAge: -1,
			HttpOnly: true, Secure: rp.Secure, SameSite: http.SameSiteLaxMode})
		f = rp.openFlow(c.Value, state)
	}
	if e := q.Get("error"); e != "" {
		return rp.providerError(ctx, f, e, q.Get("error_description"))
	}
	if f == nil {
		return rp.refuse(ctx, refuseState, "", "state missing, unknown, expired or of another browser", nil)
	}
	// One use per state, across replicas: a replayed callback is refused
	// before the code reaches the provider again.
	if err := rp.Store.Update(ctx, func(tx store.Tx) error {
		return tx.PutUseMarker(ctx, "oidc-state:"+rp.Keys.Hash(f.State), f.Expires)
	}); errors.Is(err, store.ErrConflict) {
		return rp.refuse(ctx, refuseReplay, f.Issuer, "state already used", nil)
	} else if err != nil {
		return err
	}
	kind, err := rp.Sources.ActiveKind(ctx)
	if err != nil {
		return err
	}
	s, c, oc, err := rp.config(ctx)
	if kind != idsource.OIDC || (err == nil && (s.Issuer != f.Issuer || s.ClientID != f.ClientID)) {
		return rp.refuse(ctx, refuseChanged, f.Issuer, "identity source changed since the sign-in began", err)
	}
	if err != nil {
		return rp.unreachable(err)
	}
	code := q.Get("code")
	if code == "" {
		return rp.refuse(ctx, refuseExchange, f.Issuer, "no code in the callback", nil)
	}
	secret, err := rp.Sources.Secret(ctx, idsource.OIDC)
	if err != nil {
		return err
	}
	oc.ClientSecret = secret
	xctx, cancel := context.WithTimeout(rp.clientCtx(ctx), fetchTimeout)
	defer cancel()
	tok, err := oc.Exchange(xctx, code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		if re, ok := errors.AsType[*oauth2.RetrieveError](err); ok {
			return rp.refuse(ctx, refuseExchange, f.Issuer, "token endpoint: "+clip(re.ErrorCode, 64), err)
		}
		return rp.unreachable(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return rp.refuse(ctx, refuseToken, f.Issuer, "no id_token in the token response", nil)
	}
	// The provider's key set (fetched through rp.Client, cached, fetched
	// again for an unknown key ID) checks the signature.
	v := c.p.Verifier(&oidc.Config{ClientID: s.ClientID, SupportedSigningAlgs: c.algs, Now: rp.Now})
	idt, err := v.Verify(xctx, raw)
	if err != nil {
		return rp.refuse(ctx, refuseToken, f.Issuer, clip(err.Error(), 256), err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(f.Nonce)) != 1 {
		return rp.refuse(ctx, refuseToken, f.Issuer, "nonce does not match", nil)
	}
	var std struct {
		AZP string   `json:"azp"`
		AMR []string `json:"amr"`
	}
	claims := map[string]any{}
	if err := idt.Claims(&claims); err != nil {
		return rp.refuse(ctx, refuseToken, f.Issuer, "claims unreadable", err)
	}
	_ = idt.Claims(&std)
	// Core §3.1.3.7 items 4–5: with several audiences, azp must be us.
	if len(idt.Audience) > 1 && std.AZP != s.ClientID {
		return rp.refuse(ctx, refuseToken, f.Issuer, "several audiences and azp is not the client ID", nil)
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return rp.refuse(ctx, refuseToken, f.Issuer, "at_hash does not match the access token", err)
		}
	}
	if c.p.UserInfoEndpoint() != "" && needsUserInfo(s, claims) {
		ui, err := c.p.UserInfo(xctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			return rp.unreachable(fmt.Errorf("userinfo: %w", err))
		}
		// Core §5.3.2: the userinfo sub must be the ID token's.
		if ui.Subject != idt.Subject {
			return rp.refuse(ctx, refuseToken, f.Issuer, "userinfo sub differs from the ID token's", nil)
		}
		extra := map[string]any{}
		if err := ui.Claims(&extra); err == nil {
			// email_verified speaks of userinfo's address: it is taken
			// only with that address.
			if e, ok := claims[s.Email]; ok {
				if a, _ := e.(string); a == "" || a != fmt.Sprint(extra[s.Email]) {
					delete(extra, "email_verified")
				}
			}
			for k, v := range extra {
				if _, ok := claims[k]; !ok {
					claims[k] = v
				}
			}
		}
	}
	id := identity(s, idt.Issuer, idt.Subject, claims)
	if id.UserName == "" {
		return rp.refuse(ctx, refuseClaims, f.Issuer, "no "+s.UserName+" or "+s.Email+" claim", nil)
	}
	// An address the provider has not verified names nobody: it must not
	// become a user name (which could match an existing user's), unless
	// the provider says it verified it; one it says it has not verified is
	// not the user's e-mail either (Core §5.1, email_verified).
	verified := claims["email_verified"]
	if strings.EqualFold(id.UserName, id.Email) && verified != true && verified != "true" {
		return rp.refuse(ctx, refuseUnverified, f.Issuer, "user name is an email address the provider does not say it verified", nil)
	}
	if verified == false || verified == "false" {
		id.Email = ""
	}
	if s.Groups != "" && id.Groups == nil {
		rp.log().Warn("oidc groups claim not readable; memberships left as they are", "claim", s.Groups, "principal", id.UserName)
	}
	u, err := rp.Sources.Provision(ctx, id, idsource.SignIn)
	switch {
	case errors.Is(err, idsource.ErrUserDisabled):
		return rp.refuse(ctx, refuseDisabled, f.Issuer, "user disabled", err)
	case err != nil:
		if fe, ok := errors.AsType[*fault.Error](err); ok {
			return rp.refuse(ctx, refusal{http.StatusForbidden, "ProvisioningRefused", "Sign-in refused",
				fe.Message + " Contact your administrator."}, f.Issuer, clip(fe.Message, 256), err)
		}
		return err
	}
	return rp.Portal.FinishExternal(w, r, u, signin.External{Source: idsource.OIDC, MFA: mfa(std.AMR)}, portal.SafeNext(f.Next))
}

// openFlow opens the sealed cookie of state; nil when it does not open,
// belongs to another state, or has expired.
func (rp *RP) openFlow(sealed, state string) *flow {
	b, err := rp.Keys.Open(keyring.PurposeSecrets, sealed, flowAD)
	if err != nil {
		return nil
	}
	var f flow
	if json.Unmarshal(b, &f) != nil || subtle.ConstantTimeCompare([]byte(f.State), []byte(state)) != 1 || !rp.now().Before(f.Expires) {
		return nil
	}
	return &f
}

// providerError shows the provider's error answer (RFC 6749 §4.1.2.1).
func (rp *RP) providerError(ctx context.Context, f *flow, code, desc string) error {
	issuer := ""
	if f != nil {
		issuer = f.Issuer
	}
	code = clip(printable(code), 64)
	detail := "provider answered error=" + code
	if desc != "" {
		detail += ": " + clip(printable(desc), 200)
	}
	rf := refusal{http.StatusForbidden, "ProviderError", "Your identity provider did not sign you in",
		"Your identity provider answered \"" + code + "\". Start again from the sign-in page; if it keeps failing, contact your administrator."}
	switch code {
	case "access_denied":
		rf.code, rf.message = "AccessDenied", "Your identity provider refused access (access_denied): the sign-in was cancelled, or you are not assigned to Gatehouse there. Contact your administrator if you need access."
	case "login_required", "interaction_required", "consent_required":
		rf.message = "Your identity provider needs you to sign in or consent (" + code + "). Start again from the sign-in page."
	}
	return rp.refuse(ctx, rf, issuer, detail, nil)
}

// needsUserInfo reports whether a claim the mapping reads is missing from
// the ID token, or email_verified when the user name may be the address.
func needsUserInfo(s *settings, claims map[string]any) bool {
	for _, n := range []string{s.UserName, s.Email, s.GivenName, s.FamilyName, s.DisplayName, s.Groups} {
		if _, ok := claims[n]; n != "" && !ok {
			return true
		}
	}
	_, ok := claims["email_verified"]
	return !ok && s.UserName == s.Email
}

// identity maps claims to the person Provision writes.
func identity(s *settings, issuer, subject string, claims map[string]any) idsource.Identity {
	str := func(n string) string {
		v, _ := claims[n].(string)
		return strings.TrimSpace(v)
	}
	id := idsource.Identity{Issuer: issuer, Subject: subject, UserName: cmp.Or(str(s.UserName), str(s.Email)), Email: str(s.Email),
		GivenName: str(s.GivenName), FamilyName: str(s.FamilyName), DisplayName: str(s.DisplayName)}
	if s.Groups != "" {
		id.Groups = groups(claims, s.Groups)
	}
	return id
}

// groups reads the groups claim: a list of strings or one string. A
// missing claim is no groups; one that is present but unreadable (Entra
// ID's group overage, "_claim_names", when a person is in more than 200
// groups) is nil, leaving memberships alone.
func groups(claims map[string]any, name string) []string {
	v, ok := claims[name]
	if !ok {
		if cn, ok := claims["_claim_names"].(map[string]any); ok && cn[name] != nil {
			return nil
		}
		return []string{}
	}
	switch g := v.(type) {
	case string:
		return []string{g}
	case []any:
		out := []string{}
		for _, x := range g {
			if s, ok := x.(string); ok && strings.TrimSpace(s) != "" {
				out = append(out, strings.TrimSpace(s))
			}
		}
		return out
	}
	return nil
}

// mfa reports whether the amr claim (RFC 8176) names a second factor.
func mfa(amr []string) bool {
	for _, m := range amr {
		switch m {
		case "mfa", "otp", "hwk":
			return true
		}
	}
	return false
}

func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
