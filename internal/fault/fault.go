// Package fault defines the typed errors Gatehouse's domain packages return.
// Each Kind corresponds to an AWS error name (ValidationException,
// ResourceNotFoundException, ConflictException,
// ServiceQuotaExceededException, AccessDeniedException, ThrottlingException);
// the API packages translate them onto the wire in one place per protocol.
package fault

import (
	"errors"
	"fmt"

	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// Kind classifies a domain error.
type Kind int

// Kinds of domain error.
const (
	Internal Kind = iota
	Validation
	NotFound
	Conflict
	QuotaExceeded
	AccessDenied
	// Unavailable means the request could not be answered right now and
	// may be retried unchanged: a dependency the answer needs (the
	// database) is unreachable or lagging. The APIs answer it with their
	// retryable throttling or service-unavailable error and Retry-After.
	Unavailable
)

// String returns the AWS error shape name of k.
func (k Kind) String() string {
	switch k {
	case Validation:
		return "ValidationException"
	case NotFound:
		return "ResourceNotFoundException"
	case Conflict:
		return "ConflictException"
	case QuotaExceeded:
		return "ServiceQuotaExceededException"
	case AccessDenied:
		return "AccessDeniedException"
	case Unavailable:
		return "ThrottlingException"
	}
	return "InternalServerException"
}

// Error is a domain error a client may see.
type Error struct {
	Kind    Kind
	Message string
	// ResourceType and ResourceID name the missing thing for NotFound
	// (identitystore's ResourceType: USER, GROUP, GROUP_MEMBERSHIP, ...).
	ResourceType string
	ResourceID   string
	// Reason is identitystore's ConflictException reason
	// (UNIQUENESS_CONSTRAINT_VIOLATION, CONCURRENT_MODIFICATION).
	Reason string
	Err    error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Validationf returns a Validation error with a formatted message.
func Validationf(format string, args ...any) *Error {
	return &Error{Kind: Validation, Message: fmt.Sprintf(format, args...)}
}

// NotFoundf returns a NotFound error for a resource of the given type and ID.
func NotFoundf(resourceType, id, format string, args ...any) *Error {
	return &Error{Kind: NotFound, ResourceType: resourceType, ResourceID: id, Message: fmt.Sprintf(format, args...)}
}

// Conflictf returns a Conflict error.
func Conflictf(format string, args ...any) *Error {
	return &Error{Kind: Conflict, Message: fmt.Sprintf(format, args...)}
}

// Uniquef returns a Conflict error for a broken uniqueness rule.
func Uniquef(format string, args ...any) *Error {
	return &Error{Kind: Conflict, Reason: "UNIQUENESS_CONSTRAINT_VIOLATION", Message: fmt.Sprintf(format, args...)}
}

// Quotaf returns a QuotaExceeded error.
func Quotaf(format string, args ...any) *Error {
	return &Error{Kind: QuotaExceeded, Message: fmt.Sprintf(format, args...)}
}

// Deniedf returns an AccessDenied error.
func Deniedf(format string, args ...any) *Error {
	return &Error{Kind: AccessDenied, Message: fmt.Sprintf(format, args...)}
}

// Unavailablef returns an Unavailable error with a formatted message for
// the client and cause for the log.
func Unavailablef(cause error, format string, args ...any) *Error {
	return &Error{Kind: Unavailable, Message: fmt.Sprintf(format, args...), Err: cause}
}

// As returns err as a *Error. Store sentinels that reach it unclassified
// become NotFound or Conflict; anything else is Internal.
func As(err error) *Error {
	if e, ok := errors.AsType[*Error](err); ok {
		return e
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return &Error{Kind: NotFound, Message: "The specified resource was not found", Err: err}
	case errors.Is(err, store.ErrConflict):
		return &Error{Kind: Conflict, Message: "The request conflicts with the current state of the resource", Err: err}
	}
	return &Error{Kind: Internal, Message: "An internal error occurred", Err: err}
}

// KindOf returns the Kind of err.
func KindOf(err error) Kind { return As(err).Kind }
