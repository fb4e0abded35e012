package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"text/tabwriter"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/awsaccounts"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/server"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// The accounts command links Gatehouse's accounts to AWS accounts on the
// database directly, as identity-source does (on SQLite with the server
// stopped). The secret access key comes from a file or standard input,
// never from a flag: flags show in `ps` and in shell history.

const accountsHelp = `Usage: gatehouse accounts <verb> [ACCOUNT] [flags]

Links Gatehouse's accounts to real AWS accounts (or an IAM/STS-compatible
endpoint such as moto_server), on the server's database directly. On SQLite
run it with the server stopped; with PostgreSQL it may run. The Gatehouse
admin API (GatehouseAdmin_20261201.LinkAccount, ...) and the console's account
page do the same on a running server. ACCOUNT is an account ID or name.

Verbs:
  list                 every link: account, endpoint, role, status
  link ACCOUNT         check the credentials (sts:GetCallerIdentity must answer
                       ACCOUNT's ID) and register Gatehouse's SAML provider in the
                       account. The secret access key is read from
                       --secret-access-key-file F, else from standard input.
                       Without --role-name/--role-arn, credentials of another
                       account assume OrganizationAccountAccessRole in ACCOUNT.
  unlink ACCOUNT       delete the SAML provider and the link (refused while
                       permission sets are provisioned there: delete the
                       account's assignments first)
  link-policy ACCOUNT  print the least-privilege IAM policy of the principal
                       Gatehouse links with, and a Terraform snippet creating it
                       (needs no database)

The management account is never linked: it stays Gatehouse's.

Endpoints: this command, run by the operator on the data folder, may link
to any --endpoint; the admin API and console accept only real AWS and the
endpoints of serve's --aws-endpoint-allow. The running server also calls
only those: list a custom endpoint there too, or its link gets no role
credentials nor provisioning.
`

type accounts struct {
	open  func(ctx context.Context, cfg config.Config, log *slog.Logger) (*server.Server, error)
	stdin io.Reader
}

func accountsCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	return accounts{open: server.New, stdin: os.Stdin}.run(ctx, args, stdout, stderr, getenv)
}

var twelveDigits = regexp.MustCompile(`^\d{12}$`)

func (c accounts) run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	verb, err := commandVerb("accounts", accountsHelp, args, stderr, "list", "link", "unlink", "link-policy")
	if err != nil {
		return err
	}
	fs := verbFlags("accounts", verb, accountsHelp, stderr)
	var in awsaccounts.LinkInput
	var secretFile string
	if verb == "link" {
		fs.StringVar(&in.Endpoint, "endpoint", "", "IAM/STS endpoint `URL` (default: real AWS)")
		fs.StringVar(&in.Region, "region", "", "signing `region` (default us-east-1)")
		fs.StringVar(&in.AccessKeyID, "access-key-id", "", "access key `ID` of the linking credentials")
		fs.StringVar(&secretFile, "secret-access-key-file", "", "read the secret access key from `file` (default: standard input)")
		fs.StringVar(&in.RoleName, "role-name", "", "role `name` to assume in the account")
		fs.StringVar(&in.RoleARN, "role-arn", "", "role `ARN` to assume in the account")
		fs.StringVar(&in.ExternalID, "external-id", "", "external `ID` for the AssumeRole")
	}
	var cfgArgs *[]string
	if verb != "link-policy" {
		cfgArgs = serveFlags(fs, "config", "data", "database-url", "master-key-file")
	}
	rest := args[1:]
	var account string
	if verb != "list" && len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		account, rest = rest[0], rest[1:]
	}
	if err := fs.Parse(rest); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("accounts %s: unexpected arguments %q", verb, fs.Args())
	}
	if verb != "list" && account == "" {
		return fmt.Errorf("accounts %s: name the account (ID or name)", verb)
	}
	if verb == "link-policy" {
		if !twelveDigits.MatchString(account) {
			return fmt.Errorf("accounts link-policy: %q is not a 12-digit account ID", account)
		}
		fmt.Fprint(stdout, awsaccounts.LinkPolicyText(account))
		return nil
	}
	if verb == "link" {
		var b []byte
		var err error
		if secretFile != "" {
			b, err = os.ReadFile(secretFile)
		} else {
			b, err = io.ReadAll(io.LimitReader(c.stdin, 64<<10))
		}
		if err != nil {
			return fmt.Errorf("read the secret access key: %w", err)
		}
		if in.SecretAccessKey = awsaccounts.Secret(strings.TrimSpace(trimNewline(b))); in.SecretAccessKey == "" {
			return errors.New("accounts link: no secret access key (give --secret-access-key-file or pipe it on standard input)")
		}
	}

	cfg, err := loadDataConfig("accounts", *cfgArgs, getenv, stderr, false)
	if err != nil {
		return err
	}
	srv, err := c.open(ctx, cfg, newLogger(stderr, cfg.LogLevel))
	if inUse, ok := errors.AsType[*server.DataDirInUseError](err); ok {
		return fmt.Errorf("the data folder %s is in use by %s. Stop it and run this command again, or, while it runs, use the admin console "+
			"(the account's page) or the Gatehouse admin API (GatehouseAdmin_20261201.%s)", inUse.Dir, holder(inUse), map[string]string{
			"list": "ListAccountLinks", "link": "LinkAccount", "unlink": "UnlinkAccount"}[verb])
	}
	if err != nil {
		return err
	}
	defer srv.Close()
	ctx = audit.WithActor(ctx, cliActor(srv.Instance.ManagementAccountID, "accounts"))
	svc := srv.AWSAccounts
	// The operator, with the data folder and the key in hand, may link to
	// any endpoint (serve's --aws-endpoint-allow binds delegated admins).
	svc.AnyEndpoint = true
	if verb == "list" {
		return listLinks(ctx, stdout, srv.Store, svc)
	}
	acct, err := resolveAccount(ctx, srv.Store, account)
	if err != nil {
		return err
	}
	switch verb {
	case "unlink":
		if err := svc.UnlinkAccount(ctx, acct.ID); err != nil {
			return fmt.Errorf("accounts unlink %s: %w", account, err)
		}
		fmt.Fprintf(stdout, "Unlinked %s (%s): Gatehouse's SAML provider is deleted there; the account is local again.\n", acct.Name, acct.ID)
		return nil
	default:
		in.AccountID = acct.ID
		l, err := svc.LinkAccount(ctx, in)
		if err != nil {
			return fmt.Errorf("accounts link %s: %w", account, err)
		}
		if l.Status != store.LinkActive {
			return fmt.Errorf("accounts link %s: the link is stored %s: %s", account, l.Status, l.StatusReason)
		}
		fmt.Fprintf(stdout, "Linked %s (%s) to AWS account %s at %s: %s.\nSAML provider: %s\n", acct.Name, acct.ID, acct.ID, endpointText(l.Endpoint), l.Status, l.SAMLProviderARN)
		if l.RoleARN != "" {
			fmt.Fprintf(stdout, "Gatehouse acts there through %s.\n", l.RoleARN)
		}
		if l.Endpoint != "" {
			// This command does not check the list; the server does, at
			// every use of the link.
			fmt.Fprintf(stdout, "The server calls %s only when it is on its endpoint allow-list: start it with --aws-endpoint-allow %s\n"+
				"(or GATEHOUSE_AWS_ENDPOINT_ALLOW, aws_endpoint_allow), else the account's users get no credentials.\n", l.Endpoint, l.Endpoint)
		}
		return nil
	}
}

// endpointText names an endpoint for people: "" is real AWS.
func endpointText(e string) string {
	if e == "" {
		return "AWS"
	}
	return e
}

// resolveAccount finds an account by ID or name.
func resolveAccount(ctx context.Context, st store.Store, name string) (*store.Account, error) {
	if twelveDigits.MatchString(name) {
		a, err := st.GetAccount(ctx, name)
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("no account %s in Gatehouse", name)
		}
		return a, err
	}
	as, err := st.ListAccounts(ctx, store.Page{Limit: 1000})
	if err != nil {
		return nil, err
	}
	for i := range as {
		if as[i].Name == name {
			return &as[i], nil
		}
	}
	return nil, fmt.Errorf("no account named %q in Gatehouse", name)
}

func listLinks(ctx context.Context, w io.Writer, st store.Store, svc *awsaccounts.Service) error {
	vs, err := svc.ListAccountLinks(ctx)
	if err != nil {
		return err
	}
	if len(vs) == 0 {
		fmt.Fprintln(w, "No account is linked: every account is local (credentials verified by Gatehouse).")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCOUNT\tNAME\tENDPOINT\tROLE\tSTATUS")
	for _, v := range vs {
		name := "-"
		if a, err := st.GetAccount(ctx, v.AccountId); err == nil {
			name = a.Name
		}
		role := v.RoleArn
		if role == "" {
			role = "(the credentials' own principal)"
		}
		status := v.Status
		if v.StatusReason != "" {
			status += ": " + v.StatusReason
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", v.AccountId, name, endpointText(v.Endpoint), role, status)
	}
	return tw.Flush()
}
