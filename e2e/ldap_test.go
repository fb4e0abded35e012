package e2e

import (
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/clientconfig"
	"github.com/gatehouse-dev/gatehouse/internal/idsource"
	"github.com/gatehouse-dev/gatehouse/internal/idsource/ldap"
	"github.com/gatehouse-dev/gatehouse/internal/idsource/ldap/ldaptest"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// TestLDAPPersonSignsInWithCLI: with a real OpenLDAP server (slapd) as the
// identity source over StartTLS, a person who exists only in the
// directory signs in at Gatehouse's portal with their directory password
// to approve `aws sso login --no-browser` (Debian's AWS CLI 2.9.19), and
// the CLI gets role credentials for an account the administrator assigned
// beforehand to the directory group's name. Removed from the directory,
// the person's role credentials stop working right after the next sync.
func TestLDAPPersonSignsInWithCLI(t *testing.T) {
	d := ldaptest.Start(t, `dn: uid=lena,`+ldaptest.PeopleDN+`
objectClass: inetOrgPerson
uid: lena
cn: Lena Park
givenName: Lena
sn: Park
mail: lena@corp.example
userPassword: lena-dir-pass-7

dn: uid=omar,`+ldaptest.PeopleDN+`
objectClass: inetOrgPerson
uid: omar
cn: Omar Haddad
givenName: Omar
sn: Haddad
mail: omar@corp.example
userPassword: omar-dir-pass-3

dn: cn=aws-devs,`+ldaptest.GroupsDN+`
objectClass: groupOfNames
cn: aws-devs
member: uid=lena,`+ldaptest.PeopleDN+`
`)
	srv := demoServer(t) // the demo world's MFA policy is off
	ctx := t.Context()
	in := srv.Instance

	// The administrator makes the group under the directory group's
	// name and assigns it to the dev account, before anyone from the
	// directory has signed in.
	g, err := srv.Directory.CreateGroup(ctx, "aws-devs", "from the directory")
	if err != nil {
		t.Fatal(err)
	}
	ps, err := srv.Access.GetPermissionSetByName(ctx, "PowerUserAccess")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Access.CreateAssignment(ctx, access.AssignmentInput{AccountID: "111111111111", PermissionSetID: ps.ID,
		PrincipalType: store.PrincipalGroup, PrincipalID: g.ID}); err != nil {
		t.Fatal(err)
	}
	pw := ldaptest.BindPassword
	err = srv.Sources.Configure(ctx, idsource.LDAP, map[string]string{
		ldap.SettingURL: strings.Replace(d.URL, "127.0.0.1", "localhost", 1), ldap.SettingStartTLS: "on", ldap.SettingCACertificate: d.CAPEM,
		ldap.SettingBindDN: ldaptest.BindDN, ldap.SettingUserBaseDN: ldaptest.PeopleDN, ldap.SettingGroupBaseDN: ldaptest.GroupsDN,
		ldap.SettingUserFilter: "(objectClass=inetOrgPerson)", ldap.SettingGroupFilter: "(objectClass=groupOfNames)",
		ldap.SettingUserName: "uid", ldap.SettingUniqueID: "entryUUID",
	}, &pw)
	if err != nil {
		t.Fatalf("configure: %v", err)
	}
	plan, err := srv.Sources.Switch(ctx, idsource.LDAP)
	if err != nil {
		t.Fatalf("switch: %v", err)
	}
	if plan.Preview == nil || !slices.Equal(plan.Preview.New, []string{"lena", "omar"}) {
		t.Fatalf("switch preview = %+v, want lena and omar new", plan.Preview)
	}
	if _, err := srv.Store.GetUserByName(ctx, "lena"); err == nil {
		t.Fatal("lena exists in Gatehouse before signing in")
	}

	c := newCLI(t, srv)
	sess := clientconfig.Session{Name: "gatehouse", StartURL: in.StartURL, Region: in.Region, BaseURL: srv.URL}
	c.appendConfig(sess.SessionSection() + "\n" +
		clientconfig.Profile{Name: "dev", AccountID: "111111111111", RoleName: "PowerUserAccess", Region: "us-east-1"}.Section(sess))
	c.loginWith("dev", "lena", "lena-dir-pass-7")
	id, out, err := c.callerIdentity(nil, "--profile", "dev")
	if err != nil {
		t.Fatalf("get-caller-identity as lena: %v\n%s", err, out)
	}
	wantCaller(t, id, "111111111111", "PowerUserAccess", "lena")

	// Removed from the directory: the next sync retires lena and her role
	// credentials (cached by the CLI) are refused at once. (omar stays: a
	// sync that finds nobody at all retires nobody, as a misconfiguration
	// looks the same.)
	d.Modify(t, "dn: uid=lena,"+ldaptest.PeopleDN+"\nchangetype: delete\n")
	res, err := srv.LDAP.Sync(ctx)
	if err != nil {
		t.Fatalf("sync: %v", err)
	}
	if !slices.Equal(res.Retired, []string{"lena"}) {
		t.Fatalf("sync result %+v, want lena retired", res)
	}
	if _, out, err := c.callerIdentity(nil, "--profile", "dev"); err == nil || !strings.Contains(out, "InvalidClientTokenId") {
		t.Fatalf("get-caller-identity after lena was removed from the directory: %v, want InvalidClientTokenId\n%s", err, out)
	}
}

// TestLDAPScheduleOnPostgresReplicas: two replicas sharing PostgreSQL ask
// at once whether the interval's sync is due; exactly one of them syncs.
func TestLDAPScheduleOnPostgresReplicas(t *testing.T) {
	d := ldaptest.Start(t, "dn: uid=ana,"+ldaptest.PeopleDN+"\nobjectClass: inetOrgPerson\nuid: ana\ncn: Ana Lima\nsn: Lima\n")
	replicas := postgresReplicas(t, false, false)
	a, b := replicas[0], replicas[1]
	ctx := t.Context()
	pw := ldaptest.BindPassword
	if err := a.Sources.Configure(ctx, idsource.LDAP, map[string]string{
		ldap.SettingURL: d.URL, ldap.SettingStartTLS: "off", ldap.SettingInsecurePlain: "on", ldap.SettingBindDN: ldaptest.BindDN,
		ldap.SettingUserBaseDN: ldaptest.PeopleDN, ldap.SettingGroupBaseDN: ldaptest.GroupsDN, ldap.SettingUserFilter: "(objectClass=inetOrgPerson)",
		ldap.SettingGroupFilter: "(objectClass=groupOfNames)", ldap.SettingUserName: "uid", ldap.SettingUniqueID: "entryUUID",
	}, &pw); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Sources.Switch(ctx, idsource.LDAP); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	ran := make([]bool, 2)
	errs := make([]error, 2)
	for i, r := range []*servertest.Server{a, b} {
		wg.Go(func() { ran[i], _, errs[i] = r.LDAP.SyncDue(ctx) })
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil || ran[0] == ran[1] {
		t.Fatalf("SyncDue on two replicas: ran %v, errors %v; want exactly one sync", ran, errs)
	}
	if u, err := b.Store.GetUserByName(ctx, "ana"); err != nil || u.Disabled {
		t.Fatalf("ana after the scheduled sync: %+v %v", u, err)
	}
}
