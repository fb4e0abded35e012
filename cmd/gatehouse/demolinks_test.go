package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/awsaccounts/mototest"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/server"
)

// TestDemoLinksBanner: with --demo --aws-endpoint the member accounts are
// linked to a real moto_server once the world is loaded, and the banner
// lists each with its role and status and says the management account
// stays Gatehouse's.
func TestDemoLinksBanner(t *testing.T) {
	moto := mototest.Start(t)
	cfg := config.Default()
	cfg.DataDir, cfg.Demo, cfg.AWSEndpoint = t.TempDir(), true, moto.URL
	srv, err := server.New(t.Context(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	meta := mototest.IdPMetadata(t, srv.BaseURL())
	srv.AWSAccounts.IdPMetadata = func(context.Context) (string, error) { return meta, nil }
	links, err := srv.LinkDemoAccounts(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	printDemoLinks(&b, srv, links)
	banner := b.String()
	for _, want := range []string{"AWS stand-in at " + moto.URL, "the management account " + srv.Instance.ManagementAccountID + " stays Gatehouse's",
		"dev ", "staging ", "prod ", "role/OrganizationAccountAccessRole  ACTIVE"} {
		if !strings.Contains(banner, want) {
			t.Fatalf("banner lacks %q:\n%s", want, banner)
		}
	}
	if strings.Count(banner, "ACTIVE") != 3 || strings.Contains(banner, config.DemoAWSSecretAccessKey) {
		t.Fatalf("banner:\n%s", banner)
	}
}
