package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
)

// The users command runs the Gatehouse admin API's user lifecycle actions
// against a running server, remotely, with the admin's AWS profile: the
// credentials and endpoint `gatehouse aws-config` set up (an SSO profile
// reads the token the AWS CLI cached at `aws sso login`), signed with
// SigV4 and authorized by the server's policy engine like any admin API
// call. It needs no shell on the server.

const usersUsage = `Usage: gatehouse users <verb> --profile P (--user-name NAME | --user-id ID) [flags]

Runs a user lifecycle action through the Gatehouse admin API of a running
server, signed with the AWS profile P (e.g. one written by
'gatehouse aws-config'; sign in first with 'aws sso login --profile P').
The profile's role must allow the matching gatehouse:<Action> (AdministratorAccess
on the management account does; ReadOnlyAccess allows status only).

Verbs:
  disable         disable the user: sign-ins refused, every session, token and
                  role credential ends at once (gatehouse:DisableUser)
  enable          let a disabled user sign in again (gatehouse:EnableUser)
  end-sessions    end the user's sessions, tokens and role credentials; they
                  may sign in again (gatehouse:EndSessions)
  reset-password  remove the user's password, end their sessions and send a
                  reset link (gatehouse:ResetPassword)
  reset-mfa       delete every MFA device of the user and end their sessions
                  (gatehouse:ResetMFA)
  status          print whether the user is disabled, has a password, their
                  MFA device and active session counts (gatehouse:DescribeUserStatus)

With an external identity source active, reset-password (SAML, OIDC, LDAP) and
reset-mfa (SAML, OIDC) are refused: the identity provider keeps those.

Flags:
  --profile P         AWS profile (default $AWS_PROFILE, else "default")
  --user-name NAME    the user, by user name (looked up with identitystore GetUserId)
  --user-id ID        the user, by identity-store user ID
  --endpoint-url URL  Gatehouse's URL (default: the profile's [services] section
                      or endpoint_url, or AWS_ENDPOINT_URL_GATEHOUSE)
  --region R          signing region (default: the profile's)
`

// userActions maps each verb to its Gatehouse admin API action.
var userActions = map[string]string{
	"disable":        "DisableUser",
	"enable":         "EnableUser",
	"end-sessions":   "EndSessions",
	"reset-password": "ResetPassword",
	"reset-mfa":      "ResetMFA",
	"status":         "DescribeUserStatus",
}

// Wire names of the APIs the users command calls (botocore sso-admin and
// identitystore metadata; the Gatehouse admin API's own).
const (
	gatehouseTarget     = "GatehouseAdmin_20261201"
	gatehouseSigning    = "gatehouse"
	ssoAdminTarget      = "SWBExternalService"
	identityStoreTarget = "AWSIdentityStore"
)

func usersCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usersUsage)
		if len(args) == 0 {
			return errors.New("users: no verb given")
		}
		return flag.ErrHelp
	}
	verb := args[0]
	action, ok := userActions[verb]
	if !ok {
		fmt.Fprint(stderr, usersUsage)
		return fmt.Errorf("users: unknown verb %q", verb)
	}
	fs := flag.NewFlagSet("users "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(fs.Output(), usersUsage) }
	profile := fs.String("profile", "", "AWS profile")
	userName := fs.String("user-name", "", "user name")
	userID := fs.String("user-id", "", "identity-store user ID")
	endpoint := fs.String("endpoint-url", "", "Gatehouse's URL")
	region := fs.String("region", "", "signing region")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("users %s: unexpected arguments %q", verb, fs.Args())
	}
	if (*userName == "") == (*userID == "") {
		return fmt.Errorf("users %s: give exactly one of --user-name and --user-id", verb)
	}
	c, err := newAdminClient(ctx, awsProfile(*profile, getenv), *endpoint, *region)
	if err != nil {
		return err
	}
	storeID, err := c.identityStoreID(ctx)
	if err != nil {
		return err
	}
	id := *userID
	if id == "" {
		if id, err = c.userID(ctx, storeID, *userName); err != nil {
			return err
		}
	}
	var out json.RawMessage
	in := struct{ IdentityStoreId, UserId string }{storeID, id}
	if err := c.call(ctx, gatehouseTarget, gatehouseSigning, action, in, &out); err != nil {
		return err
	}
	who := id
	if *userName != "" {
		who = *userName + " (" + id + ")"
	}
	if verb == "status" {
		var st userStatus
		if err := json.Unmarshal(out, &st); err != nil {
			return fmt.Errorf("users status: unreadable answer: %w", err)
		}
		state := "enabled"
		if st.DisabledByIdentitySource {
			state = "disabled by the identity provider (SCIM active: false)"
		} else if st.Disabled {
			state = "disabled"
		}
		fmt.Fprintf(stdout, "User:            %s (%s)\nState:           %s\nPassword set:    %t\nMFA devices:     %d\nActive sessions: %d\n",
			st.UserName, id, state, st.HasPassword, st.MFADeviceCount, st.ActiveSessionCount)
		return nil
	}
	if verb == "enable" {
		// EnableUser lifts the administrator's disable only; say so when the
		// identity provider keeps the user disabled. Without the right to
		// read the status, the plain message stands.
		var st userStatus
		if c.call(ctx, gatehouseTarget, gatehouseSigning, "DescribeUserStatus", in, &st) == nil && st.Disabled && st.DisabledByIdentitySource {
			fmt.Fprintf(stdout, "%s stays disabled: the identity provider set it inactive over SCIM (active: false), which only the identity provider lifts\n", who)
			return nil
		}
	}
	done := map[string]string{
		"disable": "disabled", "enable": "enabled", "end-sessions": "sessions ended for",
		"reset-password": "password reset for", "reset-mfa": "MFA reset for",
	}[verb]
	fmt.Fprintf(stdout, "%s %s\n", strings.ToUpper(done[:1])+done[1:], who)
	if verb == "reset-password" {
		var r struct{ LinkSentTo string }
		if json.Unmarshal(out, &r) == nil && r.LinkSentTo != "" {
			fmt.Fprintf(stdout, "The reset link (valid 1 hour) went to %s.\n", r.LinkSentTo)
		}
	}
	return nil
}

// userStatus is the part of DescribeUserStatus's answer the users command
// prints.
type userStatus struct {
	UserName                                        string
	Disabled, DisabledByIdentitySource, HasPassword bool
	MFADeviceCount, ActiveSessionCount              int
}

// adminClient signs calls of the awsJson1_1 admin APIs with a profile's
// credentials.
type adminClient struct {
	cfg      aws.Config
	endpoint string
	http     *http.Client
	signer   *v4.Signer
}

// newAdminClient loads profile as the AWS SDK does (environment, shared
// config and credentials files, SSO token cache) and finds Gatehouse's
// URL: endpoint if given, else the profile's services section (the
// gatehouse key, then identitystore's, which `gatehouse aws-config` points
// at Gatehouse), else its endpoint_url or AWS_ENDPOINT_URL.
func newAdminClient(ctx context.Context, profile, endpoint, region string) (*adminClient, error) {
	opts := []func(*config.LoadOptions) error{config.WithSharedConfigProfile(profile)}
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		if _, ok := errors.AsType[config.SharedConfigProfileNotExistError](err); ok {
			return nil, fmt.Errorf("no AWS profile %q in your AWS config file: run 'gatehouse aws-config' or pass --profile", profile)
		}
		return nil, fmt.Errorf("load AWS profile %q: %w", profile, err)
	}
	if cfg.Region == "" {
		return nil, fmt.Errorf("AWS profile %q has no region: add region = <the instance's home region> or pass --region", profile)
	}
	if endpoint == "" {
		endpoint = serviceEndpoint(ctx, cfg, "gatehouse", "identitystore")
	}
	if endpoint == "" {
		return nil, fmt.Errorf("AWS profile %q names no Gatehouse endpoint (no services section or endpoint_url): "+
			"run 'gatehouse aws-config' or pass --endpoint-url", profile)
	}
	return &adminClient{cfg: cfg, endpoint: strings.TrimSuffix(endpoint, "/"), http: &http.Client{Timeout: time.Minute}, signer: v4.NewSigner()}, nil
}

// serviceEndpoint returns the first service-specific endpoint that cfg's
// sources (AWS_ENDPOINT_URL_<SERVICE>, the profile's services section)
// give one of sdkIDs, else cfg.BaseEndpoint (endpoint_url,
// AWS_ENDPOINT_URL), else "".
func serviceEndpoint(ctx context.Context, cfg aws.Config, sdkIDs ...string) string {
	type endpointSource interface {
		GetServiceBaseEndpoint(ctx context.Context, sdkID string) (string, bool, error)
	}
	for _, id := range sdkIDs {
		for _, src := range cfg.ConfigSources {
			if s, ok := src.(endpointSource); ok {
				if v, found, err := s.GetServiceBaseEndpoint(ctx, id); err == nil && found && v != "" {
					return v
				}
			}
		}
	}
	return aws.ToString(cfg.BaseEndpoint)
}

// identityStoreID returns the identity store of the instance (sso-admin
// ListInstances).
func (c *adminClient) identityStoreID(ctx context.Context) (string, error) {
	var out struct {
		Instances []struct{ IdentityStoreId string }
	}
	if err := c.call(ctx, ssoAdminTarget, "sso", "ListInstances", struct{}{}, &out); err != nil {
		return "", err
	}
	if len(out.Instances) == 0 || out.Instances[0].IdentityStoreId == "" {
		return "", errors.New("sso-admin ListInstances named no identity store")
	}
	return out.Instances[0].IdentityStoreId, nil
}

// userID looks a user name up (identitystore GetUserId).
func (c *adminClient) userID(ctx context.Context, storeID, userName string) (string, error) {
	type uniqueAttribute struct{ AttributePath, AttributeValue string }
	type alternateIdentifier struct{ UniqueAttribute uniqueAttribute }
	in := struct {
		IdentityStoreId     string
		AlternateIdentifier alternateIdentifier
	}{storeID, alternateIdentifier{uniqueAttribute{"userName", userName}}}
	var out struct{ UserId string }
	if err := c.call(ctx, identityStoreTarget, "identitystore", "GetUserId", in, &out); err != nil {
		return "", err
	}
	return out.UserId, nil
}

// call POSTs an awsJson1_1 request of target.op signed for signingName and
// decodes the answer into out; an error answer is returned as
// "<Code>: <Message>", as AWS reports it.
func (c *adminClient) call(ctx context.Context, target, signingName, op string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	creds, err := c.cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return fmt.Errorf("credentials of the AWS profile: %w (for an SSO profile, sign in with 'aws sso login')", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint+"/", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target+"."+op)
	sum := sha256.Sum256(body)
	if err := c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), signingName, c.cfg.Region, time.Now()); err != nil {
		return fmt.Errorf("sign %s: %w", op, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%s: read answer: %w", op, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Type     string `json:"__type"`
			Message  string `json:"Message"`
			Message2 string `json:"message"`
		}
		_ = json.Unmarshal(data, &e)
		code := e.Type
		if code == "" {
			code = resp.Header.Get("X-Amzn-ErrorType")
		}
		if i := strings.LastIndexByte(code, '#'); i >= 0 {
			code = code[i+1:]
		}
		code, _, _ = strings.Cut(code, ":")
		msg := e.Message
		if msg == "" {
			msg = e.Message2
		}
		if code == "" {
			code = resp.Status
		}
		return fmt.Errorf("%s failed: %s: %s", op, code, msg)
	}
	if out == nil || len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s: unreadable answer: %w", op, err)
	}
	return nil
}
