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

func TestMasterKeyFileSetting(t *testing.T) {
	dir := t.TempDir()
	yamlFile := filepath.Join(dir, "gatehouse.yaml")
	if err := os.WriteFile(yamlFile, []byte("data: /var/lib/gatehouse\nmaster_key_file: /etc/gatehouse/from-yaml.key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		args    []string
		env     map[string]string
		path    string
		beside  bool
		wantErr string
	}{
		{name: "default", args: []string{"-data", "/var/lib/gatehouse"}, path: "/var/lib/gatehouse/master.key", beside: true},
		{name: "flag", args: []string{"-data", "/var/lib/gatehouse", "-master-key-file", "/etc/gatehouse/master.key"}, path: "/etc/gatehouse/master.key"},
		{name: "env", args: []string{"-data", "/var/lib/gatehouse"}, env: map[string]string{"GATEHOUSE_MASTER_KEY_FILE": "/run/secrets/gatehouse-key"}, path: "/run/secrets/gatehouse-key"},
		{name: "yaml", args: []string{"-config", yamlFile}, path: "/etc/gatehouse/from-yaml.key"},
		{name: "flag over env", args: []string{"-master-key-file", "/a.key"}, env: map[string]string{"GATEHOUSE_MASTER_KEY_FILE": "/b.key"}, path: "/a.key"},
		{name: "explicit file inside the data folder", args: []string{"-data", "/var/lib/gatehouse", "-master-key-file", "/var/lib/gatehouse/keys/master.key"},
			path: "/var/lib/gatehouse/keys/master.key", beside: true},
		{name: "sibling folder with a common prefix", args: []string{"-data", "/var/lib/gatehouse", "-master-key-file", "/var/lib/gatehouse-keys/master.key"},
			path: "/var/lib/gatehouse-keys/master.key"},
		{name: "PostgreSQL keeps no database in the folder", args: []string{"-data", "/var/lib/gatehouse", "-database-url", "postgres://db/gatehouse"},
			path: "/var/lib/gatehouse/master.key"},
		{name: "key in the environment", args: []string{"-data", "/var/lib/gatehouse"}, env: map[string]string{"GATEHOUSE_MASTER_KEY": "AAAA"},
			path: "/var/lib/gatehouse/master.key"},
		{name: "both key and file", args: []string{"-master-key-file", "/a.key"}, env: map[string]string{"GATEHOUSE_MASTER_KEY": "AAAA"},
			wantErr: "master key: set GATEHOUSE_MASTER_KEY or master-key-file, not both"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := config.Load(tc.args, func(k string) string { return tc.env[k] }, io.Discard)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Load = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.MasterKeyPath(); got != tc.path {
				t.Errorf("MasterKeyPath = %q, want %q", got, tc.path)
			}
			if got := c.MasterKeyBesideDatabase(); got != tc.beside {
				t.Errorf("MasterKeyBesideDatabase = %t, want %t", got, tc.beside)
			}
		})
	}
}

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
