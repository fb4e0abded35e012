package server_test

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/awsaccounts"
	"github.com/gatehouse-dev/gatehouse/internal/awsproto"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/server"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// TestEndpointListShrinksAcrossRestart: a link to an endpoint the operator
// listed, after a restart without it, gets no clients and no role
// credentials (a 503 naming the setting), and a key rotation's publication
// skips it; the endpoint gets nothing from the restarted server.
func TestEndpointListShrinksAcrossRestart(t *testing.T) {
	var hits atomic.Int32
	ep := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer ep.Close()
	cfg := config.Default()
	cfg.Listen, cfg.DataDir, cfg.DemoPassword, cfg.Demo = "127.0.0.1:0", t.TempDir(), "demo-password-1", true
	start := func(allow ...string) *server.Server {
		c := cfg
		c.AWSEndpointAllow = allow
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		srv, err := server.New(t.Context(), c, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		return srv
	}
	ctx := t.Context()
	srv := start(ep.URL)
	dev := servertest.AccountID(t, srv.Store, "dev")
	sealed, err := srv.AWSAccounts.SealSecret(dev, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	l := &store.AccountLink{AccountID: dev, Endpoint: ep.URL, Region: "us-east-1", AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SealedSecret: sealed,
		SAMLProviderARN: "arn:aws:iam::" + dev + ":saml-provider/GatehouseSSO_x_DO_NOT_DELETE", Status: store.LinkActive, CreatedAt: now, UpdatedAt: now}
	if err := srv.Store.Update(ctx, func(tx store.Tx) error { return tx.PutAccountLink(ctx, l) }); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.AWSAccounts.Clients(ctx, l); err != nil {
		t.Fatalf("Clients while listed: %v", err)
	}
	srv.Close()

	srv = start() // the operator took the endpoint off the list
	defer srv.Close()
	l, err = srv.Store.GetAccountLink(ctx, dev)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.AWSAccounts.Clients(ctx, l); err == nil {
		t.Fatal("Clients after the restart built clients for an endpoint off the list")
	}
	user, err := srv.Store.GetUserByName(ctx, "alice@company.com")
	if err != nil {
		t.Fatal(err)
	}
	fed := &awsaccounts.Federation{Accounts: srv.AWSAccounts, IdP: srv.SAMLIdP}
	_, err = fed.Credentials(ctx, l, awsaccounts.CredentialsRequest{User: user, RoleName: "AWSReservedSSO_Dev_0123456789abcdef",
		SessionDuration: time.Hour, AuthTime: time.Now()})
	if ae, ok := errors.AsType[*awsproto.Error](err); !ok || ae.Status != http.StatusServiceUnavailable || !strings.Contains(ae.Message, "--aws-endpoint-allow") {
		t.Fatalf("Credentials after the restart = %v, want a 503 naming the setting", err)
	}
	if err := srv.AWSAccounts.RefreshProviders(ctx); err != nil {
		t.Fatalf("RefreshProviders after the restart: %v", err)
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the endpoint off the list got %d requests", n)
	}
}
