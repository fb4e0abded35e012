package automation

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/organizations"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// RoleTagPrefix starts the provider tags (a Gatehouse extension) that say
// which provisioned role the issuer's tokens may assume: the tag
// gatehouse:role:<permission set name> allows the role that permission set
// is provisioned as in the provider's account to subjects matching one of
// the space-separated glob patterns of its value (* any run of characters,
// ? one character), e.g. "repo:my-org/app:ref:refs/heads/main".
//
// Identity Center's provisioned roles have no editable trust policy (on AWS
// their trust policy belongs to Identity Center), so the trust lives with
// the issuer; nothing is trusted without such a tag.
const RoleTagPrefix = "gatehouse:role:"

// STS error codes of AssumeRoleWithWebIdentity (botocore sts model), set as
// the Reason of the *fault.Error that WebIdentity returns.
const (
	ReasonInvalidToken = "InvalidIdentityToken"
	ReasonExpiredToken = "ExpiredTokenException"
	ReasonIDPRejected  = "IDPRejectedClaim"
	ReasonIDPComm      = "IDPCommunicationError"
)

// MaxTokenLength is STS's limit on WebIdentityToken.
const MaxTokenLength = 20000

// discoveryTTL is how long a fetched discovery document (and the key set
// it names) is used before it is fetched again. Keys with an unknown key
// ID are fetched at once by go-oidc's remote key set.
const discoveryTTL = time.Hour

// WebIdentity verifies OpenID Connect tokens of registered issuers for
// sts:AssumeRoleWithWebIdentity. Set its fields before first use; it is
// safe for concurrent use.
type WebIdentity struct {
	Store store.Store
	Now   func() time.Time
	// Client fetches discovery documents and key sets; nil means
	// http.DefaultClient.
	Client *http.Client

	mu        sync.Mutex
	providers map[string]cachedProvider
}

type cachedProvider struct {
	p       *oidc.Provider
	fetched time.Time
}

// WebToken is a verified web-identity token and what it may assume.
type WebToken struct {
	Provider      *store.OIDCProvider
	Issuer        string
	Subject       string
	Audience      string
	Role          *store.ProvisionedRole
	PermissionSet *store.PermissionSet
}

func tokenError(reason, format string, args ...any) error {
	kind := fault.Validation
	if reason == "AccessDenied" {
		kind = fault.AccessDenied
	}
	return &fault.Error{Kind: kind, Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// ProviderARN returns the ARN IAM gives the provider of issuerURL in
// accountID: arn:aws:iam::<account>:oidc-provider/<URL without https://>.
func ProviderARN(accountID, issuerURL string) string {
	return "arn:aws:iam::" + accountID + ":oidc-provider/" + strings.TrimPrefix(issuerURL, "https://")
}

// unverifiedIssuer reads the iss claim of a compact JWS without verifying
// it, to find the provider whose keys will verify it.
func unverifiedIssuer(raw string) (string, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return "", errors.New("not a compact JWS")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", err
	}
	var c struct {
		Iss string `json:"iss"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return "", err
	}
	return c.Iss, nil
}

// roleRef parses arn:aws:iam::<account>:role/<path><name>.
func roleRef(roleARN string) (account, name string, ok bool) {
	rest, ok := strings.CutPrefix(roleARN, "arn:aws:iam::")
	if !ok {
		return "", "", false
	}
	account, res, ok := strings.Cut(rest, ":role/")
	if !ok || len(account) != 12 {
		return "", "", false
	}
	name = res[strings.LastIndex(res, "/")+1:]
	return account, name, name != ""
}

// MaxIssuedAtSkew is how far a web-identity token's iat may lie ahead of
// this server's clock: the clock skew tolerated between the issuer and us
// (5 minutes, as SigV4 tolerates for request times).
const MaxIssuedAtSkew = 5 * time.Minute

// Authorize verifies rawToken for assuming roleARN: the issuer (iss) must
// be registered as a provider in the role's account, the signature must
// verify with a key from the issuer's JWKS (found through its discovery
// document), the token must be unexpired, name one of the provider's
// client IDs as aud, and its sub must match a pattern of the provider's
// role tag for the role's permission set. Failures are *fault.Error with
// the STS error code as Reason.
func (w *WebIdentity) Authorize(ctx context.Context, roleARN, rawToken string) (*WebToken, error) {
	account, roleName, ok := roleRef(roleARN)
	if !ok {
		return nil, fault.Validationf("%s is invalid", roleARN)
	}
	if len(rawToken) > MaxTokenLength {
		return nil, tokenError(ReasonInvalidToken, "The web identity token is longer than %d characters.", MaxTokenLength)
	}
	iss, err := unverifiedIssuer(rawToken)
	if err != nil || iss == "" {
		return nil, tokenError(ReasonInvalidToken, "Couldn't parse the web identity token.")
	}
	provs, err := w.Store.ListOIDCProviders(ctx, account)
	if err != nil {
		return nil, err
	}
	var prov *store.OIDCProvider
	for i := range provs {
		if strings.TrimSuffix(provs[i].URL, "/") == strings.TrimSuffix(iss, "/") {
			prov = &provs[i]
		}
	}
	if prov == nil {
		return nil, tokenError(ReasonInvalidToken, "No OpenIDConnect provider found in your account for %s", iss)
	}
	// A closed account's roles are gone already; refuse before any work.
	if a, err := w.Store.GetAccount(ctx, account); err == nil && organizations.Closed(a) {
		return nil, tokenError("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	p, err := w.provider(ctx, iss)
	if err != nil {
		return nil, tokenError(ReasonIDPComm, "Couldn't retrieve verification key from your identity provider: %v", err)
	}
	v := p.Verifier(&oidc.Config{SkipClientIDCheck: true, Now: w.Now})
	tok, err := v.Verify(ctx, rawToken)
	if _, ok := errors.AsType[*oidc.TokenExpiredError](err); ok {
		return nil, tokenError(ReasonExpiredToken, "Token expired: current date/time %s must be before the expiration date/time", w.Now().UTC().Format(time.RFC3339))
	}
	if err != nil {
		return nil, tokenError(ReasonInvalidToken, "The web identity token could not be verified.")
	}
	// go-oidc checks exp and nbf but not iat: a token claiming to be
	// issued in the future (beyond clock skew) is refused, as STS does.
	if !tok.IssuedAt.IsZero() && tok.IssuedAt.After(w.Now().Add(MaxIssuedAtSkew)) {
		return nil, tokenError(ReasonInvalidToken, "The web identity token was issued in the future (iat %s).", tok.IssuedAt.UTC().Format(time.RFC3339))
	}
	aud := ""
	for _, a := range tok.Audience {
		if slices.Contains(prov.ClientIDs, a) {
			aud = a
			break
		}
	}
	if aud == "" {
		return nil, tokenError(ReasonInvalidToken, "Incorrect token audience")
	}
	out := &WebToken{Provider: prov, Issuer: iss, Subject: tok.Subject, Audience: aud}
	roles, err := w.Store.ListProvisionedRoles(ctx, store.RoleFilter{AccountID: account})
	if err != nil {
		return nil, err
	}
	for i := range roles {
		if strings.EqualFold(roles[i].RoleName, roleName) {
			out.Role = &roles[i]
		}
	}
	denied := tokenError("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")
	if out.Role == nil {
		return nil, denied
	}
	ps, err := w.Store.GetPermissionSet(ctx, out.Role.PermissionSetID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, denied
	} else if err != nil {
		return nil, err
	}
	out.PermissionSet = ps
	if !SubjectAllowed(prov, ps.Name, tok.Subject) {
		return nil, denied
	}
	return out, nil
}

// SubjectAllowed reports whether prov's role tag for the permission set
// psName has a pattern matching sub.
func SubjectAllowed(prov *store.OIDCProvider, psName, sub string) bool {
	for _, t := range prov.Tags {
		if !strings.EqualFold(t.Key, RoleTagPrefix+psName) {
			continue
		}
		for _, pat := range strings.Fields(t.Value) {
			if Glob(pat, sub) {
				return true
			}
		}
	}
	return false
}

// Glob reports whether s matches pattern, where * matches any run of
// characters (including none, and including /) and ? any one character;
// other characters match themselves.
func Glob(pattern, s string) bool {
	// Iterative matcher with one backtrack point: linear in practice.
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// provider returns the go-oidc provider of issuer, fetching its discovery
// document when not cached or older than discoveryTTL.
func (w *WebIdentity) provider(ctx context.Context, issuer string) (*oidc.Provider, error) {
	now := w.Now()
	w.mu.Lock()
	c, ok := w.providers[issuer]
	w.mu.Unlock()
	if ok && now.Sub(c.fetched) < discoveryTTL {
		return c.p, nil
	}
	client := w.Client
	if client == nil {
		client = http.DefaultClient
	}
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	p, err := oidc.NewProvider(oidc.ClientContext(fctx, client), issuer)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	if w.providers == nil || len(w.providers) > 1024 {
		w.providers = map[string]cachedProvider{}
	}
	w.providers[issuer] = cachedProvider{p: p, fetched: now}
	w.mu.Unlock()
	return p, nil
}

// CheckIssuerURL validates an OIDC provider URL as IAM does: https, a host,
// no query or fragment, at most 255 characters.
func CheckIssuerURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || len(raw) > 255 {
		return fault.Validationf("Invalid OpenID Connect provider URL: %s", raw)
	}
	return nil
}

// CreateOIDCProvider registers the issuer at issuerURL in accountID.
func (s *Service) CreateOIDCProvider(ctx context.Context, accountID, issuerURL string, clientIDs, thumbprints []string, tags []store.Tag) (*store.OIDCProvider, error) {
	if err := CheckIssuerURL(issuerURL); err != nil {
		return nil, err
	}
	if len(clientIDs) > 100 {
		return nil, fault.Quotaf("Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: 100")
	}
	for _, t := range thumbprints {
		if len(t) != 40 {
			return nil, fault.Validationf("Thumbprint %s is not 40 hex characters.", t)
		}
	}
	if len(tags) > MaxTagsPerUser {
		return nil, fault.Quotaf("Cannot exceed quota for TagsPerOpenIdConnectProvider: %d", MaxTagsPerUser)
	}
	if err := checkTags(tags); err != nil {
		return nil, err
	}
	p := &store.OIDCProvider{ARN: ProviderARN(accountID, issuerURL), AccountID: accountID, URL: issuerURL,
		ClientIDs: slices.Clone(clientIDs), Thumbprints: slices.Clone(thumbprints), Tags: slices.Clone(tags), CreatedAt: s.Now().UTC()}
	err := s.Store.CreateOIDCProvider(ctx, p)
	if errors.Is(err, store.ErrConflict) {
		return nil, fault.Conflictf("Provider with url %s already exists.", issuerURL)
	}
	if err != nil {
		return nil, err
	}
	return p, nil
}

// GetOIDCProvider returns the provider providerARN of accountID.
func (s *Service) GetOIDCProvider(ctx context.Context, accountID, providerARN string) (*store.OIDCProvider, error) {
	p, err := s.Store.GetOIDCProvider(ctx, providerARN)
	if errors.Is(err, store.ErrNotFound) || (err == nil && p.AccountID != accountID) {
		return nil, fault.NotFoundf("OIDC_PROVIDER", providerARN, "OpenIDConnect Provider not found for arn %s", providerARN)
	}
	return p, err
}

// DeleteOIDCProvider deletes the provider providerARN of accountID.
// Credentials issued through it stop working at once.
func (s *Service) DeleteOIDCProvider(ctx context.Context, accountID, providerARN string) error {
	return s.Store.Update(ctx, func(tx store.Tx) error {
		p, err := tx.GetOIDCProvider(ctx, providerARN)
		if errors.Is(err, store.ErrNotFound) || (err == nil && p.AccountID != accountID) {
			return fault.NotFoundf("OIDC_PROVIDER", providerARN, "OpenIDConnect Provider not found for arn %s", providerARN)
		} else if err != nil {
			return err
		}
		return tx.DeleteOIDCProvider(ctx, providerARN)
	})
}

// ListOIDCProviders returns the providers of accountID.
func (s *Service) ListOIDCProviders(ctx context.Context, accountID string) ([]store.OIDCProvider, error) {
	return s.Store.ListOIDCProviders(ctx, accountID)
}
