package access

import (
	"context"
	"errors"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// Work on linked accounts (DESIGN §1, "Linked account"): for an account
// linked to a real AWS account, provisioning is performed by IAM calls
// outside the store transaction. The transaction stores the operation
// IN_PROGRESS; the worker in package awsaccounts performs the calls and
// sets it SUCCEEDED or FAILED with AWS's reason.

// OpRevokeSessions is the kind of the internal operations that queue a
// per-user session revocation on a linked account's role: AccountID and
// PermissionSetID name the role, PrincipalType is PrincipalUserName and
// PrincipalID the user's name (the RoleSessionName of their sessions, which
// outlives a deleted user record). The sso-admin API never lists this kind.
const OpRevokeSessions = "GATEHOUSE_REVOKE_SESSIONS"

// PrincipalUserName marks an OpRevokeSessions operation's PrincipalID as a
// user name.
const PrincipalUserName = "USER_NAME"

// linked reports whether accountID is linked to an AWS account whose link
// is active: its roles are provisioned through IAM.
func linked(ctx context.Context, tx store.Tx, accountID string) (bool, error) {
	if accountID == "" {
		return false, nil
	}
	l, err := tx.GetAccountLink(ctx, accountID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	return l.Status == store.LinkActive, nil
}

// kick tells the worker there is work, when op was queued.
func (s *Service) kick(op *store.Operation) {
	if s.Kick != nil && op != nil && op.Status == store.StatusInProgress {
		s.Kick()
	}
}

// queueRevocation queues, inside tx, a revocation of the sessions user
// userID holds on the role of psID in a linked accountID.
func (s *Service) queueRevocation(ctx context.Context, tx store.Tx, accountID, psID, userID string) error {
	u, err := tx.GetUser(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	return s.queueRevocationOf(ctx, tx, accountID, psID, u.UserName)
}

// queueRevocationOf queues, inside tx, a revocation of the sessions named
// userName on the role of psID in a linked accountID.
func (s *Service) queueRevocationOf(ctx context.Context, tx store.Tx, accountID, psID, userName string) error {
	if _, err := tx.GetProvisionedRole(ctx, accountID, psID); errors.Is(err, store.ErrNotFound) {
		return nil // never provisioned: no session to revoke
	} else if err != nil {
		return err
	}
	if err := tx.PutOperation(ctx, &store.Operation{
		RequestID: s.IDs.UUID(), Kind: OpRevokeSessions, Status: store.StatusInProgress,
		AccountID: accountID, PermissionSetID: psID, PrincipalType: PrincipalUserName, PrincipalID: userName,
		CreatedAt: s.Now().UTC(),
	}); err != nil {
		return err
	}
	s.kickAfterCommit()
	return nil
}

// kickAfterCommitDelay is how long after queueing inside a transaction
// whose caller does not kick (the directory's, people's and identity
// sources' writes) the worker is kicked: the transaction has committed by
// then in all but slow cases, which the worker's poll catches.
const kickAfterCommitDelay = 500 * time.Millisecond

func (s *Service) kickAfterCommit() {
	if s.Kick != nil {
		time.AfterFunc(kickAfterCommitDelay, s.Kick)
	}
}

// RevokeUserSessions queues, inside tx, a revocation of every session the
// user holds on roles in linked accounts (the user is being disabled or
// deleted). Call it while the user's assignments and memberships still
// exist; it changes nothing for local accounts, whose credentials
// Gatehouse checks itself. Call KickWorker once tx committed.
func (s *Service) RevokeUserSessions(ctx context.Context, tx store.Tx, userID string) error {
	if s == nil {
		return nil
	}
	es, err := Entitlements(ctx, tx, userID)
	if err != nil {
		return err
	}
	for _, e := range es {
		ok, err := linked(ctx, tx, e.AccountID)
		if err != nil {
			return err
		}
		if ok {
			if err := s.queueRevocation(ctx, tx, e.AccountID, e.PermissionSetID, userID); err != nil {
				return err
			}
		}
	}
	return nil
}

// RevokeRenamedUser queues, inside tx, a revocation of the sessions user
// userID holds under its former name oldName on roles in linked accounts
// (call it when the user's name changes). A revocation names sessions by
// user name (their RoleSessionName): without it, disabling the renamed
// user would deny only the new name, and the sessions taken under the old
// one would outlive the disabling. Call KickWorker once tx committed.
func (s *Service) RevokeRenamedUser(ctx context.Context, tx store.Tx, userID, oldName string) error {
	if s == nil {
		return nil
	}
	es, err := Entitlements(ctx, tx, userID)
	if err != nil {
		return err
	}
	for _, e := range es {
		ok, err := linked(ctx, tx, e.AccountID)
		if err != nil {
			return err
		}
		if ok {
			if err := s.queueRevocationOf(ctx, tx, e.AccountID, e.PermissionSetID, oldName); err != nil {
				return err
			}
		}
	}
	return nil
}

// revokeLost queues, inside tx, revocations for the users who lost their
// last path to (accountID, psID) when assignment a was removed: the user
// itself, or the members of the group.
func (s *Service) revokeLost(ctx context.Context, tx store.Tx, a *store.Assignment) error {
	if ok, err := linked(ctx, tx, a.AccountID); err != nil || !ok {
		return err
	}
	users := []string{a.PrincipalID}
	if a.PrincipalType == store.PrincipalGroup {
		ms, err := tx.ListMembershipsByGroup(ctx, a.PrincipalID, store.Page{})
		if err != nil {
			return err
		}
		users = users[:0]
		for _, m := range ms {
			users = append(users, m.UserID)
		}
	}
	for _, u := range users {
		es, err := Entitlements(ctx, tx, u)
		if err != nil {
			return err
		}
		still := false
		for _, e := range es {
			if e.AccountID == a.AccountID && e.PermissionSetID == a.PermissionSetID {
				still = true
			}
		}
		if !still {
			if err := s.queueRevocation(ctx, tx, a.AccountID, a.PermissionSetID, u); err != nil {
				return err
			}
		}
	}
	return nil
}

// KickWorker tells the linked-account worker to look for queued work now;
// callers of RevokeUserSessions call it once their transaction committed.
func (s *Service) KickWorker() {
	if s != nil && s.Kick != nil {
		s.Kick()
	}
}

// OpReconcileRole is the kind of the internal operations that ask the
// worker to bring the role of (AccountID, PermissionSetID) in a linked
// account in line with the store: delete it in IAM when no assignment is
// left (a principal was deleted), update it otherwise. The sso-admin API
// never lists this kind.
const OpReconcileRole = "GATEHOUSE_RECONCILE_ROLE"

// queueReconcile queues, inside tx, an OpReconcileRole for a linked
// account's role.
func (s *Service) queueReconcile(ctx context.Context, tx store.Tx, accountID, psID string) error {
	return tx.PutOperation(ctx, &store.Operation{
		RequestID: s.IDs.UUID(), Kind: OpReconcileRole, Status: store.StatusInProgress,
		AccountID: accountID, PermissionSetID: psID, CreatedAt: s.Now().UTC(),
	})
}

// RevokeLeftGroup queues, inside tx, revocations for user userID, who just
// left group groupID (call it after deleting the membership): on each
// linked role the group's assignments gave and no other path still gives.
func (s *Service) RevokeLeftGroup(ctx context.Context, tx store.Tx, groupID, userID string) error {
	if s == nil {
		return nil
	}
	as, err := tx.ListAssignments(ctx, store.AssignmentFilter{PrincipalType: store.PrincipalGroup, PrincipalID: groupID})
	if err != nil {
		return err
	}
	for _, a := range as {
		if err := s.revokeLost(ctx, tx, &store.Assignment{AccountID: a.AccountID, PermissionSetID: a.PermissionSetID, PrincipalType: store.PrincipalUser, PrincipalID: userID}); err != nil {
			return err
		}
	}
	return nil
}
