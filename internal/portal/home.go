package portal

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"

	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/keyring"
	"github.com/gatehouse-dev/gatehouse/internal/mfa"
	"github.com/gatehouse-dev/gatehouse/internal/store"
	"github.com/gatehouse-dev/gatehouse/internal/web"
)

func isNotFound(err error) bool { return fault.KindOf(err) == fault.NotFound }

// accountRoles is one account the user may use and the names of the
// permission sets they have there, sorted by name, with the account's link
// to AWS or an IAM/STS endpoint (nil for a Gatehouse account).
type accountRoles struct {
	Account *store.Account
	Roles   []string
	Link    *store.AccountLink
}

// entitledAccounts resolves the user's accounts, roles and links through
// the cache, ordered by account ID. Accounts or permission sets that vanished
// since the assignment was read are left out.
func (s *Service) entitledAccounts(ctx context.Context, userID string) ([]accountRoles, error) {
	ents, err := s.Cache.Entitlements(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("entitlements: %w", err)
	}
	var out []accountRoles
	for _, e := range ents {
		if len(out) == 0 || out[len(out)-1].Account.ID != e.AccountID {
			a, err := s.Cache.Account(ctx, e.AccountID)
			if isNotFound(err) {
				continue
			} else if err != nil {
				return nil, fmt.Errorf("account %s: %w", e.AccountID, err)
			}
			out = append(out, accountRoles{Account: a})
		}
		ps, err := s.Cache.PermissionSet(ctx, e.PermissionSetID)
		if isNotFound(err) {
			continue
		} else if err != nil {
			return nil, fmt.Errorf("permission set %s: %w", e.PermissionSetID, err)
		}
		last := &out[len(out)-1]
		last.Roles = append(last.Roles, ps.Name)
	}
	out = slices.DeleteFunc(out, func(a accountRoles) bool { return len(a.Roles) == 0 })
	slices.SortFunc(out, func(a, b accountRoles) int { return cmp.Compare(a.Account.ID, b.Account.ID) })
	for i := range out {
		slices.Sort(out[i].Roles)
		out[i].Roles = slices.Compact(out[i].Roles)
		l, err := s.Cache.Link(ctx, out[i].Account.ID)
		if err != nil {
			return nil, fmt.Errorf("link of account %s: %w", out[i].Account.ID, err)
		}
		out[i].Link = l
	}
	return out, nil
}

// maxQuery bounds the account search, in characters.
const maxQuery = 128

// matchAccount reports whether the account search q (already trimmed)
// finds a: q is a case-insensitive substring of its name, ID or email; an
// empty q finds every account. The page's script filters as one types by
// the same rule.
func matchAccount(a *store.Account, q string) bool {
	if q == "" {
		return true
	}
	q = strings.ToLower(q)
	for _, f := range []string{a.Name, a.ID, a.Email} {
		if strings.Contains(strings.ToLower(f), q) {
			return true
		}
	}
	return false
}

// getStart is the portal home: the user's accounts and roles, narrowed by
// the search ?q= when given.
func (s *Service) getStart(w http.ResponseWriter, r *http.Request) error {
	who, err := s.signedIn(r)
	if err != nil {
		return err
	}
	if who == nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return nil
	}
	accts, err := s.entitledAccounts(r.Context(), who.UserID)
	if err != nil {
		return err
	}
	has, err := s.MFA.HasTOTP(r.Context(), who.UserID)
	if err != nil {
		return err
	}
	p := web.Home{Layout: web.Layout{Title: "AWS access portal", User: who.UserName}, PortalURL: s.BaseURL + "/start", HasAuthenticator: has}
	// With SAML or OIDC the identity provider keeps the authenticators
	// (/mfa is refused, as mfaHere says): offer none.
	if c, err := s.Sources.Credentials(r.Context()); err != nil {
		return err
	} else if !c.MFA {
		p.MFAManagedBy = keeper(c.Kind)
	}
	if s.Instance != nil {
		p.StartURL = s.Instance.StartURL
	}
	if s.MayUseConsole != nil {
		if p.Console, err = s.MayUseConsole(r); err != nil {
			return err
		}
	}
	p.Query = strings.TrimSpace(r.URL.Query().Get("q"))
	if len([]rune(p.Query)) > maxQuery {
		p.Query = string([]rune(p.Query)[:maxQuery])
	}
	p.Total = len(accts)
	for _, a := range accts {
		if !matchAccount(a.Account, p.Query) {
			continue
		}
		acct := web.Account{ID: a.Account.ID, Name: a.Account.Name, Email: a.Account.Email, Roles: a.Roles}
		if a.Link != nil {
			acct.Via = cmp.Or(a.Link.Endpoint, "AWS")
		}
		p.Accounts = append(p.Accounts, acct)
	}
	s.writePage(w, r, http.StatusOK, p)
	return nil
}

// pendingEnrolment is a new TOTP seed waiting for its first code, sealed
// into the enrolment form and bound to the portal session.
type pendingEnrolment struct {
	Seed    []byte `json:"k"`
	Session string `json:"s"`
	Expires int64  `json:"e"`
}

var enrolmentAD = []byte("gatehouse/portal/mfa-enrolment/v1")

func (s *Service) mfaPage(w http.ResponseWriter, r *http.Request, status int, userName, sessionID string, seed []byte, msg string) error {
	b, err := json.Marshal(pendingEnrolment{Seed: seed, Session: sessionID, Expires: s.now().Add(stateLifetime).Unix()})
	if err != nil {
		return err
	}
	sealed, err := s.Keys.Seal(keyring.PurposeSecrets, b, enrolmentAD)
	if err != nil {
		return err
	}
	e := s.MFA.Enrolment(userName, seed)
	s.writePage(w, r, status, web.MFAEnrol{
		Layout: web.Layout{Title: "Authenticator app", User: userName},
		// The URI is built by package mfa from base32 and escaped parts.
		URI:    template.URL(e.URI),
		Secret: e.Secret, Enrolment: sealed, Error: msg,
		// A data: URI made by package mfa from PNG bytes.
		QR: template.URL(e.QR), Key: e.Key,
	})
	return nil
}

// getMFA starts registering an authenticator app.
func (s *Service) getMFA(w http.ResponseWriter, r *http.Request) error {
	who, err := s.signedInOrLogin(w, r, "/mfa")
	if who == nil {
		return err
	}
	// Adding a device needs a fresh sign-in: the password, and a code of
	// the device the user has, within signin.FreshAuth.
	if ok, err := s.fresh(r, who, 0); err != nil {
		return err
	} else if !ok {
		http.Redirect(w, r, reauthURL("/mfa"), http.StatusSeeOther)
		return nil
	}
	if full, err := s.totpFull(r, who.UserID); err != nil || full {
		if err == nil {
			s.writePage(w, r, http.StatusOK, web.MFAEnrol{Layout: web.Layout{Title: "Authenticator app", User: who.UserName}, Enrolled: true})
		}
		return err
	}
	e, err := s.MFA.NewEnrolment(who.UserName)
	if err != nil {
		return err
	}
	return s.mfaPage(w, r, http.StatusOK, who.UserName, who.SessionID, e.Seed, "")
}

// postMFAEnrol confirms a new authenticator with its first code.
func (s *Service) postMFAEnrol(w http.ResponseWriter, r *http.Request) error {
	who, err := s.signedInOrLogin(w, r, "/mfa")
	if who == nil {
		return err
	}
	b, err := s.Keys.Open(keyring.PurposeSecrets, r.PostFormValue("enrolment"), enrolmentAD)
	if err != nil {
		return errInvalidLink(err)
	}
	var pe pendingEnrolment
	if err := json.Unmarshal(b, &pe); err != nil || pe.Session != who.SessionID || len(pe.Seed) != mfa.SeedSize {
		return errInvalidLink(err)
	}
	if s.now().Unix() >= pe.Expires {
		return &pageError{Status: http.StatusGone, Heading: "This page has expired", Message: "Open the authenticator page again to get a new key."}
	}
	// The page may take a while to fill in: the sign-in must have been
	// fresh when it was shown (its lifetime later at most).
	if ok, err := s.fresh(r, who, stateLifetime); err != nil {
		return err
	} else if !ok {
		http.Redirect(w, r, reauthURL("/mfa"), http.StatusSeeOther)
		return nil
	}
	ctx := withIdentity(r.Context(), who.UserID, who.UserName)
	_, err = s.MFA.Confirm(ctx, who.UserID, "", pe.Seed, r.PostFormValue("code"))
	if errors.Is(err, mfa.ErrTooManyDevices) {
		s.writePage(w, r, http.StatusOK, web.MFAEnrol{Layout: web.Layout{Title: "Authenticator app", User: who.UserName}, Enrolled: true})
		return nil
	}
	if errors.Is(err, mfa.ErrInvalidCode) {
		return s.mfaPage(w, r, http.StatusBadRequest, who.UserName, who.SessionID, pe.Seed, "That code is not right. Check the app's clock and enter the code it shows now.")
	} else if err != nil {
		return err
	}
	s.writePage(w, r, http.StatusOK, web.MFAEnrol{Layout: web.Layout{Title: "Authenticator app", User: who.UserName}, Enrolled: true})
	return nil
}

// totpFull reports whether the user has the most authenticator apps
// allowed.
func (s *Service) totpFull(r *http.Request, userID string) (bool, error) {
	ds, err := s.MFA.Devices(r.Context(), userID)
	if err != nil {
		return false, err
	}
	n := 0
	for _, d := range ds {
		if d.Type == mfa.TypeTOTP {
			n++
		}
	}
	return n >= mfa.MaxTOTPDevices, nil
}
