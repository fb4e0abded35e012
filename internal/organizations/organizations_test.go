package organizations_test

import (
	"regexp"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/domaintest"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/organizations"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

func newService(t *testing.T) (*domaintest.World, *organizations.Service) {
	t.Helper()
	w := domaintest.New(t)
	return w, &organizations.Service{Store: w.Store, Audit: w.Audit, IDs: w.IDs, Now: time.Now, Instance: w.Instance}
}

func TestIdentifiers(t *testing.T) {
	w, s := newService(t)
	root := s.Root()
	org, err := s.Describe(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	mgmt := w.Instance.ManagementAccountID
	for _, tc := range []struct{ name, got, pattern string }{
		{"organization ID", org.ID, `^o-[a-z0-9]{10,32}$`},
		{"organization ARN", org.ARN, `^arn:aws:organizations::` + mgmt + `:organization/o-[a-z0-9]{10,32}$`},
		{"management ARN", org.ManagementAccountARN, `^arn:aws:organizations::` + mgmt + `:account/` + org.ID + `/` + mgmt + `$`},
		{"root ID", root.ID, `^r-[0-9a-z]{4,32}$`},
		{"root ARN", root.ARN, `^arn:aws:organizations::` + mgmt + `:root/` + org.ID + `/` + root.ID + `$`},
	} {
		if !regexp.MustCompile(tc.pattern).MatchString(tc.got) {
			t.Errorf("%s = %q, want %s", tc.name, tc.got, tc.pattern)
		}
	}
	again := &organizations.Service{Instance: w.Instance}
	if again.OrganizationID() != org.ID || again.Root() != root {
		t.Errorf("identifiers are not stable across services")
	}
}

func TestCreateAccount(t *testing.T) {
	_, s := newService(t)
	ctx := t.Context()
	st, err := s.CreateAccount(ctx, organizations.CreateAccountInput{Email: "dev@example.com", AccountName: "dev",
		Tags: []store.Tag{{Key: "team", Value: "blue"}}})
	if err != nil {
		t.Fatal(err)
	}
	if st.State != store.CreateAccountInProgress || st.AccountID != "" {
		t.Errorf("CreateAccount answered %+v, want IN_PROGRESS without an account", st)
	}
	done, err := s.CreateAccountStatus(ctx, st.ID)
	if err != nil {
		t.Fatal(err)
	}
	if done.State != store.CreateAccountSucceeded || done.AccountID == "" || done.CompletedAt.IsZero() {
		t.Fatalf("status %+v, want SUCCEEDED with an account", done)
	}
	a, err := s.Account(ctx, done.AccountID)
	if err != nil {
		t.Fatal(err)
	}
	want := store.Account{ID: done.AccountID, Name: "dev", Email: "dev@example.com", State: store.AccountActive,
		JoinedMethod: store.JoinedCreated, Tags: []store.Tag{{Key: "team", Value: "blue"}}, CreatedAt: a.CreatedAt}
	if diff := cmp.Diff(&want, a); diff != "" {
		t.Errorf("account (-want +got):\n%s", diff)
	}

	dup, err := s.CreateAccount(ctx, organizations.CreateAccountInput{Email: "DEV@example.com", AccountName: "dev2"})
	if err != nil {
		t.Fatal(err)
	}
	failed, err := s.CreateAccountStatus(ctx, dup.ID)
	if err != nil {
		t.Fatal(err)
	}
	if failed.State != store.CreateAccountFailed || failed.FailureReason != organizations.FailureEmailAlreadyExists {
		t.Errorf("duplicate e-mail: status %+v, want FAILED EMAIL_ALREADY_EXISTS", failed)
	}
}

func TestCreateAccountInvalid(t *testing.T) {
	w, s := newService(t)
	before := w.Snap(t)
	for _, tc := range []struct {
		name   string
		in     organizations.CreateAccountInput
		reason string
	}{
		{"no email", organizations.CreateAccountInput{AccountName: "x"}, organizations.ReasonInputRequired},
		{"bad email", organizations.CreateAccountInput{Email: "not-an-email", AccountName: "x"}, organizations.ReasonInvalidPattern},
		{"no name", organizations.CreateAccountInput{Email: "a@example.com"}, organizations.ReasonInputRequired},
		{"long name", organizations.CreateAccountInput{Email: "a@example.com", AccountName: string(make([]byte, 51))}, organizations.ReasonMaxLength},
		{"bad role", organizations.CreateAccountInput{Email: "a@example.com", AccountName: "x", RoleName: "a b"}, organizations.ReasonInvalidRoleName},
		{"bad billing", organizations.CreateAccountInput{Email: "a@example.com", AccountName: "x", IAMUserAccessToBilling: "MAYBE"}, organizations.ReasonInvalidEnum},
		{"duplicate tag", organizations.CreateAccountInput{Email: "a@example.com", AccountName: "x",
			Tags: []store.Tag{{Key: "k", Value: "1"}, {Key: "k", Value: "2"}}}, organizations.ReasonDuplicateTagKey},
		{"aws tag", organizations.CreateAccountInput{Email: "a@example.com", AccountName: "x",
			Tags: []store.Tag{{Key: "aws:x", Value: "1"}}}, organizations.ReasonInvalidSystemTags},
	} {
		_, err := s.CreateAccount(t.Context(), tc.in)
		if f := fault.As(err); f.Kind != fault.Validation || f.Reason != tc.reason {
			t.Errorf("%s: error %v (kind %v, reason %q), want Validation %s", tc.name, err, f.Kind, f.Reason, tc.reason)
		}
	}
	if after := w.Snap(t); after != before {
		t.Errorf("invalid input changed the store: %+v, then %+v", before, after)
	}
}

// TestCloseAccount: closing ends the account's assignments and roles, so
// the user loses the entitlement; a second close, the management account
// and new assignments to the closed account are refused.
func TestCloseAccount(t *testing.T) {
	w, s := newService(t)
	ctx := t.Context()
	st, err := s.CreateAccount(ctx, organizations.CreateAccountInput{Email: "dev@example.com", AccountName: "dev"})
	if err != nil {
		t.Fatal(err)
	}
	st, err = s.CreateAccountStatus(ctx, st.ID)
	if err != nil {
		t.Fatal(err)
	}
	acct := st.AccountID
	u, err := w.Directory.CreateUser(ctx, directory.CreateUserInput{UserName: "ed.developer", DisplayName: "Ed", Name: store.UserName{GivenName: "Ed", FamilyName: "Dev"}})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := w.Access.CreatePermissionSet(ctx, access.PermissionSetInput{Name: "Dev"})
	if err != nil {
		t.Fatal(err)
	}
	in := access.AssignmentInput{AccountID: acct, PermissionSetID: ps.ID, PrincipalType: store.PrincipalUser, PrincipalID: u.ID}
	if _, err := w.Access.CreateAssignment(ctx, in); err != nil {
		t.Fatal(err)
	}
	ents, err := access.Entitlements(ctx, w.Store, u.ID)
	if err != nil || len(ents) != 1 {
		t.Fatalf("entitlements before closing: %v, %v", ents, err)
	}

	if err := s.CloseAccount(ctx, acct); err != nil {
		t.Fatal(err)
	}
	ents, err = access.Entitlements(ctx, w.Store, u.ID)
	if err != nil || len(ents) != 0 {
		t.Errorf("entitlements after closing: %v, %v; want none", ents, err)
	}
	roles, err := w.Store.ListProvisionedRoles(ctx, store.RoleFilter{AccountID: acct})
	if err != nil || len(roles) != 0 {
		t.Errorf("roles after closing: %v, %v; want none", roles, err)
	}
	a, err := s.Account(ctx, acct)
	if err != nil {
		t.Fatal(err)
	}
	if got := organizations.State(a, time.Now()); got != store.AccountSuspended {
		t.Errorf("state after closing = %s, want SUSPENDED", got)
	}
	if got := organizations.State(a, a.ClosedAt.Add(organizations.PostClosurePeriod)); got != "CLOSED" {
		t.Errorf("state after the post-closure period = %s, want CLOSED", got)
	}
	if _, err := w.Access.CreateAssignment(ctx, in); fault.KindOf(err) != fault.NotFound {
		t.Errorf("assignment to a closed account: %v, want NotFound", err)
	}
	if err := s.CloseAccount(ctx, acct); fault.As(err).Reason != organizations.ReasonAlreadyClosed {
		t.Errorf("second close: %v, want already closed", err)
	}
	if err := s.CloseAccount(ctx, w.Instance.ManagementAccountID); fault.As(err).Reason != organizations.ReasonCannotCloseMgmt {
		t.Errorf("closing the management account: %v, want CANNOT_CLOSE_MANAGEMENT_ACCOUNT", err)
	}
}

func TestTags(t *testing.T) {
	w, s := newService(t)
	ctx := t.Context()
	mgmt := w.Instance.ManagementAccountID
	if err := s.TagResource(ctx, mgmt, []store.Tag{{Key: "a", Value: "1"}, {Key: "b", Value: "2"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.TagResource(ctx, mgmt, []store.Tag{{Key: "a", Value: "3"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.UntagResource(ctx, mgmt, []string{"b", "missing"}); err != nil {
		t.Fatal(err)
	}
	tags, err := s.Tags(ctx, mgmt)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]store.Tag{{Key: "a", Value: "3"}}, tags); diff != "" {
		t.Errorf("tags (-want +got):\n%s", diff)
	}
	many := make([]store.Tag, organizations.MaxTags)
	for i := range many {
		many[i] = store.Tag{Key: "k" + string(rune('A'+i%26)) + string(rune('a'+i/26)), Value: "v"}
	}
	if err := s.TagResource(ctx, mgmt, many); fault.As(err).Reason != organizations.ReasonMaxTagLimitExceeded {
		t.Errorf("tag past the limit: %v, want MAX_TAG_LIMIT_EXCEEDED", err)
	}
	for _, tc := range []struct {
		id   string
		kind fault.Kind
	}{
		{"999999999999", fault.NotFound},
		{s.Root().ID, fault.Validation},
		{"ou-abcd-12345678", fault.NotFound},
		{"nonsense", fault.Validation},
	} {
		if _, err := s.Tags(ctx, tc.id); fault.KindOf(err) != tc.kind {
			t.Errorf("tags of %s: %v, want kind %v", tc.id, err, tc.kind)
		}
	}
}
