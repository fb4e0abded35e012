package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/awsaccounts/mototest"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/server"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// TestAccountsCommand runs `gatehouse accounts` on a data folder against a
// real moto_server: link-policy prints the policy and the Terraform; link
// reads the secret from a file or stdin, links by name or ID and prints
// the SAML provider; the management account and credentials of another
// account are refused; list shows the links; unlink is refused while a
// role is provisioned, then unlinks. The secret is in no output, event or
// stored column in the clear.
func TestAccountsCommand(t *testing.T) {
	moto := mototest.Start(t)
	dir := t.TempDir()
	if err := run(t.Context(), []string{"migrate", "--data", dir}, io.Discard, io.Discard, env(nil)); err != nil {
		t.Fatal(err)
	}
	meta := mototest.IdPMetadata(t, "https://gatehouse.example")
	const dev = "111111111111"
	var stdin bytes.Buffer
	cmd := accounts{stdin: &stdin, open: func(ctx context.Context, cfg config.Config, log *slog.Logger) (*server.Server, error) {
		srv, err := server.New(ctx, cfg, log)
		if err != nil {
			return nil, err
		}
		srv.AWSAccounts.IdPMetadata = func(context.Context) (string, error) { return meta, nil }
		if _, err := srv.Store.GetAccount(ctx, dev); err != nil {
			err = srv.Store.Update(ctx, func(tx store.Tx) error {
				return tx.CreateAccount(ctx, &store.Account{ID: dev, Name: "dev", Email: "dev@example.com", State: "ACTIVE", JoinedMethod: "CREATED", CreatedAt: time.Now()})
			})
			if err != nil {
				return nil, err
			}
		}
		return srv, nil
	}}
	var outputs []string
	gh := func(args ...string) (string, error) {
		t.Helper()
		var out, errOut bytes.Buffer
		err := cmd.run(t.Context(), append(args, "--data", dir), &out, &errOut, env(nil))
		outputs = append(outputs, out.String()+errOut.String())
		if err != nil {
			outputs = append(outputs, err.Error())
		}
		return out.String() + errOut.String(), err
	}
	const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYCLIKEY000"
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	var out bytes.Buffer
	if err := cmd.run(t.Context(), []string{"link-policy", dev}, &out, io.Discard, env(nil)); err != nil ||
		!strings.Contains(out.String(), `"arn:aws:iam::`+dev+`:role/aws-reserved/sso.amazonaws.com/*"`) || !strings.Contains(out.String(), `resource "aws_iam_user_policy_attachment"`) {
		t.Fatalf("link-policy: %v\n%s", err, out.String())
	}
	if err := cmd.run(t.Context(), []string{"link-policy", "dev"}, io.Discard, io.Discard, env(nil)); err == nil {
		t.Fatal("link-policy of a name succeeded")
	}

	if o, err := gh("list"); err != nil || !strings.Contains(o, "No account is linked") {
		t.Fatalf("list before: %v\n%s", err, o)
	}
	// The management account is refused.
	st, err := server.New(t.Context(), config.Config{DataDir: dir}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	mgmt := st.Instance.ManagementAccountID
	st.Close()
	if o, err := gh("link", mgmt, "--endpoint", moto.URL, "--access-key-id", "AKIAIOSFODNN7EXAMPLE", "--secret-access-key-file", secretFile); err == nil ||
		!strings.Contains(err.Error(), "management account") {
		t.Fatalf("link management: %v\n%s", err, o)
	}
	// Credentials of another account are refused, naming both.
	stdin.WriteString(secret + "\n")
	if o, err := gh("link", "dev", "--endpoint", moto.URL, "--access-key-id", "AKIAIOSFODNN7EXAMPLE",
		"--role-arn", "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole"); err == nil ||
		!strings.Contains(err.Error(), "222222222222") || !strings.Contains(err.Error(), dev) {
		t.Fatalf("link wrong account: %v\n%s", err, o)
	}
	// No secret at all is refused before anything is opened.
	stdin.Reset()
	if _, err := gh("link", "dev", "--endpoint", moto.URL, "--access-key-id", "AKIAIOSFODNN7EXAMPLE"); err == nil || !strings.Contains(err.Error(), "no secret access key") {
		t.Fatalf("link without secret: %v", err)
	}
	// The secret from stdin, the account by name.
	stdin.WriteString(secret + "\n")
	o, err := gh("link", "dev", "--endpoint", moto.URL, "--access-key-id", "AKIAIOSFODNN7EXAMPLE")
	if err != nil || !strings.Contains(o, "Linked dev ("+dev+")") || !strings.Contains(o, "saml-provider/GatehouseSSO_") ||
		!strings.Contains(o, "role/OrganizationAccountAccessRole") {
		t.Fatalf("link: %v\n%s", err, o)
	}
	// This command does not check the allow-list; the server does, so
	// the operator is told to list the endpoint there.
	if !strings.Contains(o, "--aws-endpoint-allow "+moto.URL) {
		t.Fatalf("link to %s does not say to list it on the server:\n%s", moto.URL, o)
	}
	// Again from the file, by ID: the provider is updated.
	if o, err := gh("link", dev, "--endpoint", moto.URL, "--access-key-id", "AKIAIOSFODNN7EXAMPLE", "--secret-access-key-file", secretFile); err != nil {
		t.Fatalf("relink: %v\n%s", err, o)
	}
	if o, err := gh("list"); err != nil || !strings.Contains(o, dev) || !strings.Contains(o, "ACTIVE") || !strings.Contains(o, moto.URL) {
		t.Fatalf("list: %v\n%s", err, o)
	}

	// Unlink is refused while a role is provisioned there.
	srv, err := server.New(t.Context(), config.Config{DataDir: dir}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	put := func(fn func(tx store.Tx) error) {
		if err := srv.Store.Update(ctx, fn); err != nil {
			t.Fatal(err)
		}
	}
	put(func(tx store.Tx) error {
		return tx.PutProvisionedRole(ctx, &store.ProvisionedRole{AccountID: dev, PermissionSetID: "ps-0123456789abcdef", RoleName: "AWSReservedSSO_X_0123456789abcdef",
			RoleID: "AROAX", PermissionSetVersion: 1, CreatedAt: time.Now(), UpdatedAt: time.Now()})
	})
	srv.Close()
	if o, err := gh("unlink", "dev"); err == nil || !strings.Contains(err.Error(), "assignments") {
		t.Fatalf("unlink while provisioned: %v\n%s", err, o)
	}
	srv, err = server.New(t.Context(), config.Config{DataDir: dir}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	put(func(tx store.Tx) error { return tx.DeleteProvisionedRole(ctx, dev, "ps-0123456789abcdef") })
	srv.Close()
	if o, err := gh("unlink", "dev"); err != nil || !strings.Contains(o, "Unlinked dev") {
		t.Fatalf("unlink: %v\n%s", err, o)
	}
	if o, _ := gh("list"); !strings.Contains(o, "No account is linked") {
		t.Fatalf("list after unlink:\n%s", o)
	}

	for _, o := range outputs {
		if strings.Contains(o, secret) {
			t.Fatalf("an output holds the secret:\n%s", o)
		}
	}
	db, err := os.ReadFile(filepath.Join(dir, server.DatabaseFileName))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(db, []byte(secret)) {
		t.Fatal("the database holds the secret in the clear")
	}
}
