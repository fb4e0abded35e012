package ldap_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/idsource"
	"github.com/gatehouse-dev/gatehouse/internal/idsource/ldap"
	"github.com/gatehouse-dev/gatehouse/internal/idsource/ldap/ldaptest"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
	"github.com/gatehouse-dev/gatehouse/internal/settings"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// guid returns 16 bytes n, n+1, ... as LDIF base64, and the canonical
// string Active Directory tools show for them (first three fields
// little-endian).
func guid(n byte) (b64, canonical string) {
	b := make([]byte, 16)
	for i := range b {
		b[i] = n + byte(i)
	}
	return base64.StdEncoding.EncodeToString(b), fmt.Sprintf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15])
}

// adUser is an LDIF entry with Active Directory's user attributes.
func adUser(uid, given, family string, guidN byte, uac int, password string) string {
	g, _ := guid(guidN)
	return fmt.Sprintf(`dn: uid=%[1]s,%[7]s
objectClass: inetOrgPerson
objectClass: gatehouseTestADUser
uid: %[1]s
sAMAccountName: %[1]s
cn: %[2]s %[3]s
givenName: %[2]s
sn: %[3]s
displayName: %[2]s %[3]s
mail: %[1]s@corp.example
objectGUID:: %[4]s
userAccountControl: %[5]d
employeeType: %[8]s
userPassword: %[6]s

`, uid, given, family, g, uac, password, ldaptest.PeopleDN, map[bool]string{true: "disabled", false: "staff"}[uac&2 != 0])
}

func group(cn string, members ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "dn: cn=%s,%s\nobjectClass: groupOfNames\ncn: %s\n", cn, ldaptest.GroupsDN, cn)
	for _, m := range members {
		fmt.Fprintf(&b, "member: uid=%s,%s\n", m, ldaptest.PeopleDN)
	}
	return b.String() + "\n"
}

// directoryLDIF: ana (aws-devs, ops), bob (aws-devs), carol (disabled in
// AD's way, aws-devs), dave (no group); a group outside the group filter
// (an organizationalRole) that must not become a Gatehouse group.
func directoryLDIF() string {
	return adUser("ana", "Ana", "Lima", 0x10, 512, "ana-pass-1") +
		adUser("bob", "Bob", "Stone", 0x20, 512, "bob-pass-1") +
		adUser("carol", "Carol", "Reyes", 0x30, 514, "carol-pass-1") +
		adUser("dave", "Dave", "Kim", 0x40, 66048, "dave-pass-1") +
		group("aws-devs", "ana", "bob", "carol") + group("ops", "ana") +
		"dn: cn=not-a-group,ou=groups," + ldaptest.Base + "\nobjectClass: organizationalRole\ncn: not-a-group\nroleOccupant: uid=ana," + ldaptest.PeopleDN + "\n"
}

// adSettings are the defaults (Active Directory's attribute names) with
// OpenLDAP's object classes, over plain LDAP on loopback.
func adSettings(d *ldaptest.Server) map[string]string {
	return map[string]string{
		ldap.SettingURL: d.URL, ldap.SettingStartTLS: "off", ldap.SettingInsecurePlain: "on",
		ldap.SettingBindDN: ldaptest.BindDN, ldap.SettingUserBaseDN: ldaptest.PeopleDN, ldap.SettingGroupBaseDN: ldaptest.GroupsDN,
		ldap.SettingUserFilter: "(objectClass=inetOrgPerson)", ldap.SettingGroupFilter: "(objectClass=groupOfNames)",
	}
}

// openLDAPSettings map OpenLDAP's attributes: uid, entryUUID, groups by
// the group's member attribute, disabled by employeeType, over StartTLS
// with the test CA.
func openLDAPSettings(d *ldaptest.Server) map[string]string {
	return map[string]string{
		ldap.SettingURL: strings.Replace(d.URL, "127.0.0.1", "localhost", 1), ldap.SettingStartTLS: "on", ldap.SettingCACertificate: d.CAPEM,
		ldap.SettingBindDN: ldaptest.BindDN, ldap.SettingUserBaseDN: ldaptest.PeopleDN, ldap.SettingGroupBaseDN: ldaptest.GroupsDN,
		ldap.SettingUserFilter: "(objectClass=inetOrgPerson)", ldap.SettingGroupFilter: "(objectClass=groupOfNames)",
		ldap.SettingUserName: "uid", ldap.SettingUniqueID: "entryUUID", ldap.SettingGroupMembership: ldap.MembershipMember,
		ldap.SettingDisabledAttr: "employeeType", ldap.SettingDisabledWhen: "equals:disabled",
	}
}

// newServer starts Gatehouse with the MFA policy off (the password alone
// signs in) and LDAP configured with settings and switched to.
func newServer(t *testing.T, settingsMap map[string]string) *servertest.Server {
	t.Helper()
	srv := servertest.New(t, nil)
	ctx := t.Context()
	v := srv.Settings.Defaults()
	v.MFAPolicy = settings.PolicyOff
	if err := srv.Settings.Put(ctx, v); err != nil {
		t.Fatal(err)
	}
	pw := ldaptest.BindPassword
	if err := srv.Sources.Configure(ctx, idsource.LDAP, settingsMap, &pw); err != nil {
		t.Fatalf("configure: %v", err)
	}
	if _, err := srv.Sources.Switch(ctx, idsource.LDAP); err != nil {
		t.Fatalf("switch: %v", err)
	}
	return srv
}

// signIn posts the portal's sign-in form with the user name and password
// at once, as a browser of the same origin (a password manager does so),
// and returns the answer unfollowed.
func signIn(t *testing.T, srv *servertest.Server, user, password string) *http.Response {
	t.Helper()
	form := url.Values{"username": {user}, "password": {password}}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", srv.URL)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// sessionOf signs user in through the form and returns the portal session
// cookie.
func sessionOf(t *testing.T, srv *servertest.Server, user, password string) *http.Cookie {
	t.Helper()
	resp := signIn(t, srv, user, password)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in of %s: %d, want 303", user, resp.StatusCode)
	}
	for _, c := range resp.Cookies() {
		if c.Name == "gatehouse_session" && c.Value != "" {
			return c
		}
	}
	t.Fatalf("sign-in of %s set no session cookie", user)
	return nil
}

// portalOK reports whether the portal's home page answers the session
// cookie (200) rather than sending the browser to sign in.
func portalOK(t *testing.T, srv *servertest.Server, c *http.Cookie) bool {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/start", nil)
	req.AddCookie(c)
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		return true
	case http.StatusSeeOther, http.StatusFound:
		return false
	}
	t.Fatalf("GET /start: %d", resp.StatusCode)
	return false
}

func user(t *testing.T, srv *servertest.Server, name string) *store.User {
	t.Helper()
	u, err := srv.Store.GetUserByName(t.Context(), name)
	if err != nil {
		t.Fatalf("user %s: %v", name, err)
	}
	return u
}

func groupsOf(t *testing.T, srv *servertest.Server, userID string) []string {
	t.Helper()
	ms, err := srv.Store.ListMembershipsByUser(t.Context(), userID, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range ms {
		g, err := srv.Store.GetGroup(t.Context(), m.GroupID)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, g.DisplayName)
	}
	slices.Sort(names)
	return names
}

// TestSyncActiveDirectoryAttributes syncs with the Active Directory
// defaults (sAMAccountName, objectGUID, memberOf, userAccountControl):
// users, groups and memberships arrive; a user disabled or removed in the
// directory loses their portal session at the very next request after the
// sync; an unreachable directory disables nobody.
func TestSyncActiveDirectoryAttributes(t *testing.T) {
	d := ldaptest.Start(t, directoryLDIF())
	srv := newServer(t, adSettings(d))
	ctx := t.Context()

	// Signing in before any sync provisions the person with the groups
	// of their memberOf.
	sessionOf(t, srv, "ana", "ana-pass-1")
	if got := groupsOf(t, srv, user(t, srv, "ana").ID); !slices.Equal(got, []string{"aws-devs", "ops"}) {
		t.Fatalf("ana's groups after signing in before a sync = %v", got)
	}

	res, err := srv.LDAP.Sync(ctx)
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	if res.Users != 4 || !slices.Equal(res.Disabled, []string{"carol"}) || len(res.Retired)+len(res.Failed)+len(res.Skipped) != 0 {
		t.Fatalf("sync result %+v, want 4 users, carol disabled, nothing else", res)
	}
	ana := user(t, srv, "ana")
	_, wantGUID := guid(0x10)
	if ana.DisplayName != "Ana Lima" || ana.Name.GivenName != "Ana" || ana.Name.FamilyName != "Lima" || store.PrimaryEmail(ana.Emails) != "ana@corp.example" ||
		ana.Disabled || !slices.Contains(ana.ExternalIDs, store.ExternalID{Issuer: "ldap:dc=corp,dc=example", ID: wantGUID}) {
		t.Fatalf("ana = %+v, want names, mail and external ID %s", ana, wantGUID)
	}
	if got := groupsOf(t, srv, ana.ID); !slices.Equal(got, []string{"aws-devs", "ops"}) {
		t.Fatalf("ana's groups = %v", got)
	}
	if got := groupsOf(t, srv, user(t, srv, "dave").ID); len(got) != 0 {
		t.Fatalf("dave's groups = %v, want none", got)
	}
	if !user(t, srv, "carol").Disabled {
		t.Fatal("carol (userAccountControl 514) is enabled")
	}
	if user(t, srv, "dave").Disabled {
		t.Fatal("dave (userAccountControl 66048: DONT_EXPIRE_PASSWORD|NORMAL_ACCOUNT) is disabled")
	}
	if _, err := srv.Store.GetGroupByName(ctx, "not-a-group"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an entry outside the group filter became a group: %v", err)
	}

	// Bind sign-in with the AD attribute names; carol is refused.
	anaSession := sessionOf(t, srv, "ana", "ana-pass-1")
	bobSession := sessionOf(t, srv, "bob", "bob-pass-1")
	if r := signIn(t, srv, "carol", "carol-pass-1"); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("disabled carol signs in: %d", r.StatusCode)
	}
	if !portalOK(t, srv, anaSession) || !portalOK(t, srv, bobSession) {
		t.Fatal("fresh sessions refused")
	}
	if got := groupsOf(t, srv, user(t, srv, "bob").ID); !slices.Equal(got, []string{"aws-devs"}) {
		t.Fatalf("bob's groups after signing in = %v", got)
	}

	// An unreachable directory: the sync fails and disables nobody.
	broken := adSettings(d)
	broken[ldap.SettingURL] = "ldap://127.0.0.1:9"
	storeUnchecked(t, srv, broken, nil)
	if _, err := srv.LDAP.Sync(ctx); !errors.Is(err, ldap.ErrUnreachable) {
		t.Fatalf("sync of an unreachable directory: %v, want ErrUnreachable", err)
	}
	if user(t, srv, "ana").Disabled || user(t, srv, "bob").Disabled || !portalOK(t, srv, anaSession) {
		t.Fatal("a failed sync disabled users")
	}
	pwAgain := ldaptest.BindPassword // the URL changes back: the bind password again
	if err := srv.Sources.Configure(ctx, idsource.LDAP, adSettings(d), &pwAgain); err != nil {
		t.Fatal(err)
	}

	// ana disabled in AD's way, bob deleted: both lose access at once.
	d.Modify(t, "dn: uid=ana,"+ldaptest.PeopleDN+"\nchangetype: modify\nreplace: userAccountControl\nuserAccountControl: 514\n\n"+
		"dn: uid=bob,"+ldaptest.PeopleDN+"\nchangetype: delete\n")
	res, err = srv.LDAP.Sync(ctx)
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	if !slices.Equal(res.Disabled, []string{"ana", "carol"}) || !slices.Equal(res.Retired, []string{"bob"}) {
		t.Fatalf("sync result %+v, want ana and carol disabled, bob retired", res)
	}
	if portalOK(t, srv, anaSession) || portalOK(t, srv, bobSession) {
		t.Fatal("a session of a user disabled or removed upstream still works after the sync")
	}
	if !user(t, srv, "ana").Disabled || !user(t, srv, "bob").Disabled {
		t.Fatal("ana or bob still enabled")
	}
	if r := signIn(t, srv, "ana", "ana-pass-1"); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("ana signs in while disabled upstream: %d", r.StatusCode)
	}

	// Enabled again upstream: enabled again here, memberships intact.
	d.Modify(t, "dn: uid=ana,"+ldaptest.PeopleDN+"\nchangetype: modify\nreplace: userAccountControl\nuserAccountControl: 512\n")
	if _, err := srv.LDAP.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if u := user(t, srv, "ana"); u.Disabled || !slices.Equal(groupsOf(t, srv, u.ID), []string{"aws-devs", "ops"}) {
		t.Fatalf("ana after re-enabling: disabled %v, groups %v", u.Disabled, groupsOf(t, srv, u.ID))
	}
	sessionOf(t, srv, "ana", "ana-pass-1")

	// Each sync is audited with its counts; no event holds the bind
	// password or a user's password.
	evs, err := srv.Store.ListEvents(ctx, store.EventFilter{End: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	syncs := 0
	for _, e := range evs {
		for _, secret := range []string{ldaptest.BindPassword, "ana-pass-1", "bob-pass-1"} {
			if strings.Contains(string(e.Record), secret) {
				t.Fatalf("event %s holds a password", e.Name)
			}
		}
		if e.Name == "SyncIdentitySource" {
			syncs++
			if !strings.Contains(string(e.Record), `"issuer":"ldap:dc=corp,dc=example"`) {
				t.Errorf("sync event lacks the issuer: %s", e.Record)
			}
		}
	}
	if syncs != 3 {
		t.Fatalf("%d SyncIdentitySource events, want 3 (the failed sync records none)", syncs)
	}
}

// TestSignInByBind: a person known only to the directory signs in through
// the portal's form (StartTLS with the test CA, OpenLDAP attribute
// names) and is provisioned with their groups; wrong passwords are
// refused and counted by the sign-in limits; filter-injection user names
// and empty passwords are refused.
func TestSignInByBind(t *testing.T) {
	d := ldaptest.Start(t, directoryLDIF())
	srv := newServer(t, openLDAPSettings(d))
	ctx := t.Context()

	if _, err := srv.Store.GetUserByName(ctx, "ana"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ana exists before signing in: %v", err)
	}
	s := sessionOf(t, srv, "ana", "ana-pass-1")
	if !portalOK(t, srv, s) {
		t.Fatal("ana's session is refused")
	}
	ana := user(t, srv, "ana")
	if got := groupsOf(t, srv, ana.ID); !slices.Equal(got, []string{"aws-devs", "ops"}) {
		t.Fatalf("ana's groups after sign-in = %v", got)
	}
	if len(ana.ExternalIDs) != 1 || ana.ExternalIDs[0].Issuer != "ldap:dc=corp,dc=example" || len(ana.ExternalIDs[0].ID) != 36 {
		t.Fatalf("ana's external IDs = %+v, want the entryUUID", ana.ExternalIDs)
	}
	// employeeType: disabled (the configured test) refuses carol.
	if r := signIn(t, srv, "carol", "carol-pass-1"); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("carol (employeeType disabled) signs in: %d", r.StatusCode)
	}

	// Filter injection: each would match ana (or everyone) if the name
	// were filter syntax; all are refused and provision no one.
	for _, name := range []string{"*", "a*", ")(uid=*", "ana)(|(uid=*", "*)(uid=*))(|(uid=*", "ana\x00", `ana\2a`} {
		if r := signIn(t, srv, name, "ana-pass-1"); r.StatusCode != http.StatusUnauthorized {
			t.Errorf("user name %q with ana's password: %d, want 401", name, r.StatusCode)
		}
		if _, err := srv.Sources.Authenticate(ctx, name, "ana-pass-1"); !errors.Is(err, directory.ErrBadCredentials) {
			t.Errorf("Authenticate(%q) = %v, want ErrBadCredentials", name, err)
		}
	}
	// An empty password would be an unauthenticated bind, which succeeds.
	if _, err := srv.Sources.Authenticate(ctx, "ana", ""); !errors.Is(err, directory.ErrBadCredentials) {
		t.Fatalf("empty password: %v, want ErrBadCredentials", err)
	}
	users, err := srv.Store.ListUsers(ctx, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 1 {
		t.Fatalf("%d users after the injection attempts, want only ana", len(users))
	}

	// Wrong passwords: 401 each, counted: past the free attempts per user
	// and address, the sign-in is paused (429), even with the right
	// password.
	refused := 0
	for i := 0; ; i++ {
		r := signIn(t, srv, "bob", fmt.Sprintf("wrong-%d", i))
		if r.StatusCode == http.StatusTooManyRequests {
			break
		}
		if r.StatusCode != http.StatusUnauthorized || i == 10 {
			t.Fatalf("wrong password %d: %d, want 401 until the limit's 429", i, r.StatusCode)
		}
		refused++
	}
	if refused < 3 {
		t.Fatalf("paused after %d wrong passwords", refused)
	}
	if r := signIn(t, srv, "bob", "bob-pass-1"); r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("right password after the limit: %d, want 429 (the limits count LDAP failures)", r.StatusCode)
	}
	// A name the directory folds to bob (fullwidth letters: slapd
	// matches by the normalized form) but the limits count apart is no
	// way around them: it names nobody, whatever the password.
	for _, variant := range []string{"\uff42\uff4f\uff42", "\uff42ob", "bo\uff42"} {
		if r := signIn(t, srv, variant, "bob-pass-1"); r.StatusCode != http.StatusUnauthorized {
			t.Errorf("user name %q with bob's password after bob's limit: %d, want 401", variant, r.StatusCode)
		}
	}
	if _, err := srv.Store.GetUserByName(ctx, "bob"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("bob was provisioned without a right password: %v", err)
	}

	// The sync by the member attribute finds the same groups and the same
	// person (by entryUUID).
	res, err := srv.LDAP.Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Users != 4 || !slices.Equal(res.Disabled, []string{"carol"}) {
		t.Fatalf("sync result %+v", res)
	}
	if u := user(t, srv, "ana"); u.ID != ana.ID || !slices.Equal(groupsOf(t, srv, u.ID), []string{"aws-devs", "ops"}) {
		t.Fatalf("ana after the sync: %+v", u)
	}
}

// TestLDAPS connects over ldaps:// with the test CA, and refuses the
// server's certificate without it.
func TestLDAPS(t *testing.T) {
	d := ldaptest.Start(t, directoryLDIF())
	set := adSettings(d)
	set[ldap.SettingURL] = d.TLSURL
	delete(set, ldap.SettingInsecurePlain)
	delete(set, ldap.SettingStartTLS)
	set[ldap.SettingCACertificate] = d.CAPEM
	srv := newServer(t, set)
	if res, err := srv.LDAP.Sync(t.Context()); err != nil || res.Users != 4 {
		t.Fatalf("sync over LDAPS: %+v %v", res, err)
	}
	delete(set, ldap.SettingCACertificate)
	storeUnchecked(t, srv, set, nil)
	if _, err := srv.LDAP.Sync(t.Context()); !errors.Is(err, ldap.ErrUnreachable) || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("sync without the CA: %v, want a certificate error", err)
	}
	if r := signIn(t, srv, "ana", "ana-pass-1"); r.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("sign-in while the directory's certificate is not trusted: %d, want 503", r.StatusCode)
	}
}

// TestScheduleOncePerInterval: the schedule syncs once per interval slot
// however many replicas ask, only while LDAP is active, and Sync on demand
// refuses when LDAP is not active.
func TestScheduleOncePerInterval(t *testing.T) {
	d := ldaptest.Start(t, directoryLDIF())
	srv := newServer(t, adSettings(d))
	ctx := t.Context()
	ran, res, err := srv.LDAP.SyncDue(ctx)
	if err != nil || !ran || res.Users != 4 {
		t.Fatalf("first SyncDue: %v %+v %v", ran, res, err)
	}
	// Another replica (a Source over the same store) in the same slot.
	other := &ldap.Source{Sources: srv.Sources, Now: srv.Config.Now, Log: srv.Log}
	if ran, _, err := other.SyncDue(ctx); err != nil || ran {
		t.Fatalf("second SyncDue in the same interval: ran %v, %v", ran, err)
	}
	if _, err := srv.Sources.Switch(ctx, idsource.Directory); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.LDAP.Sync(ctx); !errors.Is(err, ldap.ErrNotActive) {
		t.Fatalf("Sync with the directory active: %v, want ErrNotActive", err)
	}
}

// TestPreviewAndCheck: the switch plan's preview names matched, new and
// unmatched users; bad settings are Validation faults naming each
// problem.
func TestPreviewAndCheck(t *testing.T) {
	d := ldaptest.Start(t, directoryLDIF())
	srv := servertest.New(t, nil)
	ctx := t.Context()
	for _, name := range []string{"ana", "zoe"} {
		if _, err := srv.Directory.CreateUser(ctx, directory.CreateUserInput{UserName: name, DisplayName: name,
			Name: store.UserName{GivenName: name, FamilyName: name}}); err != nil {
			t.Fatal(err)
		}
	}
	pw := ldaptest.BindPassword
	if err := srv.Sources.Configure(ctx, idsource.LDAP, adSettings(d), &pw); err != nil {
		t.Fatal(err)
	}
	plan, err := srv.Sources.PlanSwitch(ctx, idsource.LDAP)
	if err != nil {
		t.Fatal(err)
	}
	p := plan.Preview
	if p == nil || !slices.Equal(p.Matched, []string{"ana"}) || !slices.Equal(p.New, []string{"bob", "carol", "dave"}) ||
		!slices.Contains(p.Unmatched, "zoe") || slices.Contains(p.Unmatched, "ana") {
		t.Fatalf("preview = %+v (notes %q)", p, plan.Notes)
	}

	for name, c := range map[string]struct {
		change map[string]string
		want   string
	}{
		"http URL":        {map[string]string{ldap.SettingURL: "http://dc1.corp.example"}, "url must start with ldap://"},
		"plain LDAP":      {map[string]string{ldap.SettingInsecurePlain: "off"}, "needs startTLS on"},
		"URL with DN":     {map[string]string{ldap.SettingURL: "ldaps://dc1/dc=corp"}, "scheme, host and port only"},
		"bad user filter": {map[string]string{ldap.SettingUserFilter: "(objectClass=user"}, "userFilter is not an LDAP filter"},
		"bad group filt":  {map[string]string{ldap.SettingGroupFilter: "objectClass=group)("}, "groupFilter is not an LDAP filter"},
		"bad DN":          {map[string]string{ldap.SettingUserBaseDN: "not a dn"}, "userBaseDN is not a DN"},
		"short interval":  {map[string]string{ldap.SettingSyncInterval: "30s"}, "at least 1m0s"},
		"bad interval":    {map[string]string{ldap.SettingSyncInterval: "hourly"}, "syncInterval must be a duration"},
		"bad disabled":    {map[string]string{ldap.SettingDisabledWhen: "flag:x"}, "flag:N needs a positive integer"},
		"bad attribute":   {map[string]string{ldap.SettingUserName: "uid)(x"}, "userNameAttribute must be an attribute name"},
		"bad CA":          {map[string]string{ldap.SettingCACertificate: "not pem"}, "holds no PEM certificate"},
		"bad membership":  {map[string]string{ldap.SettingGroupMembership: "nested"}, "groupMembership must be one of"},
	} {
		t.Run(name, func(t *testing.T) {
			set := adSettings(d)
			for k, v := range c.change {
				set[k] = v
			}
			err := srv.Sources.Configure(ctx, idsource.LDAP, set, nil)
			fe, ok := errors.AsType[*fault.Error](err)
			if !ok || fe.Kind != fault.Validation || !strings.Contains(fe.Message, c.want) {
				t.Fatalf("Configure = %v, want a Validation fault containing %q", err, c.want)
			}
		})
	}
}

// TestRunBackgroundSyncs: the server's background work syncs the active
// LDAP source at once when it starts (the interval's first slot is free).
func TestRunBackgroundSyncs(t *testing.T) {
	d := ldaptest.Start(t, directoryLDIF())
	srv := newServer(t, adSettings(d))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- srv.RunBackground(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	deadline := time.Now().Add(15 * time.Second)
	for {
		if u, err := srv.Store.GetUserByName(t.Context(), "dave"); err == nil && !u.Disabled {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("RunBackground did not sync the directory within 15 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestSyncProvisioningNobodyRetiresNobody: a sync whose search answers no
// users at all (a user filter with a typo, a service account that lost its
// read rights: the directory answers success with no entries), or whose
// users all fail (another unique ID attribute), is a broken configuration,
// not a company without people: it fails and disables nobody, so one wrong
// setting cannot lock every directory user out.
func TestSyncProvisioningNobodyRetiresNobody(t *testing.T) {
	d := ldaptest.Start(t, directoryLDIF())
	srv := newServer(t, adSettings(d))
	ctx := t.Context()
	if _, err := srv.LDAP.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	anaSession := sessionOf(t, srv, "ana", "ana-pass-1")

	typo := adSettings(d)
	typo[ldap.SettingUserFilter] = "(objectClass=inetOrgPersn)"
	if err := srv.Sources.Configure(ctx, idsource.LDAP, typo, nil); err != nil {
		t.Fatal(err)
	}
	res, err := srv.LDAP.Sync(ctx)
	if err == nil {
		t.Fatalf("a sync reading no users succeeded: %+v", res)
	}
	if len(res.Retired) != 0 {
		t.Fatalf("a sync reading no users retired %v", res.Retired)
	}
	for _, n := range []string{"ana", "bob", "dave"} {
		if user(t, srv, n).Disabled {
			t.Fatalf("%s disabled by a sync that read no users", n)
		}
	}
	if !portalOK(t, srv, anaSession) {
		t.Fatal("ana's session ended by a sync that read no users")
	}

	// Another unique ID attribute: every user's subject changes, so each
	// one is refused as a new person taking a known person's name. That
	// is not every user leaving the directory.
	otherID := adSettings(d)
	otherID[ldap.SettingUniqueID] = "entryUUID"
	if err := srv.Sources.Configure(ctx, idsource.LDAP, otherID, nil); err != nil {
		t.Fatal(err)
	}
	res, err = srv.LDAP.Sync(ctx)
	if err == nil || len(res.Retired) != 0 || len(res.Failed) != 4 {
		t.Fatalf("a sync provisioning nobody: %+v, %v; want an error, 4 failed, nobody retired", res, err)
	}
	for _, n := range []string{"ana", "bob", "dave"} {
		if user(t, srv, n).Disabled {
			t.Fatalf("%s disabled by a sync that provisioned nobody", n)
		}
	}
	if !portalOK(t, srv, anaSession) {
		t.Fatal("ana's session ended by a sync that provisioned nobody")
	}
}

// TestSyncKeepsAdministratorsDisable: an administrator who disables a
// directory user in Gatehouse (a stolen password, say) is obeyed: the
// next sync, which finds the user enabled in the directory, does not
// enable them again, and their directory password does not sign in.
// Enabling them is the administrator's to do.
func TestSyncKeepsAdministratorsDisable(t *testing.T) {
	d := ldaptest.Start(t, directoryLDIF())
	srv := newServer(t, adSettings(d))
	ctx := t.Context()
	if _, err := srv.LDAP.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	admin := audit.WithUser(ctx, "admin", "admin")
	if err := srv.People.DisableUser(admin, user(t, srv, "ana").ID); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.LDAP.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if !user(t, srv, "ana").Disabled {
		t.Fatal("the sync enabled a user the administrator disabled")
	}
	if r := signIn(t, srv, "ana", "ana-pass-1"); r.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a user the administrator disabled signs in with the directory password: %d", r.StatusCode)
	}
	if err := srv.People.EnableUser(admin, user(t, srv, "ana").ID); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.LDAP.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if user(t, srv, "ana").Disabled {
		t.Fatal("ana disabled after the administrator enabled her")
	}
	sessionOf(t, srv, "ana", "ana-pass-1")

	// What the sync disabled it enables again: bob removed from the
	// directory and restored comes back.
	d.Modify(t, "dn: uid=bob,"+ldaptest.PeopleDN+"\nchangetype: delete\n")
	if res, err := srv.LDAP.Sync(ctx); err != nil || !slices.Equal(res.Retired, []string{"bob"}) {
		t.Fatalf("sync after removing bob: %+v, %v", res, err)
	}
	dn, rest, _ := strings.Cut(adUser("bob", "Bob", "Stone", 0x20, 512, "bob-pass-1"), "\n")
	d.Modify(t, dn+"\nchangetype: add\n"+rest)
	if _, err := srv.LDAP.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if user(t, srv, "bob").Disabled {
		t.Fatal("bob, restored in the directory, stays disabled")
	}
}

// TestChangedURLNeedsTheBindPasswordAgain: the bind password is
// write-only, never shown again; pointing the stored settings at another
// server while keeping the stored password would send it there (Configure's
// check binds at once, then every sync). Changing where the password goes
// needs it typed again, and nothing reaches the other server before, nor
// at the next sync.
func TestChangedURLNeedsTheBindPasswordAgain(t *testing.T) {
	d := ldaptest.Start(t, directoryLDIF())
	srv := newServer(t, adSettings(d))
	ctx := audit.WithUser(t.Context(), "admin", "admin")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan []byte, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
			b, _ := io.ReadAll(io.LimitReader(c, 4096))
			c.Close()
			got <- b
		}
	}()
	for _, change := range []map[string]string{
		{ldap.SettingCACertificate: d.CAPEM, ldap.SettingStartTLS: "on"},
		{ldap.SettingURL: "ldap://" + ln.Addr().String()},
	} {
		moved := adSettings(d)
		maps.Copy(moved, change)
		err := srv.Sources.Configure(ctx, idsource.LDAP, moved, nil)
		if fault.KindOf(err) != fault.Validation || !strings.Contains(err.Error(), "bind password") {
			t.Errorf("settings %v changed with the stored password kept: %v, want a Validation fault asking for the password", change, err)
		}
	}
	// The scheduled sync binds with the settings stored.
	_, _ = srv.LDAP.Sync(ctx)
	select {
	case b := <-got:
		if strings.Contains(string(b), ldaptest.BindPassword) {
			t.Fatalf("the stored bind password was sent to the other server: %q", b)
		}
		t.Fatalf("Gatehouse connected to the other server before the password was typed again: %q", b)
	case <-time.After(300 * time.Millisecond):
	}
	// With the password typed again the change is the administrator's
	// own: the new server is used.
	pw := ldaptest.BindPassword
	moved := adSettings(d)
	moved[ldap.SettingURL] = strings.Replace(d.URL, "127.0.0.1", "localhost", 1)
	if err := srv.Sources.Configure(ctx, idsource.LDAP, moved, &pw); err != nil {
		t.Fatalf("URL changed with the password: %v", err)
	}
	// Other settings change with the stored password kept.
	moved[ldap.SettingUserFilter] = "(objectClass=inetOrgPerson)"
	moved[ldap.SettingSyncInterval] = "2h"
	if err := srv.Sources.Configure(ctx, idsource.LDAP, moved, nil); err != nil {
		t.Fatalf("filter and interval changed with the stored password kept: %v", err)
	}
}

// TestSyncFollowsGroupRename: a group renamed in the directory (its cn and
// so its DN) stays the same Gatehouse group, found by its unique ID
// (entryUUID), in a sync and at sign-in, so its members keep the group and
// its assignments; nothing new is created under the new name. A group
// linked by name before (external ID "ops", here renamed "Operations" in
// Gatehouse) trades that link for the ID.
func TestSyncFollowsGroupRename(t *testing.T) {
	d := ldaptest.Start(t, directoryLDIF())
	srv := newServer(t, openLDAPSettings(d))
	ctx := t.Context()
	const issuer = "ldap:dc=corp,dc=example"
	ops := &store.Group{ID: "9067aaaaaa-00000000-0000-0000-0000-000000000001", DisplayName: "Operations",
		ExternalIDs: []store.ExternalID{{Issuer: issuer, ID: "ops"}}, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := srv.Store.Update(ctx, func(tx store.Tx) error { return tx.CreateGroup(ctx, ops) }); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.LDAP.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	g, err := srv.Store.GetGroup(ctx, ops.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.ExternalIDs) != 1 || g.ExternalIDs[0].Issuer != issuer || len(g.ExternalIDs[0].ID) != 36 {
		t.Fatalf("the group linked by name has external IDs %+v, want only its entryUUID", g.ExternalIDs)
	}
	d.Modify(t, "dn: cn=ops,"+ldaptest.GroupsDN+"\nchangetype: modrdn\nnewrdn: cn=platform-ops\ndeleteoldrdn: 1\n")
	if _, err := srv.LDAP.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	sessionOf(t, srv, "ana", "ana-pass-1")
	ana := user(t, srv, "ana")
	ms, err := srv.Store.ListMembershipsByUser(ctx, ana.ID, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range ms {
		ids = append(ids, m.GroupID)
	}
	if !slices.Contains(ids, ops.ID) {
		t.Errorf("ana left the renamed group: her groups are %v", groupsOf(t, srv, ana.ID))
	}
	if g, err := srv.Store.GetGroupByName(ctx, "platform-ops"); err == nil {
		t.Errorf("the sync created group %s for the renamed one", g.ID)
	}
}
