package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// The scim-tokens command issues, lists and revokes the bearer tokens an
// identity provider's SCIM client uses, through the Gatehouse admin API of
// a running server with the admin's AWS profile, as `gatehouse users`
// does.

const scimTokensUsage = `Usage: gatehouse scim-tokens <verb> --profile P [flags]

Manages the bearer tokens identity providers (Okta, Entra ID, Google
Workspace, ...) use for automatic provisioning (SCIM) at <Gatehouse>/scim/v2,
through the Gatehouse admin API of a running server, signed with the AWS
profile P. The profile's role must allow gatehouse:<Action>
(AdministratorAccess on the management account does; ReadOnlyAccess lists).

Verbs:
  create   issue a token and print it, with the SCIM endpoint; the token is
           shown this once (gatehouse:CreateSCIMAccessToken)
             --description TEXT   which identity provider uses it
             --expires-in-days N  1 to 730 (default 365)
  list     list the tokens: ID, status, created, expires, last used
           (gatehouse:ListSCIMAccessTokens)
  delete   revoke a token at once (gatehouse:DeleteSCIMAccessToken)
             --token-id ID

Flags:
  --profile P         AWS profile (default $AWS_PROFILE, else "default")
  --endpoint-url URL  Gatehouse's URL (default: the profile's [services] section
                      or endpoint_url, or AWS_ENDPOINT_URL_GATEHOUSE)
  --region R          signing region (default: the profile's)
`

// scimToken is a token as the admin API describes it.
type scimToken struct {
	TokenId, Description, Status, CreatedBy string
	CreatedAt, ExpiresAt, LastUsedAt        float64
}

func epochDate(v float64) string {
	if v == 0 {
		return "never"
	}
	return time.Unix(int64(v), 0).UTC().Format("2006-01-02 15:04 UTC")
}

func scimTokensCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	verb, err := commandVerb("scim-tokens", scimTokensUsage, args, stderr, "create", "list", "delete")
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("scim-tokens "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(fs.Output(), scimTokensUsage) }
	profile := fs.String("profile", "", "AWS profile")
	endpoint := fs.String("endpoint-url", "", "Gatehouse's URL")
	region := fs.String("region", "", "signing region")
	desc := fs.String("description", "", "which identity provider uses the token (create)")
	days := fs.Int("expires-in-days", 0, "lifetime in days, 1 to 730 (create; default 365)")
	tokenID := fs.String("token-id", "", "the token to delete (delete)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("scim-tokens %s: unexpected arguments %q", verb, fs.Args())
	}
	if verb == "delete" && *tokenID == "" {
		return errors.New("scim-tokens delete: give --token-id (see 'gatehouse scim-tokens list')")
	}
	c, err := newAdminClient(ctx, awsProfile(*profile, getenv), *endpoint, *region)
	if err != nil {
		return err
	}
	switch verb {
	case "create":
		in := map[string]any{}
		if *desc != "" {
			in["Description"] = *desc
		}
		if *days != 0 {
			in["ExpiresInDays"] = *days
		}
		var out struct {
			SCIMAccessToken scimToken
			AccessToken     string
			SCIMEndpoint    string
		}
		if err := c.call(ctx, gatehouseTarget, gatehouseSigning, "CreateSCIMAccessToken", in, &out); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "SCIM endpoint: %s\nToken ID:      %s\nExpires:       %s\nAccess token:  %s\n\n"+
			"Copy the access token now: it is shown only this once. Paste the endpoint and the token\n"+
			"into your identity provider's provisioning settings (docs/admin-guide.md, Automatic provisioning).\n",
			out.SCIMEndpoint, out.SCIMAccessToken.TokenId, epochDate(out.SCIMAccessToken.ExpiresAt), out.AccessToken)
		return nil
	case "list":
		var out struct {
			SCIMEndpoint     string
			SCIMAccessTokens []scimToken
		}
		if err := c.call(ctx, gatehouseTarget, gatehouseSigning, "ListSCIMAccessTokens", struct{}{}, &out); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "SCIM endpoint: %s\n\n", out.SCIMEndpoint)
		if len(out.SCIMAccessTokens) == 0 {
			fmt.Fprintln(stdout, "No SCIM access tokens. Create one with 'gatehouse scim-tokens create'.")
			return nil
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "TOKEN ID\tSTATUS\tCREATED\tEXPIRES\tLAST USED\tDESCRIPTION")
		for _, t := range out.SCIMAccessTokens {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.TokenId, t.Status, epochDate(t.CreatedAt), epochDate(t.ExpiresAt),
				epochDate(t.LastUsedAt), strings.ReplaceAll(t.Description, "\t", " "))
		}
		return tw.Flush()
	default:
		if err := c.call(ctx, gatehouseTarget, gatehouseSigning, "DeleteSCIMAccessToken", map[string]string{"TokenId": *tokenID}, nil); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Deleted SCIM access token %s: identity providers using it are refused from now on.\n", *tokenID)
		return nil
	}
}
