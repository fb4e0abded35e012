package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// terminal runs a command on a pseudo-terminal, as `aws configure sso`
// needs (its prompts refuse piped input for the account picker).
type terminal struct {
	t      testing.TB
	master *os.File
	cmd    *exec.Cmd

	mu   sync.Mutex
	out  strings.Builder
	mark int // Expect searches output after this offset
	done chan struct{}
}

func openPTY() (master *os.File, slave string, err error) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, "", err
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		return nil, "", fmt.Errorf("unlockpt: %w", err)
	}
	n, err := unix.IoctlGetUint32(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		m.Close()
		return nil, "", fmt.Errorf("ptsname: %w", err)
	}
	if err := unix.IoctlSetWinsize(int(m.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 40, Col: 160}); err != nil {
		m.Close()
		return nil, "", fmt.Errorf("set window size: %w", err)
	}
	return m, fmt.Sprintf("/dev/pts/%d", n), nil
}

// startTerminal starts cmd with a pseudo-terminal as its controlling
// terminal and standard streams.
func startTerminal(t testing.TB, cmd *exec.Cmd) *terminal {
	t.Helper()
	master, slavePath, err := openPTY()
	if err != nil {
		t.Fatalf("open pty: %v", err)
	}
	slave, err := os.OpenFile(slavePath, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		t.Fatalf("open pty slave: %v", err)
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		slave.Close()
		master.Close()
		t.Fatalf("start %s: %v", cmd.Path, err)
	}
	slave.Close()
	term := &terminal{t: t, master: master, cmd: cmd, done: make(chan struct{})}
	go func() {
		defer close(term.done)
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			if n > 0 {
				term.mu.Lock()
				term.out.Write(buf[:n])
				term.mu.Unlock()
			}
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		master.Close()
	})
	return term
}

var ansiRe = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]|\r`)

// Output returns everything printed so far with escape sequences removed.
func (term *terminal) Output() string {
	term.mu.Lock()
	defer term.mu.Unlock()
	return ansiRe.ReplaceAllString(term.out.String(), "")
}

// Expect waits until text appears after the previous match and returns the
// output from the previous match to the end of this one.
func (term *terminal) Expect(text string, timeout time.Duration) string {
	term.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		out := term.Output()
		if term.mark <= len(out) {
			if i := strings.Index(out[term.mark:], text); i >= 0 {
				seg := out[term.mark : term.mark+i+len(text)]
				term.mark += i + len(text)
				return seg
			}
		}
		select {
		case <-term.done:
			out = term.Output()
			if strings.Contains(out[min(term.mark, len(out)):], text) {
				continue
			}
			term.t.Fatalf("command ended before printing %q; output:\n%s", text, out)
		default:
		}
		if time.Now().After(deadline) {
			term.t.Fatalf("timed out waiting for %q; output:\n%s", text, out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Send types s followed by Enter.
func (term *terminal) Send(s string) {
	term.t.Helper()
	if _, err := term.master.Write([]byte(s + "\r")); err != nil {
		term.t.Fatalf("write to pty: %v", err)
	}
}

// Wait waits for the command to end and returns its error.
func (term *terminal) Wait(timeout time.Duration) error {
	term.t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- term.cmd.Wait() }()
	select {
	case err := <-errc:
		<-term.done
		return err
	case <-time.After(timeout):
		term.cmd.Process.Kill()
		term.t.Fatalf("command did not end within %s; output:\n%s", timeout, term.Output())
		return nil
	}
}
