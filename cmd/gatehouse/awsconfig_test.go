package main

import (
	"bytes"
	"encoding/json"
	"github.com/gatehouse-dev/gatehouse/internal/clientconfig"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
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

// TestAWSConfigURLMistakes: each way of giving --url wrong gets a message
// that says what is wrong and what to pass instead, and nothing else.
func TestAWSConfigURLMistakes(t *testing.T) {
	getenv := env(map[string]string{"HOME": t.TempDir()})
	notGatehouse := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(notGatehouse.Close)
	const startURL = "https://d-0123456789.awsapps.com/start"
	for _, tt := range []struct {
		name     string
		args     []string
		want     []string
		dontWant []string
	}{
		{"start URL", []string{"--url", startURL},
			[]string{"is the start URL", "not the Gatehouse server's address", `"Access portal"`}, []string{"discover"}},
		{"start URL with --env", []string{"--env", "--url", startURL + "/"},
			[]string{"is the start URL"}, nil},
		{"start URL, upper case", []string{"--url", "https://D-0123456789.AWSAPPS.COM/start#/"},
			[]string{"is the start URL"}, nil},
		// Nothing listens on port 9.
		{"connection refused", []string{"--url", "http://127.0.0.1:9"},
			[]string{"cannot reach the Gatehouse server at http://127.0.0.1:9", "connection refused", `"Access portal"`}, []string{"--start-url", "--region"}},
		{"not a Gatehouse", []string{"--url", notGatehouse.URL},
			[]string{notGatehouse.URL + " answers /.well-known/gatehouse-configuration with 404 Not Found", "--start-url and --region"}, []string{"HTTP404", "(HTTP 404)"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(t.Context(), append([]string{"aws-config"}, tt.args...), &out, io.Discard, getenv)
			if err == nil {
				t.Fatalf("aws-config %v succeeded:\n%s", tt.args, out.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("aws-config %v: %v\nwant it to contain %q", tt.args, err, w)
				}
			}
			for _, w := range tt.dontWant {
				if strings.Contains(err.Error(), w) {
					t.Errorf("aws-config %v: %v\nwant no %q", tt.args, err, w)
				}
			}
		})
	}
}

// fakeCLI writes an executable `aws` into dir that prints version.
func fakeCLI(t *testing.T, dir, version string) string {
	t.Helper()
	p := filepath.Join(dir, "aws")
	script := "#!/bin/sh\necho '" + version + "'\n"
	if version == "" {
		script = "#!/bin/sh\necho 'Traceback: No module named awscli' >&2\nexit 1\n"
	}
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestAWSConfigChecksEveryCLI: with two AWS CLIs on PATH, a v1 on a new
// botocore first and Debian's 2.9 after it, the rule-set files are needed
// because of the second; every CLI checked is named with its version, also
// when nothing is needed, and one that answers no version needs them too.
func TestAWSConfigChecksEveryCLI(t *testing.T) {
	v1, v2old, v2new, broken := t.TempDir(), t.TempDir(), t.TempDir(), t.TempDir()
	p1 := fakeCLI(t, v1, "aws-cli/1.45.11 Python/3.11.7 Linux/6.1 botocore/1.43.11")
	p2 := fakeCLI(t, v2old, "aws-cli/2.9.19 Python/3.11.2 Linux/6.1 source/x86_64.debian.12 prompt/off")
	p3 := fakeCLI(t, v2new, "aws-cli/2.31.2 Python/3.13.7 Linux/6.1 exe/x86_64.ubuntu.24")
	p4 := fakeCLI(t, broken, "")
	// A link to a CLI already listed is the same CLI.
	linkDir := t.TempDir()
	if err := os.Symlink(p1, filepath.Join(linkDir, "aws")); err != nil {
		t.Fatal(err)
	}
	list := func(dirs ...string) string { return strings.Join(dirs, string(filepath.ListSeparator)) }
	for _, tt := range []struct {
		name     string
		awsCLI   string
		path     string
		extra    []string
		need     bool
		want     []string
		dontWant []string
	}{
		{"v1 first, old v2 second", "aws", list(v1, t.TempDir(), linkDir, v2old), nil, true,
			[]string{"Checked 2 AWS CLI(s)", p1 + ": AWS CLI 1.45.11 (botocore 1.43) reads [services]", p2 + ": AWS CLI 2.9.19 reads no [services] section", "Writing the endpoint rule-set files"}, nil},
		{"old v2 only in a well-known place", "aws", list(v1, v2new), []string{filepath.Join(v2old, "aws"), "/nonexistent/aws"}, true,
			[]string{"Checked 3 AWS CLI(s)", p3 + ": AWS CLI 2.31.2 reads [services]", p2 + ": AWS CLI 2.9.19 reads no"}, nil},
		{"all new", "aws", list(v1, v2new), nil, false,
			[]string{"Checked 2 AWS CLI(s)", p1, p3, "No endpoint rule-set files needed"}, []string{"Writing"}},
		{"unreadable version", "aws", list(v2new, broken), nil, true,
			[]string{p4 + ": version unreadable", "Writing the endpoint rule-set files"}, nil},
		{"explicit path checks only it", p3, list(v2old), nil, false,
			[]string{"Checked 1 AWS CLI(s)", p3}, []string{p2}},
		{"none", "aws", list(t.TempDir()), nil, true,
			[]string{"No AWS CLI found (aws)"}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			need, report := ruleSetReport(tt.awsCLI, checkCLIs(t.Context(), findCLIs(tt.awsCLI, tt.path, tt.extra)))
			if need != tt.need {
				t.Errorf("need = %v, want %v", need, tt.need)
			}
			for _, w := range tt.want {
				if !strings.Contains(report, w) {
					t.Errorf("report lacks %q:\n%s", w, report)
				}
			}
			for _, w := range tt.dontWant {
				if strings.Contains(report, w) {
					t.Errorf("report has %q:\n%s", w, report)
				}
			}
		})
	}
}

// TestUserGuideEndpointVariables: the user guide lists exactly the
// AWS_ENDPOINT_URL_* variables that `aws-config --env` (and the banner)
// print, in the same order.
func TestUserGuideEndpointVariables(t *testing.T) {
	guide, err := os.ReadFile(filepath.Join("..", "..", "docs", "user-guide.md"))
	if err != nil {
		t.Fatal(err)
	}
	var documented []string
	for _, m := range regexp.MustCompile(`(?m)^export (AWS_ENDPOINT_URL_[A-Z_]+)=`).FindAllStringSubmatch(string(guide), -1) {
		documented = append(documented, m[1])
	}
	var out bytes.Buffer
	if err := run(t.Context(), []string{"aws-config", "--env", "--url", "http://127.0.0.1:7080"}, &out, io.Discard, env(nil)); err != nil {
		t.Fatal(err)
	}
	var printed []string
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		name, _, _ := strings.Cut(line, "=")
		printed = append(printed, name)
	}
	if strings.Join(documented, " ") != strings.Join(printed, " ") {
		t.Errorf("docs/user-guide.md lists %v; aws-config --env prints %v", documented, printed)
	}
}

// TestTryHintLinkedEndpoint: the closing hint gives --endpoint-url for a
// profile whose account is linked to an IAM/STS endpoint other than AWS,
// where alone its credentials work, and nothing more otherwise.
func TestTryHintLinkedEndpoint(t *testing.T) {
	dev := clientconfig.Profile{Name: "dev", AccountID: "111111111111", RoleName: "Admin"}
	for _, c := range []struct {
		name      string
		profiles  []clientconfig.Profile
		endpoints map[string]string
		want      string
	}{
		{"none", nil, nil, ""},
		{"gatehouse account", []clientconfig.Profile{dev}, map[string]string{"222222222222": "http://127.0.0.1:5000"},
			"Try: aws sts get-caller-identity --profile dev\n"},
		{"linked to moto", []clientconfig.Profile{dev}, map[string]string{"111111111111": "http://127.0.0.1:5000"},
			"Try: aws sts get-caller-identity --profile dev --endpoint-url http://127.0.0.1:5000\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := tryHint(c.profiles, c.endpoints); got != c.want {
				t.Errorf("tryHint = %q, want %q", got, c.want)
			}
		})
	}
}
