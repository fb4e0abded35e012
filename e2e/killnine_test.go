package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/server"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// The kill -9 test's shape: sign-ins, workers, kills, how many answers
// each server gives before it is killed, and the pace of retries.
const (
	killSessions        = 3 // device-code sign-ins, each its own registration
	killCredWorkers     = 2 // GetRoleCredentials workers per sign-in
	killRounds          = 3 // SIGKILLs, each followed by a restart
	killMinCredentials  = 40
	killMinRefreshes    = 10
	killRetryPause      = 20 * time.Millisecond
	killRequestDeadline = 10 * time.Second
)

// TestKillNineUnderLoad runs the built gatehouse binary as `gatehouse
// serve --demo` and, while workers call GetRoleCredentials and rotate
// refresh tokens as fast as it answers, kills it with SIGKILL and starts it
// again on the same data (the same SQLite folder, or the same PostgreSQL
// schema and master key), three times. A worker whose request got no
// answer, because the server died under it, sends it again once the
// server is back: for a refresh, with the same refresh token, which within
// the refresh grace gets the pair its first use issued if that use was
// committed. Every answer a client received is recorded, and at the end:
//
//   - every access token received still works, those replaced by a later
//     refresh too (rotation replaces the refresh token, not the access
//     token, which lives out its hour);
//   - each sign-in's last refresh token still rotates;
//   - with that last server killed as well, the store holds the
//     GetRoleCredentials audit event of every access key ID a client
//     received, and at least as many refresh CreateToken events, naming
//     the user, as refreshes each registration received.
//
// That is the durability the audit trail promises (DESIGN §9: the answer
// is sent only after its event is committed).
func TestKillNineUnderLoad(t *testing.T) {
	bin := buildGatehouse(t)
	t.Run("sqlite", func(t *testing.T) {
		data := t.TempDir()
		env := []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir(), "GATEHOUSE_DEMO_PASSWORD=" + demoPassword}
		killNineUnderLoad(t, bin, env, config.Config{DataDir: data}, "--data", data)
	})
	t.Run("postgres", func(t *testing.T) {
		schemaDSN := postgresSchema(t)
		key := make([]byte, 32)
		rand.Read(key)
		env := []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir(), "GATEHOUSE_DEMO_PASSWORD=" + demoPassword,
			"GATEHOUSE_MASTER_KEY=" + base64.StdEncoding.EncodeToString(key), "GATEHOUSE_DATABASE_URL=" + schemaDSN}
		killNineUnderLoad(t, bin, env, config.Config{DatabaseURL: schemaDSN})
	})
}

// killSession is one sign-in under load: its registration, the refresh
// token its refresher presents next, the newest access token its
// credential workers use, and everything its clients received.
type killSession struct {
	clientID, clientSecret string
	refreshToken           string // the refresher's own
	access                 atomic.Pointer[string]

	mu         sync.Mutex
	accessKeys []string // from GetRoleCredentials answers
	accessToks []string // from the sign-in and every refresh answer

	credentials, refreshes atomic.Int64 // answers received
}

// gotCredentials records a GetRoleCredentials answer.
func (s *killSession) gotCredentials(accessKeyID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accessKeys = append(s.accessKeys, accessKeyID)
	s.credentials.Add(1)
}

// gotTokens records the sign-in's or a refresh's answer; only the
// refresher calls it.
func (s *killSession) gotTokens(accessToken, refreshToken string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accessToks = append(s.accessToks, accessToken)
	s.refreshToken = refreshToken
	s.access.Store(&accessToken)
}

// killLoad is the client side: the workers and what went wrong.
type killLoad struct {
	base     string
	client   *http.Client
	sessions []*killSession

	cut atomic.Int64 // requests the server died under (not refused ones)

	mu       sync.Mutex
	failures []string
}

func (l *killLoad) fail(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failures = append(l.failures, fmt.Sprintf(format, args...))
}

// failed reports whether anything has failed.
func (l *killLoad) failed() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.failures) > 0
}

// report fails t with the failures so far and forgets them.
func (l *killLoad) report(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, f := range l.failures {
		t.Error(f)
	}
	l.failures = nil
}

// do sends the request newReq builds until an answer arrives whole, and
// returns its status and body. No answer (the connection refused, reset
// or cut before the body's end, as when the server is killed) is not an
// answer: the request is sent again. It gives up when ctx ends.
func (l *killLoad) do(ctx context.Context, newReq func() *http.Request) (int, []byte, bool) {
	for ctx.Err() == nil {
		rctx, cancel := context.WithTimeout(ctx, killRequestDeadline)
		resp, err := l.client.Do(newReq().WithContext(rctx))
		if err == nil {
			var body []byte
			body, err = io.ReadAll(resp.Body)
			resp.Body.Close()
			if err == nil {
				cancel()
				return resp.StatusCode, body, true
			}
		}
		cancel()
		if !errors.Is(err, syscall.ECONNREFUSED) {
			l.cut.Add(1)
		}
		select {
		case <-ctx.Done():
		case <-time.After(killRetryPause):
		}
	}
	return 0, nil, false
}

// credentials is GetRoleCredentials with accessToken, as the AWS SDKs send
// it (botocore's sso GetRoleCredentials: GET /federation/credentials).
func (l *killLoad) credentials(accessToken string) *http.Request {
	req, _ := http.NewRequest("GET", l.base+"/federation/credentials?role_name=PowerUserAccess&account_id="+devAccount, nil)
	req.Header.Set("x-amz-sso_bearer_token", accessToken)
	return req
}

// refresh is CreateToken with the refresh_token grant.
func (l *killLoad) refresh(s *killSession, refreshToken string) *http.Request {
	body, _ := json.Marshal(map[string]string{"clientId": s.clientID, "clientSecret": s.clientSecret,
		"grantType": "refresh_token", "refreshToken": refreshToken})
	req, _ := http.NewRequest("POST", l.base+"/token", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return req
}

// rotate presents s's refresh token once (again and again until an answer
// comes) and takes the new pair.
func (l *killLoad) rotate(ctx context.Context, s *killSession) bool {
	status, body, ok := l.do(ctx, func() *http.Request { return l.refresh(s, s.refreshToken) })
	if !ok {
		return false
	}
	var out struct{ AccessToken, RefreshToken string }
	if status != http.StatusOK || json.Unmarshal(body, &out) != nil || out.AccessToken == "" || out.RefreshToken == "" {
		l.fail("refresh with the last refresh token %s received: %d %s", s.clientID, status, body)
		return false
	}
	s.gotTokens(out.AccessToken, out.RefreshToken)
	s.refreshes.Add(1)
	return true
}

// issue calls GetRoleCredentials once with s's newest access token.
func (l *killLoad) issue(ctx context.Context, s *killSession) bool {
	token := *s.access.Load()
	status, body, ok := l.do(ctx, func() *http.Request { return l.credentials(token) })
	if !ok {
		return false
	}
	var out struct {
		RoleCredentials struct{ AccessKeyID string } `json:"roleCredentials"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &out) != nil || !strings.HasPrefix(out.RoleCredentials.AccessKeyID, "ASIA") {
		l.fail("GetRoleCredentials with a received access token: %d %s", status, body)
		return false
	}
	s.gotCredentials(out.RoleCredentials.AccessKeyID)
	return true
}

// counts returns how many role credentials and refreshed pairs the
// clients have received.
func (l *killLoad) counts() (creds, refreshes int64) {
	for _, s := range l.sessions {
		creds += s.credentials.Load()
		refreshes += s.refreshes.Load()
	}
	return creds, refreshes
}

// killNineUnderLoad is TestKillNineUnderLoad on one backend: env and args
// make bin serve on it, storeCfg opens its store from the test.
func killNineUnderLoad(t *testing.T, bin string, env []string, storeCfg config.Config, args ...string) {
	args = append(args, "--demo", "--log-level", "warn")
	port := freePort(t)
	srv := runServe(t, bin, port, env, args...)
	load := &killLoad{base: srv.base, client: &http.Client{Transport: &http.Transport{
		MaxIdleConnsPerHost: killSessions * (killCredWorkers + 1), DisableCompression: true}}}
	defer load.client.CloseIdleConnections()
	for range killSessions {
		id, secret, toks := deviceTokens(t, srv.base, srv.region, srv.startURL, "ed.developer", 1)
		s := &killSession{clientID: id, clientSecret: secret}
		s.gotTokens(aws.ToString(toks[0].AccessToken), aws.ToString(toks[0].RefreshToken))
		load.sessions = append(load.sessions, s)
	}

	ctx, stop := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	for _, s := range load.sessions {
		wg.Go(func() {
			for ctx.Err() == nil && load.rotate(ctx, s) {
			}
		})
		for range killCredWorkers {
			wg.Go(func() {
				for ctx.Err() == nil && load.issue(ctx, s) {
				}
			})
		}
	}
	// waitForLoad returns once the workers have had some answers from the
	// server that is up now, so that it dies with requests in flight.
	waitForLoad := func() {
		t.Helper()
		c0, r0 := load.counts()
		deadline := time.Now().Add(20 * time.Second)
		for {
			c, r := load.counts()
			if c-c0 >= killMinCredentials && r-r0 >= killMinRefreshes {
				return
			}
			if time.Now().After(deadline) || load.failed() {
				stop()
				wg.Wait()
				load.report(t)
				t.Fatalf("the server answered %d role credentials and %d refreshes since it started", c-c0, r-r0)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	for range killRounds {
		waitForLoad()
		srv.kill(t)
		srv = runServe(t, bin, port, env, args...)
	}
	waitForLoad()
	stop()
	wg.Wait()
	load.report(t)
	creds, refreshes := load.counts()
	t.Logf("%d kills under load: clients received %d role credentials and %d refreshed token pairs; %d requests lost their answer to a kill and were sent again",
		killRounds, creds, refreshes, load.cut.Load())

	// Every access token received still works on the last server, and
	// each sign-in's chain goes on from its last refresh token.
	cctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	tokens := make(chan string)
	var checks sync.WaitGroup
	for range 8 {
		checks.Go(func() {
			for tok := range tokens {
				status, body, ok := load.do(cctx, func() *http.Request {
					req, _ := http.NewRequest("GET", load.base+"/assignment/accounts", nil)
					req.Header.Set("x-amz-sso_bearer_token", tok)
					return req
				})
				if !ok || status != http.StatusOK {
					load.fail("ListAccounts with a received access token: %d %s", status, body)
				}
			}
		})
	}
	for _, s := range load.sessions {
		for _, tok := range s.accessToks {
			tokens <- tok
		}
	}
	close(tokens)
	checks.Wait()
	for _, s := range load.sessions {
		if !load.rotate(cctx, s) {
			load.fail("the last refresh token of %s did not rotate", s.clientID)
		}
	}
	load.report(t)

	// The last server dies too, so that nothing a graceful shutdown would
	// flush can stand in for an event that was not committed.
	srv.kill(t)
	st, err := server.OpenStore(t.Context(), &storeCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	wantKillEvents(t, st, load.sessions)
}

// wantKillEvents checks that st has a GetRoleCredentials event for each
// access key a session received and, per registration, at least as many
// refresh CreateToken events by ed.developer as refreshes it received.
func wantKillEvents(t *testing.T, st store.Store, sessions []*killSession) {
	t.Helper()
	evs, err := st.ListEvents(t.Context(), store.EventFilter{Name: "GetRoleCredentials", Source: audit.SourcePortal})
	if err != nil {
		t.Fatal(err)
	}
	issued := map[string]bool{}
	for _, ev := range evs {
		var rec struct {
			ResponseElements struct {
				RoleCredentials struct {
					AccessKeyID string `json:"accessKeyId"`
				} `json:"roleCredentials"`
			} `json:"responseElements"`
		}
		if err := json.Unmarshal(ev.Record, &rec); err != nil {
			t.Fatalf("GetRoleCredentials event %s: %v", ev.ID, err)
		}
		issued[rec.ResponseElements.RoleCredentials.AccessKeyID] = true
	}
	evs, err = st.ListEvents(t.Context(), store.EventFilter{Name: "CreateToken", Source: audit.SourceOIDC})
	if err != nil {
		t.Fatal(err)
	}
	refreshEvents := map[string]int{}
	for _, ev := range evs {
		var rec struct {
			ErrorCode         string         `json:"errorCode"`
			UserIdentity      audit.Identity `json:"userIdentity"`
			RequestParameters struct {
				ClientID  string `json:"clientId"`
				GrantType string `json:"grantType"`
			} `json:"requestParameters"`
		}
		if err := json.Unmarshal(ev.Record, &rec); err != nil {
			t.Fatalf("CreateToken event %s: %v", ev.ID, err)
		}
		if rec.ErrorCode != "" || rec.RequestParameters.GrantType != "refresh_token" {
			continue
		}
		refreshEvents[rec.RequestParameters.ClientID]++
		if rec.UserIdentity.UserName != "ed.developer" {
			t.Errorf("refresh event %s names %+v, not ed.developer", ev.ID, rec.UserIdentity)
		}
	}
	for i, s := range sessions {
		lost := 0
		for _, k := range s.accessKeys {
			if !issued[k] {
				lost++
			}
		}
		if lost > 0 {
			t.Errorf("sign-in %d: %d of the %d role credentials its clients received have no GetRoleCredentials event", i, lost, len(s.accessKeys))
		}
		if n := int(s.refreshes.Load()); refreshEvents[s.clientID] < n {
			t.Errorf("sign-in %d: %d refresh CreateToken events, but its client received %d refreshed pairs", i, refreshEvents[s.clientID], n)
		}
	}
}
