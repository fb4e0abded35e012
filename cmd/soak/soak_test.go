package main

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/loadkit"
)

// TestSoakBriefly runs the soak for a few seconds on SQLite (and on three
// PostgreSQL replicas when GATEHOUSE_TEST_POSTGRES_DSN is set) with a
// real gatehouse child: no error, no skipped request, and every kind of
// operation exercised.
func TestSoakBriefly(t *testing.T) {
	if testing.Short() {
		t.Skip("builds gatehouse and runs it under load (-short given)")
	}
	bin, err := loadkit.Build(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	type backend struct {
		name     string
		postgres string
		replicas int
	}
	cases := []backend{{name: "sqlite", replicas: 1}}
	if dsn := os.Getenv("GATEHOUSE_TEST_POSTGRES_DSN"); dsn != "" {
		cases = append(cases, backend{"postgres-3-replicas", dsn, 3})
	} else {
		t.Log("GATEHOUSE_TEST_POSTGRES_DSN not set: SQLite only")
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := config{bin: bin, duration: 5 * time.Second, postgres: tc.postgres, replicas: tc.replicas, maxGrowth: 10,
				rates: rates{signIn: 2, device: 2, refresh: 5, credentials: 10, sigv4: 10, admin: 2}}
			if err := c.check(); err != nil {
				t.Fatal(err)
			}
			var log bytes.Buffer
			r, err := soak(t.Context(), c, &log)
			if err != nil {
				t.Fatalf("soak: %v\n%s", err, log.String())
			}
			var out bytes.Buffer
			r.print(&out)
			t.Log(out.String())
			for _, name := range opOrder {
				if st := r.stats[name]; len(st.lat) == 0 || st.errs > 0 {
					t.Errorf("%s: %d calls, %d errors", name, len(st.lat), st.errs)
				}
			}
			if err := r.verdict(); err != nil {
				t.Errorf("verdict: %v", err)
			}
			if len(r.rss) != tc.replicas || len(r.rss[0]) < 3 {
				t.Errorf("RSS samples: %d children, want %d with a sample a second", len(r.rss), tc.replicas)
			}
		})
	}
}

// TestFlags checks that the flags' limits are enforced.
func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"no binary", []string{"-duration", "1s"}},
		{"too long", []string{"-gatehouse", "/bin/true", "-duration", "31m"}},
		{"replicas without postgres", []string{"-gatehouse", "/bin/true", "-replicas", "3"}},
		{"zero rate", []string{"-gatehouse", "/bin/true", "-sigv4-rate", "0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := run(t.Context(), tc.args, &bytes.Buffer{}); err == nil {
				t.Errorf("run(%q) = nil, want a flag error", tc.args)
			}
		})
	}
}
