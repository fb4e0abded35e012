package adminapi

import (
	"context"
	"errors"

	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/awsaccounts"
	"github.com/gatehouse-dev/gatehouse/internal/awsauth"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
)

// Actions of the Gatehouse admin API's account-link operations, each
// authorized on the account's sso resource ARN (arn:aws:sso:::account/<id>,
// as account assignments are); ListAccountLinks on "*".
const (
	ActionLinkAccount         = "gatehouse:LinkAccount"
	ActionUnlinkAccount       = "gatehouse:UnlinkAccount"
	ActionDescribeAccountLink = "gatehouse:DescribeAccountLink"
	ActionListAccountLinks    = "gatehouse:ListAccountLinks"
)

// accountLinkOps returns the account-link operations (awsaccounts.Service):
//
//	LinkAccount          {AccountId, Endpoint?, Region?, AccessKeyId, SecretAccessKey, RoleName?|RoleArn?, ExternalId?} → {AccountLink}
//	UnlinkAccount        {AccountId} → {}
//	DescribeAccountLink  {AccountId} → {AccountLink}
//	ListAccountLinks     {} → {AccountLinks}
//
// The secret access key is write-only: no answer, audit event or log line
// carries it.
func (s *Service) accountLinkOps() map[string]operation {
	account := func(_ context.Context, _ *awsauth.Caller, in *AccountLinkInput) ([]string, error) {
		if in.AccountId == "" {
			return nil, fault.Validationf("1 validation error detected: Value null at 'accountId' failed to satisfy constraint: Member must not be null")
		}
		return []string{arn.AccountResourceARN(in.AccountId)}, nil
	}
	return map[string]operation{
		"LinkAccount": op(ActionLinkAccount, false,
			func(ctx context.Context, c *awsauth.Caller, in *LinkAccountInput) ([]string, error) {
				return account(ctx, c, &AccountLinkInput{AccountId: in.AccountId})
			},
			func(ctx context.Context, _ *awsauth.Caller, in *LinkAccountInput) (*AccountLinkOutput, error) {
				svc, err := s.accounts()
				if err != nil {
					return nil, err
				}
				l, err := svc.LinkAccount(ctx, awsaccounts.LinkInput{
					AccountID: in.AccountId, Endpoint: in.Endpoint, Region: in.Region, AccessKeyID: in.AccessKeyId,
					SecretAccessKey: awsaccounts.Secret(in.SecretAccessKey), RoleName: in.RoleName, RoleARN: in.RoleArn, ExternalID: in.ExternalId,
				})
				if err != nil {
					return nil, err
				}
				return &AccountLinkOutput{AccountLink: awsaccounts.Describe(l)}, nil
			}),
		"UnlinkAccount": op(ActionUnlinkAccount, false, account,
			func(ctx context.Context, _ *awsauth.Caller, in *AccountLinkInput) (*struct{}, error) {
				svc, err := s.accounts()
				if err != nil {
					return nil, err
				}
				return nil, svc.UnlinkAccount(ctx, in.AccountId)
			}),
		"DescribeAccountLink": op(ActionDescribeAccountLink, true, account,
			func(ctx context.Context, _ *awsauth.Caller, in *AccountLinkInput) (*AccountLinkOutput, error) {
				svc, err := s.accounts()
				if err != nil {
					return nil, err
				}
				v, err := svc.DescribeAccountLink(ctx, in.AccountId)
				if err != nil {
					return nil, err
				}
				return &AccountLinkOutput{AccountLink: v}, nil
			}),
		"ListAccountLinks": op(ActionListAccountLinks, true, nil,
			func(ctx context.Context, _ *awsauth.Caller, _ *struct{}) (*ListAccountLinksOutput, error) {
				svc, err := s.accounts()
				if err != nil {
					return nil, err
				}
				vs, err := svc.ListAccountLinks(ctx)
				if err != nil {
					return nil, err
				}
				return &ListAccountLinksOutput{AccountLinks: vs}, nil
			}),
	}
}

func (s *Service) accounts() (*awsaccounts.Service, error) {
	if s.AWSAccounts == nil {
		return nil, errors.New("gatehouse admin API: no linked-accounts service")
	}
	return s.AWSAccounts, nil
}

// LinkAccountInput is LinkAccount's input (awsaccounts.LinkInput).
type LinkAccountInput struct {
	AccountId string
	// Endpoint is the IAM/STS endpoint; absent means real AWS.
	Endpoint string `json:",omitempty"`
	// Region signs the calls; absent means us-east-1.
	Region      string `json:",omitempty"`
	AccessKeyId string
	// SecretAccessKey is sealed at rest and never answered.
	SecretAccessKey string
	// RoleName or RoleArn name a role to assume in the account; neither
	// means the credentials' own account's principal, or
	// OrganizationAccountAccessRole when they belong to another account.
	RoleName   string `json:",omitempty"`
	RoleArn    string `json:",omitempty"`
	ExternalId string `json:",omitempty"`
}

// AuditParams is the audit form of a refused LinkAccount: no secret.
func (in *LinkAccountInput) AuditParams() any {
	c := *in
	c.SecretAccessKey = ""
	return c
}

// AccountLinkInput names an account.
type AccountLinkInput struct {
	AccountId string
}

// AccountLinkOutput is what LinkAccount and DescribeAccountLink answer.
type AccountLinkOutput struct {
	AccountLink *awsaccounts.LinkView
}

// ListAccountLinksOutput is what ListAccountLinks answers, by account ID.
type ListAccountLinksOutput struct {
	AccountLinks []awsaccounts.LinkView
}
