package iamapi

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/authz"
	"github.com/gatehouse-dev/gatehouse/internal/automation"
	"github.com/gatehouse-dev/gatehouse/internal/awsauth"
	"github.com/gatehouse-dev/gatehouse/internal/awsproto"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
	"github.com/gatehouse-dev/gatehouse/internal/session"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// signingName is IAM's SigV4 service name.
const signingName = "iam"

// maxBody bounds a request body: a simulation may carry several policy
// documents of up to 131,072 characters each.
const maxBody = 2 << 20

// Handler serves the IAM API subset on awsQuery. The server routes to it
// the POST / and GET /?Action= requests whose SigV4 credential scope names
// the service iam. Every field but Secure is required; set them before
// first use. It is safe for concurrent use.
type Handler struct {
	// Auth authenticates requests with Gatehouse credentials and audits
	// refusals.
	Auth *awsauth.Authenticator
	// Authorizer decides each call by the caller's permission set in the
	// caller's account; its Policies also give the effective policies
	// SimulatePrincipalPolicy evaluates.
	Authorizer *authz.Authorizer
	Store      store.Store
	Audit      *audit.Recorder
	Instance   *store.Instance
	// Automation serves the IAM user, access key and OpenID Connect
	// provider operations.
	Automation *automation.Service
	Now        func() time.Time
	Log        *slog.Logger
	// Secure reports whether the request reached Gatehouse over TLS,
	// directly or through a trusted TLS-terminating proxy
	// (aws:SecureTransport). Nil means r.TLS != nil.
	Secure func(r *http.Request) bool
}

// call is one authenticated IAM request.
type call struct {
	ctx    context.Context
	caller *awsauth.Caller
	// sess is the caller's role session; nil for an automation user,
	// who may call only userOps.
	sess   *session.Role
	q      *awsproto.QueryRequest
	reqCtx *policy.Context
	// params is what the audit event records as requestParameters.
	params any
}

// operation runs one IAM action and returns its result element.
type operation func(h *Handler, c *call) (any, error)

var operations = map[string]operation{
	"SimulateCustomPolicy":    (*Handler).simulateCustomPolicy,
	"SimulatePrincipalPolicy": (*Handler).simulatePrincipalPolicy,
	"GetRole":                 (*Handler).getRole,
	"ListRoles":               (*Handler).listRoles,

	"CreateUser":               (*Handler).createUser,
	"GetUser":                  (*Handler).getUser,
	"ListUsers":                (*Handler).listUsers,
	"DeleteUser":               (*Handler).deleteUser,
	"TagUser":                  (*Handler).tagUser,
	"UntagUser":                (*Handler).untagUser,
	"ListUserTags":             (*Handler).listUserTags,
	"AttachUserPolicy":         (*Handler).attachUserPolicy,
	"DetachUserPolicy":         (*Handler).detachUserPolicy,
	"ListAttachedUserPolicies": (*Handler).listAttachedUserPolicies,
	"PutUserPolicy":            (*Handler).putUserPolicy,
	"GetUserPolicy":            (*Handler).getUserPolicy,
	"DeleteUserPolicy":         (*Handler).deleteUserPolicy,
	"ListUserPolicies":         (*Handler).listUserPolicies,
	"CreateAccessKey":          (*Handler).createAccessKey,
	"ListAccessKeys":           (*Handler).listAccessKeys,
	"UpdateAccessKey":          (*Handler).updateAccessKey,
	"DeleteAccessKey":          (*Handler).deleteAccessKey,
	"GetAccessKeyLastUsed":     (*Handler).getAccessKeyLastUsed,
	// Credentials automation users never have: empty lists, or
	// NoSuchEntity for the login profile, as IAM answers for a user
	// without them (Terraform reads them, and deletes them with
	// force_destroy).
	"ListGroupsForUser":              credentialList("ListGroupsForUser", "Groups"),
	"ListMFADevices":                 credentialList("ListMFADevices", "MFADevices"),
	"ListSSHPublicKeys":              credentialList("ListSSHPublicKeys", "SSHPublicKeys"),
	"ListSigningCertificates":        credentialList("ListSigningCertificates", "Certificates"),
	"ListServiceSpecificCredentials": credentialList("ListServiceSpecificCredentials", "ServiceSpecificCredentials"),
	"ListVirtualMFADevices":          (*Handler).listVirtualMFADevices,
	"GetLoginProfile":                loginProfile("GetLoginProfile"),
	"DeleteLoginProfile":             loginProfile("DeleteLoginProfile"),

	"CreateOpenIDConnectProvider": (*Handler).createOpenIDConnectProvider,
	"GetOpenIDConnectProvider":    (*Handler).getOpenIDConnectProvider,
	"DeleteOpenIDConnectProvider": (*Handler).deleteOpenIDConnectProvider,
	"ListOpenIDConnectProviders":  (*Handler).listOpenIDConnectProviders,

	"CreatePolicy":            (*Handler).createPolicy,
	"GetPolicy":               (*Handler).getPolicy,
	"ListPolicies":            (*Handler).listPolicies,
	"DeletePolicy":            (*Handler).deletePolicy,
	"GetPolicyVersion":        (*Handler).getPolicyVersion,
	"ListPolicyVersions":      (*Handler).listPolicyVersions,
	"CreatePolicyVersion":     (*Handler).createPolicyVersion,
	"DeletePolicyVersion":     (*Handler).deletePolicyVersion,
	"SetDefaultPolicyVersion": (*Handler).setDefaultPolicyVersion,
	"TagPolicy":               (*Handler).tagPolicy,
	"UntagPolicy":             (*Handler).untagPolicy,
	"ListPolicyTags":          (*Handler).listPolicyTags,
	"ListEntitiesForPolicy":   (*Handler).listEntitiesForPolicy,
}

// globalRegion is IAM's region (its single endpoint is in us-east-1).
const globalRegion = "us-east-1"

// ServeHTTP authenticates the request, runs its Action, audits it and
// writes the awsQuery response or error.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	awsproto.RequestID(w)
	ctx := r.Context()
	body, rerr := awsproto.ReadQueryBody(w, r, "IAM", maxBody)
	if rerr != nil {
		h.writeError(w, r, rerr)
		return
	}
	caller, err := h.Auth.Authenticate(ctx, r, body, signingName)
	if err != nil {
		// Refusals are audited by Auth.
		h.writeError(w, r, queryError(err))
		return
	}
	// IAM is global: AWS serves it from us-east-1, which is its
	// aws:RequestedRegion whatever region the client signed for (clients
	// pointed at a custom endpoint sign with their configured region, so
	// that scope is accepted rather than refused).
	caller.Region = globalRegion
	actor := audit.ActorFrom(ctx)
	actor.Identity = caller.Identity()
	// IAM is per account: the caller's account receives the call.
	actor.Account = caller.AccountID
	if actor.Region == "" {
		actor.Region = caller.Region
	}
	ctx = audit.WithActor(ctx, actor)
	q, err := awsproto.ParseQueryRequest(r, body)
	if err != nil {
		h.finish(ctx, w, r, awsauth.OperationOf(r, body), nil, nil, err)
		return
	}
	op, ok := operations[q.Action]
	if !ok {
		h.finish(ctx, w, r, q.Action, nil, nil, awsproto.QueryInvalidAction(q.Action, q.Version))
		return
	}
	sess := caller.Role
	if sess == nil && roleOnly(q.Action) {
		// The simulator and role operations speak of role sessions.
		h.finish(ctx, w, r, q.Action, nil, nil, awsproto.QueryAccessDenied(roleOnlyMessage(caller.ARN, caller.AccountID, q)))
		return
	}
	c := &call{ctx: ctx, caller: caller, sess: sess, q: q, reqCtx: policy.NewContext(20)}
	secure := r.TLS != nil
	if h.Secure != nil {
		secure = h.Secure(r)
	}
	authz.BuildCallerContext(c.reqCtx, caller, h.Instance.Region, authz.Request{
		Time: h.Now(), Secure: secure, SourceIP: sourceIP(r, actor), UserAgent: r.UserAgent(), Region: caller.Region,
	})
	result, err := op(h, c)
	h.finish(ctx, w, r, q.Action, c.params, result, err)
}

// finish audits the call and writes its response. An AccessDenied fault
// comes from the Authorizer, which has audited it already. If the audit
// event cannot be written the call fails.
func (h *Handler) finish(ctx context.Context, w http.ResponseWriter, r *http.Request, action string, params, result any, err error) {
	var e *awsproto.Error
	if err != nil {
		e = queryError(err)
	}
	fe, denied := errors.AsType[*fault.Error](err)
	denied = denied && fe.Kind == fault.AccessDenied
	if !denied && (e == nil || e.HTTPStatus() < 500) {
		entry := audit.Entry{Source: audit.SourceIAM, Name: action, ReadOnly: readOnly(action), Params: params}
		if e != nil {
			entry.ErrorCode, entry.ErrorMsg = e.Code, e.Message
		}
		if aerr := h.Store.Update(ctx, func(tx store.Tx) error { return h.Audit.Record(ctx, tx, entry) }); aerr != nil {
			e = awsproto.QueryInternalFailure(aerr)
		}
	}
	if e != nil {
		h.writeError(w, r, e)
		return
	}
	if werr := awsproto.WriteQueryResponse(w, awsproto.IAMNamespace, action, result); werr != nil {
		h.writeError(w, r, awsproto.QueryInternalFailure(werr))
	}
}

// writeError writes an awsQuery error, logging internal causes once.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, e *awsproto.Error) {
	awsproto.LogFailure(r.Context(), h.Log, e.HTTPStatus(), e.Err, "iam request failed",
		slog.String("request_id", awsproto.RequestID(w)), slog.String("op", awsauth.OperationOf(r, nil)))
	awsproto.WriteQueryError(w, awsproto.IAMNamespace, e)
}

// IAM's modeled errors (botocore iam/2010-05-08 service-2.json).

func invalidInput(msg string) *awsproto.Error {
	return &awsproto.Error{Code: "InvalidInput", Message: msg}
}

func noSuchEntity(msg string) *awsproto.Error {
	return &awsproto.Error{Code: "NoSuchEntity", Message: msg, Status: http.StatusNotFound}
}

// missing returns the ValidationError IAM answers for an absent required
// member, worded as its validation layer words it.
func missing(member string) *awsproto.Error {
	return awsproto.QueryValidationError("1 validation error detected: Value null at '" + member + "' failed to satisfy constraint: Member must not be null")
}

// queryError maps IAM API errors onto awsQuery errors with IAM's codes, the
// one mapping of awsproto.ErrorFor(awsproto.ProtocolIAM, err): protocol
// errors as they are, signature failures per spec/aws-wire.md §2.8, policy
// validation errors as MalformedPolicyDocument, domain faults by kind
// (InvalidInput, NoSuchEntity, EntityAlreadyExists, LimitExceeded,
// AccessDenied), anything else InternalFailure.
func queryError(err error) *awsproto.Error {
	return awsproto.ErrorFor(awsproto.ProtocolIAM, err)
}

// sourceIP is the client address the server's middleware resolved, or the
// peer address when the handler runs without it.
func sourceIP(r *http.Request, actor audit.Actor) string {
	if actor.SourceIP != "" {
		return actor.SourceIP
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
