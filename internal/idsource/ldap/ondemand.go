package ldap

import (
	"context"

	"github.com/gatehouse-dev/gatehouse/internal/idsource"
)

// syncNow is the kind's Sync (the console's "Sync now", the admin API's
// SyncIdentitySource): Sync as the actor in ctx, in counts.
func (s *Source) syncNow(ctx context.Context) (idsource.SyncCounts, error) {
	res, err := s.Sync(ctx)
	return idsource.SyncCounts{Users: res.Users, Disabled: len(res.Disabled), Retired: len(res.Retired),
		Failed: len(res.Failed), Skipped: len(res.Skipped)}, err
}
