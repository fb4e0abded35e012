package ldap

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/idsource"
)

// Setting names (the admin API's and the console form's keys).
const (
	SettingURL             = "url"
	SettingStartTLS        = "startTLS"
	SettingInsecurePlain   = "insecurePlainLDAP"
	SettingCACertificate   = "caCertificate"
	SettingBindDN          = "bindDN"
	SettingUserBaseDN      = "userBaseDN"
	SettingUserFilter      = "userFilter"
	SettingGroupBaseDN     = "groupBaseDN"
	SettingGroupFilter     = "groupFilter"
	SettingUserName        = "userNameAttribute"
	SettingEmail           = "emailAttribute"
	SettingGivenName       = "givenNameAttribute"
	SettingFamilyName      = "familyNameAttribute"
	SettingDisplayName     = "displayNameAttribute"
	SettingUniqueID        = "uniqueIdAttribute"
	SettingGroupMembership = "groupMembership"
	SettingGroupName       = "groupNameAttribute"
	SettingDisabledAttr    = "disabledAttribute"
	SettingDisabledWhen    = "disabledWhen"
	SettingSyncInterval    = "syncInterval"
	// SecretBindPassword is the kind's secret: the bind DN's password.
	SecretBindPassword = "bindPassword"
)

// Defaults are Active Directory's.
const (
	DefaultUserFilter   = "(&(objectCategory=person)(objectClass=user))"
	DefaultGroupFilter  = "(objectClass=group)"
	DefaultSyncInterval = time.Hour
	// MinSyncInterval bounds how often a directory is searched.
	MinSyncInterval = time.Minute
	// accountDisable is userAccountControl's ACCOUNTDISABLE flag
	// (Microsoft Learn, "Use the UserAccountControl flags").
	accountDisable = 0x2
)

// Values of SettingGroupMembership.
const (
	// MembershipMemberOf reads the groups from the user's memberOf
	// attribute (Active Directory; OpenLDAP with the memberof overlay).
	MembershipMemberOf = "memberOf"
	// MembershipMember reads the members from the group's member
	// attribute (groupOfNames).
	MembershipMember = "member"
)

// fields are the kind's settings, in display order.
var fields = []idsource.Field{
	{Name: SettingURL, Label: "Directory URL", Required: true, SecretBound: true,
		Help: "ldaps://dc1.corp.example:636 (LDAPS) or ldap://dc1.corp.example:389 with StartTLS."},
	{Name: SettingStartTLS, Label: "StartTLS", Options: []string{"on", "off"}, Default: "on", SecretBound: true,
		Help: "For ldap:// URLs: upgrade the connection to TLS before binding (RFC 4513 §3). ldaps:// URLs are TLS from the start."},
	{Name: SettingInsecurePlain, Label: "Insecure plain LDAP", Options: []string{"off", "on"}, Default: "off", SecretBound: true,
		Help: "Allow ldap:// without StartTLS: passwords cross the network in clear. Never use it beyond a loopback test server."},
	{Name: SettingCACertificate, Label: "CA certificate (PEM)", Multiline: true, SecretBound: true,
		Help: "The CA that signed the directory's certificate, when it is not one the system trusts (an enterprise CA)."},
	{Name: SettingBindDN, Label: "Bind DN", Required: true,
		Help: "The service account Gatehouse searches with, e.g. CN=gatehouse,OU=Service Accounts,DC=corp,DC=example. It needs read access only."},
	{Name: SettingUserBaseDN, Label: "User base DN", Required: true, Help: "Where users are searched (subtree), e.g. OU=People,DC=corp,DC=example."},
	{Name: SettingUserFilter, Label: "User filter", Default: DefaultUserFilter,
		Help: "Which entries are users. OpenLDAP: (objectClass=inetOrgPerson). Only members of a group, nested: (&(objectCategory=person)(objectClass=user)(memberOf:1.2.840.113556.1.4.1941:=CN=AWS users,OU=Groups,DC=corp,DC=example))."},
	{Name: SettingGroupBaseDN, Label: "Group base DN", Help: "Where groups are searched (subtree); the user base DN when empty."},
	{Name: SettingGroupFilter, Label: "Group filter", Default: DefaultGroupFilter,
		Help: "Which entries are groups synced into Gatehouse. OpenLDAP: (objectClass=groupOfNames)."},
	{Name: SettingUserName, Label: "User name attribute", Default: "sAMAccountName", Help: "OpenLDAP: uid. userPrincipalName also works with AD."},
	{Name: SettingEmail, Label: "E-mail attribute", Default: "mail"},
	{Name: SettingGivenName, Label: "Given name attribute", Default: "givenName"},
	{Name: SettingFamilyName, Label: "Family name attribute", Default: "sn"},
	{Name: SettingDisplayName, Label: "Display name attribute", Default: "displayName"},
	{Name: SettingUniqueID, Label: "Unique ID attribute", Default: "objectGUID",
		Help: "Never changes for an entry, even when it is renamed or moved. OpenLDAP: entryUUID."},
	{Name: SettingGroupMembership, Label: "Group membership", Options: []string{MembershipMemberOf, MembershipMember}, Default: MembershipMemberOf,
		Help: "memberOf: read the user's memberOf (AD; OpenLDAP with the memberof overlay). member: read each group's member attribute."},
	{Name: SettingGroupName, Label: "Group name attribute", Default: "cn", Help: "Becomes the group's display name in Gatehouse."},
	{Name: SettingDisabledAttr, Label: "Disabled attribute", Default: "userAccountControl",
		Help: "The attribute that says a user is disabled; see Disabled when."},
	{Name: SettingDisabledWhen, Label: "Disabled when", Default: "flag:0x2",
		Help: "flag:N (an integer attribute has any bit of N: AD's ACCOUNTDISABLE is flag:0x2), equals:VALUE (any value, case-insensitive), present (any value at all, e.g. pwdAccountLockedTime), or none."},
	{Name: SettingSyncInterval, Label: "Sync interval", Default: DefaultSyncInterval.String(),
		Help: "How often users and groups are synced, e.g. 1h or 15m; at least 1m."},
}

// secretField is the bind password.
var secretField = &idsource.Field{Name: SecretBindPassword, Label: "Bind password", Required: true,
	Help: "The bind DN's password. Stored encrypted, never shown again; enter it again when you change the URL, StartTLS or the CA certificate."}

// config is the settings, parsed.
type config struct {
	url           *url.URL
	rawURL        string
	startTLS      bool
	roots         *x509.CertPool // nil: the system's
	bindDN        string
	userBase      string
	userFilter    string
	groupBase     string
	groupFilter   string
	attrUserName  string
	attrEmail     string
	attrGiven     string
	attrFamily    string
	attrDisplay   string
	attrUniqueID  string
	attrGroupName string
	membership    string
	disabledAttr  string
	disabled      disabledTest
	interval      time.Duration
}

// disabledTest is SettingDisabledWhen, parsed.
type disabledTest struct {
	kind  string // "flag", "equals", "present", "none"
	flag  int64
	value string
}

// parse reads settings (defaults applied) and reports every problem at
// once as a Validation fault.
func parse(settings map[string]string) (*config, error) {
	get := func(name string) string {
		if v := strings.TrimSpace(settings[name]); v != "" {
			return v
		}
		for _, f := range fields {
			if f.Name == name {
				return f.Default
			}
		}
		return ""
	}
	var errs []string
	c := &config{rawURL: get(SettingURL), bindDN: get(SettingBindDN), userBase: get(SettingUserBaseDN), userFilter: get(SettingUserFilter),
		groupBase: get(SettingGroupBaseDN), groupFilter: get(SettingGroupFilter),
		attrUserName: get(SettingUserName), attrEmail: get(SettingEmail), attrGiven: get(SettingGivenName), attrFamily: get(SettingFamilyName),
		attrDisplay: get(SettingDisplayName), attrUniqueID: get(SettingUniqueID), attrGroupName: get(SettingGroupName),
		membership: get(SettingGroupMembership), disabledAttr: get(SettingDisabledAttr)}
	if c.groupBase == "" {
		c.groupBase = c.userBase
	}
	u, err := url.Parse(c.rawURL)
	switch {
	case err != nil || u.Host == "" || u.Hostname() == "":
		errs = append(errs, fmt.Sprintf("%s must be an ldap:// or ldaps:// URL with a host", SettingURL))
	case u.Scheme != "ldap" && u.Scheme != "ldaps":
		errs = append(errs, fmt.Sprintf("%s must start with ldap:// or ldaps://", SettingURL))
	case (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil || u.Fragment != "":
		errs = append(errs, fmt.Sprintf("%s must be scheme, host and port only (no DN, query or user)", SettingURL))
	default:
		c.url = u
	}
	c.startTLS = get(SettingStartTLS) == "on"
	if c.url != nil && c.url.Scheme == "ldap" && !c.startTLS && get(SettingInsecurePlain) != "on" {
		errs = append(errs, fmt.Sprintf("an ldap:// URL needs %s on (or %s on, which sends passwords in clear)", SettingStartTLS, SettingInsecurePlain))
	}
	if c.url != nil && c.url.Scheme == "ldaps" {
		c.startTLS = false
	}
	if pemText := get(SettingCACertificate); pemText != "" {
		pool := x509.NewCertPool()
		rest, n := []byte(pemText), 0
		for {
			var b *pem.Block
			b, rest = pem.Decode(rest)
			if b == nil {
				break
			}
			if b.Type != "CERTIFICATE" {
				continue
			}
			cert, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s holds a certificate that does not parse: %v", SettingCACertificate, err))
				continue
			}
			pool.AddCert(cert)
			n++
		}
		if n == 0 {
			errs = append(errs, fmt.Sprintf("%s holds no PEM certificate (-----BEGIN CERTIFICATE-----)", SettingCACertificate))
		}
		c.roots = pool
	}
	for _, dn := range []struct{ name, v string }{{SettingBindDN, c.bindDN}, {SettingUserBaseDN, c.userBase}, {SettingGroupBaseDN, c.groupBase}} {
		if dn.v == "" {
			continue
		}
		if _, err := ldap.ParseDN(dn.v); err != nil {
			errs = append(errs, fmt.Sprintf("%s is not a DN: %v", dn.name, err))
		}
	}
	for _, f := range []struct{ name, v string }{{SettingUserFilter, c.userFilter}, {SettingGroupFilter, c.groupFilter}} {
		if _, err := ldap.CompileFilter(f.v); err != nil {
			errs = append(errs, fmt.Sprintf("%s is not an LDAP filter (RFC 4515), e.g. (objectClass=user): %v", f.name, err))
		}
	}
	for _, a := range []struct{ name, v string }{
		{SettingUserName, c.attrUserName}, {SettingEmail, c.attrEmail}, {SettingGivenName, c.attrGiven}, {SettingFamilyName, c.attrFamily},
		{SettingDisplayName, c.attrDisplay}, {SettingUniqueID, c.attrUniqueID}, {SettingGroupName, c.attrGroupName}, {SettingDisabledAttr, c.disabledAttr},
	} {
		if !validAttr(a.v) {
			errs = append(errs, fmt.Sprintf("%s must be an attribute name (letters, digits, hyphens) or OID", a.name))
		}
	}
	if c.membership != MembershipMemberOf && c.membership != MembershipMember {
		errs = append(errs, fmt.Sprintf("%s must be %s or %s", SettingGroupMembership, MembershipMemberOf, MembershipMember))
	}
	dt, err := parseDisabled(get(SettingDisabledWhen))
	if err != nil {
		errs = append(errs, err.Error())
	}
	c.disabled = dt
	iv, err := time.ParseDuration(get(SettingSyncInterval))
	switch {
	case err != nil:
		errs = append(errs, fmt.Sprintf("%s must be a duration such as 1h or 15m", SettingSyncInterval))
	case iv < MinSyncInterval:
		errs = append(errs, fmt.Sprintf("%s must be at least %s", SettingSyncInterval, MinSyncInterval))
	}
	c.interval = iv
	if len(errs) > 0 {
		sort.Strings(errs)
		return nil, fault.Validationf("Invalid ldap settings: %s", strings.Join(errs, "; "))
	}
	return c, nil
}

// parseDisabled reads SettingDisabledWhen.
func parseDisabled(v string) (disabledTest, error) {
	kind, arg, _ := strings.Cut(v, ":")
	switch strings.ToLower(kind) {
	case "flag":
		n, err := strconv.ParseInt(arg, 0, 64)
		if err != nil || n <= 0 {
			return disabledTest{}, fmt.Errorf("%s flag:N needs a positive integer N such as 0x2 or 2", SettingDisabledWhen)
		}
		return disabledTest{kind: "flag", flag: n}, nil
	case "equals":
		if arg == "" {
			return disabledTest{}, fmt.Errorf("%s equals:VALUE needs a value", SettingDisabledWhen)
		}
		return disabledTest{kind: "equals", value: arg}, nil
	case "present", "none":
		if arg != "" {
			break
		}
		return disabledTest{kind: strings.ToLower(kind)}, nil
	}
	return disabledTest{}, fmt.Errorf("%s must be flag:N, equals:VALUE, present or none", SettingDisabledWhen)
}

// validAttr reports whether a is an attribute description RFC 4512 §2.5
// allows without options: a name (a letter, then letters, digits and
// hyphens) or a numeric OID.
func validAttr(a string) bool {
	if a == "" || len(a) > 128 {
		return false
	}
	if a[0] >= '0' && a[0] <= '9' {
		for _, r := range a {
			if (r < '0' || r > '9') && r != '.' {
				return false
			}
		}
		return true
	}
	for _, r := range a {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// check is the kind's Check: the URL, DNs, filters (compiled as RFC 4515
// says), attribute names, disabled test and interval are valid. It does
// not bind (Check is not given the secret): the switch plan's preview and
// each sync say whether the directory answers.
func check(_ context.Context, settings map[string]string, _ bool) error {
	_, err := parse(settings)
	return err
}
