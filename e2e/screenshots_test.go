package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/browsertest"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
)

// shot is one page of the documentation's screenshots: load path (when not
// ""), run steps, then take the picture named name at each viewport.
type shot struct {
	name  string
	path  string
	steps func(s *shooter)
}

// shots are the main pages, in the order a person meets them. Adding a page
// is one line.
var shots = []shot{
	{"signin", "/login", nil},
	{"signin-password", "/login", func(s *shooter) { s.b.Fill("username", shotUser); s.b.Click(`button[type=submit]`) }},
	{"portal-home", "/start", (*shooter).signIn},
	{"mfa-enrol", "/mfa", (*shooter).signIn},
	{"device-approval", "", func(s *shooter) { s.signIn(); s.b.Navigate(s.deviceURL()) }},
}

// shotUser is the demo user in the pictures: the one with most accounts.
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
			s := &shooter{t: t, srv: demoServer(t), b: browsertest.Start(t)}
			s.b.SetViewport(v)
			for _, sh := range shots {
				if sh.path != "" {
					s.b.Navigate(s.srv.URL + sh.path)
				}
				if sh.steps != nil {
					sh.steps(s)
				}
				path := filepath.Join(dir, sh.name+"-"+v.Name+".png")
				s.b.Screenshot(path)
				checkPNG(t, path, v)
			}
		})
	}
}

// shooter is what a shot's steps drive.
type shooter struct {
	t   *testing.T
	srv *servertest.Server
	b   *browsertest.Browser
}

// signIn signs shotUser in with the demo password when the portal asks for
// it, and returns to the page that was asked for.
func (s *shooter) signIn() {
	s.t.Helper()
	if !strings.HasSuffix(s.b.Path(), "/login") {
		return
	}
	s.b.Fill("username", shotUser)
	s.b.Click(`button[type=submit]`)
	s.b.Fill("password", "demo-password-1")
	s.b.Click(`button[type=submit]`)
	if strings.HasSuffix(s.b.Path(), "/login") {
		s.t.Fatalf("sign-in failed: %s", s.b.Text())
	}
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
	if u == "" {
		s.t.Fatalf("device authorization: %v", dev)
	}
	return u
}

func (s *shooter) postJSON(path string, body any) map[string]any {
	s.t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(s.srv.URL+path, "application/json", bytes.NewReader(b))
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
