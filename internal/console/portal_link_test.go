package console_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestPortalLinksToConsole: the portal home links to the console exactly
// for the people the console lets in (a permission set in the management
// account, read-only included), and the console's header links back to
// the portal.
func TestPortalLinksToConsole(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		user    string
		console bool
	}{{"admin", true}, {"reader", true}, {"dev", false}} {
		t.Run(c.user, func(t *testing.T) {
			b := e.browser()
			b.signIn(c.user)
			home := b.get("/start")
			wantStatus(t, home, http.StatusOK)
			if got := strings.Contains(home.Body, `href="/admin"`); got != c.console {
				t.Errorf("portal home links to the console: %v, want %v", got, c.console)
			}
			admin := b.get("/admin/users")
			if c.console {
				wantStatus(t, admin, http.StatusOK)
				wantBody(t, admin, `href="/start"`)
			} else {
				wantStatus(t, admin, http.StatusForbidden)
			}
		})
	}
}
