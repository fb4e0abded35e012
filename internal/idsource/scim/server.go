package scim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/awsproto"
	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// Prefix is where the SCIM service lives on Gatehouse's origin.
const Prefix = "/scim/v2"

// MaxBody bounds a request body. A PATCH that adds a thousand members is
// about 60 KiB.
const MaxBody = 512 << 10

// MaxResults is the largest page a list returns, as IAM Identity Center's
// ListUsers and ListGroups ("count ... Maximum value of 100").
const MaxResults = 100

// EventWriter records audit events outside a change's transaction (the
// failed writes); *audit.Batcher implements it.
type EventWriter interface {
	Record(ctx context.Context, e audit.Entry) error
}

// Server is the SCIM 2.0 service provider (RFC 7644) at Prefix. Users and
// groups go through the directory service, as the identitystore API's do:
// the same validation, uniqueness rules, revocation and audit trail.
type Server struct {
	Directory *directory.Service
	Store     store.Store
	Tokens    *Tokens
	// Events records failed writes; nil records none.
	Events EventWriter
	// BaseURL is Gatehouse's public URL; the service is at BaseURL+Prefix.
	BaseURL string
	// AccountID is the management account, the audit events' accountId.
	AccountID string
	// Allowed, when set, is asked before any authenticated request: a
	// refusal ("" allows) is answered 403 with it as the detail (the
	// identity source setting may turn automatic provisioning off); an
	// error is a 500. Nil allows.
	Allowed func(ctx context.Context) (refusal string, err error)
	Log     *slog.Logger
}

// Endpoint is the SCIM base URL administrators paste into their identity
// provider.
func (s *Server) Endpoint() string { return strings.TrimRight(s.BaseURL, "/") + Prefix }

// Register mounts the service on mux.
func (s *Server) Register(mux *http.ServeMux) {
	mux.Handle(Prefix+"/", s)
	mux.Handle(Prefix, s)
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, id string) error

// ServeHTTP authenticates the bearer token, then routes the request. Every
// failure is a SCIM error body (RFC 7644 §3.12); a 500 is logged.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := s.serve(w, r); err != nil {
		e := asError(err)
		awsproto.LogFailure(r.Context(), s.Log, e.Status, err, "scim request", slog.String("method", r.Method),
			slog.String("path", r.URL.Path), slog.String("request_id", audit.ActorFrom(r.Context()).RequestID))
		writeError(w, e)
	}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) error {
	// A bearer token in the query string would end in access logs and
	// browser histories (RFC 6750 §5.3): refused, and not looked at.
	q := r.URL.Query()
	if q.Has("access_token") || q.Has("token") {
		return &Error{Status: http.StatusUnauthorized, Detail: "Send the bearer token in the Authorization header, never in the URL"}
	}
	tok, err := s.authenticate(r)
	if err != nil {
		return err
	}
	if s.Allowed != nil {
		refusal, err := s.Allowed(r.Context())
		if err != nil {
			return err
		}
		if refusal != "" {
			return &Error{Status: http.StatusForbidden, Detail: refusal}
		}
	}
	actor := audit.ActorFrom(r.Context())
	// AWS records SCIM calls as a WebIdentityUser of the account
	// ("Logging IAM Identity Center SCIM API calls with AWS CloudTrail");
	// the token's ID says which token made the change.
	actor.Identity = audit.Identity{Type: "WebIdentityUser", PrincipalID: tok.ID, AccountID: s.AccountID, UserName: "scim/" + tok.ID}
	r = r.WithContext(audit.WithActor(r.Context(), actor))

	rest := strings.Trim(strings.TrimPrefix(r.URL.Path, Prefix), "/")
	resource, id, _ := strings.Cut(rest, "/")
	if strings.Contains(id, "/") {
		return &Error{Status: http.StatusNotFound, Detail: "No such SCIM endpoint"}
	}
	var h map[string]handlerFunc
	switch resource {
	case "Users":
		h = map[string]handlerFunc{"GET": s.getUsers, "POST": s.createUser, "PUT": s.putUser, "PATCH": s.patchUser, "DELETE": s.deleteUser}
	case "Groups":
		h = map[string]handlerFunc{"GET": s.getGroups, "POST": s.createGroup, "PUT": s.putGroup, "PATCH": s.patchGroup, "DELETE": s.deleteGroup}
	case "ServiceProviderConfig":
		h = map[string]handlerFunc{"GET": s.serviceProviderConfig}
	case "Schemas":
		h = map[string]handlerFunc{"GET": s.schemas}
	case "ResourceTypes":
		h = map[string]handlerFunc{"GET": s.resourceTypes}
	default:
		return &Error{Status: http.StatusNotFound, Detail: "No such SCIM endpoint"}
	}
	fn, ok := h[r.Method]
	if !ok {
		return &Error{Status: http.StatusMethodNotAllowed, Detail: r.Method + " is not supported here"}
	}
	// Collections take POST (and GET); single resources the rest.
	switch {
	case id == "" && (r.Method == "PUT" || r.Method == "PATCH" || r.Method == "DELETE"),
		id != "" && r.Method == "POST":
		return &Error{Status: http.StatusMethodNotAllowed, Detail: r.Method + " is not supported here"}
	}
	return fn(w, r, id)
}

// authenticate checks the Authorization header's bearer token (RFC 6750
// §2.1). Every failure is the same 401, with WWW-Authenticate: Bearer.
func (s *Server) authenticate(r *http.Request) (*store.SCIMToken, error) {
	unauthorized := &Error{Status: http.StatusUnauthorized, Detail: "The bearer token is missing, invalid, expired or revoked"}
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || len(r.Header.Values("Authorization")) != 1 {
		return nil, unauthorized
	}
	rec, err := s.Tokens.Authenticate(r.Context(), strings.TrimSpace(tok))
	if errors.Is(err, ErrUnauthorized) {
		return nil, unauthorized
	}
	if err != nil {
		return nil, err
	}
	return rec, nil
}

// readBody reads a JSON request body: application/scim+json or
// application/json (or no type, as some clients send), at most MaxBody
// bytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/scim+json" && mt != "application/json") {
			return nil, &Error{Status: http.StatusUnsupportedMediaType, Detail: "Send application/scim+json or application/json"}
		}
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return nil, &Error{Status: http.StatusRequestEntityTooLarge, Detail: "The request body is larger than " + strconv.Itoa(MaxBody) + " bytes"}
	}
	if err != nil {
		return nil, badRequest(typeInvalidSyntax, "The request body could not be read")
	}
	return b, nil
}

// decodeBody decodes a JSON object; anything else is 400 invalidSyntax.
func decodeBody(b []byte, v any) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return badRequest(typeInvalidSyntax, "The request body must be a JSON object")
	}
	if err := json.Unmarshal(b, v); err != nil {
		if e, ok := errors.AsType[*Error](err); ok {
			return e
		}
		return badRequest(typeInvalidSyntax, "The request body is not valid SCIM JSON: %s", jsonProblem(err))
	}
	return nil
}

// decodeDoc decodes a JSON object into a T (a resource document such as
// userDoc or groupDoc); anything else is 400 invalidSyntax.
func decodeDoc[T any](b []byte) (*T, error) {
	var d T
	if err := decodeBody(b, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// readRequest reads the request body and decodes it with decode. A body
// that cannot be read (wrong media type, too large) is returned as is; one
// that does not decode is also audited as the failed operation op with
// params.
func readRequest[T any](s *Server, w http.ResponseWriter, r *http.Request, op string, params map[string]any, decode func([]byte) (*T, error)) (*T, error) {
	b, err := readBody(w, r)
	if err != nil {
		return nil, err
	}
	d, err := decode(b)
	if err != nil {
		return nil, s.failed(r.Context(), op, params, err)
	}
	return d, nil
}

// readPatch reads a PATCH request body (RFC 7644 §3.5.2) as readRequest
// does and adds its operations ("op path") to params, so that the audit
// event says what was changed.
func readPatch(s *Server, w http.ResponseWriter, r *http.Request, op string, params map[string]any) (*patchRequest, error) {
	p, err := readRequest(s, w, r, op, params, decodePatch)
	if err != nil {
		return nil, err
	}
	params["operations"] = p.opPaths()
	return p, nil
}

// jsonProblem says what was wrong without echoing input.
func jsonProblem(err error) string {
	if e, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		return "attribute " + e.Field + " must be a " + e.Type.String()
	}
	return "malformed JSON"
}

// event names a write in the audit trail (identitystore-scim source).
func event(name string, params map[string]any) directory.Event {
	return directory.Event{Source: audit.SourceIdentityStoreSCIM, Name: name, Params: params}
}

// failed records a write that failed with a client error; 5xx are logged
// by ServeHTTP instead.
func (s *Server) failed(ctx context.Context, name string, params map[string]any, err error) error {
	e := asError(err)
	if s.Events != nil && e.Status < 500 {
		if aerr := s.Events.Record(ctx, audit.Entry{Source: audit.SourceIdentityStoreSCIM, Name: name, Params: params,
			ErrorCode: e.awsCode(), ErrorMsg: e.Detail}); aerr != nil {
			return aerr
		}
	}
	return err
}

// location is the URL of the resource id of kind ("Users" or "Groups"),
// as a Location header and meta.location carry it (RFC 7644 §3.1).
func (s *Server) location(kind, id string) string { return s.Endpoint() + "/" + kind + "/" + id }

// pageParams reads startIndex (1-based) and count (RFC 7644 §3.4.2.4).
func pageParams(r *http.Request) (start, count int, err error) {
	start, count = 1, MaxResults
	q := r.URL.Query()
	if v := q.Get("startIndex"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, 0, badRequest(typeInvalidValue, "startIndex must be an integer")
		}
		if n > 1 {
			start = n
		}
	}
	if v := q.Get("count"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, 0, badRequest(typeInvalidValue, "count must be an integer")
		}
		count = max(0, min(n, MaxResults))
	}
	return start, count, nil
}

// listResponse is a query's answer (RFC 7644 §3.4.2).
type listResponse struct {
	Schemas      []string `json:"schemas"`
	TotalResults int      `json:"totalResults"`
	ItemsPerPage int      `json:"itemsPerPage"`
	StartIndex   int      `json:"startIndex"`
	Resources    []any    `json:"Resources"`
}

// writeList answers a query (GET /Users, GET /Groups): the resources find
// returns for the request's filter, paged by its startIndex and count
// (pageParams) and each rendered by render, as a ListResponse.
func writeList[T any](w http.ResponseWriter, r *http.Request, find func(r *http.Request, filter string) ([]T, error), render func(*T) any) error {
	start, count, err := pageParams(r)
	if err != nil {
		return err
	}
	items, err := find(r, r.URL.Query().Get("filter"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page(items, start, count, render))
	return nil
}

func page[T any](items []T, start, count int, render func(*T) any) listResponse {
	out := listResponse{Schemas: []string{SchemaListResponse}, TotalResults: len(items), StartIndex: start, Resources: []any{}}
	for i := start - 1; i >= 0 && i < len(items) && len(out.Resources) < count; i++ {
		out.Resources = append(out.Resources, render(&items[i]))
	}
	out.ItemsPerPage = len(out.Resources)
	return out
}
