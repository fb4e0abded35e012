// Package awsaccounts links Gatehouse accounts to real AWS accounts (or any
// IAM/STS-compatible endpoint) and acts in them (DESIGN §1, "Linked
// account"; §4): IAM Identity Center reaches its member accounts by
// federation, keeping in each a SAML identity provider and one IAM role per
// provisioned permission set, and turns a portal credential request into an
// sts:AssumeRoleWithSAML call (AWS docs, "IAM Identity Center: Permission
// sets" and "Referencing permission sets in resource policies").
//
// A link holds credentials of a principal in the account that may manage
// IAM roles and SAML providers, sealed at rest, or base credentials plus a
// role to assume there (OrganizationAccountAccessRole by default, the role
// AWS Organizations creates in each member account). Clients builds AWS SDK
// for Go v2 IAM and STS clients from a link; the calls go to the link's
// endpoint (real AWS when it is empty).
package awsaccounts

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/keyring"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// DefaultRoleName is the role assumed in a member account when a link
// gives base credentials and no role: the role AWS Organizations creates
// in every account it creates (AWS docs, "Accessing a member account that
// has a management account access role").
const DefaultRoleName = "OrganizationAccountAccessRole"

// RoleSessionName names Gatehouse's own sessions in linked accounts (the
// AssumeRole of a link's base credentials), as CloudTrail shows them there.
const RoleSessionName = "gatehouse"

// Service acts in linked accounts. Set its fields, then use it from any
// number of goroutines.
type Service struct {
	Store store.Store
	Keys  *keyring.Ring
	Audit *audit.Recorder
	Now   func() time.Time
	Log   *slog.Logger
	// HTTPClient makes the IAM and STS calls; nil means a client with a
	// 30-second timeout. Either way no redirect is followed and an answer
	// is read up to 16 MiB.
	HTTPClient *http.Client
	// IdPMetadata returns Gatehouse's SAML IdP metadata document (its
	// entity ID, sign-in endpoint and signing certificates), which
	// LinkAccount and RefreshProviders register in each linked account
	// as its SAML provider. The SAML IdP (package samlidp) provides it.
	IdPMetadata func(ctx context.Context) (string, error)
	// Linked, when set, is called once LinkAccount has stored a link
	// ACTIVE: the server provisions the account's permission sets again,
	// now through IAM, so that their roles exist in the AWS account. A
	// failure is logged (provisioning can be run again); the link stands.
	Linked func(ctx context.Context, accountID string) error
	// Endpoints lists the endpoints links may use besides real AWS; nil
	// allows real AWS only. LinkAccount refuses another endpoint, and no
	// assertion nor signed call goes to a stored link's endpoint once it
	// is off the list (Clients, Federation.Credentials, provisioning).
	Endpoints *EndpointList
	// AnyEndpoint lifts the list: set only by the offline
	// `gatehouse accounts` command, whose user is the operator.
	AnyEndpoint bool
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Clients act in one linked account.
type Clients struct {
	Link *store.AccountLink
	// Config is the SDK configuration the clients were built from: the
	// link's region, endpoint and credentials (the assumed role's when
	// the link names one).
	Config aws.Config
	IAM    *iam.Client
	STS    *sts.Client
}

// Link returns accountID's link, or nil when the account is local.
func (s *Service) Link(ctx context.Context, accountID string) (*store.AccountLink, error) {
	l, err := s.Store.GetAccountLink(ctx, accountID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return l, err
}

// sealAD binds a sealed secret access key to its account.
func sealAD(accountID string) []byte { return []byte("gatehouse/awsaccounts/" + accountID) }

// SealSecret seals a secret access key for accountID's link.
func (s *Service) SealSecret(accountID, secret string) ([]byte, error) {
	v, err := s.Keys.Seal(keyring.PurposeSecrets, []byte(secret), sealAD(accountID))
	if err != nil {
		return nil, fmt.Errorf("seal secret access key: %w", err)
	}
	return []byte(v), nil
}

// secret opens l's secret access key.
func (s *Service) secret(l *store.AccountLink) (string, error) {
	b, err := s.Keys.Open(keyring.PurposeSecrets, string(l.SealedSecret), sealAD(l.AccountID))
	if err != nil {
		return "", fmt.Errorf("open the secret access key of account %s: %w", l.AccountID, err)
	}
	return string(b), nil
}

// maxResponseBytes bounds the body of one IAM or STS answer: the largest
// Gatehouse asks for (a page of roles or policies, each policy document at
// most 10,240 characters per IAM quotas) is far smaller.
const maxResponseBytes = 16 << 20

// errResponseTooLarge ends the reading of an answer over maxResponseBytes.
var errResponseTooLarge error = responseTooLarge{}

// responseTooLarge is not retried: the SDK's retryer asks RetryableError
// (aws-sdk-go-v2 aws/retry, RetryableError).
type responseTooLarge struct{}

func (responseTooLarge) Error() string {
	return fmt.Sprintf("the endpoint's answer is too large (over %d bytes)", maxResponseBytes)
}
func (responseTooLarge) RetryableError() bool { return false }

// errRedirect refuses a redirect: IAM and STS answer directly, and a
// link's endpoint must not lead the signed calls to another address.
var errRedirect = errors.New("the endpoint answered with a redirect, which Gatehouse does not follow")

// httpClient is HTTPClient (or one with a 30-second timeout) that follows
// no redirect and reads at most maxResponseBytes of an answer.
func (s *Service) httpClient() *http.Client {
	c := &http.Client{Timeout: 30 * time.Second}
	if s.HTTPClient != nil {
		cp := *s.HTTPClient
		c = &cp
	}
	next := c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	c.Transport = boundedTransport{next}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return errRedirect }
	return c
}

// boundedTransport bounds the bodies of the answers its next transport
// gets.
type boundedTransport struct{ next http.RoundTripper }

func (t boundedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resp.Body = &boundedBody{ReadCloser: resp.Body, left: maxResponseBytes + 1}
	return resp, nil
}

// boundedBody fails its read once more than maxResponseBytes were read.
type boundedBody struct {
	io.ReadCloser
	left int64 // bytes that may still be read, one over the bound
}

func (b *boundedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errResponseTooLarge
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	if b.left <= 0 {
		return n, errResponseTooLarge
	}
	return n, err
}

// Clients returns IAM and STS clients acting in l's account: with l's
// credentials, through an AssumeRole of l.RoleARN when it is set (cached
// by the SDK until shortly before the session expires). A link whose
// endpoint is not allowed (Service.Endpoints) gets no clients: the error
// is a ValidationException naming the setting.
func (s *Service) Clients(ctx context.Context, l *store.AccountLink) (*Clients, error) {
	if msg := s.endpointRefusal(l.AccountID, l.Endpoint); msg != "" {
		return nil, fault.Validationf("%s", msg)
	}
	return s.clients(l)
}

// clients is Clients without the endpoint check (LinkAccount has made it).
func (s *Service) clients(l *store.AccountLink) (*Clients, error) {
	secret, err := s.secret(l)
	if err != nil {
		return nil, err
	}
	cfg := aws.Config{
		Region:      l.Region,
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(l.AccessKeyID, secret, "")),
		HTTPClient:  s.httpClient(),
	}
	if l.Endpoint != "" {
		cfg.BaseEndpoint = aws.String(l.Endpoint)
	}
	if l.RoleARN != "" {
		base := sts.NewFromConfig(cfg)
		cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(base, l.RoleARN, func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = RoleSessionName
			if l.ExternalID != "" {
				o.ExternalID = aws.String(l.ExternalID)
			}
		}))
	}
	return &Clients{Link: l, Config: cfg, IAM: iam.NewFromConfig(cfg), STS: sts.NewFromConfig(cfg)}, nil
}
