package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// buildGatehouse builds the gatehouse binary, so that aws-config runs as a
// person runs it: its own process, its own working folder, no server
// configuration anywhere near it.
func buildGatehouse(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("the go command is not on PATH: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "gatehouse")
	cmd := exec.CommandContext(t.Context(), goTool, "build", "-o", bin, "github.com/gatehouse-dev/gatehouse/cmd/gatehouse")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// lockedBuffer is an io.Writer a running process and the test share.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// awsConfigRun is one run of `gatehouse aws-config` from an empty folder.
type awsConfigRun struct {
	cmd            *exec.Cmd
	cwd            string
	stdout, stderr *lockedBuffer
	done           chan error
}

func startAWSConfig(t *testing.T, bin string, c *cli, args ...string) *awsConfigRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	r := &awsConfigRun{cwd: t.TempDir(), stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, done: make(chan error, 1)}
	r.cmd = exec.CommandContext(ctx, bin, append([]string{"aws-config"}, args...)...)
	r.cmd.Env = c.env
	r.cmd.Dir = r.cwd
	r.cmd.Stdout, r.cmd.Stderr = r.stdout, r.stderr
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.done <- r.cmd.Wait() }()
	return r
}

// approve waits for the sign-in link the run prints and allows it as
// user (a demo user, demoPassword) through the portal pages.
func (r *awsConfigRun) approve(t *testing.T, user string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var verify string
	for verify == "" {
		if m := verifyRe.FindStringSubmatch(r.stderr.String()); m != nil {
			verify = m[1]
			break
		}
		select {
		case err := <-r.done:
			t.Fatalf("aws-config ended before printing a sign-in link: %v\n%s%s", err, r.stdout, r.stderr)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no sign-in link after 60s:\n%s", r.stderr)
		}
	}
	if !userCodeRe.MatchString(r.stderr.String()) {
		t.Errorf("aws-config printed no user code:\n%s", r.stderr)
	}
	approveDeviceFor(t, verify, user, demoPassword, "gatehouse-aws-config")
}

func (r *awsConfigRun) wait(t *testing.T) {
	t.Helper()
	if err := <-r.done; err != nil {
		t.Fatalf("gatehouse aws-config: %v\nstdout:\n%s\nstderr:\n%s", err, r.stdout, r.stderr)
	}
	// It never creates a data folder (or anything else) where it runs.
	if entries, err := os.ReadDir(r.cwd); err != nil || len(entries) != 0 {
		t.Errorf("aws-config left %v in its working folder (%v)", entries, err)
	}
}

// botocoreConfig loads a config file with the image's botocore as every
// client does (the strict raw_config_parse under load_config) and returns
// its profiles and sso-sessions.
func botocoreConfig(t *testing.T, path string) (profiles, sessions map[string]map[string]string) {
	t.Helper()
	const script = `
import json, sys
from botocore.configloader import load_config, raw_config_parse
raw_config_parse(sys.argv[1])
cfg = load_config(sys.argv[1])
flat = lambda d: {k: v for k, v in d.items() if isinstance(v, str)}
print(json.dumps({"profiles": {n: flat(p) for n, p in cfg["profiles"].items()},
                  "sessions": {n: flat(s) for n, s in cfg.get("sso_sessions", {}).items()}}))
`
	out, err := exec.CommandContext(t.Context(), "python3", "-c", script, path).CombinedOutput()
	if err != nil {
		data, _ := os.ReadFile(path)
		t.Fatalf("botocore refuses %s: %v\n%s\nfile:\n%s", path, err, out, data)
	}
	var cfg struct {
		Profiles map[string]map[string]string
		Sessions map[string]map[string]string
	}
	if err := json.Unmarshal(out, &cfg); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return cfg.Profiles, cfg.Sessions
}

// TestAWSConfigFromALaptop runs `gatehouse aws-config --url` as a person
// on their own machine: it signs in with the device flow (approved through
// the portal pages), writes a config botocore reads and Debian's AWS CLI
// 2.9.19 uses at once with the token it cached; a second machine reuses
// that cached token without signing in. Neither run creates anything in
// its working folder.
func TestAWSConfigFromALaptop(t *testing.T) {
	bin := buildGatehouse(t)
	srv := demoServer(t)
	in := srv.Instance

	// (a) Sign in with the device flow. The CLI here is 2.9.19: aws-config
	// must write the rule-set files itself, so start without them.
	c := newCLI(t, srv)
	models := filepath.Join(c.home, ".aws", "models")
	if err := os.RemoveAll(models); err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(c.home, ".aws", "config")
	// What the person had: their own default region, their own profile
	// named "prod", and a dev profile an older aws-config wrote twice
	// (botocore refuses such a file).
	existing := "[default]\nregion = eu-west-1\n\n[profile prod]\nregion = eu-west-2\n\n" +
		"[profile dev]\nsso_session = gatehouse\nsso_account_id = 111111111111\nsso_role_name = Old\n\n" +
		"[profile  dev]\nsso_session = gatehouse\nsso_account_id = 111111111111\nsso_role_name = Older\n"
	if err := os.MkdirAll(filepath.Dir(cfgFile), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfgFile, []byte(existing), 0o600); err != nil {
		t.Fatal(err)
	}
	run := startAWSConfig(t, bin, c, "--url", srv.URL, "--aws-cli", awsCLI)
	run.approve(t, "ed.developer")
	run.wait(t)
	out := run.stdout.String()
	for _, want := range []string{
		"profile dev: account 111111111111, role PowerUserAccess",
		"profile dev-viewonly: account 111111111111, role ViewOnlyAccess",
		// "prod" is the person's own profile: ours gets the account ID.
		"profile prod-222222222222: account 222222222222, role ReadOnlyAccess",
		"AWS CLI 2.9.19 reads no [services] section",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("aws-config output lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(filepath.Join(models, "sso-oidc", "2019-06-10", "endpoint-rule-set-1.json")); err != nil {
		t.Errorf("no rule-set files for CLI 2.9.19: %v", err)
	}
	profiles, sessions := botocoreConfig(t, cfgFile)
	wantProfile := func(profiles map[string]map[string]string, name string, want map[string]string) {
		t.Helper()
		for k, v := range want {
			if got := profiles[name][k]; got != v {
				t.Errorf("profile %s: %s = %q, want %q (all: %v)", name, k, got, v, profiles)
			}
		}
	}
	wantProfile(profiles, "default", map[string]string{"region": "eu-west-1", "services": "gatehouse"})
	wantProfile(profiles, "prod", map[string]string{"region": "eu-west-2"})
	wantProfile(profiles, "dev", map[string]string{"sso_session": "gatehouse", "sso_account_id": "111111111111", "sso_role_name": "PowerUserAccess", "region": "us-east-1", "services": "gatehouse"})
	wantProfile(profiles, "prod-222222222222", map[string]string{"sso_session": "gatehouse", "sso_role_name": "ReadOnlyAccess"})
	if s := sessions["gatehouse"]; s["sso_start_url"] != in.StartURL || s["sso_region"] != in.Region {
		t.Errorf("sso-session gatehouse = %v", s)
	}
	// The CLI uses the token aws-config cached: no `aws sso login`.
	id, cliOut, err := c.callerIdentity(nil, "--profile", "dev")
	if err != nil {
		t.Fatalf("get-caller-identity --profile dev: %v\n%s", err, cliOut)
	}
	wantCaller(t, id, "111111111111", "PowerUserAccess", "ed.developer")
	if id, cliOut, err = c.callerIdentity(nil, "--profile", "prod-222222222222"); err != nil {
		t.Fatalf("get-caller-identity --profile prod-222222222222: %v\n%s", err, cliOut)
	}
	wantCaller(t, id, "222222222222", "ReadOnlyAccess", "ed.developer")

	// (b) A second machine with the CLI's cached sign-in of the session and
	// no AWS CLI on it: no sign-in, and both endpoint forms are written;
	// (d) [default] is created with services.
	c2 := newCLI(t, srv)
	models2 := filepath.Join(c2.home, ".aws", "models")
	if err := os.RemoveAll(models2); err != nil {
		t.Fatal(err)
	}
	token, err := os.ReadFile(c.ssoCacheFile("gatehouse"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(c2.ssoCacheFile("gatehouse")), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c2.ssoCacheFile("gatehouse"), token, 0o600); err != nil {
		t.Fatal(err)
	}
	run2 := startAWSConfig(t, bin, c2, "--url", srv.URL+"/start", "--aws-cli", filepath.Join(t.TempDir(), "aws"))
	run2.wait(t)
	if errOut := run2.stderr.String(); strings.Contains(errOut, "user_code") || !strings.Contains(errOut, "Using the AWS CLI's sign-in of sso-session gatehouse") {
		t.Errorf("aws-config did not reuse the cached token:\n%s", errOut)
	}
	if !strings.Contains(run2.stdout.String(), "No AWS CLI found") {
		t.Errorf("aws-config does not say it found no AWS CLI:\n%s", run2.stdout)
	}
	if _, err := os.Stat(filepath.Join(models2, "sts", "2011-06-15", "endpoint-rule-set-1.json")); err != nil {
		t.Errorf("no rule-set files without an AWS CLI: %v", err)
	}
	profiles, _ = botocoreConfig(t, filepath.Join(c2.home, ".aws", "config"))
	wantProfile(profiles, "default", map[string]string{"services": "gatehouse"})
	wantProfile(profiles, "prod", map[string]string{"sso_account_id": "222222222222", "sso_role_name": "ReadOnlyAccess", "services": "gatehouse"})
	if id, cliOut, err = c2.callerIdentity(nil, "--profile", "prod"); err != nil {
		t.Fatalf("second machine: get-caller-identity --profile prod: %v\n%s", err, cliOut)
	}
	wantCaller(t, id, "222222222222", "ReadOnlyAccess", "ed.developer")
}
