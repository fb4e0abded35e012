package saml_test

import (
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/server"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// TestRefusalFloodSummaryOutlivesRestart: a replica that stops in the
// middle of a flood (a deploy) records how many refusals it did not record
// one by one, instead of losing the count with its memory.
func TestRefusalFloodSummaryOutlivesRestart(t *testing.T) {
	w := newWorld(t, nil, nil)
	const n = 2 * audit.DefaultThrottleLimit
	floodACS(t, w, n)
	w.srv.HTTP.Close()
	if err := w.srv.Server.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := server.New(t.Context(), w.srv.Server.Config, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	evs, err := again.Store.ListEvents(t.Context(), store.EventFilter{Name: "UserAuthentication", End: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, e := range evs {
		if strings.Contains(string(e.Record), `"errorCode":"EventsNotRecorded"`) {
			found = true
			if !strings.Contains(string(e.Record), `"notRecorded":20`) {
				t.Errorf("summary: %s", e.Record)
			}
		}
	}
	if !found {
		t.Fatalf("no summary of the %d refusals not recorded one by one after the replica stopped", n-audit.DefaultThrottleLimit)
	}
}
