package portal

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/keyring"
	"github.com/gatehouse-dev/gatehouse/internal/oidc"
	"github.com/gatehouse-dev/gatehouse/internal/signin"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// CookieName is the portal session cookie.
const CookieName = "gatehouse_session"

// signedInOrLogin returns the person signedIn finds; when there is none it
// redirects the browser to sign in and come back to next (loginURL) and
// returns nil, nil. A nil person with a nil error means the response is
// written.
func (s *Service) signedInOrLogin(w http.ResponseWriter, r *http.Request, next string) (*oidc.SignedIn, error) {
	who, err := s.signedIn(r)
	if err != nil || who != nil {
		return who, err
	}
	http.Redirect(w, r, loginURL(next), http.StatusSeeOther)
	return nil, nil
}

// signedIn returns the person the request's session cookie speaks for, or
// nil when there is none or it is unknown, expired or revoked, or its user
// is disabled or gone: all of those are simply "signed out".
func (s *Service) signedIn(r *http.Request) (*oidc.SignedIn, error) {
	c, err := r.Cookie(CookieName)
	if err != nil || c.Value == "" || len(c.Value) > 128 {
		return nil, nil
	}
	ctx := r.Context()
	sess, err := keyring.Find(ctx, s.Keys, c.Value, func(h string) (*store.Session, error) { return s.Store.GetSession(ctx, h) })
	if errors.Is(err, store.ErrNotFound) {
		sess = nil
	} else if err != nil {
		return nil, fmt.Errorf("get portal session: %w", err)
	}
	now := s.now()
	if sess == nil || !sess.RevokedAt.IsZero() || !now.Before(sess.ExpiresAt) {
		return nil, nil
	}
	revoked, err := s.revoked(ctx, sess)
	if err != nil {
		return nil, err
	}
	if revoked {
		return nil, nil
	}
	u, err := s.user(ctx, sess.UserID)
	if err != nil || u == nil || u.Disabled {
		return nil, err
	}
	return &oidc.SignedIn{
		UserID: u.ID, UserName: u.UserName, SessionID: sess.IDHash, MFA: sess.MFA,
		AuthTime: sess.AuthTime, SessionExpiresAt: sess.ExpiresAt,
	}, nil
}

// revoked reports whether the session's user or the session itself has been
// revoked since it began (a disabled or deleted user counts).
func (s *Service) revoked(ctx context.Context, sess *store.Session) (bool, error) {
	if s.Cache == nil {
		return false, nil
	}
	return s.Cache.Revoked(ctx, sess.UserID, "", sess.IDHash, sess.CreatedAt)
}

// user returns the user, or nil if it no longer exists.
func (s *Service) user(ctx context.Context, id string) (*store.User, error) {
	var u *store.User
	var err error
	if s.Cache != nil {
		u, err = s.Cache.User(ctx, id)
	} else {
		u, err = s.Store.GetUser(ctx, id)
	}
	if err != nil {
		if errors.Is(err, store.ErrNotFound) || isNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("get user %q: %w", id, err)
	}
	return u, nil
}

// startSession starts a portal session for u through signin (which
// records it and forgets the user's failed attempts) and sets the session
// cookie and the known-device cookie.
func (s *Service) startSession(w http.ResponseWriter, r *http.Request, a signin.Attempt, v *signin.Verified, state string, stateExpires time.Time) error {
	sess, err := s.SignIn.Start(r.Context(), a, v, state, stateExpires)
	if err != nil {
		return err
	}
	s.setSessionCookies(w, sess)
	return nil
}

// setSessionCookies sets the cookies of a started portal session.
func (s *Service) setSessionCookies(w http.ResponseWriter, sess *signin.Session) {
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: sess.Value, Path: "/", MaxAge: int(sess.Lifetime.Seconds()),
		HttpOnly: true, Secure: s.secure(), SameSite: http.SameSiteLaxMode,
	})
	// The known-device cookie goes to every page, not only /login: /reauth
	// counts its attempts in the device's own bucket too, so a stranger's
	// failures do not stop the user confirming it is them. Before, it was
	// set for /login alone: that one is removed, so only one is sent.
	http.SetCookie(w, &http.Cookie{
		Name: signin.DeviceCookieName, Value: sess.Device, Path: "/", MaxAge: int(s.SignIn.DeviceMaxAge().Seconds()),
		HttpOnly: true, Secure: s.secure(), SameSite: http.SameSiteLaxMode,
	})
	http.SetCookie(w, &http.Cookie{
		Name: signin.DeviceCookieName, Value: "", Path: "/login", MaxAge: -1,
		HttpOnly: true, Secure: s.secure(), SameSite: http.SameSiteLaxMode,
	})
}

// clearCookie removes the session cookie from the browser.
func (s *Service) clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.secure(), SameSite: http.SameSiteLaxMode})
}

// postSignOut ends the portal session and everything issued under it
// (signin.Service.EndSession): the session is marked revoked and a session
// revocation makes the OIDC tokens of device and PKCE approvals it made,
// and the role credentials issued with them, stop working.
func (s *Service) postSignOut(w http.ResponseWriter, r *http.Request) error {
	who, err := s.signedIn(r)
	if err != nil {
		return err
	}
	s.clearCookie(w)
	if who != nil {
		ctx := withIdentity(r.Context(), who.UserID, who.UserName)
		if err := s.SignIn.EndSession(ctx, who.UserID, who.SessionID); err != nil {
			return fmt.Errorf("sign out: %w", err)
		}
	}
	http.Redirect(w, r, signedOutPath, http.StatusSeeOther)
	return nil
}
