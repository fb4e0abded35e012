package portal_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"
)

// chromiumPath is Debian's chromium package.
const chromiumPath = "/usr/bin/chromium"

// cdp drives a headless Chromium over the DevTools protocol on a pipe
// (--remote-debugging-pipe: NUL-terminated JSON messages on fds 3 and 4).
type cdp struct {
	t       *testing.T
	w       *os.File
	nextID  atomic.Int64
	mu      sync.Mutex
	waiting map[int64]chan cdpReply
	session string
}

type cdpReply struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Message string `json:"message"`
	} `json:"error"`
}

func startChromium(t *testing.T) *cdp {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skip("chromium is not installed (" + chromiumPath + "); apt-get install chromium to run the browser test")
	}
	toR, toW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	fromR, fromW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(chromiumPath, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--remote-debugging-pipe",
		"--user-data-dir="+t.TempDir(), "--window-size=1000,800", "about:blank")
	cmd.ExtraFiles = []*os.File{toR, fromW}
	// Its own process group, so the zygote and renderers end with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	toR.Close()
	fromW.Close()
	c := &cdp{t: t, w: toW, waiting: map[int64]chan cdpReply{}}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		toW.Close() // chromium exits when its pipe closes
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		fromR.Close()
	})
	go func() {
		r := bufio.NewReader(fromR)
		for {
			msg, err := r.ReadBytes(0)
			if err != nil {
				return
			}
			var m struct {
				ID int64 `json:"id"`
				cdpReply
			}
			if json.Unmarshal(bytes.TrimSuffix(msg, []byte{0}), &m) != nil || m.ID == 0 {
				continue // an event
			}
			c.mu.Lock()
			ch := c.waiting[m.ID]
			delete(c.waiting, m.ID)
			c.mu.Unlock()
			if ch != nil {
				ch <- m.cdpReply
			}
		}
	}()
	var target struct {
		TargetID string `json:"targetId"`
	}
	c.call("Target.createTarget", map[string]any{"url": "about:blank"}, &target, false)
	var att struct {
		SessionID string `json:"sessionId"`
	}
	c.call("Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &att, false)
	c.session = att.SessionID
	c.call("Emulation.setDeviceMetricsOverride", map[string]any{"width": 1000, "height": 800, "deviceScaleFactor": 1, "mobile": false}, nil, true)
	return c
}

func (c *cdp) call(method string, params any, out any, inSession bool) {
	c.t.Helper()
	id := c.nextID.Add(1)
	msg := map[string]any{"id": id, "method": method, "params": params}
	if inSession {
		msg["sessionId"] = c.session
	}
	b, _ := json.Marshal(msg)
	ch := make(chan cdpReply, 1)
	c.mu.Lock()
	c.waiting[id] = ch
	c.mu.Unlock()
	if _, err := c.w.Write(append(b, 0)); err != nil {
		c.t.Fatalf("cdp %s: %v", method, err)
	}
	select {
	case r := <-ch:
		if r.Error != nil {
			c.t.Fatalf("cdp %s: %s", method, r.Error.Message)
		}
		if out != nil {
			if err := json.Unmarshal(r.Result, out); err != nil {
				c.t.Fatalf("cdp %s result: %v", method, err)
			}
		}
	case <-time.After(20 * time.Second):
		c.t.Fatalf("cdp %s: no answer", method)
	}
}

// eval runs JavaScript through DevTools (not as a page script, so the
// page's CSP does not apply to it) and returns its string result.
func (c *cdp) eval(expr string) string {
	c.t.Helper()
	var out struct {
		Result struct {
			Value any `json:"value"`
		} `json:"result"`
	}
	c.call("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true}, &out, true)
	return fmt.Sprint(out.Result.Value)
}

// navigate loads url and waits for it to finish loading.
func (c *cdp) navigate(u string) {
	c.t.Helper()
	c.call("Page.navigate", map[string]any{"url": u}, nil, true)
	c.waitLoaded(u)
}

// waitLoaded waits until the document at a URL other than `from` (or at
// `from` itself if it is the target) has loaded.
func (c *cdp) waitLoaded(from string) {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c.eval(`document.readyState`) == "complete" && c.eval(`location.href`) != "about:blank" {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatalf("page did not load after %s (at %s)", from, c.eval(`location.href`))
}

// click presses a button as a person would and waits for the next page.
func (c *cdp) click(selector string) {
	c.t.Helper()
	before := c.eval(`location.href + "#" + performance.timeOrigin`)
	if got := c.eval(`(function(){var b=document.querySelector(` + jsString(selector) + `); if(!b) return "missing"; b.click(); return "ok"})()`); got != "ok" {
		c.t.Fatalf("click %s: %s\n%s", selector, got, c.eval(`document.body.innerText`))
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c.eval(`location.href + "#" + performance.timeOrigin`) != before && c.eval(`document.readyState`) == "complete" {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatalf("no new page after clicking %s (at %s)", selector, c.eval(`location.href`))
}

func (c *cdp) fill(id, value string) {
	c.t.Helper()
	if got := c.eval(`(function(){var e=document.getElementById(` + jsString(id) + `); if(!e) return "missing"; e.value=` + jsString(value) + `; return "ok"})()`); got != "ok" {
		c.t.Fatalf("fill %s: %s\n%s", id, got, c.eval(`document.body.innerText`))
	}
}

func (c *cdp) text() string { return c.eval(`document.body.innerText`) }

// screenshot saves a PNG of the page under $GATEHOUSE_SCREENSHOT_DIR when
// set.
func (c *cdp) screenshot(name string) {
	c.t.Helper()
	dir := os.Getenv("GATEHOUSE_SCREENSHOT_DIR")
	if dir == "" {
		return
	}
	var out struct {
		Data string `json:"data"`
	}
	c.call("Page.captureScreenshot", map[string]any{"format": "png"}, &out, true)
	b, err := base64.StdEncoding.DecodeString(out.Data)
	if err != nil {
		c.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), b, 0o644); err != nil {
		c.t.Fatal(err)
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestBrowser drives the sign-in, device approval and PKCE consent pages in
// a real Chromium, with the pages' real Content-Security-Policy in force:
// in particular, the consent form's answer (a 302 to the CLI's loopback
// listener) must not be blocked by form-action.
func TestBrowser(t *testing.T) {
	c := startChromium(t)
	e := newEnv(t)
	ctx := t.Context()

	// Device flow, as `aws sso login --use-device-code` opens it.
	id, secret := e.deviceClient("botocore-client-corp")
	start, err := e.oidcC.StartDeviceAuthorization(ctx, &ssooidc.StartDeviceAuthorizationInput{
		ClientId: aws.String(id), ClientSecret: aws.String(secret), StartUrl: aws.String(e.w.Instance.StartURL),
	})
	if err != nil {
		t.Fatal(err)
	}
	c.navigate(aws.ToString(start.VerificationUriComplete))
	if !strings.Contains(c.eval(`location.pathname`), "/login") {
		t.Fatalf("device page while signed out is at %s", c.eval(`location.href`))
	}
	c.screenshot("signin-username")
	c.fill("username", "alice")
	c.click(`button[type=submit]`)
	c.screenshot("signin-password")
	c.fill("password", alicePassword)
	c.click(`button[type=submit]`)
	if txt := c.text(); !strings.Contains(txt, "Did you start this sign-in from botocore-client-corp?") {
		t.Fatalf("after sign-in: %s\n%s", c.eval(`location.href`), txt)
	}
	c.screenshot("device-confirm")
	c.click(`button[value=allow]`)
	if !strings.Contains(c.text(), "Request approved") {
		t.Fatalf("after Allow: %s", c.text())
	}
	c.screenshot("device-approved")
	e.wait(time.Duration(start.Interval+1) * time.Second)
	if _, err := e.oidcC.CreateToken(ctx, &ssooidc.CreateTokenInput{
		ClientId: aws.String(id), ClientSecret: aws.String(secret), DeviceCode: start.DeviceCode,
		GrantType: aws.String("urn:ietf:params:oauth:grant-type:device_code"),
	}); err != nil {
		t.Fatalf("CreateToken after browser approval: %v", err)
	}

	c.navigate(e.url + "/start")
	if !strings.Contains(c.text(), prodAccount) {
		t.Errorf("home page: %s", c.text())
	}
	c.screenshot("home")

	// PKCE: consent, then the browser follows the 302 to the loopback.
	cb := newCallback(t)
	pid, _ := e.pkceClient("botocore-client-corp")
	_, challenge := pkceChallenge()
	c.navigate(e.url + "/authorize?" + authorizeQuery(pid, cb.redirectURI(), "browser-state", challenge))
	if !strings.Contains(c.text(), "Allow botocore-client-corp to access your AWS accounts?") {
		t.Fatalf("consent page: %s", c.text())
	}
	c.screenshot("consent")
	c.click(`button[value=allow]`)
	q := cb.last()
	if q == nil || q.Get("code") == "" || q.Get("state") != "browser-state" {
		t.Fatalf("loopback listener got %v; browser at %s: %s", q, c.eval(`location.href`), c.text())
	}

	// Error pages.
	c.navigate(e.url + "/authorize?client_id=nope&redirect_uri=" + url.QueryEscape("http://evil.example/"))
	if !strings.Contains(c.text(), "This link is not valid") || !strings.HasPrefix(c.eval(`location.href`), e.url) {
		t.Errorf("bad authorize: at %s: %s", c.eval(`location.href`), c.text())
	}
	c.screenshot("error-invalid-link")

	// Sign out with the button.
	c.navigate(e.url + "/start")
	c.click(`form.signout button`)
	if !strings.Contains(c.eval(`location.pathname`), "/login") {
		t.Errorf("after sign-out at %s", c.eval(`location.href`))
	}
	if p := e.browser().get("/start"); p.Status != http.StatusSeeOther {
		t.Errorf("fresh client /start: %d", p.Status)
	}
}
