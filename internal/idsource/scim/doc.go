// Package scim is Gatehouse's SCIM 2.0 service provider (RFC 7643, RFC
// 7644) at /scim/v2, the way IAM Identity Center takes users and groups
// from an external identity provider's automatic provisioning (Okta, Entra
// ID, Google Workspace, ...), with the subset and constraints AWS
// documents ("IAM Identity Center SCIM implementation developer guide").
//
// Users and groups go through the directory service, as the identitystore
// API's do: the same validation, uniqueness rules, assignment removal on
// delete and audit trail (eventSource identitystore-scim.amazonaws.com, as
// AWS's CloudTrail has SCIM calls). A user set "active": false is disabled
// in the transaction that stores the change, with a user revocation: their
// portal sessions, OIDC tokens and role credentials are refused from the
// very next request. "active" is the source's side only (RFC 7643 §4.1.1
// leaves its meaning to the service provider): "active": true lifts the
// source's own disable but never an administrator's, which stands until an
// administrator enables the user, and reads report what the source set
// (store.User.SourceInactive), so that a client comparing its value with
// ours sees no difference to resend. A resource's externalId is its identity-store
// ExternalId with Issuer "SCIM" (ExternalIDIssuer).
//
// Clients authenticate with bearer tokens an administrator issues
// (Tokens): they expire (a year by default), can be listed and revoked,
// are shown once and stored only as keyed hashes.
//
// Filters and PATCH paths are parsed by github.com/scim2/filter-parser/v2:
// the RFC 7644 §3.4.2.2 grammar (value paths, attribute paths with schema
// URNs, sub-attributes) is larger than it looks, a hand-written parser of
// it would need its own fuzzing, and the library is small (one dependency,
// github.com/q-uint/parser) and kept by the SCIM Go community. Only what
// AWS supports is then accepted from the parsed tree: eq comparisons
// joined by and.
package scim
