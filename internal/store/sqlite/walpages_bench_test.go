package sqlite_test

import (
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/store"
	"github.com/gatehouse-dev/gatehouse/internal/store/sqlite"
)

// BenchmarkWALPagesPerCommit counts the pages (WAL frames) that one
// AppendEvents commit of 18 GetRoleCredentials-shaped events writes (the
// audit batcher's mean batch under load), after 30,000 such events, and
// which B-tree each belongs to: every B-tree an event touches costs one
// or more pages per commit whatever the batch, each page two write
// system calls and, at the next checkpoint, one more. It reports
// frames/commit and <B-tree>-frames/commit. Run with:
//
//	go test ./internal/store/sqlite -run '^$' -bench WALPagesPerCommit -benchtime 40x
func BenchmarkWALPagesPerCommit(b *testing.B) {
	ctx := b.Context()
	path := filepath.Join(b.TempDir(), "gatehouse.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ids := arn.Generator{Rand: rand.Reader}
	rec := make([]byte, 750)
	for i := range rec {
		rec[i] = 'a' + byte(i%26)
	}
	now := time.Now()
	commit := func() {
		es := make([]store.EventRecord, 18)
		for i := range es {
			now = now.Add(50 * time.Microsecond)
			es[i] = store.EventRecord{ID: ids.TimeUUID(now), Time: now, Source: "sso.amazonaws.com", Name: "GetRoleCredentials",
				Principal: "ed.developer", ReadOnly: true, Resources: []store.EventResource{{Type: "AWS::Organizations::Account", Name: "111111111111"}}, Record: rec}
		}
		if err := db.AppendEvents(ctx, es); err != nil {
			b.Fatal(err)
		}
	}
	for range 30000 / 18 {
		commit()
	}
	// An empty WAL, one commit, then a reader holding a snapshot that
	// includes it: the WAL cannot restart while the reader lasts, so the
	// frames of the measured commits stay in it to be counted.
	if _, err := db.WritePool().ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		b.Fatal(err)
	}
	commit()
	reader, err := sql.Open("sqlite", "file:"+path+"?_pragma=query_only(1)")
	if err != nil {
		b.Fatal(err)
	}
	defer reader.Close()
	tx, err := reader.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM events`).Scan(&n); err != nil {
		b.Fatal(err)
	}
	before, err := os.Stat(path + "-wal")
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		commit()
	}
	b.StopTimer()
	wal, err := os.ReadFile(path + "-wal")
	if err != nil {
		b.Fatal(err)
	}
	tx.Rollback()
	// A WAL frame is a 24-byte header, whose first 4 bytes are the page
	// number, and the page (4,096 bytes).
	const frame = 24 + 4096
	pages := map[int64]int{}
	for off := before.Size(); off+frame <= int64(len(wal)); off += frame {
		pages[int64(binary.BigEndian.Uint32(wal[off:]))]++
	}
	if _, err := db.WritePool().ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		b.Fatal(err)
	}
	rows, err := db.WritePool().QueryContext(ctx, `SELECT name, pageno FROM dbstat`)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	trees := map[string]int{}
	total := 0
	for rows.Next() {
		var name string
		var page int64
		if err := rows.Scan(&name, &page); err != nil {
			b.Fatal(err)
		}
		trees[name] += pages[page]
		total += pages[page]
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(total)/float64(b.N), "frames/commit")
	for name, n := range trees {
		if n > 0 {
			b.ReportMetric(float64(n)/float64(b.N), name+"-frames/commit")
		}
	}
}
