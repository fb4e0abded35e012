package postgres_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/store"
	"github.com/gatehouse-dev/gatehouse/internal/store/postgres"
)

// replicaChildEnv, when set, makes TestReplicaChild the second replica of
// TestTwoProcesses; its value is the DSN to open.
const replicaChildEnv = "GATEHOUSE_TEST_POSTGRES_REPLICA_CHILD"

// TestTwoProcesses opens the same database from this process and from a
// child process, as two replicas would, and checks that each sees the
// other's writes, that ChangeSeq moves for both, that a device
// authorization created on one can be approved on the other, and that
// read-modify-write transactions running in both at once lose no update.
func TestTwoProcesses(t *testing.T) {
	dsn := schemaDSN(t, serverDSN(t))
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	a := open(t, dsn)
	b := startReplica(t, dsn)

	// A writes, B reads.
	must(t, a.CreateUser(ctx, &store.User{ID: "u-1", UserName: "alice", CreatedAt: time.Now()}))
	seqA, err := a.ChangeSeq(ctx)
	must(t, err)
	if got := b.call(t, "get-user u-1"); got != "alice" {
		t.Fatalf("replica B reading A's user: %q, want alice", got)
	}
	if got := b.call(t, "seq"); got != strconv.FormatInt(seqA, 10) {
		t.Fatalf("replica B's ChangeSeq %s, want A's %d", got, seqA)
	}

	// B writes, A reads; the counter moves on both.
	if got := b.call(t, "create-group g-1 admins"); got != "ok" {
		t.Fatalf("replica B creating a group: %s", got)
	}
	g, err := a.GetGroup(ctx, "g-1")
	if err != nil {
		t.Fatalf("replica A reading B's group: %v", err)
	}
	if g.DisplayName != "admins" {
		t.Fatalf("replica A read group %q, want admins", g.DisplayName)
	}
	seqA2, err := a.ChangeSeq(ctx)
	must(t, err)
	if seqA2 <= seqA {
		t.Fatalf("ChangeSeq on A did not move after B's write: %d -> %d", seqA, seqA2)
	}
	if got := b.call(t, "seq"); got != strconv.FormatInt(seqA2, 10) {
		t.Fatalf("replica B's ChangeSeq %s, want %d", got, seqA2)
	}

	// A device code started on A is approved on B and seen approved on A.
	must(t, a.CreateDeviceAuth(ctx, &store.DeviceAuth{DeviceCodeHash: "dch", UserCode: "BCDFGHJK", Status: store.DevicePending, CreatedAt: time.Now(), ExpiresAt: time.Now().Add(10 * time.Minute)}))
	if got := b.call(t, "approve BCDFGHJK u-1"); got != "ok" {
		t.Fatalf("replica B approving: %s", got)
	}
	d, err := a.GetDeviceAuth(ctx, "dch")
	must(t, err)
	if d.Status != store.DeviceApproved || d.UserID != "u-1" {
		t.Fatalf("replica A sees device auth %s by %q, want APPROVED by u-1", d.Status, d.UserID)
	}

	// Both increment one counter at once.
	must(t, a.CreateAccount(ctx, &store.Account{ID: "123456789012", Name: "0", CreatedAt: time.Now()}))
	const n = 25
	var wg sync.WaitGroup
	var childReply string
	wg.Go(func() { childReply = b.call(t, fmt.Sprintf("increment 123456789012 %d", n)) })
	for range n {
		if err := increment(ctx, a, "123456789012"); err != nil {
			t.Error(err)
		}
	}
	wg.Wait()
	if childReply != "ok" {
		t.Fatalf("replica B incrementing: %s", childReply)
	}
	acct, err := a.GetAccount(ctx, "123456789012")
	must(t, err)
	if acct.Name != strconv.Itoa(2*n) {
		t.Fatalf("counter %s after %d increments from each replica, want %d", acct.Name, n, 2*n)
	}
	if got := b.call(t, "get-account 123456789012"); got != strconv.Itoa(2*n) {
		t.Fatalf("replica B reads counter %s, want %d", got, 2*n)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// increment adds one to the number kept in the account's name.
func increment(ctx context.Context, s store.Store, id string) error {
	return s.Update(ctx, func(tx store.Tx) error {
		a, err := tx.GetAccount(ctx, id)
		if err != nil {
			return err
		}
		n, err := strconv.Atoi(a.Name)
		if err != nil {
			return err
		}
		a.Name = strconv.Itoa(n + 1)
		return tx.UpdateAccount(ctx, a)
	})
}

// replica is the child process: one command per line on its stdin, one
// "REPLY ..." line per command on its stdout.
type replica struct {
	mu  sync.Mutex
	in  io.Writer
	out *bufio.Scanner
}

func startReplica(t *testing.T, dsn string) *replica {
	t.Helper()
	// Not CommandContext: the test's contexts end before its cleanups run,
	// and the child must outlive them to exit cleanly at end of input.
	cmd := exec.Command(os.Args[0], "-test.run=^TestReplicaChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), replicaChildEnv+"="+dsn)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	must(t, err)
	out, err := cmd.StdoutPipe()
	must(t, err)
	must(t, cmd.Start())
	t.Cleanup(func() {
		in.Close() // the child exits at end of input
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("replica process: %v", err)
			}
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			t.Errorf("replica process did not exit at end of input: %v", <-done)
		}
	})
	r := &replica{in: in, out: bufio.NewScanner(out)}
	if got := r.call(t, "ping"); got != "pong" {
		t.Fatalf("replica did not start: %q", got)
	}
	return r
}

// call sends one command and returns the reply.
func (r *replica) call(t *testing.T, cmd string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, err := fmt.Fprintln(r.in, cmd); err != nil {
		t.Errorf("send %q to replica: %v", cmd, err)
		return ""
	}
	for r.out.Scan() {
		if reply, ok := strings.CutPrefix(r.out.Text(), "REPLY "); ok {
			return reply
		}
	}
	t.Errorf("replica closed its output before answering %q: %v", cmd, r.out.Err())
	return ""
}

// TestReplicaChild is the second replica of TestTwoProcesses; run directly
// it does nothing.
func TestReplicaChild(t *testing.T) {
	dsn := os.Getenv(replicaChildEnv)
	if dsn == "" {
		return // run directly: nothing to do; it is TestTwoProcesses's child
	}
	ctx := context.Background()
	db, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		reply, err := serve(ctx, db, strings.Fields(in.Text()))
		if err != nil {
			reply = "error: " + strings.ReplaceAll(err.Error(), "\n", " ")
		}
		fmt.Printf("REPLY %s\n", reply)
	}
}

func serve(ctx context.Context, db *postgres.DB, args []string) (string, error) {
	if len(args) == 0 {
		return "", errors.New("empty command")
	}
	switch args[0] {
	case "ping":
		return "pong", nil
	case "seq":
		n, err := db.ChangeSeq(ctx)
		return strconv.FormatInt(n, 10), err
	case "get-user":
		u, err := db.GetUser(ctx, args[1])
		if err != nil {
			return "", err
		}
		return u.UserName, nil
	case "get-account":
		a, err := db.GetAccount(ctx, args[1])
		if err != nil {
			return "", err
		}
		return a.Name, nil
	case "create-group":
		return "ok", db.CreateGroup(ctx, &store.Group{ID: args[1], DisplayName: args[2], CreatedAt: time.Now()})
	case "approve":
		return "ok", db.Update(ctx, func(tx store.Tx) error {
			d, err := tx.GetDeviceAuthByUserCode(ctx, args[1])
			if err != nil {
				return err
			}
			d.Status, d.UserID = store.DeviceApproved, args[2]
			return tx.UpdateDeviceAuth(ctx, d)
		})
	case "increment":
		n, err := strconv.Atoi(args[2])
		if err != nil {
			return "", err
		}
		for range n {
			if err := increment(ctx, db, args[1]); err != nil {
				return "", err
			}
		}
		return "ok", nil
	}
	return "", fmt.Errorf("unknown command %q", args[0])
}
