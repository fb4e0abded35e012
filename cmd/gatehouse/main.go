// Command gatehouse is a self-hosted, wire-compatible AWS IAM Identity
// Center. `gatehouse serve` runs the server; see `gatehouse help`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gatehouse:", err)
		os.Exit(1)
	}
}

const usage = `Usage: gatehouse <command> [flags]

Commands:
  serve       run the server (gatehouse serve --demo for a demo world)
  migrate     create or upgrade the database, then exit
  aws-config  sign in and write your ~/.aws/config (run it where you use the AWS CLI)
  automation  manage automation users, access keys and OIDC providers on the database
  users       disable, enable, end sessions, reset password or MFA of a user, remotely
              with your AWS profile (gatehouse users -h)
  scim-tokens create, list or delete the bearer tokens of automatic provisioning (SCIM),
              remotely with your AWS profile (gatehouse scim-tokens -h)
  apply       reconcile the database with a world file (-f world.yaml [--dry-run] [--prune])
  invite      create a user (--admin: an administrator) and send an invitation
  identity-source
              show, configure or switch the identity source on the database
              (switch directory: the way back in when an IdP is misconfigured)
  accounts    link accounts to real AWS accounts (list, link, unlink) and print
              the least-privilege policy of the linking principal (link-policy)
  ldap-sync   sync users and groups from the LDAP / Active Directory source now
  saml-idp    show or rotate the signing key of the SAML identity provider that
              linked AWS accounts trust (rotate | show), on the database
  version     print the version (also --version, -v)

Run 'gatehouse <command> -h' for a command's flags.
`

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// run runs the command args names. Asking a command for help (-h, -help,
// --help) prints its flags and is not an error, so the exit status is 0.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if err := dispatch(ctx, args, stdout, stderr, getenv); err != nil && !errors.Is(err, flag.ErrHelp) {
		return err
	}
	return nil
}

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("no command given")
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stdout, stderr, getenv)
	case "migrate":
		return migrate(ctx, args[1:], stdout, stderr, getenv)
	case "aws-config":
		return awsConfig(ctx, args[1:], stdout, stderr, getenv)
	case "automation":
		return automationCmd(ctx, args[1:], stdout, stderr, getenv)
	case "users":
		return usersCmd(ctx, args[1:], stdout, stderr, getenv)
	case "scim-tokens":
		return scimTokensCmd(ctx, args[1:], stdout, stderr, getenv)
	case "apply":
		return applyCmd(ctx, args[1:], stdout, stderr, getenv)
	case "invite":
		return inviteCmd(ctx, args[1:], stdout, stderr, getenv)
	case "identity-source":
		return identitySourceCmd(ctx, args[1:], stdout, stderr, getenv)
	case "accounts":
		return accountsCmd(ctx, args[1:], stdout, stderr, getenv)
	case "ldap-sync":
		return ldapSyncCmd(ctx, args[1:], stdout, stderr, getenv)
	case "saml-idp":
		return samlIdPCommand(ctx, args[1:], stdout, stderr, getenv)
	case "version":
		fs := flag.NewFlagSet("version", flag.ContinueOnError)
		fs.SetOutput(stderr)
		fs.Usage = func() {
			fmt.Fprint(fs.Output(), "Usage: gatehouse version\n\nPrints the version (also: gatehouse --version, gatehouse -v).\n")
		}
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if fs.NArg() > 0 {
			return fmt.Errorf("version takes no arguments (got %q)", fs.Args())
		}
		fmt.Fprintln(stdout, "gatehouse", version)
		return nil
	case "--version", "-version", "-v":
		fmt.Fprintln(stdout, "gatehouse", version)
		return nil
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// printFlags prints fs's flags as flag.PrintDefaults does, but with two
// dashes (--admin), as the usage lines and the documentation write them;
// the flag package accepts either.
func printFlags(fs *flag.FlagSet) {
	var b strings.Builder
	out := fs.Output()
	fs.SetOutput(&b)
	fs.PrintDefaults()
	fs.SetOutput(out)
	fmt.Fprint(out, strings.ReplaceAll("\n"+b.String(), "\n  -", "\n  --")[1:])
}
