package loadkit

import (
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"time"
)

// NewBrowser returns a client that keeps cookies, as a person's browser
// does, over tr, and does not follow redirects, so that each answer's
// status can be checked. Cookies are matched by host and not by port
// (RFC 6265 §8.5), so one browser signed in on one replica is signed in on
// every replica on 127.0.0.1.
func NewBrowser(tr http.RoundTripper) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Transport: tr, Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// From returns a copy of client c (same transport, cookies and limits)
// whose requests come from source address addr: they carry
// X-Forwarded-For: addr, which the children trust from 127.0.0.1. Load
// tools use it to be many browsers and CLIs, as the people of a
// deployment are, rather than one address that the per-address limits
// would stop.
func From(c *http.Client, addr string) *http.Client {
	cc := *c
	cc.Transport = ForwardedFor(c.Transport, addr)
	return &cc
}

// PostForm posts form to base+path with browser b and returns the
// answer's status and body.
func PostForm(b *http.Client, base, path string, form url.Values) (int, string, error) {
	return postForm(b, base, path, form, 0)
}

// postForm is PostForm trying again, up to retries503 times, after each
// 503 Service Unavailable (the server's sign-in gate full), once its
// Retry-After (at least 1 s) has passed.
func postForm(b *http.Client, base, path string, form url.Values, retries503 int) (int, string, error) {
	for try := 0; ; try++ {
		resp, err := b.PostForm(base+path, form)
		if err != nil {
			return 0, "", err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusServiceUnavailable && try < retries503 {
			wait, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
			time.Sleep(time.Duration(max(wait, 1)) * time.Second)
			continue
		}
		return resp.StatusCode, string(body), err
	}
}

// SignInOptions change how SignIn treats a busy server.
type SignInOptions struct {
	// Retries503 is how many times a step answered 503 Service
	// Unavailable (the sign-in gate full) is tried again after its
	// Retry-After (at least 1 s). 0 makes a 503 an error at once, as a
	// load test that counts it as a failed sign-in needs (cmd/soak).
	Retries503 int
}

// SignIn signs user in with password through the portal's two-step
// sign-in form (POST /login with the user name, then POST /login/password
// with the page's state and the password) in browser b, a client from
// NewBrowser (or From of one). A sign-in succeeds
// when the password step answers 303 See Other (to the portal) and sets
// the session cookie in b; any other answer (a 503 once o.Retries503 are
// used up) is an error carrying its status and the start of its body.
// user must have no MFA device.
func SignIn(b *http.Client, base, user, password string, o SignInOptions) error {
	code, body, err := postForm(b, base, "/login", url.Values{"username": {user}}, o.Retries503)
	if err != nil {
		return err
	}
	m := StateField.FindStringSubmatch(body)
	if code != http.StatusOK || m == nil {
		return fmt.Errorf("POST /login: %d without the password step: %s", code, Clip(body, 300))
	}
	code, body, err = postForm(b, base, "/login/password", url.Values{"state": {html.UnescapeString(m[1])}, "password": {password}}, o.Retries503)
	if err != nil {
		return err
	}
	if code != http.StatusSeeOther {
		return fmt.Errorf("POST /login/password: %d, want 303: %s", code, Clip(body, 300))
	}
	u, _ := url.Parse(base)
	if b.Jar == nil || len(b.Jar.Cookies(u)) == 0 {
		return errors.New("POST /login/password: no session cookie set")
	}
	return nil
}

// Clip returns s cut to at most n bytes, marked with "…" when cut, for
// quoting answers in error messages.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
