package adminapi

import (
	"context"

	"github.com/gatehouse-dev/gatehouse/internal/awsauth"
)

// Authorize runs the shared path's authorization step (management-account
// check, request context, policy decision) for benchmarks.
func (s *Service) Authorize(ctx context.Context, c *awsauth.Caller, action string, resources []string) error {
	_, err := s.authorize(ctx, c, action, resources)
	return err
}

// SkipAuthorization makes s admit every authenticated management-account
// caller without a policy decision, to measure what authorization costs.
func SkipAuthorization(s *Service) { s.skipAuthz = true }
