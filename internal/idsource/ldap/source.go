package ldap

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-ldap/ldap/v3"

	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/idsource"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// Bounds on talking to the directory.
const (
	// dialTimeout bounds connecting (TCP and TLS).
	dialTimeout = 10 * time.Second
	// opTimeout bounds waiting for one answer (a bind, a page).
	opTimeout = 30 * time.Second
	// searchTimeLimit is the server-side time limit of one search page,
	// in seconds (RFC 4511 §4.5.1.5).
	searchTimeLimit = 120
	// syncTimeout bounds a whole sync's directory searches.
	syncTimeout = 10 * time.Minute
	// pageSize is the RFC 2696 page size; AD's MaxPageSize is 1000.
	pageSize = 500
	// maxEntries bounds the users or the groups one sync reads.
	maxEntries = 200_000
	// maxUserNameBytes bounds a user name typed at sign-in.
	maxUserNameBytes = 256
)

// Source is the LDAP identity source. Set its fields, register Kind()
// with Sources, then use it from any number of goroutines.
type Source struct {
	// Sources keeps the settings and provisions the users.
	Sources *idsource.Service
	Now     func() time.Time
	Log     *slog.Logger
}

// Kind returns the idsource kind to register.
func (s *Source) Kind() *idsource.Kind {
	return &idsource.Kind{
		Name: idsource.LDAP, Title: "Active Directory / LDAP",
		Fields: fields, Secret: secretField, Check: check, Verify: verify,
		Authenticate: s.Authenticate, Preview: s.Preview, Sync: s.syncNow,
	}
}

// ErrUnreachable: the directory could not be reached, or refused a
// search. A refused service bind is ErrBindRefused.
var ErrUnreachable = errors.New("the LDAP directory is unreachable")

// load reads the stored settings and bind password.
func (s *Source) load(ctx context.Context) (*config, string, error) {
	settings, _, err := s.Sources.Settings(ctx, idsource.LDAP)
	if err != nil {
		return nil, "", fmt.Errorf("ldap settings: %w", err)
	}
	c, err := parse(settings)
	if err != nil {
		return nil, "", err
	}
	pw, err := s.Sources.Secret(ctx, idsource.LDAP)
	if err != nil {
		return nil, "", err
	}
	return c, pw, nil
}

// issuer names the directory in users' external IDs: "ldap:" and the
// domain components of the user base DN (dc=corp,dc=example), so that the
// same users stay the same people when the administrator moves to another
// domain controller or widens the base DN; the whole base DN when it has no
// domain components.
func (c *config) issuer() string {
	d, err := ldap.ParseDN(c.userBase)
	if err != nil {
		return "ldap:" + strings.ToLower(c.userBase)
	}
	var dcs []string
	for _, rdn := range d.RDNs {
		for _, a := range rdn.Attributes {
			if strings.EqualFold(a.Type, "dc") {
				dcs = append(dcs, "dc="+strings.ToLower(a.Value))
			}
		}
	}
	if len(dcs) == 0 {
		return "ldap:" + normDN(c.userBase)
	}
	return "ldap:" + strings.Join(dcs, ",")
}

// normDN returns dn with attribute types and values lowercased and spaces
// around separators gone, for comparing DNs (AD compares them without
// case); dn itself lowercased when it does not parse.
func normDN(dn string) string {
	d, err := ldap.ParseDN(dn)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(dn))
	}
	parts := make([]string, 0, len(d.RDNs))
	for _, rdn := range d.RDNs {
		as := make([]string, 0, len(rdn.Attributes))
		for _, a := range rdn.Attributes {
			as = append(as, strings.ToLower(a.Type)+"="+strings.ToLower(a.Value))
		}
		slices.Sort(as)
		parts = append(parts, strings.Join(as, "+"))
	}
	return strings.Join(parts, ",")
}

// dial connects to the directory with TLS as configured (LDAPS, or
// StartTLS on ldap:// unless plain LDAP was allowed), closing the
// connection when ctx ends.
func (c *config) dial(ctx context.Context) (*ldap.Conn, func(), error) {
	tc := &tls.Config{ServerName: c.url.Hostname(), RootCAs: c.roots, MinVersion: tls.VersionTLS12}
	conn, err := ldap.DialURL(c.rawURL, ldap.DialWithDialer(&net.Dialer{Timeout: dialTimeout}), ldap.DialWithTLSConfig(tc))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: connect to %s: %v", ErrUnreachable, c.rawURL, err)
	}
	conn.SetTimeout(opTimeout)
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	done := func() { stop(); conn.Close() }
	if c.startTLS {
		if err := conn.StartTLS(tc); err != nil {
			done()
			return nil, nil, fmt.Errorf("%w: StartTLS with %s: %v", ErrUnreachable, c.rawURL, err)
		}
	}
	return conn, done, nil
}

// bindService connects and binds as the service account.
func (c *config) bindService(ctx context.Context, password string) (*ldap.Conn, func(), error) {
	conn, done, err := c.dial(ctx)
	if err != nil {
		return nil, nil, err
	}
	if password == "" {
		done()
		return nil, nil, fmt.Errorf("%w: no bind password is stored", ErrUnreachable)
	}
	if err := conn.Bind(c.bindDN, password); err != nil {
		done()
		return nil, nil, c.bindError(err)
	}
	return conn, done, nil
}

// search runs a paged subtree search (RFC 2696) and fails when it returns
// more than maxEntries entries.
func search(ctx context.Context, conn *ldap.Conn, base, filter string, attrs []string) ([]*ldap.Entry, error) {
	req := ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, searchTimeLimit, false, filter, attrs, nil)
	res, err := conn.SearchWithPaging(req, pageSize)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w: search %s: %v", ErrUnreachable, base, ctx.Err())
		}
		return nil, fmt.Errorf("%w: search %s with %s: %v", ErrUnreachable, base, filter, err)
	}
	if len(res.Entries) > maxEntries {
		return nil, fmt.Errorf("search %s found more than %d entries: narrow the base DN or the filter", base, maxEntries)
	}
	return res.Entries, nil
}

// groups is the groups of the group base and filter: names by normalized
// DN, and for MembershipMember the groups of each member DN.
type groups struct {
	names   map[string]string
	members map[string][]string
	// ids maps a group's name to its unique ID (the user's unique ID
	// attribute, which groups carry too), when it has one.
	ids map[string]string
}

func newGroups() *groups {
	return &groups{names: map[string]string{}, members: map[string][]string{}, ids: map[string]string{}}
}

// groupAttrs are the attributes read of a group besides its members.
func (c *config) groupAttrs() []string { return []string{c.attrGroupName, c.attrUniqueID} }

// groupName returns the name of the group entry e ("" when it has none)
// and notes its unique ID in g.ids; a name's first ID wins.
func (c *config) groupName(g *groups, e *ldap.Entry) string {
	name := strings.TrimSpace(e.GetEqualFoldAttributeValue(c.attrGroupName))
	if name == "" {
		return ""
	}
	if id := uniqueID(c.attrUniqueID, e.GetEqualFoldRawAttributeValue(c.attrUniqueID)); id != "" {
		if _, ok := g.ids[name]; !ok {
			g.ids[name] = id
		}
	}
	return name
}

func (c *config) fetchGroups(ctx context.Context, conn *ldap.Conn) (*groups, error) {
	attrs := c.groupAttrs()
	if c.membership == MembershipMember {
		attrs = append(attrs, "member")
	}
	es, err := search(ctx, conn, c.groupBase, c.groupFilter, attrs)
	if err != nil {
		return nil, err
	}
	g := newGroups()
	for _, e := range es {
		name := c.groupName(g, e)
		if name == "" {
			continue
		}
		g.names[normDN(e.DN)] = name
		if c.membership == MembershipMember {
			for _, m := range e.GetEqualFoldAttributeValues("member") {
				k := normDN(m)
				g.members[k] = append(g.members[k], name)
			}
		}
	}
	return g, nil
}

// userAttrs are the attributes read of a user.
func (c *config) userAttrs() []string {
	as := []string{c.attrUserName, c.attrEmail, c.attrGiven, c.attrFamily, c.attrDisplay, c.attrUniqueID}
	if c.disabled.kind != "none" {
		as = append(as, c.disabledAttr)
	}
	if c.membership == MembershipMemberOf {
		as = append(as, "memberOf")
	}
	return as
}

// identity turns a user entry into the identity Provision takes; ok is
// false when the entry lacks a user name or a unique ID.
func (c *config) identity(e *ldap.Entry, g *groups) (idsource.Identity, bool) {
	id := idsource.Identity{
		Issuer:      c.issuer(),
		Subject:     uniqueID(c.attrUniqueID, e.GetEqualFoldRawAttributeValue(c.attrUniqueID)),
		UserName:    strings.TrimSpace(e.GetEqualFoldAttributeValue(c.attrUserName)),
		Email:       e.GetEqualFoldAttributeValue(c.attrEmail),
		GivenName:   e.GetEqualFoldAttributeValue(c.attrGiven),
		FamilyName:  e.GetEqualFoldAttributeValue(c.attrFamily),
		DisplayName: e.GetEqualFoldAttributeValue(c.attrDisplay),
		Disabled:    c.disabled.test(e.GetEqualFoldAttributeValues(c.disabledAttr)),
		Groups:      []string{},
	}
	var names []string
	if c.membership == MembershipMemberOf {
		for _, dn := range e.GetEqualFoldAttributeValues("memberOf") {
			if n, ok := g.names[normDN(dn)]; ok {
				names = append(names, n)
			}
		}
	} else {
		names = g.members[normDN(e.DN)]
	}
	for _, n := range names {
		if !slices.Contains(id.Groups, n) {
			id.Groups = append(id.Groups, n)
		}
	}
	slices.Sort(id.Groups)
	for _, n := range id.Groups {
		if gid, ok := g.ids[n]; ok {
			if id.GroupIDs == nil {
				id.GroupIDs = map[string]string{}
			}
			id.GroupIDs[n] = gid
		}
	}
	return id, id.Subject != "" && id.UserName != ""
}

// test reports whether an attribute with values says the user is
// disabled.
func (d disabledTest) test(values []string) bool {
	switch d.kind {
	case "flag":
		for _, v := range values {
			if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil && n&d.flag != 0 {
				return true
			}
		}
	case "equals":
		for _, v := range values {
			if strings.EqualFold(strings.TrimSpace(v), d.value) {
				return true
			}
		}
	case "present":
		return len(values) > 0
	}
	return false
}

// uniqueID renders an entry's unique ID: Active Directory's objectGUID
// (16 bytes) in the canonical form, its first three fields little-endian
// as Windows writes GUIDs (MS-DTYP §2.3.4.2), e.g.
// 2f5e1b6a-0c3d-4e5f-8a9b-0c1d2e3f4a5b; a text value (entryUUID) as it is;
// other binary values in hex.
func uniqueID(attr string, raw []byte) string {
	if len(raw) == 0 {
		return ""
	}
	if len(raw) == 16 && strings.EqualFold(attr, "objectGUID") {
		return fmt.Sprintf("%08x-%04x-%04x-%s-%s", binary.LittleEndian.Uint32(raw[0:4]), binary.LittleEndian.Uint16(raw[4:6]),
			binary.LittleEndian.Uint16(raw[6:8]), hex.EncodeToString(raw[8:10]), hex.EncodeToString(raw[10:16]))
	}
	if utf8.Valid(raw) && !strings.ContainsFunc(string(raw), func(r rune) bool { return !unicode.IsPrint(r) }) {
		return strings.TrimSpace(string(raw))
	}
	return hex.EncodeToString(raw)
}

// upstream is what one complete read of the directory found.
type upstream struct {
	users []idsource.Identity
	// skipped are the DNs of user entries without a user name or unique
	// ID.
	skipped []string
}

// read searches the groups and then the users, completely.
func (c *config) read(ctx context.Context, password string) (*upstream, error) {
	ctx, cancel := context.WithTimeout(ctx, syncTimeout)
	defer cancel()
	conn, done, err := c.bindService(ctx, password)
	if err != nil {
		return nil, err
	}
	defer done()
	g, err := c.fetchGroups(ctx, conn)
	if err != nil {
		return nil, err
	}
	es, err := search(ctx, conn, c.userBase, c.userFilter, c.userAttrs())
	if err != nil {
		return nil, err
	}
	up := &upstream{}
	for _, e := range es {
		id, ok := c.identity(e, g)
		if !ok {
			up.skipped = append(up.skipped, e.DN)
			continue
		}
		up.users = append(up.users, id)
	}
	return up, nil
}

// notConfigured is the fault of a sync or preview before Configure.
func notConfigured(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fault.Validationf("Configure the ldap identity source first")
	}
	return err
}
