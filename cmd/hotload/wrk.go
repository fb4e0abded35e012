package main

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// script is the wrk script every path runs with: it pins threads to
// replicas, sets method and body, drives the refresh chains and prints the
// figures hotload reads (see its header).
//
//go:embed hotload.lua
var script []byte

// wrkResult is what one wrk run reports through the script's done().
type wrkResult struct {
	Requests int64
	Duration time.Duration // wall time of the run, wrk's own measure
	P50, P99 time.Duration
	Max      time.Duration
	// Errors by kind: "status" are answers of 400 and above (wrk's count),
	// "bad" the refresh answers that were not 200 with a refresh token,
	// the rest socket errors and time-outs (wrkTimeout).
	Errors map[string]int64
	CPU    time.Duration // wrk's own user + system CPU time
	// FirstBad is each thread's first refresh answer that was not 200 with
	// a refresh token (status and the start of the body).
	FirstBad []string
}

// Rate is requests per second.
func (r wrkResult) Rate() float64 {
	if r.Duration <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Duration.Seconds()
}

// Failed describes the errors of the run, or is "" when there were none
// (and at least one request was answered).
func (r wrkResult) Failed() string {
	var parts []string
	for _, k := range []string{"status", "bad", "connect", "read", "write", "timeout"} {
		if n := r.Errors[k]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, k))
		}
	}
	if r.Requests == 0 {
		parts = append(parts, "no request answered")
	}
	if len(parts) > 0 && len(r.FirstBad) > 0 {
		parts = append(parts, "first bad answers: "+strings.Join(r.FirstBad, "; "))
	}
	return strings.Join(parts, ", ")
}

// parseWrk finds the script's "hotload: key=value ..." line in wrk's
// output and reads it. Durations are wrk's microseconds.
func parseWrk(out []byte) (wrkResult, error) {
	var line string
	var firstBad []string
	for l := range strings.SplitSeq(string(out), "\n") {
		if s, ok := strings.CutPrefix(strings.TrimSpace(l), "hotload: "); ok {
			line = s
		} else if s, ok := strings.CutPrefix(strings.TrimSpace(l), "hotload-bad: "); ok {
			firstBad = append(firstBad, s)
		}
	}
	if line == "" {
		return wrkResult{}, errors.New("wrk output has no hotload line (did the script's done() run?)")
	}
	r := wrkResult{Errors: map[string]int64{}, FirstBad: firstBad}
	seen := map[string]bool{}
	for f := range strings.FieldsSeq(line) {
		k, v, ok := strings.Cut(f, "=")
		n, err := strconv.ParseInt(v, 10, 64)
		if !ok || err != nil || n < 0 {
			return wrkResult{}, fmt.Errorf("wrk output: bad field %q", f)
		}
		seen[k] = true
		us := time.Duration(n) * time.Microsecond
		switch k {
		case "requests":
			r.Requests = n
		case "duration_us":
			r.Duration = us
		case "p50_us":
			r.P50 = us
		case "p99_us":
			r.P99 = us
		case "max_us":
			r.Max = us
		default:
			if e, ok := strings.CutPrefix(k, "errors_"); ok {
				r.Errors[e] = n
			} else if k == "bad" {
				r.Errors["bad"] = n
			}
		}
	}
	for _, k := range []string{"requests", "duration_us", "p50_us", "p99_us", "errors_status", "bad"} {
		if !seen[k] {
			return wrkResult{}, fmt.Errorf("wrk output: no %s in %q", k, line)
		}
	}
	return r, nil
}

// wrkTimeout is wrk's --timeout: an answer slower than this counts as a
// time-out (an error) and is left out of wrk's latency figures, so it is
// set well above any latency to be recorded (wrk's default is 2 s).
const wrkTimeout = 10 * time.Second

// wrkRun is one wrk invocation.
type wrkRun struct {
	Bin         string
	Threads     int
	Connections int
	Duration    time.Duration // whole seconds
	URL         string
	Headers     []string // "Name: value"
	Env         []string // HOTLOAD_* settings of the script
	ScriptPath  string
}

func (w wrkRun) args() []string {
	a := []string{"-t" + strconv.Itoa(w.Threads), "-c" + strconv.Itoa(w.Connections),
		"-d" + strconv.Itoa(int(w.Duration/time.Second)) + "s", "--timeout", strconv.Itoa(int(wrkTimeout/time.Second)) + "s",
		"--latency", "-s", w.ScriptPath}
	for _, h := range w.Headers {
		a = append(a, "-H", h)
	}
	return append(a, w.URL)
}

// run starts wrk, waits for it and reads its figures.
func (w wrkRun) run() (wrkResult, error) {
	cmd := exec.Command(w.Bin, w.args()...)
	cmd.Env = append(append(os.Environ(), "HOTLOAD_THREADS="+strconv.Itoa(w.Threads)), w.Env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return wrkResult{}, fmt.Errorf("wrk: %v: %s%s", err, out.Bytes(), errOut.Bytes())
	}
	r, err := parseWrk(out.Bytes())
	if err != nil {
		return r, fmt.Errorf("%v\n%s%s", err, out.Bytes(), errOut.Bytes())
	}
	r.CPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return r, nil
}
