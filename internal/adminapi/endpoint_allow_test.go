package adminapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

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
	moto := mototest.Start(t)
	var hits atomic.Int32
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer evil.Close()
	srv := servertest.New(t, func(c *config.Config) {
		c.Demo, c.Region, c.AWSEndpointAllow = true, "us-east-1", []string{moto.URL}
	})
	meta := mototest.IdPMetadata(t, srv.URL)
	srv.AWSAccounts.IdPMetadata = func(context.Context) (string, error) { return meta, nil }
	admin := adminCreds(t, srv)
	dev := accountID(t, srv, "dev")
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
