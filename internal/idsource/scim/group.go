package scim

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// memberDoc is a group member: a user's ID in value.
type memberDoc struct {
	Value   string `json:"value"`
	Display string `json:"display,omitempty"`
	Ref     string `json:"$ref,omitempty"`
}

// groupDoc is a SCIM Group (RFC 7643 §4.2). Members are users only, as in
// IAM Identity Center.
type groupDoc struct {
	Schemas     []string    `json:"schemas"`
	ID          string      `json:"id,omitempty"`
	ExternalID  string      `json:"externalId,omitempty"`
	DisplayName string      `json:"displayName,omitempty"`
	Members     []memberDoc `json:"members,omitempty"`
	Meta        *metaDoc    `json:"meta,omitempty"`
}

func groupToDoc(g *store.Group, base string) *groupDoc {
	return &groupDoc{
		Schemas: []string{SchemaGroup}, ID: g.ID, ExternalID: externalIDOf(g.ExternalIDs), DisplayName: g.DisplayName,
		Meta: &metaDoc{ResourceType: "Group", Created: stamp(g.CreatedAt), LastModified: stamp(g.UpdatedAt), Location: base + "/Groups/" + g.ID},
	}
}

func (d *groupDoc) memberIDs() []string {
	var ids []string
	for _, m := range d.Members {
		if m.Value != "" && !slices.Contains(ids, m.Value) {
			ids = append(ids, m.Value)
		}
	}
	return ids
}

// memberPlan accumulates a PATCH's membership operations in order.
type memberPlan struct {
	replace     bool
	add, remove []string
}

func (p *memberPlan) addIDs(ids []string) {
	for _, id := range ids {
		p.remove = slices.DeleteFunc(p.remove, func(x string) bool { return x == id })
		if !slices.Contains(p.add, id) {
			p.add = append(p.add, id)
		}
	}
}

func (p *memberPlan) removeIDs(ids []string) {
	for _, id := range ids {
		p.add = slices.DeleteFunc(p.add, func(x string) bool { return x == id })
		if !p.replace && !slices.Contains(p.remove, id) {
			p.remove = append(p.remove, id)
		}
	}
}

func (p *memberPlan) replaceAll(ids []string) {
	p.replace, p.add, p.remove = true, nil, nil
	p.addIDs(ids)
}

// memberValues decodes a members value: a list of {"value": id} objects
// or one such object.
func memberValues(raw json.RawMessage) ([]string, error) {
	var list []memberDoc
	if err := json.Unmarshal(raw, &list); err != nil {
		var one memberDoc
		if err := json.Unmarshal(raw, &one); err != nil {
			return nil, badRequest(typeInvalidValue, "members must be a list of {\"value\": <user id>} objects")
		}
		list = []memberDoc{one}
	}
	var ids []string
	for _, m := range list {
		if m.Value == "" {
			return nil, badRequest(typeInvalidValue, "Each member needs a value (a user ID)")
		}
		ids = append(ids, m.Value)
	}
	return ids, nil
}

// isMembers reports whether a PATCH path names the members attribute,
// with or without a filter.
func isMembers(path string) bool {
	p := strings.ToLower(strings.TrimPrefix(strings.ToLower(path), strings.ToLower(SchemaGroup)+":"))
	return p == "members" || strings.HasPrefix(p, "members[")
}
