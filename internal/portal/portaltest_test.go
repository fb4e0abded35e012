package portal_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"

	"github.com/gatehouse-dev/gatehouse/internal/mfa"
	"github.com/gatehouse-dev/gatehouse/internal/portal/portaltest"
)

func TestPortaltestApproveDevice(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	// Bob has an authenticator.
	m := &mfa.Service{Store: e.w.Store, Keys: e.keys, Audit: e.w.Audit, IDs: e.w.IDs, Now: time.Now, Rand: e.portal.Rand}
	en, err := m.NewEnrolment("bob")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Confirm(ctx, e.bob.ID, "", en.Seed, mfa.Code(en.Seed, mfa.Step(time.Now()))); err != nil {
		t.Fatal(err)
	}
	nextCode := func() string { return mfa.Code(en.Seed, mfa.Step(time.Now())+1) }

	for _, tc := range []struct {
		name    string
		person  portaltest.Person
		wantErr error
	}{
		{"password", portaltest.Person{UserName: "alice", Password: alicePassword}, nil},
		{"password and totp", portaltest.Person{UserName: "bob", Password: bobPassword, TOTP: nextCode}, nil},
		{"totp missing", portaltest.Person{UserName: "bob", Password: bobPassword}, portaltest.ErrNotSignedIn},
		{"wrong password", portaltest.Person{UserName: "alice", Password: "nope-nope"}, portaltest.ErrNotSignedIn},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, secret := e.deviceClient("botocore-client-corp")
			start, err := e.oidcC.StartDeviceAuthorization(ctx, &ssooidc.StartDeviceAuthorizationInput{
				ClientId: aws.String(id), ClientSecret: aws.String(secret), StartUrl: aws.String(e.w.Instance.StartURL),
			})
			if err != nil {
				t.Fatal(err)
			}
			err = portaltest.ApproveDevice(ctx, aws.ToString(start.VerificationUriComplete), tc.person)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("ApproveDevice: %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr != nil {
				return
			}
			if _, err := e.oidcC.CreateToken(ctx, &ssooidc.CreateTokenInput{
				ClientId: aws.String(id), ClientSecret: aws.String(secret), DeviceCode: start.DeviceCode,
				GrantType: aws.String("urn:ietf:params:oauth:grant-type:device_code"),
			}); err != nil {
				t.Errorf("CreateToken: %v", err)
			}
		})
	}
}

func TestStaticAssets(t *testing.T) {
	e := newEnv(t)
	p := e.browser().get("/static/gatehouse.css")
	wantStatus(t, p, http.StatusOK)
	if ct := p.Header.Get("Content-Type"); ct != "text/css; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if p.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("no nosniff on static files")
	}
	wantStatus(t, e.browser().get("/static/nope.js"), http.StatusNotFound)
}
