package clientconfig

import (
	"fmt"
	"regexp"
	"strconv"
)

// CLIVersion is what `aws --version` reports.
type CLIVersion struct {
	// Major, Minor, Patch are the aws-cli version (1.x is the pip CLI).
	Major, Minor, Patch int
	// Botocore is the botocore version AWS CLI v1 names ("botocore/1.43.11");
	// zero for v2, which bundles its own.
	BotocoreMajor, BotocoreMinor int
}

func (v CLIVersion) String() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch) }

var (
	cliVersionRe      = regexp.MustCompile(`aws-cli/(\d+)\.(\d+)\.(\d+)`)
	botocoreVersionRe = regexp.MustCompile(`botocore/(\d+)\.(\d+)`)
)

// ParseCLIVersion reads the first line `aws --version` prints, e.g.
// "aws-cli/2.9.19 Python/3.11.2 Linux/6.1 source/x86_64.debian.12 prompt/off"
// or "aws-cli/1.45.11 Python/3.11.7 Linux/6.1 botocore/1.43.11".
func ParseCLIVersion(out string) (CLIVersion, error) {
	m := cliVersionRe.FindStringSubmatch(out)
	if m == nil {
		return CLIVersion{}, fmt.Errorf("not an AWS CLI version: %q", out)
	}
	var v CLIVersion
	v.Major, _ = strconv.Atoi(m[1])
	v.Minor, _ = strconv.Atoi(m[2])
	v.Patch, _ = strconv.Atoi(m[3])
	if b := botocoreVersionRe.FindStringSubmatch(out); b != nil {
		v.BotocoreMajor, _ = strconv.Atoi(b[1])
		v.BotocoreMinor, _ = strconv.Atoi(b[2])
	}
	return v, nil
}

// ReadsServices reports whether this CLI honours [services] sections and
// AWS_ENDPOINT_URL_*: AWS CLI v2 from 2.13.0, and v1 on botocore from
// 1.31.0 (both changelogs, "configured endpoints", July 2023). Older ones
// need the endpoint rule-set files (RuleSets).
func (v CLIVersion) ReadsServices() bool {
	switch {
	case v.Major >= 3:
		return true
	case v.Major == 2:
		return v.Minor >= 13
	case v.Major == 1:
		return v.BotocoreMajor > 1 || (v.BotocoreMajor == 1 && v.BotocoreMinor >= 31)
	}
	return false
}
