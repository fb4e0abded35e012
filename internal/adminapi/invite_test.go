package adminapi_test

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/identitystore/types"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/mail"
	"github.com/gatehouse-dev/gatehouse/internal/mail/mailtest"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

var activateRe = regexp.MustCompile(`http://[^\s]+/activate\?token=[A-Za-z0-9_-]+`)

// noRedirect is a client that shows redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// postForm posts a page form as the browser would (same origin).
func postForm(t *testing.T, base, path string, v url.Values) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, base+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestCreateUserSendsInvitation: identitystore CreateUser through the Go
// SDK mails the user an activation link; the link sets the password once.
func TestCreateUserSendsInvitation(t *testing.T) {
	smtp := mailtest.Start(t, mailtest.Options{TLS: true, User: "gh", Password: "smtp-secret"})
	srv := servertest.New(t, func(c *config.Config) {
		c.Demo = true
		c.SMTPURL = mail.Secret(smtp.URL())
		c.SMTPFrom = "Gatehouse <gatehouse@example.com>"
		c.SMTPTLSConfig = smtp.TLSConfig()
	})
	ctx := t.Context()
	c := idStore(srv, adminCreds(t, srv))
	out, err := c.CreateUser(ctx, &identitystore.CreateUserInput{
		IdentityStoreId: aws.String(srv.Instance.IdentityStoreID), UserName: aws.String("new.hire"),
		DisplayName: aws.String("New Hire"), Name: &types.Name{GivenName: aws.String("New"), FamilyName: aws.String("Hire")},
		Emails: []types.Email{{Value: aws.String("new.hire@example.com"), Primary: true}},
	})
	if err != nil {
		t.Fatal(err)
	}
	m := smtp.Next(t)
	if len(m.To) != 1 || m.To[0] != "new.hire@example.com" || m.Header("Subject") != "You are invited to Gatehouse" || !m.TLS || m.Auth != "gh" {
		t.Fatalf("mail to %v, subject %q, TLS %v, auth %q", m.To, m.Header("Subject"), m.TLS, m.Auth)
	}
	link := activateRe.FindString(m.Body())
	if !strings.HasPrefix(link, srv.URL+"/activate?token=") {
		t.Fatalf("no activation link of %s in %q", srv.URL, m.Body())
	}
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "new.hire") || !strings.Contains(string(page), `name="password"`) {
		t.Fatalf("GET activation link: %d %s", resp.StatusCode, page)
	}
	u, _ := url.Parse(link)
	tok := u.Query().Get("token")

	// A blocklisted password is refused on the page, and the link stays.
	resp, body := postForm(t, srv.URL, "/activate", url.Values{"token": {tok}, "password": {"qwerty123456789"}, "confirm": {"qwerty123456789"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "too common") {
		t.Fatalf("weak password: %d %s", resp.StatusCode, body)
	}
	resp, body = postForm(t, srv.URL, "/activate", url.Values{"token": {tok}, "password": {"harbor kettle 51"}, "confirm": {"harbor kettle 51"}})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Fatalf("activate: %d %s %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	if _, err := srv.Directory.Authenticate(ctx, "new.hire", "harbor kettle 51"); err != nil {
		t.Fatalf("sign in with the new password: %v", err)
	}
	if n := smtp.Next(t); n.Header("Subject") != "Your Gatehouse password was changed" {
		t.Fatalf("second mail %q", n.Header("Subject"))
	}
	// Second use: a clear page, not a 500.
	resp, body = postForm(t, srv.URL, "/activate", url.Values{"token": {tok}, "password": {"other kettle 52"}, "confirm": {"other kettle 52"}})
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "This link is not valid") {
		t.Fatalf("second use: %d %s", resp.StatusCode, body)
	}
	resp, err = http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("GET used link: %d", resp.StatusCode)
	}
	if got, err := srv.Store.GetUser(ctx, *out.UserId); err != nil || got.PasswordHash == "" {
		t.Fatalf("user %+v, %v", got, err)
	}
}

// TestCreateUserInvitationFailureDoesNotFail: an SMTP server that cannot be
// reached fails the invitation, not CreateUser; the failure is audited.
func TestCreateUserInvitationFailureDoesNotFail(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	srv := servertest.New(t, func(c *config.Config) {
		c.Demo = true
		c.SMTPURL = mail.Secret("smtp://" + dead)
		c.SMTPFrom = "gatehouse@example.com"
	})
	c := idStore(srv, adminCreds(t, srv))
	out, err := c.CreateUser(t.Context(), &identitystore.CreateUserInput{
		IdentityStoreId: aws.String(srv.Instance.IdentityStoreID), UserName: aws.String("unlucky"),
		DisplayName: aws.String("Un Lucky"), Name: &types.Name{GivenName: aws.String("Un"), FamilyName: aws.String("Lucky")},
		Emails: []types.Email{{Value: aws.String("unlucky@example.com"), Primary: true}},
	})
	if err != nil {
		t.Fatalf("CreateUser failed because the invitation did: %v", err)
	}
	evs, err := srv.Store.ListEvents(t.Context(), store.EventFilter{Name: "SendInvitation", End: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	failed := false
	for _, e := range evs {
		if e.ErrorCode == "InvitationNotSent" && strings.Contains(string(e.Record), *out.UserId) {
			failed = true
		}
	}
	if !failed {
		t.Fatalf("no failed SendInvitation event among %d", len(evs))
	}
}

// TestCreateUserInvitationToOutbox: without an SMTP server the invitation
// is kept in the outbox admins read, link included.
func TestCreateUserInvitationToOutbox(t *testing.T) {
	srv := demoServer(t)
	c := idStore(srv, adminCreds(t, srv))
	if _, err := c.CreateUser(t.Context(), &identitystore.CreateUserInput{
		IdentityStoreId: aws.String(srv.Instance.IdentityStoreID), UserName: aws.String("outboxed"),
		DisplayName: aws.String("Out Boxed"), Name: &types.Name{GivenName: aws.String("Out"), FamilyName: aws.String("Boxed")},
		Emails: []types.Email{{Value: aws.String("outboxed@example.com"), Primary: true}},
	}); err != nil {
		t.Fatal(err)
	}
	ms, err := srv.Outbox.List(t.Context(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 || ms[0].To != "outboxed@example.com" || ms[0].Subject != "You are invited to Gatehouse" || !activateRe.MatchString(ms[0].Body) {
		t.Fatalf("outbox: %+v", ms)
	}
}
