package directory

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// groupNameRe is identitystore's GroupDisplayName: printable characters plus
// tab, newline, space and NBSP.
var groupNameRe = regexp.MustCompile(`^[\p{L}\p{M}\p{S}\p{N}\p{P}\t\n\r  ]+$`)

func validateGroup(g *store.Group) error {
	if g.DisplayName == "" {
		return fault.Validationf("DisplayName is required")
	}
	if utf8.RuneCountInString(g.DisplayName) > 1024 || !groupNameRe.MatchString(g.DisplayName) {
		return fault.Validationf("DisplayName must be 1 to 1024 printable characters")
	}
	if err := checkStr("Description", g.Description, false); err != nil {
		return err
	}
	return validateExternalIDs(g.ExternalIDs)
}

// CreateGroup adds a group. Display names are unique, compared
// case-insensitively.
func (s *Service) CreateGroup(ctx context.Context, displayName, description string) (*store.Group, error) {
	now := s.Now().UTC()
	by := PrincipalOf(audit.ActorFrom(ctx).Identity)
	g := &store.Group{
		ID: s.IDs.PrincipalID(s.IdentityStoreID), DisplayName: displayName, Description: description,
		CreatedAt: now, UpdatedAt: now, CreatedBy: by, UpdatedBy: by,
	}
	if err := validateGroup(g); err != nil {
		return nil, err
	}
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateGroup(ctx, g); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return fault.Uniquef("Duplicate GroupDisplayName %q", displayName)
			}
			return err
		}
		return s.Audit.Record(ctx, tx, audit.Entry{
			Source: audit.SourceIdentityStore, Name: "CreateGroup",
			Params:   map[string]string{"identityStoreId": s.IdentityStoreID, "displayName": displayName},
			Response: map[string]string{"groupId": g.ID},
		})
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

// GetGroup returns a group by ID.
func (s *Service) GetGroup(ctx context.Context, id string) (*store.Group, error) {
	g, err := s.Store.GetGroup(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fault.NotFoundf(ResourceGroup, id, "Group not found")
	}
	return g, err
}

// GetGroupByName returns a group by display name, compared
// case-insensitively.
func (s *Service) GetGroupByName(ctx context.Context, displayName string) (*store.Group, error) {
	g, err := s.Store.GetGroupByName(ctx, displayName)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fault.NotFoundf(ResourceGroup, displayName, "Group not found")
	}
	return g, err
}

// UpdateGroup applies attribute operations (displayName, description).
func (s *Service) UpdateGroup(ctx context.Context, id string, ops []AttributeOp) error {
	if err := checkOps(ops); err != nil {
		return err
	}
	return s.Store.Update(ctx, func(tx store.Tx) error {
		g, err := tx.GetGroup(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return fault.NotFoundf(ResourceGroup, id, "Group not found")
		} else if err != nil {
			return err
		}
		for _, op := range ops {
			v, err := decodeString(op.Path, op.Value)
			if err != nil {
				return err
			}
			switch strings.ToLower(op.Path) {
			case "displayname":
				g.DisplayName = v
			case "description":
				g.Description = v
			default:
				return fault.Validationf("AttributePath %q is not supported", op.Path)
			}
		}
		if err := validateGroup(g); err != nil {
			return err
		}
		if err := s.updateGroupIn(ctx, tx, g); err != nil {
			return err
		}
		paths := make([]string, len(ops))
		for i, op := range ops {
			paths[i] = op.Path
		}
		return s.Audit.Record(ctx, tx, audit.Entry{
			Source: audit.SourceIdentityStore, Name: "UpdateGroup",
			Params: map[string]any{"identityStoreId": s.IdentityStoreID, "groupId": id, "attributePaths": paths},
		})
	})
}

// DeleteGroup deletes a group, its memberships and its assignments.
// updateGroupIn stamps g as updated now by the caller and stores it in
// tx. A display name or external ID another group holds is a
// ConflictException fault.
func (s *Service) updateGroupIn(ctx context.Context, tx store.Tx, g *store.Group) error {
	g.UpdatedAt = s.Now().UTC()
	g.UpdatedBy = PrincipalOf(audit.ActorFrom(ctx).Identity)
	if err := tx.UpdateGroup(ctx, g); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return fault.Uniquef("Duplicate GroupDisplayName %q or ExternalId", g.DisplayName)
		}
		return err
	}
	return nil
}

func (s *Service) DeleteGroup(ctx context.Context, id string) error {
	return s.Store.Update(ctx, func(tx store.Tx) error {
		if err := s.deleteGroupIn(ctx, tx, id); err != nil {
			return err
		}
		return s.Audit.Record(ctx, tx, audit.Entry{
			Source: audit.SourceIdentityStore, Name: "DeleteGroup",
			Params: map[string]string{"identityStoreId": s.IdentityStoreID, "groupId": id},
		})
	})
}

// deleteGroupIn deletes group id in tx with its memberships and its
// assignments. It returns a ResourceNotFoundException fault when there
// is no such group.
func (s *Service) deleteGroupIn(ctx context.Context, tx store.Tx, id string) error {
	if _, err := tx.GetGroup(ctx, id); errors.Is(err, store.ErrNotFound) {
		return fault.NotFoundf(ResourceGroup, id, "Group not found")
	} else if err != nil {
		return err
	}
	if err := s.Access.RemovePrincipal(ctx, tx, store.PrincipalGroup, id); err != nil {
		return err
	}
	return tx.DeleteGroup(ctx, id)
}

// ListGroups returns a page of groups ordered by ID.
func (s *Service) ListGroups(ctx context.Context, p store.Page) ([]store.Group, error) {
	return s.Store.ListGroups(ctx, p)
}

// AddMember puts a user in a group.
func (s *Service) AddMember(ctx context.Context, groupID, userID string) (*store.Membership, error) {
	m := &store.Membership{
		ID: s.IDs.PrincipalID(s.IdentityStoreID), GroupID: groupID, UserID: userID,
		CreatedAt: s.Now().UTC(), CreatedBy: PrincipalOf(audit.ActorFrom(ctx).Identity),
	}
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		if _, err := tx.GetGroup(ctx, groupID); errors.Is(err, store.ErrNotFound) {
			return fault.NotFoundf(ResourceGroup, groupID, "Group not found")
		} else if err != nil {
			return err
		}
		if _, err := tx.GetUser(ctx, userID); errors.Is(err, store.ErrNotFound) {
			return fault.NotFoundf(ResourceUser, userID, "Member not found")
		} else if err != nil {
			return err
		}
		if err := tx.CreateMembership(ctx, m); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return fault.Uniquef("Member %s is already in group %s", userID, groupID)
			}
			return err
		}
		return s.Audit.Record(ctx, tx, audit.Entry{
			Source: audit.SourceIdentityStore, Name: "CreateGroupMembership",
			Params:   map[string]string{"identityStoreId": s.IdentityStoreID, "groupId": groupID, "userId": userID},
			Response: map[string]string{"membershipId": m.ID},
		})
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// GetMembership returns a membership by ID.
func (s *Service) GetMembership(ctx context.Context, id string) (*store.Membership, error) {
	m, err := s.Store.GetMembership(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fault.NotFoundf(ResourceMembership, id, "Membership not found")
	}
	return m, err
}

// FindMembership returns the membership of a user in a group.
func (s *Service) FindMembership(ctx context.Context, groupID, userID string) (*store.Membership, error) {
	m, err := s.Store.FindMembership(ctx, groupID, userID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fault.NotFoundf(ResourceMembership, userID, "Membership not found")
	}
	return m, err
}

// RemoveMember deletes a membership.
func (s *Service) RemoveMember(ctx context.Context, membershipID string) error {
	return s.Store.Update(ctx, func(tx store.Tx) error {
		m, err := tx.GetMembership(ctx, membershipID)
		if errors.Is(err, store.ErrNotFound) {
			return fault.NotFoundf(ResourceMembership, membershipID, "Membership not found")
		} else if err != nil {
			return err
		}
		if err := tx.DeleteMembership(ctx, membershipID); err != nil {
			return err
		}
		if err := s.Access.RevokeLeftGroup(ctx, tx, m.GroupID, m.UserID); err != nil {
			return err
		}
		return s.Audit.Record(ctx, tx, audit.Entry{
			Source: audit.SourceIdentityStore, Name: "DeleteGroupMembership",
			Params: map[string]string{"identityStoreId": s.IdentityStoreID, "membershipId": membershipID, "groupId": m.GroupID},
		})
	})
}

// ValidateGroup checks g against the identity store's group rules, as
// CreateGroup does (a Validation *fault.Error), for identity sources that
// write groups themselves.
func ValidateGroup(g *store.Group) error { return validateGroup(g) }
