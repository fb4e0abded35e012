package sigv4

import "errors"

// Kind classifies a verification failure. Each kind corresponds to one row of
// the transport-error table in spec/aws-wire.md §2.8.
type Kind int

// The verification failure kinds.
const (
	// KindMissingAuthentication means the request carries neither an
	// Authorization header nor presigned query parameters.
	KindMissingAuthentication Kind = iota + 1
	// KindIncompleteSignature means the signature is malformed: bad
	// Authorization syntax, a missing or unparsable X-Amz-Date, or host
	// missing from the signed headers.
	KindIncompleteSignature
	// KindSignatureMismatch means the signature does not match the request.
	KindSignatureMismatch
	// KindSignatureExpired means the request time is outside the allowed skew
	// or a presigned URL is past its X-Amz-Expires.
	KindSignatureExpired
	// KindUnknownAccessKey means the access key ID is unknown or its
	// credentials were revoked.
	KindUnknownAccessKey
	// KindExpiredToken means the session token of temporary credentials has
	// expired.
	KindExpiredToken
	// KindServiceMismatch means the credential scope names a service other
	// than the one the request was dispatched to.
	KindServiceMismatch
	// KindRegionMismatch means the credential scope names a region other
	// than the one the service answers for.
	KindRegionMismatch
)

// String returns a short lower-case name of k.
func (k Kind) String() string {
	switch k {
	case KindMissingAuthentication:
		return "missing authentication"
	case KindIncompleteSignature:
		return "incomplete signature"
	case KindSignatureMismatch:
		return "signature mismatch"
	case KindSignatureExpired:
		return "signature expired"
	case KindUnknownAccessKey:
		return "unknown access key"
	case KindExpiredToken:
		return "expired token"
	case KindServiceMismatch:
		return "service mismatch"
	case KindRegionMismatch:
		return "region mismatch"
	}
	return "unknown kind"
}

// Error is a signature-verification failure. Message is written for the
// client and contains no secret material; Err is the cause, if any (for
// example the error returned by a SecretFunc).
type Error struct {
	Kind    Kind
	Message string
	Err     error
}

// Error implements the error interface.
func (e *Error) Error() string {
	s := "sigv4: " + e.Kind.String() + ": " + e.Message
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause of e.
func (e *Error) Unwrap() error { return e.Err }

// Errors a SecretFunc wraps to report why it has no secret for a key. The
// verifier turns them into an *Error of the matching Kind and keeps them
// reachable with errors.Is.
var (
	// ErrUnknownAccessKey means no credentials exist for the access key ID.
	ErrUnknownAccessKey = errors.New("unknown access key")
	// ErrRevoked means the credentials existed but were revoked, or the
	// session token does not belong to the access key.
	ErrRevoked = errors.New("credentials revoked")
	// ErrExpiredToken means the temporary credentials have expired.
	ErrExpiredToken = errors.New("security token expired")
)

// Client-facing messages, worded as AWS words them so that tools grepping
// for them keep working.
const (
	msgMissingAuth      = "Missing Authentication Token"
	msgInvalidToken     = "The security token included in the request is invalid."
	msgExpiredToken     = "The security token included in the request is expired"
	msgSignatureInvalid = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)

func newError(k Kind, msg string) *Error { return &Error{Kind: k, Message: msg} }

// RegionError is the refusal of a request whose credential scope names
// region where the service answers only for another: AWS's
// "Credential should be scoped to a valid region, not '<region>'."
// (InvalidSignatureException / SignatureDoesNotMatch).
func RegionError(region string) *Error {
	return newError(KindRegionMismatch, "Credential should be scoped to a valid region, not '"+region+"'.")
}
