package portal

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/awsproto"
	"github.com/gatehouse-dev/gatehouse/internal/clientconfig"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/session"
	"github.com/gatehouse-dev/gatehouse/internal/store"
	"github.com/gatehouse-dev/gatehouse/internal/web"
)

// ssoSessionName is the sso-session the access-keys panel's ~/.aws/config
// lines name, the one `gatehouse serve` prints and `gatehouse aws-config`
// writes.
const ssoSessionName = "gatehouse"

// getCredentials is the access-keys panel of one role
// (GET /start/credentials?account_id=…&role_name=…): it issues role
// credentials for the signed-in portal session through the same call,
// authorization and audit event as the portal API's GetRoleCredentials
// (sts.Issuer.Issue), bound to the portal session so that signing out ends
// them, and shows them in each form people paste. A role the person does
// not have is the same 403 page whether the account or role exists or not.
func (s *Service) getCredentials(w http.ResponseWriter, r *http.Request) error {
	who, err := s.signedInOrLogin(w, r, r.URL.RequestURI())
	if who == nil {
		return err
	}
	// A link on another site must not mint credentials in the person's
	// name (the session cookie is SameSite=Lax, so it rides along on a
	// top-level navigation): only the portal's own links, a bookmark or a
	// typed address may (Fetch Metadata, W3C "Fetch Metadata Request
	// Headers" §2.1; browsers without it send nothing and pass). A
	// "same-site" request comes from another host of the registrable
	// domain (a sibling subdomain), which is another origin too.
	if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" {
		return &pageError{Status: http.StatusForbidden, Heading: "Open access keys from the portal",
			Message: "For your safety, access keys are only shown to links from the portal itself. Go to the portal and pick “Access keys” next to the role."}
	}
	q := r.URL.Query()
	accountID, roleName := q.Get("account_id"), q.Get("role_name")
	if accountID == "" || roleName == "" || len(accountID) > 64 || len(roleName) > 64 {
		return &pageError{Status: http.StatusBadRequest, Heading: "Choose an account and role",
			Message: "This page needs an account and a role. Pick “Access keys” next to a role on the portal's home page."}
	}
	ctx := withIdentity(r.Context(), who.UserID, who.UserName)
	p := session.Principal{UserID: who.UserID, UserName: who.UserName, SessionID: who.SessionID, MFA: who.MFA, AuthTime: who.AuthTime}
	c, err := s.Issuer.Issue(ctx, p, accountID, roleName)
	if fe, ok := errors.AsType[*fault.Error](err); ok && fe.Kind == fault.AccessDenied {
		return &pageError{Status: http.StatusForbidden, Heading: "No access",
			Message: fmt.Sprintf("You have no role %q in account %q. Pick a role from the portal's home page.", cut(roleName), cut(accountID)), Err: err}
	} else if pe, ok := errors.AsType[*awsproto.Error](err); ok && pe.Status >= 400 && pe.Status < 600 {
		// A linked account's AWS refused or could not be reached
		// (awsaccounts.Federation): say what it said.
		return &pageError{Status: pe.Status, Heading: "AWS did not issue access keys", Message: pe.Message, Err: err}
	} else if err != nil {
		return err
	}
	acct, err := s.Cache.Account(r.Context(), accountID)
	if err != nil {
		return fmt.Errorf("account %s: %w", accountID, err)
	}
	// The issuer took a linked account's credentials from its link's STS
	// (sts.Issuer.Issue): they work there, not here.
	link, err := s.Cache.Link(r.Context(), accountID)
	if err != nil {
		return fmt.Errorf("link of account %s: %w", accountID, err)
	}
	page := web.Credentials{
		Layout:    web.Layout{Title: "Access keys for " + roleName, User: who.UserName},
		AccountID: accountID, AccountName: acct.Name, RoleName: roleName,
		Expires: c.Expiration.UTC().Format(time.RFC3339),
		Linked:  link != nil,
	}
	if link != nil {
		page.LinkEndpoint = link.Endpoint
	}
	vars := [][2]string{{"AWS_ACCESS_KEY_ID", c.AccessKeyID}, {"AWS_SECRET_ACCESS_KEY", c.SecretAccessKey}, {"AWS_SESSION_TOKEN", c.SessionToken}}
	var bash, fish, pwsh strings.Builder
	for _, v := range vars {
		fmt.Fprintf(&bash, "export %s=%q\n", v[0], v[1])
		fmt.Fprintf(&fish, "set -x %s %q\n", v[0], v[1])
		fmt.Fprintf(&pwsh, "$Env:%s=%q\n", v[0], v[1])
	}
	page.Bash, page.Fish, page.PowerShell = bash.String(), fish.String(), pwsh.String()
	page.CredentialsFile = fmt.Sprintf("[%s_%s]\naws_access_key_id = %s\naws_secret_access_key = %s\naws_session_token = %s\n",
		accountID, roleName, c.AccessKeyID, c.SecretAccessKey, c.SessionToken)
	sess := clientconfig.Session{Name: ssoSessionName, BaseURL: s.BaseURL}
	if s.Instance != nil {
		sess.StartURL, sess.Region = s.Instance.StartURL, s.Instance.Region
	}
	prof := clientconfig.Profiles([]clientconfig.Role{{AccountID: accountID, AccountName: acct.Name, RoleName: roleName}}, sess.Region, nil)[0]
	page.Config = prof.Section(sess) + "\n" + sess.SessionSection() + "\n" + sess.ServicesSection() + "\n" + sess.DefaultSection()
	page.Endpoints, page.TryCommand = linkEndpoints(link, sess, prof.Name)
	s.writePage(w, r, http.StatusOK, page)
	return nil
}

// linkEndpoints returns the endpoint lines (bash) of the access-keys page
// and, for a linked account, the command that tries its ~/.aws/config
// profile. Gatehouse's own credentials work at Gatehouse: every
// AWS_ENDPOINT_URL_* variable names sess.BaseURL. A link's credentials
// work only at its endpoint (store.AccountLink.Endpoint): one
// AWS_ENDPOINT_URL, which every service reads, names it, with the link's
// region; real AWS (no endpoint) needs no line at all, so there are none.
// The profile's `services` still sends sts to Gatehouse, hence
// --endpoint-url in the command: the link's endpoint, or AWS's regional
// STS endpoint (https://sts.<region>.amazonaws.com, "AWS STS regional
// endpoints" in the IAM User Guide).
func linkEndpoints(link *store.AccountLink, sess clientconfig.Session, profile string) (lines, try string) {
	if link == nil {
		for line := range strings.Lines(sess.EnvVars()) {
			lines += "export " + line
		}
		if sess.Region != "" {
			lines += "export AWS_REGION=" + sess.Region + "\n"
		}
		return lines, ""
	}
	region := cmp.Or(link.Region, sess.Region)
	endpoint := link.Endpoint
	if endpoint != "" {
		lines = "export AWS_ENDPOINT_URL=" + endpoint + "\n"
		if region != "" {
			lines += "export AWS_REGION=" + region + "\n"
		}
	} else {
		endpoint = "https://sts." + cmp.Or(region, "us-east-1") + ".amazonaws.com"
	}
	return lines, "aws sts get-caller-identity --profile " + profile + " --endpoint-url " + endpoint
}

// cut shortens what a person typed to 100 characters for a message.
func cut(v string) string {
	if r := []rune(v); len(r) > 100 {
		return string(r[:100]) + "…"
	}
	return v
}

// signedOutPath is where POST /signout lands. It sits under /login so that
// a sign-in page bookmark and the confirmation share a prefix.
const signedOutPath = "/login/signed-out"

// getSignedOut confirms that the session ended.
func (s *Service) getSignedOut(w http.ResponseWriter, r *http.Request) error {
	s.writePage(w, r, http.StatusOK, web.SignedOut{Layout: web.Layout{Title: "Signed out"}})
	return nil
}

// apiPrefixes are the paths of the APIs served beside the pages (sso-oidc,
// the portal API, discovery): an unknown path under them is not a page,
// and keeps the plain 404 it always had.
var apiPrefixes = []string{"/assignment/", "/federation/", "/logout", "/token", "/client/", "/device_authorization", "/.well-known/", "/healthz", "/readyz"}

// notFound is the mux's fallback (pattern "/", so the more specific
// routes, including the AWS APIs at "POST /" and "GET /{$}", win). A path
// some route serves with another method keeps the mux's own 405 with its
// Allow header. A browser asking for an unknown page (GET or HEAD,
// accepting HTML, outside the API paths) gets the styled not-found page;
// everything else gets the plain 404 it got before the fallback existed.
func (s *Service) notFound(mux *http.ServeMux) http.Handler {
	page := s.page(func(w http.ResponseWriter, r *http.Request) error {
		lay := web.Layout{Title: "Page not found"}
		if who, _ := s.signedIn(r); who != nil {
			lay.User = who.UserName
		}
		s.writePage(w, r, http.StatusNotFound, web.NotFound{Layout: lay, Path: web.Visible(cut(r.URL.Path))})
		return nil
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if allow := allowedMethods(mux, r); len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		if (r.Method != http.MethodGet && r.Method != http.MethodHead) || !strings.Contains(r.Header.Get("Accept"), "text/html") || isAPIPath(r.URL.Path) {
			http.NotFound(w, r)
			return
		}
		page.ServeHTTP(w, r)
	})
}

// allowedMethods returns the methods other routes of mux serve r's path
// with, as the mux's 405 would list them; none for an unknown path.
func allowedMethods(mux *http.ServeMux, r *http.Request) []string {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions} {
		if m == r.Method {
			continue
		}
		probe := &http.Request{Method: m, URL: r.URL, Host: r.Host, Header: http.Header{}}
		if _, pattern := mux.Handler(probe); pattern != "" && pattern != "/" {
			allow = append(allow, m)
		}
	}
	return allow
}

func isAPIPath(p string) bool {
	for _, pre := range apiPrefixes {
		if strings.HasPrefix(p, pre) {
			return true
		}
	}
	return false
}
