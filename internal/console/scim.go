package console

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/idsource"
	"github.com/gatehouse-dev/gatehouse/internal/idsource/scim"
	"github.com/gatehouse-dev/gatehouse/internal/store"
	"github.com/gatehouse-dev/gatehouse/internal/web"
)

// SCIMTokens issues, lists and revokes SCIM access tokens
// (*scim.Tokens).
type SCIMTokens interface {
	Create(ctx context.Context, description string, ttl time.Duration) (scim.Secret, *store.SCIMToken, error)
	List(ctx context.Context) ([]store.SCIMToken, error)
	Delete(ctx context.Context, id string) error
}

// Actions of the SCIM token pages (the Gatehouse admin API's).
const (
	ActionCreateSCIMAccessToken = "gatehouse:CreateSCIMAccessToken"
	ActionListSCIMAccessTokens  = "gatehouse:ListSCIMAccessTokens"
	ActionDeleteSCIMAccessToken = "gatehouse:DeleteSCIMAccessToken"
)

// registerSCIM mounts the automatic provisioning page:
//
//	GET  /admin/settings/scim                  endpoint and tokens
//	POST /admin/settings/scim                  generate a token (shown once)
//	POST /admin/settings/scim/{id}/delete      revoke a token
func (s *Service) registerSCIM(get, post route) {
	get("/admin/settings/scim", s.getSCIM)
	post("/admin/settings/scim", s.postSCIM)
	post("/admin/settings/scim/{id}/delete", s.deleteSCIM)
}

// dateTime is how the settings pages show a time, in UTC to the minute.
const dateTime = "2006-01-02 15:04 UTC"

// scimPage writes the automatic provisioning page with status: the SCIM
// endpoint, the tokens (never their values, only a new one in
// page.NewToken) and whether LDAP is active (SCIM is then refused).
// Listing needs ListSCIMAccessTokens.
func (s *Service) scimPage(w http.ResponseWriter, r *http.Request, c *caller, status int, page web.AdminSCIM) error {
	if err := c.must(ActionListSCIMAccessTokens, s.storeARN()); err != nil {
		return err
	}
	if s.Sources != nil {
		active, err := s.Sources.ActiveKind(r.Context())
		if err != nil {
			return err
		}
		page.LDAPActive = active == idsource.LDAP
	}
	page.AdminLayout.Title, page.AdminLayout.Section = "Automatic provisioning (SCIM)", "settings"
	lay := c.layout(page.Title, page.Section)
	lay.Error = page.Error
	page.AdminLayout = lay
	page.Configured, page.Endpoint = s.SCIMTokens != nil, s.SCIMEndpoint
	page.Can = web.Can{"create": c.can(ActionCreateSCIMAccessToken, s.storeARN()), "delete": c.can(ActionDeleteSCIMAccessToken, s.storeARN())}
	page.ReadOnly = page.Configured && !page.Can["create"] && !page.Can["delete"]
	if s.SCIMTokens != nil {
		ts, err := s.SCIMTokens.List(r.Context())
		if err != nil {
			return err
		}
		now := s.Now()
		for _, t := range ts {
			row := web.AdminSCIMToken{ID: t.ID, Description: t.Description, Created: t.CreatedAt.UTC().Format(dateTime),
				Expires: t.ExpiresAt.UTC().Format(dateTime), LastUsed: "Never", CreatedBy: t.CreatedBy, Expired: !now.Before(t.ExpiresAt)}
			if !t.LastUsedAt.IsZero() {
				row.LastUsed = t.LastUsedAt.UTC().Format(dateTime)
			}
			page.Tokens = append(page.Tokens, row)
		}
	}
	s.write(w, r, status, page)
	return nil
}

// getSCIM shows the automatic provisioning page.
func (s *Service) getSCIM(w http.ResponseWriter, r *http.Request, c *caller) error {
	return s.scimPage(w, r, c, http.StatusOK, web.AdminSCIM{})
}

// postSCIM generates a token and shows it on the page it answers with (not
// after a redirect: the token must never be in a URL).
func (s *Service) postSCIM(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := c.must(ActionCreateSCIMAccessToken, s.storeARN()); err != nil {
		return err
	}
	if s.SCIMTokens == nil {
		return notConfigured("Automatic provisioning")
	}
	desc, days := strings.TrimSpace(r.PostFormValue("description")), strings.TrimSpace(r.PostFormValue("days"))
	sent := web.AdminSCIM{Description: desc, Days: days}
	n := 365
	if days != "" {
		var err error
		if n, err = strconv.Atoi(days); err != nil || n < 1 || n > 730 {
			sent.Error = "Expires after must be a whole number of days from 1 to 730."
			return s.scimPage(w, r, c, http.StatusBadRequest, sent)
		}
	}
	secret, rec, err := s.SCIMTokens.Create(r.Context(), desc, time.Duration(n)*24*time.Hour)
	if err != nil {
		if msg := userMessage(err); msg != "" {
			sent.Error = msg
			return s.scimPage(w, r, c, http.StatusBadRequest, sent)
		}
		return err
	}
	return s.scimPage(w, r, c, http.StatusOK, web.AdminSCIM{NewToken: secret.Reveal(), NewTokenID: rec.ID})
}

// deleteSCIM revokes the token named in the path once confirmed; an
// unknown token is a not-found page.
func (s *Service) deleteSCIM(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := c.must(ActionDeleteSCIMAccessToken, s.storeARN()); err != nil {
		return err
	}
	if s.SCIMTokens == nil {
		return notConfigured("Automatic provisioning")
	}
	if !confirmed(r) {
		return s.scimPage(w, r, c, http.StatusBadRequest, web.AdminSCIM{AdminLayout: web.AdminLayout{Error: "Tick the box to confirm revoking the token."}})
	}
	if err := s.SCIMTokens.Delete(r.Context(), r.PathValue("id")); err != nil {
		if fault.KindOf(err) == fault.NotFound {
			return notFound("SCIM access token")
		}
		return err
	}
	return done(w, r, "/admin/settings/scim", "scim-token-deleted")
}
