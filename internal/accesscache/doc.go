// Package accesscache keeps the records that sit on Gatehouse's hot paths —
// users, their entitlements, permission sets, accounts, provisioned roles and
// the revocation list — in memory, so that verifying a SigV4 request or an
// access token costs no database query in steady state (DESIGN §5–6).
//
// Every record is loaded lazily, per key, into a view tagged with the store's
// change counter (store.Store.ChangeSeq). The counter is read at most once per
// RefreshInterval by one caller while the others keep using the current view;
// when it has moved the whole view is dropped. A write on any replica is
// therefore seen within RefreshInterval plus one query, well under the 1 s
// DESIGN §6 promises for revocations.
package accesscache
