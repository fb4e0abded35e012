package server_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/server"
)

// TestReadyzProberGone: a readiness probe whose client went away before
// the store answered (its context cancelled, as net/http does when the
// connection closes) is logged at Debug as "client went away", as every
// other handler logs it, not at Error.
func TestReadyzProberGone(t *testing.T) {
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	var logs bytes.Buffer
	srv, err := server.New(t.Context(), cfg, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	h := srv.Handler()

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), "GET", "/readyz", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /readyz: %d %s, want 200", rec.Code, rec.Body)
	}

	logs.Reset()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, "GET", "/readyz", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("GET /readyz with a cancelled context: %d, want 503", rec.Code)
	}
	got := logs.String()
	if strings.Contains(got, "level=ERROR") {
		t.Errorf("prober gone logged at Error:\n%s", got)
	}
	if !strings.Contains(got, `level=DEBUG msg="client went away"`) {
		t.Errorf("prober gone not logged as client went away:\n%s", got)
	}
}
