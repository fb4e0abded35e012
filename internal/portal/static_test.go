package portal_test

import (
	"net/http"
	"testing"
)

func TestStaticAssets(t *testing.T) {
	e := newEnv(t)
	p := e.browser().get("/static/gatehouse.css")
	wantStatus(t, p, http.StatusOK)
	if ct := p.Header.Get("Content-Type"); ct != "text/css; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if p.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("no nosniff on static files")
	}
	wantStatus(t, e.browser().get("/static/nope.js"), http.StatusNotFound)
	// No directory listing (issue 9 item 6).
	wantStatus(t, e.browser().get("/static/"), http.StatusNotFound)
}
