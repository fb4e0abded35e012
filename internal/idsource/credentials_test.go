package idsource_test

import (
	"strings"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/idsource"
)

// TestCheckCredentialAction: with the built-in directory (and a nil
// Service) every credential action goes on; with OIDC active password
// resets, invitations and MFA resets are refused as Validation faults
// naming the identity provider.
func TestCheckCredentialAction(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	all := []idsource.CredentialAction{idsource.ResetPassword, idsource.SendInvitation, idsource.ResetMFA}
	for _, a := range all {
		if err := (*idsource.Service)(nil).CheckCredentialAction(ctx, a); err != nil {
			t.Errorf("nil service refused %d: %v", a, err)
		}
		if err := w.src.CheckCredentialAction(ctx, a); err != nil {
			t.Errorf("built-in directory refused %d: %v", a, err)
		}
	}
	secret := "s3cret"
	if err := w.src.Configure(ctx, idsource.OIDC, map[string]string{"issuer": "https://idp.example"}, &secret); err != nil {
		t.Fatal(err)
	}
	if _, err := w.src.Switch(ctx, idsource.OIDC); err != nil {
		t.Fatal(err)
	}
	c, err := w.src.Credentials(ctx)
	if err != nil || c.Kind != idsource.OIDC || c.Passwords || c.MFA {
		t.Fatalf("Credentials = %+v, %v", c, err)
	}
	for _, a := range all {
		err := w.src.CheckCredentialAction(ctx, a)
		if fault.KindOf(err) != fault.Validation || !strings.Contains(err.Error(), "OpenID Connect identity provider") {
			t.Errorf("OIDC active, action %d: %v, want a Validation fault naming the provider", a, err)
		}
	}

	// LDAP: the directory's passwords, Gatehouse's MFA.
	w.src.Register(&idsource.Kind{Name: idsource.LDAP, Title: "LDAP"})
	if err := w.src.Configure(ctx, idsource.LDAP, nil, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := w.src.Switch(ctx, idsource.LDAP); err != nil {
		t.Fatal(err)
	}
	for a, refused := range map[idsource.CredentialAction]bool{idsource.ResetPassword: true, idsource.SendInvitation: true, idsource.ResetMFA: false} {
		err := w.src.CheckCredentialAction(ctx, a)
		if refused != (err != nil) || (err != nil && !strings.Contains(err.Error(), "LDAP directory")) {
			t.Errorf("LDAP active, action %d: %v (refused %t wanted)", a, err, refused)
		}
	}
}
