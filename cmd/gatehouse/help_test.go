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
	for _, cmd := range []string{"serve", "migrate", "aws-config", "version", "help"} {
		for _, flag := range []string{"-h", "--help", "-help"} {
			t.Run(cmd+" "+flag, func(t *testing.T) {
				var out, errOut bytes.Buffer
				args := []string{cmd, flag}
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
	printBanner(&b, srv)
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
