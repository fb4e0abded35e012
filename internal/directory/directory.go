// Package directory holds the identity store: users, groups and group
// memberships, with Identity Store semantics (spec/aws-wire.md §7). The
// identitystore API, the admin console and the sign-in pages all go through
// it.
package directory

import (
	"context"
	"errors"
	"io"
	"regexp"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/password"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// Service is the identity store.
type Service struct {
	Store           store.Store
	Audit           *audit.Recorder
	Access          *access.Service // removes a deleted principal's assignments
	IDs             arn.Generator
	Rand            io.Reader
	Now             func() time.Time
	IdentityStoreID string
	// RevocationTTL is how long a user's revocation must be remembered: the
	// longest any credential or token issued before it can live.
	RevocationTTL time.Duration
}

// Resource types of identitystore's ResourceNotFoundException.
const (
	ResourceUser       = "USER"
	ResourceGroup      = "GROUP"
	ResourceMembership = "GROUP_MEMBERSHIP"
)

var (
	userNameRe = regexp.MustCompile(`^[\p{L}\p{M}\p{S}\p{N}\p{P}]+$`)
	// strRe is identitystore's "sensitive string": printable characters,
	// tab, newline, return, space, NBSP and ideographic space.
	strRe = regexp.MustCompile(`^[\p{L}\p{M}\p{S}\p{N}\p{P}\t\n\r  　]+$`)
)

// CreateUserInput is what a new user needs. Only the attributes set here
// are stored, and DescribeUser returns exactly those.
type CreateUserInput struct {
	UserName    string
	DisplayName string
	Name        store.UserName
	Emails      []store.Email
	Profile     store.UserProfile
	// ExternalIDs are set by identity sources (SCIM, IdP sync); the
	// identitystore API cannot set them.
	ExternalIDs []store.ExternalID
}

// CreateUser adds a user. The user name must be unique, compared
// case-insensitively.
func (s *Service) CreateUser(ctx context.Context, in CreateUserInput) (*store.User, error) {
	now := s.Now().UTC()
	actor := audit.ActorFrom(ctx).Identity
	u := &store.User{
		ID:          s.IDs.PrincipalID(s.IdentityStoreID),
		UserName:    in.UserName,
		DisplayName: in.DisplayName,
		Name:        in.Name,
		Emails:      in.Emails,
		Profile:     in.Profile,
		ExternalIDs: in.ExternalIDs,
		CreatedAt:   now,
		UpdatedAt:   now,
		CreatedBy:   PrincipalOf(actor),
		UpdatedBy:   PrincipalOf(actor),
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
		return s.Audit.Record(ctx, tx, audit.Entry{
			Source: audit.SourceIdentityStore, Name: "CreateUser",
			Params:   map[string]string{"identityStoreId": s.IdentityStoreID, "userName": u.UserName},
			Response: map[string]string{"userId": u.ID},
		})
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// PrincipalOf is what a record's CreatedBy and UpdatedBy say of the actor
// id: its ARN, else its user name, else its principal ID.
func PrincipalOf(id audit.Identity) string {
	if id.ARN != "" {
		return id.ARN
	}
	if id.UserName != "" {
		return id.UserName
	}
	return id.PrincipalID
}

// GetUser returns a user by ID; a missing one is a fault.NotFound error.
func (s *Service) GetUser(ctx context.Context, id string) (*store.User, error) {
	return userIn(ctx, s.Store, id)
}

// userIn reads a user by ID in tx (or the store), mapping a missing one to
// the identitystore's ResourceNotFoundException.
func userIn(ctx context.Context, tx interface {
	GetUser(ctx context.Context, id string) (*store.User, error)
}, id string) (*store.User, error) {
	u, err := tx.GetUser(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fault.NotFoundf(ResourceUser, id, "User not found")
	}
	return u, err
}

// GetUserByName returns a user by user name, compared case-insensitively.
func (s *Service) GetUserByName(ctx context.Context, userName string) (*store.User, error) {
	u, err := s.Store.GetUserByName(ctx, userName)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fault.NotFoundf(ResourceUser, userName, "User not found")
	}
	return u, err
}

// UpdateUser applies identitystore attribute operations to a user.
func (s *Service) UpdateUser(ctx context.Context, id string, ops []AttributeOp) error {
	if err := checkOps(ops); err != nil {
		return err
	}
	return s.Store.Update(ctx, func(tx store.Tx) error {
		u, err := userIn(ctx, tx, id)
		if err != nil {
			return err
		}
		oldName := u.UserName
		for _, op := range ops {
			if err := applyUserOp(u, op); err != nil {
				return err
			}
		}
		if err := validateUser(u); err != nil {
			return err
		}
		if err := s.updateUserIn(ctx, tx, u); err != nil {
			return err
		}
		if u.UserName != oldName {
			if err := s.Access.RevokeRenamedUser(ctx, tx, id, oldName); err != nil {
				return err
			}
		}
		paths := make([]string, len(ops))
		for i, op := range ops {
			paths[i] = op.Path
		}
		return s.Audit.Record(ctx, tx, audit.Entry{
			Source: audit.SourceIdentityStore, Name: "UpdateUser",
			Params: map[string]any{"identityStoreId": s.IdentityStoreID, "userId": id, "attributePaths": paths},
		})
	})
}

// SetPassword sets a user's password, checking only its length:
// password.MinMultiFactor to password.Max characters (8 to 256). The
// pages people choose a password on apply the whole rule first
// (password.Check); SetPassword is also how `gatehouse apply` sets the
// passwords an administrator's world file gives.
func (s *Service) SetPassword(ctx context.Context, id, pw string) error {
	if n := utf8.RuneCountInString(pw); n < password.MinMultiFactor || n > password.Max {
		return fault.Validationf("Password must be %d to %d characters", password.MinMultiFactor, password.Max)
	}
	hash, err := HashPassword(s.Rand, pw)
	if err != nil {
		return err
	}
	return s.Store.Update(ctx, func(tx store.Tx) error {
		u, err := userIn(ctx, tx, id)
		if err != nil {
			return err
		}
		u.PasswordHash = hash
		u.UpdatedAt = s.Now().UTC()
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		return s.Audit.Record(ctx, tx, audit.Entry{
			Source: audit.SourceSignIn, Name: "SetPassword",
			Params: map[string]string{"userId": id},
		})
	})
}

// ErrBadCredentials is returned by Authenticate for an unknown user, a wrong
// password or a disabled user alike, so callers cannot tell them apart.
var ErrBadCredentials = errors.New("incorrect user name or password")

// Authenticate checks a user name and password. It takes as long for an
// unknown user as for a known one.
func (s *Service) Authenticate(ctx context.Context, userName, password string) (*store.User, error) {
	u, err := s.Store.GetUserByName(ctx, userName)
	if errors.Is(err, store.ErrNotFound) {
		VerifyPassword(dummyHash, password)
		return nil, ErrBadCredentials
	} else if err != nil {
		return nil, err
	}
	hash := u.PasswordHash
	if hash == "" {
		hash = dummyHash
	}
	if !VerifyPassword(hash, password) || u.PasswordHash == "" || u.Disabled {
		return nil, ErrBadCredentials
	}
	return u, nil
}

// SetUserDisabled disables or enables a user. Disabling revokes every
// session, token and credential issued to the user at once (DESIGN §6).
func (s *Service) SetUserDisabled(ctx context.Context, id string, disabled bool) error {
	return s.Store.Update(ctx, func(tx store.Tx) error {
		u, err := userIn(ctx, tx, id)
		if err != nil {
			return err
		}
		if u.AdminDisabled == disabled && u.Disabled == (disabled || u.SourceInactive) {
			return nil
		}
		u.SetAdminDisabled(disabled)
		u.UpdatedAt = s.Now().UTC()
		u.UpdatedBy = PrincipalOf(audit.ActorFrom(ctx).Identity)
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		if disabled {
			if err := s.revokeUser(ctx, tx, id); err != nil {
				return err
			}
		}
		name := "EnableUser"
		if disabled {
			name = "DisableUser"
		}
		return s.Audit.Record(ctx, tx, audit.Entry{
			Source: audit.SourceIdentityStore, Name: name,
			Params: map[string]string{"identityStoreId": s.IdentityStoreID, "userId": id},
		})
	})
}

func (s *Service) revokeUser(ctx context.Context, tx store.Tx, userID string) error {
	// Sessions on roles in linked accounts are revoked in IAM, per user.
	if err := s.Access.RevokeUserSessions(ctx, tx, userID); err != nil {
		return err
	}
	now := s.Now().UTC()
	ttl := s.RevocationTTL
	if ttl <= 0 {
		ttl = 90 * 24 * time.Hour
	}
	return tx.PutRevocation(ctx, &store.Revocation{Kind: store.RevokeUser, Subject: userID, At: now, ExpiresAt: now.Add(ttl)})
}

// DeleteUser deletes a user, its memberships and its direct assignments,
// and revokes everything issued to it.
// updateUserIn stamps u as updated now by the caller and stores it in
// tx. A user name or external ID another user holds is a ConflictException
// fault (userConflict).
func (s *Service) updateUserIn(ctx context.Context, tx store.Tx, u *store.User) error {
	u.UpdatedAt = s.Now().UTC()
	u.UpdatedBy = PrincipalOf(audit.ActorFrom(ctx).Identity)
	if err := tx.UpdateUser(ctx, u); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return userConflict(u)
		}
		return err
	}
	return nil
}

func (s *Service) DeleteUser(ctx context.Context, id string) error {
	// Deleting yourself would lock you out, and possibly the instance
	// with you: refused, as the people service refuses it.
	if me := audit.ActorFrom(ctx).Identity.UserID; me != "" && me == id {
		return fault.Validationf("You cannot delete yourself; ask another administrator.")
	}
	return s.Store.Update(ctx, func(tx store.Tx) error {
		if err := s.deleteUserIn(ctx, tx, id); err != nil {
			return err
		}
		return s.Audit.Record(ctx, tx, audit.Entry{
			Source: audit.SourceIdentityStore, Name: "DeleteUser",
			Params: map[string]string{"identityStoreId": s.IdentityStoreID, "userId": id},
		})
	})
}

// deleteUserIn deletes user id in tx: it ends their sessions, removes
// their direct assignments, deletes them with their memberships, and
// records a revocation of everything issued to them. It returns a
// ResourceNotFoundException fault when there is no such user.
func (s *Service) deleteUserIn(ctx context.Context, tx store.Tx, id string) error {
	if _, err := userIn(ctx, tx, id); err != nil {
		return err
	}
	if err := s.Access.RevokeUserSessions(ctx, tx, id); err != nil {
		return err
	}
	if err := s.Access.RemovePrincipal(ctx, tx, store.PrincipalUser, id); err != nil {
		return err
	}
	if err := tx.DeleteUser(ctx, id); err != nil {
		return err
	}
	return s.revokeUser(ctx, tx, id)
}

// ListUsers returns a page of users ordered by ID.
func (s *Service) ListUsers(ctx context.Context, p store.Page) ([]store.User, error) {
	return s.Store.ListUsers(ctx, p)
}
