package authz

import (
	"context"
	"fmt"
	"strconv"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/awsauth"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
)

// UserPolicies returns the compiled policies of an automation (IAM) user:
// its attached managed and inline policies; *automation.Policies
// implements it.
type UserPolicies interface {
	UserPolicySet(ctx context.Context, userID string) (*policy.Set, error)
}

// KeyUserName is aws:username, which IAM users carry and role sessions
// do not.
const KeyUserName = "aws:username"

// AuthorizeCaller is Authorize for any authenticated caller: a role
// session by its permission set, an automation user (long-lived access
// key) by the user's own policies through Users. With Users nil, automation
// users are allowed nothing. Denials read and are audited as Authorize's.
func (a *Authorizer) AuthorizeCaller(ctx context.Context, c *awsauth.Caller, action string, resources []string, reqCtx *policy.Context) error {
	if c.Role != nil {
		return a.Authorize(ctx, c.Role, action, resources, reqCtx)
	}
	set := &policy.Set{}
	if a.Users != nil && c.AutomationUserID != "" {
		s, err := a.Users.UserPolicySet(ctx, c.AutomationUserID)
		if err != nil {
			return fmt.Errorf("policies of user %s: %w", c.UserName, err)
		}
		set = s
	}
	req := policy.Request{Action: action, Resources: resources}
	if reqCtx != nil {
		req.Context = *reqCtx
	}
	if set.Decide(&req) == policy.Allow {
		return nil
	}
	msg := denyMessage(set, c.ARN, req)
	e := &fault.Error{Kind: fault.AccessDenied, Message: msg}
	actor := audit.ActorFrom(ctx)
	actor.Identity = c.Identity()
	if err := a.recordAs(audit.WithActor(ctx, actor), action, e); err != nil {
		return err
	}
	return e
}

// BuildCallerContext is BuildContext for any caller: an automation user
// carries aws:PrincipalArn (its user ARN), aws:PrincipalType "User",
// aws:userid (its AIDA… ID) and aws:username.
func BuildCallerContext(dst *policy.Context, c *awsauth.Caller, homeRegion string, r Request) {
	if c.Role != nil {
		BuildContext(dst, c.Role, homeRegion, r)
		return
	}
	BuildContext(dst, nil, homeRegion, r)
	dst.Set(KeyPrincipalARN, c.ARN)
	dst.Set(KeyPrincipalAccount, c.AccountID)
	dst.Set(KeyPrincipalType, "User")
	dst.Set(KeyUserID, c.PrincipalID)
	dst.Set(KeyUserName, c.UserName)
	dst.Set(KeyMultiFactorAuthPresent, strconv.FormatBool(false))
}
