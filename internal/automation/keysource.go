package automation

import (
	"context"
	"log/slog"

	"github.com/gatehouse-dev/gatehouse/internal/awsauth"
)

// KeySource is the awsauth.KeySource of long-lived access keys: it looks
// keys up through Service.Lookup and records their use through Uses. Set
// its fields before first use; it is safe for concurrent use.
type KeySource struct {
	Service *Service
	Uses    *Uses
	Log     *slog.Logger
}

var _ awsauth.KeySource = (*KeySource)(nil)

// LookupAccessKey returns the secret of the access key id and the caller it
// speaks for: the automation user, arn:aws:iam::<account>:user/<path><name>,
// whose principal ID is the user's AIDA… ID. Unknown, deleted, inactive and
// expired keys wrap a sigv4 credential error.
func (k *KeySource) LookupAccessKey(ctx context.Context, id string) (string, *awsauth.Caller, error) {
	p, secret, err := k.Service.Lookup(ctx, id)
	if err != nil {
		return "", nil, err
	}
	return secret, &awsauth.Caller{
		AccountID: p.User.AccountID, ARN: p.ARN(), PrincipalID: p.User.ID,
		UserID: p.User.ID, UserName: p.User.UserName, AutomationUserID: p.User.ID,
		AccessKeyID: p.Key.ID, IssuedAt: p.Key.CreatedAt,
	}, nil
}

// RecordUse records that the verified request of c used its access key
// for service, at most once a minute per key from this process. A failure
// is logged, not returned: last use is bookkeeping, not a reason to refuse
// a request.
func (k *KeySource) RecordUse(ctx context.Context, c *awsauth.Caller, service string) {
	if err := k.Uses.Record(ctx, k.Service.Store, c.AccessKeyID, k.Service.Now(), service, c.Region); err != nil {
		k.Log.Warn("record access key use", "access_key_id", c.AccessKeyID, "err", err)
	}
}
