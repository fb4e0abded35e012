package e2e

import (
	"bytes"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/browsertest"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/mfa"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
	"github.com/gatehouse-dev/gatehouse/internal/settings"
)

// shot is one page of the documentation's screenshots: load path (when not
// ""), run steps, then take the picture named name at each viewport.
type shot struct {
	name  string
	path  string
	steps func(s *shooter)
}

// shots are the main pages, in the order a person meets them (each
// viewport's run signs in once). Adding a page is one line.
var shots = []shot{
	{"signin", "/login", nil},
	{"signin-password", "/login", func(s *shooter) { s.b.Fill("username", shotUser); s.b.Click(`button[type=submit]`) }},
	// The MFA policy asks a user without an authenticator to register one
	// at sign-in: the QR code and the key in groups.
	{"mfa-enrol", "/start", (*shooter).password},
	{"portal-home", "", (*shooter).signIn},
	{"access-keys", "", func(s *shooter) { s.b.Click(`a.keys`) }},
	{"account", "/account", nil},
	{"device-approval", "", func(s *shooter) { s.b.Navigate(s.deviceURL()) }},
	{"admin-users", "/admin/users", nil},
	{"admin-user", "", func(s *shooter) { s.b.Navigate(s.base + "/admin/users/" + s.userID(shotUser)) }},
	{"permission-set", "", func(s *shooter) { s.b.Navigate(s.base + "/admin/permission-sets/" + s.setID("PowerUserAccess")) }},
}

// shotUser is the demo user in the pictures: the one with most accounts,
// and an administrator.
const shotUser = "alice@company.com"

// TestScreenshots takes the documentation's screenshots of the main pages
// of a demo server in Chromium, at a desktop and a phone viewport, and
// checks that each is a whole page. They go to the folder named by
// GATEHOUSE_SCREENSHOTS (docs/screenshots, relative to the repository
// root), otherwise to a temporary folder:
//
//	GATEHOUSE_SCREENSHOTS=docs/screenshots go test ./e2e -run TestScreenshots
func TestScreenshots(t *testing.T) {
	dir := t.TempDir()
	if d := os.Getenv("GATEHOUSE_SCREENSHOTS"); d != "" {
		dir = d
		if !filepath.IsAbs(dir) {
			dir = filepath.Join("..", dir) // go test runs in e2e/
		}
	}
	for _, v := range []browsertest.Viewport{browsertest.Desktop, browsertest.Phone} {
		t.Run(v.Name, func(t *testing.T) {
			srv := screenshotServer(t)
			s := &shooter{t: t, srv: srv, base: srv.HTTP.URL, b: browsertest.Start(t)}
			s.b.SetViewport(v)
			for _, sh := range shots {
				if sh.path != "" {
					s.b.Navigate(s.base + sh.path)
				}
				if sh.steps != nil {
					sh.steps(s)
				}
				checkAccessible(t, s.b, sh.name)
				path := filepath.Join(dir, sh.name+"-"+v.Name+".png")
				s.b.Screenshot(path)
				checkPNG(t, path, v)
			}
		})
	}
}

// screenshotPublicURL is the public URL the pictures show: the default
// listener's, by host name, rather than the test's random port.
const screenshotPublicURL = "http://localhost:7080"

// screenshotServer is the demo world with the MFA policy a fresh instance
// has ("always"), whose pages name screenshotPublicURL; the browser
// reaches it at its listener (srv.HTTP.URL).
func screenshotServer(t *testing.T) *servertest.Server {
	t.Helper()
	srv := servertest.New(t, func(c *config.Config) {
		c.Demo = true
		c.Region = "us-east-1"
		c.PublicURL = screenshotPublicURL
	})
	set, err := srv.Settings.Get(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	set.MFAPolicy = settings.PolicyAlways
	if err := srv.Settings.Put(t.Context(), set); err != nil {
		t.Fatal(err)
	}
	return srv
}

// shooter is what a shot's steps drive.
type shooter struct {
	t   *testing.T
	srv *servertest.Server
	// base is where the browser reaches the server.
	base string
	b    *browsertest.Browser
	// seed is shotUser's authenticator app key, once registered.
	seed []byte
}

// password gives shotUser's name and the demo password when the portal
// asks for them, and stays on the page that follows.
func (s *shooter) password() {
	s.t.Helper()
	if !strings.HasSuffix(s.b.Path(), "/login") {
		return
	}
	s.b.Fill("username", shotUser)
	s.b.Click(`button[type=submit]`)
	s.b.Fill("password", "demo-password-1")
	s.b.Click(`button[type=submit]`)
	if strings.HasSuffix(s.b.Path(), "/login") && !strings.Contains(s.b.Text(), "authenticator") {
		s.t.Fatalf("sign-in failed: %s", s.b.Text())
	}
}

// signIn finishes signing shotUser in: the password when asked, then the
// authenticator app, registered from the page's key the first time.
func (s *shooter) signIn() {
	s.t.Helper()
	s.password()
	if s.seed == nil && s.b.Eval(`!!document.querySelector("code.secret")`) == "true" {
		key := strings.ReplaceAll(s.b.Eval(`document.querySelector("code.secret").textContent`), " ", "")
		seed, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(key)
		if err != nil {
			s.t.Fatalf("key %q: %v", key, err)
		}
		s.seed = seed
		s.b.Fill("code", mfa.Code(seed, mfa.Step(time.Now())))
		s.b.Click(`button[type=submit]`)
	}
	if strings.HasSuffix(s.b.Path(), "/login") {
		s.t.Fatalf("sign-in failed: %s", s.b.Text())
	}
}

// userID is the ID of the user named name.
func (s *shooter) userID(name string) string {
	s.t.Helper()
	u, err := s.srv.Store.GetUserByName(s.t.Context(), name)
	if err != nil {
		s.t.Fatal(err)
	}
	return u.ID
}

// setID is the ID of the permission set named name.
func (s *shooter) setID(name string) string {
	s.t.Helper()
	ps, err := s.srv.Store.GetPermissionSetByName(s.t.Context(), name)
	if err != nil {
		s.t.Fatal(err)
	}
	return ps.ID
}

// deviceURL starts a device authorization as `aws sso login` does and
// returns its verification URI with the code filled in.
func (s *shooter) deviceURL() string {
	s.t.Helper()
	reg := s.postJSON("/client/register", map[string]string{"clientName": "botocore-client-screenshots", "clientType": "public"})
	dev := s.postJSON("/device_authorization", map[string]string{
		"clientId": fmt.Sprint(reg["clientId"]), "clientSecret": fmt.Sprint(reg["clientSecret"]), "startUrl": s.srv.Instance.StartURL,
	})
	u, _ := dev["verificationUriComplete"].(string)
	if !strings.HasPrefix(u, screenshotPublicURL+"/") {
		s.t.Fatalf("device authorization: %v", dev)
	}
	return s.base + strings.TrimPrefix(u, screenshotPublicURL)
}

func (s *shooter) postJSON(path string, body any) map[string]any {
	s.t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(s.base+path, "application/json", bytes.NewReader(b))
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode != 200 {
		s.t.Fatalf("POST %s: %d %v %v", path, resp.StatusCode, m, err)
	}
	return m
}

// checkPNG checks that path is a PNG as wide as the viewport and at least
// as high.
func checkPNG(t *testing.T, path string, v browsertest.Viewport) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	if want := int(float64(v.Width) * v.Scale); w != want || h < int(float64(v.Height)*v.Scale) {
		t.Errorf("%s is %d × %d, want %d wide and at least the viewport high", path, w, h, want)
	}
}

// a11yScript lists what a page lacks for people using assistive
// technology or low vision: form fields without a label (a <label for>,
// a wrapping label, aria-label or aria-labelledby), buttons and links
// without a name, and visible text whose contrast with its background is
// under 4.5:1 (WCAG 2.2 §1.4.3, with the relative luminance of §1.4.3's
// definition).
const a11yScript = `(() => {
  const out = [];
  const shown = e => !e.closest("[hidden]") && e.getClientRects().length > 0;
  for (const e of document.querySelectorAll("input:not([type=hidden]), select, textarea")) {
    if (!shown(e)) continue;
    if (!(e.labels && e.labels.length) && !e.getAttribute("aria-label") && !e.getAttribute("aria-labelledby"))
      out.push("field without a label: " + e.outerHTML.slice(0, 120));
  }
  for (const e of document.querySelectorAll("button, a[href]")) {
    if (!shown(e)) continue;
    if (!(e.textContent.trim() || e.getAttribute("aria-label")))
      out.push("button or link without a name: " + e.outerHTML.slice(0, 120));
  }
  const rgb = s => { const m = s.match(/rgba?\(([^)]+)\)/); if (!m) return null; const p = m[1].split(",").map(Number); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const lum = c => { const f = v => { v /= 255; return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }; return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const bg = e => { for (; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor); if (c && c.a === 1) return c; } return {r: 255, g: 255, b: 255, a: 1}; };
  const seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const e = n.parentElement;
    if (!n.textContent.trim() || !e || !shown(e) || seen.has(e)) continue;
    seen.add(e);
    const st = getComputedStyle(e), fg = rgb(st.color), b = bg(e);
    if (!fg || e.closest("[placeholder]")) continue;
    const l1 = lum(fg), l2 = lum(b), ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    if (ratio < 4.5) out.push("contrast " + ratio.toFixed(2) + ":1 for " + JSON.stringify(n.textContent.trim().slice(0, 40)) + " (" + st.color + " on rgb(" + [b.r, b.g, b.b] + "))");
  }
  return out.join("\n");
})()`

// checkAccessible fails t with what the page in b lacks by a11yScript.
func checkAccessible(t *testing.T, b *browsertest.Browser, page string) {
	t.Helper()
	if got := b.Eval(a11yScript); got != "" {
		t.Errorf("%s is not accessible:\n%s", page, got)
	}
}
