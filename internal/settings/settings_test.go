package settings_test

import (
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/domaintest"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/settings"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

func TestDefaultsThenPut(t *testing.T) {
	w := domaintest.New(t)
	s := &settings.Service{Store: w.Store, Audit: w.Audit, Now: time.Now, MaxSession: 12 * time.Hour}
	ctx := audit.WithUser(t.Context(), "u-1", "admin")
	got, err := s.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := (settings.Settings{MFAPolicy: settings.PolicyAlways, PortalSessionDuration: 8 * time.Hour}); got != want {
		t.Fatalf("defaults = %+v, want %+v", got, want)
	}
	v := settings.Settings{MFAPolicy: settings.PolicyNewBrowser, PortalSessionDuration: 12 * time.Hour}
	if err := s.Put(ctx, v); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get(ctx); err != nil || got != v {
		t.Fatalf("Get = %+v, %v; want %+v", got, err, v)
	}
	rec, err := w.Store.GetSettings(ctx)
	if err != nil || rec.UpdatedBy != "admin" {
		t.Fatalf("stored %+v, %v", rec, err)
	}
	evs, err := w.Store.ListEvents(ctx, store.EventFilter{End: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, ev := range evs {
		found = found || ev.Name == "UpdateInstanceSettings"
	}
	if !found {
		t.Error("no UpdateInstanceSettings audit event")
	}
	// The operator lowers the ceiling: the stored length is cut to it.
	s.MaxSession = time.Hour
	if got, _ := s.Get(ctx); got.PortalSessionDuration != time.Hour {
		t.Errorf("after a lower ceiling: %v, want 1h", got.PortalSessionDuration)
	}
}

func TestPutRefusesBadValues(t *testing.T) {
	w := domaintest.New(t)
	s := &settings.Service{Store: w.Store, Audit: w.Audit, Now: time.Now, MaxSession: 24 * time.Hour}
	for _, v := range []settings.Settings{
		{MFAPolicy: "sometimes", PortalSessionDuration: time.Hour},
		{MFAPolicy: "", PortalSessionDuration: time.Hour},
		{MFAPolicy: settings.PolicyOff, PortalSessionDuration: 14 * time.Minute},
		{MFAPolicy: settings.PolicyOff, PortalSessionDuration: 25 * time.Hour},
	} {
		before := w.Snap(t)
		err := s.Put(t.Context(), v)
		fe, ok := errors.AsType[*fault.Error](err)
		if !ok || fe.Kind != fault.Validation {
			t.Errorf("Put(%+v) = %v, want a ValidationException", v, err)
		}
		if after := w.Snap(t); after != before {
			t.Errorf("Put(%+v) changed the store", v)
		}
	}
}

// Init stores a starting point once and never overrides a stored choice.
func TestInit(t *testing.T) {
	w := domaintest.New(t)
	s := &settings.Service{Store: w.Store, Audit: w.Audit, Now: time.Now}
	ctx := t.Context()
	if err := s.Init(ctx, settings.PolicyOff); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(ctx); got.MFAPolicy != settings.PolicyOff {
		t.Fatalf("after Init: %+v", got)
	}
	if err := s.Put(ctx, settings.Settings{MFAPolicy: settings.PolicyAlways, PortalSessionDuration: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if err := s.Init(ctx, settings.PolicyOff); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(ctx); got.MFAPolicy != settings.PolicyAlways {
		t.Errorf("Init overrode a stored choice: %+v", got)
	}
}
