package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/idsource"
	"github.com/gatehouse-dev/gatehouse/internal/server"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// The invite command creates a user (with --admin, an administrator of
// the management account) and sends them an invitation, on the database
// directly as automation does: for automated setups and for a first admin
// on a headless host. On SQLite the server must be stopped (it holds the
// data folder); with PostgreSQL it may run. The invitation link is printed
// too, since the operator may have no mail server yet.

const inviteHelp = `Usage: gatehouse invite --user NAME --email ADDRESS [--admin] [flags]

Creates the user (or, when one of that name exists, sends a new invitation)
and mails them an activation link valid 7 days, through --smtp-url, or, with
no SMTP server, keeps the message in the outbox. The link is printed either
way. With --admin the user gets the AdministratorAccess permission set on the
management account.

On SQLite, run it with the server stopped; with PostgreSQL it may run.
`

func inviteCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("invite", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), inviteHelp, "\nFlags:\n")
		printFlags(fs)
	}
	var userName, email, given, family string
	var admin bool
	fs.StringVar(&userName, "user", "", "user `name` (required)")
	fs.StringVar(&email, "email", "", "the user's e-mail `address` (required for a new user)")
	fs.StringVar(&given, "given-name", "", "given `name` (default: the user name)")
	fs.StringVar(&family, "family-name", "", "family `name` (default: the user name)")
	fs.BoolVar(&admin, "admin", false, "give the user AdministratorAccess on the management account")
	cfgArgs := serveFlags(fs, "config", "data", "database-url", "master-key-file", "public-url", "listen", "smtp-url", "smtp-from")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if userName == "" {
		return errors.New("invite needs --user")
	}
	cfg, err := config.LoadCommand("invite", *cfgArgs, getenv, stderr)
	if err != nil {
		return err
	}
	cfg.Demo, cfg.Seed = false, ""
	publicURLFrom := "--public-url"
	if cfg.DatabaseURL == "" {
		// Run in the wrong folder, invite would create a new instance
		// nobody serves: it works only on the server's database.
		if ok, err := server.HasDatabase(cfg.DataDir); err != nil {
			return err
		} else if !ok {
			return fmt.Errorf("the data folder %s holds no Gatehouse database (%s): pass the server's data folder with --data "+
				"(as the server's banner prints it); to start a new instance there, run gatehouse serve or gatehouse migrate on it first", absPath(cfg.DataDir), server.DatabaseFileName)
		}
		if cfg.PublicURL == "" {
			if cfg.PublicURL, err = server.ReadPublicURL(cfg.DataDir); err != nil {
				return err
			}
			publicURLFrom = "the server's last start"
		}
	}
	if cfg.PublicURL == "" {
		publicURLFrom = "the default; pass the server's --public-url"
	}
	srv, err := server.New(ctx, cfg, newLogger(stderr, cfg.LogLevel))
	if inUse, ok := errors.AsType[*server.DataDirInUseError](err); ok {
		return fmt.Errorf("the data folder %s is in use by a running Gatehouse. While it runs, create the user with "+
			"aws identitystore create-user (which mails the invitation) with an admin profile, or stop the server and run this command again", inUse.Dir)
	}
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Fprintf(stdout, "Links use the public URL %s (from %s).\n", srv.BaseURL(), publicURLFrom)
	ctx = audit.WithActor(ctx, cliActor(srv.Instance.ManagementAccountID, "invite"))
	u, err := srv.Store.GetUserByName(ctx, userName)
	switch {
	case errors.Is(err, store.ErrNotFound):
		if email == "" {
			return errors.New("invite needs --email for a new user")
		}
		// identitystore wants a given and a family name; without them
		// both are the user name, and the display name is the user name
		// alone (not "ops ops").
		display := strings.TrimSpace(given + " " + family)
		if given == "" || family == "" {
			display = userName
		}
		if given == "" {
			given = userName
		}
		if family == "" {
			family = userName
		}
		u, err = srv.Directory.CreateUser(ctx, directory.CreateUserInput{
			UserName: userName, DisplayName: display,
			Name:   store.UserName{GivenName: given, FamilyName: family},
			Emails: []store.Email{{Value: email, Type: "work", Primary: true}},
		})
		if err != nil {
			return fmt.Errorf("create user %s: %w", userName, err)
		}
		fmt.Fprintf(stdout, "Created user %s (%s).\n", u.UserName, u.ID)
	case err != nil:
		return err
	case u.Disabled:
		other := ""
		if admin {
			other = ", or invite another administrator"
		}
		return fmt.Errorf("user %s (%s) is disabled, so an invitation could never sign in: enable the user with "+
			"gatehouse users enable --user-name %s (as another administrator, or from the admin console)%s",
			u.UserName, u.ID, u.UserName, other)
	case u.PasswordHash != "" && !admin:
		return fmt.Errorf("user %s (%s) is already active (has a password): send a password reset instead "+
			"(gatehouse users reset-password --profile ADMIN_PROFILE --user-name %s)", u.UserName, u.ID, u.UserName)
	case u.PasswordHash != "":
		// --admin on an active user: the grant below, and no invitation.
	default:
		again, err := srv.Invites.Invited(ctx, u.ID)
		if err != nil {
			return err
		}
		if again {
			fmt.Fprintf(stdout, "User %s exists (%s): sending a new invitation; the earlier link stops working.\n", u.UserName, u.ID)
		} else {
			fmt.Fprintf(stdout, "User %s exists (%s) and has no password yet: sending an invitation.\n", u.UserName, u.ID)
		}
	}
	if admin {
		if err := srv.Invites.MakeAdmin(ctx, u.ID); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s has AdministratorAccess on the management account %s.\n", u.UserName, srv.Instance.ManagementAccountID)
	}
	if u.PasswordHash != "" {
		fmt.Fprintf(stdout, "%s is already active (has a password): no invitation sent; to give them a new password, "+
			"use gatehouse users reset-password --profile ADMIN_PROFILE --user-name %s.\n", u.UserName, u.UserName)
		return nil
	}
	// An identity provider or LDAP directory keeping the passwords leaves
	// no Gatehouse password to choose: the user signs in through it.
	if err := srv.Sources.CheckCredentialAction(ctx, idsource.SendInvitation); err != nil {
		fmt.Fprintf(stdout, "No invitation sent: %v %s signs in through the identity source.\n", err, u.UserName)
		return nil
	}
	link, err := srv.Invites.Invite(ctx, u.ID)
	if link == "" {
		return fmt.Errorf("invite %s: %w", u.UserName, err)
	}
	switch {
	case err != nil:
		fmt.Fprintf(stdout, "The invitation could not be mailed (%v); give the user this link yourself.\n", err)
	case srv.Mail.Configured():
		fmt.Fprintf(stdout, "Invitation mailed.\n")
	default:
		fmt.Fprintf(stdout, "No SMTP server configured (--smtp-url): the invitation is in the outbox; give the user this link.\n")
	}
	fmt.Fprintf(stdout, "\nActivation link (valid 7 days, works once):\n\n    %s\n\n", link)
	return nil
}
