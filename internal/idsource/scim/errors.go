package scim

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gatehouse-dev/gatehouse/internal/fault"
)

// Schema URNs (RFC 7643 §8.7, RFC 7644 §3.12, §3.5.2, §3.4.2).
const (
	SchemaUser           = "urn:ietf:params:scim:schemas:core:2.0:User"
	SchemaGroup          = "urn:ietf:params:scim:schemas:core:2.0:Group"
	SchemaEnterpriseUser = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	SchemaError          = "urn:ietf:params:scim:api:messages:2.0:Error"
	SchemaPatchOp        = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	SchemaListResponse   = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	SchemaSPConfig       = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	SchemaResourceType   = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	SchemaSchema         = "urn:ietf:params:scim:schemas:core:2.0:Schema"
)

// scimType values of error responses (RFC 7644 §3.12, table 9).
const (
	typeInvalidFilter = "invalidFilter"
	typeInvalidSyntax = "invalidSyntax"
	typeInvalidPath   = "invalidPath"
	typeInvalidValue  = "invalidValue"
	typeUniqueness    = "uniqueness"
	typeMutability    = "mutability"
	typeNoTarget      = "noTarget"
	typeTooMany       = "tooMany"
)

// Error is a SCIM error response (RFC 7644 §3.12): HTTP status, optional
// scimType and a detail the client sees. Err, the cause, is logged for
// 5xx answers and never sent.
type Error struct {
	Status   int
	ScimType string
	Detail   string
	Err      error
}

// Error says the status, type and detail, and the cause if any.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("scim %d %s: %s: %v", e.Status, e.ScimType, e.Detail, e.Err)
	}
	return fmt.Sprintf("scim %d %s: %s", e.Status, e.ScimType, e.Detail)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

func badRequest(scimType, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, ScimType: scimType, Detail: fmt.Sprintf(format, args...)}
}

func notFound(what, id string) *Error {
	return &Error{Status: http.StatusNotFound, Detail: fmt.Sprintf("%s %s not found", what, id)}
}

// errorBody is the wire shape. status is a string, as RFC 7644 §3.12's
// examples and IAM Identity Center's responses have it.
type errorBody struct {
	Schemas  []string `json:"schemas"`
	Status   string   `json:"status"`
	ScimType string   `json:"scimType,omitempty"`
	Detail   string   `json:"detail,omitempty"`
}

// asError maps an error of a handler or a domain service to a SCIM error:
// validation failures are 400 invalidValue, missing resources 404,
// uniqueness conflicts 409 uniqueness, quota 400 tooMany; anything else is
// a 500 whose cause the caller logs.
func asError(err error) *Error {
	if e, ok := errors.AsType[*Error](err); ok {
		return e
	}
	f := fault.As(err)
	switch f.Kind {
	case fault.Validation:
		return &Error{Status: http.StatusBadRequest, ScimType: typeInvalidValue, Detail: f.Message}
	case fault.NotFound:
		return &Error{Status: http.StatusNotFound, Detail: f.Message}
	case fault.Conflict:
		return &Error{Status: http.StatusConflict, ScimType: typeUniqueness, Detail: f.Message}
	case fault.QuotaExceeded:
		return &Error{Status: http.StatusBadRequest, ScimType: typeTooMany, Detail: f.Message}
	case fault.AccessDenied:
		return &Error{Status: http.StatusForbidden, Detail: f.Message}
	}
	return &Error{Status: http.StatusInternalServerError, Detail: "An internal error occurred", Err: err}
}

// awsCode is the error name IAM Identity Center's SCIM developer guide
// gives a status (its operations' "Errors" tables), which the audit
// event's errorCode records.
func (e *Error) awsCode() string {
	switch e.Status {
	case http.StatusUnauthorized:
		return "UnauthorizedException"
	case http.StatusForbidden:
		return "AccessDeniedException"
	case http.StatusNotFound:
		return "ResourceNotFoundException"
	case http.StatusConflict:
		return "ConflictException"
	case http.StatusTooManyRequests:
		return "ThrottlingException"
	}
	if e.Status >= 500 {
		return "InternalServerException"
	}
	return "ValidationException"
}

func writeError(w http.ResponseWriter, e *Error) {
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="scim"`)
	}
	writeJSON(w, e.Status, errorBody{Schemas: []string{SchemaError}, Status: strconv.Itoa(e.Status), ScimType: e.ScimType, Detail: e.Detail})
}

// contentType is what every response is sent as (RFC 7644 §3.1).
const contentType = "application/scim+json"

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"schemas":["` + SchemaError + `"],"status":"500","detail":"An internal error occurred"}`)
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
