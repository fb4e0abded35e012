package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse/internal/store"
)

func testIdentitySources(t *testing.T, s store.Store) {
	ctx := t.Context()
	if _, err := s.GetIdentitySource(ctx, "saml"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetIdentitySource before any = %v, want ErrNotFound", err)
	}
	if err := s.ActivateIdentitySource(ctx, "saml"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ActivateIdentitySource of a kind never stored = %v, want ErrNotFound", err)
	}
	saml := &store.IdentitySource{Kind: "saml", Settings: map[string]string{"metadata": "<x/>", "name": "Okta"},
		SealedSecret: []byte{1, 2, 3}, UpdatedAt: t0, UpdatedBy: "admin"}
	must(t, s.PutIdentitySource(ctx, saml))
	oidc := &store.IdentitySource{Kind: "oidc", Settings: map[string]string{"issuer": "https://idp.example"}, UpdatedAt: t0, UpdatedBy: "admin"}
	must(t, s.PutIdentitySource(ctx, oidc))
	got, err := s.GetIdentitySource(ctx, "saml")
	must(t, err)
	if diff := cmp.Diff(saml, got); diff != "" {
		t.Fatalf("GetIdentitySource (-want +got):\n%s", diff)
	}

	// Activating one deactivates the others; a put keeps the flag.
	must(t, s.ActivateIdentitySource(ctx, "oidc"))
	must(t, s.ActivateIdentitySource(ctx, "saml"))
	saml.Settings = map[string]string{"metadata": "<y/>"}
	saml.SealedSecret = nil
	saml.UpdatedAt = t0.Add(time.Minute)
	must(t, s.PutIdentitySource(ctx, saml))
	all, err := s.ListIdentitySources(ctx)
	must(t, err)
	saml.Active = true
	want := []store.IdentitySource{*oidc, *saml}
	if diff := cmp.Diff(want, all); diff != "" {
		t.Fatalf("ListIdentitySources (-want +got):\n%s", diff)
	}

	// "directory" deactivates every source; a rolled-back activation
	// changes nothing.
	errBack := errors.New("back")
	err = s.Update(ctx, func(tx store.Tx) error {
		if err := tx.ActivateIdentitySource(ctx, "oidc"); err != nil {
			return err
		}
		return errBack
	})
	if !errors.Is(err, errBack) {
		t.Fatalf("Update = %v", err)
	}
	if got, err := s.GetIdentitySource(ctx, "saml"); err != nil || !got.Active {
		t.Fatalf("after a rolled-back activation saml = %+v, %v; want active", got, err)
	}
	must(t, s.ActivateIdentitySource(ctx, "directory"))
	all, err = s.ListIdentitySources(ctx)
	must(t, err)
	for _, src := range all {
		if src.Active {
			t.Fatalf("after activating the directory %s is still active", src.Kind)
		}
	}
}
