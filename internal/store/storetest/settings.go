package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/store"
)

func testSettings(t *testing.T, s store.Store) {
	ctx := t.Context()
	if _, err := s.GetSettings(ctx); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetSettings before any = %v, want ErrNotFound", err)
	}
	first := &store.Settings{MFAPolicy: "always", PortalSessionDuration: 8 * time.Hour, UpdatedAt: t0, UpdatedBy: "admin"}
	must(t, s.PutSettings(ctx, first))
	got, err := s.GetSettings(ctx)
	must(t, err)
	if *got != *first {
		t.Fatalf("GetSettings = %+v, want %+v", got, first)
	}
	// A second put replaces them; a rolled-back one changes nothing.
	second := &store.Settings{MFAPolicy: "new-browser", PortalSessionDuration: 90 * time.Minute, UpdatedAt: t0.Add(time.Second), UpdatedBy: "other"}
	must(t, s.PutSettings(ctx, second))
	errBack := errors.New("back")
	err = s.Update(ctx, func(tx store.Tx) error {
		if err := tx.PutSettings(ctx, &store.Settings{MFAPolicy: "off", PortalSessionDuration: time.Hour, UpdatedAt: t0}); err != nil {
			return err
		}
		return errBack
	})
	if !errors.Is(err, errBack) {
		t.Fatalf("Update = %v", err)
	}
	got, err = s.GetSettings(ctx)
	must(t, err)
	if *got != *second {
		t.Fatalf("GetSettings = %+v, want %+v", got, second)
	}
}
