package main

import (
	"fmt"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
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
