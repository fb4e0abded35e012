package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/server"
)

// The ldap-sync command syncs users and groups from the LDAP / Active
// Directory identity source now, on the database directly as invite does:
// the server syncs on its own every interval, this is for "now" (after a
// change in the directory, or to see what a sync does).

const ldapSyncHelp = `Usage: gatehouse ldap-sync [flags]

Syncs users and groups from the LDAP / Active Directory identity source now
(the server also syncs every sync interval on its own). LDAP must be the active
identity source. Users disabled in the directory, and users no longer in it,
are disabled at once: their sessions, tokens and role credentials end.

On SQLite, run it with the server stopped; with PostgreSQL it may run.
`

func ldapSyncCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("ldap-sync", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), ldapSyncHelp, "\nFlags:\n")
		printFlags(fs)
	}
	cfgArgs := serveFlags(fs, "config", "data", "database-url", "master-key-file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	cfg, err := loadDataConfig("ldap-sync", *cfgArgs, getenv, stderr, false)
	if err != nil {
		return err
	}
	srv, err := server.New(ctx, cfg, newLogger(stderr, cfg.LogLevel))
	if inUse, ok := errors.AsType[*server.DataDirInUseError](err); ok {
		return fmt.Errorf("the data folder %s is in use by a running Gatehouse, which syncs every sync interval on its own; "+
			"stop it to sync now with this command", inUse.Dir)
	}
	if err != nil {
		return err
	}
	defer srv.Close()
	ctx = audit.WithActor(ctx, cliActor(srv.Instance.ManagementAccountID, "ldap-sync"))
	res, err := srv.LDAP.Sync(ctx)
	if err != nil {
		return fmt.Errorf("ldap sync: %w", err)
	}
	fmt.Fprintf(stdout, "Synced %d users from the directory.\n", res.Users)
	list := func(title string, names []string) {
		if len(names) > 0 {
			fmt.Fprintf(stdout, "%s (%d):\n", title, len(names))
			for _, n := range names {
				fmt.Fprintf(stdout, "  %s\n", n)
			}
		}
	}
	list("Disabled in the directory", res.Disabled)
	list("Disabled because no longer in the directory", res.Retired)
	list("Not provisioned", res.Failed)
	list("Skipped (no user name or unique ID)", res.Skipped)
	return nil
}
