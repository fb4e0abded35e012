package clientconfig

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// botocoreProfiles parses a config file with the image's botocore exactly
// as every client does (botocore.configloader.load_config over the strict
// raw_config_parse) and returns its profiles as "name account role" lines,
// or fails the test with botocore's error.
func botocoreProfiles(t *testing.T, text string) []string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skipf("python3 with botocore is not installed: %v", err)
	}
	p := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	const script = `
import sys
from botocore.configloader import load_config, raw_config_parse
raw_config_parse(sys.argv[1])
cfg = load_config(sys.argv[1])
for name, p in sorted(cfg["profiles"].items()):
    print(name, p.get("sso_account_id", "-"), p.get("sso_role_name", "-"), p.get("services", "-"))
for name in sorted(cfg.get("sso_sessions", {})):
    print("sso-session", name)
`
	out, err := exec.CommandContext(t.Context(), py, "-c", script, p).CombinedOutput()
	if err != nil {
		t.Fatalf("botocore refuses the file: %v\n%s\nfile:\n%s", err, out, text)
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

// configText renders what aws-config writes for roles: the sso-session,
// the [services] section and one profile per role.
func configText(roles []Role, existing string) string {
	s := Session{Name: "gatehouse", StartURL: "https://d-0123456789.awsapps.com/start", Region: "us-east-1", BaseURL: "http://127.0.0.1:7080"}
	headers := []string{"[sso-session gatehouse]", "[services gatehouse]"}
	add := map[string]string{headers[0]: s.SessionSection(), headers[1]: s.ServicesSection()}
	for _, p := range Profiles(roles, "us-east-1", ForeignProfiles(existing, "gatehouse")) {
		h := "[profile " + p.Name + "]"
		headers = append(headers, h)
		add[h] = p.Section(s)
	}
	return Merge(existing, headers, add)
}

func TestProfileNamesUniqueForBotocore(t *testing.T) {
	tests := []struct {
		name  string
		roles []Role
		want  []string
	}{
		{
			name: "two accounts with the same name",
			roles: []Role{
				{AccountID: "111111111111", AccountName: "shared", RoleName: "AdminAccess"},
				{AccountID: "222222222222", AccountName: "shared", RoleName: "AdminAccess"},
			},
			want: []string{
				"shared-111111111111 111111111111 AdminAccess gatehouse",
				"shared-222222222222 222222222222 AdminAccess gatehouse",
			},
		},
		{
			name: "cleaned names coincide",
			roles: []Role{
				{AccountID: "111111111111", AccountName: "sandbox", RoleName: "AdminAccess"},
				{AccountID: "111111111111", AccountName: "sandbox", RoleName: "ReadOnly"},
				{AccountID: "222222222222", AccountName: "Sandbox ReadOnly", RoleName: "Admin"},
				{AccountID: "333333333333", AccountName: "sandbox-readonly", RoleName: "Admin"},
			},
			want: []string{
				"sandbox 111111111111 AdminAccess gatehouse",
				"sandbox-readonly-111111111111 111111111111 ReadOnly gatehouse",
				"sandbox-readonly-222222222222 222222222222 Admin gatehouse",
				"sandbox-readonly-333333333333 333333333333 Admin gatehouse",
			},
		},
		{
			name: "two roles of one account clean alike",
			roles: []Role{
				{AccountID: "111111111111", AccountName: "dev", RoleName: "Admin"},
				{AccountID: "111111111111", AccountName: "dev", RoleName: "Read Only"},
				{AccountID: "111111111111", AccountName: "dev", RoleName: "read-only"},
			},
			want: []string{
				"dev 111111111111 Admin gatehouse",
				"dev-read-only-111111111111 111111111111 Read Only gatehouse",
				"dev-read-only-111111111111-2 111111111111 read-only gatehouse",
			},
		},
		{
			name: "an account without a usable name",
			roles: []Role{
				{AccountID: "111111111111", AccountName: "", RoleName: "Admin"},
			},
			want: []string{"111111111111 111111111111 Admin gatehouse"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := botocoreProfiles(t, configText(tt.roles, ""))
			want := append(tt.want, "sso-session gatehouse")
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("botocore reads profiles\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

func TestMergeNeverWritesASectionTwice(t *testing.T) {
	roles := []Role{
		{AccountID: "111111111111", AccountName: "dev", RoleName: "PowerUserAccess"},
		{AccountID: "222222222222", AccountName: "prod", RoleName: "ReadOnlyAccess"},
	}
	// An older aws-config (or a hand edit) left our sections in the file,
	// one of them twice under spellings configparser tells apart but
	// botocore reads as one profile; the user's own sections stay.
	existing := "[default]\nregion = eu-west-1\n\n[profile mine]\nregion = eu-west-2\n\n" +
		"[profile dev]\nsso_session = gatehouse\nsso_account_id = 111111111111\nsso_role_name = Old\n\n" +
		"[profile  dev]\nsso_session = gatehouse\nsso_account_id = 111111111111\nsso_role_name = Older\n\n" +
		"[sso-session gatehouse]\nsso_start_url = https://old.example/start\nsso_region = us-east-1\n"
	text := configText(roles, existing)
	again := configText(roles, text)
	if again != text {
		t.Errorf("a second merge changed the file:\n%s\n---\n%s", text, again)
	}
	got := botocoreProfiles(t, again)
	want := []string{
		"default - - -",
		"dev 111111111111 PowerUserAccess gatehouse",
		"mine - - -",
		"prod 222222222222 ReadOnlyAccess gatehouse",
		"sso-session gatehouse",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("botocore reads\n%s\nwant\n%s\nfile:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), again)
	}
	if !strings.Contains(again, "[default]\nregion = eu-west-1\n") || strings.Contains(again, "old.example") {
		t.Errorf("merge lost the user's section or kept the old one:\n%s", again)
	}
}

func TestSetDefaultServices(t *testing.T) {
	tests := []struct {
		name, existing, want, previous string
	}{
		{"no file", "", "[default]\nservices = gatehouse\n", ""},
		{"no default", "[profile a]\nregion = x\n", "[profile a]\nregion = x\n\n[default]\nservices = gatehouse\n", ""},
		{"default without services", "[default]\nregion = eu-west-1\n\n[profile a]\nregion = x\n",
			"[default]\nservices = gatehouse\nregion = eu-west-1\n\n[profile a]\nregion = x\n", ""},
		{"default with other services", "[default]\nregion = eu-west-1\nServices=corp\n",
			"[default]\nservices = gatehouse\nregion = eu-west-1\n", "corp"},
		{"profile default form", "[profile default]\nregion = eu-west-1\nservices = gatehouse\n",
			"[profile default]\nservices = gatehouse\nregion = eu-west-1\n", "gatehouse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, prev := SetDefaultServices(tt.existing, "gatehouse")
			if got != tt.want || prev != tt.previous {
				t.Errorf("SetDefaultServices = %q, %q; want %q, %q", got, prev, tt.want, tt.previous)
			}
			again, _ := SetDefaultServices(got, "gatehouse")
			if again != got {
				t.Errorf("a second call changed %q to %q", got, again)
			}
			out := botocoreProfiles(t, got)
			if !strings.Contains(strings.Join(out, "\n"), "default - - gatehouse") {
				t.Errorf("botocore reads %v", out)
			}
		})
	}
}

func TestParseCLIVersion(t *testing.T) {
	tests := []struct {
		out      string
		version  string
		services bool
	}{
		{"aws-cli/2.9.19 Python/3.11.2 Linux/6.1.0 source/x86_64.debian.12 prompt/off", "2.9.19", false},
		{"aws-cli/2.12.7 Python/3.11.4 Darwin/23.0.0 exe/x86_64 prompt/off", "2.12.7", false},
		{"aws-cli/2.13.0 Python/3.11.4 Linux/6.1.0 exe/x86_64.ubuntu.22 prompt/off", "2.13.0", true},
		{"aws-cli/2.36.7 Python/3.13.7 Linux/6.18.44 exe/x86_64.debian.12", "2.36.7", true},
		{"aws-cli/1.45.11 Python/3.11.7 Linux/6.18.44 botocore/1.43.11", "1.45.11", true},
		{"aws-cli/1.27.0 Python/3.9.0 Linux/5.10 botocore/1.29.0", "1.27.0", false},
	}
	for _, tt := range tests {
		v, err := ParseCLIVersion(tt.out)
		if err != nil || v.String() != tt.version || v.ReadsServices() != tt.services {
			t.Errorf("ParseCLIVersion(%q) = %v (reads services %v), %v; want %s, %v", tt.out, v, v.ReadsServices(), err, tt.version, tt.services)
		}
	}
	if _, err := ParseCLIVersion("command not found"); err == nil {
		t.Error("nonsense parsed as a version")
	}
}

func TestSameStartURL(t *testing.T) {
	base := "https://d-0123456789.awsapps.com/start"
	for _, s := range []string{base, base + "/", base + "#", base + "/#", base + "#/", "HTTPS://D-0123456789.AWSAPPS.COM:443/start"} {
		if !SameStartURL(base, s) {
			t.Errorf("%q is not the same start URL as %q", s, base)
		}
	}
	for _, s := range []string{"https://d-9999999999.awsapps.com/start", base + "/other", "http://d-0123456789.awsapps.com/start"} {
		if SameStartURL(base, s) {
			t.Errorf("%q is the same start URL as %q", s, base)
		}
	}
}

// TestAdminServiceEndpoints checks that every admin API Gatehouse serves is
// pointed at it in each form clients read: the [services] key, the
// AWS_ENDPOINT_URL_* variable and the rule-set file (botocore's service name
// and API version) for AWS CLI older than 2.13.
func TestAdminServiceEndpoints(t *testing.T) {
	s := Session{Name: "gatehouse", BaseURL: "http://127.0.0.1:7080"}
	files, err := RuleSets(s.BaseURL)
	if err != nil {
		t.Fatal(err)
	}
	section, env := s.ServicesSection(), s.EnvVars()
	for _, tt := range []struct{ key, env, ruleSet string }{
		{"sso_admin", "AWS_ENDPOINT_URL_SSO_ADMIN", "sso-admin/2020-07-20/endpoint-rule-set-1.json"},
		{"identitystore", "AWS_ENDPOINT_URL_IDENTITYSTORE", "identitystore/2020-06-15/endpoint-rule-set-1.json"},
		{"organizations", "AWS_ENDPOINT_URL_ORGANIZATIONS", "organizations/2016-11-28/endpoint-rule-set-1.json"},
		{"cloudtrail", "AWS_ENDPOINT_URL_CLOUDTRAIL", "cloudtrail/2013-11-01/endpoint-rule-set-1.json"},
		{"iam", "AWS_ENDPOINT_URL_IAM", "iam/2010-05-08/endpoint-rule-set-1.json"},
	} {
		if !strings.Contains(section, "\n"+tt.key+" =\n  endpoint_url = http://127.0.0.1:7080\n") {
			t.Errorf("[services] section lacks %s:\n%s", tt.key, section)
		}
		if !strings.Contains(env, tt.env+"=http://127.0.0.1:7080\n") {
			t.Errorf("EnvVars lacks %s:\n%s", tt.env, env)
		}
		if data, ok := files[tt.ruleSet]; !ok || !strings.Contains(string(data), `"url": "http://127.0.0.1:7080"`) {
			t.Errorf("RuleSets has no %s pointing at the server: %s", tt.ruleSet, data)
		}
	}
}

// TestDefaultSection: the [default] lines shown elsewhere (the portal's
// access-keys page, aws-config --print) are the ones SetDefaultServices
// writes into a file without [default].
func TestDefaultSection(t *testing.T) {
	sess := Session{Name: "gatehouse"}
	if got, _ := SetDefaultServices("", sess.Name); got != sess.DefaultSection() {
		t.Fatalf("SetDefaultServices wrote %q, DefaultSection is %q", got, sess.DefaultSection())
	}
	if want := "[default]\nservices = gatehouse\n"; sess.DefaultSection() != want {
		t.Fatalf("DefaultSection = %q, want %q", sess.DefaultSection(), want)
	}
}
