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

// maxFilter bounds a filter expression's length.
const maxFilter = 1024

// getUsers answers GET /Users/{id} with one user, or GET /Users with a
// ListResponse filtered by findUsers and paged by startIndex and count
// (RFC 7644 §3.4.1, §3.4.2). An unknown id is 404; a filter it does not
// support is 400 invalidFilter.
func (s *Server) getUsers(w http.ResponseWriter, r *http.Request, id string) error {
	if id != "" {
		u, err := s.Directory.GetUser(r.Context(), id)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, userToDoc(u, s.Endpoint()))
		return nil
	}
	return writeList(w, r, s.findUsers, func(u *store.User) any { return userToDoc(u, s.Endpoint()) })
}

// parseFilter parses a query filter into eq terms on the allowed
// attributes.
func parseFilter(raw string, allowed ...string) ([]term, error) {
	if len(raw) > maxFilter {
		return nil, badRequest(typeInvalidFilter, "The filter is longer than %d characters", maxFilter)
	}
	expr, err := filter.ParseFilter([]byte(raw))
	if err != nil {
		return nil, badRequest(typeInvalidFilter, "The filter is not a valid SCIM filter")
	}
	terms, err := eqTerms(expr)
	if err != nil {
		return nil, err
	}
	for _, t := range terms {
		if !t.quoted {
			return nil, badRequest(typeInvalidFilter, "Filter values must be quoted strings: %s eq \"<value>\"", t.attr)
		}
		ok := false
		for _, a := range allowed {
			ok = ok || t.attr == a
		}
		if !ok {
			return nil, badRequest(typeInvalidFilter, "Filtering on %s is not supported", t.attr)
		}
	}
	return terms, nil
}

// findUsers answers a filter of eq terms on id, userName and externalId
// ("ListUsers": supported filters) with one indexed lookup; no filter
// lists every user.
func (s *Server) findUsers(r *http.Request, raw string) ([]store.User, error) {
	ctx := r.Context()
	if raw == "" {
		return s.Store.ListUsers(ctx, store.Page{})
	}
	terms, err := parseFilter(raw, "id", "username", "externalid")
	if err != nil {
		return nil, err
	}
	var u *store.User
	switch t := terms[0]; t.attr {
	case "id":
		u, err = s.Store.GetUser(ctx, t.value)
	case "username":
		u, err = s.Store.GetUserByName(ctx, t.value)
	case "externalid":
		u, err = s.Store.GetUserByExternalID(ctx, store.ExternalID{Issuer: ExternalIDIssuer, ID: t.value})
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	for _, t := range terms[1:] {
		var ok bool
		switch t.attr {
		case "id":
			ok = u.ID == t.value
		case "username":
			ok = strings.EqualFold(u.UserName, t.value)
		case "externalid":
			ok = externalIDOf(u.ExternalIDs) == t.value
		}
		if !ok {
			return nil, nil
		}
	}
	return []store.User{*u}, nil
}

// createUser answers POST /Users (RFC 7644 §3.3): 201 with the user and
// its Location. A body that is not a user is 400 invalidSyntax or
// invalidValue; a userName or externalId taken is 409 uniqueness.
func (s *Server) createUser(w http.ResponseWriter, r *http.Request, _ string) error {
	ctx := r.Context()
	d, err := readRequest(s, w, r, "CreateUser", nil, decodeDoc[userDoc])
	if err != nil {
		return err
	}
	params := map[string]any{"userName": d.UserName}
	var u store.User
	if err := d.apply(&u); err != nil {
		return s.failed(ctx, "CreateUser", params, err)
	}
	in := directory.CreateUserInput{UserName: u.UserName, DisplayName: u.DisplayName, Name: u.Name, Emails: u.Emails,
		Profile: u.Profile, ExternalIDs: u.ExternalIDs}
	created, err := s.Directory.ProvisionUser(ctx, in, u.Disabled, event("CreateUser", params))
	if err != nil {
		return s.failed(ctx, "CreateUser", params, err)
	}
	w.Header().Set("Location", s.location("Users", created.ID))
	writeJSON(w, http.StatusCreated, userToDoc(created, s.Endpoint()))
	return nil
}

// putUser answers PUT /Users/{id} (RFC 7644 §3.5.1): the body replaces
// the user's attributes (id cannot change: 400 mutability); "active":
// false ends their sessions, tokens and role credentials, as patchUser's
// does.
func (s *Server) putUser(w http.ResponseWriter, r *http.Request, id string) error {
	ctx := r.Context()
	params := map[string]any{"userId": id}
	d, err := readRequest(s, w, r, "PutUser", params, decodeDoc[userDoc])
	if err != nil {
		return err
	}
	u, err := s.Directory.EditUser(ctx, id, event("PutUser", params), func(u *store.User) error {
		if d.ID != "" && d.ID != id {
			return &Error{Status: http.StatusBadRequest, ScimType: typeMutability, Detail: "id cannot change"}
		}
		return d.apply(u)
	})
	if err != nil {
		return s.failed(ctx, "PutUser", params, err)
	}
	writeJSON(w, http.StatusOK, userToDoc(u, s.Endpoint()))
	return nil
}

// patchUser applies the operations to the user rendered as SCIM, then
// stores the result as a PUT would, in one transaction: an "active": false
// among them ends the user's sessions, tokens and role credentials before
// the response is sent.
func (s *Server) patchUser(w http.ResponseWriter, r *http.Request, id string) error {
	ctx := r.Context()
	params := map[string]any{"userId": id}
	p, err := readPatch(s, w, r, "PatchUser", params)
	if err != nil {
		return err
	}
	u, err := s.Directory.EditUser(ctx, id, event("PatchUser", params), func(u *store.User) error {
		return applyUserPatch(u, p)
	})
	if err != nil {
		return s.failed(ctx, "PatchUser", params, err)
	}
	writeJSON(w, http.StatusOK, userToDoc(u, s.Endpoint()))
	return nil
}

// deleteUser answers DELETE /Users/{id} (RFC 7644 §3.6) with 204: the
// user goes with their memberships and assignments, and everything
// issued to them is revoked (directory.Service.DeleteUserAs).
func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request, id string) error {
	ctx := r.Context()
	params := map[string]any{"userId": id}
	if err := s.Directory.DeleteUserAs(ctx, id, event("DeleteUser", params)); err != nil {
		return s.failed(ctx, "DeleteUser", params, err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// applyUserPatch applies p's operations to u rendered as SCIM, then sets
// u from the result as a PUT body would.
func applyUserPatch(u *store.User, p *patchRequest) error {
	doc, err := toMap(userToDoc(u, ""))
	if err != nil {
		return err
	}
	dp := &docPatcher{doc: doc, single: []string{"emails", "addresses", "phoneNumbers", "roles"}}
	for _, op := range p.Operations {
		if err := dp.apply(op); err != nil {
			return err
		}
	}
	for _, k := range []string{"id", "meta", "schemas"} {
		delete(doc, key(doc, k))
	}
	nb, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	d, err := decodeDoc[userDoc](nb)
	if err != nil {
		return err
	}
	if d.Active == nil {
		// Removing active leaves the user as they were.
		active := flexBool(!u.SourceInactive)
		d.Active = &active
	}
	return d.apply(u)
}

// toMap renders v as a generic JSON object for patching.
func toMap(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m)
}
