package portal_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/sso/types"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"
	ssooidctypes "github.com/aws/aws-sdk-go-v2/service/ssooidc/types"
	"github.com/aws/smithy-go"
)

func TestDeviceApprovalEndToEnd(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	id, secret := e.deviceClient("botocore-client-corp")
	start, err := e.oidcC.StartDeviceAuthorization(ctx, &ssooidc.StartDeviceAuthorizationInput{
		ClientId: aws.String(id), ClientSecret: aws.String(secret), StartUrl: aws.String(e.w.Instance.StartURL),
	})
	if err != nil {
		t.Fatal(err)
	}
	createToken := func() (*ssooidc.CreateTokenOutput, error) {
		return e.oidcC.CreateToken(ctx, &ssooidc.CreateTokenInput{
			ClientId: aws.String(id), ClientSecret: aws.String(secret), DeviceCode: start.DeviceCode,
			GrantType: aws.String("urn:ietf:params:oauth:grant-type:device_code"),
		})
	}
	if _, err := createToken(); !isErr[*ssooidctypes.AuthorizationPendingException](err) {
		t.Fatalf("CreateToken before approval: %v, want AuthorizationPendingException", err)
	}

	// The CLI opens verificationUriComplete: sign in, come back, confirm.
	b := e.browser()
	p := b.get(aws.ToString(start.VerificationUriComplete))
	wantStatus(t, p, http.StatusSeeOther)
	p = b.follow(p)
	wantStatus(t, p, http.StatusOK)
	p = b.submit(p, "/login", url.Values{"username": {"alice"}})
	p = b.submit(p, "/login/password", url.Values{"password": {alicePassword}})
	wantStatus(t, p, http.StatusSeeOther)
	if want := "/device?user_code=" + url.QueryEscape(aws.ToString(start.UserCode)); p.Location() != want {
		t.Fatalf("after sign-in: redirect to %q, want %q", p.Location(), want)
	}
	p = b.follow(p)
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "Did you start this sign-in from botocore-client-corp?", aws.ToString(start.UserCode), `value="allow"`, `value="deny"`)
	if p.Header.Get("Cache-Control") != "no-store" {
		t.Error("confirmation page may be cached")
	}
	p = b.submit(p, "/device", url.Values{"action": {"allow"}})
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "Request approved")
	e.wait(time.Duration(start.Interval+1) * time.Second)

	tok, err := createToken()
	if err != nil {
		t.Fatalf("CreateToken after approval: %v", err)
	}
	// A second approval of the same code is refused.
	p = b.do("POST", "/device", url.Values{"user_code": {aws.ToString(start.UserCode)}, "action": {"allow"}})
	wantStatus(t, p, http.StatusConflict)

	checkPortalAPI(t, e, aws.ToString(tok.AccessToken))
}

func TestDeviceEnterCodeAndDeny(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	id, secret := e.deviceClient("my-terminal")
	start, err := e.oidcC.StartDeviceAuthorization(ctx, &ssooidc.StartDeviceAuthorizationInput{
		ClientId: aws.String(id), ClientSecret: aws.String(secret), StartUrl: aws.String(e.w.Instance.StartURL),
	})
	if err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.mustSignIn("alice", alicePassword)
	// verificationUri: type the code in.
	p := b.get("/device")
	wantStatus(t, p, http.StatusOK)
	wrong := b.submit(p, "/device", url.Values{"user_code": {"BCDF-GHJK"}})
	wantStatus(t, wrong, http.StatusNotFound)
	wantBody(t, wrong, "That code is not valid")
	code := strings.ToLower(strings.ReplaceAll(aws.ToString(start.UserCode), "-", ""))
	p = b.submit(p, "/device", url.Values{"user_code": {code}})
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "Did you start this sign-in from my-terminal?")
	p = b.submit(p, "/device", url.Values{"action": {"deny"}})
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "Request denied")
	_, err = e.oidcC.CreateToken(ctx, &ssooidc.CreateTokenInput{
		ClientId: aws.String(id), ClientSecret: aws.String(secret), DeviceCode: start.DeviceCode,
		GrantType: aws.String("urn:ietf:params:oauth:grant-type:device_code"),
	})
	if !isErr[*ssooidctypes.AccessDeniedException](err) {
		t.Errorf("CreateToken after denial: %v, want AccessDeniedException", err)
	}
}

func TestDeviceSignedOutPostGoesToSignIn(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	p := b.do("POST", "/device", url.Values{"user_code": {"ABCD-EFGH"}, "action": {"allow"}})
	wantStatus(t, p, http.StatusSeeOther)
	if !strings.HasPrefix(p.Location(), "/login?next=") {
		t.Errorf("redirect to %q", p.Location())
	}
}

// checkPortalAPI drives the portal API with the real sso client.
func checkPortalAPI(t *testing.T, e *env, token string) {
	t.Helper()
	ctx := t.Context()
	c := e.ssoC

	accts, err := c.ListAccounts(ctx, &sso.ListAccountsInput{AccessToken: aws.String(token)})
	if err != nil {
		t.Fatalf("ListAccounts: %v", err)
	}
	var got []string
	for _, a := range accts.AccountList {
		got = append(got, aws.ToString(a.AccountId)+"/"+aws.ToString(a.AccountName)+"/"+aws.ToString(a.EmailAddress))
	}
	if want := prodAccount + "/Production/production@example.com," + sandAccount + "/Sandbox/sandbox@example.com"; strings.Join(got, ",") != want {
		t.Errorf("ListAccounts = %v, want %s", got, want)
	}
	if accts.NextToken != nil {
		t.Errorf("last page has a nextToken")
	}

	// Paging with the SDK paginator, one per page.
	var paged []string
	pg := sso.NewListAccountsPaginator(c, &sso.ListAccountsInput{AccessToken: aws.String(token), MaxResults: aws.Int32(1)})
	pages := 0
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListAccounts page: %v", err)
		}
		pages++
		for _, a := range out.AccountList {
			paged = append(paged, aws.ToString(a.AccountId))
		}
	}
	if pages != 2 || strings.Join(paged, ",") != prodAccount+","+sandAccount {
		t.Errorf("paged ListAccounts: %d pages %v", pages, paged)
	}

	roles, err := c.ListAccountRoles(ctx, &sso.ListAccountRolesInput{AccessToken: aws.String(token), AccountId: aws.String(prodAccount)})
	if err != nil {
		t.Fatalf("ListAccountRoles: %v", err)
	}
	var rn []string
	for _, r := range roles.RoleList {
		rn = append(rn, aws.ToString(r.RoleName)+"@"+aws.ToString(r.AccountId))
	}
	if want := "Admin@" + prodAccount + ",ReadOnly@" + prodAccount; strings.Join(rn, ",") != want {
		t.Errorf("ListAccountRoles = %v, want %s", rn, want)
	}
	// A token from one query does not page another.
	first, err := c.ListAccountRoles(ctx, &sso.ListAccountRolesInput{AccessToken: aws.String(token), AccountId: aws.String(prodAccount), MaxResults: aws.Int32(1)})
	if err != nil || first.NextToken == nil {
		t.Fatalf("ListAccountRoles page 1: %v, next %v", err, first.NextToken)
	}
	_, err = c.ListAccountRoles(ctx, &sso.ListAccountRolesInput{AccessToken: aws.String(token), AccountId: aws.String(sandAccount), NextToken: first.NextToken})
	if !isErr[*ssotypes.InvalidRequestException](err) {
		t.Errorf("nextToken replayed on another account: %v, want InvalidRequestException", err)
	}
	_, err = c.ListAccounts(ctx, &sso.ListAccountsInput{AccessToken: aws.String(token), NextToken: aws.String("forged")})
	if !isErr[*ssotypes.InvalidRequestException](err) {
		t.Errorf("forged nextToken: %v, want InvalidRequestException", err)
	}

	before := time.Now()
	creds, err := c.GetRoleCredentials(ctx, &sso.GetRoleCredentialsInput{AccessToken: aws.String(token), AccountId: aws.String(prodAccount), RoleName: aws.String("Admin")})
	if err != nil {
		t.Fatalf("GetRoleCredentials: %v", err)
	}
	rc := creds.RoleCredentials
	if !strings.HasPrefix(aws.ToString(rc.AccessKeyId), "ASIA") || len(aws.ToString(rc.SecretAccessKey)) != 40 || aws.ToString(rc.SessionToken) == "" {
		t.Errorf("credentials look wrong: key %q", aws.ToString(rc.AccessKeyId))
	}
	// Expiration is epoch milliseconds: the permission set's PT2H.
	exp := time.UnixMilli(rc.Expiration)
	if d := exp.Sub(before); d < 2*time.Hour-time.Minute || d > 2*time.Hour+time.Minute {
		t.Errorf("credentials expire at %v (in %v), want in 2h", exp, d)
	}

	// Unassigned role: 403 ForbiddenException "No access", naming the
	// account and role asked for.
	_, err = c.GetRoleCredentials(ctx, &sso.GetRoleCredentialsInput{AccessToken: aws.String(token), AccountId: aws.String(otherAccount), RoleName: aws.String("Admin")})
	var ae smithy.APIError
	wantMsg := `No access: you have no role "Admin" in account "` + otherAccount + `"`
	if !asAPIError(err, &ae) || ae.ErrorCode() != "ForbiddenException" || !strings.HasPrefix(ae.ErrorMessage(), wantMsg) {
		t.Errorf("GetRoleCredentials unassigned: %v, want ForbiddenException %s", err, wantMsg)
	}
	if status := httpStatus(err); status != http.StatusForbidden {
		t.Errorf("GetRoleCredentials unassigned: HTTP %d, want 403", status)
	}
	_, err = c.GetRoleCredentials(ctx, &sso.GetRoleCredentialsInput{AccessToken: aws.String(token), AccountId: aws.String(sandAccount), RoleName: aws.String("Admin")})
	if !asAPIError(err, &ae) || ae.ErrorCode() != "ForbiddenException" {
		t.Errorf("GetRoleCredentials for a role held in another account: %v, want ForbiddenException", err)
	}

	// Bad parameters.
	resp := rawAPI(t, e, "GET", "/assignment/roles", token)
	if resp.status != http.StatusBadRequest || resp.errType != "InvalidRequestException" {
		t.Errorf("ListAccountRoles without account_id: %d %s", resp.status, resp.errType)
	}
	resp = rawAPI(t, e, "GET", "/assignment/accounts?max_result=101", token)
	if resp.status != http.StatusBadRequest || resp.errType != "InvalidRequestException" {
		t.Errorf("max_result=101: %d %s", resp.status, resp.errType)
	}
	resp = rawAPI(t, e, "GET", "/federation/credentials?account_id="+prodAccount, token)
	if resp.status != http.StatusBadRequest || resp.errType != "InvalidRequestException" {
		t.Errorf("GetRoleCredentials without role_name: %d %s", resp.status, resp.errType)
	}
	// The header name is matched case-insensitively.
	resp = rawAPI(t, e, "GET", "/assignment/accounts", token, "X-AMZ-SSO_BEARER_TOKEN")
	if resp.status != http.StatusOK {
		t.Errorf("upper-case bearer header: %d", resp.status)
	}

	// Logout: 200, then every call is UnauthorizedException.
	if _, err := c.Logout(ctx, &sso.LogoutInput{AccessToken: aws.String(token)}); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	for name, call := range map[string]func() error{
		"ListAccounts": func() error {
			_, err := c.ListAccounts(ctx, &sso.ListAccountsInput{AccessToken: aws.String(token)})
			return err
		},
		"ListAccountRoles": func() error {
			_, err := c.ListAccountRoles(ctx, &sso.ListAccountRolesInput{AccessToken: aws.String(token), AccountId: aws.String(prodAccount)})
			return err
		},
		"GetRoleCredentials": func() error {
			_, err := c.GetRoleCredentials(ctx, &sso.GetRoleCredentialsInput{AccessToken: aws.String(token), AccountId: aws.String(prodAccount), RoleName: aws.String("Admin")})
			return err
		},
		"Logout": func() error {
			_, err := c.Logout(ctx, &sso.LogoutInput{AccessToken: aws.String(token)})
			return err
		},
	} {
		if err := call(); !isErr[*ssotypes.UnauthorizedException](err) {
			t.Errorf("%s after Logout: %v, want UnauthorizedException", name, err)
		}
	}
}

func TestPortalAPIUnauthorized(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct{ name, method, path, token string }{
		{"no token", "GET", "/assignment/accounts", ""},
		{"unknown token", "GET", "/assignment/accounts", "aoa-not-a-token"},
		{"credentials", "GET", "/federation/credentials?role_name=Admin&account_id=" + prodAccount, "nope"},
		{"logout", "POST", "/logout", "nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rawAPI(t, e, tc.method, tc.path, tc.token)
			if r.status != http.StatusUnauthorized || r.errType != "UnauthorizedException" {
				t.Errorf("%d %q, want 401 UnauthorizedException", r.status, r.errType)
			}
			if r.body != `{"message":"Session token not found or invalid"}` {
				t.Errorf("body %s", r.body)
			}
		})
	}
	_, err := e.ssoC.ListAccounts(t.Context(), &sso.ListAccountsInput{AccessToken: aws.String("bogus")})
	if !isErr[*ssotypes.UnauthorizedException](err) {
		t.Errorf("SDK ListAccounts with a bogus token: %v", err)
	}
}

func TestPortalAPIAfterBrowserSignOut(t *testing.T) {
	// Signing out of the portal ends the CLI tokens it approved.
	e := newEnv(t)
	b := e.browser()
	token := e.deviceLogin(b, "alice", alicePassword)
	if _, err := e.ssoC.ListAccounts(t.Context(), &sso.ListAccountsInput{AccessToken: aws.String(token)}); err != nil {
		t.Fatalf("ListAccounts: %v", err)
	}
	wantStatus(t, b.do("POST", "/signout", url.Values{}), http.StatusSeeOther)
	deadline := time.Now().Add(2 * time.Second)
	for {
		_, err := e.ssoC.ListAccounts(t.Context(), &sso.ListAccountsInput{AccessToken: aws.String(token)})
		if isErr[*ssotypes.UnauthorizedException](err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("token still works after portal sign-out: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type rawResponse struct {
	status  int
	errType string
	body    string
}

func rawAPI(t *testing.T, e *env, method, path, token string, header ...string) rawResponse {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), method, e.url+path, nil)
	name := "x-amz-sso_bearer_token"
	if len(header) > 0 {
		name = header[0]
	}
	if token != "" {
		req.Header[name] = []string{token} // as sent, not canonicalized
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return rawResponse{status: resp.StatusCode, errType: resp.Header.Get("X-Amzn-Errortype"), body: string(b)}
}

func asAPIError(err error, target *smithy.APIError) bool {
	ae, ok := errors.AsType[smithy.APIError](err)
	if ok {
		*target = ae
	}
	return ok
}

func httpStatus(err error) int {
	if re, ok := errors.AsType[interface {
		error
		HTTPStatusCode() int
	}](err); ok {
		return re.HTTPStatusCode()
	}
	return 0
}

func TestDeviceCodeErrors(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	id, secret := e.deviceClient("botocore-client-corp")
	start, err := e.oidcC.StartDeviceAuthorization(ctx, &ssooidc.StartDeviceAuthorizationInput{
		ClientId: aws.String(id), ClientSecret: aws.String(secret), StartUrl: aws.String(e.w.Instance.StartURL),
	})
	if err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.mustSignIn("alice", alicePassword)
	code := aws.ToString(start.UserCode)

	// Expired: the code's ten minutes are over.
	e.wait(11 * time.Minute)
	p := b.get("/device?user_code=" + url.QueryEscape(code))
	wantStatus(t, p, http.StatusGone)
	wantBody(t, p, "This code has expired")
	p = b.do("POST", "/device", url.Values{"user_code": {code}, "action": {"allow"}})
	wantStatus(t, p, http.StatusGone)

	// Guessing codes from one address is stopped.
	b.ip = "203.0.113.9"
	var last *page
	for range 12 {
		last = b.get("/device?user_code=BCDF-GHJK")
	}
	wantStatus(t, last, http.StatusTooManyRequests)
	// The page names the wait, and Retry-After says it too.
	wantBody(t, last, "Too many attempts, try again in ")
	// The wait is what is left of the limit's window: seconds or minutes,
	// the same on the page as in Retry-After.
	secs, err := strconv.Atoi(last.Header.Get("Retry-After"))
	if err != nil || secs <= 0 {
		t.Fatalf("Retry-After %q, want seconds", last.Header.Get("Retry-After"))
	}
	want := fmt.Sprintf("try again in %d seconds", secs)
	if secs >= 60 {
		want = fmt.Sprintf("try again in %d minute", (secs+59)/60)
	}
	if strings.Contains(last.Body, "a few minutes") || !strings.Contains(last.Body, want) {
		t.Errorf("throttled page does not state the wait %q (Retry-After %d):\n%s", want, secs, last.Body)
	}
}
