// Command soak runs a real `gatehouse serve` under a steady mix of the
// traffic it serves for minutes at a time and checks that nothing fails
// and that memory stays flat (issue 12). It is a development tool, not part
// of the gatehouse binary and not part of CI:
//
//	go build -o /tmp/gatehouse ./cmd/gatehouse
//	go run ./cmd/soak -gatehouse /tmp/gatehouse                        # SQLite, 10 minutes
//	go run ./cmd/soak -gatehouse /tmp/gatehouse -duration 20s          # a quick check
//	go run ./cmd/soak -gatehouse /tmp/gatehouse -replicas 3 \
//	    -postgres 'postgres://postgres@127.0.0.1:55432/gatehouse_test?sslmode=disable'
//
// On SQLite it starts one child (demo world, data in a temporary folder);
// with -postgres it creates a fresh schema in that database, starts
// -replicas children sharing it (one master key, the demo world loaded by
// the first), spreads the requests over them, and drops the schema at the
// end. Everything talks to 127.0.0.1 only.
//
// Each operation is offered at its own fixed rate (per second), whether or
// not earlier requests have been answered, up to 64 of a kind in flight:
//
//   - sign-in: a new browser through the two-step sign-in form
//   - device: StartDeviceAuthorization, its approval in a signed-in browser
//     session (POST /device) and CreateToken with the device code, each on
//     the next replica
//   - refresh: CreateToken with a refresh token (rotating it)
//   - credentials: GetRoleCredentials with an access token
//   - sigv4: STS GetCallerIdentity signed with those role credentials
//   - admin: identitystore CreateUser, CreateGroup, CreateGroupMembership,
//     DeleteUser and DeleteGroup, signed with the administrator's
//     AdministratorAccess credentials in the management account, each step
//     on the next replica
//
// Browsers and CLI clients come from many source addresses (sent as
// X-Forwarded-For, which the children trust from 127.0.0.1), as the people
// of a deployment do; the per-address limits are not what is soaked.
//
// It prints, per operation, the count, the errors (any unexpected status;
// the first few answers are printed), and the p50, p99 and maximum
// latency; and, per child, the resident set size (VmRSS) sampled every
// second: at the end of the first minute, at the end, and its growth. It
// exits 1 on any error, on any offered request that could not be sent
// because 64 of its kind were still in flight, or, for runs of at least two
// minutes, when a child's RSS grew by 10% or more after the first minute.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

// run parses args, runs the soak and prints its report to out. The error
// says why the run failed.
func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	var c config
	fs.StringVar(&c.bin, "gatehouse", "", "path to a built gatehouse binary (required)")
	fs.DurationVar(&c.duration, "duration", 10*time.Minute, "how long the load lasts (at most 30m)")
	fs.StringVar(&c.postgres, "postgres", "", "postgres:// URL of a database to create a fresh schema in (default: SQLite in a temporary folder)")
	fs.IntVar(&c.replicas, "replicas", 1, "children sharing the PostgreSQL schema (1..5; SQLite: 1)")
	fs.Float64Var(&c.rates.signIn, "signin-rate", 1, "browser sign-ins per second")
	fs.Float64Var(&c.rates.device, "device-rate", 1, "device authorizations (start, approve, redeem) per second")
	fs.Float64Var(&c.rates.refresh, "refresh-rate", 5, "refresh-token rotations per second")
	fs.Float64Var(&c.rates.credentials, "credentials-rate", 10, "GetRoleCredentials per second")
	fs.Float64Var(&c.rates.sigv4, "sigv4-rate", 10, "SigV4-signed STS GetCallerIdentity per second")
	fs.Float64Var(&c.rates.admin, "admin-rate", 1, "admin write cycles (5 identitystore writes each) per second")
	fs.IntVar(&c.maxGrowth, "max-growth", 10, "fail when a child's RSS grows by this many percent or more after the first minute")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := c.check(); err != nil {
		return err
	}
	r, err := soak(ctx, c, out)
	if err != nil {
		return err
	}
	r.print(out)
	return r.verdict()
}

// config is the run's flags.
type config struct {
	bin       string
	duration  time.Duration
	postgres  string
	replicas  int
	rates     rates
	maxGrowth int
}

// rates are the offered rates per operation, per second.
type rates struct {
	signIn, device, refresh, credentials, sigv4, admin float64
}

func (c config) check() error {
	var errs []error
	if c.bin == "" {
		errs = append(errs, errors.New("-gatehouse is required"))
	}
	if c.duration <= 0 || c.duration > 30*time.Minute {
		errs = append(errs, errors.New("-duration must be above 0 and at most 30m"))
	}
	if c.replicas < 1 || c.replicas > 5 || (c.postgres == "" && c.replicas != 1) {
		errs = append(errs, errors.New("-replicas must be 1..5, and 1 without -postgres"))
	}
	for _, r := range []float64{c.rates.signIn, c.rates.device, c.rates.refresh, c.rates.credentials, c.rates.sigv4, c.rates.admin} {
		if r <= 0 || r > 200 {
			errs = append(errs, errors.New("every rate must be above 0 and at most 200 per second"))
			break
		}
	}
	if c.maxGrowth < 1 {
		errs = append(errs, errors.New("-max-growth must be at least 1"))
	}
	return errors.Join(errs...)
}
