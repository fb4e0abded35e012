package scim

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	filter "github.com/scim2/filter-parser/v2"

	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// getGroups answers GET /Groups/{id} with one group and its members
// (unless excludedAttributes names members), or GET /Groups with a
// ListResponse filtered by findGroups and paged by startIndex and count
// (RFC 7644 §3.4.1, §3.4.2, §3.9).
func (s *Server) getGroups(w http.ResponseWriter, r *http.Request, id string) error {
	ctx := r.Context()
	if id != "" {
		g, err := s.Directory.GetGroup(ctx, id)
		if err != nil {
			return err
		}
		d := groupToDoc(g, s.Endpoint())
		if !strings.Contains(strings.ToLower(r.URL.Query().Get("excludedAttributes")), "members") {
			ms, err := s.Store.ListMembershipsByGroup(ctx, id, store.Page{})
			if err != nil {
				return err
			}
			ids := make([]string, len(ms))
			for i, m := range ms {
				ids[i] = m.UserID
			}
			d.Members = s.memberDocs(ids)
		}
		writeJSON(w, http.StatusOK, d)
		return nil
	}
	// Lists leave members out, as IAM Identity Center's ListGroups does.
	return writeList(w, r, s.findGroups, func(g *store.Group) any { return groupToDoc(g, s.Endpoint()) })
}

// memberDocs renders user IDs as a group's members, each with its $ref
// (RFC 7643 §4.2); no IDs gives nil, so "members" is left out.
func (s *Server) memberDocs(ids []string) []memberDoc {
	var out []memberDoc
	for _, id := range ids {
		out = append(out, memberDoc{Value: id, Ref: s.location("Users", id)})
	}
	return out
}

// findGroups answers a filter of eq terms on id, displayName, externalId
// and members (members[value eq "…"], members eq "…" or members.value eq
// "…": Entra ID checks a membership with id eq "g" and members eq "u").
func (s *Server) findGroups(r *http.Request, raw string) ([]store.Group, error) {
	ctx := r.Context()
	if raw == "" {
		return s.Store.ListGroups(ctx, store.Page{})
	}
	terms, err := parseFilter(raw, "id", "displayname", "externalid", "members", "members.value")
	if err != nil {
		return nil, err
	}
	var cands []store.Group
	lookup := terms[0]
	for _, t := range terms {
		if t.attr != "members" && t.attr != "members.value" {
			lookup = t
			break
		}
	}
	var g *store.Group
	switch lookup.attr {
	case "id":
		g, err = s.Store.GetGroup(ctx, lookup.value)
	case "displayname":
		g, err = s.Store.GetGroupByName(ctx, lookup.value)
	case "externalid":
		g, err = s.Store.GetGroupByExternalID(ctx, store.ExternalID{Issuer: ExternalIDIssuer, ID: lookup.value})
	default: // members only: the user's groups
		ms, err := s.Store.ListMembershipsByUser(ctx, lookup.value, store.Page{})
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			g, err := s.Store.GetGroup(ctx, m.GroupID)
			if errors.Is(err, store.ErrNotFound) {
				continue
			} else if err != nil {
				return nil, err
			}
			cands = append(cands, *g)
		}
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	if g != nil {
		cands = []store.Group{*g}
	}
	var out []store.Group
	for _, g := range cands {
		ok := true
		for _, t := range terms {
			switch t.attr {
			case "id":
				ok = ok && g.ID == t.value
			case "displayname":
				ok = ok && strings.EqualFold(g.DisplayName, t.value)
			case "externalid":
				ok = ok && externalIDOf(g.ExternalIDs) == t.value
			default:
				_, err := s.Store.FindMembership(ctx, g.ID, t.value)
				if err != nil && !errors.Is(err, store.ErrNotFound) {
					return nil, err
				}
				ok = ok && err == nil
			}
		}
		if ok {
			out = append(out, g)
		}
	}
	return out, nil
}

// createGroup answers POST /Groups (RFC 7644 §3.3): 201 with the group,
// its members and its Location. A member that is not a user is 400; a
// displayName or externalId taken is 409 uniqueness.
func (s *Server) createGroup(w http.ResponseWriter, r *http.Request, _ string) error {
	ctx := r.Context()
	d, err := readRequest(s, w, r, "CreateGroup", nil, decodeDoc[groupDoc])
	if err != nil {
		return err
	}
	params := map[string]any{"displayName": d.DisplayName}
	g := store.Group{DisplayName: d.DisplayName, ExternalIDs: withExternalID(nil, d.ExternalID)}
	created, err := s.Directory.ProvisionGroup(ctx, g, d.memberIDs(), event("CreateGroup", params))
	if err != nil {
		return s.failed(ctx, "CreateGroup", params, err)
	}
	out := groupToDoc(created, s.Endpoint())
	out.Members = s.memberDocs(d.memberIDs())
	w.Header().Set("Location", s.location("Groups", created.ID))
	writeJSON(w, http.StatusCreated, out)
	return nil
}

// putGroup answers PUT /Groups/{id} (RFC 7644 §3.5.1): the body replaces
// the group's displayName, externalId and members (id cannot change: 400
// mutability).
func (s *Server) putGroup(w http.ResponseWriter, r *http.Request, id string) error {
	ctx := r.Context()
	params := map[string]any{"groupId": id}
	d, err := readRequest(s, w, r, "PutGroup", params, decodeDoc[groupDoc])
	if err != nil {
		return err
	}
	g, err := s.Directory.EditGroup(ctx, id, event("PutGroup", params), func(g *store.Group, m *directory.Members) error {
		if d.ID != "" && d.ID != id {
			return &Error{Status: http.StatusBadRequest, ScimType: typeMutability, Detail: "id cannot change"}
		}
		g.DisplayName = d.DisplayName
		g.ExternalIDs = withExternalID(g.ExternalIDs, d.ExternalID)
		*m = directory.Members{Replace: true, Add: d.memberIDs()}
		return nil
	})
	if err != nil {
		return s.failed(ctx, "PutGroup", params, err)
	}
	out := groupToDoc(g, s.Endpoint())
	out.Members = s.memberDocs(d.memberIDs())
	writeJSON(w, http.StatusOK, out)
	return nil
}

// patchGroup applies membership operations (add, remove by filter or by
// value list, replace) and attribute operations (displayName,
// externalId) in one transaction, and answers 204 as IAM Identity Center
// does.
func (s *Server) patchGroup(w http.ResponseWriter, r *http.Request, id string) error {
	ctx := r.Context()
	params := map[string]any{"groupId": id}
	p, err := readPatch(s, w, r, "PatchGroup", params)
	if err != nil {
		return err
	}
	_, err = s.Directory.EditGroup(ctx, id, event("PatchGroup", params), func(g *store.Group, m *directory.Members) error {
		doc, err := toMap(groupToDoc(g, ""))
		if err != nil {
			return err
		}
		dp := &docPatcher{doc: doc}
		var plan memberPlan
		for _, op := range p.Operations {
			if err := applyGroupOp(dp, &plan, op); err != nil {
				return err
			}
		}
		nb, err := json.Marshal(doc)
		if err != nil {
			return err
		}
		d, err := decodeDoc[groupDoc](nb)
		if err != nil {
			return err
		}
		g.DisplayName = d.DisplayName
		g.ExternalIDs = withExternalID(g.ExternalIDs, d.ExternalID)
		*m = directory.Members{Replace: plan.replace, Add: plan.add, Remove: plan.remove}
		return nil
	})
	if err != nil {
		return s.failed(ctx, "PatchGroup", params, err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// applyGroupOp applies one group PATCH operation: members go to plan,
// everything else to the document.
func applyGroupOp(dp *docPatcher, plan *memberPlan, op patchOp) error {
	if op.Path == "" {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(op.Value, &obj); err != nil {
			return badRequest(typeInvalidValue, "An operation without a path needs an object value")
		}
		rest := map[string]json.RawMessage{}
		for k, v := range obj {
			if strings.EqualFold(k, "members") {
				if err := applyGroupOp(dp, plan, patchOp{Op: op.Op, Path: "members", Value: v}); err != nil {
					return err
				}
				continue
			}
			rest[k] = v
		}
		if len(rest) == 0 {
			return nil
		}
		b, err := json.Marshal(rest)
		if err != nil {
			return err
		}
		return dp.apply(patchOp{Op: op.Op, Value: b})
	}
	if !isMembers(op.Path) {
		return dp.apply(op)
	}
	path, err := filter.ParsePath([]byte(op.Path))
	if err != nil {
		return badRequest(typeInvalidPath, "The path %q is not a valid SCIM path", op.Path)
	}
	if path.ValueExpression != nil {
		// members[value eq "…"]: Okta's removal of one member.
		terms, err := eqTerms(path.ValueExpression)
		if err != nil {
			return err
		}
		if op.Op != "remove" || len(terms) != 1 || terms[0].attr != "value" || path.SubAttribute != nil {
			return badRequest(typeInvalidPath, "Only remove supports a members filter, as members[value eq \"<user id>\"]")
		}
		plan.removeIDs([]string{terms[0].value})
		return nil
	}
	if path.AttributePath.SubAttribute != nil {
		return badRequest(typeInvalidPath, "The path %q is not supported", op.Path)
	}
	var ids []string
	if len(strings.TrimSpace(string(op.Value))) > 0 && strings.TrimSpace(string(op.Value)) != "null" {
		if ids, err = memberValues(op.Value); err != nil {
			return err
		}
	}
	switch op.Op {
	case "add":
		plan.addIDs(ids)
	case "replace":
		plan.replaceAll(ids)
	case "remove":
		if ids == nil {
			plan.replaceAll(nil) // remove every member
		} else {
			plan.removeIDs(ids)
		}
	}
	return nil
}

// deleteGroup answers DELETE /Groups/{id} (RFC 7644 §3.6) with 204: the
// group goes with its memberships and assignments.
func (s *Server) deleteGroup(w http.ResponseWriter, r *http.Request, id string) error {
	ctx := r.Context()
	params := map[string]any{"groupId": id}
	if err := s.Directory.DeleteGroupAs(ctx, id, event("DeleteGroup", params)); err != nil {
		return s.failed(ctx, "DeleteGroup", params, err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
