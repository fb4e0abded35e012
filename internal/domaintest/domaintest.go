// Package domaintest builds Gatehouse's domain services on a fresh SQLite
// store in a test's temporary folder, with the instance bootstrapped.
package domaintest

import (
	"crypto/rand"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/instance"
	"github.com/gatehouse-dev/gatehouse/internal/store"
	"github.com/gatehouse-dev/gatehouse/internal/store/sqlite"
)

// World is a bootstrapped instance with its services.
type World struct {
	Store     store.Store
	Instance  *store.Instance
	Audit     *audit.Recorder
	Directory *directory.Service
	Access    *access.Service
	IDs       arn.Generator
}

// New opens a SQLite store in t.TempDir() and bootstraps an instance.
func New(t testing.TB) *World {
	t.Helper()
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "gatehouse.db"))
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	ids := arn.Generator{Rand: rand.Reader}
	rec := &audit.Recorder{Now: time.Now, NewID: ids.UUID, Region: "us-east-1"}
	in, _, err := instance.Bootstrap(ctx, st, instance.Options{Region: "us-east-1", IDs: ids, Now: time.Now, Audit: rec})
	if err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	acc := &access.Service{Store: st, Audit: rec, IDs: ids, Now: time.Now, InstanceID: in.InstanceID}
	dir := &directory.Service{Store: st, Audit: rec, Access: acc, IDs: ids, Rand: rand.Reader, Now: time.Now, IdentityStoreID: in.IdentityStoreID}
	return &World{Store: st, Instance: in, Audit: rec, Directory: dir, Access: acc, IDs: ids}
}

// Snapshot is a fingerprint of the stored state that bad input must not
// change: the change counter and the number of audit events.
type Snapshot struct {
	Seq    int64
	Events int
}

// Snap takes a Snapshot.
func (w *World) Snap(t testing.TB) Snapshot {
	t.Helper()
	seq, err := w.Store.ChangeSeq(t.Context())
	if err != nil {
		t.Fatalf("change seq: %v", err)
	}
	evs, err := w.Store.ListEvents(t.Context(), store.EventFilter{End: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatalf("list events: %v", err)
	}
	return Snapshot{Seq: seq, Events: len(evs)}
}
