package idsource

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// Identity is a person as an upstream source describes them: the claims
// of an OIDC ID token, the attributes of a SAML assertion, an LDAP entry.
type Identity struct {
	// Issuer and Subject name the person at the source (the IdP's entity
	// ID or issuer and the NameID or sub; the LDAP URL and base DN and the
	// entry's GUID). They become the user's external ID (Issuer, ID).
	Issuer, Subject string
	// UserName is the user's Gatehouse user name (commonly the e-mail
	// address or sAMAccountName).
	UserName string
	// Email is the primary e-mail address; "" leaves the stored ones.
	Email string
	// GivenName, FamilyName and DisplayName name the person; missing ones
	// are derived from the others or the user name, since the identity
	// store requires all three.
	GivenName, FamilyName, DisplayName string
	// Groups are the display names of the upstream groups the person is
	// in. nil means the source did not say, and memberships are left
	// alone; an empty list means none.
	Groups []string
	// GroupIDs maps a name of Groups to the source's unique ID of that
	// group (LDAP's entryUUID or Active Directory's objectGUID), which
	// never changes when the group is renamed. A group with one is linked
	// to its Gatehouse group by that ID; one without (SAML and OIDC claims
	// carry only names) by its name.
	GroupIDs map[string]string
	// Disabled says the source has disabled the person (Active Directory's
	// userAccountControl ACCOUNTDISABLE).
	Disabled bool
}

// Mode says how far the source is trusted about an existing user.
type Mode int

const (
	// SignIn provisions a person signing in now: a user disabled in
	// Gatehouse stays disabled and the sign-in is refused with
	// ErrUserDisabled.
	SignIn Mode = iota
	// Sync provisions from a directory sync, which is authoritative about
	// what it did itself: the user is disabled as the source says, and
	// enabled again only when the source disabled them and nobody changed
	// the user since. A user an administrator disabled in Gatehouse stays
	// disabled until an administrator enables them.
	Sync
)

// ErrUserDisabled: the user is disabled (in Gatehouse or at the source),
// so the sign-in is refused.
var ErrUserDisabled = errors.New("user is disabled")

// maxGroups bounds the groups one identity may name.
const maxGroups = 1000

// Provision creates or updates the user id describes, in one transaction
// with audit events, and returns it. The user is found by external ID
// (Issuer, Subject), then by user name compared case-insensitively, so that
// a person who existed before the source keeps their memberships and
// assignments; a user found by name gains the external ID. When id.Groups
// is not nil the user's memberships follow it: groups are found by external
// ID (Issuer, the group's ID in id.GroupIDs or else its name), then, for a
// group with an ID, by (Issuer, name) as groups were linked before IDs
// (which it trades for the ID), then by display name (gaining the external
// ID), and created when missing; a group found by ID keeps its Gatehouse
// name when the source renames it; the user leaves the groups that carry an external
// ID of this Issuer and are not named. Groups made in Gatehouse and never
// named by the source are left alone.
//
// Errors: a Validation fault when the source's values break the identity
// store's rules (a user name with spaces, say) or the user name belongs to
// a user holding another external ID of this Issuer; ErrUserDisabled in
// SignIn mode for a disabled user or when id.Disabled.
func (s *Service) Provision(ctx context.Context, id Identity, mode Mode) (*store.User, error) {
	id.UserName = strings.TrimSpace(id.UserName)
	id.Email = strings.TrimSpace(id.Email)
	if id.Issuer == "" || id.Subject == "" {
		return nil, fault.Validationf("The identity source gave no subject for the person")
	}
	if id.UserName == "" {
		return nil, fault.Validationf("The identity source gave no user name for %q", id.Subject)
	}
	if mode == SignIn && id.Disabled {
		return nil, ErrUserDisabled
	}
	groups, err := groupNames(id.Groups)
	if err != nil {
		return nil, err
	}
	fillNames(&id)
	var out *store.User
	err = s.Store.Update(ctx, func(tx store.Tx) error {
		u, err := s.upsertUser(ctx, tx, id, mode)
		if err != nil {
			return err
		}
		if id.Groups != nil {
			if err := s.syncGroups(ctx, tx, u, id.Issuer, groups, id.GroupIDs); err != nil {
				return err
			}
		}
		out = u
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// groupNames trims, drops empty and duplicate names (compared
// case-insensitively) and bounds the count.
func groupNames(in []string) ([]string, error) {
	if len(in) > maxGroups {
		return nil, fault.Validationf("The identity source named %d groups; at most %d are accepted", len(in), maxGroups)
	}
	seen := map[string]bool{}
	var out []string
	for _, g := range in {
		g = strings.TrimSpace(g)
		if g == "" || seen[strings.ToLower(g)] {
			continue
		}
		seen[strings.ToLower(g)] = true
		out = append(out, g)
	}
	return out, nil
}

// fillNames derives missing names: the display name from the given and
// family names or the user name, the given and family names from the
// display name's first and last words or the user name.
func fillNames(id *Identity) {
	id.GivenName = strings.TrimSpace(id.GivenName)
	id.FamilyName = strings.TrimSpace(id.FamilyName)
	id.DisplayName = strings.TrimSpace(id.DisplayName)
	if id.DisplayName == "" {
		id.DisplayName = strings.TrimSpace(id.GivenName + " " + id.FamilyName)
	}
	if id.DisplayName == "" {
		id.DisplayName = id.UserName
	}
	words := strings.Fields(id.DisplayName)
	if id.GivenName == "" {
		id.GivenName = id.UserName
		if len(words) > 1 {
			id.GivenName = words[0]
		}
	}
	if id.FamilyName == "" {
		id.FamilyName = id.UserName
		if len(words) > 1 {
			id.FamilyName = words[len(words)-1]
		}
	}
}

func (s *Service) upsertUser(ctx context.Context, tx store.Tx, id Identity, mode Mode) (*store.User, error) {
	ext := store.ExternalID{Issuer: id.Issuer, ID: id.Subject}
	now := s.now()
	by := directory.PrincipalOf(audit.ActorFrom(ctx).Identity)
	u, err := tx.GetUserByExternalID(ctx, ext)
	if errors.Is(err, store.ErrNotFound) {
		u, err = tx.GetUserByName(ctx, id.UserName)
		if err == nil && holdsIssuer(u.ExternalIDs, id.Issuer) {
			return nil, fault.Conflictf("User name %q belongs to another person of this identity source", id.UserName)
		}
	}
	if errors.Is(err, store.ErrNotFound) {
		u = &store.User{
			ID: s.IDs.PrincipalID(s.IdentityStoreID), UserName: id.UserName, DisplayName: id.DisplayName,
			Name: store.UserName{GivenName: id.GivenName, FamilyName: id.FamilyName}, ExternalIDs: []store.ExternalID{ext},
			Disabled: id.Disabled, CreatedAt: now, UpdatedAt: now, CreatedBy: by, UpdatedBy: by,
		}
		if id.Email != "" {
			u.Emails = []store.Email{{Value: id.Email, Type: "work", Primary: true}}
		}
		if err := directory.ValidateUser(u); err != nil {
			return nil, err
		}
		if err := tx.CreateUser(ctx, u); errors.Is(err, store.ErrConflict) {
			return nil, fault.Conflictf("User name %q is taken", id.UserName)
		} else if err != nil {
			return nil, err
		}
		if u.Disabled {
			if err := s.markSourceDisabled(ctx, tx, id.Issuer, u.ID); err != nil {
				return nil, err
			}
		}
		return u, s.record(ctx, tx, "CreateUser", id.Issuer, map[string]string{"userName": u.UserName}, map[string]string{"userId": u.ID})
	} else if err != nil {
		return nil, err
	}
	before := *u
	before.ExternalIDs = slices.Clone(u.ExternalIDs)
	before.Emails = slices.Clone(u.Emails)
	u.UserName, u.DisplayName = id.UserName, id.DisplayName
	u.Name.GivenName, u.Name.FamilyName = id.GivenName, id.FamilyName
	if id.Email != "" && !strings.EqualFold(store.PrimaryEmail(u.Emails), id.Email) {
		u.Emails = []store.Email{{Value: id.Email, Type: "work", Primary: true}}
	}
	if !slices.Contains(u.ExternalIDs, ext) {
		u.ExternalIDs = append(u.ExternalIDs, ext)
	}
	disable := false
	// bySource says the source disabled the user and nobody changed the
	// user since; else an administrator did, and only one enables them.
	bySource := false
	if mode == Sync && u.Disabled {
		if bySource, err = tx.HasUseMarker(ctx, sourceDisabledKey(id.Issuer, u.ID, u.UpdatedAt), now); err != nil {
			return nil, err
		}
	}
	switch {
	case mode == SignIn && u.Disabled:
		return nil, ErrUserDisabled
	case mode == Sync && id.Disabled && !u.Disabled:
		u.Disabled, disable = true, true
	case mode == Sync && !id.Disabled && u.Disabled && bySource:
		// Nobody changed the user since the source disabled them, so no
		// administrator's disable is lifted here.
		u.Disabled, u.AdminDisabled = u.SourceInactive, false
	}
	if sameUser(&before, u) {
		return u, nil
	}
	u.UpdatedAt, u.UpdatedBy = now, by
	if err := directory.ValidateUser(u); err != nil {
		return nil, err
	}
	if err := tx.UpdateUser(ctx, u); errors.Is(err, store.ErrConflict) {
		return nil, fault.Conflictf("User name %q is taken", id.UserName)
	} else if err != nil {
		return nil, err
	}
	if u.UserName != before.UserName {
		// Sessions in linked accounts are revoked by user name.
		if err := s.Directory.Access.RevokeRenamedUser(ctx, tx, u.ID, before.UserName); err != nil {
			return nil, err
		}
	}
	if err := s.record(ctx, tx, "UpdateUser", id.Issuer, map[string]string{"userId": u.ID, "userName": u.UserName}, nil); err != nil {
		return nil, err
	}
	if u.Disabled && (disable || bySource) {
		if err := s.markSourceDisabled(ctx, tx, id.Issuer, u.ID); err != nil {
			return nil, err
		}
	}
	switch {
	case disable:
		if s.End != nil {
			if err := s.End(ctx, tx, u.ID); err != nil {
				return nil, err
			}
		}
		return u, s.record(ctx, tx, "DisableUser", id.Issuer, map[string]string{"userId": u.ID}, nil)
	case before.Disabled && !u.Disabled:
		return u, s.record(ctx, tx, "EnableUser", id.Issuer, map[string]string{"userId": u.ID}, nil)
	}
	return u, nil
}

// sourceDisabledFor is how long the mark of a user disabled by the source
// lasts: a user disabled upstream longer than that is enabled again only
// by an administrator.
const sourceDisabledFor = 5 * 365 * 24 * time.Hour

// sourceDisabledKey names the use marker saying that the source issuer
// disabled the user userID whose stored record was last changed at
// updatedAt: any later change (an administrator's disable or update)
// changes updatedAt, so the mark no longer applies.
func sourceDisabledKey(issuer, userID string, updatedAt time.Time) string {
	sum := sha256.Sum256([]byte(issuer + "\x00" + userID + "\x00" + updatedAt.UTC().Format(time.RFC3339Nano)))
	return "idsource-disabled:" + hex.EncodeToString(sum[:])
}

// markSourceDisabled marks the user userID, just disabled (or kept
// disabled) by the source issuer in tx, as the source's to enable again.
// The stored record is read back, so that the mark names the update time
// as the store keeps it.
func (s *Service) markSourceDisabled(ctx context.Context, tx store.Tx, issuer, userID string) error {
	cur, err := tx.GetUser(ctx, userID)
	if err != nil {
		return err
	}
	key := sourceDisabledKey(issuer, userID, cur.UpdatedAt)
	if ok, err := tx.HasUseMarker(ctx, key, s.now()); err != nil || ok {
		return err
	}
	return tx.PutUseMarker(ctx, key, s.now().Add(sourceDisabledFor))
}

func holdsIssuer(ids []store.ExternalID, issuer string) bool {
	for _, e := range ids {
		if e.Issuer == issuer {
			return true
		}
	}
	return false
}

func sameUser(a, b *store.User) bool {
	return a.UserName == b.UserName && a.DisplayName == b.DisplayName && a.Name == b.Name &&
		a.Disabled == b.Disabled && slices.Equal(a.Emails, b.Emails) && slices.Equal(a.ExternalIDs, b.ExternalIDs)
}

// syncGroups makes u's memberships follow names, whose unique IDs ids
// holds when the source has them (see Provision).
func (s *Service) syncGroups(ctx context.Context, tx store.Tx, u *store.User, issuer string, names []string, ids map[string]string) error {
	now := s.now()
	by := directory.PrincipalOf(audit.ActorFrom(ctx).Identity)
	want := map[string]bool{}
	for _, name := range names {
		ext := store.ExternalID{Issuer: issuer, ID: cmp.Or(ids[name], name)}
		g, err := tx.GetGroupByExternalID(ctx, ext)
		byName := store.ExternalID{Issuer: issuer, ID: name}
		if errors.Is(err, store.ErrNotFound) && ext != byName {
			g, err = tx.GetGroupByExternalID(ctx, byName)
		}
		if errors.Is(err, store.ErrNotFound) {
			g, err = tx.GetGroupByName(ctx, name)
		}
		if err == nil && !slices.Contains(g.ExternalIDs, ext) {
			g.ExternalIDs = append(slices.DeleteFunc(g.ExternalIDs, func(e store.ExternalID) bool { return e == byName }), ext)
			g.UpdatedAt, g.UpdatedBy = now, by
			if err := tx.UpdateGroup(ctx, g); err != nil {
				return fmt.Errorf("link group %q: %w", name, err)
			}
		}
		if errors.Is(err, store.ErrNotFound) {
			g = &store.Group{
				ID: s.IDs.PrincipalID(s.IdentityStoreID), DisplayName: name, ExternalIDs: []store.ExternalID{ext},
				CreatedAt: now, UpdatedAt: now, CreatedBy: by, UpdatedBy: by,
			}
			if err := directory.ValidateGroup(g); err != nil {
				return err
			}
			if err := tx.CreateGroup(ctx, g); err != nil {
				return fmt.Errorf("create group %q: %w", name, err)
			}
			if err := s.record(ctx, tx, "CreateGroup", issuer, map[string]string{"displayName": name}, map[string]string{"groupId": g.ID}); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		want[g.ID] = true
	}
	have, err := tx.ListMembershipsByUser(ctx, u.ID, store.Page{})
	if err != nil {
		return err
	}
	for _, m := range have {
		if want[m.GroupID] {
			delete(want, m.GroupID)
			continue
		}
		g, err := tx.GetGroup(ctx, m.GroupID)
		if err != nil {
			return err
		}
		if !holdsIssuer(g.ExternalIDs, issuer) {
			continue
		}
		if err := tx.DeleteMembership(ctx, m.ID); err != nil {
			return err
		}
		if s.Directory != nil {
			if err := s.Directory.Access.RevokeLeftGroup(ctx, tx, m.GroupID, u.ID); err != nil {
				return err
			}
		}
		if err := s.record(ctx, tx, "DeleteGroupMembership", issuer, map[string]string{"membershipId": m.ID, "groupId": m.GroupID, "userId": u.ID}, nil); err != nil {
			return err
		}
	}
	for _, gid := range sortedKeys(want) {
		m := &store.Membership{ID: s.IDs.PrincipalID(s.IdentityStoreID), GroupID: gid, UserID: u.ID, CreatedAt: now, CreatedBy: by}
		if err := tx.CreateMembership(ctx, m); err != nil {
			return err
		}
		if err := s.record(ctx, tx, "CreateGroupMembership", issuer, map[string]string{"groupId": gid, "userId": u.ID}, map[string]string{"membershipId": m.ID}); err != nil {
			return err
		}
	}
	return nil
}

func sortedKeys(m map[string]bool) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// record writes an identity-store audit event of a source's change,
// naming the source's issuer.
func (s *Service) record(ctx context.Context, tx store.Tx, name, issuer string, params, resp map[string]string) error {
	p := map[string]string{"identityStoreId": s.IdentityStoreID, "identitySource": issuer}
	for k, v := range params {
		p[k] = v
	}
	e := audit.Entry{Source: audit.SourceIdentityStore, Name: name, Params: p}
	if resp != nil {
		e.Response = resp
	}
	return s.Audit.Record(ctx, tx, e)
}

// Retire disables, in Sync mode's way, every enabled user holding an
// external ID of issuer whose subject is not in present: people removed
// from or no longer matched by the directory lose access at once (their
// sessions, tokens and credentials end). It returns the user names
// disabled. Their records and assignments stay, so a person restored
// upstream comes back as they were.
func (s *Service) Retire(ctx context.Context, issuer string, present map[string]bool) ([]string, error) {
	var retired []string
	var after string
	for {
		users, err := s.Store.ListUsers(ctx, store.Page{After: after, Limit: 500})
		if err != nil {
			return retired, err
		}
		for _, u := range users {
			if u.Disabled || !holdsIssuer(u.ExternalIDs, issuer) || heldBy(u.ExternalIDs, issuer, present) {
				continue
			}
			err := s.Store.Update(ctx, func(tx store.Tx) error {
				cur, err := tx.GetUser(ctx, u.ID)
				if err != nil || cur.Disabled {
					return err
				}
				cur.Disabled = true
				cur.UpdatedAt, cur.UpdatedBy = s.now(), directory.PrincipalOf(audit.ActorFrom(ctx).Identity)
				if err := tx.UpdateUser(ctx, cur); err != nil {
					return err
				}
				if err := s.markSourceDisabled(ctx, tx, issuer, cur.ID); err != nil {
					return err
				}
				if s.End != nil {
					if err := s.End(ctx, tx, cur.ID); err != nil {
						return err
					}
				}
				return s.record(ctx, tx, "DisableUser", issuer, map[string]string{"userId": cur.ID, "reason": "not in the identity source"}, nil)
			})
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return retired, err
			}
			retired = append(retired, u.UserName)
		}
		if len(users) < 500 {
			return retired, nil
		}
		after = users[len(users)-1].ID
	}
}

func heldBy(ids []store.ExternalID, issuer string, present map[string]bool) bool {
	for _, e := range ids {
		if e.Issuer == issuer && present[e.ID] {
			return true
		}
	}
	return false
}
