package adminapi_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// orgs returns an organizations client of srv signing with creds.
func orgs(srv *servertest.Server, creds aws.Credentials) *organizations.Client {
	return organizations.NewFromConfig(aws.Config{Region: srv.Instance.Region, Credentials: credentials(creds)},
		func(o *organizations.Options) { o.BaseEndpoint = aws.String(srv.URL) })
}

// grantOnManagement gives user a permission set named name on the
// management account whose inline policy allows actions, and returns the
// user's credentials for it.
func grantOnManagement(t *testing.T, srv *servertest.Server, user, name string, actions ...string) aws.Credentials {
	t.Helper()
	ctx := t.Context()
	ps, err := srv.Access.CreatePermissionSet(ctx, access.PermissionSetInput{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := json.Marshal(map[string]any{"Version": "2012-10-17",
		"Statement": []any{map[string]any{"Effect": "Allow", "Action": actions, "Resource": "*"}}})
	if err := srv.Access.PutInlinePolicy(ctx, ps.ID, string(doc)); err != nil {
		t.Fatal(err)
	}
	u, err := srv.Store.GetUserByName(ctx, user)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Access.CreateAssignment(ctx, access.AssignmentInput{AccountID: srv.Instance.ManagementAccountID,
		PermissionSetID: ps.ID, PrincipalType: store.PrincipalUser, PrincipalID: u.ID}); err != nil {
		t.Fatal(err)
	}
	return roleCreds(t, srv, user, "management", name)
}

// sourceEvents fails unless the store holds an audit event of source
// named name with the error code code ("" for success) and a caller.
func sourceEvents(t *testing.T, srv *servertest.Server, source, name, code string) {
	t.Helper()
	evs, err := srv.Store.ListEvents(t.Context(), store.EventFilter{Name: name, Source: source, Page: store.Page{Limit: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if e.ErrorCode == code && bytes.Contains(e.Record, []byte(`"userIdentity":{"type":"AssumedRole"`)) {
			return
		}
	}
	t.Errorf("no %s event %q with error code %q among %d", source, name, code, len(evs))
}

func orgAPIError(t *testing.T, err error) smithy.APIError {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v is not an API error", err)
	}
	return ae
}

func TestOrganizationsAccounts(t *testing.T) {
	srv := demoServer(t)
	ctx := t.Context()
	c := orgs(srv, adminCreds(t, srv))
	mgmt := srv.Instance.ManagementAccountID

	org, err := c.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil {
		t.Fatalf("DescribeOrganization: %v", err)
	}
	o := org.Organization
	orgID := aws.ToString(o.Id)
	if !regexp.MustCompile(`^o-[a-z0-9]{10,32}$`).MatchString(orgID) || aws.ToString(o.MasterAccountId) != mgmt ||
		aws.ToString(o.MasterAccountArn) != "arn:aws:organizations::"+mgmt+":account/"+orgID+"/"+mgmt ||
		aws.ToString(o.Arn) != "arn:aws:organizations::"+mgmt+":organization/"+orgID || o.FeatureSet != orgtypes.OrganizationFeatureSetAll {
		t.Errorf("organization = %+v", o)
	}

	// Every account, one page at a time.
	var got []string
	pages := organizations.NewListAccountsPaginator(c, &organizations.ListAccountsInput{MaxResults: aws.Int32(1)})
	n := 0
	for pages.HasMorePages() {
		p, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListAccounts page %d: %v", n, err)
		}
		if len(p.Accounts) != 1 {
			t.Errorf("page %d has %d accounts, want 1", n, len(p.Accounts))
		}
		for _, a := range p.Accounts {
			got = append(got, aws.ToString(a.Id))
		}
		n++
	}
	stored, err := srv.Store.ListAccounts(ctx, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, a := range stored {
		want = append(want, a.ID)
	}
	if diff := cmp.Diff(want, got); diff != "" || n < 2 {
		t.Errorf("ListAccounts over %d pages (-want +got):\n%s", n, diff)
	}

	dev := accountID(t, srv, "dev")
	d, err := c.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(dev)})
	if err != nil {
		t.Fatalf("DescribeAccount: %v", err)
	}
	a := d.Account
	if aws.ToString(a.Name) != "dev" || aws.ToString(a.Arn) != "arn:aws:organizations::"+mgmt+":account/"+orgID+"/"+dev ||
		a.State != orgtypes.AccountStateActive || a.Status != orgtypes.AccountStatusActive || a.JoinedTimestamp == nil ||
		time.Since(*a.JoinedTimestamp) > time.Hour || aws.ToString(a.Email) == "" {
		t.Errorf("account = %+v", a)
	}

	// CreateAccount answers IN_PROGRESS; the status says SUCCEEDED.
	cr, err := c.CreateAccount(ctx, &organizations.CreateAccountInput{Email: aws.String("sandbox@company.com"), AccountName: aws.String("sandbox"),
		Tags: []orgtypes.Tag{{Key: aws.String("team"), Value: aws.String("platform")}}})
	if err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	if cr.CreateAccountStatus.State != orgtypes.CreateAccountStateInProgress ||
		!regexp.MustCompile(`^car-[a-z0-9]{8,32}$`).MatchString(aws.ToString(cr.CreateAccountStatus.Id)) {
		t.Errorf("CreateAccount status = %+v", cr.CreateAccountStatus)
	}
	st, err := c.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: cr.CreateAccountStatus.Id})
	if err != nil {
		t.Fatalf("DescribeCreateAccountStatus: %v", err)
	}
	if st.CreateAccountStatus.State != orgtypes.CreateAccountStateSucceeded || st.CreateAccountStatus.CompletedTimestamp == nil {
		t.Fatalf("status = %+v", st.CreateAccountStatus)
	}
	sandbox := aws.ToString(st.CreateAccountStatus.AccountId)
	d, err = c.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(sandbox)})
	if err != nil || aws.ToString(d.Account.Name) != "sandbox" || d.Account.JoinedMethod != orgtypes.AccountJoinedMethodCreated {
		t.Fatalf("DescribeAccount(new) = %+v, %v", d, err)
	}

	// The same e-mail address again: the request fails, as AWS reports it.
	cr2, err := c.CreateAccount(ctx, &organizations.CreateAccountInput{Email: aws.String("SANDBOX@company.com"), AccountName: aws.String("sandbox2")})
	if err != nil {
		t.Fatalf("CreateAccount(duplicate e-mail): %v", err)
	}
	st, err = c.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: cr2.CreateAccountStatus.Id})
	if err != nil || st.CreateAccountStatus.State != orgtypes.CreateAccountStateFailed ||
		st.CreateAccountStatus.FailureReason != orgtypes.CreateAccountFailureReasonEmailAlreadyExists {
		t.Errorf("status of duplicate = %+v, %v", st, err)
	}

	// Statuses, filtered and paged.
	var ids []string
	spages := organizations.NewListCreateAccountStatusPaginator(c, &organizations.ListCreateAccountStatusInput{MaxResults: aws.Int32(1)})
	for spages.HasMorePages() {
		p, err := spages.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListCreateAccountStatus: %v", err)
		}
		for _, s := range p.CreateAccountStatuses {
			ids = append(ids, aws.ToString(s.Id))
		}
	}
	if len(ids) != 2 {
		t.Errorf("ListCreateAccountStatus = %v, want 2 statuses", ids)
	}
	failed, err := c.ListCreateAccountStatus(ctx, &organizations.ListCreateAccountStatusInput{States: []orgtypes.CreateAccountState{orgtypes.CreateAccountStateFailed}})
	if err != nil || len(failed.CreateAccountStatuses) != 1 || aws.ToString(failed.CreateAccountStatuses[0].Id) != aws.ToString(cr2.CreateAccountStatus.Id) {
		t.Errorf("ListCreateAccountStatus(FAILED) = %+v, %v", failed, err)
	}

	roots, err := c.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil || len(roots.Roots) != 1 {
		t.Fatalf("ListRoots = %+v, %v", roots, err)
	}
	root := roots.Roots[0]
	rootID := aws.ToString(root.Id)
	if !regexp.MustCompile(`^r-[0-9a-z]{4,32}$`).MatchString(rootID) || aws.ToString(root.Arn) != "arn:aws:organizations::"+mgmt+":root/"+orgID+"/"+rootID {
		t.Errorf("root = %+v", root)
	}
	parents, err := c.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String(sandbox)})
	if err != nil || len(parents.Parents) != 1 || aws.ToString(parents.Parents[0].Id) != rootID || parents.Parents[0].Type != orgtypes.ParentTypeRoot {
		t.Errorf("ListParents = %+v, %v", parents, err)
	}
	if a := d.Account; len(a.Paths) != 1 || a.Paths[0] != orgID+"/"+rootID+"/"+sandbox+"/" {
		t.Errorf("Paths = %v", a.Paths)
	}

	// Tags.
	if _, err := c.TagResource(ctx, &organizations.TagResourceInput{ResourceId: aws.String(sandbox),
		Tags: []orgtypes.Tag{{Key: aws.String("cost-center"), Value: aws.String("42")}, {Key: aws.String("team"), Value: aws.String("data")}}}); err != nil {
		t.Fatalf("TagResource: %v", err)
	}
	if _, err := c.UntagResource(ctx, &organizations.UntagResourceInput{ResourceId: aws.String(sandbox), TagKeys: []string{"cost-center"}}); err != nil {
		t.Fatalf("UntagResource: %v", err)
	}
	tags, err := c.ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: aws.String(sandbox)})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "team" || aws.ToString(tags.Tags[0].Value) != "data" {
		t.Errorf("ListTagsForResource = %+v, %v", tags, err)
	}
	sourceEvents(t, srv, "organizations.amazonaws.com", "CreateAccount", "")
}

// TestOrganizationsCloseAccount: closing dev refuses the role credentials
// issued for it at once and takes it off the portal; the account reads
// SUSPENDED; closing it again or closing the management account fails.
func TestOrganizationsCloseAccount(t *testing.T) {
	srv := demoServer(t)
	ctx := t.Context()
	c := orgs(srv, adminCreds(t, srv))
	dev := accountID(t, srv, "dev")
	ed := roleCreds(t, srv, "ed.developer", "dev", "PowerUserAccess")
	if _, err := stsClient(srv, ed).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("GetCallerIdentity before closing: %v", err)
	}

	if _, err := c.CloseAccount(ctx, &organizations.CloseAccountInput{AccountId: aws.String(dev)}); err != nil {
		t.Fatalf("CloseAccount: %v", err)
	}
	if _, err := stsClient(srv, ed).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err == nil {
		t.Errorf("credentials for the closed account still work")
	}
	u, err := srv.Store.GetUserByName(ctx, "ed.developer")
	if err != nil {
		t.Fatal(err)
	}
	ents, err := srv.Cache.Entitlements(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(ents, func(e access.Entitlement) bool { return e.AccountID == dev }) {
		t.Errorf("ed is still entitled to the closed account: %v", ents)
	}
	d, err := c.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(dev)})
	if err != nil || d.Account.State != orgtypes.AccountStateSuspended || d.Account.Status != orgtypes.AccountStatusSuspended {
		t.Errorf("closed account = %+v, %v", d, err)
	}

	// Assigning to it says why it is refused: list-accounts still shows
	// it, so "not part of this organization" would mislead.
	f := &ssoFixture{t: t, srv: srv, c: ssoAdmin(srv, adminCreds(t, srv)), ins: aws.String(arn.InstanceARN(srv.Instance.InstanceID))}
	ps := f.createPS("ClosedProbe", "")
	_, err = f.c.CreateAccountAssignment(ctx, &ssoadmin.CreateAccountAssignmentInput{InstanceArn: f.ins, PermissionSetArn: ps,
		PrincipalType: ssotypes.PrincipalTypeGroup, PrincipalId: aws.String(f.groupID("Developers")), TargetId: aws.String(dev), TargetType: ssotypes.TargetTypeAwsAccount})
	if nf, ok := errors.AsType[*ssotypes.ResourceNotFoundException](err); !ok || !strings.Contains(aws.ToString(nf.Message), "Account "+dev+" is closed (SUSPENDED)") {
		t.Errorf("assignment to the closed account = %v, want ResourceNotFoundException saying it is closed", err)
	}

	_, err = c.CloseAccount(ctx, &organizations.CloseAccountInput{AccountId: aws.String(dev)})
	if _, ok := errors.AsType[*orgtypes.AccountAlreadyClosedException](err); !ok {
		t.Errorf("second CloseAccount = %v, want AccountAlreadyClosedException", err)
	}
	_, err = c.CloseAccount(ctx, &organizations.CloseAccountInput{AccountId: aws.String(srv.Instance.ManagementAccountID)})
	if e, ok := errors.AsType[*orgtypes.ConstraintViolationException](err); !ok || e.Reason != orgtypes.ConstraintViolationExceptionReasonCannotCloseManagementAccount {
		t.Errorf("CloseAccount(management) = %v, want ConstraintViolationException CANNOT_CLOSE_MANAGEMENT_ACCOUNT", err)
	}
	sourceEvents(t, srv, "organizations.amazonaws.com", "CloseAccount", "")
}

// TestOrganizationsErrors: each documented error, and none of them changes
// anything.
func TestOrganizationsErrors(t *testing.T) {
	srv := demoServer(t)
	ctx := t.Context()
	c := orgs(srv, adminCreds(t, srv))
	before, _ := srv.Store.ChangeSeq(ctx)
	accts, _ := srv.Store.ListAccounts(ctx, store.Page{})
	cases := []struct {
		name   string
		call   func() error
		code   string
		reason string
	}{
		{"DescribeAccount unknown", func() error {
			_, err := c.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String("999999999999")})
			return err
		}, "AccountNotFoundException", ""},
		{"DescribeAccount malformed", func() error {
			_, err := c.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String("12345")})
			return err
		}, "InvalidInputException", "INVALID_PATTERN"},
		{"CloseAccount unknown", func() error {
			_, err := c.CloseAccount(ctx, &organizations.CloseAccountInput{AccountId: aws.String("999999999999")})
			return err
		}, "AccountNotFoundException", ""},
		{"DescribeCreateAccountStatus unknown", func() error {
			_, err := c.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: aws.String("car-0123456789abcdef")})
			return err
		}, "CreateAccountStatusNotFoundException", ""},
		{"DescribeCreateAccountStatus malformed", func() error {
			_, err := c.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: aws.String("nope")})
			return err
		}, "InvalidInputException", "INVALID_PATTERN"},
		{"CreateAccount bad e-mail", func() error {
			_, err := c.CreateAccount(ctx, &organizations.CreateAccountInput{Email: aws.String("not an email"), AccountName: aws.String("x")})
			return err
		}, "InvalidInputException", "INVALID_PATTERN"},
		{"CreateAccount duplicate tag keys", func() error {
			_, err := c.CreateAccount(ctx, &organizations.CreateAccountInput{Email: aws.String("x@company.com"), AccountName: aws.String("x"),
				Tags: []orgtypes.Tag{{Key: aws.String("k"), Value: aws.String("1")}, {Key: aws.String("k"), Value: aws.String("2")}}})
			return err
		}, "InvalidInputException", "DUPLICATE_TAG_KEY"},
		{"ListAccounts MaxResults 21", func() error {
			_, err := c.ListAccounts(ctx, &organizations.ListAccountsInput{MaxResults: aws.Int32(21)})
			return err
		}, "InvalidInputException", "MAX_VALUE_EXCEEDED"},
		{"ListAccounts forged token", func() error {
			_, err := c.ListAccounts(ctx, &organizations.ListAccountsInput{NextToken: aws.String("forged")})
			return err
		}, "InvalidInputException", "INVALID_NEXT_TOKEN"},
		{"ListCreateAccountStatus unknown state", func() error {
			_, err := c.ListCreateAccountStatus(ctx, &organizations.ListCreateAccountStatusInput{States: []orgtypes.CreateAccountState{"DONE"}})
			return err
		}, "InvalidInputException", "INVALID_ENUM"},
		{"ListParents unknown OU", func() error {
			_, err := c.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String("ou-abcd-12345678")})
			return err
		}, "ChildNotFoundException", ""},
		{"ListParents unknown account", func() error {
			_, err := c.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String("999999999999")})
			return err
		}, "ChildNotFoundException", ""},
		{"TagResource unknown account", func() error {
			_, err := c.TagResource(ctx, &organizations.TagResourceInput{ResourceId: aws.String("999999999999"),
				Tags: []orgtypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
			return err
		}, "TargetNotFoundException", ""},
		{"TagResource aws: key", func() error {
			_, err := c.TagResource(ctx, &organizations.TagResourceInput{ResourceId: aws.String(accts[0].ID),
				Tags: []orgtypes.Tag{{Key: aws.String("aws:k"), Value: aws.String("v")}}})
			return err
		}, "InvalidInputException", "INVALID_SYSTEM_TAGS_PARAMETER"},
		{"ListTagsForResource malformed", func() error {
			_, err := c.ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: aws.String("x")})
			return err
		}, "InvalidInputException", "INVALID_PATTERN"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ae := orgAPIError(t, tc.call())
			if ae.ErrorCode() != tc.code {
				t.Errorf("error %v, want %s", ae, tc.code)
			}
			var body struct{ Reason string }
			if tc.reason != "" {
				switch e := ae.(type) {
				case *orgtypes.InvalidInputException:
					body.Reason = string(e.Reason)
				case *orgtypes.ConstraintViolationException:
					body.Reason = string(e.Reason)
				}
				if body.Reason != tc.reason {
					t.Errorf("reason %q, want %q", body.Reason, tc.reason)
				}
			}
		})
	}
	if after, _ := srv.Store.ChangeSeq(ctx); after != before {
		t.Errorf("change counter moved from %d to %d", before, after)
	}
	sourceEvents(t, srv, "organizations.amazonaws.com", "DescribeAccount", "AccountNotFoundException")
}

// signedRaw sends body to target signed for service as creds.
func signedRaw(t *testing.T, srv *servertest.Server, creds aws.Credentials, service, target, body string) (int, string, []byte) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target)
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(t.Context(), creds, req, hex.EncodeToString(sum[:]), service, "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"), b
}

func TestOrganizationsMalformed(t *testing.T) {
	srv := demoServer(t)
	admin := adminCreds(t, srv)
	before, _ := srv.Store.ChangeSeq(t.Context())
	for _, tc := range []struct {
		name, target, body, code string
	}{
		{"bad JSON", "AWSOrganizationsV20161128.CreateAccount", `{"Email":`, "SerializationException"},
		{"wrong type", "AWSOrganizationsV20161128.CreateAccount", `{"Email":5,"AccountName":"x"}`, "SerializationException"},
		{"missing members", "AWSOrganizationsV20161128.CreateAccount", `{}`, "InvalidInputException"},
		{"missing AccountId", "AWSOrganizationsV20161128.CloseAccount", `{}`, "InvalidInputException"},
		{"missing tags", "AWSOrganizationsV20161128.TagResource", `{"ResourceId":"` + srv.Instance.ManagementAccountID + `"}`, "InvalidInputException"},
		{"tag without value", "AWSOrganizationsV20161128.TagResource", `{"ResourceId":"` + srv.Instance.ManagementAccountID + `","Tags":[{"Key":"k"}]}`, "InvalidInputException"},
		{"unknown operation", "AWSOrganizationsV20161128.CreateOrganization", `{}`, "UnknownOperationException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, code, body := signedRaw(t, srv, admin, "organizations", tc.target, tc.body)
			if status != 400 || code != tc.code || !bytes.Contains(body, []byte(tc.code)) {
				t.Errorf("status %d, code %s, body %s; want 400 %s", status, code, body, tc.code)
			}
		})
	}
	if after, _ := srv.Store.ChangeSeq(t.Context()); after != before {
		t.Errorf("change counter moved from %d to %d", before, after)
	}
	if ss, _ := srv.Store.ListCreateAccountStatuses(t.Context(), store.CreateAccountStatusFilter{}); len(ss) != 0 {
		t.Errorf("malformed requests left create-account statuses: %+v", ss)
	}
}

// TestOrganizationsAccessDenied: a member-account caller, and a
// management-account caller whose permission set allows reading only.
func TestOrganizationsAccessDenied(t *testing.T) {
	srv := demoServer(t)
	ctx := t.Context()
	mgmt := srv.Instance.ManagementAccountID
	reader := grantOnManagement(t, srv, "ed.developer", "OrgReader", "organizations:List*", "organizations:Describe*")
	if _, err := orgs(srv, reader).ListAccounts(ctx, &organizations.ListAccountsInput{}); err != nil {
		t.Fatalf("ListAccounts as a reader: %v", err)
	}
	dev := accountID(t, srv, "dev")
	for _, tc := range []struct {
		name  string
		creds aws.Credentials
		call  func(*organizations.Client) error
		want  string
	}{
		{"member account", roleCreds(t, srv, "ed.developer", "dev", "PowerUserAccess"), func(c *organizations.Client) error {
			_, err := c.ListAccounts(ctx, &organizations.ListAccountsInput{})
			return err
		}, "is not authorized to perform: organizations:ListAccounts on resource: *"},
		{"reader creates", reader, func(c *organizations.Client) error {
			_, err := c.CreateAccount(ctx, &organizations.CreateAccountInput{Email: aws.String("x@company.com"), AccountName: aws.String("x")})
			return err
		}, "is not authorized to perform: organizations:CreateAccount on resource: *"},
		{"reader closes", reader, func(c *organizations.Client) error {
			_, err := c.CloseAccount(ctx, &organizations.CloseAccountInput{AccountId: aws.String(dev)})
			return err
		}, "is not authorized to perform: organizations:CloseAccount on resource: arn:aws:organizations::" + mgmt + ":account/"},
		{"reader tags", reader, func(c *organizations.Client) error {
			_, err := c.TagResource(ctx, &organizations.TagResourceInput{ResourceId: aws.String(dev), Tags: []orgtypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
			return err
		}, "is not authorized to perform: organizations:TagResource on resource: arn:aws:organizations::" + mgmt + ":account/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := srv.Store.ChangeSeq(ctx)
			ae := orgAPIError(t, tc.call(orgs(srv, tc.creds)))
			if ae.ErrorCode() != "AccessDeniedException" || !strings.HasPrefix(ae.ErrorMessage(), "User: arn:aws:sts::") || !strings.Contains(ae.ErrorMessage(), tc.want) {
				t.Errorf("error %s: %q, want AccessDeniedException containing %q", ae.ErrorCode(), ae.ErrorMessage(), tc.want)
			}
			if after, _ := srv.Store.ChangeSeq(ctx); after != before {
				t.Errorf("change counter moved from %d to %d", before, after)
			}
		})
	}
	d, err := orgs(srv, adminCreds(t, srv)).DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(dev)})
	if err != nil || d.Account.State != orgtypes.AccountStateActive {
		t.Errorf("dev after refused close = %+v, %v", d, err)
	}
}

// TestOrganizationsCreateAccountConcurrent: parallel CreateAccount calls
// with one e-mail address create one account; the others fail with
// EMAIL_ALREADY_EXISTS.
func TestOrganizationsCreateAccountConcurrent(t *testing.T) {
	srv := demoServer(t)
	ctx := t.Context()
	c := orgs(srv, adminCreds(t, srv))
	const n = 8
	ids := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			out, err := c.CreateAccount(ctx, &organizations.CreateAccountInput{Email: aws.String("same@company.com"), AccountName: aws.String(fmt.Sprintf("same-%d", i))})
			if err == nil {
				ids[i] = aws.ToString(out.CreateAccountStatus.Id)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	succeeded, failed := 0, 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("CreateAccount %d: %v", i, errs[i])
		}
		st, err := c.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: aws.String(ids[i])})
		if err != nil {
			t.Fatal(err)
		}
		switch s := st.CreateAccountStatus; {
		case s.State == orgtypes.CreateAccountStateSucceeded:
			succeeded++
		case s.State == orgtypes.CreateAccountStateFailed && s.FailureReason == orgtypes.CreateAccountFailureReasonEmailAlreadyExists:
			failed++
		default:
			t.Errorf("status %+v", s)
		}
	}
	if succeeded != 1 || failed != n-1 {
		t.Errorf("%d succeeded, %d failed; want 1 and %d", succeeded, failed, n-1)
	}
}
