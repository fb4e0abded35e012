// Package ssoclient is a small client of the sign-in service (sso-oidc) and
// the portal API (sso) that Gatehouse serves, for `gatehouse aws-config` on
// a person's own machine: it discovers an instance, signs in with the OAuth
// device authorization grant as the AWS CLI does, and lists the accounts and
// roles the person may use. It speaks the wire as the AWS SDKs do (restJson1,
// errors named by the x-amzn-ErrorType header) and holds no state.
package ssoclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/clientconfig"
)

// Client calls one Gatehouse instance. Its fields must be set before use.
type Client struct {
	// BaseURL is the instance's URL, without a trailing slash.
	BaseURL string
	// HTTP sends the requests; nil means http.DefaultClient.
	HTTP *http.Client
	// Now is the clock for token expiry times; nil means time.Now.
	Now func() time.Time
}

// Error is an error answer of the service: the code from x-amzn-ErrorType
// (or the body's __type/error member) and its message.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	if e.Code == fmt.Sprintf("HTTP%d", e.Status) {
		// An answer that names no error type: the status is all there is.
		return fmt.Sprintf("HTTP %d: %s", e.Status, msg)
	}
	return fmt.Sprintf("%s (HTTP %d): %s", e.Code, e.Status, msg)
}

// IsCode reports whether err is an *Error with the given code.
func IsCode(err error, code string) bool {
	e, ok := errors.AsType[*Error](err)
	return ok && e.Code == code
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

// maxBody bounds every answer read (1 MiB): the largest, a page of 100
// accounts, is a few kilobytes.
const maxBody = 1 << 20

// do sends a request and decodes a JSON answer into out (nil: discard).
func (c *Client) do(ctx context.Context, method, path string, header http.Header, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, body)
	if err != nil {
		return err
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", "gatehouse-aws-config")
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return decodeError(resp, data)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: answer is not the expected JSON (is %s a Gatehouse URL?): %w", method, path, c.BaseURL, err)
	}
	return nil
}

// decodeError reads an AWS restJson1 error as the SDKs do: the code from
// x-amzn-ErrorType up to any ':', else from the body's __type (after any
// '#'), else the OAuth "error" member.
func decodeError(resp *http.Response, data []byte) error {
	var b struct {
		Type             string `json:"__type"`
		Code             string `json:"code"`
		Message          string `json:"message"`
		MessageUpper     string `json:"Message"`
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	_ = json.Unmarshal(data, &b)
	e := &Error{Status: resp.StatusCode}
	e.Code, _, _ = strings.Cut(resp.Header.Get("X-Amzn-Errortype"), ":")
	if e.Code == "" {
		e.Code = b.Type
		if i := strings.LastIndex(e.Code, "#"); i >= 0 {
			e.Code = e.Code[i+1:]
		}
	}
	if e.Code == "" {
		e.Code = b.Code
	}
	if e.Code == "" {
		e.Code = b.Error
	}
	if e.Code == "" {
		e.Code = fmt.Sprintf("HTTP%d", resp.StatusCode)
	}
	for _, m := range []string{b.Message, b.MessageUpper, b.ErrorDescription} {
		if m != "" {
			e.Message = m
			break
		}
	}
	return e
}

// Discover reads the instance's discovery document
// (clientconfig.DiscoveryPath).
func (c *Client) Discover(ctx context.Context) (clientconfig.Discovery, error) {
	var d clientconfig.Discovery
	if err := c.do(ctx, http.MethodGet, clientconfig.DiscoveryPath, nil, nil, &d); err != nil {
		return d, fmt.Errorf("discover %s: %w", c.BaseURL, err)
	}
	if d.StartURL == "" || d.Region == "" {
		return d, fmt.Errorf("discover %s: the answer names no start URL or region", c.BaseURL)
	}
	return d, nil
}

// Registration is a registered public client (RegisterClient's answer).
type Registration struct {
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
	// ClientSecretExpiresAt is in seconds since the epoch.
	ClientSecretExpiresAt int64 `json:"clientSecretExpiresAt"`
}

// RegisterClient registers a public client for the device grant with the
// scopes the AWS CLI asks for an sso-session ("sso:account:access").
func (c *Client) RegisterClient(ctx context.Context, name string, scopes []string) (Registration, error) {
	in := map[string]any{"clientName": name, "clientType": "public", "scopes": scopes}
	var r Registration
	if err := c.do(ctx, http.MethodPost, "/client/register", nil, in, &r); err != nil {
		return r, fmt.Errorf("register client: %w", err)
	}
	return r, nil
}

// DeviceAuthorization is StartDeviceAuthorization's answer.
type DeviceAuthorization struct {
	DeviceCode              string `json:"deviceCode"`
	UserCode                string `json:"userCode"`
	VerificationURI         string `json:"verificationUri"`
	VerificationURIComplete string `json:"verificationUriComplete"`
	ExpiresIn               int32  `json:"expiresIn"` // seconds
	Interval                int32  `json:"interval"`  // seconds
}

// StartDeviceAuthorization starts the device grant for startURL.
func (c *Client) StartDeviceAuthorization(ctx context.Context, reg Registration, startURL string) (DeviceAuthorization, error) {
	in := map[string]string{"clientId": reg.ClientID, "clientSecret": reg.ClientSecret, "startUrl": startURL}
	var d DeviceAuthorization
	if err := c.do(ctx, http.MethodPost, "/device_authorization", nil, in, &d); err != nil {
		return d, fmt.Errorf("start device authorization: %w", err)
	}
	return d, nil
}

// Token is an access token with what the CLI caches beside it.
type Token struct {
	AccessToken  string
	RefreshToken string
	ExpiresAt    time.Time
}

// PollToken redeems the device code, polling every Interval seconds while
// the person has not yet approved (AuthorizationPendingException) and 5 s
// more after each SlowDownException (RFC 8628 §3.5), until a token, another
// error, the code's expiry (ExpiredTokenException) or ctx's end.
func (c *Client) PollToken(ctx context.Context, reg Registration, d DeviceAuthorization) (Token, error) {
	interval := time.Duration(d.Interval) * time.Second
	if interval <= 0 {
		interval = 5 * time.Second
	}
	in := map[string]string{
		"clientId": reg.ClientID, "clientSecret": reg.ClientSecret,
		"grantType": "urn:ietf:params:oauth:grant-type:device_code", "deviceCode": d.DeviceCode,
	}
	for {
		tok, err := c.createToken(ctx, in)
		switch {
		case err == nil:
			return tok, nil
		case IsCode(err, "AuthorizationPendingException"):
		case IsCode(err, "SlowDownException"):
			interval += 5 * time.Second
		default:
			return Token{}, err
		}
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return Token{}, ctx.Err()
		case <-t.C:
		}
	}
}

// Refresh redeems a refresh token for a new access token.
func (c *Client) Refresh(ctx context.Context, clientID, clientSecret, refreshToken string) (Token, error) {
	return c.createToken(ctx, map[string]string{
		"clientId": clientID, "clientSecret": clientSecret,
		"grantType": "refresh_token", "refreshToken": refreshToken,
	})
}

func (c *Client) createToken(ctx context.Context, in map[string]string) (Token, error) {
	var out struct {
		AccessToken  string `json:"accessToken"`
		ExpiresIn    int32  `json:"expiresIn"` // seconds
		RefreshToken string `json:"refreshToken"`
	}
	if err := c.do(ctx, http.MethodPost, "/token", nil, in, &out); err != nil {
		return Token{}, fmt.Errorf("create token: %w", err)
	}
	return Token{
		AccessToken:  out.AccessToken,
		RefreshToken: out.RefreshToken,
		ExpiresAt:    c.now().Add(time.Duration(out.ExpiresIn) * time.Second).UTC().Truncate(time.Second),
	}, nil
}

// Account is one entry of ListAccounts.
type Account struct {
	AccountID    string `json:"accountId"`
	AccountName  string `json:"accountName"`
	EmailAddress string `json:"emailAddress"`
	// EndpointURL is the IAM/STS endpoint of an account linked to one
	// other than AWS (Gatehouse's gatehouseEndpointUrl): its credentials
	// work only there. Empty otherwise.
	EndpointURL string `json:"gatehouseEndpointUrl"`
}

// Role is one entry of ListAccountRoles.
type Role struct {
	AccountID string `json:"accountId"`
	RoleName  string `json:"roleName"`
}

// ListAccounts returns every account the token's user may use, following
// nextToken across pages.
func (c *Client) ListAccounts(ctx context.Context, accessToken string) ([]Account, error) {
	var all []Account
	err := c.pages(ctx, accessToken, "/assignment/accounts", url.Values{}, func(data json.RawMessage) error {
		var page struct {
			AccountList []Account `json:"accountList"`
		}
		err := json.Unmarshal(data, &page)
		all = append(all, page.AccountList...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	return all, nil
}

// ListAccountRoles returns the roles the token's user may use in account.
func (c *Client) ListAccountRoles(ctx context.Context, accessToken, accountID string) ([]Role, error) {
	var all []Role
	err := c.pages(ctx, accessToken, "/assignment/roles", url.Values{"account_id": {accountID}}, func(data json.RawMessage) error {
		var page struct {
			RoleList []Role `json:"roleList"`
		}
		err := json.Unmarshal(data, &page)
		all = append(all, page.RoleList...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list roles of account %s: %w", accountID, err)
	}
	return all, nil
}

// maxPages bounds a listing, so a server that keeps answering a nextToken
// cannot loop the client forever (100 pages of 100 entries).
const maxPages = 100

func (c *Client) pages(ctx context.Context, accessToken, path string, q url.Values, page func(json.RawMessage) error) error {
	h := http.Header{"X-Amz-Sso_bearer_token": {accessToken}}
	q.Set("max_result", "100")
	for range maxPages {
		var raw json.RawMessage
		if err := c.do(ctx, http.MethodGet, path+"?"+q.Encode(), h, nil, &raw); err != nil {
			return err
		}
		if err := page(raw); err != nil {
			return err
		}
		var next struct {
			NextToken string `json:"nextToken"`
		}
		_ = json.Unmarshal(raw, &next)
		if next.NextToken == "" {
			return nil
		}
		q.Set("next_token", next.NextToken)
	}
	return fmt.Errorf("more than %d pages", maxPages)
}
