package main

import (
	"flag"
	"fmt"
	"io"
	"slices"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/server"
)

// awsProfile is the AWS shared-config profile an admin-API command signs
// with: the --profile flag, else $AWS_PROFILE, else "default", as the AWS
// CLI chooses ("Configuration and credential file settings in the AWS
// CLI": profiles).
func awsProfile(flagValue string, getenv func(string) string) string {
	if flagValue != "" {
		return flagValue
	}
	if p := getenv("AWS_PROFILE"); p != "" {
		return p
	}
	return "default"
}

// cliActor is the audit actor of a command that works on the database
// directly: the management account's root, from "gatehouse.local", with
// the user agent "gatehouse/<version> <command>".
func cliActor(managementAccountID, command string) audit.Actor {
	return audit.Actor{Identity: audit.Identity{Type: "Root", PrincipalID: "gatehouse-cli", AccountID: managementAccountID},
		SourceIP: "gatehouse.local", UserAgent: "gatehouse/" + version + " " + command}
}

// commandVerb returns a command's verb, args[0], when it is one of verbs.
// No verb, or a request for help (-h, -help, --help, help), prints help to
// stderr and returns an error (flag.ErrHelp for the request); so does a
// verb not in verbs.
func commandVerb(command, help string, args []string, stderr io.Writer, verbs ...string) (string, error) {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, help)
		if len(args) == 0 {
			return "", fmt.Errorf("%s: no verb given", command)
		}
		return "", flag.ErrHelp
	}
	if !slices.Contains(verbs, args[0]) {
		fmt.Fprint(stderr, help)
		return "", fmt.Errorf("%s: unknown verb %q", command, args[0])
	}
	return args[0], nil
}

// verbFlags is the flag set of "command verb": errors and usage go to
// stderr, the usage being help followed by the flags.
func verbFlags(command, verb, help string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(command+" "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), help, "\nFlags:\n")
		printFlags(fs)
	}
	return fs
}

// requireDatabase refuses a SQLite data folder that holds no Gatehouse
// database, so that a command pointed at the wrong folder does not
// create an empty instance there; it returns the error of the check
// itself as is.
func requireDatabase(dataDir string) error {
	ok, err := server.HasDatabase(dataDir)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("the data folder %s holds no Gatehouse database (%s): pass the server's data folder with --data",
			absPath(dataDir), server.DatabaseFileName)
	}
	return nil
}

// loadDataConfig loads the configuration of a command that works on the
// server's database directly (config.LoadCommand with args): never the
// demo world or a seed file, and on SQLite a data folder that holds a
// Gatehouse database (requireDatabase). With publicURL, a public URL not
// given is the one the server last started with (server.ReadPublicURL),
// for commands that print or sign URLs the server answers at.
func loadDataConfig(command string, args []string, getenv func(string) string, stderr io.Writer, publicURL bool) (config.Config, error) {
	cfg, err := config.LoadCommand(command, args, getenv, stderr)
	if err != nil {
		return cfg, err
	}
	cfg.Demo, cfg.Seed = false, ""
	if cfg.DatabaseURL != "" {
		return cfg, nil
	}
	if err := requireDatabase(cfg.DataDir); err != nil {
		return cfg, err
	}
	if publicURL && cfg.PublicURL == "" {
		if cfg.PublicURL, err = server.ReadPublicURL(cfg.DataDir); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}
