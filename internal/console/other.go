package console

import (
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/settings"
	"github.com/gatehouse-dev/gatehouse/internal/store"
	"github.com/gatehouse-dev/gatehouse/internal/web"
)

// Bounds of the audit viewer and the outbox.
const (
	auditPage   = 50
	outboxShown = 100
	maxFilter   = 2000 // characters, CloudTrail's LookupAttributeValue bound
	formTime    = "2006-01-02T15:04"
	sessionStep = 15 * time.Minute // the settings form's step
)

func (s *Service) registerOther(get, post route) {
	get("/admin/accounts", s.getAccounts)
	get("/admin/settings", s.getSettings)
	post("/admin/settings", s.postSettings)
	get("/admin/audit", s.getAudit)
	get("/admin/outbox", s.getOutbox)
}

func (s *Service) getAccounts(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := c.must("organizations:ListAccounts"); err != nil {
		return err
	}
	accounts, err := s.listAccounts(r.Context())
	if err != nil {
		return err
	}
	links, err := s.linkStatuses(r.Context(), c)
	if err != nil {
		return err
	}
	for i := range accounts {
		accounts[i].Link = links[accounts[i].ID]
	}
	page := web.AdminAccounts{AdminLayout: c.layout("AWS accounts", "accounts"), Accounts: accounts,
		Assign: c.can("sso:ListAccountAssignments", s.instanceARN())}
	s.write(w, r, http.StatusOK, page)
	return nil
}

func (s *Service) getSettings(w http.ResponseWriter, r *http.Request, c *caller) error {
	return s.settingsPage(w, r, c, http.StatusOK, "", nil)
}

func (s *Service) settingsPage(w http.ResponseWriter, r *http.Request, c *caller, status int, msg string, sent *settings.Settings) error {
	if err := c.must("sso:DescribeInstance", s.instanceARN()); err != nil {
		return err
	}
	page := web.AdminSettings{AdminLayout: c.layout("Settings", "settings"), Configured: s.Settings != nil,
		Can: web.Can{"update": c.can(ActionUpdateSettings, s.instanceARN())}}
	page.Error, page.ReadOnly = msg, s.Settings != nil && !page.Can["update"]
	if s.Settings != nil {
		v, err := s.Settings.Get(r.Context())
		if err != nil {
			return err
		}
		if sent != nil {
			v = *sent
		}
		d := v.PortalSessionDuration
		page.MFAPolicy, page.SessionHours = v.MFAPolicy, strconv.Itoa(int(d/time.Hour))
		page.SessionMinutes = int(d % time.Hour / time.Minute)
		page.SessionLength = web.FormatDuration(d)
		page.Longest = web.FormatDuration(s.Settings.LongestSession())
		page.LongestHours = int(s.Settings.LongestSession() / time.Hour)
	}
	s.write(w, r, status, page)
	return nil
}

func (s *Service) postSettings(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := c.must(ActionUpdateSettings, s.instanceARN()); err != nil {
		return err
	}
	if s.Settings == nil {
		return notConfigured("Instance settings")
	}
	v := settings.Settings{MFAPolicy: r.PostFormValue("mfa")}
	var err error
	if d, ok := sessionLength(r.PostFormValue("hours"), r.PostFormValue("minutes")); !ok ||
		d < settings.MinSessionDuration || d > s.Settings.LongestSession() {
		err = fault.Validationf("Portal session length must be from 15 minutes to %s (the server's --portal-session-duration), in steps of 15 minutes.",
			web.FormatDuration(s.Settings.LongestSession()))
	} else {
		v.PortalSessionDuration = d
		err = s.Settings.Put(r.Context(), v)
	}
	if err != nil {
		if msg := userMessage(err); msg != "" {
			return s.settingsPage(w, r, c, http.StatusBadRequest, msg, nil)
		}
		return err
	}
	return done(w, r, "/admin/settings", "settings-saved")
}

// sessionLength reads the settings form's hours (a whole number, blank
// for 0) and minutes (0, 15, 30 or 45, blank for 0); ok is false when
// either is not.
func sessionLength(hours, minutes string) (d time.Duration, ok bool) {
	read := func(v string) (int, bool) {
		if v = strings.TrimSpace(v); v == "" {
			return 0, true
		}
		n, err := strconv.Atoi(v)
		return n, err == nil && n >= 0 && n <= 100000
	}
	h, okH := read(hours)
	m, okM := read(minutes)
	if !okH || !okM || m >= 60 || time.Duration(m)*time.Minute%sessionStep != 0 {
		return 0, false
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute, true
}

func (s *Service) getAudit(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := c.must("cloudtrail:LookupEvents"); err != nil {
		return err
	}
	q := r.URL.Query()
	clip := func(k string) string {
		v := strings.TrimSpace(q.Get(k))
		if len(v) > maxFilter {
			v = v[:maxFilter]
		}
		return v
	}
	page := web.AdminAudit{AdminLayout: c.layout("Audit log", "audit"), Principal: clip("user"), Event: clip("event"), Start: clip("start"), End: clip("end")}
	f := store.EventFilter{Principal: page.Principal, Name: page.Event, Newest: true, Page: store.Page{After: clip("after"), Limit: auditPage + 1}}
	// User names match in any case: the events carry the user name as
	// stored, so a name typed in another case is looked up first.
	if f.Principal != "" {
		if u, err := s.Store.GetUserByName(r.Context(), f.Principal); err == nil {
			f.Principal = u.UserName
		}
	}
	status := http.StatusOK
	for _, t := range []struct {
		raw string
		dst *time.Time
		nm  string
	}{{page.Start, &f.Start, "From"}, {page.End, &f.End, "To"}} {
		if t.raw == "" {
			continue
		}
		v, err := time.Parse(formTime, t.raw)
		if err != nil {
			page.Error, status = t.nm+" must be a date and time like 2026-01-31T13:45 (UTC).", http.StatusBadRequest
			continue
		}
		*t.dst = v.UTC()
	}
	if !f.Start.IsZero() && !f.End.IsZero() && f.End.Before(f.Start) {
		page.Error, status = "Start time must not be after the end time.", http.StatusBadRequest
	}
	if page.Error == "" {
		evs, err := s.Store.ListEvents(r.Context(), f)
		if err != nil {
			return err
		}
		if len(evs) > auditPage {
			evs = evs[:auditPage]
			next := url.Values{"after": {evs[len(evs)-1].ID}}
			for k, v := range map[string]string{"user": page.Principal, "event": page.Event, "start": page.Start, "end": page.End} {
				if v != "" {
					next.Set(k, v)
				}
			}
			// Only this path and encoded values: safe as a URL.
			page.Next = template.URL("/admin/audit?" + next.Encode())
		}
		for _, e := range evs {
			var res []string
			for _, x := range e.Resources {
				res = append(res, x.Name)
			}
			page.Events = append(page.Events, web.AdminEvent{ID: e.ID, Time: e.Time.UTC().Format("2006-01-02 15:04:05"), Source: e.Source,
				Name: e.Name, Principal: e.Principal, ErrorCode: e.ErrorCode, Resources: strings.Join(res, ", "), ReadOnly: e.ReadOnly})
		}
	}
	s.write(w, r, status, page)
	return nil
}

func (s *Service) getOutbox(w http.ResponseWriter, r *http.Request, c *caller) error {
	// The outbox holds sign-in links: only those who may change users
	// (not read-only administrators) see it.
	if err := c.must(ActionListOutbox); err != nil {
		return err
	}
	page := web.AdminOutbox{AdminLayout: c.layout("Outbox", "outbox"), Configured: s.Outbox != nil}
	if s.Outbox != nil {
		ms, err := s.Outbox.List(r.Context(), outboxShown)
		if err != nil {
			return err
		}
		for _, m := range ms {
			page.Messages = append(page.Messages, web.AdminMessage{Time: m.CreatedAt.UTC().Format("2006-01-02 15:04:05 UTC"), To: m.To, Subject: m.Subject, Body: m.Body})
		}
	}
	s.write(w, r, http.StatusOK, page)
	return nil
}
