package console

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/organizations"
	"github.com/gatehouse-dev/gatehouse/internal/store"
	"github.com/gatehouse-dev/gatehouse/internal/web"
)

// maxPrincipals bounds the users or groups one assignment form names.
const maxPrincipals = 50

func (s *Service) registerAssignments(get, post route) {
	get("/admin/assignments", s.getAssignmentAccounts)
	get("/admin/assignments/{account}", s.getAssignments)
	post("/admin/assignments/{account}", s.postAssignments)
	post("/admin/assignments/{account}/remove", s.postUnassign)
}

func (s *Service) listAccounts(ctx context.Context) ([]web.AdminAccountRow, error) {
	var out []web.AdminAccountRow
	after := ""
	for len(out) < maxScan {
		as, err := s.Access.ListAccounts(ctx, store.Page{After: after, Limit: 500})
		if err != nil {
			return nil, fmt.Errorf("list accounts: %w", err)
		}
		for i := range as {
			out = append(out, accountRow(&as[i], s.Instance.ManagementAccountID))
		}
		if len(as) < 500 {
			break
		}
		after = as[len(as)-1].ID
	}
	return out, nil
}

func accountRow(a *store.Account, mgmt string) web.AdminAccountRow {
	return web.AdminAccountRow{ID: a.ID, Name: a.Name, Email: a.Email, Status: organizations.Status(a), Management: a.ID == mgmt}
}

func (s *Service) getAssignmentAccounts(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := c.must("organizations:ListAccounts"); err != nil {
		return err
	}
	accounts, err := s.listAccounts(r.Context())
	if err != nil {
		return err
	}
	s.write(w, r, http.StatusOK, web.AdminAssignments{AdminLayout: c.layout("Assignments", "assignments"), Accounts: accounts})
	return nil
}

// account reads an account named in the path.
func (s *Service) account(ctx context.Context, id string) (*store.Account, error) {
	if !arn.ValidAccountID(id) {
		return nil, notFound("account")
	}
	a, err := s.Access.GetAccount(ctx, id)
	if fault.KindOf(err) == fault.NotFound {
		return nil, notFound("account")
	}
	return a, err
}

func (s *Service) getAssignments(w http.ResponseWriter, r *http.Request, c *caller) error {
	return s.assignmentsPage(w, r, c, http.StatusOK, "", "", "")
}

func (s *Service) assignmentsPage(w http.ResponseWriter, r *http.Request, c *caller, status int, msg, principals, ptype string) error {
	id := r.PathValue("account")
	acctARN := arn.AccountResourceARN(id)
	if err := c.must("sso:ListAccountAssignments", s.instanceARN(), acctARN); err != nil {
		return err
	}
	ctx := r.Context()
	a, err := s.account(ctx, id)
	if err != nil {
		return err
	}
	page := web.AdminAssignments{AdminLayout: c.layout("Assignments in "+a.Name, "assignments"), Account: accountRow(a, s.Instance.ManagementAccountID),
		Principal: principals, PrincipalType: ptype,
		Can: web.Can{"add": c.can("sso:CreateAccountAssignment", s.instanceARN(), acctARN),
			"remove": c.can("sso:DeleteAccountAssignment", s.instanceARN(), acctARN)}}
	page.Error, page.ReadOnly = msg, !page.Can["add"] && !page.Can["remove"]
	sets, err := s.listSets(ctx)
	if err != nil {
		return err
	}
	names := map[string]string{}
	for i := range sets {
		names[sets[i].ID] = sets[i].Name
		page.Sets = append(page.Sets, setRow(&sets[i]))
	}
	as, err := s.Access.ListAssignments(ctx, store.AssignmentFilter{AccountID: a.ID})
	if err != nil {
		return fmt.Errorf("assignments: %w", err)
	}
	for _, x := range as {
		row := web.AdminAssignmentRow{PrincipalType: x.PrincipalType, PrincipalID: x.PrincipalID, PrincipalName: x.PrincipalID,
			PermissionSetID: x.PermissionSetID, PermissionSetName: names[x.PermissionSetID]}
		if x.PrincipalType == store.PrincipalUser {
			if u, err := s.Store.GetUser(ctx, x.PrincipalID); err == nil {
				row.PrincipalName = u.UserName
			}
		} else if g, err := s.Store.GetGroup(ctx, x.PrincipalID); err == nil {
			row.PrincipalName = g.DisplayName
		}
		page.Assignments = append(page.Assignments, row)
	}
	slices.SortFunc(page.Assignments, func(a, b web.AdminAssignmentRow) int {
		if c := strings.Compare(strings.ToLower(a.PrincipalName), strings.ToLower(b.PrincipalName)); c != 0 {
			return c
		}
		return strings.Compare(a.PermissionSetName, b.PermissionSetName)
	})
	s.write(w, r, status, page)
	return nil
}

func (s *Service) postAssignments(w http.ResponseWriter, r *http.Request, c *caller) error {
	id := r.PathValue("account")
	acctARN := arn.AccountResourceARN(id)
	if err := c.must("sso:CreateAccountAssignment", s.instanceARN(), acctARN); err != nil {
		return err
	}
	ctx := r.Context()
	a, err := s.account(ctx, id)
	if err != nil {
		return err
	}
	ptype := r.PostFormValue("type")
	raw := r.PostFormValue("principals")
	err = s.assign(ctx, c, a.ID, ptype, raw, r.PostForm["set"])
	if err != nil {
		if msg := userMessage(err); msg != "" {
			return s.assignmentsPage(w, r, c, http.StatusBadRequest, msg, raw, ptype)
		}
		return err
	}
	return done(w, r, "/admin/assignments/"+a.ID, "assigned")
}

// assign gives every named user or group every one of the permission sets
// in the account, each through access.CreateAssignment.
func (s *Service) assign(ctx context.Context, c *caller, accountID, ptype, raw string, setIDs []string) error {
	if ptype != store.PrincipalUser && ptype != store.PrincipalGroup {
		return fault.Validationf("Choose whether to assign users or groups.")
	}
	var names []string
	for n := range strings.Lines(raw) {
		if n = strings.TrimSpace(n); n != "" && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	switch {
	case len(names) == 0:
		return fault.Validationf("Enter at least one user or group name.")
	case len(names) > maxPrincipals:
		return fault.Validationf("Assign at most %d users or groups at once.", maxPrincipals)
	case len(setIDs) == 0:
		return fault.Validationf("Choose at least one permission set.")
	case len(setIDs) > 100:
		return fault.Validationf("Choose at most 100 permission sets.")
	}
	// Resolve everything first, so that a typo assigns nothing.
	var ids []string
	for _, n := range names {
		if ptype == store.PrincipalUser {
			u, err := s.Directory.GetUserByName(ctx, n)
			if err != nil {
				if fault.KindOf(err) == fault.NotFound {
					return fault.Validationf("There is no user named %q.", n)
				}
				return err
			}
			ids = append(ids, u.ID)
		} else {
			g, err := s.Directory.GetGroupByName(ctx, n)
			if err != nil {
				if fault.KindOf(err) == fault.NotFound {
					return fault.Validationf("There is no group named %q.", n)
				}
				return err
			}
			ids = append(ids, g.ID)
		}
	}
	for _, ps := range setIDs {
		if !setIDRe.MatchString(ps) {
			return fault.Validationf("PermissionSetArn names no permission set of this instance.")
		}
		if err := c.must("sso:CreateAccountAssignment", s.instanceARN(), s.Access.PermissionSetARN(ps), arn.AccountResourceARN(accountID)); err != nil {
			return err
		}
	}
	for _, ps := range setIDs {
		for _, pid := range ids {
			op, err := s.Access.CreateAssignment(ctx, access.AssignmentInput{AccountID: accountID, PermissionSetID: ps, PrincipalType: ptype, PrincipalID: pid})
			if err != nil {
				return err
			}
			if op.Status == store.StatusFailed {
				if m := missingPolicyRe.FindStringSubmatch(op.FailureReason); m != nil && m[1] == accountID {
					name := ps
					if set, err := s.Store.GetPermissionSet(ctx, ps); err == nil {
						name = set.Name
					}
					path, policy := "/", m[2]
					if i := strings.LastIndex(m[2], "/"); i >= 0 {
						path, policy = "/"+m[2][:i+1], m[2][i+1:]
						path = strings.ReplaceAll(path, "//", "/")
					}
					return fault.Validationf("Account %s has no IAM policy %s (path %s), which permission set %s references: create it in that account first, then assign again.",
						accountID, policy, path, name)
				}
				return fault.Validationf("Assignment failed: %s", op.FailureReason)
			}
		}
	}
	return nil
}

func (s *Service) postUnassign(w http.ResponseWriter, r *http.Request, c *caller) error {
	id := r.PathValue("account")
	ps := r.PostFormValue("set")
	if !setIDRe.MatchString(ps) {
		return notFound("permission set")
	}
	if err := c.must("sso:DeleteAccountAssignment", s.instanceARN(), s.Access.PermissionSetARN(ps), arn.AccountResourceARN(id)); err != nil {
		return err
	}
	ctx := r.Context()
	a, err := s.account(ctx, id)
	if err != nil {
		return err
	}
	op, err := s.Access.DeleteAssignment(ctx, access.AssignmentInput{AccountID: a.ID, PermissionSetID: ps,
		PrincipalType: r.PostFormValue("type"), PrincipalID: r.PostFormValue("principal")})
	if err == nil && op.Status == store.StatusFailed {
		err = fault.Validationf("Removing the assignment failed: %s", op.FailureReason)
	}
	if err != nil {
		if msg := userMessage(err); msg != "" {
			return s.assignmentsPage(w, r, c, http.StatusBadRequest, msg, "", "")
		}
		return err
	}
	return done(w, r, "/admin/assignments/"+a.ID, "unassigned")
}

// missingPolicyRe matches the failure of an assignment whose permission
// set references a customer-managed policy (or boundary) the account does
// not have, as access gives it in AWS's words: the account and the
// policy's path and name after "policy/".
var missingPolicyRe = regexp.MustCompile(`^Received a 404 status error: Policy arn:aws:iam::(\d{12}):policy/(\S+) does not exist`)
