package server_test

import (
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/server"
)

// TestDataFolderLock: a second open of the same SQLite data folder (serve
// or migrate) is refused while the first is open, with an error naming the
// folder; closing the first frees it. flock(2) locks belong to the open
// file description, so two opens in one process conflict as two processes
// do (cmd/gatehouse tests it with real processes).
func TestDataFolderLock(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	first, err := server.OpenStore(t.Context(), &cfg)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		second, err := server.OpenStore(t.Context(), &cfg)
		if err == nil {
			second.Close()
			first.Close()
			t.Fatal("a second open of the data folder succeeded")
		}
		inUse, ok := errors.AsType[*server.DataDirInUseError](err)
		if !ok || inUse.Dir != cfg.DataDir || !strings.Contains(err.Error(), cfg.DataDir) || !strings.Contains(err.Error(), "in use by another Gatehouse") {
			t.Fatalf("second open: %v, want a *DataDirInUseError naming %s", err, cfg.DataDir)
		}
	}
	// The whole server refuses too.
	if _, err := server.New(t.Context(), cfg, slog.New(slog.DiscardHandler)); !isInUse(err) {
		t.Errorf("server.New on a folder in use: %v", err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := server.OpenStore(t.Context(), &cfg)
	if err != nil {
		t.Fatalf("open after the first was closed: %v", err)
	}
	again.Close()
}

func isInUse(err error) bool {
	_, ok := errors.AsType[*server.DataDirInUseError](err)
	return ok
}
