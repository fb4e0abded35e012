// Package ldaptest starts a throwaway OpenLDAP server (Debian's slapd) for
// tests: its own configuration and database in t.TempDir(), a free
// loopback port for ldap:// (StartTLS offered) and another for ldaps://,
// a certificate from a test CA, the memberof overlay (so that users carry
// memberOf as in Active Directory), and a small schema giving entries the
// Active Directory attributes sAMAccountName, objectGUID and
// userAccountControl. The server stops when the test ends.
package ldaptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// Slapd is the path of Debian's slapd.
const Slapd = "/usr/sbin/slapd"

// Base is the suffix of the test directory, AdminDN and AdminPassword its
// root account (which the test uses to change entries).
const (
	Base          = "dc=corp,dc=example"
	AdminDN       = "cn=admin," + Base
	AdminPassword = "admin-secret"
	// BindDN and BindPassword are a read-only service account, as an
	// administrator would give Gatehouse.
	BindDN       = "cn=gatehouse,ou=services," + Base
	BindPassword = "svc-secret-1"
	// PeopleDN and GroupsDN hold the users and the groups.
	PeopleDN = "ou=people," + Base
	GroupsDN = "ou=groups," + Base
)

// Server is a running slapd.
type Server struct {
	// URL is ldap://127.0.0.1:<port> (StartTLS offered), TLSURL
	// ldaps://localhost:<port>.
	URL, TLSURL string
	// CAPEM is the test CA's certificate, which signed the server's.
	CAPEM string
	dir   string
}

// adSchema gives entries Active Directory's user attributes (AD's own
// OIDs, from the schema AD publishes) through an auxiliary class.
const adSchema = `
attributetype ( 1.2.840.113556.1.4.221 NAME 'sAMAccountName'
	EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch
	SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.2 NAME 'objectGUID'
	EQUALITY octetStringMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.40 SINGLE-VALUE )
attributetype ( 1.2.840.113556.1.4.8 NAME 'userAccountControl'
	EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
objectclass ( 1.3.6.1.4.1.55555.1.1 NAME 'gatehouseTestADUser' AUXILIARY
	MAY ( sAMAccountName $ objectGUID $ userAccountControl ) )
`

// Start starts slapd with ldif loaded (through the server, so that the
// memberof overlay sees the groups), or skips the test when slapd is not
// installed. ldif may use the constants above; it need not create the base,
// ou=people, ou=groups, ou=services or the service account.
func Start(t testing.TB, ldif string) *Server {
	t.Helper()
	if _, err := os.Stat(Slapd); err != nil {
		t.Skipf("slapd is not installed (%s): apt-get install slapd ldap-utils", Slapd)
	}
	dir := t.TempDir()
	srv := &Server{dir: dir}
	caPEM, certPEM, keyPEM := testCerts(t)
	srv.CAPEM = string(caPEM)
	for name, data := range map[string][]byte{"ca.pem": caPEM, "cert.pem": certPEM, "key.pem": keyPEM, "ad.schema": []byte(adSchema)} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "db"), 0o700); err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf(`include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
include %[1]s/ad.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
pidfile %[1]s/slapd.pid
TLSCACertificateFile %[1]s/ca.pem
TLSCertificateFile %[1]s/cert.pem
TLSCertificateKeyFile %[1]s/key.pem
database mdb
maxsize 67108864
suffix "%[2]s"
rootdn "%[3]s"
rootpw %[4]s
directory %[1]s/db
sizelimit unlimited
overlay memberof
memberof-group-oc groupOfNames
memberof-member-ad member
memberof-memberof-ad memberOf
memberof-refint TRUE
access to attrs=userPassword by self write by anonymous auth by * none
access to * by users read by * none
`, dir, Base, AdminDN, AdminPassword)
	confPath := filepath.Join(dir, "slapd.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	ports := freePorts(t, 2)
	port, tlsPort := ports[0], ports[1]
	srv.URL = fmt.Sprintf("ldap://127.0.0.1:%d", port)
	srv.TLSURL = fmt.Sprintf("ldaps://localhost:%d", tlsPort)
	var out bytes.Buffer
	cmd := exec.Command(Slapd, "-d", "0", "-f", confPath, "-h", srv.URL+"/ "+fmt.Sprintf("ldaps://127.0.0.1:%d/", tlsPort))
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start slapd: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := ldap.DialURL(srv.URL)
		if err == nil {
			c.Close()
			break
		}
		select {
		case <-done:
			t.Fatalf("slapd exited: %s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("slapd did not listen on %s: %v\n%s", srv.URL, err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	base := fmt.Sprintf(`dn: %[1]s
objectClass: dcObject
objectClass: organization
dc: corp
o: Corp

dn: %[2]s
objectClass: organizationalUnit
ou: people

dn: %[3]s
objectClass: organizationalUnit
ou: groups

dn: ou=services,%[1]s
objectClass: organizationalUnit
ou: services

dn: %[4]s
objectClass: person
cn: gatehouse
sn: gatehouse
userPassword: %[5]s
`, Base, PeopleDN, GroupsDN, BindDN, BindPassword)
	srv.Add(t, base+"\n"+ldif)
	return srv
}

// Add loads ldif (entries to add) as the root account, with ldapadd.
func (s *Server) Add(t testing.TB, ldif string) {
	t.Helper()
	s.ldapTool(t, "ldapadd", ldif)
}

// Modify applies an LDIF of changes (changetype: modify or delete) as the
// root account, with ldapmodify.
func (s *Server) Modify(t testing.TB, ldif string) {
	t.Helper()
	s.ldapTool(t, "ldapmodify", ldif)
}

func (s *Server) ldapTool(t testing.TB, tool, ldif string) {
	t.Helper()
	cmd := exec.Command(tool, "-x", "-H", s.URL, "-D", AdminDN, "-w", AdminPassword)
	cmd.Stdin = strings.NewReader(ldif)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", tool, err, out)
	}
}

// freePorts returns n distinct loopback TCP ports nothing listens on now
// (held open together while chosen, so they differ).
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

// testCerts makes a CA and a server certificate for localhost and
// 127.0.0.1 signed by it, PEM-encoded.
func testCerts(t testing.TB) (caPEM, certPEM, keyPEM []byte) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Gatehouse test LDAP CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
}
