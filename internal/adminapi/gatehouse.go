package adminapi

import (
	"context"
	"errors"
	"maps"

	"github.com/gatehouse-dev/gatehouse/internal/awsauth"
	"github.com/gatehouse-dev/gatehouse/internal/idsource"
	"github.com/gatehouse-dev/gatehouse/internal/people"
)

// GatehousePrefix is the X-Amz-Target prefix of the Gatehouse admin API:
// the user lifecycle actions AWS offers only in its console (disable and
// enable a user, end their sessions, reset their password or MFA) and the
// identity source settings (gatehouse_sources.go), as an
// awsJson1_1 service of its own ("GatehouseAdmin_20261201.DisableUser").
const GatehousePrefix = "GatehouseAdmin_20261201"

// GatehouseSigningName is the Gatehouse admin API's SigV4 service name and
// its IAM service prefix ("gatehouse:DisableUser").
const GatehouseSigningName = "gatehouse"

// gatehouseOps returns the Gatehouse admin API's operations. Each takes
// identitystore's {IdentityStoreId, UserId} and is authorized as
// gatehouse:<Op> on the identity store's ARN and the user's canonical ARN
// (arn:aws:identitystore:::user/<UserId>), as identitystore's user actions
// are, behind the same management-account and delegated-admin gate.
// DeleteUser is identitystore's (which ends the user's sessions too).
func (s *Service) gatehouseOps() map[string]operation {
	user := idResources(s, func(in *UserActionInput) ids { return ids{users: []*string{in.UserId}} })
	act := func(name string, fn func(*people.Service, context.Context, string) error) operation {
		return op("gatehouse:"+name, false, user, func(ctx context.Context, caller *awsauth.Caller, in *UserActionInput) (*struct{}, error) {
			// Acting on oneself is refused by the people service.
			if err := s.checkUserAction(in); err != nil {
				return nil, err
			}
			return nil, fn(s.People, ctx, *in.UserId)
		})
	}
	ops := map[string]operation{
		"DisableUser": act("DisableUser", (*people.Service).DisableUser),
		"EnableUser":  act("EnableUser", (*people.Service).EnableUser),
		"EndSessions": act("EndSessions", (*people.Service).EndSessions),
		"ResetPassword": op("gatehouse:ResetPassword", false, user, func(ctx context.Context, _ *awsauth.Caller, in *UserActionInput) (*ResetPasswordOutput, error) {
			if err := s.checkUserAction(in); err != nil {
				return nil, err
			}
			// An identity provider or LDAP directory keeps the passwords.
			if err := s.Sources.CheckCredentialAction(ctx, idsource.ResetPassword); err != nil {
				return nil, err
			}
			to, err := s.People.ResetPasswordSentTo(ctx, *in.UserId)
			if err != nil {
				return nil, err
			}
			return &ResetPasswordOutput{LinkSentTo: to}, nil
		}),
		"ResetMFA": act("ResetMFA", func(p *people.Service, ctx context.Context, id string) error {
			// A SAML or OIDC identity provider's MFA applies, not ours.
			if err := s.Sources.CheckCredentialAction(ctx, idsource.ResetMFA); err != nil {
				return err
			}
			return p.ResetMFA(ctx, id)
		}),
		"DescribeUserStatus": op("gatehouse:DescribeUserStatus", true, user,
			func(ctx context.Context, _ *awsauth.Caller, in *UserActionInput) (*DescribeUserStatusOutput, error) {
				if err := s.checkUserAction(in); err != nil {
					return nil, err
				}
				st, err := s.People.Describe(ctx, *in.UserId)
				if err != nil {
					return nil, err
				}
				return &DescribeUserStatusOutput{
					IdentityStoreId: *in.IdentityStoreId, UserId: st.UserID, UserName: st.UserName,
					Disabled: st.Disabled, DisabledByIdentitySource: st.DisabledBySource, HasPassword: st.HasPassword,
					MFADeviceCount: st.MFADevices, ActiveSessionCount: st.ActiveSessions,
				}, nil
			}),
	}
	maps.Copy(ops, s.scimTokenOps())
	maps.Copy(ops, s.identitySourceOps())
	maps.Copy(ops, s.accountLinkOps())
	return ops
}

// checkUserAction checks a user action's store and user IDs, then that
// there is a people service to run it.
func (s *Service) checkUserAction(in *UserActionInput) error {
	if err := s.checkIDs(in.IdentityStoreId, resourceID{"userId", in.UserId}); err != nil {
		return err
	}
	if s.People == nil {
		return errors.New("gatehouse admin API: no people service")
	}
	return nil
}

// UserActionInput is the input of every Gatehouse admin API action: the
// identity store and the user, as identitystore names them.
type UserActionInput struct {
	IdentityStoreId *string `json:"IdentityStoreId"`
	UserId          *string `json:"UserId"`
}

// ResetPasswordOutput is what ResetPassword answers.
type ResetPasswordOutput struct {
	// LinkSentTo says where the reset link went: the user's e-mail
	// address, or the outbox when no SMTP server is configured.
	LinkSentTo string `json:",omitempty"`
}

// DescribeUserStatusOutput is what DescribeUserStatus answers.
type DescribeUserStatusOutput struct {
	IdentityStoreId string
	UserId          string
	UserName        string
	// Disabled users cannot sign in, and nothing issued to them works.
	Disabled bool
	// DisabledByIdentitySource says the identity provider set the user
	// inactive over SCIM: only it lifts that, EnableUser does not.
	DisabledByIdentitySource bool
	// HasPassword is false until the user chooses a password (after an
	// invitation or a reset).
	HasPassword bool
	// MFADeviceCount counts the user's MFA devices (authenticator apps,
	// security keys and passkeys).
	MFADeviceCount int
	// ActiveSessionCount counts the user's portal sessions still in force.
	ActiveSessionCount int
}
