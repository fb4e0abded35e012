// Package portaltest drives the access portal's pages the way a person
// does, for end-to-end tests of the CLI and SDK flows: sign in with a user
// name and password (and a TOTP code when asked), then approve or deny a
// device code. It uses plain HTTP forms, as the pages work without
// JavaScript.
package portaltest

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
)

// Person is who signs in.
type Person struct {
	UserName string
	Password string
	// TOTP returns the current authenticator code; nil when the user has no
	// authenticator.
	TOTP func() string
}

// Browser is a cookie-keeping HTTP client that does not follow redirects by
// itself, so every hop can be checked.
type Browser struct {
	Client *http.Client
}

// NewBrowser returns a Browser with an empty cookie jar.
func NewBrowser() *Browser {
	jar, _ := cookiejar.New(nil)
	return &Browser{Client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Response is a page or redirect.
type Response struct {
	URL      *url.URL
	Status   int
	Location string
	Body     string
}

func (b *Browser) do(ctx context.Context, method, target string, form url.Values) (*Response, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.Client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	r := &Response{URL: req.URL, Status: resp.StatusCode, Body: string(data)}
	if loc := resp.Header.Get("Location"); loc != "" {
		u, err := req.URL.Parse(loc)
		if err != nil {
			return nil, fmt.Errorf("bad redirect %q: %w", loc, err)
		}
		r.Location = u.String()
	}
	return r, nil
}

// Get requests target (an absolute URL).
func (b *Browser) Get(ctx context.Context, target string) (*Response, error) {
	return b.do(ctx, "GET", target, nil)
}

// Post posts form to target (an absolute URL).
func (b *Browser) Post(ctx context.Context, target string, form url.Values) (*Response, error) {
	return b.do(ctx, "POST", target, form)
}

var (
	formRe   = regexp.MustCompile(`(?s)<form method="post" action="([^"]*)"[^>]*>(.*?)</form>`)
	hiddenRe = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
)

// Submit posts the form of page r whose action is action, with its hidden
// fields and the given ones.
func (b *Browser) Submit(ctx context.Context, r *Response, action string, fields url.Values) (*Response, error) {
	for _, m := range formRe.FindAllStringSubmatch(r.Body, -1) {
		if html.UnescapeString(m[1]) != action {
			continue
		}
		v := url.Values{}
		for _, h := range hiddenRe.FindAllStringSubmatch(m[2], -1) {
			v.Set(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
		}
		for k, vs := range fields {
			v[k] = vs
		}
		target, err := r.URL.Parse(action)
		if err != nil {
			return nil, err
		}
		return b.Post(ctx, target.String(), v)
	}
	return nil, fmt.Errorf("no form posting to %s on %s (status %d)", action, r.URL, r.Status)
}

// ErrNotSignedIn is returned when the pages refuse the person's
// credentials; the error's text carries the page's status.
var ErrNotSignedIn = errors.New("sign-in refused")

// signIn completes the sign-in steps starting from the sign-in page r and
// returns the response that ends them (a redirect to where sign-in was
// started from).
func (b *Browser) signIn(ctx context.Context, r *Response, p Person) (*Response, error) {
	r, err := b.Submit(ctx, r, "/login", url.Values{"username": {p.UserName}})
	if err != nil {
		return nil, err
	}
	if r, err = b.Submit(ctx, r, "/login/password", url.Values{"password": {p.Password}}); err != nil {
		return nil, err
	}
	if r.Status == http.StatusOK && strings.Contains(r.Body, `action="/login/mfa"`) {
		if p.TOTP == nil {
			return nil, fmt.Errorf("%w: the user has an authenticator and no TOTP code was given", ErrNotSignedIn)
		}
		if r, err = b.Submit(ctx, r, "/login/mfa", url.Values{"code": {p.TOTP()}}); err != nil {
			return nil, err
		}
	}
	if r.Status != http.StatusSeeOther {
		return nil, fmt.Errorf("%w: status %d", ErrNotSignedIn, r.Status)
	}
	return r, nil
}

// SignIn signs in on the portal at baseURL.
func (b *Browser) SignIn(ctx context.Context, baseURL string, p Person) error {
	r, err := b.Get(ctx, strings.TrimRight(baseURL, "/")+"/login")
	if err != nil {
		return err
	}
	_, err = b.signIn(ctx, r, p)
	return err
}

// Device opens a device verification URL (verificationUriComplete),
// signs in if asked to, and answers the confirmation: allow or deny.
func (b *Browser) Device(ctx context.Context, verificationURIComplete string, p Person, allow bool) error {
	r, err := b.Get(ctx, verificationURIComplete)
	if err != nil {
		return err
	}
	if r.Status == http.StatusSeeOther {
		if r, err = b.Get(ctx, r.Location); err != nil {
			return err
		}
		if r, err = b.signIn(ctx, r, p); err != nil {
			return err
		}
		if r, err = b.Get(ctx, r.Location); err != nil {
			return err
		}
	}
	if r.Status != http.StatusOK || !strings.Contains(r.Body, "Did you start this sign-in from") {
		return fmt.Errorf("device confirmation page: status %d", r.Status)
	}
	action := "deny"
	if allow {
		action = "allow"
	}
	if r, err = b.Submit(ctx, r, "/device", url.Values{"action": {action}}); err != nil {
		return err
	}
	if r.Status != http.StatusOK {
		return fmt.Errorf("device answer: status %d", r.Status)
	}
	return nil
}

// ApproveDevice approves a device code with a fresh browser: the whole of
// what a person does after `aws sso login --use-device-code` prints the URL.
func ApproveDevice(ctx context.Context, verificationURIComplete string, p Person) error {
	return NewBrowser().Device(ctx, verificationURIComplete, p, true)
}
