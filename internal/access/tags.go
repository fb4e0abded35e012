package access

import (
	"context"
	"regexp"
	"slices"

	"github.com/gatehouse-dev/gatehouse/internal/arn"
	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// ResourceInstance is the NotFound resource type of an instance.
const ResourceInstance = "INSTANCE"

var (
	// applicationARNRe and issuerARNRe match the other taggable sso-admin
	// resources (botocore sso-admin model, TaggableResourceArn): this
	// deployment has none of them yet, so they are never found.
	applicationARNRe = regexp.MustCompile(`^arn:aws(-[a-z]{1,5}){0,3}:sso::\d{12}:application/(sso)?ins-[a-zA-Z0-9-.]{16}/apl-[a-zA-Z0-9]{16}$`)
	issuerARNRe      = regexp.MustCompile(`^arn:aws(-[a-z]{1,5}){0,3}:sso::\d{12}:trustedTokenIssuer/(sso)?ins-[a-zA-Z0-9-.]{16}/tti-[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}$`)
)

// taggable is what a resource ARN names: this instance, or one of its
// permission sets (psID set).
type taggable struct {
	arn  string
	psID string
}

// resolveTaggable checks that resourceARN names a taggable resource of this
// instance. A well-formed ARN of a resource that does not exist (another
// instance, an application) is NotFound; anything else is a validation
// error, as TagResource's ResourceArn pattern makes it on AWS.
func (s *Service) resolveTaggable(resourceARN string) (taggable, error) {
	if len(resourceARN) < 10 || len(resourceARN) > 2048 {
		return taggable{}, fault.Validationf("ResourceArn must be 10 to 2048 characters")
	}
	// Only the canonical ARN (partition aws, this instance) names a
	// resource here; another partition's spelling is not found.
	if ins, err := arn.ParseInstanceARN(resourceARN); err == nil {
		if ins != s.InstanceID || resourceARN != arn.InstanceARN(ins) {
			return taggable{}, fault.NotFoundf(ResourceInstance, resourceARN, "Could not find Instance with InstanceArn %s", resourceARN)
		}
		return taggable{arn: resourceARN}, nil
	}
	if _, _, err := arn.ParsePermissionSetARN(resourceARN); err == nil {
		id, err := s.ParsePermissionSetARN(resourceARN)
		if err != nil {
			return taggable{}, err
		}
		return taggable{arn: s.PermissionSetARN(id), psID: id}, nil
	}
	if applicationARNRe.MatchString(resourceARN) || issuerARNRe.MatchString(resourceARN) {
		return taggable{}, fault.NotFoundf("RESOURCE", resourceARN, "Could not find resource %s", resourceARN)
	}
	return taggable{}, fault.Validationf("ResourceArn %q is not an instance, permission set, application or trusted token issuer ARN", resourceARN)
}

// TaggableARN checks the ResourceArn of a tag operation and returns the
// canonical ARN of the instance or permission set it names, the resource
// the operation is authorized on.
func (s *Service) TaggableARN(resourceARN string) (string, error) {
	r, err := s.resolveTaggable(resourceARN)
	if err != nil {
		return "", err
	}
	return r.arn, nil
}

// mergeTags sets tags on old, replacing the values of keys already there and
// appending new keys in order, and checks the result against the limits.
func mergeTags(old, tags []store.Tag) ([]store.Tag, error) {
	out := slices.Clone(old)
	for _, t := range tags {
		if i := slices.IndexFunc(out, func(o store.Tag) bool { return o.Key == t.Key }); i >= 0 {
			out[i] = t
		} else {
			out = append(out, t)
		}
	}
	if len(out) > MaxTags {
		return nil, fault.Quotaf("A resource may have at most %d tags; it would have %d", MaxTags, len(out))
	}
	return out, nil
}

func validateTagKeys(keys []string) error {
	if len(keys) == 0 || len(keys) > MaxTags {
		return fault.Validationf("TagKeys must hold 1 to %d keys", MaxTags)
	}
	for _, k := range keys {
		if err := ValidateTags([]store.Tag{{Key: k}}); err != nil {
			return err
		}
	}
	return nil
}

// TagResource adds tags to, or replaces tag values of, the instance or a
// permission set named by ARN. More than MaxTags tags in all is
// ServiceQuotaExceeded.
func (s *Service) TagResource(ctx context.Context, resourceARN string, tags []store.Tag) error {
	if len(tags) == 0 {
		return fault.Validationf("Tags must hold at least one tag")
	}
	if err := ValidateTags(tags); err != nil {
		return err
	}
	r, err := s.resolveTaggable(resourceARN)
	if err != nil {
		return err
	}
	if r.psID != "" {
		return s.TagPermissionSet(ctx, r.psID, tags)
	}
	return s.Store.Update(ctx, func(tx store.Tx) error {
		old, err := tx.GetResourceTags(ctx, r.arn)
		if err != nil {
			return err
		}
		merged, err := mergeTags(old, tags)
		if err != nil {
			return err
		}
		if err := tx.PutResourceTags(ctx, r.arn, merged); err != nil {
			return err
		}
		return s.record(ctx, tx, "TagResource", map[string]any{"resourceArn": r.arn, "tags": tags}, nil)
	})
}

// UntagResource removes tags by key from the instance or a permission set;
// keys the resource does not have are ignored.
func (s *Service) UntagResource(ctx context.Context, resourceARN string, keys []string) error {
	if err := validateTagKeys(keys); err != nil {
		return err
	}
	r, err := s.resolveTaggable(resourceARN)
	if err != nil {
		return err
	}
	if r.psID != "" {
		return s.UntagPermissionSet(ctx, r.psID, keys)
	}
	return s.Store.Update(ctx, func(tx store.Tx) error {
		old, err := tx.GetResourceTags(ctx, r.arn)
		if err != nil {
			return err
		}
		left := slices.DeleteFunc(old, func(t store.Tag) bool { return slices.Contains(keys, t.Key) })
		if err := tx.PutResourceTags(ctx, r.arn, left); err != nil {
			return err
		}
		return s.record(ctx, tx, "UntagResource", map[string]any{"resourceArn": r.arn, "tagKeys": keys}, nil)
	})
}

// ListTags returns the tags of the instance or a permission set, in the
// order their keys were first set.
func (s *Service) ListTags(ctx context.Context, resourceARN string) ([]store.Tag, error) {
	r, err := s.resolveTaggable(resourceARN)
	if err != nil {
		return nil, err
	}
	if r.psID != "" {
		ps, err := s.GetPermissionSet(ctx, r.psID)
		if err != nil {
			return nil, err
		}
		if ps.Tags == nil {
			return []store.Tag{}, nil
		}
		return ps.Tags, nil
	}
	return s.Store.GetResourceTags(ctx, r.arn)
}
