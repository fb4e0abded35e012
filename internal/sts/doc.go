// Package sts issues role credentials and serves the STS API (awsQuery) that
// clients call with them (spec/aws-wire.md §2.3, §4, §5).
//
// Issuer.Issue mints the credentials GetRoleCredentials returns: an ASIA
// access key ID, a 40-character secret and a session token that is a sealed
// envelope (keyring.PurposeSeal, AES-GCM, key-ID prefix for rotation) holding
// the secret and everything the session speaks for. The access key ID is the
// envelope's additional data, so a token opens only with its own key. Issuing
// writes nothing to the database but the audit event (DESIGN §4).
//
// Issuer.Open is the sigv4.SecretFunc behind every SigV4 API: it opens the
// envelope and checks expiry, revocation and continued entitlement against the
// in-memory accesscache, so steady-state verification costs no query. Its
// failures map onto the transport errors of spec/aws-wire.md §2.8:
//
//   - forged, corrupt or mismatched token, unknown key: InvalidClientTokenId;
//   - past its expiration: ExpiredToken;
//   - user disabled or deleted, grant or portal session revoked, or the
//     assignment behind the credentials removed: InvalidClientTokenId. A
//     revoked credential is no longer a valid token, and ExpiredToken would
//     invite clients to refresh credentials the user may no longer get; the
//     AWS CLI reports either as a failed call.
//
// Revocations are checked against the sign-in the credentials came from
// (Session.AuthTime), not only their issue time, so credentials issued in the
// instant before a revocation reached the cache still stop working.
//
// Service serves POST / and GET /?Action=… (including presigned
// GetCallerIdentity) with SigV4 verification by package sigv4 and the wire
// encoding of package awsproto.
package sts
