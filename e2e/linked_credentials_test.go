package e2e

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/awsaccounts"
	"github.com/gatehouse-dev/gatehouse/internal/awsaccounts/mototest"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// putLink stores a link of accountID as the linking code would (status
// ACTIVE), with a fresh UpdatedAt so that cached clients are rebuilt.
func putLink(t *testing.T, srv *servertest.Server, l store.AccountLink) *store.AccountLink {
	t.Helper()
	ctx := t.Context()
	sealed, err := srv.AWSAccounts.SealSecret(l.AccountID, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
	if err != nil {
		t.Fatal(err)
	}
	l.AccessKeyID, l.SealedSecret = "AKIAIOSFODNN7EXAMPLE", sealed
	if l.Region == "" {
		l.Region = "us-east-1"
	}
	if l.Status == "" {
		l.Status = store.LinkActive
	}
	l.CreatedAt, l.UpdatedAt = time.Now(), time.Now()
	if err := srv.Store.Update(ctx, func(tx store.Tx) error { return tx.PutAccountLink(ctx, &l) }); err != nil {
		t.Fatal(err)
	}
	return &l
}

// provisionedRole returns the role name the demo provisioned for
// permission set name in accountID.
func provisionedRole(t *testing.T, srv *servertest.Server, accountID, name string) string {
	t.Helper()
	ps, err := srv.Access.GetPermissionSetByName(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	r, err := srv.Store.GetProvisionedRole(t.Context(), accountID, ps.ID)
	if err != nil {
		t.Fatalf("provisioned role of %s in %s: %v", name, accountID, err)
	}
	return r.RoleName
}

// TestLinkedAccountCredentials: GetRoleCredentials for an account linked
// to a real moto_server returns that stand-in's credentials for the
// provisioned role, whose caller identity is the assumed-role session in
// that account named after the user; the management account keeps
// Gatehouse's own credentials; AWS's refusals and outages are clear portal
// errors, never a 500.
func TestLinkedAccountCredentials(t *testing.T) {
	moto := mototest.Start(t)
	// A fake STS that refuses: AccessDenied (the role does not trust the
	// provider, or is not provisioned yet) and Throttling.
	code, status := "AccessDenied", http.StatusForbidden
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		fmt.Fprintf(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>%s</Code>`+
			`<Message>Not authorized to perform sts:AssumeRoleWithSAML</Message></Error><RequestId>r1</RequestId></ErrorResponse>`, code)
	}))
	defer fake.Close()
	// An endpoint that never answers: the request ends at the federation's
	// deadline with a clear 503, not after minutes.
	stopHanging := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-stopHanging:
		}
	}))
	defer hang.Close()
	defer close(stopHanging)
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	down := "http://" + closed.Addr().String()
	closed.Close()
	// An endpoint off the operator's list (a delegated admin's, or one
	// the operator removed): it gets no assertion and no call.
	var unlistedHits atomic.Int32
	unlisted := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { unlistedHits.Add(1) }))
	defer unlisted.Close()
	// Every endpoint the links below use is on the operator's list.
	srv := servertest.New(t, func(c *config.Config) {
		c.Demo, c.Region = true, "us-east-1"
		c.AWSEndpointAllow = []string{moto.URL, fake.URL, hang.URL, down}
	})
	ctx := t.Context()
	const dev, staging, prod = "111111111111", "333333333333", "222222222222"
	roleName := provisionedRole(t, srv, dev, "AdministratorAccess")
	admin, err := srv.Access.GetPermissionSetByName(ctx, "AdministratorAccess")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Access.UpdatePermissionSet(ctx, admin.ID, access.PermissionSetUpdate{SessionDuration: aws.String("PT4H")}); err != nil {
		t.Fatal(err)
	}

	// In dev (reached through OrganizationAccountAccessRole): Gatehouse's
	// SAML provider and the provisioned role trusting it, as linking and
	// provisioning will make them.
	link := putLink(t, srv, store.AccountLink{AccountID: dev, Endpoint: moto.URL,
		RoleARN: "arn:aws:iam::" + dev + ":role/" + awsaccounts.DefaultRoleName})
	c, err := srv.AWSAccounts.Clients(ctx, link)
	if err != nil {
		t.Fatal(err)
	}
	md, err := srv.SAMLIdP.Metadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The metadata is public at /saml/idp/metadata.
	resp, err := http.Get(srv.URL + "/saml/idp/metadata")
	if err != nil {
		t.Fatal(err)
	}
	served, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(served) != md || !strings.Contains(md, `entityID="`+srv.URL+`/saml/idp"`) {
		t.Fatalf("GET /saml/idp/metadata = %d\n%s", resp.StatusCode, served)
	}
	prov, err := c.IAM.CreateSAMLProvider(ctx, &iam.CreateSAMLProviderInput{Name: aws.String("Gatehouse"), SAMLMetadataDocument: aws.String(md)})
	if err != nil {
		t.Fatalf("CreateSAMLProvider in moto: %v", err)
	}
	trust := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":%q},`+
		`"Action":["sts:AssumeRoleWithSAML","sts:TagSession","sts:SetSourceIdentity"],`+
		`"Condition":{"StringEquals":{"SAML:aud":"https://signin.aws.amazon.com/saml"}}}]}`, aws.ToString(prov.SAMLProviderArn))
	if _, err := c.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(roleName), Path: aws.String("/aws-reserved/sso.amazonaws.com/"),
		AssumeRolePolicyDocument: aws.String(trust), MaxSessionDuration: aws.Int32(43200)}); err != nil {
		t.Fatalf("CreateRole in moto: %v", err)
	}
	link.SAMLProviderARN = aws.ToString(prov.SAMLProviderArn)
	putLink(t, srv, *link)

	_, tok := signInPKCE(t, srv, "alice@company.com")
	pc := sso.NewFromConfig(sdkConfig(srv.Instance.Region), func(o *sso.Options) {
		o.BaseEndpoint = aws.String(srv.URL)
		o.RetryMaxAttempts = 1
	})
	getCreds := func(account, role string) (*sso.GetRoleCredentialsOutput, error) {
		return pc.GetRoleCredentials(ctx, &sso.GetRoleCredentialsInput{AccessToken: tok.AccessToken, AccountId: aws.String(account), RoleName: aws.String(role)})
	}
	before := time.Now()
	out, err := getCreds(dev, "AdministratorAccess")
	if err != nil {
		t.Fatalf("GetRoleCredentials in the linked account: %v", err)
	}
	rc := out.RoleCredentials
	if strings.HasPrefix(aws.ToString(rc.AccessKeyId), "ASIA") && strings.Contains(aws.ToString(rc.SessionToken), ".") {
		t.Fatalf("got Gatehouse's own credentials for a linked account: %s", aws.ToString(rc.AccessKeyId))
	}
	// The permission set's session duration (4 h) reached STS, whose
	// default would be 1 h.
	if exp := time.UnixMilli(rc.Expiration); exp.Before(before.Add(4*time.Hour-time.Minute)) || exp.After(time.Now().Add(4*time.Hour+time.Minute)) {
		t.Fatalf("expiration %s, want 4 h from %s", exp, before)
	}
	mc := sts.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(
		aws.ToString(rc.AccessKeyId), aws.ToString(rc.SecretAccessKey), aws.ToString(rc.SessionToken))},
		func(o *sts.Options) { o.BaseEndpoint = aws.String(moto.URL) })
	id, err := mc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity at the stand-in: %v", err)
	}
	wantARN := "arn:aws:sts::" + dev + ":assumed-role/" + roleName + "/alice@company.com"
	if aws.ToString(id.Account) != dev || aws.ToString(id.Arn) != wantARN {
		t.Fatalf("caller = %s in %s, want %s in %s", aws.ToString(id.Arn), aws.ToString(id.Account), wantARN, dev)
	}

	// Audited like any GetRoleCredentials, with the assumed role's ARN.
	evs, err := srv.Store.ListEvents(ctx, store.EventFilter{Name: "GetRoleCredentials"})
	if err != nil {
		t.Fatal(err)
	}
	var audited bool
	for _, e := range evs {
		audited = audited || (e.ErrorCode == "" && strings.Contains(string(e.Record), wantARN) && strings.Contains(string(e.Record), aws.ToString(rc.AccessKeyId)))
	}
	if !audited {
		t.Fatalf("no GetRoleCredentials event names %s among %d", wantARN, len(evs))
	}

	// The management account stays local: Gatehouse's own credentials.
	local, err := getCreds(srv.Instance.ManagementAccountID, "AdministratorAccess")
	if err != nil {
		t.Fatal(err)
	}
	lc := local.RoleCredentials
	lid, err := stsClient(srv, credentials.NewStaticCredentialsProvider(aws.ToString(lc.AccessKeyId), aws.ToString(lc.SecretAccessKey), aws.ToString(lc.SessionToken))).
		GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(lid.Account) != srv.Instance.ManagementAccountID {
		t.Fatalf("local account credentials: %v %+v", err, lid)
	}

	srv.Issuer.Linked.(*awsaccounts.Federation).Timeout = 2 * time.Second
	const providerARN = "arn:aws:iam::" + staging + ":saml-provider/Gatehouse"
	cases := []struct {
		name     string
		link     store.AccountLink
		setup    func()
		status   int
		code, in string
	}{
		{name: "no SAML provider yet", link: store.AccountLink{AccountID: staging, Endpoint: moto.URL},
			status: 503, code: "ServiceUnavailableException", in: "not yet registered as a SAML provider"},
		{name: "link failed", link: store.AccountLink{AccountID: staging, Endpoint: moto.URL, SAMLProviderARN: providerARN,
			Status: store.LinkFailed, StatusReason: "InvalidClientTokenId"},
			status: 503, code: "ServiceUnavailableException", in: "FAILED (InvalidClientTokenId)"},
		{name: "AWS AccessDenied", link: store.AccountLink{AccountID: staging, Endpoint: fake.URL, SAMLProviderARN: providerARN},
			status: 403, code: "ForbiddenException", in: "AccessDenied: Not authorized to perform sts:AssumeRoleWithSAML"},
		{name: "AWS throttling", link: store.AccountLink{AccountID: staging, Endpoint: fake.URL, SAMLProviderARN: providerARN},
			setup: func() { code, status = "Throttling", http.StatusBadRequest }, status: 429, code: "TooManyRequestsException", in: "throttling"},
		{name: "AWS 500", link: store.AccountLink{AccountID: staging, Endpoint: fake.URL, SAMLProviderARN: providerARN},
			setup: func() { code, status = "InternalFailure", http.StatusInternalServerError }, status: 503, code: "ServiceUnavailableException", in: "unavailable"},
		{name: "endpoint not allowed", link: store.AccountLink{AccountID: staging, Endpoint: unlisted.URL, SAMLProviderARN: providerARN},
			status: 503, code: "ServiceUnavailableException", in: "aws-endpoint-allow"},
		{name: "endpoint hangs", link: store.AccountLink{AccountID: staging, Endpoint: hang.URL, SAMLProviderARN: providerARN},
			status: 503, code: "ServiceUnavailableException", in: "cannot be reached"},
		{name: "endpoint down", link: store.AccountLink{AccountID: staging, Endpoint: down, SAMLProviderARN: providerARN},
			status: 503, code: "ServiceUnavailableException", in: "cannot be reached"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup()
			}
			putLink(t, srv, tc.link)
			_, err := getCreds(staging, "PowerUserAccess")
			re, ok := errors.AsType[*awshttp.ResponseError](err)
			if err == nil || !ok {
				t.Fatalf("GetRoleCredentials = %v, want a %d", err, tc.status)
			}
			if re.HTTPStatusCode() != tc.status || errorCode(err) != tc.code || !strings.Contains(err.Error(), tc.in) {
				t.Fatalf("GetRoleCredentials = %d %s %v, want %d %s containing %q", re.HTTPStatusCode(), errorCode(err), err, tc.status, tc.code, tc.in)
			}
		})
	}
	if n := unlistedHits.Load(); n != 0 {
		t.Fatalf("the endpoint off the list got %d requests", n)
	}
	// The portal's access-keys page says the same (the last link's
	// endpoint is down), as a page, not a 500.
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	if resp, err := hc.PostForm(srv.URL+"/login", url.Values{"username": {"alice@company.com"}, "password": {demoPassword}}); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	resp, err = hc.Get(srv.URL + "/start/credentials?account_id=" + staging + "&role_name=PowerUserAccess")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(page), "cannot be reached") {
		t.Fatalf("access-keys page for an unreachable linked account = %d:\n%s", resp.StatusCode, page)
	}

	// Refusals are audited with their portal error code.
	evs, err = srv.Store.ListEvents(ctx, store.EventFilter{Name: "GetRoleCredentials"})
	if err != nil {
		t.Fatal(err)
	}
	refused := map[string]bool{}
	for _, e := range evs {
		refused[e.ErrorCode] = true
	}
	for _, c := range []string{"ForbiddenException", "TooManyRequestsException", "ServiceUnavailableException"} {
		if !refused[c] {
			t.Errorf("no refused GetRoleCredentials event with %s", c)
		}
	}
	// An unlinked account is untouched by all this.
	if _, err := getCreds(prod, "ReadOnlyAccess"); err != nil {
		t.Fatalf("local prod: %v", err)
	}
}
