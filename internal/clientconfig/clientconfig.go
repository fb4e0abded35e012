// Package clientconfig writes what AWS clients need to reach Gatehouse: the
// sso-session and profile sections of ~/.aws/config, the endpoint settings
// in each form clients read ([services] sections, AWS_ENDPOINT_URL_*
// variables) and, for AWS CLI v2 older than 2.13 which reads neither, the
// endpoint rule-set files in ~/.aws/models (spec/clients.md §1.2).
package clientconfig

import (
	"encoding/json"
	"fmt"
	"path"
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

// ProfileName picks a profile name for an (account, role) pair: the account
// name for the first role in an account, then account name and role.
func ProfileName(accountName, roleName string, first bool) string {
	clean := func(s string) string {
		s = strings.ToLower(s)
		return strings.Map(func(r rune) rune {
			switch {
			case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
				return r
			}
			return '-'
		}, s)
	}
	if first {
		return clean(accountName)
	}
	return clean(accountName) + "-" + clean(strings.TrimSuffix(roleName, "Access"))
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

// Profiles names one profile per role: roles must be sorted by account and
// then role name; the first role of an account gets the account's name.
func Profiles(roles []Role, region string) []Profile {
	out := make([]Profile, 0, len(roles))
	for i, r := range roles {
		first := i == 0 || roles[i-1].AccountID != r.AccountID
		out = append(out, Profile{Name: ProfileName(r.AccountName, r.RoleName, first), AccountID: r.AccountID, RoleName: r.RoleName, Region: region})
	}
	return out
}

// Merge returns the config file text with every section of add replacing a
// section of the same header in existing, or appended when there is none.
// add maps a header line ("[profile dev]") to the section's text.
func Merge(existing string, headers []string, add map[string]string) string {
	type section struct{ header, body string }
	var secs []section
	cur := section{}
	for _, line := range strings.SplitAfter(existing, "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]") {
			secs = append(secs, cur)
			cur = section{header: t}
		}
		cur.body += line
	}
	secs = append(secs, cur)
	done := map[string]bool{}
	var b strings.Builder
	for _, s := range secs {
		if text, ok := add[s.header]; ok {
			b.WriteString(text + "\n")
			done[s.header] = true
			continue
		}
		b.WriteString(s.body)
	}
	out := b.String()
	for _, h := range headers {
		if done[h] {
			continue
		}
		if out != "" && !strings.HasSuffix(out, "\n\n") {
			if !strings.HasSuffix(out, "\n") {
				out += "\n"
			}
			out += "\n"
		}
		out += add[h] + "\n"
	}
	return out
}
