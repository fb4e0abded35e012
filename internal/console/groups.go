package console

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/directory"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/store"
	"github.com/gatehouse-dev/gatehouse/internal/web"
)

func (s *Service) registerGroups(get, post route) {
	get("/admin/groups", s.getGroups)
	post("/admin/groups", s.postGroups)
	get("/admin/groups/{id}", s.getGroup)
	post("/admin/groups/{id}", s.postGroup)
	post("/admin/groups/{id}/delete", s.postGroupDelete)
	post("/admin/groups/{id}/members", s.postMember)
	post("/admin/groups/{id}/members/{mid}/remove", s.postMemberRemove)
}

func (s *Service) group(ctx context.Context, id string) (*store.Group, error) {
	if directory.CheckID("GroupId", id) != nil {
		return nil, notFound("group")
	}
	g, err := s.Directory.GetGroup(ctx, id)
	if fault.KindOf(err) == fault.NotFound {
		return nil, notFound("group")
	}
	return g, err
}

func (s *Service) getGroups(w http.ResponseWriter, r *http.Request, c *caller) error {
	return s.groupsPage(w, r, c, http.StatusOK, "", "", "")
}

func (s *Service) groupsPage(w http.ResponseWriter, r *http.Request, c *caller, status int, msg, name, desc string) error {
	if err := c.must("identitystore:ListGroups", s.storeARN()); err != nil {
		return err
	}
	page := web.AdminGroups{AdminLayout: c.layout("Groups", "groups"), Name: name, Description: desc,
		Can: web.Can{"create": c.can("identitystore:CreateGroup", s.storeARN())}}
	page.Error, page.ReadOnly = msg, !page.Can["create"]
	after := ""
	for len(page.Groups) < maxScan {
		gs, err := s.Store.ListGroups(r.Context(), store.Page{After: after, Limit: 500})
		if err != nil {
			return fmt.Errorf("list groups: %w", err)
		}
		for _, g := range gs {
			page.Groups = append(page.Groups, web.AdminNamed{ID: g.ID, Name: g.DisplayName, Extra: g.Description})
		}
		if len(gs) < 500 {
			break
		}
		after = gs[len(gs)-1].ID
	}
	slices.SortFunc(page.Groups, func(a, b web.AdminNamed) int {
		return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
	s.write(w, r, status, page)
	return nil
}

func (s *Service) postGroups(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := c.must("identitystore:CreateGroup", s.storeARN()); err != nil {
		return err
	}
	name, desc := strings.TrimSpace(r.PostFormValue("name")), strings.TrimSpace(r.PostFormValue("description"))
	var g *store.Group
	var err error
	if name == "" {
		err = fault.Validationf("Enter a group name.")
	} else {
		g, err = s.Directory.CreateGroup(r.Context(), name, desc)
	}
	if err != nil {
		if msg := userMessage(err); msg != "" {
			return s.groupsPage(w, r, c, http.StatusBadRequest, msg, name, desc)
		}
		return err
	}
	return done(w, r, "/admin/groups/"+g.ID, "group-created")
}

func (s *Service) getGroup(w http.ResponseWriter, r *http.Request, c *caller) error {
	return s.groupPage(w, r, c, http.StatusOK, "", "")
}

func (s *Service) groupPage(w http.ResponseWriter, r *http.Request, c *caller, status int, msg, member string) error {
	id := r.PathValue("id")
	if err := c.must("identitystore:DescribeGroup", s.groupRes(id)...); err != nil {
		return err
	}
	ctx := r.Context()
	g, err := s.group(ctx, id)
	if err != nil {
		return err
	}
	res := s.groupRes(g.ID)
	page := web.AdminGroup{AdminLayout: c.layout(g.DisplayName, "groups"), Member: member,
		Group: web.AdminNamed{ID: g.ID, Name: g.DisplayName, Extra: g.Description},
		Can: web.Can{
			"edit": c.can("identitystore:UpdateGroup", res...), "delete": c.can("identitystore:DeleteGroup", res...),
			"addMember": c.can("identitystore:CreateGroupMembership", res...),
			// Removal is authorized on each membership; the button shows
			// when the store-wide action is allowed.
			"removeMember": c.can("identitystore:DeleteGroupMembership", s.storeARN()),
		}}
	page.Error, page.ReadOnly = msg, readOnly(page.Can)
	ms, err := s.Store.ListMembershipsByGroup(ctx, g.ID, store.Page{Limit: maxScan})
	if err != nil {
		return fmt.Errorf("members: %w", err)
	}
	for _, m := range ms {
		name := m.UserID
		if u, err := s.Store.GetUser(ctx, m.UserID); err == nil {
			name = u.UserName
		}
		page.Members = append(page.Members, web.AdminNamed{ID: m.ID, Name: name, Extra: m.UserID})
	}
	slices.SortFunc(page.Members, func(a, b web.AdminNamed) int {
		return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
	s.write(w, r, status, page)
	return nil
}

func (s *Service) postGroup(w http.ResponseWriter, r *http.Request, c *caller) error {
	id := r.PathValue("id")
	if err := c.must("identitystore:UpdateGroup", s.groupRes(id)...); err != nil {
		return err
	}
	g, err := s.group(r.Context(), id)
	if err != nil {
		return err
	}
	name, desc := strings.TrimSpace(r.PostFormValue("name")), strings.TrimSpace(r.PostFormValue("description"))
	ops := []directory.AttributeOp{{Path: "description", Value: jsonString(desc)}}
	if name == "" {
		name = g.DisplayName
	}
	if name != g.DisplayName {
		ops = append(ops, directory.AttributeOp{Path: "displayName", Value: jsonString(name)})
	}
	if desc == "" {
		// identitystore refuses an empty description: clear it instead.
		ops[0].Value = []byte("null")
	}
	err = s.Directory.UpdateGroup(r.Context(), g.ID, ops)
	if err != nil {
		if msg := userMessage(err); msg != "" {
			return s.groupPage(w, r, c, http.StatusBadRequest, msg, "")
		}
		return err
	}
	return done(w, r, "/admin/groups/"+g.ID, "group-updated")
}

func (s *Service) postGroupDelete(w http.ResponseWriter, r *http.Request, c *caller) error {
	id := r.PathValue("id")
	if err := c.must("identitystore:DeleteGroup", s.groupRes(id)...); err != nil {
		return err
	}
	g, err := s.group(r.Context(), id)
	if err != nil {
		return err
	}
	if !confirmed(r) {
		return s.groupPage(w, r, c, http.StatusBadRequest, userMessage(errUnconfirmed), "")
	}
	if err := s.Directory.DeleteGroup(r.Context(), g.ID); err != nil {
		if msg := userMessage(err); msg != "" {
			return s.groupPage(w, r, c, http.StatusBadRequest, msg, "")
		}
		return err
	}
	return done(w, r, "/admin/groups", "group-deleted")
}

func (s *Service) postMember(w http.ResponseWriter, r *http.Request, c *caller) error {
	id := r.PathValue("id")
	if err := c.must("identitystore:CreateGroupMembership", s.groupRes(id)...); err != nil {
		return err
	}
	ctx := r.Context()
	g, err := s.group(ctx, id)
	if err != nil {
		return err
	}
	name := strings.TrimSpace(r.PostFormValue("user"))
	var u *store.User
	if name == "" {
		err = fault.Validationf("Enter the user name of the user to add.")
	} else if u, err = s.Directory.GetUserByName(ctx, name); err == nil {
		if err = c.must("identitystore:CreateGroupMembership", append(s.groupRes(g.ID), arn.IdentityStoreUserARN(strings.ToLower(u.ID)))...); err == nil {
			_, err = s.Directory.AddMember(ctx, g.ID, u.ID)
			// The API names the member and group by ID; the page by name.
			if fault.KindOf(err) == fault.Conflict {
				err = fault.Validationf("%s is already a member of %s.", u.UserName, g.DisplayName)
			}
		}
	} else if fault.KindOf(err) == fault.NotFound {
		err = fault.Validationf("There is no user named “%s”.", name)
	}
	if err != nil {
		if msg := userMessage(err); msg != "" {
			return s.groupPage(w, r, c, http.StatusBadRequest, msg, name)
		}
		return err
	}
	return done(w, r, "/admin/groups/"+g.ID, "member-added")
}

func (s *Service) postMemberRemove(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, mid := r.PathValue("id"), r.PathValue("mid")
	if err := c.must("identitystore:DeleteGroupMembership", s.storeARN(), arn.IdentityStoreMembershipARN(strings.ToLower(mid))); err != nil {
		return err
	}
	ctx := r.Context()
	g, err := s.group(ctx, id)
	if err != nil {
		return err
	}
	if directory.CheckID("MembershipId", mid) != nil {
		return notFound("membership")
	}
	m, err := s.Directory.GetMembership(ctx, mid)
	if fault.KindOf(err) == fault.NotFound || (err == nil && m.GroupID != g.ID) {
		return notFound("membership")
	} else if err != nil {
		return err
	}
	if err := s.Directory.RemoveMember(ctx, m.ID); err != nil {
		if msg := userMessage(err); msg != "" {
			return s.groupPage(w, r, c, http.StatusBadRequest, msg, "")
		}
		return err
	}
	return done(w, r, "/admin/groups/"+g.ID, "member-removed")
}
