package awsaccounts_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/awsaccounts"
	"github.com/gatehouse-dev/gatehouse/internal/awsaccounts/mototest"
	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/domaintest"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

const memberAccount = "111111111111"

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// linkedWorld is a domain world whose member account is linked to endpoint
// (moto, or a proxy in front of it), with Gatehouse's SAML provider
// registered there.
type linkedWorld struct {
	*domaintest.World
	Clock    *clock
	Accounts *awsaccounts.Service
	P        *awsaccounts.Provisioner
	IAM      *iam.Client // acts in the member account, straight at moto
	Provider string
	Sleeps   []time.Duration
}

func newLinkedWorld(t *testing.T, motoURL, endpoint string) *linkedWorld {
	t.Helper()
	ctx := t.Context()
	w := domaintest.New(t)
	keys := newKeys(t, w.Store)
	clk := &clock{t: time.Now().UTC()}
	s := &awsaccounts.Service{Store: w.Store, Keys: keys, Audit: w.Audit, Now: clk.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Endpoints: mustEndpoints(t, motoURL, endpoint)}
	lw := &linkedWorld{World: w, Clock: clk, Accounts: s}
	lw.P = awsaccounts.NewProvisioner(s)
	lw.P.Sleep = func(_ context.Context, d time.Duration) error { lw.Sleeps = append(lw.Sleeps, d); return nil }
	w.Access.Now = clk.Now
	w.Directory.Now = clk.Now

	if _, err := w.Access.CreateAccount(ctx, memberAccount, "dev", "dev@example.com"); err != nil {
		t.Fatal(err)
	}
	sealed, err := s.SealSecret(memberAccount, "secret")
	if err != nil {
		t.Fatal(err)
	}
	link := &store.AccountLink{
		AccountID: memberAccount, Endpoint: motoURL, Region: "us-east-1", AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SealedSecret: sealed,
		RoleARN: "arn:aws:iam::" + memberAccount + ":role/" + awsaccounts.DefaultRoleName, Status: store.LinkActive,
	}
	c, err := s.Clients(ctx, link)
	if err != nil {
		t.Fatal(err)
	}
	lw.IAM = c.IAM
	prov, err := c.IAM.CreateSAMLProvider(ctx, &iam.CreateSAMLProviderInput{Name: aws.String("Gatehouse"), SAMLMetadataDocument: aws.String(metadata)})
	if err != nil {
		t.Fatal(err)
	}
	lw.Provider = *prov.SAMLProviderArn
	link.SAMLProviderARN = lw.Provider
	link.Endpoint = endpoint
	if err := w.Store.Update(ctx, func(tx store.Tx) error { return tx.PutAccountLink(ctx, link) }); err != nil {
		t.Fatal(err)
	}
	return lw
}

const metadata = `<?xml version="1.0"?><md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://gatehouse.example/saml"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://gatehouse.example/saml/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>`

// settle runs the worker and returns the operation's final status.
func (lw *linkedWorld) settle(t *testing.T, kind string, op *store.Operation) *store.Operation {
	t.Helper()
	if op.Status != store.StatusInProgress {
		t.Fatalf("%s answered %s, want IN_PROGRESS for a linked account", kind, op.Status)
	}
	if err := lw.P.RunOnce(t.Context()); err != nil {
		t.Fatalf("worker: %v", err)
	}
	got, err := lw.Access.GetOperation(t.Context(), kind, op.RequestID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func decodeDoc(t *testing.T, s *string) map[string]any {
	t.Helper()
	text, err := url.QueryUnescape(aws.ToString(s))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(text), &m); err != nil {
		t.Fatalf("policy %q: %v", text, err)
	}
	return m
}

func isNoSuchEntity(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "NoSuchEntity"
}

func (lw *linkedWorld) attached(t *testing.T, role string) []string {
	t.Helper()
	out, err := lw.IAM.ListAttachedRolePolicies(t.Context(), &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(role)})
	if err != nil {
		t.Fatal(err)
	}
	var arns []string
	for _, a := range out.AttachedPolicies {
		arns = append(arns, *a.PolicyArn)
	}
	slices.Sort(arns)
	return arns
}

// setAndUser creates a permission set, then a user.
func (lw *linkedWorld) setAndUser(t *testing.T, set access.PermissionSetInput, user directory.CreateUserInput) (*store.PermissionSet, *store.User) {
	t.Helper()
	ps, err := lw.Access.CreatePermissionSet(t.Context(), set)
	if err != nil {
		t.Fatal(err)
	}
	u, err := lw.Directory.CreateUser(t.Context(), user)
	if err != nil {
		t.Fatal(err)
	}
	return ps, u
}

// motoProxy starts a proxy in front of moto that hands each IAM CreateRole
// request to onCreateRole first: when that returns true it has answered
// the request, and moto never sees it. It returns the proxy's URL.
func motoProxy(t *testing.T, motoURL string, onCreateRole func(w http.ResponseWriter) bool) string {
	t.Helper()
	target, _ := url.Parse(motoURL)
	rp := httputil.NewSingleHostReverseProxy(target)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if bytes.Contains(body, []byte("Action=CreateRole&")) && onCreateRole(w) {
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)
	return proxy.URL
}

// assign creates the assignment, runs the worker until it has SUCCEEDED,
// and returns the role's record.
func (lw *linkedWorld) assign(t *testing.T, in access.AssignmentInput) *store.ProvisionedRole {
	t.Helper()
	ctx := t.Context()
	op, err := lw.Access.CreateAssignment(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if got := lw.settle(t, store.OpCreateAssignment, op); got.Status != store.StatusSucceeded {
		t.Fatalf("creation %s: %s", got.Status, got.FailureReason)
	}
	rec, err := lw.Store.GetProvisionedRole(ctx, in.AccountID, in.PermissionSetID)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// assignUser assigns the user to the permission set in the member account
// (assign).
func (lw *linkedWorld) assignUser(t *testing.T, permissionSetID, userID string) *store.ProvisionedRole {
	t.Helper()
	return lw.assign(t, access.AssignmentInput{AccountID: memberAccount, PermissionSetID: permissionSetID, PrincipalType: store.PrincipalUser, PrincipalID: userID})
}

// revocation reads the role's revocation policy (RevokedSessionsPolicyName)
// back from IAM: NoSuchEntity when there is none.
func (lw *linkedWorld) revocation(t *testing.T, role string) (*iam.GetRolePolicyOutput, error) {
	t.Helper()
	return lw.IAM.GetRolePolicy(t.Context(), &iam.GetRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String(awsaccounts.RevokedSessionsPolicyName)})
}

// revoked reads back the aws:userid values the role's revocation policy
// denies, sorted.
func (lw *linkedWorld) revoked(t *testing.T, role string) []string {
	t.Helper()
	pol, err := lw.revocation(t, role)
	if err != nil {
		t.Fatalf("revocation policy: %v", err)
	}
	var ids []string
	for _, s := range decodeDoc(t, pol.PolicyDocument)["Statement"].([]any) {
		ids = append(ids, s.(map[string]any)["Condition"].(map[string]any)["StringLike"].(map[string]any)["aws:userid"].(string))
	}
	slices.Sort(ids)
	return ids
}

// TestProvisionThroughIAM provisions a permission set into a linked
// account of the stand-in, reads the role back, re-provisions changes,
// fails on a missing customer-managed policy, revokes a disabled user's
// sessions and sweeps the revocation after expiry, and deletes the role
// with the last assignment.
func TestProvisionThroughIAM(t *testing.T) {
	moto := mototest.Start(t)
	lw := newLinkedWorld(t, moto.URL, moto.URL)
	ctx := t.Context()
	a := lw.Access

	const extraDoc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}`
	extra, err := lw.IAM.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("Extra"), Path: aws.String("/team/"), PolicyDocument: aws.String(extraDoc)})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := a.CreatePermissionSet(ctx, access.PermissionSetInput{Name: "Dev", SessionDuration: "PT2H", Tags: []store.Tag{{Key: "team", Value: "platform"}}})
	if err != nil {
		t.Fatal(err)
	}
	const readOnly, s3ReadOnly, powerUser = "arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess", "arn:aws:iam::aws:policy/PowerUserAccess"
	const inline = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::team-bucket/*"}]}`
	must(t, a.AttachManagedPolicy(ctx, ps.ID, readOnly))
	must(t, a.AttachCustomerPolicy(ctx, ps.ID, store.PolicyRef{Name: "Extra", Path: "/team/"}))
	must(t, a.PutInlinePolicy(ctx, ps.ID, inline))
	must(t, a.PutBoundary(ctx, ps.ID, store.Boundary{ManagedPolicyARN: powerUser}))

	alice, err := lw.Directory.CreateUser(ctx, directory.CreateUserInput{UserName: "alice", DisplayName: "Alice", Name: store.UserName{GivenName: "Alice", FamilyName: "Doe"}})
	if err != nil {
		t.Fatal(err)
	}
	in := access.AssignmentInput{AccountID: memberAccount, PermissionSetID: ps.ID, PrincipalType: store.PrincipalUser, PrincipalID: alice.ID}
	rec := lw.assign(t, in)

	// The role as Identity Center makes it.
	got, err := lw.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(rec.RoleName)})
	if err != nil {
		t.Fatalf("role %s not in IAM: %v", rec.RoleName, err)
	}
	role := got.Role
	if !strings.HasPrefix(rec.RoleName, "AWSReservedSSO_Dev_") || len(rec.RoleName) != len("AWSReservedSSO_Dev_")+16 {
		t.Errorf("role name %s", rec.RoleName)
	}
	if *role.Path != awsaccounts.RolePath {
		t.Errorf("path %s", *role.Path)
	}
	if *role.RoleId != rec.RoleID || !strings.HasPrefix(rec.RoleID, "AROA") {
		t.Errorf("stored role ID %s, IAM's %s", rec.RoleID, *role.RoleId)
	}
	if *role.MaxSessionDuration != 7200 {
		t.Errorf("MaxSessionDuration %d, want 7200", *role.MaxSessionDuration)
	}
	trust := decodeDoc(t, role.AssumeRolePolicyDocument)
	st := trust["Statement"].([]any)[0].(map[string]any)
	if st["Effect"] != "Allow" || st["Principal"].(map[string]any)["Federated"] != lw.Provider {
		t.Errorf("trust statement %v", st)
	}
	acts, _ := json.Marshal(st["Action"])
	if !strings.Contains(string(acts), `"sts:AssumeRoleWithSAML"`) || !strings.Contains(string(acts), `"sts:TagSession"`) {
		t.Errorf("trust actions %s", acts)
	}
	if aud := st["Condition"].(map[string]any)["StringEquals"].(map[string]any)["SAML:aud"]; aud != "https://signin.aws.amazon.com/saml" {
		t.Errorf("SAML:aud %v", aud)
	}
	tags, err := lw.IAM.ListRoleTags(ctx, &iam.ListRoleTagsInput{RoleName: aws.String(rec.RoleName)})
	if err != nil {
		t.Fatal(err)
	}
	if len(tags.Tags) != 1 || *tags.Tags[0].Key != "team" || *tags.Tags[0].Value != "platform" {
		t.Errorf("tags %v", tags.Tags)
	}
	if want := []string{readOnly, *extra.Policy.Arn}; !slices.Equal(lw.attached(t, rec.RoleName), sorted(want)) {
		t.Errorf("attached %v, want %v", lw.attached(t, rec.RoleName), want)
	}
	pol, err := lw.IAM.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(rec.RoleName), PolicyName: aws.String("AwsSSOInlinePolicy")})
	if err != nil {
		t.Fatal(err)
	}
	if d := decodeDoc(t, pol.PolicyDocument); !strings.Contains(mustJSON(d), "team-bucket") {
		t.Errorf("inline policy %v", d)
	}
	if role.PermissionsBoundary == nil || *role.PermissionsBoundary.PermissionsBoundaryArn != powerUser {
		t.Errorf("boundary %v", role.PermissionsBoundary)
	}

	// Change the set and provision again: IAM follows.
	must(t, a.DetachManagedPolicy(ctx, ps.ID, readOnly))
	must(t, a.AttachManagedPolicy(ctx, ps.ID, s3ReadOnly))
	must(t, a.DeleteInlinePolicy(ctx, ps.ID))
	must(t, a.DeleteBoundary(ctx, ps.ID))
	dur := "PT4H"
	must(t, a.UpdatePermissionSet(ctx, ps.ID, access.PermissionSetUpdate{SessionDuration: &dur}))
	op, err := a.Provision(ctx, ps.ID, memberAccount)
	if err != nil {
		t.Fatal(err)
	}
	// Until IAM has it, the role is not at the latest version.
	if ids, err := a.PermissionSetsInAccount(ctx, memberAccount, access.ProvisionedNotLatest); err != nil || !slices.Equal(ids, []string{ps.ID}) {
		t.Fatalf("not latest while in progress: %v %v", ids, err)
	}
	if got := lw.settle(t, store.OpProvision, op); got.Status != store.StatusSucceeded {
		t.Fatalf("provisioning %s: %s", got.Status, got.FailureReason)
	}
	if ids, err := a.PermissionSetsInAccount(ctx, memberAccount, access.ProvisionedLatest); err != nil || !slices.Equal(ids, []string{ps.ID}) {
		t.Fatalf("latest once provisioned: %v %v", ids, err)
	}
	if want := []string{s3ReadOnly, *extra.Policy.Arn}; !slices.Equal(lw.attached(t, rec.RoleName), sorted(want)) {
		t.Errorf("attached after update %v, want %v", lw.attached(t, rec.RoleName), want)
	}
	if _, err := lw.IAM.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(rec.RoleName), PolicyName: aws.String("AwsSSOInlinePolicy")}); !isNoSuchEntity(err) {
		t.Errorf("inline policy after delete: %v, want NoSuchEntity", err)
	}
	got, err = lw.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(rec.RoleName)})
	if err != nil {
		t.Fatal(err)
	}
	if got.Role.PermissionsBoundary != nil && aws.ToString(got.Role.PermissionsBoundary.PermissionsBoundaryArn) != "" {
		t.Errorf("boundary after delete: %v", *got.Role.PermissionsBoundary.PermissionsBoundaryArn)
	}
	if *got.Role.MaxSessionDuration != 4*3600 {
		t.Errorf("MaxSessionDuration after update %d", *got.Role.MaxSessionDuration)
	}

	// A customer-managed policy missing in the account fails as AWS says.
	must(t, a.AttachCustomerPolicy(ctx, ps.ID, store.PolicyRef{Name: "Missing", Path: "/"}))
	op, err = a.Provision(ctx, ps.ID, memberAccount)
	if err != nil {
		t.Fatal(err)
	}
	fail := lw.settle(t, store.OpProvision, op)
	want := "Received a 404 status error: Policy arn:aws:iam::111111111111:policy/Missing does not exist or is not attachable."
	if fail.Status != store.StatusFailed || fail.FailureReason != want {
		t.Fatalf("missing policy: %s %q, want FAILED %q", fail.Status, fail.FailureReason, want)
	}
	must(t, a.DetachCustomerPolicy(ctx, ps.ID, store.PolicyRef{Name: "Missing", Path: "/"}))

	// Disabling alice denies her sessions issued before now on the role.
	// The set has not changed for 12 hours: its 4-hour sessions are all
	// there are.
	lw.Clock.Add(access.MaxSessionDuration)
	disabledAt := lw.Clock.Now()
	must(t, lw.Directory.SetUserDisabled(ctx, alice.ID, true))
	if err := lw.P.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	pol, err = lw.revocation(t, rec.RoleName)
	if err != nil {
		t.Fatalf("revocation policy: %v", err)
	}
	deny := decodeDoc(t, pol.PolicyDocument)["Statement"].([]any)
	if len(deny) != 1 {
		t.Fatalf("revocation statements %v", deny)
	}
	ds := deny[0].(map[string]any)
	cond := ds["Condition"].(map[string]any)
	if ds["Effect"] != "Deny" || ds["Action"] != "*" || ds["Resource"] != "*" {
		t.Errorf("revocation statement %v", ds)
	}
	if uid := cond["StringLike"].(map[string]any)["aws:userid"]; uid != rec.RoleID+":alice" {
		t.Errorf("aws:userid %v, want %s:alice", uid, rec.RoleID)
	}
	if ti := cond["DateLessThan"].(map[string]any)["aws:TokenIssueTime"]; ti != disabledAt.Format(time.RFC3339) {
		t.Errorf("aws:TokenIssueTime %v, want %s", ti, disabledAt.Format(time.RFC3339))
	}
	// Before the sessions expire the sweep keeps it; after, removes it.
	lw.Clock.Add(4*time.Hour - time.Minute)
	must(t, lw.P.Sweep(ctx))
	if _, err := lw.revocation(t, rec.RoleName); err != nil {
		t.Fatalf("revocation swept before the sessions expired: %v", err)
	}
	lw.Clock.Add(2 * time.Minute)
	must(t, lw.P.Sweep(ctx))
	if _, err := lw.revocation(t, rec.RoleName); !isNoSuchEntity(err) {
		t.Fatalf("revocation after expiry: %v, want NoSuchEntity", err)
	}

	// The last assignment goes: so does the role.
	op, err = a.DeleteAssignment(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if got := lw.settle(t, store.OpDeleteAssignment, op); got.Status != store.StatusSucceeded {
		t.Fatalf("deletion %s: %s", got.Status, got.FailureReason)
	}
	if _, err := lw.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(rec.RoleName)}); !isNoSuchEntity(err) {
		t.Fatalf("role after the last assignment went: %v, want NoSuchEntity", err)
	}
	if _, err := lw.Store.GetProvisionedRole(ctx, memberAccount, ps.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("role record after deletion: %v", err)
	}
}

// TestGroupAssignmentLossRevokes revokes a user's sessions when they leave
// a group, and those of a group's members when the group's assignment goes
// while another assignment keeps the role: one statement per user, merged
// into the role's policy.
func TestGroupAssignmentLossRevokes(t *testing.T) {
	moto := mototest.Start(t)
	lw := newLinkedWorld(t, moto.URL, moto.URL)
	ctx := t.Context()
	ps, err := lw.Access.CreatePermissionSet(ctx, access.PermissionSetInput{Name: "Ops"})
	if err != nil {
		t.Fatal(err)
	}
	g, err := lw.Directory.CreateGroup(ctx, "ops", "")
	if err != nil {
		t.Fatal(err)
	}
	var users []*store.User
	for _, n := range []string{"bob", "carol", "dave"} {
		u, err := lw.Directory.CreateUser(ctx, directory.CreateUserInput{UserName: n, DisplayName: n, Name: store.UserName{GivenName: n, FamilyName: "X"}})
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, u)
	}
	var bobMembership string
	for _, u := range users[:2] {
		m, err := lw.Directory.AddMember(ctx, g.ID, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if u.UserName == "bob" {
			bobMembership = m.ID
		}
	}
	group := access.AssignmentInput{AccountID: memberAccount, PermissionSetID: ps.ID, PrincipalType: store.PrincipalGroup, PrincipalID: g.ID}
	dave := access.AssignmentInput{AccountID: memberAccount, PermissionSetID: ps.ID, PrincipalType: store.PrincipalUser, PrincipalID: users[2].ID}
	lw.assign(t, group)
	rec := lw.assign(t, dave)

	// Bob leaves the group: his sessions are revoked, carol's are not.
	// While another replica rewrites the role's revocation policy, this
	// one waits for the next window.
	other := awsaccounts.NewProvisioner(lw.Accounts)
	if ok, err := awsaccounts.LockRole(other, ctx, memberAccount, ps.ID); err != nil || !ok {
		t.Fatalf("lock: %v %v", ok, err)
	}
	must(t, lw.Directory.RemoveMember(ctx, bobMembership))
	must(t, lw.P.RunOnce(ctx))
	if q, err := lw.Store.ListOperations(ctx, store.OperationFilter{Kind: access.OpRevokeSessions, Status: store.StatusInProgress}); err != nil || len(q) != 1 {
		t.Fatalf("queued revocations while another replica holds the role: %v %v", q, err)
	}
	if _, err := lw.revocation(t, rec.RoleName); !isNoSuchEntity(err) {
		t.Fatalf("revocation written under another replica's lock: %v", err)
	}
	lw.Clock.Add(time.Minute)
	must(t, lw.P.RunOnce(ctx))
	if got, want := lw.revoked(t, rec.RoleName), []string{rec.RoleID + ":bob"}; !slices.Equal(got, want) {
		t.Fatalf("after bob left: revoked %v, want %v", got, want)
	}

	// The group's assignment goes: carol is revoked too, merged into the
	// same policy; dave keeps the role through his own assignment.
	op, err := lw.Access.DeleteAssignment(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	if got := lw.settle(t, store.OpDeleteAssignment, op); got.Status != store.StatusSucceeded {
		t.Fatalf("deletion %s: %s", got.Status, got.FailureReason)
	}
	if _, err := lw.Store.GetProvisionedRole(ctx, memberAccount, ps.ID); err != nil {
		t.Fatalf("the role went while dave keeps it: %v", err)
	}
	if _, err := lw.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(rec.RoleName)}); err != nil {
		t.Fatalf("the role went from IAM while dave keeps it: %v", err)
	}
	if got, want := lw.revoked(t, rec.RoleName), []string{rec.RoleID + ":bob", rec.RoleID + ":carol"}; !slices.Equal(got, want) {
		t.Fatalf("revoked %v, want %v (dave keeps his access)", got, want)
	}

	// Deleting dave takes the last assignment with him: the role goes
	// from IAM and the store, with no operation of the API's to wait on.
	must(t, lw.Directory.DeleteUser(ctx, users[2].ID))
	must(t, lw.P.RunOnce(ctx))
	if _, err := lw.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(rec.RoleName)}); !isNoSuchEntity(err) {
		t.Fatalf("role after its last user was deleted: %v, want NoSuchEntity", err)
	}
	if _, err := lw.Store.GetProvisionedRole(ctx, memberAccount, ps.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("role record after its last user was deleted: %v", err)
	}
	for _, kind := range []string{access.OpReconcileRole, access.OpRevokeSessions} {
		if q, err := lw.Store.ListOperations(ctx, store.OperationFilter{Kind: kind, Status: store.StatusInProgress}); err != nil || len(q) != 0 {
			t.Fatalf("%s still queued: %v %v", kind, q, err)
		}
	}
}

// TestProvisionRetriesThrottling puts a proxy in front of the stand-in
// that answers the first CreateRole calls with IAM's Throttling error:
// the worker backs off and succeeds; an error that is not throttling
// fails the operation at once with its reason.
func TestProvisionRetriesThrottling(t *testing.T) {
	moto := mototest.Start(t)
	var mu sync.Mutex
	throttle, deny := 3, false
	calls := 0
	proxy := motoProxy(t, moto.URL, func(w http.ResponseWriter) bool {
		mu.Lock()
		calls++
		th, dn := throttle > 0, deny
		if th {
			throttle--
		}
		mu.Unlock()
		switch {
		case th:
			w.Header().Set("Content-Type", "text/xml")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>1</RequestId></ErrorResponse>`)
			return true
		case dn:
			w.Header().Set("Content-Type", "text/xml")
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User is not authorized to perform: iam:CreateRole</Message></Error><RequestId>2</RequestId></ErrorResponse>`)
			return true
		}
		return false
	})
	lw := newLinkedWorld(t, moto.URL, proxy)
	ctx := t.Context()
	ps, u := lw.setAndUser(t, access.PermissionSetInput{Name: "Dev"}, directory.CreateUserInput{UserName: "erin", DisplayName: "Erin", Name: store.UserName{GivenName: "E", FamilyName: "R"}})
	op, err := lw.Access.CreateAssignment(ctx, access.AssignmentInput{AccountID: memberAccount, PermissionSetID: ps.ID, PrincipalType: store.PrincipalUser, PrincipalID: u.ID})
	if err != nil {
		t.Fatal(err)
	}
	if got := lw.settle(t, store.OpCreateAssignment, op); got.Status != store.StatusSucceeded {
		t.Fatalf("after throttling: %s %s", got.Status, got.FailureReason)
	}
	if calls != 4 || len(lw.Sleeps) != 3 {
		t.Fatalf("CreateRole calls %d, backoffs %v; want 4 calls after 3 backoffs", calls, lw.Sleeps)
	}
	for i, d := range lw.Sleeps {
		if d < 0 || d > 200*time.Millisecond<<i {
			t.Errorf("backoff %d = %v, beyond the exponential bound", i, d)
		}
	}

	// Another permission set under an AccessDenied: FAILED with the reason, no retry.
	mu.Lock()
	deny, calls = true, 0
	mu.Unlock()
	ps2, err := lw.Access.CreatePermissionSet(ctx, access.PermissionSetInput{Name: "Ops"})
	if err != nil {
		t.Fatal(err)
	}
	op, err = lw.Access.CreateAssignment(ctx, access.AssignmentInput{AccountID: memberAccount, PermissionSetID: ps2.ID, PrincipalType: store.PrincipalUser, PrincipalID: u.ID})
	if err != nil {
		t.Fatal(err)
	}
	got := lw.settle(t, store.OpCreateAssignment, op)
	if want := "Received a 403 status error: User is not authorized to perform: iam:CreateRole"; got.Status != store.StatusFailed || got.FailureReason != want || calls != 1 {
		t.Fatalf("denied: %s %q after %d calls, want FAILED %q after 1", got.Status, got.FailureReason, calls, want)
	}
	// A failed creation leaves no assignment, and its role record goes.
	if as, err := lw.Store.ListAssignments(ctx, store.AssignmentFilter{PermissionSetID: ps2.ID}); err != nil || len(as) != 0 {
		t.Fatalf("assignments after a failed creation: %v %v", as, err)
	}
	must(t, lw.P.RunOnce(ctx))
	if _, err := lw.Store.GetProvisionedRole(ctx, memberAccount, ps2.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("role record after a failed creation: %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func sorted(s []string) []string { slices.Sort(s); return s }

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

// TestOneReplicaPerOperation runs two workers (two replicas) on the same
// store at once while the stand-in is slow to create roles: the lease lets
// only one of them work on the operation, so the role is created once.
func TestOneReplicaPerOperation(t *testing.T) {
	moto := mototest.Start(t)
	var mu sync.Mutex
	creates := 0
	proxy := motoProxy(t, moto.URL, func(http.ResponseWriter) bool {
		mu.Lock()
		creates++
		mu.Unlock()
		time.Sleep(500 * time.Millisecond)
		return false
	})
	lw := newLinkedWorld(t, moto.URL, proxy)
	ctx := t.Context()
	ps, u := lw.setAndUser(t, access.PermissionSetInput{Name: "Dev"}, directory.CreateUserInput{UserName: "frank", DisplayName: "Frank", Name: store.UserName{GivenName: "F", FamilyName: "K"}})
	op, err := lw.Access.CreateAssignment(ctx, access.AssignmentInput{AccountID: memberAccount, PermissionSetID: ps.ID, PrincipalType: store.PrincipalUser, PrincipalID: u.ID})
	if err != nil {
		t.Fatal(err)
	}
	other := awsaccounts.NewProvisioner(lw.Accounts)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, p := range []*awsaccounts.Provisioner{lw.P, other} {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = p.RunOnce(ctx) }()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := lw.Access.GetOperation(ctx, store.OpCreateAssignment, op.RequestID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != store.StatusSucceeded || creates != 1 {
		t.Fatalf("status %s %q after %d CreateRole calls; want SUCCEEDED after 1", got.Status, got.FailureReason, creates)
	}
}

// TestSessionNames: the session name is the user name fitted to STS's
// characters and length; wildcards match only themselves in the
// revocation's StringLike condition.
func TestSessionNames(t *testing.T) {
	for in, want := range map[string]string{"alice": "alice", "Ann Lee*": "Ann-Lee-", "é": "-", "x": "x", strings.Repeat("a", 70): strings.Repeat("a", 51)} {
		// A name that had to change is followed by '-' and 12 hex digits.
		if got := awsaccounts.SessionName(in); in != "alice" && (len(got) != len(want)+13 || !strings.HasPrefix(got, want+"-")) || in == "alice" && got != want {
			t.Errorf("SessionName(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"alice": "alice", "a*b?c$": "a${*}b${?}c${$}", "": ""} {
		if got := awsaccounts.LikeLiteral(in); got != want {
			t.Errorf("LikeLiteral(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestQueueAccountProvisionsExistingRoles: an account with an assignment
// made while it was local gets its role in IAM once linked and queued.
func TestQueueAccountProvisionsExistingRoles(t *testing.T) {
	moto := mototest.Start(t)
	lw := newLinkedWorld(t, moto.URL, moto.URL)
	ctx := t.Context()
	// Local first: unlink for the assignment.
	link, err := lw.Store.GetAccountLink(ctx, memberAccount)
	if err != nil {
		t.Fatal(err)
	}
	must(t, lw.Store.Update(ctx, func(tx store.Tx) error { return tx.DeleteAccountLink(ctx, memberAccount) }))
	ps, u := lw.setAndUser(t, access.PermissionSetInput{Name: "Early", SessionDuration: "PT5H"}, directory.CreateUserInput{UserName: "gina", DisplayName: "Gina", Name: store.UserName{GivenName: "G", FamilyName: "H"}})
	op, err := lw.Access.CreateAssignment(ctx, access.AssignmentInput{AccountID: memberAccount, PermissionSetID: ps.ID, PrincipalType: store.PrincipalUser, PrincipalID: u.ID})
	if err != nil || op.Status != store.StatusSucceeded {
		t.Fatalf("local assignment: %v %v", op, err)
	}
	must(t, lw.Store.Update(ctx, func(tx store.Tx) error { return tx.PutAccountLink(ctx, link) }))
	must(t, lw.P.QueueAccount(ctx, memberAccount))
	must(t, lw.P.RunOnce(ctx))
	rec, err := lw.Store.GetProvisionedRole(ctx, memberAccount, ps.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := lw.IAM.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(rec.RoleName)})
	if err != nil {
		t.Fatalf("role not in IAM after linking: %v", err)
	}
	if *got.Role.RoleId != rec.RoleID || *got.Role.MaxSessionDuration != 5*3600 {
		t.Fatalf("role %s (%d s), stored ID %s", *got.Role.RoleId, *got.Role.MaxSessionDuration, rec.RoleID)
	}
}

// TestRenameRevokesOldName: a revocation names sessions by user name, so
// renaming a user (identitystore UpdateUser, or a SCIM PUT through
// EditUser) revokes the sessions of the old name; otherwise disabling the
// renamed user would deny only the new name, and the sessions the user
// took under the old one would outlive the disabling.
func TestRenameRevokesOldName(t *testing.T) {
	moto := mototest.Start(t)
	lw := newLinkedWorld(t, moto.URL, moto.URL)
	ctx := t.Context()
	ps, erin := lw.setAndUser(t, access.PermissionSetInput{Name: "Ops"}, directory.CreateUserInput{UserName: "erin", DisplayName: "erin", Name: store.UserName{GivenName: "erin", FamilyName: "X"}})
	rec := lw.assignUser(t, ps.ID, erin.ID)

	must(t, lw.Directory.UpdateUser(ctx, erin.ID, []directory.AttributeOp{{Path: "userName", Value: json.RawMessage(`"erin2"`)}}))
	must(t, lw.P.RunOnce(ctx))
	if got, want := lw.revoked(t, rec.RoleName), []string{rec.RoleID + ":erin"}; !slices.Equal(got, want) {
		t.Fatalf("after the rename: revoked %v, want %v", got, want)
	}
	// A change that keeps the name revokes nothing more.
	must(t, lw.Directory.UpdateUser(ctx, erin.ID, []directory.AttributeOp{{Path: "displayName", Value: json.RawMessage(`"Erin"`)}}))
	if q, err := lw.Store.ListOperations(ctx, store.OperationFilter{Kind: access.OpRevokeSessions, Status: store.StatusInProgress}); err != nil || len(q) != 0 {
		t.Fatalf("revocations queued without a rename: %v %v", q, err)
	}
	_, err := lw.Directory.EditUser(ctx, erin.ID, directory.Event{Source: "scim", Name: "PutUser"}, func(u *store.User) error {
		u.UserName = "erin3"
		return nil
	})
	must(t, err)
	must(t, lw.P.RunOnce(ctx))
	if got, want := lw.revoked(t, rec.RoleName), []string{rec.RoleID + ":erin", rec.RoleID + ":erin2"}; !slices.Equal(got, want) {
		t.Fatalf("after the SCIM rename: revoked %v, want %v", got, want)
	}
}

// TestSessionNamesDistinct: two users never share a session name, which
// a revocation names and CloudTrail shows as the SourceIdentity: a name
// that had to be cleaned or cut carries a hash of the whole name, so that
// disabling "ana maria" does not deny "ana-maria", nor one long name
// another with the same first 64 characters. Names that fit STS's rules
// are their own session names, as in IAM Identity Center.
func TestSessionNamesDistinct(t *testing.T) {
	for _, pair := range [][2]string{
		{"ana maria", "ana-maria"},
		{"Zoë", "Zo-"},
		{"x", "x-"},
		{strings.Repeat("a", 70), strings.Repeat("a", 64)},
		{strings.Repeat("a", 70), strings.Repeat("a", 71)},
	} {
		a, b := awsaccounts.SessionName(pair[0]), awsaccounts.SessionName(pair[1])
		if a == b {
			t.Errorf("SessionName(%q) = SessionName(%q) = %q", pair[0], pair[1], a)
		}
		for _, s := range []string{a, b} {
			if len(s) < 2 || len(s) > 64 || strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+=,.@-") != "" {
				t.Errorf("session name %q breaks STS's rules", s)
			}
		}
	}
	for _, n := range []string{"alice", "alice@example.com", "ed.developer+ops=1,team_", strings.Repeat("b", 64)} {
		if got := awsaccounts.SessionName(n); got != n {
			t.Errorf("SessionName(%q) = %q, want the name itself", n, got)
		}
	}
}

// TestRevocationOutlivesShortenedDuration: sessions issued before a
// permission set's session duration was shortened last as long as they
// were issued for; the revocation of a user disabled meanwhile must stay
// until they expire, not only for the new, shorter duration.
func TestRevocationOutlivesShortenedDuration(t *testing.T) {
	moto := mototest.Start(t)
	lw := newLinkedWorld(t, moto.URL, moto.URL)
	ctx := t.Context()
	ps, fay := lw.setAndUser(t, access.PermissionSetInput{Name: "Ops", SessionDuration: "PT12H"}, directory.CreateUserInput{UserName: "fay", DisplayName: "fay", Name: store.UserName{GivenName: "fay", FamilyName: "X"}})
	rec := lw.assignUser(t, ps.ID, fay.ID)
	// fay takes a 12-hour session now; then the set is cut to one hour
	// and fay is disabled.
	lw.Clock.Add(time.Minute)
	one := "PT1H"
	must(t, lw.Access.UpdatePermissionSet(ctx, ps.ID, access.PermissionSetUpdate{SessionDuration: &one}))
	lw.Clock.Add(time.Minute)
	must(t, lw.Directory.SetUserDisabled(ctx, fay.ID, true))
	must(t, lw.P.RunOnce(ctx))
	lw.Clock.Add(2 * time.Hour)
	must(t, lw.P.Sweep(ctx))
	if _, err := lw.revocation(t, rec.RoleName); err != nil {
		t.Fatalf("revocation swept 2h later while fay's 12-hour session lives: %v", err)
	}
	lw.Clock.Add(10 * time.Hour)
	must(t, lw.P.Sweep(ctx))
	if _, err := lw.revocation(t, rec.RoleName); !isNoSuchEntity(err) {
		t.Fatalf("revocation after every session expired: %v, want NoSuchEntity", err)
	}
}
