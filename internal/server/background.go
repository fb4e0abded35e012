package server

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// cleanupInterval is how often expired records are removed. Every replica
// runs the sweep; it is idempotent.
const cleanupInterval = 5 * time.Minute

// SweepResult counts what one sweep deleted, where the store reports it.
type SweepResult struct {
	Clients int // client registrations past their 90 days
	Events  int // audit events older than Config.AuditRetention
}

// Sweep deletes what has expired at the configured clock's now: device
// codes, authorization codes, tokens, grants, portal sessions, revocations
// and rate counters (store.Tx.DeleteExpired), client registrations
// (DeleteExpiredClients), and audit events older than
// Config.AuditRetention when it is not 0. Each step runs even when an
// earlier one failed; the errors are joined.
func (s *Server) Sweep(ctx context.Context) (SweepResult, error) {
	now := s.Config.Now()
	var res SweepResult
	var errs []error
	if err := s.Store.DeleteExpired(ctx, now); err != nil {
		errs = append(errs, err)
	}
	n, err := s.Store.DeleteExpiredClients(ctx, now)
	if err != nil {
		errs = append(errs, err)
	}
	res.Clients = n
	if r := s.Config.AuditRetention; r > 0 {
		n, err := s.Store.DeleteEventsBefore(ctx, now.Add(-r))
		if err != nil {
			errs = append(errs, fmt.Errorf("audit retention: %w", err))
		}
		res.Events = n
	}
	return res, errors.Join(errs...)
}

// RunBackground sweeps expired records at once and then every
// cleanupInterval until ctx ends, and runs the LDAP sync schedule
// (ldap.Source.Run) and the linked accounts' IAM work
// (awsaccounts.Provisioner.Run). `gatehouse serve` runs it beside the
// HTTP server.
func (s *Server) RunBackground(ctx context.Context) error {
	// The LDAP sync schedule; it syncs only while LDAP is the active
	// source, one replica per interval.
	go s.LDAP.Run(ctx)
	// IAM provisioning and per-user revocation in linked accounts.
	go s.Provisioner.Run(ctx)
	s.sweep(ctx)
	t := time.NewTicker(cleanupInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			s.sweep(ctx)
		}
	}
}

// sweep runs Sweep and logs its outcome; a failed sweep is retried at the
// next tick.
func (s *Server) sweep(ctx context.Context) {
	res, err := s.Sweep(ctx)
	if err != nil && ctx.Err() == nil {
		s.Log.Warn("delete expired records", "err", err)
	} else if res.Clients > 0 || res.Events > 0 {
		s.Log.Info("deleted expired records", "clients", res.Clients, "audit_events", res.Events)
	}
	if s.afterSweep != nil {
		s.afterSweep(res, err)
	}
}
