package portal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gatehouse-dev/gatehouse/internal/audit"
	"github.com/gatehouse-dev/gatehouse/internal/awsproto"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/keyring"
	"github.com/gatehouse-dev/gatehouse/internal/oidc"
	"github.com/gatehouse-dev/gatehouse/internal/session"
)

// The portal API (spec/aws-wire.md §4): restJson1, unsigned, authenticated
// by the OIDC access token in the x-amz-sso_bearer_token header.

// bearerHeader is the header carrying the access token. Clients spell its
// case differently (botocore lower case, Go "X-Amz-Sso_bearer_token"), so
// it is matched case-insensitively (spec/aws-wire.md §1.2).
const bearerHeader = "x-amz-sso_bearer_token"

// unauthorizedMessage is AWS's message for a missing or invalid token.
const unauthorizedMessage = "Session token not found or invalid"

// apiHandler serves one portal API operation for an authenticated
// principal; its error goes through apiErrorFor.
type apiHandler func(w http.ResponseWriter, r *http.Request, p *session.Principal, token string) error

// bearerToken returns the request's access token, or "".
func bearerToken(r *http.Request) string {
	if v := r.Header.Get(bearerHeader); v != "" {
		return v
	}
	for k, vs := range r.Header {
		if strings.EqualFold(k, bearerHeader) && len(vs) > 0 {
			return vs[0]
		}
	}
	return ""
}

// api authenticates the bearer token, runs h and writes its error.
func (s *Service) api(op string, h apiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := bearerToken(r)
		err := func() error {
			if token == "" || len(token) > 4096 {
				return awsproto.PortalUnauthorized(unauthorizedMessage)
			}
			p, err := s.OIDC.AuthenticateAccessToken(r.Context(), token)
			if err != nil {
				return err
			}
			r = r.WithContext(withIdentity(r.Context(), p.UserID, p.UserName))
			return h(w, r, p, token)
		}()
		if err != nil {
			e := s.apiErrorFor(err)
			awsproto.LogFailure(r.Context(), s.log(), e.HTTPStatus(), err, "portal api failed",
				slog.String("op", op), slog.String("request_id", audit.ActorFrom(r.Context()).RequestID))
			awsproto.WriteError(w, e)
		}
	})
}

// apiErrorFor maps an error onto the portal API's wire errors: a rejected
// bearer token as UnauthorizedException, everything else by the protocol's
// one mapping, awsproto.ErrorFor(awsproto.ProtocolPortal, err).
func (s *Service) apiErrorFor(err error) *awsproto.Error {
	if _, ok := errors.AsType[*awsproto.Error](err); !ok && errors.Is(err, oidc.ErrInvalidToken) {
		return awsproto.PortalUnauthorized(unauthorizedMessage)
	}
	return awsproto.ErrorFor(awsproto.ProtocolPortal, err)
}

// Page sizes of the list operations (spec/aws-wire.md §2.6).
const (
	defaultPageSize = 100
	maxPageSize     = 100
)

// pageToken is a list position, sealed so it is opaque and cannot be forged,
// and bound to the query that produced it.
type pageToken struct {
	Query string `json:"q"`
	After string `json:"a"`
}

var pageTokenAD = []byte("gatehouse/portal/next-token/v1")

// pageParams reads max_result and next_token for a list bound to query.
func (s *Service) pageParams(r *http.Request, query string) (size int, after string, err error) {
	q := r.URL.Query()
	size = defaultPageSize
	if v := q.Get("max_result"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageSize {
			return 0, "", awsproto.PortalInvalidRequest("maxResults must be between 1 and 100")
		}
		size = n
	}
	if v := q.Get("next_token"); v != "" {
		b, err := s.Keys.Open(keyring.PurposeSecrets, v, pageTokenAD)
		var t pageToken
		if err != nil || json.Unmarshal(b, &t) != nil || t.Query != query {
			return 0, "", awsproto.PortalInvalidRequest("Invalid nextToken")
		}
		after = t.After
	}
	return size, after, nil
}

// pageOf returns the keys after `after`, at most size of them, and the
// token for the rest (empty on the last page). keys must be sorted.
func (s *Service) pageOf(keys []string, after string, size int, query string) ([]string, string, error) {
	start := 0
	if after != "" {
		start, _ = slices.BinarySearch(keys, after)
		for start < len(keys) && keys[start] <= after {
			start++
		}
	}
	end := min(start+size, len(keys))
	page := keys[start:end]
	if end >= len(keys) || len(page) == 0 {
		return page, "", nil
	}
	b, err := json.Marshal(pageToken{Query: query, After: page[len(page)-1]})
	if err != nil {
		return nil, "", err
	}
	tok, err := s.Keys.Seal(keyring.PurposeSecrets, b, pageTokenAD)
	return page, tok, err
}

// ListAccountsOutput is ListAccounts' response.
type ListAccountsOutput struct {
	AccountList []AccountInfo `json:"accountList"`
	NextToken   string        `json:"nextToken,omitempty"`
}

// AccountInfo is one account of ListAccounts.
type AccountInfo struct {
	AccountID    string `json:"accountId"`
	AccountName  string `json:"accountName,omitempty"`
	EmailAddress string `json:"emailAddress,omitempty"`
	// EndpointURL is a Gatehouse addition, absent from AWS's answer: the
	// IAM/STS endpoint of an account linked to one other than AWS (a
	// store.AccountLink's Endpoint), the only place its role credentials
	// work; empty for Gatehouse's own accounts and those linked to AWS.
	// The SDKs skip members they do not know.
	EndpointURL string `json:"gatehouseEndpointUrl,omitempty"`
}

func (s *Service) listAccounts(w http.ResponseWriter, r *http.Request, p *session.Principal, _ string) error {
	query := "accounts:" + p.UserID
	size, after, err := s.pageParams(r, query)
	if err != nil {
		return err
	}
	accts, err := s.entitledAccounts(r.Context(), p.UserID)
	if err != nil {
		return err
	}
	byID := make(map[string]AccountInfo, len(accts))
	ids := make([]string, 0, len(accts))
	for _, a := range accts {
		ids = append(ids, a.Account.ID)
		info := AccountInfo{AccountID: a.Account.ID, AccountName: a.Account.Name, EmailAddress: a.Account.Email}
		if a.Link != nil {
			info.EndpointURL = a.Link.Endpoint
		}
		byID[a.Account.ID] = info
	}
	page, next, err := s.pageOf(ids, after, size, query)
	if err != nil {
		return err
	}
	out := ListAccountsOutput{AccountList: []AccountInfo{}, NextToken: next}
	for _, id := range page {
		out.AccountList = append(out.AccountList, byID[id])
	}
	return awsproto.WriteJSON(w, http.StatusOK, out)
}

// ListAccountRolesOutput is ListAccountRoles' response.
type ListAccountRolesOutput struct {
	RoleList  []RoleInfo `json:"roleList"`
	NextToken string     `json:"nextToken,omitempty"`
}

// RoleInfo is one role of ListAccountRoles: roleName is the permission
// set's name, not the AWSReservedSSO_ role's.
type RoleInfo struct {
	RoleName  string `json:"roleName"`
	AccountID string `json:"accountId"`
}

func (s *Service) listAccountRoles(w http.ResponseWriter, r *http.Request, p *session.Principal, _ string) error {
	accountID := r.URL.Query().Get("account_id")
	if accountID == "" {
		return awsproto.PortalInvalidRequest("accountId is required")
	}
	query := "roles:" + p.UserID + ":" + accountID
	size, after, err := s.pageParams(r, query)
	if err != nil {
		return err
	}
	roles, err := s.rolesIn(r.Context(), p.UserID, accountID)
	if err != nil {
		return err
	}
	page, next, err := s.pageOf(roles, after, size, query)
	if err != nil {
		return err
	}
	out := ListAccountRolesOutput{RoleList: []RoleInfo{}, NextToken: next}
	for _, name := range page {
		out.RoleList = append(out.RoleList, RoleInfo{RoleName: name, AccountID: accountID})
	}
	return awsproto.WriteJSON(w, http.StatusOK, out)
}

// rolesIn returns the sorted permission-set names the user has in the
// account; an account they have nothing in gives none.
func (s *Service) rolesIn(ctx context.Context, userID, accountID string) ([]string, error) {
	ents, err := s.Cache.Entitlements(ctx, userID)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		if e.AccountID != accountID {
			continue
		}
		ps, err := s.Cache.PermissionSet(ctx, e.PermissionSetID)
		if isNotFound(err) {
			continue
		} else if err != nil {
			return nil, err
		}
		names = append(names, ps.Name)
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// GetRoleCredentialsOutput is GetRoleCredentials' response.
type GetRoleCredentialsOutput struct {
	RoleCredentials RoleCredentials `json:"roleCredentials"`
}

// RoleCredentials are the issued credentials; Expiration is epoch
// MILLISECONDS (spec/aws-wire.md §2.5: seconds make botocore think they
// expired in 1970).
type RoleCredentials struct {
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
	SessionToken    string `json:"sessionToken"`
	Expiration      int64  `json:"expiration"`
}

func (s *Service) getRoleCredentials(w http.ResponseWriter, r *http.Request, p *session.Principal, _ string) error {
	q := r.URL.Query()
	roleName, accountID := q.Get("role_name"), q.Get("account_id")
	if roleName == "" || accountID == "" {
		return awsproto.PortalInvalidRequest("roleName and accountId are required")
	}
	c, err := s.Issuer.Issue(r.Context(), *p, accountID, roleName)
	if fe, ok := errors.AsType[*fault.Error](err); ok && fe.Kind == fault.AccessDenied {
		return awsproto.PortalForbidden(noAccessMessage(accountID, roleName))
	}
	if err != nil {
		return err
	}
	return awsproto.WriteJSON(w, http.StatusOK, GetRoleCredentialsOutput{RoleCredentials: RoleCredentials{
		AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken,
		Expiration: c.Expiration.UnixMilli(),
	}})
}

// noAccessMessage is GetRoleCredentials' refusal. AWS says only "No
// access"; this keeps those words first and names what was asked for, so
// that a profile with a mistyped account or role is found at once. Both
// are quoted (and cut to 100 characters) as the caller typed them: the
// same answer whether the account exists, the role exists or neither.
func noAccessMessage(accountID, roleName string) string {
	cut := func(s string) string {
		if r := []rune(s); len(r) > 100 {
			return string(r[:100]) + "…"
		}
		return s
	}
	return fmt.Sprintf("No access: you have no role %q in account %q (list yours with 'aws sso list-accounts' and 'aws sso list-account-roles', or in the access portal)",
		cut(roleName), cut(accountID))
}

func (s *Service) logout(w http.ResponseWriter, r *http.Request, _ *session.Principal, token string) error {
	if err := s.OIDC.Logout(r.Context(), token); err != nil {
		return err
	}
	awsproto.RequestID(w)
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
	return nil
}
