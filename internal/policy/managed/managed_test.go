package managed_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse/internal/policy"
	"github.com/gatehouse-dev/gatehouse/internal/policy/managed"
)

const (
	powerUser = "arn:aws:iam::aws:policy/PowerUserAccess"
	readOnly  = "arn:aws:iam::aws:policy/ReadOnlyAccess"
	viewOnly  = "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"
)

func TestLookup(t *testing.T) {
	if got, want := managed.Len(), 1568; got != want {
		t.Fatalf("Len() = %d, want %d", got, want)
	}
	m, ok := managed.Lookup(powerUser)
	if !ok {
		t.Fatalf("Lookup(%q) not found", powerUser)
	}
	type summary struct {
		ARN, Name, Version, Updated string
		Deprecated                  bool
	}
	got := summary{m.ARN, m.Name, m.Version, m.Updated.Format("2006-01-02T15:04:05Z07:00"), m.Deprecated}
	want := summary{powerUser, "PowerUserAccess", "v6", "2024-08-19T16:12:55Z", false}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Lookup(%q) mismatch (-want +got):\n%s", powerUser, diff)
	}
	if _, err := policy.ParseStrict(m.Document); err != nil {
		t.Errorf("document of %s: %v", powerUser, err)
	}
	if _, ok := managed.Lookup("arn:aws:iam::aws:policy/NoSuchPolicy"); ok {
		t.Error("Lookup of an unknown ARN succeeded")
	}
}

func TestValidARN(t *testing.T) {
	tests := []struct {
		name string
		arn  string
		want bool
	}{
		{"plain", "arn:aws:iam::aws:policy/ReadOnlyAccess", true},
		{"path", "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess", true},
		{"service-role path", "arn:aws:iam::aws:policy/service-role/AWSConfigRole", true},
		{"gov partition", "arn:aws-us-gov:iam::aws:policy/ReadOnlyAccess", true},
		{"three suffixes", "arn:aws-a-b-c:iam::aws:policy/X", true},
		{"four suffixes", "arn:aws-a-b-c-d:iam::aws:policy/X", false},
		{"suffix too long", "arn:aws-abcdef:iam::aws:policy/ReadOnlyAccess", false},
		{"customer account", "arn:aws:iam::111122223333:policy/Mine", false},
		{"other service", "arn:aws:sso:::aws:policy/ReadOnlyAccess", false},
		{"empty name", "arn:aws:iam::aws:policy/", false},
		{"double slash", "arn:aws:iam::aws:policy//X", false},
		{"bad char", "arn:aws:iam::aws:policy/Read Only", false},
		{"too short", "arn:aws:iam::aws:p/", false},
		{"allowed punctuation", "arn:aws:iam::aws:policy/a.b,c+d@e=f_g-h", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := managed.ValidARN(tc.arn); got != tc.want {
				t.Errorf("ValidARN(%q) = %v, want %v", tc.arn, got, tc.want)
			}
		})
	}
	for _, a := range managed.ARNs() {
		if !managed.ValidARN(a) {
			t.Errorf("embedded ARN %q is not a valid ManagedPolicyArn", a)
		}
	}
}

// TestEveryDocument parses and compiles every embedded document leniently
// and strictly: AWS accepted them all, so strict validation must too.
func TestEveryDocument(t *testing.T) {
	arns := managed.ARNs()
	if len(arns) != 1568 {
		t.Fatalf("ARNs() has %d entries, want 1568", len(arns))
	}
	strictRejects := 0
	for _, a := range arns {
		m, _ := managed.Lookup(a)
		d, err := policy.Parse(m.Document)
		if err != nil {
			t.Errorf("Parse(%s): %v", a, err)
			continue
		}
		if _, err := policy.Compile(d); err != nil {
			t.Errorf("Compile(%s): %v", a, err)
		}
		if _, err := policy.ParseStrict(m.Document); err != nil {
			strictRejects++
			t.Errorf("ParseStrict(%s): %v", a, err)
		}
	}
	t.Logf("%d documents parsed and compiled; %d strict rejects", len(arns), strictRejects)
}

func TestCache(t *testing.T) {
	var c managed.Cache
	p1, err := c.Policy(readOnly)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := c.Policy(readOnly)
	if err != nil {
		t.Fatal(err)
	}
	if p1 != p2 {
		t.Error("Cache.Policy compiled the same ARN twice")
	}
	if p1.ID != readOnly {
		t.Errorf("ID = %q, want %q", p1.ID, readOnly)
	}
	if _, err := c.Policy("arn:aws:iam::aws:policy/NoSuchPolicy"); !errors.Is(err, managed.ErrNotFound) {
		t.Errorf("Policy(unknown) error = %v, want ErrNotFound", err)
	}
}

// TestRealDocuments asserts what AWS's own PowerUserAccess, ReadOnlyAccess
// and ViewOnlyAccess documents (snapshot 2026-08-22) decide.
func TestRealDocuments(t *testing.T) {
	tests := []struct {
		policy string
		action string
		want   policy.Decision
	}{
		// PowerUserAccess: NotAction iam:*, organizations:*, account:* on *,
		// plus an Allow of a few of those.
		{powerUser, "s3:PutObject", policy.Allow},
		{powerUser, "ec2:RunInstances", policy.Allow},
		{powerUser, "sso:CreatePermissionSet", policy.Allow},
		{powerUser, "iam:CreateUser", policy.ImplicitDeny},
		{powerUser, "iam:AttachRolePolicy", policy.ImplicitDeny},
		{powerUser, "iam:CreateServiceLinkedRole", policy.Allow},
		{powerUser, "iam:DeleteServiceLinkedRole", policy.Allow},
		{powerUser, "IAM:listroles", policy.Allow},
		{powerUser, "iam:ListUsers", policy.ImplicitDeny},
		{powerUser, "organizations:DescribeOrganization", policy.Allow},
		{powerUser, "organizations:CreateAccount", policy.ImplicitDeny},
		{powerUser, "account:ListRegions", policy.Allow},
		{powerUser, "account:GetAccountInformation", policy.Allow},
		{powerUser, "account:EnableRegion", policy.ImplicitDeny},
		// ReadOnlyAccess: s3:Get*, s3:List* but no writes.
		{readOnly, "s3:GetObject", policy.Allow},
		{readOnly, "s3:ListBucket", policy.Allow},
		{readOnly, "s3:PutObject", policy.ImplicitDeny},
		{readOnly, "s3:DeleteBucket", policy.ImplicitDeny},
		{readOnly, "ec2:DescribeInstances", policy.Allow},
		{readOnly, "ec2:RunInstances", policy.ImplicitDeny},
		{readOnly, "sso:DescribePermissionSet", policy.Allow},
		{readOnly, "sso:CreatePermissionSet", policy.ImplicitDeny},
		{readOnly, "iam:GetRole", policy.Allow},
		{readOnly, "iam:CreateUser", policy.ImplicitDeny},
		// The s3express statement needs s3express:SessionMode=ReadOnly.
		{readOnly, "s3express:CreateSession", policy.ImplicitDeny},
		// Gatehouse's addition to ReadOnlyAccess (see managed.go): the
		// Gatehouse admin API's reads, none of its changes.
		{readOnly, "gatehouse:DescribeUserStatus", policy.Allow},
		{readOnly, "gatehouse:DisableUser", policy.ImplicitDeny},
		{readOnly, "gatehouse:ResetMFA", policy.ImplicitDeny},
		{readOnly, "gatehouse:ListOutbox", policy.ImplicitDeny},
		{readOnly, "gatehouse:DescribeIdentitySource", policy.Allow},
		{readOnly, "gatehouse:DescribeAccountLink", policy.Allow},
		{readOnly, "gatehouse:ListAccountLinks", policy.Allow},
		{readOnly, "gatehouse:LinkAccount", policy.ImplicitDeny},
		{readOnly, "gatehouse:UpdateIdentitySource", policy.ImplicitDeny},
		{readOnly, "gatehouse:SwitchIdentitySource", policy.ImplicitDeny},
		{readOnly, "gatehouse:PreviewIdentitySourceSwitch", policy.ImplicitDeny},
		{viewOnly, "gatehouse:DescribeUserStatus", policy.ImplicitDeny},
		{powerUser, "gatehouse:DisableUser", policy.Allow},
		// ViewOnlyAccess: lists and describes, no data reads.
		{viewOnly, "s3:ListAllMyBuckets", policy.Allow},
		{viewOnly, "s3:ListBucket", policy.Allow},
		{viewOnly, "s3:GetObject", policy.ImplicitDeny},
		{viewOnly, "s3:PutObject", policy.ImplicitDeny},
		{viewOnly, "ec2:DescribeInstances", policy.Allow},
	}
	var c managed.Cache
	for _, tc := range tests {
		name := tc.policy[len("arn:aws:iam::aws:policy/"):] + " " + tc.action
		t.Run(name, func(t *testing.T) {
			p, err := c.Policy(tc.policy)
			if err != nil {
				t.Fatal(err)
			}
			set := policy.Set{Identity: []*policy.Policy{p}}
			req := &policy.Request{Action: tc.action, Resources: []string{"*"}}
			if got := set.Decide(req); got != tc.want {
				t.Errorf("Decide = %v, want %v", got, tc.want)
			}
			if got := set.Evaluate(req).Decision; got != tc.want {
				t.Errorf("Evaluate = %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("ReadOnlyAccess s3express with session mode", func(t *testing.T) {
		p, err := c.Policy(readOnly)
		if err != nil {
			t.Fatal(err)
		}
		set := policy.Set{Identity: []*policy.Policy{p}}
		req := &policy.Request{Action: "s3express:CreateSession", Resources: []string{"*"}}
		req.Context.Set("s3express:SessionMode", "ReadOnly")
		if got := set.Decide(req); got != policy.Allow {
			t.Errorf("Decide = %v, want allowed", got)
		}
	})
}

func TestCacheConcurrent(t *testing.T) {
	var c managed.Cache
	arns := []string{powerUser, readOnly, viewOnly}
	got := make([]*policy.Policy, 12)
	done := make(chan int)
	for i := range got {
		go func() {
			p, err := c.Policy(arns[i%len(arns)])
			if err != nil {
				t.Error(err)
			}
			got[i] = p
			done <- i
		}()
	}
	for range got {
		<-done
	}
	for i := range got {
		if got[i] != got[i%len(arns)] {
			t.Errorf("goroutine %d got a different *Policy for %s", i, arns[i%len(arns)])
		}
	}
}

// TestExtensionsLeaveDocumentsAlone: Lookup returns AWS's ReadOnlyAccess as
// published; only the compiled policy carries Gatehouse's statement.
func TestExtensionsLeaveDocumentsAlone(t *testing.T) {
	m, ok := managed.Lookup(readOnly)
	if !ok {
		t.Fatal("ReadOnlyAccess not embedded")
	}
	if strings.Contains(string(m.Document), "gatehouse:") {
		t.Error("Lookup's ReadOnlyAccess document names gatehouse: actions")
	}
}
