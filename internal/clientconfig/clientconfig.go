// Package clientconfig writes what AWS clients need to reach Gatehouse: the
// sso-session and profile sections of ~/.aws/config, the endpoint settings
// in each form clients read ([services] sections, AWS_ENDPOINT_URL_*
// variables) and, for AWS CLI v2 older than 2.13 which reads neither, the
// endpoint rule-set files in ~/.aws/models (spec/clients.md §1.2).
package clientconfig

import (
	"cmp"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"
)

// Endpoint services: the botocore service name, its API version (the
// folder of its rule-set file), its [services] key and its environment
// variable.
type service struct {
	name, version, key, env string
}

var services = []service{
	{"sso-oidc", "2019-06-10", "sso_oidc", "AWS_ENDPOINT_URL_SSO_OIDC"},
	{"sso", "2019-06-10", "sso", "AWS_ENDPOINT_URL_SSO"},
	{"sts", "2011-06-15", "sts", "AWS_ENDPOINT_URL_STS"},
	{"sso-admin", "2020-07-20", "sso_admin", "AWS_ENDPOINT_URL_SSO_ADMIN"},
	{"identitystore", "2020-06-15", "identitystore", "AWS_ENDPOINT_URL_IDENTITYSTORE"},
	{"iam", "2010-05-08", "iam", "AWS_ENDPOINT_URL_IAM"},
	{"organizations", "2016-11-28", "organizations", "AWS_ENDPOINT_URL_ORGANIZATIONS"},
	{"cloudtrail", "2013-11-01", "cloudtrail", "AWS_ENDPOINT_URL_CLOUDTRAIL"},
}

// Session describes an sso-session.
type Session struct {
	Name     string // sso-session name, e.g. "gatehouse"
	StartURL string
	Region   string
	BaseURL  string // Gatehouse's URL
}

// SessionSection returns the [sso-session] section.
func (s Session) SessionSection() string {
	return fmt.Sprintf("[sso-session %s]\nsso_start_url = %s\nsso_region = %s\nsso_registration_scopes = sso:account:access\n",
		s.Name, s.StartURL, s.Region)
}

// ServicesSection returns the [services] section that points every
// Gatehouse-served API at BaseURL (AWS CLI ≥ 2.13, boto3, the Go SDK).
func (s Session) ServicesSection() string {
	var b strings.Builder
	fmt.Fprintf(&b, "[services %s]\n", s.Name)
	for _, svc := range services {
		fmt.Fprintf(&b, "%s =\n  endpoint_url = %s\n", svc.key, s.BaseURL)
	}
	return b.String()
}

// DefaultSection returns the [default] section that names the session's
// [services] section. AWS CLI 2.13 and newer read the default profile's
// endpoints for `aws sso login --sso-session` and `aws sso logout` without
// --profile; without it they send the token to AWS's own portal.
func (s Session) DefaultSection() string {
	return "[default]\nservices = " + s.Name + "\n"
}

// EnvVars returns the AWS_ENDPOINT_URL_* assignments, one per line.
func (s Session) EnvVars() string {
	var b strings.Builder
	for _, svc := range services {
		fmt.Fprintf(&b, "%s=%s\n", svc.env, s.BaseURL)
	}
	return b.String()
}

// Profile is one [profile] section.
type Profile struct {
	Name      string
	AccountID string
	RoleName  string // the permission set name
	Region    string // default client region
}

// Section returns the [profile] section, pointing at the session and its
// [services] section.
func (p Profile) Section(s Session) string {
	return fmt.Sprintf("[profile %s]\nsso_session = %s\nsso_account_id = %s\nsso_role_name = %s\nregion = %s\nservices = %s\n",
		p.Name, s.Name, p.AccountID, p.RoleName, p.Region, s.Name)
}

// cleanName lowers s and replaces every character a profile name should
// not hold with '-'.
func cleanName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '-'
	}, strings.ToLower(s))
}

// baseName is a role's preferred profile name: the account's name for its
// first role, then account name and role (without "Access"); an account
// whose name cleans to nothing is named by its ID.
func baseName(r Role, first bool) string {
	account := cleanName(r.AccountName)
	if strings.Trim(account, "-_.") == "" {
		account = r.AccountID
	}
	if first {
		return account
	}
	return account + "-" + cleanName(strings.TrimSuffix(r.RoleName, "Access"))
}

// RuleSets returns endpoint rule-set files that send the Gatehouse-served
// services to baseURL, keyed by their path under a models folder
// (~/.aws/models or $AWS_DATA_PATH). An explicit --endpoint-url still wins.
func RuleSets(baseURL string) (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, svc := range services {
		params := map[string]ruleParam{
			"Region":       {Builtin: "AWS::Region", Required: false, Type: "String", Documentation: "The AWS region used to dispatch the request."},
			"UseDualStack": {Builtin: "AWS::UseDualStack", Required: true, Default: false, Type: "Boolean", Documentation: "Use the dual-stack endpoint."},
			"UseFIPS":      {Builtin: "AWS::UseFIPS", Required: true, Default: false, Type: "Boolean", Documentation: "Use the FIPS endpoint."},
			"Endpoint":     {Builtin: "SDK::Endpoint", Required: false, Type: "String", Documentation: "Override the endpoint used to send this request"},
		}
		if svc.name == "sts" {
			params["UseGlobalEndpoint"] = ruleParam{Builtin: "AWS::STS::UseGlobalEndpoint", Required: true, Default: false, Type: "Boolean", Documentation: "Whether the global endpoint should be used."}
		}
		rs := ruleSet{
			Version:    "1.0",
			Parameters: params,
			Rules: []rule{
				{
					Conditions: []condition{{Fn: "isSet", Argv: []any{map[string]string{"ref": "Endpoint"}}}},
					Endpoint:   &endpoint{URL: map[string]string{"ref": "Endpoint"}, Properties: map[string]any{}, Headers: map[string]any{}},
					Type:       "endpoint",
				},
				{
					Conditions: []condition{},
					Endpoint:   &endpoint{URL: baseURL, Properties: map[string]any{}, Headers: map[string]any{}},
					Type:       "endpoint",
				},
			},
		}
		b, err := json.MarshalIndent(rs, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("encode %s rule set: %w", svc.name, err)
		}
		out[path.Join(svc.name, svc.version, "endpoint-rule-set-1.json")] = b
	}
	return out, nil
}

type ruleSet struct {
	Version    string               `json:"version"`
	Parameters map[string]ruleParam `json:"parameters"`
	Rules      []rule               `json:"rules"`
}

type ruleParam struct {
	Builtin       string `json:"builtIn,omitempty"`
	Required      bool   `json:"required"`
	Default       any    `json:"default,omitempty"`
	Documentation string `json:"documentation"`
	Type          string `json:"type"`
}

type rule struct {
	Conditions []condition `json:"conditions"`
	Endpoint   *endpoint   `json:"endpoint,omitempty"`
	Type       string      `json:"type"`
}

type condition struct {
	Fn   string `json:"fn"`
	Argv []any  `json:"argv"`
}

type endpoint struct {
	URL        any            `json:"url"`
	Properties map[string]any `json:"properties"`
	Headers    map[string]any `json:"headers"`
}

// Role is an (account, permission set) a user may use.
type Role struct {
	AccountID   string
	AccountName string
	RoleName    string
}

// Profiles names one profile per role, each name unique, so that the file
// never holds a section twice (botocore's strict parser refuses the whole
// file then). The first role of an account (by role name) gets the
// account's name, the others account name and role; a name two roles
// would share, or one in reserved (profiles of the file that are not
// ours), gets the account ID as a suffix, and a number after that if it
// still is not unique. The result is sorted by account name, account ID
// and role name, whatever the order of roles.
func Profiles(roles []Role, region string, reserved map[string]bool) []Profile {
	roles = slices.Clone(roles)
	slices.SortFunc(roles, func(a, b Role) int {
		return cmp.Or(cmp.Compare(a.AccountName, b.AccountName), cmp.Compare(a.AccountID, b.AccountID), cmp.Compare(a.RoleName, b.RoleName))
	})
	names := make([]string, len(roles))
	count := map[string]int{}
	for i, r := range roles {
		names[i] = baseName(r, i == 0 || roles[i-1].AccountID != r.AccountID)
		count[names[i]]++
	}
	used := map[string]bool{}
	out := make([]Profile, 0, len(roles))
	for i, r := range roles {
		name := names[i]
		if count[name] > 1 || reserved[name] {
			name += "-" + r.AccountID
		}
		for n := 2; used[name] || reserved[name]; n++ {
			name = fmt.Sprintf("%s-%s-%d", names[i], r.AccountID, n)
		}
		used[name] = true
		out = append(out, Profile{Name: name, AccountID: r.AccountID, RoleName: r.RoleName, Region: region})
	}
	return out
}

// SectionName returns a section header's name as botocore reads it:
// without the brackets and with runs of blanks as one space, so that
// "[profile  dev]" and "[ profile dev ]" both give "profile dev". It
// returns "" for a line that is no header.
func SectionName(line string) string {
	t := strings.TrimSpace(line)
	if len(t) < 2 || t[0] != '[' || t[len(t)-1] != ']' {
		return ""
	}
	return strings.Join(strings.Fields(t[1:len(t)-1]), " ")
}

type section struct {
	name string // SectionName of the header; "" before the first header
	body string // the header line and every line up to the next header
}

// sections splits a config file at its section headers.
func sections(text string) []section {
	var secs []section
	cur := section{}
	for _, line := range strings.SplitAfter(text, "\n") {
		if name := SectionName(line); name != "" {
			secs = append(secs, cur)
			cur = section{name: name}
		}
		cur.body += line
	}
	return append(secs, cur)
}

// ForeignProfiles returns the profile names of a config file whose
// sections do not belong to the sso-session named session (they name
// another sso_session, or none): aws-config must not take those names.
func ForeignProfiles(text, session string) map[string]bool {
	out := map[string]bool{}
	for _, s := range sections(text) {
		name, ok := strings.CutPrefix(s.name, "profile ")
		if !ok {
			continue
		}
		if v, _ := sectionValue(s.body, "sso_session"); v != session {
			out[strings.TrimSpace(name)] = true
		}
	}
	return out
}

// sectionValue returns the value of key in a section's text.
func sectionValue(body, key string) (string, bool) {
	for _, line := range strings.Split(body, "\n") {
		k, v, ok := strings.Cut(line, "=")
		if ok && !strings.HasPrefix(line, " ") && !strings.HasPrefix(line, "\t") && strings.EqualFold(strings.TrimSpace(k), key) {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// Merge returns the config file text with every section of add replacing
// the section of the same name in existing, or appended when there is
// none. add maps a header line ("[profile dev]") to the section's text;
// headers gives the order of the appended ones. Names are compared as
// SectionName gives them, and a section of add is written once: a second
// section of that name in existing (which botocore would refuse) is
// dropped. Sections of other names are kept as they are.
func Merge(existing string, headers []string, add map[string]string) string {
	byName := map[string]string{}
	for h, text := range add {
		byName[SectionName(h)] = text
	}
	done := map[string]bool{}
	var b strings.Builder
	for _, s := range sections(existing) {
		text, ok := byName[s.name]
		switch {
		case !ok:
			b.WriteString(s.body)
		case !done[s.name]:
			b.WriteString(text + "\n")
			done[s.name] = true
		}
	}
	out := b.String()
	for _, h := range headers {
		name := SectionName(h)
		if done[name] {
			continue
		}
		done[name] = true
		out = appendSection(out, byName[name])
	}
	return out
}

// appendSection adds a section after text, one blank line between.
func appendSection(text, sec string) string {
	if text != "" && !strings.HasSuffix(text, "\n\n") {
		if !strings.HasSuffix(text, "\n") {
			text += "\n"
		}
		text += "\n"
	}
	return text + sec + "\n"
}

// SetDefaultServices returns the config file text with "services = name"
// in the default profile ([default], or [profile default] if the file
// uses that form), replacing a services line it has and creating
// [default] when there is none. It also returns the value it replaced.
//
// AWS CLI 2.3x reads the default profile's endpoints for `aws sso logout`
// and `aws sso login --sso-session` without --profile; without this they
// would send the user's bearer token to AWS's portal.
func SetDefaultServices(existing, name string) (text, previous string) {
	secs := sections(existing)
	at := -1
	for i, s := range secs {
		if s.name == "default" || s.name == "profile default" {
			at = i
			if s.name == "profile default" {
				break
			}
		}
	}
	line := "services = " + name + "\n"
	if at < 0 {
		return appendSection(existing, strings.TrimSuffix(Session{Name: name}.DefaultSection(), "\n")), ""
	}
	var body strings.Builder
	lines := strings.SplitAfter(secs[at].body, "\n")
	body.WriteString(lines[0])
	if !strings.HasSuffix(lines[0], "\n") {
		body.WriteString("\n")
	}
	body.WriteString(line)
	skipping := false
	for _, l := range lines[1:] {
		k, v, ok := strings.Cut(l, "=")
		indented := strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t")
		switch {
		case ok && !indented && strings.EqualFold(strings.TrimSpace(k), "services"):
			previous = strings.TrimSpace(v)
			skipping = true
			continue
		case skipping && indented && strings.TrimSpace(l) != "":
			continue // a continuation of the replaced value
		}
		skipping = false
		body.WriteString(l)
	}
	secs[at].body = body.String()
	var b strings.Builder
	for _, s := range secs {
		b.WriteString(s.body)
	}
	return b.String(), previous
}
