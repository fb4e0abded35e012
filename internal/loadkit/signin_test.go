package loadkit

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestSignInRetries503: the two-step sign-in counts a 503 (the server's
// sign-in gate full) as an error at once by default, as cmd/soak measures
// it, and tries again after Retry-After when asked, as the device login of
// the load tools does.
func TestSignInRetries503(t *testing.T) {
	var busy, passwordPosts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/login":
			w.Write([]byte(`<form><input type="hidden" name="state" value="s1"></form>`))
		case "/login/password":
			passwordPosts.Add(1)
			if r.PostFormValue("state") != "s1" || r.PostFormValue("password") != "pw" {
				http.Error(w, "bad form", http.StatusBadRequest)
				return
			}
			if busy.Add(-1) >= 0 {
				w.Header().Set("Retry-After", "1")
				http.Error(w, "busy", http.StatusServiceUnavailable)
				return
			}
			http.SetCookie(w, &http.Cookie{Name: "session", Value: "x", Path: "/"})
			http.Redirect(w, r, "/start", http.StatusSeeOther)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	busy.Store(1)
	err := SignIn(NewBrowser(nil), srv.URL, "alice", "pw", SignInOptions{})
	if err == nil || !strings.Contains(err.Error(), "503") || passwordPosts.Load() != 1 {
		t.Fatalf("without retries: %v after %d password posts, want a 503 error after 1", err, passwordPosts.Load())
	}

	busy.Store(1)
	passwordPosts.Store(0)
	if err := SignIn(NewBrowser(nil), srv.URL, "alice", "pw", SignInOptions{Retries503: 2}); err != nil || passwordPosts.Load() != 2 {
		t.Fatalf("with 2 retries: %v after %d password posts, want success after 2", err, passwordPosts.Load())
	}

	busy.Store(5)
	passwordPosts.Store(0)
	if err := SignIn(NewBrowser(nil), srv.URL, "alice", "pw", SignInOptions{Retries503: 1}); err == nil || passwordPosts.Load() != 2 {
		t.Fatalf("still busy after 1 retry: %v after %d password posts, want a 503 error after 2", err, passwordPosts.Load())
	}
}
