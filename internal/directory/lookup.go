package directory

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"regexp"
	"strings"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// ResourceIdentityStore is the ResourceType of a ResourceNotFoundException
// for an identity store ID that is not this deployment's.
const ResourceIdentityStore = "IDENTITY_STORE"

// Page sizes of the identitystore List operations (spec: 1 to 100; AWS
// documents no default, Gatehouse uses the maximum).
const (
	MaxPageSize     = 100
	DefaultPageSize = 100
	maxGroupIDs     = 100
)

var (
	// resourceIDRe is the model's ResourceId: the identity store's 10 hex
	// digits and a dash (absent for stores migrated from AWS SSO), then a
	// UUID.
	resourceIDRe = regexp.MustCompile(`^([0-9a-f]{10}-|)[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}$`)
	// identityStoreIDRe is the model's IdentityStoreId.
	identityStoreIDRe = regexp.MustCompile(`^(d-[0-9a-f]{10}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$`)
	nextTokenRe       = regexp.MustCompile(`^[-a-zA-Z0-9+=/:_]+$`)
)

// CheckIdentityStore checks an IdentityStoreId sent by a client: malformed
// is a ValidationException, another store's ID a ResourceNotFoundException
// of type IDENTITY_STORE.
func (s *Service) CheckIdentityStore(id string) error {
	if !identityStoreIDRe.MatchString(id) {
		return fault.Validationf("IdentityStoreId %q is not a valid identity store ID", id)
	}
	if id != s.IdentityStoreID {
		return fault.NotFoundf(ResourceIdentityStore, id, "Identity store %s not found", id)
	}
	return nil
}

// CheckID checks a user, group or membership ID sent by a client against
// the model's ResourceId pattern.
func CheckID(field, id string) error {
	if id == "" {
		return fault.Validationf("%s is required", field)
	}
	if len(id) > 47 || !resourceIDRe.MatchString(id) {
		return fault.Validationf("%s %q is not a valid identifier", field, id)
	}
	return nil
}

// UniqueAttribute names a user or group by an attribute that identifies
// it: for users userName or emails.value, for groups displayName. Paths
// are compared case-insensitively (Terraform sends "UserName", the CLI
// "userName").
type UniqueAttribute struct {
	Path  string
	Value json.RawMessage // a JSON string
}

// AlternateIdentifier is identitystore's union: exactly one of its fields
// is set.
type AlternateIdentifier struct {
	ExternalID      *store.ExternalID
	UniqueAttribute *UniqueAttribute
}

func (a AlternateIdentifier) check() error {
	switch {
	case a.ExternalID != nil && a.UniqueAttribute != nil, a.ExternalID == nil && a.UniqueAttribute == nil:
		return fault.Validationf("AlternateIdentifier must hold exactly one of ExternalId and UniqueAttribute")
	case a.ExternalID != nil:
		return validateExternalIDs([]store.ExternalID{*a.ExternalID})
	}
	if a.UniqueAttribute.Path == "" || !attributePathRe.MatchString(a.UniqueAttribute.Path) {
		return fault.Validationf("UniqueAttribute.AttributePath %q is not a valid attribute path", a.UniqueAttribute.Path)
	}
	return nil
}

func (a AlternateIdentifier) value() (string, error) {
	var v string
	if err := json.Unmarshal(a.UniqueAttribute.Value, &v); err != nil || v == "" {
		return "", fault.Validationf("UniqueAttribute.AttributeValue must be a non-empty string")
	}
	return v, nil
}

// UserID finds a user by an alternate identifier (identitystore GetUserId).
func (s *Service) UserID(ctx context.Context, a AlternateIdentifier) (string, error) {
	if err := a.check(); err != nil {
		return "", err
	}
	var (
		u   *store.User
		err error
	)
	if a.ExternalID != nil {
		u, err = s.Store.GetUserByExternalID(ctx, *a.ExternalID)
	} else {
		v, verr := a.value()
		if verr != nil {
			return "", verr
		}
		switch strings.ToLower(a.UniqueAttribute.Path) {
		case "username":
			u, err = s.Store.GetUserByName(ctx, v)
		case "emails.value":
			u, err = s.Store.GetUserByEmail(ctx, v)
		default:
			return "", fault.Validationf("AttributePath %q is not a unique attribute of users (userName, emails.value)", a.UniqueAttribute.Path)
		}
	}
	if errors.Is(err, store.ErrNotFound) {
		return "", fault.NotFoundf(ResourceUser, "", "User not found")
	} else if err != nil {
		return "", err
	}
	return u.ID, nil
}

// GroupID finds a group by an alternate identifier (identitystore
// GetGroupId).
func (s *Service) GroupID(ctx context.Context, a AlternateIdentifier) (string, error) {
	if err := a.check(); err != nil {
		return "", err
	}
	var (
		g   *store.Group
		err error
	)
	if a.ExternalID != nil {
		g, err = s.Store.GetGroupByExternalID(ctx, *a.ExternalID)
	} else {
		v, verr := a.value()
		if verr != nil {
			return "", verr
		}
		if !strings.EqualFold(a.UniqueAttribute.Path, "displayName") {
			return "", fault.Validationf("AttributePath %q is not a unique attribute of groups (displayName)", a.UniqueAttribute.Path)
		}
		g, err = s.Store.GetGroupByName(ctx, v)
	}
	if errors.Is(err, store.ErrNotFound) {
		return "", fault.NotFoundf(ResourceGroup, "", "Group not found")
	} else if err != nil {
		return "", err
	}
	return g.ID, nil
}

// Filter is the deprecated exact-match filter of ListUsers (AttributePath
// UserName) and ListGroups (DisplayName), still sent by older Terraform data
// sources. Paths are compared case-insensitively.
type Filter struct {
	Path  string
	Value string
}

// ListInput selects a page of a list.
type ListInput struct {
	// Filters holds at most one filter (ListUsers and ListGroups only).
	Filters []Filter
	// MaxResults is the page size, 1 to 100; nil means 100.
	MaxResults *int32
	// NextToken continues the list from the page that returned it, for
	// the same query only.
	NextToken string
}

// pageToken makes and reads NextToken values: the last key of the page,
// base64url, then a colon and a hash of the query, so that a token replayed
// with another query is refused (spec aws-wire §2.6). The characters stay
// within the model's [-a-zA-Z0-9+=/:_].
type pageToken struct{ scope string }

func newPageToken(parts ...string) pageToken {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return pageToken{hex.EncodeToString(h[:8])}
}

func (p pageToken) encode(after string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(after)) + ":" + p.scope
}

func (p pageToken) decode(tok string) (string, error) {
	if tok == "" {
		return "", nil
	}
	bad := fault.Validationf("NextToken is not valid for this request")
	if len(tok) > 65535 || !nextTokenRe.MatchString(tok) {
		return "", bad
	}
	key, scope, ok := strings.Cut(tok, ":")
	if !ok || scope != p.scope {
		return "", bad
	}
	after, err := base64.RawURLEncoding.DecodeString(key)
	if err != nil || len(after) == 0 {
		return "", bad
	}
	return string(after), nil
}

// page checks in and returns the store page to fetch (one more than the
// page size, to learn whether another page follows) and the page size.
func (in ListInput) page(tok pageToken) (store.Page, int, error) {
	n := DefaultPageSize
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > MaxPageSize {
			return store.Page{}, 0, fault.Validationf("MaxResults must be 1 to %d", MaxPageSize)
		}
		n = int(*in.MaxResults)
	}
	after, err := tok.decode(in.NextToken)
	if err != nil {
		return store.Page{}, 0, err
	}
	return store.Page{After: after, Limit: n + 1}, n, nil
}

// cut trims a fetched page to n items and returns the token of the next
// page, empty on the last page.
func cut[T any](items []T, n int, tok pageToken, key func(T) string) ([]T, string) {
	if len(items) <= n {
		return items, ""
	}
	items = items[:n]
	return items, tok.encode(key(items[n-1]))
}

func (in ListInput) filter(want string) (*Filter, error) {
	switch len(in.Filters) {
	case 0:
		return nil, nil
	case 1:
	default:
		return nil, fault.Validationf("Filters may hold one filter")
	}
	f := in.Filters[0]
	if !strings.EqualFold(f.Path, want) {
		return nil, fault.Validationf("Filter AttributePath %q is not supported; use %s", f.Path, want)
	}
	if err := checkStr("Filter AttributeValue", f.Value, true); err != nil {
		return nil, err
	}
	return &f, nil
}

// ListUsersPage returns a page of users ordered by ID, optionally those
// whose user name equals a filter's value (ignoring case), and the token of
// the next page.
func (s *Service) ListUsersPage(ctx context.Context, in ListInput) ([]store.User, string, error) {
	f, err := in.filter("UserName")
	if err != nil {
		return nil, "", err
	}
	tok := newPageToken("ListUsers")
	if f != nil {
		tok = newPageToken("ListUsers", "UserName", strings.ToLower(f.Value))
	}
	p, n, err := in.page(tok)
	if err != nil {
		return nil, "", err
	}
	if f != nil {
		u, err := s.Store.GetUserByName(ctx, f.Value)
		if errors.Is(err, store.ErrNotFound) || (err == nil && u.ID <= p.After) {
			return []store.User{}, "", nil
		} else if err != nil {
			return nil, "", err
		}
		return []store.User{*u}, "", nil
	}
	us, err := s.Store.ListUsers(ctx, p)
	if err != nil {
		return nil, "", err
	}
	us, next := cut(us, n, tok, func(u store.User) string { return u.ID })
	return us, next, nil
}

// ListGroupsPage returns a page of groups ordered by ID, optionally those
// whose display name equals a filter's value (ignoring case), and the token
// of the next page.
func (s *Service) ListGroupsPage(ctx context.Context, in ListInput) ([]store.Group, string, error) {
	f, err := in.filter("DisplayName")
	if err != nil {
		return nil, "", err
	}
	tok := newPageToken("ListGroups")
	if f != nil {
		tok = newPageToken("ListGroups", "DisplayName", strings.ToLower(f.Value))
	}
	p, n, err := in.page(tok)
	if err != nil {
		return nil, "", err
	}
	if f != nil {
		g, err := s.Store.GetGroupByName(ctx, f.Value)
		if errors.Is(err, store.ErrNotFound) || (err == nil && g.ID <= p.After) {
			return []store.Group{}, "", nil
		} else if err != nil {
			return nil, "", err
		}
		return []store.Group{*g}, "", nil
	}
	gs, err := s.Store.ListGroups(ctx, p)
	if err != nil {
		return nil, "", err
	}
	gs, next := cut(gs, n, tok, func(g store.Group) string { return g.ID })
	return gs, next, nil
}

// ListGroupMembershipsPage returns a page of a group's memberships ordered
// by membership ID; a missing group is ResourceNotFoundException GROUP.
func (s *Service) ListGroupMembershipsPage(ctx context.Context, groupID string, in ListInput) ([]store.Membership, string, error) {
	tok := newPageToken("ListGroupMemberships", groupID)
	p, n, err := in.page(tok)
	if err != nil {
		return nil, "", err
	}
	if _, err := s.GetGroup(ctx, groupID); err != nil {
		return nil, "", err
	}
	ms, err := s.Store.ListMembershipsByGroup(ctx, groupID, p)
	if err != nil {
		return nil, "", err
	}
	ms, next := cut(ms, n, tok, func(m store.Membership) string { return m.ID })
	return ms, next, nil
}

// ListMembershipsForMemberPage returns a page of a user's memberships
// ordered by membership ID; a missing user is ResourceNotFoundException
// USER.
func (s *Service) ListMembershipsForMemberPage(ctx context.Context, userID string, in ListInput) ([]store.Membership, string, error) {
	tok := newPageToken("ListGroupMembershipsForMember", userID)
	p, n, err := in.page(tok)
	if err != nil {
		return nil, "", err
	}
	if _, err := s.GetUser(ctx, userID); err != nil {
		return nil, "", err
	}
	ms, err := s.Store.ListMembershipsByUser(ctx, userID, p)
	if err != nil {
		return nil, "", err
	}
	ms, next := cut(ms, n, tok, func(m store.Membership) string { return m.ID })
	return ms, next, nil
}

// IsMemberInGroups reports, for each group ID in order, whether the user is
// a member of it. A missing user is ResourceNotFoundException USER; a
// missing group is simply not one the user is in.
func (s *Service) IsMemberInGroups(ctx context.Context, userID string, groupIDs []string) ([]bool, error) {
	if len(groupIDs) == 0 || len(groupIDs) > maxGroupIDs {
		return nil, fault.Validationf("GroupIds must hold 1 to %d group IDs", maxGroupIDs)
	}
	for _, id := range groupIDs {
		if err := CheckID("GroupIds", id); err != nil {
			return nil, err
		}
	}
	if _, err := s.GetUser(ctx, userID); err != nil {
		return nil, err
	}
	ms, err := s.Store.ListMembershipsByUser(ctx, userID, store.Page{})
	if err != nil {
		return nil, err
	}
	in := make(map[string]bool, len(ms))
	for _, m := range ms {
		in[m.GroupID] = true
	}
	out := make([]bool, len(groupIDs))
	for i, id := range groupIDs {
		out[i] = in[id]
	}
	return out, nil
}

// SetUserExternalIDs replaces a user's external IDs (identity sources use
// it; the identitystore API has no operation that sets them).
func (s *Service) SetUserExternalIDs(ctx context.Context, id string, ids []store.ExternalID) error {
	if len(ids) == 0 {
		ids = nil
	}
	if err := validateExternalIDs(ids); err != nil {
		return err
	}
	return s.Store.Update(ctx, func(tx store.Tx) error {
		u, err := userIn(ctx, tx, id)
		if err != nil {
			return err
		}
		u.ExternalIDs = ids
		if err := s.updateUserIn(ctx, tx, u); err != nil {
			return err
		}
		return s.Audit.Record(ctx, tx, audit.Entry{
			Source: audit.SourceIdentityStore, Name: "UpdateUser",
			Params: map[string]any{"identityStoreId": s.IdentityStoreID, "userId": id, "attributePaths": []string{"externalIds"}},
		})
	})
}

// SetGroupExternalIDs replaces a group's external IDs.
func (s *Service) SetGroupExternalIDs(ctx context.Context, id string, ids []store.ExternalID) error {
	if len(ids) == 0 {
		ids = nil
	}
	if err := validateExternalIDs(ids); err != nil {
		return err
	}
	return s.Store.Update(ctx, func(tx store.Tx) error {
		g, err := tx.GetGroup(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return fault.NotFoundf(ResourceGroup, id, "Group not found")
		} else if err != nil {
			return err
		}
		g.ExternalIDs = ids
		if err := s.updateGroupIn(ctx, tx, g); err != nil {
			return err
		}
		return s.Audit.Record(ctx, tx, audit.Entry{
			Source: audit.SourceIdentityStore, Name: "UpdateGroup",
			Params: map[string]any{"identityStoreId": s.IdentityStoreID, "groupId": id, "attributePaths": []string{"externalIds"}},
		})
	})
}
