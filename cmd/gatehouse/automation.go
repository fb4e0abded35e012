package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/automation"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/keyring"
	"github.com/gatehouse-dev/gatehouse/internal/server"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// The automation command manages automation users, their policies and
// access keys, and OpenID Connect providers, on the database directly (as
// migrate does), so that an operator can bootstrap a pipeline before any
// admin has signed in. It works on the instance `gatehouse serve` created
// and never creates one; on SQLite it needs the server stopped (the server
// holds the data folder), and says to use the AWS CLI against the server
// otherwise. It runs the same rules as the IAM API
// (package automation) and records an audit event for each change, as
// the local operator. Remotely, the stock AWS CLI does the same through
// the IAM API (aws iam create-user, create-access-key, …): the binary
// carries no SigV4 signer and no AWS SDK.

const automationUsage = `Usage: gatehouse automation <verb> [flags]

It works on the instance of an existing data folder or database (run
gatehouse serve once first); on SQLite, with the server stopped.

Verbs (each takes -account, default the management account, and the
store flags -config, -data, -database-url, -master-key-file):
  create-user          -user-name N [-path /ci/] [-key-ttl 90d] [-tag k=v ...]
  delete-user          -user-name N
  list-users
  attach-policy        -user-name N -policy-arn ARN
  detach-policy        -user-name N -policy-arn ARN
  put-policy           -user-name N -policy-name P -policy-file FILE
  create-access-key    -user-name N   (prints the secret, once)
  list-access-keys     -user-name N
  update-access-key    -user-name N -access-key-id K -status Active|Inactive
  delete-access-key    -user-name N -access-key-id K
  create-oidc-provider -url https://... -client-id AUD -role PERMISSION_SET -subjects "repo:org/app:ref:refs/heads/main ..."
  delete-oidc-provider -arn ARN
  list-oidc-providers

The AWS CLI equivalents (aws iam create-user, attach-user-policy,
create-access-key, create-open-id-connect-provider, ...) work remotely
against a running server.
`

// tagFlags collects repeated -tag k=v flags.
type tagFlags []store.Tag

func (t *tagFlags) String() string { return fmt.Sprint(*t) }

func (t *tagFlags) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("tag %q: want key=value", s)
	}
	*t = append(*t, store.Tag{Key: k, Value: v})
	return nil
}

func automationCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, automationUsage)
		if len(args) == 0 {
			return errors.New("no verb given")
		}
		return nil
	}
	verb := args[0]
	fs := flag.NewFlagSet("automation "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		account, userName, path, keyTTL, policyARN, policyName, policyFile string
		keyID, status, issuer, clientID, role, subjects, providerARN       string
		tags                                                               tagFlags
	)
	fs.StringVar(&account, "account", "", "account `ID` (default the management account)")
	fs.StringVar(&userName, "user-name", "", "automation user `name`")
	fs.StringVar(&path, "path", "", "IAM `path` of a new user (default /)")
	fs.StringVar(&keyTTL, "key-ttl", "", "lifetime of the user's access keys, e.g. 90d (tag "+automation.ExpiryTag+")")
	fs.Var(&tags, "tag", "tag `key=value` (repeatable)")
	fs.StringVar(&policyARN, "policy-arn", "", "managed policy `ARN`")
	fs.StringVar(&policyName, "policy-name", "", "inline policy `name`")
	fs.StringVar(&policyFile, "policy-file", "", "inline policy document `file`")
	fs.StringVar(&keyID, "access-key-id", "", "access key `ID`")
	fs.StringVar(&status, "status", "", "Active or Inactive")
	fs.StringVar(&issuer, "url", "", "OpenID Connect issuer `URL`")
	fs.StringVar(&clientID, "client-id", "sts.amazonaws.com", "accepted `audience`")
	fs.StringVar(&role, "role", "", "permission set `name` whose provisioned role the issuer's tokens may assume")
	fs.StringVar(&subjects, "subjects", "", "space-separated glob `patterns` of allowed token subjects")
	fs.StringVar(&providerARN, "arn", "", "OpenID Connect provider `ARN`")
	cfgArgs := serveFlags(fs, "config", "data", "database-url", "master-key-file")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	cfg, err := config.Load(*cfgArgs, getenv, stderr)
	if err != nil {
		return err
	}
	svc, rec, st, in, err := openAutomation(ctx, &cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	if account == "" {
		account = in.ManagementAccountID
	}
	ctx = audit.WithActor(ctx, audit.Actor{Identity: audit.Identity{Type: "Root", PrincipalID: "gatehouse-cli", AccountID: account},
		SourceIP: "gatehouse.local", UserAgent: "gatehouse/" + version + " automation"})
	// record audits a change as the IAM call it stands for.
	record := func(name string, params any, cause error) error {
		e := audit.Entry{Source: audit.SourceIAM, Name: name, Params: params}
		if cause != nil {
			e.ErrorCode, e.ErrorMsg = "Error", cause.Error()
		}
		if err := st.Update(ctx, func(tx store.Tx) error { return rec.Record(ctx, tx, e) }); err != nil {
			return errors.Join(cause, fmt.Errorf("record audit event: %w", err))
		}
		return cause
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "    ")
	need := func(names ...string) error {
		for _, n := range names {
			if fs.Lookup(n).Value.String() == "" {
				return fmt.Errorf("%s needs -%s", verb, n)
			}
		}
		return nil
	}
	userParams := map[string]string{"userName": userName}
	switch verb {
	case "create-user":
		if err := need("user-name"); err != nil {
			return err
		}
		if keyTTL != "" {
			tags = append(tags, store.Tag{Key: automation.ExpiryTag, Value: keyTTL})
		}
		u, err := svc.CreateUser(ctx, account, userName, path, tags)
		if err := record("CreateUser", userParams, err); err != nil {
			return err
		}
		return enc.Encode(map[string]any{"User": userJSON(u)})
	case "delete-user":
		if err := need("user-name"); err != nil {
			return err
		}
		return record("DeleteUser", userParams, svc.DeleteUser(ctx, account, userName))
	case "list-users":
		us, _, err := svc.ListUsers(ctx, account, "/", "", automation.MaxUsersPerAccount)
		if err != nil {
			return err
		}
		out := []map[string]any{}
		for i := range us {
			out = append(out, userJSON(&us[i]))
		}
		return enc.Encode(map[string]any{"Users": out})
	case "attach-policy", "detach-policy":
		if err := need("user-name", "policy-arn"); err != nil {
			return err
		}
		params := map[string]string{"userName": userName, "policyArn": policyARN}
		if verb == "attach-policy" {
			return record("AttachUserPolicy", params, svc.AttachUserPolicy(ctx, account, userName, policyARN))
		}
		return record("DetachUserPolicy", params, svc.DetachUserPolicy(ctx, account, userName, policyARN))
	case "put-policy":
		if err := need("user-name", "policy-name", "policy-file"); err != nil {
			return err
		}
		doc, err := os.ReadFile(policyFile)
		if err != nil {
			return fmt.Errorf("read policy: %w", err)
		}
		return record("PutUserPolicy", map[string]string{"userName": userName, "policyName": policyName},
			svc.PutUserPolicy(ctx, account, userName, policyName, string(doc)))
	case "create-access-key":
		if err := need("user-name"); err != nil {
			return err
		}
		k, err := svc.CreateAccessKey(ctx, account, userName)
		if err := record("CreateAccessKey", userParams, err); err != nil {
			return err
		}
		out := map[string]any{"UserName": k.User.UserName, "AccessKeyId": k.Key.ID, "Status": k.Key.Status,
			"SecretAccessKey": string(k.Secret), "CreateDate": k.Key.CreatedAt.Format(time.RFC3339)}
		if !k.Key.ExpiresAt.IsZero() {
			out["ExpirationDate"] = k.Key.ExpiresAt.Format(time.RFC3339)
		}
		return enc.Encode(map[string]any{"AccessKey": out})
	case "list-access-keys":
		if err := need("user-name"); err != nil {
			return err
		}
		u, ks, err := svc.ListAccessKeys(ctx, account, userName)
		if err != nil {
			return err
		}
		out := []map[string]any{}
		for _, k := range ks {
			m := map[string]any{"UserName": u.UserName, "AccessKeyId": k.ID, "Status": k.Status, "CreateDate": k.CreatedAt.Format(time.RFC3339)}
			if !k.ExpiresAt.IsZero() {
				m["ExpirationDate"] = k.ExpiresAt.Format(time.RFC3339)
			}
			if !k.LastUsedAt.IsZero() {
				m["LastUsedDate"] = k.LastUsedAt.Format(time.RFC3339)
			}
			out = append(out, m)
		}
		return enc.Encode(map[string]any{"AccessKeyMetadata": out})
	case "update-access-key":
		if err := need("user-name", "access-key-id", "status"); err != nil {
			return err
		}
		return record("UpdateAccessKey", map[string]string{"userName": userName, "accessKeyId": keyID, "status": status},
			svc.UpdateAccessKey(ctx, account, userName, keyID, status))
	case "delete-access-key":
		if err := need("user-name", "access-key-id"); err != nil {
			return err
		}
		return record("DeleteAccessKey", map[string]string{"userName": userName, "accessKeyId": keyID},
			svc.DeleteAccessKey(ctx, account, userName, keyID))
	case "create-oidc-provider":
		if err := need("url", "role", "subjects"); err != nil {
			return err
		}
		ptags := []store.Tag{{Key: automation.RoleTagPrefix + role, Value: subjects}}
		p, err := svc.CreateOIDCProvider(ctx, account, issuer, []string{clientID}, nil, ptags)
		if err := record("CreateOpenIDConnectProvider", map[string]any{"url": issuer, "clientIDList": []string{clientID}, "tags": ptags}, err); err != nil {
			return err
		}
		return enc.Encode(map[string]any{"OpenIDConnectProviderArn": p.ARN})
	case "delete-oidc-provider":
		if err := need("arn"); err != nil {
			return err
		}
		return record("DeleteOpenIDConnectProvider", map[string]string{"openIDConnectProviderArn": providerARN},
			svc.DeleteOIDCProvider(ctx, account, providerARN))
	case "list-oidc-providers":
		ps, err := svc.ListOIDCProviders(ctx, account)
		if err != nil {
			return err
		}
		out := []map[string]any{}
		for _, p := range ps {
			out = append(out, map[string]any{"Arn": p.ARN, "Url": p.URL, "ClientIDList": p.ClientIDs, "Tags": p.Tags})
		}
		return enc.Encode(map[string]any{"OpenIDConnectProviderList": out})
	}
	fmt.Fprint(stderr, automationUsage)
	return fmt.Errorf("unknown automation verb %q", verb)
}

func userJSON(u *store.IAMUser) map[string]any {
	return map[string]any{"Path": u.Path, "UserName": u.UserName, "UserId": u.ID, "Arn": automation.UserARN(u),
		"CreateDate": u.CreatedAt.Format(time.RFC3339), "Tags": u.Tags}
}

// openAutomation opens the store, the key ring and the instance the
// configuration names, as gatehouse serve would, without serving.
func openAutomation(ctx context.Context, cfg *config.Config) (*automation.Service, *audit.Recorder, store.Store, *store.Instance, error) {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	rnd := cfg.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	// The command works on an existing instance only: bootstrapping one
	// here would leave the operator with a second, empty Gatehouse that no
	// server serves.
	where := absPath(cfg.DataDir)
	if cfg.DatabaseURL != "" {
		where = "the database of -database-url"
	} else if ok, err := server.HasDatabase(cfg.DataDir); err == nil && !ok {
		return nil, nil, nil, nil, noInstanceError(where)
	}
	st, err := server.OpenStore(ctx, cfg)
	if inUse, ok := errors.AsType[*server.DataDirInUseError](err); ok {
		return nil, nil, nil, nil, serverRunningError(inUse)
	}
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("open store: %w", err)
	}
	fail := func(err error) (*automation.Service, *audit.Recorder, store.Store, *store.Instance, error) {
		st.Close()
		return nil, nil, nil, nil, err
	}
	in, err := st.GetInstance(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return fail(noInstanceError(where))
	} else if err != nil {
		return fail(err)
	}
	master, err := keyring.LoadMasterKey(cfg.MasterKey, cfg.MasterKeyPath(), rnd)
	if err != nil {
		return fail(err)
	}
	keys, err := keyring.Open(ctx, st, master, rnd, now)
	if err != nil {
		return fail(err)
	}
	ids := arn.Generator{Rand: rnd}
	rec := &audit.Recorder{Now: now, NewID: ids.UUID, Region: cfg.Region}
	rec.Account, rec.Region = in.ManagementAccountID, in.Region
	return &automation.Service{Store: st, Keys: keys, IDs: ids, Now: now}, rec, st, in, nil
}

// noInstanceError is the error of the automation command on a data folder
// or database no Gatehouse has run on.
func noInstanceError(where string) error {
	return fmt.Errorf("no Gatehouse instance in %s; run gatehouse serve first (or give the -data folder or -database-url the server uses)", where)
}

// serverRunningError is the error of the automation command on the data
// folder of a running server (SQLite): the server holds the folder, and the
// IAM API it serves does the same work.
func serverRunningError(e *server.DataDirInUseError) error {
	return &inUseError{DataDirInUseError: e, msg: fmt.Sprintf("the data folder %s is in use by %s. While it runs, use the AWS CLI against that server instead "+
		"(aws iam create-user --user-name NAME, aws iam create-access-key --user-name NAME, ... with --endpoint-url of the server "+
		"and an admin profile; see docs/admin-guide.md), or stop the server and run this command again", e.Dir, holder(e))}
}

// holder names the server that holds a data folder: "a running Gatehouse",
// with its process when the lock names it.
func holder(e *server.DataDirInUseError) string {
	if e.PID > 0 {
		return fmt.Sprintf("a running Gatehouse (process %d)", e.PID)
	}
	return "a running Gatehouse"
}

// inUseError is serverRunningError's error: its message for the
// automation command, and the lock's error for other commands to word
// their own.
type inUseError struct {
	*server.DataDirInUseError
	msg string
}

func (e *inUseError) Error() string { return e.msg }

func (e *inUseError) Unwrap() error { return e.DataDirInUseError }

// serveFlags defines on fs the named flags of `gatehouse serve` (config,
// data, database-url, ...) and returns the arguments given for them, in
// order, as `-name value` pairs for config.Load.
func serveFlags(fs *flag.FlagSet, names ...string) *[]string {
	var args []string
	for _, name := range names {
		fs.Func(name, "as for gatehouse serve", func(v string) error {
			args = append(args, "-"+name, v)
			return nil
		})
	}
	return &args
}
