package server

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/accesscache"
	"github.com/gatehouse-dev/gatehouse/internal/adminapi"
	"github.com/gatehouse-dev/gatehouse/internal/authz"
	"github.com/gatehouse-dev/gatehouse/internal/automation"
	"github.com/gatehouse-dev/gatehouse/internal/awsaccounts"
	"github.com/gatehouse-dev/gatehouse/internal/awsaccounts/samlidp"
	"github.com/gatehouse-dev/gatehouse/internal/awsauth"
	"github.com/gatehouse-dev/gatehouse/internal/console"
	"github.com/gatehouse-dev/gatehouse/internal/iamapi"
	"github.com/gatehouse-dev/gatehouse/internal/idsource"
	"github.com/gatehouse-dev/gatehouse/internal/idsource/ldap"
	oidcrp "github.com/gatehouse-dev/gatehouse/internal/idsource/oidc"
	"github.com/gatehouse-dev/gatehouse/internal/idsource/saml"
	"github.com/gatehouse-dev/gatehouse/internal/idsource/scim"
	"github.com/gatehouse-dev/gatehouse/internal/mfa"
	"github.com/gatehouse-dev/gatehouse/internal/oidc"
	"github.com/gatehouse-dev/gatehouse/internal/organizations"
	"github.com/gatehouse-dev/gatehouse/internal/people"
	"github.com/gatehouse-dev/gatehouse/internal/portal"
	"github.com/gatehouse-dev/gatehouse/internal/settings"
	"github.com/gatehouse-dev/gatehouse/internal/signin"
	"github.com/gatehouse-dev/gatehouse/internal/sigv4"
	"github.com/gatehouse-dev/gatehouse/internal/sts"
)

// Services of the login path and the AWS APIs, built by wire.
type apis struct {
	Cache  *accesscache.Cache
	Issuer *sts.Issuer
	// Auth authenticates every SigV4-signed API.
	Auth   *awsauth.Authenticator
	STS    *sts.Service
	OIDC   *oidc.Service
	Portal *portal.Service
	// SignIn holds the sign-in rules the portal's pages call; MFA the
	// authenticators they check and enrol.
	SignIn *signin.Service
	MFA    *mfa.Service
	// Settings are the instance settings the console changes.
	Settings *settings.Service
	// Authorizer decides admin API calls made with Gatehouse credentials.
	Authorizer *authz.Authorizer
	// IAM serves the IAM API subset (policy simulator, roles).
	IAM http.Handler
	// Automation manages automation users, their access keys and OIDC
	// providers.
	Automation *automation.Service
	// Admin serves the admin APIs (sso-admin, identitystore,
	// organizations, cloudtrail); AdminAPIs are its handlers by
	// X-Amz-Target prefix.
	Admin     *adminapi.Service
	AdminAPIs map[string]http.Handler
	// People runs the user lifecycle (disable, enable, delete, end
	// sessions, reset password or MFA) for the Gatehouse admin API and
	// the console.
	People *people.Service
	// Console serves the admin console pages at /admin.
	Console *console.Service
	// SCIM serves SCIM 2.0 provisioning at /scim/v2; SCIMTokens issues
	// its bearer tokens (Gatehouse admin API and console).
	SCIM       *scim.Server
	SCIMTokens *scim.Tokens
	// Sources is the identity source (built-in directory, SAML, OIDC or
	// LDAP) and routes sign-ins to it; the kinds register themselves in
	// wireSources.
	Sources *idsource.Service
	// AWSAccounts acts in linked accounts (real AWS or an IAM/STS-
	// compatible endpoint): links, IAM provisioning, AssumeRoleWithSAML.
	AWSAccounts *awsaccounts.Service
	// endpoints is AWSAccounts.Endpoints, parsed from the configuration
	// by New.
	endpoints *awsaccounts.EndpointList
	// SAMLIdP is Gatehouse as the SAML identity provider of linked
	// accounts: its signing keys, metadata and assertions.
	SAMLIdP *samlidp.IdP
	// Provisioner performs the IAM calls of provisioning and per-user
	// revocation in linked accounts (RunBackground runs it; the access
	// service kicks it after each write it queues).
	Provisioner *awsaccounts.Provisioner
	// SAML is the SAML 2.0 service provider (identity source kind).
	SAML *saml.Service
	// oidcRP is the OpenID Connect relying party (wireSources).
	oidcRP *oidcrp.RP
	// LDAP is the LDAP / Active Directory source: its sync (on demand,
	// and scheduled by RunBackground while it is the active source).
	LDAP *ldap.Source
}

// wire builds the API services on top of the domain services.
func (s *Server) wire() {
	cfg := &s.Config
	base := s.BaseURL()
	s.Cache = accesscache.New(s.Store, cfg.Now)
	// Revocations must be seen as long as anything they end can live, and
	// a minute more for the refresh delay.
	s.Cache.MaxLifetime = access.RevocationLifetime(cfg.PortalSessionDuration) + time.Minute
	// A write of this replica (a revocation, a disabled user, a removed
	// assignment) holds for the very next request here; other replicas
	// see it within the cache's refresh interval (DESIGN §6).
	s.Store.OnChange(s.Cache.Invalidate)
	s.Issuer = &sts.Issuer{
		Keys: s.Keys, Cache: s.Cache, Store: s.Store, Audit: s.Audit, Events: s.Events,
		IDs: s.IDs, Now: cfg.Now, Instance: s.Instance,
	}
	s.Automation = &automation.Service{Store: s.Store, Keys: s.Keys, IDs: s.IDs, Now: cfg.Now}
	// Keys and users are cached briefly; this replica's writes drop them at
	// once, other replicas' within automation.DefaultCacheTTL.
	s.Store.OnChange(s.Automation.Invalidate)
	s.Auth = &awsauth.Authenticator{
		Sessions: s.Issuer, Verifier: &sigv4.Verifier{Now: cfg.Now}, Events: s.Events,
		Keys: &automation.KeySource{Service: s.Automation, Uses: &automation.Uses{}, Log: s.Log},
	}
	s.STS = &sts.Service{Auth: s.Auth, Issuer: s.Issuer, Log: s.Log,
		WebIdentity: &automation.WebIdentity{Store: s.Store, Now: cfg.Now, Client: cfg.WebIdentityClient}}
	s.OIDC = &oidc.Service{
		Store: s.Store, Keys: s.Keys, Audit: s.Audit, IDs: s.IDs, Now: cfg.Now, Rand: cfg.Rand, Log: s.Log,
		Instance: s.Instance, BaseURL: base, Cache: s.Cache, PortalSessionDuration: cfg.PortalSessionDuration,
		RefreshGrace: cfg.RefreshGrace,
	}
	// Zero fields take their defaults (signin.DefaultLimits); the hash
	// queue and gates are sized from HashConcurrency, 0 meaning the CPUs.
	d := signin.DefaultLimits()
	limits := signin.Limits{User: d.User, Device: d.Device, HashConcurrency: cfg.SignInConcurrency}
	limits.User.Limit = cfg.SignInMaxFailures
	limits.Device.Limit = cfg.SignInMaxFailures
	// The instance settings (MFA policy, portal session length) change at
	// run time; the configured portal session duration is their ceiling,
	// since revocations are kept as long as that lets a session live.
	s.Settings = &settings.Service{Store: s.Store, Audit: s.Audit, Now: cfg.Now, MaxSession: cfg.PortalSessionDuration}
	s.MFA = &mfa.Service{Store: s.Store, Keys: s.Keys, Audit: s.Audit, IDs: s.IDs, Now: cfg.Now, Rand: cfg.Rand, Issuer: "Gatehouse",
		BaseURL: base, Log: s.Log}
	s.SignIn = &signin.Service{
		Store: s.Store, Keys: s.Keys, Audit: s.Audit, Directory: s.Directory, MFA: s.MFA, Settings: s.Settings,
		Now: cfg.Now, Rand: cfg.Rand, Log: s.Log, Limits: limits,
	}
	s.Portal = &portal.Service{
		Store: s.Store, Keys: s.Keys, Audit: s.Audit, IDs: s.IDs, Now: cfg.Now, Rand: cfg.Rand, Log: s.Log,
		Instance: s.Instance, BaseURL: base, Secure: strings.HasPrefix(base, "https://"),
		Directory: s.Directory, OIDC: s.OIDC, Issuer: s.Issuer, Cache: s.Cache,
		SignIn: s.SignIn, MFA: s.MFA, Invites: s.Invites,
	}
	s.Authorizer = &authz.Authorizer{
		Policies:       &authz.Policies{Store: s.Store, Now: cfg.Now},
		PermissionSets: s.Cache, Store: s.Store, Audit: s.Audit, Instance: s.Instance,
		Users: &automation.Policies{Store: s.Store, Users: s.Automation, Now: cfg.Now},
	}
	s.IAM = &iamapi.Handler{
		Auth: s.Auth, Authorizer: s.Authorizer, Store: s.Store, Audit: s.Audit, Automation: s.Automation,
		Instance: s.Instance, Now: cfg.Now, Log: s.Log, Secure: s.secure,
	}
	s.People = &people.Service{
		Store: s.Store, Audit: s.Audit, Access: s.Access, Now: cfg.Now, Log: s.Log, IdentityStoreID: s.Instance.IdentityStoreID,
		RevocationTTL: access.RevocationLifetime(cfg.PortalSessionDuration),
	}
	s.SCIMTokens = &scim.Tokens{Store: s.Store, Keys: s.Keys, Audit: s.Audit, Now: cfg.Now, Rand: cfg.Rand}
	s.SCIM = &scim.Server{Directory: s.Directory, Store: s.Store, Tokens: s.SCIMTokens, Events: s.Events,
		BaseURL: base, AccountID: s.Instance.ManagementAccountID, Log: s.Log}
	// An LDAP / Active Directory source keeps users and groups itself (its
	// sync is authoritative and would undo the IdP's changes): automatic
	// provisioning is refused while it is active.
	s.SCIM.Allowed = func(ctx context.Context) (string, error) {
		kind, err := s.Sources.ActiveKind(ctx)
		if err != nil || kind != idsource.LDAP {
			return "", err
		}
		return "The identity source is LDAP / Active Directory, which provisions users and groups itself; " +
			"automatic provisioning (SCIM) works with the built-in directory or an external identity provider", nil
	}
	s.AWSAccounts = &awsaccounts.Service{Store: s.Store, Keys: s.Keys, Audit: s.Audit, Now: cfg.Now, Log: s.Log, Endpoints: s.endpoints}
	s.SAMLIdP = &samlidp.IdP{Store: s.Store, Keys: s.Keys, BaseURL: base, Now: cfg.Now, Rand: cfg.Rand, Log: s.Log}
	// A rotation pushes the new certificate into every linked account's
	// SAML provider before it signs (awsaccounts' RefreshProviders).
	s.SAMLIdP.Publish = s.AWSAccounts.RefreshProviders
	// GetRoleCredentials for a linked account: AssumeRoleWithSAML there.
	s.Issuer.Linked = &awsaccounts.Federation{Accounts: s.AWSAccounts, IdP: s.SAMLIdP}
	s.Provisioner = awsaccounts.NewProvisioner(s.AWSAccounts)
	s.Access.Kick = s.Provisioner.Kick
	// LinkAccount registers the IdP's metadata as the account's SAML
	// provider, then queues the account's roles for IAM.
	s.AWSAccounts.IdPMetadata = s.SAMLIdP.Metadata
	s.AWSAccounts.Linked = s.Provisioner.QueueAccount
	s.Sources = &idsource.Service{
		Store: s.Store, Keys: s.Keys, Audit: s.Audit, Directory: s.Directory, IDs: s.IDs, Now: cfg.Now, Log: s.Log,
		IdentityStoreID: s.Instance.IdentityStoreID, End: s.People.End,
	}
	s.SignIn.Passwords = s.Sources
	s.Portal.Sources = s.Sources
	s.wireSources()
	s.Admin = &adminapi.Service{
		Auth: s.Auth, Authorizer: s.Authorizer, Events: s.Events, Audit: s.Audit, Store: s.Store,
		Directory: s.Directory, Access: s.Access, People: s.People, Sources: s.Sources, AWSAccounts: s.AWSAccounts, Cache: s.Cache, Instance: s.Instance, Now: cfg.Now, Log: s.Log, Secure: s.secure,
		Organizations: &organizations.Service{Store: s.Store, Audit: s.Audit, IDs: s.IDs, Now: cfg.Now, Instance: s.Instance},
		// Identity Center's delegated administrator, from the access
		// cache: no database read per call in steady state, and a
		// deregistration on this replica refuses the very next call
		// (OnChange above), on others within the refresh interval.
		DelegatedAdmin: func(ctx context.Context, accountID string) (bool, error) {
			return s.Cache.DelegatedAdmin(ctx, accountID, organizations.SSOServicePrincipal)
		},
		Invite:     s.Invites.SendInvitation,
		SCIMTokens: s.SCIMTokens, SCIMEndpoint: s.SCIM.Endpoint(),
	}
	s.AdminAPIs = s.Admin.Handlers()
	// The console: the portal's session, the admin APIs' domain services
	// and authorization. People, Invitations, Settings and Outbox are
	// wired when their services exist (nil shows "not configured").
	s.Console = &console.Service{
		Store: s.Store, Instance: s.Instance, Audit: s.Audit, SignedIn: s.Portal.SignedIn, Authorizer: s.Authorizer, Cache: s.Cache,
		Directory: s.Directory, Access: s.Access, Organizations: s.Admin.Organizations, Now: cfg.Now, Log: s.Log, Secure: s.secure,
		People: s.People, Invitations: s.Invites, Outbox: s.Outbox, Settings: s.Settings, Mail: s.Mail, Sources: s.Sources, Links: s.AWSAccounts,
		SCIMTokens: s.SCIMTokens, SCIMEndpoint: s.SCIM.Endpoint(),
	}
	s.Portal.MayUseConsole = s.Console.MayUse
	s.People.SendPasswordReset = s.Invites.SendAdminReset
	s.Invites.EndSessions = s.People.EndSessions
	s.MFA.Notify = s.Invites.Notify
	s.People.Notify = s.Invites.Notify
	// Passwords may be 8 characters when every sign-in asks for a second
	// factor, 15 otherwise (NIST SP 800-63B-4 §3.1.1.2).
	s.Invites.MFARequired = func(ctx context.Context) (bool, error) {
		v, err := s.Settings.Get(ctx)
		return v.MFAPolicy == settings.PolicyAlways, err
	}
}

// secure reports whether a request reached Gatehouse over TLS, directly or
// through a trusted proxy that says so with X-Forwarded-Proto
// (aws:SecureTransport).
func (s *Server) secure(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	return s.fromTrustedProxy(r) && r.Header.Get("X-Forwarded-Proto") == "https"
}
