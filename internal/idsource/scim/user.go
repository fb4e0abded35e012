package scim

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// ExternalIDIssuer is the Issuer of the identity-store ExternalId that
// holds a resource's SCIM externalId: IAM Identity Center shows users and
// groups provisioned over SCIM with ExternalIds [{"Issuer": "SCIM", "Id":
// <externalId>}], and identitystore GetUserId finds them by it.
const ExternalIDIssuer = "SCIM"

// flexBool is a SCIM boolean as clients send it: true/false, or the
// strings "True"/"False" in any case (Entra ID's PATCH values; "Known issues
// and resolutions with SCIM 2.0 protocol compliance").
type flexBool bool

func (b *flexBool) UnmarshalJSON(data []byte) error {
	var v bool
	if err := json.Unmarshal(data, &v); err == nil {
		*b = flexBool(v)
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err == nil {
		switch strings.ToLower(s) {
		case "true":
			*b = true
			return nil
		case "false":
			*b = false
			return nil
		}
	}
	return badRequest(typeInvalidValue, "a boolean must be true or false")
}

type nameDoc struct {
	Formatted       string `json:"formatted,omitempty"`
	FamilyName      string `json:"familyName,omitempty"`
	GivenName       string `json:"givenName,omitempty"`
	MiddleName      string `json:"middleName,omitempty"`
	HonorificPrefix string `json:"honorificPrefix,omitempty"`
	HonorificSuffix string `json:"honorificSuffix,omitempty"`
}

type multiDoc struct {
	Value   string    `json:"value,omitempty"`
	Type    string    `json:"type,omitempty"`
	Primary *flexBool `json:"primary,omitempty"`
}

type addressDoc struct {
	Formatted     string    `json:"formatted,omitempty"`
	StreetAddress string    `json:"streetAddress,omitempty"`
	Locality      string    `json:"locality,omitempty"`
	Region        string    `json:"region,omitempty"`
	PostalCode    string    `json:"postalCode,omitempty"`
	Country       string    `json:"country,omitempty"`
	Type          string    `json:"type,omitempty"`
	Primary       *flexBool `json:"primary,omitempty"`
}

// managerDoc is the enterprise manager: {"value": id}; Entra ID sends the
// bare ID string in PATCH values, which is taken as the value too.
type managerDoc struct {
	Value string `json:"value,omitempty"`
}

func (m *managerDoc) UnmarshalJSON(data []byte) error {
	if b := bytes.TrimSpace(data); len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &m.Value)
	}
	var v struct {
		Value string `json:"value"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	m.Value = v.Value
	return nil
}

// enterpriseDoc is the enterprise-user extension (RFC 7643 §4.3), stored
// as the identity store's aws:identitystore:enterprise extension under the
// same attribute names.
type enterpriseDoc struct {
	EmployeeNumber string      `json:"employeeNumber,omitempty"`
	CostCenter     string      `json:"costCenter,omitempty"`
	Organization   string      `json:"organization,omitempty"`
	Division       string      `json:"division,omitempty"`
	Department     string      `json:"department,omitempty"`
	Manager        *managerDoc `json:"manager,omitempty"`
}

func (e *enterpriseDoc) empty() bool {
	return e == nil || (*e == enterpriseDoc{}) || (e.EmployeeNumber == "" && e.CostCenter == "" && e.Organization == "" &&
		e.Division == "" && e.Department == "" && (e.Manager == nil || e.Manager.Value == ""))
}

type metaDoc struct {
	ResourceType string `json:"resourceType"`
	Created      string `json:"created,omitempty"`
	LastModified string `json:"lastModified,omitempty"`
	Location     string `json:"location,omitempty"`
}

// userDoc is a SCIM User (RFC 7643 §4.1) with the attributes IAM Identity
// Center supports ("Limitations from SCIM specification"). Decoding
// matches attribute names ignoring case, as SCIM's are.
type userDoc struct {
	Schemas           []string       `json:"schemas"`
	ID                string         `json:"id,omitempty"`
	ExternalID        string         `json:"externalId,omitempty"`
	UserName          string         `json:"userName,omitempty"`
	Name              *nameDoc       `json:"name,omitempty"`
	DisplayName       string         `json:"displayName,omitempty"`
	NickName          string         `json:"nickName,omitempty"`
	ProfileURL        string         `json:"profileUrl,omitempty"`
	Title             string         `json:"title,omitempty"`
	UserType          string         `json:"userType,omitempty"`
	PreferredLanguage string         `json:"preferredLanguage,omitempty"`
	Locale            string         `json:"locale,omitempty"`
	Timezone          string         `json:"timezone,omitempty"`
	Active            *flexBool      `json:"active,omitempty"`
	Emails            []multiDoc     `json:"emails,omitempty"`
	Addresses         []addressDoc   `json:"addresses,omitempty"`
	PhoneNumbers      []multiDoc     `json:"phoneNumbers,omitempty"`
	Roles             []multiDoc     `json:"roles,omitempty"`
	Enterprise        *enterpriseDoc `json:"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User,omitempty"`
	Meta              *metaDoc       `json:"meta,omitempty"`

	// Refused: IAM Identity Center does not take passwords, photos,
	// groups, ims, entitlements or certificates over SCIM.
	Password         json.RawMessage `json:"password,omitempty"`
	Groups           json.RawMessage `json:"groups,omitempty"`
	Photos           json.RawMessage `json:"photos,omitempty"`
	Ims              json.RawMessage `json:"ims,omitempty"`
	Entitlements     json.RawMessage `json:"entitlements,omitempty"`
	X509Certificates json.RawMessage `json:"x509Certificates,omitempty"`
}

func primary(p *flexBool) bool { return p != nil && bool(*p) }

func pb(v bool) *flexBool {
	if !v {
		return nil
	}
	b := flexBool(true)
	return &b
}

// checkUnsupported refuses the attributes AWS's SCIM implementation does
// not support ("CreateUser": "Not supported") and the multi-valued
// attributes with more than one value.
func (d *userDoc) checkUnsupported() error {
	for _, f := range []struct {
		name string
		v    json.RawMessage
	}{{"password", d.Password}, {"groups", d.Groups}, {"photos", d.Photos}, {"ims", d.Ims},
		{"entitlements", d.Entitlements}, {"x509Certificates", d.X509Certificates}} {
		// Okta sends "groups": [] with every new user: empty is absent.
		if v := string(bytes.TrimSpace(f.v)); v != "" && v != "null" && v != "[]" {
			return badRequest(typeInvalidValue, "The %s attribute is not supported", f.name)
		}
	}
	if len(d.Emails) > 1 || len(d.Addresses) > 1 || len(d.PhoneNumbers) > 1 || len(d.Roles) > 1 {
		return badRequest(typeInvalidValue, "Multiple values for emails, addresses, phoneNumbers or roles are not supported")
	}
	return nil
}

// apply sets every SCIM-managed attribute of u from d (a replacement:
// attributes absent from d are cleared). External IDs of other issuers are
// kept; the password and MFA devices are not SCIM's.
func (d *userDoc) apply(u *store.User) error {
	if err := d.checkUnsupported(); err != nil {
		return err
	}
	u.UserName = d.UserName
	u.DisplayName = d.DisplayName
	u.Name = store.UserName{}
	if n := d.Name; n != nil {
		u.Name = store.UserName{Formatted: n.Formatted, FamilyName: n.FamilyName, GivenName: n.GivenName,
			MiddleName: n.MiddleName, HonorificPrefix: n.HonorificPrefix, HonorificSuffix: n.HonorificSuffix}
	}
	u.Emails = nil
	for _, e := range d.Emails {
		// The one address is the primary one, marked or not.
		u.Emails = append(u.Emails, store.Email{Value: e.Value, Type: e.Type, Primary: true})
	}
	p := &u.Profile
	exts := p.Extensions
	*p = store.UserProfile{NickName: d.NickName, ProfileURL: d.ProfileURL, UserType: d.UserType, Title: d.Title,
		PreferredLanguage: d.PreferredLanguage, Locale: d.Locale, Timezone: d.Timezone,
		Photos: u.Profile.Photos, Website: u.Profile.Website, Birthdate: u.Profile.Birthdate}
	for _, a := range d.Addresses {
		p.Addresses = append(p.Addresses, store.Address{StreetAddress: a.StreetAddress, Locality: a.Locality, Region: a.Region,
			PostalCode: a.PostalCode, Country: a.Country, Formatted: a.Formatted, Type: a.Type, Primary: primary(a.Primary)})
	}
	for _, n := range d.PhoneNumbers {
		p.PhoneNumbers = append(p.PhoneNumbers, store.PhoneNumber{Value: n.Value, Type: n.Type, Primary: primary(n.Primary)})
	}
	for _, r := range d.Roles {
		p.Roles = append(p.Roles, store.Role{Value: r.Value, Type: r.Type, Primary: primary(r.Primary)})
	}
	// The enterprise extension replaces the stored one.
	delete(exts, directory.EnterpriseExtension)
	if !d.Enterprise.empty() {
		b, err := json.Marshal(d.Enterprise)
		if err != nil {
			return err
		}
		if exts == nil {
			exts = map[string]json.RawMessage{}
		}
		exts[directory.EnterpriseExtension] = b
	}
	if len(exts) == 0 {
		exts = nil
	}
	p.Extensions = exts
	u.ExternalIDs = withExternalID(u.ExternalIDs, d.ExternalID)
	if d.Active != nil {
		// The source's side only: an administrator's disable stands
		// until an administrator lifts it.
		u.SetSourceInactive(!bool(*d.Active))
	}
	return nil
}

// withExternalID returns ids with the SCIM issuer's entry set to id
// (removed when id is empty), other issuers' entries kept.
func withExternalID(ids []store.ExternalID, id string) []store.ExternalID {
	var out []store.ExternalID
	for _, x := range ids {
		if x.Issuer != ExternalIDIssuer {
			out = append(out, x)
		}
	}
	if id != "" {
		out = append(out, store.ExternalID{Issuer: ExternalIDIssuer, ID: id})
	}
	return out
}

func externalIDOf(ids []store.ExternalID) string {
	for _, x := range ids {
		if x.Issuer == ExternalIDIssuer {
			return x.ID
		}
	}
	return ""
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// userToDoc renders a stored user as SCIM.
func userToDoc(u *store.User, base string) *userDoc {
	// active is what the identity source set, not whether the user is
	// disabled: an administrator's disable is Gatehouse's side, and a
	// client comparing its own value with ours would otherwise resend
	// "active": true on every sync.
	active := flexBool(!u.SourceInactive)
	d := &userDoc{
		Schemas: []string{SchemaUser}, ID: u.ID, ExternalID: externalIDOf(u.ExternalIDs), UserName: u.UserName,
		DisplayName: u.DisplayName, NickName: u.Profile.NickName, ProfileURL: u.Profile.ProfileURL, Title: u.Profile.Title,
		UserType: u.Profile.UserType, PreferredLanguage: u.Profile.PreferredLanguage, Locale: u.Profile.Locale,
		Timezone: u.Profile.Timezone, Active: &active,
		Meta: &metaDoc{ResourceType: "User", Created: stamp(u.CreatedAt), LastModified: stamp(u.UpdatedAt), Location: base + "/Users/" + u.ID},
	}
	if n := u.Name; n != (store.UserName{}) {
		d.Name = &nameDoc{Formatted: n.Formatted, FamilyName: n.FamilyName, GivenName: n.GivenName, MiddleName: n.MiddleName,
			HonorificPrefix: n.HonorificPrefix, HonorificSuffix: n.HonorificSuffix}
	}
	for _, e := range u.Emails {
		d.Emails = append(d.Emails, multiDoc{Value: e.Value, Type: e.Type, Primary: pb(e.Primary)})
	}
	for _, a := range u.Profile.Addresses {
		d.Addresses = append(d.Addresses, addressDoc{Formatted: a.Formatted, StreetAddress: a.StreetAddress, Locality: a.Locality,
			Region: a.Region, PostalCode: a.PostalCode, Country: a.Country, Type: a.Type, Primary: pb(a.Primary)})
	}
	for _, n := range u.Profile.PhoneNumbers {
		d.PhoneNumbers = append(d.PhoneNumbers, multiDoc{Value: n.Value, Type: n.Type, Primary: pb(n.Primary)})
	}
	for _, r := range u.Profile.Roles {
		d.Roles = append(d.Roles, multiDoc{Value: r.Value, Type: r.Type, Primary: pb(r.Primary)})
	}
	if raw, ok := u.Profile.Extensions[directory.EnterpriseExtension]; ok {
		var e enterpriseDoc
		if json.Unmarshal(raw, &e) == nil && !e.empty() {
			d.Enterprise = &e
			d.Schemas = append(d.Schemas, SchemaEnterpriseUser)
		}
	}
	return d
}
