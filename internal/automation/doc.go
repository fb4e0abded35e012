// Package automation keeps the identities pipelines use instead of people:
// IAM users in one account with attached and inline policies and long-lived
// access keys (AKIA…), and OpenID Connect issuers whose web-identity tokens
// assume a provisioned role (DESIGN §1, "Automation user").
//
// It follows the IAM API's rules (names, quotas, errors) so that iamapi can
// serve CreateUser, AttachUserPolicy, CreateAccessKey, … unchanged, and the
// AWS CLI and Terraform's aws_iam_user, aws_iam_user_policy_attachment and
// aws_iam_access_key work against it. Errors are *fault.Error: NotFound is
// IAM's NoSuchEntity, Conflict is EntityAlreadyExists (or DeleteConflict
// when Reason says so), QuotaExceeded is LimitExceeded, Validation is
// InvalidInput.
//
// Access key secrets are sealed under the master key (keyring.PurposeSecrets)
// and shown once, by CreateAccessKey. Keys.Lookup is the key source of SigV4
// authentication: it refuses a disabled, expired or deleted key on the very
// next request, and records a key's last use at most once a minute per
// process, so that a busy pipeline does not cost a write per request.
//
// Key expiry is a Gatehouse extension IAM does not have: a user tagged
// ExpiryTag (gatehouse:access-key-ttl, a duration such as 90d or 720h) gets
// keys that stop working that long after they were created.
//
// WebIdentity verifies OpenID Connect ID tokens (signature by the issuer's
// JWKS found through its discovery document, iss, aud, exp, sub) with
// github.com/coreos/go-oidc, the one third-party piece: the standard library
// has no JWS/JWKS verification, and hand-rolled token verification is the
// kind of crypto the style guide forbids.
package automation
