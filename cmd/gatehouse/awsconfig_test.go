package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAWSConfigWithoutSignIn covers the modes that need no server: the
// rule-set files, the environment variables, and the refusal of the flags
// that used to open the server's database. The sign-in itself is tested
// end to end in e2e (TestAWSConfigFromALaptop).
func TestAWSConfigWithoutSignIn(t *testing.T) {
	getenv := env(map[string]string{"HOME": t.TempDir()})
	models := t.TempDir()
	var out bytes.Buffer
	if err := run(t.Context(), []string{"aws-config", "--models", models, "--url", "http://127.0.0.1:7080"}, &out, io.Discard, getenv); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"sso-oidc/2019-06-10", "sso/2019-06-10", "sts/2011-06-15", "iam/2010-05-08", "sso-admin/2020-07-20", "identitystore/2020-06-15", "organizations/2016-11-28", "cloudtrail/2013-11-01"} {
		data, err := os.ReadFile(filepath.Join(models, f, "endpoint-rule-set-1.json"))
		if err != nil {
			t.Fatalf("rule set %s: %v", f, err)
		}
		var rs struct {
			Rules []struct {
				Endpoint struct{ URL any }
			}
		}
		if err := json.Unmarshal(data, &rs); err != nil || len(rs.Rules) != 2 || rs.Rules[1].Endpoint.URL != "http://127.0.0.1:7080" {
			t.Errorf("rule set %s = %s (%v)", f, data, err)
		}
	}

	out.Reset()
	if err := run(t.Context(), []string{"aws-config", "--env", "--url", "http://127.0.0.1:7080/"}, &out, io.Discard, getenv); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "AWS_ENDPOINT_URL_SSO_OIDC=http://127.0.0.1:7080\n") || !strings.Contains(out.String(), "AWS_ENDPOINT_URL_STS=http://127.0.0.1:7080\n") {
		t.Errorf("--env output:\n%s", out.String())
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--data", t.TempDir(), "--user", "ed.developer"}, "no longer reads the server's database"},
		{[]string{"--user", "ed.developer", "--url", "http://127.0.0.1:7080"}, "no longer reads the server's database"},
		{nil, "needs --url"},
		{[]string{"--url", "gatehouse.example"}, "want an http:// or https:// URL"},
		// Nothing listens on port 9: discovery fails with a clear error.
		{[]string{"--url", "http://127.0.0.1:9"}, "discover http://127.0.0.1:9"},
	} {
		err := run(t.Context(), append([]string{"aws-config"}, tt.args...), io.Discard, io.Discard, getenv)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("aws-config %v: %v, want an error containing %q", tt.args, err, tt.want)
		}
	}
	if err := run(t.Context(), []string{"aws-config", "-h"}, io.Discard, io.Discard, getenv); err != nil {
		t.Errorf("aws-config -h: %v", err)
	}
}
