package oidcrp

import (
	"cmp"
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/idsource"
)

// Setting names (the admin API's camelCase keys).
const (
	SettingIssuer          = "issuerUrl"
	SettingClientID        = "clientId"
	SettingPreset          = "preset"
	SettingScopes          = "scopes"
	SettingUserNameClaim   = "userNameClaim"
	SettingEmailClaim      = "emailClaim"
	SettingGivenNameClaim  = "givenNameClaim"
	SettingFamilyNameClaim = "familyNameClaim"
	SettingDisplayClaim    = "displayNameClaim"
	SettingGroupsClaim     = "groupsClaim"
	// SecretName is the kind's secret: the client secret.
	SecretName = "clientSecret"
)

// noClaim, as a groups claim, says the provider sends none.
const noClaim = "none"

// fields are the kind's settings, in the console's order.
func fields() []idsource.Field {
	return []idsource.Field{
		{Name: SettingIssuer, Label: "Issuer URL", Required: true, SecretBound: true,
			Help: "The provider's issuer, exactly as its /.well-known/openid-configuration says: https://<org>.okta.com/oauth2/default, https://login.microsoftonline.com/<tenant-id>/v2.0, https://accounts.google.com, https://<host>/realms/<realm>."},
		{Name: SettingClientID, Label: "Client ID", Required: true, Help: "The client (application) ID of the web application registered at the provider."},
		{Name: SettingPreset, Label: "Provider", Default: "custom", Options: presetNames,
			Help: "Sets the default claim names and scopes: okta, entra and keycloak read preferred_username and groups; google reads email and has no groups claim (groups come from SCIM or are managed in Gatehouse); custom reads the standard claims and groups."},
		{Name: SettingScopes, Label: "Scopes", Help: "Space-separated; empty means openid email profile, plus groups for okta. openid is always asked for."},
		{Name: SettingUserNameClaim, Label: "User name claim", Help: "Empty means the provider's default (preferred_username; email for google). Falls back to email when missing."},
		{Name: SettingEmailClaim, Label: "Email claim", Help: "Empty means email."},
		{Name: SettingGivenNameClaim, Label: "Given name claim", Help: "Empty means given_name."},
		{Name: SettingFamilyNameClaim, Label: "Family name claim", Help: "Empty means family_name."},
		{Name: SettingDisplayClaim, Label: "Display name claim", Help: "Empty means name."},
		{Name: SettingGroupsClaim, Label: "Groups claim",
			Help: "Empty means groups (none for google); \"none\" when the provider sends no groups. Entra ID sends group object IDs unless the app registration emits group names."},
	}
}

// settings are the kind's settings parsed, with the preset applied.
type settings struct {
	Issuer, ClientID string
	Preset           Preset
	Scopes           []string
	// Claim names; Groups "" means no groups claim.
	UserName, Email, GivenName, FamilyName, DisplayName, Groups string
}

// parse reads stored settings (defaults applied by idsource).
func parse(m map[string]string) (*settings, error) {
	var errs []string
	p, ok := Presets[m[SettingPreset]]
	if !ok {
		p = Presets["custom"]
		if m[SettingPreset] != "" {
			errs = append(errs, "preset must be one of "+strings.Join(presetNames, ", "))
		}
	}
	s := &settings{Issuer: m[SettingIssuer], ClientID: m[SettingClientID], Preset: p,
		UserName: cmp.Or(m[SettingUserNameClaim], p.UserName), Email: cmp.Or(m[SettingEmailClaim], p.Email),
		GivenName: cmp.Or(m[SettingGivenNameClaim], p.GivenName), FamilyName: cmp.Or(m[SettingFamilyNameClaim], p.FamilyName),
		DisplayName: cmp.Or(m[SettingDisplayClaim], p.DisplayName), Groups: cmp.Or(m[SettingGroupsClaim], p.Groups)}
	if s.Groups == noClaim {
		s.Groups = ""
	}
	if err := checkIssuer(s.Issuer); err != nil {
		errs = append(errs, err.Error())
	}
	if s.ClientID == "" {
		errs = append(errs, "clientId is required")
	}
	if sc := strings.Fields(m[SettingScopes]); len(sc) > 0 {
		s.Scopes = sc
	} else {
		s.Scopes = append([]string{"openid", "email", "profile"}, p.ExtraScopes...)
	}
	if !slices.Contains(s.Scopes, "openid") {
		s.Scopes = append([]string{"openid"}, s.Scopes...)
	}
	for _, sc := range s.Scopes {
		if strings.ContainsFunc(sc, func(r rune) bool { return r <= 0x20 || r == 0x7f || r == '"' || r == '\\' }) {
			errs = append(errs, "scopes may hold only printable characters")
			break
		}
	}
	if len(errs) > 0 {
		return nil, fault.Validationf("Invalid oidc settings: %s", strings.Join(errs, "; "))
	}
	return s, nil
}

// checkIssuer accepts an https URL with a host and no query or fragment
// (OpenID Connect Discovery 1.0 §2), and http only on a loopback host
// (a provider on the same machine, for trials and tests).
func checkIssuer(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil || len(raw) > 2048 {
		return errText("issuerUrl must be an https URL with no query or fragment")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		h := u.Hostname()
		if ip := net.ParseIP(h); h == "localhost" || (ip != nil && ip.IsLoopback()) {
			return nil
		}
	}
	return errText("issuerUrl must be an https URL (http only for a provider on this machine)")
}

type errText string

func (e errText) Error() string { return string(e) }
