package portal_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

func TestAccountSearch(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.mustSignIn("alice", alicePassword)
	home := b.get("/start")
	wantStatus(t, home, http.StatusOK)
	wantBody(t, home, `<form method="get" action="/start" role="search"`, `src="/static/portal.js"`, "2 accounts")
	tests := []struct {
		name, q   string
		want, not []string
	}{
		{"by name, any case", "sAnD", []string{sandAccount, "1 of 2 accounts match"}, []string{prodAccount}},
		{"by id", "1111", []string{prodAccount}, []string{sandAccount}},
		{"by email", "production@example", []string{prodAccount}, []string{sandAccount}},
		{"blank is everything", "  ", []string{prodAccount, sandAccount}, nil},
		{"nothing", "zzz", []string{"No account matches"}, []string{prodAccount, sandAccount}},
		{"not someone else's account", "Other", []string{"No account matches"}, []string{otherAccount}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := b.submit(home, "/start", url.Values{"q": {tc.q}})
			wantStatus(t, p, http.StatusOK)
			wantBody(t, p, tc.want...)
			for _, s := range tc.not {
				if strings.Contains(p.Body, s) {
					t.Errorf("search %q shows %s", tc.q, s)
				}
			}
		})
	}
	// Each role links to its access keys.
	wantBody(t, home, `href="/start/credentials?account_id=`+prodAccount+`&amp;role_name=Admin"`)
	// The script is a static file (CSP script-src 'self'): no inline code.
	if strings.Contains(home.Body, "<script>") || !strings.Contains(home.Header.Get("Content-Security-Policy"), "default-src 'self'") {
		t.Errorf("inline script or no CSP: %s", home.Header.Get("Content-Security-Policy"))
	}
	js := b.get("/static/portal.js")
	wantStatus(t, js, http.StatusOK)
}

func TestAccessKeysRefused(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	// Signed out: to the sign-in page, which comes back here, nothing issued.
	keys := "/start/credentials?account_id=" + prodAccount + "&role_name=Admin"
	if p := b.get(keys); p.Status != http.StatusSeeOther || p.Location() != "/login?next="+url.QueryEscape(keys) {
		t.Fatalf("signed out: %d %s", p.Status, p.Location())
	}
	p := b.get("/login?next=" + url.QueryEscape(keys))
	p = b.submit(p, "/login", url.Values{"username": {"alice"}})
	p = b.submit(p, "/login/password", url.Values{"password": {alicePassword}})
	if p.Status != http.StatusSeeOther || p.Location() != keys {
		t.Fatalf("sign-in does not come back to the access keys: %d %s", p.Status, p.Location())
	}
	// A link from another site, or from another host of the same site
	// (a sibling subdomain anyone in the organisation may run), mints
	// nothing.
	for _, site := range []string{"cross-site", "same-site"} {
		b.hdrs = http.Header{"Sec-Fetch-Site": {site}}
		if p := b.get(keys); p.Status != http.StatusForbidden || strings.Contains(p.Body, "AWS_ACCESS_KEY_ID") {
			t.Errorf("%s link: %d\n%s", site, p.Status, p.Body)
		}
	}
	b.hdrs = nil
	for _, q := range []string{
		"account_id=" + otherAccount + "&role_name=Admin", // bob's
		"account_id=" + sandAccount + "&role_name=Admin",  // a role alice lacks there
		"account_id=" + prodAccount + "&role_name=admin",  // names are exact
	} {
		p := b.get("/start/credentials?" + q)
		wantStatus(t, p, http.StatusForbidden)
		wantBody(t, p, "No access")
		if strings.Contains(p.Body, "AWS_ACCESS_KEY_ID") {
			t.Errorf("%s shows credentials", q)
		}
	}
	p = b.get("/start/credentials")
	wantStatus(t, p, http.StatusBadRequest)
	// The refusals are audited as GetRoleCredentials.
	evs, err := e.w.Store.ListEvents(t.Context(), store.EventFilter{Name: "GetRoleCredentials"})
	if err != nil {
		t.Fatal(err)
	}
	refused := 0
	for _, ev := range evs {
		if ev.ErrorCode == "ForbiddenException" {
			refused++
		}
	}
	if refused != 3 {
		t.Errorf("%d refused GetRoleCredentials events, want 3", refused)
	}
	p = b.get("/start/credentials?account_id=" + prodAccount + "&role_name=Admin")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "AWS_ACCESS_KEY_ID", "["+prodAccount+"_Admin]")
}

func TestSignedOutPage(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.mustSignIn("alice", alicePassword)
	u, _ := url.Parse(e.url)
	old := b.c.Jar.Cookies(u)
	p := b.do("POST", "/signout", url.Values{})
	wantStatus(t, p, http.StatusSeeOther)
	p = b.follow(p)
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "You have signed out", `href="/login"`)
	if strings.Contains(p.Body, `action="/signout"`) {
		t.Error("signed-out page offers to sign out")
	}
	// The old cookie, sent again, is refused everywhere.
	replay := e.browser()
	replay.c.Jar.SetCookies(u, old)
	for _, path := range []string{"/start", "/start/credentials?account_id=" + prodAccount + "&role_name=Admin", "/mfa"} {
		if p := replay.get(path); p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location(), "/login") {
			t.Errorf("old cookie on %s: %d %s", path, p.Status, p.Location())
		}
	}
}

// TestNotFoundPage checks the mux fallback on the whole server: a browser
// gets a styled page, the APIs keep their answers.
func TestNotFoundPage(t *testing.T) {
	srv := servertest.New(t, nil)
	do := func(method, path, accept string, hdr map[string]string, body string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), method, srv.URL+path, strings.NewReader(body))
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
	resp, body := do("GET", "/no/such/page", browserAccept, nil, "")
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(body, "Page not found") || !strings.Contains(body, "/static/gatehouse.css") || resp.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("unknown page: %d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	// An unknown path under the portal API is no page.
	resp, body = do("GET", "/federation/nope", browserAccept, nil, "")
	if resp.StatusCode != http.StatusNotFound || strings.Contains(body, "<html") {
		t.Errorf("unknown API path: %d\n%s", resp.StatusCode, body)
	}
	// Nor is an unknown path a client asks for without HTML.
	if resp, body = do("GET", "/no/such/page", "application/json", nil, ""); resp.StatusCode != http.StatusNotFound || strings.Contains(body, "<html") {
		t.Errorf("non-HTML unknown path: %d\n%s", resp.StatusCode, body)
	}
	// A page served with another method keeps the mux's 405.
	if resp, _ = do("GET", "/signout", browserAccept, nil, ""); resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" {
		t.Errorf("GET /signout: %d Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
	if resp, _ = do("DELETE", "/start", "", nil, ""); resp.StatusCode != http.StatusMethodNotAllowed || !strings.Contains(resp.Header.Get("Allow"), "GET") {
		t.Errorf("DELETE /start: %d Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
	// The AWS APIs at / keep their errors.
	resp, body = do("POST", "/", "", map[string]string{"X-Amz-Target": "NoSuchService.NoSuchOp", "Content-Type": "application/x-amz-json-1.1"}, "{}")
	var awsErr struct {
		Type string `json:"__type"`
	}
	if resp.StatusCode != http.StatusBadRequest || json.Unmarshal([]byte(body), &awsErr) != nil || !strings.Contains(awsErr.Type, "UnknownOperationException") {
		t.Errorf("unknown X-Amz-Target: %d %s", resp.StatusCode, body)
	}
	resp, body = do("GET", "/?Action=GetCallerIdentity&Version=2011-06-15", browserAccept, nil, "")
	if resp.StatusCode == http.StatusNotFound || !bytes.Contains([]byte(body), []byte("<ErrorResponse")) {
		t.Errorf("unsigned STS query: %d %s", resp.StatusCode, body)
	}
}
