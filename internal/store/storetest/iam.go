package storetest

import (
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/store"
)

func testIAMUsers(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := store.IAMUser{ID: "AIDAEXAMPLE0000000001", AccountID: "111111111111", UserName: "Deployer", Path: "/ci/",
		Tags: []store.Tag{{Key: "team", Value: "red"}}, ManagedPolicies: []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"},
		InlinePolicies: []store.InlinePolicy{{Name: "p", Document: `{"Version":"2012-10-17","Statement":[]}`}},
		Version:        1, CreatedAt: at(0), UpdatedAt: at(0)}
	must(t, s.CreateIAMUser(ctx, &u))
	// Same name in another case in the same account: conflict; in another
	// account: fine.
	dup := u
	dup.ID, dup.UserName = "AIDAEXAMPLE0000000002", "deployer"
	wantErr(t, s.CreateIAMUser(ctx, &dup), store.ErrConflict)
	dup.AccountID = "222222222222"
	must(t, s.CreateIAMUser(ctx, &dup))
	sameID := u
	sameID.UserName = "other"
	wantErr(t, s.CreateIAMUser(ctx, &sameID), store.ErrConflict)

	got, err := s.GetIAMUser(ctx, "111111111111", "DEPLOYER")
	must(t, err)
	wantEqual(t, "user by name", u, *got)
	got, err = s.GetIAMUserByID(ctx, u.ID)
	must(t, err)
	wantEqual(t, "user by ID", u, *got)
	_, err = s.GetIAMUser(ctx, "333333333333", "Deployer")
	wantErr(t, err, store.ErrNotFound)
	_, err = s.GetIAMUserByID(ctx, "AIDANOSUCHUSER0000000")
	wantErr(t, err, store.ErrNotFound)

	// Nil lists read back empty.
	bare := store.IAMUser{ID: "AIDAEXAMPLE0000000003", AccountID: "111111111111", UserName: "alpha", Path: "/", CreatedAt: at(time.Second), UpdatedAt: at(time.Second)}
	must(t, s.CreateIAMUser(ctx, &bare))
	got, err = s.GetIAMUserByID(ctx, bare.ID)
	must(t, err)
	bare.Tags, bare.ManagedPolicies, bare.InlinePolicies = []store.Tag{}, []string{}, []store.InlinePolicy{}
	wantEqual(t, "bare user", bare, *got)

	u.Tags = nil
	u.ManagedPolicies = append(u.ManagedPolicies, "arn:aws:iam::111111111111:policy/Deploy")
	u.Version, u.UpdatedAt = 2, at(time.Minute)
	must(t, s.UpdateIAMUser(ctx, &u))
	got, err = s.GetIAMUserByID(ctx, u.ID)
	must(t, err)
	u.Tags = []store.Tag{}
	wantEqual(t, "updated user", u, *got)
	missing := u
	missing.ID = "AIDANOSUCHUSER0000000"
	wantErr(t, s.UpdateIAMUser(ctx, &missing), store.ErrNotFound)

	all, err := s.ListIAMUsers(ctx, "111111111111", store.Page{})
	must(t, err)
	wantEqual(t, "users of the account", []string{"alpha", "Deployer"}, names(all))
	page, err := s.ListIAMUsers(ctx, "111111111111", store.Page{After: "alpha", Limit: 1})
	must(t, err)
	wantEqual(t, "second page", []string{"Deployer"}, names(page))

	must(t, s.DeleteIAMUser(ctx, u.ID))
	wantErr(t, s.DeleteIAMUser(ctx, u.ID), store.ErrNotFound)
	_, err = s.GetIAMUserByID(ctx, u.ID)
	wantErr(t, err, store.ErrNotFound)
}

func names(us []store.IAMUser) []string {
	out := []string{}
	for _, u := range us {
		out = append(out, u.UserName)
	}
	return out
}

func testAccessKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := store.IAMUser{ID: "AIDAEXAMPLE0000000001", AccountID: "111111111111", UserName: "ci", Path: "/", CreatedAt: at(0), UpdatedAt: at(0)}
	must(t, s.CreateIAMUser(ctx, &u))
	k1 := store.AccessKey{ID: "AKIAEXAMPLE000000001", UserID: u.ID, AccountID: u.AccountID, Status: store.KeyActive,
		SealedSecret: "k1.sealed", CreatedAt: at(time.Second), ExpiresAt: at(90 * 24 * time.Hour)}
	k2 := store.AccessKey{ID: "AKIAEXAMPLE000000002", UserID: u.ID, AccountID: u.AccountID, Status: store.KeyActive,
		SealedSecret: "k2.sealed", CreatedAt: at(2 * time.Second)}
	must(t, s.CreateAccessKey(ctx, &k2))
	must(t, s.CreateAccessKey(ctx, &k1))
	wantErr(t, s.CreateAccessKey(ctx, &k1), store.ErrConflict)
	orphan := k1
	orphan.ID, orphan.UserID = "AKIAEXAMPLE000000003", "AIDANOSUCHUSER0000000"
	wantErr(t, s.CreateAccessKey(ctx, &orphan), store.ErrNotFound)

	got, err := s.GetAccessKey(ctx, k1.ID)
	must(t, err)
	wantEqual(t, "key", k1, *got)
	_, err = s.GetAccessKey(ctx, "AKIANOSUCHKEY0000000")
	wantErr(t, err, store.ErrNotFound)
	ks, err := s.ListAccessKeys(ctx, u.ID)
	must(t, err)
	wantEqual(t, "keys by creation", []store.AccessKey{k1, k2}, ks)

	k1.Status, k1.ExpiresAt = store.KeyInactive, time.Time{}
	must(t, s.UpdateAccessKey(ctx, &k1))
	got, err = s.GetAccessKey(ctx, k1.ID)
	must(t, err)
	wantEqual(t, "updated key", k1, *got)
	gone := k1
	gone.ID = "AKIANOSUCHKEY0000000"
	wantErr(t, s.UpdateAccessKey(ctx, &gone), store.ErrNotFound)

	// Touch records a later use only, moves no ChangeSeq, and ignores a
	// missing key.
	seq, err := s.ChangeSeq(ctx)
	must(t, err)
	must(t, s.TouchAccessKey(ctx, k2.ID, at(time.Hour), "sts", "us-east-1"))
	must(t, s.TouchAccessKey(ctx, k2.ID, at(time.Minute), "iam", "eu-west-1"))
	must(t, s.TouchAccessKey(ctx, "AKIANOSUCHKEY0000000", at(time.Hour), "sts", "us-east-1"))
	got, err = s.GetAccessKey(ctx, k2.ID)
	must(t, err)
	k2.LastUsedAt, k2.LastUsedService, k2.LastUsedRegion = at(time.Hour), "sts", "us-east-1"
	wantEqual(t, "touched key", k2, *got)
	seq2, err := s.ChangeSeq(ctx)
	must(t, err)
	if seq2 != seq {
		t.Errorf("TouchAccessKey moved ChangeSeq from %d to %d", seq, seq2)
	}

	must(t, s.DeleteAccessKey(ctx, k1.ID))
	wantErr(t, s.DeleteAccessKey(ctx, k1.ID), store.ErrNotFound)
	// Deleting the user deletes its keys.
	must(t, s.DeleteIAMUser(ctx, u.ID))
	_, err = s.GetAccessKey(ctx, k2.ID)
	wantErr(t, err, store.ErrNotFound)
	ks, err = s.ListAccessKeys(ctx, u.ID)
	must(t, err)
	wantEqual(t, "keys of a deleted user", []store.AccessKey{}, ks)
}

func testOIDCProviders(t *testing.T, s store.Store) {
	ctx := t.Context()
	p := store.OIDCProvider{ARN: "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com",
		AccountID: "111111111111", URL: "https://token.actions.githubusercontent.com",
		ClientIDs: []string{"sts.amazonaws.com"}, Thumbprints: []string{"6938fd4d98bab03faadb97b34396831e3780aea1"},
		Tags: []store.Tag{{Key: "gatehouse:role", Value: "Deploy"}}, CreatedAt: at(0)}
	must(t, s.CreateOIDCProvider(ctx, &p))
	wantErr(t, s.CreateOIDCProvider(ctx, &p), store.ErrConflict)
	sameURL := p
	sameURL.ARN += "/"
	wantErr(t, s.CreateOIDCProvider(ctx, &sameURL), store.ErrConflict)
	other := store.OIDCProvider{ARN: "arn:aws:iam::111111111111:oidc-provider/gitlab.example.com",
		AccountID: "111111111111", URL: "https://gitlab.example.com", CreatedAt: at(time.Second)}
	must(t, s.CreateOIDCProvider(ctx, &other))

	got, err := s.GetOIDCProvider(ctx, p.ARN)
	must(t, err)
	wantEqual(t, "provider", p, *got)
	_, err = s.GetOIDCProvider(ctx, "arn:aws:iam::111111111111:oidc-provider/none")
	wantErr(t, err, store.ErrNotFound)

	p.ClientIDs = append(p.ClientIDs, "gatehouse")
	p.Tags = nil
	must(t, s.UpdateOIDCProvider(ctx, &p))
	got, err = s.GetOIDCProvider(ctx, p.ARN)
	must(t, err)
	p.Tags = []store.Tag{}
	wantEqual(t, "updated provider", p, *got)

	ps, err := s.ListOIDCProviders(ctx, "111111111111")
	must(t, err)
	other.ClientIDs, other.Thumbprints, other.Tags = []string{}, []string{}, []store.Tag{}
	wantEqual(t, "providers by ARN", []store.OIDCProvider{other, p}, ps)
	ps, err = s.ListOIDCProviders(ctx, "222222222222")
	must(t, err)
	wantEqual(t, "providers of another account", []store.OIDCProvider{}, ps)

	must(t, s.DeleteOIDCProvider(ctx, p.ARN))
	wantErr(t, s.DeleteOIDCProvider(ctx, p.ARN), store.ErrNotFound)
	wantErr(t, s.UpdateOIDCProvider(ctx, &p), store.ErrNotFound)
}
