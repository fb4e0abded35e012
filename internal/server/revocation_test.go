package server_test

import (
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// TestRevocationLifetime checks the one definition of how long a revocation
// is remembered (access.RevocationLifetime): records written when a user is
// deleted live that long, and the access cache still sees a revocation that
// is almost that old, whatever the portal-session duration.
func TestRevocationLifetime(t *testing.T) {
	for _, portal := range []time.Duration{15 * time.Minute, 8 * time.Hour, 72 * time.Hour} {
		t.Run(portal.String(), func(t *testing.T) {
			now := time.Date(2026, 11, 22, 4, 0, 0, 0, time.UTC)
			srv := servertest.New(t, func(c *config.Config) {
				c.Now = func() time.Time { return now }
				c.PortalSessionDuration = portal
			})
			ctx := t.Context()
			life := access.RevocationLifetime(portal)
			if want := portal + access.MaxSessionDuration; life != want {
				t.Fatalf("RevocationLifetime(%s) = %s, want %s", portal, life, want)
			}

			u, err := srv.Directory.CreateUser(ctx, directory.CreateUserInput{
				UserName: "gone", DisplayName: "Gone", Name: store.UserName{GivenName: "G", FamilyName: "One"},
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := srv.Directory.DeleteUser(ctx, u.ID); err != nil {
				t.Fatal(err)
			}
			rs, err := srv.Store.ListRevocations(ctx, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, r := range rs {
				if r.Kind == store.RevokeUser && r.Subject == u.ID {
					found = true
					if got := r.ExpiresAt.Sub(r.At); got != life {
						t.Errorf("user revocation lives %s, want %s", got, life)
					}
				}
			}
			if !found {
				t.Fatal("no revocation recorded for the deleted user")
			}

			// A revocation of a live user a minute short of its lifetime is
			// still in force.
			live, err := srv.Directory.CreateUser(ctx, directory.CreateUserInput{
				UserName: "live", DisplayName: "Live", Name: store.UserName{GivenName: "L", FamilyName: "Ive"},
			})
			if err != nil {
				t.Fatal(err)
			}
			at := now.Add(-life + time.Minute)
			if err := srv.Store.Update(ctx, func(tx store.Tx) error {
				return tx.PutRevocation(ctx, &store.Revocation{Kind: store.RevokeUser, Subject: live.ID, At: at, ExpiresAt: at.Add(life)})
			}); err != nil {
				t.Fatal(err)
			}
			srv.Cache.Invalidate()
			revoked, err := srv.Cache.Revoked(ctx, live.ID, "", "", at.Add(-time.Second))
			if err != nil {
				t.Fatal(err)
			}
			if !revoked {
				t.Errorf("cache (MaxLifetime %s) misses a revocation made %s ago", srv.Cache.MaxLifetime, life-time.Minute)
			}
		})
	}
}
