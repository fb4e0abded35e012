package oidc_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/gatehouse-dev/gatehouse/internal/accesscache"
	"github.com/gatehouse-dev/gatehouse/internal/domaintest"
)

// TestRefreshCacheUnavailable: a refresh whose revocation check cannot be
// made (the store's change counter unreadable) is a retryable 503
// temporarily_unavailable with Retry-After, logged at Warn, not a 500; the
// refresh token is not used up, so the retry succeeds.
func TestRefreshCacheUnavailable(t *testing.T) {
	e := newEnv(t)
	c := e.deviceClient("sso:account:access")
	tok := e.deviceLogin(c)
	seq := &domaintest.SeqFault{Store: e.st}
	seq.Down.Store(true)
	var logs domaintest.LogBuffer
	s := e.replica(accesscache.New(seq, e.clock.Now))
	s.Log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	mux := http.NewServeMux()
	s.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	body, _ := json.Marshal(map[string]string{"clientId": c.id, "clientSecret": c.secret, "grantType": "refresh_token",
		"refreshToken": aws.ToString(tok.RefreshToken)})
	resp, err := http.Post(srv.URL+"/token", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" ||
		!strings.Contains(string(b), `"error":"temporarily_unavailable"`) {
		t.Errorf("refresh with the counter unreadable: %d Retry-After %q %s, want 503 temporarily_unavailable Retry-After 1",
			resp.StatusCode, resp.Header.Get("Retry-After"), b)
	}
	if l := logs.String(); strings.Contains(l, "level=ERROR") || !strings.Contains(l, "level=WARN") {
		t.Errorf("logged:\n%s\nwant Warn, no Error", l)
	}

	seq.Down.Store(false)
	resp, err = http.Post(srv.URL+"/token", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("retried refresh: %d, want 200 (the token was not used up)", resp.StatusCode)
	}
}
