// Package audit records every state change, sign-in, token grant,
// credential issue and denied call as an Event shaped like a CloudTrail
// record (DESIGN §9), written through the store in the same transaction as
// the change it describes.
package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// Identity is CloudTrail's userIdentity.
type Identity struct {
	Type        string `json:"type"` // AssumedRole, IdentityCenterUser, Unknown, AWSService
	PrincipalID string `json:"principalId,omitempty"`
	ARN         string `json:"arn,omitempty"`
	AccountID   string `json:"accountId,omitempty"`
	AccessKeyID string `json:"accessKeyId,omitempty"`
	UserName    string `json:"userName,omitempty"`
	UserID      string `json:"userId,omitempty"`
}

// Actor says who is making the current request and from where. The server
// puts it in the request's context; domain packages read it when they record.
type Actor struct {
	Identity  Identity
	SourceIP  string
	UserAgent string
	RequestID string
	Region    string
	// Account is the account that received the call (CloudTrail's
	// recipientAccountId): the caller's own account for per-account
	// services such as IAM; "" means the Recorder's (the management
	// account, home of the Identity Center instance).
	Account string
}

type actorKey struct{}

// WithActor returns ctx carrying a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// WithUser returns ctx whose audit actor is the Identity Center user
// userID (named userName), from the same address and user agent.
func WithUser(ctx context.Context, userID, userName string) context.Context {
	a := ActorFrom(ctx)
	a.Identity = Identity{Type: "IdentityCenterUser", PrincipalID: userID, UserID: userID, UserName: userName}
	return WithActor(ctx, a)
}

// ActorFrom returns the actor of ctx; requests without one (bootstrap, the
// demo loader, background work) act as the system.
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok {
		return a
	}
	return Actor{Identity: Identity{Type: "AWSService", PrincipalID: "gatehouse"}, SourceIP: "gatehouse.internal", UserAgent: "gatehouse"}
}

// Event is one CloudTrail-shaped audit record.
type Event struct {
	EventVersion       string          `json:"eventVersion"`
	EventID            string          `json:"eventID"`
	EventTime          time.Time       `json:"eventTime"`
	EventSource        string          `json:"eventSource"`
	EventName          string          `json:"eventName"`
	EventType          string          `json:"eventType"`
	AWSRegion          string          `json:"awsRegion,omitempty"`
	UserIdentity       Identity        `json:"userIdentity"`
	SourceIPAddress    string          `json:"sourceIPAddress,omitempty"`
	UserAgent          string          `json:"userAgent,omitempty"`
	RequestParameters  json.RawMessage `json:"requestParameters,omitempty"`
	ResponseElements   json.RawMessage `json:"responseElements,omitempty"`
	ErrorCode          string          `json:"errorCode,omitempty"`
	ErrorMessage       string          `json:"errorMessage,omitempty"`
	RequestID          string          `json:"requestID,omitempty"`
	ReadOnly           bool            `json:"readOnly"`
	RecipientAccountID string          `json:"recipientAccountId,omitempty"`
}

// Event sources.
const (
	SourceSSO           = "sso.amazonaws.com"
	SourceIdentityStore = "identitystore.amazonaws.com"
	// SourceIdentityStoreSCIM is the SCIM server's: AWS logs an
	// identity provider's SCIM calls under it (CreateUser, PatchUser,
	// PutUser, DeleteUser, CreateGroup, PatchGroup, ...; "Logging IAM
	// Identity Center SCIM API calls with AWS CloudTrail").
	SourceIdentityStoreSCIM = "identitystore-scim.amazonaws.com"
	SourceOIDC              = "sso-oauth.amazonaws.com"
	SourcePortal            = "sso.amazonaws.com"
	SourceSignIn            = "signin.amazonaws.com"
	SourceSTS               = "sts.amazonaws.com"
	SourceIAM               = "iam.amazonaws.com"
	SourceOrganizations     = "organizations.amazonaws.com"
	SourceCloudTrail        = "cloudtrail.amazonaws.com"
	// SourceGatehouse is the Gatehouse admin API (user lifecycle calls
	// AWS has no public API for): gatehouse:<Action> as an IAM action.
	SourceGatehouse = "gatehouse.amazonaws.com"
)

// Recorder writes events. IDs and times come from its fields so tests can
// pin them.
type Recorder struct {
	Now     func() time.Time
	NewID   func() string
	Region  string
	Account string // the management account, the recipient of every event
}

// Entry is what a caller knows about an event; Record fills in the rest.
type Entry struct {
	Source   string
	Name     string
	Type     string // default AwsApiCall
	ReadOnly bool
	// Params and Response are marshalled to JSON; they must never contain
	// secrets (passwords, tokens, keys).
	Params    any
	Response  any
	ErrorCode string
	ErrorMsg  string
	// Resources are what the call was about, as CloudTrail's LookupEvents
	// lists them (and filters on with ResourceType and ResourceName).
	// Build adds those the well-known members of Params and Response name
	// (see paramResources), so callers list only what those do not say.
	Resources []store.EventResource
}

// Resourcer is implemented by typed request parameters and response
// elements that list the resources their members name, exactly as
// paramResources finds them in their JSON: Build then takes the list
// instead of decoding the JSON it has just encoded (a credential issue's
// record is built on every GetRoleCredentials).
type Resourcer interface {
	EventResources() []store.EventResource
}

// Appender is the one store method Record needs; store.Tx implements it.
type Appender interface {
	AppendEvent(ctx context.Context, e *store.EventRecord) error
}

// Record writes one event through tx, as the actor of ctx.
func (r *Recorder) Record(ctx context.Context, tx Appender, e Entry) error {
	rec, err := r.Build(ctx, e)
	if err != nil {
		return err
	}
	if err := tx.AppendEvent(ctx, rec); err != nil {
		return fmt.Errorf("audit %s: %w", e.Name, err)
	}
	return nil
}

// Build makes the stored form of an event, as the actor of ctx.
func (r *Recorder) Build(ctx context.Context, e Entry) (*store.EventRecord, error) {
	a := ActorFrom(ctx)
	ev := Event{
		EventVersion:       "1.08",
		EventID:            r.NewID(),
		EventTime:          r.Now().UTC(),
		EventSource:        e.Source,
		EventName:          e.Name,
		EventType:          e.Type,
		AWSRegion:          a.Region,
		UserIdentity:       a.Identity,
		SourceIPAddress:    a.SourceIP,
		UserAgent:          clip(a.UserAgent, MaxValue),
		ErrorCode:          clip(e.ErrorCode, MaxValue),
		ErrorMessage:       clip(e.ErrorMsg, MaxValue),
		RequestID:          a.RequestID,
		ReadOnly:           e.ReadOnly,
		RecipientAccountID: r.Account,
	}
	if ev.EventType == "" {
		ev.EventType = "AwsApiCall"
	}
	if a.Account != "" {
		ev.RecipientAccountID = a.Account
	}
	if ev.AWSRegion == "" {
		ev.AWSRegion = r.Region
	}
	var err error
	if ev.RequestParameters, err = marshal(e.Params); err != nil {
		return nil, fmt.Errorf("audit %s: request parameters: %w", e.Name, err)
	}
	if ev.ResponseElements, err = marshal(e.Response); err != nil {
		return nil, fmt.Errorf("audit %s: response elements: %w", e.Name, err)
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("audit %s: %w", e.Name, err)
	}
	res := docResources(e.Resources, e.Source, e.Params, ev.RequestParameters)
	res = docResources(res, e.Source, e.Response, ev.ResponseElements)
	principal := a.Identity.UserName
	if principal == "" {
		principal = a.Identity.ARN
	}
	if principal == "" {
		principal = a.Identity.PrincipalID
	}
	return &store.EventRecord{
		ID: ev.EventID, Time: ev.EventTime, Source: ev.EventSource, Name: ev.EventName,
		Principal: principal, ErrorCode: ev.ErrorCode, ReadOnly: ev.ReadOnly,
		AccessKeyID: a.Identity.AccessKeyID, Resources: res, Record: body,
	}, nil
}

// docResources adds to res the resources that v, encoded as doc, names:
// those v lists when it is a Resourcer whose resource names are valid
// UTF-8 within MaxValue bytes (what the JSON round trip keeps unchanged),
// otherwise those paramResources finds in doc.
func docResources(res []store.EventResource, source string, v any, doc json.RawMessage) []store.EventResource {
	if r, ok := v.(Resourcer); ok {
		listed := r.EventResources()
		if kept(listed) {
			for _, x := range listed {
				res = addResource(res, x)
			}
			return res
		}
	}
	return paramResources(res, source, doc)
}

// kept reports whether the names of rs come back unchanged from Build's
// JSON: valid UTF-8, none cut to MaxValue.
func kept(rs []store.EventResource) bool {
	for _, r := range rs {
		if len(r.Name) > MaxValue || !utf8.ValidString(r.Name) {
			return false
		}
	}
	return true
}

// Bounds on what one event stores of what a request said, so that an
// unauthenticated request (a sign-in, an unsigned STS call, a failed
// client authentication) cannot grow the audit log by more than a few
// kilobytes whatever it sends.
const (
	// MaxValue is the most bytes kept of the user agent, the error code and
	// message, and of each string in the request parameters and response
	// elements; longer ones are cut at a UTF-8 boundary and end in
	// Truncated.
	MaxValue = 1024
	// MaxItems is the most items kept of each list in the request
	// parameters and response elements; longer lists keep their first
	// MaxItems items.
	MaxItems = 50
)

// Truncated ends every value Build cut short.
const Truncated = "...(truncated)"

// clip returns s cut to at most n bytes, at a UTF-8 boundary, ending in
// Truncated when it was cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len(Truncated)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + Truncated
}

// marshal returns v as JSON with every string cut to MaxValue bytes and
// every list to MaxItems items.
func marshal(v any) (json.RawMessage, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if string(b) == "null" {
		return nil, nil
	}
	if len(b) <= MaxValue {
		return b, nil // no string or list in it can be over the bounds
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var tree any
	if err := d.Decode(&tree); err != nil {
		return nil, err
	}
	return json.Marshal(bound(tree))
}

// bound cuts the strings and lists of a decoded JSON value.
func bound(v any) any {
	switch v := v.(type) {
	case string:
		return clip(v, MaxValue)
	case []any:
		if len(v) > MaxItems {
			v = v[:MaxItems]
		}
		for i := range v {
			v[i] = bound(v[i])
		}
		return v
	case map[string]any:
		for k, x := range v {
			v[k] = bound(x)
		}
		return v
	}
	return v
}

// Direct records each event in a transaction of its own; it is the
// unbatched counterpart of Batcher, for tests and tools.
type Direct struct {
	Store    store.Store
	Recorder *Recorder
}

// Record writes e as the actor of ctx in a transaction of its own.
func (d Direct) Record(ctx context.Context, e Entry) error {
	return d.Store.Update(ctx, func(tx store.Tx) error { return d.Recorder.Record(ctx, tx, e) })
}
