package iamapi

// account returns the caller's account, where the call acts.
func (c *call) account() string { return c.sess.AccountID }

// selfUser returns the name of the IAM user the caller is, or "" for a
// role session.
func (c *call) selfUser() string { return "" }

// authorize authorizes action on resource for the caller.
func (h *Handler) authorize(c *call, action, resource string) error {
	return h.Authorizer.Authorize(c.ctx, c.sess, action, []string{resource}, c.reqCtx)
}
