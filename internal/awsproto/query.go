package awsproto

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// awsQuery namespaces, the xmlns of response and error documents.
const (
	STSNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"
	IAMNamespace = "https://iam.amazonaws.com/doc/2010-05-08/"
)

// QueryRequest is a decoded awsQuery request (spec/aws-wire.md §2.3).
type QueryRequest struct {
	Action  string
	Version string
	// Params holds every parameter, including Action and Version.
	Params url.Values
}

// ParseQueryRequest decodes an awsQuery request: the URL query, plus for a
// POST the application/x-www-form-urlencoded body (with or without a
// charset). A missing Action is a MissingAction error and an undecodable
// body a MalformedQueryString error (both 400).
func ParseQueryRequest(r *http.Request, body []byte) (*QueryRequest, error) {
	params, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, &Error{Code: "MalformedQueryString", Message: "The query string is malformed.", Err: err}
	}
	if r.Method == http.MethodPost && len(body) > 0 {
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "application/x-www-form-urlencoded" {
			return nil, &Error{Code: "MalformedQueryString", Message: "Content-Type must be application/x-www-form-urlencoded.", Err: err}
		}
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, &Error{Code: "MalformedQueryString", Message: "The request body is not a valid form encoding.", Err: err}
		}
		for k, vs := range form {
			params[k] = append(params[k], vs...)
		}
	}
	q := &QueryRequest{Action: params.Get("Action"), Version: params.Get("Version"), Params: params}
	if q.Action == "" {
		return nil, &Error{Code: "MissingAction", Message: "Could not find operation to invoke: the Action parameter is missing."}
	}
	return q, nil
}

// Get returns the first value of the parameter name, or "".
func (q *QueryRequest) Get(name string) string { return q.Params.Get(name) }

// List returns the list parameter name, sent as name.member.1, name.member.2,
// … It stops at the first missing index and is nil when the list is absent.
func (q *QueryRequest) List(name string) []string {
	var out []string
	for i := 1; ; i++ {
		vs, ok := q.Params[name+".member."+strconv.Itoa(i)]
		if !ok {
			return out
		}
		out = append(out, firstOrEmpty(vs))
	}
}

// StructList returns the list of structures name, sent as
// name.member.N.Field: one map of Field to value per member, in order. It
// stops at the first index with no fields.
func (q *QueryRequest) StructList(name string) []map[string]string {
	var out []map[string]string
	for i := 1; ; i++ {
		prefix := name + ".member." + strconv.Itoa(i) + "."
		var m map[string]string
		for k, vs := range q.Params {
			if field, ok := strings.CutPrefix(k, prefix); ok && field != "" {
				if m == nil {
					m = make(map[string]string)
				}
				m[field] = firstOrEmpty(vs)
			}
		}
		if m == nil {
			return out
		}
		out = append(out, m)
	}
}

func firstOrEmpty(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

// ISOTime is a time encoded as awsQuery XML encodes timestamps: ISO-8601 in
// UTC, e.g. 2026-11-22T04:02:01Z (fractional seconds only when present).
type ISOTime struct{ time.Time }

// MarshalText implements encoding.TextMarshaler.
func (t ISOTime) MarshalText() ([]byte, error) {
	return t.UTC().AppendFormat(nil, time.RFC3339Nano), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (t *ISOTime) UnmarshalText(b []byte) error {
	v, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil {
		return fmt.Errorf("parse ISO-8601 time %q: %w", b, err)
	}
	t.Time = v.UTC()
	return nil
}

// WriteQueryResponse writes the awsQuery response of action:
//
//	<{action}Response xmlns="{namespace}"><{action}Result>…</{action}Result><ResponseMetadata><RequestId>…</RequestId></ResponseMetadata></{action}Response>
//
// result is encoded with encoding/xml inside the Result element (its own
// XMLName, if any, is ignored); a nil result omits the Result element, as
// AWS does for operations without output. If result cannot be encoded
// nothing is written and the error is returned.
func WriteQueryResponse(w http.ResponseWriter, namespace, action string, result any) error {
	id := RequestID(w)
	var buf bytes.Buffer
	enc := xml.NewEncoder(&buf)
	root := xml.StartElement{
		Name: xml.Name{Local: action + "Response"},
		Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: namespace}},
	}
	if err := enc.EncodeToken(root); err != nil {
		return fmt.Errorf("encode %s response: %w", action, err)
	}
	if result != nil {
		if err := enc.EncodeElement(result, xml.StartElement{Name: xml.Name{Local: action + "Result"}}); err != nil {
			return fmt.Errorf("encode %s result: %w", action, err)
		}
	}
	meta := struct {
		RequestID string `xml:"RequestId"`
	}{id}
	if err := enc.EncodeElement(meta, xml.StartElement{Name: xml.Name{Local: "ResponseMetadata"}}); err != nil {
		return fmt.Errorf("encode %s response: %w", action, err)
	}
	if err := enc.EncodeToken(root.End()); err != nil {
		return fmt.Errorf("encode %s response: %w", action, err)
	}
	if err := enc.Flush(); err != nil {
		return fmt.Errorf("encode %s response: %w", action, err)
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
	return nil
}

// queryErrorResponse is the awsQuery error document.
type queryErrorResponse struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Error   struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	} `xml:"Error"`
	RequestID string `xml:"RequestId"`
}

// WriteQueryError writes e as an awsQuery error document with e's status;
// Type is Receiver for 5xx statuses and Sender otherwise.
func WriteQueryError(w http.ResponseWriter, namespace string, e *Error) {
	var doc queryErrorResponse
	doc.Xmlns = namespace
	doc.Error.Type = "Sender"
	if e.HTTPStatus() >= 500 {
		doc.Error.Type = "Receiver"
	}
	doc.Error.Code = e.Code
	doc.Error.Message = e.Message
	doc.RequestID = RequestID(w)
	b, _ := xml.Marshal(doc)
	w.Header().Set("Content-Type", "text/xml")
	setRetryAfter(w.Header(), e)
	w.WriteHeader(e.HTTPStatus())
	w.Write(b)
}

// Common awsQuery errors (STS and IAM; spec/aws-wire.md §2.8).

// QueryAccessDenied returns AccessDenied (403).
func QueryAccessDenied(msg string) *Error {
	return &Error{Code: "AccessDenied", Message: msg, Status: http.StatusForbidden}
}

// QueryInvalidAction returns InvalidAction (400) for an unknown Action of
// the given API version.
func QueryInvalidAction(action, version string) *Error {
	if version == "" {
		version = "NO_VERSION_SPECIFIED"
	}
	return &Error{Code: "InvalidAction", Message: "Could not find operation " + action + " for version " + version}
}

// QueryMissingParameter returns MissingParameter (400) for a required
// parameter that is absent.
func QueryMissingParameter(name string) *Error {
	return &Error{Code: "MissingParameter", Message: "The request must contain the parameter " + name + "."}
}

// QueryValidationError returns ValidationError (400).
func QueryValidationError(msg string) *Error { return &Error{Code: "ValidationError", Message: msg} }

// QueryThrottling returns Throttling (400); SDKs retry it.
func QueryThrottling(msg string) *Error { return &Error{Code: "Throttling", Message: msg} }

// QueryInternalFailure returns InternalFailure (500) with cause as Err.
func QueryInternalFailure(cause error) *Error {
	return &Error{Code: "InternalFailure", Message: "An internal error occurred.", Status: http.StatusInternalServerError, Err: cause}
}

// ReadQueryBody checks that an awsQuery request uses GET or POST and reads
// its body, at most limit bytes. Failures are awsQuery errors naming service
// ("STS", "IAM") in their message.
func ReadQueryBody(w http.ResponseWriter, r *http.Request, service string, limit int64) ([]byte, *Error) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		return nil, &Error{Code: "InvalidAction", Message: service + " accepts GET and POST requests.", Status: http.StatusMethodNotAllowed}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, QueryValidationError("The request body is too large.")
		}
		return nil, &Error{Code: "MalformedQueryString", Message: "The request body could not be read.", Err: err}
	}
	return body, nil
}
