package oidc_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// BenchmarkCreateTokenRefresh measures the refresh_token grant end to end:
// JSON over loopback HTTP with keep-alive, client authentication, the
// rotation transaction on SQLite and the audit event, from parallel
// clients that each hold their own token chain.
func BenchmarkCreateTokenRefresh(b *testing.B) {
	e := newEnv(b)
	c := e.deviceClient("sso:account:access")
	const parallelism = 8
	b.SetParallelism(parallelism)
	chains := make(chan string, 512)
	for range cap(chains) {
		chains <- aws.ToString(e.deviceLogin(c).RefreshToken)
		if len(chains) >= parallelism*64 {
			break
		}
	}
	hc := &http.Client{Transport: &http.Transport{MaxIdleConns: 512, MaxIdleConnsPerHost: 512}}
	url := e.srv.URL + "/token"
	type request struct {
		ClientID     string `json:"clientId"`
		ClientSecret string `json:"clientSecret"`
		GrantType    string `json:"grantType"`
		RefreshToken string `json:"refreshToken"`
	}
	type response struct {
		RefreshToken string `json:"refreshToken"`
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		rt := <-chains
		for pb.Next() {
			body, _ := json.Marshal(request{c.id, c.secret, "refresh_token", rt})
			resp, err := hc.Post(url, "application/json", bytes.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			data, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var out response
			if resp.StatusCode != http.StatusOK || json.Unmarshal(data, &out) != nil || out.RefreshToken == "" {
				b.Errorf("refresh: %d %s", resp.StatusCode, data)
				return
			}
			rt = out.RefreshToken
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkAuthenticateAccessToken measures the portal API's token check in
// steady state: a cached token and a revocation check through the access
// cache, with no database read.
func BenchmarkAuthenticateAccessToken(b *testing.B) {
	e := newEnv(b)
	at := aws.ToString(e.deviceLogin(e.deviceClient("sso:account:access")).AccessToken)
	ctx := b.Context()
	if _, err := e.svc.AuthenticateAccessToken(ctx, at); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := e.svc.AuthenticateAccessToken(ctx, at); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
