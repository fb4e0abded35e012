package awsproto

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// WriteJSON writes v as a restJson1 response with status and Content-Type
// application/json; a nil v is written as {}. If v cannot be encoded nothing
// is written and the error is returned.
func WriteJSON(w http.ResponseWriter, status int, v any) error {
	b := []byte("{}")
	if v != nil {
		var err error
		if b, err = json.Marshal(v); err != nil {
			return fmt.Errorf("encode %T: %w", v, err)
		}
	}
	RequestID(w)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
	return nil
}

// oidcErrorBody is the sso-oidc error body. AWS sends only error and
// error_description (+ reason, endpoint, region), but botocore takes the
// text it prints after "An error occurred (…) when calling the … operation:"
// from a message or Message member (botocore/parsers.py,
// BaseJSONParser._do_error_parse), so CLI 2.9 shows AWS's own sso-oidc
// errors with nothing after the colon. The SDKs ignore members they do not
// model, so Message repeats ErrorDescription for botocore's sake.
type oidcErrorBody struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	Message          string `json:"message"`
	Reason           string `json:"reason,omitempty"`
	Endpoint         string `json:"endpoint,omitempty"`
	Region           string `json:"region,omitempty"`
}

// portalErrorBody is the body of access-portal (and other restJson1) errors.
type portalErrorBody struct {
	Message string `json:"message"`
}

// WriteError writes e as a restJson1 error: e's status, x-amzn-ErrorType
// (which both SDKs read first to pick the error shape) and, when e has an
// OAuthError, the sso-oidc body {"error","error_description","message"
// [,"reason"]}, otherwise {"message"}. Every error body carries message,
// which is where botocore and the AWS CLI read the text they print.
func WriteError(w http.ResponseWriter, e *Error) {
	RequestID(w)
	var body any = portalErrorBody{Message: e.Message}
	if e.OAuthError != "" {
		body = oidcErrorBody{
			Error:            e.OAuthError,
			ErrorDescription: e.Message,
			Message:          e.Message,
			Reason:           e.Reason,
			Endpoint:         e.Endpoint,
			Region:           e.Region,
		}
	}
	b, _ := json.Marshal(body)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-Errortype", e.Code)
	setRetryAfter(h, e)
	w.WriteHeader(e.HTTPStatus())
	w.Write(b)
}
