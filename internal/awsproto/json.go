package awsproto

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// JSONContentType is the awsJson1_1 content type.
const JSONContentType = "application/x-amz-json-1.1"

// DefaultMaxBodyBytes is the request-body limit of a JSONService whose
// MaxBodyBytes is 0.
const DefaultMaxBodyBytes = 1 << 20

// Operation runs one awsJson1_1 operation on a raw JSON request body and
// returns the raw JSON response body. Build one with Op.
type Operation func(ctx context.Context, body []byte) ([]byte, error)

// Op adapts a typed operation to an Operation. The body is decoded into a
// new In with encoding/json (unknown members are ignored, since clients are
// newer than us; an empty body is {}); malformed JSON yields a
// SerializationException. A nil *Out is encoded as {}. Errors from fn are
// returned unchanged.
func Op[In, Out any](fn func(ctx context.Context, in *In) (*Out, error)) Operation {
	return func(ctx context.Context, body []byte) ([]byte, error) {
		in := new(In)
		if len(bytes.TrimSpace(body)) > 0 {
			if err := json.Unmarshal(body, in); err != nil {
				return nil, serializationError(err)
			}
		}
		out, err := fn(ctx, in)
		if err != nil {
			return nil, err
		}
		if out == nil {
			return []byte("{}"), nil
		}
		b, err := json.Marshal(out)
		if err != nil {
			return nil, fmt.Errorf("encode %T: %w", out, err)
		}
		return b, nil
	}
}

// serializationError describes a decoding failure without Go type names.
func serializationError(err error) *Error {
	msg := "Request body is not valid JSON."
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		if te.Field != "" {
			msg = "Unexpected JSON " + te.Value + " for member " + te.Field + "."
		} else {
			msg = "Unexpected JSON " + te.Value + " where an object was expected."
		}
	}
	e := Serialization(msg)
	e.Err = err
	return e
}

// JSONService serves one awsJson1_1 service on POST /: it reads X-Amz-Target
// ("<TargetPrefix>.<Operation>"), runs Authenticate, then the operation, and
// writes the result or the error (spec/aws-wire.md §2.2). Configure it before
// serving; it is then safe for concurrent use.
type JSONService struct {
	// TargetPrefix is the X-Amz-Target prefix: "SWBExternalService"
	// (sso-admin), "AWSIdentityStore", "AWSOrganizationsV20161128".
	TargetPrefix string
	// Operations maps operation names (without prefix) to operations.
	Operations map[string]Operation
	// Authenticate, if set, runs after the target is resolved and before
	// the operation, e.g. SigV4 verification and authorisation. The returned
	// context (nil means r.Context()) is passed to the operation. Its error
	// is mapped by ErrorFor.
	Authenticate func(r *http.Request, operation string, body []byte) (context.Context, error)
	// Unknown, if set, answers a target with this service's prefix that
	// names no operation: it runs after Authenticate (so that only an
	// authenticated caller reaches it, and it can audit the call) with the
	// operation name, and should return UnknownOperation. Nil answers
	// UnknownOperationException before authentication.
	Unknown func(ctx context.Context, name string, body []byte) ([]byte, error)
	// ErrorRequestID copies the request ID into error bodies as "RequestId",
	// which identitystore models on every error.
	ErrorRequestID bool
	// MaxBodyBytes limits the request body; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Logger receives one record per internal error; nil discards them.
	Logger *slog.Logger
}

var _ http.Handler = (*JSONService)(nil)

// opNameRE is the form of an operation name worth authenticating and
// auditing: a Smithy shape name of sane length. Other targets are answered
// UnknownOperationException at once.
var opNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]{0,127}$`)

// ServeHTTP implements http.Handler.
func (s *JSONService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	RequestID(w)
	limit := s.MaxBodyBytes
	if limit == 0 {
		limit = DefaultMaxBodyBytes
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		s.writeError(w, r, "", Serialization("Request body could not be read or is too large."))
		return
	}
	target := r.Header.Get("X-Amz-Target")
	name, op, ok := s.lookup(target)
	if !ok {
		i := strings.LastIndexByte(target, '.')
		if s.Unknown == nil || i < 0 || target[:i] != s.TargetPrefix || !opNameRE.MatchString(target[i+1:]) {
			s.writeError(w, r, "", UnknownOperation(target))
			return
		}
		name = target[i+1:]
		op = func(ctx context.Context, body []byte) ([]byte, error) { return s.Unknown(ctx, name, body) }
	}
	ctx := r.Context()
	if s.Authenticate != nil {
		if ctx, err = s.Authenticate(r, name, body); err != nil {
			s.writeError(w, r, name, ErrorFor(ProtocolJSON, err))
			return
		}
		if ctx == nil {
			ctx = r.Context()
		}
	}
	out, err := op(ctx, body)
	if err != nil {
		s.writeError(w, r, name, ErrorFor(ProtocolJSON, err))
		return
	}
	w.Header().Set("Content-Type", JSONContentType)
	w.WriteHeader(http.StatusOK)
	w.Write(out)
}

// Dispatch runs the operation named by target ("<TargetPrefix>.<Operation>")
// on body without authentication, for callers that compose their own
// handler. Errors are returned unmapped; an unknown target yields
// UnknownOperation.
func (s *JSONService) Dispatch(ctx context.Context, target string, body []byte) ([]byte, error) {
	_, op, ok := s.lookup(target)
	if !ok {
		return nil, UnknownOperation(target)
	}
	return op(ctx, body)
}

func (s *JSONService) lookup(target string) (string, Operation, bool) {
	// The operation follows the last dot: CloudTrail's prefix has dots.
	i := strings.LastIndexByte(target, '.')
	if i < 0 || target[:i] != s.TargetPrefix {
		return "", nil, false
	}
	name := target[i+1:]
	op, ok := s.Operations[name]
	return name, op, ok && op != nil
}

func (s *JSONService) writeError(w http.ResponseWriter, r *http.Request, op string, e *Error) {
	id := RequestID(w)
	LogFailure(r.Context(), s.Logger, e.HTTPStatus(), e.Err, "internal error",
		slog.String("request_id", id), slog.String("op", op))
	if s.ErrorRequestID && e.RequestID == "" {
		c := *e
		c.RequestID = id
		e = &c
	}
	WriteJSONError(w, e)
}

// jsonErrorBody is the awsJson1_1 error body. Message is capitalised as the
// sso-admin and identitystore models name it; both SDKs also accept message.
type jsonErrorBody struct {
	Type              string `json:"__type"`
	Message           string `json:"Message"`
	Reason            string `json:"Reason,omitempty"`
	ResourceType      string `json:"ResourceType,omitempty"`
	ResourceID        string `json:"ResourceId,omitempty"`
	RequestID         string `json:"RequestId,omitempty"`
	RetryAfterSeconds int    `json:"RetryAfterSeconds,omitempty"`
}

// WriteJSONError writes e as an awsJson1_1 error: status 400 unless e says
// otherwise, x-amzn-ErrorType and the body
// {"__type":"<Code>","Message":"…", …members}.
func WriteJSONError(w http.ResponseWriter, e *Error) {
	RequestID(w)
	b, _ := json.Marshal(jsonErrorBody{
		Type:              e.Code,
		Message:           e.Message,
		Reason:            e.Reason,
		ResourceType:      e.ResourceType,
		ResourceID:        e.ResourceID,
		RequestID:         e.RequestID,
		RetryAfterSeconds: e.RetryAfterSeconds,
	})
	h := w.Header()
	h.Set("Content-Type", JSONContentType)
	h.Set("X-Amzn-Errortype", e.Code)
	setRetryAfter(h, e)
	w.WriteHeader(e.HTTPStatus())
	w.Write(b)
}

// Timestamp is a time encoded, as awsJson1_1 and restJson1 encode timestamp
// members, as epoch seconds in a JSON number with an optional fraction
// (1732245600.123). It is encoded with millisecond precision. Use the
// omitzero tag option to omit zero times.
type Timestamp struct{ time.Time }

// MarshalJSON implements json.Marshaler.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	ms := t.UnixMilli()
	if ms%1000 == 0 {
		return strconv.AppendInt(nil, ms/1000, 10), nil
	}
	return strconv.AppendFloat(nil, float64(ms)/1000, 'f', -1, 64), nil
}

// UnmarshalJSON implements json.Unmarshaler. It accepts a number (with
// fraction or exponent) or null.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		return nil
	}
	if sec, frac, ok := strings.Cut(s, "."); ok && !strings.ContainsAny(s, "eE") && len(frac) > 0 && len(frac) <= 9 {
		n, err1 := strconv.ParseInt(sec, 10, 64)
		f, err2 := strconv.ParseUint(frac, 10, 64)
		if err1 == nil && err2 == nil {
			for range 9 - len(frac) {
				f *= 10
			}
			ns := int64(f)
			if strings.HasPrefix(sec, "-") {
				ns = -ns
			}
			t.Time = time.Unix(n, ns).UTC()
			return nil
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("timestamp %s is not a number of epoch seconds", s)
	}
	sec := int64(f)
	t.Time = time.Unix(sec, int64((f-float64(sec))*1e9)).Round(time.Microsecond).UTC()
	return nil
}
