package main

import (
	"runtime"

	"github.com/gatehouse-dev/gatehouse/internal/signin"
)

// procsForHashes returns the GOMAXPROCS the server should run with so that
// password hashes cannot hold every P: at least one more than the sign-in
// hash gate's concurrency (signin_concurrency, or its default, the CPUs).
// An argon2id hash runs ~10–50 ms without a scheduling point; when the
// gate's running hashes fill every P, every other request (GetRoleCredentials,
// CreateToken, page loads) waits for Go's 10 ms preemption at each step of
// its way and slows to a few percent of its rate (docs/benchmarks.md,
// "Sign-in throughput"). With one P more, the OS scheduler shares the
// cores between the hashing threads and the rest at once. An explicit
// GOMAXPROCS in the environment is left alone (set reports false).
func procsForHashes(concurrency, procs int, getenv func(string) string) (n int, set bool) {
	if getenv("GOMAXPROCS") != "" {
		return procs, false
	}
	if concurrency <= 0 {
		concurrency = signin.DefaultLimits().HashConcurrency
	}
	if procs > concurrency {
		return procs, false
	}
	return concurrency + 1, true
}

// reserveProc applies procsForHashes to this process.
func reserveProc(concurrency int, getenv func(string) string) {
	if n, set := procsForHashes(concurrency, runtime.GOMAXPROCS(0), getenv); set {
		runtime.GOMAXPROCS(n)
	}
}
