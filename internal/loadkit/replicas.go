package loadkit

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"fmt"
	"net/url"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// PostgresSchema creates a fresh schema ("load_" + 12 random hex digits)
// in the PostgreSQL database dsn (a postgres:// URL) names and returns dsn
// with search_path set to it, for children that must start from an empty
// database, and drop, which removes the schema and everything in it.
func PostgresSchema(ctx context.Context, dsn string) (schemaURL string, drop func() error, err error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", nil, fmt.Errorf("parse the PostgreSQL URL: %w", err)
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return "", nil, err
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := fmt.Sprintf("load_%x", b)
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		db.Close()
		return "", nil, fmt.Errorf("create schema %s: %w", schema, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	drop = func() error {
		defer db.Close()
		if _, err := db.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			return fmt.Errorf("drop schema %s: %w", schema, err)
		}
		return nil
	}
	return u.String(), drop, nil
}

// StartReplicas starts n children (n ≥ 1) described by o that share the
// PostgreSQL database o.DatabaseURL, as replicas behind a load balancer
// do: one random master key for all of them (GATEHOUSE_MASTER_KEY), the
// demo world loaded by the first only (o.Demo), which is started and ready
// before the others so that it alone creates the schema. Each child gets
// its own temporary data folder. On an error the children already started
// are stopped.
func StartReplicas(ctx context.Context, o ServeOptions, n int) ([]*Child, error) {
	if o.DatabaseURL == "" || n < 1 {
		return nil, fmt.Errorf("loadkit: replicas need a database URL and n ≥ 1 (got %d)", n)
	}
	key := make([]byte, 32)
	rand.Read(key)
	o.Env = append(append([]string(nil), o.Env...), "GATEHOUSE_MASTER_KEY="+base64.StdEncoding.EncodeToString(key))
	var children []*Child
	for i := range n {
		oi := o
		oi.Demo = o.Demo && i == 0
		c, err := Start(ctx, oi)
		if err != nil {
			for _, c := range children {
				c.Stop()
			}
			return nil, fmt.Errorf("replica %d: %w", i+1, err)
		}
		children = append(children, c)
	}
	return children, nil
}
