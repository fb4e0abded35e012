package main

import (
	"bytes"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/idsource"
	"github.com/gatehouse-dev/gatehouse/internal/idsource/ldap"
	"github.com/gatehouse-dev/gatehouse/internal/idsource/ldap/ldaptest"
	"github.com/gatehouse-dev/gatehouse/internal/server"
)

// TestLDAPSyncCommand: gatehouse ldap-sync refuses while LDAP is not the
// active source, then syncs the directory into the data folder's database
// and lists who it disabled.
func TestLDAPSyncCommand(t *testing.T) {
	d := ldaptest.Start(t, `dn: uid=ana,`+ldaptest.PeopleDN+`
objectClass: inetOrgPerson
uid: ana
cn: Ana Lima
sn: Lima
employeeType: staff
userPassword: ana-pass-1

dn: uid=carl,`+ldaptest.PeopleDN+`
objectClass: inetOrgPerson
uid: carl
cn: Carl Berg
sn: Berg
employeeType: disabled
`)
	dir := t.TempDir()
	var stderr bytes.Buffer
	if err := run(t.Context(), []string{"migrate", "--data", dir}, io.Discard, &stderr, env(nil)); err != nil {
		t.Fatalf("migrate: %v\n%s", err, stderr.String())
	}
	cfg := config.Default()
	cfg.DataDir = dir
	srv, err := server.New(t.Context(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	pw := ldaptest.BindPassword
	err = srv.Sources.Configure(t.Context(), idsource.LDAP, map[string]string{
		ldap.SettingURL: d.URL, ldap.SettingStartTLS: "off", ldap.SettingInsecurePlain: "on", ldap.SettingBindDN: ldaptest.BindDN,
		ldap.SettingUserBaseDN: ldaptest.PeopleDN, ldap.SettingGroupBaseDN: ldaptest.GroupsDN, ldap.SettingUserFilter: "(objectClass=inetOrgPerson)",
		ldap.SettingGroupFilter: "(objectClass=groupOfNames)", ldap.SettingUserName: "uid", ldap.SettingUniqueID: "entryUUID",
		ldap.SettingDisabledAttr: "employeeType", ldap.SettingDisabledWhen: "equals:disabled",
	}, &pw)
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()

	var stdout bytes.Buffer
	err = run(t.Context(), []string{"ldap-sync", "--data", dir}, &stdout, &stderr, env(nil))
	if err == nil || !strings.Contains(err.Error(), "LDAP is not the active identity source") {
		t.Fatalf("ldap-sync before the switch: %v", err)
	}

	srv, err = server.New(t.Context(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Sources.Switch(t.Context(), idsource.LDAP); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	if err := run(t.Context(), []string{"ldap-sync", "--data", dir}, &stdout, &stderr, env(nil)); err != nil {
		t.Fatalf("ldap-sync: %v\n%s", err, stderr.String())
	}
	for _, want := range []string{"Synced 2 users from the directory.", "Disabled in the directory (1):\n  carl\n"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, stdout.String())
		}
	}
	srv, err = server.New(t.Context(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if u, err := srv.Store.GetUserByName(t.Context(), "carl"); err != nil || !u.Disabled {
		t.Fatalf("carl after ldap-sync: %+v %v", u, err)
	}
	if u, err := srv.Store.GetUserByName(t.Context(), "ana"); err != nil || u.Disabled {
		t.Fatalf("ana after ldap-sync: %+v %v", u, err)
	}
}
