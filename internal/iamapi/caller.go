package iamapi

import "github.com/gatehouse-dev/gatehouse/internal/awsproto"

// roleOnly reports whether action needs a role session: the simulator and
// role operations speak of the caller's permission set. Automation users
// (long-lived access keys) may call the others, subject to their own
// policies.
func roleOnly(action string) bool {
	switch action {
	case "SimulateCustomPolicy", "SimulatePrincipalPolicy", "GetRole", "ListRoles":
		return true
	}
	return false
}

// roleOnlyMessage is the AccessDenied message of a roleOnly action called
// by an IAM (automation) user: AWS's prefix, then why.
func roleOnlyMessage(callerARN, accountID string, q *awsproto.QueryRequest) string {
	resource := "*"
	switch q.Action {
	case "ListRoles":
		resource = "arn:aws:iam::" + accountID + ":role/"
	case "GetRole":
		resource = "arn:aws:iam::" + accountID + ":role/" + q.Get("RoleName")
	}
	return "User: " + callerARN + " is not authorized to perform: iam:" + q.Action + " on resource: " + resource +
		" because Gatehouse answers iam:" + q.Action + " only for role sessions (IAM Identity Center sign-ins), not for IAM users"
}

// account returns the caller's account, where the call acts.
func (c *call) account() string { return c.caller.AccountID }

// selfUser returns the name of the automation user the caller is, or ""
// for a role session.
func (c *call) selfUser() string {
	if c.caller.AutomationUserID != "" {
		return c.caller.UserName
	}
	return ""
}

// authorize authorizes action on resource for the caller, a role session
// or an automation user.
func (h *Handler) authorize(c *call, action, resource string) error {
	return h.Authorizer.AuthorizeCaller(c.ctx, c.caller, action, []string{resource}, c.reqCtx)
}
