package automation

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/keyring"
	"github.com/gatehouse-dev/gatehouse/internal/policy"
	"github.com/gatehouse-dev/gatehouse/internal/policy/managed"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// IAM quotas (IAM User Guide, "IAM and AWS STS quotas").
const (
	// MaxUsersPerAccount is IAM's default quota of users in an account.
	MaxUsersPerAccount = 5000
	// MaxManagedPoliciesPerUser is IAM's quota of managed policies attached
	// to a user.
	MaxManagedPoliciesPerUser = 10
	// MaxInlineUserPolicyChars bounds the summed size of a user's inline
	// policies (non-whitespace characters).
	MaxInlineUserPolicyChars = 2048
	// MaxKeysPerUser is IAM's quota of access keys per user.
	MaxKeysPerUser = 2
	// MaxTagsPerUser is IAM's quota of tags per resource.
	MaxTagsPerUser = 50
)

// ExpiryTag is the user tag (a Gatehouse extension) whose value, a duration
// like "90d", "720h" or "45m", makes the user's new access keys expire that
// long after they are created.
const ExpiryTag = "gatehouse:access-key-ttl"

var (
	userNameRE   = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	policyNameRE = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`)
	pathRE       = regexp.MustCompile(`^(/|/[\x21-\x7e]+/)$`)
	tagKeyRE     = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$`)
)

// Service manages automation users, their policies and access keys. Set its
// fields before first use; it is safe for concurrent use.
type Service struct {
	Store store.Store
	// Keys seals access key secrets (keyring.PurposeSecrets).
	Keys *keyring.Ring
	IDs  arn.Generator
	Now  func() time.Time
	// CacheTTL is how long Lookup and UserByID trust what they read; zero
	// means DefaultCacheTTL, negative no cache. Register Invalidate with
	// the store's OnChange so that this process's writes hold at once.
	CacheTTL time.Duration

	cache cache
}

// UserARN returns arn:aws:iam::<account>:user<path><name>.
func UserARN(u *store.IAMUser) string {
	return "arn:aws:iam::" + u.AccountID + ":user" + u.Path + u.UserName
}

func noSuchUser(name string) error {
	return fault.NotFoundf("USER", name, "The user with name %s cannot be found.", name)
}

// checkUserName validates a user name as IAM's model does.
func checkUserName(name string) error {
	if !userNameRE.MatchString(name) {
		return fault.Validationf("The specified value for userName is invalid. It must contain only alphanumeric characters and/or the following: +=,.@_-, and be 1 to 64 characters long.")
	}
	return nil
}

// checkTags validates tags as IAM does: keys 1–128 characters of its tag
// alphabet, values up to 256 characters (any printable characters here, so
// that the glob patterns of OIDC provider tags fit), no key twice.
func checkTags(tags []store.Tag) error {
	seen := map[string]bool{}
	for _, t := range tags {
		if !tagKeyRE.MatchString(t.Key) {
			return fault.Validationf("1 validation error detected: Value '%s' at 'tags.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+", t.Key)
		}
		if utf8.RuneCountInString(t.Value) > 256 {
			return fault.Validationf("1 validation error detected: Value at 'tags.member.value' failed to satisfy constraint: Member must have length less than or equal to 256")
		}
		k := strings.ToLower(t.Key)
		if seen[k] {
			return fault.Validationf("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
		}
		seen[k] = true
		if t.Key == ExpiryTag {
			if _, err := ParseTTL(t.Value); err != nil {
				return err
			}
		}
	}
	return nil
}

// ParseTTL parses an ExpiryTag value: a Go duration ("720h") or a number of
// days ("90d"), at least one minute.
func ParseTTL(s string) (time.Duration, error) {
	var d time.Duration
	if n, ok := strings.CutSuffix(s, "d"); ok {
		var days int
		if _, err := fmt.Sscanf(n, "%d", &days); err != nil || fmt.Sprint(days) != n || days > 36500 {
			return 0, fault.Validationf("Tag %s: %q is not a duration such as 90d or 720h.", ExpiryTag, s)
		}
		d = time.Duration(days) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fault.Validationf("Tag %s: %q is not a duration such as 90d or 720h.", ExpiryTag, s)
		}
	}
	if d < time.Minute {
		return 0, fault.Validationf("Tag %s: %q is shorter than one minute.", ExpiryTag, s)
	}
	return d, nil
}

// CreateUser creates the user name in accountID with the given path ("" is
// "/") and tags.
func (s *Service) CreateUser(ctx context.Context, accountID, name, path string, tags []store.Tag) (*store.IAMUser, error) {
	if err := checkUserName(name); err != nil {
		return nil, err
	}
	if path == "" {
		path = "/"
	}
	if len(path) > 512 || !pathRE.MatchString(path) {
		return nil, fault.Validationf("The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.")
	}
	if len(tags) > MaxTagsPerUser {
		return nil, fault.Quotaf("Cannot exceed quota for TagsPerUser: %d", MaxTagsPerUser)
	}
	if err := checkTags(tags); err != nil {
		return nil, err
	}
	now := s.Now().UTC()
	u := &store.IAMUser{ID: s.IDs.UserID(), AccountID: accountID, UserName: name, Path: path,
		Tags: slices.Clone(tags), Version: 1, CreatedAt: now, UpdatedAt: now}
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		n, err := tx.ListIAMUsers(ctx, accountID, store.Page{Limit: MaxUsersPerAccount})
		if err != nil {
			return err
		}
		if len(n) >= MaxUsersPerAccount {
			return fault.Quotaf("Cannot exceed quota for UsersPerAccount: %d", MaxUsersPerAccount)
		}
		return tx.CreateIAMUser(ctx, u)
	})
	if errors.Is(err, store.ErrConflict) {
		return nil, fault.Conflictf("User with name %s already exists.", name)
	}
	if err != nil {
		return nil, err
	}
	return u, nil
}

// GetUser returns the user name of accountID.
func (s *Service) GetUser(ctx context.Context, accountID, name string) (*store.IAMUser, error) {
	u, err := s.Store.GetIAMUser(ctx, accountID, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, noSuchUser(name)
	}
	return u, err
}

// ListUsers returns accountID's users whose path starts with pathPrefix,
// ordered by name, at most max of them after the lower-cased name after,
// and whether more follow.
func (s *Service) ListUsers(ctx context.Context, accountID, pathPrefix, after string, max int) ([]store.IAMUser, bool, error) {
	var out []store.IAMUser
	for {
		page, err := s.Store.ListIAMUsers(ctx, accountID, store.Page{After: after, Limit: 500})
		if err != nil {
			return nil, false, err
		}
		for _, u := range page {
			if !strings.HasPrefix(u.Path, pathPrefix) {
				continue
			}
			if len(out) == max {
				return out, true, nil
			}
			out = append(out, u)
		}
		if len(page) < 500 {
			return out, false, nil
		}
		after = strings.ToLower(page[len(page)-1].UserName)
	}
}

// DeleteUser deletes the user name of accountID. As IAM, it refuses
// (DeleteConflict) while the user has access keys or policies.
func (s *Service) DeleteUser(ctx context.Context, accountID, name string) error {
	return s.Store.Update(ctx, func(tx store.Tx) error {
		u, err := tx.GetIAMUser(ctx, accountID, name)
		if errors.Is(err, store.ErrNotFound) {
			return noSuchUser(name)
		} else if err != nil {
			return err
		}
		keys, err := tx.ListAccessKeys(ctx, u.ID)
		if err != nil {
			return err
		}
		switch {
		case len(keys) > 0:
			return deleteConflict("Cannot delete entity, must delete access keys first.")
		case len(u.ManagedPolicies) > 0:
			return deleteConflict("Cannot delete entity, must detach all policies first.")
		case len(u.InlinePolicies) > 0:
			return deleteConflict("Cannot delete entity, must delete policies first.")
		}
		return tx.DeleteIAMUser(ctx, u.ID)
	})
}

func deleteConflict(msg string) error {
	return &fault.Error{Kind: fault.Conflict, Reason: "DeleteConflict", Message: msg}
}

// change runs fn on the user name of accountID in a transaction and stores
// the user fn changed, with a new Version when policies changed.
func (s *Service) change(ctx context.Context, accountID, name string, fn func(u *store.IAMUser) (policies bool, err error)) error {
	return s.Store.Update(ctx, func(tx store.Tx) error {
		u, err := tx.GetIAMUser(ctx, accountID, name)
		if errors.Is(err, store.ErrNotFound) {
			return noSuchUser(name)
		} else if err != nil {
			return err
		}
		pol, err := fn(u)
		if err != nil {
			return err
		}
		if pol {
			u.Version++
		}
		u.UpdatedAt = s.Now().UTC()
		return tx.UpdateIAMUser(ctx, u)
	})
}

// TagUser adds tags to the user, replacing the values of keys it has
// (compared case-insensitively, as IAM does).
func (s *Service) TagUser(ctx context.Context, accountID, name string, tags []store.Tag) error {
	if err := checkTags(tags); err != nil {
		return err
	}
	return s.change(ctx, accountID, name, func(u *store.IAMUser) (bool, error) {
		u.Tags = setTags(u.Tags, tags)
		if len(u.Tags) > MaxTagsPerUser {
			return false, fault.Quotaf("Cannot exceed quota for TagsPerUser: %d", MaxTagsPerUser)
		}
		return false, nil
	})
}

// UntagUser removes the tags with the given keys; absent keys are ignored.
func (s *Service) UntagUser(ctx context.Context, accountID, name string, keys []string) error {
	return s.change(ctx, accountID, name, func(u *store.IAMUser) (bool, error) {
		u.Tags = untag(u.Tags, keys)
		return false, nil
	})
}

// setTags adds tags to old, replacing the tags whose keys are already there
// (compared case-insensitively, as IAM does) and appending the others in
// order.
func setTags(old, tags []store.Tag) []store.Tag {
	for _, t := range tags {
		if i := slices.IndexFunc(old, func(o store.Tag) bool { return strings.EqualFold(o.Key, t.Key) }); i >= 0 {
			old[i] = t
		} else {
			old = append(old, t)
		}
	}
	return old
}

// untag removes from old the tags with the given keys (compared
// case-insensitively).
func untag(old []store.Tag, keys []string) []store.Tag {
	return slices.DeleteFunc(old, func(t store.Tag) bool {
		return slices.ContainsFunc(keys, func(k string) bool { return strings.EqualFold(k, t.Key) })
	})
}

// PolicyName returns the name part of a managed policy ARN.
func PolicyName(policyARN string) string {
	return policyARN[strings.LastIndex(policyARN, "/")+1:]
}

// customerRef splits a customer-managed policy ARN of accountID,
// arn:aws:iam::<account>:policy<path><name>, into path and name.
func customerRef(accountID, policyARN string) (path, name string, ok bool) {
	rest, ok := strings.CutPrefix(policyARN, "arn:aws:iam::"+accountID+":policy/")
	if !ok || rest == "" {
		return "", "", false
	}
	i := strings.LastIndex(rest, "/")
	return "/" + rest[:i+1], rest[i+1:], true
}

// AttachUserPolicy attaches the managed policy policyARN: an AWS managed
// policy Gatehouse ships or a customer-managed policy stored for the
// user's account. Attaching one already attached changes nothing.
func (s *Service) AttachUserPolicy(ctx context.Context, accountID, name, policyARN string) error {
	if !strings.HasPrefix(policyARN, "arn:aws:iam::") {
		return fault.Validationf("ARN %s is not valid.", policyARN)
	}
	return s.change(ctx, accountID, name, func(u *store.IAMUser) (bool, error) {
		if slices.Contains(u.ManagedPolicies, policyARN) {
			return false, nil
		}
		if _, ok := managed.Lookup(policyARN); !ok {
			path, pname, ok := customerRef(accountID, policyARN)
			if !ok {
				return false, fault.NotFoundf("POLICY", policyARN, "Policy %s does not exist or is not attachable.", policyARN)
			}
			if _, err := s.Store.GetCustomerPolicy(ctx, accountID, path, pname); errors.Is(err, store.ErrNotFound) {
				return false, fault.NotFoundf("POLICY", policyARN, "Policy %s does not exist or is not attachable.", policyARN)
			} else if err != nil {
				return false, err
			}
		}
		if len(u.ManagedPolicies) >= MaxManagedPoliciesPerUser {
			return false, fault.Quotaf("Cannot exceed quota for PoliciesPerUser: %d", MaxManagedPoliciesPerUser)
		}
		u.ManagedPolicies = append(u.ManagedPolicies, policyARN)
		return true, nil
	})
}

// DetachUserPolicy detaches the managed policy policyARN.
func (s *Service) DetachUserPolicy(ctx context.Context, accountID, name, policyARN string) error {
	return s.change(ctx, accountID, name, func(u *store.IAMUser) (bool, error) {
		i := slices.Index(u.ManagedPolicies, policyARN)
		if i < 0 {
			return false, fault.NotFoundf("POLICY", policyARN, "Policy %s was not found.", policyARN)
		}
		u.ManagedPolicies = slices.Delete(u.ManagedPolicies, i, i+1)
		return true, nil
	})
}

// PutUserPolicy adds or replaces the inline policy policyName. The
// document must pass the strict grammar, and the user's inline policies
// together may not pass MaxInlineUserPolicyChars.
func (s *Service) PutUserPolicy(ctx context.Context, accountID, name, policyName, doc string) error {
	if !policyNameRE.MatchString(policyName) {
		return fault.Validationf("The specified value for policyName is invalid. It must contain only alphanumeric characters and/or the following: +=,.@_-")
	}
	if err := checkGrammar([]byte(doc)); err != nil {
		return err
	}
	return s.change(ctx, accountID, name, func(u *store.IAMUser) (bool, error) {
		total := policy.NonSpaceLen([]byte(doc))
		for _, p := range u.InlinePolicies {
			if p.Name != policyName {
				total += policy.NonSpaceLen([]byte(p.Document))
			}
		}
		if total > MaxInlineUserPolicyChars {
			return false, fault.Quotaf("Maximum policy size of %d bytes exceeded for user %s", MaxInlineUserPolicyChars, u.UserName)
		}
		i, found := slices.BinarySearchFunc(u.InlinePolicies, policyName, func(p store.InlinePolicy, n string) int { return strings.Compare(p.Name, n) })
		if found {
			u.InlinePolicies[i].Document = doc
		} else {
			u.InlinePolicies = slices.Insert(u.InlinePolicies, i, store.InlinePolicy{Name: policyName, Document: doc})
		}
		return true, nil
	})
}

func checkGrammar(data []byte) error {
	d, err := policy.ParseStrict(data)
	if err != nil {
		return err
	}
	_, err = policy.Compile(d)
	return err
}

// GetUserPolicy returns the document of the inline policy policyName.
func (s *Service) GetUserPolicy(ctx context.Context, accountID, name, policyName string) (*store.IAMUser, string, error) {
	u, err := s.GetUser(ctx, accountID, name)
	if err != nil {
		return nil, "", err
	}
	for _, p := range u.InlinePolicies {
		if p.Name == policyName {
			return u, p.Document, nil
		}
	}
	return nil, "", fault.NotFoundf("POLICY", policyName, "The user policy with name %s cannot be found.", policyName)
}

// DeleteUserPolicy deletes the inline policy policyName.
func (s *Service) DeleteUserPolicy(ctx context.Context, accountID, name, policyName string) error {
	return s.change(ctx, accountID, name, func(u *store.IAMUser) (bool, error) {
		i := slices.IndexFunc(u.InlinePolicies, func(p store.InlinePolicy) bool { return p.Name == policyName })
		if i < 0 {
			return false, fault.NotFoundf("POLICY", policyName, "The user policy with name %s cannot be found.", policyName)
		}
		u.InlinePolicies = slices.Delete(u.InlinePolicies, i, i+1)
		return true, nil
	})
}
