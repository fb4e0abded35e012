package automation

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// Customer-managed policies through the IAM API (CreatePolicy and its
// family, IAM API Reference): the policies permission sets refer to by
// name and path, and automation users attach by ARN. They are the records
// world files write (store.CustomerPolicy); IAM adds an ID, versions,
// a description and tags. The document in force is always the default
// version's, which every evaluator reads (authz for roles, Policies for
// users).

// IAM quotas for managed policies (IAM User Guide, "IAM and AWS STS
// quotas").
const (
	// MaxPolicyVersions is how many versions a managed policy keeps.
	MaxPolicyVersions = 5
	// MaxCustomerPolicies is IAM's default quota of customer managed
	// policies in an account.
	MaxCustomerPolicies = 1500
	// MaxPolicyDescription bounds a policy description (characters).
	MaxPolicyDescription = 1000
	// MaxPolicyPath bounds a policy path (characters).
	MaxPolicyPath = 512
)

// versionRE is the IAM model's policyVersionIdType pattern.
var versionRE = regexp.MustCompile(`^v[1-9][0-9]*(\.[A-Za-z0-9-]*)?$`)

// PolicyARN returns arn:aws:iam::<account>:policy<path><name>.
func PolicyARN(accountID, path, name string) string {
	return "arn:aws:iam::" + accountID + ":policy" + path + name
}

// CustomerPolicyARN returns the ARN of p.
func CustomerPolicyARN(p *store.CustomerPolicy) string { return PolicyARN(p.AccountID, p.Path, p.Name) }

// ParsePolicyARN splits a managed policy ARN,
// arn:aws:iam::<account>:policy<path><name>, into its account ("aws" for
// an AWS managed policy), path and name.
func ParsePolicyARN(policyARN string) (account, path, name string, ok bool) {
	rest, ok := strings.CutPrefix(policyARN, "arn:aws:iam::")
	if !ok {
		return "", "", "", false
	}
	account, rest, ok = strings.Cut(rest, ":")
	if !ok || account == "" {
		return "", "", "", false
	}
	rest, ok = strings.CutPrefix(rest, "policy/")
	if !ok || rest == "" || strings.HasSuffix(rest, "/") {
		return "", "", "", false
	}
	i := strings.LastIndex(rest, "/")
	return account, "/" + rest[:i+1], rest[i+1:], true
}

// DerivedPolicyID is the stable unique ID ("ANPA" and 17 characters) of a
// policy that has none stored: one written by a world file before IAM
// managed it, or an AWS managed policy (key is its ARN).
func DerivedPolicyID(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "ANPA" + base32.StdEncoding.EncodeToString(sum[:])[:17]
}

// completePolicy gives a policy stored without IAM's fields (a world file
// wrote it) a derived ID and its document as version v1, the default.
func completePolicy(p *store.CustomerPolicy) *store.CustomerPolicy {
	if p.ID == "" {
		p.ID = DerivedPolicyID(CustomerPolicyARN(p))
	}
	if len(p.Versions) == 0 {
		p.Versions = []store.PolicyVersion{{ID: "v1", Document: p.Document, CreatedAt: p.CreatedAt}}
		p.DefaultVersion = "v1"
	}
	if p.NextVersion == 0 {
		p.NextVersion = 1
		for _, v := range p.Versions {
			if n := versionNumber(v.ID); n >= p.NextVersion {
				p.NextVersion = n + 1
			}
		}
	}
	return p
}

// versionNumber is n of the version ID "vn"; 0 if it is not one.
func versionNumber(id string) int {
	n, err := strconv.Atoi(strings.TrimPrefix(id, "v"))
	if err != nil || !strings.HasPrefix(id, "v") {
		return 0
	}
	return n
}

func noSuchPolicy(policyARN string) error {
	return fault.NotFoundf("POLICY", policyARN, "Policy %s does not exist or is not attachable.", policyARN)
}

func checkPolicyDocument(doc string) error {
	if doc == "" {
		return fault.Validationf("1 validation error detected: Value null at 'policyDocument' failed to satisfy constraint: Member must not be null")
	}
	return policy.CheckCustomer([]byte(doc))
}

// checkPolicyPath validates an IAM path: "/" or "/…/", printable ASCII.
func checkPolicyPath(path string) error {
	if len(path) > MaxPolicyPath || !pathRE.MatchString(path) {
		return fault.Validationf("The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.")
	}
	return nil
}

// CreatePolicyInput is what CreatePolicy stores.
type CreatePolicyInput struct {
	Name, Path, Description, Document string
	Tags                              []store.Tag
}

// CreatePolicy creates a customer-managed policy in accountID with its
// document as version v1, the default. Names are unique in an account
// whatever their path, compared case-insensitively, as IAM has them.
func (s *Service) CreatePolicy(ctx context.Context, accountID string, in CreatePolicyInput) (*store.CustomerPolicy, error) {
	if in.Path == "" {
		in.Path = "/"
	}
	if !policyNameRE.MatchString(in.Name) {
		return nil, fault.Validationf("The specified value for policyName is invalid. It must contain only alphanumeric characters and/or the following: +=,.@_-")
	}
	if err := checkPolicyPath(in.Path); err != nil {
		return nil, err
	}
	if utf8.RuneCountInString(in.Description) > MaxPolicyDescription {
		return nil, fault.Validationf("1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to %d", MaxPolicyDescription)
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	if len(in.Tags) > MaxTagsPerUser {
		return nil, fault.Quotaf("Cannot exceed quota for TagsPerPolicy: %d", MaxTagsPerUser)
	}
	if err := checkPolicyDocument(in.Document); err != nil {
		return nil, err
	}
	now := s.Now().UTC()
	p := &store.CustomerPolicy{AccountID: accountID, Path: in.Path, Name: in.Name, Document: in.Document,
		CreatedAt: now, UpdatedAt: now, ID: s.IDs.PolicyID(), Description: in.Description, DefaultVersion: "v1",
		Versions: []store.PolicyVersion{{ID: "v1", Document: in.Document, CreatedAt: now}}, NextVersion: 2, Tags: in.Tags}
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		all, err := tx.ListCustomerPolicies(ctx, accountID)
		if err != nil {
			return err
		}
		if slices.ContainsFunc(all, func(o store.CustomerPolicy) bool { return strings.EqualFold(o.Name, in.Name) }) {
			return fault.Conflictf("A policy called %s already exists. Duplicate names are not allowed.", in.Name)
		}
		if len(all) >= MaxCustomerPolicies {
			return fault.Quotaf("Cannot exceed quota for PoliciesPerAccount: %d", MaxCustomerPolicies)
		}
		return tx.PutCustomerPolicy(ctx, p)
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// GetPolicy returns the customer-managed policy policyARN of accountID.
func (s *Service) GetPolicy(ctx context.Context, accountID, policyARN string) (*store.CustomerPolicy, error) {
	return getPolicy(ctx, s.Store, accountID, policyARN)
}

func getPolicy(ctx context.Context, tx interface {
	GetCustomerPolicy(ctx context.Context, accountID, path, name string) (*store.CustomerPolicy, error)
}, accountID, policyARN string) (*store.CustomerPolicy, error) {
	acct, path, name, ok := ParsePolicyARN(policyARN)
	if !ok {
		return nil, fault.Validationf("ARN %s is not valid.", policyARN)
	}
	if acct != accountID {
		return nil, noSuchPolicy(policyARN)
	}
	p, err := tx.GetCustomerPolicy(ctx, accountID, path, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fault.NotFoundf("POLICY", policyARN, "Policy %s was not found.", policyARN)
	} else if err != nil {
		return nil, err
	}
	return completePolicy(p), nil
}

// ListPolicies returns the customer-managed policies of accountID ordered
// by path and name.
func (s *Service) ListPolicies(ctx context.Context, accountID string) ([]store.CustomerPolicy, error) {
	ps, err := s.Store.ListCustomerPolicies(ctx, accountID)
	if err != nil {
		return nil, err
	}
	for i := range ps {
		completePolicy(&ps[i])
	}
	return ps, nil
}

// PolicyUsage says, per managed policy ARN, which IAM entities of one
// account use it: automation users that attach it, provisioned
// AWSReservedSSO_ roles whose permission set attaches it (by ARN, or by
// name and path for a customer-managed reference), and roles that have it
// as permissions boundary.
type PolicyUsage struct {
	Users    map[string][]store.IAMUser
	Roles    map[string][]store.ProvisionedRole
	Boundary map[string][]store.ProvisionedRole
}

// Attachments is how many users and roles attach policyARN (its
// AttachmentCount).
func (u *PolicyUsage) Attachments(policyARN string) int {
	return len(u.Users[policyARN]) + len(u.Roles[policyARN])
}

// Usage returns which entities of accountID use which managed policies.
func (s *Service) Usage(ctx context.Context, accountID string) (*PolicyUsage, error) {
	out := &PolicyUsage{Users: map[string][]store.IAMUser{}, Roles: map[string][]store.ProvisionedRole{},
		Boundary: map[string][]store.ProvisionedRole{}}
	users, err := s.allUsers(ctx, accountID)
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		for _, a := range u.ManagedPolicies {
			out.Users[a] = append(out.Users[a], u)
		}
	}
	roles, err := s.Store.ListProvisionedRoles(ctx, store.RoleFilter{AccountID: accountID})
	if err != nil {
		return nil, err
	}
	sets := map[string]*store.PermissionSet{}
	for _, r := range roles {
		ps, ok := sets[r.PermissionSetID]
		if !ok {
			ps, err = s.Store.GetPermissionSet(ctx, r.PermissionSetID)
			if errors.Is(err, store.ErrNotFound) {
				ps = nil
			} else if err != nil {
				return nil, err
			}
			sets[r.PermissionSetID] = ps
		}
		if ps == nil {
			continue
		}
		attached := slices.Clone(ps.ManagedPolicies)
		for _, ref := range ps.CustomerPolicies {
			attached = append(attached, PolicyARN(accountID, ref.Path, ref.Name))
		}
		for _, a := range attached {
			out.Roles[a] = append(out.Roles[a], r)
		}
		if b := ps.Boundary; b != nil {
			a := b.ManagedPolicyARN
			if b.CustomerPolicy != nil {
				a = PolicyARN(accountID, b.CustomerPolicy.Path, b.CustomerPolicy.Name)
			}
			out.Boundary[a] = append(out.Boundary[a], r)
		}
	}
	return out, nil
}

// allUsers reads every automation user of accountID.
func (s *Service) allUsers(ctx context.Context, accountID string) ([]store.IAMUser, error) {
	var all []store.IAMUser
	after := ""
	for {
		page, more, err := s.ListUsers(ctx, accountID, "/", after, 1000)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if !more {
			return all, nil
		}
		after = strings.ToLower(page[len(page)-1].UserName)
	}
}

// DeletePolicy deletes the customer-managed policy policyARN. As IAM, it
// refuses (DeleteConflict) while an automation user attaches it or while
// it has versions besides the default. Permission sets that refer to it
// keep their reference, as Identity Center's do: their roles get nothing
// from it, and provisioning them fails until the policy exists again.
func (s *Service) DeletePolicy(ctx context.Context, accountID, policyARN string) error {
	users, err := s.allUsers(ctx, accountID)
	if err != nil {
		return err
	}
	return s.Store.Update(ctx, func(tx store.Tx) error {
		p, err := getPolicy(ctx, tx, accountID, policyARN)
		if err != nil {
			return err
		}
		for _, u := range users {
			if slices.Contains(u.ManagedPolicies, policyARN) {
				return deleteConflict("Cannot delete a policy attached to entities.")
			}
		}
		if len(p.Versions) > 1 {
			return deleteConflict("This policy has more than one version. Before you delete a policy, you must delete the policy's non-default versions.")
		}
		return tx.DeleteCustomerPolicy(ctx, accountID, p.Path, p.Name)
	})
}

// changePolicy runs fn on the policy policyARN in a transaction and stores
// what fn left, its document that of its default version.
func (s *Service) changePolicy(ctx context.Context, accountID, policyARN string, fn func(p *store.CustomerPolicy) error) (*store.CustomerPolicy, error) {
	var out *store.CustomerPolicy
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		p, err := getPolicy(ctx, tx, accountID, policyARN)
		if err != nil {
			return err
		}
		if err := fn(p); err != nil {
			return err
		}
		if v, ok := policyVersion(p, p.DefaultVersion); ok {
			p.Document = v.Document
		}
		p.UpdatedAt = s.Now().UTC()
		out = p
		return tx.PutCustomerPolicy(ctx, p)
	})
	return out, err
}

func policyVersion(p *store.CustomerPolicy, id string) (store.PolicyVersion, bool) {
	i := slices.IndexFunc(p.Versions, func(v store.PolicyVersion) bool { return v.ID == id })
	if i < 0 {
		return store.PolicyVersion{}, false
	}
	return p.Versions[i], true
}

func checkVersionID(id string) error {
	if !versionRE.MatchString(id) {
		return fault.Validationf("1 validation error detected: Value '%s' at 'versionId' failed to satisfy constraint: Member must satisfy regular expression pattern: v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?", id)
	}
	return nil
}

func noSuchVersion(policyARN, id string) error {
	return fault.NotFoundf("POLICY_VERSION", id, "Policy %s version %s does not exist or is not attachable.", policyARN, id)
}

// CreatePolicyVersion adds a version with doc to the policy, the default
// if setDefault. A policy keeps at most MaxPolicyVersions versions.
func (s *Service) CreatePolicyVersion(ctx context.Context, accountID, policyARN, doc string, setDefault bool) (*store.PolicyVersion, error) {
	if err := checkPolicyDocument(doc); err != nil {
		return nil, err
	}
	var v store.PolicyVersion
	_, err := s.changePolicy(ctx, accountID, policyARN, func(p *store.CustomerPolicy) error {
		if len(p.Versions) >= MaxPolicyVersions {
			return fault.Quotaf("A managed policy can have up to %d versions. Before you create a new version, you must delete an existing version.", MaxPolicyVersions)
		}
		v = store.PolicyVersion{ID: "v" + strconv.Itoa(p.NextVersion), Document: doc, CreatedAt: s.Now().UTC()}
		p.NextVersion++
		p.Versions = append(p.Versions, v)
		if setDefault {
			p.DefaultVersion = v.ID
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// GetPolicyVersion returns the policy and its version versionID.
func (s *Service) GetPolicyVersion(ctx context.Context, accountID, policyARN, versionID string) (*store.CustomerPolicy, store.PolicyVersion, error) {
	if err := checkVersionID(versionID); err != nil {
		return nil, store.PolicyVersion{}, err
	}
	p, err := s.GetPolicy(ctx, accountID, policyARN)
	if err != nil {
		return nil, store.PolicyVersion{}, err
	}
	v, ok := policyVersion(p, versionID)
	if !ok {
		return nil, store.PolicyVersion{}, noSuchVersion(policyARN, versionID)
	}
	return p, v, nil
}

// DeletePolicyVersion deletes a version other than the default.
func (s *Service) DeletePolicyVersion(ctx context.Context, accountID, policyARN, versionID string) error {
	if err := checkVersionID(versionID); err != nil {
		return err
	}
	_, err := s.changePolicy(ctx, accountID, policyARN, func(p *store.CustomerPolicy) error {
		i := slices.IndexFunc(p.Versions, func(v store.PolicyVersion) bool { return v.ID == versionID })
		switch {
		case i < 0:
			return noSuchVersion(policyARN, versionID)
		case versionID == p.DefaultVersion:
			return deleteConflict("Cannot delete the default version of a policy.")
		}
		p.Versions = slices.Delete(p.Versions, i, i+1)
		return nil
	})
	return err
}

// SetDefaultPolicyVersion makes versionID the version in force: every role
// and user the policy is attached to is evaluated with its document from
// then on.
func (s *Service) SetDefaultPolicyVersion(ctx context.Context, accountID, policyARN, versionID string) error {
	if err := checkVersionID(versionID); err != nil {
		return err
	}
	_, err := s.changePolicy(ctx, accountID, policyARN, func(p *store.CustomerPolicy) error {
		if _, ok := policyVersion(p, versionID); !ok {
			return noSuchVersion(policyARN, versionID)
		}
		p.DefaultVersion = versionID
		return nil
	})
	return err
}

// TagPolicy adds tags to the policy, replacing the values of keys it has
// (compared case-insensitively).
func (s *Service) TagPolicy(ctx context.Context, accountID, policyARN string, tags []store.Tag) error {
	if err := checkTags(tags); err != nil {
		return err
	}
	_, err := s.changePolicy(ctx, accountID, policyARN, func(p *store.CustomerPolicy) error {
		p.Tags = setTags(p.Tags, tags)
		if len(p.Tags) > MaxTagsPerUser {
			return fault.Quotaf("Cannot exceed quota for TagsPerPolicy: %d", MaxTagsPerUser)
		}
		return nil
	})
	return err
}

// UntagPolicy removes the tags with the given keys; absent keys are
// ignored.
func (s *Service) UntagPolicy(ctx context.Context, accountID, policyARN string, keys []string) error {
	_, err := s.changePolicy(ctx, accountID, policyARN, func(p *store.CustomerPolicy) error {
		p.Tags = untag(p.Tags, keys)
		return nil
	})
	return err
}

// Forget drops every compiled user policy set, so that the next call of
// each user reads its customer-managed policies again (see
// authz.Policies.Forget).
func (p *Policies) Forget() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.entries = nil
}
