package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/loadkit"
)

// bareHandler is the ceiling every path is compared with: it reads nothing
// and answers 200 with a small JSON body, as a handler that does no work
// at all would.
func bareHandler(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{"ok":true}`))
}

// serveBare is `hotload -bare-server ADDR`: a plain net/http server with
// the default settings, until killed.
func serveBare(addr string) error {
	return http.ListenAndServe(addr, http.HandlerFunc(bareHandler))
}

// bareChild is the bare server running as a child process of its own (this
// executable again, with -bare-server), so that like gatehouse it shares
// nothing with the load generator but the machine.
type bareChild struct {
	URL  string
	cmd  *exec.Cmd
	done chan struct{}
}

func startBare(ctx context.Context) (*bareChild, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	addr, err := loadkit.FreeAddr()
	if err != nil {
		return nil, err
	}
	b := &bareChild{URL: "http://" + addr + "/", cmd: exec.CommandContext(ctx, exe, "-bare-server", addr), done: make(chan struct{})}
	b.cmd.Stdout, b.cmd.Stderr = os.Stderr, os.Stderr
	if err := b.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { _ = b.cmd.Wait(); close(b.done) }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(b.URL); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return b, nil
			}
		}
		select {
		case <-b.done:
			return nil, fmt.Errorf("bare server exited: %v", b.cmd.ProcessState)
		case <-time.After(20 * time.Millisecond):
		}
	}
	b.Stop()
	return nil, fmt.Errorf("bare server on %s not ready within 10s", addr)
}

// PID is the bare server's process ID.
func (b *bareChild) PID() int { return b.cmd.Process.Pid }

// Stop kills the bare server and waits for it.
func (b *bareChild) Stop() {
	_ = b.cmd.Process.Kill()
	<-b.done
}
