// Package saml is Gatehouse's SAML 2.0 service provider: the identity
// source kind idsource.SAML, by which people sign in at an external
// identity provider (Okta, Microsoft Entra ID, Google Workspace, any
// SAML 2.0 IdP) as they do with IAM Identity Center (AWS docs, "Connect to
// an external identity provider").
//
// What it does:
//
//   - Settings (idsource.Kind Fields): the IdP's metadata, pasted or fetched
//     from a URL when saved (the fetched document is what is stored), the
//     attribute mapping (defaults that read Entra ID's claim URIs and the
//     names Okta and Google Workspace are usually given), and whether
//     IdP-initiated sign-in is allowed (on by default, as in AWS).
//   - The SP's signing key and certificate: generated once, kept as a
//     store.Key sealed by the keyring (package samlkey), published in the
//     SP metadata at GET /saml/metadata (whose URL is also the SP entity
//     ID).
//   - SP-initiated sign-in (Begin): an AuthnRequest over the HTTP-Redirect
//     binding (saml-bindings-2.0-os §3.4). Its ID is kept in a sealed,
//     short-lived cookie bound to this browser, so that the response's
//     InResponseTo is checked; RelayState carries the page to return to.
//   - The assertion consumer service, POST /saml/acs (HTTP-POST binding,
//     saml-bindings-2.0-os §3.5): the Response must carry exactly one
//     assertion, and that assertion must carry a valid signature of its own
//     by a certificate from the IdP metadata (a signed Response around an
//     unsigned assertion is refused); audience, recipient, destination,
//     validity window (with the library's clock skew allowance,
//     saml.MaxClockSkew) and InResponseTo are checked; each assertion ID is
//     accepted once, across replicas, through store use markers kept until
//     the assertion could no longer be accepted. The person is provisioned
//     (idsource.Service.Provision) and their portal session started, capped
//     by the assertion's SessionNotOnOrAfter.
//
// Every refusal is a portal error page with a 4xx status and an audit
// event (signin.amazonaws.com UserAuthentication, result Failure, with the
// reason); assertions and their attribute values are never logged.
//
// The SAML protocol work is github.com/crewjam/saml: the Go SAML library
// most used and kept up (XML signatures through russellhaering/goxmldsig,
// canonicalization, encrypted assertions, metadata), whose service provider
// reads a signed message only from what its signature covers, refuses
// unsigned Responses with more than one assertion, and classifies every
// refusal (saml.ErrInvalidSignature, ErrAudienceMismatch, ErrExpired, ...).
// Hand-written XML signature checking is how signature wrapping attacks
// happen; the stdlib has no XML-DSig. Its tests here run a real
// saml.IdentityProvider (package samltest).
package saml
