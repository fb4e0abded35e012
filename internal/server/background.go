package server

import (
	"context"
	"time"
)

// cleanupInterval is how often expired codes, tokens and sessions are
// removed. Every replica runs the cleanup; it is idempotent.
const cleanupInterval = 5 * time.Minute

// RunBackground runs periodic work until ctx ends.
func (s *Server) RunBackground(ctx context.Context) error {
	t := time.NewTicker(cleanupInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := s.Store.DeleteExpired(ctx, s.Config.Now()); err != nil && ctx.Err() == nil {
				s.Log.Warn("delete expired records", "err", err)
			}
		}
	}
}
