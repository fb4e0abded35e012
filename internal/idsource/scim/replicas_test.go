package scim_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/idsource/scim"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
	"github.com/gatehouse-dev/gatehouse/internal/session"
)

// TestReplicasOnPostgres runs two replicas on one PostgreSQL database: a
// token issued on one works on the other, a user the IdP creates through
// one is found through the other, a token revoked on one is refused by the
// other on the very next request, and a deactivation through one refuses
// the user's role credentials on the other within a second.
func TestReplicasOnPostgres(t *testing.T) {
	dsn := os.Getenv("GATEHOUSE_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("GATEHOUSE_TEST_POSTGRES_DSN not set: PostgreSQL server needed")
	}
	sb := make([]byte, 6)
	rand.Read(sb)
	schema := "scim_" + hex.EncodeToString(sb)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	// Cleanups run last-registered first: the replicas (registered below)
	// stop, then the schema is dropped, then db closes. A deferred Close
	// would run before every cleanup and leave the schema behind.
	t.Cleanup(func() {
		// t.Context is done by now.
		if _, err := db.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
		db.Close()
	})
	if _, err := db.ExecContext(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	key := make([]byte, 32)
	rand.Read(key)
	replica := func(demo bool) *servertest.Server {
		return servertest.New(t, func(c *config.Config) {
			c.DatabaseURL = u.String()
			c.MasterKey = base64.StdEncoding.EncodeToString(key)
			c.Demo = demo
			c.Region = "us-east-1"
		})
	}
	a, b := replica(true), replica(false)
	ca := newClient(t, a)
	cb := &client{t: t, base: b.URL + scim.Prefix, token: ca.token, contentType: "application/scim+json"}

	uid := ca.do("POST", "/Users", `{"userName":"rep@example.com","name":{"givenName":"R","familyName":"P"},"displayName":"Rep",
		"emails":[{"primary":true,"value":"rep@example.com"}]}`).want(t, http.StatusCreated).str("id")
	if r := cb.do("GET", "/Users?filter="+urlq(`userName eq "rep@example.com"`), "").want(t, http.StatusOK); r.total(t) != 1 {
		t.Fatalf("replica b does not find the user: %s", r.raw)
	}
	gid := cb.do("GET", "/Groups?filter="+urlq(`displayName eq "Developers"`), "").want(t, http.StatusOK).str("Resources", "id")
	cb.do("PATCH", "/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"add","path":"members","value":[{"value":"`+uid+`"}]}]}`).want(t, http.StatusNoContent)

	// Role credentials issued on a, checked on b.
	var dev string
	for _, acct := range mustAccounts(t, a) {
		if acct.Name == "dev" {
			dev = acct.ID
		}
	}
	p := session.Principal{UserID: uid, UserName: "rep@example.com", GrantID: "grant-rep", SessionID: "session-rep", AuthTime: time.Now().Add(-time.Minute)}
	creds, err := a.Issuer.Issue(t.Context(), p, dev, "PowerUserAccess")
	if err != nil {
		t.Fatal(err)
	}
	callerOK := func() bool { return callerIdentity(t, b, creds) == nil }
	if !callerOK() {
		t.Fatal("role credentials refused on replica b before deactivation")
	}
	cb.do("PATCH", "/Users/"+uid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"Replace","path":"active","value":"False"}]}`).want(t, http.StatusOK)
	// Replica b made the change: refused there at once, on a within the
	// cache's refresh interval.
	if callerOK() {
		t.Fatal("role credentials still work on the replica that deactivated the user")
	}
	deadline := time.Now().Add(1500 * time.Millisecond)
	for callerIdentity(t, a, creds) == nil {
		if time.Now().After(deadline) {
			t.Fatal("role credentials still work on the other replica 1.5 s after deactivation")
		}
		time.Sleep(50 * time.Millisecond)
	}

	// A token revoked on b is refused by a on the next request.
	ts, err := b.SCIMTokens.List(t.Context())
	if err != nil || len(ts) != 1 {
		t.Fatalf("tokens on b: %v, %v", ts, err)
	}
	if err := b.SCIMTokens.Delete(t.Context(), ts[0].ID); err != nil {
		t.Fatal(err)
	}
	wantUnauthorized(t, ca.do("GET", "/Users", ""))
}
