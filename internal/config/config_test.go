package config_test

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/config"
)

func TestAuditRetention(t *testing.T) {
	file := filepath.Join(t.TempDir(), "gatehouse.yaml")
	if err := os.WriteFile(file, []byte("audit_retention: 2160h\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	tests := []struct {
		name    string
		args    []string
		getenv  func(string) string
		want    time.Duration
		wantErr string
	}{
		{"default 365 days", nil, env(), 365 * 24 * time.Hour, ""},
		{"flag", []string{"-audit-retention", "720h"}, env(), 720 * time.Hour, ""},
		{"zero keeps forever", []string{"-audit-retention", "0"}, env(), 0, ""},
		{"env", nil, env("GATEHOUSE_AUDIT_RETENTION", "48h"), 48 * time.Hour, ""},
		{"flag beats env", []string{"-audit-retention", "72h"}, env("GATEHOUSE_AUDIT_RETENTION", "48h"), 72 * time.Hour, ""},
		{"yaml", []string{"-config", file}, env(), 2160 * time.Hour, ""},
		{"too short", []string{"-audit-retention", "1h"}, env(), 0, "audit retention"},
		{"negative", []string{"-audit-retention", "-24h"}, env(), 0, "audit retention"},
		{"not a duration", []string{"-audit-retention", "365d"}, env(), 0, "audit retention"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := config.Load(tc.args, tc.getenv, io.Discard)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Load error = %v, want one about %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.AuditRetention != tc.want {
				t.Errorf("AuditRetention = %s, want %s", c.AuditRetention, tc.want)
			}
		})
	}
}
