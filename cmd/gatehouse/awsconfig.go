package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/clientconfig"
	"github.com/gatehouse-dev/gatehouse/internal/ssoclient"
)

const awsConfigUsage = `Usage: gatehouse aws-config --url URL [flags]

Configures the AWS CLI and SDKs on this machine for a Gatehouse instance. It
runs anywhere the instance's URL is reachable (a laptop), never opens a
database and signs in as you:

  1. reads the instance's start URL and region from URL (or --start-url
     and --region);
  2. reuses the AWS CLI's cached sign-in of the sso-session (in
     ~/.aws/sso/cache) when it is valid for that start URL, or signs in with
     the device flow: open the link it prints, sign in and allow;
  3. lists your accounts and roles through the portal API;
  4. merges into ~/.aws/config (or --file) the [sso-session], a
     [services] section with Gatehouse's endpoints, one profile per
     account and role, and "services = NAME" on [default], so that
     'aws sso login --sso-session' and 'aws sso logout' reach Gatehouse too;
  5. runs 'aws --version' on every AWS CLI it finds (each 'aws' along
     PATH, /usr/bin/aws and /usr/local/bin/aws), prints what it found, and
     writes the endpoint rule-set files into ~/.aws/models when any of
     them is older than 2.13 (it reads no [services]), answers no
     readable version, or when no AWS CLI is found;
  6. caches the token it obtained where the AWS CLI looks for it, so
     'aws sts get-caller-identity --profile NAME' works at once.

Profile names are the account's name for its first role and account-role
for the others; a name two roles would share, or one your file already
uses for something else, gets the account ID appended.

Without signing in: --env prints AWS_ENDPOINT_URL_* variables, --models DIR
writes only the rule-set files into DIR.

Flags:
`

// awsConfigOptions are the flags of `gatehouse aws-config`.
type awsConfigOptions struct {
	baseURL, startURL, region, session, clientRegion string
	file, models, awsCLI                             string
	env, print                                       bool
}

func awsConfig(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	var o awsConfigOptions
	fs := flag.NewFlagSet("aws-config", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, awsConfigUsage); fs.PrintDefaults() }
	fs.StringVar(&o.baseURL, "url", "", "Gatehouse `URL` (required), e.g. https://gatehouse.example.com")
	fs.StringVar(&o.startURL, "start-url", "", "the instance's start `URL` (default: read from --url)")
	fs.StringVar(&o.region, "region", "", "the instance's `region`, the sso-session's sso_region (default: read from --url)")
	fs.StringVar(&o.session, "sso-session", "gatehouse", "sso-session `name`")
	fs.StringVar(&o.session, "session", "gatehouse", "same as --sso-session")
	fs.StringVar(&o.clientRegion, "client-region", "", "default client `region` of the profiles (default: the instance's region)")
	fs.StringVar(&o.file, "file", "", "config `file` to merge into (default: $AWS_CONFIG_FILE or ~/.aws/config)")
	fs.StringVar(&o.file, "write", "", "same as --file")
	fs.BoolVar(&o.print, "print", false, "print the sections instead of writing the config file (still signs in)")
	fs.StringVar(&o.models, "models", "", "only write the endpoint rule-set files into this `folder` (e.g. ~/.aws/models), without signing in")
	fs.BoolVar(&o.env, "env", false, "only print the AWS_ENDPOINT_URL_* variables, without signing in")
	fs.StringVar(&o.awsCLI, "aws-cli", "aws", "the AWS CLI whose version decides whether rule-set files are needed: a `path` checks only that one, a name every one on PATH (and /usr/bin/aws, /usr/local/bin/aws for \"aws\")")
	// Before aws-config was a client it read the server's store; say so
	// rather than "flag provided but not defined".
	for _, name := range []string{"user", "data", "database-url", "config"} {
		fs.Func(name, "no longer used: aws-config signs in as you", func(string) error {
			return fmt.Errorf("aws-config no longer reads the server's database: run it where you use the AWS CLI, with --url and sign in as yourself")
		})
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("aws-config takes no arguments (got %q)", fs.Args())
	}
	if o.baseURL == "" {
		return errors.New("aws-config needs --url, the Gatehouse server's URL (what 'gatehouse serve' prints as \"Access portal\", without /start)")
	}
	if err := checkServerURL(o.baseURL); err != nil {
		return err
	}
	o.baseURL = strings.TrimSuffix(strings.TrimRight(o.baseURL, "/"), "/start")
	home := getenv("HOME")
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return fmt.Errorf("no home folder: %w", err)
		}
		home = h
	}

	if o.env {
		sess := clientconfig.Session{Name: o.session, BaseURL: o.baseURL}
		fmt.Fprint(stdout, sess.EnvVars())
		return nil
	}
	if o.models != "" {
		return writeRuleSets(stdout, o.baseURL, expandHome(o.models, home))
	}

	client := &ssoclient.Client{BaseURL: o.baseURL, HTTP: &http.Client{Timeout: 30 * time.Second}, Now: time.Now}
	if o.startURL == "" || o.region == "" {
		d, err := client.Discover(ctx)
		if err != nil {
			return discoverError(o.baseURL, err)
		}
		if o.startURL == "" {
			o.startURL = d.StartURL
		}
		if o.region == "" {
			o.region = d.Region
		}
	}
	if o.clientRegion == "" {
		o.clientRegion = o.region
	}
	sess := clientconfig.Session{Name: o.session, StartURL: o.startURL, Region: o.region, BaseURL: o.baseURL}

	token, err := signIn(ctx, client, sess, home, stderr)
	if err != nil {
		return err
	}
	roles, endpoints, err := listRoles(ctx, client, token)
	if err != nil {
		return err
	}
	if len(roles) == 0 {
		fmt.Fprintln(stderr, "You may use no account yet: the file gets the sso-session and endpoints, and no profile.")
	}

	file := o.file
	if file == "" {
		file = getenv("AWS_CONFIG_FILE")
	}
	if file == "" {
		file = filepath.Join(home, ".aws", "config")
	}
	file = expandHome(file, home)
	old, err := os.ReadFile(file)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	profiles := clientconfig.Profiles(roles, o.clientRegion, clientconfig.ForeignProfiles(string(old), o.session))
	headers := []string{"[sso-session " + o.session + "]", "[services " + o.session + "]"}
	add := map[string]string{headers[0]: sess.SessionSection(), headers[1]: sess.ServicesSection()}
	for _, p := range profiles {
		h := "[profile " + p.Name + "]"
		headers = append(headers, h)
		add[h] = p.Section(sess)
	}
	if o.print {
		for _, h := range headers {
			fmt.Fprintln(stdout, add[h])
		}
		fmt.Fprint(stdout, sess.DefaultSection())
		return nil
	}
	text, previous := clientconfig.SetDefaultServices(clientconfig.Merge(string(old), headers, add), o.session)
	if err := clientconfig.WriteFile(file, []byte(text), 0o600); err != nil {
		return err
	}
	for _, p := range profiles {
		fmt.Fprintf(stdout, "profile %s: account %s, role %s", p.Name, p.AccountID, p.RoleName)
		if e := endpoints[p.AccountID]; e != "" {
			fmt.Fprintf(stdout, " (linked to %s: give it --endpoint-url %s)", e, e)
		}
		fmt.Fprintln(stdout)
	}
	fmt.Fprintln(stdout, "wrote", file)
	if previous != "" && previous != o.session {
		fmt.Fprintf(stdout, "[default] now has services = %s (it was %s): 'aws sso login --sso-session' and 'aws sso logout' read it\n", o.session, previous)
	}

	pathList := getenv("PATH")
	if pathList == "" {
		pathList = os.Getenv("PATH")
	}
	var extra []string
	if o.awsCLI == "aws" {
		extra = wellKnownCLIs
	}
	checks := checkCLIs(ctx, findCLIs(o.awsCLI, pathList, extra))
	need, report := ruleSetReport(o.awsCLI, checks)
	fmt.Fprint(stdout, report)
	if need {
		if err := writeRuleSets(stdout, o.baseURL, filepath.Join(home, ".aws", "models")); err != nil {
			return err
		}
	}
	fmt.Fprint(stdout, tryHint(profiles, endpoints))
	return nil
}

// tryHint is the command to try the first profile with, or "" when there
// is none. An account linked to an IAM/STS endpoint other than AWS
// (endpoints, by account ID) gets its credentials from that endpoint's
// STS, which alone knows them: Gatehouse's STS, where [services] sends
// sts, answers InvalidClientTokenId, so the hint names the endpoint.
func tryHint(profiles []clientconfig.Profile, endpoints map[string]string) string {
	if len(profiles) == 0 {
		return ""
	}
	p := profiles[0]
	if e := endpoints[p.AccountID]; e != "" {
		return fmt.Sprintf("Try: aws sts get-caller-identity --profile %s --endpoint-url %s\n", p.Name, e)
	}
	return fmt.Sprintf("Try: aws sts get-caller-identity --profile %s\n", p.Name)
}

// expandHome replaces a leading "~/" with home (for paths quoted past the
// shell).
func expandHome(p, home string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		return filepath.Join(home, rest)
	}
	return p
}

// signIn returns an access token for the sso-session: the AWS CLI's cached
// one when it is for this start URL and still valid (refreshed first, as
// the CLI would, when it has expired and can be), else a new one from the
// device flow, which it then caches in the CLI's format.
func signIn(ctx context.Context, client *ssoclient.Client, sess clientconfig.Session, home string, stderr io.Writer) (string, error) {
	now := time.Now()
	cached, err := clientconfig.ReadCachedToken(home, sess.Name)
	if err == nil && clientconfig.SameStartURL(cached.StartURL, sess.StartURL) {
		exp, _ := clientconfig.ParseCacheTime(cached.ExpiresAt)
		if exp.After(now.Add(time.Minute)) {
			if _, err := client.ListAccounts(ctx, cached.AccessToken); err == nil {
				fmt.Fprintf(stderr, "Using the AWS CLI's sign-in of sso-session %s (valid until %s).\n", sess.Name, exp.Local().Format(validUntilLayout))
				return cached.AccessToken, nil
			}
		} else if tok, ok := refreshCached(ctx, client, cached, now); ok {
			cached.AccessToken, cached.ExpiresAt = tok.AccessToken, clientconfig.FormatCacheTime(tok.ExpiresAt)
			if tok.RefreshToken != "" {
				cached.RefreshToken = tok.RefreshToken
			}
			if err := clientconfig.WriteCachedToken(home, sess.Name, cached); err != nil {
				return "", fmt.Errorf("cache the refreshed token: %w", err)
			}
			fmt.Fprintf(stderr, "Refreshed the AWS CLI's sign-in of sso-session %s.\n", sess.Name)
			return cached.AccessToken, nil
		}
	}

	reg, err := client.RegisterClient(ctx, "gatehouse-aws-config", []string{"sso:account:access"})
	if err != nil {
		return "", err
	}
	d, err := client.StartDeviceAuthorization(ctx, reg, sess.StartURL)
	if err != nil {
		return "", err
	}
	link := d.VerificationURIComplete
	if link == "" {
		link = d.VerificationURI
	}
	fmt.Fprintf(stderr, "Sign in to Gatehouse: open\n\n    %s\n\nand check that the page shows the code %s, then allow \"gatehouse-aws-config\".\nWaiting...\n", link, d.UserCode)
	pctx := ctx
	if d.ExpiresIn > 0 {
		var cancel context.CancelFunc
		pctx, cancel = context.WithTimeout(ctx, time.Duration(d.ExpiresIn)*time.Second+10*time.Second)
		defer cancel()
	}
	tok, err := client.PollToken(pctx, reg, d)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || ssoclient.IsCode(err, "ExpiredTokenException") {
			return "", errors.New("the sign-in code expired before it was allowed: run aws-config again")
		}
		return "", err
	}
	fmt.Fprintln(stderr, "Signed in.")
	err = clientconfig.WriteCachedToken(home, sess.Name, clientconfig.CachedToken{
		StartURL: sess.StartURL, Region: sess.Region,
		AccessToken: tok.AccessToken, ExpiresAt: clientconfig.FormatCacheTime(tok.ExpiresAt),
		ClientID: reg.ClientID, ClientSecret: reg.ClientSecret,
		RegistrationExpiresAt: clientconfig.FormatCacheTime(time.Unix(reg.ClientSecretExpiresAt, 0)),
		RefreshToken:          tok.RefreshToken,
	})
	if err != nil {
		return "", fmt.Errorf("cache the token for the AWS CLI: %w", err)
	}
	return tok.AccessToken, nil
}

// refreshCached redeems a cached token's refresh token, as botocore does
// when fewer than 15 minutes are left, if the registration still holds.
func refreshCached(ctx context.Context, client *ssoclient.Client, t clientconfig.CachedToken, now time.Time) (ssoclient.Token, bool) {
	if t.RefreshToken == "" || t.ClientID == "" || t.ClientSecret == "" {
		return ssoclient.Token{}, false
	}
	regExp, err := clientconfig.ParseCacheTime(t.RegistrationExpiresAt)
	if err != nil || !regExp.After(now) {
		return ssoclient.Token{}, false
	}
	tok, err := client.Refresh(ctx, t.ClientID, t.ClientSecret, t.RefreshToken)
	return tok, err == nil
}

// listRoles lists every (account, role) the token's user may use, and the
// IAM/STS endpoint of each account linked to one other than AWS, by
// account ID.
func listRoles(ctx context.Context, client *ssoclient.Client, token string) ([]clientconfig.Role, map[string]string, error) {
	accounts, err := client.ListAccounts(ctx, token)
	if err != nil {
		return nil, nil, err
	}
	var roles []clientconfig.Role
	endpoints := map[string]string{}
	for _, a := range accounts {
		if a.EndpointURL != "" {
			endpoints[a.AccountID] = a.EndpointURL
		}
		rs, err := client.ListAccountRoles(ctx, token, a.AccountID)
		if err != nil {
			return nil, nil, err
		}
		for _, r := range rs {
			roles = append(roles, clientconfig.Role{AccountID: a.AccountID, AccountName: a.AccountName, RoleName: r.RoleName})
		}
	}
	return roles, endpoints, nil
}

// wellKnownCLIs are where AWS CLIs are installed besides what PATH names:
// Debian's awscli package (/usr/bin) and AWS's installer and pip
// (/usr/local/bin). A machine often has two, and the one a shell finds
// first is not always the one a script or IDE runs.
var wellKnownCLIs = []string{"/usr/bin/aws", "/usr/local/bin/aws"}

// findCLIs lists the AWS CLI executables to check: awsCLI itself when it
// is a path, else every awsCLI along pathList, then those of extra that
// exist; each file once, however many links lead to it.
func findCLIs(awsCLI, pathList string, extra []string) []string {
	var candidates []string
	if strings.ContainsRune(awsCLI, filepath.Separator) {
		candidates = []string{awsCLI}
	} else {
		for _, dir := range filepath.SplitList(pathList) {
			if dir == "" {
				dir = "."
			}
			candidates = append(candidates, filepath.Join(dir, awsCLI))
		}
		candidates = append(candidates, extra...)
	}
	seen := map[string]bool{}
	var found []string
	for _, p := range candidates {
		if !isExecutable(p) {
			continue
		}
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			real = p
		}
		if real, err = filepath.Abs(real); err != nil {
			continue
		}
		if seen[real] {
			continue
		}
		seen[real] = true
		found = append(found, p)
	}
	return found
}

// cliCheck is what `--version` told of one AWS CLI.
type cliCheck struct {
	path    string
	version clientconfig.CLIVersion
	err     error // the version could not be read
}

// needsRuleSets reports whether this CLI needs the endpoint rule-set files:
// it reads no [services], or what it is could not be told.
func (c cliCheck) needsRuleSets() bool { return c.err != nil || !c.version.ReadsServices() }

func (c cliCheck) String() string {
	if c.err != nil {
		return fmt.Sprintf("%s: version unreadable (%v): needs the endpoint rule-set files, to be safe", c.path, c.err)
	}
	v := "AWS CLI " + c.version.String()
	if c.version.Major == 1 {
		v += fmt.Sprintf(" (botocore %d.%d)", c.version.BotocoreMajor, c.version.BotocoreMinor)
	}
	if c.version.ReadsServices() {
		return fmt.Sprintf("%s: %s reads [services]", c.path, v)
	}
	return fmt.Sprintf("%s: %s reads no [services] section (that came in 2.13; botocore 1.31 for AWS CLI v1): needs the endpoint rule-set files", c.path, v)
}

// checkCLIs runs `--version` on each CLI, in parallel.
func checkCLIs(ctx context.Context, paths []string) []cliCheck {
	checks := make([]cliCheck, len(paths))
	var wg sync.WaitGroup
	for i, p := range paths {
		wg.Go(func() {
			vctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			out, err := exec.CommandContext(vctx, p, "--version").CombinedOutput()
			v, perr := clientconfig.ParseCLIVersion(string(out))
			if err != nil {
				perr = err
			}
			checks[i] = cliCheck{path: p, version: v, err: perr}
		})
	}
	wg.Wait()
	return checks
}

// ruleSetReport says which CLIs were checked and whether the endpoint
// rule-set files are needed: by any CLI that needs them, or when none was
// found.
func ruleSetReport(awsCLI string, checks []cliCheck) (bool, string) {
	if len(checks) == 0 {
		return true, fmt.Sprintf("No AWS CLI found (%s): writing the endpoint rule-set files too, which AWS CLI v2 older than 2.13 needs.\n", awsCLI)
	}
	var b strings.Builder
	need := false
	fmt.Fprintf(&b, "Checked %d AWS CLI(s) with --version:\n", len(checks))
	for _, c := range checks {
		fmt.Fprintf(&b, "  %s\n", c)
		need = need || c.needsRuleSets()
	}
	if need {
		b.WriteString("Writing the endpoint rule-set files, which those read instead of [services]:\n")
	} else {
		b.WriteString("No endpoint rule-set files needed: every AWS CLI found reads [services].\n")
	}
	return need, b.String()
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// writeRuleSets writes the endpoint rule-set files into dir.
func writeRuleSets(stdout io.Writer, baseURL, dir string) error {
	files, err := clientconfig.RuleSets(baseURL)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, files[name], 0o644); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "wrote", p)
	}
	return nil
}

// validUntilLayout shows when a cached sign-in expires with its date and
// time zone: a token cached yesterday may end at 1:45 today or tomorrow.
const validUntilLayout = "Mon 2 Jan 2006 15:04 MST"

// checkServerURL refuses what cannot be the Gatehouse server's address: a
// URL without http(s), and an AWS start URL (https://d-….awsapps.com/start),
// which the banner prints right beside the portal's address but which is an
// identifier clients send, never fetched.
func checkServerURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("--url %q: want an http:// or https:// URL, the Gatehouse server's address", raw)
	}
	host := strings.ToLower(u.Hostname())
	if host == "awsapps.com" || strings.HasSuffix(host, ".awsapps.com") {
		return fmt.Errorf("--url %s is the start URL, an identifier clients send and never fetch, not the Gatehouse server's address: "+
			"pass --url the Gatehouse server's URL, what 'gatehouse serve' prints as \"Access portal\" without /start (e.g. https://gatehouse.example.com)", raw)
	}
	return nil
}

// discoverError explains why the discovery document could not be read:
// nothing answers at the URL, or something does that is not a Gatehouse
// server (only then may --start-url and --region help: an older Gatehouse
// has no discovery document).
func discoverError(baseURL string, err error) error {
	if op, ok := errors.AsType[*net.OpError](err); ok {
		return fmt.Errorf("cannot reach the Gatehouse server at %s (%v): check that --url is the server's address, what 'gatehouse serve' prints as \"Access portal\" without /start, and that the server is running", baseURL, op.Err)
	}
	if e, ok := errors.AsType[*ssoclient.Error](err); ok && e.Status == http.StatusNotFound {
		return fmt.Errorf("%s answers %s with 404 Not Found: is it the Gatehouse server's address (what 'gatehouse serve' prints as \"Access portal\", without /start)? "+
			"A Gatehouse older than this aws-config has no discovery document: then pass --start-url and --region too", baseURL, clientconfig.DiscoveryPath)
	}
	return err
}
