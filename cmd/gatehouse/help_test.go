package main

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/server"
)

// TestHelpExitsZero asks every command for help: run returns nil, so the
// process exits 0, and the flags are printed.
func TestHelpExitsZero(t *testing.T) {
	for _, cmd := range []string{"serve", "migrate", "aws-config", "apply", "version", "help", "users", "users disable", "users status", "invite", "ldap-sync", "scim-tokens", "scim-tokens create", "identity-source", "identity-source switch", "identity-source set", "accounts", "accounts link", "accounts link-policy", "saml-idp", "saml-idp rotate", "saml-idp show"} {
		for _, flag := range []string{"-h", "--help", "-help"} {
			t.Run(cmd+" "+flag, func(t *testing.T) {
				var out, errOut bytes.Buffer
				args := append(strings.Fields(cmd), flag)
				if cmd == "help" {
					args = []string{flag}
				}
				if err := run(t.Context(), args, &out, &errOut, env(nil)); err != nil {
					t.Fatalf("gatehouse %s: %v, want success\n%s%s", strings.Join(args, " "), err, out.String(), errOut.String())
				}
				if out.Len()+errOut.Len() == 0 {
					t.Errorf("gatehouse %s printed nothing", strings.Join(args, " "))
				}
			})
		}
	}
	// Other flag errors still fail.
	if err := run(t.Context(), []string{"serve", "--no-such-flag"}, io.Discard, io.Discard, env(nil)); err == nil {
		t.Error("an unknown flag succeeded")
	}
}

// debianAWS is Debian's AWS CLI v2.9.19.
const debianAWS = "/usr/bin/aws"

// TestBannerNamesCLIFlagPerVersion checks that the start banner says which
// sign-in flag fits which AWS CLI version, and that Debian's CLI 2.9
// accepts the one named for it (it has no --use-device-code).
func TestBannerNamesCLIFlagPerVersion(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	srv, err := server.New(t.Context(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	var b bytes.Buffer
	if err := printBanner(t.Context(), &b, srv, ""); err != nil {
		t.Fatal(err)
	}
	banner := b.String()
	m := regexp.MustCompile(`(--[a-z-]+) on AWS CLI 2\.9 to 2\.21`).FindStringSubmatch(banner)
	if m == nil || m[1] != "--no-browser" {
		t.Fatalf("banner does not name --no-browser for AWS CLI 2.9 to 2.21:\n%s", banner)
	}
	if !strings.Contains(banner, "--use-device-code on AWS CLI 2.22 and newer") {
		t.Errorf("banner does not name --use-device-code for AWS CLI 2.22 and newer:\n%s", banner)
	}
	if strings.Contains(banner, "aws configure sso --use-device-code") {
		t.Errorf("banner still suggests --use-device-code for every CLI:\n%s", banner)
	}

	if _, err := os.Stat(debianAWS); err != nil {
		t.Skipf("Debian's AWS CLI is not installed: %v", err)
	}
	home := t.TempDir()
	try := func(flag string) string {
		cmd := exec.CommandContext(t.Context(), debianAWS, "configure", "sso", flag)
		cmd.Env = []string{"HOME=" + home, "PATH=/usr/bin:/bin", "HTTPS_PROXY=http://127.0.0.1:9", "AWS_CONFIG_FILE=" + filepath.Join(home, "config")}
		cmd.Stdin = strings.NewReader("")
		out, _ := cmd.CombinedOutput()
		return string(out)
	}
	version, _ := exec.Command(debianAWS, "--version").CombinedOutput()
	if !strings.HasPrefix(string(version), "aws-cli/2.9.") {
		t.Skipf("%s is %s, not 2.9", debianAWS, version)
	}
	if out := try(m[1]); strings.Contains(out, "Unknown options") {
		t.Errorf("AWS CLI 2.9 refuses the banner's %s: %s", m[1], out)
	}
	if out := try("--use-device-code"); !strings.Contains(out, "Unknown options: --use-device-code") {
		t.Errorf("AWS CLI 2.9 with --use-device-code: %q; the banner's version note is wrong", out)
	}
}

// TestHelpNamesItsCommand: each command's help names the command itself
// (not "Usage of serve:"), `version -h` prints help rather than the
// version, and --version and -v print the version.
func TestHelpNamesItsCommand(t *testing.T) {
	for _, cmd := range []string{"serve", "migrate", "aws-config", "version"} {
		var out, errOut bytes.Buffer
		if err := run(t.Context(), []string{cmd, "-h"}, &out, &errOut, env(nil)); err != nil {
			t.Fatalf("gatehouse %s -h: %v", cmd, err)
		}
		help := out.String() + errOut.String()
		if !strings.Contains(help, "Usage: gatehouse "+cmd) || strings.Contains(help, "Usage of") {
			t.Errorf("gatehouse %s -h does not name %s:\n%s", cmd, cmd, help)
		}
		if cmd != "version" && strings.Contains(help, "gatehouse "+version+"\n") {
			t.Errorf("gatehouse %s -h printed the version:\n%s", cmd, help)
		}
	}
	var out bytes.Buffer
	if err := run(t.Context(), []string{"version", "-h"}, &out, io.Discard, env(nil)); err != nil || out.Len() != 0 {
		t.Errorf("gatehouse version -h: %v, stdout %q; want help on stderr only", err, out.String())
	}
	for _, flag := range []string{"--version", "-version", "-v"} {
		var out bytes.Buffer
		if err := run(t.Context(), []string{flag}, &out, io.Discard, env(nil)); err != nil || out.String() != "gatehouse "+version+"\n" {
			t.Errorf("gatehouse %s: %v, %q; want the version", flag, err, out.String())
		}
	}
}

// TestServeHelpListsEveryVariable: `serve -h` names every GATEHOUSE_*
// variable internal/config reads, so that the settings only the
// environment holds (secrets, the sign-in limits) are found from the help.
func TestServeHelpListsEveryVariable(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "..", "internal", "config", "config.go"))
	if err != nil {
		t.Fatal(err)
	}
	names := regexp.MustCompile(`"(GATEHOUSE_[A-Z_]+)"`).FindAllStringSubmatch(string(src), -1)
	if len(names) < 15 {
		t.Fatalf("found only %d variables in config.go", len(names))
	}
	var help bytes.Buffer
	if err := run(t.Context(), []string{"serve", "-h"}, &help, &help, env(nil)); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if !strings.Contains(help.String(), n[1]) {
			t.Errorf("serve -h does not mention %s:\n%s", n[1], help.String())
		}
	}
}
