// Package oidcrp is Gatehouse's OpenID Connect relying party: the identity
// source kind idsource.OIDC, with which people sign in at an external
// OpenID Provider (Okta, Entra ID, Google Workspace, Keycloak or any
// other) and arrive in the access portal. It is not internal/oidc, which
// is Gatehouse's own sso-oidc server for the AWS CLI; the folder is
// idsource/oidc and the package is named oidcrp so that both, and
// github.com/coreos/go-oidc's package oidc, can be imported side by side.
//
// The flow is OpenID Connect Core 1.0 §3.1 (authorization code) with
// PKCE S256 (RFC 7636): Begin sends the browser to the provider's
// authorization endpoint with a fresh state, nonce and code challenge,
// kept in a sealed, short-lived, HttpOnly SameSite=Lax cookie bound to
// this browser; the provider sends the browser back to
// GET /oidc/callback, which checks the state against that cookie, marks
// it used in the store (so a replayed callback fails on every replica),
// exchanges the code with the verifier and the client secret, verifies
// the ID token (signature against the provider's JWKS with only
// asymmetric algorithms the provider advertises, issuer, audience = the
// client ID, expiry, nonce), fills claims the ID token lacks from the
// userinfo endpoint (Okta and others send "thin" ID tokens beside an
// access token), provisions the person with idsource.Service.Provision
// and starts their portal session with portal.Service.FinishExternal.
//
// Libraries: github.com/coreos/go-oidc/v3 (discovery, JWKS caching and ID
// token verification; already used by internal/automation) and
// golang.org/x/oauth2 (the code exchange, PKCE helpers). Tests run the
// whole flow against a real OpenID Provider from github.com/zitadel/oidc
// (package oidctest).
package oidcrp
