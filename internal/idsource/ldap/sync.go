package ldap

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/idsource"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// SyncResult is what one sync did.
type SyncResult struct {
	// Users is how many directory users were provisioned (created,
	// updated or found unchanged).
	Users int
	// Disabled are the user names the directory says are disabled,
	// sorted.
	Disabled []string
	// Retired are the user names disabled because the directory no longer
	// has them (or they no longer match the user filter), sorted.
	Retired []string
	// Failed are the users that could not be provisioned, as
	// "name: reason" (a user name the identity store refuses, say); they
	// are not retired.
	Failed []string
	// Skipped are the DNs of entries without a user name or unique ID.
	Skipped []string
}

// ErrNotActive: LDAP is not the active identity source, so nothing is
// synced.
var ErrNotActive = fault.Validationf("LDAP is not the active identity source: switch to it before syncing")

// ErrNoUsers: no directory user could be provisioned (the user search
// found none, or every one failed), which a misconfiguration looks like
// (the user base DN or filter, the unique ID attribute, the service
// account's read rights); the sync then retires nobody.
var ErrNoUsers = fault.Validationf("No directory user could be synced (the directory returned none, or every one failed): nobody was disabled. " +
	"Check the user base DN, the user filter, the unique ID attribute and that the bind DN may read the users")

// Sync reads every user and group from the directory and provisions them
// (idsource.Sync mode): users are created or updated, their memberships
// follow the directory's groups, users disabled there are disabled at
// once, and — only once the whole directory was read — users of this
// directory no longer found are retired (disabled); an audit event
// (SyncIdentitySource) counts what it did. It refuses to run when
// LDAP is not the active source (ErrNotActive). A directory that cannot be
// read wraps ErrUnreachable and changes nothing; one that provisions no
// user at all is ErrNoUsers and retires nobody.
func (s *Source) Sync(ctx context.Context) (SyncResult, error) {
	var res SyncResult
	kind, err := s.Sources.ActiveKind(ctx)
	if err != nil {
		return res, err
	}
	if kind != idsource.LDAP {
		return res, ErrNotActive
	}
	c, pw, err := s.load(ctx)
	if err != nil {
		return res, notConfigured(err)
	}
	start := s.Now()
	up, err := c.read(ctx, pw)
	if err != nil {
		return res, err
	}
	res.Skipped = up.skipped
	present := map[string]bool{}
	for _, id := range up.users {
		present[id.Subject] = true
		if _, err := s.Sources.Provision(ctx, id, idsource.Sync); err != nil {
			if ctx.Err() != nil {
				return res, ctx.Err()
			}
			res.Failed = append(res.Failed, id.UserName+": "+reason(err))
			continue
		}
		res.Users++
		if id.Disabled {
			res.Disabled = append(res.Disabled, id.UserName)
		}
	}
	slices.Sort(res.Disabled)
	if res.Users == 0 {
		// A directory answers a filter with a typo, or a service account
		// without read rights, with success and no entries; another
		// unique ID attribute makes every user a stranger. Retiring
		// then would disable every directory user.
		for _, f := range res.Failed {
			s.Log.Warn("ldap sync: user not provisioned", "user", f)
		}
		return res, ErrNoUsers
	}
	retired, err := s.Sources.Retire(ctx, c.issuer(), present)
	res.Retired = retired
	slices.Sort(res.Retired)
	if err != nil {
		return res, fmt.Errorf("retire users no longer in the directory: %w", err)
	}
	err = s.Sources.Store.Update(ctx, func(tx store.Tx) error {
		return s.Sources.Audit.Record(ctx, tx, audit.Entry{Source: audit.SourceGatehouse, Name: "SyncIdentitySource",
			Params: map[string]any{"kind": idsource.LDAP, "issuer": c.issuer()},
			Response: map[string]any{"users": res.Users, "disabled": len(res.Disabled), "retired": len(res.Retired),
				"failed": len(res.Failed), "skipped": len(res.Skipped)}})
	})
	if err != nil {
		return res, fmt.Errorf("record the sync: %w", err)
	}
	s.Log.Info("ldap sync", "users", res.Users, "disabled", len(res.Disabled), "retired", len(res.Retired),
		"failed", len(res.Failed), "skipped", len(res.Skipped), "took", s.Now().Sub(start).Round(time.Millisecond))
	for _, f := range res.Failed {
		s.Log.Warn("ldap sync: user not provisioned", "user", f)
	}
	return res, nil
}

// syncActor is the audit identity of a scheduled sync (Run).
var syncActor = audit.Actor{Identity: audit.Identity{Type: "AWSService", PrincipalID: "gatehouse-ldap-sync"},
	SourceIP: "gatehouse.local", UserAgent: "gatehouse ldap sync"}

func reason(err error) string {
	if fe, ok := errors.AsType[*fault.Error](err); ok {
		return fe.Message
	}
	return err.Error()
}

// SyncDue syncs when LDAP is the active source and no replica has synced
// in the current interval (the settings' sync interval, slots aligned to
// the Unix epoch): replicas sharing a store claim the slot with a
// use-marker, so one of them syncs it. ran says a sync was attempted. A
// sync that fails is tried again in the next slot.
func (s *Source) SyncDue(ctx context.Context) (ran bool, res SyncResult, err error) {
	kind, err := s.Sources.ActiveKind(ctx)
	if err != nil || kind != idsource.LDAP {
		return false, res, err
	}
	c, _, err := s.load(ctx)
	if err != nil {
		return false, res, err
	}
	slot := s.Now().UTC().Truncate(c.interval)
	key := fmt.Sprintf("idsource/ldap/sync/%s/%d", slot.Format(time.RFC3339), int64(c.interval/time.Second))
	if err := s.Sources.Store.PutUseMarker(ctx, key, slot.Add(2*c.interval)); errors.Is(err, store.ErrConflict) {
		return false, res, nil
	} else if err != nil {
		return false, res, err
	}
	res, err = s.Sync(ctx)
	return true, res, err
}

// checkEvery is how often Run looks whether a sync is due.
const checkEvery = time.Minute

// Run syncs whenever SyncDue says so, checking every minute until ctx
// ends. The server runs it beside its other background work; it does
// nothing while LDAP is not the active source.
func (s *Source) Run(ctx context.Context) error {
	ctx = audit.WithActor(ctx, syncActor)
	t := time.NewTicker(checkEvery)
	defer t.Stop()
	for {
		ran, _, err := s.SyncDue(ctx)
		if err != nil && ctx.Err() == nil {
			if ran {
				s.Log.Warn("ldap sync failed; users were not retired", "err", err)
			} else {
				s.Log.Warn("ldap sync schedule", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Preview is the kind's dry run for a switch's plan: the directory's user
// names that match an existing user (by external ID, then user name), that
// would be created, and the existing users the directory does not have.
func (s *Source) Preview(ctx context.Context) (*idsource.Preview, error) {
	c, pw, err := s.load(ctx)
	if err != nil {
		return nil, notConfigured(err)
	}
	up, err := c.read(ctx, pw)
	if err != nil {
		return nil, err
	}
	p := &idsource.Preview{}
	taken := map[string]bool{}
	for _, id := range up.users {
		u, err := s.Sources.Store.GetUserByExternalID(ctx, store.ExternalID{Issuer: id.Issuer, ID: id.Subject})
		if errors.Is(err, store.ErrNotFound) {
			u, err = s.Sources.Store.GetUserByName(ctx, id.UserName)
		}
		switch {
		case errors.Is(err, store.ErrNotFound):
			p.New = append(p.New, id.UserName)
		case err != nil:
			return nil, err
		default:
			p.Matched = append(p.Matched, id.UserName)
			taken[u.ID] = true
		}
	}
	var after string
	for {
		users, err := s.Sources.Store.ListUsers(ctx, store.Page{After: after, Limit: 500})
		if err != nil {
			return nil, err
		}
		for _, u := range users {
			if !taken[u.ID] {
				p.Unmatched = append(p.Unmatched, u.UserName)
			}
		}
		if len(users) < 500 {
			break
		}
		after = users[len(users)-1].ID
	}
	for _, l := range [][]string{p.Matched, p.New, p.Unmatched} {
		slices.SortFunc(l, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	}
	return p, nil
}
