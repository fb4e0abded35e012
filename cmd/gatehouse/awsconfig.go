package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/clientconfig"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/server"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

const awsConfigUsage = `Usage: gatehouse aws-config [flags]

Prints what a user adds to ~/.aws/config to use Gatehouse: an sso-session,
a [services] section with Gatehouse's endpoints, and one profile per account
and role the user may use. With --write it merges them into a config file;
with --models it writes the endpoint rule-set files AWS CLI v2 older than
2.13 needs (point it at ~/.aws/models); with --env it prints the
AWS_ENDPOINT_URL_* variables instead.

The store is found as 'gatehouse serve' finds it (--data, --database-url,
GATEHOUSE_* variables, --config).

Flags:
`

func awsConfig(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("aws-config", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, awsConfigUsage); fs.PrintDefaults() }
	user := fs.String("user", "", "user `name` whose accounts and roles become profiles")
	session := fs.String("session", "gatehouse", "sso-session `name`")
	baseURL := fs.String("url", "", "Gatehouse `URL` clients reach (default: the configured public URL)")
	region := fs.String("client-region", "", "default client `region` of the profiles (default: the instance's region)")
	write := fs.String("write", "", "merge the sections into this config `file` (e.g. ~/.aws/config)")
	models := fs.String("models", "", "write endpoint rule-set files into this `folder` (e.g. ~/.aws/models)")
	env := fs.Bool("env", false, "print AWS_ENDPOINT_URL_* variables")
	// Store-selection flags are passed on to the configuration loader.
	var storeArgs []string
	for _, name := range []string{"data", "database-url", "config", "public-url", "listen"} {
		name := name
		fs.Func(name, "as for 'gatehouse serve'", func(v string) error {
			storeArgs = append(storeArgs, "-"+name, v)
			return nil
		})
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(storeArgs, getenv, stderr)
	if err != nil {
		return err
	}
	if *baseURL == "" {
		*baseURL = cfg.BaseURL()
	}
	*baseURL = strings.TrimRight(*baseURL, "/")

	if *models != "" {
		files, err := clientconfig.RuleSets(*baseURL)
		if err != nil {
			return err
		}
		names := make([]string, 0, len(files))
		for name := range files {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			p := filepath.Join(*models, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(p, files[name], 0o644); err != nil {
				return err
			}
			fmt.Fprintln(stdout, "wrote", p)
		}
		if *user == "" && !*env && *write == "" {
			return nil
		}
	}

	st, err := server.OpenStore(ctx, &cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	in, err := st.GetInstance(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return errors.New("no instance yet: run 'gatehouse serve' once first")
	} else if err != nil {
		return err
	}
	sess := clientconfig.Session{Name: *session, StartURL: in.StartURL, Region: in.Region, BaseURL: *baseURL}
	if *env {
		fmt.Fprint(stdout, sess.EnvVars())
		return nil
	}
	if *region == "" {
		*region = in.Region
	}
	var profiles []clientconfig.Profile
	if *user != "" {
		roles, err := userRoles(ctx, st, *user)
		if err != nil {
			return err
		}
		if len(roles) == 0 {
			fmt.Fprintf(stderr, "user %s has no account assignments yet\n", *user)
		}
		profiles = clientconfig.Profiles(roles, *region, nil)
	}
	headers := []string{"[sso-session " + *session + "]", "[services " + *session + "]"}
	add := map[string]string{headers[0]: sess.SessionSection(), headers[1]: sess.ServicesSection()}
	for _, p := range profiles {
		h := "[profile " + p.Name + "]"
		headers = append(headers, h)
		add[h] = p.Section(sess)
	}
	if *write == "" {
		for _, h := range headers {
			fmt.Fprintln(stdout, add[h])
		}
		return nil
	}
	old, err := os.ReadFile(*write)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(*write), 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(*write, []byte(clientconfig.Merge(string(old), headers, add)), 0o600); err != nil {
		return err
	}
	for _, p := range profiles {
		fmt.Fprintf(stdout, "profile %s: account %s, role %s\n", p.Name, p.AccountID, p.RoleName)
	}
	fmt.Fprintln(stdout, "wrote", *write)
	return nil
}

func userRoles(ctx context.Context, st store.Store, userName string) ([]clientconfig.Role, error) {
	u, err := st.GetUserByName(ctx, userName)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("no user named %q", userName)
	} else if err != nil {
		return nil, err
	}
	ents, err := access.Entitlements(ctx, st, u.ID)
	if err != nil {
		return nil, err
	}
	var roles []clientconfig.Role
	for _, e := range ents {
		a, err := st.GetAccount(ctx, e.AccountID)
		if err != nil {
			return nil, err
		}
		ps, err := st.GetPermissionSet(ctx, e.PermissionSetID)
		if err != nil {
			return nil, err
		}
		roles = append(roles, clientconfig.Role{AccountID: a.ID, AccountName: a.Name, RoleName: ps.Name})
	}
	sort.Slice(roles, func(i, j int) bool {
		if roles[i].AccountName != roles[j].AccountName {
			return roles[i].AccountName < roles[j].AccountName
		}
		return roles[i].RoleName < roles[j].RoleName
	})
	return roles, nil
}
