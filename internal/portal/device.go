package portal

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/oidc"
	"github.com/gatehouse-dev/gatehouse/internal/store"
	"github.com/gatehouse-dev/gatehouse/internal/web"
)

// The device verification pages (RFC 8628 §3.3): verificationUri is
// /device, verificationUriComplete /device?user_code=XXXX-XXXX. The person
// signs in first, then sees the code and the client's name and is asked
// whether they started this sign-in.

// deviceNext is the page to come back to after signing in.
func deviceNext(userCode string) string {
	if userCode == "" {
		return "/device"
	}
	return "/device?" + url.Values{"user_code": {userCode}}.Encode()
}

// cleanUserCode bounds what a person typed before it reaches a lookup.
func cleanUserCode(raw string) string {
	raw = strings.TrimSpace(raw)
	if len(raw) > 32 {
		return raw[:32]
	}
	return raw
}

// getDevice shows the code form, or the confirmation for ?user_code=.
func (s *Service) getDevice(w http.ResponseWriter, r *http.Request) error {
	userCode := cleanUserCode(r.URL.Query().Get("user_code"))
	who, err := s.signedInOrLogin(w, r, deviceNext(userCode))
	if who == nil {
		return err
	}
	lay := web.Layout{Title: "Authorize a device", User: who.UserName}
	if userCode == "" {
		s.writePage(w, r, http.StatusOK, web.DeviceCode{Layout: lay})
		return nil
	}
	req, err := s.OIDC.LookupUserCode(r.Context(), userCode, sourceIP(r), who.SessionID)
	if errors.Is(err, oidc.ErrUnknownUserCode) {
		s.writePage(w, r, http.StatusNotFound, web.DeviceCode{Layout: lay, UserCode: userCode,
			Error: "That code is not valid. Check the code your device shows and enter it again."})
		return nil
	} else if err != nil {
		return err
	}
	if err := deviceDecidable(req, s.now()); err != nil {
		return err
	}
	lay.Title = "Confirm sign-in"
	s.writePage(w, r, http.StatusOK, web.DeviceConfirm{Layout: lay, UserCode: req.UserCode, ClientName: req.ClientName})
	return nil
}

// deviceDecidable refuses a device authorization that is no longer pending.
func deviceDecidable(req *oidc.DeviceRequest, now time.Time) error {
	if !now.Before(req.ExpiresAt) {
		return errExpired(nil)
	}
	if req.Status != store.DevicePending {
		return errCodeUsed(nil)
	}
	return nil
}

// postDevice approves or denies a device authorization for the signed-in
// person.
func (s *Service) postDevice(w http.ResponseWriter, r *http.Request) error {
	userCode := cleanUserCode(r.PostFormValue("user_code"))
	who, err := s.signedInOrLogin(w, r, deviceNext(userCode))
	if who == nil {
		return err
	}
	if userCode == "" {
		return errInvalidLink(nil)
	}
	action := r.PostFormValue("action")
	if action != "allow" && action != "deny" {
		return &pageError{Status: http.StatusBadRequest, Heading: "Choose Allow or Deny", Message: "Go back and choose whether to allow the sign-in."}
	}
	// One domain call: the lookup under its limit, the pending check and
	// the decision, in one transaction.
	req, err := s.OIDC.DecideDevice(r.Context(), userCode, sourceIP(r), *who, action == "allow")
	if err != nil {
		return err
	}
	title := "Request approved"
	if action != "allow" {
		title = "Request denied"
	}
	s.writePage(w, r, http.StatusOK, web.DeviceDone{Layout: web.Layout{Title: title, User: who.UserName}, Approved: action == "allow", ClientName: req.ClientName})
	return nil
}
