package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// send posts body to path with a user agent of uaLen bytes and returns the
// status, headers and body.
func send(t *testing.T, srv *servertest.Server, path, contentType, body string, uaLen int) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest("POST", srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Origin", srv.URL)
	req.Header.Set("User-Agent", strings.Repeat("U", uaLen))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func allEvents(t *testing.T, s store.Store) []store.EventRecord {
	t.Helper()
	evs, err := s.ListEvents(t.Context(), store.EventFilter{End: time.Now().Add(48 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// Hardening, second pass, item 2: what an unauthenticated request says is
// stored bounded. A header block over 32 KiB is refused (431); under it,
// a 30 KB user agent and a 20 KB client ID on an unsigned STS call, a
// failed CreateToken and a failed sign-in each leave an event of a few
// kilobytes at most.
func TestUnauthenticatedRequestsStoreBoundedEvents(t *testing.T) {
	srv := servertest.New(t, func(c *config.Config) { c.Demo = true })
	if st, _, _ := send(t, srv, "/", "application/x-www-form-urlencoded", "Action=GetCallerIdentity&Version=2011-06-15", 64<<10); st != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("64 KiB user agent: status %d, want 431", st)
	}
	const ua = 30 << 10
	send(t, srv, "/", "application/x-www-form-urlencoded", "Action=GetCallerIdentity&Version=2011-06-15", ua)
	longID := strings.Repeat("c", 20<<10)
	st, _, body := send(t, srv, "/token", "application/json",
		`{"clientId":"`+longID+`","clientSecret":"s","grantType":"refresh_token","refreshToken":"x"}`, ua)
	if st != http.StatusUnauthorized || !strings.Contains(body, `"invalid_client"`) {
		t.Errorf("over-long clientId: %d %s", st, body)
	}
	st, _, body = send(t, srv, "/token", "application/json",
		`{"clientId":"c","clientSecret":"`+strings.Repeat("s", 5000)+`","grantType":"refresh_token","refreshToken":"x"}`, ua)
	if st != http.StatusBadRequest || !strings.Contains(body, `"invalid_request"`) {
		t.Errorf("over-long clientSecret: %d %s", st, body)
	}
	send(t, srv, "/login", "application/x-www-form-urlencoded", url.Values{"username": {"nobody"}, "password": {"x"}}.Encode(), ua)
	evs := allEvents(t, srv.Store)
	names := map[string]int{}
	for _, ev := range evs {
		names[ev.Source+" "+ev.Name]++
		if len(ev.Record) > 4096 {
			t.Errorf("event %s %s is %d bytes, want at most 4096", ev.Source, ev.Name, len(ev.Record))
		}
	}
	for _, n := range []string{"sts.amazonaws.com GetCallerIdentity", "sso-oauth.amazonaws.com CreateToken", "signin.amazonaws.com CredentialVerification"} {
		if names[n] == 0 {
			t.Errorf("no %s event among %v", n, names)
		}
	}
}

// Hardening, second pass, item 2: failed client authentications at
// CreateToken are limited per source address (20 a minute): past it the
// answer is SlowDownException with Retry-After and nothing is audited.
func TestFailedClientAuthenticationsAreThrottled(t *testing.T) {
	srv := servertest.New(t, nil)
	statuses := map[string]int{}
	for i := range 30 {
		st, h, body := send(t, srv, "/token", "application/json",
			`{"clientId":"nobody-`+strings.Repeat("x", i)+`","clientSecret":"s","grantType":"refresh_token","refreshToken":"x"}`, 10)
		var e struct{ Error string }
		_ = json.Unmarshal([]byte(body), &e)
		statuses[e.Error]++
		if e.Error == "slow_down" && (st != http.StatusBadRequest || h.Get("Retry-After") == "") {
			t.Errorf("throttled answer %d, Retry-After %q", st, h.Get("Retry-After"))
		}
	}
	if statuses["invalid_client"] != 20 || statuses["slow_down"] != 10 {
		t.Errorf("answers %v, want 20 invalid_client then 10 slow_down", statuses)
	}
	n := 0
	for _, ev := range allEvents(t, srv.Store) {
		if ev.Name == "CreateToken" {
			n++
		}
	}
	if n != 20 {
		t.Errorf("%d CreateToken events, want 20 (throttled ones unaudited)", n)
	}
}
