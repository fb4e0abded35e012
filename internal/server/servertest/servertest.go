// Package servertest starts a whole Gatehouse server on an httptest
// listener with SQLite in the test's temporary folder, for end-to-end tests
// driven by real clients.
package servertest

import (
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/server"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// Server is a running test server.
type Server struct {
	*server.Server
	// URL is the server's base URL (http://127.0.0.1:port).
	URL  string
	HTTP *httptest.Server
}

// New starts a server. The configuration starts from config.Default with a
// fresh data folder, a listener on 127.0.0.1 and the demo password
// "demo-password-1"; edit changes it before the server is built (set
// c.Demo for the demo world). The server stops at the end of the test.
func New(t testing.TB, edit func(*config.Config)) *Server {
	t.Helper()
	return NewLogged(t, edit, nil)
}

// NewLogged is New with the server's log written to logOut as text (nil:
// discarded, or stderr with GATEHOUSE_TEST_LOG set), for tests that
// assert on what is logged (that a secret never is).
func NewLogged(t testing.TB, edit func(*config.Config), logOut io.Writer) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	cfg := config.Default()
	cfg.Listen = ln.Addr().String()
	cfg.DataDir = t.TempDir()
	cfg.DemoPassword = "demo-password-1"
	cfg.LogLevel = "warn"
	if edit != nil {
		edit(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	if logOut == nil {
		logOut = io.Discard
		if os.Getenv("GATEHOUSE_TEST_LOG") != "" {
			logOut = os.Stderr
		}
	}
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.LogLevel))
	log := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: lvl}))
	srv, err := server.New(t.Context(), cfg, log)
	if err != nil {
		ln.Close()
		t.Fatalf("server: %v", err)
	}
	hs := httptest.NewUnstartedServer(srv.Handler())
	hs.Listener.Close()
	hs.Listener = ln
	hs.Config.MaxHeaderBytes = server.MaxHeaderBytes
	hs.Start()
	t.Cleanup(func() {
		hs.Close()
		srv.Close()
	})
	return &Server{Server: srv, URL: srv.BaseURL(), HTTP: hs}
}

// AccountID returns the ID of the account named name in st (the demo's
// "dev", "staging", "prod", "management"); the test fails when there is
// none.
func AccountID(t testing.TB, st store.Store, name string) string {
	t.Helper()
	accts, err := st.ListAccounts(t.Context(), store.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range accts {
		if a.Name == name {
			return a.ID
		}
	}
	t.Fatalf("no account %q", name)
	return ""
}
