package invite

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// HasAdmin reports whether the instance has an administrator who can sign
// in: an enabled user with a password who holds, directly or through a
// group, a permission set with the AWS-managed AdministratorAccess policy
// in the management account. A disabled or password-less administrator
// does not count, so a locked-out instance gets a setup link again.
func (s *Service) HasAdmin(ctx context.Context) (bool, error) {
	as, err := s.Store.ListAssignments(ctx, store.AssignmentFilter{AccountID: s.Instance.ManagementAccountID})
	if err != nil {
		return false, err
	}
	admin := map[string]bool{}
	for _, a := range as {
		full, ok := admin[a.PermissionSetID]
		if !ok {
			ps, err := s.Store.GetPermissionSet(ctx, a.PermissionSetID)
			if errors.Is(err, store.ErrNotFound) {
				continue
			} else if err != nil {
				return false, err
			}
			full = slices.Contains(ps.ManagedPolicies, AdministratorAccessPolicy)
			admin[a.PermissionSetID] = full
		}
		if !full {
			continue
		}
		if a.PrincipalType == store.PrincipalUser {
			if ok, err := s.usable(ctx, a.PrincipalID); ok || err != nil {
				return ok, err
			}
			continue
		}
		for page := (store.Page{Limit: 100}); ; {
			ms, err := s.Store.ListMembershipsByGroup(ctx, a.PrincipalID, page)
			if err != nil {
				return false, err
			}
			for _, m := range ms {
				if ok, err := s.usable(ctx, m.UserID); ok || err != nil {
					return ok, err
				}
			}
			if len(ms) < page.Limit {
				break
			}
			page.After = ms[len(ms)-1].ID
		}
	}
	return false, nil
}

// usable reports whether the user can sign in: they exist, are enabled
// and have a password.
func (s *Service) usable(ctx context.Context, userID string) (bool, error) {
	u, err := s.Store.GetUser(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	return !u.Disabled && u.PasswordHash != "", nil
}

// SetupLink stores a new first-admin setup link (valid 1 hour, single use;
// any earlier one stops working) and returns its URL. serve prints it on
// each start while the instance has no administrator.
func (s *Service) SetupLink(ctx context.Context) (string, error) {
	return s.link(ctx, store.LinkSetup, "", "/setup", SetupTTL)
}

// SetupInput is what the setup page asks for.
type SetupInput struct {
	Token    string
	UserName string
	// GivenName and FamilyName default to UserName.
	GivenName  string
	FamilyName string
	Email      string
	Password   string
}

// Setup uses a setup link: it creates the first administrator with the
// password chosen, gives them AdministratorAccess on the management
// account (MakeAdmin), and spends the link. Inputs are checked before the
// link is spent, so a typo does not cost the link.
func (s *Service) Setup(ctx context.Context, in SetupInput) (*store.User, error) {
	t, err := s.find(ctx, store.LinkSetup, in.Token)
	if err != nil {
		return nil, err
	}
	if admin, err := s.HasAdmin(ctx); err != nil {
		return nil, err
	} else if admin {
		return nil, ErrAdminExists
	}
	in.UserName, in.Email = strings.TrimSpace(in.UserName), strings.TrimSpace(in.Email)
	if in.UserName == "" {
		return nil, fault.Validationf("Enter a user name.")
	}
	if in.GivenName = strings.TrimSpace(in.GivenName); in.GivenName == "" {
		in.GivenName = in.UserName
	}
	if in.FamilyName = strings.TrimSpace(in.FamilyName); in.FamilyName == "" {
		in.FamilyName = in.UserName
	}
	if !strings.Contains(in.Email, "@") || strings.ContainsAny(in.Email, " <>") {
		return nil, fault.Validationf("Enter an e-mail address such as admin@example.com.")
	}
	if _, err := s.Store.GetUserByName(ctx, in.UserName); err == nil {
		return nil, fault.Conflictf("A user named %s exists already; choose another name.", in.UserName)
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if err := s.CheckPassword(ctx, &store.User{UserName: in.UserName, DisplayName: strings.TrimSpace(in.GivenName + " " + in.FamilyName),
		Name:   store.UserName{GivenName: in.GivenName, FamilyName: in.FamilyName},
		Emails: []store.Email{{Value: in.Email, Primary: true}}}, in.Password); err != nil {
		return nil, err
	}
	if _, err := s.Store.TakeLinkToken(ctx, t.Hash); errors.Is(err, store.ErrNotFound) {
		return nil, ErrLinkInvalid
	} else if err != nil {
		return nil, err
	}
	u, err := s.Directory.CreateUser(ctx, directory.CreateUserInput{
		UserName: in.UserName, DisplayName: strings.TrimSpace(in.GivenName + " " + in.FamilyName),
		Name:   store.UserName{GivenName: in.GivenName, FamilyName: in.FamilyName},
		Emails: []store.Email{{Value: in.Email, Type: "work", Primary: true}},
	})
	if err != nil {
		return nil, err
	}
	if err := s.Directory.SetPassword(ctx, u.ID, in.Password); err != nil {
		return nil, err
	}
	if err := s.MakeAdmin(ctx, u.ID); err != nil {
		return nil, err
	}
	if err := s.record(audit.WithUser(ctx, u.ID, u.UserName), "CreateFirstAdmin", map[string]string{"userId": u.ID, "userName": u.UserName}); err != nil {
		return nil, err
	}
	return u, nil
}

// MakeAdmin gives the user the AdministratorAccess permission set (created
// with the AWS-managed policy of that name if missing) in the management
// account.
func (s *Service) MakeAdmin(ctx context.Context, userID string) error {
	ps, err := s.Access.GetPermissionSetByName(ctx, AdministratorAccess)
	if fault.KindOf(err) == fault.NotFound {
		ps, err = s.Access.CreatePermissionSet(ctx, access.PermissionSetInput{
			Name: AdministratorAccess, Description: "Full access to the AWS accounts and to Gatehouse administration",
		})
		if err != nil {
			return fmt.Errorf("create permission set %s: %w", AdministratorAccess, err)
		}
	} else if err != nil {
		return err
	}
	if !slices.Contains(ps.ManagedPolicies, AdministratorAccessPolicy) {
		if err := s.Access.AttachManagedPolicy(ctx, ps.ID, AdministratorAccessPolicy); err != nil {
			return fmt.Errorf("attach %s: %w", AdministratorAccessPolicy, err)
		}
	}
	op, err := s.Access.CreateAssignment(ctx, access.AssignmentInput{
		AccountID: s.Instance.ManagementAccountID, PermissionSetID: ps.ID,
		PrincipalType: store.PrincipalUser, PrincipalID: userID,
	})
	if err != nil {
		return fmt.Errorf("assign %s: %w", AdministratorAccess, err)
	}
	if op.Status != store.StatusSucceeded {
		return fmt.Errorf("assign %s: %s", AdministratorAccess, op.FailureReason)
	}
	return nil
}
