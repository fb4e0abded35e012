// Package samlidp is Gatehouse acting as a SAML 2.0 identity provider for
// the AWS accounts it is linked to, as IAM Identity Center does for its
// member accounts: each linked account holds an IAM SAML provider made
// from Gatehouse's IdP metadata, and a portal credential request becomes
// a signed SAML Response that Gatehouse hands to sts:AssumeRoleWithSAML.
//
// What it provides:
//
//   - The IdP signing keys: RSA 2048 with a self-signed X.509 certificate
//     (AWS takes the certificate from the metadata as a key, not as a chain
//     of trust), generated on first use and kept as store.Key records of
//     purpose "saml-idp", sealed by the keyring (package samlkey, shared
//     with the SAML identity source's SP key). A key is signing
//     (store.Key.Active), pending (published, not yet signing) or retired
//     (its sealed material erased).
//   - Rotation (IdP.Rotate): a new pending key is published with the
//     signing one, Publish pushes that metadata into every linked account's
//     SAML provider, and only then does the new key sign; the old one is
//     retired and the metadata pushed again without it.
//   - The IdP metadata (IdP.Metadata), served at GET /saml/idp/metadata;
//     the entity ID is <base URL>/saml/idp.
//   - The assertion (IdP.Response): a signed Response around a signed
//     Assertion as AWS documents them ("Configuring SAML assertions for the
//     authentication response", IAM User Guide): audience, Recipient and
//     Destination https://signin.aws.amazon.com/saml, the
//     https://aws.amazon.com/SAML/Attributes/ Role, RoleSessionName,
//     SessionDuration, SourceIdentity and PrincipalTag:* attributes, valid
//     for five minutes, with a fresh ID each time.
//
// The XML work is github.com/crewjam/saml (its IdentityProvider signs the
// Assertion and the Response through russellhaering/goxmldsig with
// exclusive canonicalization and RSA-SHA256), already used by the SAML
// identity source: the stdlib has no XML-DSig, and hand-written XML
// signatures are how signature wrapping bugs happen. The tests check the
// result with crewjam's ServiceProvider configured as AWS's sign-in
// endpoint.
package samlidp
