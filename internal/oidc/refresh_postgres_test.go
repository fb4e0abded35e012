package oidc_test

import (
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/gatehouse-dev/gatehouse/internal/store/postgres"
)

// TestRefreshIndependentChainsPostgres rotates many independent refresh
// token chains of one client registration at once on PostgreSQL, as the
// AWS CLIs of many users of one Identity Center do. No two of the
// transactions touch a common row, so none of them may lose a race:
// every retry is a rolled-back transaction and a backoff the caller waits
// through (under SERIALIZABLE the predicate locks of the single-use UPDATE
// on the tokens index made them conflict with each other's inserts).
func TestRefreshIndependentChainsPostgres(t *testing.T) {
	st, err := postgres.Open(t.Context(), postgresSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := newEnvOn(t, st)
	c := e.deviceClient("sso:account:access")
	const chains, rounds = 16, 8
	tokens := make([]string, chains)
	for i := range tokens {
		tokens[i] = aws.ToString(e.deviceLogin(c).RefreshToken)
	}
	before := st.Retries()
	var wg sync.WaitGroup
	for i := range tokens {
		wg.Go(func() {
			for range rounds {
				out, err := e.refresh(c, tokens[i])
				if err != nil {
					t.Errorf("chain %d: refresh: %v", i, err)
					return
				}
				tokens[i] = aws.ToString(out.RefreshToken)
			}
		})
	}
	wg.Wait()
	if n := st.Retries() - before; n != 0 {
		t.Errorf("%d refreshes of %d independent chains: %d transactions rolled back and retried, want 0", chains*rounds, chains, n)
	}
}
