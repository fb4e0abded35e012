package portal_test

import (
	"context"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/accesscache"
	"github.com/gatehouse-dev/gatehouse/internal/awsaccounts"
	"github.com/gatehouse-dev/gatehouse/internal/ssoclient"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// link links accountID to the IAM/STS endpoint ("" for real AWS), active.
func (e *env) link(accountID, endpoint, region string) {
	e.t.Helper()
	ctx := e.t.Context()
	err := e.w.Store.Update(ctx, func(tx store.Tx) error {
		return tx.PutAccountLink(ctx, &store.AccountLink{AccountID: accountID, Endpoint: endpoint, Region: region,
			AccessKeyID: "AKIAIOSFODNN7EXAMPLE", Status: store.LinkActive})
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// TestListAccountsNamesLinkEndpoint: ListAccounts gives an account linked
// to an IAM/STS endpoint other than AWS that endpoint (gatehouseEndpointUrl),
// since its credentials work only there; a Gatehouse account and one
// linked to real AWS carry none.
func TestListAccountsNamesLinkEndpoint(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	const endpoint = "http://127.0.0.1:5000"
	e.link(prodAccount, endpoint, "us-east-1")
	e.link(sandAccount, "", "us-east-1")
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

// fakeLinked stands in for awsaccounts.Federation: it hands out fixed
// credentials for every linked account.
type fakeLinked struct{}

func (fakeLinked) Credentials(_ context.Context, l *store.AccountLink, _ awsaccounts.CredentialsRequest) (*awsaccounts.RoleCredentials, error) {
	return &awsaccounts.RoleCredentials{AccessKeyID: "ASIALINKED0000000000", SecretAccessKey: "linked-secret", SessionToken: "linked-token",
		Expiration: time.Now().Add(time.Hour), AssumedRoleARN: "arn:aws:sts::" + l.AccountID + ":assumed-role/AWSReservedSSO_Admin_0/alice"}, nil
}

// endpointLineRe finds the lines of an access-keys page that set an
// endpoint variable, in any shell's syntax.
var endpointLineRe = regexp.MustCompile(`(?m)^.*AWS_ENDPOINT_URL[A-Z_]*[ =].*$`)

// TestAccessKeysPageNamesLinkEndpoint: the access-keys page of an account
// linked to an IAM/STS endpoint other than AWS points the client at that
// endpoint, the only place its credentials work; one linked to real AWS
// sets no endpoint at all; a Gatehouse account keeps Gatehouse's.
func TestAccessKeysPageNamesLinkEndpoint(t *testing.T) {
	e := newEnv(t)
	e.portal.Issuer.Linked = fakeLinked{}
	const endpoint = "http://127.0.0.1:5000"
	e.link(prodAccount, endpoint, "eu-west-1")
	e.link(sandAccount, "", "us-east-1")
	alice := e.browser()
	alice.mustSignIn("alice", alicePassword)

	p := alice.get("/start/credentials?account_id=" + prodAccount + "&role_name=Admin")
	wantStatus(t, p, http.StatusOK)
	body := html.UnescapeString(p.Body)
	if !strings.Contains(body, "ASIALINKED0000000000") {
		t.Fatalf("the moto-linked page does not show the linked credentials:\n%s", body)
	}
	lines := endpointLineRe.FindAllString(body, -1)
	for _, want := range []string{"export AWS_ENDPOINT_URL=" + endpoint, "export AWS_REGION=eu-west-1"} {
		if !strings.Contains(body, want) {
			t.Errorf("the moto-linked page lacks %q", want)
		}
	}
	for _, l := range lines {
		if strings.Contains(l, e.url) {
			t.Errorf("the moto-linked page points at Gatehouse: %q", l)
		}
	}
	if strings.Contains(body, "They work against this Gatehouse") {
		t.Error("the moto-linked page says its credentials work against Gatehouse")
	}

	p = alice.get("/start/credentials?account_id=" + sandAccount + "&role_name=ReadOnly")
	wantStatus(t, p, http.StatusOK)
	body = html.UnescapeString(p.Body)
	if !strings.Contains(body, "ASIALINKED0000000000") {
		t.Fatalf("the AWS-linked page does not show the linked credentials:\n%s", body)
	}
	for _, l := range endpointLineRe.FindAllString(body, -1) {
		if strings.HasPrefix(strings.TrimSpace(l), "export") || strings.HasPrefix(strings.TrimSpace(l), "set -x") || strings.HasPrefix(strings.TrimSpace(l), "$Env:") {
			t.Errorf("the AWS-linked page sets an endpoint: %q", l)
		}
	}
	if strings.Contains(body, "They work against this Gatehouse") || !strings.Contains(body, "work against AWS itself") {
		t.Error("the AWS-linked page does not say its credentials work against AWS")
	}

	bob := e.browser()
	bob.mustSignIn("bob", bobPassword)
	p = bob.get("/start/credentials?account_id=" + otherAccount + "&role_name=Admin")
	wantStatus(t, p, http.StatusOK)
	body = html.UnescapeString(p.Body)
	if !strings.Contains(body, "export AWS_ENDPOINT_URL_STS="+e.url) || strings.Contains(body, endpoint) {
		t.Errorf("the Gatehouse account's page does not point at Gatehouse alone:\n%s", body)
	}
}

// TestHomeNamesLinkEndpoint: the portal's account list says, in each
// linked account's muted line, where its credentials work: "via" the
// link's endpoint, or "via AWS"; a Gatehouse account says nothing.
func TestHomeNamesLinkEndpoint(t *testing.T) {
	e := newEnv(t)
	const endpoint = "http://127.0.0.1:5000"
	e.link(prodAccount, endpoint, "us-east-1")
	alice := e.browser()
	alice.mustSignIn("alice", alicePassword)
	p := alice.get("/start")
	wantStatus(t, p, http.StatusOK)
	line := func(body, id string) string {
		m := regexp.MustCompile(`<p class="muted"><span class="acct-id">` + id + `</span>(.*)</p>`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no line of account %s on the home page:\n%s", id, body)
		}
		return html.UnescapeString(m[1])
	}
	if got := line(p.Body, prodAccount); !strings.Contains(got, "via "+endpoint) {
		t.Errorf("the moto-linked account's line is %q, want it to say via %s", got, endpoint)
	}
	if got := line(p.Body, sandAccount); strings.Contains(got, "via") {
		t.Errorf("the Gatehouse account's line is %q, want no via", got)
	}

	e.link(sandAccount, "", "us-east-1")
	// Past the access cache's refresh interval, as another replica would be.
	e.cacheSkew.Add(int64(accesscache.DefaultRefreshInterval))
	p = alice.get("/start")
	if got := line(p.Body, sandAccount); !strings.Contains(got, "via AWS") {
		t.Errorf("the AWS-linked account's line is %q, want it to say via AWS", got)
	}
}
