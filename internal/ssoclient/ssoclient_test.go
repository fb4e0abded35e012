package ssoclient

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// answers is a RoundTripper that answers each request with the next of a
// list of (status, error type, body) and records the paths asked.
type answers struct {
	list  []answer
	paths []string
}

type answer struct {
	status    int
	errorType string
	body      string
}

func (a *answers) RoundTrip(r *http.Request) (*http.Response, error) {
	a.paths = append(a.paths, r.URL.Path)
	next := a.list[0]
	a.list = a.list[1:]
	h := http.Header{"Content-Type": {"application/json"}}
	if next.errorType != "" {
		h.Set("X-Amzn-Errortype", next.errorType)
	}
	return &http.Response{StatusCode: next.status, Header: h, Body: io.NopCloser(strings.NewReader(next.body)), Request: r}, nil
}

// TestPollTokenWaitsAsRFC8628Says: AuthorizationPending waits the interval,
// SlowDown adds 5 s to it (RFC 8628 §3.5), a token ends the loop.
func TestPollTokenWaitsAsRFC8628Says(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := &answers{list: []answer{
			{400, "AuthorizationPendingException", `{"error":"authorization_pending"}`},
			{400, "SlowDownException:http://internal.amazon.com/coral/", `{"error":"slow_down"}`},
			{400, "AuthorizationPendingException", `{"error":"authorization_pending"}`},
			{200, "", `{"accessToken":"at","expiresIn":3600,"refreshToken":"rt","tokenType":"Bearer"}`},
		}}
		c := &Client{BaseURL: "http://gatehouse.test", HTTP: &http.Client{Transport: a}}
		start := time.Now()
		tok, err := c.PollToken(t.Context(), Registration{ClientID: "c", ClientSecret: "s"}, DeviceAuthorization{DeviceCode: "d", Interval: 1})
		if err != nil {
			t.Fatal(err)
		}
		// 1 s, then 6 s twice.
		if waited := time.Since(start); waited != 13*time.Second {
			t.Errorf("polled for %v, want 13s", waited)
		}
		if tok.AccessToken != "at" || tok.RefreshToken != "rt" || !tok.ExpiresAt.Equal(start.Add(13*time.Second+time.Hour).UTC().Truncate(time.Second)) {
			t.Errorf("token = %+v", tok)
		}
	})
}

func TestErrorsAreNamedAsTheSDKsNameThem(t *testing.T) {
	tests := []struct {
		a        answer
		code     string
		contains string
	}{
		{answer{401, "UnauthorizedException", `{"message":"Session token not found or invalid"}`}, "UnauthorizedException", "Session token not found"},
		{answer{400, "", `{"__type":"com.amazonaws.sso#InvalidRequestException","Message":"bad"}`}, "InvalidRequestException", "bad"},
		{answer{400, "", `{"error":"invalid_grant","error_description":"no such code"}`}, "invalid_grant", "no such code"},
		{answer{502, "", `<html>bad gateway</html>`}, "HTTP502", "Bad Gateway"},
	}
	for _, tt := range tests {
		c := &Client{BaseURL: "http://gatehouse.test", HTTP: &http.Client{Transport: &answers{list: []answer{tt.a}}}}
		_, err := c.ListAccounts(t.Context(), "token")
		if !IsCode(err, tt.code) || !strings.Contains(err.Error(), tt.contains) {
			t.Errorf("%+v: %v, want code %s and %q", tt.a, err, tt.code, tt.contains)
		}
	}
}

func TestListFollowsNextToken(t *testing.T) {
	a := &answers{list: []answer{
		{200, "", `{"accountList":[{"accountId":"111111111111","accountName":"dev"}],"nextToken":"n1"}`},
		{200, "", `{"accountList":[{"accountId":"222222222222","accountName":"prod"}]}`},
	}}
	c := &Client{BaseURL: "http://gatehouse.test", HTTP: &http.Client{Transport: a}}
	got, err := c.ListAccounts(t.Context(), "token")
	if err != nil || len(got) != 2 || got[1].AccountName != "prod" {
		t.Fatalf("ListAccounts = %+v, %v", got, err)
	}
}

// TestErrorNamesStatusOnce: an answer without an error type reads
// "HTTP 404: Not Found", not "HTTP404 (HTTP 404): Not Found".
func TestErrorNamesStatusOnce(t *testing.T) {
	for _, tt := range []struct {
		a    answer
		want string
	}{
		{answer{404, "", `not json`}, "discover http://gatehouse.test: HTTP 404: Not Found"},
		{answer{400, "InvalidRequestException", `{"message":"bad start URL"}`}, "discover http://gatehouse.test: InvalidRequestException (HTTP 400): bad start URL"},
	} {
		c := &Client{BaseURL: "http://gatehouse.test", HTTP: &http.Client{Transport: &answers{list: []answer{tt.a}}}}
		_, err := c.Discover(t.Context())
		if err == nil || err.Error() != tt.want {
			t.Errorf("Discover with %d: %v, want %q", tt.a.status, err, tt.want)
		}
	}
}
