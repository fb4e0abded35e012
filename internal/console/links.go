package console

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/awsaccounts"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/store"
	"github.com/gatehouse-dev/gatehouse/internal/web"
)

// AccountLinks links accounts to AWS accounts (*awsaccounts.Service).
type AccountLinks interface {
	Link(ctx context.Context, accountID string) (*store.AccountLink, error)
	LinkAccount(ctx context.Context, in awsaccounts.LinkInput) (*store.AccountLink, error)
	UnlinkAccount(ctx context.Context, accountID string) error
}

// Actions of the account page (the Gatehouse admin API's), authorized on
// the account's sso resource ARN.
const (
	ActionLinkAccount         = "gatehouse:LinkAccount"
	ActionUnlinkAccount       = "gatehouse:UnlinkAccount"
	ActionDescribeAccountLink = "gatehouse:DescribeAccountLink"
	ActionListAccountLinks    = "gatehouse:ListAccountLinks"
)

// registerLinks mounts the account page:
//
//	GET  /admin/accounts/{id}          the account and its AWS link
//	POST /admin/accounts/{id}/link     link (or link again with new credentials)
//	POST /admin/accounts/{id}/unlink   unlink
func (s *Service) registerLinks(get, post route) {
	get("/admin/accounts/{id}", s.getAccount)
	post("/admin/accounts/{id}/link", s.postLink)
	post("/admin/accounts/{id}/unlink", s.postUnlink)
}

func (s *Service) accountPage(w http.ResponseWriter, r *http.Request, c *caller, status int, page web.AdminAccount) error {
	id := r.PathValue("id")
	res := arn.AccountResourceARN(id)
	if err := c.must(ActionDescribeAccountLink, res); err != nil {
		return err
	}
	a, err := s.Store.GetAccount(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("account")
	} else if err != nil {
		return err
	}
	lay := c.layout(a.Name, "accounts")
	lay.Error = page.Error
	page.AdminLayout = lay
	page.Account = accountRow(a, s.Instance.ManagementAccountID)
	page.Configured = s.Links != nil
	page.Can = web.Can{"link": c.can(ActionLinkAccount, res), "unlink": c.can(ActionUnlinkAccount, res)}
	page.ReadOnly = !page.Can["link"] && !page.Can["unlink"]
	if s.Links != nil && !page.Account.Management {
		l, err := s.Links.Link(r.Context(), id)
		if err != nil {
			return err
		}
		if l != nil {
			page.Link = &web.AdminLink{Endpoint: l.Endpoint, Region: l.Region, AccessKeyID: l.AccessKeyID, RoleARN: l.RoleARN,
				SAMLProviderARN: l.SAMLProviderARN, Status: l.Status, StatusReason: l.StatusReason,
				Updated: l.UpdatedAt.UTC().Format(dateTime), UpdatedBy: l.UpdatedBy}
			if page.Form == (web.AdminLinkForm{}) {
				// Linking again usually changes only the credentials.
				page.Form = web.AdminLinkForm{Endpoint: l.Endpoint, Region: l.Region, AccessKeyID: l.AccessKeyID, RoleName: l.RoleARN, ExternalID: l.ExternalID}
			}
		} else {
			page.Can["unlink"] = false
		}
		page.Policy, page.Terraform = string(awsaccounts.LinkPolicy(id)), awsaccounts.LinkTerraform(id)
	}
	s.write(w, r, status, page)
	return nil
}

func (s *Service) getAccount(w http.ResponseWriter, r *http.Request, c *caller) error {
	return s.accountPage(w, r, c, http.StatusOK, web.AdminAccount{})
}

// postLink links the account. The secret access key goes from the form to
// the sealed store; a refused link shows the form again without it.
func (s *Service) postLink(w http.ResponseWriter, r *http.Request, c *caller) error {
	id := r.PathValue("id")
	if err := c.must(ActionLinkAccount, arn.AccountResourceARN(id)); err != nil {
		return err
	}
	if s.Links == nil {
		return notConfigured("Account links")
	}
	form := web.AdminLinkForm{Endpoint: strings.TrimSpace(r.PostFormValue("endpoint")), Region: strings.TrimSpace(r.PostFormValue("region")),
		AccessKeyID: strings.TrimSpace(r.PostFormValue("accessKeyId")), RoleName: strings.TrimSpace(r.PostFormValue("roleName")),
		ExternalID: strings.TrimSpace(r.PostFormValue("externalId"))}
	in := awsaccounts.LinkInput{AccountID: id, Endpoint: form.Endpoint, Region: form.Region, AccessKeyID: form.AccessKeyID,
		SecretAccessKey: awsaccounts.Secret(strings.TrimSpace(r.PostFormValue("secretAccessKey"))), ExternalID: form.ExternalID}
	if strings.HasPrefix(form.RoleName, "arn:") {
		in.RoleARN = form.RoleName
	} else {
		in.RoleName = form.RoleName
	}
	l, err := s.Links.LinkAccount(r.Context(), in)
	if err != nil {
		if msg := userMessage(err); msg != "" {
			return s.accountPage(w, r, c, http.StatusBadRequest, web.AdminAccount{AdminLayout: web.AdminLayout{Error: msg}, Form: form})
		}
		return err
	}
	if l.Status != store.LinkActive {
		// Stored FAILED: the page shows why.
		return done(w, r, "/admin/accounts/"+id, "link-failed")
	}
	return done(w, r, "/admin/accounts/"+id, "account-linked")
}

func (s *Service) postUnlink(w http.ResponseWriter, r *http.Request, c *caller) error {
	id := r.PathValue("id")
	if err := c.must(ActionUnlinkAccount, arn.AccountResourceARN(id)); err != nil {
		return err
	}
	if s.Links == nil {
		return notConfigured("Account links")
	}
	if !confirmed(r) {
		return s.accountPage(w, r, c, http.StatusBadRequest, web.AdminAccount{AdminLayout: web.AdminLayout{Error: "Tick the box to confirm unlinking the account."}})
	}
	if err := s.Links.UnlinkAccount(r.Context(), id); err != nil {
		if fault.KindOf(err) == fault.NotFound {
			return done(w, r, "/admin/accounts/"+id, "account-unlinked")
		}
		if msg := userMessage(err); msg != "" {
			return s.accountPage(w, r, c, http.StatusBadRequest, web.AdminAccount{AdminLayout: web.AdminLayout{Error: msg}})
		}
		return err
	}
	return done(w, r, "/admin/accounts/"+id, "account-unlinked")
}

// linkStatuses returns each linked account's link status, or nil when the
// caller may not list links.
func (s *Service) linkStatuses(ctx context.Context, c *caller) (map[string]string, error) {
	if s.Links == nil || !c.can(ActionListAccountLinks) {
		return nil, nil
	}
	ls, err := s.Store.ListAccountLinks(ctx)
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(ls))
	for _, l := range ls {
		m[l.AccountID] = "Linked — " + l.Status
	}
	return m, nil
}
