package portal_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/sso/types"

	"github.com/gatehouse-dev/gatehouse/internal/accesscache"
)

// TestGetRoleCredentialsCacheStale is the hotload failure: with the store's
// change counter unreadable for longer than the access cache's MaxStale,
// GetRoleCredentials fails closed with the portal's retryable
// TooManyRequestsException (429) and Retry-After, logged at Warn, never a
// 500; once the counter reads again the call succeeds.
func TestGetRoleCredentialsCacheStale(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	token := e.deviceLogin(e.browser(), "alice", alicePassword)
	in := &sso.GetRoleCredentialsInput{AccessToken: aws.String(token), AccountId: aws.String(prodAccount), RoleName: aws.String("Admin")}
	if _, err := e.ssoC.GetRoleCredentials(ctx, in); err != nil {
		t.Fatalf("GetRoleCredentials: %v", err)
	}

	e.seq.Down.Store(true)
	e.cacheSkew.Add(int64(accesscache.DefaultMaxStale + time.Second))
	req, _ := http.NewRequestWithContext(ctx, "GET", e.url+"/federation/credentials?role_name=Admin&account_id="+prodAccount, nil)
	req.Header.Set("x-amz-sso_bearer_token", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("X-Amzn-Errortype") != "TooManyRequestsException" ||
		resp.Header.Get("Retry-After") != "1" {
		t.Errorf("stale cache: %d %q Retry-After %q, want 429 TooManyRequestsException Retry-After 1",
			resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"), resp.Header.Get("Retry-After"))
	}
	_, err = e.ssoC.GetRoleCredentials(ctx, in)
	if !isErr[*ssotypes.TooManyRequestsException](err) {
		t.Errorf("SDK GetRoleCredentials with a stale cache: %v, want TooManyRequestsException", err)
	}
	logs := e.logs.String()
	if strings.Contains(logs, "level=ERROR") || !strings.Contains(logs, "level=WARN msg=\"portal api failed\"") {
		t.Errorf("stale cache logged:\n%s\nwant Warn, no Error", logs)
	}

	e.seq.Down.Store(false)
	e.cacheSkew.Add(int64(accesscache.DefaultRefreshInterval))
	if _, err := e.ssoC.GetRoleCredentials(ctx, in); err != nil {
		t.Errorf("GetRoleCredentials after the counter reads again: %v", err)
	}
}

// TestClientGoneNotAnError: a portal API request whose client went away
// before its answer was written (its context cancelled) is logged at Debug
// as "client went away", not at Error.
func TestClientGoneNotAnError(t *testing.T) {
	e := newEnv(t)
	token := e.deviceLogin(e.browser(), "alice", alicePassword)
	// The handler sees the request's context cancelled, as net/http does
	// when the connection closes; the request is served in-process so the
	// cancellation lands before the handler runs.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "/federation/credentials?role_name=Admin&account_id="+prodAccount, nil)
	req.Header.Set("x-amz-sso_bearer_token", token)
	rec := &discardWriter{h: http.Header{}}
	e.srv.Config.Handler.ServeHTTP(rec, req)
	logs := e.logs.String()
	if strings.Contains(logs, "level=ERROR") {
		t.Errorf("cancelled request logged at Error:\n%s", logs)
	}
	if rec.status < 400 {
		t.Fatalf("request with a cancelled context answered %d, want a failure", rec.status)
	}
	if !strings.Contains(logs, `level=DEBUG msg="client went away"`) {
		t.Errorf("cancelled request (status %d) not logged as client went away:\n%s", rec.status, logs)
	}
}

// discardWriter is an http.ResponseWriter that keeps only the status.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}
func (w *discardWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return len(b), nil
}
