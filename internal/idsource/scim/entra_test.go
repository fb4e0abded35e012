package scim_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/oidc"
	"github.com/gatehouse-dev/gatehouse/internal/portal"
	"github.com/gatehouse-dev/gatehouse/internal/server/servertest"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// The requests below follow Microsoft's "Tutorial: Develop and plan
// provisioning for a SCIM endpoint in Microsoft Entra ID" (request and
// response examples) and "Known issues and resolutions with SCIM 2.0
// protocol compliance": capitalized op names, "Replace" of
// emails[type eq "work"].value, string booleans ("False"), the enterprise
// manager as a bare string, members removed with a value list, a
// membership check with `id eq … and members eq …`, and
// excludedAttributes=members on group queries.

const entraUser = `{
	"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
	"externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
	"userName": "Test_User_ab6490ee@contoso.com",
	"active": true,
	"displayName": "Test User",
	"emails": [{"primary": true, "type": "work", "value": "Test_User_fd0ea19b@contoso.com"}],
	"meta": {"resourceType": "User"},
	"name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
	"roles": [],
	"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "701984", "costCenter": "4130",
		"organization": "Universal Studios", "division": "Theme Park", "department": "Tour Operations"}
}`

func TestEntraUserLifecycle(t *testing.T) {
	srv, _ := newServer(t, false)
	c := newClient(t, srv)
	c.do("GET", "/Users"+filterQ(`userName eq "Test_User_ab6490ee@contoso.com"`), "").want(t, http.StatusOK)
	r := c.do("POST", "/Users", entraUser).want(t, http.StatusCreated)
	id := r.str("id")
	if r.str("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "department") != "Tour Operations" {
		t.Fatalf("created user without its enterprise attributes: %s", r.raw)
	}
	mgr := c.do("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"externalId":"mgr-1","userName":"boss@contoso.com",
		"active":true,"displayName":"Boss","emails":[{"primary":true,"type":"work","value":"boss@contoso.com"}],
		"name":{"familyName":"B","givenName":"Boss"}}`).want(t, http.StatusCreated).str("id")

	c.do("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"Replace","path":"emails[type eq \"work\"].value","value":"updatedEmail@contoso.com"},
		{"op":"Replace","path":"name.familyName","value":"updatedFamilyName"},
		{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"`+mgr+`"},
		{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Sales"},
		{"op":"Add","path":"title","value":"Guide"},
		{"op":"Replace","path":"externalId","value":"0a21f0f2-changed"}]}`).want(t, http.StatusOK)
	u := getUser(t, srv, id)
	if u.Emails[0].Value != "updatedEmail@contoso.com" || len(u.Emails) != 1 || u.Name.FamilyName != "updatedFamilyName" ||
		u.Name.GivenName != "givenName" || u.Profile.Title != "Guide" {
		t.Fatalf("after PATCH: %+v", u)
	}
	// The enterprise extension lives in the identity store's
	// aws:identitystore:enterprise extension.
	ext := string(u.Profile.Extensions[directory.EnterpriseExtension])
	for _, want := range []string{`"department":"Sales"`, `"employeeNumber":"701984"`, `"manager":{"value":"` + mgr + `"}`, `"costCenter":"4130"`} {
		if !containsStr(ext, want) {
			t.Fatalf("enterprise extension %s lacks %s", ext, want)
		}
	}
	if len(u.ExternalIDs) != 1 || u.ExternalIDs[0] != (store.ExternalID{Issuer: "SCIM", ID: "0a21f0f2-changed"}) {
		t.Fatalf("external IDs %+v", u.ExternalIDs)
	}
	r = c.do("GET", "/Users/"+id, "").want(t, http.StatusOK)
	if r.str("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "manager", "value") != mgr {
		t.Fatalf("GET: manager missing: %s", r.raw)
	}

	// Disable with a string boolean, then enable with a real one.
	c.do("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"Replace","path":"active","value":"False"}]}`).want(t, http.StatusOK)
	if !getUser(t, srv, id).Disabled {
		t.Fatal(`"active": "False" left the user enabled`)
	}
	c.do("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"Replace","path":"active","value":true}]}`).want(t, http.StatusOK)
	if getUser(t, srv, id).Disabled {
		t.Fatal(`"active": true left the user disabled`)
	}
	// "Yes" is no boolean.
	c.do("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"Replace","path":"active","value":"Yes"}]}`).wantError(t, http.StatusBadRequest, "invalidValue")
	// A remove of a required attribute is refused and changes nothing.
	c.do("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"Remove","path":"displayName"}]}`).wantError(t, http.StatusBadRequest, "invalidValue")
	if getUser(t, srv, id).DisplayName != "Test User" {
		t.Fatal("a refused PATCH changed the user")
	}

	// Deleting a user removes its direct assignments, as identitystore
	// DeleteUser does.
	ctx := t.Context()
	acct, ps := firstAccountAndSet(t, srv)
	if _, err := srv.Access.CreateAssignment(ctx, access.AssignmentInput{AccountID: acct, PermissionSetID: ps,
		PrincipalType: store.PrincipalUser, PrincipalID: id}); err != nil {
		t.Fatal(err)
	}
	c.do("DELETE", "/Users/"+id, "").want(t, http.StatusNoContent)
	as, err := srv.Store.ListAssignments(ctx, store.AssignmentFilter{PrincipalType: store.PrincipalUser, PrincipalID: id})
	if err != nil || len(as) != 0 {
		t.Fatalf("assignments of the deleted user: %v, %v", as, err)
	}
}

// firstAccountAndSet makes a permission set and returns the management
// account's ID and the set's ID.
func firstAccountAndSet(t *testing.T, srv *servertest.Server) (string, string) {
	t.Helper()
	ps, err := srv.Access.CreatePermissionSet(t.Context(), access.PermissionSetInput{Name: "ScimTest"})
	if err != nil {
		t.Fatal(err)
	}
	return srv.Instance.ManagementAccountID, ps.ID
}

func TestEntraGroups(t *testing.T) {
	srv, _ := newServer(t, false)
	c := newClient(t, srv)
	uid := c.do("POST", "/Users", entraUser).want(t, http.StatusCreated).str("id")
	r := c.do("POST", "/Groups", `{"externalId":"8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159","displayName":"Group 1936",
		"meta":{"resourceType":"Group"},"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"]}`).want(t, http.StatusCreated)
	gid := r.str("id")
	r = c.do("GET", "/Groups?excludedAttributes=members&filter="+urlq(`displayName eq "Group 1936"`), "").want(t, http.StatusOK)
	if r.total(t) != 1 || r.str("Resources", "externalId") != "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159" {
		t.Fatalf("group lookup: %s", r.raw)
	}
	r = c.do("GET", "/Groups?filter="+urlq(`externalId eq "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159"`), "").want(t, http.StatusOK)
	if r.total(t) != 1 {
		t.Fatalf("group lookup by externalId: %s", r.raw)
	}
	isMember := func() bool {
		t.Helper()
		r := c.do("GET", "/Groups?excludedAttributes=members&filter="+urlq(`id eq "`+gid+`" and members eq "`+uid+`"`), "").want(t, http.StatusOK)
		return r.total(t) == 1
	}
	if isMember() {
		t.Fatal("member before add")
	}
	c.do("PATCH", "/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"name":"addMember","op":"Add","path":"members","value":[{"$ref":null,"value":"`+uid+`"}]}]}`).want(t, http.StatusNoContent)
	if !isMember() {
		t.Fatal("not a member after Add")
	}
	// Adding again is no error (idempotent).
	c.do("PATCH", "/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"Add","path":"members","value":[{"value":"`+uid+`"}]}]}`).want(t, http.StatusNoContent)
	c.do("PATCH", "/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"Replace","path":"displayName","value":"1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"}]}`).want(t, http.StatusNoContent)
	c.do("PATCH", "/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"name":"removeMember","op":"Remove","path":"members","value":[{"$ref":null,"value":"`+uid+`"}]}]}`).want(t, http.StatusNoContent)
	if isMember() {
		t.Fatal("still a member after Remove")
	}
	g, err := srv.Store.GetGroup(t.Context(), gid)
	if err != nil || g.DisplayName != "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName" {
		t.Fatalf("group %+v, %v", g, err)
	}
	c.do("DELETE", "/Groups/"+gid, "").want(t, http.StatusNoContent)
	c.do("GET", "/Groups/"+gid, "").wantError(t, http.StatusNotFound, "")
}

func urlq(f string) string { return url.QueryEscape(f) }

// TestDeactivationEndsAccess is the proof that matters: a person who
// signed in (a portal session, an OIDC access token from the device flow
// the AWS CLI runs, role credentials from GetRoleCredentials) is refused
// on the very next request after the IdP's PATCH active=false.
func TestDeactivationEndsAccess(t *testing.T) {
	srv, _ := newServer(t, true)
	ctx := t.Context()
	c := newClient(t, srv)
	uid := c.do("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"externalId":"fox-1",
		"userName":"fox@company.com","active":true,"displayName":"Fox M","emails":[{"primary":true,"type":"work","value":"fox@company.com"}],
		"name":{"familyName":"M","givenName":"Fox"}}`).want(t, http.StatusCreated).str("id")
	// The IdP pushes the user into the demo's Developers group, which
	// has PowerUserAccess on the dev account.
	r := c.do("GET", "/Groups?filter="+urlq(`displayName eq "Developers"`), "").want(t, http.StatusOK)
	gid := r.str("Resources", "id")
	c.do("PATCH", "/Groups/"+gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"Add","path":"members","value":[{"value":"`+uid+`"}]}]}`).want(t, http.StatusNoContent)
	var dev string
	accts, err := srv.Store.ListAccounts(ctx, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range accts {
		if a.Name == "dev" {
			dev = a.ID
		}
	}

	// Sign-in: a portal session, then the CLI's device flow approved in
	// it.
	cookie := make([]byte, 16)
	rand.Read(cookie)
	now := srv.Config.Now()
	sess := &store.Session{IDHash: srv.Keys.Hash(base64.RawURLEncoding.EncodeToString(cookie)), UserID: uid, MFA: true,
		AuthTime: now, CreatedAt: now, ExpiresAt: now.Add(8 * time.Hour)}
	if err := srv.Store.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	if who := signedIn(t, srv, cookie); who == nil || who.UserID != uid {
		t.Fatalf("portal session before deactivation: %+v", who)
	}
	cfg := aws.Config{Region: srv.Instance.Region}
	oc := ssooidc.NewFromConfig(cfg, func(o *ssooidc.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	reg, err := oc.RegisterClient(ctx, &ssooidc.RegisterClientInput{ClientName: aws.String("botocore-client-fox"), ClientType: aws.String("public"),
		Scopes: []string{"sso:account:access"}})
	if err != nil {
		t.Fatal(err)
	}
	sda, err := oc.StartDeviceAuthorization(ctx, &ssooidc.StartDeviceAuthorizationInput{ClientId: reg.ClientId, ClientSecret: reg.ClientSecret,
		StartUrl: aws.String(srv.Instance.StartURL)})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.OIDC.ApproveDevice(ctx, aws.ToString(sda.UserCode), oidc.SignedIn{UserID: uid, UserName: "fox@company.com",
		SessionID: sess.IDHash, MFA: true, AuthTime: now, SessionExpiresAt: sess.ExpiresAt}); err != nil {
		t.Fatal(err)
	}
	tok, err := oc.CreateToken(ctx, &ssooidc.CreateTokenInput{ClientId: reg.ClientId, ClientSecret: reg.ClientSecret,
		GrantType: aws.String("urn:ietf:params:oauth:grant-type:device_code"), DeviceCode: sda.DeviceCode})
	if err != nil {
		t.Fatal(err)
	}
	sc := sso.NewFromConfig(cfg, func(o *sso.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	rc, err := sc.GetRoleCredentials(ctx, &sso.GetRoleCredentialsInput{AccessToken: tok.AccessToken, AccountId: aws.String(dev),
		RoleName: aws.String("PowerUserAccess")})
	if err != nil {
		t.Fatalf("GetRoleCredentials before deactivation: %v", err)
	}
	creds := aws.Credentials{AccessKeyID: aws.ToString(rc.RoleCredentials.AccessKeyId),
		SecretAccessKey: aws.ToString(rc.RoleCredentials.SecretAccessKey), SessionToken: aws.ToString(rc.RoleCredentials.SessionToken)}
	stc := sts.NewFromConfig(aws.Config{Region: srv.Instance.Region, Credentials: aws.CredentialsProviderFunc(
		func(context.Context) (aws.Credentials, error) { return creds, nil })}, func(o *sts.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	if _, err := stc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("GetCallerIdentity before deactivation: %v", err)
	}
	if _, err := sc.ListAccounts(ctx, &sso.ListAccountsInput{AccessToken: tok.AccessToken}); err != nil {
		t.Fatalf("ListAccounts before deactivation: %v", err)
	}

	// The IdP deactivates the user (Okta's form).
	c.do("PATCH", "/Users/"+uid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"replace","value":{"active":false}}]}`).want(t, http.StatusOK)

	// The very next requests are refused.
	if _, err := stc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err == nil {
		t.Fatal("role credentials still work after deactivation")
	}
	if _, err := sc.ListAccounts(ctx, &sso.ListAccountsInput{AccessToken: tok.AccessToken}); err == nil {
		t.Fatal("the OIDC access token still works after deactivation")
	}
	if _, err := sc.GetRoleCredentials(ctx, &sso.GetRoleCredentialsInput{AccessToken: tok.AccessToken, AccountId: aws.String(dev),
		RoleName: aws.String("PowerUserAccess")}); err == nil {
		t.Fatal("GetRoleCredentials still works after deactivation")
	}
	if _, err := oc.CreateToken(ctx, &ssooidc.CreateTokenInput{ClientId: reg.ClientId, ClientSecret: reg.ClientSecret,
		GrantType: aws.String("refresh_token"), RefreshToken: tok.RefreshToken}); err == nil {
		t.Fatal("the refresh token still works after deactivation")
	}
	// The portal session is refused too.
	if who := signedIn(t, srv, cookie); who != nil {
		t.Fatalf("the portal session still works after deactivation: %+v", who)
	}

	// Reactivation lets the person sign in again, but nothing issued
	// before the deactivation comes back (the revocation stays).
	c.do("PATCH", "/Users/"+uid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"replace","value":{"active":true}}]}`).want(t, http.StatusOK)
	if getUser(t, srv, uid).Disabled {
		t.Fatal("still disabled after active=true")
	}
	if _, err := stc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err == nil {
		t.Fatal("role credentials issued before the deactivation work again after reactivation")
	}
	if _, err := sc.ListAccounts(ctx, &sso.ListAccountsInput{AccessToken: tok.AccessToken}); err == nil {
		t.Fatal("an access token issued before the deactivation works again after reactivation")
	}
	if who := signedIn(t, srv, cookie); who != nil {
		t.Fatal("a portal session from before the deactivation works again after reactivation")
	}
}

// signedIn asks the portal who the session cookie speaks for (nil: no one).
func signedIn(t *testing.T, srv *servertest.Server, cookie []byte) *oidc.SignedIn {
	t.Helper()
	r := httptest.NewRequestWithContext(t.Context(), "GET", srv.URL+"/start", nil)
	r.AddCookie(&http.Cookie{Name: portal.CookieName, Value: base64.RawURLEncoding.EncodeToString(cookie)})
	who, err := srv.Portal.SignedIn(r)
	if err != nil {
		t.Fatal(err)
	}
	return who
}
