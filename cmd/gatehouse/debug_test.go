package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestServeDebugAddr runs `gatehouse serve --debug-addr 127.0.0.1:0`: the
// banner names the profiling address, which answers net/http/pprof's index
// and a heap profile; the public listener answers neither.
func TestServeDebugAddr(t *testing.T) {
	banner, stop := startServe(t, []string{"--data", t.TempDir(), "--listen", "127.0.0.1:0", "--debug-addr", "127.0.0.1:0"}, env(nil))
	defer stop()
	public := field(t, banner, `Access portal:\s+(\S+)/start`)
	debug := field(t, banner, `Profiles:\s+(http://127\.0\.0\.1:\d+)/debug/pprof/`)
	if debug == public {
		t.Fatalf("profiles on the public listener %s:\n%s", public, banner)
	}
	get := func(url string) (int, string) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get(debug + "/debug/pprof/"); code != http.StatusOK || !strings.Contains(body, "heap") {
		t.Errorf("profiling index: %d %.200s", code, body)
	}
	if code, body := get(debug + "/debug/pprof/heap?debug=1"); code != http.StatusOK || !strings.Contains(body, "heap profile") {
		t.Errorf("heap profile: %d %.200s", code, body)
	}
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/heap?debug=1", "/debug/pprof/cmdline"} {
		if code, body := get(public + path); code == http.StatusOK || strings.Contains(body, "heap profile") {
			t.Errorf("public listener answers %s: %d %.200s", path, code, body)
		}
	}
}
