package scim

import (
	"net/http"
	"strings"
)

// The discovery endpoints (RFC 7644 §4): what this service supports, and
// the schemas of its resources (RFC 7643 §5–§7), limited to what IAM
// Identity Center supports ("Limitations from SCIM specification").

type supported struct {
	Supported bool `json:"supported"`
}

type filterSupport struct {
	Supported  bool `json:"supported"`
	MaxResults int  `json:"maxResults"`
}

type bulkSupport struct {
	Supported      bool `json:"supported"`
	MaxOperations  int  `json:"maxOperations"`
	MaxPayloadSize int  `json:"maxPayloadSize"`
}

type authScheme struct {
	Type        string `json:"type"`
	Name        string `json:"name"`
	Description string `json:"description"`
	SpecURI     string `json:"specUri,omitempty"`
	Primary     bool   `json:"primary"`
}

type spConfig struct {
	Schemas               []string      `json:"schemas"`
	DocumentationURI      string        `json:"documentationUri,omitempty"`
	Patch                 supported     `json:"patch"`
	Bulk                  bulkSupport   `json:"bulk"`
	Filter                filterSupport `json:"filter"`
	ChangePassword        supported     `json:"changePassword"`
	Sort                  supported     `json:"sort"`
	Etag                  supported     `json:"etag"`
	AuthenticationSchemes []authScheme  `json:"authenticationSchemes"`
	Meta                  metaDoc       `json:"meta"`
}

func (s *Server) serviceProviderConfig(w http.ResponseWriter, _ *http.Request, id string) error {
	if id != "" {
		return notFound("ServiceProviderConfig", id)
	}
	writeJSON(w, http.StatusOK, spConfig{
		Schemas: []string{SchemaSPConfig},
		Patch:   supported{true},
		Filter:  filterSupport{Supported: true, MaxResults: MaxResults},
		AuthenticationSchemes: []authScheme{{
			Type: "oauthbearertoken", Name: "OAuth Bearer Token", Primary: true,
			Description: "A bearer token an administrator issued in Gatehouse (Settings, Automatic provisioning)",
			SpecURI:     "https://www.rfc-editor.org/info/rfc6750",
		}},
		Meta: metaDoc{ResourceType: "ServiceProviderConfig", Location: s.Endpoint() + "/ServiceProviderConfig"},
	})
	return nil
}

type attribute struct {
	Name          string      `json:"name"`
	Type          string      `json:"type"`
	MultiValued   bool        `json:"multiValued"`
	Required      bool        `json:"required"`
	CaseExact     bool        `json:"caseExact"`
	Mutability    string      `json:"mutability"`
	Returned      string      `json:"returned"`
	Uniqueness    string      `json:"uniqueness"`
	SubAttributes []attribute `json:"subAttributes,omitempty"`
}

func str(name string, required bool) attribute {
	return attribute{Name: name, Type: "string", Required: required, Mutability: "readWrite", Returned: "default", Uniqueness: "none"}
}

func complexAttr(name string, multi bool, subs ...attribute) attribute {
	return attribute{Name: name, Type: "complex", MultiValued: multi, Mutability: "readWrite", Returned: "default", Uniqueness: "none", SubAttributes: subs}
}

func boolean(name string) attribute {
	return attribute{Name: name, Type: "boolean", Mutability: "readWrite", Returned: "default", Uniqueness: "none"}
}

type schemaDoc struct {
	Schemas     []string    `json:"schemas"`
	ID          string      `json:"id"`
	Name        string      `json:"name"`
	Description string      `json:"description"`
	Attributes  []attribute `json:"attributes"`
	Meta        metaDoc     `json:"meta"`
}

func (s *Server) schemaDocs() []schemaDoc {
	userName := str("userName", true)
	userName.Uniqueness = "server"
	multi := func(name string) attribute {
		return complexAttr(name, true, str("value", false), str("type", false), boolean("primary"))
	}
	ref := attribute{Name: "value", Type: "string", Mutability: "immutable", Returned: "default", Uniqueness: "none"}
	docs := []schemaDoc{
		{ID: SchemaUser, Name: "User", Description: "User Account", Attributes: []attribute{
			userName,
			complexAttr("name", false, str("formatted", false), str("familyName", true), str("givenName", true),
				str("middleName", false), str("honorificPrefix", false), str("honorificSuffix", false)),
			str("displayName", true), str("nickName", false), str("profileUrl", false), str("title", false),
			str("userType", false), str("preferredLanguage", false), str("locale", false), str("timezone", false),
			boolean("active"), str("externalId", false),
			multi("emails"), multi("phoneNumbers"), multi("roles"),
			complexAttr("addresses", true, str("formatted", false), str("streetAddress", false), str("locality", false),
				str("region", false), str("postalCode", false), str("country", false), str("type", false), boolean("primary")),
		}},
		{ID: SchemaEnterpriseUser, Name: "EnterpriseUser", Description: "Enterprise User", Attributes: []attribute{
			str("employeeNumber", false), str("costCenter", false), str("organization", false), str("division", false),
			str("department", false), complexAttr("manager", false, ref),
		}},
		{ID: SchemaGroup, Name: "Group", Description: "Group", Attributes: []attribute{
			func() attribute { a := str("displayName", true); a.Uniqueness = "server"; return a }(),
			str("externalId", false),
			complexAttr("members", true, ref),
		}},
	}
	for i := range docs {
		docs[i].Schemas = []string{SchemaSchema}
		docs[i].Meta = metaDoc{ResourceType: "Schema", Location: s.Endpoint() + "/Schemas/" + docs[i].ID}
	}
	return docs
}

func (s *Server) schemas(w http.ResponseWriter, _ *http.Request, id string) error {
	docs := s.schemaDocs()
	return writeDiscovery(w, docs, id, "Schema", func(d *schemaDoc) string { return d.ID })
}

type extensionRef struct {
	Schema   string `json:"schema"`
	Required bool   `json:"required"`
}

type resourceTypeDoc struct {
	Schemas          []string       `json:"schemas"`
	ID               string         `json:"id"`
	Name             string         `json:"name"`
	Endpoint         string         `json:"endpoint"`
	Description      string         `json:"description"`
	Schema           string         `json:"schema"`
	SchemaExtensions []extensionRef `json:"schemaExtensions,omitempty"`
	Meta             metaDoc        `json:"meta"`
}

func (s *Server) resourceTypes(w http.ResponseWriter, _ *http.Request, id string) error {
	docs := []resourceTypeDoc{
		{ID: "User", Name: "User", Endpoint: "/Users", Description: "User Account", Schema: SchemaUser,
			SchemaExtensions: []extensionRef{{Schema: SchemaEnterpriseUser}}},
		{ID: "Group", Name: "Group", Endpoint: "/Groups", Description: "Group", Schema: SchemaGroup},
	}
	for i := range docs {
		docs[i].Schemas = []string{SchemaResourceType}
		docs[i].Meta = metaDoc{ResourceType: "ResourceType", Location: s.Endpoint() + "/ResourceTypes/" + docs[i].ID}
	}
	return writeDiscovery(w, docs, id, "ResourceType", func(d *resourceTypeDoc) string { return d.ID })
}

// writeDiscovery answers a discovery endpoint (RFC 7644 §4): the document
// whose ID is id (matched ignoring case; a 404 naming kind when none is),
// or, for no id, every document as one unpaged ListResponse.
func writeDiscovery[T any](w http.ResponseWriter, docs []T, id, kind string, idOf func(*T) string) error {
	if id != "" {
		for i := range docs {
			if strings.EqualFold(idOf(&docs[i]), id) {
				writeJSON(w, http.StatusOK, docs[i])
				return nil
			}
		}
		return notFound(kind, id)
	}
	writeJSON(w, http.StatusOK, page(docs, 1, len(docs), func(d *T) any { return d }))
	return nil
}
