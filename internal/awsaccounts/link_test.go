package awsaccounts_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/gatehouse-dev/gatehouse/internal/awsaccounts"
	"github.com/gatehouse-dev/gatehouse/internal/awsaccounts/mototest"
	"github.com/gatehouse-dev/gatehouse/internal/domaintest"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/keyring"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

const (
	testKeyID  = "AKIAIOSFODNN7EXAMPLE"
	testSecret = "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"
	dev        = "111111111111"
	staging    = "222222222222"
)

type linkWorld struct {
	*domaintest.World
	svc  *awsaccounts.Service
	logs *bytes.Buffer
	meta string
}

// newLinkWorld is a bootstrapped world with the member accounts dev and
// staging and a links service whose IdP metadata is a real document.
func newLinkWorld(t *testing.T) *linkWorld {
	t.Helper()
	w := domaintest.New(t)
	master := make([]byte, keyring.MasterKeySize)
	rand.Read(master)
	keys, err := keyring.Open(t.Context(), w.Store, master, rand.Reader, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	err = w.Store.Update(t.Context(), func(tx store.Tx) error {
		for _, id := range []string{dev, staging} {
			if err := tx.CreateAccount(t.Context(), &store.Account{ID: id, Name: "acct-" + id, Email: id + "@example.com",
				State: "ACTIVE", JoinedMethod: "CREATED", CreatedAt: time.Now()}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	lw := &linkWorld{World: w, logs: &bytes.Buffer{}, meta: mototest.IdPMetadata(t, "https://gatehouse.example")}
	lw.svc = &awsaccounts.Service{Store: w.Store, Keys: keys, Audit: w.Audit, Now: time.Now,
		Log:         slog.New(slog.NewJSONHandler(lw.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		IdPMetadata: func(context.Context) (string, error) { return lw.meta, nil }}
	return lw
}

// allow sets the operator's list of endpoints lw's links may use.
func (lw *linkWorld) allow(t *testing.T, urls ...string) {
	t.Helper()
	lw.svc.Endpoints = mustEndpoints(t, urls...)
}

func mustEndpoints(t *testing.T, urls ...string) *awsaccounts.EndpointList {
	t.Helper()
	e, err := awsaccounts.NewEndpointList(urls...)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func wantFault(t *testing.T, err error, kind fault.Kind, contains ...string) {
	t.Helper()
	f, ok := errors.AsType[*fault.Error](err)
	if !ok || f.Kind != kind {
		t.Fatalf("err = %v, want a %v", err, kind)
	}
	for _, c := range contains {
		if !strings.Contains(f.Message, c) {
			t.Fatalf("message %q does not name %q", f.Message, c)
		}
	}
}

// providers lists the SAML providers of accountID in the stand-in, seen
// through the account's own link.
func providers(t *testing.T, lw *linkWorld, accountID string) []string {
	t.Helper()
	l, err := lw.Store.GetAccountLink(t.Context(), accountID)
	if err != nil {
		t.Fatal(err)
	}
	c, err := lw.svc.Clients(t.Context(), l)
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.IAM.ListSAMLProviders(t.Context(), &iam.ListSAMLProvidersInput{})
	if err != nil {
		t.Fatal(err)
	}
	var arns []string
	for _, p := range out.SAMLProviderList {
		arns = append(arns, aws.ToString(p.Arn))
	}
	return arns
}

func TestLinkAccount(t *testing.T) {
	moto := mototest.Start(t)
	lw := newLinkWorld(t)
	lw.allow(t, moto.URL, "http://127.0.0.1:1")
	ctx := t.Context()
	l, err := lw.svc.LinkAccount(ctx, awsaccounts.LinkInput{AccountID: dev, Endpoint: moto.URL, AccessKeyID: testKeyID, SecretAccessKey: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	wantProvider := "arn:aws:iam::" + dev + ":saml-provider/" + awsaccounts.SAMLProviderName(lw.Instance.InstanceID)
	if l.Status != store.LinkActive || l.SAMLProviderARN != wantProvider || l.Region != "us-east-1" ||
		l.RoleARN != "arn:aws:iam::"+dev+":role/OrganizationAccountAccessRole" {
		t.Fatalf("link = %+v, want ACTIVE with %s through OrganizationAccountAccessRole", l, wantProvider)
	}
	if !strings.HasPrefix(awsaccounts.SAMLProviderName(lw.Instance.InstanceID), "GatehouseSSO_") ||
		!strings.HasSuffix(l.SAMLProviderARN, "_DO_NOT_DELETE") || strings.Contains(l.SAMLProviderARN, "ssoins-") {
		t.Fatalf("provider name %s", l.SAMLProviderARN)
	}
	if got := providers(t, lw, dev); len(got) != 1 || got[0] != wantProvider {
		t.Fatalf("providers in %s = %v, want [%s]", dev, got, wantProvider)
	}
	// The stand-in holds the metadata document given.
	c, _ := lw.svc.Clients(ctx, l)
	gp, err := c.IAM.GetSAMLProvider(ctx, &iam.GetSAMLProviderInput{SAMLProviderArn: aws.String(wantProvider)})
	if err != nil || aws.ToString(gp.SAMLMetadataDocument) != lw.meta {
		t.Fatalf("provider document differs (err %v)", err)
	}
	stored, err := lw.Store.GetAccountLink(ctx, dev)
	if err != nil || stored.Status != store.LinkActive || strings.Contains(string(stored.SealedSecret), testSecret) {
		t.Fatalf("stored link %+v, %v", stored, err)
	}

	// Linking again updates the provider in place: still one.
	lw.meta = mototest.IdPMetadata(t, "https://gatehouse.example")
	if l, err = lw.svc.LinkAccount(ctx, awsaccounts.LinkInput{AccountID: dev, Endpoint: moto.URL, AccessKeyID: testKeyID, SecretAccessKey: testSecret}); err != nil || l.Status != store.LinkActive {
		t.Fatalf("relink: %+v %v", l, err)
	}
	if got := providers(t, lw, dev); len(got) != 1 {
		t.Fatalf("providers after relink = %v", got)
	}
	gp, _ = c.IAM.GetSAMLProvider(ctx, &iam.GetSAMLProviderInput{SAMLProviderArn: aws.String(wantProvider)})
	if aws.ToString(gp.SAMLMetadataDocument) != lw.meta {
		t.Fatal("relink did not update the provider's metadata")
	}

	// Linking again through an endpoint that is down keeps the active link.
	_, err = lw.svc.LinkAccount(ctx, awsaccounts.LinkInput{AccountID: dev, Endpoint: "http://127.0.0.1:1", AccessKeyID: testKeyID, SecretAccessKey: testSecret})
	wantFault(t, err, fault.Validation, "the active link is kept", "GetCallerIdentity")
	if kept, err := lw.Store.GetAccountLink(ctx, dev); err != nil || kept.Status != store.LinkActive || kept.Endpoint != moto.URL {
		t.Fatalf("link after a failed relink: %+v, %v", kept, err)
	}

	// RefreshProviders writes a rotated document everywhere.
	if _, err := lw.svc.LinkAccount(ctx, awsaccounts.LinkInput{AccountID: staging, Endpoint: moto.URL, AccessKeyID: testKeyID, SecretAccessKey: testSecret}); err != nil {
		t.Fatal(err)
	}
	lw.meta = mototest.IdPMetadata(t, "https://gatehouse.example")
	if err := lw.svc.RefreshProviders(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{dev, staging} {
		l, _ := lw.Store.GetAccountLink(ctx, id)
		c, _ := lw.svc.Clients(ctx, l)
		gp, err := c.IAM.GetSAMLProvider(ctx, &iam.GetSAMLProviderInput{SAMLProviderArn: aws.String(l.SAMLProviderARN)})
		if err != nil || aws.ToString(gp.SAMLMetadataDocument) != lw.meta {
			t.Fatalf("account %s: provider not refreshed (%v)", id, err)
		}
	}

	views, err := lw.svc.ListAccountLinks(ctx)
	if err != nil || len(views) != 2 || views[0].AccountId != dev || views[1].AccountId != staging || views[0].Status != "ACTIVE" {
		t.Fatalf("list = %+v, %v", views, err)
	}
	v, err := lw.svc.DescribeAccountLink(ctx, dev)
	if err != nil || v.SAMLProviderArn != wantProvider || v.AccessKeyId != testKeyID {
		t.Fatalf("describe = %+v, %v", v, err)
	}
	_, err = lw.svc.DescribeAccountLink(ctx, "333333333333")
	wantFault(t, err, fault.NotFound, "333333333333")

	// The audit trail has the links, without the secret; so do the logs.
	evs, err := lw.Store.ListEvents(ctx, store.EventFilter{End: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range evs {
		if e.Name == "LinkAccount" {
			n++
			if e.Source != "gatehouse.amazonaws.com" || !strings.Contains(string(e.Record), dev) && !strings.Contains(string(e.Record), staging) {
				t.Fatalf("event %s %s", e.Source, e.Record)
			}
		}
		if strings.Contains(string(e.Record), testSecret) {
			t.Fatalf("event %s holds the secret", e.Name)
		}
	}
	if n != 3 {
		t.Fatalf("%d LinkAccount events, want 3", n)
	}
	if strings.Contains(lw.logs.String(), testSecret) || !strings.Contains(lw.logs.String(), "account linked") {
		t.Fatalf("logs: %s", lw.logs)
	}
}

func TestLinkAccountRefusals(t *testing.T) {
	moto := mototest.Start(t)
	lw := newLinkWorld(t)
	lw.allow(t, moto.URL, "http://127.0.0.1:1")
	ctx := t.Context()
	base := awsaccounts.LinkInput{AccountID: dev, Endpoint: moto.URL, AccessKeyID: testKeyID, SecretAccessKey: testSecret}
	before := lw.Snap(t)
	for _, tc := range []struct {
		name     string
		edit     func(*awsaccounts.LinkInput)
		contains []string
	}{
		{"management account", func(in *awsaccounts.LinkInput) { in.AccountID = lw.Instance.ManagementAccountID }, []string{"management account"}},
		{"unknown account", func(in *awsaccounts.LinkInput) { in.AccountID = "444444444444" }, []string{"444444444444"}},
		{"bad account ID", func(in *awsaccounts.LinkInput) { in.AccountID = "dev" }, []string{"AccountId"}},
		{"no secret", func(in *awsaccounts.LinkInput) { in.SecretAccessKey = "" }, []string{"SecretAccessKey"}},
		{"bad endpoint", func(in *awsaccounts.LinkInput) { in.Endpoint = "ftp://x" }, []string{"Endpoint"}},
		{"role name and ARN", func(in *awsaccounts.LinkInput) {
			in.RoleName, in.RoleARN = "A", "arn:aws:iam::"+dev+":role/A"
		}, []string{"not both"}},
		// Credentials that reach another account are refused, naming both.
		{"wrong account", func(in *awsaccounts.LinkInput) {
			in.RoleARN = "arn:aws:iam::" + staging + ":role/OrganizationAccountAccessRole"
		}, []string{staging, dev}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := base
			tc.edit(&in)
			_, err := lw.svc.LinkAccount(ctx, in)
			wantFault(t, err, fault.Validation, tc.contains...)
		})
	}
	if after := lw.Snap(t); after != before {
		t.Fatalf("refusals changed the store: %+v → %+v", before, after)
	}
	if ls, _ := lw.Store.ListAccountLinks(ctx); len(ls) != 0 {
		t.Fatalf("links after refusals: %+v", ls)
	}

	// An unreachable endpoint is a FAILED link with the reason, not an error.
	in := base
	in.Endpoint = "http://127.0.0.1:1"
	l, err := lw.svc.LinkAccount(ctx, in)
	if err != nil || l.Status != store.LinkFailed || !strings.Contains(l.StatusReason, "GetCallerIdentity") || l.SAMLProviderARN != "" {
		t.Fatalf("unreachable: %+v, %v", l, err)
	}
	// An AWS error (credentials the endpoint does not know) is too, with
	// AWS's code and message.
	sts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>`+
			`<Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error>`+
			`<RequestId>r-1</RequestId></ErrorResponse>`)
	}))
	defer sts.Close()
	lw.allow(t, moto.URL, sts.URL)
	in = base
	in.Endpoint = sts.URL
	l, err = lw.svc.LinkAccount(ctx, in)
	if err != nil || l.Status != store.LinkFailed || !strings.Contains(l.StatusReason, "InvalidClientTokenId: The security token included in the request is invalid.") {
		t.Fatalf("refused credentials: %+v, %v", l, err)
	}
	if v, _ := lw.svc.DescribeAccountLink(ctx, dev); v.Status != "FAILED" || v.StatusReason != l.StatusReason {
		t.Fatalf("stored FAILED link: %+v", v)
	}
	if strings.Contains(l.StatusReason, testSecret) {
		t.Fatal("reason holds the secret")
	}
}

func TestUnlinkAccount(t *testing.T) {
	moto := mototest.Start(t)
	lw := newLinkWorld(t)
	lw.allow(t, moto.URL, "http://127.0.0.1:1")
	ctx := t.Context()
	l, err := lw.svc.LinkAccount(ctx, awsaccounts.LinkInput{AccountID: dev, Endpoint: moto.URL, AccessKeyID: testKeyID, SecretAccessKey: testSecret})
	if err != nil || l.Status != store.LinkActive {
		t.Fatalf("link: %+v %v", l, err)
	}
	role := &store.ProvisionedRole{AccountID: dev, PermissionSetID: "ps-1234567890abcdef", RoleName: "AWSReservedSSO_Dev_0123456789abcdef",
		RoleID: "AROAEXAMPLE", PermissionSetVersion: 1, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := lw.Store.Update(ctx, func(tx store.Tx) error { return tx.PutProvisionedRole(ctx, role) }); err != nil {
		t.Fatal(err)
	}
	wantFault(t, lw.svc.UnlinkAccount(ctx, dev), fault.Conflict, "assignments")
	if got := providers(t, lw, dev); len(got) != 1 {
		t.Fatalf("a refused unlink touched the provider: %v", got)
	}
	if err := lw.Store.Update(ctx, func(tx store.Tx) error { return tx.DeleteProvisionedRole(ctx, dev, role.PermissionSetID) }); err != nil {
		t.Fatal(err)
	}
	c, _ := lw.svc.Clients(ctx, l)
	if err := lw.svc.UnlinkAccount(ctx, dev); err != nil {
		t.Fatal(err)
	}
	out, err := c.IAM.ListSAMLProviders(ctx, &iam.ListSAMLProvidersInput{})
	if err != nil || len(out.SAMLProviderList) != 0 {
		t.Fatalf("providers after unlink: %+v %v", out, err)
	}
	if _, err := lw.Store.GetAccountLink(ctx, dev); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("link after unlink: %v", err)
	}
	wantFault(t, lw.svc.UnlinkAccount(ctx, dev), fault.NotFound, dev)
	evs, _ := lw.Store.ListEvents(ctx, store.EventFilter{End: time.Now().Add(time.Hour)})
	found := false
	for _, e := range evs {
		found = found || e.Name == "UnlinkAccount"
	}
	if !found {
		t.Fatal("no UnlinkAccount event")
	}
}
