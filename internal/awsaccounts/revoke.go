package awsaccounts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/awsaccounts/samlidp"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// Per-user session revocation (AWS docs, "Revoking IAM role temporary
// security credentials"): IAM's "Revoke active sessions" denies every
// session of a role issued before now. Gatehouse does it per user: when a
// user is disabled, deleted or loses their last path to a permission set
// in a linked account, the role gets, in its inline policy
// RevokedSessionsPolicyName, a statement denying everything to sessions
// whose aws:userid is "<role ID>:<session name>" (SessionName of the user
// name: the role session name of the user's sessions) and whose aws:TokenIssueTime is before the moment of
// revocation. A statement can go once every session it covers has expired:
// the permission set's session duration after that moment (12 hours when
// the set changed within the last 12, as its duration may have been cut). Its Sid carries that
// moment ("Until<unix seconds>User<hash>"), so the policy in IAM is the
// record the sweep reads back; there is nothing else to keep in step.
// Renaming a user revokes the sessions of the old name
// (access.Service.RevokeRenamedUser): a later revocation names only the
// new one.

// RevokedSessionsPolicyName names the inline policy holding the per-user
// revocation statements of a role.
const RevokedSessionsPolicyName = "GatehouseRevokedSessions"

// SweepInterval is how often Run sweeps expired revocation statements.
const SweepInterval = 5 * time.Minute

var sidRe = regexp.MustCompile(`^Until(\d+)User([0-9a-f]{16})$`)

// statement is one IAM policy statement.
type statement struct {
	Sid       string                       `json:"Sid"`
	Effect    string                       `json:"Effect"`
	Action    any                          `json:"Action"`
	Resource  any                          `json:"Resource"`
	Condition map[string]map[string]string `json:"Condition"`
}

type policyDoc struct {
	Version   string      `json:"Version"`
	Statement []statement `json:"Statement"`
}

// userHash names a user in a Sid.
func userHash(userName string) string {
	h := sha256.Sum256([]byte(userName))
	return hex.EncodeToString(h[:8])
}

// revocationStatement denies every action to the sessions of userName on
// the role roleID issued before at, and may go at until.
func revocationStatement(roleID, userName string, at, until time.Time) statement {
	return statement{
		Sid: fmt.Sprintf("Until%dUser%s", until.Unix(), userHash(userName)), Effect: "Deny", Action: "*", Resource: "*",
		Condition: map[string]map[string]string{
			"StringLike":   {"aws:userid": roleID + ":" + likeLiteral(SessionName(userName))},
			"DateLessThan": {"aws:TokenIssueTime": at.UTC().Format(time.RFC3339)},
		},
	}
}

// revoke performs an access.OpRevokeSessions operation.
func (p *Provisioner) revoke(ctx context.Context, op *store.Operation) (string, error) {
	l, err := p.activeLink(ctx, op.AccountID)
	if err != nil || l == nil {
		return "", err
	}
	if msg := p.Accounts.endpointRefusal(op.AccountID, l.Endpoint); msg != "" {
		return msg, nil
	}
	role, err := p.Accounts.Store.GetProvisionedRole(ctx, op.AccountID, op.PermissionSetID)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil // the role is gone, and its sessions with it
	} else if err != nil {
		return "", err
	}
	// The sessions last the set's session duration, unless the set
	// changed within the longest one: sessions issued before the change
	// may last longer than the duration it has now.
	duration := access.MaxSessionDuration
	if ps, err := p.Accounts.Store.GetPermissionSet(ctx, op.PermissionSetID); err == nil && ps.SessionDuration > 0 &&
		!ps.UpdatedAt.After(op.CreatedAt.Add(-access.MaxSessionDuration)) {
		duration = ps.SessionDuration
	}
	c, err := p.iamClient(ctx, l)
	if err != nil {
		return "", err
	}
	now := p.Accounts.Now()
	doc, reason := p.revocations(ctx, c, role.RoleName)
	if reason != "" {
		if isReasonNoSuchEntity(reason) {
			return "", nil // the role was deleted in IAM
		}
		return reason, nil
	}
	hash := userHash(op.PrincipalID)
	until := op.CreatedAt.Add(duration)
	kept := doc.Statement[:0]
	for _, st := range doc.Statement {
		m := sidRe.FindStringSubmatch(st.Sid)
		if m != nil && m[2] == hash {
			// The user's earlier statement: the later revocation
			// covers it, and lasts at least as long.
			if exp, _ := strconv.ParseInt(m[1], 10, 64); time.Unix(exp, 0).After(until) {
				until = time.Unix(exp, 0)
			}
			continue
		}
		kept = append(kept, st)
	}
	doc.Statement = append(kept, revocationStatement(role.RoleID, op.PrincipalID, op.CreatedAt, until))
	return p.putRevocations(ctx, c, role.RoleName, doc, now), nil
}

// revocations reads the role's revocation policy (an empty one when it has
// none).
func (p *Provisioner) revocations(ctx context.Context, c *iam.Client, roleName string) (*policyDoc, string) {
	out, err := call(ctx, p, func() (*iam.GetRolePolicyOutput, error) {
		return c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(roleName), PolicyName: aws.String(RevokedSessionsPolicyName)})
	})
	if isCode(err, "NoSuchEntity") {
		// The policy or the role is missing: tell which.
		if _, err := call(ctx, p, func() (*iam.GetRoleOutput, error) {
			return c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(roleName)})
		}); err != nil {
			return nil, reasonOf(err)
		}
		return &policyDoc{Version: "2012-10-17"}, ""
	} else if err != nil {
		return nil, reasonOf(err)
	}
	// IAM returns policy documents URL-encoded (RFC 3986).
	text, err := url.QueryUnescape(aws.ToString(out.PolicyDocument))
	if err != nil {
		text = aws.ToString(out.PolicyDocument)
	}
	var doc policyDoc
	if err := json.Unmarshal([]byte(text), &doc); err != nil {
		// Not ours to read: start again rather than fail revocations.
		return &policyDoc{Version: "2012-10-17"}, ""
	}
	return &doc, ""
}

// putRevocations writes doc less its statements expired by now, deleting
// the policy when none is left.
func (p *Provisioner) putRevocations(ctx context.Context, c *iam.Client, roleName string, doc *policyDoc, now time.Time) string {
	kept := doc.Statement[:0]
	for _, st := range doc.Statement {
		if m := sidRe.FindStringSubmatch(st.Sid); m != nil {
			if exp, _ := strconv.ParseInt(m[1], 10, 64); !now.Before(time.Unix(exp, 0)) {
				continue
			}
		}
		kept = append(kept, st)
	}
	doc.Statement = kept
	if len(kept) == 0 {
		if _, err := call(ctx, p, func() (*iam.DeleteRolePolicyOutput, error) {
			return c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(roleName), PolicyName: aws.String(RevokedSessionsPolicyName)})
		}); err != nil && !isCode(err, "NoSuchEntity") {
			return reasonOf(err)
		}
		return ""
	}
	doc.Version = "2012-10-17"
	b, _ := json.Marshal(doc)
	if _, err := call(ctx, p, func() (*iam.PutRolePolicyOutput, error) {
		return c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(roleName), PolicyName: aws.String(RevokedSessionsPolicyName), PolicyDocument: aws.String(string(b))})
	}); err != nil {
		return reasonOf(err)
	}
	return ""
}

// Sweep removes the revocation statements whose sessions have all expired
// from the roles of every active linked account. Every replica may run it;
// it is idempotent.
func (p *Provisioner) Sweep(ctx context.Context) error {
	links, err := p.Accounts.Store.ListAccountLinks(ctx)
	if err != nil {
		return fmt.Errorf("list account links: %w", err)
	}
	now := p.Accounts.Now()
	var errs []error
	for i := range links {
		l := &links[i]
		if l.Status != store.LinkActive {
			continue
		}
		roles, err := p.Accounts.Store.ListProvisionedRoles(ctx, store.RoleFilter{AccountID: l.AccountID})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if len(roles) == 0 {
			continue
		}
		c, err := p.iamClient(ctx, l)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, r := range roles {
			doc, reason := p.revocations(ctx, c, r.RoleName)
			if reason == "" && !anyExpired(doc, now) {
				continue
			}
			// Something to remove: under the role's lock, read again.
			if reason == "" {
				if ok, err := p.lockRole(ctx, r.AccountID, r.PermissionSetID); err != nil || !ok {
					if err != nil {
						errs = append(errs, err)
					}
					continue // another replica rewrites it; the next sweep looks again
				}
				doc, reason = p.revocations(ctx, c, r.RoleName)
			}
			if reason != "" {
				if !isReasonNoSuchEntity(reason) {
					errs = append(errs, fmt.Errorf("read revocations of %s in %s: %s", r.RoleName, l.AccountID, reason))
				}
				continue
			}
			n := len(doc.Statement)
			if reason := p.putRevocations(ctx, c, r.RoleName, doc, now); reason != "" {
				errs = append(errs, fmt.Errorf("sweep revocations of %s in %s: %s", r.RoleName, l.AccountID, reason))
			} else if len(doc.Statement) < n {
				p.Accounts.Log.Info("removed expired session revocations", "account", l.AccountID, "role", r.RoleName, "removed", n-len(doc.Statement))
			}
		}
	}
	return errors.Join(errs...)
}

// anyExpired reports whether a statement of doc may go at now.
func anyExpired(doc *policyDoc, now time.Time) bool {
	for _, st := range doc.Statement {
		if m := sidRe.FindStringSubmatch(st.Sid); m != nil {
			if exp, _ := strconv.ParseInt(m[1], 10, 64); !now.Before(time.Unix(exp, 0)) {
				return true
			}
		}
	}
	return false
}

// likeLiteral quotes the wildcards of s for a StringLike condition with
// IAM's special-character policy variables ${*}, ${?} and ${$} (IAM docs,
// "IAM policy elements: Variables and tags", "Special characters").
func likeLiteral(s string) string {
	return strings.NewReplacer("$", "${$}", "*", "${*}", "?", "${?}").Replace(s)
}

// SessionName is the RoleSessionName of userName's sessions: the one the
// SAML assertion names (samlidp.SessionName), so that a revocation names
// the sessions it means.
func SessionName(userName string) string { return samlidp.SessionName(userName) }
