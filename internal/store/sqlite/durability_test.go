package sqlite_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/store"
	"github.com/gatehouse-dev/gatehouse/internal/store/sqlite"
)

// crashChildEnv, when set, makes TestCrashChild the writer process of
// TestDurabilityAfterKill; its value is the database path.
const crashChildEnv = "GATEHOUSE_TEST_SQLITE_CRASH_CHILD"

// TestDurabilityAfterKill runs a child process that writes to the database
// from several goroutines and reports each write once it is committed,
// kills it with SIGKILL in the middle of the burst, and checks that every
// reported write survived and the file is intact.
func TestDurabilityAfterKill(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	path := filepath.Join(t.TempDir(), "gatehouse.db")
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}

	const wantAcks = 400
	var acked []string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() && len(acked) < wantAcks {
		if id, ok := strings.CutPrefix(sc.Text(), "ACK "); ok {
			acked = append(acked, id)
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatalf("kill child: %v", err)
	}
	_ = cmd.Wait() // killed: the error is expected
	if len(acked) < wantAcks {
		t.Fatalf("child acknowledged only %d writes before exiting (%v)", len(acked), sc.Err())
	}
	if st := cmd.ProcessState; st == nil || st.Exited() {
		t.Fatalf("child was not killed mid-burst: %v", st)
	}

	db := open(t, path)
	if err := db.IntegrityCheck(t.Context()); err != nil {
		t.Fatal(err)
	}
	missing := 0
	for _, ack := range acked {
		kind, id, _ := strings.Cut(ack, " ")
		var err error
		switch kind {
		case "account":
			_, err = db.GetAccount(t.Context(), id)
			if err == nil {
				_, err = db.GetUser(t.Context(), "u-"+id)
			}
		case "token":
			_, err = db.GetToken(t.Context(), id)
		default:
			t.Fatalf("unknown acknowledgement %q", ack)
		}
		if err != nil {
			missing++
			t.Errorf("acknowledged write %s lost: %v", ack, err)
		}
	}
	if missing == 0 {
		t.Logf("all %d acknowledged writes survived SIGKILL; integrity_check ok", len(acked))
	}
}

// TestCrashChild is the writer process of TestDurabilityAfterKill; run
// directly it does nothing.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashChildEnv)
	if path == "" {
		return // run directly: nothing to do; it is TestDurabilityAfterKill's child
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	ack := func(s string) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(os.Stdout, "ACK %s\n", s)
	}
	const writers = 8
	for w := range writers {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				id := fmt.Sprintf("%02d%010d", w, i)
				if i%2 == 0 {
					// A transaction writing two records.
					err := db.Update(ctx, func(tx store.Tx) error {
						if err := tx.CreateAccount(ctx, &store.Account{ID: id, Name: "crash", CreatedAt: time.Now()}); err != nil {
							return err
						}
						return tx.CreateUser(ctx, &store.User{ID: "u-" + id, UserName: "user-" + id, CreatedAt: time.Now()})
					})
					if err != nil {
						t.Errorf("write %s: %v", id, err)
						return
					}
					ack("account " + id)
				} else {
					// An autocommit write.
					tok := store.Token{Hash: "t-" + id, Kind: store.TokenAccess, CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}
					if err := db.CreateToken(ctx, &tok); err != nil {
						t.Errorf("write %s: %v", tok.Hash, err)
						return
					}
					ack("token " + tok.Hash)
				}
			}
		})
	}
	wg.Wait()
}
