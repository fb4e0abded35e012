package adminapi

import (
	"context"
	"errors"

	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/awsauth"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// What a delegated administrator may not do. Sessions of the account
// registered as Identity Center's delegated administrator
// (organizations RegisterDelegatedAdministrator, service principal
// sso.amazonaws.com) pass the account gate and are authorized by their
// permission sets like management-account sessions, with the limits of
// IAM Identity Center User Guide, "Delegated administration"
// (https://docs.aws.amazon.com/singlesignon/latest/userguide/delegated-admin.html):
// only the management account can manage permission sets provisioned in
// the management account, enable or disable user access in the
// management account (its account assignments), and register or
// deregister delegated administrators. For AWS Organizations a delegated
// administrator has read-only access
// (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_integrate_delegated_admin.html),
// so the organizations operations that change something are the
// management account's alone.
//
// Gatehouse applies the permission-set rule to every operation that
// changes a set provisioned in the management account or provisions it
// anywhere (CreateAccountAssignment provisions the set it assigns), and the
// assignment rule to CreateAccountAssignment, DeleteAccountAssignment and
// ProvisionPermissionSet aimed at the management account. Reads are not
// restricted. The refusal is AccessDeniedException in AWS's message form.

// mgmtOnly wraps fn so that only management-account callers run it.
func mgmtOnly[In, Out any](s *Service, action string,
	fn func(ctx context.Context, c *awsauth.Caller, in *In) (*Out, error)) func(context.Context, *awsauth.Caller, *In) (*Out, error) {
	return func(ctx context.Context, c *awsauth.Caller, in *In) (*Out, error) {
		if c.AccountID != s.Instance.ManagementAccountID {
			return nil, fault.Deniedf("User: %s is not authorized to perform: %s on resource: * because only the organization's management account can perform it",
				c.ARN, action)
		}
		return fn(ctx, c, in)
	}
}

// notDelegated wraps fn so that a caller outside the management account
// (a delegated administrator) is refused when protected names what the
// call would change of the management account's access: the ARN of the
// management account or of a permission set provisioned there ("" when
// the call touches neither).
func notDelegated[In, Out any](s *Service, action string,
	protected func(ctx context.Context, in *In) (string, error),
	fn func(ctx context.Context, c *awsauth.Caller, in *In) (*Out, error)) func(context.Context, *awsauth.Caller, *In) (*Out, error) {
	return func(ctx context.Context, c *awsauth.Caller, in *In) (*Out, error) {
		if c.AccountID != s.Instance.ManagementAccountID {
			res, err := protected(ctx, in)
			if err != nil {
				return nil, err
			}
			if res != "" {
				return nil, fault.Deniedf("User: %s is not authorized to perform: %s on resource: %s because a delegated administrator cannot manage access to the management account",
					c.ARN, action, res)
			}
		}
		return fn(ctx, c, in)
	}
}

// mgmtSet returns the permission set's ARN when it is provisioned in the
// management account, "" otherwise.
func (s *Service) mgmtSet(ctx context.Context, psID string) (string, error) {
	_, err := s.Store.GetProvisionedRole(ctx, s.Instance.ManagementAccountID, psID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return "", nil
	case err != nil:
		return "", err
	}
	return s.Access.PermissionSetARN(psID), nil
}

// mgmtSetOf is the protected function of the operations on one
// permission set.
func mgmtSetOf[In any, P interface {
	*In
	ssoPSInput
}](s *Service) func(ctx context.Context, in *In) (string, error) {
	return func(ctx context.Context, in *In) (string, error) {
		id, err := s.psID(P(in).ref())
		if err != nil {
			return "", err
		}
		return s.mgmtSet(ctx, id)
	}
}

// mgmtAssignment is the protected function of Create/DeleteAccountAssignment:
// an assignment in the management account, or of a set provisioned there.
func (s *Service) mgmtAssignment(ctx context.Context, in *AccountAssignmentInput) (string, error) {
	a, err := s.assignment(in)
	if err != nil {
		return "", err
	}
	if a.AccountID == s.Instance.ManagementAccountID {
		return arn.AccountResourceARN(a.AccountID), nil
	}
	return s.mgmtSet(ctx, a.PermissionSetID)
}

// mgmtProvision is the protected function of ProvisionPermissionSet: the
// management account as target, or a set provisioned there.
func (s *Service) mgmtProvision(ctx context.Context, in *ProvisionPermissionSetInput) (string, error) {
	acct, err := provisionTarget(in)
	if err != nil {
		return "", err
	}
	if acct == s.Instance.ManagementAccountID {
		return arn.AccountResourceARN(acct), nil
	}
	id, err := s.psID(&in.PermissionSetRef)
	if err != nil {
		return "", err
	}
	return s.mgmtSet(ctx, id)
}

// mgmtTagged is the protected function of Tag/UntagResource: a permission
// set provisioned in the management account (the instance's tags are not
// restricted).
func mgmtTagged[In any, P interface {
	*In
	tagTarget() (*string, *string)
}](s *Service) func(ctx context.Context, in *In) (string, error) {
	return func(ctx context.Context, in *In) (string, error) {
		_, r := P(in).tagTarget()
		if r == nil {
			return "", nil
		}
		if _, _, err := arn.ParsePermissionSetARN(*r); err != nil {
			return "", nil
		}
		id, err := s.Access.ParsePermissionSetARN(*r)
		if err != nil {
			return "", err
		}
		return s.mgmtSet(ctx, id)
	}
}
