package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gatehouse-dev/gatehouse/internal/idsource"
	"github.com/gatehouse-dev/gatehouse/internal/store"
	"github.com/gatehouse-dev/gatehouse/internal/web"
)

// Actions of the Gatehouse admin API the identity source page is
// authorized with, on the identity store's ARN (adminapi authorizes its
// identity-source operations the same way).
const (
	ActionDescribeIdentitySource      = "gatehouse:DescribeIdentitySource"
	ActionUpdateIdentitySource        = "gatehouse:UpdateIdentitySource"
	ActionPreviewIdentitySourceSwitch = "gatehouse:PreviewIdentitySourceSwitch"
	ActionSwitchIdentitySource        = "gatehouse:SwitchIdentitySource"
	ActionSyncIdentitySource          = "gatehouse:SyncIdentitySource"
)

// directoryTitle names the built-in directory to people.
const directoryTitle = "Built-in directory"

// registerSources mounts the identity source pages:
//
//	GET  /admin/settings/identity-source                the active source, a form per kind
//	POST /admin/settings/identity-source/{kind}         save a kind's settings
//	GET  /admin/settings/identity-source/{kind}/switch  what a switch would change
//	POST /admin/settings/identity-source/{kind}/switch  switch (confirmed, from the kind previewed)
//	POST /admin/settings/identity-source-sync           sync the active source now (LDAP)
func (s *Service) registerSources(get, post route) {
	post("/admin/settings/identity-source-sync", s.postSync)
	get("/admin/settings/identity-source", s.getIdentitySource)
	post("/admin/settings/identity-source/{kind}", s.postIdentitySource)
	get("/admin/settings/identity-source/{kind}/switch", s.getSwitch)
	post("/admin/settings/identity-source/{kind}/switch", s.postSwitch)
}

// sources returns the identity source service, or a "not configured"
// page when the console was built without one.
func (s *Service) sources() (*idsource.Service, error) {
	if s.Sources == nil {
		return nil, notConfigured("Identity sources")
	}
	return s.Sources, nil
}

// sourcesAs returns the identity source service once the caller is
// allowed action on the identity store (an access-denied page
// otherwise).
func (s *Service) sourcesAs(c *caller, action string) (*idsource.Service, error) {
	if err := c.must(action, s.storeARN()); err != nil {
		return nil, err
	}
	return s.sources()
}

// switchTarget returns, for a switch page allowed action, the identity
// source service and the path's kind with its title; a kind that is not
// registered is a not-found page.
func (s *Service) switchTarget(r *http.Request, c *caller, action string) (src *idsource.Service, kind, title string, err error) {
	if src, err = s.sourcesAs(c, action); err != nil {
		return nil, "", "", err
	}
	kind = r.PathValue("kind")
	if title = kindTitle(src, kind); title == "" {
		return nil, "", "", notFound("identity source")
	}
	return src, kind, title, nil
}

// kindTitle is the title of kind, "" when it is not registered.
func kindTitle(src *idsource.Service, kind string) string {
	if kind == idsource.Directory {
		return directoryTitle
	}
	if k := src.Kind(kind); k != nil {
		return k.Title
	}
	return ""
}

// getIdentitySource shows the identity source page.
func (s *Service) getIdentitySource(w http.ResponseWriter, r *http.Request, c *caller) error {
	return s.identitySourcePage(w, r, c, http.StatusOK, nil)
}

// sentForm is a kind's form as it was sent, shown again with its error.
type sentForm struct {
	kind     string
	settings map[string]string
	err      string
	// syncFailed: err is a failed "Sync now", shown at the top.
	syncFailed bool
}

// identitySourcePage writes the identity source page with status: the
// active source, its last sync when it syncs, and a form per registered
// kind; sent, when not nil, is a refused form (or sync) shown again with
// its error.
func (s *Service) identitySourcePage(w http.ResponseWriter, r *http.Request, c *caller, status int, sent *sentForm) error {
	src, err := s.sourcesAs(c, ActionDescribeIdentitySource)
	if err != nil {
		return err
	}
	ctx := r.Context()
	active, err := src.ActiveKind(ctx)
	if err != nil {
		return err
	}
	page := web.AdminIdentitySource{AdminLayout: c.layout("Identity source", "settings"), Active: active, ActiveTitle: kindTitle(src, active),
		Can: web.Can{"update": c.can(ActionUpdateIdentitySource, s.storeARN()), "preview": c.can(ActionPreviewIdentitySourceSwitch, s.storeARN()),
			"sync": c.can(ActionSyncIdentitySource, s.storeARN())}}
	if k := src.Kind(active); k != nil && k.Sync != nil {
		page.Syncs = true
		last, err := src.LastSync(ctx)
		if err != nil {
			return err
		}
		if last != nil {
			page.LastSync = &web.AdminSourceSync{When: last.Time.UTC().Format("2006-01-02 15:04:05 UTC"), By: last.By, Error: last.Error,
				Users: last.Counts.Users, Disabled: last.Counts.Disabled, Retired: last.Counts.Retired, Failed: last.Counts.Failed, Skipped: last.Counts.Skipped}
		}
	}
	if page.ActiveTitle == "" {
		page.ActiveTitle = active
	}
	page.ReadOnly = !page.Can["update"] && !page.Can["preview"]
	if sent != nil && sent.syncFailed {
		page.Error = "The sync failed: " + sent.err
	}
	for _, k := range src.Kinds() {
		kv, err := s.sourceKind(ctx, src, k, active)
		if err != nil {
			return err
		}
		if sent != nil && sent.kind == k.Name {
			for i := range kv.Fields {
				kv.Fields[i].Value = sent.settings[kv.Fields[i].Name]
			}
			kv.Error = sent.err
			// Also at the top of the page, where the browser lands.
			page.Error = "The " + kv.Title + " settings were not saved: " + sent.err
		}
		page.Kinds = append(page.Kinds, kv)
	}
	s.write(w, r, status, page)
	return nil
}

// sourceKind is kind k as the page shows it: its fields with the stored
// values (empty for a default), whether a secret is stored, its info.
func (s *Service) sourceKind(ctx context.Context, src *idsource.Service, k *idsource.Kind, active string) (web.AdminSourceKind, error) {
	kv := web.AdminSourceKind{Name: k.Name, Title: k.Title, Active: k.Name == active}
	if kv.Title == "" {
		kv.Title = k.Name
	}
	var stored map[string]string
	rec, err := s.Store.GetIdentitySource(ctx, k.Name)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return kv, fmt.Errorf("identity source %s: %w", k.Name, err)
	default:
		kv.Configured, kv.HasSecret, stored = true, rec.SealedSecret != nil, rec.Settings
		if !rec.UpdatedAt.IsZero() {
			kv.Updated = rec.UpdatedAt.UTC().Format(dateTime)
			if rec.UpdatedBy != "" {
				kv.Updated += " by " + rec.UpdatedBy
			}
		}
	}
	for _, f := range k.Fields {
		kv.Fields = append(kv.Fields, web.AdminSourceField{Name: f.Name, Label: f.Label, Help: f.Help, Required: f.Required,
			Multiline: f.Multiline, Options: f.Options, Default: f.Default, Value: stored[f.Name]})
	}
	if k.Secret != nil {
		kv.Secret = &web.AdminSourceField{Name: k.Secret.Name, Label: k.Secret.Label, Help: k.Secret.Help, Required: k.Secret.Required}
	}
	if k.Info != nil {
		for _, i := range k.Info() {
			kv.Info = append(kv.Info, web.AdminSourceInfo{Label: i.Label, Value: i.Value})
		}
	}
	return kv, nil
}

// postIdentitySource saves a kind's settings (idsource.Service.Configure
// validates and audits them). The form sends every field as "s.<name>";
// an empty secret keeps the stored one, clear_secret removes it.
func (s *Service) postIdentitySource(w http.ResponseWriter, r *http.Request, c *caller) error {
	src, err := s.sourcesAs(c, ActionUpdateIdentitySource)
	if err != nil {
		return err
	}
	kind := r.PathValue("kind")
	k := src.Kind(kind)
	if k == nil {
		return notFound("identity source")
	}
	settings := map[string]string{}
	for _, f := range k.Fields {
		if v, ok := r.PostForm["s."+f.Name]; ok && len(v) > 0 {
			// Browsers send a text area's lines with CRLF (HTML
			// "textarea wrapping transformation"); settings keep LF.
			settings[f.Name] = strings.ReplaceAll(v[0], "\r\n", "\n")
		}
	}
	var secret *string
	if v := r.PostFormValue("secret"); v != "" {
		secret = &v
	} else if r.PostFormValue("clear_secret") == "yes" {
		empty := ""
		secret = &empty
	}
	if err := src.Configure(r.Context(), kind, settings, secret); err != nil {
		if msg := userMessage(err); msg != "" {
			return s.identitySourcePage(w, r, c, http.StatusBadRequest, &sentForm{kind: kind, settings: settings, err: msg})
		}
		return err
	}
	return done(w, r, "/admin/settings/identity-source", "source-saved")
}

// getSwitch shows what switching to the kind would change, with the
// confirmation form.
func (s *Service) getSwitch(w http.ResponseWriter, r *http.Request, c *caller) error {
	src, kind, title, err := s.switchTarget(r, c, ActionPreviewIdentitySourceSwitch)
	if err != nil {
		return err
	}
	p, err := src.PlanSwitch(r.Context(), kind)
	return s.planPage(w, r, c, src, kind, title, p, err, "")
}

// planPage writes the switch's confirmation page of p, with msg (a
// refused confirmation) above it; or of the refusal err (a Validation or
// Conflict fault; others are returned).
func (s *Service) planPage(w http.ResponseWriter, r *http.Request, c *caller, src *idsource.Service, kind, title string, p *idsource.Plan, err error, msg string) error {
	page := web.AdminSourcePlan{AdminLayout: c.layout("Switch identity source", "settings"), To: kind, ToTitle: title,
		Can: web.Can{"switch": c.can(ActionSwitchIdentitySource, s.storeARN())}}
	status := http.StatusOK
	if err != nil {
		if page.Refused = userMessage(err); page.Refused == "" {
			return err
		}
		s.write(w, r, http.StatusBadRequest, page)
		return nil
	}
	if msg != "" {
		page.Error, status = msg, http.StatusBadRequest
	}
	page.From, page.FromTitle = p.From, kindTitle(src, p.From)
	page.Users, page.Passwords, page.MFADevices, page.Notes = p.Users, p.Passwords, p.MFADevices, p.Notes
	page.Warnings, page.PreviewFailed = p.Warnings, p.PreviewError
	if pv := p.Preview; pv != nil {
		page.Preview, page.Matched, page.New, page.Unmatched = true, pv.Matched, pv.New, pv.Unmatched
	}
	s.write(w, r, status, page)
	return nil
}

// postSwitch switches to the kind: only when confirmed, and only from the
// source the plan was shown for (another administrator may have switched
// since); a refusal shows the plan again, as it now stands.
func (s *Service) postSwitch(w http.ResponseWriter, r *http.Request, c *caller) error {
	src, kind, title, err := s.switchTarget(r, c, ActionSwitchIdentitySource)
	if err != nil {
		return err
	}
	ctx := r.Context()
	active, err := src.ActiveKind(ctx)
	if err != nil {
		return err
	}
	msg := ""
	switch {
	case !confirmed(r):
		msg = "Tick the box to confirm the switch."
	case strings.TrimSpace(r.PostFormValue("from")) != active:
		msg = fmt.Sprintf("The active identity source changed since this plan was shown (it is now the %s). Check the plan again before switching.",
			strings.ToLower(kindTitle(src, active)[:1])+kindTitle(src, active)[1:])
	}
	var p *idsource.Plan
	if msg == "" && r.PostFormValue("confirm_failed") != "yes" {
		// A source whose preview fails (an unreachable directory, a
		// refused bind) locks everyone out: it needs the second tick.
		if p, err = src.PlanSwitch(ctx, kind); err == nil && p.PreviewError != "" {
			msg = "The " + title + " could not be read. Tick both boxes to switch anyway, or fix its settings first."
		}
	}
	if msg != "" {
		if p == nil {
			p, err = src.PlanSwitch(ctx, kind)
		}
		return s.planPage(w, r, c, src, kind, title, p, err, msg)
	}
	if _, err := src.Switch(ctx, kind); err != nil {
		return s.planPage(w, r, c, src, kind, title, nil, err, "")
	}
	return done(w, r, "/admin/settings/identity-source", "source-switched")
}

// postSync syncs the active identity source now (LDAP: a full directory
// read, idsource.Service.Sync), authorized with SyncIdentitySource; the
// kind audits a sync that works, this handler one that fails. The page
// shows the result (the last sync's record).
func (s *Service) postSync(w http.ResponseWriter, r *http.Request, c *caller) error {
	src, err := s.sourcesAs(c, ActionSyncIdentitySource)
	if err != nil {
		return err
	}
	ctx := r.Context()
	if _, err := src.Sync(ctx); err != nil {
		msg := userMessage(err)
		if msg == "" {
			return err
		}
		if aerr := src.RecordSyncFailure(ctx, err); aerr != nil {
			return aerr
		}
		return s.identitySourcePage(w, r, c, http.StatusBadRequest, &sentForm{err: msg, syncFailed: true})
	}
	return done(w, r, "/admin/settings/identity-source", "source-synced")
}
