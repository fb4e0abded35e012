package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/awsaccounts/mototest"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// TestLinkDemoAccounts links the demo's dev, staging and prod (not the
// management account) to a real moto_server, each through
// OrganizationAccountAccessRole, with Gatehouse's SAML provider in each.
func TestLinkDemoAccounts(t *testing.T) {
	moto := mototest.Start(t)
	// The second start below (the stand-in down at another address) is on
	// the operator's list too.
	srv := servertest.New(t, func(c *config.Config) {
		c.Demo, c.AWSEndpoint, c.AWSEndpointAllow = true, moto.URL, []string{"http://127.0.0.1:1"}
	})
	meta := mototest.IdPMetadata(t, srv.URL)
	srv.AWSAccounts.IdPMetadata = func(context.Context) (string, error) { return meta, nil }
	links, err := srv.LinkDemoAccounts(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, d := range links {
		names[d.Name] = true
		l := d.Link
		if l.AccountID == srv.Instance.ManagementAccountID {
			t.Fatal("the management account was linked")
		}
		if l.Status != store.LinkActive || l.RoleARN != "arn:aws:iam::"+l.AccountID+":role/OrganizationAccountAccessRole" || l.Endpoint != moto.URL {
			t.Fatalf("%s: %+v", d.Name, l)
		}
		c, err := srv.AWSAccounts.Clients(t.Context(), l)
		if err != nil {
			t.Fatal(err)
		}
		out, err := c.IAM.ListSAMLProviders(t.Context(), &iam.ListSAMLProvidersInput{})
		if err != nil || len(out.SAMLProviderList) != 1 || *out.SAMLProviderList[0].Arn != l.SAMLProviderARN {
			t.Fatalf("%s: providers %+v, %v", d.Name, out, err)
		}
	}
	if len(links) != 3 || !names["dev"] || !names["staging"] || !names["prod"] {
		t.Fatalf("linked %v, want dev, staging and prod", names)
	}
	if _, err := srv.Store.GetAccountLink(t.Context(), srv.Instance.ManagementAccountID); err == nil {
		t.Fatal("the management account has a link")
	}

	// Linking queued each account's roles for IAM.
	ops, err := srv.Store.ListOperations(t.Context(), store.OperationFilter{Kind: access.OpReconcileRole, Page: store.Page{Limit: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	perAccount := map[string]int{}
	for _, op := range ops {
		perAccount[op.AccountID]++
	}
	for _, d := range links {
		roles, err := srv.Store.ListProvisionedRoles(t.Context(), store.RoleFilter{AccountID: d.Link.AccountID})
		if err != nil {
			t.Fatal(err)
		}
		if len(roles) == 0 || perAccount[d.Link.AccountID] != len(roles) {
			t.Fatalf("%s: %d queued roles for %d roles", d.Name, perAccount[d.Link.AccountID], len(roles))
		}
	}

	// A start with the stand-in down keeps the links and says why.
	srv.Config.AWSEndpoint = "http://127.0.0.1:1"
	again, err := srv.LinkDemoAccounts(t.Context())
	if err != nil || len(again) != 3 {
		t.Fatalf("linking with the stand-in down: %d links, %v", len(again), err)
	}
	for _, d := range again {
		if d.Link.Status != store.LinkFailed || !strings.Contains(d.Link.StatusReason, "the active link is kept") {
			t.Fatalf("%s: %+v", d.Name, d.Link)
		}
		if l, err := srv.Store.GetAccountLink(t.Context(), d.Link.AccountID); err != nil || l.Status != store.LinkActive || l.Endpoint != moto.URL {
			t.Fatalf("%s's stored link: %+v, %v", d.Name, l, err)
		}
	}
}
