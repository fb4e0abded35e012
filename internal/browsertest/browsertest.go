// Package browsertest drives Debian's Chromium (/usr/bin/chromium) from
// tests through github.com/chromedp/chromedp, a maintained Chrome DevTools
// Protocol client: start a headless browser with its own profile, navigate,
// fill and press as a person would, read the page, take full-page
// screenshots at a desktop or phone viewport, and add a virtual WebAuthn
// authenticator for passkey tests.
//
// Every step runs with a timeout (StepTimeout) under the test's context
// (t.Context()), and fails the test with what the page showed.
package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
)

// ChromiumPath is where Debian's chromium package installs the browser
// (.ci/run installs it).
const ChromiumPath = "/usr/bin/chromium"

// StepTimeout bounds one step (a navigation, a click and the page it
// loads, a fill, a screenshot).
const StepTimeout = 20 * time.Second

// Viewport is a window size in CSS pixels with its device scale factor.
type Viewport struct {
	Name          string
	Width, Height int64
	Scale         float64
	// Mobile emulates a phone: the meta viewport tag is honoured and touch
	// is on.
	Mobile bool
}

var (
	// Desktop is a laptop's window: 1280 × 800 CSS pixels.
	Desktop = Viewport{Name: "desktop", Width: 1280, Height: 800, Scale: 1}
	// Phone is a current phone held upright: 390 × 844 CSS pixels (an
	// iPhone 12–15's), at twice the pixels so that text stays readable in
	// a screenshot.
	Phone = Viewport{Name: "phone", Width: 390, Height: 844, Scale: 2, Mobile: true}
)

// Browser is one headless Chromium with one tab, ended when the test ends.
type Browser struct {
	t   testing.TB
	ctx context.Context // the tab's chromedp context
}

// Start starts a headless Chromium for t with a fresh profile folder and
// one tab at about:blank in the Desktop viewport. It skips t only when
// Chromium is not installed at ChromiumPath.
func Start(t testing.TB) *Browser {
	t.Helper()
	if _, err := os.Stat(ChromiumPath); err != nil {
		t.Skipf("chromium is not installed (%s); apt-get install chromium to run the browser tests", ChromiumPath)
	}
	profile := t.TempDir()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(ChromiumPath),
		chromedp.UserDataDir(profile),
		// Tests run as root in containers, where Chromium's sandbox
		// cannot start.
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-component-update", true),
		chromedp.WindowSize(int(Desktop.Width), int(Desktop.Height)),
	)
	// chromedp's own messages go to the test's log, never after the test
	// has ended (which would panic).
	var ended atomic.Bool
	logf := func(format string, args ...any) {
		if !ended.Load() {
			t.Logf("chromedp: "+format, args...)
		}
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx, chromedp.WithLogf(logf), chromedp.WithErrorf(logf))
	// Cleanups run after t.Context() is cancelled, which ends the browser;
	// these wait until it has, before the profile folder is removed.
	t.Cleanup(func() {
		ended.Store(true)
		cancelTab()
		cancelAlloc()
	})
	// The first Run starts the browser; it must not carry a step timeout,
	// which would end the browser with it.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	b := &Browser{t: t, ctx: ctx}
	b.SetViewport(Desktop)
	return b
}

// Context returns the tab's chromedp context, for chromedp actions the
// helpers do not cover. Bound each with a timeout.
func (b *Browser) Context() context.Context { return b.ctx }

// do runs actions with StepTimeout.
func (b *Browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, StepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v\nat %s:\n%s", what, err, b.safeEval(`location.href`), b.safeEval(`document.body ? document.body.innerText : ""`))
	}
}

// run runs one action with StepTimeout and returns its value.
func run[T any](b *Browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, StepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// safeEval evaluates expr for an error message, never failing.
func (b *Browser) safeEval(expr string) string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[any](expr))
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return fmt.Sprint(v)
}

// Eval evaluates a JavaScript expression through DevTools (not as a page
// script, so the page's Content-Security-Policy does not apply to it) and
// returns its value formatted with fmt.Sprint.
func (b *Browser) Eval(expr string) string {
	b.t.Helper()
	return fmt.Sprint(run(b, "eval "+expr, chromedp.Evaluate[any](expr)))
}

// URL returns the page's location.
func (b *Browser) URL() string { b.t.Helper(); return b.Eval(`location.href`) }

// Path returns the page's location path.
func (b *Browser) Path() string { b.t.Helper(); return b.Eval(`location.pathname`) }

// Text returns the page's visible text.
func (b *Browser) Text() string { b.t.Helper(); return b.Eval(`document.body.innerText`) }

// Navigate loads url and waits for it (and any redirects) to load.
func (b *Browser) Navigate(url string) {
	b.t.Helper()
	b.do("navigate to "+url, chromedp.Navigate(url))
}

// Fill types value into the empty or emptied field (input or textarea)
// with the given id. The field is emptied through its value property,
// because chromedp.Clear fails on a <textarea> with no text inside.
func (b *Browser) Fill(id, value string) {
	b.t.Helper()
	js, _ := json.Marshal(id)
	b.do("fill #"+id, chromedp.WaitReady(chromedp.ID(id)),
		chromedp.Evaluate[chromedp.Void](`document.getElementById(`+string(js)+`).value = ""`),
		chromedp.SendKeys(chromedp.ID(id), value))
}

// Click presses the first visible element matching the CSS selector with
// the mouse, as a person would, and waits for the page it loads.
func (b *Browser) Click(selector string) {
	b.t.Helper()
	b.do("click "+selector, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(selector)))(ctx, t)
		return err
	}))
	b.do("wait for the page after "+selector, chromedp.WaitReady(chromedp.CSS("body")))
}

// ClickNoWait presses the element matching selector and returns at once,
// for buttons that run a script rather than load a page.
func (b *Browser) ClickNoWait(selector string) {
	b.t.Helper()
	b.do("click "+selector, chromedp.Click(chromedp.CSS(selector)))
}

// Tab presses the Tab key, moving the focus to the next element a
// keyboard reaches, and returns that element as Focused does.
func (b *Browser) Tab() string {
	b.t.Helper()
	b.do("press Tab", chromedp.KeyEvent("\t"))
	return b.Focused()
}

// Focused describes the element that has the focus: its tag, then its id,
// or its visible text for a button or link; "body" when none has it. A
// page's autofocus is applied at a rendering step after its load, so
// Focused waits up to a second for one.
func (b *Browser) Focused() string {
	b.t.Helper()
	const expr = `(() => { const e = document.activeElement; if (!e || e === document.body) return "body";
  const t = e.tagName.toLowerCase(); return e.id ? t + "#" + e.id : t + " " + JSON.stringify(e.textContent.trim()); })()`
	for end := time.Now().Add(time.Second); ; time.Sleep(20 * time.Millisecond) {
		if got := b.Eval(expr); got != "body" || time.Now().After(end) {
			return got
		}
	}
}

// WaitVisible waits until an element matching the CSS selector is visible.
func (b *Browser) WaitVisible(selector string) {
	b.t.Helper()
	b.do("wait for "+selector, chromedp.WaitVisible(chromedp.CSS(selector)))
}

// WaitText waits until the page's text contains s, across the page
// loads a script's form submission starts.
func (b *Browser) WaitText(s string) {
	b.t.Helper()
	js, _ := json.Marshal(s)
	expr := `!!(document.body && document.body.innerText.includes(` + string(js) + `))`
	ctx, cancel := context.WithTimeout(b.ctx, StepTimeout)
	defer cancel()
	for {
		// A page replaced while it is read is read again.
		if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr)); err == nil && ok {
			return
		}
		select {
		case <-ctx.Done():
			b.t.Fatalf("wait for text %q: %v\nat %s:\n%s", s, ctx.Err(), b.safeEval(`location.href`), b.safeEval(`document.body ? document.body.innerText : ""`))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// SetViewport resizes the tab to v.
func (b *Browser) SetViewport(v Viewport) {
	b.t.Helper()
	opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(v.Scale)}
	if v.Mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulatePortrait, chromedp.EmulateTouch)
	}
	b.do("viewport "+v.Name, chromedp.EmulateViewport(v.Width, v.Height, opts...))
}

// Screenshot saves a PNG of the whole page (beyond the viewport's height)
// at path, creating its folder.
func (b *Browser) Screenshot(path string) {
	b.t.Helper()
	png := run(b, "screenshot", chromedp.FullScreenshot(100))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// Authenticator is a virtual WebAuthn authenticator in the browser.
type Authenticator struct {
	b  *Browser
	ID webauthn.AuthenticatorID
}

// AddAuthenticator enables the WebAuthn domain and adds a virtual platform
// authenticator as a passkey provider has it: CTAP 2.1, internal
// transport, resident (discoverable) keys, user verification that
// succeeds, and user presence answered at once.
func (b *Browser) AddAuthenticator() *Authenticator {
	b.t.Helper()
	call(b, "enable WebAuthn", webauthn.Enable, webauthn.EnableParams{})
	r := call(b, "add virtual authenticator", webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol:                    webauthn.AuthenticatorProtocolCtap2,
			Ctap2version:                webauthn.Ctap2versionCtap21,
			Transport:                   webauthn.AuthenticatorTransportInternal,
			HasResidentKey:              true,
			HasUserVerification:         true,
			IsUserVerified:              true,
			AutomaticPresenceSimulation: true,
		},
	})
	return &Authenticator{b: b, ID: r.AuthenticatorID}
}

// Credentials returns the credentials the authenticator holds.
func (a *Authenticator) Credentials() []*webauthn.Credential {
	a.b.t.Helper()
	return call(a.b, "authenticator credentials", webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: a.ID}).Credentials
}

// SetUserVerified makes the authenticator's user verification succeed or
// fail from now on.
func (a *Authenticator) SetUserVerified(ok bool) {
	a.b.t.Helper()
	call(a.b, "set user verified", webauthn.SetUserVerified, webauthn.SetUserVerifiedParams{AuthenticatorID: a.ID, IsUserVerified: ok})
}

// Remove removes the authenticator from the browser.
func (a *Authenticator) Remove() {
	a.b.t.Helper()
	call(a.b, "remove authenticator", webauthn.RemoveVirtualAuthenticator, webauthn.RemoveVirtualAuthenticatorParams{AuthenticatorID: a.ID})
}

// call sends one DevTools command to the tab with StepTimeout.
func call[P, R any](b *Browser, what string, cmd cdp.Command[P, R], params P) R {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, StepTimeout)
	defer cancel()
	r, err := chromedp.Call(ctx, cmd, params)
	if err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	return r
}
