package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the test binary act as the gatehouse command, so tests can
// run it as a real process and signal it.
func TestMain(m *testing.M) {
	if os.Getenv("GATEHOUSE_TEST_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

func TestServeStopsOnSignal(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "serve", "--data", t.TempDir(), "--listen", "127.0.0.1:0")
			cmd.Env = append(os.Environ(), "GATEHOUSE_TEST_MAIN=1")
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			ready := make(chan struct{})
			go func() {
				sc := bufio.NewScanner(stdout)
				for sc.Scan() {
					if strings.HasPrefix(sc.Text(), "Then: aws configure sso") {
						close(ready)
					}
				}
			}()
			select {
			case <-ready:
			case <-time.After(30 * time.Second):
				t.Fatal("no banner within 30s")
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("gatehouse serve exited with %v after %s, want status 0", err, sig)
				}
			case <-time.After(20 * time.Second):
				t.Fatalf("gatehouse serve still running 20s after %s", sig)
			}
		})
	}
}

// TestSecondServeOnSameDataFolderRefused runs `gatehouse serve` as a real
// process, then a second serve and a migrate on its data folder: both exit
// 1 naming the folder and the other Gatehouse; once the first has stopped,
// migrate works.
func TestSecondServeOnSameDataFolderRefused(t *testing.T) {
	dir := t.TempDir()
	first := exec.Command(os.Args[0], "serve", "--data", dir, "--listen", "127.0.0.1:0")
	first.Env = append(os.Environ(), "GATEHOUSE_TEST_MAIN=1")
	stdout, err := first.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	defer first.Process.Kill()
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "Then: aws configure sso") {
				close(ready)
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(30 * time.Second):
		t.Fatal("no banner within 30s")
	}
	for _, args := range [][]string{
		{"serve", "--data", dir, "--listen", "127.0.0.1:0"},
		{"migrate", "--data", dir},
	} {
		// Without the lock the second serve would run on: stop it after a
		// while so that the test fails rather than hangs.
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		cmd := exec.CommandContext(ctx, os.Args[0], args...)
		cmd.Env = append(os.Environ(), "GATEHOUSE_TEST_MAIN=1")
		out, err := cmd.CombinedOutput()
		cancel()
		if err == nil {
			t.Fatalf("gatehouse %s succeeded beside a running server:\n%s", strings.Join(args, " "), out)
		}
		want := "the data folder " + dir + " is in use by another Gatehouse (process " + strconv.Itoa(first.Process.Pid) + ")"
		if !strings.Contains(string(out), want) {
			t.Errorf("gatehouse %s: %v\n%s\nwant %q", strings.Join(args, " "), err, out, want)
		}
	}
	if err := first.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := first.Wait(); err != nil {
		t.Fatalf("first serve: %v", err)
	}
	cmd := exec.Command(os.Args[0], "migrate", "--data", dir)
	cmd.Env = append(os.Environ(), "GATEHOUSE_TEST_MAIN=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("migrate after the server stopped: %v\n%s", err, out)
	}
}
