package browsertest_test

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse-dev/gatehouse/internal/browsertest"
)

// site is a two-page form site: GET / shows a form, POST / echoes the
// field back.
func site(t *testing.T) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><meta name="viewport" content="width=device-width"><title>form</title>
<form method="post"><label for="name">Name</label><input id="name" name="name" value="prefilled">
<label for="note">Note</label><textarea id="note" name="note"></textarea><button type="submit">Send</button></form>
<div style="height:2000px"></div><p>bottom</p>`)
	})
	mux.HandleFunc("POST /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><title>sent</title><p>hello %s%s</p>`, r.FormValue("name"), r.FormValue("note"))
	})
	// WebAuthn needs a secure context: localhost is one.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := httptest.NewUnstartedServer(mux)
	s.Listener.Close()
	s.Listener = ln
	s.Start()
	t.Cleanup(s.Close)
	return "http://localhost:" + fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
}

func TestFillClickText(t *testing.T) {
	b := browsertest.Start(t)
	u := site(t)
	b.Navigate(u + "/")
	b.Fill("name", "Ada")
	b.Click(`button[type=submit]`)
	if got := b.Text(); got != "hello Ada" {
		t.Errorf("after submit: %q at %s", got, b.URL())
	}
}

// TestFillEmptyTextarea: an empty <textarea> (no text node inside) fills
// like an input.
func TestFillEmptyTextarea(t *testing.T) {
	b := browsertest.Start(t)
	u := site(t)
	b.Navigate(u + "/")
	b.Fill("name", "Ada")
	b.Fill("note", ", a note")
	b.Click(`button[type=submit]`)
	if got := b.Text(); got != "hello Ada, a note" {
		t.Errorf("after submit: %q at %s", got, b.URL())
	}
}

func TestScreenshotViewports(t *testing.T) {
	b := browsertest.Start(t)
	u := site(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		v    browsertest.Viewport
		wide int
	}{
		{browsertest.Desktop, 1280},
		{browsertest.Phone, 780},
	} {
		b.SetViewport(tc.v)
		b.Navigate(u + "/")
		path := filepath.Join(dir, tc.v.Name+".png")
		b.Screenshot(path)
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s: %v", tc.v.Name, err)
		}
		// Full page: the 2000 px spacer is in the picture.
		if w, h := img.Bounds().Dx(), img.Bounds().Dy(); w != tc.wide || h < 2000*tc.wide/int(tc.v.Width) {
			t.Errorf("%s screenshot is %d × %d, want %d wide and the whole page high", tc.v.Name, w, h, tc.wide)
		}
	}
}

func TestVirtualAuthenticator(t *testing.T) {
	b := browsertest.Start(t)
	u := site(t)
	b.Navigate(u + "/")
	a := b.AddAuthenticator()
	ctx, cancel := context.WithTimeout(b.Context(), browsertest.StepTimeout)
	defer cancel()
	id, err := chromedp.Run(ctx, chromedp.Evaluate[string](`navigator.credentials.create({publicKey: {
		rp: {name: "test"}, user: {id: new Uint8Array([1, 2, 3]), name: "ada", displayName: "Ada"},
		challenge: new Uint8Array(32), pubKeyCredParams: [{type: "public-key", alg: -7}],
		authenticatorSelection: {residentKey: "required", userVerification: "required"}}}).then(c => c.id)`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("navigator.credentials.create: %v", err)
	}
	creds := a.Credentials()
	if len(creds) != 1 || !creds[0].IsResidentCredential || creds[0].RpID != "localhost" {
		t.Fatalf("authenticator holds %+v after creating %s", creds, id)
	}
	if id == "" {
		t.Errorf("navigator.credentials.create gave no credential id")
	}
}
