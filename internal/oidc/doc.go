// Package oidc implements Gatehouse's sso-oidc service (spec/aws-wire.md §3):
// client registration (POST /client/register), device authorization
// (POST /device_authorization, RFC 8628), the CreateToken grants
// (POST /token: device code, authorization code with PKCE, refresh token)
// and the functions the access-portal pages and portal API call: device
// approval, /authorize parsing and code issue, bearer-token authentication
// and logout.
//
// Every piece of request state (registrations, device codes, authorization
// codes, grants, tokens, rate counters) lives in the store, so N replicas
// behave as one (DESIGN §5). Bearer values (client secrets, device codes,
// authorization codes, access and refresh tokens) are stored only as keyed
// hashes (keyring.Ring.Hash). The only process memory is two bounded caches
// of immutable or re-checked data: client registrations and verified access
// tokens, the latter re-checked for revocation on every use.
//
// Wire errors are the awsproto sso-oidc errors; handlers return errors and
// one function (Service.writeError) maps them onto the wire.
package oidc
