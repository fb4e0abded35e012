package adminapi

import (
	"context"
	"errors"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/awsauth"
	"github.com/gatehouse-dev/gatehouse/internal/awsproto"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// scimTokenOps returns the Gatehouse admin API's SCIM access-token
// operations (what IAM Identity Center's console offers under "Automatic
// provisioning": generate, list, delete), authorized as gatehouse:<Op> on
// the identity store's ARN, behind the same management-account and
// delegated-admin gate as the user actions. A token is shown once, in
// CreateSCIMAccessToken's answer, and never audited.
func (s *Service) scimTokenOps() map[string]operation {
	return map[string]operation{
		"CreateSCIMAccessToken": op("gatehouse:CreateSCIMAccessToken", false, storeOf[CreateSCIMAccessTokenInput](s),
			func(ctx context.Context, _ *awsauth.Caller, in *CreateSCIMAccessTokenInput) (*CreateSCIMAccessTokenOutput, error) {
				if s.SCIMTokens == nil {
					return nil, errors.New("gatehouse admin API: no SCIM token service")
				}
				var ttl time.Duration
				if in.ExpiresInDays != nil {
					if *in.ExpiresInDays < 1 || *in.ExpiresInDays > 730 {
						return nil, fault.Validationf("ExpiresInDays must be 1 to 730")
					}
					ttl = time.Duration(*in.ExpiresInDays) * 24 * time.Hour
				}
				desc := ""
				if in.Description != nil {
					desc = *in.Description
				}
				secret, rec, err := s.SCIMTokens.Create(ctx, desc, ttl)
				if err != nil {
					return nil, err
				}
				return &CreateSCIMAccessTokenOutput{SCIMAccessToken: scimTokenOf(rec, s.Now()), AccessToken: secret.Reveal(), SCIMEndpoint: s.SCIMEndpoint}, nil
			}),
		"ListSCIMAccessTokens": op("gatehouse:ListSCIMAccessTokens", true, storeOf[struct{}](s),
			func(ctx context.Context, _ *awsauth.Caller, _ *struct{}) (*ListSCIMAccessTokensOutput, error) {
				if s.SCIMTokens == nil {
					return nil, errors.New("gatehouse admin API: no SCIM token service")
				}
				ts, err := s.SCIMTokens.List(ctx)
				if err != nil {
					return nil, err
				}
				out := &ListSCIMAccessTokensOutput{SCIMEndpoint: s.SCIMEndpoint, SCIMAccessTokens: []SCIMAccessToken{}}
				now := s.Now()
				for i := range ts {
					out.SCIMAccessTokens = append(out.SCIMAccessTokens, scimTokenOf(&ts[i], now))
				}
				return out, nil
			}),
		"DeleteSCIMAccessToken": op("gatehouse:DeleteSCIMAccessToken", false, storeOf[DeleteSCIMAccessTokenInput](s),
			func(ctx context.Context, _ *awsauth.Caller, in *DeleteSCIMAccessTokenInput) (*struct{}, error) {
				if s.SCIMTokens == nil {
					return nil, errors.New("gatehouse admin API: no SCIM token service")
				}
				if in.TokenId == nil || *in.TokenId == "" {
					return nil, awsproto.Validation("TokenId is required")
				}
				return nil, s.SCIMTokens.Delete(ctx, *in.TokenId)
			}),
	}
}

// storeOf authorizes an operation on the identity store's ARN.
func storeOf[In any](s *Service) func(context.Context, *awsauth.Caller, *In) ([]string, error) {
	return func(context.Context, *awsauth.Caller, *In) ([]string, error) {
		return []string{arn.IdentityStoreARN(s.Instance.ManagementAccountID, s.Instance.IdentityStoreID)}, nil
	}
}

// Statuses of a SCIM access token.
const (
	SCIMTokenActive  = "ACTIVE"
	SCIMTokenExpired = "EXPIRED"
)

// SCIMAccessToken describes a token (never the token itself).
type SCIMAccessToken struct {
	TokenId     string
	Description string             `json:",omitempty"`
	Status      string             // ACTIVE or EXPIRED
	CreatedAt   awsproto.Timestamp `json:",omitzero"`
	ExpiresAt   awsproto.Timestamp `json:",omitzero"`
	LastUsedAt  awsproto.Timestamp `json:",omitzero"`
	CreatedBy   string             `json:",omitempty"`
}

func scimTokenOf(t *store.SCIMToken, now time.Time) SCIMAccessToken {
	st := SCIMTokenActive
	if !now.Before(t.ExpiresAt) {
		st = SCIMTokenExpired
	}
	return SCIMAccessToken{TokenId: t.ID, Description: t.Description, Status: st, CreatedAt: awsproto.Timestamp{Time: t.CreatedAt},
		ExpiresAt: awsproto.Timestamp{Time: t.ExpiresAt}, LastUsedAt: awsproto.Timestamp{Time: t.LastUsedAt}, CreatedBy: t.CreatedBy}
}

// CreateSCIMAccessTokenInput asks for a new token; ExpiresInDays defaults
// to 365 (as IAM Identity Center's tokens), at most 730.
type CreateSCIMAccessTokenInput struct {
	Description   *string `json:"Description"`
	ExpiresInDays *int    `json:"ExpiresInDays"`
}

// CreateSCIMAccessTokenOutput holds the token, shown this once, and the
// SCIM endpoint to paste beside it into the identity provider.
type CreateSCIMAccessTokenOutput struct {
	SCIMAccessToken SCIMAccessToken
	AccessToken     string
	SCIMEndpoint    string
}

// ListSCIMAccessTokensOutput lists the tokens, oldest first.
type ListSCIMAccessTokensOutput struct {
	SCIMEndpoint     string
	SCIMAccessTokens []SCIMAccessToken
}

// DeleteSCIMAccessTokenInput names the token to revoke.
type DeleteSCIMAccessTokenInput struct {
	TokenId *string `json:"TokenId"`
}
