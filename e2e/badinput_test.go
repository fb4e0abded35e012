package e2e

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestBadInputNeverFailsTheServer sends malformed requests to every route
// and checks that each gets a client error in its protocol's shape — an
// x-amzn-ErrorType header and JSON body, an awsQuery ErrorResponse, or an
// HTML page — and never a 5xx.
func TestBadInputNeverFailsTheServer(t *testing.T) {
	srv := demoServer(t)
	type kind int
	const (
		restJSON kind = iota // x-amzn-ErrorType + JSON body
		query                // awsQuery XML ErrorResponse
		page                 // an HTML page
	)
	cases := []struct {
		name, method, path, contentType, body string
		header                                map[string]string
		want                                  kind
	}{
		{"register: not JSON", "POST", "/client/register", "application/json", "{", nil, restJSON},
		{"register: wrong types", "POST", "/client/register", "application/json", `{"clientName":5,"clientType":["public"]}`, nil, restJSON},
		{"register: empty", "POST", "/client/register", "application/json", ``, nil, restJSON},
		{"device: unknown client", "POST", "/device_authorization", "application/json", `{"clientId":"x","clientSecret":"y","startUrl":"z"}`, nil, restJSON},
		{"token: not JSON", "POST", "/token", "application/json", "\x00\xff", nil, restJSON},
		{"token: nothing", "POST", "/token", "application/json", `{}`, nil, restJSON},
		{"token: huge", "POST", "/token", "application/json", `{"clientId":"` + strings.Repeat("a", 2<<20) + `"}`, nil, restJSON},
		{"credentials: no token", "GET", "/federation/credentials", "", "", nil, restJSON},
		{"credentials: bad token, no params", "GET", "/federation/credentials", "", "", map[string]string{"x-amz-sso_bearer_token": "nope"}, restJSON},
		{"accounts: bad paging", "GET", "/assignment/accounts?max_result=-4&next_token=%%%", "", "", map[string]string{"x-amz-sso_bearer_token": "nope"}, restJSON},
		{"roles: no account", "GET", "/assignment/roles", "", "", map[string]string{"x-amz-sso_bearer_token": "nope"}, restJSON},
		{"logout: no token", "POST", "/logout", "", "", nil, restJSON},
		{"json target: unknown", "POST", "/", "application/x-amz-json-1.1", "{}", map[string]string{"X-Amz-Target": "SWBExternalService.Nope"}, restJSON},
		{"sts: unsigned", "POST", "/", "application/x-www-form-urlencoded", "Action=GetCallerIdentity&Version=2011-06-15", nil, query},
		{"sts: garbage form", "POST", "/", "application/x-www-form-urlencoded", "%zz&&==", nil, query},
		{"sts: bad authorization", "POST", "/", "application/x-www-form-urlencoded", "Action=GetCallerIdentity", map[string]string{"Authorization": "AWS4-HMAC-SHA256 Credential=ASIA/x/y/sts/aws4_request, SignedHeaders=host, Signature=zz"}, query},
		{"iam: forged token", "POST", "/", "application/x-www-form-urlencoded", "Action=ListRoles&Version=2010-05-08", map[string]string{
			"Authorization": "AWS4-HMAC-SHA256 Credential=ASIAAAAAAAAAAAAAAAAA/20261122/us-east-1/iam/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + strings.Repeat("0", 64),
			"X-Amz-Date":    "20261122T000000Z", "X-Amz-Security-Token": "forged.token"}, query},
		{"sts: web identity, nothing", "POST", "/", "application/x-www-form-urlencoded", "Action=AssumeRoleWithWebIdentity&Version=2011-06-15", nil, query},
		{"sts: web identity, garbage token", "POST", "/", "application/x-www-form-urlencoded",
			"Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A111111111111%3Arole%2Fx&RoleSessionName=ab&WebIdentityToken=" + strings.Repeat("%ff.", 100), nil, query},
		{"sts: web identity, huge token", "POST", "/", "application/x-www-form-urlencoded",
			"Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A111111111111%3Arole%2Fx&RoleSessionName=ab&WebIdentityToken=" + strings.Repeat("a", 30000), nil, query},
		{"iam: unknown long-lived key", "POST", "/", "application/x-www-form-urlencoded", "Action=CreateUser&Version=2010-05-08&UserName=x", map[string]string{
			"Authorization": "AWS4-HMAC-SHA256 Credential=AKIAAAAAAAAAAAAAAAAA/20261122/us-east-1/iam/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + strings.Repeat("0", 64),
			"X-Amz-Date":    "20261122T000000Z"}, query},
		{"authorize: nothing", "GET", "/authorize", "", "", nil, page},
		{"authorize: unknown client", "GET", "/authorize?response_type=code&client_id=x&redirect_uri=http%3A%2F%2F127.0.0.1%3A1%2Foauth%2Fcallback&code_challenge=a&code_challenge_method=S256&state=s", "", "", nil, page},
		{"device page: bad code", "GET", "/device?user_code=%00%00", "", "", nil, page},
		{"device post: no session", "POST", "/device", "application/x-www-form-urlencoded", "user_code=BBBB-CCCC&action=allow", nil, page},
		{"login: empty", "POST", "/login", "application/x-www-form-urlencoded", "", nil, page},
		{"login: garbage state", "POST", "/login/password", "application/x-www-form-urlencoded", "state=%ff%fe&password=x", nil, page},
		{"login: next is elsewhere", "GET", "/login?next=https%3A%2F%2Fevil.example%2F", "", "", nil, page},
		{"mfa: signed out", "POST", "/mfa", "application/x-www-form-urlencoded", "code=123456", nil, page},
		{"login enrol: garbage state", "POST", "/login/enrol", "application/x-www-form-urlencoded", "state=%ff%fe&code=1", nil, page},
		{"login key: garbage", "POST", "/login/key", "application/x-www-form-urlencoded", "state=x&key_state=y&answer=%7B", nil, page},
		{"login passkey: garbage", "POST", "/login/passkey", "application/x-www-form-urlencoded", "key_state=%ff&answer=%7B%7D", nil, page},
		{"reauth: signed out", "POST", "/reauth", "application/x-www-form-urlencoded", "password=x", nil, page},
		{"account: end session signed out", "POST", "/account/sessions/end", "application/x-www-form-urlencoded", "session=x", nil, page},
		{"mfa key: signed out", "POST", "/mfa/key", "application/x-www-form-urlencoded", "answer=%7B%7D", nil, page},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, err := http.NewRequest(c.method, srv.URL+c.path, strings.NewReader(c.body))
			if err != nil {
				t.Fatal(err)
			}
			if c.contentType != "" {
				req.Header.Set("Content-Type", c.contentType)
			}
			for k, v := range c.header {
				req.Header.Set(k, v)
			}
			client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode >= 500 {
				t.Fatalf("status %d:\n%s", resp.StatusCode, body)
			}
			switch c.want {
			case restJSON:
				if resp.StatusCode < 400 || resp.Header.Get("x-amzn-ErrorType") == "" || !strings.HasPrefix(strings.TrimSpace(string(body)), "{") {
					t.Fatalf("status %d, x-amzn-ErrorType %q, body %s", resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"), body)
				}
			case query:
				if resp.StatusCode < 400 || !strings.Contains(string(body), "<ErrorResponse") || !strings.Contains(string(body), "<Code>") {
					t.Fatalf("status %d, body %s", resp.StatusCode, body)
				}
			case page:
				if loc := resp.Header.Get("Location"); loc != "" && !strings.HasPrefix(loc, "/") {
					t.Fatalf("redirect to %q", loc)
				}
				if resp.StatusCode < 300 && !strings.Contains(resp.Header.Get("Content-Type"), "text/html") {
					t.Fatalf("status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
				}
			}
		})
	}
}
