package oidcrp

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gatehouse-dev/gatehouse/internal/idsource"
)

func TestIdentityFromClaims(t *testing.T) {
	base := map[string]any{"email": "ana@corp.example", "given_name": "Ana", "family_name": "Lima", "name": "Ana Lima"}
	with := func(extra map[string]any) map[string]any {
		m := map[string]any{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	cases := []struct {
		name     string
		settings map[string]string
		claims   map[string]any
		want     idsource.Identity
	}{
		{"okta reads preferred_username and groups", map[string]string{"preset": "okta"},
			with(map[string]any{"preferred_username": "ana.lima", "groups": []any{"eng", " ops ", 7, ""}}),
			idsource.Identity{UserName: "ana.lima", Groups: []string{"eng", "ops"}}},
		{"google reads email and no groups", map[string]string{"preset": "google"},
			with(map[string]any{"preferred_username": "ignored", "groups": []any{"eng"}}),
			idsource.Identity{UserName: "ana@corp.example"}},
		{"missing user name claim falls back to email", map[string]string{"preset": "keycloak"},
			with(nil), idsource.Identity{UserName: "ana@corp.example", Groups: []string{}}},
		{"one group as a string", map[string]string{"preset": "custom"},
			with(map[string]any{"preferred_username": "ana", "groups": "eng"}), idsource.Identity{UserName: "ana", Groups: []string{"eng"}}},
		{"entra group overage leaves memberships alone", map[string]string{"preset": "entra"},
			with(map[string]any{"preferred_username": "ana@corp.example", "_claim_names": map[string]any{"groups": "src1"}}),
			idsource.Identity{UserName: "ana@corp.example"}},
		{"overridden claims", map[string]string{"preset": "entra", "userNameClaim": "upn", "groupsClaim": "roles"},
			with(map[string]any{"upn": "ana@corp.onmicrosoft.com", "roles": []any{"Admins"}, "groups": []any{"x"}}),
			idsource.Identity{UserName: "ana@corp.onmicrosoft.com", Groups: []string{"Admins"}}},
		{"groups claim none", map[string]string{"preset": "okta", "groupsClaim": "none"},
			with(map[string]any{"preferred_username": "ana", "groups": []any{"x"}}), idsource.Identity{UserName: "ana"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := map[string]string{SettingIssuer: "https://idp.example", SettingClientID: "c"}
			for k, v := range tc.settings {
				m[k] = v
			}
			s, err := parse(m)
			if err != nil {
				t.Fatal(err)
			}
			got := identity(s, "https://idp.example", "sub-1", tc.claims)
			want := tc.want
			want.Issuer, want.Subject, want.Email = "https://idp.example", "sub-1", "ana@corp.example"
			want.GivenName, want.FamilyName, want.DisplayName = "Ana", "Lima", "Ana Lima"
			if d := cmp.Diff(want, got); d != "" {
				t.Fatalf("identity (-want +got):\n%s", d)
			}
		})
	}
}

func TestScopesAndIssuer(t *testing.T) {
	for preset, want := range map[string]string{"okta": "openid email profile groups", "google": "openid email profile", "entra": "openid email profile"} {
		s, err := parse(map[string]string{SettingIssuer: "https://idp.example", SettingClientID: "c", SettingPreset: preset})
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(s.Scopes, " "); got != want {
			t.Errorf("%s scopes = %q, want %q", preset, got, want)
		}
	}
	s, err := parse(map[string]string{SettingIssuer: "https://idp.example", SettingClientID: "c", SettingScopes: "email groups"})
	if err != nil || strings.Join(s.Scopes, " ") != "openid email groups" {
		t.Fatalf("scopes = %v, %v; want openid added", s, err)
	}
	for _, bad := range []string{"http://idp.example", "https://idp.example/?x=1", "https://idp.example/#f", "ftp://idp.example", "https://user@idp.example", "", "idp.example"} {
		if err := checkIssuer(bad); err == nil {
			t.Errorf("checkIssuer(%q) accepted", bad)
		}
	}
	for _, good := range []string{"https://login.microsoftonline.com/t/v2.0", "http://127.0.0.1:8080", "http://localhost:8080/realms/r", "http://[::1]:9"} {
		if err := checkIssuer(good); err != nil {
			t.Errorf("checkIssuer(%q) = %v", good, err)
		}
	}
}

func TestMFAFromAMR(t *testing.T) {
	for amr, want := range map[string]bool{"pwd": false, "pwd mfa": true, "otp": true, "hwk": true, "pwd swk": false, "": false} {
		if got := mfa(strings.Fields(amr)); got != want {
			t.Errorf("mfa(%q) = %v", amr, got)
		}
	}
}
