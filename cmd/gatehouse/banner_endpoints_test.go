package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/server"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// TestBannerAWSEndpoints: the start banner shows the operator's list of AWS
// endpoints (--aws-endpoint-allow), and warns of each stored account link
// whose endpoint is off it, naming the account and the endpoint; a link
// to real AWS or to a listed endpoint gets no warning.
func TestBannerAWSEndpoints(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Demo = true
	cfg.AWSEndpointAllow = []string{"HTTP://Moto.Example:5000/"}
	srv, err := server.New(t.Context(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	ctx := t.Context()
	dev, staging, prod := servertest.AccountID(t, srv.Store, "dev"), servertest.AccountID(t, srv.Store, "staging"), servertest.AccountID(t, srv.Store, "prod")
	err = srv.Store.Update(ctx, func(tx store.Tx) error {
		for _, l := range []store.AccountLink{
			{AccountID: dev, Endpoint: "http://moto.example:5000"},
			{AccountID: staging, Endpoint: "http://127.0.0.1:4566"},
			{AccountID: prod},
		} {
			l.Region, l.AccessKeyID, l.Status = "us-east-1", "AKIAIOSFODNN7EXAMPLE", store.LinkActive
			if err := tx.PutAccountLink(ctx, &l); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := printBanner(ctx, &b, srv, ""); err != nil {
		t.Fatal(err)
	}
	banner := b.String()
	if !strings.Contains(banner, "AWS endpoints:  real AWS and http://moto.example:5000 (--aws-endpoint-allow)\n") {
		t.Errorf("banner does not show the allow-list:\n%s", banner)
	}
	// Under --demo --aws-endpoint the list holds that URL too, and the
	// banner names the flag that put it there.
	demo := *srv
	demo.Config.AWSEndpoint = "http://moto.example:5000"
	var d bytes.Buffer
	if err := printBanner(ctx, &d, &demo, ""); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(d.String(), "(--aws-endpoint-allow, and --aws-endpoint with --demo)\n") {
		t.Errorf("demo banner does not name --aws-endpoint:\n%s", d.String())
	}
	warn := "WARNING: account " + staging + " is linked to http://127.0.0.1:4566, which is not on --aws-endpoint-allow"
	if !strings.Contains(banner, warn) {
		t.Errorf("banner lacks %q:\n%s", warn, banner)
	}
	if n := strings.Count(banner, "WARNING:"); n != 1 {
		t.Errorf("%d warnings, want 1 (the listed endpoint and real AWS are allowed):\n%s", n, banner)
	}
}
