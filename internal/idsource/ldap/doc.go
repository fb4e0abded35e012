// Package ldap is the LDAP / Active Directory identity source: users and
// groups synced from a directory into the identity store, on a schedule and
// on demand, and passwords checked by an LDAP bind (AWS docs, "Connect to a
// Microsoft AD directory" describes the same for IAM Identity Center).
//
// A sync searches the users under the user base DN matching the user filter
// and the groups under the group base DN matching the group filter, with
// the simple paged results control (RFC 2696) and a time bound, and hands
// each user to idsource.Service.Provision in Sync mode: users disabled in
// the directory (Active Directory's userAccountControl ACCOUNTDISABLE bit,
// or a configured attribute test) are disabled at once, and users no
// longer found are disabled by idsource.Service.Retire — but only after a
// complete, successful search, so that an unreachable directory never
// disables everyone. Several replicas share the schedule through a
// use-marker per interval, so one of them syncs each interval.
//
// Sign-in: the user is searched by the user-name attribute (the value
// escaped per RFC 4515 §3), an empty password is refused (RFC 4513 §5.1.2:
// a bind with a name and no password is an unauthenticated bind that
// servers report as a success), and a bind as the user's DN on a fresh
// connection checks the password. The user is then provisioned at once, so
// a person who exists only in the directory can sign in before any sync.
//
// Dependency: github.com/go-ldap/ldap/v3 (v3.4.15, MIT, maintained by the
// go-ldap organisation; used by Dex, Vault/OpenBao, Gitea, Grafana). The
// standard library has no LDAP client; the protocol's BER encoding,
// controls (paging), StartTLS and filter compilation and escaping are
// what it gives. It pulls in github.com/go-asn1-ber/asn1-ber (its BER
// codec, same maintainers) and github.com/Azure/go-ntlmssp (NTLM binds,
// unused here).
package ldap
