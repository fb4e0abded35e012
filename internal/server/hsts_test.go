package server_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/server"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
)

// paths answered by different parts of the server: health, a page, a
// static asset, an API error, a missing page.
var hstsPaths = []struct{ method, path string }{
	{"GET", "/healthz"},
	{"GET", "/start"},
	{"GET", "/login"},
	{"POST", "/"},
	{"POST", "/token"},
	{"GET", "/no-such-page"},
}

func hstsOf(t *testing.T, c *http.Client, method, url string, header http.Header) string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.Header.Get("Strict-Transport-Security")
}

// TestHSTSOverTLS serves the real handler over TLS and checks that every
// response carries Strict-Transport-Security, and that plain HTTP carries it
// only when a trusted proxy says the client spoke https.
func TestHSTSOverTLS(t *testing.T) {
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.PublicURL = "https://gatehouse.example.test"
	cfg.DataDir = t.TempDir()
	srv, err := server.New(t.Context(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	hs := httptest.NewUnstartedServer(srv.Handler())
	hs.StartTLS()
	t.Cleanup(hs.Close)
	noRedirect := hs.Client()
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for _, p := range hstsPaths {
		if got := hstsOf(t, noRedirect, p.method, hs.URL+p.path, nil); got != "max-age=31536000" {
			t.Errorf("TLS %s %s: Strict-Transport-Security = %q, want max-age=31536000", p.method, p.path, got)
		}
	}
}

func TestHSTSBehindProxy(t *testing.T) {
	for _, tc := range []struct {
		name    string
		trusted []string
		proto   string
		want    string
	}{
		{"plain HTTP", nil, "", ""},
		{"untrusted peer claims https", nil, "https", ""},
		{"trusted proxy, https", []string{"127.0.0.1"}, "https", "max-age=31536000"},
		{"trusted proxy, http", []string{"127.0.0.1"}, "http", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := servertest.New(t, func(c *config.Config) { c.TrustedProxies = tc.trusted })
			c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			h := http.Header{}
			if tc.proto != "" {
				h.Set("X-Forwarded-Proto", tc.proto)
			}
			for _, p := range hstsPaths {
				if got := hstsOf(t, c, p.method, srv.URL+p.path, h); got != tc.want {
					t.Errorf("%s %s: Strict-Transport-Security = %q, want %q", p.method, p.path, got, tc.want)
				}
			}
		})
	}
}
