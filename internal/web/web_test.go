package web_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/web"
)

var (
	staticScript  = regexp.MustCompile(`<script src="/static/[a-z0-9-]+\.js" defer></script>`)
	inlineHandler = regexp.MustCompile(`<[^>]+\son[a-z]+=`)
)

func TestRenderEveryPage(t *testing.T) {
	p, err := web.Load()
	if err != nil {
		t.Fatal(err)
	}
	lay := web.Layout{Title: "T", User: "alice"}
	tests := []struct {
		name string
		page web.Page
		want []string
	}{
		{"signin username", web.SignIn{Layout: web.Layout{Title: "Sign in"}, Step: web.StepUserName, Next: "/start"}, []string{`action="/login"`, `name="username"`, `name="next" value="/start"`}},
		{"signin password", web.SignIn{Layout: lay, Step: web.StepPassword, State: "s.t", UserName: "alice"}, []string{`action="/login/password"`, `name="password"`, `name="state" value="s.t"`}},
		{"signin mfa", web.SignIn{Layout: lay, Step: web.StepMFA, State: "s.t"}, []string{`action="/login/mfa"`, `name="code"`}},
		{"device", web.DeviceCode{Layout: lay}, []string{`name="user_code"`}},
		{"device confirm", web.DeviceConfirm{Layout: lay, ClientName: "<botocore>", UserCode: "ABCD-EFGH"}, []string{"Did you start this sign-in from &lt;botocore&gt;?", `value="allow"`, `value="deny"`}},
		{"consent", web.Consent{Layout: lay, ClientName: "cli", Scopes: []string{"sso:account:access"}}, []string{"sso:account:access", `action="/authorize"`}},
		{"home", web.Home{Layout: lay, Accounts: []web.Account{{ID: "111122223333", Name: "Prod", Roles: []string{"Admin"}}}}, []string{"111122223333", "Admin", `action="/signout"`}},
		{"mfa", web.MFAEnrol{Layout: lay, URI: "otpauth://totp/x?secret=A", Secret: "A"}, []string{`href="otpauth://totp/x?secret=A"`}},
		{"error", web.Error{Layout: lay, Heading: "This code has expired"}, []string{"This code has expired"}},
		{"home search", web.Home{Layout: lay, Query: "pro", Total: 2, Accounts: []web.Account{{ID: "111122223333", Name: "Prod", Roles: []string{"Admin"}}}},
			[]string{`name="q" value="pro"`, "1 of 2 accounts match", `href="/start/credentials?account_id=111122223333&amp;role_name=Admin"`}},
		{"credentials", web.Credentials{Layout: lay, AccountID: "111122223333", RoleName: "Admin", Bash: "export AWS_ACCESS_KEY_ID=\"A<\"\n"},
			[]string{"export AWS_ACCESS_KEY_ID=&#34;A&lt;&#34;", `data-copy="bash"`}},
		{"signed out", web.SignedOut{Layout: web.Layout{Title: "Signed out"}}, []string{"You have signed out"}},
		{"not found", web.NotFound{Layout: lay, Path: "/x<y"}, []string{"Page not found", "/x&lt;y"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := p.Render(&b, tc.page); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			for _, w := range append(tc.want, "<title>", "Gatehouse", `lang="en"`) {
				if !strings.Contains(out, w) {
					t.Errorf("page lacks %q:\n%s", w, out)
				}
			}
			// Scripts only as static files of this origin (CSP
			// script-src 'self'): no inline code, no handlers.
			if n, ok := strings.Count(out, "<script"), len(staticScript.FindAllString(out, -1)); n != ok || inlineHandler.MatchString(out) {
				t.Errorf("page has an inline script or handler")
			}
		})
	}
}

// TestTrialWordings: what a new user's trial found odd on the portal's
// pages reads right.
func TestTrialWordings(t *testing.T) {
	p, err := web.Load()
	if err != nil {
		t.Fatal(err)
	}
	lay := web.Layout{Title: "T", User: "alice"}
	prod := web.Account{ID: "111122223333", Name: "Prod", Roles: []string{"Admin"}}
	tests := []struct {
		name      string
		page      web.Page
		want, not []string
	}{
		// "Forgot your password?" on the first step too.
		{"signin first step", web.SignIn{Layout: lay, Step: web.StepUserName}, []string{`href="/forgot"`}, nil},
		{"signin after a new password", web.SignIn{Layout: lay, Step: web.StepUserName, Notice: "Your password is set. Sign in."},
			[]string{`<p class="notice" role="status">Your password is set. Sign in.</p>`}, nil},
		// Every account matches: no "1 of 1", no "Show all".
		{"search all match", web.Home{Layout: lay, Query: "pro", Total: 1, Accounts: []web.Account{prod}},
			[]string{">1 account</p>"}, []string{"1 of 1", "Show all"}},
		// No match: one "Show all accounts" link.
		{"search no match", web.Home{Layout: lay, Query: "zzz", Total: 2},
			[]string{"No account matches “zzz”.", "Show all accounts"}, []string{"0 of 2"}},
		// The password hint names every word the rule refuses a
		// password built around.
		{"set password hint", web.SetPassword{Layout: lay, Action: "/activate", MinLength: 8},
			[]string{"Common passwords, and passwords built around your user name, your name or your e-mail address, are refused."}, nil},
		{"setup hint", web.Setup{Layout: lay, MinLength: 8},
			[]string{"Common passwords, and passwords built around your user name, your name or your e-mail address, are refused."}, nil},
		// AWS CLI before 2.13 ignores AWS_ENDPOINT_URL_*: the page says
		// how to call it.
		{"access keys old CLI", web.Credentials{Layout: lay, AccountID: "111122223333", RoleName: "Admin"},
			[]string{`AWS CLI older than 2.13 (such as Debian’s 2.9) ignores these variables: add <code>--endpoint-url "$AWS_ENDPOINT_URL_STS"</code>`}, nil},
		// A session's start time shows once.
		{"account other session", web.AccountPage{Layout: lay, Sessions: []web.AccountSession{{ID: "s", Created: "2026-12-01 04:00 UTC", Expires: "2026-12-01 12:00 UTC", SourceIP: "192.0.2.1", MFA: true}}},
			[]string{"<strong>Another sign-in</strong> · with MFA</p>", "Started 2026-12-01 04:00 UTC"}, []string{"Signed in 2026-12-01"}},
		// The default name says the kind already.
		{"account devices", web.AccountPage{Layout: lay, Devices: []web.AccountDevice{{ID: "a", Type: "TOTP", Name: "Authenticator app"},
			{ID: "b", Type: "TOTP", Name: "Phone"}, {ID: "c", Type: "WEBAUTHN", Name: "YubiKey"}}},
			[]string{"<strong>Authenticator app</strong></p>", "<strong>Phone</strong> · authenticator app", "<strong>YubiKey</strong> · security key or passkey"},
			[]string{"Authenticator app</strong> · authenticator app"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := p.Render(&b, tc.page); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("page lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(out, w) {
					t.Errorf("page has %q:\n%s", w, out)
				}
			}
			if n := strings.Count(out, "Show all"); n > 1 {
				t.Errorf("%d Show all links", n)
			}
		})
	}
}

// TestClientNameNeutralised is issue 9 item 6: a client name with bidi
// overrides or control characters shows them as U+FFFD on every page that
// names the client, so it cannot disguise itself.
func TestClientNameNeutralised(t *testing.T) {
	p, err := web.Load()
	if err != nil {
		t.Fatal(err)
	}
	lay := web.Layout{Title: "T", User: "alice"}
	name := "aws\u202eilc\u202c\u2066x\u2069\x1b[2J\u200b\u0085\ufeff"
	want := "aws\ufffdilc\ufffd\ufffdx\ufffd\ufffd[2J\ufffd\ufffd\ufffd"
	for _, page := range []web.Page{
		web.DeviceConfirm{Layout: lay, ClientName: name, UserCode: "ABCD-EFGH"},
		web.DeviceDone{Layout: lay, ClientName: name, Approved: true},
		web.DeviceDone{Layout: lay, ClientName: name},
		web.Consent{Layout: lay, ClientName: name},
	} {
		var b bytes.Buffer
		if err := p.Render(&b, page); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if strings.ContainsAny(out, "\u202e\u202c\u2066\u2069\x1b\u200b\u0085\ufeff") {
			t.Errorf("%T shows hiding characters: %q", page, out)
		}
		if !strings.Contains(out, want) {
			t.Errorf("%T lacks the neutralised name %q", page, want)
		}
	}
}

// TestStaticNoListing is issue 9 item 6: directories under /static/ are
// 404, never listed.
func TestStaticNoListing(t *testing.T) {
	h := http.StripPrefix("/static/", web.Static())
	for path, want := range map[string]int{
		"/static/":               http.StatusNotFound,
		"/static/.":              http.StatusNotFound,
		"/static/gatehouse.css":  http.StatusOK,
		"/static/gatehouse.css/": http.StatusNotFound,
		"/static/nope.js":        http.StatusNotFound,
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != want || strings.Contains(rec.Body.String(), "gatehouse.css\"") {
			t.Errorf("GET %s = %d %q, want %d and no listing", path, rec.Code, rec.Body.String(), want)
		}
	}
}
