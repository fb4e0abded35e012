package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/idsource"
	"github.com/gatehouse-dev/gatehouse/internal/server"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// The identity-source command shows, configures and switches the identity
// source on the database directly, as invite does: it is the way back in
// when a misconfigured identity provider keeps every administrator out of
// the console (`gatehouse identity-source switch directory`). On SQLite the
// server must be stopped (it holds the data folder); with PostgreSQL it may
// run. The kinds and their settings are those the server registers
// (idsource.Kind.Fields), so the command knows every kind the server does.

const identitySourceHelp = `Usage: gatehouse identity-source <verb> [flags]

Shows, configures and switches the identity source (where people sign in:
the built-in directory, a SAML 2.0 or OpenID Connect identity provider, or
LDAP / Active Directory), on the server's database directly. On SQLite run
it with the server stopped; with PostgreSQL it may run. The admin console's
Settings → Identity source page and the Gatehouse admin API do the same on a
running server.

Verbs:
  show                       the active source and every kind's settings
                             (secrets are never shown: only whether one is stored)
  set KIND --set name=value ...
                             store KIND's settings: the --set values over those
                             stored (--set name= clears one); the secret from
                             --secret-file F or --secret-stdin, --clear-secret
                             removes it. Does not switch.
  switch KIND [--dry-run]    print what switching to KIND changes (users,
                             passwords and MFA devices that stop being used, the
                             kind's preview), then switch unless --dry-run

Break glass: when the identity provider is misconfigured and nobody can sign
in, 'gatehouse identity-source switch directory' makes the built-in directory
active again: administrators sign in with their Gatehouse passwords and MFA
and fix the provider's settings in the console.
`

// identitySource runs the identity-source command; open builds the server
// (its kinds registered) without serving, stdin is read by --secret-stdin.
type identitySource struct {
	open  func(ctx context.Context, cfg config.Config, log *slog.Logger) (*server.Server, error)
	stdin io.Reader
}

func identitySourceCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	return identitySource{open: server.New, stdin: os.Stdin}.run(ctx, args, stdout, stderr, getenv)
}

// settingFlags collects repeated --set name=value flags.
type settingFlags map[string]string

func (s settingFlags) String() string { return fmt.Sprint(map[string]string(s)) }

func (s settingFlags) Set(v string) error {
	name, value, ok := strings.Cut(v, "=")
	if !ok || strings.TrimSpace(name) == "" {
		return fmt.Errorf("want name=value, got %q", v)
	}
	s[strings.TrimSpace(name)] = value
	return nil
}

func (c identitySource) run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	verb, err := commandVerb("identity-source", identitySourceHelp, args, stderr, "show", "set", "switch")
	if err != nil {
		return err
	}
	fs := verbFlags("identity-source", verb, identitySourceHelp, stderr)
	settings := settingFlags{}
	var secretFile string
	var secretStdin, clearSecret, dryRun bool
	if verb == "set" {
		fs.Var(settings, "set", "a setting as `name=value` (repeatable)")
		fs.StringVar(&secretFile, "secret-file", "", "read the kind's secret from `file` (one trailing newline dropped)")
		fs.BoolVar(&secretStdin, "secret-stdin", false, "read the kind's secret from standard input")
		fs.BoolVar(&clearSecret, "clear-secret", false, "remove the stored secret")
	}
	if verb == "switch" {
		fs.BoolVar(&dryRun, "dry-run", false, "print the plan only; change nothing")
	}
	cfgArgs := serveFlags(fs, "config", "data", "database-url", "master-key-file", "public-url")
	// The kind comes first (set oidc --set …); flags may follow it.
	rest := args[1:]
	var kind string
	if verb != "show" && len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		kind, rest = rest[0], rest[1:]
	}
	if err := fs.Parse(rest); err != nil {
		return err
	}
	if kind == "" && verb != "show" && fs.NArg() > 0 {
		kind = fs.Arg(0)
		rest = fs.Args()[1:]
		if err := fs.Parse(rest); err != nil {
			return err
		}
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("identity-source %s: unexpected arguments %q", verb, fs.Args())
	}
	if verb != "show" && kind == "" {
		return fmt.Errorf("identity-source %s: name the kind (directory, saml, oidc or ldap)", verb)
	}
	n := 0
	for _, b := range []bool{secretFile != "", secretStdin, clearSecret} {
		if b {
			n++
		}
	}
	if n > 1 {
		return fmt.Errorf("identity-source set: give at most one of --secret-file, --secret-stdin and --clear-secret")
	}
	var secret *string
	switch {
	case secretFile != "":
		b, err := os.ReadFile(secretFile)
		if err != nil {
			return fmt.Errorf("read the secret: %w", err)
		}
		v := trimNewline(b)
		if v == "" {
			return fmt.Errorf("the secret file %s is empty (use --clear-secret to remove the secret)", secretFile)
		}
		secret = &v
	case secretStdin:
		b, err := io.ReadAll(io.LimitReader(c.stdin, 64<<10))
		if err != nil {
			return fmt.Errorf("read the secret: %w", err)
		}
		v := trimNewline(b)
		if v == "" {
			return errors.New("no secret on standard input (use --clear-secret to remove the secret)")
		}
		secret = &v
	case clearSecret:
		v := ""
		secret = &v
	}

	// The values to paste into the identity provider name the server's
	// public URL.
	cfg, err := loadDataConfig("identity-source", *cfgArgs, getenv, stderr, true)
	if err != nil {
		return err
	}
	srv, err := c.open(ctx, cfg, newLogger(stderr, cfg.LogLevel))
	if inUse, ok := errors.AsType[*server.DataDirInUseError](err); ok {
		return fmt.Errorf("the data folder %s is in use by %s. Stop it and run this command again, or, while it runs, use the admin console "+
			"(Settings → Identity source) or the Gatehouse admin API (GatehouseAdmin_20261201.SwitchIdentitySource)", inUse.Dir, holder(inUse))
	}
	if err != nil {
		return err
	}
	defer srv.Close()
	ctx = audit.WithActor(ctx, cliActor(srv.Instance.ManagementAccountID, "identity-source"))
	src := srv.Sources
	switch verb {
	case "show":
		return showSources(ctx, stdout, src)
	case "set":
		if kind == idsource.Directory {
			return errors.New("the built-in directory has no settings (its MFA policy is an instance setting in the console)")
		}
		merged := map[string]string{}
		if rec, err := src.Store.GetIdentitySource(ctx, kind); err == nil {
			for k, v := range rec.Settings {
				merged[k] = v
			}
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		for k, v := range settings {
			merged[k] = v
		}
		if err := src.Configure(ctx, kind, merged, secret); err != nil {
			return fmt.Errorf("identity-source set %s: %w", kind, err)
		}
		fmt.Fprintf(stdout, "Stored the %s settings.", kind)
		if a, _ := src.ActiveKind(ctx); a != kind {
			fmt.Fprintf(stdout, " The active source is still %s: switch with gatehouse identity-source switch %s.", a, kind)
		}
		fmt.Fprintln(stdout)
		return nil
	default:
		var p *idsource.Plan
		if dryRun {
			p, err = src.PlanSwitch(ctx, kind)
		} else {
			p, err = src.Switch(ctx, kind)
		}
		if err != nil {
			return fmt.Errorf("identity-source switch %s: %w", kind, err)
		}
		writePlan(stdout, p)
		if dryRun {
			fmt.Fprintln(stdout, "\nDry run: nothing changed.")
		} else {
			fmt.Fprintf(stdout, "\nSwitched: %s is the active identity source.\n", p.To)
		}
		return nil
	}
}

// trimNewline drops one trailing newline (LF or CRLF), as echo and
// editors leave it.
func trimNewline(b []byte) string {
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	return string(b)
}

// showSources prints the active kind and every registered kind's
// settings; a secret only as "stored" or "not set".
// maxShownSetting bounds a one-line setting value show prints (bytes).
const maxShownSetting = 100

// truncateUTF8 returns v's first n bytes or fewer, not cutting a rune.
func truncateUTF8(v string, n int) string {
	for n > 0 && n < len(v) && !utf8.RuneStart(v[n]) {
		n--
	}
	return v[:n]
}

func showSources(ctx context.Context, w io.Writer, src *idsource.Service) error {
	active, err := src.ActiveKind(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Active identity source: %s\n", active)
	if active == idsource.Directory {
		fmt.Fprintln(w, "  (the built-in directory: Gatehouse passwords and MFA)")
	}
	for _, k := range src.Kinds() {
		state := "not configured"
		settings := map[string]string{}
		hasSecret := false
		if st, has, err := src.Settings(ctx, k.Name); err == nil {
			state, settings, hasSecret = "configured", st, has
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if k.Name == active {
			state += ", active"
		}
		fmt.Fprintf(w, "\n%s: %s (%s)\n", k.Name, k.Title, state)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, f := range k.Fields {
			v := settings[f.Name]
			switch {
			case v == "" && f.Default != "":
				v = f.Default + " (default)"
			case v == "":
				v = "-"
			case strings.Contains(v, "\n"):
				v = fmt.Sprintf("(%d lines)", strings.Count(strings.TrimRight(v, "\n"), "\n")+1)
			case len(v) > maxShownSetting:
				// A metadata document fetched as one line: its start.
				v = fmt.Sprintf("%s… (%d bytes)", truncateUTF8(v, maxShownSetting), len(v))
			}
			req := ""
			if f.Required {
				req = " *"
			}
			fmt.Fprintf(tw, "  %s%s\t%s\n", f.Name, req, v)
		}
		if k.Secret != nil {
			v := "not set"
			if hasSecret {
				v = "stored (not shown)"
			}
			fmt.Fprintf(tw, "  %s (secret)\t%s\n", k.Secret.Name, v)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if k.Info != nil {
			for _, i := range k.Info() {
				fmt.Fprintf(w, "  %s: %s\n", i.Label, i.Value)
			}
		}
	}
	return nil
}

// writePlan prints a switch's plan.
func writePlan(w io.Writer, p *idsource.Plan) {
	for _, x := range p.Warnings {
		fmt.Fprintf(w, "WARNING: %s\n", x)
	}
	if len(p.Warnings) > 0 {
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "Switch the identity source from %s to %s:\n", p.From, p.To)
	fmt.Fprintf(w, "  Users in the identity store:      %d\n", p.Users)
	fmt.Fprintf(w, "  Gatehouse passwords not used:     %d\n", p.Passwords)
	fmt.Fprintf(w, "  MFA devices not used:             %d\n", p.MFADevices)
	if pv := p.Preview; pv != nil {
		fmt.Fprintf(w, "  Preview: %d matched, %d new, %d unmatched\n", len(pv.Matched), len(pv.New), len(pv.Unmatched))
		for _, l := range []struct {
			name  string
			names []string
		}{{"matched", pv.Matched}, {"new", pv.New}, {"unmatched", pv.Unmatched}} {
			if len(l.names) > 0 {
				ns := append([]string(nil), l.names...)
				sort.Strings(ns)
				fmt.Fprintf(w, "    %s: %s\n", l.name, strings.Join(ns, ", "))
			}
		}
	}
	for _, n := range p.Notes {
		fmt.Fprintf(w, "  - %s\n", n)
	}
}
