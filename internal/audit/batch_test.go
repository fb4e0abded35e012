package audit_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/store"
	"github.com/gatehouse-dev/gatehouse/internal/store/sqlite"
)

// appendOnly hides every store method but AppendEvents.
type appendOnly struct{ audit.BatchAppender }

func TestBatcherCommitsEveryEvent(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ids := arn.Generator{Rand: rand.Reader}
	// The batcher needs only audit.BatchAppender.
	b := &audit.Batcher{Store: appendOnly{st}, Recorder: &audit.Recorder{Now: time.Now, NewID: ids.UUID, Region: "us-east-1", Account: "999988887777"}, MaxBatch: 16}
	ctx, cancel := context.WithCancel(t.Context())
	runDone := make(chan struct{})
	go func() { b.Run(ctx); close(runDone) }()

	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			actx := audit.WithActor(t.Context(), audit.Actor{Identity: audit.Identity{Type: "IdentityCenterUser", UserName: "ed"}, SourceIP: "192.0.2.1", RequestID: ids.UUID()})
			errs <- b.Record(actx, audit.Entry{Source: audit.SourceSSO, Name: "GetRoleCredentials", ReadOnly: true, Params: map[string]int{"i": i}})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("Record: %v", err)
		}
	}
	evs, err := st.ListEvents(t.Context(), store.EventFilter{Name: "GetRoleCredentials"})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != n {
		t.Fatalf("%d events stored, want %d", len(evs), n)
	}
	var ev audit.Event
	if err := json.Unmarshal(evs[0].Record, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.EventSource != audit.SourceSSO || ev.UserIdentity.UserName != "ed" || ev.SourceIPAddress != "192.0.2.1" || ev.RecipientAccountID != "999988887777" || !ev.ReadOnly || evs[0].Principal != "ed" {
		t.Fatalf("stored event = %+v (principal %q)", ev, evs[0].Principal)
	}

	cancel()
	<-runDone
	if err := b.Record(t.Context(), audit.Entry{Source: audit.SourceSSO, Name: "Late"}); !errors.Is(err, audit.ErrClosed) {
		t.Fatalf("Record after Run ended = %v, want ErrClosed", err)
	}
}

func TestBatcherReportsStoreFailure(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	ids := arn.Generator{Rand: rand.Reader}
	b := &audit.Batcher{Store: st, Recorder: &audit.Recorder{Now: time.Now, NewID: ids.UUID}}
	go b.Run(t.Context())
	st.Close() // every write now fails
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := b.Record(ctx, audit.Entry{Source: audit.SourceSSO, Name: "GetRoleCredentials"}); err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Record with a closed store = %v, want the store's error", err)
	}
}

// TestBatcherFailsEveryCallerOfABatch gives every event the same ID, so
// that each batch after the first event's conflicts: every caller must see
// the error and nothing but the first event may be stored.
func TestBatcherFailsEveryCallerOfABatch(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	b := &audit.Batcher{Store: st, Recorder: &audit.Recorder{Now: time.Now, NewID: func() string { return "same-id" }}, MaxBatch: 16}
	go b.Run(t.Context())
	if err := b.Record(t.Context(), audit.Entry{Source: audit.SourceSSO, Name: "First"}); err != nil {
		t.Fatalf("first Record: %v", err)
	}

	const n = 100
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			errs <- b.Record(t.Context(), audit.Entry{Source: audit.SourceSSO, Name: "Again"})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("Record of a stored ID = %v, want ErrConflict", err)
		}
	}
	evs, err := st.ListEvents(t.Context(), store.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Name != "First" {
		t.Fatalf("stored events = %+v, want only First", evs)
	}
}
