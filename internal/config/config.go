// Package config holds Gatehouse's typed configuration and loads it from, in
// rising order of precedence, built-in defaults, an optional YAML file,
// GATEHOUSE_* environment variables and command-line flags.
package config

import (
	"bytes"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
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
	// SignInMaxFailures is the hard limit on consecutive failed sign-ins of
	// one user name from browsers without the user's known-device cookie:
	// 1 to 100 (NIST SP 800-63B §5.2.2), default 100.
	// Environment: GATEHOUSE_SIGNIN_MAX_FAILURES.
	SignInMaxFailures int `yaml:"signin_max_failures"`
	// SignInConcurrency is how many password hashes (argon2id, 19 MiB
	// each) run at once; 0 means the number of CPUs (at least 2). Sign-ins
	// beyond it and a short queue are answered 503 with Retry-After.
	// Environment: GATEHOUSE_SIGNIN_CONCURRENCY.
	SignInConcurrency int `yaml:"signin_concurrency"`
	// TrustedProxies are addresses or CIDRs whose X-Forwarded-For and
	// X-Forwarded-Proto headers are believed.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// TLSCert and TLSKey, when both set, make the server speak HTTPS.
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// MasterKey is the base64 key that seals secrets at rest; empty means
	// the file master.key in DataDir, created on first start.
	MasterKey string `yaml:"-"`
	// DemoPassword is the password of the demo users; empty means a
	// generated one, printed at start.
	DemoPassword string `yaml:"-"`

	// Now and Rand are the clock and randomness (tests pin them).
	Now  func() time.Time `yaml:"-"`
	Rand io.Reader        `yaml:"-"`
}

// Default returns the configuration used when nothing is set.
func Default() Config {
	return Config{
		Listen:                "127.0.0.1:7080",
		DataDir:               "gatehouse-data",
		Region:                "us-east-1",
		LogLevel:              "info",
		PortalSessionDuration: 8 * time.Hour,
		SignInMaxFailures:     100,
		Now:                   time.Now,
		Rand:                  rand.Reader,
	}
}

// Load builds the configuration from args (without the program and
// subcommand names) and getenv. The YAML file is named by -config or
// GATEHOUSE_CONFIG.
func Load(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	c := Default()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configFile := fs.String("config", getenv("GATEHOUSE_CONFIG"), "YAML configuration `file`")
	var f Config
	var dur string
	var proxies string
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
	fs.StringVar(&proxies, "trusted-proxies", "", "comma-separated proxy addresses or CIDRs")
	fs.StringVar(&f.TLSCert, "tls-cert", "", "TLS certificate `file`")
	fs.StringVar(&f.TLSKey, "tls-key", "", "TLS key `file`")
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
	env("GATEHOUSE_DEMO_PASSWORD", &c.DemoPassword)
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
	if c.SignInMaxFailures < 1 || c.SignInMaxFailures > 100 {
		errs = append(errs, fmt.Errorf("signin_max_failures: %d is outside 1 to 100", c.SignInMaxFailures))
	}
	if c.SignInConcurrency < 0 || c.SignInConcurrency > 1024 {
		errs = append(errs, fmt.Errorf("signin_concurrency: %d is outside 0 to 1024", c.SignInConcurrency))
	}
	for _, p := range c.TrustedProxies {
		if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
			errs = append(errs, fmt.Errorf("trusted proxies: %q is not an address or CIDR", p))
		}
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("tls: set both tls-cert and tls-key, or neither"))
	}
	return errors.Join(errs...)
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
