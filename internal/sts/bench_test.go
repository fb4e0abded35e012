package sts_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/gatehouse-dev/gatehouse/internal/sts"
)

// The benchmarks run client and server in one process over loopback with
// keep-alive connections, so on a small machine the client's work competes
// with the server's: req/s is what the pair achieves, a lower bound on the
// server alone. BenchmarkBareHTTP measures the same client against a handler
// that does nothing, for the ratio.
//
//	go test -run '^$' -bench . -benchtime 3s ./internal/sts

// parallelism is RunParallel's goroutines per CPU for the loopback
// benchmarks: enough requests in flight to keep both sides busy.
var parallelism = 16

const gciBody = "Action=GetCallerIdentity&Version=2011-06-15"

// benchClient returns an HTTP client keeping enough idle connections for
// RunParallel's goroutines.
func benchClient() *http.Client {
	n := 4 * runtime.GOMAXPROCS(0)
	return &http.Client{Transport: &http.Transport{MaxIdleConns: n, MaxIdleConnsPerHost: n, DisableCompression: true}}
}

// signed returns a POST of GetCallerIdentity signed with c now.
func signed(tb testing.TB, url string, c *sts.Credentials, signer *v4.Signer) *http.Request {
	r, err := http.NewRequest(http.MethodPost, url+"/", bytes.NewReader([]byte(gciBody)))
	if err != nil {
		tb.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(gciBody))
	if err := signer.SignHTTP(tb.Context(), aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken},
		r, hex.EncodeToString(sum[:]), "sts", "us-west-2", time.Now()); err != nil {
		tb.Fatal(err)
	}
	return r
}

// do sends r and fails unless the answer is 200; it drains the body so the
// connection is reused.
func do(b *testing.B, cl *http.Client, r *http.Request) {
	resp, err := cl.Do(r)
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("status %d", resp.StatusCode)
	}
}

func reportRate(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkGetCallerIdentity measures verified GetCallerIdentity calls:
// HTTP, SigV4 verification, envelope open, revocation and entitlement
// checks and the XML response, every request.
//
//   - replay: the client sends one signed request over and over (the server
//     still verifies each in full; nothing on the server caches a verdict),
//     so the client costs what a bare HTTP client costs;
//   - sign-each: the client signs every request with the SDK's v4 signer;
//   - sdk: every request goes through the aws-sdk-go-v2 STS client.
func BenchmarkGetCallerIdentity(b *testing.B) {
	e := newEnv(b)
	c := e.issue(b)
	signer := v4.NewSigner()

	b.Run("replay", func(b *testing.B) {
		cl := benchClient()
		tmpl := signed(b, e.url, c, signer)
		do(b, cl, tmpl.Clone(b.Context()))
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				r := tmpl.Clone(b.Context())
				r.Body = io.NopCloser(bytes.NewReader([]byte(gciBody)))
				do(b, cl, r)
			}
		})
		reportRate(b)
	})
	b.Run("sign-each", func(b *testing.B) {
		cl := benchClient()
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				do(b, cl, signed(b, e.url, c, signer))
			}
		})
		reportRate(b)
	})
	b.Run("sdk", func(b *testing.B) {
		cl := e.client(c)
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := cl.GetCallerIdentity(b.Context(), &awssts.GetCallerIdentityInput{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		reportRate(b)
	})
}

// BenchmarkBareHTTP is the "replay" client against a handler that reads the
// body and writes a fixed response of the same size: the ceiling the
// loopback pair allows on this machine.
func BenchmarkBareHTTP(b *testing.B) {
	resp := []byte(`<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_ReadOnly_0123456789abcdef/alice@example.test</Arn><UserId>AROAEXAMPLEROLEID1234:alice@example.test</UserId><Account>111122223333</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>3f0a0000-0000-4000-8000-000000000000</RequestId></ResponseMetadata></GetCallerIdentityResponse>`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/xml")
		w.Header().Set("X-Amzn-Requestid", "3f0a0000-0000-4000-8000-000000000000")
		w.Write(resp)
	}))
	b.Cleanup(srv.Close)
	e := newEnv(b)
	c := e.issue(b)
	cl := benchClient()
	tmpl := signed(b, srv.URL, c, v4.NewSigner())
	b.ReportAllocs()
	b.SetParallelism(parallelism)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := tmpl.Clone(b.Context())
			r.Body = io.NopCloser(bytes.NewReader([]byte(gciBody)))
			do(b, cl, r)
		}
	})
	reportRate(b)
}

// BenchmarkServeHTTP runs the STS handler without a network: the server's
// own cost per verified request.
func BenchmarkServeHTTP(b *testing.B) {
	e := newEnv(b)
	c := e.issue(b)
	tmpl := signed(b, "http://sts.test", c, v4.NewSigner())
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := tmpl.Clone(b.Context())
			r.Body = io.NopCloser(bytes.NewReader([]byte(gciBody)))
			w := httptest.NewRecorder()
			e.svc.ServeHTTP(w, r)
			if w.Code != http.StatusOK {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
	})
	reportRate(b)
}

// BenchmarkOpen measures the SecretFunc alone: envelope open, expiry,
// revocation and entitlement checks.
func BenchmarkOpen(b *testing.B) {
	e := newEnv(b)
	c := e.issue(b)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := e.issuer.Open(b.Context(), c.AccessKeyID, c.SessionToken); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkIssue measures minting credentials, including the audit event
// each issue writes to SQLite.
func BenchmarkIssue(b *testing.B) {
	e := newEnv(b)
	e.issue(b)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.issuer.Issue(b.Context(), e.principal, testAccount, "ReadOnly"); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b)
}
