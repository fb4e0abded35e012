package awsaccounts

import "context"

// LikeLiteral exports likeLiteral to tests.
var LikeLiteral = likeLiteral

// LockRole takes p's lock on a role's revocation policy, as another
// replica would.
func LockRole(p *Provisioner, ctx context.Context, accountID, psID string) (bool, error) {
	return p.lockRole(ctx, accountID, psID)
}

// CheckLinkInput exports LinkInput.check to tests.
func CheckLinkInput(in LinkInput) error { return in.check() }
