package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"

	"github.com/gatehouse-dev/gatehouse/internal/domaintest"
)

// Login-path benchmarks: the whole server over loopback with keep-alive,
// each worker a goroutine with its own connection, on this machine's cores
// shared by client and server. Each reports requests per second, p50 and
// p99 latency, and its rate as a fraction of a bare net/http handler's rate
// measured in the same run (BenchmarkLoginPath/Bare runs first).
//
//	go test -run '^$' -bench BenchmarkLoginPath -benchtime 20000x ./e2e/
const benchWorkers = 32

var bareRate atomic.Uint64 // requests per second of the bare handler, this run

func newBenchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchWorkers * 2, MaxConnsPerHost: benchWorkers * 2, DisableCompression: true}}
}

// drive sends b.N requests from benchWorkers workers; next builds a
// worker's next request and check validates its response.
func drive(b *testing.B, bare bool, client *http.Client, next func(worker int) *http.Request, check func(worker int, status int, body []byte) error) {
	b.Helper()
	var idx atomic.Int64
	lat := make([]time.Duration, b.N)
	var failed atomic.Value
	var wg sync.WaitGroup
	b.ResetTimer()
	cpu0 := domaintest.CPUTime(b)
	start := time.Now()
	for w := range benchWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := bytes.NewBuffer(make([]byte, 0, 4096))
			for {
				i := idx.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				req := next(w)
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					failed.Store(err)
					return
				}
				buf.Reset()
				_, err = io.Copy(buf, resp.Body)
				resp.Body.Close()
				lat[i] = time.Since(t0)
				if err == nil {
					err = check(w, resp.StatusCode, buf.Bytes())
				}
				if err != nil {
					failed.Store(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := domaintest.CPUTime(b) - cpu0
	b.StopTimer()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatalf("request failed: %v", err)
	}
	slices.Sort(lat)
	rate := float64(b.N) / elapsed.Seconds()
	b.ReportMetric(rate, "req/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	// CPU time of the whole process (server and client) per request: on a
	// shared machine the wall-clock rate moves with the other load, this
	// much less.
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
	if bare {
		bareRate.Store(uint64(rate))
	} else if r := bareRate.Load(); r > 0 {
		b.ReportMetric(rate/float64(r), "of-bare")
	}
}

// deviceTokens signs user in n times with the SDK device flow on one new
// registration, at the server at base whose home region and start URL are
// region and startURL, and returns the registration's client ID and
// secret and each sign-in's tokens.
func deviceTokens(tb testing.TB, base, region, startURL, user string, n int) (clientID, clientSecret string, tokens []*ssooidc.CreateTokenOutput) {
	tb.Helper()
	ctx := tb.Context()
	oc := ssooidc.NewFromConfig(sdkConfig(region), func(o *ssooidc.Options) { o.BaseEndpoint = aws.String(base) })
	reg, err := oc.RegisterClient(ctx, &ssooidc.RegisterClientInput{ClientName: aws.String("botocore-client-bench"), ClientType: aws.String("public"), Scopes: []string{"sso:account:access"}})
	if err != nil {
		tb.Fatal(err)
	}
	for range n {
		dev, err := oc.StartDeviceAuthorization(ctx, &ssooidc.StartDeviceAuthorizationInput{ClientId: reg.ClientId, ClientSecret: reg.ClientSecret, StartUrl: aws.String(startURL)})
		if err != nil {
			tb.Fatal(err)
		}
		approveDevice(tb, aws.ToString(dev.VerificationUriComplete), user, demoPassword)
		tok, err := oc.CreateToken(ctx, &ssooidc.CreateTokenInput{ClientId: reg.ClientId, ClientSecret: reg.ClientSecret, DeviceCode: dev.DeviceCode,
			GrantType: aws.String("urn:ietf:params:oauth:grant-type:device_code")})
		if err != nil {
			tb.Fatal(err)
		}
		tokens = append(tokens, tok)
	}
	return aws.ToString(reg.ClientId), aws.ToString(reg.ClientSecret), tokens
}

func BenchmarkLoginPath(b *testing.B) {
	srv := demoServer(b)
	client := newBenchClient()

	b.Run("Bare", func(b *testing.B) {
		bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"ok":true}`))
		}))
		defer bare.Close()
		drive(b, true, client, func(int) *http.Request {
			req, _ := http.NewRequest("GET", bare.URL+"/", nil)
			return req
		}, func(_ int, status int, _ []byte) error {
			if status != 200 {
				return fmt.Errorf("status %d", status)
			}
			return nil
		})
	})

	_, _, toks := deviceTokens(b, srv.URL, srv.Instance.Region, srv.Instance.StartURL, "ed.developer", 1)
	access := aws.ToString(toks[0].AccessToken)

	b.Run("GetRoleCredentials", func(b *testing.B) {
		u := srv.URL + "/federation/credentials?role_name=PowerUserAccess&account_id=111111111111"
		drive(b, false, client, func(int) *http.Request {
			req, _ := http.NewRequest("GET", u, nil)
			req.Header.Set("x-amz-sso_bearer_token", access)
			return req
		}, func(_ int, status int, body []byte) error {
			if status != 200 || !bytes.Contains(body, []byte(`"accessKeyId":"ASIA`)) {
				return fmt.Errorf("status %d: %s", status, body)
			}
			return nil
		})
	})

	b.Run("GetCallerIdentity", func(b *testing.B) {
		pc := sso.NewFromConfig(sdkConfig(srv.Instance.Region), func(o *sso.Options) { o.BaseEndpoint = aws.String(srv.URL) })
		rc, err := pc.GetRoleCredentials(context.Background(), &sso.GetRoleCredentialsInput{AccessToken: aws.String(access), AccountId: aws.String("111111111111"), RoleName: aws.String("PowerUserAccess")})
		if err != nil {
			b.Fatal(err)
		}
		creds := aws.Credentials{AccessKeyID: aws.ToString(rc.RoleCredentials.AccessKeyId), SecretAccessKey: aws.ToString(rc.RoleCredentials.SecretAccessKey), SessionToken: aws.ToString(rc.RoleCredentials.SessionToken)}
		body := "Action=GetCallerIdentity&Version=2011-06-15"
		sum := "ab821ae955788b0e33ebd34c208442ccfc2d406e2edc5e7a39bd6458fbb4f843" // sha256 of body
		signer := v4.NewSigner()
		// Each worker signs a request once a second and reuses it: the
		// server verifies every request in full (signature, session
		// token, revocation), the client spends its cores on sending.
		type signed struct {
			at  time.Time
			hdr http.Header
		}
		cache := make([]signed, benchWorkers)
		drive(b, false, client, func(w int) *http.Request {
			req, _ := http.NewRequest("POST", srv.URL+"/", strings.NewReader(body))
			if time.Since(cache[w].at) > time.Second {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
				if err := signer.SignHTTP(context.Background(), creds, req, sum, "sts", "us-east-1", time.Now()); err != nil {
					b.Fatal(err)
				}
				cache[w] = signed{time.Now(), req.Header.Clone()}
			}
			req.Header = cache[w].hdr.Clone()
			return req
		}, func(_ int, status int, body []byte) error {
			if status != 200 || !bytes.Contains(body, []byte("assumed-role/AWSReservedSSO_PowerUserAccess_")) {
				return fmt.Errorf("status %d: %s", status, body)
			}
			return nil
		})
	})

	b.Run("CreateTokenRefresh", func(b *testing.B) {
		clientID, secret, toks := deviceTokens(b, srv.URL, srv.Instance.Region, srv.Instance.StartURL, "ed.developer", benchWorkers)
		refresh := make([]string, benchWorkers)
		for i, t := range toks {
			refresh[i] = aws.ToString(t.RefreshToken)
		}
		drive(b, false, client, func(w int) *http.Request {
			body, _ := json.Marshal(map[string]string{"clientId": clientID, "clientSecret": secret, "grantType": "refresh_token", "refreshToken": refresh[w]})
			req, _ := http.NewRequest("POST", srv.URL+"/token", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			return req
		}, func(w int, status int, body []byte) error {
			var out struct {
				RefreshToken string `json:"refreshToken"`
			}
			if status != 200 || json.Unmarshal(body, &out) != nil || out.RefreshToken == "" {
				return fmt.Errorf("status %d: %s", status, body)
			}
			refresh[w] = out.RefreshToken
			return nil
		})
	})
}
