package config

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
)

func TestSMTP(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		wantHost string // "" means no SMTP
		wantPort int
		implicit bool
		err      string
	}{
		{name: "none"},
		{name: "flags", args: []string{"-smtp-url", "smtp://u:hunter2@mail.example.com", "-smtp-from", "gh@example.com"},
			wantHost: "mail.example.com", wantPort: 587},
		{name: "env", env: map[string]string{"GATEHOUSE_SMTP_URL": "smtps://u:hunter2@mail.example.com:2465", "GATEHOUSE_SMTP_FROM": "gh@example.com"},
			wantHost: "mail.example.com", wantPort: 2465, implicit: true},
		{name: "flag over env", args: []string{"-smtp-url", "smtp://h2"},
			env:      map[string]string{"GATEHOUSE_SMTP_URL": "smtp://h1", "GATEHOUSE_SMTP_FROM": "gh@example.com"},
			wantHost: "h2", wantPort: 587},
		{name: "bad scheme", args: []string{"-smtp-url", "https://u:hunter2@mail.example.com", "-smtp-from", "gh@example.com"}, err: "smtp:// (STARTTLS when offered) or smtps://"},
		{name: "no from", args: []string{"-smtp-url", "smtp://u:hunter2@mail.example.com"}, err: "smtp-from"},
		{name: "from without url", args: []string{"-smtp-from", "gh@example.com"}, err: "smtp-url"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(tc.args, func(k string) string { return tc.env[k] }, io.Discard)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Load error = %v, want one mentioning %q", err, tc.err)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Fatalf("error shows the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			s, err := c.SMTP()
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantHost == "" {
				if s != nil {
					t.Fatalf("SMTP() = %+v, want none", s)
				}
				return
			}
			if s.Host != tc.wantHost || s.Port != tc.wantPort || s.Implicit != tc.implicit {
				t.Fatalf("SMTP() = %+v", s)
			}
			var buf bytes.Buffer
			slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "smtp_url", c.SMTPURL)
			if out := buf.String() + fmt.Sprintf("%v", c.SMTPURL); strings.Contains(out, "hunter2") {
				t.Fatalf("password shown: %s", out)
			}
		})
	}
}
