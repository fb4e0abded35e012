package awsproto

import (
	"errors"
	"net/http"

	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
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
	// InternalServerException member. When positive, every writer also
	// sends it as the Retry-After header (RFC 9110 §10.2.3).
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
	// ProtocolJSON is awsJson1_1 and signed restJson1: sso-admin,
	// identitystore, organizations and cloudtrail.
	ProtocolJSON Protocol = iota + 1
	// ProtocolOIDC is sso-oidc restJson1: like ProtocolJSON, except that
	// unexpected failures use the OAuth "server_error" body. Its handlers
	// return *Error; domain faults have no sso-oidc code.
	ProtocolOIDC
	// ProtocolQuery is awsQuery with the codes STS models.
	ProtocolQuery
	// ProtocolIAM is awsQuery with the codes IAM models (InvalidInput,
	// NoSuchEntity, EntityAlreadyExists, LimitExceeded).
	ProtocolIAM
	// ProtocolPortal is the access-portal (sso) restJson1 API of
	// spec/aws-wire.md §4.
	ProtocolPortal
)

// ErrorFor is the one mapping of errors onto each protocol's wire errors.
// An *Error in err's chain is returned as is; a *sigv4.Error is mapped by
// AuthError; an invalid policy document (*policy.Error) and a domain fault
// (*fault.Error, or a store sentinel fault.As classifies) get the
// protocol's code for their kind (domainError); anything else, and a kind
// the protocol has no code for, becomes the protocol's internal error with
// err as its cause (log it once, where the response is written).
// ErrorFor(p, nil) is nil.
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
	if e, ok := errors.AsType[*policy.Error](err); ok {
		return policyError(p, e.Error(), err)
	}
	if f := fault.As(err); f.Kind != fault.Internal {
		if e := domainError(p, f); e != nil {
			e.Err = err
			return e
		}
	}
	return internalError(p, err)
}

// policyError maps an invalid policy document: IAM's and STS's
// MalformedPolicyDocument (400), the JSON services' ValidationException.
func policyError(p Protocol, msg string, cause error) *Error {
	var e *Error
	switch p {
	case ProtocolQuery, ProtocolIAM:
		e = &Error{Code: "MalformedPolicyDocument", Message: msg}
	case ProtocolJSON:
		e = Validation(msg)
	case ProtocolPortal:
		e = PortalInvalidRequest(msg)
	default:
		return internalError(p, cause)
	}
	e.Err = cause
	return e
}

// domainError returns p's error for a domain fault, or nil when p has no
// code for its kind. The codes and statuses are the botocore models':
// sso-admin and identitystore for ProtocolJSON (every error 400, with
// identitystore's Reason, ResourceType and ResourceId members), sts and iam
// for the awsQuery protocols, sso for the portal.
func domainError(p Protocol, f *fault.Error) *Error {
	if f.Kind == fault.Unavailable {
		return unavailableError(p, f.Message)
	}
	switch p {
	case ProtocolJSON:
		return &Error{Code: f.Kind.String(), Message: f.Message, Reason: f.Reason, ResourceType: f.ResourceType, ResourceID: f.ResourceID}
	case ProtocolQuery, ProtocolIAM:
		// AssumeRoleWithWebIdentity's modeled errors (botocore sts) travel
		// as the Reason of the fault.
		switch f.Reason {
		case "InvalidIdentityToken", "ExpiredTokenException", "IDPCommunicationError":
			return &Error{Code: f.Reason, Message: f.Message, Status: http.StatusBadRequest}
		case "IDPRejectedClaim":
			return &Error{Code: f.Reason, Message: f.Message, Status: http.StatusForbidden}
		}
		switch f.Kind {
		case fault.AccessDenied:
			return QueryAccessDenied(f.Message)
		case fault.Validation:
			if p == ProtocolIAM {
				return &Error{Code: "InvalidInput", Message: f.Message}
			}
			return QueryValidationError(f.Message)
		}
		if p != ProtocolIAM {
			return nil
		}
		switch f.Kind {
		case fault.NotFound:
			return &Error{Code: "NoSuchEntity", Message: f.Message, Status: http.StatusNotFound}
		case fault.Conflict:
			// IAM's DeleteConflict (a user that still has keys or
			// policies) is a conflict whose Reason says so.
			if f.Reason == "DeleteConflict" {
				return &Error{Code: "DeleteConflict", Message: f.Message, Status: http.StatusConflict}
			}
			return &Error{Code: "EntityAlreadyExists", Message: f.Message, Status: http.StatusConflict}
		case fault.QuotaExceeded:
			return &Error{Code: "LimitExceeded", Message: f.Message, Status: http.StatusConflict}
		}
	case ProtocolPortal:
		switch f.Kind {
		case fault.AccessDenied:
			// AWS answers every refusal to issue with 403 "No access".
			return PortalForbidden("No access")
		case fault.Validation:
			return PortalInvalidRequest(f.Message)
		case fault.NotFound:
			return PortalResourceNotFound(f.Message)
		case fault.QuotaExceeded:
			return PortalTooManyRequests(f.Message)
		}
	}
	return nil
}

// UnavailableRetryAfter is the Retry-After, in seconds, of the answer to a
// fault.Unavailable: the access cache retries its change-counter read every
// 200 ms, so a second is enough for a transient lag to clear.
const UnavailableRetryAfter = 1

// unavailableError returns p's retryable error for a fault.Unavailable:
// the request may be sent again unchanged. Each is an error the SDKs
// retry by default (botocore _retry.json, aws-sdk-go-v2 aws/retry):
// the portal's modeled TooManyRequestsException (429; botocore sso,
// GetRoleCredentials); STS and IAM's common ServiceUnavailable (503; AWS
// "Common Errors" of the STS and IAM API references); the JSON services'
// ThrottlingException (400; modeled by sso-admin and identitystore, the
// latter with RetryAfterSeconds); sso-oidc has no such shape, so it gets
// 503 with the OAuth code temporarily_unavailable and SDKs retry on the
// status.
func unavailableError(p Protocol, msg string) *Error {
	var e *Error
	switch p {
	case ProtocolPortal:
		e = PortalTooManyRequests(msg)
	case ProtocolQuery, ProtocolIAM:
		e = &Error{Code: "ServiceUnavailable", Message: msg, Status: http.StatusServiceUnavailable}
	case ProtocolOIDC:
		e = oidcError("ServiceUnavailableException", "temporarily_unavailable", http.StatusServiceUnavailable, msg)
	default:
		e = Throttling(msg)
	}
	e.RetryAfterSeconds = UnavailableRetryAfter
	return e
}

// internalError returns p's internal error with cause as Err.
func internalError(p Protocol, cause error) *Error {
	switch p {
	case ProtocolQuery, ProtocolIAM:
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
	case sigv4.KindSignatureMismatch, sigv4.KindSignatureExpired, sigv4.KindServiceMismatch, sigv4.KindRegionMismatch:
		c = codes{"InvalidSignatureException", "SignatureDoesNotMatch", http.StatusForbidden}
	default:
		return internalError(p, e)
	}
	code := c.json
	if p == ProtocolQuery || p == ProtocolIAM {
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
