package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/gatehouse-dev/gatehouse/internal/clientconfig"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/invite"
	"github.com/gatehouse-dev/gatehouse/internal/server"
)

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	cfg, err := config.Load(args, getenv, stderr)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg.LogLevel)
	reserveProc(cfg.SignInConcurrency, getenv)
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if cfg.PublicURL == "" {
		// With port 0 the real port is only known now.
		cfg.Listen = ln.Addr().String()
	}
	var debugLn net.Listener
	if cfg.DebugAddr != "" {
		// config.Validate has refused any but a loopback address.
		if debugLn, err = net.Listen("tcp", cfg.DebugAddr); err != nil {
			ln.Close()
			return fmt.Errorf("listen on --debug-addr: %w", err)
		}
		defer debugLn.Close()
		cfg.DebugAddr = debugLn.Addr().String()
	}
	srv, err := server.New(ctx, cfg, log)
	if err != nil {
		ln.Close()
		return err
	}
	defer srv.Close()
	if cfg.DatabaseURL == "" {
		if err := server.WritePublicURL(cfg.DataDir, srv.BaseURL()); err != nil {
			return err
		}
	}
	setup, err := setupLink(ctx, srv)
	if err != nil {
		return err
	}
	// The demo's member accounts are linked once the world is seeded.
	links, err := srv.LinkDemoAccounts(ctx)
	if err != nil {
		return err
	}
	if err := printBanner(ctx, stdout, srv, setup); err != nil {
		return err
	}
	printDemoLinks(stdout, srv, links)

	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    server.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		var err error
		if cfg.TLSCert != "" {
			err = hs.ServeTLS(ln, cfg.TLSCert, cfg.TLSKey)
		} else {
			err = hs.Serve(ln)
		}
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	})
	var ds *http.Server
	if debugLn != nil {
		ds = &http.Server{Handler: debugHandler(), ReadHeaderTimeout: 10 * time.Second,
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
		g.Go(func() error {
			if err := ds.Serve(debugLn); !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("debug listener: %w", err)
			}
			return nil
		})
	}
	g.Go(func() error { return srv.RunBackground(gctx) })
	g.Go(func() error {
		<-gctx.Done()
		log.Info("shutting down")
		sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if ds != nil {
			// A CPU profile or trace in progress is cut short.
			ds.Close()
		}
		return hs.Shutdown(sctx)
	})
	return g.Wait()
}

// printBanner prints what an operator and the first users need: the
// addresses, the instance, the AWS endpoints linked accounts may use (with
// a warning for each stored link whose endpoint is off that list), the
// setup link, and the client configuration. Its error is the store's.
func printBanner(ctx context.Context, w io.Writer, srv *server.Server, setup string) error {
	refused, err := srv.AWSAccounts.RefusedLinks(ctx)
	if err != nil {
		return err
	}
	in := srv.Instance
	base := srv.BaseURL()
	sess := clientconfig.Session{Name: "gatehouse", StartURL: in.StartURL, Region: in.Region, BaseURL: base}
	fmt.Fprintf(w, "Gatehouse is running (%s store).\n\n", srv.Store.Backend())
	fmt.Fprintf(w, "  Access portal:  %s/start\n", base)
	fmt.Fprintf(w, "  Start URL:      %s   (an identifier for clients; never fetched)\n", in.StartURL)
	fmt.Fprintf(w, "  Region:         %s\n", in.Region)
	fmt.Fprintf(w, "  Instance:       arn:aws:sso:::instance/%s   identity store %s\n", in.InstanceID, in.IdentityStoreID)
	fmt.Fprintf(w, "  Management account: %s\n", in.ManagementAccountID)
	if allowed := srv.AWSAccounts.Endpoints.Endpoints(); len(allowed) == 0 {
		fmt.Fprintf(w, "  AWS endpoints:  real AWS only (link accounts to others once listed with --aws-endpoint-allow)\n")
	} else {
		from := "--aws-endpoint-allow"
		if srv.Config.Demo && srv.Config.AWSEndpoint != "" {
			from = "--aws-endpoint-allow, and --aws-endpoint with --demo"
		}
		fmt.Fprintf(w, "  AWS endpoints:  real AWS and %s (%s)\n", strings.Join(allowed, ", "), from)
	}
	if srv.Config.DebugAddr != "" {
		fmt.Fprintf(w, "  Profiles:       http://%s/debug/pprof/   (--debug-addr, loopback only)\n", srv.Config.DebugAddr)
	}
	for _, l := range refused {
		fmt.Fprintf(w, "  WARNING: account %s is linked to %s, which is not on --aws-endpoint-allow: it gets no role credentials "+
			"and no provisioning until the endpoint is listed or the account linked again\n", l.AccountID, l.Endpoint)
	}
	printSetupLink(w, setup, inviteHint(srv))
	if srv.Config.Demo || srv.Config.Seed != "" {
		r := srv.Seeded
		// Updates and removals (a changed session duration, a member
		// taken out of a group) are named only when there are some.
		var more string
		if r.Updated > 0 {
			more += plural(r.Updated, "update") + ", "
		}
		if r.Deleted > 0 {
			more += plural(r.Deleted, "removal") + ", "
		}
		fmt.Fprintf(w, "\nWorld loaded (%s: %s, %s%s set).", plural(r.Changes(), "change"), plural(r.Created, "new record"), more, plural(r.Passwords, "password"))
		// The password is shown only when someone got it at this start.
		switch n := r.DefaultPasswords; {
		case n == 0:
			fmt.Fprintln(w)
		case srv.Generated:
			fmt.Fprintf(w, " %s without a password got this one: %s\n", plural(n, "user"), srv.SeedPassword)
			fmt.Fprintln(w, "(set GATEHOUSE_DEMO_PASSWORD to choose it)")
		default:
			fmt.Fprintf(w, " %s without a password got GATEHOUSE_DEMO_PASSWORD.\n", plural(n, "user"))
		}
	}
	fmt.Fprintf(w, "\nAdd to ~/.aws/config (AWS CLI v2.13 or newer, boto3, the AWS SDKs),\nand put \"services = %s\" in each profile that uses it:\n\n", sess.Name)
	fmt.Fprint(w, indent(sess.SessionSection()+"\n"+sess.ServicesSection()))
	fmt.Fprintf(w, "\nor set these environment variables:\n\n")
	fmt.Fprint(w, indent(sess.EnvVars()))
	fmt.Fprintf(w, "\nThen: aws configure sso   (or, on your own machine, write every profile with: gatehouse aws-config --url %s)\n", base)
	fmt.Fprintf(w, "To approve the sign-in on another device (SSH, containers), add --no-browser on AWS CLI 2.9 to 2.21,\n"+
		"or --use-device-code on AWS CLI 2.22 and newer (whose default is a browser sign-in on this machine).\n")
	fmt.Fprintf(w, "AWS CLI older than 2.13 (e.g. Debian's 2.9): gatehouse aws-config --models ~/.aws/models --url %s\n\n", base)
	return nil
}

// printDemoLinks says which accounts --aws-endpoint linked, and how.
func printDemoLinks(w io.Writer, srv *server.Server, links []server.DemoLink) {
	if srv.Config.AWSEndpoint == "" {
		return
	}
	fmt.Fprintf(w, "Linked accounts (AWS stand-in at %s; the management account %s stays Gatehouse's):\n", srv.Config.AWSEndpoint, srv.Instance.ManagementAccountID)
	for _, d := range links {
		status := d.Link.Status
		if d.Link.StatusReason != "" {
			status += " (" + d.Link.StatusReason + ")"
		}
		fmt.Fprintf(w, "  %-10s %s  through %s  %s\n", d.Name, d.Link.AccountID, d.Link.RoleARN, status)
	}
	fmt.Fprintf(w, "Role credentials for them come from the stand-in's STS, e.g.: aws s3 ls --profile dev --endpoint-url %s\n\n", srv.Config.AWSEndpoint)
}

// setupLink returns a new one-time link that creates the first
// administrator, or "" when the instance has one or runs the demo world
// (whose admin signs in with the demo password).
func setupLink(ctx context.Context, srv *server.Server) (string, error) {
	if srv.Config.Demo {
		return "", nil
	}
	admin, err := srv.Invites.HasAdmin(ctx)
	if err != nil || admin {
		return "", err
	}
	return srv.Invites.SetupLink(ctx)
}

// printSetupLink prints the first-admin setup link, if any, and the
// invite command that does the same from the shell.
func printSetupLink(w io.Writer, link, hint string) {
	if link == "" {
		return
	}
	fmt.Fprintf(w, "\nNo administrator yet. Create the first one with this one-time link (valid %s):\n\n    %s\n\n", plural(int(invite.SetupTTL/time.Hour), "hour"), link)
	fmt.Fprintf(w, "A new link is printed at each start until an administrator who can sign in exists. On a headless\n"+
		"host, stop the server and run this to do the same from the shell:\n\n    %s\n\n", hint)
}

// inviteHint is the gatehouse invite command for this server: its data
// folder (or database) and public URL, so that the command finds this
// instance and its links work.
func inviteHint(srv *server.Server) string {
	return inviteCommand(&srv.Config) + fmt.Sprintf(" --public-url %s --user NAME --email ADDRESS --admin", shellQuote(srv.BaseURL()))
}

// inviteCommand is "gatehouse invite" with the flags that find the
// instance cfg names: its data folder (or database) and master key file.
func inviteCommand(cfg *config.Config) string {
	var b strings.Builder
	b.WriteString("gatehouse invite")
	if cfg.DatabaseURL != "" {
		b.WriteString(` --database-url "$GATEHOUSE_DATABASE_URL"`)
	} else {
		fmt.Fprintf(&b, " --data %s", shellQuote(absPath(cfg.DataDir)))
	}
	if cfg.MasterKeyFile != "" {
		fmt.Fprintf(&b, " --master-key-file %s", shellQuote(absPath(cfg.MasterKeyFile)))
	}
	return b.String()
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// shellQuote quotes s for a POSIX shell when it holds anything but plain
// path and URL characters.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-:@+=,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// plural is "1 user" or "n users".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func indent(s string) string {
	lines := strings.SplitAfter(s, "\n")
	var b strings.Builder
	for _, l := range lines {
		if strings.TrimSpace(l) != "" {
			b.WriteString("    ")
		}
		b.WriteString(l)
	}
	return b.String()
}

func migrate(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	cfg, err := config.LoadCommand("migrate", args, getenv, stderr)
	if err != nil {
		return err
	}
	st, err := server.OpenStore(ctx, &cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Fprintf(stdout, "database (%s) is up to date\n", st.Backend())
	return nil
}
