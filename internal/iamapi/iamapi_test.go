package iamapi_test

import (
	"crypto/rand"
	"errors"
	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/awsauth"
	"github.com/gatehouse-dev/gatehouse/internal/session"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/accesscache"
	"github.com/gatehouse-dev/gatehouse/internal/authz"
	"github.com/gatehouse-dev/gatehouse/internal/automation"
	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/domaintest"
	"github.com/gatehouse-dev/gatehouse/internal/iamapi"
	"github.com/gatehouse-dev/gatehouse/internal/keyring"
	"github.com/gatehouse-dev/gatehouse/internal/sigv4"
	"github.com/gatehouse-dev/gatehouse/internal/store"
	"github.com/gatehouse-dev/gatehouse/internal/sts"
)

const account = "111122223333"

// env is an account with alice assigned AdministratorAccess and
// PowerUserAccess (PT4H), the IAM handler on an httptest server and IAM
// clients signing with credentials issued for each permission set.
type env struct {
	w          *domaintest.World
	url        string
	admin      *awsiam.Client
	power      *awsiam.Client
	powerRole  *store.ProvisionedRole
	adminRole  *store.ProvisionedRole
	powerCreds *sts.Credentials
	// issuer and alice issue credentials for other permission sets.
	issuer *sts.Issuer
	alice  session.Principal
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := t.Context()
	w := domaintest.New(t)
	if _, err := w.Access.CreateAccount(ctx, account, "Dev", "dev@example.test"); err != nil {
		t.Fatal(err)
	}
	user, err := w.Directory.CreateUser(ctx, directory.CreateUserInput{
		UserName: "alice@example.test", DisplayName: "Alice Doe", Name: store.UserName{GivenName: "Alice", FamilyName: "Doe"},
	})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{w: w}
	sets := []struct {
		name, duration, managedARN string
		role                       **store.ProvisionedRole
	}{
		{"AdministratorAccess", "PT1H", "arn:aws:iam::aws:policy/AdministratorAccess", &e.adminRole},
		{"PowerUserAccess", "PT4H", "arn:aws:iam::aws:policy/PowerUserAccess", &e.powerRole},
	}
	for _, s := range sets {
		ps, err := w.Access.CreatePermissionSet(ctx, access.PermissionSetInput{Name: s.name, Description: s.name + " for tests", SessionDuration: s.duration})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Access.AttachManagedPolicy(ctx, ps.ID, s.managedARN); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Access.CreateAssignment(ctx, access.AssignmentInput{AccountID: account, PermissionSetID: ps.ID, PrincipalType: store.PrincipalUser, PrincipalID: user.ID}); err != nil {
			t.Fatal(err)
		}
		if *s.role, err = w.Store.GetProvisionedRole(ctx, account, ps.ID); err != nil {
			t.Fatal(err)
		}
	}
	master := make([]byte, keyring.MasterKeySize)
	rand.Read(master)
	keys, err := keyring.Open(ctx, w.Store, master, rand.Reader, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	cache := accesscache.New(w.Store, time.Now)
	issuer := &sts.Issuer{Keys: keys, Cache: cache, Store: w.Store, Audit: w.Audit, IDs: w.IDs, Now: time.Now, Instance: w.Instance}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := &iamapi.Handler{
		Auth: &awsauth.Authenticator{
			Sessions: issuer, Verifier: &sigv4.Verifier{Now: time.Now},
			Events: audit.Direct{Store: w.Store, Recorder: w.Audit},
		},
		Authorizer: &authz.Authorizer{
			Policies:       &authz.Policies{Store: w.Store, Now: time.Now},
			PermissionSets: cache, Store: w.Store, Audit: w.Audit, Instance: w.Instance,
		},
		Store: w.Store, Audit: w.Audit, Instance: w.Instance, Now: time.Now, Log: log,
		Automation: &automation.Service{Store: w.Store, Keys: keys, IDs: w.IDs, Now: time.Now},
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	e.url = srv.URL
	p := session.Principal{UserID: user.ID, UserName: user.UserName, GrantID: "grant-1", SessionID: "session-1", MFA: true, AuthTime: time.Now().Add(-time.Minute)}
	adminCreds, err := issuer.Issue(ctx, p, account, "AdministratorAccess")
	if err != nil {
		t.Fatal(err)
	}
	if e.powerCreds, err = issuer.Issue(ctx, p, account, "PowerUserAccess"); err != nil {
		t.Fatal(err)
	}
	e.admin, e.power = e.client(adminCreds), e.client(e.powerCreds)
	e.issuer, e.alice = issuer, p
	return e
}

// client returns the real aws-sdk-go-v2 IAM client signing with c.
func (e *env) client(c *sts.Credentials) *awsiam.Client {
	return awsiam.New(awsiam.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(e.url),
		Credentials:      credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken),
		RetryMaxAttempts: 1,
	})
}

// apiError returns the code, HTTP status and message of an SDK error.
func apiError(t *testing.T, err error) (string, int, string) {
	t.Helper()
	if err == nil {
		t.Fatal("call succeeded, want an error")
	}
	ae, ok := errors.AsType[smithy.APIError](err)
	if !ok {
		t.Fatalf("error %v is not an API error", err)
	}
	re, ok := errors.AsType[*awshttp.ResponseError](err)
	if !ok {
		t.Fatalf("error %v has no HTTP response", err)
	}
	return ae.ErrorCode(), re.HTTPStatusCode(), ae.ErrorMessage()
}

// result is an EvaluationResult reduced to what the tests compare.
type result struct {
	Action, Resource, Decision string
	Matched                    []matched
	Missing                    []string
	Boundary                   *bool
}

type matched struct {
	ID, Type   string
	Start, End [2]int32
}

func results(out []types.EvaluationResult) []result {
	var rs []result
	for _, r := range out {
		x := result{Action: aws.ToString(r.EvalActionName), Resource: aws.ToString(r.EvalResourceName), Decision: string(r.EvalDecision), Missing: r.MissingContextValues}
		for _, m := range r.MatchedStatements {
			mm := matched{ID: aws.ToString(m.SourcePolicyId), Type: string(m.SourcePolicyType)}
			if m.StartPosition != nil && m.EndPosition != nil {
				mm.Start = [2]int32{m.StartPosition.Line, m.StartPosition.Column}
				mm.End = [2]int32{m.EndPosition.Line, m.EndPosition.Column}
			}
			x.Matched = append(x.Matched, mm)
		}
		if d := r.PermissionsBoundaryDecisionDetail; d != nil {
			x.Boundary = aws.Bool(d.AllowedByPermissionsBoundary)
		}
		rs = append(rs, x)
	}
	return rs
}

// s3Policy allows reads of bucket b and denies deletes, one statement a line.
const s3Policy = `{"Version":"2012-10-17","Statement":[
{"Sid":"Read","Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"]},
{"Sid":"NoDelete","Effect":"Deny","Action":"s3:DeleteObject","Resource":"*"}]}`

func TestSimulateCustomPolicy(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	tagged := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sso:*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"red"}}}}`
	tests := []struct {
		name string
		in   awsiam.SimulateCustomPolicyInput
		want []result
	}{
		{
			name: "allowed, explicit deny, implicit deny",
			in: awsiam.SimulateCustomPolicyInput{
				PolicyInputList: []string{s3Policy},
				ActionNames:     []string{"s3:GetObject", "s3:DeleteObject", "s3:PutObject"},
				ResourceArns:    []string{"arn:aws:s3:::b/key"},
			},
			want: []result{
				{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/key", Decision: "allowed", Missing: []string{},
					Matched: []matched{{ID: "PolicyInputList.1", Type: "IAM Policy", Start: [2]int32{2, 2}, End: [2]int32{2, 123}}}},
				{Action: "s3:DeleteObject", Resource: "arn:aws:s3:::b/key", Decision: "explicitDeny", Missing: []string{},
					Matched: []matched{{ID: "PolicyInputList.1", Type: "IAM Policy", Start: [2]int32{3, 2}, End: [2]int32{3, 77}}}},
				{Action: "s3:PutObject", Resource: "arn:aws:s3:::b/key", Decision: "implicitDeny", Missing: []string{}},
			},
		},
		{
			// AWS CLI v2 sends a file:// policy object one character per
			// list member.
			name: "policy split into characters",
			in: awsiam.SimulateCustomPolicyInput{
				PolicyInputList: strings.Split(s3Policy, ""),
				ActionNames:     []string{"s3:GetObject"},
				ResourceArns:    []string{"arn:aws:s3:::b/key"},
			},
			want: []result{
				{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/key", Decision: "allowed", Missing: []string{},
					Matched: []matched{{ID: "PolicyInputList.1", Type: "IAM Policy", Start: [2]int32{2, 2}, End: [2]int32{2, 123}}}},
			},
		},
		{
			name: "default resource is *",
			in:   awsiam.SimulateCustomPolicyInput{PolicyInputList: []string{s3Policy}, ActionNames: []string{"s3:ListBucket"}},
			want: []result{{Action: "s3:ListBucket", Resource: "*", Decision: "implicitDeny", Missing: []string{}}},
		},
		{
			name: "missing context value",
			in:   awsiam.SimulateCustomPolicyInput{PolicyInputList: []string{tagged}, ActionNames: []string{"sso:ListInstances"}},
			want: []result{{Action: "sso:ListInstances", Resource: "*", Decision: "implicitDeny", Missing: []string{"aws:PrincipalTag/team"}}},
		},
		{
			name: "context entry supplied",
			in: awsiam.SimulateCustomPolicyInput{PolicyInputList: []string{tagged}, ActionNames: []string{"sso:ListInstances"},
				ContextEntries: []types.ContextEntry{{ContextKeyName: aws.String("aws:PrincipalTag/team"), ContextKeyType: types.ContextKeyTypeEnumString, ContextKeyValues: []string{"red"}}}},
			want: []result{{Action: "sso:ListInstances", Resource: "*", Decision: "allowed", Missing: []string{},
				Matched: []matched{{ID: "PolicyInputList.1", Type: "IAM Policy", Start: [2]int32{1, 38}, End: [2]int32{1, 148}}}}},
		},
		{
			name: "context entry with another value",
			in: awsiam.SimulateCustomPolicyInput{PolicyInputList: []string{tagged}, ActionNames: []string{"sso:ListInstances"},
				ContextEntries: []types.ContextEntry{{ContextKeyName: aws.String("aws:principaltag/team"), ContextKeyType: types.ContextKeyTypeEnumStringList, ContextKeyValues: []string{"blue", "Red"}}}},
			want: []result{{Action: "sso:ListInstances", Resource: "*", Decision: "implicitDeny", Missing: []string{}}},
		},
		{
			name: "boundary intersects",
			in: awsiam.SimulateCustomPolicyInput{
				PolicyInputList:                    []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`},
				PermissionsBoundaryPolicyInputList: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["s3:GetObject","ec2:*"],"Resource":"*"}}`},
				ActionNames:                        []string{"s3:GetObject", "s3:PutObject", "ec2:RunInstances"},
			},
			want: []result{
				{Action: "s3:GetObject", Resource: "*", Decision: "allowed", Missing: []string{}, Boundary: aws.Bool(true), Matched: []matched{
					{ID: "PolicyInputList.1", Type: "IAM Policy", Start: [2]int32{1, 38}, End: [2]int32{1, 86}},
					{ID: "PermissionsBoundaryPolicyInputList.1", Type: "IAM Policy", Start: [2]int32{1, 38}, End: [2]int32{1, 104}},
				}},
				{Action: "s3:PutObject", Resource: "*", Decision: "implicitDeny", Missing: []string{}, Boundary: aws.Bool(false)},
				{Action: "ec2:RunInstances", Resource: "*", Decision: "implicitDeny", Missing: []string{}, Boundary: aws.Bool(true)},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := e.admin.SimulateCustomPolicy(ctx, &tt.in)
			if err != nil {
				t.Fatalf("SimulateCustomPolicy: %v", err)
			}
			if out.IsTruncated {
				t.Error("IsTruncated for a short result")
			}
			if diff := cmp.Diff(tt.want, results(out.EvaluationResults)); diff != "" {
				t.Errorf("results (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSimulateCustomPolicyPaging(t *testing.T) {
	e := newEnv(t)
	in := &awsiam.SimulateCustomPolicyInput{
		PolicyInputList: []string{s3Policy},
		ActionNames:     []string{"s3:GetObject", "s3:DeleteObject", "s3:PutObject"},
		ResourceArns:    []string{"arn:aws:s3:::b/1", "arn:aws:s3:::b/2"},
		MaxItems:        aws.Int32(4),
	}
	var got []string
	pages := 0
	for p := awsiam.NewSimulateCustomPolicyPaginator(e.admin, in); p.HasMorePages(); {
		out, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, r := range out.EvaluationResults {
			got = append(got, aws.ToString(r.EvalActionName)+" "+aws.ToString(r.EvalResourceName)+" "+string(r.EvalDecision))
		}
	}
	want := []string{
		"s3:GetObject arn:aws:s3:::b/1 allowed", "s3:GetObject arn:aws:s3:::b/2 allowed",
		"s3:DeleteObject arn:aws:s3:::b/1 explicitDeny", "s3:DeleteObject arn:aws:s3:::b/2 explicitDeny",
		"s3:PutObject arn:aws:s3:::b/1 implicitDeny", "s3:PutObject arn:aws:s3:::b/2 implicitDeny",
	}
	if pages != 2 {
		t.Errorf("%d pages, want 2", pages)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	// A marker replayed with another question is refused.
	out, err := e.admin.SimulateCustomPolicy(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	other := *in
	other.ActionNames = []string{"s3:GetObject"}
	other.Marker = out.Marker
	_, err = e.admin.SimulateCustomPolicy(t.Context(), &other)
	if code, status, _ := apiError(t, err); code != "InvalidInput" || status != 400 {
		t.Errorf("replayed marker: %s %d, want InvalidInput 400", code, status)
	}
}

func TestSimulateErrors(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	tests := []struct {
		name    string
		call    func() error
		code    string
		status  int
		message string // a substring
	}{
		{
			name: "malformed policy",
			call: func() error {
				_, err := e.admin.SimulateCustomPolicy(ctx, &awsiam.SimulateCustomPolicyInput{
					PolicyInputList: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEqualz":{"aws:username":"x"}}}}`},
					ActionNames:     []string{"s3:GetObject"},
				})
				return err
			},
			code: "MalformedPolicyDocument", status: 400, message: "StringEqualz",
		},
		{
			name: "principal in an identity policy",
			call: func() error {
				_, err := e.admin.SimulateCustomPolicy(ctx, &awsiam.SimulateCustomPolicyInput{
					PolicyInputList: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}}`},
					ActionNames:     []string{"s3:GetObject"},
				})
				return err
			},
			code: "MalformedPolicyDocument", status: 400, message: "rincipal",
		},
		{
			name: "wildcard action",
			call: func() error {
				_, err := e.admin.SimulateCustomPolicy(ctx, &awsiam.SimulateCustomPolicyInput{PolicyInputList: []string{s3Policy}, ActionNames: []string{"s3:*"}})
				return err
			},
			code: "InvalidInput", status: 400, message: "wildcard",
		},
		{
			name: "bad context key type",
			call: func() error {
				_, err := e.admin.SimulateCustomPolicy(ctx, &awsiam.SimulateCustomPolicyInput{PolicyInputList: []string{s3Policy}, ActionNames: []string{"s3:GetObject"},
					ContextEntries: []types.ContextEntry{{ContextKeyName: aws.String("aws:SourceIp"), ContextKeyType: "cidr", ContextKeyValues: []string{"10.0.0.0/8"}}}})
				return err
			},
			code: "InvalidInput", status: 400, message: "cidr",
		},
		{
			name: "resource policy",
			call: func() error {
				_, err := e.admin.SimulateCustomPolicy(ctx, &awsiam.SimulateCustomPolicyInput{PolicyInputList: []string{s3Policy}, ActionNames: []string{"s3:GetObject"},
					ResourcePolicy: aws.String(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}}`)})
				return err
			},
			code: "InvalidInput", status: 400, message: "resource-based",
		},
		{
			name: "unknown role",
			call: func() error {
				_, err := e.admin.SimulatePrincipalPolicy(ctx, &awsiam.SimulatePrincipalPolicyInput{
					PolicySourceArn: aws.String("arn:aws:iam::" + account + ":role/AWSReservedSSO_Nobody_0123456789abcdef"), ActionNames: []string{"s3:GetObject"}})
				return err
			},
			code: "NoSuchEntity", status: 404, message: "The role with name AWSReservedSSO_Nobody_0123456789abcdef cannot be found.",
		},
		{
			name: "role of another account",
			call: func() error {
				_, err := e.admin.SimulatePrincipalPolicy(ctx, &awsiam.SimulatePrincipalPolicyInput{
					PolicySourceArn: aws.String("arn:aws:iam::444455556666:role/" + e.powerRole.RoleName), ActionNames: []string{"s3:GetObject"}})
				return err
			},
			code: "NoSuchEntity", status: 404, message: "cannot be found",
		},
		{
			name: "role under a wrong path",
			call: func() error {
				_, err := e.admin.SimulatePrincipalPolicy(ctx, &awsiam.SimulatePrincipalPolicyInput{
					PolicySourceArn: aws.String("arn:aws:iam::" + account + ":role/other/" + e.powerRole.RoleName), ActionNames: []string{"s3:GetObject"}})
				return err
			},
			code: "NoSuchEntity", status: 404, message: "cannot be found",
		},
		{
			name: "not an IAM ARN",
			call: func() error {
				_, err := e.admin.SimulatePrincipalPolicy(ctx, &awsiam.SimulatePrincipalPolicyInput{
					PolicySourceArn: aws.String("arn:aws:s3:::bucket/key/and/more"), ActionNames: []string{"s3:GetObject"}})
				return err
			},
			code: "InvalidInput", status: 400, message: "not valid",
		},
		{
			name: "unknown GetRole",
			call: func() error {
				_, err := e.admin.GetRole(ctx, &awsiam.GetRoleInput{RoleName: aws.String("NoSuchRole")})
				return err
			},
			code: "NoSuchEntity", status: 404, message: "The role with name NoSuchRole cannot be found.",
		},
		{
			name: "unsupported action",
			call: func() error {
				_, err := e.admin.ListGroups(ctx, &awsiam.ListGroupsInput{})
				return err
			},
			code: "InvalidAction", status: 400, message: "ListGroups",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.w.Snap(t)
			code, status, msg := apiError(t, tt.call())
			if code != tt.code || status != tt.status || !strings.Contains(msg, tt.message) {
				t.Errorf("got %s %d %q, want %s %d containing %q", code, status, msg, tt.code, tt.status, tt.message)
			}
			if after := e.w.Snap(t); after.Events != before.Events+1 {
				t.Errorf("the failed call wrote %d audit events, want 1", after.Events-before.Events)
			}
		})
	}
}

func TestSimulatePrincipalPolicy(t *testing.T) {
	e := newEnv(t)
	roleARN := "arn:aws:iam::" + account + ":role/aws-reserved/sso.amazonaws.com/" + e.powerRole.RoleName
	pu := "arn:aws:iam::aws:policy/PowerUserAccess"
	for _, source := range []string{roleARN, "arn:aws:iam::" + account + ":role/" + e.powerRole.RoleName} {
		t.Run(source, func(t *testing.T) {
			out, err := e.admin.SimulatePrincipalPolicy(t.Context(), &awsiam.SimulatePrincipalPolicyInput{
				PolicySourceArn: aws.String(source),
				ActionNames:     []string{"s3:PutObject", "iam:CreateUser", "iam:CreateServiceLinkedRole", "organizations:DescribeOrganization"},
			})
			if err != nil {
				t.Fatalf("SimulatePrincipalPolicy: %v", err)
			}
			got := map[string]string{}
			for _, r := range out.EvaluationResults {
				got[aws.ToString(r.EvalActionName)] = string(r.EvalDecision)
				if r.EvalDecision == types.PolicyEvaluationDecisionTypeAllowed {
					if len(r.MatchedStatements) == 0 {
						t.Errorf("%s allowed with no matched statement", aws.ToString(r.EvalActionName))
					}
					for _, m := range r.MatchedStatements {
						if aws.ToString(m.SourcePolicyId) != pu || m.SourcePolicyType != types.PolicySourceTypeAwsManaged || m.StartPosition == nil || m.StartPosition.Line < 1 {
							t.Errorf("%s matched %s %s %+v, want %s aws-managed with a position", aws.ToString(r.EvalActionName), aws.ToString(m.SourcePolicyId), m.SourcePolicyType, m.StartPosition, pu)
						}
					}
				}
			}
			want := map[string]string{
				"s3:PutObject": "allowed", "iam:CreateUser": "implicitDeny",
				"iam:CreateServiceLinkedRole": "allowed", "organizations:DescribeOrganization": "allowed",
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("decisions (-want +got):\n%s", diff)
			}
		})
	}

	// An input boundary replaces the role's (none here) and intersects.
	out, err := e.admin.SimulatePrincipalPolicy(t.Context(), &awsiam.SimulatePrincipalPolicyInput{
		PolicySourceArn:                    aws.String(roleARN),
		PermissionsBoundaryPolicyInputList: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}}`},
		ActionNames:                        []string{"s3:GetObject", "s3:PutObject"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if d := []string{string(out.EvaluationResults[0].EvalDecision), string(out.EvaluationResults[1].EvalDecision)}; d[0] != "allowed" || d[1] != "implicitDeny" {
		t.Errorf("with a boundary input: %v, want [allowed implicitDeny]", d)
	}

	// PowerUserAccess may not simulate (no iam:Simulate*), exactly as on AWS.
	_, err = e.power.SimulatePrincipalPolicy(t.Context(), &awsiam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String(roleARN), ActionNames: []string{"s3:GetObject"}})
	code, status, msg := apiError(t, err)
	wantMsg := "User: arn:aws:sts::" + account + ":assumed-role/" + e.powerRole.RoleName + "/alice@example.test is not authorized to perform: iam:SimulatePrincipalPolicy on resource: " + roleARN +
		" because no identity-based policy allows the iam:SimulatePrincipalPolicy action"
	if code != "AccessDenied" || status != 403 || msg != wantMsg {
		t.Errorf("power user: %s %d %q, want AccessDenied 403 %q", code, status, msg, wantMsg)
	}
}

func TestPowerUserRefusedSimulateCustomPolicy(t *testing.T) {
	e := newEnv(t)
	before := e.w.Snap(t)
	_, err := e.power.SimulateCustomPolicy(t.Context(), &awsiam.SimulateCustomPolicyInput{PolicyInputList: []string{s3Policy}, ActionNames: []string{"s3:GetObject"}})
	code, status, msg := apiError(t, err)
	want := "User: arn:aws:sts::" + account + ":assumed-role/" + e.powerRole.RoleName + "/alice@example.test is not authorized to perform: iam:SimulateCustomPolicy on resource: * because no identity-based policy allows the iam:SimulateCustomPolicy action"
	if code != "AccessDenied" || status != 403 || msg != want {
		t.Errorf("got %s %d %q\nwant AccessDenied 403 %q", code, status, msg, want)
	}
	if after := e.w.Snap(t); after.Events != before.Events+1 {
		t.Errorf("the denied call wrote %d audit events, want 1", after.Events-before.Events)
	}
	evs, err := e.w.Store.ListEvents(t.Context(), store.EventFilter{End: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	last := evs[len(evs)-1]
	if last.Source != "iam.amazonaws.com" || last.Name != "SimulateCustomPolicy" || last.ErrorCode != "AccessDenied" || !strings.Contains(last.Principal, "alice") {
		t.Errorf("audit event %+v, want iam.amazonaws.com SimulateCustomPolicy AccessDenied by alice", last)
	}
}

func TestRoles(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	list, err := e.admin.ListRoles(ctx, &awsiam.ListRolesInput{})
	if err != nil {
		t.Fatalf("ListRoles: %v", err)
	}
	type role struct {
		Path, Name, ID, Arn, Description string
		MaxSession                       int32
	}
	var got []role
	for _, r := range list.Roles {
		got = append(got, role{aws.ToString(r.Path), aws.ToString(r.RoleName), aws.ToString(r.RoleId), aws.ToString(r.Arn), aws.ToString(r.Description), aws.ToInt32(r.MaxSessionDuration)})
		if r.CreateDate == nil || r.CreateDate.IsZero() || time.Since(*r.CreateDate) > time.Hour {
			t.Errorf("%s CreateDate = %v", aws.ToString(r.RoleName), r.CreateDate)
		}
		doc, err := url.QueryUnescape(aws.ToString(r.AssumeRolePolicyDocument))
		if err != nil {
			t.Fatalf("AssumeRolePolicyDocument is not URL-encoded: %v", err)
		}
		if !regexp.MustCompile(`"Federated":"arn:aws:iam::`+account+`:saml-provider/AWSSSO_[0-9a-f]{16}_DO_NOT_DELETE"`).MatchString(doc) || !strings.Contains(doc, "sts:AssumeRoleWithSAML") {
			t.Errorf("trust policy %s does not trust the AWSSSO SAML provider", doc)
		}
	}
	path := "/aws-reserved/sso.amazonaws.com/"
	want := []role{
		{path, e.adminRole.RoleName, e.adminRole.RoleID, "arn:aws:iam::" + account + ":role" + path + e.adminRole.RoleName, "AdministratorAccess for tests", 3600},
		{path, e.powerRole.RoleName, e.powerRole.RoleID, "arn:aws:iam::" + account + ":role" + path + e.powerRole.RoleName, "PowerUserAccess for tests", 4 * 3600},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("roles (-want +got):\n%s", diff)
	}

	// Paging, and a path prefix that excludes them.
	var names []string
	for p := awsiam.NewListRolesPaginator(e.admin, &awsiam.ListRolesInput{MaxItems: aws.Int32(1)}); p.HasMorePages(); {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range out.Roles {
			names = append(names, aws.ToString(r.RoleName))
		}
	}
	if diff := cmp.Diff([]string{e.adminRole.RoleName, e.powerRole.RoleName}, names); diff != "" {
		t.Errorf("paged names (-want +got):\n%s", diff)
	}
	if out, err := e.admin.ListRoles(ctx, &awsiam.ListRolesInput{PathPrefix: aws.String("/service-role/")}); err != nil || len(out.Roles) != 0 {
		t.Errorf("ListRoles(/service-role/) = %v, %v; want no roles", out, err)
	}

	g, err := e.admin.GetRole(ctx, &awsiam.GetRoleInput{RoleName: aws.String(strings.ToLower(e.powerRole.RoleName))})
	if err != nil {
		t.Fatalf("GetRole: %v", err)
	}
	if aws.ToString(g.Role.Arn) != want[1].Arn || aws.ToInt32(g.Role.MaxSessionDuration) != 4*3600 {
		t.Errorf("GetRole = %s %d, want %s 14400", aws.ToString(g.Role.Arn), aws.ToInt32(g.Role.MaxSessionDuration), want[1].Arn)
	}

	// PowerUserAccess allows iam:ListRoles but not iam:GetRole.
	if _, err := e.power.ListRoles(ctx, &awsiam.ListRolesInput{}); err != nil {
		t.Errorf("power user ListRoles: %v", err)
	}
	_, err = e.power.GetRole(ctx, &awsiam.GetRoleInput{RoleName: aws.String(e.adminRole.RoleName)})
	code, status, msg := apiError(t, err)
	if code != "AccessDenied" || status != 403 || !strings.HasSuffix(msg, "is not authorized to perform: iam:GetRole on resource: "+want[0].Arn+" because no identity-based policy allows the iam:GetRole action") {
		t.Errorf("power user GetRole: %s %d %q", code, status, msg)
	}
}

func TestUnauthenticated(t *testing.T) {
	e := newEnv(t)
	before := e.w.Snap(t)
	resp, err := http.Post(e.url+"/", "application/x-www-form-urlencoded", strings.NewReader("Action=ListRoles&Version=2010-05-08"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 403 || !strings.Contains(string(body), "<Code>MissingAuthenticationToken</Code>") ||
		!strings.Contains(string(body), `xmlns="https://iam.amazonaws.com/doc/2010-05-08/"`) || !strings.Contains(string(body), "<RequestId>") {
		t.Errorf("unsigned request: %d %s", resp.StatusCode, body)
	}
	if after := e.w.Snap(t); after.Events != before.Events+1 {
		t.Errorf("the refused call wrote %d audit events, want 1", after.Events-before.Events)
	}
}
