package directory

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// Limits of the identitystore model (botocore identitystore/2020-06-15):
// Emails, Addresses, PhoneNumbers and Roles hold exactly one item, Photos up
// to three, ExternalIds and Extensions up to ten.
const (
	maxPhotos      = 3
	maxExternalIDs = 10
	maxExtensions  = 10
	// MaxOperations is how many attribute operations one UpdateUser or
	// UpdateGroup may carry.
	MaxOperations = 100
)

// EnterpriseExtension is the one user extension the identity store
// supports (AWS: "aws:identitystore:enterprise").
const EnterpriseExtension = "aws:identitystore:enterprise"

var (
	extensionNameRe = regexp.MustCompile(`^aws:identitystore:[a-z]{1,20}$`)
	// externalIDRe is ExternalIdIssuer and ExternalIdIdentifier: 1 to 256
	// printable characters without white space.
	externalIDRe = regexp.MustCompile(`^[\p{L}\p{M}\p{S}\p{N}\p{P}]{1,256}$`)
	// attributePathRe is the model's AttributePath.
	attributePathRe = regexp.MustCompile(`^(?:\p{L}+:\p{L}+:\p{L}+(?:\.\p{L}+){0,3}|\p{L}+(?:\.\p{L}+){0,2})$`)
)

func checkStr(field, v string, required bool) error {
	if v == "" {
		if required {
			return fault.Validationf("%s is required", field)
		}
		return nil
	}
	if utf8.RuneCountInString(v) > 1024 || !strRe.MatchString(v) {
		return fault.Validationf("%s must be 1 to 1024 printable characters", field)
	}
	return nil
}

// checkList checks the item count of a multi-valued attribute: absent, or
// 1 to max items (an empty list sent on the wire is not absent).
func checkList[T any](field string, v []T, max int) error {
	if v == nil {
		return nil
	}
	if len(v) == 0 || len(v) > max {
		if max == 1 {
			return fault.Validationf("%s must hold exactly 1 item", field)
		}
		return fault.Validationf("%s must hold 1 to %d items", field, max)
	}
	return nil
}

// strs checks named optional strings.
func strs(prefix string, kv ...string) error {
	for i := 0; i+1 < len(kv); i += 2 {
		if err := checkStr(prefix+kv[i], kv[i+1], false); err != nil {
			return err
		}
	}
	return nil
}

func validateUser(u *store.User) error {
	var errs []error
	switch {
	case u.UserName == "":
		errs = append(errs, fault.Validationf("UserName is required"))
	case utf8.RuneCountInString(u.UserName) > 128 || !userNameRe.MatchString(u.UserName):
		errs = append(errs, fault.Validationf("UserName must be 1 to 128 characters without white space"))
	case strings.EqualFold(u.UserName, "Administrator") || strings.EqualFold(u.UserName, "AWSAdministrators"):
		errs = append(errs, fault.Validationf("UserName %q is reserved", u.UserName))
	}
	errs = append(errs,
		checkStr("DisplayName", u.DisplayName, true),
		checkStr("Name.GivenName", u.Name.GivenName, true),
		checkStr("Name.FamilyName", u.Name.FamilyName, true),
		strs("Name.", "Formatted", u.Name.Formatted, "MiddleName", u.Name.MiddleName,
			"HonorificPrefix", u.Name.HonorificPrefix, "HonorificSuffix", u.Name.HonorificSuffix),
		checkList("Emails", u.Emails, 1),
	)
	for _, e := range u.Emails {
		if e.Value == "" || !strings.Contains(e.Value, "@") || utf8.RuneCountInString(e.Value) > 1024 || !strRe.MatchString(e.Value) {
			errs = append(errs, fault.Validationf("Emails.Value %q is not an e-mail address", e.Value))
		}
		errs = append(errs, strs("Emails.", "Type", e.Type))
	}
	p := &u.Profile
	errs = append(errs,
		strs("", "NickName", p.NickName, "ProfileUrl", p.ProfileURL, "UserType", p.UserType, "Title", p.Title,
			"PreferredLanguage", p.PreferredLanguage, "Locale", p.Locale, "Timezone", p.Timezone,
			"Website", p.Website, "Birthdate", p.Birthdate),
		checkList("Addresses", p.Addresses, 1),
		checkList("PhoneNumbers", p.PhoneNumbers, 1),
		checkList("Roles", p.Roles, 1),
		checkList("Photos", p.Photos, maxPhotos),
		checkList("ExternalIds", u.ExternalIDs, maxExternalIDs),
	)
	for _, a := range p.Addresses {
		errs = append(errs, strs("Addresses.", "StreetAddress", a.StreetAddress, "Locality", a.Locality, "Region", a.Region,
			"PostalCode", a.PostalCode, "Country", a.Country, "Formatted", a.Formatted, "Type", a.Type))
	}
	for _, n := range p.PhoneNumbers {
		errs = append(errs, strs("PhoneNumbers.", "Value", n.Value, "Type", n.Type))
	}
	for _, r := range p.Roles {
		errs = append(errs, strs("Roles.", "Value", r.Value, "Type", r.Type))
	}
	for _, ph := range p.Photos {
		errs = append(errs, checkStr("Photos.Value", ph.Value, true), strs("Photos.", "Type", ph.Type, "Display", ph.Display))
	}
	errs = append(errs, validateExternalIDs(u.ExternalIDs), validateExtensions(p.Extensions))
	return firstFault(errs)
}

func validateExternalIDs(ids []store.ExternalID) error {
	if err := checkList("ExternalIds", ids, maxExternalIDs); err != nil {
		return err
	}
	for _, x := range ids {
		if !externalIDRe.MatchString(x.Issuer) || !externalIDRe.MatchString(x.ID) {
			return fault.Validationf("ExternalId Issuer and Id must be 1 to 256 characters without white space")
		}
	}
	return nil
}

func validateExtensions(exts map[string]json.RawMessage) error {
	if exts == nil {
		return nil
	}
	if len(exts) == 0 || len(exts) > maxExtensions {
		return fault.Validationf("Extensions must hold 1 to %d extensions", maxExtensions)
	}
	for name, v := range exts {
		if err := CheckExtensionName(name); err != nil {
			return err
		}
		if !isObject(v) {
			return fault.Validationf("Extension %s must be a JSON object", name)
		}
	}
	return nil
}

// CheckExtensionName reports a ValidationException unless name is a
// supported extension name.
func CheckExtensionName(name string) error {
	if !extensionNameRe.MatchString(name) {
		return fault.Validationf("Extension name %q must match aws:identitystore:[a-z]{1,20}", name)
	}
	if name != EnterpriseExtension {
		return fault.Validationf("Extension %q is not supported", name)
	}
	return nil
}

func isObject(v json.RawMessage) bool {
	var obj map[string]json.RawMessage
	return json.Unmarshal(v, &obj) == nil && obj != nil
}

// firstFault returns the first non-nil error: AWS reports one validation
// problem at a time.
func firstFault(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// userConflict is the ConflictException of a user write that broke a
// uniqueness rule.
func userConflict(u *store.User) error {
	return fault.Uniquef("Duplicate UserName %q or ExternalId", u.UserName)
}

// WithExtensions returns u with only the named extensions (none when names
// is empty): DescribeUser and ListUsers return an extension only when asked
// for it.
func WithExtensions(u *store.User, names []string) (*store.User, error) {
	if len(names) > maxExtensions {
		return nil, fault.Validationf("Extensions must name 1 to %d extensions", maxExtensions)
	}
	out := *u
	out.Profile.Extensions = nil
	for _, n := range names {
		if err := CheckExtensionName(n); err != nil {
			return nil, err
		}
		if v, ok := u.Profile.Extensions[n]; ok {
			if out.Profile.Extensions == nil {
				out.Profile.Extensions = map[string]json.RawMessage{}
			}
			out.Profile.Extensions[n] = v
		}
	}
	return &out, nil
}

// AttributeOp is one identitystore UpdateUser/UpdateGroup operation: set the
// attribute at Path to Value, or remove it when Value is null or absent.
// Paths are compared case-insensitively (Terraform sends "displayName",
// others "DisplayName").
type AttributeOp struct {
	Path  string
	Value json.RawMessage
}

func checkOps(ops []AttributeOp) error {
	if len(ops) == 0 || len(ops) > MaxOperations {
		return fault.Validationf("Operations must hold 1 to %d operations", MaxOperations)
	}
	for _, op := range ops {
		if len(op.Path) > 255 || !attributePathRe.MatchString(op.Path) {
			return fault.Validationf("AttributePath %q is not a valid attribute path", op.Path)
		}
	}
	return nil
}

func isNull(v json.RawMessage) bool {
	s := strings.TrimSpace(string(v))
	return s == "" || s == "null"
}

func decodeString(path string, v json.RawMessage) (string, error) {
	if isNull(v) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", fault.Validationf("AttributeValue for %s must be a string", path)
	}
	return s, nil
}

// decodeList decodes the value of a multi-valued attribute: a list of
// objects, or one object (taken as a list of one). Keys match the model's
// member names ignoring case. null removes the attribute.
func decodeList[T any](path string, v json.RawMessage, dst *[]T) error {
	if isNull(v) {
		*dst = nil
		return nil
	}
	var list []T
	if b := bytes.TrimSpace(v); len(b) > 0 && b[0] == '{' {
		var one T
		if err := json.Unmarshal(b, &one); err != nil {
			return fault.Validationf("AttributeValue for %s must be a list of objects", path)
		}
		list = []T{one}
	} else {
		var raw []json.RawMessage
		if err := json.Unmarshal(v, &raw); err != nil {
			return fault.Validationf("AttributeValue for %s must be a list of objects", path)
		}
		list = make([]T, len(raw))
		for i, r := range raw {
			if isNull(r) {
				return fault.Validationf("AttributeValue for %s must not hold null (member %d)", path, i+1)
			}
			if err := json.Unmarshal(r, &list[i]); err != nil {
				return fault.Validationf("AttributeValue for %s must be a list of objects", path)
			}
		}
	}
	*dst = list
	return nil
}

// applyUserOp applies one attribute operation to u; validateUser checks
// the result.
func applyUserOp(u *store.User, op AttributeOp) error {
	path := strings.ToLower(op.Path)
	p := &u.Profile
	str := func(dst *string) error {
		v, err := decodeString(op.Path, op.Value)
		if err != nil {
			return err
		}
		*dst = v
		return nil
	}
	switch path {
	case "username":
		return str(&u.UserName)
	case "displayname":
		return str(&u.DisplayName)
	case "name.givenname":
		return str(&u.Name.GivenName)
	case "name.familyname":
		return str(&u.Name.FamilyName)
	case "name.formatted":
		return str(&u.Name.Formatted)
	case "name.middlename":
		return str(&u.Name.MiddleName)
	case "name.honorificprefix":
		return str(&u.Name.HonorificPrefix)
	case "name.honorificsuffix":
		return str(&u.Name.HonorificSuffix)
	case "name":
		u.Name = store.UserName{}
		if isNull(op.Value) {
			return nil
		}
		if err := json.Unmarshal(op.Value, &u.Name); err != nil {
			return fault.Validationf("AttributeValue for name must be a Name object")
		}
		return nil
	case "emails":
		return decodeList(op.Path, op.Value, &u.Emails)
	case "addresses":
		return decodeList(op.Path, op.Value, &p.Addresses)
	case "phonenumbers":
		return decodeList(op.Path, op.Value, &p.PhoneNumbers)
	case "photos":
		return decodeList(op.Path, op.Value, &p.Photos)
	case "roles":
		return decodeList(op.Path, op.Value, &p.Roles)
	case "nickname":
		return str(&p.NickName)
	case "profileurl":
		return str(&p.ProfileURL)
	case "usertype":
		return str(&p.UserType)
	case "title":
		return str(&p.Title)
	case "preferredlanguage":
		return str(&p.PreferredLanguage)
	case "locale":
		return str(&p.Locale)
	case "timezone":
		return str(&p.Timezone)
	case "website":
		return str(&p.Website)
	case "birthdate":
		return str(&p.Birthdate)
	}
	if strings.HasPrefix(path, "aws:identitystore:") {
		return applyExtensionOp(u, op)
	}
	return fault.Validationf("AttributePath %q is not supported", op.Path)
}

// applyExtensionOp sets or removes an extension
// ("aws:identitystore:enterprise") or one attribute of it
// ("aws:identitystore:enterprise.costCenter").
func applyExtensionOp(u *store.User, op AttributeOp) error {
	name, attr, _ := strings.Cut(op.Path, ".")
	if err := CheckExtensionName(name); err != nil {
		return err
	}
	exts := maps.Clone(u.Profile.Extensions)
	if exts == nil {
		exts = map[string]json.RawMessage{}
	}
	if attr == "" {
		if isNull(op.Value) {
			delete(exts, name)
		} else if !isObject(op.Value) {
			return fault.Validationf("AttributeValue for %s must be a JSON object", name)
		} else {
			exts[name] = slices.Clone(op.Value)
		}
	} else {
		obj := map[string]json.RawMessage{}
		if cur, ok := exts[name]; ok {
			if err := json.Unmarshal(cur, &obj); err != nil {
				return fmt.Errorf("decode stored extension %s: %w", name, err)
			}
		}
		if isNull(op.Value) {
			delete(obj, attr)
		} else {
			if !json.Valid(op.Value) {
				return fault.Validationf("AttributeValue for %s must be JSON", op.Path)
			}
			obj[attr] = slices.Clone(op.Value)
		}
		if len(obj) == 0 {
			delete(exts, name)
		} else {
			b, err := json.Marshal(obj)
			if err != nil {
				return fmt.Errorf("encode extension %s: %w", name, err)
			}
			exts[name] = b
		}
	}
	if len(exts) == 0 {
		exts = nil
	}
	u.Profile.Extensions = exts
	return nil
}

// ValidateUser checks u against the identity store's attribute rules
// (identitystore CreateUser's constraints), as CreateUser does; a broken
// rule is a *fault.Error of kind Validation. Identity sources that write
// users themselves (idsource) check them with it.
func ValidateUser(u *store.User) error { return validateUser(u) }
