package adminapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/gatehouse-dev/gatehouse/internal/awsaccounts/mototest"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// TestLinkAccountEndpointAllowList: a signed LinkAccount to an endpoint
// off the operator's --aws-endpoint-allow is a ValidationException naming
// the setting, stores nothing and never reaches the endpoint (which would
// get Gatehouse-signed assertions); the listed endpoint, however spelled,
// links.
func TestLinkAccountEndpointAllowList(t *testing.T) {
	var hits atomic.Int32
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer evil.Close()
	moto, srv, admin, dev := motoListed(t)
	link := func(endpoint string) gatehouseCall {
		return callGatehouse(t, srv, admin, "LinkAccount", map[string]any{"AccountId": dev, "Endpoint": endpoint,
			"AccessKeyId": "AKIAIOSFODNN7EXAMPLE", "SecretAccessKey": "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"})
	}
	motoHost := strings.TrimPrefix(moto.URL, "http://")
	evilHost := strings.TrimPrefix(evil.URL, "http://")
	before := snapshot(t, srv)
	for _, endpoint := range []string{evil.URL, "http://" + motoHost + "@" + evilHost, evil.URL + "/" + motoHost, "http://localhost:" + strings.Split(motoHost, ":")[1]} {
		r := link(endpoint)
		if r.status != 400 || r.code != "ValidationException" || !strings.Contains(r.message, "Endpoint") {
			t.Fatalf("LinkAccount to %s: %d %s %s, want a ValidationException", endpoint, r.status, r.code, r.message)
		}
	}
	r := link(evil.URL)
	if !strings.Contains(r.message, "--aws-endpoint-allow") || !strings.Contains(r.message, evil.URL) {
		t.Fatalf("the refusal %q does not name the endpoint and the setting", r.message)
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the endpoint off the list got %d requests", n)
	}
	if after := snapshot(t, srv); after.links != before.links {
		t.Fatalf("a refused link changed the links: %+v → %+v", before, after)
	}
	if _, err := srv.Store.GetAccountLink(t.Context(), dev); err == nil {
		t.Fatal("a refused link was stored")
	}

	r = link(moto.URL + "/")
	if r.status != 200 {
		t.Fatalf("LinkAccount to the listed endpoint: %d %s %s", r.status, r.code, r.message)
	}
	if al, _ := r.body["AccountLink"].(map[string]any); al["Status"] != store.LinkActive {
		t.Fatalf("LinkAccount answered %v", r.body)
	}
}

// TestLinkAccountEndpointSpellings: with only the stand-in's
// http://127.0.0.1:PORT listed, the other spellings of a loopback address
// (which some resolvers read as 127.0.0.1), other loopback and any-address
// forms, names that look like AWS hosts, and a region shaped to steer real
// AWS's host name are refused before any call; the stand-in's own address
// spelled with an upper-case scheme or a final "/" links.
func TestLinkAccountEndpointSpellings(t *testing.T) {
	moto, srv, admin, dev := motoListed(t)
	link := func(endpoint, region string) gatehouseCall {
		in := map[string]any{"AccountId": dev, "Endpoint": endpoint,
			"AccessKeyId": "AKIAIOSFODNN7EXAMPLE", "SecretAccessKey": "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"}
		if region != "" {
			in["Region"] = region
		}
		return callGatehouse(t, srv, admin, "LinkAccount", in)
	}
	port := moto.URL[strings.LastIndex(moto.URL, ":")+1:]
	refused := []struct{ endpoint, region string }{
		{"http://127.1:" + port, ""}, {"http://2130706433:" + port, ""}, {"http://0x7f.1:" + port, ""},
		{"http://0x7f000001:" + port, ""}, {"http://127.000.000.001:" + port, ""}, {"http://0177.0.0.1:" + port, ""},
		{"http://127.0.0.1.:" + port, ""}, {"http://[::ffff:127.0.0.1]:" + port, ""}, {"http://[::ffff:7f00:1]:" + port, ""},
		{"http://[::1]:" + port, ""}, {"http://[0:0:0:0:0:0:0:1]:" + port, ""}, {"http://localhost:" + port, ""},
		{"http://localhost.:" + port, ""}, {"http://0.0.0.0:" + port, ""}, {"http://0:" + port, ""}, {"http://[::]:" + port, ""},
		{"http://127.0.0.2:" + port, ""}, {"http://[::1%25lo]:" + port, ""}, {"http://127.0.0.1%2e:" + port, ""},
		{"http://127.0.0.1:" + port + "\t", ""}, {" " + moto.URL, ""}, {moto.URL + " ", ""}, {moto.URL + "\x00", ""},
		{"https://127.0.0.1:" + port, ""}, {"http://127.0.0.1:" + port + "@169.254.169.254", ""},
		{"http://169.254.169.254", ""}, {"http://[fe80::a9fe:a9fe]", ""}, {"http://[::ffff:169.254.169.254]", ""},
		{"https://sts.amazonaws.com.evil.invalid", ""}, {"https://sts.amazonaws.com", ""}, {"https://iam.amazonaws.com", ""},
		{"https://sts.us-east-1.amazonaws.com", ""}, {"http://xn--80ak6aa92e.com:" + port, ""}, {"http://ѕts.amazonaws.com", ""},
		{"http://" + strings.Repeat("a", 300) + ":" + port, ""},
		{"", "us-east-1.evil.invalid"}, {"", "evil.invalid/us-east-1"}, {"", "us-east-1@evil"}, {"", "us-east-1:" + port},
	}
	for _, c := range refused {
		r := link(c.endpoint, c.region)
		if r.status != 400 || r.code != "ValidationException" {
			t.Errorf("LinkAccount to %q in %q: %d %s %s, want a ValidationException", c.endpoint, c.region, r.status, r.code, r.message)
		}
		if _, err := srv.Store.GetAccountLink(t.Context(), dev); err == nil {
			t.Fatalf("LinkAccount to %q in %q stored a link", c.endpoint, c.region)
		}
	}
	for _, endpoint := range []string{"HTTP://127.0.0.1:" + port, moto.URL + "/"} {
		if r := link(endpoint, ""); r.status != 200 {
			t.Fatalf("LinkAccount to %q (the listed endpoint): %d %s %s", endpoint, r.status, r.code, r.message)
		}
	}
}

// motoListed starts a moto stand-in and a demo server listing only it on
// --aws-endpoint-allow, and returns them, an admin's credentials and the
// dev account's ID.
func motoListed(t *testing.T) (*mototest.Server, *servertest.Server, aws.Credentials, string) {
	t.Helper()
	moto := mototest.Start(t)
	srv := servertest.New(t, func(c *config.Config) {
		c.Demo, c.Region, c.AWSEndpointAllow = true, "us-east-1", []string{moto.URL}
	})
	meta := mototest.IdPMetadata(t, srv.URL)
	srv.AWSAccounts.IdPMetadata = func(context.Context) (string, error) { return meta, nil }
	admin := adminCreds(t, srv)
	dev := accountID(t, srv, "dev")
	return moto, srv, admin, dev
}
