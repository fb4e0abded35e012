package config_test

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/config"
)

// TestDebugAddr: the profiling listener's address comes from the YAML file
// (debug_addr), the environment (GATEHOUSE_DEBUG_ADDR) or the flag
// (--debug-addr), each overriding the one before; it is off by default,
// and any address but a loopback IP literal with a port is refused.
func TestDebugAddr(t *testing.T) {
	getenv := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }
	file := filepath.Join(t.TempDir(), "gatehouse.yaml")
	if err := os.WriteFile(file, []byte("debug_addr: 127.0.0.1:6060\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"off", nil, nil, ""},
		{"yaml", []string{"-config", file}, nil, "127.0.0.1:6060"},
		{"env over yaml", []string{"-config", file}, map[string]string{"GATEHOUSE_DEBUG_ADDR": "[::1]:6061"}, "[::1]:6061"},
		{"flag over env", []string{"-debug-addr", "127.0.0.2:0"}, map[string]string{"GATEHOUSE_DEBUG_ADDR": "[::1]:6061"}, "127.0.0.2:0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := config.Load(tc.args, getenv(tc.env), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if c.DebugAddr != tc.want {
				t.Fatalf("DebugAddr %q, want %q", c.DebugAddr, tc.want)
			}
		})
	}
	for _, bad := range []string{":6060", "0.0.0.0:6060", "[::]:6060", "192.0.2.1:6060", "localhost:6060", "gatehouse.example:6060", "127.0.0.1"} {
		_, err := config.Load([]string{"-debug-addr", bad}, getenv(nil), io.Discard)
		if err == nil || !strings.Contains(err.Error(), "debug-addr") {
			t.Errorf("-debug-addr %q: %v, want a refusal naming the setting", bad, err)
		}
	}
	var help strings.Builder
	config.Load([]string{"-h"}, getenv(nil), &help)
	if !strings.Contains(help.String(), "-debug-addr") || !strings.Contains(help.String(), "GATEHOUSE_DEBUG_ADDR") {
		t.Fatalf("help does not list --debug-addr:\n%s", help.String())
	}
}
