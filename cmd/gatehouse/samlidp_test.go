package main

import (
	"bytes"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/server"
)

// TestSAMLIdPCommand: show makes and lists the first signing key; rotate
// (no account linked, so nothing to publish) makes a new signing key and
// retires the old one.
func TestSAMLIdPCommand(t *testing.T) {
	dir := t.TempDir()
	if err := run(t.Context(), []string{"migrate", "--data", dir}, io.Discard, io.Discard, env(nil)); err != nil {
		t.Fatal(err)
	}
	gh := func(args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		err := samlIdPCmd{open: server.New}.run(t.Context(), append(args, "--data", dir, "--public-url", "https://gatehouse.example"), &out, &errOut, env(nil))
		if err != nil {
			t.Fatalf("saml-idp %s: %v\n%s%s", args, err, out.String(), errOut.String())
		}
		return out.String()
	}
	row := regexp.MustCompile(`(?m)^([0-9a-f]{16})\s+(signing|pending|retired)\s`)
	out := gh("show")
	if !strings.Contains(out, "Entity ID:    https://gatehouse.example/saml/idp") ||
		!strings.Contains(out, "Metadata URL: https://gatehouse.example/saml/idp/metadata") {
		t.Fatalf("show:\n%s", out)
	}
	first := row.FindAllStringSubmatch(out, -1)
	if len(first) != 1 || first[0][2] != "signing" {
		t.Fatalf("show lists %v, want one signing key:\n%s", first, out)
	}
	out = gh("rotate")
	rows := row.FindAllStringSubmatch(out, -1)
	if len(rows) != 2 || rows[0][1] != first[0][1] || rows[0][2] != "retired" || rows[1][2] != "signing" ||
		!strings.Contains(out, "Key "+rows[1][1]+" signs now") {
		t.Fatalf("after rotate:\n%s", out)
	}
	var out2, errOut bytes.Buffer
	if err := (samlIdPCmd{open: server.New}).run(t.Context(), []string{"frobnicate"}, &out2, &errOut, env(nil)); err == nil {
		t.Fatal("an unknown verb was accepted")
	}
}
