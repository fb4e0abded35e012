package loadkit

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestChildDeviceLoginAndRefresh builds gatehouse, starts it as a child
// with the demo world and checks that a device login yields tokens that
// work: the access token for GetRoleCredentials and the refresh token for a
// refresh.
func TestChildDeviceLoginAndRefresh(t *testing.T) {
	if testing.Short() {
		t.Skip("builds gatehouse and starts it (-short given)")
	}
	bin := filepath.Join(t.TempDir(), "gatehouse")
	build := exec.Command("go", "build", "-o", bin, "github.com/gatehouse-dev/gatehouse/cmd/gatehouse")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	c, err := Start(context.Background(), ServeOptions{Bin: bin, Demo: true})
	if err != nil {
		t.Fatal(err)
	}
	dir := c.DataDir
	defer func() {
		c.Stop()
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("temporary data folder %s not removed: %v", dir, err)
		}
	}()
	tok, err := DeviceLogin(c.Base, http.DefaultTransport, DemoUsers[0], DemoPassword)
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" {
		t.Fatalf("tokens: %+v", tok)
	}
	req, _ := http.NewRequest("GET", c.Base+"/federation/credentials?role_name=AdministratorAccess&account_id=111111111111", nil)
	req.Header.Set("x-amz-sso_bearer_token", tok.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GetRoleCredentials: %s", resp.Status)
	}
	code, out, err := PostJSON(http.DefaultClient, c.Base, "/token", map[string]string{"clientId": tok.ClientID, "clientSecret": tok.ClientSecret,
		"grantType": "refresh_token", "refreshToken": tok.RefreshToken})
	if err != nil || code != 200 || out["refreshToken"] == tok.RefreshToken {
		t.Fatalf("refresh: %d %v %v", code, out, err)
	}
	if rss, err := RSS(c.PID()); err != nil || rss <= 0 || ProcessCPU(c.PID()) <= 0 {
		t.Fatalf("process figures: rss %d %v, cpu %s", rss, err, ProcessCPU(c.PID()))
	}
}

// TestForwardedFor checks that the wrapped transport sets X-Forwarded-For
// on every request without changing the caller's request.
func TestForwardedFor(t *testing.T) {
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got <- r.Header.Get("X-Forwarded-For") }))
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL, nil)
	resp, err := (&http.Client{Transport: ForwardedFor(nil, "10.1.2.3")}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if h := <-got; h != "10.1.2.3" {
		t.Fatalf("X-Forwarded-For = %q", h)
	}
	if h := req.Header.Get("X-Forwarded-For"); h != "" {
		t.Fatalf("the caller's request was changed: %q", h)
	}
}
