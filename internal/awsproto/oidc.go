package awsproto

import "net/http"

// The sso-oidc errors of spec/aws-wire.md §3.1. Their bodies are
// {"error":<OAuth code>,"error_description":<description>,"message":<description>}
// plus "reason" where noted; the shape name travels only in
// x-amzn-ErrorType. "message" is not in AWS's bodies: it is what botocore
// prints (see WriteError).

func oidcError(code, oauth string, status int, desc string) *Error {
	return &Error{Code: code, OAuthError: oauth, Status: status, Message: desc}
}

// OIDCAuthorizationPending is returned while the user has not yet approved a
// device authorization; the client keeps polling.
func OIDCAuthorizationPending(desc string) *Error {
	return oidcError("AuthorizationPendingException", "authorization_pending", http.StatusBadRequest, desc)
}

// OIDCSlowDown is returned when a client polls faster than its interval; the
// client adds 5 seconds to it.
func OIDCSlowDown(desc string) *Error {
	return oidcError("SlowDownException", "slow_down", http.StatusBadRequest, desc)
}

// OIDCThrottled is the SlowDownException RegisterClient and
// StartDeviceAuthorization answer when a source address sends more than
// its limit (the botocore sso-oidc model lists SlowDownException, HTTP 400,
// for both).
func OIDCThrottled(desc string) *Error {
	return OIDCSlowDown(desc)
}

// OIDCExpiredToken is returned for an expired device code or authorization code.
func OIDCExpiredToken(desc string) *Error {
	return oidcError("ExpiredTokenException", "expired_token", http.StatusBadRequest, desc)
}

// OIDCAccessDenied is returned when the user denied the authorization.
func OIDCAccessDenied(desc string) *Error {
	return oidcError("AccessDeniedException", "access_denied", http.StatusBadRequest, desc)
}

// OIDCInvalidGrant is returned for an unknown, consumed or mismatched grant
// (device code, authorization code, PKCE verifier, redirect URI, refresh token).
func OIDCInvalidGrant(desc string) *Error {
	return oidcError("InvalidGrantException", "invalid_grant", http.StatusBadRequest, desc)
}

// OIDCInvalidClient is returned (401) for an unknown client, a wrong client
// secret or an expired registration.
func OIDCInvalidClient(desc string) *Error {
	return oidcError("InvalidClientException", "invalid_client", http.StatusUnauthorized, desc)
}

// OIDCUnauthorizedClient is returned when the client is not registered for
// the grant it uses.
func OIDCUnauthorizedClient(desc string) *Error {
	return oidcError("UnauthorizedClientException", "unauthorized_client", http.StatusBadRequest, desc)
}

// OIDCUnsupportedGrantType is returned for an unknown grant type.
func OIDCUnsupportedGrantType(desc string) *Error {
	return oidcError("UnsupportedGrantTypeException", "unsupported_grant_type", http.StatusBadRequest, desc)
}

// OIDCInvalidScope is returned for a scope the client may not request.
func OIDCInvalidScope(desc string) *Error {
	return oidcError("InvalidScopeException", "invalid_scope", http.StatusBadRequest, desc)
}

// OIDCInvalidRequest is returned for a missing or malformed field.
func OIDCInvalidRequest(desc string) *Error {
	return oidcError("InvalidRequestException", "invalid_request", http.StatusBadRequest, desc)
}

// OIDCInvalidClientMetadata is returned by RegisterClient for unacceptable
// client metadata.
func OIDCInvalidClientMetadata(desc string) *Error {
	return oidcError("InvalidClientMetadataException", "invalid_client_metadata", http.StatusBadRequest, desc)
}

// OIDCInvalidRedirectURI is returned by RegisterClient for an unacceptable
// redirect URI.
func OIDCInvalidRedirectURI(desc string) *Error {
	return oidcError("InvalidRedirectUriException", "invalid_redirect_uri", http.StatusBadRequest, desc)
}

// OIDCInvalidRequestRegion is returned by CreateTokenWithIAM for a request
// sent to the wrong region.
func OIDCInvalidRequestRegion(desc, endpoint, region string) *Error {
	e := oidcError("InvalidRequestRegionException", "invalid_request", http.StatusBadRequest, desc)
	e.Endpoint, e.Region = endpoint, region
	return e
}

// OIDCInternal is the sso-oidc internal error (500, "server_error") with
// cause as Err; the SDKs retry it.
func OIDCInternal(cause error) *Error {
	e := oidcError("InternalServerException", "server_error", http.StatusInternalServerError, "An internal error occurred.")
	e.Err = cause
	return e
}

// The access-portal (sso) errors of spec/aws-wire.md §4; bodies are
// {"message":…}.

// PortalInvalidRequest is returned for bad parameters.
func PortalInvalidRequest(msg string) *Error {
	return &Error{Code: "InvalidRequestException", Message: msg, Status: http.StatusBadRequest}
}

// PortalUnauthorized is returned (401) for a missing, unknown, expired or
// revoked bearer token; botocore then tells the user to run aws sso login.
func PortalUnauthorized(msg string) *Error {
	return &Error{Code: "UnauthorizedException", Message: msg, Status: http.StatusUnauthorized}
}

// PortalResourceNotFound is returned (404) for an unknown account or role.
func PortalResourceNotFound(msg string) *Error {
	return &Error{Code: "ResourceNotFoundException", Message: msg, Status: http.StatusNotFound}
}

// PortalTooManyRequests is returned (429) when throttling; SDKs retry it.
func PortalTooManyRequests(msg string) *Error {
	return &Error{Code: "TooManyRequestsException", Message: msg, Status: http.StatusTooManyRequests}
}

// PortalForbidden is AWS's unmodelled ForbiddenException (403), returned by
// GetRoleCredentials when the user has no assignment for the role (AWS
// message "No access").
func PortalForbidden(msg string) *Error {
	return &Error{Code: "ForbiddenException", Message: msg, Status: http.StatusForbidden}
}
