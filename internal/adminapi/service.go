package adminapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/accesscache"
	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/authz"
	"github.com/gatehouse-dev/gatehouse/internal/awsaccounts"
	"github.com/gatehouse-dev/gatehouse/internal/awsauth"
	"github.com/gatehouse-dev/gatehouse/internal/awsproto"
	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/idsource"
	"github.com/gatehouse-dev/gatehouse/internal/idsource/scim"
	"github.com/gatehouse-dev/gatehouse/internal/organizations"
	"github.com/gatehouse-dev/gatehouse/internal/people"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// Service holds what every admin API operation needs. The server builds it;
// set its fields before Handlers. It is safe for concurrent use.
type Service struct {
	Auth       *awsauth.Authenticator
	Authorizer *authz.Authorizer
	// Events records the audit events of calls that change nothing
	// (reads, failures); *audit.Batcher or audit.Direct.
	Events    awsauth.EventWriter
	Audit     *audit.Recorder
	Store     store.Store
	Directory *directory.Service
	Access    *access.Service
	// People runs the Gatehouse admin API's user lifecycle actions.
	People *people.Service
	// Sources is the identity source: the Gatehouse admin API's
	// identity-source operations run on it, and password resets,
	// invitations and MFA resets are refused when it keeps those
	// credentials itself. Nil is the built-in directory (no identity
	// source operations).
	Sources *idsource.Service
	// SCIMTokens issues the SCIM server's bearer tokens; SCIMEndpoint is
	// the SCIM base URL the token operations report.
	SCIMTokens   *scim.Tokens
	SCIMEndpoint string
	// AWSAccounts links accounts to AWS accounts (the Gatehouse admin
	// API's account-link operations); nil refuses them.
	AWSAccounts *awsaccounts.Service
	// Organizations manages the accounts (organizations API).
	Organizations *organizations.Service
	// Cache serves the records read-only calls describe (permission sets)
	// from memory. It drops them synchronously once a write of this
	// replica commits (store.Store.OnChange), so a caller reads its own
	// writes on the replica that made them; writes of other replicas are
	// seen within the cache's refresh interval (under 1 s). Nil reads the
	// store on every call.
	Cache    *accesscache.Cache
	Instance *store.Instance
	Now      func() time.Time
	Log      *slog.Logger
	// Secure reports whether the request came over TLS
	// (aws:SecureTransport); nil means r.TLS != nil.
	Secure func(r *http.Request) bool
	// DelegatedAdmin reports whether accountID is a registered
	// delegated-admin account; nil means there are none.
	DelegatedAdmin func(ctx context.Context, accountID string) (bool, error)
	// Invite sends a new user an invitation to their primary e-mail
	// address (invite.Service.SendInvitation); nil sends none. CreateUser
	// calls it after the user is stored: a failure is logged and audited
	// but does not fail CreateUser, since the user exists either way and
	// the invitation can be sent again.
	Invite func(ctx context.Context, userID string) error

	// skipAuthz leaves the policy decision out (benchmarks only).
	skipAuthz bool
}

// api is one awsJson1_1 service of this package.
type api struct {
	prefix      string // X-Amz-Target prefix
	signingName string // SigV4 service name
	source      string // CloudTrail eventSource
	// requestIDInErrors puts RequestId in error bodies (identitystore).
	requestIDInErrors bool
	// gateResource is the resource named when a caller outside the
	// management and delegated-admin accounts is refused: one that does
	// not depend on the request (identitystore names its identity store
	// ARN, which every one of its actions is authorized on); "" means "*".
	gateResource string
	// global marks a global service (organizations): as with IAM, AWS
	// serves it from us-east-1 and that is its aws:RequestedRegion.
	// Regional services (sso, identitystore, cloudtrail) answer only
	// requests signed for the instance's home region.
	global bool
	ops    map[string]operation
}

// Handlers returns the handler of each admin API by X-Amz-Target prefix.
func (s *Service) Handlers() map[string]http.Handler {
	apis := []api{
		{prefix: "SWBExternalService", signingName: "sso", source: audit.SourceSSO, ops: s.ssoAdminOps()},
		{prefix: "AWSIdentityStore", signingName: "identitystore", source: audit.SourceIdentityStore,
			requestIDInErrors: true, ops: s.identityStoreOps(),
			gateResource: arn.IdentityStoreARN(s.Instance.ManagementAccountID, s.Instance.IdentityStoreID)},
		{prefix: "AWSOrganizationsV20161128", signingName: "organizations", source: audit.SourceOrganizations,
			ops: s.organizationsOps(), global: true},
		{prefix: CloudTrailPrefix, signingName: "cloudtrail", source: audit.SourceCloudTrail, ops: s.cloudTrailOps()},
		{prefix: CloudTrailShortPrefix, signingName: "cloudtrail", source: audit.SourceCloudTrail, ops: s.cloudTrailOps()},
		{prefix: GatehousePrefix, signingName: GatehouseSigningName, source: audit.SourceGatehouse, requestIDInErrors: true,
			ops:          s.gatehouseOps(),
			gateResource: arn.IdentityStoreARN(s.Instance.ManagementAccountID, s.Instance.IdentityStoreID)},
	}
	m := make(map[string]http.Handler, len(apis))
	for _, a := range apis {
		m[a.prefix] = s.handler(a)
	}
	return m
}

// GlobalRegion is the region of AWS's global services (IAM, Organizations):
// their single endpoint is in us-east-1, which is therefore their
// aws:RequestedRegion and the awsRegion of their CloudTrail events.
const GlobalRegion = "us-east-1"

// CloudTrailPrefix is CloudTrail's X-Amz-Target prefix (botocore
// cloudtrail/2013-11-01 metadata.targetPrefix).
const CloudTrailPrefix = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101"

// CloudTrailShortPrefix is the X-Amz-Target prefix the Go SDK sends for
// CloudTrail: the service shape's name without its namespace
// (aws-sdk-go-v2 service/cloudtrail serializers.go,
// "CloudTrail_20131101.LookupEvents"). Both reach the same operations.
const CloudTrailShortPrefix = "CloudTrail_20131101"

func (s *Service) handler(a api) http.Handler {
	ops := make(map[string]awsproto.Operation, len(a.ops))
	for name, o := range a.ops {
		ops[name] = o.bind(s, &a, name)
	}
	return &awsproto.JSONService{
		TargetPrefix: a.prefix, Operations: ops, ErrorRequestID: a.requestIDInErrors, Logger: s.Log,
		// An authenticated call of an operation that does not exist is
		// audited too (a probe is worth seeing in the trail).
		Unknown: func(ctx context.Context, name string, _ []byte) ([]byte, error) {
			e := awsproto.UnknownOperation(a.prefix + "." + name)
			entry := audit.Entry{Source: a.source, Name: name, ReadOnly: true, ErrorCode: e.Code, ErrorMsg: e.Message}
			if err := s.Events.Record(ctx, entry); err != nil {
				return nil, awsproto.Internal(err)
			}
			return nil, e
		},
		Authenticate: func(r *http.Request, _ string, body []byte) (context.Context, error) {
			ctx := r.Context()
			// Clients pointed at a custom endpoint sign with their
			// configured region (the botocore and SDK endpoint rules set no
			// signing region for a custom endpoint), so a global service
			// cannot insist on us-east-1 without refusing every client
			// configured elsewhere: it accepts any scope and takes
			// us-east-1 as the requested region, as AWS does.
			region := s.Instance.Region
			if a.global {
				region = ""
			}
			c, err := s.Auth.AuthenticateIn(ctx, r, body, a.signingName, region)
			if err != nil {
				return nil, err
			}
			if a.global {
				c.Region = GlobalRegion
			}
			actor := audit.ActorFrom(ctx)
			actor.Identity = c.Identity()
			if actor.Region == "" {
				actor.Region = c.Region
			}
			ctx = audit.WithActor(ctx, actor)
			ctx = awsauth.WithCaller(ctx, c)
			return withRequest(ctx, s.request(r, actor, c)), nil
		},
	}
}

type requestKey struct{}

func withRequest(ctx context.Context, r authz.Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

// request is what the transport knows about r for the policy context.
func (s *Service) request(r *http.Request, actor audit.Actor, c *awsauth.Caller) authz.Request {
	secure := r.TLS != nil
	if s.Secure != nil {
		secure = s.Secure(r)
	}
	ip := actor.SourceIP
	if ip == "" {
		ip, _, _ = net.SplitHostPort(r.RemoteAddr)
	}
	return authz.Request{Time: s.Now(), Secure: secure, SourceIP: ip, UserAgent: r.UserAgent(), Region: c.Region}
}

// operation is one admin API operation; build it with op.
type operation struct {
	bind func(s *Service, a *api, name string) awsproto.Operation
}

// auditParams is implemented by inputs that carry secrets: AuditParams
// returns what the audit event records as requestParameters instead of the
// input itself.
type auditParams interface{ AuditParams() any }

// op declares an operation: action is its IAM action ("sso:ListInstances"),
// readOnly its CloudTrail readOnly flag, resources the ARNs the action is
// authorized on (nil resources, or an empty list, means "*"), and fn runs
// it. The shared path: decode In (SerializationException on bad JSON), only
// management-account or delegated-admin callers, authorize action on
// resources, run fn, audit. fn returns domain errors (*fault.Error, store
// sentinels) or *awsproto.Error; errorFor maps them. A successful change
// (readOnly false) is audited by the domain service in its transaction, with
// the actor of ctx; everything else is audited here.
func op[In, Out any](action string, readOnly bool,
	resources func(ctx context.Context, c *awsauth.Caller, in *In) ([]string, error),
	fn func(ctx context.Context, c *awsauth.Caller, in *In) (*Out, error)) operation {
	return operation{bind: func(s *Service, a *api, name string) awsproto.Operation {
		return func(ctx context.Context, body []byte) ([]byte, error) {
			c := awsauth.CallerFrom(ctx)
			in := new(In)
			var params any = in
			if p, ok := any(in).(auditParams); ok {
				params = p.AuditParams()
			}
			out, res, audited, err := run(ctx, s, a, c, action, body, in, resources, fn)
			if !audited && (err != nil || readOnly) {
				e := errorFor(err)
				if e == nil || e.HTTPStatus() < 500 {
					entry := audit.Entry{Source: a.source, Name: name, ReadOnly: readOnly}
					if e == nil || e.Code != "SerializationException" || params != any(in) {
						entry.Params = requestParameters(params)
					}
					if e != nil {
						entry.ErrorCode, entry.ErrorMsg = e.Code, e.Message
					}
					// What the call was authorized on; Build adds what
					// its parameters name.
					entry.Resources = audit.ResourcesOfARNs(res)
					if aerr := s.Events.Record(ctx, entry); aerr != nil {
						return nil, awsproto.Internal(aerr)
					}
				}
			}
			if err != nil {
				return nil, errorFor(err)
			}
			if out == nil {
				return []byte("{}"), nil
			}
			b, err := json.Marshal(out)
			if err != nil {
				return nil, awsproto.Internal(err)
			}
			return b, nil
		}
	}}
}

// run is op's shared path up to the audit; it returns the resources the
// call was authorized on (for the audit event), and audited says the
// outcome is audited already (a denial by the authorizer).
func run[In, Out any](ctx context.Context, s *Service, a *api, c *awsauth.Caller, action string, body []byte, in *In,
	resources func(ctx context.Context, c *awsauth.Caller, in *In) ([]string, error),
	fn func(ctx context.Context, c *awsauth.Caller, in *In) (*Out, error)) (*Out, []string, bool, error) {
	if len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, in); err != nil {
			return nil, nil, false, serializationError(err)
		}
	}
	if c == nil {
		return nil, nil, false, errors.New("admin API call without an authenticated caller")
	}
	// The account gate comes before any resource is resolved, so a caller
	// outside the management and delegated-admin accounts learns nothing
	// about which instance, permission set or account exists: every
	// request of theirs gets the same AccessDeniedException.
	if err := s.gate(ctx, c, action, a.gateResource); err != nil {
		return nil, nil, false, err
	}
	var res []string
	if resources != nil {
		var err error
		if res, err = resources(ctx, c, in); err != nil {
			return nil, nil, false, err
		}
	}
	if audited, err := s.authorize(ctx, c, action, res); err != nil {
		return nil, res, audited, err
	}
	out, err := fn(ctx, c, in)
	return out, res, false, err
}

// gate admits only callers of the management account or a delegated-admin
// account; the others get AccessDeniedException on resource, the same for
// every request of theirs ("" means "*": their request's resources are
// never resolved).
func (s *Service) gate(ctx context.Context, c *awsauth.Caller, action, resource string) error {
	if c.AccountID == s.Instance.ManagementAccountID {
		return nil
	}
	if s.DelegatedAdmin != nil {
		ok, err := s.DelegatedAdmin(ctx, c.AccountID)
		if err != nil {
			return fmt.Errorf("check delegated admin %s: %w", c.AccountID, err)
		}
		if ok {
			return nil
		}
	}
	var res []string
	if resource != "" {
		res = []string{resource}
	}
	return deniedError(c, action, res)
}

// authorize admits callers (past gate) whose policies allow action on every
// one of resources, the canonical ARNs the resource function built. A
// denial by the policy engine is audited by the Authorizer (audited true).
func (s *Service) authorize(ctx context.Context, c *awsauth.Caller, action string, resources []string) (audited bool, err error) {
	if s.skipAuthz {
		return false, nil
	}
	// A role session by its permission set, an automation user by its
	// own policies.
	reqCtx := requestContexts.Get().(*policy.Context)
	defer requestContexts.Put(reqCtx)
	r, _ := ctx.Value(requestKey{}).(authz.Request)
	authz.BuildCallerContext(reqCtx, c, s.Instance.Region, r)
	if err := s.Authorizer.AuthorizeCaller(ctx, c, action, resources, reqCtx); err != nil {
		return fault.KindOf(err) == fault.AccessDenied, err
	}
	return false, nil
}

// requestContexts recycles the policy request contexts of authorize
// (BuildContext resets them): the 20 entries of one are 1.3 KB a call
// otherwise. Nothing keeps a context once Authorize has returned.
var requestContexts = sync.Pool{New: func() any { return policy.NewContext(20) }}

// deniedError is AWS's AccessDeniedException for a caller of an account
// that may not call the admin APIs at all, whatever its policies allow
// (spec/aws-wire.md §2.8): the message says so, after AWS's usual prefix.
func deniedError(c *awsauth.Caller, action string, resources []string) error {
	resource := "*"
	if len(resources) > 0 {
		resource = resources[0]
	}
	svc, _, _ := strings.Cut(action, ":")
	return fault.Deniedf("User: %s is not authorized to perform: %s on resource: %s because only the management account "+
		"and delegated administrators may call %s APIs (account %s is neither)", c.ARN, action, resource, svc, c.AccountID)
}

// serializationError is the SerializationException of a body that is not
// JSON of the operation's input, without Go type names.
func serializationError(err error) *awsproto.Error {
	msg := "Request body is not valid JSON."
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok && te.Field != "" {
		msg = "Unexpected JSON " + te.Value + " for member " + te.Field + "."
	}
	e := awsproto.Serialization(msg)
	e.Err = err
	return e
}

// permissionSet returns the permission set with id for a read-only call,
// from the access cache when there is one. A set the cache does not know
// is looked up in the store, which answers with the not-found error of the
// wire.
func (s *Service) permissionSet(ctx context.Context, id string) (*store.PermissionSet, error) {
	if s.Cache != nil {
		ps, err := s.Cache.PermissionSet(ctx, id)
		if fault.KindOf(err) != fault.NotFound {
			return ps, err
		}
	}
	return s.Access.GetPermissionSet(ctx, id)
}

// requestParameters is what the audit event of a call records as its
// requestParameters: the input (or its AuditParams) as JSON with every
// member name in lowerCamelCase, as CloudTrail records the API's members
// ("accountId" for AccountId), whether the call succeeded or failed.
func requestParameters(params any) any {
	if params == nil {
		return nil
	}
	b, err := json.Marshal(params)
	if err != nil {
		return params // Build reports it
	}
	return json.RawMessage(lowerCamelKeys(b))
}

// lowerCamelKeys lowers, in place, the first letter of every object member
// name of the JSON b (as json.Marshal writes it: no insignificant space).
// It walks the bytes once, tracking whether each open container is an
// object, so that string values are never touched.
func lowerCamelKeys(b []byte) []byte {
	var objects []bool // the open containers, true for an object
	expectKey := false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; c {
		case '{':
			objects = append(objects, true)
			expectKey = true
		case '[':
			objects = append(objects, false)
			expectKey = false
		case '}', ']':
			objects = objects[:len(objects)-1]
			expectKey = false
		case ',':
			expectKey = len(objects) > 0 && objects[len(objects)-1]
		case ':':
			expectKey = false
		case '"':
			if expectKey && i+1 < len(b) && b[i+1] >= 'A' && b[i+1] <= 'Z' {
				b[i+1] += 'a' - 'A'
			}
			// Skip the string, with its escapes.
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
			expectKey = false
		}
	}
	return b
}
