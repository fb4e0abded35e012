package oidc_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// lockedBuffer is a log sink safe for the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestInfoLogLines checks that approvals and token grants leave one
// info-level line each for the operator, naming who and which client, and
// never a token.
func TestInfoLogLines(t *testing.T) {
	e := newEnv(t)
	var logs lockedBuffer
	e.svc.Log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))

	dc := e.deviceClient("sso:account:access")
	tok := e.deviceLogin(dc)
	denied := e.start(dc)
	if err := e.svc.DenyDevice(context.Background(), aws.ToString(denied.UserCode), e.who); err != nil {
		t.Fatal(err)
	}
	pc := e.pkceClient()
	v, ch := pkce()
	if _, err := e.redeemCode(pc, e.authorize(pc, cliRedirect, ch), cliRedirect, v); err != nil {
		t.Fatal(err)
	}
	refreshed, err := e.refresh(dc, aws.ToString(tok.RefreshToken))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.refresh(dc, aws.ToString(tok.RefreshToken)); err == nil {
		t.Fatal("reused refresh token accepted")
	}

	out := logs.String()
	for _, want := range []string{
		`level=INFO msg="device sign-in approved" principal=alice client_id=` + dc.id,
		`level=INFO msg="device sign-in denied" principal=alice client_id=` + dc.id,
		`level=INFO msg="browser sign-in approved" principal=alice client_id=` + pc.id,
		`level=INFO msg="tokens granted" principal=u-alice client_id=` + dc.id + ` client_name=botocore-client-corp grant_type=device_code refresh_token=true`,
		`level=INFO msg="tokens granted" principal=u-alice client_id=` + pc.id + ` client_name=botocore-client-corp grant_type=authorization_code`,
		`level=INFO msg="tokens granted" principal=u-alice client_id=` + dc.id + ` client_name=botocore-client-corp grant_type=refresh_token`,
		`level=WARN msg="refresh token reused; grant revoked" client_id=` + dc.id,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	for _, secret := range []string{aws.ToString(tok.AccessToken), aws.ToString(tok.RefreshToken), aws.ToString(refreshed.AccessToken), aws.ToString(refreshed.RefreshToken), dc.secret} {
		if strings.Contains(out, secret) {
			t.Errorf("log carries a secret:\n%s", out)
		}
	}
}
