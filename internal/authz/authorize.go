package authz

import (
	"context"
	"fmt"
	"strings"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
	"github.com/gatehouse-dev/gatehouse/internal/session"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// PermissionSets returns permission sets by ID; *accesscache.Cache
// implements it.
type PermissionSets interface {
	PermissionSet(ctx context.Context, id string) (*store.PermissionSet, error)
}

// Authorizer decides whether a role session may perform an action, by the
// effective policy of the session's permission set in the session's
// account. Set its fields before first use; it is safe for concurrent use.
type Authorizer struct {
	Policies       *Policies
	PermissionSets PermissionSets
	// Store and Audit record denied calls.
	Store store.Store
	Audit *audit.Recorder
	// Instance gives the home region that decides role paths.
	Instance *store.Instance
	// Users gives the policies of automation users (AuthorizeCaller); nil
	// means automation users are allowed nothing.
	Users UserPolicies
}

// Effective returns the effective policy of the session's permission set in
// its account.
func (a *Authorizer) Effective(ctx context.Context, s *session.Role) (*Effective, error) {
	ps, err := a.PermissionSets.PermissionSet(ctx, s.PermissionSetID)
	if err != nil {
		return nil, fmt.Errorf("permission set of session: %w", err)
	}
	return a.Policies.Effective(ctx, ps, s.AccountID)
}

// Authorize evaluates action on every one of resources (none means "*")
// for the session s with the request context reqCtx (see BuildContext).
// An implicit or explicit deny is a *fault.Error of Kind AccessDenied with
// AWS's message (spec/aws-wire.md §2.8)
//
//	User: <caller arn> is not authorized to perform: <action> on resource: <arn>
//
// followed, for an explicit deny, by " with an explicit deny in an
// identity-based policy" (or "in a permissions boundary"). The denied call
// is audited as the session's identity; if that cannot be recorded the
// error says so instead. Allowed calls cost no allocation once the
// effective policy is compiled.
func (a *Authorizer) Authorize(ctx context.Context, s *session.Role, action string, resources []string, reqCtx *policy.Context) error {
	eff, err := a.Effective(ctx, s)
	if err != nil {
		return err
	}
	req := policy.Request{Action: action, Resources: resources}
	if reqCtx != nil {
		req.Context = *reqCtx
	}
	if eff.Set.Decide(&req) == policy.Allow {
		return nil
	}
	return a.deny(ctx, s, eff, req)
}

// deny builds the AccessDenied error for a denied request and audits it.
func (a *Authorizer) deny(ctx context.Context, s *session.Role, eff *Effective, req policy.Request) error {
	e := &fault.Error{Kind: fault.AccessDenied, Message: denyMessage(&eff.Set, s.CallerARN(), req)}
	if err := a.record(ctx, s, req.Action, e); err != nil {
		return err
	}
	return e
}

// denyMessage is AWS's AccessDenied message for a request set denies,
// naming the first explicitly denied resource, or else the first
// implicitly denied one, and why: the layer of the explicit deny, or the
// layer that allows nothing.
func denyMessage(set *policy.Set, callerARN string, req policy.Request) string {
	resources := req.Resources
	if len(resources) == 0 {
		resources = []string{"*"}
	}
	resource, explicit := "", false
	one := req
	for _, r := range resources {
		one.Resources = []string{r}
		switch set.Decide(&one) {
		case policy.ExplicitDeny:
			resource, explicit = r, true
		case policy.ImplicitDeny:
			if resource == "" {
				resource = r
			}
		}
		if explicit {
			break
		}
	}
	msg := fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s", callerARN, req.Action, resource)
	if explicit {
		one.Resources = []string{resource}
		kind := policy.KindIdentity
		if res := set.Evaluate(&one); len(res.Matched) > 0 {
			kind = res.Matched[0].Kind
		}
		msg += " with an explicit deny in " + denyPlace(kind)
	} else {
		msg += " because no " + implicitPlace(set, one, resource) + " allows the " + req.Action + " action"
	}
	return msg
}

// implicitPlace names the policy layer that allows none of an implicitly
// denied request, as AWS's messages do ("because no identity-based policy
// allows the s3:GetObject action"; IAM User Guide, "Troubleshoot access
// denied error messages"): the identity-based policies unless they allow
// it, else the permissions boundary, else the session policy.
func implicitPlace(set *policy.Set, one policy.Request, resource string) string {
	one.Resources = []string{resource}
	if (&policy.Set{Identity: set.Identity}).Decide(&one) != policy.Allow {
		return "identity-based policy"
	}
	if len(set.Boundary) > 0 && (&policy.Set{Identity: set.Identity, Boundary: set.Boundary}).Decide(&one) != policy.Allow {
		return "permissions boundary"
	}
	return "session policy"
}

// denyPlace names the policy layer of an explicit deny as AWS's messages do.
func denyPlace(k policy.Kind) string {
	switch k {
	case policy.KindBoundary:
		return "a permissions boundary"
	case policy.KindSession:
		return "a session policy"
	}
	return "an identity-based policy"
}

// Identity returns the audit identity of a role session.
func Identity(s *session.Role) audit.Identity {
	return audit.Identity{Type: "AssumedRole", PrincipalID: s.CallerUserID(), ARN: s.CallerARN(),
		AccountID: s.AccountID, AccessKeyID: s.AccessKeyID, UserID: s.UserID, UserName: s.UserName}
}

// EventSource returns the CloudTrail event source and name of an IAM action
// ("iam:GetRole" is iam.amazonaws.com GetRole).
func EventSource(action string) (source, name string) {
	svc, name, ok := strings.Cut(action, ":")
	if !ok {
		return "unknown", action
	}
	switch svc = strings.ToLower(svc); svc {
	case "sso":
		return audit.SourceSSO, name
	case "identitystore":
		return audit.SourceIdentityStore, name
	case "sts":
		return audit.SourceSTS, name
	case "iam":
		return audit.SourceIAM, name
	case "sso-oauth":
		return audit.SourceOIDC, name
	}
	return svc + ".amazonaws.com", name
}

// deniedCode is the error code a denied call has on the wire of its
// service: awsQuery services (IAM, STS) say AccessDenied, the JSON ones
// AccessDeniedException.
func deniedCode(action string) string {
	svc, _, _ := strings.Cut(strings.ToLower(action), ":")
	if svc == "iam" || svc == "sts" {
		return "AccessDenied"
	}
	return "AccessDeniedException"
}

// record audits a denied call as the session's identity.
func (a *Authorizer) record(ctx context.Context, s *session.Role, action string, e *fault.Error) error {
	actor := audit.ActorFrom(ctx)
	actor.Identity = Identity(s)
	return a.recordAs(audit.WithActor(ctx, actor), action, e)
}

// recordAs audits a denied call as the identity of ctx's actor.
func (a *Authorizer) recordAs(ctx context.Context, action string, e *fault.Error) error {
	source, name := EventSource(action)
	entry := audit.Entry{Source: source, Name: name, ErrorCode: deniedCode(action), ErrorMsg: e.Message}
	err := a.Store.Update(ctx, func(tx store.Tx) error { return a.Audit.Record(ctx, tx, entry) })
	if err != nil {
		return fmt.Errorf("record denied %s: %w", action, err)
	}
	return nil
}
