package ldaptest_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/idsource/ldap/ldaptest"
)

// TestStart proves the server starts, loads entries through the memberof
// overlay and answers over LDAPS with the test CA.
func TestStart(t *testing.T) {
	s := ldaptest.Start(t, `dn: uid=ana,`+ldaptest.PeopleDN+`
objectClass: inetOrgPerson
objectClass: gatehouseTestADUser
uid: ana
cn: Ana
sn: Lima
sAMAccountName: ana
userAccountControl: 512
userPassword: pw

dn: cn=devs,`+ldaptest.GroupsDN+`
objectClass: groupOfNames
cn: devs
member: uid=ana,`+ldaptest.PeopleDN+`
`)
	out, err := exec.Command("ldapsearch", "-x", "-H", s.URL, "-D", ldaptest.BindDN, "-w", ldaptest.BindPassword,
		"-b", ldaptest.PeopleDN, "(uid=ana)", "memberOf").CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(string(out), "memberOf: cn=devs,"+ldaptest.GroupsDN) {
		t.Fatalf("no memberOf:\n%s", out)
	}
}
