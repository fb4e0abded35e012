package portal

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/accesscache"
	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/idsource"
	"github.com/gatehouse-dev/gatehouse/internal/invite"
	"github.com/gatehouse-dev/gatehouse/internal/keyring"
	"github.com/gatehouse-dev/gatehouse/internal/mfa"
	"github.com/gatehouse-dev/gatehouse/internal/oidc"
	"github.com/gatehouse-dev/gatehouse/internal/signin"
	"github.com/gatehouse-dev/gatehouse/internal/store"
	"github.com/gatehouse-dev/gatehouse/internal/sts"
	"github.com/gatehouse-dev/gatehouse/internal/web"
)

// Service serves the access-portal pages and the portal API. Set its
// fields, then call Register once; it is then safe for concurrent use.
type Service struct {
	Store    store.Store
	Keys     *keyring.Ring
	Audit    *audit.Recorder
	IDs      arn.Generator
	Now      func() time.Time
	Rand     io.Reader
	Log      *slog.Logger
	Instance *store.Instance
	// BaseURL is the public URL, without a trailing slash.
	BaseURL string
	// Secure marks cookies Secure; it is also implied by an https BaseURL.
	Secure    bool
	Directory *directory.Service
	OIDC      *oidc.Service
	Issuer    *sts.Issuer
	// Cache answers entitlement, account, permission-set, user and
	// revocation reads; it is required.
	Cache *accesscache.Cache
	// SignIn checks sign-in attempts under their limits and starts
	// sessions; MFA enrols and checks authenticators. Both are required:
	// the server's wiring builds them, shared with every other user of
	// the sign-in rules.
	SignIn *signin.Service
	MFA    *mfa.Service
	// Invites serves the activation, forgot-password, reset and setup
	// pages; nil answers them "not available".
	Invites *invite.Service
	// MayUseConsole reports whether the admin console lets the request's
	// signed-in person in (console.Service.MayUse), for the home page's
	// link to it; nil shows no link.
	MayUseConsole func(r *http.Request) (bool, error)
	// Sources is the identity source: with an external identity provider
	// active, /login sends the browser there (idsource.Service.Begin) and
	// the provider's answer comes back through FinishExternal. nil means
	// the built-in directory.
	Sources *idsource.Service

	once  sync.Once
	pages *web.Pages
}

// Register mounts the pages and the portal API on mux:
//
//	GET  /login, POST /login, POST /login/password, POST /login/mfa,
//	POST /login/enrol, POST /login/enrol/key, POST /login/key,
//	POST /login/passkey                sign-in steps
//	GET  /mfa/key, POST /mfa/key       security key or passkey registration
//	GET  /start                        home: accounts and roles (?q= searches)
//	GET  /start/credentials            access keys of one role
//	POST /signout, GET /login/signed-out   end the portal session
//	/                                  styled not-found page for unknown pages
//	GET  /device, POST /device         device-code verification and approval
//	GET  /authorize, POST /authorize   PKCE authorization and consent
//	GET  /mfa, POST /mfa               authenticator-app enrolment (fresh sign-in)
//	GET  /account, POST /account/sessions/end, POST /account/devices/remove
//	                                   my sessions and devices
//	GET  /reauth, POST /reauth         fresh sign-in before an MFA change
//	GET  /activate, POST /activate     set a first password from an invitation
//	GET  /forgot, POST /forgot         ask for a password-reset link
//	GET  /reset, POST /reset           set a new password from a reset link
//	GET  /setup, POST /setup           create the first administrator
//	GET  /static/                      assets
//	GET  /assignment/accounts, GET /assignment/roles,
//	GET  /federation/credentials, POST /logout   the portal API
//
// Every page route passes http.CrossOriginProtection; the portal API does
// not, as it is authenticated by a bearer header rather than a cookie.
func (s *Service) Register(mux *http.ServeMux) {
	s.init()
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(withPageHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.writePage(w, r, http.StatusForbidden, web.Error{
			Layout:  web.Layout{Title: "Request refused"},
			Heading: "This request came from another site",
			Message: "For your safety, Gatehouse only accepts forms sent from its own pages. Go back to the portal and try again.",
			Link:    "/start", LinkText: "Go to the portal",
		})
	}), true))
	page := func(pattern string, h pageHandler) {
		mux.Handle(pattern, cop.Handler(s.page(h)))
	}
	page("GET /login", s.getLogin)
	page("POST /login", limitForm(maxSignInForm, s.postLogin))
	page("POST /login/password", limitForm(maxSignInForm, s.postPassword))
	page("POST /login/mfa", limitForm(maxSignInForm, s.postMFA))
	page("POST /login/enrol", limitForm(maxSignInForm, s.postEnrol))
	page("POST /login/enrol/key", limitForm(maxPageForm, s.postEnrol))
	page("POST /login/key", limitForm(maxKeyForm, s.postKey))
	page("POST /login/passkey", limitForm(maxKeyForm, s.postPasskey))
	page("GET /start", s.getStart)
	page("GET /start/credentials", s.getCredentials)
	page("GET "+signedOutPath, s.getSignedOut)
	mux.Handle("/", s.notFound(mux))
	page("POST /signout", limitForm(maxPageForm, s.postSignOut))
	page("GET /device", s.getDevice)
	page("POST /device", limitForm(maxPageForm, s.postDevice))
	page("GET /authorize", s.getAuthorize)
	page("POST /authorize", limitForm(maxPageForm, s.postAuthorize))
	page("GET /mfa", s.mfaHere(s.getMFA))
	page("POST /mfa", limitForm(maxPageForm, s.mfaHere(s.postMFAEnrol)))
	page("GET /activate", s.passwordsHere(s.getActivate))
	page("POST /activate", limitForm(maxPageForm, s.passwordsHere(s.postActivate)))
	page("GET /forgot", s.passwordsHere(s.getForgot))
	page("POST /forgot", limitForm(maxPageForm, s.passwordsHere(s.postForgot)))
	page("GET /reset", s.passwordsHere(s.getReset))
	page("POST /reset", limitForm(maxPageForm, s.passwordsHere(s.postReset)))
	page("GET /setup", s.getSetup)
	page("POST /setup", limitForm(maxPageForm, s.postSetup))
	page("GET /account", s.getAccount)
	page("POST /account/sessions/end", limitForm(maxPageForm, s.postEndSession))
	page("POST /account/devices/remove", limitForm(maxPageForm, s.mfaHere(s.postRemoveDevice)))
	page("GET /mfa/key", s.mfaHere(s.getKeyEnrol))
	page("POST /mfa/key", limitForm(maxPageForm, s.mfaHere(s.postKeyEnrol)))
	page("GET /reauth", s.getReauth)
	page("POST /reauth", limitForm(maxKeyForm, s.postReauth))
	mux.Handle("GET /static/", withPageHeaders(http.StripPrefix("/static/", web.Static()), false))

	// The portal API authenticates with a bearer header, not a cookie, so
	// it is not a browser route and needs no cross-origin check.
	mux.Handle("GET /assignment/accounts", s.api("ListAccounts", s.listAccounts))
	mux.Handle("GET /assignment/roles", s.api("ListAccountRoles", s.listAccountRoles))
	mux.Handle("GET /federation/credentials", s.api("GetRoleCredentials", s.getRoleCredentials))
	mux.Handle("POST /logout", s.api("Logout", s.logout))
}

func (s *Service) init() {
	s.once.Do(func() {
		p, err := web.Load()
		if err != nil {
			panic(err) // the templates are embedded: a parse error is a programmer error
		}
		s.pages = p
		if s.SignIn == nil || s.MFA == nil {
			panic("portal: SignIn and MFA are required") // wiring error
		}
	})
}

func (s *Service) now() time.Time { return s.Now().UTC() }

func (s *Service) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

func (s *Service) secure() bool {
	return s.Secure || strings.HasPrefix(s.BaseURL, "https://")
}

// sourceIP is the client address the server's middleware put in the audit
// actor, or the peer address when there is no actor (tests, other hosts).
func sourceIP(r *http.Request) string {
	a := audit.ActorFrom(r.Context())
	if a.SourceIP != "" && !(a.SourceIP == "gatehouse.internal" && a.UserAgent == "gatehouse") {
		return a.SourceIP
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// withIdentity returns ctx whose audit actor is the given user.
func withIdentity(ctx context.Context, userID, userName string) context.Context {
	return audit.WithUser(ctx, userID, userName)
}
