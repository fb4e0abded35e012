package console

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/accesscache"
	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/authz"
	"github.com/gatehouse-dev/gatehouse/internal/awsproto"
	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/idsource"
	"github.com/gatehouse-dev/gatehouse/internal/oidc"
	"github.com/gatehouse-dev/gatehouse/internal/organizations"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
	"github.com/gatehouse-dev/gatehouse/internal/session"
	"github.com/gatehouse-dev/gatehouse/internal/store"
	"github.com/gatehouse-dev/gatehouse/internal/web"
)

// Service serves the admin console at /admin: server-rendered pages over
// the same domain services and the same authorization as the AWS admin
// APIs. Set its fields, then call Register once; it is then safe for
// concurrent use.
type Service struct {
	Store    store.Store
	Instance *store.Instance
	// Audit records refused changes (the domain services record the
	// changes made); nil records none.
	Audit *audit.Recorder
	// SignedIn returns the person the request's portal session speaks
	// for, or nil (portal.Service.SignedIn).
	SignedIn func(r *http.Request) (*oidc.SignedIn, error)
	// Authorizer decides, by the policy engine, what a console user's
	// permission sets in the management account allow.
	Authorizer    *authz.Authorizer
	Cache         *accesscache.Cache
	Directory     *directory.Service
	Access        *access.Service
	Organizations *organizations.Service
	Now           func() time.Time
	Log           *slog.Logger
	// Secure reports whether the request came over TLS
	// (aws:SecureTransport); nil means r.TLS != nil.
	Secure func(r *http.Request) bool

	// The features of other parts; nil shows "not configured".
	People      People
	Invitations Invitations
	Settings    Settings
	Outbox      Outbox
	// SCIMTokens manages the SCIM access tokens; SCIMEndpoint is the SCIM
	// base URL the page shows. Nil SCIMTokens shows "not configured".
	SCIMTokens   SCIMTokens
	SCIMEndpoint string
	// Mail tells whether mail leaves the server (package mail's *Mailer);
	// nil or not configured, the console says invitations and reset
	// links are in the outbox.
	Mail MailStatus
	// Sources is the identity source: its settings page, and the refusal
	// of password resets, invitations and MFA resets when it keeps those
	// credentials itself. Nil is the built-in directory (the settings
	// page then says identity sources are not configured).
	Sources *idsource.Service
	// Links links accounts to AWS accounts (the account page); nil says
	// account links are not configured.
	Links AccountLinks

	once  sync.Once
	pages *web.AdminPages
}

// Actions of the Gatehouse admin API the console authorizes its people,
// invitation, settings and outbox pages with (the AWS APIs have none).
const (
	ActionDisableUser    = "gatehouse:DisableUser"
	ActionEnableUser     = "gatehouse:EnableUser"
	ActionEndSessions    = "gatehouse:EndSessions"
	ActionResetPassword  = "gatehouse:ResetPassword"
	ActionResetMFA       = "gatehouse:ResetMFA"
	ActionSendInvitation = "gatehouse:SendInvitation"
	ActionUpdateSettings = "gatehouse:UpdateSettings"
	ActionListOutbox     = "gatehouse:ListOutbox"
)

// maxForm bounds a console form's body (bytes): the largest field is an
// inline policy (access.MaxInlinePolicyBytes) with its form encoding.
const maxForm = 4*access.MaxInlinePolicyBytes + 16<<10

// handler serves one console page for a signed-in caller.
type handler func(w http.ResponseWriter, r *http.Request, c *caller) error

// Register mounts the console on mux, every route behind
// http.CrossOriginProtection:
//
//	GET  /admin                               the users page
//	GET  /admin/users, POST /admin/users      list and search; create
//	GET  /admin/users/{id}, POST …            a user; edit
//	POST /admin/users/{id}/{action}           disable, enable, delete, end-sessions,
//	                                          reset-password, reset-mfa, invite
//	GET  /admin/groups, POST /admin/groups    list; create
//	GET  /admin/groups/{id}, POST …           a group; edit
//	POST /admin/groups/{id}/delete, /members, /members/{mid}/remove
//	GET  /admin/accounts
//	GET  /admin/accounts/{id}, POST …/link, POST …/unlink
//	GET  /admin/permission-sets, POST …       list; create
//	GET  /admin/permission-sets/{id}, POST …  editor; details
//	POST /admin/permission-sets/{id}/{managed,managed/detach,customer,customer/detach,inline,provision,delete}
//	GET  /admin/assignments, GET /admin/assignments/{account}, POST …, POST …/remove
//	GET  /admin/settings, POST /admin/settings
//	GET  /admin/settings/identity-source, POST …/{kind}, GET and POST …/{kind}/switch
//	GET  /admin/settings/scim, POST …, POST /admin/settings/scim/{id}/delete
//	GET  /admin/audit
//	GET  /admin/outbox
func (s *Service) Register(mux *http.ServeMux) {
	s.init()
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(withHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.write(w, r, http.StatusForbidden, web.AdminError{AdminLayout: web.AdminLayout{Title: "Request refused"},
			Heading: "This request came from another site",
			Message: "For your safety, the admin console only accepts forms sent from its own pages. Go back to the console and try again."})
	})))
	get := func(pattern string, h handler) { mux.Handle("GET "+pattern, cop.Handler(s.serve(h))) }
	post := func(pattern string, h handler) { mux.Handle("POST "+pattern, cop.Handler(s.serve(s.form(h)))) }
	get("/admin", func(w http.ResponseWriter, r *http.Request, _ *caller) error {
		http.Redirect(w, r, "/admin/users", http.StatusSeeOther)
		return nil
	})
	get("/admin/{$}", func(w http.ResponseWriter, r *http.Request, _ *caller) error {
		http.Redirect(w, r, "/admin/users", http.StatusSeeOther)
		return nil
	})
	s.registerUsers(get, post)
	s.registerGroups(get, post)
	s.registerSets(get, post)
	s.registerAssignments(get, post)
	s.registerOther(get, post)
	s.registerSources(get, post)
	s.registerSCIM(get, post)
	s.registerLinks(get, post)
	// Anything else under /admin is a console 404, behind the same checks.
	mux.Handle("/admin/", cop.Handler(s.serve(func(w http.ResponseWriter, r *http.Request, c *caller) error {
		return notFound("page")
	})))
}

func (s *Service) init() {
	s.once.Do(func() {
		p, err := web.LoadAdmin()
		if err != nil {
			panic(err) // the templates are embedded: a parse error is a programmer error
		}
		s.pages = p
	})
}

func (s *Service) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

// contentSecurityPolicy allows only this origin's styles and images, no
// script at all, no framing, and forms that post here.
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; " +
	"object-src 'none'; frame-ancestors 'none'; form-action 'self'"

// withHeaders sets the headers of every console response: a strict CSP,
// no framing, no caching, no referrer.
func withHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// pageError is an error shown as a console page.
type pageError struct {
	Status           int
	Heading, Message string
	Err              error
}

func (e *pageError) Error() string {
	if e.Err != nil {
		return e.Heading + ": " + e.Err.Error()
	}
	return e.Heading
}

func (e *pageError) Unwrap() error { return e.Err }

func notFound(what string) error {
	return &pageError{Status: http.StatusNotFound, Heading: "Not found", Message: "There is no such " + what + ". It may have been deleted."}
}

var errDenied = &pageError{Status: http.StatusForbidden, Heading: "You do not have permission to do this",
	Message: "Your permission sets in the management account do not allow this action. Ask an administrator for access."}

// serve adapts a handler: headers, the sign-in check, the caller's
// permissions, then the handler and its error page.
func (s *Service) serve(h handler) http.Handler {
	return withHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who, err := s.SignedIn(r)
		if err != nil {
			s.fail(w, r, nil, err)
			return
		}
		if who == nil {
			next := "/admin"
			if r.Method == http.MethodGet && r.URL.Path != "" {
				next = r.URL.Path
				if r.URL.RawQuery != "" && len(r.URL.RawQuery) < 2048 {
					next += "?" + r.URL.RawQuery
				}
			}
			http.Redirect(w, r, "/login?"+url.Values{"next": {next}}.Encode(), http.StatusSeeOther)
			return
		}
		c := &caller{s: s, who: who, r: r}
		r = r.WithContext(audit.WithUser(r.Context(), who.UserID, who.UserName))
		c.r = r
		if err := c.load(r.Context()); err != nil {
			s.fail(w, r, c, err)
			return
		}
		if !c.mayUse() {
			s.fail(w, r, c, &pageError{Status: http.StatusForbidden, Heading: "The admin console is for administrators",
				Message: "You have no permission set in the management account, so you cannot use the admin console. Your AWS accounts are in the portal."})
			return
		}
		if err := h(w, r, c); err != nil {
			s.fail(w, r, c, err)
		}
	}))
}

// MayUse reports whether the console lets the person signed in with the
// request's portal session in (what each page then allows is decided
// per action): the portal shows its link to /admin by it.
func (s *Service) MayUse(r *http.Request) (bool, error) {
	who, err := s.SignedIn(r)
	if err != nil || who == nil {
		return false, err
	}
	c := &caller{s: s, who: who, r: r}
	if err := c.load(r.Context()); err != nil {
		return false, err
	}
	return c.mayUse(), nil
}

// mayUse is the console's gate: a permission set in the management
// account.
func (c *caller) mayUse() bool { return len(c.sets) > 0 }

// form parses a POST's form with a bounded body before h runs.
func (s *Service) form(h handler) handler {
	return func(w http.ResponseWriter, r *http.Request, c *caller) error {
		r.Body = http.MaxBytesReader(w, r.Body, maxForm)
		if err := r.ParseForm(); err != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				return &pageError{Status: http.StatusRequestEntityTooLarge, Heading: "The form was too large",
					Message: "Gatehouse did not read a form this large. Go back, shorten what you entered and send it again.", Err: err}
			}
			return &pageError{Status: http.StatusBadRequest, Heading: "The form could not be read", Message: "Go back and send the form again.", Err: err}
		}
		return h(w, r, c)
	}
}

// fail writes the error page of err.
func (s *Service) fail(w http.ResponseWriter, r *http.Request, c *caller, err error) {
	pe, ok := errors.AsType[*pageError](err)
	if !ok {
		if fe, isFault := errors.AsType[*fault.Error](err); isFault && fe.Kind != fault.Internal {
			pe = &pageError{Status: http.StatusBadRequest, Heading: "Your request could not be completed", Message: fe.Message, Err: err}
			switch fe.Kind {
			case fault.NotFound:
				pe.Status = http.StatusNotFound
			case fault.AccessDenied:
				pe.Status = http.StatusForbidden
			case fault.Conflict:
				pe.Status = http.StatusConflict
			case fault.Unavailable:
				pe.Status = http.StatusServiceUnavailable
				w.Header().Set("Retry-After", strconv.Itoa(awsproto.UnavailableRetryAfter))
				awsproto.LogFailure(r.Context(), s.log(), pe.Status, err, "admin console page unavailable",
					slog.String("request_id", audit.ActorFrom(r.Context()).RequestID), slog.String("path", r.URL.Path))
			}
		} else {
			awsproto.LogFailure(r.Context(), s.log(), http.StatusInternalServerError, err, "admin console page failed",
				slog.String("request_id", audit.ActorFrom(r.Context()).RequestID), slog.String("path", r.URL.Path))
			pe = &pageError{Status: http.StatusInternalServerError, Heading: "Something went wrong",
				Message: "Gatehouse could not complete your request. Try again in a moment.", Err: err}
		}
	}
	lay := web.AdminLayout{Title: pe.Heading}
	if c != nil && len(c.sets) > 0 {
		lay.User = c.who.UserName
	}
	s.write(w, r, pe.Status, web.AdminError{AdminLayout: lay, Heading: pe.Heading, Message: pe.Message})
}

// write renders page with status; a rendering failure is logged and
// answered with a plain 500.
func (s *Service) write(w http.ResponseWriter, r *http.Request, status int, page web.AdminPage) {
	var b strings.Builder
	if err := s.pages.Render(&b, page); err != nil {
		s.log().Error("render admin page", "request_id", audit.ActorFrom(r.Context()).RequestID, "path", r.URL.Path, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

// done redirects after a successful change to path, with a notice code
// the next page turns into a fixed sentence (POST-redirect-GET).
func done(w http.ResponseWriter, r *http.Request, path, notice string) error {
	http.Redirect(w, r, path+"?done="+url.QueryEscape(notice), http.StatusSeeOther)
	return nil
}

// notices are the sentences of the done codes.
var notices = map[string]string{
	"user-created": "User created.", "user-invited": "User created and invited by email.", "user-updated": "User saved.",
	"user-invited-outbox": "User created; the invitation is in the outbox (no SMTP server is configured).",
	"user-disabled":       "User disabled: their sessions, tokens and credentials no longer work.", "user-enabled": "User enabled.",
	"user-already-disabled": "The user was already disabled.", "user-already-enabled": "The user was already enabled.",
	"user-disabled-by-source": "Gatehouse does not disable the user: the identity provider set them inactive over SCIM, and they can sign in once it activates them.",
	"user-deleted":            "User deleted.", "sessions-ended": "The user's sessions were ended.",
	"password-reset":        "The password was cleared and a reset link e-mailed.",
	"password-reset-outbox": "The password was cleared; the reset link is in the outbox (no SMTP server is configured).",
	"mfa-reset":             "The user's MFA devices were removed.",
	"mfa-none":              "This user had no MFA devices: nothing was removed.",
	"invitation-sent":       "Invitation e-mailed.", "invitation-sent-outbox": "The invitation is in the outbox (no SMTP server is configured).",
	"group-created": "Group created.", "group-updated": "Group saved.",
	"group-deleted": "Group deleted.", "member-added": "Member added.", "member-removed": "Member removed.",
	"set-created": "Permission set created.", "set-updated": "Permission set saved.", "set-deleted": "Permission set deleted.",
	"policy-attached": "Policy attached.", "policy-detached": "Policy detached.", "inline-saved": "Inline policy saved.",
	"inline-removed": "Inline policy removed.", "provisioned": "Permission set provisioned.",
	"assigned": "Assignments created.", "unassigned": "Assignment removed.", "settings-saved": "Settings saved.",
	"source-saved": "Identity source settings saved.", "source-synced": "Sync finished: the result is below.", "source-switched": "Identity source switched.",
	"scim-token-deleted": "Access token revoked: identity providers using it are refused from now on.",
	"account-linked":     "Account linked: Gatehouse's SAML provider is registered there.",
	"link-failed":        "The link is stored but not active: see the reason below, then link again.",
	"account-unlinked":   "Account unlinked: it is local again.",
}

// layout is the layout of a page in section for c.
func (c *caller) layout(title, section string) web.AdminLayout {
	return web.AdminLayout{Title: title, User: c.who.UserName, Section: section, Notice: notices[c.r.URL.Query().Get("done")],
		HideOutbox: !c.can(ActionListOutbox)}
}

// userMessage is the message shown for a refused change, or "" when err
// is not one a form can show (then it is returned as is).
// The message is the error's own, without the API's error name; the
// directory's uniqueness conflicts are said for people.
func userMessage(err error) string {
	if fe, ok := errors.AsType[*fault.Error](err); ok && fe.Kind != fault.Internal && fe.Kind != fault.AccessDenied {
		if m := duplicateRe.FindStringSubmatch(fe.Message); m != nil {
			name, uerr := strconv.Unquote(m[2])
			if uerr == nil {
				return fmt.Sprintf("A %s named %s already exists.", map[string]string{"UserName": "user", "GroupDisplayName": "group"}[m[1]], name)
			}
		}
		if m := setDuplicateRe.FindStringSubmatch(fe.Message); m != nil {
			return fmt.Sprintf("A permission set named %s already exists.", m[1])
		}
		// The API names its parameter; the console, the field.
		if rest, ok := strings.CutPrefix(fe.Message, "UserName must"); ok {
			return "User name must" + rest
		}
		return fe.Message
	}
	return ""
}

// setDuplicateRe matches access.CreatePermissionSet's conflict.
var setDuplicateRe = regexp.MustCompile(`^PermissionSet with name (.+) already exists`)

// duplicateRe matches the directory's uniqueness conflicts
// (`Duplicate UserName "x" or ExternalId`).
var duplicateRe = regexp.MustCompile(`^Duplicate (UserName|GroupDisplayName) ("(?:[^"\\]|\\.)*")`)

// MailStatus tells whether mail leaves the server.
type MailStatus interface {
	// Configured reports whether an SMTP server is set.
	Configured() bool
}

// mailNotice is notice, or its "-outbox" form when no SMTP server is
// configured and the message it names went to the outbox.
func (s *Service) mailNotice(notice string) string {
	if s.Mail == nil || !s.Mail.Configured() {
		return notice + "-outbox"
	}
	return notice
}

// errUnconfirmed refuses a deletion sent without its confirmation box.
var errUnconfirmed = fault.Validationf("Tick the box to confirm the deletion.")

// Refusals of resets sent without their confirmation box.
var (
	errResetPasswordUnconfirmed = fault.Validationf("Tick the box to confirm the password reset.")
	errResetMFAUnconfirmed      = fault.Validationf("Tick the box to confirm the MFA reset.")
	errEndOwnUnconfirmed        = fault.Validationf("Tick the box to end your own sessions: it signs you out of this console too.")
)

// confirmed reports whether a deletion form was sent with its box ticked.
func confirmed(r *http.Request) bool { return r.PostFormValue("confirm") == "yes" }

// caller is the signed-in person of a console request and the permission
// sets they hold in the management account.
type caller struct {
	s    *Service
	who  *oidc.SignedIn
	r    *http.Request
	sets []*authz.Effective
	// roles holds the session each permission set's policies see.
	roles []*session.Role
	req   authz.Request
}

// load finds the caller's permission sets in the management account and
// compiles their effective policies.
func (c *caller) load(ctx context.Context) error {
	s := c.s
	mgmt := s.Instance.ManagementAccountID
	ents, err := s.Cache.Entitlements(ctx, c.who.UserID)
	if err != nil {
		return fmt.Errorf("entitlements: %w", err)
	}
	for _, e := range ents {
		if e.AccountID != mgmt {
			continue
		}
		ps, err := s.Cache.PermissionSet(ctx, e.PermissionSetID)
		if fault.KindOf(err) == fault.NotFound {
			continue
		} else if err != nil {
			return fmt.Errorf("permission set %s: %w", e.PermissionSetID, err)
		}
		eff, err := s.Authorizer.Policies.Effective(ctx, ps, mgmt)
		if err != nil {
			return fmt.Errorf("effective policy of %s: %w", ps.Name, err)
		}
		role := &session.Role{UserID: c.who.UserID, UserName: c.who.UserName, SessionID: c.who.SessionID,
			AccountID: mgmt, PermissionSetID: ps.ID, MFA: c.who.MFA, AuthTime: c.who.AuthTime, IssuedAt: c.who.AuthTime}
		if pr, err := s.Cache.Role(ctx, mgmt, ps.ID); err == nil && pr != nil {
			role.RoleName, role.RoleID = pr.RoleName, pr.RoleID
		}
		c.sets = append(c.sets, eff)
		c.roles = append(c.roles, role)
	}
	secure := c.r.TLS != nil
	if s.Secure != nil {
		secure = s.Secure(c.r)
	}
	ip := audit.ActorFrom(ctx).SourceIP
	if ip == "" {
		ip, _, _ = net.SplitHostPort(c.r.RemoteAddr)
	}
	c.req = authz.Request{Time: s.Now(), Secure: secure, SourceIP: ip, UserAgent: c.r.UserAgent(), Region: s.Instance.Region}
	return nil
}

// can reports whether any one of the caller's permission sets allows
// action on every one of resources (none means "*"), under the request
// context of a role session of that set.
func (c *caller) can(action string, resources ...string) bool {
	reqCtx := policy.NewContext(20)
	for i, eff := range c.sets {
		authz.BuildContext(reqCtx, c.roles[i], c.s.Instance.Region, c.req)
		req := policy.Request{Action: action, Resources: resources, Context: *reqCtx}
		if eff.Set.Decide(&req) == policy.Allow {
			return true
		}
	}
	return false
}

// deniedEvents are the audit source and name of a refused action whose
// successful change its domain service records under another name, so
// that one filter finds both (settings.Service records
// UpdateInstanceSettings).
var deniedEvents = map[string][2]string{
	ActionUpdateSettings: {audit.SourceSSO, "UpdateInstanceSettings"},
}

// deniedResources are the audit resources a refused change was about:
// those audit.ResourceOfARN knows, and identity-store users and groups.
func deniedResources(arns []string) []store.EventResource {
	var out []store.EventResource
	for _, a := range arns {
		if r, ok := audit.ResourceOfARN(a); ok {
			out = append(out, r)
		} else if id, ok := strings.CutPrefix(a, "arn:aws:identitystore:::user/"); ok {
			out = append(out, store.EventResource{Type: audit.ResourceUser, Name: id})
		} else if id, ok := strings.CutPrefix(a, "arn:aws:identitystore:::group/"); ok {
			out = append(out, store.EventResource{Type: audit.ResourceGroup, Name: id})
		}
	}
	return out
}

// must is can, refusing with the 403 page. A refused change (a POST) is
// audited as the console user, with AWS's AccessDenied error, as the admin
// APIs audit a denied call.
func (c *caller) must(action string, resources ...string) error {
	if c.can(action, resources...) {
		return nil
	}
	if c.r.Method == http.MethodPost && c.s.Audit != nil {
		source, name := authz.EventSource(action)
		if ev, ok := deniedEvents[action]; ok {
			source, name = ev[0], ev[1]
		}
		resource := "*"
		if len(resources) > 0 {
			resource = resources[len(resources)-1]
		}
		who := c.who.UserName
		if len(c.roles) > 0 && c.roles[0].RoleName != "" {
			who = c.roles[0].CallerARN()
		}
		entry := audit.Entry{Source: source, Name: name, ErrorCode: "AccessDenied",
			ErrorMsg:  fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s", who, action, resource),
			Resources: deniedResources(resources)}
		ctx := c.r.Context()
		if err := c.s.Store.Update(ctx, func(tx store.Tx) error { return c.s.Audit.Record(ctx, tx, entry) }); err != nil {
			return fmt.Errorf("record denied %s: %w", action, err)
		}
	}
	return errDenied
}

// Canonical resource ARNs, as the admin APIs authorize them.
func (s *Service) storeARN() string {
	return arn.IdentityStoreARN(s.Instance.ManagementAccountID, s.Instance.IdentityStoreID)
}
func (s *Service) instanceARN() string { return arn.InstanceARN(s.Instance.InstanceID) }
func (s *Service) userRes(id string) []string {
	return []string{s.storeARN(), arn.IdentityStoreUserARN(strings.ToLower(id))}
}
func (s *Service) groupRes(id string) []string {
	return []string{s.storeARN(), arn.IdentityStoreGroupARN(strings.ToLower(id))}
}
func (s *Service) setRes(id string) []string {
	return []string{s.instanceARN(), s.Access.PermissionSetARN(id)}
}
