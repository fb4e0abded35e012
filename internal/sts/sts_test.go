package sts_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/accesscache"
	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/keyring"
	"github.com/gatehouse-dev/gatehouse/internal/session"
	"github.com/gatehouse-dev/gatehouse/internal/sigv4"
	"github.com/gatehouse-dev/gatehouse/internal/store"
	"github.com/gatehouse-dev/gatehouse/internal/sts"
)

var (
	accessKeyRe = regexp.MustCompile(`^ASIA[A-Z2-7]{16}$`)
	secretRe    = regexp.MustCompile(`^[A-Za-z0-9+/]{40}$`)
	urlSafeRe   = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
)

type callerIdentity struct {
	Arn, UserID, Account string
}

func TestGetCallerIdentity(t *testing.T) {
	e := newEnv(t)
	before := e.w.Snap(t)
	start := time.Now()
	c := e.issue(t)

	if !accessKeyRe.MatchString(c.AccessKeyID) {
		t.Errorf("AccessKeyID %q is not ASIA + 16", c.AccessKeyID)
	}
	if !secretRe.MatchString(c.SecretAccessKey) {
		t.Errorf("SecretAccessKey is not 40 characters of [A-Za-z0-9+/]")
	}
	if len(c.SessionToken) > sts.MaxTokenLength || !urlSafeRe.MatchString(c.SessionToken) {
		t.Errorf("SessionToken is %d characters, want ≤ %d URL-safe ones", len(c.SessionToken), sts.MaxTokenLength)
	}
	if d := c.Expiration.Sub(start); d < 2*time.Hour-time.Second || d > 2*time.Hour+time.Second {
		t.Errorf("Expiration is %v after issue, want the permission set's PT2H", d)
	}

	// Issuing writes nothing but the audit event.
	after := e.w.Snap(t)
	if after.Seq != before.Seq || after.Events != before.Events+1 {
		t.Errorf("Issue changed the store: %+v -> %+v, want one more event and the same change counter", before, after)
	}
	evs, err := e.w.Store.ListEvents(t.Context(), store.EventFilter{End: time.Now().Add(time.Hour), Name: "GetRoleCredentials"})
	if err != nil || len(evs) != 1 {
		t.Fatalf("GetRoleCredentials events = %d, %v; want 1", len(evs), err)
	}
	if rec := string(evs[0].Record); strings.Contains(rec, c.SecretAccessKey) || strings.Contains(rec, c.SessionToken) ||
		!strings.Contains(rec, c.AccessKeyID) || evs[0].Source != "sso.amazonaws.com" {
		t.Errorf("audit record %s: want source sso.amazonaws.com, the access key ID and no secret", rec)
	}
	// The record's members, byte for byte, as CloudTrail orders them
	// (alphabetically, as the maps they were first written from).
	var ev struct{ RequestParameters, ResponseElements json.RawMessage }
	if err := json.Unmarshal(evs[0].Record, &ev); err != nil {
		t.Fatal(err)
	}
	wantParams := `{"accountId":"` + testAccount + `","roleName":"ReadOnly"}`
	wantResp := fmt.Sprintf(`{"assumedRoleArn":"arn:aws:sts::%s:assumed-role/%s/alice@example.test","roleCredentials":{"accessKeyId":"%s","expiration":%d}}`,
		testAccount, e.role.RoleName, c.AccessKeyID, c.Expiration.UnixMilli())
	if string(ev.RequestParameters) != wantParams || string(ev.ResponseElements) != wantResp {
		t.Errorf("audit record members:\n%s\n%s\nwant\n%s\n%s", ev.RequestParameters, ev.ResponseElements, wantParams, wantResp)
	}

	out, err := e.client(c).GetCallerIdentity(t.Context(), &awssts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity: %v", err)
	}
	want := callerIdentity{
		Arn:     "arn:aws:sts::111122223333:assumed-role/" + e.role.RoleName + "/alice@example.test",
		UserID:  e.role.RoleID + ":alice@example.test",
		Account: testAccount,
	}
	got := callerIdentity{aws.ToString(out.Arn), aws.ToString(out.UserId), aws.ToString(out.Account)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GetCallerIdentity (-want +got):\n%s", diff)
	}
	if !regexp.MustCompile(`^AWSReservedSSO_ReadOnly_[0-9a-f]{16}$`).MatchString(e.role.RoleName) {
		t.Errorf("role name %q", e.role.RoleName)
	}

	// Open returns what the token holds.
	s, secret, err := e.issuer.Open(t.Context(), c.AccessKeyID, c.SessionToken)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if secret != c.SecretAccessKey {
		t.Error("Open returned another secret")
	}
	wantS := session.Role{
		AccessKeyID: c.AccessKeyID, UserID: e.user.ID, UserName: "alice@example.test", GrantID: "grant-1", SessionID: "session-1",
		AccountID: testAccount, PermissionSetID: e.ps.ID, RoleName: e.role.RoleName, RoleID: e.role.RoleID, MFA: true,
		AuthTime: e.principal.AuthTime.UTC(), IssuedAt: s.IssuedAt, Expiration: c.Expiration,
	}
	if diff := cmp.Diff(wantS, *s); diff != "" {
		t.Errorf("Session (-want +got):\n%s", diff)
	}
	if s.IssuedAt.Before(start) || s.IssuedAt.After(time.Now()) {
		t.Errorf("IssuedAt %v is not the issue time", s.IssuedAt)
	}
	if got, want := s.RoleARN("us-west-2"), "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/us-west-2/"+e.role.RoleName; got != want {
		t.Errorf("RoleARN = %q, want %q", got, want)
	}
}

func TestPresignedGetCallerIdentity(t *testing.T) {
	e := newEnv(t)
	c := e.issue(t)
	req, err := awssts.NewPresignClient(e.client(c)).PresignGetCallerIdentity(t.Context(), &awssts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	hreq, err := http.NewRequestWithContext(t.Context(), req.Method, req.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range req.SignedHeader {
		if !strings.EqualFold(k, "host") {
			hreq.Header[k] = vs
		}
	}
	resp, err := http.DefaultClient.Do(hreq)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("presigned %s: %d %s", req.Method, resp.StatusCode, body)
	}
	var doc struct {
		Result struct {
			Arn     string `xml:"Arn"`
			UserID  string `xml:"UserId"`
			Account string `xml:"Account"`
		} `xml:"GetCallerIdentityResult"`
		RequestID string `xml:"ResponseMetadata>RequestId"`
	}
	if err := xml.Unmarshal(body, &doc); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	if want := "arn:aws:sts::111122223333:assumed-role/" + e.role.RoleName + "/alice@example.test"; doc.Result.Arn != want {
		t.Errorf("Arn = %q, want %q", doc.Result.Arn, want)
	}
	if doc.Result.Account != testAccount || doc.RequestID == "" || doc.RequestID != resp.Header.Get("X-Amzn-Requestid") {
		t.Errorf("response %s: want the account and the x-amzn-RequestId in the body", body)
	}
	if !bytes.HasPrefix(body, []byte(`<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>`)) {
		t.Errorf("body %s", body)
	}
}

// TestRejected drives the real SDK with credentials that must not work and
// checks the exact STS error code and status (spec/aws-wire.md §2.8).
func TestRejected(t *testing.T) {
	tests := []struct {
		name string
		// creds returns the credentials to sign with, after changing the
		// world as the case needs.
		creds      func(t *testing.T, e *env) *sts.Credentials
		code       string
		status     int
		msgPrefix  string
		waitForIt  bool // the refusal may take up to 1 s to propagate
		auditedAs  string
		auditedKey bool
	}{
		{name: "forged token", code: "InvalidClientTokenId", status: 403, auditedAs: "InvalidClientTokenId", auditedKey: true,
			creds: func(t *testing.T, e *env) *sts.Credentials {
				c := e.issue(t)
				b := []byte(c.SessionToken)
				i := len(b) / 2
				if b[i] == 'A' {
					b[i] = 'B'
				} else {
					b[i] = 'A'
				}
				c.SessionToken = string(b)
				return c
			}},
		{name: "token of another access key", code: "InvalidClientTokenId", status: 403,
			creds: func(t *testing.T, e *env) *sts.Credentials {
				c1, c2 := e.issue(t), e.issue(t)
				c1.SessionToken = c2.SessionToken
				return c1
			}},
		{name: "no session token", code: "InvalidClientTokenId", status: 403,
			creds: func(t *testing.T, e *env) *sts.Credentials {
				c := e.issue(t)
				c.SessionToken = ""
				return c
			}},
		{name: "expired", code: "ExpiredToken", status: 403, auditedAs: "ExpiredToken",
			creds: func(t *testing.T, e *env) *sts.Credentials {
				c := e.issue(t)
				e.issuerClock.Set(2*time.Hour + time.Second)
				return c
			}},
		{name: "wrong secret", code: "SignatureDoesNotMatch", status: 403, msgPrefix: "The request signature we calculated does not match",
			auditedAs: "SignatureDoesNotMatch",
			creds: func(t *testing.T, e *env) *sts.Credentials {
				c := e.issue(t)
				c.SecretAccessKey = strings.Repeat("x", 40)
				return c
			}},
		{name: "server clock 16 min ahead", code: "SignatureDoesNotMatch", status: 403, msgPrefix: "Signature expired",
			creds: func(t *testing.T, e *env) *sts.Credentials {
				e.verifierClock.Set(16 * time.Minute)
				return e.issue(t)
			}},
		{name: "server clock 16 min behind", code: "SignatureDoesNotMatch", status: 403, msgPrefix: "Signature not yet current",
			creds: func(t *testing.T, e *env) *sts.Credentials {
				e.verifierClock.Set(-16 * time.Minute)
				return e.issue(t)
			}},
		{name: "request dated 16 min before the credentials were issued", code: "InvalidClientTokenId", status: 403,
			msgPrefix: "The security token included in the request is invalid", auditedAs: "InvalidClientTokenId",
			creds: func(t *testing.T, e *env) *sts.Credentials {
				// The SDK signs with real time; the issuer's clock says the
				// credentials came 16 min later, beyond the 15 min skew.
				e.issuerClock.Set(16 * time.Minute)
				return e.issue(t)
			}},
		{name: "user disabled", code: "InvalidClientTokenId", status: 403, waitForIt: true,
			creds: func(t *testing.T, e *env) *sts.Credentials {
				c := e.issue(t)
				if err := e.w.Directory.SetUserDisabled(t.Context(), e.user.ID, true); err != nil {
					t.Fatal(err)
				}
				return c
			}},
		{name: "assignment removed", code: "InvalidClientTokenId", status: 403, waitForIt: true,
			creds: func(t *testing.T, e *env) *sts.Credentials {
				c := e.issue(t)
				if _, err := e.w.Access.DeleteAssignment(t.Context(), e.assignment()); err != nil {
					t.Fatal(err)
				}
				return c
			}},
		{name: "user deleted", code: "InvalidClientTokenId", status: 403, waitForIt: true,
			creds: func(t *testing.T, e *env) *sts.Credentials {
				c := e.issue(t)
				if err := e.w.Directory.DeleteUser(t.Context(), e.user.ID); err != nil {
					t.Fatal(err)
				}
				return c
			}},
		{name: "grant revoked", code: "InvalidClientTokenId", status: 403, waitForIt: true,
			creds: func(t *testing.T, e *env) *sts.Credentials {
				c := e.issue(t)
				now := time.Now()
				if err := e.w.Store.PutRevocation(t.Context(), &store.Revocation{Kind: store.RevokeGrant, Subject: "grant-1", At: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
					t.Fatal(err)
				}
				return c
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			c := tc.creds(t, e)
			cl := e.client(c)
			call := func() error {
				_, err := cl.GetCallerIdentity(context.Background(), &awssts.GetCallerIdentityInput{})
				return err
			}
			err := call()
			if tc.waitForIt {
				start := time.Now()
				for err == nil && time.Since(start) < time.Second {
					time.Sleep(20 * time.Millisecond)
					err = call()
				}
				t.Logf("refused after %v", time.Since(start))
			}
			code, status, msg := apiError(t, err)
			if code != tc.code || status != tc.status {
				t.Errorf("error %s (%d), want %s (%d): %s", code, status, tc.code, tc.status, msg)
			}
			if !strings.HasPrefix(msg, tc.msgPrefix) {
				t.Errorf("message %q, want it to start with %q", msg, tc.msgPrefix)
			}
			if tc.auditedAs != "" {
				evs, err := e.w.Store.ListEvents(t.Context(), store.EventFilter{End: time.Now().Add(time.Hour), Name: "GetCallerIdentity"})
				if err != nil || len(evs) != 1 || evs[0].ErrorCode != tc.auditedAs || evs[0].Source != "sts.amazonaws.com" {
					t.Fatalf("denied call audit = %+v, %v; want one sts.amazonaws.com event with code %s", evs, err, tc.auditedAs)
				}
				if tc.auditedKey && !strings.Contains(string(evs[0].Record), c.AccessKeyID) {
					t.Errorf("audit record %s does not name the access key", evs[0].Record)
				}
			}
		})
	}
}

// TestWireErrors checks error documents that the SDK does not produce on
// its own: no signature at all, no Action, an unknown Action.
func TestWireErrors(t *testing.T) {
	e := newEnv(t)
	c := e.issue(t)
	const form = "application/x-www-form-urlencoded; charset=utf-8"
	sign := func(r *http.Request, body string) {
		t.Helper()
		sum := sha256.Sum256([]byte(body))
		err := v4.NewSigner().SignHTTP(t.Context(), aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken},
			r, hex.EncodeToString(sum[:]), "sts", "eu-central-1", time.Now())
		if err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name, method, path, body string
		signed                   bool
		status                   int
		code                     string
	}{
		{"no Authorization", "POST", "/", "Action=GetCallerIdentity&Version=2011-06-15", false, 403, "MissingAuthenticationToken"},
		{"GET without Authorization", "GET", "/?Action=GetCallerIdentity&Version=2011-06-15", "", false, 403, "MissingAuthenticationToken"},
		{"malformed Authorization", "POST", "/", "Action=GetCallerIdentity&Version=2011-06-15", false, 400, "IncompleteSignature"},
		{"no Action", "POST", "/", "Version=2011-06-15", true, 400, "MissingAction"},
		{"unknown Action", "POST", "/", "Action=AssumeRole&Version=2011-06-15", true, 400, "InvalidAction"},
		{"signed GET", "GET", "/?Action=GetCallerIdentity&Version=2011-06-15", "", true, 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := http.NewRequestWithContext(t.Context(), tc.method, e.url+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.body != "" {
				r.Header.Set("Content-Type", form)
			}
			if tc.signed {
				sign(r, tc.body)
			} else if tc.code == "IncompleteSignature" {
				r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=garbage")
			}
			resp, err := http.DefaultClient.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			if tc.code == "" {
				return
			}
			var doc struct {
				XMLName xml.Name
				Type    string `xml:"Error>Type"`
				Code    string `xml:"Error>Code"`
				Message string `xml:"Error>Message"`
				ReqID   string `xml:"RequestId"`
			}
			if err := xml.Unmarshal(body, &doc); err != nil {
				t.Fatalf("decode %s: %v", body, err)
			}
			if doc.XMLName.Local != "ErrorResponse" || doc.XMLName.Space != "https://sts.amazonaws.com/doc/2011-06-15/" ||
				doc.Type != "Sender" || doc.Code != tc.code || doc.Message == "" ||
				doc.ReqID == "" || doc.ReqID != resp.Header.Get("X-Amzn-Requestid") || resp.Header.Get("Content-Type") != "text/xml" {
				t.Errorf("error document %s (headers %v), want Sender %s with the request ID", body, resp.Header, tc.code)
			}
		})
	}

	// The SDK's own view of an unknown action.
	_, err := e.client(c).AssumeRole(t.Context(), &awssts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::111122223333:role/x"), RoleSessionName: aws.String("s")})
	if code, status, _ := apiError(t, err); code != "InvalidAction" || status != 400 {
		t.Errorf("AssumeRole: %s (%d), want InvalidAction (400)", code, status)
	}
}

func TestIssueRefused(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	other, err := e.w.Access.CreateAccount(ctx, "444455556666", "Other", "other@example.test")
	if err != nil {
		t.Fatal(err)
	}
	disabled, err := e.w.Directory.CreateUser(ctx, directory.CreateUserInput{UserName: "bob", DisplayName: "Bob",
		Name: store.UserName{GivenName: "Bob", FamilyName: "Roe"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.w.Access.CreateAssignment(ctx, access.AssignmentInput{AccountID: testAccount, PermissionSetID: e.ps.ID,
		PrincipalType: store.PrincipalUser, PrincipalID: disabled.ID}); err != nil {
		t.Fatal(err)
	}
	if err := e.w.Directory.SetUserDisabled(ctx, disabled.ID, true); err != nil {
		t.Fatal(err)
	}
	before := e.w.Snap(t)
	tests := []struct {
		name, account, role string
		p                   session.Principal
	}{
		{"unassigned permission set", testAccount, "Admin", e.principal},
		{"unknown permission set", testAccount, "Nope", e.principal},
		{"permission set name in another case", testAccount, "readonly", e.principal},
		{"account without assignment", other.ID, "ReadOnly", e.principal},
		{"unknown account", "999999999999", "ReadOnly", e.principal},
		{"disabled user", testAccount, "ReadOnly", session.Principal{UserID: disabled.ID, UserName: "bob", AuthTime: time.Now().Add(-time.Hour)}},
		{"unknown user", testAccount, "ReadOnly", session.Principal{UserID: "0000000000-00000000-0000-4000-8000-000000000000", UserName: "ghost"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := e.issuer.Issue(ctx, tc.p, tc.account, tc.role)
			if c != nil {
				t.Fatalf("issued %v", c)
			}
			fe, ok := errors.AsType[*fault.Error](err)
			if !ok || fe.Kind != fault.AccessDenied || fe.Message != "No access" {
				t.Errorf("err = %#v, want fault AccessDenied \"No access\"", err)
			}
		})
	}
	after := e.w.Snap(t)
	if after.Seq != before.Seq || after.Events != before.Events+len(tests) {
		t.Errorf("refusals changed the store: %+v -> %+v, want only %d audit events", before, after, len(tests))
	}
}

// TestLongUserName checks that a 128-character name of 4-byte characters
// still makes a token within MaxTokenLength with the same session name.
func TestLongUserName(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	name := strings.Repeat("𝔞", 128)
	u, err := e.w.Directory.CreateUser(ctx, directory.CreateUserInput{UserName: name, DisplayName: "Long",
		Name: store.UserName{GivenName: "L", FamilyName: "N"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.w.Access.CreateAssignment(ctx, access.AssignmentInput{AccountID: testAccount, PermissionSetID: e.ps.ID,
		PrincipalType: store.PrincipalUser, PrincipalID: u.ID}); err != nil {
		t.Fatal(err)
	}
	p := session.Principal{UserID: u.ID, UserName: name, GrantID: strings.Repeat("g", 64), SessionID: strings.Repeat("s", 64), AuthTime: time.Now()}
	var c *sts.Credentials
	deadline := time.Now().Add(time.Second)
	for c == nil {
		if c, err = e.issuer.Issue(ctx, p, testAccount, "ReadOnly"); err != nil && time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(c.SessionToken) > sts.MaxTokenLength {
		t.Fatalf("token of %d characters", len(c.SessionToken))
	}
	out, err := e.client(c).GetCallerIdentity(ctx, &awssts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if want := e.role.RoleID + ":" + strings.Repeat("-", 64); aws.ToString(out.UserId) != want {
		t.Errorf("UserId = %q, want %q", aws.ToString(out.UserId), want)
	}
}

func TestCredentialsRedacted(t *testing.T) {
	c := &sts.Credentials{AccessKeyID: "ASIAEXAMPLE", SecretAccessKey: "s3cr3t-s3cr3t", SessionToken: "t0k3n-t0k3n"}
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	log.Info("issued", "creds", c, "value", *c)
	fmt.Fprintf(&buf, "%v %+v %s", c, *c, c)
	if out := buf.String(); strings.Contains(out, "s3cr3t") || strings.Contains(out, "t0k3n") || !strings.Contains(out, "ASIAEXAMPLE") {
		t.Errorf("redacted forms %q leak a secret or lack the key ID", out)
	}
}

// TestKeyRotation checks that tokens sealed before a rotation of the seal
// key still open and new ones name the new key.
func TestKeyRotation(t *testing.T) {
	e := newEnv(t)
	old := e.issue(t)
	if err := e.issuer.Keys.Rotate(t.Context(), e.w.Store, keyring.PurposeSeal, time.Now()); err != nil {
		t.Fatal(err)
	}
	fresh := e.issue(t)
	oldID, _, _ := strings.Cut(old.SessionToken, ".")
	newID, _, _ := strings.Cut(fresh.SessionToken, ".")
	if oldID == newID {
		t.Errorf("token after rotation names the old key %q", oldID)
	}
	for _, c := range []*sts.Credentials{old, fresh} {
		if _, err := e.client(c).GetCallerIdentity(t.Context(), &awssts.GetCallerIdentityInput{}); err != nil {
			t.Errorf("credentials sealed under key %s: %v", c.SessionToken[:8], err)
		}
	}
}

// TestAuthenticateOtherService checks Authenticate for a signing name other
// than sts, as the admin APIs will use it.
func TestAuthenticateOtherService(t *testing.T) {
	e := newEnv(t)
	c := e.issue(t)
	creds := aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}
	const body = `{"InstanceArn":"arn:aws:sso:::instance/ssoins-0123456789abcdef"}`
	req := func(service string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "http://gatehouse.test/", strings.NewReader(body))
		r.Header.Set("X-Amz-Target", "SWBExternalService.ListPermissionSets")
		sum := sha256.Sum256([]byte(body))
		if err := v4.NewSigner().SignHTTP(t.Context(), creds, r, hex.EncodeToString(sum[:]), service, "eu-west-1", time.Now()); err != nil {
			t.Fatal(err)
		}
		return r
	}
	s, err := e.svc.Auth.Authenticate(t.Context(), req("sso"), []byte(body), "sso")
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	if s.UserID != e.user.ID || s.AccountID != testAccount || s.Region != "eu-west-1" || s.AccessKeyID != c.AccessKeyID || s.Role == nil {
		t.Errorf("caller %+v", s)
	}
	_, err = e.svc.Auth.Authenticate(t.Context(), req("sts"), []byte(body), "sso")
	if se, ok := errors.AsType[*sigv4.Error](err); !ok || se.Kind != sigv4.KindServiceMismatch {
		t.Errorf("request signed for sts presented to sso: err = %v, want a service mismatch", err)
	}
	_, err = e.svc.Auth.Authenticate(t.Context(), req("sso"), []byte(body+" "), "sso")
	if se, ok := errors.AsType[*sigv4.Error](err); !ok || se.Kind != sigv4.KindSignatureMismatch {
		t.Errorf("changed body: err = %v, want a signature mismatch", err)
	}
}

// queryCounter counts the reads the access cache can make.
type queryCounter struct {
	store.Store
	n atomic.Int64
}

func (q *queryCounter) ChangeSeq(ctx context.Context) (int64, error) {
	q.n.Add(1)
	return q.Store.ChangeSeq(ctx)
}

func (q *queryCounter) GetUser(ctx context.Context, id string) (*store.User, error) {
	q.n.Add(1)
	return q.Store.GetUser(ctx, id)
}

func (q *queryCounter) ListAssignments(ctx context.Context, f store.AssignmentFilter) ([]store.Assignment, error) {
	q.n.Add(1)
	return q.Store.ListAssignments(ctx, f)
}

func (q *queryCounter) ListMembershipsByUser(ctx context.Context, id string, p store.Page) ([]store.Membership, error) {
	q.n.Add(1)
	return q.Store.ListMembershipsByUser(ctx, id, p)
}

func (q *queryCounter) ListRevocations(ctx context.Context, since time.Time) ([]store.Revocation, error) {
	q.n.Add(1)
	return q.Store.ListRevocations(ctx, since)
}

// TestOpenMakesNoQueries checks the hot path: once warm, verifying a
// request's token reads nothing from the database.
func TestOpenMakesNoQueries(t *testing.T) {
	e := newEnv(t)
	c := e.issue(t)
	q := &queryCounter{Store: e.w.Store}
	frozen := time.Now()
	iss := *e.issuer
	iss.Cache = accesscache.New(q, func() time.Time { return frozen })
	if _, _, err := iss.Open(t.Context(), c.AccessKeyID, c.SessionToken); err != nil {
		t.Fatal(err)
	}
	warm := q.n.Load()
	if warm == 0 {
		t.Fatal("the counter saw no query on a cold cache")
	}
	for range 1000 {
		if _, _, err := iss.Open(t.Context(), c.AccessKeyID, c.SessionToken); err != nil {
			t.Fatal(err)
		}
	}
	if got := q.n.Load() - warm; got != 0 {
		t.Errorf("1000 warm Opens made %d queries, want 0", got)
	}
}

// TestPresignedBeforeIssue presigns GetCallerIdentity with the SDK's
// presigners, dated before the credentials were issued: beyond the verifier's
// clock skew (15 min) it is refused as STS refuses an invalid token, within
// it (a client clock somewhat behind) it works.
func TestPresignedBeforeIssue(t *testing.T) {
	do := func(t *testing.T, method, rawURL string, header http.Header) (int, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, rawURL, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, vs := range header {
			if !strings.EqualFold(k, "host") {
				req.Header[k] = vs
			}
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	// v4 presigner with an explicit signing time and a one-hour X-Amz-Expires,
	// so only the issue time can refuse it.
	presignAt := func(t *testing.T, e *env, c *sts.Credentials, at time.Time) (string, http.Header) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, e.url+"/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Expires=3600", nil)
		if err != nil {
			t.Fatal(err)
		}
		creds := aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}
		emptyHash := sha256.Sum256(nil)
		u, h, err := v4.NewSigner().PresignHTTP(t.Context(), creds, req, hex.EncodeToString(emptyHash[:]), "sts", "us-east-1", at)
		if err != nil {
			t.Fatal(err)
		}
		return u, h
	}
	for _, tc := range []struct {
		name   string
		before time.Duration
		want   int
	}{
		{"dated 20 min before issue", 20 * time.Minute, http.StatusForbidden},
		{"dated 16 min before issue", 16 * time.Minute, http.StatusForbidden},
		{"dated 5 min before issue (client clock behind)", 5 * time.Minute, http.StatusOK},
		{"dated at issue", 0, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			c := e.issue(t)
			u, h := presignAt(t, e, c, time.Now().Add(-tc.before))
			status, body := do(t, http.MethodGet, u, h)
			if status != tc.want {
				t.Fatalf("presigned request %s: %d %s, want %d", tc.name, status, body, tc.want)
			}
			if tc.want == http.StatusForbidden && !strings.Contains(body, "<Code>InvalidClientTokenId</Code>") {
				t.Errorf("body %s, want InvalidClientTokenId", body)
			}
		})
	}
	t.Run("PresignGetCallerIdentity before issue", func(t *testing.T) {
		e := newEnv(t)
		e.issuerClock.Set(20 * time.Minute)
		c := e.issue(t)
		req, err := awssts.NewPresignClient(e.client(c)).PresignGetCallerIdentity(t.Context(), &awssts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatal(err)
		}
		status, body := do(t, req.Method, req.URL, req.SignedHeader)
		if status != http.StatusForbidden || !strings.Contains(body, "<Code>InvalidClientTokenId</Code>") {
			t.Fatalf("presigned before issue: %d %s, want 403 InvalidClientTokenId", status, body)
		}
	})
}
