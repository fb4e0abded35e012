package e2e

import (
	"bufio"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"

	"github.com/gatehouse-dev/gatehouse/internal/clientconfig"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
)

// shiftedClock is a server clock that runs with real time plus an offset
// a test can move forward (past the refresh grace, say).
type shiftedClock struct{ offset atomic.Int64 }

func (c *shiftedClock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

func (c *shiftedClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// demoServerWithClock is demoServer on a clock the test can move.
func demoServerWithClock(t testing.TB) (*servertest.Server, *shiftedClock) {
	clk := &shiftedClock{}
	return servertest.New(t, func(c *config.Config) {
		c.Demo = true
		c.Region = "us-east-1"
		c.Now = clk.Now
	}), clk
}

// refreshRacer is one process of the refresh race: it prints "ready" once
// its clients are built, waits for a line on stdin, then loads the SSO
// token through its SDK's token provider (which refreshes the expired
// cached token), calls GetRoleCredentials with it and prints
// "RESULT {json}".
type refreshRacer struct {
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
	lines strings.Builder
}

// raceResult is what a racer prints.
type raceResult struct {
	AccessToken string `json:"accessToken"`
	AccessKeyID string `json:"accessKeyId"`
	Error       string `json:"error"`
}

// botocoreRacer is the botocore side: SSOTokenProvider with the default
// JSON file cache under HOME, as the AWS CLI and boto3 use it.
const botocoreRacer = `
import json, sys
import botocore.session
from botocore.tokens import SSOTokenProvider
s = botocore.session.Session(profile="race")
p = SSOTokenProvider(s, profile_name="race")
p._client  # build the sso-oidc client before the start
sso = s.create_client("sso", region_name="us-east-1")
print("ready", flush=True)
sys.stdin.readline()
res = {}
try:
    tok = p.load_token().get_frozen_token().token
    res["accessToken"] = tok
    rc = sso.get_role_credentials(accountId=sys.argv[1], roleName=sys.argv[2], accessToken=tok)
    res["accessKeyId"] = rc["roleCredentials"]["accessKeyId"]
except Exception as e:
    res["error"] = repr(e)
print("RESULT " + json.dumps(res), flush=True)
`

// TestRefreshRaceGoHelper is the Go SDK racer, run as a subprocess of
// TestConcurrentRefreshRealClients (it does nothing in a normal run).
func TestRefreshRaceGoHelper(t *testing.T) {
	cacheFile := os.Getenv("GATEHOUSE_RACE_CACHE_FILE")
	if cacheFile == "" {
		return
	}
	base, account, role := os.Getenv("GATEHOUSE_RACE_URL"), os.Getenv("GATEHOUSE_RACE_ACCOUNT"), os.Getenv("GATEHOUSE_RACE_ROLE")
	cfg := aws.Config{Region: "us-east-1", Credentials: aws.AnonymousCredentials{}}
	oc := ssooidc.NewFromConfig(cfg, func(o *ssooidc.Options) { o.BaseEndpoint = aws.String(base) })
	pc := sso.NewFromConfig(cfg, func(o *sso.Options) { o.BaseEndpoint = aws.String(base) })
	p := ssocreds.NewSSOTokenProvider(oc, cacheFile)
	fmt.Println("ready")
	bufio.NewReader(os.Stdin).ReadString('\n')
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var res raceResult
	if tok, err := p.RetrieveBearerToken(ctx); err != nil {
		res.Error = err.Error()
	} else {
		res.AccessToken = tok.Value
		rc, err := pc.GetRoleCredentials(ctx, &sso.GetRoleCredentialsInput{AccessToken: aws.String(tok.Value), AccountId: aws.String(account), RoleName: aws.String(role)})
		if err != nil {
			res.Error = err.Error()
		} else {
			res.AccessKeyID = aws.ToString(rc.RoleCredentials.AccessKeyId)
		}
	}
	b, _ := json.Marshal(res)
	fmt.Println("RESULT " + string(b))
}

// TestConcurrentRefreshRealClients releases four botocore processes and
// three Go SDK processes at once, all sharing one sso-session and its
// token cache file whose access token has expired, as parallel scripts
// and Terraform provider aliases do. Each refreshes with the same refresh
// token; within the refresh grace the losers get the winner's tokens, so
// every process can still get role credentials and the sign-in is not
// revoked.
func TestConcurrentRefreshRealClients(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skipf("python3 is not installed: %v", err)
	}
	srv := demoServer(t)
	const account, role = "333333333333", "PowerUserAccess"
	reg, tok := deviceLogin(t, srv, "alice@company.com")

	home := t.TempDir()
	sess := clientconfig.Session{Name: "race", StartURL: srv.Instance.StartURL, Region: srv.Instance.Region, BaseURL: srv.URL}
	cfgText := sess.SessionSection() + "\n" + sess.ServicesSection() + "\n" +
		clientconfig.Profile{Name: "race", AccountID: account, RoleName: role, Region: "us-east-1"}.Section(sess)
	cacheDir := filepath.Join(home, ".aws", "sso", "cache")
	if err := os.MkdirAll(cacheDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".aws", "config"), []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha1.Sum([]byte("race"))
	cacheFile := filepath.Join(cacheDir, hex.EncodeToString(sum[:])+".json")
	entry := map[string]string{
		"startUrl": srv.Instance.StartURL, "region": srv.Instance.Region, "accessToken": aws.ToString(tok.AccessToken),
		"expiresAt": time.Now().Add(-time.Minute).UTC().Format(time.RFC3339), "clientId": aws.ToString(reg.ClientId),
		"clientSecret": aws.ToString(reg.ClientSecret), "refreshToken": aws.ToString(tok.RefreshToken),
		"registrationExpiresAt": time.Unix(reg.ClientSecretExpiresAt, 0).UTC().Format(time.RFC3339),
	}
	data, _ := json.Marshal(entry)
	if err := os.WriteFile(cacheFile, data, 0o600); err != nil {
		t.Fatal(err)
	}

	env := []string{"HOME=" + home, "PATH=/usr/bin:/bin", "LANG=C.UTF-8", "HTTPS_PROXY=http://127.0.0.1:9", "NO_PROXY=127.0.0.1",
		"AWS_CONFIG_FILE=" + filepath.Join(home, ".aws", "config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, ".aws", "credentials"),
		"AWS_EC2_METADATA_DISABLED=true", "AWS_PROFILE=race"}
	var racers []*refreshRacer
	for i := range 4 {
		racers = append(racers, &refreshRacer{name: fmt.Sprintf("botocore-%d", i), cmd: exec.Command(python, "-c", botocoreRacer, account, role)})
	}
	for i := range 3 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestRefreshRaceGoHelper$", "-test.count=1")
		cmd.Env = append(cmd.Env, "GATEHOUSE_RACE_CACHE_FILE="+cacheFile, "GATEHOUSE_RACE_URL="+srv.URL,
			"GATEHOUSE_RACE_ACCOUNT="+account, "GATEHOUSE_RACE_ROLE="+role)
		racers = append(racers, &refreshRacer{name: fmt.Sprintf("go-sdk-%d", i), cmd: cmd})
	}
	for _, r := range racers {
		r.cmd.Env = append(append([]string{}, env...), r.cmd.Env...)
		r.cmd.Dir = home
		r.cmd.Stderr = &prefixWriter{t: t, name: r.name}
		if r.stdin, err = r.cmd.StdinPipe(); err != nil {
			t.Fatal(err)
		}
		stdout, err := r.cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		r.out = bufio.NewReader(stdout)
		if err := r.cmd.Start(); err != nil {
			t.Fatalf("start %s: %v", r.name, err)
		}
		t.Cleanup(func() { r.cmd.Process.Kill(); r.cmd.Wait() })
	}
	// The barrier: every process has built its clients before any starts.
	deadline := time.AfterFunc(2*time.Minute, func() {
		for _, r := range racers {
			r.cmd.Process.Kill()
		}
	})
	defer deadline.Stop()
	for _, r := range racers {
		if line := r.readUntil(t, "ready"); line == "" {
			t.Fatalf("%s never got ready:\n%s", r.name, r.lines.String())
		}
	}
	for _, r := range racers {
		go r.stdin.Write([]byte("go\n"))
	}
	results := make([]raceResult, len(racers))
	var wg sync.WaitGroup
	for i, r := range racers {
		wg.Go(func() {
			line := r.readUntil(t, "RESULT ")
			if line == "" || json.Unmarshal([]byte(strings.TrimPrefix(line, "RESULT ")), &results[i]) != nil {
				results[i].Error = "no result; output:\n" + r.lines.String()
			}
		})
	}
	wg.Wait()
	for i, r := range racers {
		res := results[i]
		if res.Error != "" || !strings.HasPrefix(res.AccessKeyID, "ASIA") {
			t.Errorf("%s: GetRoleCredentials after the refresh race failed: %s", r.name, res.Error)
		}
		if res.AccessToken == aws.ToString(tok.AccessToken) {
			t.Errorf("%s did not refresh the expired token", r.name)
		}
	}
	if t.Failed() {
		return
	}
	// All of them hold the one successor; the sign-in still works and goes
	// on from the refresh token left in the cache.
	pc := portalClient(srv)
	for i, r := range racers {
		if results[i].AccessToken != results[0].AccessToken {
			t.Errorf("%s holds another access token than %s", r.name, racers[0].name)
		}
		if _, err := pc.ListAccounts(t.Context(), &sso.ListAccountsInput{AccessToken: aws.String(results[i].AccessToken)}); err != nil {
			t.Errorf("%s's access token after the race: %v", r.name, err)
		}
	}
	var cached struct {
		RefreshToken string `json:"refreshToken"`
	}
	data, err = os.ReadFile(cacheFile)
	if err != nil || json.Unmarshal(data, &cached) != nil || cached.RefreshToken == "" {
		t.Fatalf("token cache after the race: %v %s", err, data)
	}
	if _, err := oidcClient(srv).CreateToken(t.Context(), &ssooidc.CreateTokenInput{
		ClientId: reg.ClientId, ClientSecret: reg.ClientSecret, GrantType: aws.String("refresh_token"), RefreshToken: aws.String(cached.RefreshToken),
	}); err != nil {
		t.Errorf("refresh with the cached refresh token after the race: %v", err)
	}
}

// readUntil reads r's output lines until one starts with prefix and
// returns it, or "" at the end of the output.
func (r *refreshRacer) readUntil(t *testing.T, prefix string) string {
	for {
		line, err := r.out.ReadString('\n')
		r.lines.WriteString(line)
		if strings.HasPrefix(line, prefix) {
			return strings.TrimSpace(line)
		}
		if err != nil {
			return ""
		}
	}
}

// prefixWriter logs a subprocess's stderr through t.
type prefixWriter struct {
	t    *testing.T
	name string
	mu   sync.Mutex
}

func (w *prefixWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.t.Logf("%s: %s", w.name, strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
