package portal_test

import (
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/ssoclient"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// TestListAccountsNamesLinkEndpoint: ListAccounts gives an account linked
// to an IAM/STS endpoint other than AWS that endpoint (gatehouseEndpointUrl),
// since its credentials work only there; a Gatehouse account and one
// linked to real AWS carry none.
func TestListAccountsNamesLinkEndpoint(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	const endpoint = "http://127.0.0.1:5000"
	err := e.w.Store.Update(ctx, func(tx store.Tx) error {
		if err := tx.PutAccountLink(ctx, &store.AccountLink{AccountID: prodAccount, Endpoint: endpoint, Region: "us-east-1",
			AccessKeyID: "AKIAIOSFODNN7EXAMPLE", Status: store.LinkActive}); err != nil {
			return err
		}
		return tx.PutAccountLink(ctx, &store.AccountLink{AccountID: sandAccount, Region: "us-east-1",
			AccessKeyID: "AKIAIOSFODNN7EXAMPLE", Status: store.LinkActive})
	})
	if err != nil {
		t.Fatal(err)
	}
	token := e.deviceLogin(e.browser(), "alice", alicePassword)
	accts, err := (&ssoclient.Client{BaseURL: e.url}).ListAccounts(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, a := range accts {
		got[a.AccountID] = a.EndpointURL
	}
	if len(got) != 2 || got[prodAccount] != endpoint || got[sandAccount] != "" {
		t.Errorf("ListAccounts endpoints %v, want %s for %s and none for %s", got, endpoint, prodAccount, sandAccount)
	}
}
