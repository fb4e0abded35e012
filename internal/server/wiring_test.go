package server_test

import (
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
)

// TestServicesBuiltOnce (issue 8): the wiring builds every service once
// and hands the same ones to each user; the portal builds none of its own.
func TestServicesBuiltOnce(t *testing.T) {
	srv := servertest.New(t, nil)
	if srv.MFA == nil || srv.Portal.MFA != srv.MFA || srv.SignIn.MFA != srv.MFA {
		t.Errorf("MFA services: server %p, portal %p, sign-in %p; want one", srv.MFA, srv.Portal.MFA, srv.SignIn.MFA)
	}
	if srv.Portal.SignIn != srv.SignIn || srv.Portal.OIDC != srv.OIDC {
		t.Error("the portal does not use the server's sign-in and OIDC services")
	}
}
