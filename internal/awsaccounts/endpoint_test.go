package awsaccounts_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/awsaccounts"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// A link's endpoint that redirects must not lead Gatehouse's signed calls
// to another address (an internal service, instance metadata): the
// redirect is an error and the link is FAILED.
func TestLinkEndpointRedirectNotFollowed(t *testing.T) {
	lw := newLinkWorld(t)
	var internalHits atomic.Int32
	internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		internalHits.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	defer internal.Close()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, internal.URL+"/latest/meta-data/", http.StatusFound)
	}))
	defer redirect.Close()
	lw.allow(t, redirect.URL)
	l, err := lw.svc.LinkAccount(t.Context(), awsaccounts.LinkInput{AccountID: dev, Endpoint: redirect.URL, AccessKeyID: testKeyID, SecretAccessKey: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	if n := internalHits.Load(); n != 0 {
		t.Fatalf("the redirect target got %d requests, want none", n)
	}
	if l.Status != store.LinkFailed || !strings.Contains(l.StatusReason, "redirect") {
		t.Fatalf("link = %s %q, want FAILED naming the redirect", l.Status, l.StatusReason)
	}
}

// An endpoint answering an endless body is cut off: the link is FAILED
// with a reason naming the size, and Gatehouse reads a bounded amount.
func TestLinkEndpointHugeResponseBounded(t *testing.T) {
	lw := newLinkWorld(t)
	var sent atomic.Int64
	huge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusBadRequest)
		chunk := []byte("<ErrorResponse>" + strings.Repeat("A", 64<<10))
		for sent.Load() < 256<<20 {
			n, err := w.Write(chunk)
			sent.Add(int64(n))
			if err != nil {
				return
			}
		}
	}))
	defer huge.Close()
	lw.allow(t, huge.URL)
	l, err := lw.svc.LinkAccount(t.Context(), awsaccounts.LinkInput{AccountID: dev, Endpoint: huge.URL, AccessKeyID: testKeyID, SecretAccessKey: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	if l.Status != store.LinkFailed || !strings.Contains(l.StatusReason, "too large") {
		t.Fatalf("link = %s %q, want FAILED naming the too-large answer", l.Status, l.StatusReason)
	}
	if len(l.StatusReason) > 2048 {
		t.Fatalf("status reason is %d bytes", len(l.StatusReason))
	}
	if n := sent.Load(); n >= 256<<20 {
		t.Fatalf("Gatehouse read the whole %d-byte answer", n)
	}
}

// An endpoint's error message is cut before it becomes the link's stored
// StatusReason (shown on the console and in ListAccountLinks).
func TestLinkEndpointLongErrorCut(t *testing.T) {
	lw := newLinkWorld(t)
	long := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>` +
			strings.Repeat("x", 200<<10) + `</Message></Error><RequestId>r</RequestId></ErrorResponse>`))
	}))
	defer long.Close()
	lw.allow(t, long.URL)
	l, err := lw.svc.LinkAccount(t.Context(), awsaccounts.LinkInput{AccountID: dev, Endpoint: long.URL, AccessKeyID: testKeyID, SecretAccessKey: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	if l.Status != store.LinkFailed || !strings.Contains(l.StatusReason, "AccessDenied: xxx") || len(l.StatusReason) > 1100 {
		t.Fatalf("link = %s, reason of %d bytes starting %.80q", l.Status, len(l.StatusReason), l.StatusReason)
	}
}
