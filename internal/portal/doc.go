// Package portal serves the AWS access portal: the browser pages a person
// signs in on (password, then a TOTP code when they have an authenticator),
// approves device codes and PKCE authorization requests on, and sees their
// accounts and roles on; and the portal API the AWS CLI and SDKs call with
// an OIDC access token (spec/aws-wire.md §4: ListAccounts,
// ListAccountRoles, GetRoleCredentials, Logout).
//
// Browser sessions are random cookie values stored only as keyed hashes
// (store.Session). Every state-changing page request passes
// http.CrossOriginProtection; pages carry a strict Content-Security-Policy.
// In-progress sign-ins and consent requests travel between steps as values
// sealed with the keyring, never as plain hidden fields. The sign-in rules
// (attempt limits, password and code checks, session start) live in
// package signin; the sign-in pages only read forms, call it and render.
package portal
