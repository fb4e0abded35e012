package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/loadkit"
)

// maxSamples is how many failed answers per operation are kept for the
// report.
const maxSamples = 3

// opStats are one operation's latencies and failures.
type opStats struct {
	mu      sync.Mutex
	lat     []time.Duration // of every call, failed or not
	errs    int
	samples []string
}

func (o *opStats) record(d time.Duration, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.lat = append(o.lat, d)
	if err != nil {
		o.errs++
		if len(o.samples) < maxSamples {
			o.samples = append(o.samples, loadkit.Clip(err.Error(), 400))
		}
	}
}

// report is a finished run's figures.
type report struct {
	config
	elapsed            time.Duration
	stats              map[string]*opStats
	skipped            map[string]int64 // per kind of offered operation
	rss                [][]int64        // per child, one sample a second
	cpu                []time.Duration  // per child, during the load
	loadStart, loadEnd string
}

func (r *report) backend() string {
	if r.postgres != "" {
		return fmt.Sprintf("PostgreSQL, %d replicas", r.replicas)
	}
	return "SQLite"
}

// warmUp is the RSS reference point: the end of the first minute, or half
// the run when it is shorter than two minutes.
func (r *report) warmUp() time.Duration { return min(time.Minute, r.duration/2) }

// growthChecked says whether the run is long enough for its RSS growth to
// be a verdict.
func (r *report) growthChecked() bool { return r.duration >= 2*time.Minute }

// rssFigures returns child i's RSS at the reference point, at the end and
// at its peak, and the growth from the first to the second in percent.
func (r *report) rssFigures(i int) (ref, end, peak int64, growth float64) {
	s := r.rss[i]
	if len(s) == 0 {
		return 0, 0, 0, 0
	}
	ref = s[min(int(r.warmUp()/time.Second), len(s)-1)]
	end = s[len(s)-1]
	peak = slices.Max(s)
	if ref > 0 {
		growth = 100 * float64(end-ref) / float64(ref)
	}
	return ref, end, peak, growth
}

func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "\nsoak: %s, %s of load (%s asked), load average %s at the start, %s at the end\n",
		r.backend(), r.elapsed.Round(time.Second), r.duration, r.loadStart, r.loadEnd)
	fmt.Fprintf(w, "offered per second: sign-in %g, device %g, refresh %g, credentials %g, sigv4 %g, admin cycles %g\n",
		r.rates.signIn, r.rates.device, r.rates.refresh, r.rates.credentials, r.rates.sigv4, r.rates.admin)
	fmt.Fprintf(w, "\n| Operation | Count | Errors | p50 | p99 | Max |\n|---|---:|---:|---:|---:|---:|\n")
	for _, name := range opOrder {
		o := r.stats[name]
		lat := slices.Clone(o.lat)
		slices.Sort(lat)
		if len(lat) == 0 {
			fmt.Fprintf(w, "| %s | 0 | %d | – | – | – |\n", name, o.errs)
			continue
		}
		fmt.Fprintf(w, "| %s | %d | %d | %s | %s | %s |\n", name, len(lat), o.errs,
			ms(lat[len(lat)/2]), ms(lat[(len(lat)-1)*99/100]), ms(lat[len(lat)-1]))
	}
	for _, name := range opOrder {
		for _, s := range r.stats[name].samples {
			fmt.Fprintf(w, "error: %s: %s\n", name, s)
		}
	}
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range r.skipped {
			if !yield(k) {
				return
			}
		}
	}) {
		if r.skipped[k] > 0 {
			fmt.Fprintf(w, "skipped: %d %s ticks found %d in flight\n", r.skipped[k], k, maxInFlight)
		}
	}
	fmt.Fprintf(w, "\n| Child | RSS at %s | RSS at end | Peak | Growth | CPU during load |\n|---|---:|---:|---:|---:|---:|\n", r.warmUp())
	for i := range r.rss {
		ref, end, peak, growth := r.rssFigures(i)
		fmt.Fprintf(w, "| %d | %.1f MiB | %.1f MiB | %.1f MiB | %+.1f%% | %s |\n", i+1, loadkit.MiB(ref), loadkit.MiB(end), loadkit.MiB(peak), growth, r.cpu[i].Round(10*time.Millisecond))
	}
	if !r.growthChecked() {
		fmt.Fprintln(w, "(RSS growth is not checked in runs shorter than 2m)")
	}
}

// ms formats d in milliseconds with one decimal.
func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

// verdict is nil when the run passed: no error, no skipped tick, every
// operation exercised and, for long enough runs, RSS growth below the
// limit.
func (r *report) verdict() error {
	var errs []error
	for _, name := range opOrder {
		o := r.stats[name]
		if o.errs > 0 {
			errs = append(errs, fmt.Errorf("%s: %d errors", name, o.errs))
		}
		if len(o.lat) == 0 {
			errs = append(errs, fmt.Errorf("%s: never ran", name))
		}
	}
	for k, n := range r.skipped {
		if n > 0 {
			errs = append(errs, fmt.Errorf("%s: %d offered requests skipped (%d in flight)", k, n, maxInFlight))
		}
	}
	if r.growthChecked() {
		for i := range r.rss {
			if _, _, _, g := r.rssFigures(i); g >= float64(r.maxGrowth) {
				errs = append(errs, fmt.Errorf("child %d: RSS grew %.1f%% after the first minute (limit %d%%)", i+1, g, r.maxGrowth))
			}
		}
	}
	return errors.Join(errs...)
}
