package invite_test

import (
	"context"
	"crypto/rand"
	"errors"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/domaintest"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/invite"
	"github.com/gatehouse-dev/gatehouse/internal/keyring"
	"github.com/gatehouse-dev/gatehouse/internal/mail"
	"github.com/gatehouse-dev/gatehouse/internal/mail/mailtest"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

type fixture struct {
	w    *domaintest.World
	s    *invite.Service
	smtp *mailtest.Server
	now  time.Time
	mu   sync.Mutex
	// master is the master key of s.Keys, for a second ring on the store.
	master []byte
}

func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	w := domaintest.New(t)
	master := make([]byte, 32)
	rand.Read(master)
	keys, err := keyring.Open(t.Context(), w.Store, master, rand.Reader, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	srv := mailtest.Start(t, mailtest.Options{})
	smtp, err := mail.ParseURL(srv.URL(), "gatehouse@example.com")
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{w: w, smtp: srv, now: time.Now().UTC(), master: master}
	f.s = &invite.Service{
		Store: w.Store, Keys: keys, Audit: w.Audit, Directory: w.Directory, Access: w.Access,
		Mail: &mail.Mailer{SMTP: smtp}, Instance: w.Instance, Rand: rand.Reader, BaseURL: "http://gatehouse.test",
		Now: func() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now },
	}
	t.Cleanup(f.s.Wait)
	return f
}

func (f *fixture) user(t *testing.T, name, email string) *store.User {
	t.Helper()
	in := directory.CreateUserInput{UserName: name, DisplayName: name, Name: store.UserName{GivenName: name, FamilyName: "Test"}}
	if email != "" {
		in.Emails = []store.Email{{Value: email, Primary: true}}
	}
	u, err := f.w.Directory.CreateUser(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

var linkRe = regexp.MustCompile(`http://gatehouse\.test/(activate|reset|setup)\?token=[A-Za-z0-9_-]+`)

// tokenOf returns the token of the link in a mail body.
func tokenOf(t *testing.T, body string) string {
	t.Helper()
	l := linkRe.FindString(body)
	if l == "" {
		t.Fatalf("no link in %q", body)
	}
	u, _ := url.Parse(l)
	return u.Query().Get("token")
}

func TestInvitationSingleUse(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	u := f.user(t, "jane", "jane@example.com")
	if err := f.s.SendInvitation(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	m := f.smtp.Next(t)
	if m.To[0] != "jane@example.com" || m.Header("Subject") != "You are invited to Gatehouse" {
		t.Fatalf("mail to %v subject %q", m.To, m.Header("Subject"))
	}
	tok := tokenOf(t, m.Body())
	if len(tok) != 43 {
		t.Fatalf("token %q is not 32 bytes in base64url", tok)
	}
	l, err := f.s.Open(ctx, store.LinkInvite, tok)
	if err != nil || l.User.ID != u.ID || l.MinLength != 8 {
		t.Fatalf("Open = %+v, %v", l, err)
	}
	// Only the hash is stored.
	if _, err := f.w.Store.GetLinkToken(ctx, tok); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("token stored in the clear: %v", err)
	}
	// A reset link is not an invitation.
	if _, err := f.s.Open(ctx, store.LinkReset, tok); !errors.Is(err, invite.ErrLinkInvalid) {
		t.Fatalf("invitation opened as reset: %v", err)
	}
	// A weak password is refused and does not spend the link.
	if _, err := f.s.SetPassword(ctx, store.LinkInvite, tok, "password1"); fault.KindOf(err) != fault.Validation {
		t.Fatalf("weak password: %v", err)
	}
	if _, err := f.s.SetPassword(ctx, store.LinkInvite, tok, "orbit-lantern-42"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.w.Directory.Authenticate(ctx, "jane", "orbit-lantern-42"); err != nil {
		t.Fatalf("cannot sign in with the new password: %v", err)
	}
	notice := f.smtp.Next(t)
	if notice.Header("Subject") != "Your Gatehouse password was changed" {
		t.Fatalf("notice subject %q", notice.Header("Subject"))
	}
	if _, err := f.s.SetPassword(ctx, store.LinkInvite, tok, "another-pass-77"); !errors.Is(err, invite.ErrLinkInvalid) {
		t.Fatalf("second use: %v", err)
	}
	if _, err := f.s.Open(ctx, store.LinkInvite, tok); !errors.Is(err, invite.ErrLinkInvalid) {
		t.Fatalf("open after use: %v", err)
	}
}

func TestInvitationConcurrentUse(t *testing.T) {
	f := newFixture(t)
	u := f.user(t, "ann", "ann@example.com")
	if err := f.s.SendInvitation(t.Context(), u.ID); err != nil {
		t.Fatal(err)
	}
	tok := tokenOf(t, f.smtp.Next(t).Body())
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for i := range 6 {
		wg.Go(func() {
			_, err := f.s.SetPassword(t.Context(), store.LinkInvite, tok, "concurrent-pass-"+string(rune('a'+i)))
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				ok++
			} else if !errors.Is(err, invite.ErrLinkInvalid) {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if ok != 1 {
		t.Fatalf("%d concurrent uses succeeded, want 1", ok)
	}
}

func TestResendInvalidatesAndExpiry(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	u := f.user(t, "bob", "bob@example.com")
	if err := f.s.SendInvitation(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	old := tokenOf(t, f.smtp.Next(t).Body())
	if err := f.s.SendInvitation(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	fresh := tokenOf(t, f.smtp.Next(t).Body())
	if _, err := f.s.Open(ctx, store.LinkInvite, old); !errors.Is(err, invite.ErrLinkInvalid) {
		t.Fatalf("old link after resend: %v", err)
	}
	f.advance(invite.InvitationTTL - time.Minute)
	if _, err := f.s.Open(ctx, store.LinkInvite, fresh); err != nil {
		t.Fatalf("link within 7 days: %v", err)
	}
	f.advance(2 * time.Minute)
	if _, err := f.s.SetPassword(ctx, store.LinkInvite, fresh, "late-but-long-pass"); !errors.Is(err, invite.ErrLinkExpired) {
		t.Fatalf("link after 7 days: %v", err)
	}

	// A reset link lasts an hour.
	if err := f.s.SendPasswordReset(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	m := f.smtp.Next(t)
	if m.Header("Subject") != "Reset your Gatehouse password" {
		t.Fatalf("subject %q", m.Header("Subject"))
	}
	reset := tokenOf(t, m.Body())
	f.advance(time.Hour)
	if _, err := f.s.Open(ctx, store.LinkReset, reset); !errors.Is(err, invite.ErrLinkExpired) {
		t.Fatalf("reset link after 1 hour: %v", err)
	}
	for _, bad := range []string{"", "x", strings.Repeat("A", 43), strings.Repeat("A", 500)} {
		if _, err := f.s.Open(ctx, store.LinkReset, bad); !errors.Is(err, invite.ErrLinkInvalid) {
			t.Fatalf("Open(%q) = %v", bad, err)
		}
	}
}

func TestInvitationWithoutEmail(t *testing.T) {
	f := newFixture(t)
	// The identity store requires an address, but a user updated
	// through the store may have none.
	u := f.user(t, "noemail", "n@example.com")
	u.Emails = nil
	if err := f.w.Store.UpdateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	if err := f.s.SendInvitation(t.Context(), u.ID); fault.KindOf(err) != fault.Validation {
		t.Fatalf("SendInvitation without an address: %v", err)
	}
	if err := f.s.Notify(t.Context(), u.ID, "s", "b"); err != nil {
		t.Fatalf("Notify without an address: %v", err)
	}
}

// TestForgot: the same answer for known and unknown people, a link for
// the known one, and a limit per address.
func TestForgot(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	f.user(t, "carol", "Carol@Example.com")
	for _, who := range []string{"nobody", "nobody@example.com", "carol@example.com"} {
		if err := f.s.Forgot(ctx, who, "192.0.2.1"); err != nil {
			t.Fatalf("Forgot(%q) = %v", who, err)
		}
	}
	f.s.Wait()
	msgs := f.smtp.Messages()
	if len(msgs) != 1 || msgs[0].To[0] != "Carol@Example.com" {
		t.Fatalf("mails: %+v", msgs)
	}
	tok := tokenOf(t, msgs[0].Body())
	// Two more by name fit the per-user limit of 3; the fourth is dropped.
	for range 3 {
		if err := f.s.Forgot(ctx, "carol", "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
	}
	f.s.Wait()
	if n := len(f.smtp.Messages()); n != 3 {
		t.Fatalf("%d mails after 4 requests, want 3 (limit per user)", n)
	}
	// Each new reset link replaced the one before.
	if _, err := f.s.Open(ctx, store.LinkReset, tok); !errors.Is(err, invite.ErrLinkInvalid) {
		t.Fatalf("first reset link after resend: %v", err)
	}
	if err := f.s.Forgot(ctx, "", "192.0.2.1"); fault.KindOf(err) != fault.Validation {
		t.Fatalf("empty: %v", err)
	}
}

func TestSetupFirstAdmin(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	if ok, err := f.s.HasAdmin(ctx); err != nil || ok {
		t.Fatalf("HasAdmin on a fresh instance = %v, %v", ok, err)
	}
	first, err := f.s.SetupLink(ctx)
	if err != nil {
		t.Fatal(err)
	}
	link, err := f.s.SetupLink(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tok := tokenOf(t, link)
	if _, err := f.s.Open(ctx, store.LinkSetup, tokenOf(t, first)); !errors.Is(err, invite.ErrLinkInvalid) {
		t.Fatalf("earlier setup link: %v", err)
	}
	in := invite.SetupInput{Token: tok, UserName: "admin", Email: "admin@example.com", Password: "admin-admin"}
	if _, err := f.s.Setup(ctx, in); fault.KindOf(err) != fault.Validation {
		t.Fatalf("password built on the user name: %v", err)
	}
	in.Password = "granite meadow 9"
	u, err := f.s.Setup(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := f.s.HasAdmin(ctx); err != nil || !ok {
		t.Fatalf("HasAdmin after setup = %v, %v", ok, err)
	}
	as, err := f.w.Store.ListAssignments(ctx, store.AssignmentFilter{AccountID: f.w.Instance.ManagementAccountID, PrincipalID: u.ID})
	if err != nil || len(as) != 1 {
		t.Fatalf("assignments %+v, %v", as, err)
	}
	if _, err := f.w.Directory.Authenticate(ctx, "admin", "granite meadow 9"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Setup(ctx, in); !errors.Is(err, invite.ErrLinkInvalid) && !errors.Is(err, invite.ErrAdminExists) {
		t.Fatalf("second use: %v", err)
	}
	// A new link cannot make a second first admin.
	link, _ = f.s.SetupLink(ctx)
	in.Token, in.UserName = tokenOf(t, link), "admin2"
	if _, err := f.s.Setup(ctx, in); !errors.Is(err, invite.ErrAdminExists) {
		t.Fatalf("setup with an admin present: %v", err)
	}
}

// TestResetEndsSessions: a password set from a reset link ends the user's
// sessions; one set from an invitation does not need to.
func TestResetEndsSessions(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	u := f.user(t, "dave", "dave@example.com")
	var ended []string
	f.s.EndSessions = func(_ context.Context, id string) error {
		ended = append(ended, id)
		return nil
	}
	if err := f.s.SendInvitation(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.SetPassword(ctx, store.LinkInvite, tokenOf(t, f.smtp.Next(t).Body()), "first-long-pass"); err != nil {
		t.Fatal(err)
	}
	f.smtp.Next(t) // password changed
	if len(ended) != 0 {
		t.Fatalf("activation ended sessions of %v", ended)
	}
	if err := f.s.SendPasswordReset(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.SetPassword(ctx, store.LinkReset, tokenOf(t, f.smtp.Next(t).Body()), "second-long-pass"); err != nil {
		t.Fatal(err)
	}
	if len(ended) != 1 || ended[0] != u.ID {
		t.Fatalf("reset ended sessions of %v, want [%s]", ended, u.ID)
	}
}

// TestForgotIsNoMailBomb: "forgot password" cannot flood anyone's mailbox.
// One user gets at most the per-user limit whatever spelling names them
// (user name, e-mail address, case) and from however many addresses; and
// one IPv6 host, which holds a whole /64, cannot rotate addresses within
// it to escape the per-address limit across many users.
func TestForgotIsNoMailBomb(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	f.s.ForgotLimit = 1 // per user 1, per address 10, per hour
	f.user(t, "carol", "carol@example.com")
	for i, who := range []string{"carol", "carol@example.com", "CAROL", "Carol@Example.com", " carol "} {
		if err := f.s.Forgot(ctx, who, "192.0.2."+strconv.Itoa(i+1)); err != nil {
			t.Fatal(err)
		}
	}
	f.s.Wait()
	if n := len(f.smtp.Messages()); n != 1 {
		t.Fatalf("%d mails to carol, want 1 (the per-user limit)", n)
	}
	for i := range 11 {
		name := "user" + strconv.Itoa(i)
		f.user(t, name, name+"@example.com")
		if err := f.s.Forgot(ctx, name, "2001:db8:1:2::"+strconv.FormatInt(int64(i+1), 16)); err != nil {
			t.Fatal(err)
		}
	}
	f.s.Wait()
	if n := len(f.smtp.Messages()) - 1; n != 10 {
		t.Fatalf("%d mails from one IPv6 /64, want 10 (the per-address limit)", n)
	}
}

// TestHasAdminCountsOnlyUsableAdmins: an administrator counts only when
// they can sign in: enabled and with a password. A disabled or
// password-less admin leaves the instance without one, so serve prints a
// setup link again.
func TestHasAdminCountsOnlyUsableAdmins(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	u := f.user(t, "root.admin", "root@example.com")
	if err := f.s.MakeAdmin(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if ok, err := f.s.HasAdmin(ctx); err != nil || ok {
		t.Fatalf("HasAdmin with an admin without a password = %v, %v", ok, err)
	}
	if err := f.w.Directory.SetPassword(ctx, u.ID, "granite meadow 9"); err != nil {
		t.Fatal(err)
	}
	if ok, err := f.s.HasAdmin(ctx); err != nil || !ok {
		t.Fatalf("HasAdmin with an enabled admin = %v, %v", ok, err)
	}
	cur, _ := f.w.Store.GetUser(ctx, u.ID)
	cur.Disabled = true
	if err := f.w.Store.Update(ctx, func(tx store.Tx) error { return tx.UpdateUser(ctx, cur) }); err != nil {
		t.Fatal(err)
	}
	if ok, err := f.s.HasAdmin(ctx); err != nil || ok {
		t.Fatalf("HasAdmin with only a disabled admin = %v, %v", ok, err)
	}
}

// TestDisabledUserLinks: a disabled user gets no invitation, and a link
// sent before they were disabled opens no page and sets no password.
func TestDisabledUserLinks(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	u := f.user(t, "jane", "jane@example.com")
	link, err := f.s.InvitationLink(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	tok := tokenOf(t, link)
	cur, _ := f.w.Store.GetUser(ctx, u.ID)
	cur.Disabled = true
	if err := f.w.Store.Update(ctx, func(tx store.Tx) error { return tx.UpdateUser(ctx, cur) }); err != nil {
		t.Fatal(err)
	}
	if err := f.s.SendInvitation(ctx, u.ID); fault.KindOf(err) != fault.Validation || !strings.Contains(err.Error(), "disabled") {
		t.Fatalf("SendInvitation to a disabled user = %v", err)
	}
	if _, err := f.s.Open(ctx, store.LinkInvite, tok); !errors.Is(err, invite.ErrUserDisabled) {
		t.Fatalf("Open for a disabled user = %v", err)
	}
	if _, err := f.s.SetPassword(ctx, store.LinkInvite, tok, "orbit-lantern-42"); !errors.Is(err, invite.ErrUserDisabled) {
		t.Fatalf("SetPassword for a disabled user = %v", err)
	}
}

// TestInvitationForActiveUser: a user who has a password gets no
// invitation (its link could replace the password for 7 days); the admin
// sends a password reset instead. A re-invitation of a user without one
// says it is a new link, not that an account was created.
func TestInvitationForActiveUser(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	u := f.user(t, "jane", "jane@example.com")
	if err := f.s.SendInvitation(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if m := f.smtp.Next(t); !strings.Contains(m.Body(), "An account was created for you") {
		t.Fatalf("first invitation: %q", m.Body())
	}
	if err := f.s.SendInvitation(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if m := f.smtp.Next(t); !strings.Contains(m.Body(), "Here is a new link") || strings.Contains(m.Body(), "An account was created") {
		t.Fatalf("second invitation: %q", m.Body())
	}
	if err := f.w.Directory.SetPassword(ctx, u.ID, "granite meadow 9"); err != nil {
		t.Fatal(err)
	}
	err := f.s.SendInvitation(ctx, u.ID)
	if fault.KindOf(err) != fault.Validation || !strings.Contains(err.Error(), "already active; send a password reset instead") {
		t.Fatalf("SendInvitation to an active user = %v", err)
	}
}

// TestAdminResetMail: the reset an administrator triggers says so, unlike
// the self-service one.
func TestAdminResetMail(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	u := f.user(t, "jane", "jane@example.com")
	if _, err := f.s.SendAdminReset(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	m := f.smtp.Next(t)
	if b := m.Body(); !strings.Contains(b, "An administrator reset your password") || strings.Contains(b, "probably you") || strings.Contains(b, "stays as it is") {
		t.Fatalf("admin reset mail: %q", b)
	}
	if err := f.s.SendPasswordReset(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if b := f.smtp.Next(t).Body(); !strings.Contains(b, "probably you") {
		t.Fatalf("self-service reset mail: %q", b)
	}
}

// TestPasswordNotBuiltOnName: activation refuses a password built on the
// user's given or family name.
func TestPasswordNotBuiltOnName(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	u, err := f.w.Directory.CreateUser(ctx, directory.CreateUserInput{UserName: "jane.doe", DisplayName: "Jane Doe",
		Name: store.UserName{GivenName: "Jane", FamilyName: "Doe"}, Emails: []store.Email{{Value: "jd@example.com", Primary: true}}})
	if err != nil {
		t.Fatal(err)
	}
	link, err := f.s.InvitationLink(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.SetPassword(ctx, store.LinkInvite, tokenOf(t, link), "Doe2026!!"); fault.KindOf(err) != fault.Validation {
		t.Fatalf("Doe2026!! for Jane Doe = %v", err)
	}
}

// TestLinkAfterRotationElsewhere: another ring on the same database (a
// second replica) rotates the token-hash key and issues an invitation
// link hashed under the new key; this service, which has not loaded that
// key and is not restarted, opens it.
func TestLinkAfterRotationElsewhere(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	u := f.user(t, "rotated", "")
	other, err := keyring.Open(ctx, f.w.Store, f.master, rand.Reader, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Rotate(ctx, f.w.Store, keyring.PurposeTokenHash, time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	elsewhere := &invite.Service{
		Store: f.w.Store, Keys: other, Audit: f.w.Audit, Directory: f.w.Directory, Access: f.w.Access,
		Instance: f.w.Instance, Rand: rand.Reader, BaseURL: "http://gatehouse.test", Now: time.Now,
	}
	link, err := elsewhere.InvitationLink(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Open(ctx, store.LinkInvite, tokenOf(t, link)); err != nil {
		t.Fatalf("a link hashed under a key rotated in elsewhere: %v", err)
	}
}
