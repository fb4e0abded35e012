package portal

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"

	"github.com/gatehouse-dev/gatehouse/internal/keyring"
	"github.com/gatehouse-dev/gatehouse/internal/oidc"
	"github.com/gatehouse-dev/gatehouse/internal/web"
)

// The browser side of the PKCE authorization-code flow (spec/aws-wire.md
// §3.4): GET /authorize validates the request, sends a signed-out person
// through sign-in and back, and shows the consent page; POST /authorize
// takes the answer and redirects to the client's loopback listener.

// consentRequest is the authorization request carried by the consent form,
// sealed and bound to the portal session that saw it.
type consentRequest struct {
	Query   string `json:"q"` // the original /authorize query
	Session string `json:"s"` // portal session ID hash
	Expires int64  `json:"e"`
}

var consentAD = []byte("gatehouse/portal/consent/v1")

// getAuthorize handles GET /authorize.
func (s *Service) getAuthorize(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	req, err := s.OIDC.ParseAuthorize(r.Context(), q)
	if re, ok := errors.AsType[*oidc.RedirectError](err); ok {
		http.Redirect(w, r, re.RedirectURL(), http.StatusFound)
		return nil
	} else if err != nil {
		// Unknown client or untrusted redirect URI: never redirect.
		return errInvalidLink(err)
	}
	who, err := s.signedInOrLogin(w, r, "/authorize?"+q.Encode())
	if who == nil {
		return err
	}
	b, err := json.Marshal(consentRequest{Query: q.Encode(), Session: who.SessionID, Expires: s.now().Add(stateLifetime).Unix()})
	if err != nil {
		return err
	}
	sealed, err := s.Keys.Seal(keyring.PurposeSecrets, b, consentAD)
	if err != nil {
		return err
	}
	host := req.RedirectURI
	if u, err := url.Parse(req.RedirectURI); err == nil {
		host = u.Host
		// The Allow and Deny answers redirect there, and browsers check
		// that redirect against form-action. 127.0.0.1 and localhost are
		// in the default policy; another loopback form ([::1]) is added.
		if h := u.Hostname(); h != "127.0.0.1" && h != "localhost" {
			w.Header().Set("Content-Security-Policy", contentSecurityPolicy+" "+u.Scheme+"://"+u.Host)
		}
	}
	s.writePage(w, r, http.StatusOK, web.Consent{
		Layout:     web.Layout{Title: "Allow access", User: who.UserName},
		ClientName: req.ClientName, Scopes: req.Scopes, RedirectHost: host, Request: sealed,
	})
	return nil
}

// postAuthorize handles the consent form: Allow issues a code, Deny sends
// access_denied; both redirect (302) to the client's redirect URI.
func (s *Service) postAuthorize(w http.ResponseWriter, r *http.Request) error {
	who, err := s.signedIn(r)
	if err != nil {
		return err
	}
	if who == nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return nil
	}
	b, err := s.Keys.Open(keyring.PurposeSecrets, r.PostFormValue("request"), consentAD)
	if err != nil {
		return errInvalidLink(err)
	}
	var cr consentRequest
	if err := json.Unmarshal(b, &cr); err != nil || cr.Session != who.SessionID {
		return errInvalidLink(err)
	}
	if s.now().Unix() >= cr.Expires {
		return &pageError{Status: http.StatusGone, Heading: "This request has expired",
			Message: "You took too long to answer. Start the sign-in again from your application."}
	}
	q, err := url.ParseQuery(cr.Query)
	if err != nil {
		return errInvalidLink(err)
	}
	req, err := s.OIDC.ParseAuthorize(r.Context(), q)
	if re, ok := errors.AsType[*oidc.RedirectError](err); ok {
		http.Redirect(w, r, re.RedirectURL(), http.StatusFound)
		return nil
	} else if err != nil {
		return errInvalidLink(err)
	}
	switch r.PostFormValue("action") {
	case "allow":
		ctx := withIdentity(r.Context(), who.UserID, who.UserName)
		to, err := s.OIDC.IssueCode(ctx, req, *who)
		if err != nil {
			return err
		}
		http.Redirect(w, r, to, http.StatusFound)
	case "deny":
		http.Redirect(w, r, s.OIDC.DenyURL(req), http.StatusFound)
	default:
		return &pageError{Status: http.StatusBadRequest, Heading: "Choose Allow or Deny", Message: "Go back and choose whether to allow the application."}
	}
	return nil
}
