package oidcrp_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	oidcrp "github.com/gatehouse-dev/gatehouse/internal/idsource/oidc"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// TestRefusedCallbackFloodIsBounded sends callbacks with unknown state in
// parallel from one address: DefaultThrottleLimit of them are audited one
// by one, the rest are counted for the window's summary.
func TestRefusedCallbackFloodIsBounded(t *testing.T) {
	w := newWorld(t)
	const n = 3 * audit.DefaultThrottleLimit
	for _, s := range servertest.Statuses(n, func() (*http.Response, error) {
		return http.Get(w.srv.URL + oidcrp.CallbackPath + "?state=forged&code=x")
	}) {
		if s != http.StatusBadRequest {
			t.Fatalf("a forged callback answered %d, want 400", s)
		}
	}
	evs, err := w.srv.Store.ListEvents(t.Context(), store.EventFilter{End: time.Now().Add(time.Hour), Name: "UserAuthentication"})
	if err != nil {
		t.Fatal(err)
	}
	refused := 0
	for _, e := range evs {
		if e.ErrorCode == "InvalidState" {
			refused++
		}
	}
	if refused != audit.DefaultThrottleLimit {
		t.Fatalf("%d refused callbacks audited one by one, want %d", refused, audit.DefaultThrottleLimit)
	}
}
