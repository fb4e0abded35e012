package portal_test

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
)

var exportRe = regexp.MustCompile(`export (AWS_[A-Z_]+)="([^"]*)"`)

// envBlock reads the bash block of an access-keys page.
func envBlock(t *testing.T, body string) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, m := range exportRe.FindAllStringSubmatch(html.UnescapeString(body), -1) {
		got[m[1]] = m[2]
	}
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
		if got[k] == "" {
			t.Fatalf("access-keys page lacks %s:\n%s", k, body)
		}
	}
	return got
}

// TestAccessKeysPageCredentialsWork signs in to a whole server, opens the
// access-keys panel of an entitled role and calls sts GetCallerIdentity,
// SigV4-signed with the credentials it shows.
func TestAccessKeysPageCredentialsWork(t *testing.T) {
	srv := servertest.New(t, func(c *config.Config) { c.Demo = true })
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(path string, v url.Values) *http.Response {
		t.Helper()
		resp, err := c.PostForm(srv.URL+path, v)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := post("/login", url.Values{"username": {"ed.developer"}, "password": {"demo-password-1"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", r.StatusCode)
	}
	get := func(path string) (int, http.Header, string) {
		t.Helper()
		resp, err := c.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		_, _ = io.Copy(&b, resp.Body)
		return resp.StatusCode, resp.Header, b.String()
	}
	status, hdr, body := get("/start/credentials?account_id=111111111111&role_name=PowerUserAccess")
	if status != http.StatusOK {
		t.Fatalf("access keys: %d\n%s", status, body)
	}
	if cc := hdr.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
	env := envBlock(t, body)
	body = html.UnescapeString(body)
	for _, want := range []string{
		`set -x AWS_ACCESS_KEY_ID "` + env["AWS_ACCESS_KEY_ID"] + `"`,
		`$Env:AWS_SECRET_ACCESS_KEY="` + env["AWS_SECRET_ACCESS_KEY"] + `"`,
		"[111111111111_PowerUserAccess]\naws_access_key_id = " + env["AWS_ACCESS_KEY_ID"] + "\naws_secret_access_key = " + env["AWS_SECRET_ACCESS_KEY"],
		"sso_session = gatehouse\nsso_account_id = 111111111111\nsso_role_name = PowerUserAccess\nregion = " + srv.Instance.Region,
		"[sso-session gatehouse]\nsso_start_url = " + srv.Instance.StartURL,
		"sts =\n  endpoint_url = " + srv.URL,
		// AWS CLI 2.13+ reads the default profile's endpoints for the
		// page's `aws sso login --sso-session gatehouse`.
		"[default]\nservices = gatehouse\n",
		"aws sso login --sso-session gatehouse",
		"export AWS_ENDPOINT_URL_STS=" + srv.URL,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("access-keys page lacks %q", want)
		}
	}
	stsC := sts.New(sts.Options{
		Region: srv.Instance.Region, BaseEndpoint: aws.String(srv.URL), Retryer: aws.NopRetryer{},
		Credentials: credentials.NewStaticCredentialsProvider(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], env["AWS_SESSION_TOKEN"]),
	})
	out, err := stsC.GetCallerIdentity(context.WithoutCancel(t.Context()), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity with the page's credentials: %v", err)
	}
	if aws.ToString(out.Account) != "111111111111" || !strings.Contains(aws.ToString(out.Arn), "AWSReservedSSO_PowerUserAccess_") || !strings.HasSuffix(aws.ToString(out.Arn), "/ed.developer") {
		t.Errorf("caller = %s %s", aws.ToString(out.Account), aws.ToString(out.Arn))
	}

	// A role ed does not have, in an account he has and one he has not:
	// the same 403 page, no credentials.
	for _, q := range []string{"account_id=111111111111&role_name=AdministratorAccess", "account_id=333333333333&role_name=PowerUserAccess", "account_id=999999999999&role_name=Nope"} {
		status, _, body := get("/start/credentials?" + q)
		if status != http.StatusForbidden || strings.Contains(body, "AWS_SECRET_ACCESS_KEY") || strings.Contains(body, "ASIA") || !strings.Contains(body, "No access") {
			t.Errorf("%s: %d\n%s", q, status, body)
		}
	}

	// Signing out ends the credentials the panel issued.
	if r := post("/signout", url.Values{}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", r.StatusCode)
	}
	if _, err := stsC.GetCallerIdentity(context.WithoutCancel(t.Context()), &sts.GetCallerIdentityInput{}); err == nil {
		t.Error("the panel's credentials still work after sign-out")
	}
}
