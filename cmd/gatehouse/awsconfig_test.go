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

func TestAWSConfig(t *testing.T) {
	dir := t.TempDir()
	getenv := env(map[string]string{"GATEHOUSE_DEMO_PASSWORD": "demo-password-1"})
	banner, stop := startServe(t, []string{"--data", dir, "--listen", "127.0.0.1:0", "--demo"}, getenv)
	stop()
	startURL := field(t, banner, `Start URL:\s+(\S+)`)

	cfgFile := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(cfgFile, []byte("[profile other]\nregion = eu-west-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"aws-config", "--data", dir, "--user", "ed.developer", "--url", "http://gatehouse.test:7080/", "--write", cfgFile}
	for range 2 { // a second run replaces the sections instead of adding them again
		var out bytes.Buffer
		if err := run(t.Context(), args, &out, io.Discard, getenv); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), "profile dev: account 111111111111, role PowerUserAccess") {
			t.Fatalf("output:\n%s", out.String())
		}
	}
	data, _ := os.ReadFile(cfgFile)
	text := string(data)
	for _, want := range []string{
		"[profile other]\nregion = eu-west-1\n",
		"[sso-session gatehouse]\nsso_start_url = " + startURL + "\nsso_region = us-east-1\nsso_registration_scopes = sso:account:access\n",
		"[services gatehouse]\nsso_oidc =\n  endpoint_url = http://gatehouse.test:7080\n",
		"[profile dev]\nsso_session = gatehouse\nsso_account_id = 111111111111\nsso_role_name = PowerUserAccess\nregion = us-east-1\nservices = gatehouse\n",
		"[profile dev-viewonly]\nsso_session = gatehouse\nsso_account_id = 111111111111\nsso_role_name = ViewOnlyAccess\n",
		"[profile prod]\nsso_session = gatehouse\nsso_account_id = 222222222222\nsso_role_name = ReadOnlyAccess\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("config lacks %q:\n%s", want, text)
		}
	}
	for _, h := range []string{"[profile dev]", "[sso-session gatehouse]", "[services gatehouse]"} {
		if n := strings.Count(text, h); n != 1 {
			t.Errorf("%s appears %d times:\n%s", h, n, text)
		}
	}

	models := t.TempDir()
	var out bytes.Buffer
	if err := run(t.Context(), []string{"aws-config", "--models", models, "--url", "http://127.0.0.1:7080"}, &out, io.Discard, getenv); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"sso-oidc/2019-06-10", "sso/2019-06-10", "sts/2011-06-15", "iam/2010-05-08", "sso-admin/2020-07-20", "identitystore/2020-06-15"} {
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
	if err := run(t.Context(), []string{"aws-config", "--data", dir, "--env", "--url", "http://127.0.0.1:7080"}, &out, io.Discard, getenv); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "AWS_ENDPOINT_URL_SSO_OIDC=http://127.0.0.1:7080\n") || !strings.Contains(out.String(), "AWS_ENDPOINT_URL_STS=http://127.0.0.1:7080\n") {
		t.Errorf("--env output:\n%s", out.String())
	}
	if err := run(t.Context(), []string{"aws-config", "--data", dir, "--user", "nobody"}, io.Discard, io.Discard, getenv); err == nil || !strings.Contains(err.Error(), `no user named "nobody"`) {
		t.Errorf("unknown user: %v", err)
	}
	if err := run(t.Context(), []string{"aws-config", "--data", t.TempDir(), "--user", "ed.developer"}, io.Discard, io.Discard, getenv); err == nil || !strings.Contains(err.Error(), "no instance yet") {
		t.Errorf("empty data folder: %v", err)
	}
}
