package policy_test

import (
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/policy"
)

// doc wraps statements in a 2012-10-17 policy document.
func doc(stmts ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
}

// mustCompile parses (strictly) and compiles a policy named id.
func mustCompile(t testing.TB, id, src string) *policy.Policy {
	t.Helper()
	d, err := policy.ParseStrict([]byte(src))
	if err != nil {
		t.Fatalf("ParseStrict(%s): %v", src, err)
	}
	p, err := policy.Compile(d)
	if err != nil {
		t.Fatalf("Compile(%s): %v", src, err)
	}
	p.ID = id
	return p
}

// kv is a condition key with its values, for building request contexts.
type kv struct {
	key    string
	values []string
}

func ctxOf(kvs ...kv) policy.Context {
	var c policy.Context
	for _, e := range kvs {
		c.Set(e.key, e.values...)
	}
	return c
}

func k(key string, values ...string) kv { return kv{key, values} }

// compileSet compiles the JSON sources of each layer.
func compileSet(t testing.TB, identity, boundary, session []string) *policy.Set {
	t.Helper()
	var s policy.Set
	for i, src := range identity {
		s.Identity = append(s.Identity, mustCompile(t, "identity"+string(rune('0'+i)), src))
	}
	for i, src := range boundary {
		s.Boundary = append(s.Boundary, mustCompile(t, "boundary"+string(rune('0'+i)), src))
	}
	for i, src := range session {
		s.Session = append(s.Session, mustCompile(t, "session"+string(rune('0'+i)), src))
	}
	return &s
}
