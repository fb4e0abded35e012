package oidcrp

// Preset is what differs between identity providers: where their issuer
// lives and which claims carry what. Everything else is standard OpenID
// Connect.
type Preset struct {
	// Name is the preset's setting value.
	Name string
	// IssuerHint shows the shape of the provider's issuer URL.
	IssuerHint string
	// UserName, Email, GivenName, FamilyName, DisplayName and Groups are
	// the default claim names; Groups "" means the provider sends no
	// groups claim.
	UserName, Email, GivenName, FamilyName, DisplayName, Groups string
	// ExtraScopes are asked for beside "openid email profile".
	ExtraScopes []string
}

// Presets, by name.
//
//   - google: Google's ID token carries email but no groups (Google
//     Workspace groups are not an OIDC claim); groups then come from SCIM
//     or are managed in Gatehouse. Sources: Google Identity, "OpenID
//     Connect" (developers.google.com/identity/openid-connect).
//   - entra: preferred_username is the user principal name; the groups
//     claim carries group object IDs unless the app registration is set to
//     emit names (cloud-only groups: "sAMAccountName" or the
//     "cloud_displayname" option). Microsoft identity platform, "ID token
//     claims reference" and "Configure group claims".
//   - okta: preferred_username is the Okta login; groups come from a
//     "groups" claim, sent by the org authorization server for the
//     "groups" scope or by a custom authorization server with a groups
//     claim. Okta docs, "Customize tokens returned from Okta with a groups
//     claim".
//   - keycloak: preferred_username and a "groups" claim from the client's
//     Group Membership mapper. Keycloak Server Administration Guide,
//     "Protocol mappers".
//   - custom: the standard claims of OpenID Connect Core §5.1 and a
//     "groups" claim.
var Presets = map[string]Preset{
	"custom": {Name: "custom", IssuerHint: "https://idp.example.com",
		UserName: "preferred_username", Email: "email", GivenName: "given_name", FamilyName: "family_name", DisplayName: "name", Groups: "groups"},
	"google": {Name: "google", IssuerHint: "https://accounts.google.com",
		UserName: "email", Email: "email", GivenName: "given_name", FamilyName: "family_name", DisplayName: "name"},
	"entra": {Name: "entra", IssuerHint: "https://login.microsoftonline.com/<tenant-id>/v2.0",
		UserName: "preferred_username", Email: "email", GivenName: "given_name", FamilyName: "family_name", DisplayName: "name", Groups: "groups"},
	"okta": {Name: "okta", IssuerHint: "https://<org>.okta.com or https://<org>.okta.com/oauth2/default",
		UserName: "preferred_username", Email: "email", GivenName: "given_name", FamilyName: "family_name", DisplayName: "name", Groups: "groups",
		ExtraScopes: []string{"groups"}},
	"keycloak": {Name: "keycloak", IssuerHint: "https://<host>/realms/<realm>",
		UserName: "preferred_username", Email: "email", GivenName: "given_name", FamilyName: "family_name", DisplayName: "name", Groups: "groups"},
}

// presetNames is the order the console lists them in.
var presetNames = []string{"custom", "okta", "entra", "google", "keycloak"}
