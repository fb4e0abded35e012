package directory

import (
	"context"
	"errors"
	"slices"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// Event names an identity source's write in the audit trail: SCIM records
// its calls as identitystore-scim.amazonaws.com CreateUser, PatchUser, ...
// as AWS's CloudTrail does ("Logging IAM Identity Center SCIM API calls
// with AWS CloudTrail"), where the identitystore API's own calls are
// identitystore.amazonaws.com events. Params must hold no secrets.
type Event struct {
	Source string
	Name   string
	Params any
}

func (s *Service) record(ctx context.Context, tx store.Tx, ev Event, response any) error {
	return s.Audit.Record(ctx, tx, audit.Entry{Source: ev.Source, Name: ev.Name, Params: ev.Params, Response: response})
}

// ProvisionUser adds a user as CreateUser does, disabled by the identity
// source when disabled is true (a SCIM client may create a user with
// "active": false; store.User.SourceInactive), and audits it as ev.
func (s *Service) ProvisionUser(ctx context.Context, in CreateUserInput, disabled bool, ev Event) (*store.User, error) {
	now := s.Now().UTC()
	by := PrincipalOf(audit.ActorFrom(ctx).Identity)
	u := &store.User{
		ID: s.IDs.PrincipalID(s.IdentityStoreID), UserName: in.UserName, DisplayName: in.DisplayName, Name: in.Name,
		Emails: in.Emails, Profile: in.Profile, ExternalIDs: in.ExternalIDs, Disabled: disabled, SourceInactive: disabled,
		CreatedAt: now, UpdatedAt: now, CreatedBy: by, UpdatedBy: by,
	}
	if err := validateUser(u); err != nil {
		return nil, err
	}
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateUser(ctx, u); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return userConflict(u)
			}
			return err
		}
		return s.record(ctx, tx, ev, map[string]string{"userId": u.ID})
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// EditUser changes a user in one transaction: edit changes u (it may set
// any attribute, ExternalIDs and Disabled, but not the ID, password or
// times), the result is validated as CreateUser validates, uniqueness is
// checked, and the change is audited as ev. A user who becomes disabled
// loses, in the same transaction, every session, token and role
// credential issued to them (a user revocation, as SetUserDisabled and
// the identitystore API's deletion write), so the very next request with
// any of them is refused. An error of edit is returned as it is and
// changes nothing.
func (s *Service) EditUser(ctx context.Context, id string, ev Event, edit func(u *store.User) error) (*store.User, error) {
	var out *store.User
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		u, err := userIn(ctx, tx, id)
		if err != nil {
			return err
		}
		was := *u
		if err := edit(u); err != nil {
			return err
		}
		u.ID, u.PasswordHash, u.CreatedAt, u.CreatedBy = was.ID, was.PasswordHash, was.CreatedAt, was.CreatedBy
		if err := validateUser(u); err != nil {
			return err
		}
		if err := s.updateUserIn(ctx, tx, u); err != nil {
			return err
		}
		if u.UserName != was.UserName {
			if err := s.Access.RevokeRenamedUser(ctx, tx, id, was.UserName); err != nil {
				return err
			}
		}
		if u.Disabled && !was.Disabled {
			if err := s.revokeUser(ctx, tx, id); err != nil {
				return err
			}
		}
		out = u
		return s.record(ctx, tx, ev, nil)
	})
	return out, err
}

// DeleteUserAs deletes a user as DeleteUser does (memberships, direct
// assignments, and a revocation of everything issued to them), audited
// as ev.
func (s *Service) DeleteUserAs(ctx context.Context, id string, ev Event) error {
	return s.Store.Update(ctx, func(tx store.Tx) error {
		if err := s.deleteUserIn(ctx, tx, id); err != nil {
			return err
		}
		return s.record(ctx, tx, ev, nil)
	})
}

// Members lists the membership changes of a group edit, by user ID. When
// Replace is true the group's members become exactly Add (Remove is then
// ignored); otherwise the users of Add join (those already in stay) and
// those of Remove leave (those not in are ignored).
type Members struct {
	Replace bool
	Add     []string
	Remove  []string
}

// ProvisionGroup adds a group with its external IDs and first members,
// audited as ev. A member that is not a user is a validation error.
func (s *Service) ProvisionGroup(ctx context.Context, g store.Group, members []string, ev Event) (*store.Group, error) {
	now := s.Now().UTC()
	by := PrincipalOf(audit.ActorFrom(ctx).Identity)
	g.ID = s.IDs.PrincipalID(s.IdentityStoreID)
	g.CreatedAt, g.UpdatedAt, g.CreatedBy, g.UpdatedBy = now, now, by, by
	if err := validateGroup(&g); err != nil {
		return nil, err
	}
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateGroup(ctx, &g); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return fault.Uniquef("Duplicate GroupDisplayName %q or ExternalId", g.DisplayName)
			}
			return err
		}
		if err := s.applyMembers(ctx, tx, g.ID, Members{Add: members}); err != nil {
			return err
		}
		return s.record(ctx, tx, ev, map[string]string{"groupId": g.ID})
	})
	if err != nil {
		return nil, err
	}
	return &g, nil
}

// EditGroup changes a group and its members in one transaction: edit
// changes g (display name, description, external IDs) and fills in the
// membership changes; the result is validated, uniqueness checked and the
// change audited as ev.
func (s *Service) EditGroup(ctx context.Context, id string, ev Event, edit func(g *store.Group, m *Members) error) (*store.Group, error) {
	var out *store.Group
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		g, err := tx.GetGroup(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return fault.NotFoundf(ResourceGroup, id, "Group not found")
		} else if err != nil {
			return err
		}
		was := *g
		var m Members
		if err := edit(g, &m); err != nil {
			return err
		}
		g.ID, g.CreatedAt, g.CreatedBy = was.ID, was.CreatedAt, was.CreatedBy
		if err := validateGroup(g); err != nil {
			return err
		}
		if err := s.updateGroupIn(ctx, tx, g); err != nil {
			return err
		}
		if err := s.applyMembers(ctx, tx, id, m); err != nil {
			return err
		}
		out = g
		return s.record(ctx, tx, ev, nil)
	})
	return out, err
}

// applyMembers applies m to the group's memberships in tx.
func (s *Service) applyMembers(ctx context.Context, tx store.Tx, groupID string, m Members) error {
	remove := m.Remove
	if m.Replace {
		remove = nil
		cur, err := tx.ListMembershipsByGroup(ctx, groupID, store.Page{})
		if err != nil {
			return err
		}
		for _, c := range cur {
			if !slices.Contains(m.Add, c.UserID) {
				remove = append(remove, c.UserID)
			}
		}
	}
	for _, uid := range remove {
		cur, err := tx.FindMembership(ctx, groupID, uid)
		if errors.Is(err, store.ErrNotFound) {
			continue
		} else if err != nil {
			return err
		}
		if err := tx.DeleteMembership(ctx, cur.ID); err != nil {
			return err
		}
		if err := s.Access.RevokeLeftGroup(ctx, tx, groupID, uid); err != nil {
			return err
		}
	}
	by := PrincipalOf(audit.ActorFrom(ctx).Identity)
	for _, uid := range m.Add {
		if _, err := tx.GetUser(ctx, uid); errors.Is(err, store.ErrNotFound) {
			return fault.Validationf("Member %q is not a user", uid)
		} else if err != nil {
			return err
		}
		if _, err := tx.FindMembership(ctx, groupID, uid); err == nil {
			continue
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		ms := &store.Membership{ID: s.IDs.PrincipalID(s.IdentityStoreID), GroupID: groupID, UserID: uid, CreatedAt: s.Now().UTC(), CreatedBy: by}
		if err := tx.CreateMembership(ctx, ms); err != nil && !errors.Is(err, store.ErrConflict) {
			return err
		}
	}
	return nil
}

// DeleteGroupAs deletes a group as DeleteGroup does (memberships and
// assignments), audited as ev.
func (s *Service) DeleteGroupAs(ctx context.Context, id string, ev Event) error {
	return s.Store.Update(ctx, func(tx store.Tx) error {
		if err := s.deleteGroupIn(ctx, tx, id); err != nil {
			return err
		}
		return s.record(ctx, tx, ev, nil)
	})
}
