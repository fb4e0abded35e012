package idsource

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// SyncCounts is what one sync did, in numbers: users provisioned, users
// the source says are disabled, users retired (gone upstream), users that
// failed, entries skipped.
type SyncCounts struct {
	Users, Disabled, Retired, Failed, Skipped int
}

// SyncStatus is the last sync of the identity source, as its audit event
// (SyncIdentitySource) records it.
type SyncStatus struct {
	Time time.Time
	// By is who ran it: a user name, an ARN, or the scheduler's principal.
	By     string
	Counts SyncCounts
	// Error is why it failed ("" when it worked).
	Error string
}

// syncEvent is the audit event name of a sync, worked or failed.
const syncEvent = "SyncIdentitySource"

// Sync runs the active kind's sync now (an LDAP directory read), as the
// actor in ctx. The kind records a sync that works (SyncIdentitySource);
// a failed one is returned as a Validation fault saying nothing changed,
// and recorded by the caller's audit (the console records it with
// RecordSyncFailure, the admin API's operation wrapper its refused call).
// An active kind without a sync is a Validation fault.
func (s *Service) Sync(ctx context.Context) (SyncCounts, error) {
	kind, err := s.ActiveKind(ctx)
	if err != nil {
		return SyncCounts{}, err
	}
	k := s.kinds[kind]
	if k == nil || k.Sync == nil {
		return SyncCounts{}, fault.Validationf("The active identity source (%s) has nothing to sync: only an LDAP directory is synced", kind)
	}
	c, err := k.Sync(ctx)
	if err != nil {
		if fe, ok := errors.AsType[*fault.Error](err); ok {
			return c, fe
		}
		return c, fault.Validationf("The %s sync failed and changed nothing: %v", kind, err)
	}
	return c, nil
}

// RecordSyncFailure records the audit event (SyncIdentitySource, with the
// error) of a sync that failed, as the actor in ctx.
func (s *Service) RecordSyncFailure(ctx context.Context, err error) error {
	msg := err.Error()
	if fe, ok := errors.AsType[*fault.Error](err); ok {
		msg = fe.Message
	}
	return s.Store.Update(ctx, func(tx store.Tx) error {
		return s.Audit.Record(ctx, tx, audit.Entry{Source: audit.SourceGatehouse, Name: syncEvent,
			ErrorCode: "SyncFailed", ErrorMsg: msg})
	})
}

// LastSync returns the newest sync's status (scheduled or on demand),
// from its audit event; nil when none was recorded (or audit retention
// removed it).
func (s *Service) LastSync(ctx context.Context) (*SyncStatus, error) {
	es, err := s.Store.ListEvents(ctx, store.EventFilter{Name: syncEvent, Newest: true, Page: store.Page{Limit: 1}})
	if err != nil || len(es) == 0 {
		return nil, err
	}
	var ev audit.Event
	if err := json.Unmarshal(es[0].Record, &ev); err != nil {
		return nil, fmt.Errorf("sync event %s: %w", es[0].ID, err)
	}
	st := &SyncStatus{Time: es[0].Time, By: es[0].Principal, Error: ev.ErrorMessage}
	if ev.ErrorCode != "" && st.Error == "" {
		st.Error = ev.ErrorCode
	}
	var counts struct {
		Users, Disabled, Retired, Failed, Skipped int
	}
	if len(ev.ResponseElements) > 0 && string(ev.ResponseElements) != "null" {
		if err := json.Unmarshal(ev.ResponseElements, &counts); err == nil {
			st.Counts = SyncCounts(counts)
		}
	}
	return st, nil
}
