package server_test

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/server"
)

// TestMasterKeyOutsideDataFolder starts the server with the master key file
// outside the data folder: the key is created there and nowhere in the
// folder, a restart opens the sealed keys with it, and only a key kept
// beside the SQLite database draws the start-up warning.
func TestMasterKeyOutsideDataFolder(t *testing.T) {
	start := func(t *testing.T, cfg config.Config) string {
		t.Helper()
		var logs bytes.Buffer
		srv, err := server.New(t.Context(), cfg, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo})))
		if err != nil {
			t.Fatalf("server.New: %v", err)
		}
		if err := srv.Close(); err != nil {
			t.Fatal(err)
		}
		return logs.String()
	}
	base := func(t *testing.T) config.Config {
		cfg := config.Default()
		cfg.DataDir = filepath.Join(t.TempDir(), "data")
		return cfg
	}
	const warning = "the master key file is in the data folder beside the database"

	t.Run("default beside the database warns", func(t *testing.T) {
		cfg := base(t)
		if logs := start(t, cfg); !strings.Contains(logs, warning) {
			t.Errorf("no warning with the key in the data folder:\n%s", logs)
		}
		if _, err := os.Stat(filepath.Join(cfg.DataDir, "master.key")); err != nil {
			t.Errorf("default key file: %v", err)
		}
	})
	t.Run("elsewhere", func(t *testing.T) {
		cfg := base(t)
		cfg.MasterKeyFile = filepath.Join(t.TempDir(), "secrets", "gatehouse.key")
		if logs := start(t, cfg); strings.Contains(logs, warning) {
			t.Errorf("warning with the key outside the data folder:\n%s", logs)
		}
		fi, err := os.Stat(cfg.MasterKeyFile)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("key file %s: %v (mode %v), want it created with mode 0600", cfg.MasterKeyFile, err, fi)
		}
		if _, err := os.Stat(filepath.Join(cfg.DataDir, "master.key")); !os.IsNotExist(err) {
			t.Errorf("a master.key was written to the data folder too: %v", err)
		}
		entries, _ := os.ReadDir(cfg.DataDir)
		for _, e := range entries {
			if strings.Contains(e.Name(), "key") {
				t.Errorf("data folder holds %s", e.Name())
			}
		}
		key1, _ := os.ReadFile(cfg.MasterKeyFile)
		start(t, cfg) // the sealed keys open with the same file
		key2, _ := os.ReadFile(cfg.MasterKeyFile)
		if !bytes.Equal(key1, key2) {
			t.Error("master key file changed across restarts")
		}
		// Without the key file the folder alone cannot be opened: a fresh
		// key does not unseal the stored keys.
		other := cfg
		other.MasterKeyFile = filepath.Join(t.TempDir(), "other.key")
		if _, err := server.New(t.Context(), other, slog.New(slog.DiscardHandler)); err == nil {
			t.Error("the data folder opened with another master key")
		}
	})
}
