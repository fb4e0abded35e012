package awsaccounts_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/awsaccounts"
	"github.com/gatehouse-dev/gatehouse/internal/awsaccounts/mototest"
	"github.com/gatehouse-dev/gatehouse/internal/awsproto"
	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

func TestCanonicalEndpoint(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"http://moto:5000", "http://moto:5000"},
		{"HTTP://Moto:5000/", "http://moto:5000"},
		{"http://moto:05000", "http://moto:5000"},
		{"http://moto", "http://moto:80"},
		{"https://iam.example.com", "https://iam.example.com:443"},
		{"http://moto.:5000", "http://moto.:5000"},
		{"http://127.0.0.1:5000", "http://127.0.0.1:5000"},
		{"http://[::1]:5000", "http://[::1]:5000"},
		{"http://[0:0:0::1]:5000", "http://[::1]:5000"},
	} {
		got, err := awsaccounts.CanonicalEndpoint(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("CanonicalEndpoint(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{
		"", "moto:5000", "ftp://moto:5000", "http://", "http://:5000", "http://user@moto:5000", "http://user:pw@moto:5000",
		"http://moto:5000/path", "http://moto:5000?x=1", "http://moto:5000#f", "http://moto:0", "http://moto:65536",
		"http://moto:", "http://mo_to:5000", "http://%6doto:5000", "http://[127.0.0.1]:5000", "http://-moto:5000",
	} {
		if got, err := awsaccounts.CanonicalEndpoint(in); err == nil {
			t.Errorf("CanonicalEndpoint(%q) = %q, want an error", in, got)
		}
	}
}

// Only the listed endpoint, however spelled, passes; the tricks that put
// the allowed name somewhere else in the URL, or name a neighbour, do not.
func TestEndpointListAllows(t *testing.T) {
	list, err := awsaccounts.NewEndpointList("http://allowed:5000", "", "https://iam.example.com")
	if err != nil {
		t.Fatal(err)
	}
	for _, ok := range []string{
		"", // real AWS
		"http://allowed:5000", "http://allowed:5000/", "http://ALLOWED:5000", "HTTP://Allowed:5000",
		"https://iam.example.com", "https://iam.example.com:443", "https://IAM.example.com/",
	} {
		if !list.Allows(ok) {
			t.Errorf("Allows(%q) = false, want true", ok)
		}
	}
	for _, bad := range []string{
		"http://allowed@evil:5000", "http://allowed:5000@evil:5000", "http://evil@allowed:5000",
		"http://allowed.evil:5000", "http://allowed.evil", "http://evil/allowed:5000", "http://evil:5000/allowed",
		"http://evil:5000/http://allowed:5000", "http://evil:5000?http://allowed:5000", "http://evil:5000#http://allowed:5000",
		"http://allowed.:5000", "http://ALLOWED.:5000", "http://allowed", "http://allowed:80", "https://allowed:5000",
		"http://allowed:5001", "http://allowed:5000/sts", "http://127.0.0.1:5000", "http://localhost:5000",
		"http://iam.example.com", "https://iam.example.com:8443", "https://iam.example.com.", "https://evil.iam.example.com",
		"http://169.254.169.254", "http://allowed%2eevil:5000", "http://allowed:5000\\@evil",
	} {
		if list.Allows(bad) {
			t.Errorf("Allows(%q) = true, want false", bad)
		}
	}
	var none *awsaccounts.EndpointList
	if !none.Allows("") || none.Allows("http://allowed:5000") {
		t.Error("a nil list must allow real AWS only")
	}
	if _, err := awsaccounts.NewEndpointList("http://ok:1", "http://u@evil:1", "ftp://x"); err == nil ||
		!strings.Contains(err.Error(), "user information") || !strings.Contains(err.Error(), "ftp://x") {
		t.Errorf("NewEndpointList of bad URLs: %v, want both named", err)
	}
}

// LinkAccount refuses an endpoint off the list before anything else: a
// ValidationException naming the setting, nothing stored, no audit event,
// and not one request to the endpoint. The offline command may link
// anywhere; unlinking such a link later makes no call to it.
func TestLinkAccountEndpointNotAllowed(t *testing.T) {
	lw := newLinkWorld(t)
	var hits atomic.Int32
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer evil.Close()
	lw.allow(t, "http://allowed.invalid:5000")
	before := lw.Snap(t)
	for _, endpoint := range []string{evil.URL, "http://allowed.invalid:5000@" + strings.TrimPrefix(evil.URL, "http://"),
		evil.URL + "/allowed.invalid:5000", "http://allowed.invalid.:5000"} {
		_, err := lw.svc.LinkAccount(t.Context(), awsaccounts.LinkInput{AccountID: dev, Endpoint: endpoint, AccessKeyID: testKeyID, SecretAccessKey: testSecret})
		wantFault(t, err, fault.Validation, "Endpoint")
	}
	_, err := lw.svc.LinkAccount(t.Context(), awsaccounts.LinkInput{AccountID: dev, Endpoint: evil.URL, AccessKeyID: testKeyID, SecretAccessKey: testSecret})
	wantFault(t, err, fault.Validation, evil.URL, "--aws-endpoint-allow", "GATEHOUSE_AWS_ENDPOINT_ALLOW", "aws_endpoint_allow")
	if n := hits.Load(); n != 0 {
		t.Fatalf("the refused endpoint got %d requests", n)
	}
	if after := lw.Snap(t); after != before {
		t.Fatalf("the refusal changed the store: %+v → %+v", before, after)
	}
	if ls, _ := lw.Store.ListAccountLinks(t.Context()); len(ls) != 0 {
		t.Fatalf("links after the refusal: %+v", ls)
	}
	// The offline command (the operator) may link anywhere.
	lw.svc.AnyEndpoint = true
	l, err := lw.svc.LinkAccount(t.Context(), awsaccounts.LinkInput{AccountID: dev, Endpoint: evil.URL, AccessKeyID: testKeyID, SecretAccessKey: testSecret})
	if err != nil || hits.Load() == 0 {
		t.Fatalf("AnyEndpoint: %+v, %v, %d requests", l, err, hits.Load())
	}

	// Unlinking a link whose endpoint is off the list removes it without
	// calling the endpoint (its SAML provider there stays, logged).
	lw.svc.AnyEndpoint = false
	hits.Store(0)
	l.Status, l.SAMLProviderARN = store.LinkActive, "arn:aws:iam::"+dev+":saml-provider/GatehouseSSO_x_DO_NOT_DELETE"
	if err := lw.Store.Update(t.Context(), func(tx store.Tx) error { return tx.PutAccountLink(t.Context(), l) }); err != nil {
		t.Fatal(err)
	}
	if err := lw.svc.UnlinkAccount(t.Context(), dev); err != nil {
		t.Fatalf("UnlinkAccount: %v", err)
	}
	if _, err := lw.Store.GetAccountLink(t.Context(), dev); !errors.Is(err, store.ErrNotFound) || hits.Load() != 0 {
		t.Fatalf("after unlink: %v, %d requests to the endpoint", err, hits.Load())
	}
	if !strings.Contains(lw.logs.String(), "without deleting the SAML provider") {
		t.Fatalf("the provider left behind is not logged:\n%s", lw.logs.String())
	}
}

// A link made while its endpoint was listed and used after the operator
// took it off the list: no role credentials (a clear portal error, no
// assertion), provisioning FAILED with the reason, a key rotation's
// publication skips it, and no call goes to it.
func TestEndpointRemovedFromList(t *testing.T) {
	moto := mototest.Start(t)
	var hits atomic.Int32
	proxy := countingProxy(t, moto.URL, &hits)
	lw := newLinkedWorld(t, moto.URL, proxy)
	ctx := t.Context()
	ps, err := lw.Access.CreatePermissionSet(ctx, access.PermissionSetInput{Name: "Dev", SessionDuration: "PT1H"})
	if err != nil {
		t.Fatal(err)
	}
	alice, err := lw.Directory.CreateUser(ctx, directory.CreateUserInput{UserName: "alice", DisplayName: "Alice", Name: store.UserName{GivenName: "Alice", FamilyName: "Doe"}})
	if err != nil {
		t.Fatal(err)
	}
	in := access.AssignmentInput{AccountID: memberAccount, PermissionSetID: ps.ID, PrincipalType: store.PrincipalUser, PrincipalID: alice.ID}
	op, err := lw.Access.CreateAssignment(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if got := lw.settle(t, store.OpCreateAssignment, op); got.Status != store.StatusSucceeded {
		t.Fatalf("creation while listed: %s %s", got.Status, got.FailureReason)
	}
	if hits.Load() == 0 {
		t.Fatal("provisioning while listed made no call through the proxy")
	}

	// The operator restarts Gatehouse without the endpoint on the list.
	lw.Accounts.Endpoints = mustEndpoints(t, moto.URL)
	hits.Store(0)
	l, err := lw.Store.GetAccountLink(ctx, memberAccount)
	if err != nil {
		t.Fatal(err)
	}
	fed := &awsaccounts.Federation{Accounts: lw.Accounts} // no IdP: no assertion may be made
	_, err = fed.Credentials(ctx, l, awsaccounts.CredentialsRequest{User: alice, RoleName: "AWSReservedSSO_Dev_0123456789abcdef",
		SessionDuration: time.Hour, AuthTime: time.Now()})
	ae, ok := errors.AsType[*awsproto.Error](err)
	if !ok || ae.Status != http.StatusServiceUnavailable || !strings.Contains(ae.Message, "--aws-endpoint-allow") || !strings.Contains(ae.Message, proxy) {
		t.Fatalf("Credentials = %v, want a 503 portal error naming the endpoint and the setting", err)
	}
	// The person asking for credentials cannot link anything: the message
	// tells them whom to ask, not how to fill in a link form.
	if strings.Contains(ae.Message, "leave the endpoint empty") || !strings.Contains(ae.Message, "administrator") {
		t.Fatalf("Credentials message = %q, want advice for a user (ask an administrator), not for linking", ae.Message)
	}
	if _, err := lw.Accounts.Clients(ctx, l); err == nil {
		t.Fatal("Clients built clients for an endpoint off the list")
	}

	ps2, err := lw.Access.CreatePermissionSet(ctx, access.PermissionSetInput{Name: "Ops", SessionDuration: "PT1H"})
	if err != nil {
		t.Fatal(err)
	}
	in.PermissionSetID = ps2.ID
	op, err = lw.Access.CreateAssignment(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	got := lw.settle(t, store.OpCreateAssignment, op)
	if got.Status != store.StatusFailed || !strings.Contains(got.FailureReason, "--aws-endpoint-allow") {
		t.Fatalf("creation after removal: %s %q, want FAILED naming the setting", got.Status, got.FailureReason)
	}
	// Removing the first assignment: the role cannot be deleted there.
	in.PermissionSetID = ps.ID
	op, err = lw.Access.DeleteAssignment(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if got := lw.settle(t, store.OpDeleteAssignment, op); got.Status != store.StatusFailed || !strings.Contains(got.FailureReason, "not on the operator's list") {
		t.Fatalf("deletion after removal: %s %q, want FAILED", got.Status, got.FailureReason)
	}
	// A key rotation's publication skips it rather than fail for all.
	lw.Accounts.IdPMetadata = func(context.Context) (string, error) { return metadata, nil }
	if err := lw.Accounts.RefreshProviders(ctx); err != nil {
		t.Fatalf("RefreshProviders: %v", err)
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the endpoint off the list got %d requests", n)
	}
}

// countingProxy forwards to target and counts the requests it gets.
func countingProxy(t *testing.T, target string, hits *atomic.Int32) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	p := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	return p.URL
}

// A link whose endpoint left the list, with roles provisioned there while
// it was listed (or made before the list existed, by whoever could link
// anywhere): once its assignments are deleted, UnlinkAccount removes it
// and the role records without calling the endpoint (the roles there stay,
// logged). Before, the records — whose deletion at the endpoint is refused
// — kept the unlink a ConflictException for good, and the only way out was
// to list the endpoint again, which sends it assertions again.
func TestUnlinkAfterEndpointRemovedWithRoles(t *testing.T) {
	moto := mototest.Start(t)
	var hits atomic.Int32
	proxy := countingProxy(t, moto.URL, &hits)
	lw := newLinkedWorld(t, moto.URL, proxy)
	var logs strings.Builder
	lw.Accounts.Log = slog.New(slog.NewTextHandler(&logs, nil))
	ctx := t.Context()
	ps, alice := lw.setAndUser(t, access.PermissionSetInput{Name: "Dev", SessionDuration: "PT1H"},
		directory.CreateUserInput{UserName: "alice", DisplayName: "Alice", Name: store.UserName{GivenName: "Alice", FamilyName: "Doe"}})
	lw.assignUser(t, ps.ID, alice.ID)

	// The operator restarts Gatehouse without the endpoint on the list.
	lw.Accounts.Endpoints = mustEndpoints(t, moto.URL)
	hits.Store(0)
	// Still assigned: the unlink waits for the assignments to go.
	wantFault(t, lw.Accounts.UnlinkAccount(ctx, memberAccount), fault.Conflict, "assignments")
	in := access.AssignmentInput{AccountID: memberAccount, PermissionSetID: ps.ID, PrincipalType: store.PrincipalUser, PrincipalID: alice.ID}
	op, err := lw.Access.DeleteAssignment(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if got := lw.settle(t, store.OpDeleteAssignment, op); got.Status != store.StatusFailed {
		t.Fatalf("deletion after removal: %s %q, want FAILED (the role there cannot be deleted)", got.Status, got.FailureReason)
	}
	if err := lw.Accounts.UnlinkAccount(ctx, memberAccount); err != nil {
		t.Fatalf("UnlinkAccount of a link off the list without assignments: %v", err)
	}
	if _, err := lw.Store.GetAccountLink(ctx, memberAccount); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the link is still there: %v", err)
	}
	if rs, err := lw.Store.ListProvisionedRoles(ctx, store.RoleFilter{AccountID: memberAccount}); err != nil || len(rs) != 0 {
		t.Fatalf("role records after the unlink: %+v, %v", rs, err)
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the endpoint off the list got %d requests", n)
	}
	if !strings.Contains(logs.String(), "without deleting the role") || !strings.Contains(logs.String(), "AWSReservedSSO_Dev_") {
		t.Fatalf("the roles left behind are not logged:\n%s", logs.String())
	}
}

// TestCanonicalEndpointSaysTheForm checks that an endpoint given without
// its scheme is refused with the form to give, as operators type
// host:port into --aws-endpoint-allow.
func TestCanonicalEndpointSaysTheForm(t *testing.T) {
	for _, in := range []string{"127.0.0.1:5055", "localhost:5055", "moto.internal:5000"} {
		_, err := awsaccounts.CanonicalEndpoint(in)
		if err == nil || !strings.Contains(err.Error(), "scheme://host[:port], e.g. http://") {
			t.Errorf("CanonicalEndpoint(%q): %v", in, err)
		}
	}
}

// LinkAccount stores, and answers with, the endpoint in its canonical form
// (CanonicalEndpoint), the form the operator's list is matched in, however
// it was typed: every path (console, admin API, CLI) goes through it.
func TestLinkAccountStoresCanonicalEndpoint(t *testing.T) {
	moto := mototest.Start(t)
	lw := newLinkWorld(t)
	lw.allow(t, moto.URL)
	typed := "HTTP://" + strings.TrimPrefix(moto.URL, "http://") + "/"
	want, err := awsaccounts.CanonicalEndpoint(moto.URL)
	if err != nil {
		t.Fatal(err)
	}
	l, err := lw.svc.LinkAccount(t.Context(), awsaccounts.LinkInput{AccountID: dev, Endpoint: typed, AccessKeyID: testKeyID, SecretAccessKey: testSecret})
	if err != nil {
		t.Fatalf("LinkAccount %s: %v", typed, err)
	}
	stored, err := lw.Store.GetAccountLink(t.Context(), dev)
	if err != nil {
		t.Fatal(err)
	}
	if l.Endpoint != want || stored.Endpoint != want {
		t.Errorf("endpoint typed %s: answered %q, stored %q, want %q", typed, l.Endpoint, stored.Endpoint, want)
	}
}
