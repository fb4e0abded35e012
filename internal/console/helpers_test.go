package console_test

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
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/console"
	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
	"github.com/gatehouse-dev/gatehouse/internal/settings"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

const (
	password      = "console-password-1"
	memberAccount = "210987654321"
)

// env is a whole server with a small world: admin holds AdministratorAccess
// and reader ReadOnlyAccess in the management account; dev holds
// PowerUserAccess in a member account only.
type env struct {
	t   *testing.T
	srv *servertest.Server
	// users by name
	users map[string]*store.User
	sets  map[string]*store.PermissionSet
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, nil)
}

// newEnvWith is newEnv with the server's configuration edited by edit.
func newEnvWith(t *testing.T, edit func(*config.Config)) *env {
	t.Helper()
	srv := servertest.New(t, edit)
	e := &env{t: t, srv: srv, users: map[string]*store.User{}, sets: map[string]*store.PermissionSet{}}
	ctx := t.Context()
	// These tests are about the console, not the second factor: sign-ins
	// here take the password alone.
	if err := srv.Settings.Put(ctx, settings.Settings{MFAPolicy: settings.PolicyOff, PortalSessionDuration: 8 * time.Hour}); err != nil {
		t.Fatalf("MFA policy off: %v", err)
	}
	if _, err := srv.Access.CreateAccount(ctx, memberAccount, "Workloads", "workloads@example.com"); err != nil {
		t.Fatalf("create account: %v", err)
	}
	for _, name := range []string{"AdministratorAccess", "ReadOnlyAccess", "PowerUserAccess"} {
		ps, err := srv.Access.CreatePermissionSet(ctx, access.PermissionSetInput{Name: name})
		if err != nil {
			t.Fatalf("create permission set: %v", err)
		}
		if err := srv.Access.AttachManagedPolicy(ctx, ps.ID, "arn:aws:iam::aws:policy/"+name); err != nil {
			t.Fatalf("attach: %v", err)
		}
		e.sets[name] = ps
	}
	for _, u := range []struct{ name, set, account string }{
		{"admin", "AdministratorAccess", srv.Instance.ManagementAccountID},
		{"reader", "ReadOnlyAccess", srv.Instance.ManagementAccountID},
		{"dev", "PowerUserAccess", memberAccount},
	} {
		e.users[u.name] = e.mkUser(u.name)
		op, err := srv.Access.CreateAssignment(ctx, access.AssignmentInput{AccountID: u.account, PermissionSetID: e.sets[u.set].ID,
			PrincipalType: store.PrincipalUser, PrincipalID: e.users[u.name].ID})
		if err != nil || op.Status != store.StatusSucceeded {
			t.Fatalf("assign: %v %+v", err, op)
		}
	}
	return e
}

func (e *env) mkUser(name string) *store.User {
	e.t.Helper()
	ctx := e.t.Context()
	u, err := e.srv.Directory.CreateUser(ctx, directory.CreateUserInput{UserName: name, DisplayName: name,
		Name: store.UserName{GivenName: name, FamilyName: "Test"}, Emails: []store.Email{{Value: name + "@example.com", Primary: true}}})
	if err != nil {
		e.t.Fatalf("create user: %v", err)
	}
	if err := e.srv.Directory.SetPassword(ctx, u.ID, password); err != nil {
		e.t.Fatalf("set password: %v", err)
	}
	return u
}

// browser is a cookie-keeping client that does not follow redirects.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
	hdrs http.Header
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: e.t, base: e.srv.URL, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type page struct {
	Status int
	Header http.Header
	Body   string
}

func (p *page) Location() string { return p.Header.Get("Location") }

func (b *browser) do(method, target string, form url.Values) *page {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(b.t.Context(), method, b.base+target, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, vs := range b.hdrs {
		req.Header[k] = vs
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return &page{Status: resp.StatusCode, Header: resp.Header, Body: string(data)}
}

func (b *browser) get(target string) *page { b.t.Helper(); return b.do("GET", target, nil) }

func (b *browser) post(target string, form url.Values) *page {
	b.t.Helper()
	return b.do("POST", target, form)
}

var (
	formRe   = regexp.MustCompile(`(?s)<form method="(get|post)" action="([^"]*)"[^>]*>(.*?)</form>`)
	hiddenRe = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
)

// submit sends the form of p that posts to action with its hidden fields
// and fields.
func (b *browser) submit(p *page, action string, fields url.Values) *page {
	b.t.Helper()
	for _, m := range formRe.FindAllStringSubmatch(p.Body, -1) {
		if html.UnescapeString(m[2]) != action {
			continue
		}
		v := url.Values{}
		for _, h := range hiddenRe.FindAllStringSubmatch(m[3], -1) {
			v.Set(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
		}
		for k, vs := range fields {
			v[k] = vs
		}
		return b.post(action, v)
	}
	b.t.Fatalf("no form posting to %s in page (status %d):\n%s", action, p.Status, p.Body)
	return nil
}

// signIn signs in through the portal's pages.
func (b *browser) signIn(user string) {
	b.t.Helper()
	p := b.get("/login")
	p = b.submit(p, "/login", url.Values{"username": {user}})
	p = b.submit(p, "/login/password", url.Values{"password": {password}})
	if p.Status != http.StatusSeeOther {
		b.t.Fatalf("sign-in of %s: %d\n%s", user, p.Status, p.Body)
	}
}

// forms returns the actions of the POST forms of p, but the sign-out.
func forms(p *page) []string {
	var out []string
	for _, m := range formRe.FindAllStringSubmatch(p.Body, -1) {
		if m[1] == "post" && m[2] != "/signout" {
			out = append(out, html.UnescapeString(m[2]))
		}
	}
	return out
}

func wantStatus(t *testing.T, p *page, status int) {
	t.Helper()
	if p.Status != status {
		t.Fatalf("status %d, want %d; body:\n%s", p.Status, status, p.Body)
	}
}

func wantBody(t *testing.T, p *page, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(p.Body, s) {
			t.Fatalf("page lacks %q:\n%s", s, p.Body)
		}
	}
}

func wantNoBody(t *testing.T, p *page, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if strings.Contains(p.Body, s) {
			t.Fatalf("page has %q:\n%s", s, p.Body)
		}
	}
}

// follow requests a redirect's target.
func (b *browser) follow(p *page) *page {
	b.t.Helper()
	if p.Status != http.StatusSeeOther {
		b.t.Fatalf("want 303, got %d:\n%s", p.Status, p.Body)
	}
	return b.get(p.Location())
}

// people is a People of the directory's own calls, for tests.
type people struct{ d *directory.Service }

func (p people) DisableUser(ctx context.Context, id string) error {
	return p.d.SetUserDisabled(ctx, id, true)
}
func (p people) EnableUser(ctx context.Context, id string) error {
	return p.d.SetUserDisabled(ctx, id, false)
}
func (p people) DeleteUser(ctx context.Context, id string) error  { return p.d.DeleteUser(ctx, id) }
func (p people) EndSessions(ctx context.Context, id string) error { return nil }
func (p people) ResetPassword(ctx context.Context, id string) error {
	return p.d.SetPassword(ctx, id, "reset-password-123")
}
func (p people) ResetMFA(ctx context.Context, id string) error { return nil }

var _ console.People = people{}

// memSettings is a Settings held in memory.
type memSettings struct{ v settings.Settings }

func (m *memSettings) Get(context.Context) (settings.Settings, error) { return m.v, nil }
func (m *memSettings) LongestSession() time.Duration                  { return settings.DefaultSessionDuration }
func (m *memSettings) Put(_ context.Context, v settings.Settings) error {
	m.v = v
	return nil
}
