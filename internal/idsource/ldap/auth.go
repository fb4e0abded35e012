package ldap

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-ldap/ldap/v3"

	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/idsource"
	"github.com/gatehouse-dev/gatehouse/internal/portal"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// Authenticate is the kind's password check, run inside the portal's
// password step (so the sign-in limits and Gatehouse's MFA policy apply):
// it finds the user by the user-name attribute under the user base DN and
// filter, binds as that entry's DN with password on a fresh connection,
// and provisions the user (idsource.SignIn mode) with their groups, so a
// person known only to the directory can sign in before any sync.
//
// It returns directory.ErrBadCredentials when the password is empty (an
// empty simple bind is an unauthenticated bind that succeeds, RFC 4513
// §5.1.2), no single user matches, the name typed is not one of the
// entry's user names ignoring case (only the directory's matching rules
// made it match), the bind is refused, or the user is disabled (in the
// directory or in Gatehouse). A directory that cannot be
// reached is a 503 page, a person the identity store refuses a 403 page.
func (s *Source) Authenticate(ctx context.Context, userName, password string) (*store.User, error) {
	userName = strings.TrimSpace(userName)
	if password == "" || userName == "" || len(userName) > maxUserNameBytes || !utf8.ValidString(userName) || strings.ContainsRune(userName, 0) {
		return nil, directory.ErrBadCredentials
	}
	c, pw, err := s.load(ctx)
	if err != nil {
		return nil, unavailable(err)
	}
	dctx, cancel := context.WithTimeout(ctx, signInTimeout)
	defer cancel()
	conn, done, err := c.bindService(dctx, pw)
	if err != nil {
		return nil, unavailable(err)
	}
	defer done()
	// The typed name is a value in the filter, never filter syntax:
	// EscapeFilter turns * ( ) \ and NUL into \2a \28 \29 \5c \00 (RFC
	// 4515 §3), so "*" or ")(uid=*" match no one.
	filter := "(&" + c.userFilter + "(" + c.attrUserName + "=" + ldap.EscapeFilter(userName) + "))"
	req := ldap.NewSearchRequest(c.userBase, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 2, searchTimeLimit, false, filter, c.userAttrs(), nil)
	res, err := conn.Search(req)
	if err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) {
		return nil, unavailable(err)
	}
	if res == nil || len(res.Entries) != 1 {
		if res != nil && len(res.Entries) > 1 {
			s.Log.Warn("ldap sign-in: user name matches several entries", "attribute", c.attrUserName)
		}
		return nil, directory.ErrBadCredentials
	}
	entry := res.Entries[0]
	// The directory matches names by their normalized form (RFC 4518:
	// fullwidth "ｂｏｂ" is "bob"), the sign-in limits by the name as
	// typed: a name that is not one of the entry's own values, ignoring
	// case as the limits do, would be a fresh limit for the same person.
	if !slices.ContainsFunc(entry.GetEqualFoldAttributeValues(c.attrUserName), func(v string) bool {
		return strings.ToLower(strings.TrimSpace(v)) == strings.ToLower(userName)
	}) {
		return nil, directory.ErrBadCredentials
	}
	if err := c.bindUser(dctx, entry.DN, password); err != nil {
		return nil, err
	}
	g, err := c.groupsOf(dctx, conn, entry)
	if err != nil {
		return nil, unavailable(err)
	}
	id, ok := c.identity(entry, g)
	if !ok {
		return nil, portal.PageError(http.StatusForbidden, "This account cannot sign in here",
			"The directory entry has no user name or unique ID that Gatehouse can use. Ask your administrator.", nil)
	}
	u, err := s.Sources.Provision(ctx, id, idsource.SignIn)
	if errors.Is(err, idsource.ErrUserDisabled) {
		return nil, directory.ErrBadCredentials
	}
	if fe, ok := errors.AsType[*fault.Error](err); ok {
		return nil, portal.PageError(http.StatusForbidden, "This account cannot sign in here", fe.Message, err)
	}
	return u, err
}

// bindUser checks password by binding as dn on a connection of its own,
// so the service account's connection never changes identity.
func (c *config) bindUser(ctx context.Context, dn, password string) error {
	conn, done, err := c.dial(ctx)
	if err != nil {
		return unavailable(err)
	}
	defer done()
	err = conn.Bind(dn, password)
	switch {
	case err == nil:
		return nil
	case ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials),
		ldap.IsErrorWithCode(err, ldap.LDAPResultInappropriateAuthentication),
		ldap.IsErrorWithCode(err, ldap.LDAPResultUnwillingToPerform):
		return directory.ErrBadCredentials
	}
	return unavailable(err)
}

// unavailable is the page of a sign-in the directory could not answer.
func unavailable(err error) error {
	if fe, ok := errors.AsType[*fault.Error](err); ok {
		err = fe
	}
	return portal.PageError(http.StatusServiceUnavailable, "The directory is unavailable",
		"Gatehouse could not check your password with the company directory. Try again in a few minutes; if it goes on, tell your administrator.", err)
}

// signInTimeout bounds the directory's part of a sign-in (the searches
// and the bind), so that a hung directory holds a sign-in place briefly.
const signInTimeout = 20 * time.Second

// maxSignInGroups bounds the memberOf values read at a sign-in.
const maxSignInGroups = 1000

// groupsOf reads the groups of the group base and filter that entry is a
// member of, without reading every group: with MembershipMember one
// search for groups naming the entry's DN, with MembershipMemberOf a read
// of each memberOf DN under the group base DN (base scope, the group
// filter applied by the directory).
func (c *config) groupsOf(ctx context.Context, conn *ldap.Conn, entry *ldap.Entry) (*groups, error) {
	g := newGroups()
	if c.membership == MembershipMember {
		filter := "(&" + c.groupFilter + "(member=" + ldap.EscapeFilter(entry.DN) + "))"
		es, err := search(ctx, conn, c.groupBase, filter, c.groupAttrs())
		if err != nil {
			return nil, err
		}
		for _, e := range es {
			if name := c.groupName(g, e); name != "" {
				g.members[normDN(entry.DN)] = append(g.members[normDN(entry.DN)], name)
			}
		}
		return g, nil
	}
	base := normDN(c.groupBase)
	dns := entry.GetEqualFoldAttributeValues("memberOf")
	if len(dns) > maxSignInGroups {
		dns = dns[:maxSignInGroups]
	}
	for _, dn := range dns {
		if n := normDN(dn); n != base && !strings.HasSuffix(n, ","+base) {
			continue
		}
		req := ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, searchTimeLimit, false, c.groupFilter, c.groupAttrs(), nil)
		res, err := conn.Search(req)
		if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
			continue
		} else if err != nil {
			return nil, fmt.Errorf("%w: read group %s: %v", ErrUnreachable, dn, err)
		}
		for _, e := range res.Entries {
			if name := c.groupName(g, e); name != "" {
				g.names[normDN(dn)] = name
			}
		}
	}
	return g, nil
}
