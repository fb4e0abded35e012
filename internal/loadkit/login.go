package loadkit

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"time"
)

// Tokens are what a device login leaves a client with: its registration
// (RegisterClient) and the CreateToken answer.
type Tokens struct {
	ClientID, ClientSecret    string
	AccessToken, RefreshToken string
}

// StateField finds the sign-in form's hidden state field.
var StateField = regexp.MustCompile(`name="state" value="([^"]*)"`)

// DeviceLogin signs user in the way `aws sso login --use-device-code` does:
// register a client (with the sso:account:access scope and the refresh_token
// grant, as AWS CLI 2.22+ does, so the answer carries a refresh token), start a device authorization,
// sign in at the portal with password and allow the code in a browser
// session (trying again after Retry-After while the server answers 503),
// then poll CreateToken every polling interval (1 s) up to 10
// times. user must have no MFA device (the demo users have none).
func DeviceLogin(base string, tr http.RoundTripper, user, password string) (*Tokens, error) {
	id, secret, err := RegisterClient(base, tr)
	if err != nil {
		return nil, err
	}
	return DeviceLoginClient(base, tr, id, secret, user, password)
}

// RegisterClient registers a public client the way AWS CLI 2.22+ does
// (RegisterClient with the sso:account:access scope and the device-code and
// refresh_token grants) and returns its ID and secret. A server allows 20
// registrations per second per source address.
func RegisterClient(base string, tr http.RoundTripper) (clientID, clientSecret string, err error) {
	code, reg, err := PostJSON(&http.Client{Transport: tr}, base, "/client/register", map[string]any{"clientName": "gatehouse-load", "clientType": "public",
		"scopes": []string{"sso:account:access"}, "grantTypes": []string{"urn:ietf:params:oauth:grant-type:device_code", "refresh_token"}})
	if err != nil {
		return "", "", err
	}
	if code != 200 {
		return "", "", fmt.Errorf("RegisterClient: status %d: %v", code, reg)
	}
	return fmt.Sprint(reg["clientId"]), fmt.Sprint(reg["clientSecret"]), nil
}

// signInRetries is how many times a device login's browser steps are
// tried again after a 503 (the server's sign-in gate full): a load tool
// setting up its tokens waits for the server rather than fail.
const signInRetries = 30

// DeviceLoginClient is DeviceLogin with a client registered before
// (RegisterClient), so that many logins can share one registration: each
// yields its own access token and its own refresh-token chain.
func DeviceLoginClient(base string, tr http.RoundTripper, clientID, clientSecret, user, password string) (*Tokens, error) {
	browser := NewBrowser(tr)
	api := &http.Client{Transport: tr}
	t := &Tokens{ClientID: clientID, ClientSecret: clientSecret}
	code, dev, err := PostJSON(api, base, "/device_authorization", map[string]string{"clientId": t.ClientID, "clientSecret": t.ClientSecret, "startUrl": StartURL})
	if err != nil {
		return nil, err
	}
	if code != 200 {
		return nil, fmt.Errorf("StartDeviceAuthorization: status %d: %v", code, dev)
	}
	if err := SignIn(browser, base, user, password, SignInOptions{Retries503: signInRetries}); err != nil {
		return nil, err
	}
	code, body, err := postForm(browser, base, "/device", url.Values{"user_code": {fmt.Sprint(dev["userCode"])}, "action": {"allow"}}, signInRetries)
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("POST /device: %d: %s", code, Clip(body, 300))
	}
	for range 10 {
		time.Sleep(time.Second) // the device grant's polling interval
		code, tok, err := PostJSON(api, base, "/token", map[string]string{"clientId": t.ClientID, "clientSecret": t.ClientSecret,
			"grantType": "urn:ietf:params:oauth:grant-type:device_code", "deviceCode": fmt.Sprint(dev["deviceCode"])})
		if err != nil {
			return nil, err
		}
		if code == 200 {
			t.AccessToken = fmt.Sprint(tok["accessToken"])
			if rt, ok := tok["refreshToken"].(string); ok {
				t.RefreshToken = rt
			}
			return t, nil
		}
	}
	return nil, errors.New("CreateToken did not answer with a token")
}

// ForwardedFor wraps tr (nil: http.DefaultTransport) so that every request
// carries X-Forwarded-For: addr. A child started by Start trusts it from
// 127.0.0.1, so load workers can count as distinct source addresses against
// the per-address limits (RegisterClient, StartDeviceAuthorization, sign-in).
func ForwardedFor(tr http.RoundTripper, addr string) http.RoundTripper {
	if tr == nil {
		tr = http.DefaultTransport
	}
	return forwardedFor{tr, addr}
}

type forwardedFor struct {
	next http.RoundTripper
	addr string
}

func (f forwardedFor) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", f.addr)
	return f.next.RoundTrip(r)
}
