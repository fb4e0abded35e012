package saml_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/idsource/saml"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// TestRefusalFloodIsBounded posts bad responses to the ACS in parallel
// from one address: DefaultThrottleLimit of them are audited one by one,
// the rest are counted, and once the minute has ended one summary event
// says how many were not recorded. A valid sign-in still works throughout.
func TestRefusalFloodIsBounded(t *testing.T) {
	w := newWorld(t, nil, nil)
	const n = 3 * audit.DefaultThrottleLimit
	floodACS(t, w, n)
	if got := w.failures(); len(got) != audit.DefaultThrottleLimit {
		t.Fatalf("%d refusals audited one by one, want %d: %v", len(got), audit.DefaultThrottleLimit, got)
	}
	if s := summaries(t, w); len(s) != 0 {
		t.Fatalf("summary before the window ended: %v", s)
	}

	// A valid sign-in is not throttled.
	b := newBrowser(t)
	action, fields := w.idpInitiated(b, "/start")
	if p := b.post(action, fields, w.idp.URL); p.status != http.StatusSeeOther {
		t.Fatalf("valid sign-in during the flood = %d:\n%s", p.status, p.body)
	}

	// The next refusal after the minute is recorded, after the summary of
	// the minute before.
	w.offset.Add(int64(audit.DefaultThrottleWindow + time.Second))
	resp, err := http.PostForm(w.srv.URL+saml.ACSPath, url.Values{"SAMLResponse": {"bm90IGEgcmVzcG9uc2U"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := w.failures(); len(got) != audit.DefaultThrottleLimit+1 {
		t.Fatalf("%d refusals audited after the window, want %d", len(got), audit.DefaultThrottleLimit+1)
	}
	s := summaries(t, w)
	if len(s) != 1 {
		t.Fatalf("summaries = %v, want one", s)
	}
	for _, want := range []string{`"notRecorded":40`, `"sourceAddress":"127.0.0.1"`, `"MalformedResponse":40`,
		`"eventSource":"signin.amazonaws.com"`, `"sourceIPAddress":"127.0.0.1"`} {
		if !strings.Contains(s[0], want) {
			t.Errorf("summary lacks %s: %s", want, s[0])
		}
	}
}

// floodACS posts n bad responses to the ACS in parallel, each refused
// with 400.
func floodACS(t *testing.T, w *world, n int) {
	t.Helper()
	for _, s := range servertest.Statuses(n, func() (*http.Response, error) {
		return http.PostForm(w.srv.URL+saml.ACSPath, url.Values{"SAMLResponse": {"bm90IGEgcmVzcG9uc2U"}})
	}) {
		if s != http.StatusBadRequest {
			t.Fatalf("a bad response answered %d, want 400", s)
		}
	}
}

func summaries(t *testing.T, w *world) []string {
	t.Helper()
	evs, err := w.srv.Store.ListEvents(t.Context(), store.EventFilter{Name: "UserAuthentication", End: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		if strings.Contains(string(e.Record), `"errorCode":"EventsNotRecorded"`) {
			out = append(out, string(e.Record))
		}
	}
	return out
}
