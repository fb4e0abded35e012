package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse/internal/store"
)

func testAccountLinks(t *testing.T, s store.Store) {
	ctx := t.Context()
	if _, err := s.GetAccountLink(ctx, "111111111111"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetAccountLink before any = %v, want ErrNotFound", err)
	}
	if err := s.DeleteAccountLink(ctx, "111111111111"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("DeleteAccountLink of a missing link = %v, want ErrNotFound", err)
	}
	seq0, err := s.ChangeSeq(ctx)
	must(t, err)
	l := &store.AccountLink{
		AccountID: "222222222222", Endpoint: "http://127.0.0.1:5000", Region: "us-east-1",
		AccessKeyID: "AKIAEXAMPLE", SealedSecret: []byte{9, 8, 7}, RoleARN: "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole",
		Status: store.LinkPending, CreatedAt: t0, UpdatedAt: t0, UpdatedBy: "admin",
	}
	must(t, s.PutAccountLink(ctx, l))
	other := &store.AccountLink{AccountID: "111111111111", Region: "eu-west-1", AccessKeyID: "AKIAOTHER", SealedSecret: []byte{1},
		Status: store.LinkActive, SAMLProviderARN: "arn:aws:iam::111111111111:saml-provider/Gatehouse", CreatedAt: t0, UpdatedAt: t0}
	must(t, s.PutAccountLink(ctx, other))
	seq1, err := s.ChangeSeq(ctx)
	must(t, err)
	if seq1 <= seq0 {
		t.Fatalf("ChangeSeq did not move on PutAccountLink: %d → %d", seq0, seq1)
	}
	got, err := s.GetAccountLink(ctx, l.AccountID)
	must(t, err)
	if diff := cmp.Diff(l, got); diff != "" {
		t.Fatalf("GetAccountLink (-want +got):\n%s", diff)
	}
	// A put replaces the link.
	l.Status, l.StatusReason, l.UpdatedAt = store.LinkFailed, "AccessDenied", t0.Add(time.Minute)
	must(t, s.PutAccountLink(ctx, l))
	all, err := s.ListAccountLinks(ctx)
	must(t, err)
	if diff := cmp.Diff([]store.AccountLink{*other, *l}, all); diff != "" {
		t.Fatalf("ListAccountLinks (-want +got):\n%s", diff)
	}
	must(t, s.DeleteAccountLink(ctx, other.AccountID))
	seq2, err := s.ChangeSeq(ctx)
	must(t, err)
	if seq2 <= seq1 {
		t.Fatalf("ChangeSeq did not move on DeleteAccountLink: %d → %d", seq1, seq2)
	}
	if _, err := s.GetAccountLink(ctx, other.AccountID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetAccountLink after delete = %v", err)
	}
}
