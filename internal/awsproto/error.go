package awsproto

import (
	"errors"
	"net/http"

	"github.com/gatehouse-dev/gatehouse/internal/sigv4"
)

// Error is an AWS protocol error: a code, a client-facing message, an HTTP
// status and the optional members some services model. Which members reach
// the wire depends on the protocol writing it (see WriteJSONError, WriteError
// and WriteQueryError); unset members are omitted.
type Error struct {
	// Code is the error shape name (awsJson1_1, restJson1) or the awsQuery
	// error code (e.g. "InvalidClientTokenId").
	Code    string
	Message string
	// Status is the HTTP status; 0 means 400.
	Status int

	// OAuthError is the sso-oidc "error" member (e.g. "authorization_pending").
	// When set, WriteError writes the sso-oidc body.
	OAuthError string
	// Reason is the identitystore/sso-admin "Reason" or sso-oidc "reason" member.
	Reason string
	// ResourceType and ResourceID are identitystore ResourceNotFoundException members.
	ResourceType string
	ResourceID   string
	// RequestID is the identitystore "RequestId" member; JSONService fills it
	// when ErrorRequestID is set.
	RequestID string
	// RetryAfterSeconds is the identitystore ThrottlingException and
	// InternalServerException member.
	RetryAfterSeconds int
	// Endpoint and Region are sso-oidc InvalidRequestRegionException members.
	Endpoint string
	Region   string

	// Err is the cause. It is for logs and never sent to the client.
	Err error
}

// Error implements the error interface.
func (e *Error) Error() string {
	s := e.Code
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause of e.
func (e *Error) Unwrap() error { return e.Err }

// HTTPStatus returns the status e is written with: Status, or 400 if unset.
func (e *Error) HTTPStatus() int {
	if e.Status == 0 {
		return http.StatusBadRequest
	}
	return e.Status
}

// Protocol selects the codes ErrorFor uses.
type Protocol int

// The protocols, as far as error codes differ between them.
const (
	// ProtocolJSON is awsJson1_1 and restJson1 (the portal API and signed
	// restJson1 operations).
	ProtocolJSON Protocol = iota + 1
	// ProtocolOIDC is sso-oidc restJson1: like ProtocolJSON, except that
	// unexpected failures use the OAuth "server_error" body.
	ProtocolOIDC
	// ProtocolQuery is awsQuery (STS, IAM).
	ProtocolQuery
)

// ErrorFor maps err onto a protocol error. An *Error in err's chain is
// returned as is, a *sigv4.Error is mapped by AuthError, and anything else
// becomes the protocol's internal error with err as its cause (log it once,
// where the response is written). ErrorFor(p, nil) is nil.
func ErrorFor(p Protocol, err error) *Error {
	if err == nil {
		return nil
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e
	}
	if e, ok := errors.AsType[*sigv4.Error](err); ok {
		return AuthError(p, e)
	}
	return internalError(p, err)
}

// internalError returns p's internal error with cause as Err.
func internalError(p Protocol, cause error) *Error {
	switch p {
	case ProtocolQuery:
		return QueryInternalFailure(cause)
	case ProtocolOIDC:
		return OIDCInternal(cause)
	}
	return Internal(cause)
}

// AuthError maps a signature-verification failure onto the transport errors
// of spec/aws-wire.md §2.8. Skew and scope failures are reported, as AWS
// does, as signature errors.
func AuthError(p Protocol, e *sigv4.Error) *Error {
	type codes struct {
		json, query string
		status      int
	}
	var c codes
	switch e.Kind {
	case sigv4.KindMissingAuthentication:
		c = codes{"MissingAuthenticationTokenException", "MissingAuthenticationToken", http.StatusForbidden}
	case sigv4.KindUnknownAccessKey:
		c = codes{"UnrecognizedClientException", "InvalidClientTokenId", http.StatusForbidden}
	case sigv4.KindIncompleteSignature:
		c = codes{"IncompleteSignatureException", "IncompleteSignature", http.StatusBadRequest}
	case sigv4.KindExpiredToken:
		c = codes{"ExpiredTokenException", "ExpiredToken", http.StatusForbidden}
	case sigv4.KindSignatureMismatch, sigv4.KindSignatureExpired, sigv4.KindServiceMismatch:
		c = codes{"InvalidSignatureException", "SignatureDoesNotMatch", http.StatusForbidden}
	default:
		return internalError(p, e)
	}
	code := c.json
	if p == ProtocolQuery {
		code = c.query
	}
	return &Error{Code: code, Message: e.Message, Status: c.status, Err: e}
}

// The awsJson1_1 errors common to sso-admin and identitystore (spec
// §6.1, §7.1). None has an HTTP status trait, so client errors are 400.

// Validation returns a ValidationException.
func Validation(msg string) *Error { return &Error{Code: "ValidationException", Message: msg} }

// AccessDenied returns an AccessDeniedException (400, as modelled for
// sso-admin and identitystore).
func AccessDenied(msg string) *Error { return &Error{Code: "AccessDeniedException", Message: msg} }

// ResourceNotFound returns a ResourceNotFoundException.
func ResourceNotFound(msg string) *Error {
	return &Error{Code: "ResourceNotFoundException", Message: msg}
}

// Conflict returns a ConflictException.
func Conflict(msg string) *Error { return &Error{Code: "ConflictException", Message: msg} }

// ServiceQuotaExceeded returns a ServiceQuotaExceededException.
func ServiceQuotaExceeded(msg string) *Error {
	return &Error{Code: "ServiceQuotaExceededException", Message: msg}
}

// Throttling returns a ThrottlingException.
func Throttling(msg string) *Error { return &Error{Code: "ThrottlingException", Message: msg} }

// UnknownOperation returns the UnknownOperationException for an
// unrecognised X-Amz-Target.
func UnknownOperation(target string) *Error {
	return &Error{Code: "UnknownOperationException", Message: "Unrecognized operation " + target}
}

// Serialization returns a SerializationException, sent for a request body
// that is not valid JSON for the operation's input.
func Serialization(msg string) *Error { return &Error{Code: "SerializationException", Message: msg} }

// Internal returns an InternalServerException (500) with cause as Err. The
// client sees a generic message.
func Internal(cause error) *Error {
	return &Error{Code: "InternalServerException", Message: "An internal error occurred.", Status: http.StatusInternalServerError, Err: cause}
}
