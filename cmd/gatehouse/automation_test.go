package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAutomationCommand bootstraps a pipeline from the command line: an
// automation user with an inline policy and an access key (shown once,
// expiring by -key-ttl), disabled, deleted; bad input is refused.
func TestAutomationCommand(t *testing.T) {
	ctx := t.Context()
	data := t.TempDir()
	keyFile := filepath.Join(t.TempDir(), "master.key")
	// The instance is the one gatehouse serve created.
	_, stop := startServe(t, []string{"--data", data, "--master-key-file", keyFile, "--listen", "127.0.0.1:0"}, env(nil))
	stop()
	gh := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		args = append(append([]string{"automation"}, args...), "-data", data, "-master-key-file", keyFile)
		err := run(ctx, args, &out, &errOut, env(nil))
		return out.String(), err
	}
	must := func(args ...string) string {
		t.Helper()
		out, err := gh(args...)
		if err != nil {
			t.Fatalf("gatehouse automation %s: %v", strings.Join(args, " "), err)
		}
		return out
	}
	var created struct {
		User struct{ UserName, Arn, UserId string }
	}
	if err := json.Unmarshal([]byte(must("create-user", "-user-name", "deployer", "-key-ttl", "90d", "-tag", "team=platform")), &created); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(created.User.UserId, "AIDA") || !strings.HasSuffix(created.User.Arn, ":user/deployer") {
		t.Errorf("created %+v", created.User)
	}
	if _, err := gh("create-user", "-user-name", "DEPLOYER"); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("duplicate user: %v", err)
	}
	policy := filepath.Join(t.TempDir(), "p.json")
	os.WriteFile(policy, []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sso:ListInstances","Resource":"*"}]}`), 0o600)
	must("put-policy", "-user-name", "deployer", "-policy-name", "deploy", "-policy-file", policy)
	must("attach-policy", "-user-name", "deployer", "-policy-arn", "arn:aws:iam::aws:policy/ReadOnlyAccess")

	var key struct {
		AccessKey struct{ AccessKeyId, SecretAccessKey, Status, ExpirationDate string }
	}
	if err := json.Unmarshal([]byte(must("create-access-key", "-user-name", "deployer")), &key); err != nil {
		t.Fatal(err)
	}
	k := key.AccessKey
	if !strings.HasPrefix(k.AccessKeyId, "AKIA") || len(k.SecretAccessKey) != 40 || k.Status != "Active" || k.ExpirationDate == "" {
		t.Errorf("new key %+v", k)
	}
	must("update-access-key", "-user-name", "deployer", "-access-key-id", k.AccessKeyId, "-status", "Inactive")
	list := must("list-access-keys", "-user-name", "deployer")
	if !strings.Contains(list, `"Inactive"`) || strings.Contains(list, k.SecretAccessKey) {
		t.Errorf("list after disabling (must not show the secret):\n%s", list)
	}
	if _, err := gh("delete-user", "-user-name", "deployer"); err == nil {
		t.Error("deleting a user with keys and policies succeeded")
	}
	must("delete-access-key", "-user-name", "deployer", "-access-key-id", k.AccessKeyId)
	must("detach-policy", "-user-name", "deployer", "-policy-arn", "arn:aws:iam::aws:policy/ReadOnlyAccess")
	if _, err := gh("delete-user", "-user-name", "deployer"); err == nil {
		t.Error("deleting a user with an inline policy succeeded")
	}

	if _, err := gh("create-oidc-provider", "-url", "https://token.actions.githubusercontent.com", "-role", "Deploy",
		"-subjects", "repo:org/app:ref:refs/heads/main"); err != nil {
		t.Fatal(err)
	}
	if out := must("list-oidc-providers"); !strings.Contains(out, "oidc-provider/token.actions.githubusercontent.com") {
		t.Errorf("providers:\n%s", out)
	}
	for _, bad := range [][]string{{"create-user"}, {"frobnicate"}, {"create-user", "-user-name", "bad name"}} {
		if _, err := gh(bad...); err == nil {
			t.Errorf("gatehouse automation %v succeeded", bad)
		}
	}
}

// The automation command never creates an instance: on a folder no server
// has run on it says to run gatehouse serve first, and on the folder of a
// running server it says to use the AWS CLI against the server (or stop
// it), creating nothing either way.
func TestAutomationNeedsAnInstance(t *testing.T) {
	ctx := t.Context()
	gh := func(data string) error {
		return run(ctx, []string{"automation", "create-user", "-user-name", "deployer", "-data", data}, io.Discard, io.Discard, env(nil))
	}
	empty := filepath.Join(t.TempDir(), "new")
	err := gh(empty)
	if err == nil || !strings.Contains(err.Error(), "no Gatehouse instance in "+empty+"; run gatehouse serve first") {
		t.Errorf("automation on a new folder: %v", err)
	}
	if _, serr := os.Stat(empty); !os.IsNotExist(serr) {
		t.Errorf("automation on a new folder created it (%v)", serr)
	}

	data := t.TempDir()
	_, stop := startServe(t, []string{"--data", data, "--listen", "127.0.0.1:0"}, env(nil))
	defer stop()
	err = gh(data)
	if err == nil || !strings.Contains(err.Error(), "is in use by a running Gatehouse") || !strings.Contains(err.Error(), "aws iam create-user") ||
		!strings.Contains(err.Error(), "stop the server") || strings.Contains(err.Error(), "another --data folder") {
		t.Errorf("automation on a running server's folder: %v", err)
	}
}
