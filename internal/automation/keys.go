package automation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/fault"
	"github.com/gatehouse-dev/gatehouse/internal/keyring"
	"github.com/gatehouse-dev/gatehouse/internal/organizations"
	"github.com/gatehouse-dev/gatehouse/internal/sigv4"
	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// keyAD starts the AEAD additional data of a sealed access key secret; the
// key ID follows, so a sealed secret opens only for its own key.
const keyAD = "gatehouse access key v1\x00"

// Secret is a secret access key. It is shown once, by CreateAccessKey; its
// String and LogValue hide it.
type Secret string

// String hides the secret.
func (Secret) String() string { return "[secret]" }

// LogValue hides the secret.
func (Secret) LogValue() slog.Value { return slog.StringValue("[secret]") }

// NewKey is a freshly created access key with its secret.
type NewKey struct {
	Key    store.AccessKey
	User   *store.IAMUser
	Secret Secret
}

func noSuchKey(id string) error {
	return fault.NotFoundf("ACCESS_KEY", id, "The Access Key with id %s cannot be found.", id)
}

// CreateAccessKey creates an active access key for the user name of
// accountID; at most MaxKeysPerUser keys per user. A user tagged ExpiryTag
// gets a key that expires that long from now.
func (s *Service) CreateAccessKey(ctx context.Context, accountID, name string) (*NewKey, error) {
	now := s.Now().UTC()
	secret := s.IDs.SecretAccessKey()
	id := s.IDs.AccessKeyID()
	sealed, err := s.Keys.Seal(keyring.PurposeSecrets, []byte(secret), []byte(keyAD+id))
	if err != nil {
		return nil, fmt.Errorf("seal access key secret: %w", err)
	}
	out := &NewKey{Secret: Secret(secret)}
	err = s.Store.Update(ctx, func(tx store.Tx) error {
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
		if len(keys) >= MaxKeysPerUser {
			return fault.Quotaf("Cannot exceed quota for AccessKeysPerUser: %d", MaxKeysPerUser)
		}
		k := store.AccessKey{ID: id, UserID: u.ID, AccountID: accountID, Status: store.KeyActive, SealedSecret: sealed, CreatedAt: now}
		for _, t := range u.Tags {
			if t.Key == ExpiryTag {
				d, err := ParseTTL(t.Value)
				if err != nil {
					return err
				}
				k.ExpiresAt = now.Add(d)
			}
		}
		if err := tx.CreateAccessKey(ctx, &k); err != nil {
			return err
		}
		out.Key, out.User = k, u
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// userKey returns the key id of the user name in accountID; a key of
// another user (or account) is NoSuchEntity, as IAM answers it.
func userKey(ctx context.Context, tx store.Tx, accountID, name, id string) (*store.IAMUser, *store.AccessKey, error) {
	u, err := tx.GetIAMUser(ctx, accountID, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, noSuchUser(name)
	} else if err != nil {
		return nil, nil, err
	}
	k, err := tx.GetAccessKey(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && k.UserID != u.ID) {
		return nil, nil, noSuchKey(id)
	} else if err != nil {
		return nil, nil, err
	}
	return u, k, nil
}

// ListAccessKeys returns the user's keys, oldest first.
func (s *Service) ListAccessKeys(ctx context.Context, accountID, name string) (*store.IAMUser, []store.AccessKey, error) {
	u, err := s.GetUser(ctx, accountID, name)
	if err != nil {
		return nil, nil, err
	}
	ks, err := s.Store.ListAccessKeys(ctx, u.ID)
	if err != nil {
		return nil, nil, err
	}
	return u, ks, nil
}

// UpdateAccessKey sets the key's status, store.KeyActive or
// store.KeyInactive. An inactive key is refused from the next request on.
func (s *Service) UpdateAccessKey(ctx context.Context, accountID, name, id, status string) error {
	if status != store.KeyActive && status != store.KeyInactive {
		return fault.Validationf("1 validation error detected: Value '%s' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]", status)
	}
	return s.Store.Update(ctx, func(tx store.Tx) error {
		_, k, err := userKey(ctx, tx, accountID, name, id)
		if err != nil {
			return err
		}
		k.Status = status
		return tx.UpdateAccessKey(ctx, k)
	})
}

// DeleteAccessKey deletes the key; it is refused from the next request on.
func (s *Service) DeleteAccessKey(ctx context.Context, accountID, name, id string) error {
	return s.Store.Update(ctx, func(tx store.Tx) error {
		if _, _, err := userKey(ctx, tx, accountID, name, id); err != nil {
			return err
		}
		return tx.DeleteAccessKey(ctx, id)
	})
}

// LastUsed returns the key id and its user, for GetAccessKeyLastUsed. A
// key of another account is NoSuchEntity.
func (s *Service) LastUsed(ctx context.Context, accountID, id string) (*store.AccessKey, *store.IAMUser, error) {
	k, err := s.Store.GetAccessKey(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && k.AccountID != accountID) {
		return nil, nil, noSuchKey(id)
	} else if err != nil {
		return nil, nil, err
	}
	u, err := s.Store.GetIAMUserByID(ctx, k.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, noSuchKey(id)
	}
	return k, u, err
}

// KeyPrincipal is what an access key speaks for.
type KeyPrincipal struct {
	Key  store.AccessKey
	User store.IAMUser
}

// ARN returns the user's ARN, GetCallerIdentity's Arn.
func (p *KeyPrincipal) ARN() string { return UserARN(&p.User) }

// Lookup is the key source of SigV4 authentication for long-lived keys: it
// returns the principal and secret of the access key id. An unknown,
// deleted, inactive or expired key, or one of a closed account, wraps sigv4.ErrUnknownAccessKey (the
// awsauth.KeySource contract; IAM answers InvalidClientTokenId to each).
// What it reads is cached for CacheTTL: a change written through this
// process holds for the very next request (Invalidate), one written on
// another replica within CacheTTL.
func (s *Service) Lookup(ctx context.Context, id string) (*KeyPrincipal, string, error) {
	now := s.Now()
	p, secret, gen, ok := s.cachedKey(id, now)
	if !ok {
		var err error
		if p, secret, err = s.lookup(ctx, id); err != nil {
			return nil, "", err
		}
		s.putKey(id, p, secret, now, gen)
	}
	// Expiry is checked on every call, cached or not.
	if k := p.Key; !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt) {
		return nil, "", fmt.Errorf("access key %s expired at %s: %w", id, k.ExpiresAt.Format(time.RFC3339), sigv4.ErrUnknownAccessKey)
	}
	return p, secret, nil
}

// lookup is Lookup without the cache and expiry check.
func (s *Service) lookup(ctx context.Context, id string) (*KeyPrincipal, string, error) {
	k, err := s.Store.GetAccessKey(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, "", fmt.Errorf("access key %s: %w", id, sigv4.ErrUnknownAccessKey)
	} else if err != nil {
		return nil, "", fmt.Errorf("look up access key %s: %w", id, err)
	}
	if k.Status != store.KeyActive {
		return nil, "", fmt.Errorf("access key %s is inactive: %w", id, sigv4.ErrUnknownAccessKey)
	}
	u, err := s.Store.GetIAMUserByID(ctx, k.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, "", fmt.Errorf("user of access key %s: %w", id, sigv4.ErrUnknownAccessKey)
	} else if err != nil {
		return nil, "", fmt.Errorf("look up user of access key %s: %w", id, err)
	}
	// A key speaks only for an open account: closing the account (which
	// suspends it) ends its keys at once. (Accounts are closed, never
	// deleted.)
	a, err := s.Store.GetAccount(ctx, k.AccountID)
	if err == nil && organizations.Closed(a) {
		return nil, "", fmt.Errorf("account %s of access key %s is closed: %w", k.AccountID, id, sigv4.ErrUnknownAccessKey)
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, "", fmt.Errorf("look up account of access key %s: %w", id, err)
	}
	secret, err := s.Keys.Open(keyring.PurposeSecrets, k.SealedSecret, []byte(keyAD+id))
	if err != nil {
		return nil, "", fmt.Errorf("unseal access key %s: %w", id, err)
	}
	return &KeyPrincipal{Key: *k, User: *u}, string(secret), nil
}

// UseInterval is how often at most a process records a key's last use.
const UseInterval = time.Minute

// Uses records access keys' last use at most once per UseInterval per key
// in this process, so that steady use costs no write per request. The zero
// value is ready to use; it is safe for concurrent use.
type Uses struct {
	mu   sync.Mutex
	last map[string]time.Time
}

// maxUses bounds the map; when full it is emptied (the cost is one extra
// write per key).
const maxUses = 1 << 16

// Record notes that key id was used at now for service in region, writing
// to st when the last write for the key from this process is older than
// UseInterval. Failures are returned for the caller to log; they must not
// fail the request.
func (u *Uses) Record(ctx context.Context, st store.Store, id string, now time.Time, service, region string) error {
	u.mu.Lock()
	if u.last == nil || len(u.last) >= maxUses {
		u.last = map[string]time.Time{}
	}
	if t, ok := u.last[id]; ok && now.Sub(t) < UseInterval {
		u.mu.Unlock()
		return nil
	}
	u.last[id] = now
	u.mu.Unlock()
	return st.TouchAccessKey(ctx, id, now.UTC(), service, region)
}
