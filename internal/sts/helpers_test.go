package sts_test

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/awsauth"
	"github.com/gatehouse-dev/gatehouse/internal/session"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/accesscache"
	"github.com/gatehouse-dev/gatehouse/internal/awsaccounts"
	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/domaintest"
	"github.com/gatehouse-dev/gatehouse/internal/keyring"
	"github.com/gatehouse-dev/gatehouse/internal/sigv4"
	"github.com/gatehouse-dev/gatehouse/internal/store"
	"github.com/gatehouse-dev/gatehouse/internal/sts"
)

// offsetClock is real time shifted by a settable offset, so the cache's
// refresh interval keeps running while a test moves one component's clock.
type offsetClock struct{ offset atomic.Int64 }

func (c *offsetClock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

func (c *offsetClock) Set(d time.Duration) { c.offset.Store(int64(d)) }

const testAccount = "111122223333"

// env is a small world: one account, one user assigned the ReadOnly
// permission set (PT2H) there, a second permission set assigned to nobody,
// and the STS service on an httptest server.
type env struct {
	w             *domaintest.World
	user          *store.User
	ps, unused    *store.PermissionSet
	role          *store.ProvisionedRole
	issuer        *sts.Issuer
	svc           *sts.Service
	url           string
	issuerClock   *offsetClock
	verifierClock *offsetClock
	principal     session.Principal
	// cacheClock is the access cache's clock; seq.Down makes the store's
	// change counter unreadable to it (fault injection).
	cacheClock *offsetClock
	seq        *domaintest.SeqFault
	// logs holds what the STS service logs, Debug and up, as text.
	logs *domaintest.LogBuffer
}

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx := t.Context()
	w := domaintest.New(t)
	e := &env{w: w, issuerClock: &offsetClock{}, verifierClock: &offsetClock{}, cacheClock: &offsetClock{}, logs: &domaintest.LogBuffer{},
		seq: &domaintest.SeqFault{Store: w.Store}}
	if _, err := w.Access.CreateAccount(ctx, testAccount, "Dev", "dev@example.test"); err != nil {
		t.Fatal(err)
	}
	var err error
	if e.ps, err = w.Access.CreatePermissionSet(ctx, access.PermissionSetInput{Name: "ReadOnly", SessionDuration: "PT2H"}); err != nil {
		t.Fatal(err)
	}
	if e.unused, err = w.Access.CreatePermissionSet(ctx, access.PermissionSetInput{Name: "Admin"}); err != nil {
		t.Fatal(err)
	}
	if e.user, err = w.Directory.CreateUser(ctx, directory.CreateUserInput{
		UserName: "alice@example.test", DisplayName: "Alice Doe",
		Name: store.UserName{GivenName: "Alice", FamilyName: "Doe"},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Access.CreateAssignment(ctx, e.assignment()); err != nil {
		t.Fatal(err)
	}
	if e.role, err = w.Store.GetProvisionedRole(ctx, testAccount, e.ps.ID); err != nil {
		t.Fatal(err)
	}
	master := make([]byte, keyring.MasterKeySize)
	rand.Read(master)
	keys, err := keyring.Open(ctx, w.Store, master, rand.Reader, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	e.issuer = &sts.Issuer{
		Keys: keys, Cache: accesscache.New(e.seq, e.cacheClock.Now), Store: w.Store, Audit: w.Audit,
		IDs: w.IDs, Now: e.issuerClock.Now, Instance: w.Instance,
		// Set as the server sets it: local accounts must not reach it.
		Linked: noLinkedAccounts{t},
	}
	e.svc = &sts.Service{Auth: &awsauth.Authenticator{
		Sessions: e.issuer, Verifier: &sigv4.Verifier{Now: e.verifierClock.Now},
		Events: audit.Direct{Store: w.Store, Recorder: w.Audit},
	}, Log: slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	srv := httptest.NewServer(e.svc)
	t.Cleanup(srv.Close)
	e.url = srv.URL
	e.principal = session.Principal{UserID: e.user.ID, UserName: e.user.UserName, GrantID: "grant-1", SessionID: "session-1",
		MFA: true, AuthTime: time.Now().Add(-time.Minute)}
	return e
}

func (e *env) assignment() access.AssignmentInput {
	return access.AssignmentInput{AccountID: testAccount, PermissionSetID: e.ps.ID, PrincipalType: store.PrincipalUser, PrincipalID: e.user.ID}
}

func (e *env) issue(t testing.TB) *sts.Credentials {
	t.Helper()
	c, err := e.issuer.Issue(t.Context(), e.principal, testAccount, "ReadOnly")
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	return c
}

// client returns the real aws-sdk-go-v2 STS client signing with c.
func (e *env) client(c *sts.Credentials) *awssts.Client {
	return awssts.New(awssts.Options{
		Region:           "us-west-2",
		BaseEndpoint:     aws.String(e.url),
		Credentials:      credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken),
		RetryMaxAttempts: 1,
	})
}

// apiError returns the error code and HTTP status of an SDK error.
func apiError(t testing.TB, err error) (string, int, string) {
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

// noLinkedAccounts fails the test if a local account's credentials are
// asked of it.
type noLinkedAccounts struct{ t testing.TB }

func (n noLinkedAccounts) Credentials(_ context.Context, l *store.AccountLink, _ awsaccounts.CredentialsRequest) (*awsaccounts.RoleCredentials, error) {
	n.t.Errorf("linked-account credentials asked for local account %s", l.AccountID)
	return nil, errors.New("not linked")
}
