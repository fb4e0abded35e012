package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/server"
)

// The saml-idp command shows and rotates the signing key of Gatehouse's
// SAML identity provider (the one linked AWS accounts trust), on the
// server's database directly, as identity-source does.

const samlIdPHelp = `Usage: gatehouse saml-idp <verb> [flags]

Gatehouse is the SAML 2.0 identity provider of the AWS accounts linked to
it: each holds an IAM SAML provider with Gatehouse's certificate, and
portal credentials for those accounts come from AssumeRoleWithSAML with an
assertion Gatehouse signs. This command works on the server's database
directly: on SQLite run it with the server stopped; with PostgreSQL it may
run.

Verbs:
  show     the entity ID, the metadata URL and every key: ID, state
           (signing, pending: published but not yet signing, retired),
           created, certificate expiry and SHA-256 fingerprint
  rotate   make a new key, publish it to every linked account's SAML
           provider next to the current one, switch signing to it, retire
           the old key and publish again without it. If the first
           publication fails the old key keeps signing: run rotate again.
`

type samlIdPCmd struct {
	open func(ctx context.Context, cfg config.Config, log *slog.Logger) (*server.Server, error)
}

func samlIdPCommand(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	return samlIdPCmd{open: server.New}.run(ctx, args, stdout, stderr, getenv)
}

func (c samlIdPCmd) run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	verb, err := commandVerb("saml-idp", samlIdPHelp, args, stderr, "show", "rotate")
	if err != nil {
		return err
	}
	fs := verbFlags("saml-idp", verb, samlIdPHelp, stderr)
	cfgArgs := serveFlags(fs, "config", "data", "database-url", "master-key-file", "public-url")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("saml-idp %s: unexpected arguments %q", verb, fs.Args())
	}
	// The entity ID is the server's public URL.
	cfg, err := loadDataConfig("saml-idp", *cfgArgs, getenv, stderr, true)
	if err != nil {
		return err
	}
	srv, err := c.open(ctx, cfg, newLogger(stderr, cfg.LogLevel))
	if inUse, ok := errors.AsType[*server.DataDirInUseError](err); ok {
		return fmt.Errorf("the data folder %s is in use by %s: stop it and run this command again", inUse.Dir, holder(inUse))
	}
	if err != nil {
		return err
	}
	defer srv.Close()
	idp := srv.SAMLIdP
	if verb == "rotate" {
		id, err := idp.Rotate(ctx)
		if err != nil && id == "" {
			return fmt.Errorf("saml-idp rotate: %w", err)
		}
		fmt.Fprintf(stdout, "Key %s signs now; the previous key is retired.\n", id)
		if err != nil {
			fmt.Fprintf(stderr, "warning: %v\n", err)
		}
	}
	keys, err := idp.KeyInfos(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Entity ID:    %s\nMetadata URL: %s\n\n", idp.EntityID(), idp.MetadataURL())
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tSTATE\tCREATED\tCERTIFICATE EXPIRES\tSHA-256")
	for _, k := range keys {
		exp, fp := "-", "-"
		if !k.NotAfter.IsZero() {
			exp, fp = k.NotAfter.UTC().Format(time.DateOnly), k.SHA256
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k.ID, k.State, k.CreatedAt.UTC().Format("2006-01-02 15:04 UTC"), exp, fp)
	}
	return tw.Flush()
}
