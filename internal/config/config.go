// Package config holds Gatehouse's typed configuration and loads it from, in
// rising order of precedence, built-in defaults, an optional YAML file,
// GATEHOUSE_* environment variables and command-line flags.
package config

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/gatehouse-dev/gatehouse/internal/awsaccounts"
	"github.com/gatehouse-dev/gatehouse/internal/mail"
)

// Config is the whole configuration of a Gatehouse server.
type Config struct {
	// Listen is the TCP address the server listens on.
	Listen string `yaml:"listen"`
	// DataDir holds the SQLite database and the master key file.
	DataDir string `yaml:"data"`
	// DatabaseURL selects PostgreSQL when it is a postgres:// URL; empty
	// means SQLite in DataDir.
	DatabaseURL string `yaml:"database_url"`
	// PublicURL is the URL people and clients reach the server at. Empty
	// means http://<Listen>.
	PublicURL string `yaml:"public_url"`
	// Region is the instance's home region.
	Region string `yaml:"region"`
	// StartURL overrides the start URL identifier handed to clients
	// (default https://<identity-store-id>.awsapps.com/start).
	StartURL string `yaml:"start_url"`
	// Demo loads the demo world at start.
	Demo bool `yaml:"demo"`
	// Seed is a declarative world file loaded at start.
	Seed string `yaml:"seed"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `yaml:"log_level"`
	// PortalSessionDuration is how long a sign-in lasts (and so every
	// refresh token issued under it): 15m to 90 days.
	PortalSessionDuration time.Duration `yaml:"portal_session_duration"`
	// AuditRetention is how long audit events are kept: the background
	// sweep deletes older ones. 0 keeps them forever. Default 8760h (365
	// days); at least 24h when set.
	AuditRetention time.Duration `yaml:"audit_retention"`
	// RefreshGrace is how long after a refresh token is rotated it may be
	// presented again and get the tokens its first use issued, instead of
	// revoking the whole sign-in as a replay (RFC 9700 §4.14.2). Clients
	// that share one sso-session refresh at the same moment without a lock
	// (AWS CLI, Terraform provider aliases, parallel scripts); all but the
	// first present a just-rotated token. 0 turns the grace off; at most 5
	// minutes. Default 30 s.
	RefreshGrace time.Duration `yaml:"refresh_grace"`
	// SignInMaxFailures is the hard limit on consecutive failed sign-ins of
	// one user name from browsers without the user's known-device cookie:
	// 1 to 100 (NIST SP 800-63B §5.2.2), default 100.
	// Environment: GATEHOUSE_SIGNIN_MAX_FAILURES.
	SignInMaxFailures int `yaml:"signin_max_failures"`
	// SignInConcurrency is how many password hashes (argon2id, 19 MiB
	// each) run at once; 0 means the number of CPUs (at least 2). Sign-ins
	// beyond it and a short queue are answered 503 with Retry-After. One
	// source address (an IPv6 /64) holds at most this many of the running
	// and queued places, and sign-ins with the user's known-device cookie
	// hash in a gate of their own, half this size (at least 1).
	// Environment: GATEHOUSE_SIGNIN_CONCURRENCY.
	SignInConcurrency int `yaml:"signin_concurrency"`
	// DebugAddr, when set, is a loopback address (an IP literal in
	// 127.0.0.0/8 or ::1, with a port) where the server answers
	// net/http/pprof's heap, CPU and other profiles under /debug/pprof/,
	// on a listener of its own: never on Listen. Profiles show memory
	// and command lines and cost CPU, so any other address is refused;
	// reach a remote server's through an SSH tunnel. Environment:
	// GATEHOUSE_DEBUG_ADDR.
	DebugAddr string `yaml:"debug_addr"`
	// TrustedProxies are addresses or CIDRs whose X-Forwarded-For and
	// X-Forwarded-Proto headers are believed.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// TLSCert and TLSKey, when both set, make the server speak HTTPS.
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// MasterKey is the base64 key that seals secrets at rest; empty means
	// the key in MasterKeyFile.
	MasterKey string `yaml:"-"`
	// MasterKeyFile is the file holding the master key (base64), created
	// with a fresh key (mode 0600) on first start; empty means master.key
	// in DataDir. Keep it outside DataDir so that a backup of the folder
	// does not carry the key beside the database it protects.
	MasterKeyFile string `yaml:"master_key_file"`
	// DemoPassword is the password of the demo users; empty means a
	// generated one, printed at start.
	DemoPassword string `yaml:"-"`
	// SMTPURL is the SMTP server invitations, password-reset links and
	// security notices are sent through: smtp://user:password@host:port
	// (STARTTLS when the server offers it, default port 587) or smtps://
	// (implicit TLS, default port 465). Empty means no server: messages go
	// to the log and to the outbox administrators see. It holds a
	// password, so it never shows in logs.
	// Environment: GATEHOUSE_SMTP_URL.
	SMTPURL mail.Secret `yaml:"smtp_url"`
	// SMTPFrom is the sender address of that mail, e.g.
	// "Gatehouse <gatehouse@example.com>"; required with SMTPURL.
	// Environment: GATEHOUSE_SMTP_FROM.
	SMTPFrom string `yaml:"smtp_from"`
	// AWSEndpoint, with Demo, links the demo's member accounts (every
	// account but the management account) at start to the AWS stand-in at
	// that URL (moto_server), with AWSAccessKeyID and AWSSecretAccessKey
	// as base credentials assuming OrganizationAccountAccessRole in each.
	// Environment: GATEHOUSE_AWS_ENDPOINT.
	AWSEndpoint string `yaml:"aws_endpoint"`
	// AWSEndpointAllow lists the IAM/STS endpoints (http or https URLs of
	// a host and port) that linked accounts may use besides real AWS,
	// which is always allowed. Linking through the admin API or the
	// console to another endpoint is refused, and a stored link whose
	// endpoint is no longer listed gets no SAML assertions nor signed
	// calls. AWSEndpoint is added with Demo. The offline `gatehouse
	// accounts link` does not check it. Environment:
	// GATEHOUSE_AWS_ENDPOINT_ALLOW (comma-separated).
	AWSEndpointAllow []string `yaml:"aws_endpoint_allow"`
	// AWSAccessKeyID is the base access key of the demo's links (default
	// DemoAWSAccessKeyID, which moto accepts). Environment:
	// GATEHOUSE_AWS_ACCESS_KEY_ID.
	AWSAccessKeyID string `yaml:"aws_access_key_id"`
	// AWSSecretAccessKey is its secret (default DemoAWSSecretAccessKey);
	// environment only: GATEHOUSE_AWS_SECRET_ACCESS_KEY.
	AWSSecretAccessKey awsaccounts.Secret `yaml:"-"`
	// SMTPTLSConfig, when set, replaces the TLS settings of the SMTP client
	// (tests trust their in-process server's certificate with it).
	SMTPTLSConfig *tls.Config `yaml:"-"`

	// Now and Rand are the clock and randomness (tests pin them).
	Now  func() time.Time `yaml:"-"`
	Rand io.Reader        `yaml:"-"`
	// WebIdentityClient fetches OpenID Connect issuers' discovery documents
	// and key sets for AssumeRoleWithWebIdentity, and talks to the OIDC
	// identity source's provider; nil means
	// http.DefaultClient (tests pin one that trusts their in-process
	// issuer). Requests are bounded to 10 s each.
	WebIdentityClient *http.Client `yaml:"-"`
}

// The demo's default base credentials for --aws-endpoint: AWS's documented
// example key pair (AWS docs, "Managing access keys for IAM users"), which
// moto_server accepts as any other.
const (
	DemoAWSAccessKeyID     = "AKIAIOSFODNN7EXAMPLE"
	DemoAWSSecretAccessKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

// DefaultAuditRetention is AuditRetention when nothing is set: 365 days.
const DefaultAuditRetention = 365 * 24 * time.Hour

// Default returns the configuration used when nothing is set.
func Default() Config {
	return Config{
		Listen:                "127.0.0.1:7080",
		DataDir:               "gatehouse-data",
		Region:                "us-east-1",
		LogLevel:              "info",
		PortalSessionDuration: 8 * time.Hour,
		AuditRetention:        DefaultAuditRetention,
		RefreshGrace:          30 * time.Second,
		SignInMaxFailures:     100,
		Now:                   time.Now,
		Rand:                  rand.Reader,
	}
}

// Load builds the configuration of `gatehouse serve` from args (without
// the program and subcommand names) and getenv. The YAML file is named by
// -config or GATEHOUSE_CONFIG.
func Load(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	return LoadCommand("serve", args, getenv, stderr)
}

// EnvOnly are the settings with no flag: secrets (kept off the command
// line, where ps shows them) and the sign-in limits. Help lists them.
var EnvOnly = []struct{ Name, Help string }{
	{"GATEHOUSE_MASTER_KEY", "base64 master key sealing secrets at rest (instead of a key file)"},
	{"GATEHOUSE_DEMO_PASSWORD", "password of the demo users (default: generated, printed at start)"},
	{"GATEHOUSE_AWS_SECRET_ACCESS_KEY", "secret access key of --aws-endpoint's base credentials (default: AWS's example key, for moto)"},
	{"GATEHOUSE_SIGNIN_MAX_FAILURES", "consecutive failed sign-ins of one user before the hard limit, 1 to 100 (default 100)"},
	{"GATEHOUSE_SIGNIN_CONCURRENCY", "password hashes run at once (default: the number of CPUs, at least 2)"},
}

// envForFlag names the environment variable of each flag (the YAML file
// has the same settings, with _ for -).
var envForFlag = map[string]string{
	"config": "GATEHOUSE_CONFIG", "listen": "GATEHOUSE_LISTEN", "data": "GATEHOUSE_DATA",
	"database-url": "GATEHOUSE_DATABASE_URL", "public-url": "GATEHOUSE_PUBLIC_URL", "region": "GATEHOUSE_REGION",
	"start-url": "GATEHOUSE_START_URL", "seed": "GATEHOUSE_SEED", "log-level": "GATEHOUSE_LOG_LEVEL",
	"portal-session-duration": "GATEHOUSE_PORTAL_SESSION_DURATION", "audit-retention": "GATEHOUSE_AUDIT_RETENTION",
	"refresh-grace": "GATEHOUSE_REFRESH_GRACE", "trusted-proxies": "GATEHOUSE_TRUSTED_PROXIES",
	"tls-cert": "GATEHOUSE_TLS_CERT", "tls-key": "GATEHOUSE_TLS_KEY", "master-key-file": "GATEHOUSE_MASTER_KEY_FILE",
	"demo": "GATEHOUSE_DEMO", "smtp-url": "GATEHOUSE_SMTP_URL", "smtp-from": "GATEHOUSE_SMTP_FROM",
	"aws-endpoint": "GATEHOUSE_AWS_ENDPOINT", "aws-access-key-id": "GATEHOUSE_AWS_ACCESS_KEY_ID",
	"aws-endpoint-allow": "GATEHOUSE_AWS_ENDPOINT_ALLOW", "debug-addr": "GATEHOUSE_DEBUG_ADDR",
}

// commandHelp is the first lines of each command's help.
var commandHelp = map[string]string{
	"serve":   "Usage: gatehouse serve [flags]\n\nRuns the Gatehouse server until interrupted.\n",
	"migrate": "Usage: gatehouse migrate [flags]\n\nCreates or upgrades the database named by --data or --database-url, then exits.\nIt refuses a SQLite data folder a running Gatehouse is using.\n",
}

// LoadCommand is Load for the subcommand name, which names itself in its
// help (-h), with every flag, its environment variable, and the settings
// only the environment holds.
func LoadCommand(name string, args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	c := Default()
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		out := fs.Output()
		head := commandHelp[name]
		if head == "" {
			head = "Usage: gatehouse " + name + " [flags]\n"
		}
		fmt.Fprint(out, head, "\nFlags (each also read from the environment variable named after it, and\nfrom the YAML file of --config):\n")
		fs.PrintDefaults()
		fmt.Fprint(out, "\nEnvironment only (no flag; the sign-in limits also in the YAML file):\n")
		for _, e := range EnvOnly {
			fmt.Fprintf(out, "  %s\n    \t%s\n", e.Name, e.Help)
		}
	}
	configFile := fs.String("config", getenv("GATEHOUSE_CONFIG"), "YAML configuration `file`")
	var f Config
	var dur string
	var retention string
	var grace string
	var proxies string
	var smtpURL string
	var endpointAllow listFlag
	fs.StringVar(&f.Listen, "listen", "", "`address` to listen on (default "+c.Listen+")")
	fs.StringVar(&f.DataDir, "data", "", "`folder` for the SQLite database and key file (default "+c.DataDir+")")
	fs.StringVar(&f.DatabaseURL, "database-url", "", "postgres:// `URL`; selects PostgreSQL instead of SQLite")
	fs.StringVar(&f.PublicURL, "public-url", "", "`URL` people and clients reach the server at (default http://<listen>)")
	fs.StringVar(&f.Region, "region", "", "home `region` (default "+c.Region+")")
	fs.StringVar(&f.StartURL, "start-url", "", "start URL `identifier` handed to clients (default https://<identity-store-id>.awsapps.com/start)")
	demo := fs.Bool("demo", false, "load the demo world")
	fs.StringVar(&f.Seed, "seed", "", "load a declarative world `file`")
	fs.StringVar(&f.LogLevel, "log-level", "", "debug, info, warn or error")
	fs.StringVar(&dur, "portal-session-duration", "", "how long a sign-in lasts (default 8h)")
	fs.StringVar(&retention, "audit-retention", "", "how long audit events are kept, e.g. 2160h; 0 keeps them forever (default 8760h)")
	fs.StringVar(&grace, "refresh-grace", "", "how long a just-rotated refresh token is accepted again, 0 for never (default 30s)")
	fs.StringVar(&proxies, "trusted-proxies", "", "comma-separated proxy addresses or CIDRs")
	fs.StringVar(&f.TLSCert, "tls-cert", "", "TLS certificate `file`")
	fs.StringVar(&f.TLSKey, "tls-key", "", "TLS key `file`")
	fs.StringVar(&smtpURL, "smtp-url", "", "SMTP server `URL` for invitations and notices: smtp://user:password@host:587 (STARTTLS when offered) or smtps://...:465 (implicit TLS); none: mail goes to the log and the admins' outbox")
	fs.StringVar(&f.SMTPFrom, "smtp-from", "", "sender `address` of that mail, e.g. \"Gatehouse <gatehouse@example.com>\"")
	fs.StringVar(&f.AWSEndpoint, "aws-endpoint", "", "with --demo: link the demo's member accounts to the AWS stand-in at `URL` (moto_server)")
	fs.Var(&endpointAllow, "aws-endpoint-allow", "IAM/STS endpoint `URL`s (scheme://host:port; repeat the flag or separate with commas) that "+
		"linked accounts may use besides real AWS, which is always allowed; the admin API and console refuse others, and stored links "+
		"to an endpoint no longer listed get no credentials nor provisioning. --demo's --aws-endpoint is added. gatehouse accounts link "+
		"(offline, the operator) does not check it")
	fs.StringVar(&f.AWSAccessKeyID, "aws-access-key-id", "", "base access `key` of --aws-endpoint's links (default "+DemoAWSAccessKeyID+")")
	fs.StringVar(&f.DebugAddr, "debug-addr", "", "loopback `address` (e.g. 127.0.0.1:6060) serving Go's profiles (net/http/pprof) at /debug/pprof/ "+
		"on a listener of its own; other addresses are refused (default: off)")
	fs.StringVar(&f.MasterKeyFile, "master-key-file", "", "`file` holding the master key, created on first start (default <data>/master.key)")
	fs.VisitAll(func(f *flag.Flag) {
		if env := envForFlag[f.Name]; env != "" {
			f.Usage += " [" + env + "]"
		}
	})
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}

	if *configFile != "" {
		data, err := os.ReadFile(*configFile)
		if err != nil {
			return c, fmt.Errorf("read config: %w", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
			return c, fmt.Errorf("config %s: %w", *configFile, err)
		}
	}

	var problems []error
	env := func(name string, dst *string) {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	env("GATEHOUSE_LISTEN", &c.Listen)
	env("GATEHOUSE_DATA", &c.DataDir)
	env("GATEHOUSE_DATABASE_URL", &c.DatabaseURL)
	env("GATEHOUSE_PUBLIC_URL", &c.PublicURL)
	env("GATEHOUSE_REGION", &c.Region)
	env("GATEHOUSE_START_URL", &c.StartURL)
	env("GATEHOUSE_SEED", &c.Seed)
	env("GATEHOUSE_LOG_LEVEL", &c.LogLevel)
	env("GATEHOUSE_TLS_CERT", &c.TLSCert)
	env("GATEHOUSE_TLS_KEY", &c.TLSKey)
	env("GATEHOUSE_MASTER_KEY", &c.MasterKey)
	env("GATEHOUSE_MASTER_KEY_FILE", &c.MasterKeyFile)
	env("GATEHOUSE_DEMO_PASSWORD", &c.DemoPassword)
	env("GATEHOUSE_SMTP_FROM", &c.SMTPFrom)
	env("GATEHOUSE_AWS_ENDPOINT", &c.AWSEndpoint)
	env("GATEHOUSE_AWS_ACCESS_KEY_ID", &c.AWSAccessKeyID)
	env("GATEHOUSE_DEBUG_ADDR", &c.DebugAddr)
	if v := getenv("GATEHOUSE_AWS_SECRET_ACCESS_KEY"); v != "" {
		c.AWSSecretAccessKey = awsaccounts.Secret(v)
	}
	if v := getenv("GATEHOUSE_SMTP_URL"); v != "" {
		c.SMTPURL = mail.Secret(v)
	}
	if v := getenv("GATEHOUSE_DEMO"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			problems = append(problems, fmt.Errorf("GATEHOUSE_DEMO: %q is not a boolean", v))
		}
		c.Demo = b
	}
	for name, dst := range map[string]*int{
		"GATEHOUSE_SIGNIN_MAX_FAILURES": &c.SignInMaxFailures,
		"GATEHOUSE_SIGNIN_CONCURRENCY":  &c.SignInConcurrency,
	} {
		if v := getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				problems = append(problems, fmt.Errorf("%s: %q is not a whole number", name, v))
			}
			*dst = n
		}
	}
	if v := getenv("GATEHOUSE_PORTAL_SESSION_DURATION"); v != "" && dur == "" {
		dur = v
	}
	if v := getenv("GATEHOUSE_AUDIT_RETENTION"); v != "" && retention == "" {
		retention = v
	}
	if v := getenv("GATEHOUSE_REFRESH_GRACE"); v != "" && grace == "" {
		grace = v
	}
	if v := getenv("GATEHOUSE_AWS_ENDPOINT_ALLOW"); v != "" && len(endpointAllow) == 0 {
		endpointAllow.Set(v)
	}
	if len(endpointAllow) > 0 {
		c.AWSEndpointAllow = endpointAllow
	}
	if v := getenv("GATEHOUSE_TRUSTED_PROXIES"); v != "" && proxies == "" {
		proxies = v
	}

	set := func(flagVal string, dst *string) {
		if flagVal != "" {
			*dst = flagVal
		}
	}
	set(f.Listen, &c.Listen)
	set(f.DataDir, &c.DataDir)
	set(f.DatabaseURL, &c.DatabaseURL)
	set(f.PublicURL, &c.PublicURL)
	set(f.Region, &c.Region)
	set(f.StartURL, &c.StartURL)
	set(f.Seed, &c.Seed)
	set(f.LogLevel, &c.LogLevel)
	set(f.TLSCert, &c.TLSCert)
	set(f.TLSKey, &c.TLSKey)
	set(f.MasterKeyFile, &c.MasterKeyFile)
	set(f.SMTPFrom, &c.SMTPFrom)
	set(f.AWSEndpoint, &c.AWSEndpoint)
	set(f.AWSAccessKeyID, &c.AWSAccessKeyID)
	set(f.DebugAddr, &c.DebugAddr)
	if smtpURL != "" {
		c.SMTPURL = mail.Secret(smtpURL)
	}
	if *demo {
		c.Demo = true
	}
	if dur != "" {
		d, err := time.ParseDuration(dur)
		if err != nil {
			problems = append(problems, fmt.Errorf("portal session duration: %w", err))
		}
		c.PortalSessionDuration = d
	}
	if retention != "" {
		d, err := time.ParseDuration(retention)
		if err != nil {
			problems = append(problems, fmt.Errorf("audit retention: %w", err))
		}
		c.AuditRetention = d
	}
	if grace != "" {
		d, err := time.ParseDuration(grace)
		if err != nil {
			problems = append(problems, fmt.Errorf("refresh grace: %w", err))
		}
		c.RefreshGrace = d
	}
	if proxies != "" {
		c.TrustedProxies = nil
		for _, p := range strings.Split(proxies, ",") {
			if p = strings.TrimSpace(p); p != "" {
				c.TrustedProxies = append(c.TrustedProxies, p)
			}
		}
	}
	if err := errors.Join(problems...); err != nil {
		return c, err
	}
	return c, c.Validate()
}

var regionRe = regexp.MustCompile(`^([a-z]+-){2,3}\d$`)

// Validate reports every problem with c at once.
func (c *Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("listen: %q is not host:port", c.Listen))
	}
	if c.DatabaseURL == "" && c.DataDir == "" {
		errs = append(errs, errors.New("data: a data folder is needed when no database URL is set"))
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		errs = append(errs, errors.New("database-url: only postgres:// URLs are supported"))
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("public-url: %q is not an http(s) URL", c.PublicURL))
		}
	}
	if !regionRe.MatchString(c.Region) {
		errs = append(errs, fmt.Errorf("region: %q is not a region name like us-east-1", c.Region))
	}
	if c.StartURL != "" {
		u, err := url.Parse(c.StartURL)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			errs = append(errs, fmt.Errorf("start-url: %q is not an https URL", c.StartURL))
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log-level: %q is not debug, info, warn or error", c.LogLevel))
	}
	if c.PortalSessionDuration < 15*time.Minute || c.PortalSessionDuration > 90*24*time.Hour {
		errs = append(errs, fmt.Errorf("portal session duration: %s is outside 15m to 2160h (90 days)", c.PortalSessionDuration))
	}
	if c.AuditRetention < 0 || (c.AuditRetention > 0 && c.AuditRetention < 24*time.Hour) {
		errs = append(errs, fmt.Errorf("audit retention: %s is neither 0 (keep forever) nor at least 24h", c.AuditRetention))
	}
	if c.RefreshGrace < 0 || c.RefreshGrace > 5*time.Minute {
		errs = append(errs, fmt.Errorf("refresh grace: %s is outside 0 (off) to 5m", c.RefreshGrace))
	}
	if c.SignInMaxFailures < 1 || c.SignInMaxFailures > 100 {
		errs = append(errs, fmt.Errorf("signin_max_failures: %d is outside 1 to 100", c.SignInMaxFailures))
	}
	if c.SignInConcurrency < 0 || c.SignInConcurrency > 1024 {
		errs = append(errs, fmt.Errorf("signin_concurrency: %d is outside 0 to 1024", c.SignInConcurrency))
	}
	if c.DebugAddr != "" {
		if err := checkDebugAddr(c.DebugAddr); err != nil {
			errs = append(errs, err)
		}
	}
	for _, p := range c.TrustedProxies {
		if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
			errs = append(errs, fmt.Errorf("trusted proxies: %q is not an address or CIDR", p))
		}
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("tls: set both tls-cert and tls-key, or neither"))
	}
	if c.SMTPURL != "" {
		if _, err := c.SMTP(); err != nil {
			errs = append(errs, err)
		}
	} else if c.SMTPFrom != "" {
		errs = append(errs, errors.New("smtp-from: set smtp-url too, or mail is not sent"))
	}
	if c.AWSEndpoint != "" {
		if u, err := url.Parse(c.AWSEndpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("aws-endpoint: %q is not an http or https URL", c.AWSEndpoint))
		}
		if !c.Demo {
			errs = append(errs, errors.New("aws-endpoint: links the demo's accounts, so it goes with --demo; link other accounts with gatehouse accounts link"))
		}
	}
	for _, e := range c.AWSEndpointAllow {
		if _, err := awsaccounts.CanonicalEndpoint(e); err != nil {
			errs = append(errs, fmt.Errorf("aws-endpoint-allow: %w", err))
		}
	}
	if c.MasterKey != "" && c.MasterKeyFile != "" {
		errs = append(errs, errors.New("master key: set GATEHOUSE_MASTER_KEY or master-key-file, not both"))
	}
	if c.MasterKey == "" && c.MasterKeyFile == "" && c.DataDir == "" {
		errs = append(errs, errors.New("master key: set GATEHOUSE_MASTER_KEY, master-key-file or a data folder"))
	}
	return errors.Join(errs...)
}

// checkDebugAddr refuses a DebugAddr that is not host:port with host a
// loopback IP literal: a name may resolve elsewhere, and an empty host or
// 0.0.0.0 listens on every interface.
func checkDebugAddr(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("debug-addr: %q is not host:port, e.g. 127.0.0.1:6060", addr)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("debug-addr: %q is not a loopback address: profiles are served on 127.0.0.1 or [::1] only "+
			"(e.g. 127.0.0.1:6060; reach a remote server's through an SSH tunnel)", addr)
	}
	return nil
}

// AWSEndpointsAllowed is AWSEndpointAllow with AWSEndpoint (the demo's
// stand-in) added when it is set: the endpoints linked accounts may use
// besides real AWS.
func (c *Config) AWSEndpointsAllowed() []string {
	out := append([]string(nil), c.AWSEndpointAllow...)
	if c.AWSEndpoint != "" {
		out = append(out, c.AWSEndpoint)
	}
	return out
}

// listFlag is a flag given any number of times, each a comma-separated
// list; blanks are dropped.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*l = append(*l, p)
		}
	}
	return nil
}

// SMTP returns the SMTP server mail is sent through, or nil when none is
// configured.
func (c *Config) SMTP() (*mail.SMTP, error) {
	if c.SMTPURL == "" {
		return nil, nil
	}
	s, err := mail.ParseURL(string(c.SMTPURL), c.SMTPFrom)
	if err != nil {
		return nil, err
	}
	s.TLSConfig = c.SMTPTLSConfig
	return s, nil
}

// MasterKeyPath is the file the master key is read from (and created in)
// when MasterKey is empty: MasterKeyFile, or master.key in DataDir.
func (c *Config) MasterKeyPath() string {
	if c.MasterKeyFile != "" {
		return c.MasterKeyFile
	}
	return filepath.Join(c.DataDir, "master.key")
}

// MasterKeyBesideDatabase reports whether the master key file lies inside
// the data folder that also holds the SQLite database, so that a copy of
// the folder carries both the sealed secrets and the key that opens them.
func (c *Config) MasterKeyBesideDatabase() bool {
	if c.MasterKey != "" || c.DatabaseURL != "" {
		return false
	}
	dir, err1 := filepath.Abs(c.DataDir)
	key, err2 := filepath.Abs(c.MasterKeyPath())
	if err1 != nil || err2 != nil {
		return true
	}
	rel, err := filepath.Rel(dir, key)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// BaseURL is the public URL without a trailing slash.
func (c *Config) BaseURL() string {
	if c.PublicURL != "" {
		return strings.TrimRight(c.PublicURL, "/")
	}
	scheme := "http"
	if c.TLSCert != "" {
		scheme = "https"
	}
	return scheme + "://" + c.Listen
}
