package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/idsource"
	"github.com/gatehouse-dev/gatehouse/internal/server"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// TestIdentitySourceCommand runs `gatehouse identity-source` on a data
// folder, with a kind standing in for the real ones (registered as the
// server's wiring would): set stores settings over those stored and the
// secret from a file or stdin, never printing it; show lists the kind,
// its defaults, "stored" for the secret and the info values; bad settings
// fail and store nothing; switch --dry-run prints the plan and changes
// nothing; switch switches, audited; switch directory is the way back.
func TestIdentitySourceCommand(t *testing.T) {
	dir := t.TempDir()
	if err := run(t.Context(), []string{"migrate", "--data", dir}, io.Discard, io.Discard, env(nil)); err != nil {
		t.Fatal(err)
	}
	var stdin bytes.Buffer
	cmd := identitySource{stdin: &stdin, open: func(ctx context.Context, cfg config.Config, log *slog.Logger) (*server.Server, error) {
		srv, err := server.New(ctx, cfg, log)
		if err == nil {
			srv.Sources.Register(&idsource.Kind{
				Name: idsource.OIDC, Title: "OpenID Connect provider",
				Fields: []idsource.Field{{Name: "issuer", Required: true}, {Name: "clientId", Required: true},
					{Name: "preset", Options: []string{"okta", "google"}, Default: "okta"}, {Name: "metadataXML"}},
				Secret: &idsource.Field{Name: "clientSecret", Required: true},
				Info: func() []idsource.Info {
					return []idsource.Info{{Label: "Redirect URI", Value: cfg.PublicURL + "/oidc/callback"}}
				},
			})
		}
		return srv, err
	}}
	gh := func(args ...string) (string, error) {
		t.Helper()
		var out, errOut bytes.Buffer
		err := cmd.run(t.Context(), append(args, "--data", dir, "--public-url", "https://gatehouse.example"), &out, &errOut, env(nil))
		return out.String() + errOut.String(), err
	}
	const secret = "cli-client-secret-value-42"
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var outputs []string
	check := func(out string, err error, wantErr bool, want ...string) {
		t.Helper()
		outputs = append(outputs, out)
		if (err != nil) != wantErr {
			t.Fatalf("err = %v (wantErr %t)\n%s", err, wantErr, out)
		}
		for _, w := range want {
			text := out
			if err != nil {
				text += err.Error()
			}
			if !strings.Contains(text, w) {
				t.Errorf("output lacks %q:\n%s%v", w, out, err)
			}
		}
	}

	out, err := gh("show")
	check(out, err, false, "Active identity source: directory", "oidc: OpenID Connect provider (not configured)", "preset", "okta (default)",
		"clientSecret (secret)  not set", "Redirect URI: https://gatehouse.example/oidc/callback")
	// Missing required settings, and the required secret: nothing stored.
	out, err = gh("set", "oidc", "--set", "issuer=https://idp.example")
	check(out, err, true, "clientId is required")
	out, err = gh("set", "oidc", "--set", "issuer=https://idp.example", "--set", "clientId=gh")
	check(out, err, true, "clientSecret is required")
	out, err = gh("switch", "oidc")
	check(out, err, true, "Configure the oidc identity source before switching to it")

	out, err = gh("set", "oidc", "--set", "issuer=https://idp.example", "--set", "clientId=gh", "--secret-file", secretFile)
	check(out, err, false, "Stored the oidc settings.", "still directory")
	// --set goes over what is stored; the secret stays when not given.
	out, err = gh("set", "oidc", "--set", "preset=google")
	check(out, err, false, "Stored the oidc settings.")
	out, err = gh("show")
	check(out, err, false, "(configured)", "https://idp.example", "google", "clientSecret (secret)  stored (not shown)")

	// The secret from stdin replaces the file's.
	stdin.WriteString("from-stdin-secret-7\r\n")
	out, err = gh("set", "oidc", "--secret-stdin")
	check(out, err, false, "Stored")

	out, err = gh("switch", "oidc", "--dry-run")
	check(out, err, false, "WARNING: Only people the identity provider signs in with a matching user name or external ID keep their user",
		"the break glass is `gatehouse identity-source switch directory`",
		"Switch the identity source from directory to oidc", "Users in the identity store:      0",
		"People sign in at the identity provider", "Dry run: nothing changed.")
	// A long one-line setting (a metadata document) is shown truncated.
	long := "<md:EntityDescriptor>" + strings.Repeat("x", 5000) + "</md:EntityDescriptor>"
	out, err = gh("set", "oidc", "--set", "metadataXML="+long)
	check(out, err, false, "Stored")
	out, err = gh("show")
	check(out, err, false, "<md:EntityDescriptor>xxx", "… (5043 bytes)")
	if strings.Contains(out, long[:200]) {
		t.Errorf("show printed the whole long setting:\n%s", out)
	}
	out, err = gh("switch", "oidc")
	check(out, err, false, "Switched: oidc is the active identity source.")
	out, err = gh("switch", "oidc")
	check(out, err, true, "already active")
	out, err = gh("show")
	check(out, err, false, "Active identity source: oidc", "(configured, active)")
	// With the identity provider keeping passwords, invite creates the
	// user and sends no invitation.
	var inv bytes.Buffer
	if err := run(t.Context(), []string{"invite", "--data", dir, "--public-url", "https://gatehouse.example", "--user", "ops", "--email", "ops@example.com"},
		&inv, io.Discard, env(nil)); err != nil {
		t.Fatalf("invite under oidc: %v\n%s", err, inv.String())
	}
	if got := inv.String(); !strings.Contains(got, "Created user ops") ||
		!strings.Contains(got, "No invitation sent: Passwords are managed by the organization's OpenID Connect identity provider") || strings.Contains(got, "/activate?token=") {
		t.Errorf("invite under oidc said:\n%s", got)
	}
	// The break-glass way back.
	out, err = gh("switch", "directory")
	check(out, err, false, "from oidc to directory", "Switched: directory is the active identity source.")

	// What was stored, and what was audited.
	cfg := config.Default()
	cfg.DataDir = dir
	srv, err := server.New(t.Context(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if a, _ := srv.Sources.ActiveKind(t.Context()); a != idsource.Directory {
		t.Errorf("active = %s", a)
	}
	if got, err := srv.Sources.Secret(t.Context(), "oidc"); err != nil || got != "from-stdin-secret-7" {
		t.Errorf("stored secret = %q, %v", got, err)
	}
	rec, err := srv.Store.GetIdentitySource(t.Context(), "oidc")
	if err != nil || rec.Settings["preset"] != "google" || rec.Settings["clientId"] != "gh" {
		t.Fatalf("stored settings = %+v, %v", rec, err)
	}
	if ms, err := srv.Outbox.List(t.Context(), 10); err != nil || len(ms) != 0 {
		t.Errorf("outbox under oidc: %d messages, %v", len(ms), err)
	}
	evs, err := srv.Store.ListEvents(t.Context(), store.EventFilter{Name: "SwitchIdentitySource"})
	if err != nil || len(evs) != 2 {
		t.Fatalf("SwitchIdentitySource events: %d, %v", len(evs), err)
	}
	all, err := srv.Store.ListEvents(t.Context(), store.EventFilter{Page: store.Page{Limit: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range all {
		for _, s := range []string{secret, "from-stdin-secret-7"} {
			if strings.Contains(string(e.Record), s) {
				t.Errorf("event %s holds the secret", e.Name)
			}
		}
	}
	for _, o := range outputs {
		if strings.Contains(o, secret) || strings.Contains(o, "from-stdin-secret-7") {
			t.Errorf("output holds the secret:\n%s", o)
		}
	}
}

// TestIdentitySourceCommandErrors: usage errors are clear and open
// nothing.
func TestIdentitySourceCommandErrors(t *testing.T) {
	opened := false
	cmd := identitySource{stdin: strings.NewReader(""), open: func(context.Context, config.Config, *slog.Logger) (*server.Server, error) {
		opened = true
		return nil, errors.New("not to be opened")
	}}
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, `unknown verb "frobnicate"`},
		{[]string{"switch"}, "name the kind"},
		{[]string{"set", "oidc", "--set", "novalue"}, "want name=value"},
		{[]string{"set", "oidc", "--secret-stdin", "--clear-secret"}, "at most one of"},
		{[]string{"set", "oidc", "--secret-stdin"}, "no secret on standard input"},
		{[]string{"show", "--data", dir}, "holds no Gatehouse database"},
	} {
		err := cmd.run(t.Context(), tc.args, io.Discard, io.Discard, env(nil))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("identity-source %v = %v, want an error saying %q", tc.args, err, tc.want)
		}
	}
	if opened {
		t.Error("a usage error opened the database")
	}
}
