package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/policy/managed"
	"github.com/gatehouse-dev/gatehouse/internal/store"
	"github.com/gatehouse-dev/gatehouse/internal/web"
)

// maxFound bounds the managed policies a search shows.
const maxFound = 50

var setIDRe = regexp.MustCompile(`^ps-[a-f0-9]{16}$`)

func (s *Service) registerSets(get, post route) {
	get("/admin/permission-sets", s.getSets)
	post("/admin/permission-sets", s.postSets)
	get("/admin/permission-sets/{id}", s.getSet)
	post("/admin/permission-sets/{id}", s.setChange("sso:UpdatePermissionSet", "set-updated", s.updateSet))
	post("/admin/permission-sets/{id}/managed", s.setChange("sso:AttachManagedPolicyToPermissionSet", "policy-attached", func(ctx context.Context, ps *store.PermissionSet, r *http.Request) error {
		return s.Access.AttachManagedPolicy(ctx, ps.ID, strings.TrimSpace(r.PostFormValue("arn")))
	}))
	post("/admin/permission-sets/{id}/managed/detach", s.setChange("sso:DetachManagedPolicyFromPermissionSet", "policy-detached", func(ctx context.Context, ps *store.PermissionSet, r *http.Request) error {
		return s.Access.DetachManagedPolicy(ctx, ps.ID, strings.TrimSpace(r.PostFormValue("arn")))
	}))
	post("/admin/permission-sets/{id}/customer", s.setChange("sso:AttachCustomerManagedPolicyReferenceToPermissionSet", "policy-attached", func(ctx context.Context, ps *store.PermissionSet, r *http.Request) error {
		return s.Access.AttachCustomerPolicy(ctx, ps.ID, policyRef(r))
	}))
	post("/admin/permission-sets/{id}/customer/detach", s.setChange("sso:DetachCustomerManagedPolicyReferenceFromPermissionSet", "policy-detached", func(ctx context.Context, ps *store.PermissionSet, r *http.Request) error {
		return s.Access.DetachCustomerPolicy(ctx, ps.ID, policyRef(r))
	}))
	post("/admin/permission-sets/{id}/inline", s.postInline)
	post("/admin/permission-sets/{id}/provision", s.postProvision)
	post("/admin/permission-sets/{id}/delete", s.setChange("sso:DeletePermissionSet", "set-deleted", func(ctx context.Context, ps *store.PermissionSet, r *http.Request) error {
		if !confirmed(r) {
			return errUnconfirmed
		}
		err := s.Access.DeletePermissionSet(ctx, ps.ID)
		// The API names the set by ARN; the page by name, with what to do.
		if fe, ok := errors.AsType[*fault.Error](err); ok && fe.Kind == fault.Conflict {
			if m := inUseRe.FindStringSubmatch(fe.Message); m != nil {
				n, _ := strconv.Atoi(m[1])
				return fault.Validationf("The permission set %s is used by %s: remove its assignments first (on the Assignments page).",
					ps.Name, plural(n, "account assignment"))
			}
		}
		return err
	}))
}

func policyRef(r *http.Request) store.PolicyRef {
	ref := store.PolicyRef{Name: strings.TrimSpace(r.PostFormValue("name")), Path: strings.TrimSpace(r.PostFormValue("path"))}
	if ref.Path == "" {
		ref.Path = "/"
	}
	return ref
}

func (s *Service) permissionSet(ctx context.Context, id string) (*store.PermissionSet, error) {
	if !setIDRe.MatchString(id) {
		return nil, notFound("permission set")
	}
	ps, err := s.Access.GetPermissionSet(ctx, id)
	if fault.KindOf(err) == fault.NotFound {
		return nil, notFound("permission set")
	}
	return ps, err
}

func hours(d time.Duration) string { return strconv.Itoa(int(d / time.Hour)) }

func setRow(ps *store.PermissionSet) web.AdminSetRow {
	return web.AdminSetRow{ID: ps.ID, Name: ps.Name, Description: ps.Description, SessionDuration: hours(ps.SessionDuration)}
}

// duration turns the form's hours into an ISO-8601 session duration.
func duration(h string) (string, error) {
	n, err := strconv.Atoi(strings.TrimSpace(h))
	if err != nil || n < 1 || n > 12 {
		return "", fault.Validationf("Session duration must be a whole number of hours from 1 to 12 (PT1H to PT12H).")
	}
	return "PT" + strconv.Itoa(n) + "H", nil
}

func (s *Service) listSets(ctx context.Context) ([]store.PermissionSet, error) {
	var out []store.PermissionSet
	after := ""
	for len(out) < maxScan {
		ps, err := s.Access.ListPermissionSets(ctx, store.Page{After: after, Limit: 500})
		if err != nil {
			return nil, fmt.Errorf("list permission sets: %w", err)
		}
		out = append(out, ps...)
		if len(ps) < 500 {
			break
		}
		after = ps[len(ps)-1].ID
	}
	slices.SortFunc(out, func(a, b store.PermissionSet) int {
		return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
	return out, nil
}

func (s *Service) getSets(w http.ResponseWriter, r *http.Request, c *caller) error {
	return s.setsPage(w, r, c, http.StatusOK, "", web.AdminSetRow{}, "")
}

func (s *Service) setsPage(w http.ResponseWriter, r *http.Request, c *caller, status int, msg string, form web.AdminSetRow, relay string) error {
	if err := c.must("sso:ListPermissionSets", s.instanceARN()); err != nil {
		return err
	}
	sets, err := s.listSets(r.Context())
	if err != nil {
		return err
	}
	page := web.AdminPermissionSets{AdminLayout: c.layout("Permission sets", "permission-sets"), Form: form, RelayState: relay,
		Can: web.Can{"create": c.can("sso:CreatePermissionSet", s.instanceARN())}}
	page.Error, page.ReadOnly = msg, !page.Can["create"]
	for i := range sets {
		page.Sets = append(page.Sets, setRow(&sets[i]))
	}
	s.write(w, r, status, page)
	return nil
}

func (s *Service) postSets(w http.ResponseWriter, r *http.Request, c *caller) error {
	if err := c.must("sso:CreatePermissionSet", s.instanceARN()); err != nil {
		return err
	}
	f := web.AdminSetRow{Name: strings.TrimSpace(r.PostFormValue("name")), Description: strings.TrimSpace(r.PostFormValue("description")),
		SessionDuration: strings.TrimSpace(r.PostFormValue("hours"))}
	relay := strings.TrimSpace(r.PostFormValue("relay"))
	d, err := duration(f.SessionDuration)
	var ps *store.PermissionSet
	if err == nil {
		ps, err = s.Access.CreatePermissionSet(r.Context(), access.PermissionSetInput{Name: f.Name, Description: f.Description, SessionDuration: d, RelayState: relay})
	}
	if err != nil {
		if msg := userMessage(err); msg != "" {
			return s.setsPage(w, r, c, http.StatusBadRequest, msg, f, relay)
		}
		return err
	}
	return done(w, r, "/admin/permission-sets/"+ps.ID, "set-created")
}

func (s *Service) getSet(w http.ResponseWriter, r *http.Request, c *caller) error {
	return s.setPage(w, r, c, http.StatusOK, "", nil)
}

// inlineSent is an inline policy the policy engine refused, shown again
// with its error.
type inlineSent struct{ doc, err string }

func (s *Service) setPage(w http.ResponseWriter, r *http.Request, c *caller, status int, msg string, inline *inlineSent) error {
	id := r.PathValue("id")
	if err := c.must("sso:DescribePermissionSet", s.setRes(id)...); err != nil {
		return err
	}
	ctx := r.Context()
	ps, err := s.permissionSet(ctx, id)
	if err != nil {
		return err
	}
	res := s.setRes(ps.ID)
	page := web.AdminPermissionSet{AdminLayout: c.layout(ps.Name, "permission-sets"), Set: setRow(ps), RelayState: ps.RelayState, Inline: ps.InlinePolicy,
		Can: web.Can{
			"update":         c.can("sso:UpdatePermissionSet", res...),
			"attachManaged":  c.can("sso:AttachManagedPolicyToPermissionSet", res...),
			"detachManaged":  c.can("sso:DetachManagedPolicyFromPermissionSet", res...),
			"attachCustomer": c.can("sso:AttachCustomerManagedPolicyReferenceToPermissionSet", res...),
			"detachCustomer": c.can("sso:DetachCustomerManagedPolicyReferenceFromPermissionSet", res...),
			"putInline":      c.can("sso:PutInlinePolicyToPermissionSet", res...) && c.can("sso:DeleteInlinePolicyFromPermissionSet", res...),
			"provision":      c.can("sso:ProvisionPermissionSet", res...),
			"delete":         c.can("sso:DeletePermissionSet", res...),
		}}
	page.Error, page.ReadOnly = msg, readOnly(page.Can)
	if inline != nil {
		page.Inline, page.InlineError = inline.doc, inline.err
	}
	for _, a := range ps.ManagedPolicies {
		page.Managed = append(page.Managed, web.AdminManaged{ARN: a, Name: managedName(a)})
	}
	for _, ref := range ps.CustomerPolicies {
		page.Customer = append(page.Customer, web.AdminNamed{ID: ref.Name, Name: ref.Path + ref.Name, Extra: ref.Path})
	}
	if q := strings.TrimSpace(r.URL.Query().Get("policy")); q != "" {
		if len(q) > 128 {
			q = q[:128]
		}
		page.PolicyQuery = q
		page.Found = findManaged(q, ps.ManagedPolicies)
	}
	if page.Provisioning, err = s.provisioning(ctx, ps); err != nil {
		return err
	}
	s.write(w, r, status, page)
	return nil
}

// managedName is the name of an AWS managed policy: its ARN's last path
// segment.
func managedName(a string) string {
	if i := strings.LastIndexByte(a, '/'); i >= 0 {
		return a[i+1:]
	}
	return a
}

// findManaged returns the AWS managed policies Gatehouse ships whose name
// contains q (case-insensitive), exact matches first, leaving out those in
// attached.
func findManaged(q string, attached []string) []web.AdminManaged {
	lq := strings.ToLower(q)
	var exact, found []web.AdminManaged
	for _, a := range managed.ARNs() {
		name := managedName(a)
		ln := strings.ToLower(name)
		if !strings.Contains(ln, lq) || slices.Contains(attached, a) {
			continue
		}
		if ln == lq {
			exact = append(exact, web.AdminManaged{ARN: a, Name: name})
		} else {
			found = append(found, web.AdminManaged{ARN: a, Name: name})
		}
	}
	slices.SortStableFunc(found, func(a, b web.AdminManaged) int { return len(a.Name) - len(b.Name) })
	out := append(exact, found...)
	if len(out) > maxFound {
		out = out[:maxFound]
	}
	return out
}

// provisioning is the set's state in every account it is assigned to or
// provisioned in.
func (s *Service) provisioning(ctx context.Context, ps *store.PermissionSet) ([]web.AdminProvisioning, error) {
	as, err := s.Access.ListAssignments(ctx, store.AssignmentFilter{PermissionSetID: ps.ID})
	if err != nil {
		return nil, fmt.Errorf("assignments: %w", err)
	}
	roles, err := s.Store.ListProvisionedRoles(ctx, store.RoleFilter{PermissionSetID: ps.ID})
	if err != nil {
		return nil, fmt.Errorf("provisioned roles: %w", err)
	}
	byAccount := map[string]*store.ProvisionedRole{}
	var accounts []string
	for i := range roles {
		byAccount[roles[i].AccountID] = &roles[i]
		accounts = append(accounts, roles[i].AccountID)
	}
	for _, a := range as {
		if !slices.Contains(accounts, a.AccountID) {
			accounts = append(accounts, a.AccountID)
		}
	}
	slices.Sort(accounts)
	out := make([]web.AdminProvisioning, 0, len(accounts))
	for _, id := range accounts {
		p := web.AdminProvisioning{AccountID: id, AccountName: id, Status: "Not provisioned", Outdated: true}
		if a, err := s.Store.GetAccount(ctx, id); err == nil {
			p.AccountName = a.Name
		}
		if r := byAccount[id]; r != nil {
			if r.PermissionSetVersion >= ps.Version {
				p.Status, p.Outdated = "Provisioned", false
			} else {
				p.Status = "Out of date: provision again to apply the latest changes"
			}
		}
		out = append(out, p)
	}
	return out, nil
}

// setChange serves a change of one permission set: authorized as action
// on the instance and the set, made by fn, then back to the editor; a
// refused change shows the editor with AWS's message.
func (s *Service) setChange(action, notice string, fn func(ctx context.Context, ps *store.PermissionSet, r *http.Request) error) handler {
	return func(w http.ResponseWriter, r *http.Request, c *caller) error {
		id := r.PathValue("id")
		if err := c.must(action, s.setRes(id)...); err != nil {
			return err
		}
		ps, err := s.permissionSet(r.Context(), id)
		if err != nil {
			return err
		}
		if err := fn(r.Context(), ps, r); err != nil {
			if msg := userMessage(err); msg != "" {
				return s.setPage(w, r, c, http.StatusBadRequest, msg, nil)
			}
			return err
		}
		if notice == "set-deleted" {
			return done(w, r, "/admin/permission-sets", notice)
		}
		return done(w, r, "/admin/permission-sets/"+ps.ID, notice)
	}
}

func (s *Service) updateSet(ctx context.Context, ps *store.PermissionSet, r *http.Request) error {
	desc, relay := strings.TrimSpace(r.PostFormValue("description")), strings.TrimSpace(r.PostFormValue("relay"))
	d, err := duration(r.PostFormValue("hours"))
	if err != nil {
		return err
	}
	u := access.PermissionSetUpdate{Description: &desc, RelayState: &relay}
	if d != access.FormatSessionDuration(ps.SessionDuration) {
		u.SessionDuration = &d
	}
	return s.Access.UpdatePermissionSet(ctx, ps.ID, u)
}

func (s *Service) postInline(w http.ResponseWriter, r *http.Request, c *caller) error {
	id := r.PathValue("id")
	res := s.setRes(id)
	doc := strings.TrimSpace(strings.ReplaceAll(r.PostFormValue("policy"), "\r\n", "\n"))
	action := "sso:PutInlinePolicyToPermissionSet"
	if doc == "" {
		action = "sso:DeleteInlinePolicyFromPermissionSet"
	}
	if err := c.must(action, res...); err != nil {
		return err
	}
	ps, err := s.permissionSet(r.Context(), id)
	if err != nil {
		return err
	}
	notice := "inline-saved"
	switch {
	case doc == "" && ps.InlinePolicy == "":
		return done(w, r, "/admin/permission-sets/"+ps.ID, "inline-removed")
	case doc == "":
		notice = "inline-removed"
		err = s.Access.DeleteInlinePolicy(r.Context(), ps.ID)
	default:
		err = s.Access.PutInlinePolicy(r.Context(), ps.ID, doc)
	}
	if err != nil {
		if msg := userMessage(err); msg != "" {
			return s.setPage(w, r, c, http.StatusBadRequest, "", &inlineSent{doc: doc, err: msg})
		}
		return err
	}
	return done(w, r, "/admin/permission-sets/"+ps.ID, notice)
}

func (s *Service) postProvision(w http.ResponseWriter, r *http.Request, c *caller) error {
	id := r.PathValue("id")
	acct := strings.TrimSpace(r.PostFormValue("account"))
	if !arn.ValidAccountID(acct) {
		return &pageError{Status: http.StatusBadRequest, Heading: "Your request could not be completed",
			Message: fmt.Sprintf("TargetId %q must be a 12-digit account ID", acct)}
	}
	if err := c.must("sso:ProvisionPermissionSet", append(s.setRes(id), arn.AccountResourceARN(acct))...); err != nil {
		return err
	}
	ps, err := s.permissionSet(r.Context(), id)
	if err != nil {
		return err
	}
	op, err := s.Access.Provision(r.Context(), ps.ID, acct)
	if err == nil && op.Status == store.StatusFailed {
		err = fault.Validationf("Provisioning failed: %s", op.FailureReason)
	}
	if err != nil {
		if msg := userMessage(err); msg != "" {
			return s.setPage(w, r, c, http.StatusBadRequest, msg, nil)
		}
		return err
	}
	return done(w, r, "/admin/permission-sets/"+ps.ID, "provisioned")
}

// inUseRe matches access.DeletePermissionSet's refusal of a set that is
// still assigned.
var inUseRe = regexp.MustCompile(`is used by (\d+) account assignment`)

// plural is "1 thing" or "n things".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return strconv.Itoa(n) + " " + thing + "s"
}
