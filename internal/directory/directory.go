// Package directory holds the identity store: users, groups and group
// memberships, with Identity Store semantics (spec/aws-wire.md §7). The
// identitystore API, the admin console and the sign-in pages all go through
// it.
package directory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
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

// CreateUserInput is what a new user needs.
type CreateUserInput struct {
	UserName    string
	DisplayName string
	Name        store.UserName
	Emails      []store.Email
	Profile     json.RawMessage
}

func checkStr(field, v string, required bool) error {
	if v == "" {
		if required {
			return fault.Validationf("%s is required", field)
		}
		return nil
	}
	if utf8.RuneCountInString(v) > 1024 || !strRe.MatchString(v) {
		return fault.Validationf("%s must be 1 to 1024 printable characters", field)
	}
	return nil
}

func validateUser(u *store.User) error {
	var errs []error
	switch {
	case u.UserName == "":
		errs = append(errs, fault.Validationf("UserName is required"))
	case utf8.RuneCountInString(u.UserName) > 128 || !userNameRe.MatchString(u.UserName):
		errs = append(errs, fault.Validationf("UserName must be 1 to 128 characters without white space"))
	case strings.EqualFold(u.UserName, "Administrator") || strings.EqualFold(u.UserName, "AWSAdministrators"):
		errs = append(errs, fault.Validationf("UserName %q is reserved", u.UserName))
	}
	errs = append(errs,
		checkStr("DisplayName", u.DisplayName, true),
		checkStr("Name.GivenName", u.Name.GivenName, true),
		checkStr("Name.FamilyName", u.Name.FamilyName, true),
		checkStr("Name.Formatted", u.Name.Formatted, false),
		checkStr("Name.MiddleName", u.Name.MiddleName, false),
		checkStr("Name.HonorificPrefix", u.Name.HonorificPrefix, false),
		checkStr("Name.HonorificSuffix", u.Name.HonorificSuffix, false),
	)
	if len(u.Emails) > 1 {
		errs = append(errs, fault.Validationf("Emails may hold one address"))
	}
	for _, e := range u.Emails {
		if e.Value == "" || !strings.Contains(e.Value, "@") || utf8.RuneCountInString(e.Value) > 1024 {
			errs = append(errs, fault.Validationf("Emails.Value %q is not an e-mail address", e.Value))
		}
	}
	if len(u.Profile) > 0 {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(u.Profile, &obj); err != nil {
			errs = append(errs, fault.Validationf("user attributes must be a JSON object"))
		}
	}
	return firstFault(errs)
}

// firstFault returns the first non-nil error: AWS reports one validation
// problem at a time.
func firstFault(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
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
		CreatedAt:   now,
		UpdatedAt:   now,
		CreatedBy:   principalOf(actor),
		UpdatedBy:   principalOf(actor),
	}
	if err := validateUser(u); err != nil {
		return nil, err
	}
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateUser(ctx, u); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return fault.Uniquef("Duplicate UserName %q", in.UserName)
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

func principalOf(id audit.Identity) string {
	if id.ARN != "" {
		return id.ARN
	}
	if id.UserName != "" {
		return id.UserName
	}
	return id.PrincipalID
}

// GetUser returns a user by ID.
func (s *Service) GetUser(ctx context.Context, id string) (*store.User, error) {
	u, err := s.Store.GetUser(ctx, id)
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

// AttributeOp is one identitystore UpdateUser/UpdateGroup operation: set the
// attribute at Path to Value, or remove it when Value is null or absent.
type AttributeOp struct {
	Path  string
	Value json.RawMessage
}

// profileAttrs are the plain string attributes kept in User.Profile.
var profileAttrs = map[string]string{
	"nickname": "NickName", "profileurl": "ProfileUrl", "usertype": "UserType", "title": "Title",
	"preferredlanguage": "PreferredLanguage", "locale": "Locale", "timezone": "Timezone",
	"website": "Website", "birthdate": "Birthdate",
}

func isNull(v json.RawMessage) bool {
	s := strings.TrimSpace(string(v))
	return s == "" || s == "null"
}

func decodeString(path string, v json.RawMessage) (string, error) {
	if isNull(v) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", fault.Validationf("AttributeValue for %s must be a string", path)
	}
	return s, nil
}

func applyUserOp(u *store.User, op AttributeOp) error {
	path := strings.ToLower(op.Path)
	str := func(dst *string) error {
		v, err := decodeString(op.Path, op.Value)
		if err != nil {
			return err
		}
		*dst = v
		return nil
	}
	switch path {
	case "username":
		return str(&u.UserName)
	case "displayname":
		return str(&u.DisplayName)
	case "name.givenname":
		return str(&u.Name.GivenName)
	case "name.familyname":
		return str(&u.Name.FamilyName)
	case "name.formatted":
		return str(&u.Name.Formatted)
	case "name.middlename":
		return str(&u.Name.MiddleName)
	case "name.honorificprefix":
		return str(&u.Name.HonorificPrefix)
	case "name.honorificsuffix":
		return str(&u.Name.HonorificSuffix)
	case "name":
		u.Name = store.UserName{}
		if isNull(op.Value) {
			return nil
		}
		if err := json.Unmarshal(op.Value, &u.Name); err != nil {
			return fault.Validationf("AttributeValue for name must be a Name object")
		}
		return nil
	case "emails":
		u.Emails = nil
		if isNull(op.Value) {
			return nil
		}
		if err := json.Unmarshal(op.Value, &u.Emails); err != nil {
			return fault.Validationf("AttributeValue for emails must be a list of Email objects")
		}
		return nil
	}
	key, ok := profileAttrs[path]
	if !ok {
		return fault.Validationf("AttributePath %q is not supported", op.Path)
	}
	prof := map[string]json.RawMessage{}
	if len(u.Profile) > 0 {
		if err := json.Unmarshal(u.Profile, &prof); err != nil {
			return fmt.Errorf("decode stored profile: %w", err)
		}
	}
	v, err := decodeString(op.Path, op.Value)
	if err != nil {
		return err
	}
	if v == "" {
		delete(prof, key)
	} else {
		if err := checkStr(key, v, true); err != nil {
			return err
		}
		prof[key], _ = json.Marshal(v)
	}
	b, err := json.Marshal(prof)
	if err != nil {
		return fmt.Errorf("encode profile: %w", err)
	}
	u.Profile = b
	return nil
}

// UpdateUser applies identitystore attribute operations to a user.
func (s *Service) UpdateUser(ctx context.Context, id string, ops []AttributeOp) error {
	if len(ops) == 0 || len(ops) > 100 {
		return fault.Validationf("Operations must hold 1 to 100 operations")
	}
	return s.Store.Update(ctx, func(tx store.Tx) error {
		u, err := tx.GetUser(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return fault.NotFoundf(ResourceUser, id, "User not found")
		} else if err != nil {
			return err
		}
		for _, op := range ops {
			if err := applyUserOp(u, op); err != nil {
				return err
			}
		}
		if err := validateUser(u); err != nil {
			return err
		}
		u.UpdatedAt = s.Now().UTC()
		u.UpdatedBy = principalOf(audit.ActorFrom(ctx).Identity)
		if err := tx.UpdateUser(ctx, u); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return fault.Uniquef("Duplicate UserName %q", u.UserName)
			}
			return err
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

// SetPassword sets a user's password (at least 8 characters).
func (s *Service) SetPassword(ctx context.Context, id, password string) error {
	if n := utf8.RuneCountInString(password); n < 8 || n > 256 {
		return fault.Validationf("Password must be 8 to 256 characters")
	}
	hash, err := HashPassword(s.Rand, password)
	if err != nil {
		return err
	}
	return s.Store.Update(ctx, func(tx store.Tx) error {
		u, err := tx.GetUser(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return fault.NotFoundf(ResourceUser, id, "User not found")
		} else if err != nil {
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
		u, err := tx.GetUser(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return fault.NotFoundf(ResourceUser, id, "User not found")
		} else if err != nil {
			return err
		}
		if u.Disabled == disabled {
			return nil
		}
		u.Disabled = disabled
		u.UpdatedAt = s.Now().UTC()
		u.UpdatedBy = principalOf(audit.ActorFrom(ctx).Identity)
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
	now := s.Now().UTC()
	ttl := s.RevocationTTL
	if ttl <= 0 {
		ttl = 90 * 24 * time.Hour
	}
	return tx.PutRevocation(ctx, &store.Revocation{Kind: store.RevokeUser, Subject: userID, At: now, ExpiresAt: now.Add(ttl)})
}

// DeleteUser deletes a user, its memberships and its direct assignments,
// and revokes everything issued to it.
func (s *Service) DeleteUser(ctx context.Context, id string) error {
	return s.Store.Update(ctx, func(tx store.Tx) error {
		if _, err := tx.GetUser(ctx, id); errors.Is(err, store.ErrNotFound) {
			return fault.NotFoundf(ResourceUser, id, "User not found")
		} else if err != nil {
			return err
		}
		if err := s.Access.RemovePrincipal(ctx, tx, store.PrincipalUser, id); err != nil {
			return err
		}
		if err := tx.DeleteUser(ctx, id); err != nil {
			return err
		}
		if err := s.revokeUser(ctx, tx, id); err != nil {
			return err
		}
		return s.Audit.Record(ctx, tx, audit.Entry{
			Source: audit.SourceIdentityStore, Name: "DeleteUser",
			Params: map[string]string{"identityStoreId": s.IdentityStoreID, "userId": id},
		})
	})
}

// ListUsers returns a page of users ordered by ID.
func (s *Service) ListUsers(ctx context.Context, p store.Page) ([]store.User, error) {
	return s.Store.ListUsers(ctx, p)
}
