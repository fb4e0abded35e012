package awsaccounts

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	smithy "github.com/aws/smithy-go"
	smithyauth "github.com/aws/smithy-go/auth"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/gatehouse-dev/gatehouse/internal/awsaccounts/samlidp"
	"github.com/gatehouse-dev/gatehouse/internal/awsproto"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// RoleARN is the ARN of the provisioned role roleName in accountID, path
// included: arn:aws:iam::<account>:role/aws-reserved/sso.amazonaws.com/<name>.
func RoleARN(accountID, roleName string) string {
	return "arn:aws:iam::" + accountID + ":role" + RolePath + roleName
}

// CredentialsRequest asks for a person's role credentials in a linked
// account.
type CredentialsRequest struct {
	User *store.User
	// RoleName is the provisioned role (store.ProvisionedRole.RoleName).
	RoleName string
	// SessionDuration is the permission set's session duration.
	SessionDuration time.Duration
	// AuthTime is when the person signed in.
	AuthTime time.Time
}

// RoleCredentials are the temporary credentials STS answered with.
type RoleCredentials struct {
	AccessKeyID, SecretAccessKey, SessionToken string
	Expiration                                 time.Time
	// AssumedRoleARN is the session's ARN as STS reports it
	// (arn:aws:sts::<acct>:assumed-role/<role>/<session>).
	AssumedRoleARN string
}

// Federation gets role credentials in linked accounts as IAM Identity
// Center does: a SAML assertion from Gatehouse's IdP for the provisioned
// role, exchanged by sts:AssumeRoleWithSAML in the account. Set its
// fields, then use it from any number of goroutines.
type Federation struct {
	Accounts *Service
	IdP      *samlidp.IdP
	// Timeout bounds one credential request's calls to the account (the
	// link role's AssumeRole and AssumeRoleWithSAML), so that a hanging
	// endpoint cannot hold a portal request; 0 means DefaultTimeout.
	Timeout time.Duration

	mu      sync.Mutex
	clients map[string]*cachedClients // by account ID
}

type cachedClients struct {
	updated time.Time
	c       *Clients
}

// clientsFor returns l's clients, kept while the link is unchanged so
// that the SDK's cache of the link role's session is reused.
func (f *Federation) clientsFor(ctx context.Context, l *store.AccountLink) (*Clients, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if cc, ok := f.clients[l.AccountID]; ok && cc.updated.Equal(l.UpdatedAt) {
		return cc.c, nil
	}
	c, err := f.Accounts.Clients(ctx, l)
	if err != nil {
		return nil, err
	}
	if f.clients == nil {
		f.clients = make(map[string]*cachedClients)
	}
	f.clients[l.AccountID] = &cachedClients{updated: l.UpdatedAt, c: c}
	return c, nil
}

// signedSAML makes AssumeRoleWithSAML signed with SigV4: the SDK sends it
// anonymously, which AWS accepts, but an IAM/STS stand-in (moto) files an
// unsigned session under its default account instead of the linked one.
// AWS accepts the signed call too (STS API Reference, AssumeRoleWithSAML:
// "you can call it without credentials").
type signedSAML struct{}

func (signedSAML) ResolveAuthSchemes(_ context.Context, p *sts.AuthResolverParameters) ([]*smithyauth.Option, error) {
	var props smithy.Properties
	smithyhttp.SetSigV4SigningName(&props, "sts")
	smithyhttp.SetSigV4SigningRegion(&props, p.Region)
	return []*smithyauth.Option{{SchemeID: smithyauth.SchemeIDSigV4, SignerProperties: props}}, nil
}

// Credentials gets r's role credentials in l's account: a fresh assertion
// naming the role RoleARN(l.AccountID, r.RoleName) and l.SAMLProviderARN,
// with the user name as RoleSessionName and SourceIdentity, the session
// duration, and PrincipalTag:Email / PrincipalTag:UserId /
// PrincipalTag:UserName for attribute-based access control; then
// AssumeRoleWithSAML with the same duration, signed with the link's
// credentials.
//
// Refusals are *awsproto.Error in the portal API's shapes, never internal
// errors: a link that is not active, has no SAML provider or whose
// endpoint is off Service.Endpoints (all ServiceUnavailableException,
// 503, asking for an administrator; no assertion is made), and AWS's
// AccessDenied, IDPRejectedClaim, InvalidIdentityToken, ExpiredToken,
// MalformedPolicyDocument, PackedPolicyTooLarge or RegionDisabled, are
// ForbiddenException (403) naming the account and AWS's message;
// throttling is TooManyRequestsException (429); an endpoint that cannot be
// reached or answers 5xx, or answers credentials holding characters AWS's
// never do (wellFormedCredentials), is ServiceUnavailableException (503).
func (f *Federation) Credentials(ctx context.Context, l *store.AccountLink, r CredentialsRequest) (*RoleCredentials, error) {
	if l.Status != store.LinkActive {
		msg := fmt.Sprintf("No access: account %s is linked to AWS but its link is %s", l.AccountID, l.Status)
		if l.StatusReason != "" {
			msg += " (" + l.StatusReason + ")"
		}
		return nil, &awsproto.Error{Code: "ServiceUnavailableException", Status: http.StatusServiceUnavailable,
			Message: msg + "; an administrator must repair the link"}
	}
	if l.SAMLProviderARN == "" {
		return nil, &awsproto.Error{Code: "ServiceUnavailableException", Status: http.StatusServiceUnavailable,
			Message: fmt.Sprintf("No access: Gatehouse is not yet registered as a SAML provider in account %s; an administrator must refresh the link", l.AccountID)}
	}
	if f.Accounts.endpointRefusal(l.AccountID, l.Endpoint) != "" {
		// No assertion is made for an endpoint off the list: it is as
		// good as a credential at real AWS for five minutes. The caller
		// is a user, who can neither link nor list: say whom to ask.
		return nil, &awsproto.Error{Code: "ServiceUnavailableException", Status: http.StatusServiceUnavailable,
			Message: fmt.Sprintf("No access: account %s is linked to the AWS endpoint %s, which is not on the operator's list "+
				"of endpoints Gatehouse may call, %s; an administrator must have the operator list it, or link the account again",
				l.AccountID, l.Endpoint, EndpointSetting)}
	}
	role := RoleARN(l.AccountID, r.RoleName)
	var tags []samlidp.Tag
	if e := store.PrimaryEmail(r.User.Emails); e != "" {
		tags = append(tags, samlidp.Tag{Key: "Email", Value: e})
	}
	tags = append(tags, samlidp.Tag{Key: "UserId", Value: r.User.ID}, samlidp.Tag{Key: "UserName", Value: r.User.UserName})
	assertion, err := f.IdP.EncodedResponse(ctx, samlidp.Request{
		RoleARN: role, ProviderARN: l.SAMLProviderARN, UserName: r.User.UserName,
		SessionDuration: r.SessionDuration, AuthTime: r.AuthTime, Tags: tags,
	})
	if err != nil {
		return nil, fmt.Errorf("SAML assertion for %s: %w", role, err)
	}
	ctx, cancel := context.WithTimeout(ctx, cmp.Or(f.Timeout, DefaultTimeout))
	defer cancel()
	c, err := f.clientsFor(ctx, l)
	if err != nil {
		return nil, err
	}
	in := &sts.AssumeRoleWithSAMLInput{RoleArn: aws.String(role), PrincipalArn: aws.String(l.SAMLProviderARN), SAMLAssertion: aws.String(assertion)}
	if d := int32(r.SessionDuration / time.Second); d > 0 {
		in.DurationSeconds = aws.Int32(d)
	}
	out, err := c.STS.AssumeRoleWithSAML(ctx, in, func(o *sts.Options) {
		o.AuthSchemeResolver = signedSAML{}
		// A portal request waits for this call: one retry, not three.
		o.RetryMaxAttempts = 2
	})
	if err != nil {
		return nil, stsError(l.AccountID, role, err)
	}
	if out.Credentials == nil {
		return nil, &awsproto.Error{Code: "ServiceUnavailableException", Status: http.StatusServiceUnavailable,
			Message: fmt.Sprintf("AWS account %s answered AssumeRoleWithSAML without credentials", l.AccountID)}
	}
	rc := &RoleCredentials{
		AccessKeyID: aws.ToString(out.Credentials.AccessKeyId), SecretAccessKey: aws.ToString(out.Credentials.SecretAccessKey),
		SessionToken: aws.ToString(out.Credentials.SessionToken), Expiration: aws.ToTime(out.Credentials.Expiration),
	}
	if !wellFormedCredentials(rc) {
		// They are pasted into shells and ~/.aws/credentials (the portal's
		// access-keys page): `$(…)` or a new line there would run or
		// configure something on the user's machine.
		return nil, &awsproto.Error{Code: "ServiceUnavailableException", Status: http.StatusServiceUnavailable,
			Message: fmt.Sprintf("AWS account %s answered AssumeRoleWithSAML with malformed credentials (a key holding "+
				"characters other than letters, digits and +/=_-, or none); an administrator must check the link's endpoint", l.AccountID)}
	}
	if out.AssumedRoleUser != nil {
		rc.AssumedRoleARN = aws.ToString(out.AssumedRoleUser.Arn)
	}
	return rc, nil
}

// DefaultTimeout is Federation's bound on one credential request's calls
// to an account (seconds matter: the CLI is waiting).
const DefaultTimeout = 20 * time.Second

// stsError turns an AssumeRoleWithSAML failure into a portal error.
func stsError(accountID, role string, err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	if ae, ok := errors.AsType[smithy.APIError](err); ok {
		msg := fmt.Sprintf("AWS account %s refused the role %s: %s", accountID, role, cutText(ae.ErrorCode()+": "+ae.ErrorMessage()))
		switch ae.ErrorCode() {
		case "Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded":
			return &awsproto.Error{Code: "TooManyRequestsException", Status: http.StatusTooManyRequests, Err: err,
				Message: fmt.Sprintf("AWS account %s is throttling AssumeRoleWithSAML; try again shortly", accountID)}
		}
		if re, ok := errors.AsType[*smithyhttp.ResponseError](err); ok && re.HTTPStatusCode() >= 500 {
			return &awsproto.Error{Code: "ServiceUnavailableException", Status: http.StatusServiceUnavailable, Err: err,
				Message: fmt.Sprintf("AWS STS for account %s is unavailable (%s); try again shortly", accountID, ae.ErrorCode())}
		}
		// AccessDenied (the role does not exist yet or does not trust the
		// provider), IDPRejectedClaim, InvalidIdentityToken, ExpiredToken,
		// MalformedPolicyDocument, RegionDisabledException, ...: the person
		// cannot have this role there now.
		return &awsproto.Error{Code: "ForbiddenException", Status: http.StatusForbidden, Err: err, Message: "No access: " + msg}
	}
	if _, ok := errors.AsType[net.Error](err); ok || errors.Is(err, context.DeadlineExceeded) {
		return &awsproto.Error{Code: "ServiceUnavailableException", Status: http.StatusServiceUnavailable, Err: err,
			Message: fmt.Sprintf("AWS STS for account %s cannot be reached; try again shortly", accountID)}
	}
	return &awsproto.Error{Code: "ServiceUnavailableException", Status: http.StatusServiceUnavailable, Err: err,
		Message: fmt.Sprintf("AssumeRoleWithSAML in account %s failed; try again shortly", accountID)}
}

// Bounds of wellFormedCredentials: STS API Reference, Credentials
// (AccessKeyId: 16 to 128 word characters); secrets and session tokens
// are base64 text, session tokens a few kilobytes.
var (
	accessKeyIDPattern = regexp.MustCompile(`^\w{16,128}$`)
	keyTextPattern     = regexp.MustCompile(`^[A-Za-z0-9+/=_-]+$`)
	maxKeyText         = 16384
)

// wellFormedCredentials reports whether c's access key ID, secret and
// session token are made only of the characters AWS's are, so that they
// can be written into shell lines and INI files as they are.
func wellFormedCredentials(c *RoleCredentials) bool {
	text := func(v string) bool { return len(v) <= maxKeyText && keyTextPattern.MatchString(v) }
	return accessKeyIDPattern.MatchString(c.AccessKeyID) && text(c.SecretAccessKey) && text(c.SessionToken)
}
