package portal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/keyring"
	"github.com/gatehouse-dev/gatehouse/internal/mfa"
	"github.com/gatehouse-dev/gatehouse/internal/store"
	"github.com/gatehouse-dev/gatehouse/internal/web"
)

// Sign-in failure limits: failed passwords and codes are counted per user
// name and per source address in fixed windows kept in the store, so every
// replica shares them. At the limit every attempt is refused, with the same
// page whether or not the user exists.
const (
	rateWindow       = 15 * time.Minute
	userFailureLimit = 5
	ipFailureLimit   = 20
	// stateLifetime bounds how long a sign-in may rest between steps.
	stateLifetime = 10 * time.Minute
	// hiddenUserName stands for a user name that matches no user in audit
	// events, as CloudTrail does, since people sometimes type their password
	// into the user-name field.
	hiddenUserName = "HIDDEN_DUE_TO_SECURITY_REASONS"
)

func userRateKey(userName string) string {
	return "signin-failure:user:" + strings.ToLower(strings.TrimSpace(userName))
}

func ipRateKey(ip string) string { return "signin-failure:ip:" + ip }

// loginState is an in-progress sign-in, sealed into the next step's form.
type loginState struct {
	Step     string `json:"s"`           // web.StepPassword or web.StepMFA
	UserName string `json:"n"`           // as typed
	UserID   string `json:"u,omitempty"` // known once the password matched
	Next     string `json:"x,omitempty"`
	Expires  int64  `json:"e"` // unix seconds
}

var loginStateAD = []byte("gatehouse/portal/login-state/v1")

func (s *Service) sealState(st loginState) (string, error) {
	st.Expires = s.now().Add(stateLifetime).Unix()
	b, err := json.Marshal(st)
	if err != nil {
		return "", err
	}
	return s.Keys.Seal(keyring.PurposeSecrets, b, loginStateAD)
}

// openState opens a sealed sign-in state of the given step; a forged,
// expired or other-step value is refused with the sign-in page.
func (s *Service) openState(sealed, step string) (*loginState, error) {
	b, err := s.Keys.Open(keyring.PurposeSecrets, sealed, loginStateAD)
	if err != nil {
		return nil, errStateInvalid
	}
	var st loginState
	if err := json.Unmarshal(b, &st); err != nil || st.Step != step || s.now().Unix() >= st.Expires {
		return nil, errStateInvalid
	}
	return &st, nil
}

var errStateInvalid = errors.New("sign-in state invalid or expired")

func (s *Service) renderSignIn(w http.ResponseWriter, r *http.Request, status int, p web.SignIn) error {
	p.Title = "Sign in"
	s.writePage(w, r, status, p)
	return nil
}

// getLogin shows the first sign-in step, or goes straight on when already
// signed in.
func (s *Service) getLogin(w http.ResponseWriter, r *http.Request) error {
	next := safeNext(r.URL.Query().Get("next"))
	who, err := s.signedIn(r)
	if err != nil {
		return err
	}
	if who != nil {
		http.Redirect(w, r, orStart(next), http.StatusSeeOther)
		return nil
	}
	return s.renderSignIn(w, r, http.StatusOK, web.SignIn{Step: web.StepUserName, Next: next})
}

func orStart(next string) string {
	if next == "" {
		return "/start"
	}
	return next
}

// postLogin takes the user name and shows the password step. A form that
// also carries the password (a password manager, a script) is checked at
// once.
func (s *Service) postLogin(w http.ResponseWriter, r *http.Request) error {
	userName := strings.TrimSpace(r.PostFormValue("username"))
	next := safeNext(r.PostFormValue("next"))
	if userName == "" || len(userName) > 128 {
		return s.renderSignIn(w, r, http.StatusBadRequest, web.SignIn{Step: web.StepUserName, Next: next, Error: "Enter your user name."})
	}
	if pw := r.PostFormValue("password"); pw != "" {
		return s.checkPassword(w, r, userName, pw, next)
	}
	state, err := s.sealState(loginState{Step: web.StepPassword, UserName: userName, Next: next})
	if err != nil {
		return err
	}
	return s.renderSignIn(w, r, http.StatusOK, web.SignIn{Step: web.StepPassword, UserName: userName, State: state, Next: next})
}

// postPassword checks the password step.
func (s *Service) postPassword(w http.ResponseWriter, r *http.Request) error {
	st, err := s.openState(r.PostFormValue("state"), web.StepPassword)
	if err != nil {
		return s.renderSignIn(w, r, http.StatusBadRequest, web.SignIn{Step: web.StepUserName, Error: "Your sign-in took too long or could not be continued. Start again."})
	}
	return s.checkPassword(w, r, st.UserName, r.PostFormValue("password"), st.Next)
}

// locked reports whether sign-in failures for the user name or the address
// have reached their limit in the current window.
func (s *Service) locked(ctx context.Context, userName, ip string) (bool, error) {
	n, err := s.peekRate(ctx, userRateKey(userName), rateWindow)
	if err != nil {
		return false, fmt.Errorf("sign-in failures of user: %w", err)
	}
	if n >= userFailureLimit {
		return true, nil
	}
	if n, err = s.peekRate(ctx, ipRateKey(ip), rateWindow); err != nil {
		return false, fmt.Errorf("sign-in failures of address: %w", err)
	}
	return n >= ipFailureLimit, nil
}

// failure counts a failed attempt against the user name and the address and
// records it, in one transaction, and reports whether either limit is now
// reached.
func (s *Service) failure(ctx context.Context, ip, userName, event, code, msg string) (bool, error) {
	audited := hiddenUserName
	aud := ctx
	if u, err := s.Store.GetUserByName(ctx, userName); err == nil {
		audited = u.UserName
		aud = withIdentity(ctx, u.ID, u.UserName)
	} else if !errors.Is(err, store.ErrNotFound) {
		return false, fmt.Errorf("get user by name: %w", err)
	} else {
		a := audit.ActorFrom(ctx)
		a.Identity = audit.Identity{Type: "Unknown", UserName: hiddenUserName}
		aud = audit.WithActor(ctx, a)
	}
	var nu, ni int
	err := s.Store.Update(aud, func(tx store.Tx) error {
		var err error
		if nu, err = tx.HitRate(aud, userRateKey(userName), rateWindow, s.now()); err != nil {
			return err
		}
		if ni, err = tx.HitRate(aud, ipRateKey(ip), rateWindow, s.now()); err != nil {
			return err
		}
		return s.Audit.Record(aud, tx, audit.Entry{
			Source: audit.SourceSignIn, Name: event, Type: "AwsServiceEvent",
			Params:    map[string]string{"userName": audited},
			Response:  map[string]string{"result": "Failure"},
			ErrorCode: code, ErrorMsg: msg,
		})
	})
	if err != nil {
		return false, fmt.Errorf("record sign-in failure: %w", err)
	}
	return nu >= userFailureLimit || ni >= ipFailureLimit, nil
}

// checkPassword verifies a user name and password and either completes the
// sign-in or moves on to the TOTP step.
func (s *Service) checkPassword(w http.ResponseWriter, r *http.Request, userName, password, next string) error {
	ctx := r.Context()
	ip := sourceIP(r)
	if locked, err := s.locked(ctx, userName, ip); err != nil {
		return err
	} else if locked {
		if _, err := s.failure(ctx, ip, userName, "CredentialVerification", "TooManyAttempts", "Sign-in paused after repeated failures"); err != nil {
			return err
		}
		return errTooMany(nil)
	}
	u, err := s.Directory.Authenticate(ctx, userName, password)
	if errors.Is(err, directory.ErrBadCredentials) {
		nowLocked, err := s.failure(ctx, ip, userName, "CredentialVerification", "InvalidCredentials", "Incorrect user name or password")
		if err != nil {
			return err
		}
		if nowLocked {
			return errTooMany(nil)
		}
		return s.renderSignIn(w, r, http.StatusUnauthorized, web.SignIn{Step: web.StepUserName, UserName: userName, Next: next, Error: "Incorrect user name or password."})
	} else if err != nil {
		return fmt.Errorf("authenticate: %w", err)
	}
	uctx := withIdentity(ctx, u.ID, u.UserName)
	err = s.Store.Update(uctx, func(tx store.Tx) error {
		return s.Audit.Record(uctx, tx, audit.Entry{
			Source: audit.SourceSignIn, Name: "CredentialVerification", Type: "AwsServiceEvent",
			Params: map[string]string{"userName": u.UserName}, Response: map[string]string{"result": "Success"},
		})
	})
	if err != nil {
		return fmt.Errorf("record credential verification: %w", err)
	}
	hasTOTP, err := s.mfa.HasTOTP(ctx, u.ID)
	if err != nil {
		return err
	}
	if hasTOTP {
		state, err := s.sealState(loginState{Step: web.StepMFA, UserName: userName, UserID: u.ID, Next: next})
		if err != nil {
			return err
		}
		return s.renderSignIn(w, r, http.StatusOK, web.SignIn{Step: web.StepMFA, UserName: u.UserName, State: state, Next: next})
	}
	if err := s.startSession(w, r, u, false, userName); err != nil {
		return err
	}
	http.Redirect(w, r, orStart(next), http.StatusSeeOther)
	return nil
}

// postMFA checks the TOTP step.
func (s *Service) postMFA(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	sealed := r.PostFormValue("state")
	st, err := s.openState(sealed, web.StepMFA)
	if err != nil {
		return s.renderSignIn(w, r, http.StatusBadRequest, web.SignIn{Step: web.StepUserName, Error: "Your sign-in took too long or could not be continued. Start again."})
	}
	ip := sourceIP(r)
	if locked, err := s.locked(ctx, st.UserName, ip); err != nil {
		return err
	} else if locked {
		if _, err := s.failure(ctx, ip, st.UserName, "UserAuthentication", "TooManyAttempts", "Sign-in paused after repeated failures"); err != nil {
			return err
		}
		return errTooMany(nil)
	}
	u, err := s.Store.GetUser(ctx, st.UserID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.Disabled) {
		return s.renderSignIn(w, r, http.StatusUnauthorized, web.SignIn{Step: web.StepUserName, Error: "Incorrect user name or password."})
	} else if err != nil {
		return fmt.Errorf("get user: %w", err)
	}
	err = s.mfa.Verify(ctx, u.ID, r.PostFormValue("code"))
	if errors.Is(err, mfa.ErrInvalidCode) {
		nowLocked, err := s.failure(ctx, ip, st.UserName, "UserAuthentication", "InvalidMFACode", "Incorrect or reused authentication code")
		if err != nil {
			return err
		}
		if nowLocked {
			return errTooMany(nil)
		}
		return s.renderSignIn(w, r, http.StatusUnauthorized, web.SignIn{Step: web.StepMFA, UserName: u.UserName, State: sealed, Next: st.Next,
			Error: "That code is not right, or was already used. Wait for the next code and try again."})
	} else if err != nil {
		return err
	}
	if err := s.startSession(w, r, u, true, st.UserName); err != nil {
		return err
	}
	http.Redirect(w, r, orStart(st.Next), http.StatusSeeOther)
	return nil
}
