package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/invite"
	"github.com/gatehouse-dev/gatehouse/internal/seed"
	"github.com/gatehouse-dev/gatehouse/internal/server"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

const applyUsage = `Usage: gatehouse apply -f world.yaml [--dry-run] [--prune] [store flags]

Reconciles the store with a world file (examples/demo-world.yaml documents
the format) and prints the plan, one line per change:

  + create user alice
  ~ update permission set Dev: session_duration PT1H -> PT4H
  - delete membership bob in Admins

--dry-run prints the plan and changes nothing. --prune also deletes the
users, groups, permission sets and assignments the file no longer has; a
prune that would leave no enabled administrator (AdministratorAccess on the
management account) is refused unless --force is given. New users without a
password are named at the end: invite them with gatehouse invite.
Like gatehouse automation, it works on the data folder or database of an
existing instance (-config, -data, -database-url, -master-key-file); on
SQLite, with the server stopped. New users without a password in the file
get GATEHOUSE_DEMO_PASSWORD when it is set, and no password otherwise.
gatehouse serve --seed FILE applies the same plan, without --prune, at
every start.

`

func applyCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("apply", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), applyUsage)
		printFlags(fs)
	}
	var file string
	var dryRun, prune, force bool
	fs.StringVar(&file, "f", "", "world `file` to apply")
	fs.BoolVar(&dryRun, "dry-run", false, "print the plan and change nothing")
	fs.BoolVar(&prune, "prune", false, "delete the users, groups, permission sets and assignments the file does not have")
	fs.BoolVar(&force, "force", false, "apply a --prune that leaves no enabled administrator")
	cfgArgs := serveFlags(fs, "config", "data", "database-url", "master-key-file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if file == "" {
		fs.Usage()
		return errors.New("apply needs -f FILE")
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	world, err := seed.Parse(data)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	cfg, err := config.Load(*cfgArgs, getenv, stderr)
	if err != nil {
		return err
	}
	_, rec, st, in, err := openAutomation(ctx, &cfg)
	if inUse, ok := errors.AsType[*server.DataDirInUseError](err); ok {
		return fmt.Errorf("the data folder %s is in use by %s: stop it and run gatehouse apply again, "+
			"or restart it with --seed %s (which applies the same plan, without --prune)", inUse.Dir, holder(inUse), file)
	}
	if err != nil {
		return err
	}
	defer st.Close()
	ctx = audit.WithActor(ctx, audit.Actor{Identity: audit.Identity{Type: "Root", PrincipalID: "gatehouse-cli", AccountID: in.ManagementAccountID},
		SourceIP: "gatehouse.local", UserAgent: "gatehouse/" + version + " apply"})
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	ids := arn.Generator{Rand: cfg.Rand}
	acc := &access.Service{Store: st, Audit: rec, IDs: ids, Now: cfg.Now, InstanceID: in.InstanceID}
	dir := &directory.Service{
		Store: st, Audit: rec, Access: acc, IDs: ids, Rand: cfg.Rand, Now: cfg.Now,
		IdentityStoreID: in.IdentityStoreID, RevocationTTL: access.RevocationLifetime(cfg.PortalSessionDuration),
	}
	l := &seed.Loader{Directory: dir, Access: acc, Instance: in, Password: getenv("GATEHOUSE_DEMO_PASSWORD")}
	plan, err := l.Plan(ctx, world, seed.Options{Prune: prune})
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	fmt.Fprint(stdout, plan)
	n := len(plan.Changes)
	lockout := ""
	if prune {
		before, after, err := adminsAfter(ctx, st, in.ManagementAccountID, plan)
		if err != nil {
			return err
		}
		if before > 0 && after == 0 {
			lockout = fmt.Sprintf("this plan deletes every enabled administrator (%s with AdministratorAccess on the management "+
				"account %s today, none after): nobody could sign in to manage Gatehouse. Add an administrator to %s, "+
				"or pass --force to apply it anyway", plural(before, "user"), in.ManagementAccountID, file)
		}
	}
	switch {
	case n == 0:
		fmt.Fprintf(stdout, "No changes: the store matches %s.\n", file)
		return nil
	case dryRun:
		if lockout != "" {
			fmt.Fprintf(stdout, "Warning: %s.\n", lockout)
		}
		fmt.Fprintf(stdout, "Dry run: %s planned, nothing changed.\n", plural(n, "change"))
		return nil
	case lockout != "" && !force:
		return errors.New(lockout)
	}
	res, err := l.Apply(ctx, plan)
	if err != nil {
		return fmt.Errorf("%s: %w (%s applied before it)", file, err, plural(res.Created+res.Updated+res.Deleted, "change"))
	}
	fmt.Fprintf(stdout, "Applied %s.\n", plural(n, "change"))
	if names := plan.NewUsersWithoutPassword(); len(names) > 0 {
		fmt.Fprintf(stdout, "\n%s without a password cannot sign in yet (%s); invite them:\n", plural(len(names), "new user"), strings.Join(names, ", "))
		// The command finds this instance as apply did. On SQLite,
		// invite reads the public URL the server last started with; a
		// PostgreSQL database does not record it.
		cmd := inviteCommand(&cfg)
		if cfg.PublicURL != "" {
			cmd += " --public-url " + shellQuote(cfg.PublicURL)
		}
		for _, name := range names {
			fmt.Fprintf(stdout, "    %s --user %s\n", cmd, shellQuote(name))
		}
		if cfg.DatabaseURL != "" && cfg.PublicURL == "" {
			fmt.Fprintf(stdout, "(add --public-url with the server's public URL, so that the links work)\n")
		}
	}
	return nil
}

// adminsAfter counts the enabled users who hold a permission set with the
// AdministratorAccess policy on the management account, directly or
// through a group, now and once the plan's deletions are applied.
func adminsAfter(ctx context.Context, st store.Store, mgmt string, plan *seed.Plan) (before, after int, err error) {
	gone := map[string]bool{}
	for _, c := range plan.Changes {
		if c.Op == seed.Delete && c.ID != "" {
			gone[c.Kind+" "+c.ID] = true
		}
	}
	as, err := st.ListAssignments(ctx, store.AssignmentFilter{AccountID: mgmt})
	if err != nil {
		return 0, 0, err
	}
	nowAdmins, laterAdmins := map[string]bool{}, map[string]bool{}
	add := func(userID string, stays bool) error {
		u, err := st.GetUser(ctx, userID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		if u.Disabled {
			return nil
		}
		nowAdmins[u.ID] = true
		if stays && !gone[seed.KindUser+" "+u.ID] {
			laterAdmins[u.ID] = true
		}
		return nil
	}
	for _, a := range as {
		ps, err := st.GetPermissionSet(ctx, a.PermissionSetID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		} else if err != nil {
			return 0, 0, err
		}
		if !slices.Contains(ps.ManagedPolicies, invite.AdministratorAccessPolicy) {
			continue
		}
		stays := !gone[seed.KindPermissionSet+" "+ps.ID] && !gone[seed.KindAssignment+" "+seed.AssignmentID(a)]
		if a.PrincipalType == store.PrincipalUser {
			if err := add(a.PrincipalID, stays); err != nil {
				return 0, 0, err
			}
			continue
		}
		stays = stays && !gone[seed.KindGroup+" "+a.PrincipalID]
		ms, err := st.ListMembershipsByGroup(ctx, a.PrincipalID, store.Page{Limit: 10000})
		if err != nil {
			return 0, 0, err
		}
		for _, m := range ms {
			if err := add(m.UserID, stays && !gone[seed.KindMembership+" "+m.ID]); err != nil {
				return 0, 0, err
			}
		}
	}
	return len(nowAdmins), len(laterAdmins), nil
}
