package oidc_test

import (
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc/types"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/oidc"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

const grace = 30 * time.Second

// graceEnv is an env whose service gives rotated refresh tokens a grace.
func graceEnv(t *testing.T, grace time.Duration) *env {
	e := newEnv(t)
	e.svc.RefreshGrace = grace
	return e
}

// wantAlive checks that the grant behind at has not been revoked.
func wantAlive(t *testing.T, e *env, ats ...string) {
	t.Helper()
	for _, at := range ats {
		if _, err := e.svc.AuthenticateAccessToken(t.Context(), at); err != nil {
			t.Errorf("access token: %v, want it valid", err)
		}
	}
	if hasRevocation(t, e, store.RevokeGrant) {
		t.Errorf("the grant was revoked")
	}
}

func TestRefreshGrace(t *testing.T) {
	t.Run("inside the grace the successor is handed back", func(t *testing.T) {
		e := graceEnv(t, grace)
		c := e.deviceClient("sso:account:access")
		rt0 := aws.ToString(e.deviceLogin(c).RefreshToken)
		first, err := e.refresh(c, rt0)
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(grace - time.Second)
		again, err := e.refresh(c, rt0)
		if err != nil {
			t.Fatalf("rotated refresh token presented again within the grace: %v", err)
		}
		if aws.ToString(again.RefreshToken) != aws.ToString(first.RefreshToken) || aws.ToString(again.AccessToken) != aws.ToString(first.AccessToken) {
			t.Errorf("within the grace got a different pair than the first use issued")
		}
		if again.ExpiresIn != 3600-int32((grace-time.Second)/time.Second) || aws.ToString(again.TokenType) != "Bearer" {
			t.Errorf("handed-back token: expiresIn %d type %q, want %d Bearer", again.ExpiresIn, aws.ToString(again.TokenType), 3600-29)
		}
		wantAlive(t, e, aws.ToString(first.AccessToken))
		// The chain goes on from the successor.
		next, err := e.refresh(c, aws.ToString(first.RefreshToken))
		if err != nil {
			t.Fatalf("successor refresh token: %v", err)
		}
		wantAlive(t, e, aws.ToString(next.AccessToken))
		graceAudited := false
		for _, ev := range e.events() {
			if ev.Name == "CreateToken" && ev.ErrorCode == "" && strings.Contains(string(ev.Record), "within the rotation grace") {
				graceAudited = true
			}
		}
		if !graceAudited {
			t.Errorf("the handed-back successor is not audited")
		}
		// Once the grace has passed, the old token is a replay: it revokes
		// the whole grant, the chain that went on included.
		e.clock.Advance(2 * time.Second)
		_, err = e.refresh(c, rt0)
		wantAPIError[*types.InvalidGrantException](t, err, 400)
		if _, err := e.svc.AuthenticateAccessToken(t.Context(), aws.ToString(next.AccessToken)); !errors.Is(err, oidc.ErrInvalidToken) {
			t.Errorf("newest access token after the old refresh token's replay: %v, want ErrInvalidToken", err)
		}
		_, err = e.refresh(c, aws.ToString(next.RefreshToken))
		wantAPIError[*types.InvalidGrantException](t, err, 400)
	})

	t.Run("after the grace reuse revokes the grant", func(t *testing.T) {
		e := graceEnv(t, grace)
		c := e.deviceClient("sso:account:access")
		rt0 := aws.ToString(e.deviceLogin(c).RefreshToken)
		first, err := e.refresh(c, rt0)
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(grace)
		_, err = e.refresh(c, rt0)
		wantAPIError[*types.InvalidGrantException](t, err, 400)
		if !hasRevocation(t, e, store.RevokeGrant) {
			t.Errorf("no grant revocation after reuse past the grace")
		}
		if _, err := e.svc.AuthenticateAccessToken(t.Context(), aws.ToString(first.AccessToken)); !errors.Is(err, oidc.ErrInvalidToken) {
			t.Errorf("successor access token after reuse: %v, want ErrInvalidToken", err)
		}
		_, err = e.refresh(c, aws.ToString(first.RefreshToken))
		wantAPIError[*types.InvalidGrantException](t, err, 400)
	})

	t.Run("grace 0 turns it off", func(t *testing.T) {
		e := graceEnv(t, 0)
		c := e.deviceClient("sso:account:access")
		rt0 := aws.ToString(e.deviceLogin(c).RefreshToken)
		first, err := e.refresh(c, rt0)
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.refresh(c, rt0)
		wantAPIError[*types.InvalidGrantException](t, err, 400)
		if _, err := e.svc.AuthenticateAccessToken(t.Context(), aws.ToString(first.AccessToken)); !errors.Is(err, oidc.ErrInvalidToken) {
			t.Errorf("successor access token after immediate reuse with no grace: %v, want ErrInvalidToken", err)
		}
	})

	t.Run("the grace does not outlive the grant", func(t *testing.T) {
		e := graceEnv(t, grace)
		c := e.deviceClient("sso:account:access")
		rt0 := aws.ToString(e.deviceLogin(c).RefreshToken)
		first, err := e.refresh(c, rt0)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Logout(t.Context(), aws.ToString(first.AccessToken)); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Second)
		_, err = e.refresh(c, rt0)
		wantAPIError[*types.InvalidGrantException](t, err, 400)
	})

	t.Run("a loser after two quick rotations gets the newest unused token", func(t *testing.T) {
		e := graceEnv(t, grace)
		c := e.deviceClient("sso:account:access")
		rt0 := aws.ToString(e.deviceLogin(c).RefreshToken)
		first, err := e.refresh(c, rt0)
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Second)
		second, err := e.refresh(c, aws.ToString(first.RefreshToken))
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Second)
		late, err := e.refresh(c, rt0)
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(late.RefreshToken) != aws.ToString(second.RefreshToken) {
			t.Errorf("late loser got a refresh token that is already used")
		}
		wantAlive(t, e, aws.ToString(second.AccessToken))
	})
}

// TestRefreshGraceConcurrent sends one refresh token from many clients at
// once, as processes sharing an sso-session do: every one gets the same
// successor and the grant survives.
func TestRefreshGraceConcurrent(t *testing.T) {
	e := graceEnv(t, grace)
	c := e.deviceClient("sso:account:access")
	rt0 := aws.ToString(e.deviceLogin(c).RefreshToken)
	const n = 12
	var wg sync.WaitGroup
	start := make(chan struct{})
	outs := make([]*ssooidc.CreateTokenOutput, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			<-start
			outs[i], errs[i] = e.refresh(c, rt0)
		})
	}
	close(start)
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("refresh %d: %v", i, errs[i])
		}
		if aws.ToString(outs[i].RefreshToken) != aws.ToString(outs[0].RefreshToken) {
			t.Errorf("refresh %d got another refresh token than refresh 0", i)
		}
	}
	wantAlive(t, e, aws.ToString(outs[0].AccessToken))
	if _, err := e.refresh(c, aws.ToString(outs[0].RefreshToken)); err != nil {
		t.Errorf("the successor after the race: %v", err)
	}
}

// TestRefreshGraceAuditsTheUser checks that the successor handed back
// within the grace is audited, and logged, as the user the tokens speak
// for, as the first rotation is: CloudTrail's LookupEvents with
// AttributeKey=Username must find both events of a refresh race.
func TestRefreshGraceAuditsTheUser(t *testing.T) {
	e := graceEnv(t, grace)
	var logs lockedBuffer
	e.svc.Log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	c := e.deviceClient("sso:account:access")
	rt0 := aws.ToString(e.deviceLogin(c).RefreshToken)
	if _, err := e.refresh(c, rt0); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Second)
	if _, err := e.refresh(c, rt0); err != nil {
		t.Fatalf("rotated refresh token presented again within the grace: %v", err)
	}
	var refreshes int
	for _, ev := range e.events() {
		if ev.Name != "CreateToken" || !strings.Contains(string(ev.Record), `"grantType":"refresh_token"`) {
			continue
		}
		refreshes++
		var rec audit.Event
		if err := json.Unmarshal(ev.Record, &rec); err != nil {
			t.Fatal(err)
		}
		want := audit.Identity{Type: "IdentityCenterUser", PrincipalID: e.user.ID, UserID: e.user.ID, UserName: e.user.UserName}
		if ev.Principal != e.user.UserName || rec.UserIdentity != want {
			t.Errorf("refresh event %s: principal %q, userIdentity %+v; want %q, %+v", rec.RequestParameters, ev.Principal, rec.UserIdentity, e.user.UserName, want)
		}
	}
	if refreshes != 2 {
		t.Errorf("%d refresh events, want 2 (the rotation and the handed-back successor)", refreshes)
	}
	line := `level=INFO msg="tokens granted" principal=u-alice client_id=` + c.id + ` client_name=botocore-client-corp grant_type=refresh_token`
	if n := strings.Count(logs.String(), line); n != 2 {
		t.Errorf("log has %d lines %q, want 2:\n%s", n, line, logs.String())
	}
}
