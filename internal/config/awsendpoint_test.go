package config_test

import (
	"io"
	"strings"
	"testing"

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
