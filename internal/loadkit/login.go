package loadkit

import (
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
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
// session, then poll CreateToken every polling interval (1 s) up to 10
// times. user must have no MFA device (the demo users have none).
func DeviceLogin(base string, tr http.RoundTripper, user, password string) (*Tokens, error) {
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Transport: tr, Jar: jar}
	api := &http.Client{Transport: tr}
	postForm := func(path string, form url.Values) (string, error) {
		resp, err := browser.PostForm(base+path, form)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			return "", fmt.Errorf("POST %s: %s", path, resp.Status)
		}
		return string(b), err
	}
	_, reg, err := PostJSON(api, base, "/client/register", map[string]any{"clientName": "gatehouse-load", "clientType": "public",
		"scopes": []string{"sso:account:access"}, "grantTypes": []string{"urn:ietf:params:oauth:grant-type:device_code", "refresh_token"}})
	if err != nil {
		return nil, err
	}
	t := &Tokens{ClientID: fmt.Sprint(reg["clientId"]), ClientSecret: fmt.Sprint(reg["clientSecret"])}
	_, dev, err := PostJSON(api, base, "/device_authorization", map[string]string{"clientId": t.ClientID, "clientSecret": t.ClientSecret, "startUrl": StartURL})
	if err != nil {
		return nil, err
	}
	body, err := postForm("/login", url.Values{"username": {user}})
	if err != nil {
		return nil, err
	}
	m := StateField.FindStringSubmatch(body)
	if m == nil {
		return nil, errors.New("sign-in page without state")
	}
	if _, err := postForm("/login/password", url.Values{"state": {html.UnescapeString(m[1])}, "password": {password}}); err != nil {
		return nil, err
	}
	if _, err := postForm("/device", url.Values{"user_code": {fmt.Sprint(dev["userCode"])}, "action": {"allow"}}); err != nil {
		return nil, err
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
