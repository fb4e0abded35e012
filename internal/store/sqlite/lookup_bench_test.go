package sqlite_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/store"
	"github.com/gatehouse-dev/gatehouse/internal/store/sqlite"
)

// BenchmarkLookupEvents measures CloudTrail LookupEvents' store query, one
// page of 50 newest first, over 100,000 events of 1,000 users, by each kind
// of attribute. Run with:
//
//	go test ./internal/store/sqlite -run '^$' -bench LookupEvents -benchtime 200x
func BenchmarkLookupEvents(b *testing.B) {
	ctx := b.Context()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "gatehouse.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	const n, users = 100_000, 1_000
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	batch := make([]store.EventRecord, 0, 1000)
	for i := range n {
		e := store.EventRecord{ID: fmt.Sprintf("e-%06d", i), Time: t0.Add(time.Duration(i) * time.Second),
			Source: "sso.amazonaws.com", Name: fmt.Sprintf("Op%d", i%40), Principal: fmt.Sprintf("user-%d", i%users),
			AccessKeyID: fmt.Sprintf("ASIA%016d", i%users), ReadOnly: i%2 == 0, Record: []byte(`{"eventVersion":"1.08"}`)}
		if i%100 == 0 {
			e.Resources = []store.EventResource{{Type: "AWS::Organizations::Account", Name: fmt.Sprintf("%012d", i%users)}}
		}
		batch = append(batch, e)
		if len(batch) == cap(batch) {
			if err := db.AppendEvents(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	yes := true
	for _, tc := range []struct {
		name string
		f    store.EventFilter
	}{
		{"all", store.EventFilter{}},
		{"Username", store.EventFilter{Principal: "user-7"}},
		{"EventName", store.EventFilter{Name: "Op7"}},
		{"AccessKeyId", store.EventFilter{AccessKeyID: fmt.Sprintf("ASIA%016d", 7)}},
		{"ResourceName", store.EventFilter{ResourceName: fmt.Sprintf("%012d", 700)}},
		{"ResourceType", store.EventFilter{ResourceType: "AWS::Organizations::Account"}},
		{"ReadOnly", store.EventFilter{ReadOnly: &yes}},
		{"Username in a day", store.EventFilter{Principal: "user-7", Start: t0.Add(24 * time.Hour), End: t0.Add(48 * time.Hour)}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			f := tc.f
			f.Newest = true
			f.Page.Limit = 51
			for b.Loop() {
				es, err := db.ListEvents(ctx, f)
				if err != nil || len(es) == 0 {
					b.Fatalf("%d events, %v", len(es), err)
				}
			}
		})
	}
}
