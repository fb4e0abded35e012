package saml_test

import (
	"net/http"
	"testing"

	"github.com/beevik/etree"
)

func TestExploreCommentInNameID(t *testing.T) {
	w := newWorld(t, nil, nil)
	b := newBrowser(t)
	action, fields := w.spInitiated(b, "/start")
	bad := tamper(t, fields, func(doc *etree.Document) {
		n := assertionOf(t, doc).FindElement(".//NameID")
		n.SetText("00u1")
		n.CreateComment("x")
		n.CreateText("ana")
	})
	p := b.post(action, bad, w.idp.URL)
	t.Logf("status %d loc %s", p.status, p.location)
	if p.status == http.StatusSeeOther {
		for _, n := range []string{"00u1", "00u1ana"} {
			if u, err := w.srv.Directory.GetUserByName(t.Context(), n); err == nil {
				t.Logf("user %s exists: %+v", n, u.ExternalIDs)
			}
		}
	}
}
