package server

import (
	"context"
	"fmt"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/awsaccounts"
	"github.com/gatehouse-dev/gatehouse/internal/config"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// DemoLink is one account LinkDemoAccounts linked, for the banner.
type DemoLink struct {
	Name string
	Link *store.AccountLink
}

// LinkDemoAccounts links every member account of the world (all but the
// management account, which stays Gatehouse's; closed ones skipped) to
// Config.AWSEndpoint with the configured base credentials, which assume
// OrganizationAccountAccessRole in each, as AWS Organizations' management
// account reaches its members. It does nothing without an endpoint. Call
// it after the world is seeded. A link the endpoint refuses is stored
// FAILED (and returned so); a refusal (such as linking again through an
// endpoint that is down, which keeps the stored link) is returned as a
// FAILED entry that is not stored; only a local failure is an error.
func (s *Server) LinkDemoAccounts(ctx context.Context) ([]DemoLink, error) {
	if s.Config.AWSEndpoint == "" {
		return nil, nil
	}
	key, secret := s.Config.AWSAccessKeyID, s.Config.AWSSecretAccessKey
	if key == "" {
		key = config.DemoAWSAccessKeyID
	}
	if secret == "" {
		secret = config.DemoAWSSecretAccessKey
	}
	ctx = audit.WithActor(ctx, audit.Actor{Identity: audit.Identity{Type: "Root", PrincipalID: "gatehouse-demo", AccountID: s.Instance.ManagementAccountID},
		SourceIP: "gatehouse.local", UserAgent: "gatehouse serve --aws-endpoint"})
	accts, err := s.Store.ListAccounts(ctx, store.Page{Limit: 1000})
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	var out []DemoLink
	for _, a := range accts {
		if a.ID == s.Instance.ManagementAccountID || a.State == store.AccountSuspended {
			continue
		}
		l, err := s.AWSAccounts.LinkAccount(ctx, awsaccounts.LinkInput{
			AccountID: a.ID, Endpoint: s.Config.AWSEndpoint, Region: s.Instance.Region, AccessKeyID: key, SecretAccessKey: secret,
			RoleName: awsaccounts.DefaultRoleName,
		})
		if fault.KindOf(err) == fault.Validation {
			// A refused link again (the stand-in is down, say) keeps the
			// stored link; the banner says why.
			out = append(out, DemoLink{Name: a.Name, Link: &store.AccountLink{AccountID: a.ID, Status: store.LinkFailed, StatusReason: err.Error()}})
			continue
		}
		if err != nil {
			return out, fmt.Errorf("link account %s (%s) to %s: %w", a.Name, a.ID, s.Config.AWSEndpoint, err)
		}
		out = append(out, DemoLink{Name: a.Name, Link: l})
	}
	return out, nil
}
