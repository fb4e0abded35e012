package mail_test

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/mail"
	"github.com/gatehouse-dev/gatehouse/internal/mail/mailtest"
	"github.com/gatehouse-dev/gatehouse/internal/store/sqlite"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		name, url, from string
		want            mail.SMTP
		err             string
	}{
		{name: "smtp default port", url: "smtp://mail.example.com", from: "gh@example.com",
			want: mail.SMTP{Host: "mail.example.com", Port: 587, From: "gh@example.com"}},
		{name: "smtps default port", url: "smtps://u:p@mail.example.com", from: "gh@example.com",
			want: mail.SMTP{Host: "mail.example.com", Port: 465, Implicit: true, User: "u", Password: "p", From: "gh@example.com"}},
		{name: "port and escaped password", url: "smtp://u%40x:p%2Fw@127.0.0.1:2525", from: "Gatehouse <gh@example.com>",
			want: mail.SMTP{Host: "127.0.0.1", Port: 2525, User: "u@x", Password: "p/w", From: "Gatehouse <gh@example.com>"}},
		{name: "bad scheme", url: "http://u:hunter2@mail.example.com", from: "gh@example.com", err: "scheme must be smtp://"},
		{name: "no host", url: "smtp://", from: "gh@example.com", err: "no host"},
		{name: "bad port", url: "smtp://u:hunter2@h:99999", from: "gh@example.com", err: "port"},
		{name: "path", url: "smtp://u:hunter2@h/x", from: "gh@example.com", err: "nothing may follow"},
		{name: "no from", url: "smtp://u:hunter2@h", err: "smtp-from"},
		{name: "bad from", url: "smtp://u:hunter2@h", from: "not an address", err: "smtp-from"},
		{name: "unparsable", url: "smtp://u:hunter2@h:%zz", from: "gh@example.com", err: "not a URL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := mail.ParseURL(tc.url, tc.from)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ParseURL error = %v, want one mentioning %q", err, tc.err)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Fatalf("error %q shows the password", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if *got != tc.want {
				t.Fatalf("ParseURL = %+v, want %+v", *got, tc.want)
			}
		})
	}
}

// TestSecretNotLogged: the SMTP password never shows in logs or %v.
func TestSecretNotLogged(t *testing.T) {
	s, err := mail.ParseURL("smtp://u:hunter2@h", "a@example.com")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("smtp", "config", s, "password", s.Password)
	out := buf.String() + fmt.Sprintf("%v %+v %s", s, s, s.Password)
	if strings.Contains(out, "hunter2") {
		t.Fatalf("password shown: %s", out)
	}
}

func TestSend(t *testing.T) {
	tests := []struct {
		name string
		opts mailtest.Options
		tls  bool
	}{
		{"plain, no STARTTLS offered", mailtest.Options{}, false},
		{"STARTTLS and AUTH PLAIN", mailtest.Options{TLS: true, User: "mailer", Password: "s3cret pass"}, true},
		{"implicit TLS and AUTH PLAIN", mailtest.Options{Implicit: true, User: "mailer", Password: "s3cret"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := mailtest.Start(t, tc.opts)
			s, err := mail.ParseURL(srv.URL(), "Gatehouse <gatehouse@example.com>")
			if err != nil {
				t.Fatal(err)
			}
			if srv.Roots != nil {
				s.TLSConfig = srv.TLSConfig()
			}
			m := &mail.Mailer{SMTP: s}
			link := "http://127.0.0.1:7080/activate?token=" + strings.Repeat("Ab-_", 11)
			if err := m.Send(t.Context(), mail.Message{To: "jane@example.com", Subject: "You are invited to Gatehouse",
				Body: "Open this link to set your password:\n\n" + link + "\n"}); err != nil {
				t.Fatal(err)
			}
			got := srv.Next(t)
			if len(got.To) != 1 || got.To[0] != "jane@example.com" || got.From != "gatehouse@example.com" {
				t.Errorf("envelope from %q to %q", got.From, got.To)
			}
			if h := got.Header("To"); !strings.Contains(h, "jane@example.com") {
				t.Errorf("To header %q", h)
			}
			if h := got.Header("Subject"); h != "You are invited to Gatehouse" {
				t.Errorf("Subject header %q", h)
			}
			if !strings.Contains(got.Body(), link) {
				t.Errorf("body %q does not contain the link %q", got.Body(), link)
			}
			if got.TLS != tc.tls {
				t.Errorf("sent over TLS = %v, want %v", got.TLS, tc.tls)
			}
			if got.Auth != tc.opts.User {
				t.Errorf("authenticated as %q, want %q", got.Auth, tc.opts.User)
			}
		})
	}
}

// TestSendWrongPassword: a refused AUTH is an error that does not show the
// password.
func TestSendWrongPassword(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{TLS: true, User: "mailer", Password: "right"})
	s, err := mail.ParseURL(strings.Replace(srv.URL(), "right", "wrong-hunter2", 1), "gh@example.com")
	if err != nil {
		t.Fatal(err)
	}
	s.TLSConfig = srv.TLSConfig()
	err = (&mail.Mailer{SMTP: s}).Send(t.Context(), mail.Message{To: "a@example.com", Subject: "x", Body: "y"})
	if err == nil {
		t.Fatal("send with a wrong password succeeded")
	}
	if strings.Contains(err.Error(), "wrong-hunter2") {
		t.Fatalf("error shows the password: %v", err)
	}
}

// TestSendUntrustedCertificate: STARTTLS with a certificate the client
// does not trust fails rather than sending in the clear.
func TestSendUntrustedCertificate(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{TLS: true})
	s, err := mail.ParseURL(srv.URL(), "gh@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if err := (&mail.Mailer{SMTP: s}).Send(t.Context(), mail.Message{To: "a@example.com", Subject: "x", Body: "y"}); err == nil {
		t.Fatal("send to an untrusted certificate succeeded")
	}
	if n := len(srv.Messages()); n != 0 {
		t.Fatalf("%d messages arrived", n)
	}
}

// TestOutboxFallback: without SMTP the message goes to the log and the
// outbox, which keeps the newest Size messages.
func TestOutboxFallback(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "g.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.Date(2026, 12, 1, 4, 0, 0, 0, time.UTC)
	ob := &mail.Outbox{Store: st, IDs: arn.Generator{Rand: rand.Reader}, Size: 3, Now: func() time.Time {
		now = now.Add(time.Second)
		return now
	}}
	var log bytes.Buffer
	m := &mail.Mailer{Outbox: ob, Log: slog.New(slog.NewTextHandler(&log, nil))}
	if m.Configured() {
		t.Fatal("Configured without SMTP")
	}
	for i := range 5 {
		if err := m.Send(t.Context(), mail.Message{To: "a@example.com", Subject: fmt.Sprint("n", i), Body: "link http://x/?token=t"}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ob.List(t.Context(), 10)
	if err != nil {
		t.Fatal(err)
	}
	var subjects []string
	for _, m := range got {
		subjects = append(subjects, m.Subject)
	}
	if strings.Join(subjects, ",") != "n4,n3,n2" {
		t.Fatalf("outbox subjects %v, want n4,n3,n2", subjects)
	}
	if !strings.Contains(log.String(), "subject=n4") || !strings.Contains(log.String(), "token=t") {
		t.Fatalf("log does not show the message: %s", log.String())
	}
}
