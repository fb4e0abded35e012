// Package mototest starts moto_server (github.com/getmoto/moto, the image's
// Python package), an implementation of IAM, STS and S3 that stands in for
// real AWS in tests: linked accounts point their endpoint at it.
//
// moto loads the AWS-managed policies only with
// MOTO_IAM_LOAD_MANAGED_POLICIES=true (set here). It does not check SAML
// signatures, files an unsigned AssumeRoleWithSAML session under its
// default account (123456789012), and enforces IAM policies only when
// INITIAL_NO_AUTH_ACTION_COUNT is set.
package mototest

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Server is a running moto_server.
type Server struct {
	// URL is its endpoint, http://127.0.0.1:PORT.
	URL string
}

// Binary finds moto_server on PATH; "" when it is not installed.
func Binary() string {
	p, err := exec.LookPath("moto_server")
	if err != nil {
		return ""
	}
	return p
}

// Start starts moto_server on a free loopback port for the test, with
// extra environment variables env ("NAME=value"), and stops it at cleanup.
// It skips the test, naming moto_server, only when that is not installed.
func Start(t testing.TB, env ...string) *Server {
	t.Helper()
	bin := Binary()
	if bin == "" {
		t.Skip("moto_server (Python package moto) is not installed")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	logPath := filepath.Join(t.TempDir(), "moto.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	cmd.Env = append(os.Environ(), "MOTO_IAM_LOAD_MANAGED_POLICIES=true", "HTTPS_PROXY=", "HTTP_PROXY=")
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start moto_server: %v", err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		logFile.Close()
	})
	s := &Server{URL: fmt.Sprintf("http://127.0.0.1:%d", port)}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(s.URL + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return s
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(logPath)
			t.Fatalf("moto_server did not answer within 60 s: %v\n%s", err, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
