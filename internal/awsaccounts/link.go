package awsaccounts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// SAMLProviderPrefix starts the name of Gatehouse's SAML provider in a
// linked account, as "AWSSSO_" starts IAM Identity Center's own
// ("AWSSSO_<16 hex>_DO_NOT_DELETE"; AWS docs, "IAM Identity Center:
// Service-linked roles and SAML providers in member accounts").
const SAMLProviderPrefix = "GatehouseSSO_"

// DefaultRegion signs a link's calls when the link names no region.
const DefaultRegion = "us-east-1"

// Secret is a secret access key; it never prints nor logs.
type Secret string

// LogValue hides the secret from log/slog.
func (Secret) LogValue() slog.Value { return slog.StringValue("[REDACTED]") }

// String hides the secret from fmt.
func (Secret) String() string { return "[REDACTED]" }

// LinkInput is what LinkAccount needs.
type LinkInput struct {
	// AccountID is the Gatehouse account to link (12 digits): never the
	// management account.
	AccountID string
	// Endpoint is the IAM/STS endpoint URL (http or https); "" is real AWS.
	// It is stored in its canonical form (CanonicalEndpoint).
	Endpoint string
	// Region signs the calls; "" means DefaultRegion.
	Region string
	// AccessKeyID and SecretAccessKey are the credentials Gatehouse calls
	// with. The secret is sealed at rest and never answered nor logged.
	AccessKeyID     string
	SecretAccessKey Secret
	// RoleName or RoleARN name a role to assume in the account with those
	// credentials. Both empty: the credentials are used as they are when
	// they belong to the account itself, and DefaultRoleName is assumed
	// in the account otherwise (base credentials of the organization's
	// management account).
	RoleName, RoleARN string
	// ExternalID goes with the AssumeRole when set.
	ExternalID string
}

var (
	accountIDPattern = regexp.MustCompile(`^\d{12}$`)
	// roleNamePattern is IAM's role-name constraint, path allowed
	// (IAM API Reference, CreateRole: RoleName [\w+=,.@-]+, 1–64; Path
	// 1–512 characters, starting and ending with a slash).
	roleNamePattern = regexp.MustCompile(`^(/[\x21-\x7e]{0,510}/)?[\w+=,.@-]{1,64}$`)
	// roleARNPattern is an IAM role ARN, at most 2048 characters as IAM's
	// arnType (checked apart: the pattern bounds only the characters).
	roleARNPattern = regexp.MustCompile(`^arn:aws[\w-]*:iam::(\d{12}):role/[\x21-\x7e]+$`)
	// externalIDPattern is STS's ExternalId constraint (2–1224, [\w+=,.@:/-]).
	externalIDPattern = regexp.MustCompile(`^[\w+=,.@:/-]+$`)
	accessKeyPattern  = regexp.MustCompile(`^[\w]{16,128}$`)
	// regionPattern is an AWS region name: a 2–4 letter partition prefix
	// (us, cn, us-gov's us, eusc), name parts, a number; at most
	// maxRegionLen characters, checked apart.
	regionPattern = regexp.MustCompile(`^[a-z]{2,4}(-[a-z]{1,16}){1,3}-\d{1,2}$`)
)

const (
	maxRegionLen = 32   // characters of a region name
	maxARNLen    = 2048 // characters of an IAM ARN (IAM API Reference, arnType)
)

// check validates the input's shape, every problem at once, and puts
// in.Endpoint in its canonical form (CanonicalEndpoint): the form the
// operator's list is matched in is the one stored and shown.
func (in *LinkInput) check() error {
	var msgs []string
	if !accountIDPattern.MatchString(in.AccountID) {
		msgs = append(msgs, "AccountId must be 12 digits")
	}
	if in.Endpoint != "" {
		if c, err := CanonicalEndpoint(in.Endpoint); err != nil {
			msgs = append(msgs, "Endpoint must be an http or https URL of a host and port: "+err.Error())
		} else {
			in.Endpoint = c
		}
	}
	if in.Region != "" && (len(in.Region) > maxRegionLen || !regionPattern.MatchString(in.Region)) {
		msgs = append(msgs, "Region must be an AWS region name such as us-east-1")
	}
	if !accessKeyPattern.MatchString(in.AccessKeyID) {
		msgs = append(msgs, "AccessKeyId must be 16 to 128 letters, digits or underscores")
	}
	if in.SecretAccessKey == "" {
		msgs = append(msgs, "SecretAccessKey must not be empty")
	} else if len(in.SecretAccessKey) > 1024 {
		msgs = append(msgs, "SecretAccessKey must be at most 1024 characters")
	}
	if in.RoleName != "" && in.RoleARN != "" {
		msgs = append(msgs, "give RoleName or RoleArn, not both")
	}
	if in.RoleName != "" && !roleNamePattern.MatchString(in.RoleName) {
		msgs = append(msgs, "RoleName is not an IAM role name")
	}
	if in.RoleARN != "" && (len(in.RoleARN) > maxARNLen || !roleARNPattern.MatchString(in.RoleARN)) {
		msgs = append(msgs, "RoleArn is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)")
	}
	if in.ExternalID != "" && (len(in.ExternalID) < 2 || len(in.ExternalID) > 1224 || !externalIDPattern.MatchString(in.ExternalID)) {
		msgs = append(msgs, "ExternalId must be 2 to 1224 characters of letters, digits and +=,.@:/-")
	}
	if len(msgs) > 0 {
		return fault.Validationf("%d validation error(s) detected: %s", len(msgs), strings.Join(msgs, "; "))
	}
	return nil
}

// SAMLProviderName is the name of Gatehouse's SAML provider in every
// account linked to the instance instanceID ("ssoins-<16 hex>"):
// GatehouseSSO_<16 hex>_DO_NOT_DELETE.
func SAMLProviderName(instanceID string) string {
	return SAMLProviderPrefix + strings.TrimPrefix(instanceID, "ssoins-") + "_DO_NOT_DELETE"
}

// LinkAccount links in.AccountID to the AWS account its credentials reach
// and registers Gatehouse's SAML provider there (created, or its metadata
// updated when it exists). Linking an account linked already replaces the
// link.
//
// Refusals, changing nothing and calling no endpoint: a malformed input,
// an endpoint not on Service.Endpoints (ValidationException naming
// EndpointSetting), an account Gatehouse does not have, the management
// account (which stays Gatehouse's), and
// credentials that act in another account than in.AccountID
// (ValidationException, naming both). Failures of the AWS calls do not
// fail the call: the link is stored FAILED with the AWS error as its
// StatusReason — except when it would replace an ACTIVE link, which is
// then kept (ValidationException with the AWS error). The answer never holds the secret; the LinkAccount audit
// event records the outcome without it.
func (s *Service) LinkAccount(ctx context.Context, in LinkInput) (*store.AccountLink, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	if msg := s.endpointRefusal(in.AccountID, in.Endpoint); msg != "" {
		return nil, fault.Validationf("%s", msg)
	}
	inst, err := s.Store.GetInstance(ctx)
	if err != nil {
		return nil, fmt.Errorf("get instance: %w", err)
	}
	if in.AccountID == inst.ManagementAccountID {
		return nil, fault.Validationf("Account %s is the management account: it stays Gatehouse's and is never linked", in.AccountID)
	}
	if _, err := s.Store.GetAccount(ctx, in.AccountID); errors.Is(err, store.ErrNotFound) {
		return nil, fault.Validationf("Account %s is not in Gatehouse's organization: create or invite it first", in.AccountID)
	} else if err != nil {
		return nil, fmt.Errorf("get account %s: %w", in.AccountID, err)
	}
	if s.IdPMetadata == nil {
		return nil, errors.New("awsaccounts: no IdP metadata source (Service.IdPMetadata)")
	}
	sealed, err := s.SealSecret(in.AccountID, string(in.SecretAccessKey))
	if err != nil {
		return nil, err
	}
	now := s.now()
	l := &store.AccountLink{
		AccountID: in.AccountID, Endpoint: in.Endpoint, Region: in.Region, AccessKeyID: in.AccessKeyID, SealedSecret: sealed,
		ExternalID: in.ExternalID, Status: store.LinkPending, CreatedAt: now, UpdatedAt: now,
		UpdatedBy: directory.PrincipalOf(audit.ActorFrom(ctx).Identity),
	}
	if l.Region == "" {
		l.Region = DefaultRegion
	}
	old, err := s.Store.GetAccountLink(ctx, in.AccountID)
	if err == nil {
		l.CreatedAt = old.CreatedAt
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("get link of account %s: %w", in.AccountID, err)
	}
	if err := s.setUp(ctx, l, in, inst.InstanceID); err != nil {
		return nil, err
	}
	if l.Status == store.LinkFailed && old != nil && old.Status == store.LinkActive {
		// New credentials that fail never replace a working link: people
		// keep signing in to the account.
		return nil, fault.Validationf("Linking account %s again failed, the active link is kept as it was: %s", in.AccountID, l.StatusReason)
	}
	err = s.Store.Update(ctx, func(tx store.Tx) error {
		if err := tx.PutAccountLink(ctx, l); err != nil {
			return fmt.Errorf("store link of account %s: %w", l.AccountID, err)
		}
		return s.Audit.Record(ctx, tx, audit.Entry{
			Source: audit.SourceGatehouse, Name: "LinkAccount", Params: linkParams(in), Response: Describe(l),
			Resources: []store.EventResource{{Type: "AWS::Organizations::Account", Name: l.AccountID}},
		})
	})
	if err != nil {
		return nil, err
	}
	s.log().InfoContext(ctx, "account linked", "account_id", l.AccountID, "status", l.Status, "reason", l.StatusReason)
	if l.Status == store.LinkActive && s.Linked != nil {
		if err := s.Linked(ctx, l.AccountID); err != nil {
			s.log().ErrorContext(ctx, "provision a linked account's permission sets", "account_id", l.AccountID, "err", err)
		}
	}
	return l, nil
}

// setUp checks l's credentials and registers the SAML provider, setting
// l's RoleARN, SAMLProviderARN and Status. It returns an error only for a
// refusal (credentials of another account) or a local failure; an AWS
// call's failure is l's FAILED status.
func (s *Service) setUp(ctx context.Context, l *store.AccountLink, in LinkInput, instanceID string) error {
	fail := func(step string, err error) error {
		l.Status, l.StatusReason = store.LinkFailed, step+": "+awsErrorText(err)
		return nil
	}
	switch {
	case in.RoleARN != "":
		l.RoleARN = in.RoleARN
	case in.RoleName != "":
		l.RoleARN = roleARN("aws", in.AccountID, in.RoleName)
	default:
		// Whose are the credentials? The account's own are used as they
		// are; others assume the Organizations role in the account.
		base := *l
		c, err := s.clients(&base)
		if err != nil {
			return err
		}
		id, err := c.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			return fail("sts:GetCallerIdentity", err)
		}
		if aws.ToString(id.Account) != in.AccountID {
			l.RoleARN = roleARN(partitionOf(aws.ToString(id.Arn)), in.AccountID, DefaultRoleName)
		}
	}
	c, err := s.clients(l)
	if err != nil {
		return err
	}
	id, err := c.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return fail("sts:GetCallerIdentity", err)
	}
	if got := aws.ToString(id.Account); got != in.AccountID {
		return fault.Validationf("The credentials act in AWS account %s (%s), not in account %s being linked", got, aws.ToString(id.Arn), in.AccountID)
	}
	doc, err := s.IdPMetadata(ctx)
	if err != nil {
		return fmt.Errorf("IdP metadata: %w", err)
	}
	providerARN, err := registerProvider(ctx, c.IAM, partitionOf(aws.ToString(id.Arn)), in.AccountID, SAMLProviderName(instanceID), doc)
	if err != nil {
		return fail("register the SAML provider", err)
	}
	l.SAMLProviderARN, l.Status, l.StatusReason = providerARN, store.LinkActive, ""
	return nil
}

// registerProvider creates the SAML provider name in the account, or
// updates its metadata document when it exists, and returns its ARN.
func registerProvider(ctx context.Context, c *iam.Client, partition, accountID, name, doc string) (string, error) {
	a := fmt.Sprintf("arn:%s:iam::%s:saml-provider/%s", partition, accountID, name)
	_, err := c.GetSAMLProvider(ctx, &iam.GetSAMLProviderInput{SAMLProviderArn: aws.String(a)})
	if _, missing := errors.AsType[*iamtypes.NoSuchEntityException](err); missing {
		out, err := c.CreateSAMLProvider(ctx, &iam.CreateSAMLProviderInput{
			Name: aws.String(name), SAMLMetadataDocument: aws.String(doc),
			Tags: []iamtypes.Tag{{Key: aws.String("gatehouse:managed"), Value: aws.String("true")}},
		})
		if err != nil {
			return "", fmt.Errorf("iam:CreateSAMLProvider: %w", err)
		}
		return aws.ToString(out.SAMLProviderArn), nil
	}
	if err != nil {
		return "", fmt.Errorf("iam:GetSAMLProvider: %w", err)
	}
	if _, err := c.UpdateSAMLProvider(ctx, &iam.UpdateSAMLProviderInput{SAMLProviderArn: aws.String(a), SAMLMetadataDocument: aws.String(doc)}); err != nil {
		return "", fmt.Errorf("iam:UpdateSAMLProvider: %w", err)
	}
	return a, nil
}

// UnlinkAccount deletes Gatehouse's SAML provider from accountID's AWS
// account and then the link. It is refused (ConflictException) while
// permission sets are provisioned in the account: delete the account's
// assignments first, so that no role Gatehouse made is left behind. A
// provider already gone is no failure; any other AWS error fails the call
// (ValidationException with the AWS error) and keeps the link. A link
// whose endpoint is off Service.Endpoints is deleted without calling it
// (its SAML provider is left there, logged); so are the records of its
// provisioned roles once the account has no assignment left (the roles,
// which could not be deleted there, are logged), else ConflictException.
func (s *Service) UnlinkAccount(ctx context.Context, accountID string) error {
	if !accountIDPattern.MatchString(accountID) {
		return fault.Validationf("AccountId must be 12 digits")
	}
	l, err := s.Store.GetAccountLink(ctx, accountID)
	if errors.Is(err, store.ErrNotFound) {
		return fault.NotFoundf("ACCOUNT_LINK", accountID, "Account %s is not linked", accountID)
	} else if err != nil {
		return fmt.Errorf("get link of account %s: %w", accountID, err)
	}
	refusal := s.endpointRefusal(accountID, l.Endpoint)
	roles, err := s.Store.ListProvisionedRoles(ctx, store.RoleFilter{AccountID: accountID})
	if err != nil {
		return fmt.Errorf("list roles of account %s: %w", accountID, err)
	}
	// Off the list, a role whose assignments are gone cannot be deleted
	// there (no call goes to the endpoint): its record goes with the link,
	// else listing the endpoint again would be the only way to unlink.
	leftBehind := refusal != "" && len(roles) > 0
	if leftBehind {
		err = noAssignments(ctx, s.Store, accountID)
	} else if len(roles) > 0 {
		err = fault.Conflictf("Account %s has %d permission set(s) provisioned: delete its account assignments first", accountID, len(roles))
	}
	if err != nil {
		return err
	}
	if refusal != "" && l.SAMLProviderARN != "" {
		// No signed call goes to an endpoint off the list: the link goes,
		// the provider there stays (it trusts assertions no one sends it).
		s.log().WarnContext(ctx, "unlinking without deleting the SAML provider: the endpoint is not allowed",
			"account_id", accountID, "endpoint", l.Endpoint, "provider", l.SAMLProviderARN)
	} else if l.SAMLProviderARN != "" {
		c, err := s.Clients(ctx, l)
		if err != nil {
			return err
		}
		_, err = c.IAM.DeleteSAMLProvider(ctx, &iam.DeleteSAMLProviderInput{SAMLProviderArn: aws.String(l.SAMLProviderARN)})
		if _, gone := errors.AsType[*iamtypes.NoSuchEntityException](err); err != nil && !gone {
			return fault.Validationf("Deleting the SAML provider %s failed, the link is kept: %s", l.SAMLProviderARN, awsErrorText(err))
		}
	}
	err = s.Store.Update(ctx, func(tx store.Tx) error {
		if leftBehind {
			if err := noAssignments(ctx, tx, accountID); err != nil {
				return err // one made meanwhile
			}
			for _, r := range roles {
				if err := tx.DeleteProvisionedRole(ctx, accountID, r.PermissionSetID); err != nil && !errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("delete the role record of %s in account %s: %w", r.PermissionSetID, accountID, err)
				}
			}
		}
		if err := tx.DeleteAccountLink(ctx, accountID); err != nil {
			return fmt.Errorf("delete link of account %s: %w", accountID, err)
		}
		return s.Audit.Record(ctx, tx, audit.Entry{
			Source: audit.SourceGatehouse, Name: "UnlinkAccount", Params: struct{ AccountId string }{accountID},
			Resources: []store.EventResource{{Type: "AWS::Organizations::Account", Name: accountID}},
		})
	})
	if err != nil {
		return err
	}
	if leftBehind {
		for _, r := range roles {
			s.log().WarnContext(ctx, "unlinked without deleting the role: the endpoint is not allowed",
				"account_id", accountID, "endpoint", l.Endpoint, "role", r.RoleName)
		}
	}
	s.log().InfoContext(ctx, "account unlinked", "account_id", accountID)
	return nil
}

// noAssignments is a ConflictException when accountID has an account
// assignment left.
func noAssignments(ctx context.Context, tx store.Tx, accountID string) error {
	as, err := tx.ListAssignments(ctx, store.AssignmentFilter{AccountID: accountID})
	if err != nil {
		return fmt.Errorf("list assignments of account %s: %w", accountID, err)
	}
	if len(as) > 0 {
		return fault.Conflictf("Account %s has %d account assignment(s) left: delete its account assignments first", accountID, len(as))
	}
	return nil
}

// DescribeAccountLink returns accountID's link as it may be shown
// (NotFound when the account is not linked).
func (s *Service) DescribeAccountLink(ctx context.Context, accountID string) (*LinkView, error) {
	if !accountIDPattern.MatchString(accountID) {
		return nil, fault.Validationf("AccountId must be 12 digits")
	}
	l, err := s.Store.GetAccountLink(ctx, accountID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fault.NotFoundf("ACCOUNT_LINK", accountID, "Account %s is not linked", accountID)
	} else if err != nil {
		return nil, fmt.Errorf("get link of account %s: %w", accountID, err)
	}
	return Describe(l), nil
}

// ListAccountLinks returns every link as it may be shown, by account ID.
func (s *Service) ListAccountLinks(ctx context.Context) ([]LinkView, error) {
	ls, err := s.Store.ListAccountLinks(ctx)
	if err != nil {
		return nil, fmt.Errorf("list account links: %w", err)
	}
	out := make([]LinkView, 0, len(ls))
	for i := range ls {
		out = append(out, *Describe(&ls[i]))
	}
	return out, nil
}

// RefreshProviders writes the current IdP metadata into the SAML provider
// of every active link (after the IdP's signing key rotates), but those
// whose endpoint is off Service.Endpoints (skipped and logged). A failing
// account does not stop the others; the failures come back joined.
func (s *Service) RefreshProviders(ctx context.Context) error {
	if s.IdPMetadata == nil {
		return errors.New("awsaccounts: no IdP metadata source (Service.IdPMetadata)")
	}
	doc, err := s.IdPMetadata(ctx)
	if err != nil {
		return fmt.Errorf("IdP metadata: %w", err)
	}
	ls, err := s.Store.ListAccountLinks(ctx)
	if err != nil {
		return fmt.Errorf("list account links: %w", err)
	}
	var errs []error
	for i := range ls {
		l := &ls[i]
		if l.Status != store.LinkActive || l.SAMLProviderARN == "" {
			continue
		}
		if msg := s.endpointRefusal(l.AccountID, l.Endpoint); msg != "" {
			// It gets no assertion, so needs no certificate; failing here
			// would hold up the rotation for every other account.
			s.log().WarnContext(ctx, "SAML provider not updated", "account_id", l.AccountID, "reason", msg)
			continue
		}
		c, err := s.Clients(ctx, l)
		if err == nil {
			_, err = c.IAM.UpdateSAMLProvider(ctx, &iam.UpdateSAMLProviderInput{SAMLProviderArn: aws.String(l.SAMLProviderARN), SAMLMetadataDocument: aws.String(doc)})
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("account %s: update SAML provider: %s", l.AccountID, awsErrorText(err)))
		}
	}
	return errors.Join(errs...)
}

// LinkView is a link as it may be shown: everything but the secret.
type LinkView struct {
	AccountId       string
	Endpoint        string `json:",omitempty"`
	Region          string
	AccessKeyId     string
	RoleArn         string `json:",omitempty"`
	ExternalId      string `json:",omitempty"`
	SAMLProviderArn string `json:",omitempty"`
	Status          string
	StatusReason    string `json:",omitempty"`
	CreatedDate     float64
	UpdatedDate     float64
	UpdatedBy       string `json:",omitempty"`
}

// Describe returns l without its secret. Dates are epoch seconds, as the
// AWS JSON protocols carry timestamps.
func Describe(l *store.AccountLink) *LinkView {
	return &LinkView{
		AccountId: l.AccountID, Endpoint: l.Endpoint, Region: l.Region, AccessKeyId: l.AccessKeyID, RoleArn: l.RoleARN,
		ExternalId: l.ExternalID, SAMLProviderArn: l.SAMLProviderARN, Status: l.Status, StatusReason: l.StatusReason,
		CreatedDate: float64(l.CreatedAt.UnixMilli()) / 1000, UpdatedDate: float64(l.UpdatedAt.UnixMilli()) / 1000, UpdatedBy: l.UpdatedBy,
	}
}

// linkParams is the audit form of a LinkInput: no secret.
func linkParams(in LinkInput) any {
	return struct {
		AccountId, Endpoint, Region, AccessKeyId, RoleName, RoleArn, ExternalId string `json:",omitempty"`
	}{in.AccountID, in.Endpoint, in.Region, in.AccessKeyID, in.RoleName, in.RoleARN, in.ExternalID}
}

func roleARN(partition, accountID, name string) string {
	path := "/"
	if i := strings.LastIndex(name, "/"); i >= 0 {
		path, name = name[:i+1], name[i+1:]
	}
	return fmt.Sprintf("arn:%s:iam::%s:role%s%s", partition, accountID, path, name)
}

// partitionOf returns the partition of an ARN, "aws" when it has none.
func partitionOf(a string) string {
	if p := strings.SplitN(a, ":", 3); len(p) == 3 && p[0] == "arn" && p[1] != "" {
		return p[1]
	}
	return "aws"
}

// maxErrorText bounds the text of an AWS error kept or shown (a link's
// StatusReason, a portal error): AWS's messages are far shorter, an
// endpoint's need not be.
const maxErrorText = 1024

// awsErrorText is an AWS error as an administrator reads it: "Code:
// message" for an API error, the error itself otherwise (an unreachable
// endpoint); at most maxErrorText bytes.
func awsErrorText(err error) string {
	if ae, ok := errors.AsType[smithy.APIError](err); ok {
		return cutText(ae.ErrorCode() + ": " + ae.ErrorMessage())
	}
	return cutText(err.Error())
}

// cutText cuts s to maxErrorText bytes on a character boundary, marking
// the cut with "…".
func cutText(s string) string {
	if len(s) <= maxErrorText {
		return s
	}
	n := maxErrorText - len("…")
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.New(slog.DiscardHandler)
}
