package oidc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc/types"

	"github.com/gatehouse-dev/gatehouse/internal/accesscache"
	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

var errRollback = errors.New("rollback")

// clientCount is the number of stored client registrations, counted by
// deleting them all in a transaction that is rolled back.
func (e *env) clientCount() int {
	e.t.Helper()
	var n int
	err := e.st.Update(context.Background(), func(tx store.Tx) error {
		var err error
		if n, err = tx.DeleteExpiredClients(context.Background(), e.clock.Now().Add(1000*24*time.Hour)); err != nil {
			return err
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		e.t.Fatalf("count clients: %v", err)
	}
	return n
}

// successes counts the audit events of op that succeeded.
func (e *env) successes(op string) int {
	n := 0
	for _, ev := range e.events() {
		if ev.Name == op && ev.ErrorCode == "" {
			n++
		}
	}
	return n
}

// parallel runs n copies of fn at once and returns how many got each
// (status, x-amzn-ErrorType).
func parallel(n int, fn func() rawResponse) (map[string]int, []rawResponse) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	counts := map[string]int{}
	var all []rawResponse
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			r := fn()
			mu.Lock()
			defer mu.Unlock()
			counts[fmt.Sprintf("%d %s", r.status, r.errorType)]++
			all = append(all, r)
		})
	}
	close(start)
	wg.Wait()
	return counts, all
}

// wantThrottled checks a SlowDownException body: the modelled members and
// the message botocore prints.
func wantThrottled(t *testing.T, r rawResponse) {
	t.Helper()
	var body map[string]string
	if err := json.Unmarshal([]byte(r.body), &body); err != nil {
		t.Fatalf("throttled body %q: %v", r.body, err)
	}
	if r.status != 400 || r.errorType != "SlowDownException" || body["error"] != "slow_down" ||
		body["error_description"] == "" || body["message"] != body["error_description"] {
		t.Fatalf("throttled response = %d %s %s, want 400 SlowDownException with error, error_description and message", r.status, r.errorType, r.body)
	}
}

// TestRegisterClientThrottled is issue 9 item 3: parallel registrations
// from one address beyond 20 per second are refused and store nothing.
func TestRegisterClientThrottled(t *testing.T) {
	e := newEnv(t)
	body := map[string]any{"clientName": "botocore-client-corp", "clientType": "public", "scopes": []string{"sso:account:access"}}
	counts, all := parallel(60, func() rawResponse { return e.post("/client/register", body) })
	if counts["200 "] != 20 || counts["400 SlowDownException"] != 40 {
		t.Fatalf("60 parallel registrations: %v, want 20 registered and 40 SlowDownException", counts)
	}
	for _, r := range all {
		if r.status != 200 {
			wantThrottled(t, r)
			break
		}
	}
	if n := e.clientCount(); n != 20 {
		t.Errorf("%d clients stored, want 20", n)
	}
	// The SDK sees its modelled error.
	_, err := e.client.RegisterClient(t.Context(), &ssooidc.RegisterClientInput{ClientName: aws.String("a"), ClientType: aws.String("public")})
	wantAPIError[*types.SlowDownException](t, err, 400)

	// The next second starts a new window.
	e.clock.Advance(time.Second)
	e.deviceClient("sso:account:access")
	// Another address has its own count.
	if r := e.postFrom("/client/register", body, "203.0.113.5"); r.status != 200 {
		t.Errorf("another address: %d %s", r.status, r.body)
	}
}

// TestStartDeviceAuthorizationThrottled: the same for device codes.
func TestStartDeviceAuthorizationThrottled(t *testing.T) {
	e := newEnv(t)
	c := e.deviceClient("sso:account:access")
	e.clock.Advance(time.Second)
	body := map[string]any{"clientId": c.id, "clientSecret": c.secret, "startUrl": startURL}
	before := e.successes("StartDeviceAuthorization")
	counts, all := parallel(50, func() rawResponse { return e.post("/device_authorization", body) })
	if counts["200 "] != 20 || counts["400 SlowDownException"] != 30 {
		t.Fatalf("50 parallel device authorizations: %v, want 20 started and 30 SlowDownException", counts)
	}
	for _, r := range all {
		if r.status != 200 {
			wantThrottled(t, r)
			break
		}
	}
	if n := e.successes("StartDeviceAuthorization") - before; n != 20 {
		t.Errorf("%d device authorizations recorded, want 20", n)
	}
	_, err := e.client.StartDeviceAuthorization(t.Context(), &ssooidc.StartDeviceAuthorizationInput{
		ClientId: aws.String(c.id), ClientSecret: aws.String(c.secret), StartUrl: aws.String(startURL),
	})
	wantAPIError[*types.SlowDownException](t, err, 400)
	e.clock.Advance(time.Second)
	e.start(c)
}

// TestRegisterClientFieldCaps: oversized bodies and fields are refused
// with the modelled errors and store nothing.
func TestRegisterClientFieldCaps(t *testing.T) {
	e := newEnv(t)
	long := func(n int) string { return strings.Repeat("a", n) }
	many := func(n int, f func(i int) string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	base := func(kv ...any) map[string]any {
		m := map[string]any{"clientName": "a", "clientType": "public"}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	pkce := []string{"authorization_code"}
	tests := []struct {
		name      string
		body      map[string]any
		errorType string
	}{
		{"body over 32 KiB", base("clientName", long(40<<10)), "InvalidRequestException"},
		{"name of 257 characters", base("clientName", strings.Repeat("é", 257)), "InvalidRequestException"},
		{"26 scopes", base("scopes", many(26, func(i int) string { return fmt.Sprintf("s%d", i) })), "InvalidScopeException"},
		{"scope of 129 characters", base("scopes", []string{long(129)}), "InvalidScopeException"},
		{"11 redirect URIs", base("grantTypes", pkce, "redirectUris", many(11, func(i int) string { return fmt.Sprintf("http://127.0.0.1/cb%d", i) })), "InvalidRedirectUriException"},
		{"redirect URI of 1025 characters", base("grantTypes", pkce, "redirectUris", []string{"https://a.example/" + long(1025-18)}), "InvalidRedirectUriException"},
		{"issuerUrl of 1025 characters", base("issuerUrl", "https://a.example/"+long(1025-18)), "InvalidClientMetadataException"},
		{"entitledApplicationArn of 1025 characters", base("entitledApplicationArn", long(1025)), "InvalidClientMetadataException"},
		{"grant type twice", base("grantTypes", []string{"refresh_token", "refresh_token", "refresh_token", "refresh_token"}), "InvalidClientMetadataException"},
		{"refresh_token twice", base("grantTypes", []string{"refresh_token", "refresh_token"}), "InvalidClientMetadataException"},
		{"device code twice with refresh", base("grantTypes", []string{"urn:ietf:params:oauth:grant-type:device_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"}), "InvalidClientMetadataException"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.post("/client/register", tc.body)
			if r.status != 400 || r.errorType != tc.errorType {
				t.Errorf("got %d %s %.200s, want 400 %s", r.status, r.errorType, r.body, tc.errorType)
			}
		})
	}
	if n := e.clientCount(); n != 0 {
		t.Errorf("%d clients stored after refused registrations, want 0", n)
	}
	if n := e.successes("RegisterClient"); n != 0 {
		t.Errorf("%d successful RegisterClient events, want 0", n)
	}
	// At the caps it works.
	e.clock.Advance(time.Second)
	ok := base("clientName", strings.Repeat("é", 256), "scopes", many(25, func(i int) string { return fmt.Sprintf("s%d", i) }),
		"grantTypes", []string{"authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"},
		"redirectUris", many(10, func(i int) string { return fmt.Sprintf("https://a.example/%d/%s", i, long(1000)) }),
		"issuerUrl", "https://a.example/"+long(1000))
	if r := e.post("/client/register", ok); r.status != 200 {
		t.Errorf("registration at every cap: %d %.300s", r.status, r.body)
	}
}

// TestRegisterClientNameCharacters is issue 9 item 6: names that could
// hide or disguise text on the approval page are refused.
func TestRegisterClientNameCharacters(t *testing.T) {
	e := newEnv(t)
	bad := map[string]string{
		"NUL":                     "aws\x00cli",
		"escape":                  "aws\x1b[31mcli",
		"newline":                 "aws\ncli",
		"DEL":                     "aws\x7fcli",
		"C1 NEL":                  "aws\u0085cli",
		"right-to-left override":  "aws\u202ecli",
		"left-to-right embedding": "aws\u202acli",
		"first strong isolate":    "aws\u2068cli",
		"pop directional isolate": "aws\u2069cli",
		"zero-width space":        "aws\u200bcli",
		"byte order mark":         "\ufeffaws",
		"line separator":          "aws\u2028cli",
		"tag character":           "aws\U000E0041",
		"spaces only":             "   ",
		"no-break space only":     "\u00a0",
		"ideographic space only":  "\u3000\u3000",
		"Hangul filler only":      "\u3164",
		"halfwidth Hangul filler": "\uffa0",
		"blank Braille pattern":   "\u2800\u2800",
		"grapheme joiner only":    "\u034f",
		"fillers and spaces":      " \u3164 \u2800 ",
		"combining marks only":    "\u0301\u0302",
		"255 stacked marks":       "a" + strings.Repeat("\u0301", 255),
		"five stacked marks":      "a\u0301\u0302\u0303\u0304\u0305",
		"private use":             "aws\ue000cli",
		"private use plane 15":    "\U000F0000",
		"noncharacter FFFE":       "aws\ufffe",
		"noncharacter FDD0":       "\ufdd0x",
		"noncharacter 10FFFF":     "a\U0010FFFF",
	}
	for name, clientName := range bad {
		t.Run(name, func(t *testing.T) {
			e.clock.Advance(time.Second)
			r := e.post("/client/register", map[string]any{"clientName": clientName, "clientType": "public"})
			if r.status != 400 || r.errorType != "InvalidClientMetadataException" || !strings.Contains(r.body, `"error":"invalid_client_metadata"`) {
				t.Errorf("got %d %s %s, want 400 InvalidClientMetadataException", r.status, r.errorType, r.body)
			}
		})
	}
	if n := e.clientCount(); n != 0 {
		t.Errorf("%d clients stored, want 0", n)
	}
	for _, good := range []string{"botocore-client-corp", "Zoë's CLI", "東京 tools", "عربي", "rocket 🚀", "tab-free name (v2.9)",
		"Zoe\u0308", "Tie\u0302\u0301ng Vie\u0323\u0302t", "हिन्दी", "ภาษาไทย", "한국어 CLI", "-", "★"} {
		e.clock.Advance(time.Second)
		if r := e.post("/client/register", map[string]any{"clientName": good, "clientType": "public"}); r.status != 200 {
			t.Errorf("name %q: %d %s", good, r.status, r.body)
		}
	}
}

// TestLoopbackRedirectPort is issue 9 item 6: a redirect URI whose port is
// not a TCP port is refused at registration and never matches at
// /authorize.
func TestLoopbackRedirectPort(t *testing.T) {
	e := newEnv(t)
	for _, uri := range []string{
		"http://127.0.0.1:99999/cb", "http://127.0.0.1:0/cb", "http://127.0.0.1:65536/cb", "http://localhost:99999/cb",
		"http://[::1]:99999/cb", "http://127.0.0.1:/cb", "http://127.0.0.1:08080/cb", "https://a.example:99999/cb",
	} {
		r := e.post("/client/register", registrationBody(uri))
		if r.status != 400 || r.errorType != "InvalidRedirectUriException" {
			t.Errorf("register %s: got %d %s %s, want 400 InvalidRedirectUriException", uri, r.status, r.errorType, r.body)
		}
	}
	e.clock.Advance(time.Second)
	for _, uri := range []string{"http://127.0.0.1:1/cb", "http://127.0.0.1:65535/cb", "http://[::1]:8080/cb"} {
		if r := e.post("/client/register", registrationBody(uri)); r.status != 200 {
			t.Errorf("register %s: %d %s", uri, r.status, r.body)
		}
	}

	c := e.pkceClient() // http://127.0.0.1/oauth/callback, any port at /authorize
	_, ch := pkce()
	for _, got := range []string{"http://127.0.0.1:99999/oauth/callback", "http://127.0.0.1:0/oauth/callback", "http://127.0.0.1:/oauth/callback"} {
		_, err := e.svc.ParseAuthorize(t.Context(), authorizeQuery(c.id, got, ch))
		if err == nil {
			t.Errorf("ParseAuthorize accepted redirect_uri %s", got)
		}
	}
	if _, err := e.svc.ParseAuthorize(t.Context(), authorizeQuery(c.id, "http://127.0.0.1:65535/oauth/callback", ch)); err != nil {
		t.Errorf("ParseAuthorize with port 65535: %v", err)
	}
}

func registrationBody(redirectURI string) map[string]any {
	return map[string]any{"clientName": "a", "clientType": "public", "grantTypes": []string{"authorization_code"}, "redirectUris": []string{redirectURI}}
}

// postFrom is post as if from addr: the handler sees addr as the audit
// actor's source address, as the server's middleware resolves it.
func (e *env) postFrom(path string, body any, addr string) rawResponse {
	e.t.Helper()
	mux := http.NewServeMux()
	e.svc.Register(mux)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux.ServeHTTP(w, r.WithContext(audit.WithActor(r.Context(), audit.Actor{SourceIP: addr})))
	}))
	defer srv.Close()
	b, err := json.Marshal(body)
	if err != nil {
		e.t.Fatal(err)
	}
	resp, err := http.Post(srv.URL+path, "application/json", bytes.NewReader(b))
	if err != nil {
		e.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	return rawResponse{resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"), string(rb)}
}

// Hardening, second pass, item 3: a registration at every cap stores a
// compact audit event (not a second copy of its redirect URIs and scopes).
func TestRegisterClientAuditIsCompact(t *testing.T) {
	e := newEnv(t)
	uris := make([]string, 10)
	for i := range uris {
		uris[i] = fmt.Sprintf("http://127.0.0.1:%d/", 1000+i) + strings.Repeat("p", 1000)
	}
	scopes := make([]string, 25)
	for i := range scopes {
		scopes[i] = "s" + strings.Repeat("x", 120) + fmt.Sprint(i)
	}
	r := e.post("/client/register", map[string]any{
		"clientName": strings.Repeat("é", 256), "clientType": "public", "scopes": scopes,
		"grantTypes": []string{"authorization_code", "refresh_token"}, "redirectUris": uris,
		"issuerUrl": "https://issuer.example/" + strings.Repeat("i", 1000),
	})
	if r.status != 200 {
		t.Fatalf("registration at the caps: %d %s", r.status, r.body)
	}
	for _, ev := range e.events() {
		if ev.Name != "RegisterClient" {
			continue
		}
		if len(ev.Record) > 2048 {
			t.Errorf("RegisterClient event is %d bytes, want at most 2048", len(ev.Record))
		}
		for _, want := range []string{`"redirectUriCount":10`, `"scopeCount":25`, `"clientName":"éé`} {
			if !strings.Contains(string(ev.Record), want) {
				t.Errorf("RegisterClient event lacks %s: %.300s", want, ev.Record)
			}
		}
	}
}

// Hardening, second pass, item 3: one address registers at most 2,000
// clients a day, even spread under the per-second and per-hour limits.
func TestRegisterClientDailyCap(t *testing.T) {
	e := newEnv(t)
	body := map[string]any{"clientName": "daily", "clientType": "public"}
	ok := 0
	for i := range 2000 {
		if i > 0 && i%20 == 0 {
			e.clock.Advance(time.Second)
		}
		if i == 1000 {
			e.clock.Advance(time.Hour)
		}
		if r := e.post("/client/register", body); r.status == 200 {
			ok++
		} else {
			t.Fatalf("registration %d: %d %s", i, r.status, r.body)
		}
	}
	e.clock.Advance(time.Hour)
	r := e.post("/client/register", body)
	wantThrottled(t, r)
	if !strings.Contains(r.body, "per 24h0m0s") {
		t.Errorf("refusal does not name the daily limit: %s", r.body)
	}
	if r := e.postFrom("/client/register", body, "203.0.113.7"); r.status != 200 {
		t.Errorf("another address: %d %s", r.status, r.body)
	}
	e.clock.Advance(24 * time.Hour)
	if r := e.post("/client/register", body); r.status != 200 {
		t.Errorf("next day: %d %s", r.status, r.body)
	}
}

// TestClientAuthFailureLimitStopsValidCredentials: once a source is past
// ClientAuthFailureLimits, its requests are refused with SlowDownException
// even with the right client secret (so guessing a secret ends at the
// limit), on every replica of the store and after a restart, whether or
// not the replica has the registration cached; the refused refresh
// consumes nothing, and the source gets through once the window ends.
func TestClientAuthFailureLimitStopsValidCredentials(t *testing.T) {
	e := newEnv(t)
	c := e.deviceClient("sso:account:access")
	rt := aws.ToString(e.deviceLogin(c).RefreshToken)
	serve := func() string {
		mux := http.NewServeMux()
		e.replica(accesscache.New(e.st, e.clock.Now)).Register(mux)
		srv := httptest.NewServer(mux)
		t.Cleanup(srv.Close)
		return srv.URL
	}
	post := func(t *testing.T, base, path string, body any) rawResponse {
		t.Helper()
		b, _ := json.Marshal(body)
		resp, err := http.Post(base+path, "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
		defer resp.Body.Close()
		rb, _ := io.ReadAll(resp.Body)
		return rawResponse{resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"), string(rb)}
	}
	refresh := func(t *testing.T, base, secret string) rawResponse {
		return post(t, base, "/token", map[string]string{"clientId": c.id, "clientSecret": secret, "grantType": "refresh_token", "refreshToken": rt})
	}
	// A second replica that has the registration cached (it served a
	// refresh), a third that has not.
	cached := serve()
	r := refresh(t, cached, c.secret)
	if r.status != 200 {
		t.Fatalf("refresh on a second replica: %d %s", r.status, r.body)
	}
	var out struct{ RefreshToken string }
	if err := json.Unmarshal([]byte(r.body), &out); err != nil {
		t.Fatal(err)
	}
	rt = out.RefreshToken

	for i := range 20 {
		if r := refresh(t, e.srv.URL, "wrong"); r.status != 401 {
			t.Fatalf("failure %d: %d %s, want 401", i+1, r.status, r.body)
		}
	}
	restarted := serve()
	for _, tc := range []struct{ name, base string }{{"same replica", e.srv.URL}, {"replica with the client cached", cached}, {"restarted replica", restarted}} {
		t.Run(tc.name, func(t *testing.T) {
			wantThrottled(t, refresh(t, tc.base, c.secret))
			wantThrottled(t, post(t, tc.base, "/device_authorization", map[string]string{"clientId": c.id, "clientSecret": c.secret, "startUrl": startURL}))
			wantThrottled(t, post(t, tc.base, "/token", map[string]string{"clientId": c.id, "clientSecret": c.secret, "grantType": "urn:ietf:params:oauth:grant-type:device_code", "deviceCode": "x"}))
			wantThrottled(t, post(t, tc.base, "/token", map[string]string{"clientId": c.id, "clientSecret": c.secret, "grantType": "refresh_token"}))
		})
	}

	e.clock.Advance(time.Minute)
	if r := refresh(t, e.srv.URL, c.secret); r.status != 200 {
		t.Fatalf("refresh after the window: %d %s, want 200 (the refused ones consumed nothing)", r.status, r.body)
	}
}
