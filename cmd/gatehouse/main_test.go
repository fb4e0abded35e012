package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/store/sqlite"
)

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// startServe runs `gatehouse serve` until its banner is printed and returns
// the banner and a function that stops the server and waits for it.
func startServe(t testing.TB, args []string, getenv func(string) string) (string, func()) {
	t.Helper()
	out := &syncBuffer{}
	stop := startServeTo(t, args, getenv, out)
	return out.String(), stop
}

// startServeTo is startServe writing to out.
func startServeTo(t testing.TB, args []string, getenv func(string) string, out *syncBuffer) func() {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- run(ctx, append([]string{"serve"}, args...), out, io.Discard, getenv) }()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "Then: aws configure sso") {
		select {
		case err := <-errc:
			cancel()
			t.Fatalf("serve ended early: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("no banner after 30s:\n%s", out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	return func() {
		cancel()
		select {
		case err := <-errc:
			if err != nil {
				t.Errorf("serve returned %v after shutdown", err)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("serve did not shut down")
		}
	}
}

func field(t *testing.T, banner, pattern string) string {
	t.Helper()
	m := regexp.MustCompile(pattern).FindStringSubmatch(banner)
	if m == nil {
		t.Fatalf("banner lacks %s:\n%s", pattern, banner)
	}
	return m[1]
}

func TestServeFirstStartAndRestart(t *testing.T) {
	dir := t.TempDir()
	getenv := env(map[string]string{"GATEHOUSE_DEMO_PASSWORD": "demo-password-1"})
	args := []string{"--data", dir, "--listen", "127.0.0.1:0", "--demo", "--region", "eu-west-1"}

	banner, stop := startServe(t, args, getenv)
	portal := field(t, banner, `Access portal:\s+(http://127\.0\.0\.1:\d+)/start`)
	startURL := field(t, banner, `Start URL:\s+(https://d-[0-9a-f]{10}\.awsapps\.com/start)`)
	instanceARN := field(t, banner, `Instance:\s+(arn:aws:sso:::instance/ssoins-[0-9a-f]{16})`)
	mgmt := field(t, banner, `Management account: (\d{12})`)
	for _, want := range []string{"Region:         eu-west-1", "[sso-session gatehouse]", "sso_start_url = " + startURL,
		"sso_region = eu-west-1", "[services gatehouse]", "sso_oidc =\n      endpoint_url = " + portal,
		"AWS_ENDPOINT_URL_SSO_OIDC=" + portal, "AWS_ENDPOINT_URL_STS=" + portal, "2 users without a password got GATEHOUSE_DEMO_PASSWORD"} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}
	resp, err := http.Get(portal + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/healthz = %d", resp.StatusCode)
	}
	stop()
	key1, err := os.ReadFile(filepath.Join(dir, "master.key"))
	if err != nil {
		t.Fatalf("master key file: %v", err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "master.key")); fi.Mode().Perm() != 0o600 {
		t.Errorf("master.key mode %v, want 0600", fi.Mode().Perm())
	}
	keys1 := storedKeyIDs(t, dir)

	banner2, stop2 := startServe(t, args, getenv)
	stop2()
	if got := field(t, banner2, `Instance:\s+(arn:aws:sso:::instance/ssoins-[0-9a-f]{16})`); got != instanceARN {
		t.Errorf("instance changed across restarts: %s -> %s", instanceARN, got)
	}
	if got := field(t, banner2, `Start URL:\s+(\S+)`); got != startURL {
		t.Errorf("start URL changed: %s -> %s", startURL, got)
	}
	if got := field(t, banner2, `Management account: (\d{12})`); got != mgmt {
		t.Errorf("management account changed: %s -> %s", mgmt, got)
	}
	if got := field(t, banner2, `World loaded \((\d+) changes: 0 new records, 0 passwords set\)`); got != "0" {
		t.Errorf("second demo load created %s records, want 0", got)
	}
	key2, _ := os.ReadFile(filepath.Join(dir, "master.key"))
	if !bytes.Equal(key1, key2) {
		t.Error("master key changed across restarts")
	}
	if keys2 := storedKeyIDs(t, dir); keys2 != keys1 {
		t.Errorf("stored keys changed across restarts: %s -> %s", keys1, keys2)
	}
}

func storedKeyIDs(t *testing.T, dir string) string {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(dir, "gatehouse.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var ids []string
	for _, p := range []string{"token-hash", "session-seal", "secrets"} {
		ks, err := st.ListKeys(t.Context(), p)
		if err != nil {
			t.Fatal(err)
		}
		if len(ks) != 1 {
			t.Fatalf("%d %s keys, want 1", len(ks), p)
		}
		ids = append(ids, ks[0].ID)
	}
	return strings.Join(ids, ",")
}

// The banner shows the seed password only when a user got it at this
// start, says how many did, and counts passwords set as changes.
func TestServeBannerPasswords(t *testing.T) {
	dir := t.TempDir()
	world := filepath.Join(t.TempDir(), "world.yaml")
	os.WriteFile(world, []byte(`users:
  - {user_name: bob, given_name: Bob, family_name: B, display_name: Bob B, password: bob-password-123}
`), 0o600)
	args := []string{"--data", dir, "--listen", "127.0.0.1:0", "--seed", world}
	banner, stop := startServe(t, args, env(nil))
	stop()
	if !strings.Contains(banner, "World loaded (2 changes: 1 new record, 1 password set).") {
		t.Errorf("first start's banner does not count bob and his password:\n%s", banner)
	}
	if strings.Contains(banner, "without a password") || strings.Contains(banner, "Password of users") {
		t.Errorf("banner shows a seed password no user got:\n%s", banner)
	}
	os.WriteFile(world, []byte(`users:
  - {user_name: bob, given_name: Bob, family_name: B, display_name: Bob B, password: bob-password-123}
  - {user_name: carol, given_name: Carol, family_name: C, display_name: Carol C}
`), 0o600)
	banner, stop = startServe(t, args, env(nil))
	stop()
	if !strings.Contains(banner, "World loaded (2 changes: 1 new record, 1 password set). 1 user without a password got this one: ") {
		t.Errorf("second start's banner does not name the one user who got the generated password:\n%s", banner)
	}
	banner, stop = startServe(t, args, env(nil))
	stop()
	if !strings.Contains(banner, "World loaded (0 changes: 0 new records, 0 passwords set).\n") || strings.Contains(banner, "got this one") {
		t.Errorf("restart's banner:\n%s", banner)
	}
}

func TestServeRejectsBadSettings(t *testing.T) {
	var stderr bytes.Buffer
	err := run(t.Context(), []string{"serve", "--listen", "nonsense", "--region", "Mars", "--public-url", "ftp://x", "--log-level", "loud"}, io.Discard, &stderr, env(nil))
	if err == nil {
		t.Fatal("bad settings accepted")
	}
	for _, want := range []string{"listen:", "region:", "public-url:", "log-level:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not report %s", err, want)
		}
	}
	if err := run(t.Context(), []string{"frobnicate"}, io.Discard, io.Discard, env(nil)); err == nil || !strings.Contains(err.Error(), "unknown command") {
		t.Errorf("unknown command: %v", err)
	}
}

func TestConfigFileAndEnvironment(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "gatehouse.yaml")
	if err := os.WriteFile(cfgFile, []byte("region: ap-south-1\nlisten: 127.0.0.1:0\nbogus: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := run(t.Context(), []string{"serve", "--config", cfgFile, "--data", dir}, io.Discard, io.Discard, env(nil))
	if err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Fatalf("unknown YAML field not reported: %v", err)
	}
	if err := os.WriteFile(cfgFile, []byte("region: ap-south-1\nlisten: 127.0.0.1:0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The environment beats the file; flags beat the environment.
	banner, stop := startServe(t, []string{"--config", cfgFile}, env(map[string]string{
		"GATEHOUSE_DATA": dir, "GATEHOUSE_REGION": "ca-central-1",
	}))
	stop()
	if !strings.Contains(banner, "Region:         ca-central-1") {
		t.Errorf("GATEHOUSE_REGION did not win over the file:\n%s", banner)
	}
}

// BenchmarkServeStartEmpty measures `gatehouse serve` on an empty data
// folder, from the call to the printed banner (bootstrap, keys, migrations).
func BenchmarkServeStartEmpty(b *testing.B) {
	for b.Loop() {
		dir := b.TempDir()
		_, stop := startServe(b, []string{"--data", dir, "--listen", "127.0.0.1:0"}, env(nil))
		b.StopTimer()
		stop()
		b.StartTimer()
	}
}
