package awsaccounts

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"

	"github.com/gatehouse-dev/gatehouse/internal/access"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// Provisioning through IAM (AWS docs, "IAM Identity Center: Provisioning
// permission sets" and "Roles that IAM Identity Center creates"): the
// permission set's role in a linked account is an IAM role named
// AWSReservedSSO_<set>_<16 hex> under RolePath, trusting the link's SAML
// provider, with the set's AWS-managed and customer-managed policies
// attached, its inline policy as InlinePolicyName, its permissions
// boundary, MaxSessionDuration = the session duration, and its tags.
//
// The access service stores each write on a linked account as an
// operation IN_PROGRESS; the Provisioner performs the IAM calls and sets
// the operation SUCCEEDED, or FAILED with the reason as Identity Center
// reports it. Several replicas may run a Provisioner: each operation is
// claimed for LeaseDuration by a use marker (store.Tx.PutUseMarker), so
// only one replica works on it at a time, and one that died mid-way is
// replaced when the lease runs out (every step is idempotent).

// RolePath is the IAM path of the roles Identity Center creates.
const RolePath = "/aws-reserved/sso.amazonaws.com/"

// InlinePolicyName names a permission set's inline policy on its role.
const InlinePolicyName = "AwsSSOInlinePolicy"

// SAMLAudience is the audience AWS sign-in requires of SAML assertions,
// the SAML:aud condition of every Identity Center role's trust policy.
const SAMLAudience = "https://signin.aws.amazon.com/saml"

// LeaseDuration is how long a replica holds an operation it works on.
const LeaseDuration = 2 * time.Minute

// PollInterval is how often the Provisioner looks for queued work when not
// kicked.
const PollInterval = 10 * time.Second

// Retry bounds for throttling and server errors: exponential backoff from
// retryBase, doubled per attempt up to retryCap, full jitter, at most
// retryAttempts calls in all.
const (
	retryAttempts = 8
	retryBase     = 200 * time.Millisecond
	retryCap      = 10 * time.Second
)

// Provisioner performs queued work on linked accounts: provisioning,
// role deletion, per-user session revocation, and the sweep of expired
// revocations. Make one with NewProvisioner, then call Run (the server's
// background loop does) and Kick after writes.
type Provisioner struct {
	Accounts *Service
	// Sleep waits between retries; nil means a timer honouring ctx.
	Sleep func(ctx context.Context, d time.Duration) error

	kick      chan struct{}
	lastSweep time.Time // Run's goroutine only

	mu   sync.Mutex
	held map[string]bool // role locks this Provisioner holds
}

// roleLockWindow is how long a replica holds a role's revocation policy
// once it starts rewriting it (and the granularity of those locks).
const roleLockWindow = time.Minute

// lockRole takes, for the current window, the lock on the revocation
// policy of (accountID, psID)'s role; false when another replica holds it
// (the work waits for a later round). A Provisioner keeps the locks it
// took until their window ends.
func (p *Provisioner) lockRole(ctx context.Context, accountID, psID string) (bool, error) {
	now := p.Accounts.Now()
	window := now.Unix() / int64(roleLockWindow/time.Second)
	key := fmt.Sprintf("awsaccounts/role/%s/%s/%d", accountID, psID, window)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.held[key] {
		return true, nil
	}
	err := p.Accounts.Store.PutUseMarker(ctx, key, now.Add(2*roleLockWindow))
	if errors.Is(err, store.ErrConflict) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	if p.held == nil || len(p.held) > 1000 {
		p.held = map[string]bool{}
	}
	p.held[key] = true
	return true, nil
}

// NewProvisioner returns a Provisioner acting through s.
func NewProvisioner(s *Service) *Provisioner {
	return &Provisioner{Accounts: s, kick: make(chan struct{}, 1)}
}

// Kick asks Run to look for work now. It never blocks.
func (p *Provisioner) Kick() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// Run works on queued operations when kicked and every PollInterval, and
// sweeps expired revocations, until ctx ends.
func (p *Provisioner) Run(ctx context.Context) {
	t := time.NewTicker(PollInterval)
	defer t.Stop()
	for {
		if err := p.RunOnce(ctx); err != nil && ctx.Err() == nil {
			p.Accounts.Log.Warn("linked accounts: a provisioning round failed; retried at the next poll", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-p.kick:
		case <-t.C:
		}
	}
}

// workKinds are the operation kinds the Provisioner performs.
var workKinds = []string{store.OpCreateAssignment, store.OpDeleteAssignment, store.OpProvision, access.OpReconcileRole, access.OpRevokeSessions}

// RunOnce performs every queued operation it can claim, then sweeps
// expired revocations when SweepInterval passed since the last sweep.
// Errors of single operations are recorded on them; the error returned is
// the store's or the sweep's. Call it from one goroutine at a time.
func (p *Provisioner) RunOnce(ctx context.Context) error {
	var errs []error
	for _, kind := range workKinds {
		ops, err := p.Accounts.Store.ListOperations(ctx, store.OperationFilter{Kind: kind, Status: store.StatusInProgress, Page: store.Page{Limit: 1000}})
		if err != nil {
			return fmt.Errorf("list queued operations: %w", err)
		}
		for i := range ops {
			// Revocations and the sweep rewrite a role's revocation
			// policy (read, merge, write): one replica at a time.
			if kind == access.OpRevokeSessions {
				if ok, err := p.lockRole(ctx, ops[i].AccountID, ops[i].PermissionSetID); err != nil || !ok {
					if err != nil {
						errs = append(errs, err)
					}
					continue
				}
			}
			if err := p.perform(ctx, &ops[i]); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if now := p.Accounts.Now(); now.Sub(p.lastSweep) >= SweepInterval {
		p.lastSweep = now
		if err := p.Sweep(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// claim takes the lease on op for this lease window; false when another
// replica holds it. Two replicas may still overlap at a window's end (one
// finishing late); every step is idempotent, and a role created meanwhile
// is updated rather than failed on.
func (p *Provisioner) claim(ctx context.Context, op *store.Operation) (bool, error) {
	now := p.Accounts.Now()
	window := now.Unix() / int64(LeaseDuration/time.Second)
	key := fmt.Sprintf("awsaccounts/op/%s/%d", op.RequestID, window)
	err := p.Accounts.Store.PutUseMarker(ctx, key, now.Add(2*LeaseDuration))
	if errors.Is(err, store.ErrConflict) {
		return false, nil
	}
	return err == nil, err
}

// perform claims and performs one operation and records its outcome.
func (p *Provisioner) perform(ctx context.Context, op *store.Operation) error {
	ok, err := p.claim(ctx, op)
	if err != nil || !ok {
		return err
	}
	// Another replica may have finished it since it was listed.
	if cur, err := p.Accounts.Store.GetOperation(ctx, op.RequestID); err != nil {
		return err
	} else if cur.Status != store.StatusInProgress {
		return nil
	}
	reason, err := p.work(ctx, op)
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		// A store failure: the lease runs out and the operation is tried again.
		return fmt.Errorf("operation %s: %w", op.RequestID, err)
	}
	status := store.StatusSucceeded
	if reason != "" {
		status = store.StatusFailed
	}
	return p.Accounts.Store.Update(ctx, func(tx store.Tx) error {
		cur, err := tx.GetOperation(ctx, op.RequestID)
		if err != nil {
			return err
		}
		if cur.Status != store.StatusInProgress {
			return nil
		}
		cur.Status, cur.FailureReason = status, reason
		if err := tx.PutOperation(ctx, cur); err != nil {
			return err
		}
		if status == store.StatusFailed && cur.Kind == store.OpCreateAssignment {
			return p.undoAssignment(ctx, tx, cur)
		}
		return nil
	})
}

// undoAssignment removes, inside tx, the assignment of a creation that
// failed, as Identity Center keeps no assignment whose creation failed;
// when it was the last of its permission set in the account, the role
// (perhaps half made in IAM) is queued for deletion.
func (p *Provisioner) undoAssignment(ctx context.Context, tx store.Tx, op *store.Operation) error {
	a := &store.Assignment{AccountID: op.AccountID, PermissionSetID: op.PermissionSetID, PrincipalType: op.PrincipalType, PrincipalID: op.PrincipalID}
	if err := tx.DeleteAssignment(ctx, a); errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	left, err := tx.ListAssignments(ctx, store.AssignmentFilter{AccountID: op.AccountID, PermissionSetID: op.PermissionSetID})
	if err != nil || len(left) > 0 {
		return err
	}
	id, err := newRequestID()
	if err != nil {
		return err
	}
	p.Kick()
	return tx.PutOperation(ctx, &store.Operation{
		RequestID: id, Kind: access.OpReconcileRole, Status: store.StatusInProgress,
		AccountID: op.AccountID, PermissionSetID: op.PermissionSetID, CreatedAt: p.Accounts.Now().UTC(),
	})
}

// newRequestID returns a random (version 4) UUID, as request IDs are.
func newRequestID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:]), nil
}

// work performs op; a non-empty reason is a failure AWS reported.
func (p *Provisioner) work(ctx context.Context, op *store.Operation) (string, error) {
	if op.Kind == access.OpRevokeSessions {
		return p.revoke(ctx, op)
	}
	accounts := []string{op.AccountID}
	if op.AccountID == "" {
		roles, err := p.Accounts.Store.ListProvisionedRoles(ctx, store.RoleFilter{PermissionSetID: op.PermissionSetID})
		if err != nil {
			return "", err
		}
		accounts = accounts[:0]
		for _, r := range roles {
			accounts = append(accounts, r.AccountID)
		}
	}
	for _, acct := range accounts {
		reason, err := p.reconcile(ctx, acct, op.PermissionSetID)
		if err != nil || reason != "" {
			return reason, err
		}
	}
	return "", nil
}

// activeLink returns accountID's link when it is active, else nil.
func (p *Provisioner) activeLink(ctx context.Context, accountID string) (*store.AccountLink, error) {
	l, err := p.Accounts.Link(ctx, accountID)
	if err != nil || l == nil || l.Status != store.LinkActive {
		return nil, err
	}
	return l, nil
}

// iamClient returns an IAM client for l whose calls this package retries
// itself (the SDK's retryer is off, so that the bounds are ours).
func (p *Provisioner) iamClient(ctx context.Context, l *store.AccountLink) (*iam.Client, error) {
	c, err := p.Accounts.Clients(ctx, l)
	if err != nil {
		return nil, err
	}
	return iam.NewFromConfig(c.Config, func(o *iam.Options) { o.Retryer = aws.NopRetryer{} }), nil
}

// reconcile brings the role of psID in accountID in line with the store:
// provisioned while an assignment is left, deleted (with its record) when
// none is.
func (p *Provisioner) reconcile(ctx context.Context, accountID, psID string) (string, error) {
	l, err := p.Accounts.Link(ctx, accountID)
	if err != nil || l == nil {
		// Unlinked meanwhile: a local account again, whose roles the
		// store alone holds.
		return "", err
	}
	if l.Status != store.LinkActive {
		reason := fmt.Sprintf("The link to AWS account %s is %s", accountID, l.Status)
		if l.StatusReason != "" {
			reason += ": " + l.StatusReason
		}
		return reason, nil
	}
	if msg := p.Accounts.endpointRefusal(accountID, l.Endpoint); msg != "" {
		return msg, nil
	}
	role, err := p.Accounts.Store.GetProvisionedRole(ctx, accountID, psID)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	} else if err != nil {
		return "", err
	}
	left, err := p.Accounts.Store.ListAssignments(ctx, store.AssignmentFilter{AccountID: accountID, PermissionSetID: psID})
	if err != nil {
		return "", err
	}
	c, err := p.iamClient(ctx, l)
	if err != nil {
		return "", err
	}
	if len(left) == 0 {
		if reason := p.deleteRole(ctx, c, role.RoleName); reason != "" {
			return reason, nil
		}
		err := p.Accounts.Store.Update(ctx, func(tx store.Tx) error {
			// An assignment made meanwhile keeps the record; the
			// operation it queued provisions the role again.
			if as, err := tx.ListAssignments(ctx, store.AssignmentFilter{AccountID: accountID, PermissionSetID: psID}); err != nil || len(as) > 0 {
				return err
			}
			if err := tx.DeleteProvisionedRole(ctx, accountID, psID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			return nil
		})
		return "", err
	}
	ps, err := p.Accounts.Store.GetPermissionSet(ctx, psID)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	} else if err != nil {
		return "", err
	}
	roleID, reason := p.putRole(ctx, c, l, ps, role.RoleName)
	if reason != "" {
		return reason, nil
	}
	return "", p.Accounts.Store.Update(ctx, func(tx store.Tx) error {
		r, err := tx.GetProvisionedRole(ctx, accountID, psID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		r.RoleID = roleID
		r.PermissionSetVersion = ps.Version
		r.UpdatedAt = p.Accounts.Now().UTC()
		return tx.PutProvisionedRole(ctx, r)
	})
}

// TrustPolicy is the trust policy of a permission set's role trusting the
// SAML provider providerARN, as Identity Center writes it, with
// sts:TagSession and sts:SetSourceIdentity for the PrincipalTag and
// SourceIdentity attributes of Gatehouse's assertions.
func TrustPolicy(providerARN string) string {
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Effect":    "Allow",
			"Principal": map[string]any{"Federated": providerARN},
			"Action":    []string{"sts:AssumeRoleWithSAML", "sts:TagSession", "sts:SetSourceIdentity"},
			"Condition": map[string]any{"StringEquals": map[string]any{"SAML:aud": SAMLAudience}},
		}},
	}
	b, _ := json.Marshal(doc)
	return string(b)
}

// customerARN is the ARN of a customer-managed policy in accountID.
func customerARN(accountID string, r store.PolicyRef) string {
	path := r.Path
	if path == "" {
		path = "/"
	}
	return fmt.Sprintf("arn:aws:iam::%s:policy%s%s", accountID, path, r.Name)
}

// putRole creates or updates the role of ps named name and returns its
// role ID, or the reason provisioning failed.
func (p *Provisioner) putRole(ctx context.Context, c *iam.Client, l *store.AccountLink, ps *store.PermissionSet, name string) (roleID, reason string) {
	return p.putRoleTries(ctx, c, l, ps, name, 3)
}

// putRoleTries is putRole, starting again at most tries times when the
// role appears between GetRole and CreateRole.
func (p *Provisioner) putRoleTries(ctx context.Context, c *iam.Client, l *store.AccountLink, ps *store.PermissionSet, name string, tries int) (roleID, reason string) {
	// Customer-managed references are resolved first, as Identity
	// Center does: a missing one fails the provisioning before anything
	// changes.
	refs := slices.Clone(ps.CustomerPolicies)
	if ps.Boundary != nil && ps.Boundary.CustomerPolicy != nil {
		refs = append(refs, *ps.Boundary.CustomerPolicy)
	}
	for _, r := range refs {
		a := customerARN(l.AccountID, r)
		_, err := call(ctx, p, func() (*iam.GetPolicyOutput, error) {
			return c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(a)})
		})
		if isCode(err, "NoSuchEntity") {
			return "", fmt.Sprintf("Received a 404 status error: Policy %s does not exist or is not attachable.", a)
		} else if err != nil {
			return "", reasonOf(err)
		}
	}
	trust := TrustPolicy(l.SAMLProviderARN)
	maxSession := int32(ps.SessionDuration / time.Second)
	if maxSession == 0 {
		maxSession = int32(access.DefaultSessionDuration / time.Second)
	}
	var tags []iamtypes.Tag
	for _, t := range ps.Tags {
		tags = append(tags, iamtypes.Tag{Key: aws.String(t.Key), Value: aws.String(t.Value)})
	}
	boundary := ""
	if ps.Boundary != nil {
		if ps.Boundary.CustomerPolicy != nil {
			boundary = customerARN(l.AccountID, *ps.Boundary.CustomerPolicy)
		} else {
			boundary = ps.Boundary.ManagedPolicyARN
		}
	}

	got, err := call(ctx, p, func() (*iam.GetRoleOutput, error) {
		return c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	})
	var role *iamtypes.Role
	switch {
	case isCode(err, "NoSuchEntity"):
		in := &iam.CreateRoleInput{
			RoleName: aws.String(name), Path: aws.String(RolePath), AssumeRolePolicyDocument: aws.String(trust),
			MaxSessionDuration: aws.Int32(maxSession), Tags: tags,
			Description: aws.String("Gatehouse permission set " + ps.Name),
		}
		if boundary != "" {
			in.PermissionsBoundary = aws.String(boundary)
		}
		out, err := call(ctx, p, func() (*iam.CreateRoleOutput, error) { return c.CreateRole(ctx, in) })
		if isCode(err, "EntityAlreadyExists") && tries > 0 {
			// Created meanwhile (a replica whose lease ran out still
			// at work): update it as found.
			return p.putRoleTries(ctx, c, l, ps, name, tries-1)
		} else if err != nil {
			return "", reasonOf(err)
		}
		role = out.Role
	case err != nil:
		return "", reasonOf(err)
	default:
		role = got.Role
		if _, err := call(ctx, p, func() (*iam.UpdateAssumeRolePolicyOutput, error) {
			return c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(name), PolicyDocument: aws.String(trust)})
		}); err != nil {
			return "", reasonOf(err)
		}
		if _, err := call(ctx, p, func() (*iam.UpdateRoleOutput, error) {
			return c.UpdateRole(ctx, &iam.UpdateRoleInput{RoleName: aws.String(name), MaxSessionDuration: aws.Int32(maxSession)})
		}); err != nil {
			return "", reasonOf(err)
		}
		if r := p.syncTags(ctx, c, name, role.Tags, ps.Tags); r != "" {
			return "", r
		}
		current := ""
		if role.PermissionsBoundary != nil {
			current = aws.ToString(role.PermissionsBoundary.PermissionsBoundaryArn)
		}
		switch {
		case boundary == "" && current != "":
			if _, err := call(ctx, p, func() (*iam.DeleteRolePermissionsBoundaryOutput, error) {
				return c.DeleteRolePermissionsBoundary(ctx, &iam.DeleteRolePermissionsBoundaryInput{RoleName: aws.String(name)})
			}); err != nil {
				return "", reasonOf(err)
			}
		case boundary != "" && boundary != current:
			if _, err := call(ctx, p, func() (*iam.PutRolePermissionsBoundaryOutput, error) {
				return c.PutRolePermissionsBoundary(ctx, &iam.PutRolePermissionsBoundaryInput{RoleName: aws.String(name), PermissionsBoundary: aws.String(boundary)})
			}); err != nil {
				return "", reasonOf(err)
			}
		}
	}

	// Attached policies: attach what the set names, detach the rest.
	want := slices.Clone(ps.ManagedPolicies)
	for _, r := range ps.CustomerPolicies {
		want = append(want, customerARN(l.AccountID, r))
	}
	attached, reason := p.attached(ctx, c, name)
	if reason != "" {
		return "", reason
	}
	for _, a := range want {
		if slices.Contains(attached, a) {
			continue
		}
		if _, err := call(ctx, p, func() (*iam.AttachRolePolicyOutput, error) {
			return c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(name), PolicyArn: aws.String(a)})
		}); err != nil {
			if isCode(err, "NoSuchEntity") {
				return "", fmt.Sprintf("Received a 404 status error: Policy %s does not exist or is not attachable.", a)
			}
			return "", reasonOf(err)
		}
	}
	for _, a := range attached {
		if slices.Contains(want, a) {
			continue
		}
		if _, err := call(ctx, p, func() (*iam.DetachRolePolicyOutput, error) {
			return c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String(name), PolicyArn: aws.String(a)})
		}); err != nil && !isCode(err, "NoSuchEntity") {
			return "", reasonOf(err)
		}
	}

	// The inline policy.
	if ps.InlinePolicy != "" {
		if _, err := call(ctx, p, func() (*iam.PutRolePolicyOutput, error) {
			return c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(InlinePolicyName), PolicyDocument: aws.String(ps.InlinePolicy)})
		}); err != nil {
			return "", reasonOf(err)
		}
	} else if _, err := call(ctx, p, func() (*iam.DeleteRolePolicyOutput, error) {
		return c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(InlinePolicyName)})
	}); err != nil && !isCode(err, "NoSuchEntity") {
		return "", reasonOf(err)
	}
	return aws.ToString(role.RoleId), ""
}

// syncTags makes the role's tags the permission set's.
func (p *Provisioner) syncTags(ctx context.Context, c *iam.Client, name string, have []iamtypes.Tag, want []store.Tag) string {
	// GetRole does not always carry tags; ListRoleTags does.
	out, err := call(ctx, p, func() (*iam.ListRoleTagsOutput, error) {
		return c.ListRoleTags(ctx, &iam.ListRoleTagsInput{RoleName: aws.String(name)})
	})
	if err != nil {
		return reasonOf(err)
	}
	have = out.Tags
	wanted := map[string]string{}
	for _, t := range want {
		wanted[t.Key] = t.Value
	}
	var remove []string
	for _, t := range have {
		if _, ok := wanted[aws.ToString(t.Key)]; !ok {
			remove = append(remove, aws.ToString(t.Key))
		}
	}
	if len(remove) > 0 {
		if _, err := call(ctx, p, func() (*iam.UntagRoleOutput, error) {
			return c.UntagRole(ctx, &iam.UntagRoleInput{RoleName: aws.String(name), TagKeys: remove})
		}); err != nil {
			return reasonOf(err)
		}
	}
	if len(want) > 0 {
		var tags []iamtypes.Tag
		for _, t := range want {
			tags = append(tags, iamtypes.Tag{Key: aws.String(t.Key), Value: aws.String(t.Value)})
		}
		if _, err := call(ctx, p, func() (*iam.TagRoleOutput, error) {
			return c.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String(name), Tags: tags})
		}); err != nil {
			return reasonOf(err)
		}
	}
	return ""
}

// attached lists the ARNs of the policies attached to the role.
func (p *Provisioner) attached(ctx context.Context, c *iam.Client, name string) ([]string, string) {
	var out []string
	var marker *string
	for {
		page, err := call(ctx, p, func() (*iam.ListAttachedRolePoliciesOutput, error) {
			return c.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(name), Marker: marker})
		})
		if err != nil {
			return nil, reasonOf(err)
		}
		for _, a := range page.AttachedPolicies {
			out = append(out, aws.ToString(a.PolicyArn))
		}
		if !page.IsTruncated {
			return out, ""
		}
		marker = page.Marker
	}
}

// deleteRole deletes the role named name and what IAM requires gone first
// (attached and inline policies); a role already gone is no error.
func (p *Provisioner) deleteRole(ctx context.Context, c *iam.Client, name string) string {
	attached, reason := p.attached(ctx, c, name)
	if isReasonNoSuchEntity(reason) {
		return ""
	} else if reason != "" {
		return reason
	}
	for _, a := range attached {
		if _, err := call(ctx, p, func() (*iam.DetachRolePolicyOutput, error) {
			return c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String(name), PolicyArn: aws.String(a)})
		}); err != nil && !isCode(err, "NoSuchEntity") {
			return reasonOf(err)
		}
	}
	inl, err := call(ctx, p, func() (*iam.ListRolePoliciesOutput, error) {
		return c.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String(name)})
	})
	if err != nil && !isCode(err, "NoSuchEntity") {
		return reasonOf(err)
	}
	if inl != nil {
		for _, n := range inl.PolicyNames {
			if _, err := call(ctx, p, func() (*iam.DeleteRolePolicyOutput, error) {
				return c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(n)})
			}); err != nil && !isCode(err, "NoSuchEntity") {
				return reasonOf(err)
			}
		}
	}
	if _, err := call(ctx, p, func() (*iam.DeleteRoleOutput, error) {
		return c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(name)})
	}); err != nil && !isCode(err, "NoSuchEntity") {
		return reasonOf(err)
	}
	return ""
}

// noSuchEntityPrefix starts the reason reasonOf gives a NoSuchEntity error.
const noSuchEntityPrefix = "Received a 404 status error: "

func isReasonNoSuchEntity(reason string) bool {
	return len(reason) >= len(noSuchEntityPrefix) && reason[:len(noSuchEntityPrefix)] == noSuchEntityPrefix
}

// reasonOf is an operation's FailureReason for an AWS error, in Identity
// Center's words ("Received a <status> status error: <message>"), at most
// maxErrorText bytes.
func reasonOf(err error) string {
	var re interface{ HTTPStatusCode() int }
	var ae smithy.APIError
	status := 0
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	if errors.As(err, &ae) {
		if status != 0 {
			return cutText(fmt.Sprintf("Received a %d status error: %s", status, ae.ErrorMessage()))
		}
		return cutText(ae.ErrorCode() + ": " + ae.ErrorMessage())
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return cutText("The account's IAM endpoint could not be reached: " + ue.Err.Error())
	}
	return cutText(err.Error())
}

// isCode reports whether err is the AWS error code.
func isCode(err error, code string) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == code
}

// retryable reports whether err is throttling or a server error, which
// call retries.
func retryable(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException", "ServiceUnavailable":
			return true
		}
	}
	var re interface{ HTTPStatusCode() int }
	return errors.As(err, &re) && re.HTTPStatusCode() >= 500
}

// call runs f, retrying throttling and server errors with exponential
// backoff and full jitter (AWS Architecture Blog, "Exponential Backoff And
// Jitter"), at most retryAttempts times.
func call[T any](ctx context.Context, p *Provisioner, f func() (T, error)) (T, error) {
	var out T
	var err error
	for attempt := 0; attempt < retryAttempts; attempt++ {
		out, err = f()
		if err == nil || !retryable(err) {
			return out, err
		}
		d := retryBase << attempt
		if d > retryCap {
			d = retryCap
		}
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(d)))
		if serr := p.sleep(ctx, time.Duration(n.Int64())); serr != nil {
			return out, err
		}
	}
	return out, err
}

func (p *Provisioner) sleep(ctx context.Context, d time.Duration) error {
	if p.Sleep != nil {
		return p.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// QueueAccount queues the provisioning, through IAM, of every role the
// store holds for accountID (the account was just linked, or its link
// became active again: its roles were until then Gatehouse's alone), and
// kicks the worker. The operations are internal (access.OpReconcileRole);
// the roles' provisioning status reads LATEST once IAM has them.
func (p *Provisioner) QueueAccount(ctx context.Context, accountID string) error {
	err := p.Accounts.Store.Update(ctx, func(tx store.Tx) error {
		roles, err := tx.ListProvisionedRoles(ctx, store.RoleFilter{AccountID: accountID})
		if err != nil {
			return err
		}
		for _, r := range roles {
			id, err := newRequestID()
			if err != nil {
				return err
			}
			if err := tx.PutOperation(ctx, &store.Operation{
				RequestID: id, Kind: access.OpReconcileRole, Status: store.StatusInProgress,
				AccountID: accountID, PermissionSetID: r.PermissionSetID, CreatedAt: p.Accounts.Now().UTC(),
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("queue the roles of account %s: %w", accountID, err)
	}
	p.Kick()
	return nil
}
