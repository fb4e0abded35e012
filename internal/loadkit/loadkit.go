// Package loadkit runs a real `gatehouse serve` as a child process and
// drives it the way stock clients do, for the load tools under cmd/
// (signinload, and the hot-path and soak load tools). It is development tooling: nothing in the
// server imports it.
//
// Everything here talks to 127.0.0.1 only. Process figures (resident set
// size, CPU time) are read from Linux's /proc.
package loadkit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// StartURL is the start URL identifier the children are given, fixed so
// that device authorizations can name it.
const StartURL = "https://d-0123456789.awsapps.com/start"

// DemoPassword is the demo users' password in the children
// (GATEHOUSE_DEMO_PASSWORD).
const DemoPassword = "demo-password-1"

// DemoUsers are the demo world's users (examples/demo-world.yaml), who have
// no MFA device; the first is an administrator.
var DemoUsers = []string{"alice@company.com", "ed.developer"}

// FreeAddr returns a loopback address ("127.0.0.1:port") that was free when
// asked.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// ServeOptions describe a `gatehouse serve` child.
type ServeOptions struct {
	Bin         string   // path to a built gatehouse binary (required)
	Addr        string   // listen address; "" picks a free loopback port
	DataDir     string   // SQLite data folder; "" makes a temporary one, removed by Stop
	DatabaseURL string   // postgres:// URL; selects PostgreSQL instead of SQLite
	Demo        bool     // load the demo world (--demo)
	Args        []string // further flags of serve
	Env         []string // further environment variables (KEY=value)
	Stderr      io.Writer
}

// Child is a running `gatehouse serve`.
type Child struct {
	Base    string // http://addr
	Addr    string
	DataDir string
	cmd     *exec.Cmd
	tempDir bool
	once    sync.Once
	done    chan struct{}
}

// Start starts the child described by o, trusting X-Forwarded-For from
// 127.0.0.1 (so load workers can be many source addresses), with the demo
// password DemoPassword and the start URL StartURL, and waits until its
// /readyz answers 200 (at most 30 s).
func Start(ctx context.Context, o ServeOptions) (*Child, error) {
	if o.Bin == "" {
		return nil, errors.New("loadkit: no gatehouse binary")
	}
	c := &Child{Addr: o.Addr, DataDir: o.DataDir, done: make(chan struct{})}
	if c.Addr == "" {
		a, err := FreeAddr()
		if err != nil {
			return nil, err
		}
		c.Addr = a
	}
	if c.DataDir == "" {
		d, err := os.MkdirTemp("", "gatehouse-load-")
		if err != nil {
			return nil, err
		}
		c.DataDir, c.tempDir = d, true
	}
	args := []string{"serve", "-listen", c.Addr, "-data", c.DataDir, "-log-level", "warn",
		"-trusted-proxies", "127.0.0.1", "-start-url", StartURL}
	if o.Demo {
		args = append(args, "-demo")
	}
	if o.DatabaseURL != "" {
		args = append(args, "-database-url", o.DatabaseURL)
	}
	args = append(args, o.Args...)
	c.cmd = exec.CommandContext(ctx, o.Bin, args...)
	c.cmd.Env = append(append(os.Environ(), "GATEHOUSE_DEMO_PASSWORD="+DemoPassword), o.Env...)
	c.cmd.Stdout, c.cmd.Stderr = io.Discard, o.Stderr
	if c.cmd.Stderr == nil {
		c.cmd.Stderr = os.Stderr
	}
	if err := c.cmd.Start(); err != nil {
		c.cleanUp()
		return nil, err
	}
	go func() { _ = c.cmd.Wait(); close(c.done) }()
	c.Base = "http://" + c.Addr
	if err := WaitReady(c.Base, 30*time.Second); err != nil {
		c.Kill()
		return nil, err
	}
	return c, nil
}

// PID is the child's process ID.
func (c *Child) PID() int { return c.cmd.Process.Pid }

// Stop ends the child with SIGTERM (SIGKILL after 10 s) and removes a
// temporary data folder. It may be called more than once.
func (c *Child) Stop() {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
	c.cleanUp()
}

// Kill ends the child with SIGKILL at once, as a crash would, and waits for
// it to be gone. A temporary data folder is kept (see Stop).
func (c *Child) Kill() {
	_ = c.cmd.Process.Kill()
	<-c.done
}

func (c *Child) cleanUp() {
	c.once.Do(func() {
		if c.tempDir {
			os.RemoveAll(c.DataDir)
		}
	})
}

// WaitReady polls base+"/readyz" until it answers 200 or limit passes.
func WaitReady(base string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s did not become ready within %s", base, limit)
}

// RSS returns process pid's resident set size in bytes (VmRSS in
// /proc/<pid>/status).
func RSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmRSS")
}

// MiB converts bytes to mebibytes.
func MiB(n int64) float64 { return float64(n) / (1 << 20) }

// ProcessCPU returns the user + system CPU time of process pid
// (/proc/<pid>/stat fields 14 and 15, in clock ticks of 1/100 s); 0 when it
// cannot be read.
func ProcessCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:]) // fields from 3 on
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	k, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+k) * 10 * time.Millisecond
}

// SelfCPU returns this process's user + system CPU time.
func SelfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Loadavg returns the first three fields of /proc/loadavg.
func Loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

// PostJSON posts body as JSON to base+path and returns the answer's status
// and its JSON object (nil when it is none).
func PostJSON(c *http.Client, base, path string, body any) (int, map[string]any, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return 0, nil, err
	}
	resp, err := c.Post(base+path, "application/json", bytes.NewReader(b))
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m, nil
}
