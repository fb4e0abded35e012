package access

import (
	"context"
	"errors"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// PutCustomerPolicy stores (or replaces) the document of a customer-managed
// policy in an account, the policy that permission sets referring to it by
// name and path resolve to there. The document must be a valid IAM policy
// of at most 6,144 non-whitespace characters, as IAM requires. Roles already
// provisioned see a new document at once.
func (s *Service) PutCustomerPolicy(ctx context.Context, accountID string, ref store.PolicyRef, doc string) error {
	ref, err := NormalizeRef(ref)
	if err != nil {
		return err
	}
	if doc == "" {
		return fault.Validationf("PolicyDocument is required")
	}
	if err := policy.CheckCustomer([]byte(doc)); err != nil {
		return &fault.Error{Kind: fault.Validation, Message: "The policy document is not valid: " + err.Error()}
	}
	now := s.Now().UTC()
	return s.Store.Update(ctx, func(tx store.Tx) error {
		if _, err := tx.GetAccount(ctx, accountID); errors.Is(err, store.ErrNotFound) {
			return fault.NotFoundf(ResourceAccount, accountID, "Account %s is not part of this organization", accountID)
		} else if err != nil {
			return err
		}
		p := &store.CustomerPolicy{AccountID: accountID, Path: ref.Path, Name: ref.Name, Document: doc, CreatedAt: now, UpdatedAt: now}
		if old, err := tx.GetCustomerPolicy(ctx, accountID, ref.Path, ref.Name); err == nil {
			if old.Document == doc {
				return nil
			}
			// The new document replaces the default version's, keeping the
			// policy's ID, other versions and tags (IAM's own operations
			// would add a version instead).
			p = old
			p.Document, p.UpdatedAt = doc, now
			for i := range p.Versions {
				if p.Versions[i].ID == p.DefaultVersion {
					p.Versions[i].Document = doc
				}
			}
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err := tx.PutCustomerPolicy(ctx, p); err != nil {
			return err
		}
		return s.Audit.Record(ctx, tx, audit.Entry{Source: audit.SourceIAM, Name: "CreatePolicyVersion",
			Params: map[string]string{"policyArn": "arn:aws:iam::" + accountID + ":policy" + ref.Path + ref.Name}})
	})
}
