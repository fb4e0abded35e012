package saml

import (
	"strings"

	csaml "github.com/crewjam/saml"

	"github.com/gatehouse-dev/gatehouse/internal/idsource"
)

// mfaClasses are the AuthnContextClassRef values that mean the person
// used more than a password (saml-authn-context-2.0-os §3.4; Microsoft's
// multipleauthn; REFEDS MFA, https://refeds.org/profile/mfa).
var mfaClasses = map[string]bool{
	"http://schemas.microsoft.com/claims/multipleauthn":                     true,
	"https://refeds.org/profile/mfa":                                        true,
	"urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract":        true,
	"urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorUnregistered":    true,
	"urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken":                  true,
	"urn:oasis:names:tc:SAML:2.0:ac:classes:Smartcard":                      true,
	"urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI":                   true,
	"urn:oasis:names:tc:SAML:2.0:ac:classes:MultiFactor":                    true,
	"urn:oasis:names:tc:SAML:2.0:ac:classes:X509":                           true,
	"urn:oasis:names:tc:SAML:2.0:ac:classes:SoftwarePKI":                    true,
	"urn:oasis:names:tc:SAML:2.0:ac:classes:MultiFactorContract":            true,
	"urn:oasis:names:tc:SAML:2.0:ac:classes:MobileOneFactorContract:2fa":    true,
	"http://schemas.openid.net/pape/policies/2007/06/multi-factor":          true,
	"http://schemas.openid.net/pape/policies/2007/06/multi-factor-physical": true,
}

// amrClaim is Entra ID's authentication methods claim, which says
// "multipleauthn" after MFA whatever the AuthnContextClassRef.
const amrClaim = "http://schemas.microsoft.com/claims/authnmethodsreferences"

// usedMFA reports whether the assertion says the person used a second
// factor.
func usedMFA(a *csaml.Assertion) bool {
	for _, st := range a.AuthnStatements {
		if ref := st.AuthnContext.AuthnContextClassRef; ref != nil && mfaClasses[strings.TrimSpace(ref.Value)] {
			return true
		}
	}
	for _, v := range values(a, []string{amrClaim}) {
		if mfaClasses[v] {
			return true
		}
	}
	return false
}

// values returns the values of the first attribute of names the assertion
// carries (matched by Name, then FriendlyName), or nil when it carries
// none of them.
func values(a *csaml.Assertion, names []string) []string {
	for _, n := range names {
		for _, byFriendly := range []bool{false, true} {
			for _, st := range a.AttributeStatements {
				for _, at := range st.Attributes {
					if (!byFriendly && at.Name == n) || (byFriendly && at.FriendlyName != "" && at.FriendlyName == n) {
						out := []string{}
						for _, v := range at.Values {
							if v := strings.TrimSpace(v.Value); v != "" {
								out = append(out, v)
							}
						}
						return out
					}
				}
			}
		}
	}
	return nil
}

func first(a *csaml.Assertion, names []string) string {
	if vs := values(a, names); len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// mapIdentity maps a verified assertion onto the person it names: Issuer
// and Subject are the IdP's entity ID and the NameID; the user name is the
// NameID or the configured attribute; no groups attribute is no groups,
// unless Entra ID says the groups did not fit (groupsLinkClaim).
func mapIdentity(set *settings, a *csaml.Assertion) (*idsource.Identity, error) {
	nameID := strings.TrimSpace(a.Subject.NameID.Value)
	id := &idsource.Identity{
		Issuer: set.idp.EntityID, Subject: nameID, UserName: nameID,
		Email: first(a, set.email), GivenName: first(a, set.givenName), FamilyName: first(a, set.familyName),
		DisplayName: first(a, set.display),
	}
	if set.userName != "" {
		id.UserName = first(a, []string{set.userName})
		if id.UserName == "" {
			return nil, refuse("MissingUserName", "the assertion has no "+set.userName+" attribute for the user name", nil)
		}
	}
	switch gs := values(a, set.groups); {
	case gs != nil:
		id.Groups = gs
	case values(a, []string{groupsLinkClaim}) == nil:
		// IdPs leave the attribute out for a person in no group (Okta's
		// group filter, Entra ID): none, so that a person removed from
		// their last group upstream leaves it here too. Only groups that
		// this IdP named are left (Provision).
		id.Groups = []string{}
	}
	return id, nil
}

// groupsLinkClaim is what Entra ID sends instead of the groups claim for a
// person in more groups than fit in a token (150 in SAML): the groups are
// then unknown and memberships are left as they are. Microsoft identity
// platform, "Configure group claims for applications" (group overage).
const groupsLinkClaim = "http://schemas.microsoft.com/claims/groups.link"
