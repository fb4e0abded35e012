package config_test

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse/internal/config"
)

// TestAWSEndpoint: --aws-endpoint goes with --demo and must be a URL; the
// access key comes from a flag or the environment, the secret from the
// environment only, and neither prints.
func TestAWSEndpoint(t *testing.T) {
	getenv := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }
	c, err := config.Load([]string{"-demo", "-aws-endpoint", "http://127.0.0.1:5000", "-aws-access-key-id", "AKIAFLAGFLAGFLAGFLAG"},
		getenv(map[string]string{"GATEHOUSE_AWS_SECRET_ACCESS_KEY": "s3cr3t-from-env"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.AWSEndpoint != "http://127.0.0.1:5000" || c.AWSAccessKeyID != "AKIAFLAGFLAGFLAGFLAG" || string(c.AWSSecretAccessKey) != "s3cr3t-from-env" {
		t.Fatalf("config = %q %q", c.AWSEndpoint, c.AWSAccessKeyID)
	}
	c, err = config.Load(nil, getenv(map[string]string{"GATEHOUSE_DEMO": "true", "GATEHOUSE_AWS_ENDPOINT": "http://moto:5000",
		"GATEHOUSE_AWS_ACCESS_KEY_ID": "AKIAENVENVENVENVENV1"}), io.Discard)
	if err != nil || c.AWSEndpoint != "http://moto:5000" || c.AWSAccessKeyID != "AKIAENVENVENVENVENV1" {
		t.Fatalf("env config = %+v, %v", c.AWSEndpoint, err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"without demo", []string{"-aws-endpoint", "http://127.0.0.1:5000"}, "goes with --demo"},
		{"not a URL", []string{"-demo", "-aws-endpoint", "127.0.0.1:5000"}, "not an http or https URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Load(tc.args, getenv(nil), io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	// There is no flag for the secret.
	if _, err := config.Load([]string{"-demo", "-aws-secret-access-key", "x"}, getenv(nil), io.Discard); err == nil {
		t.Fatal("a secret flag was accepted")
	}
}

// TestAWSEndpointAllow: the allow-list comes from the YAML file, the
// environment (comma-separated) or the flag (repeated or comma-separated),
// the later replacing the earlier; each entry must be an endpoint URL, and
// --demo's --aws-endpoint joins it.
func TestAWSEndpointAllow(t *testing.T) {
	getenv := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }
	file := filepath.Join(t.TempDir(), "gatehouse.yaml")
	if err := os.WriteFile(file, []byte("aws_endpoint_allow:\n  - http://yaml-a:5000\n  - https://yaml-b\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want []string
	}{
		{"none", nil, nil, nil},
		{"yaml", []string{"-config", file}, nil, []string{"http://yaml-a:5000", "https://yaml-b"}},
		{"env over yaml", []string{"-config", file}, map[string]string{"GATEHOUSE_AWS_ENDPOINT_ALLOW": "http://env-a:1, http://env-b:2"},
			[]string{"http://env-a:1", "http://env-b:2"}},
		{"flag over env", []string{"-aws-endpoint-allow", "http://flag-a:1,http://flag-b:2", "-aws-endpoint-allow", "http://flag-c:3"},
			map[string]string{"GATEHOUSE_AWS_ENDPOINT_ALLOW": "http://env-a:1"}, []string{"http://flag-a:1", "http://flag-b:2", "http://flag-c:3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := config.Load(tc.args, getenv(tc.env), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, c.AWSEndpointAllow); diff != "" {
				t.Fatalf("AWSEndpointAllow (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, c.AWSEndpointsAllowed()); diff != "" {
				t.Fatalf("AWSEndpointsAllowed (-want +got):\n%s", diff)
			}
		})
	}
	c, err := config.Load([]string{"-demo", "-aws-endpoint", "http://127.0.0.1:5000", "-aws-endpoint-allow", "http://other:1"}, getenv(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"http://other:1", "http://127.0.0.1:5000"}, c.AWSEndpointsAllowed()); diff != "" {
		t.Fatalf("with --demo --aws-endpoint (-want +got):\n%s", diff)
	}
	for _, bad := range []string{"http://user@evil:1", "ftp://x", "http://evil:1/path", "evil:1"} {
		if _, err := config.Load([]string{"-aws-endpoint-allow", bad}, getenv(nil), io.Discard); err == nil || !strings.Contains(err.Error(), "aws-endpoint-allow") {
			t.Errorf("-aws-endpoint-allow %q: %v, want a refusal naming the setting", bad, err)
		}
	}
	// The help names the flag and its variable.
	var help strings.Builder
	config.Load([]string{"-h"}, getenv(nil), &help)
	if !strings.Contains(help.String(), "-aws-endpoint-allow") || !strings.Contains(help.String(), "GATEHOUSE_AWS_ENDPOINT_ALLOW") {
		t.Fatalf("help does not list the allow-list:\n%s", help.String())
	}
}
