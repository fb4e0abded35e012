package main

import (
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/signin"
)

func TestProcsForHashes(t *testing.T) {
	def := signin.DefaultLimits().HashConcurrency
	noEnv := func(string) string { return "" }
	for _, tc := range []struct {
		name        string
		concurrency int
		procs       int
		getenv      func(string) string
		want        int
		wantSet     bool
	}{
		{"default gate fills every P", 0, def, noEnv, def + 1, true},
		{"configured gate as large as the Ps", 4, 4, noEnv, 5, true},
		{"configured gate larger than the Ps", 8, 2, noEnv, 9, true},
		{"a P to spare already", 2, 8, noEnv, 8, false},
		{"GOMAXPROCS set by the operator", 2, 2, func(k string) string {
			if k == "GOMAXPROCS" {
				return "2"
			}
			return ""
		}, 2, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, set := procsForHashes(tc.concurrency, tc.procs, tc.getenv)
			if n != tc.want || set != tc.wantSet {
				t.Errorf("procsForHashes(%d, %d) = %d, %v; want %d, %v", tc.concurrency, tc.procs, n, set, tc.want, tc.wantSet)
			}
		})
	}
}
