package domaintest

import (
	"syscall"
	"testing"
	"time"
)

// CPUTime returns the user and system CPU time the test process has used
// (getrusage). Benchmarks report it per operation: on a machine shared
// with other work it moves much less than the wall-clock rate.
func CPUTime(tb testing.TB) time.Duration {
	tb.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
