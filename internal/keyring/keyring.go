// Package keyring keeps Gatehouse's secret keys. A master key kept outside
// the database (a file in the data folder or an environment variable) seals
// per-purpose keys that live in the store, so every replica shares them
// (DESIGN §4–5). Each purpose has a newest key used for new values; older
// keys still open and verify what they made, which is how keys rotate.
package keyring

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/store"
)

// Key purposes.
const (
	// PurposeTokenHash keys the HMACs under which bearer tokens, codes and
	// client secrets are stored.
	PurposeTokenHash = "token-hash"
	// PurposeSeal keys the AEAD that seals role-credential session tokens.
	PurposeSeal = "session-seal"
	// PurposeSecrets keys the AEAD that seals secrets at rest (TOTP seeds).
	PurposeSecrets = "secrets"
)

// MasterKeySize is the size of the master key in bytes.
const MasterKeySize = 32

// LoadMasterKey returns the master key from encoded (standard base64), or
// else from the file at path, creating that file (mode 0600, its folder
// 0700) with a fresh key on first start.
func LoadMasterKey(encoded, path string, rand io.Reader) ([]byte, error) {
	if encoded != "" {
		k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(encoded))
		if err != nil || len(k) != MasterKeySize {
			return nil, fmt.Errorf("master key: want %d bytes of standard base64", MasterKeySize)
		}
		return k, nil
	}
	data, err := os.ReadFile(path)
	if err == nil {
		k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(data)))
		if err != nil || len(k) != MasterKeySize {
			return nil, fmt.Errorf("master key file %s: want %d bytes of standard base64", path, MasterKeySize)
		}
		return k, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read master key: %w", err)
	}
	k := make([]byte, MasterKeySize)
	if _, err := io.ReadFull(rand, k); err != nil {
		return nil, fmt.Errorf("generate master key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create master key folder: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		// Another process created it first: use theirs.
		return LoadMasterKey("", path, rand)
	} else if err != nil {
		return nil, fmt.Errorf("create master key file: %w", err)
	}
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(k) + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("write master key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("sync master key file: %w", err)
	}
	return k, f.Close()
}

type key struct {
	id     string
	secret []byte
	aead   cipher.AEAD
	// macs holds HMAC-SHA256 states keyed with secret, reused by hashWith:
	// hmac.New derives the inner and outer pads anew and allocates a
	// handful of objects each time, while Reset restores the keyed state.
	macs *sync.Pool
}

// newMACs returns the pool of key.macs for secret.
func newMACs(secret []byte) *sync.Pool {
	return &sync.Pool{New: func() any { return hmac.New(sha256.New, secret) }}
}

// Ring holds the unsealed keys of every purpose.
type Ring struct {
	master cipher.AEAD
	rand   io.Reader
	// st is the store the keys are read from again when a value names a
	// key the ring has not loaded (another replica rotated).
	st store.Store

	mu   sync.RWMutex
	keys map[string][]key // newest first

	// reloaders has one entry per purpose, made by Open and only read
	// after.
	reloaders map[string]*reloader
}

// reloader lets one reload of a purpose's keys run at a time: started
// counts the reloads begun, finished is the number of the last one done.
// A reload begins at least gap after the previous one began (last):
// MinReloadInterval, or HashReloadGap for the token-hash keys.
type reloader struct {
	mu       sync.Mutex
	started  atomic.Uint64
	finished uint64
	gap      time.Duration
	last     time.Time
}

// MinReloadInterval is the least time between two reloads of a purpose's
// keys: a reload asked for sooner waits for it, and is shared by every
// value that arrives meanwhile, so values naming unknown key IDs (forged
// session tokens, which anyone can send) cost at most one store read per
// interval, and a value under a key just rotated in at most this delay.
const MinReloadInterval = 100 * time.Millisecond

// HashReloadGap is the least time between two reloads of the token-hash
// keys that lookups missing a keyed hash make (Find): a replica flooded
// with unknown or forged tokens reads those keys at most once per gap
// (5 times a second), whatever the flood's rate.
const HashReloadGap = 200 * time.Millisecond

// reloadTimeout bounds the store read of a reload made for Open, which has
// no request context.
const reloadTimeout = 5 * time.Second

func newAEAD(k []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Open loads the keys of every purpose from st, creating a first key for a
// purpose that has none.
func Open(ctx context.Context, st store.Store, master []byte, rand io.Reader, now func() time.Time) (*Ring, error) {
	m, err := newAEAD(master)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	r := &Ring{master: m, rand: rand, st: st, keys: map[string][]key{}, reloaders: map[string]*reloader{}}
	for _, p := range []string{PurposeTokenHash, PurposeSeal, PurposeSecrets} {
		r.reloaders[p] = &reloader{gap: MinReloadInterval}
		if p == PurposeTokenHash {
			r.reloaders[p].gap = HashReloadGap
		}
		if err := r.ensure(ctx, st, p, now); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func (r *Ring) ensure(ctx context.Context, st store.Store, purpose string, now func() time.Time) error {
	var stored []store.Key
	err := st.Update(ctx, func(tx store.Tx) error {
		ks, err := tx.ListKeys(ctx, purpose)
		if err != nil {
			return err
		}
		if len(ks) == 0 {
			k, err := r.newKey(purpose, now())
			if err != nil {
				return err
			}
			if err := tx.PutKey(ctx, k); err != nil {
				return err
			}
			ks = []store.Key{*k}
		}
		stored = ks
		return nil
	})
	if err != nil {
		return fmt.Errorf("load %s keys: %w", purpose, err)
	}
	return r.load(purpose, stored)
}

func (r *Ring) newKey(purpose string, now time.Time) (*store.Key, error) {
	secret := make([]byte, 32)
	if _, err := io.ReadFull(r.rand, secret); err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	idb := make([]byte, 6)
	if _, err := io.ReadFull(r.rand, idb); err != nil {
		return nil, fmt.Errorf("generate key id: %w", err)
	}
	sealed, err := sealWith(r.master, r.rand, secret, []byte(purpose))
	if err != nil {
		return nil, err
	}
	return &store.Key{ID: base64.RawURLEncoding.EncodeToString(idb), Purpose: purpose, Sealed: sealed, CreatedAt: now.UTC(), Active: true}, nil
}

func (r *Ring) load(purpose string, stored []store.Key) error {
	slices.SortFunc(stored, func(a, b store.Key) int { return b.CreatedAt.Compare(a.CreatedAt) })
	var ks []key
	for _, sk := range stored {
		secret, err := openWith(r.master, sk.Sealed, []byte(purpose))
		if err != nil {
			return fmt.Errorf("unseal %s key %s (wrong master key?): %w", purpose, sk.ID, err)
		}
		a, err := newAEAD(secret)
		if err != nil {
			return err
		}
		ks = append(ks, key{id: sk.ID, secret: secret, aead: a, macs: newMACs(secret)})
	}
	r.mu.Lock()
	r.keys[purpose] = ks
	r.mu.Unlock()
	return nil
}

// Rotate adds a new key for purpose, which becomes the one used for new
// values. Other replicas load it when they first meet a value sealed
// under it (OpenContext reloads the ring then), when a token lookup
// misses (Find) or a stored hash names it (Verify), or when they reopen
// their ring.
func (r *Ring) Rotate(ctx context.Context, st store.Store, purpose string, now time.Time) error {
	k, err := r.newKey(purpose, now)
	if err != nil {
		return err
	}
	var all []store.Key
	err = st.Update(ctx, func(tx store.Tx) error {
		if err := tx.PutKey(ctx, k); err != nil {
			return err
		}
		var err error
		all, err = tx.ListKeys(ctx, purpose)
		return err
	})
	if err != nil {
		return fmt.Errorf("rotate %s key: %w", purpose, err)
	}
	return r.load(purpose, all)
}

func (r *Ring) keysOf(purpose string) []key {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.keys[purpose]
}

// Hash returns the keyed hash under which a bearer value (token, code,
// client secret) is stored: HMAC-SHA256 with the newest token-hash key,
// prefixed by the key's ID.
func (r *Ring) Hash(value string) string {
	return hashWith(r.keysOf(PurposeTokenHash)[0], value)
}

// Hashes returns the value's hash under every token-hash key, newest
// first, for lookups that must still find values stored before a rotation.
func (r *Ring) Hashes(value string) []string {
	ks := r.keysOf(PurposeTokenHash)
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = hashWith(k, value)
	}
	return out
}

// Verify reports whether value hashes to stored, a hash made by Hash (a
// client secret's, say). The stored hash names its key: one this ring has
// not loaded (another replica rotated the token-hash key and then made
// stored) makes the ring read its token-hash keys again first, bounded as
// for Find; the key ID comes from the store, not from the caller's
// request. The comparison takes constant time. A failed reload is
// returned wrapped.
func (r *Ring) Verify(ctx context.Context, value, stored string) (bool, error) {
	id, _, ok := strings.Cut(stored, ".")
	if !ok {
		return false, nil
	}
	k, ok := r.keyByID(PurposeTokenHash, id)
	if !ok {
		if err := r.reload(ctx, PurposeTokenHash); err != nil {
			return false, err
		}
		if k, ok = r.keyByID(PurposeTokenHash, id); !ok {
			return false, nil
		}
	}
	return hmac.Equal([]byte(hashWith(k, value)), []byte(stored)), nil
}

// Find looks a bearer value up by its keyed hash: get is called with the
// value's hash under each token-hash key, newest first, until it returns
// something other than store.ErrNotFound. When every hash misses, the
// value may be hashed under a token-hash key another replica (or another
// process on the same database) has just added and this ring has not
// loaded, as a token names no key: Find then reads the token-hash keys
// from the store again and tries the hashes under keys it had not tried.
// That reload is the one a miss may cost beyond its own lookups, and it is
// bounded so that sprayed random or forged tokens cannot turn each miss
// into a store read: reloads run one at a time per ring, concurrent misses
// wait for and share one that began after they missed (so a token hashed
// under a key stored before the miss is always found), and a reload
// begins at least HashReloadGap after the previous one. A flood therefore
// costs at most one small read (the handful of token-hash key rows) per
// HashReloadGap per replica, and a miss waits up to HashReloadGap plus
// that read. A version check (store.Store.ChangeSeq) before the reload
// would cost a read of its own, as large as the key list, so Find reads
// the keys directly. The result is get's, store.ErrNotFound when no hash
// is found, or a failed reload's error wrapped (ctx's when it ends while
// waiting).
func Find[T any](ctx context.Context, r *Ring, value string, get func(hash string) (T, error)) (T, error) {
	var zero T
	hashes := r.Hashes(value)
	for _, h := range hashes {
		v, err := get(h)
		if !errors.Is(err, store.ErrNotFound) {
			return v, err
		}
	}
	more, err := r.MoreHashes(ctx, value, hashes)
	if err != nil {
		return zero, err
	}
	for _, h := range more {
		v, err := get(h)
		if !errors.Is(err, store.ErrNotFound) {
			return v, err
		}
	}
	return zero, store.ErrNotFound
}

// MoreHashes is Find's second step for lookups that cannot call Find (a
// code redeemed inside a store transaction, where the keys must not be
// read): after every hash in tried (values of Hashes) missed, it reloads
// the token-hash keys, bounded as for Find, and returns value's hashes
// under the keys that tried did not use, newest first; none when no key
// was added. A failed reload is returned wrapped.
func (r *Ring) MoreHashes(ctx context.Context, value string, tried []string) ([]string, error) {
	if err := r.reload(ctx, PurposeTokenHash); err != nil {
		return nil, err
	}
	used := make(map[string]bool, len(tried))
	for _, h := range tried {
		id, _, _ := strings.Cut(h, ".")
		used[id] = true
	}
	var out []string
	for _, k := range r.keysOf(PurposeTokenHash) {
		if !used[k.id] {
			out = append(out, hashWith(k, value))
		}
	}
	return out, nil
}

// hashWith returns k's ID, a dot and the unpadded base64url HMAC-SHA256 of
// value under k.
func hashWith(k key, value string) string {
	m := k.macs.Get().(hash.Hash)
	m.Write([]byte(value))
	var sum [sha256.Size]byte
	m.Sum(sum[:0])
	m.Reset()
	k.macs.Put(m)
	var enc [43]byte // base64.RawURLEncoding.EncodedLen(sha256.Size)
	base64.RawURLEncoding.Encode(enc[:], sum[:])
	var b strings.Builder
	b.Grow(len(k.id) + 1 + len(enc))
	b.WriteString(k.id)
	b.WriteByte('.')
	b.Write(enc[:])
	return b.String()
}

// Seal encrypts plaintext with the newest key of purpose; the result names
// the key so Open can find it after a rotation. It is URL-safe text.
func (r *Ring) Seal(purpose string, plaintext, additional []byte) (string, error) {
	k := r.keysOf(purpose)[0]
	ct, err := sealWith(k.aead, r.rand, plaintext, additional)
	if err != nil {
		return "", err
	}
	return k.id + "." + base64.RawURLEncoding.EncodeToString(ct), nil
}

// ErrUnsealable is returned by Open for a value that no key opens: forged,
// corrupted or sealed under a key that no longer exists.
var ErrUnsealable = errors.New("sealed value cannot be opened")

// Open decrypts a value made by Seal. It is OpenContext without a request
// context: a reload it makes is bounded by reloadTimeout.
func (r *Ring) Open(purpose, sealed string, additional []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), reloadTimeout)
	defer cancel()
	return r.OpenContext(ctx, purpose, sealed, additional)
}

// OpenContext decrypts a value made by Seal. A value naming a key the ring
// has not loaded (sealed by another replica just after it rotated the
// key) makes the ring read its keys of purpose from the store again, once,
// before the value is refused. Reloads run one at a time per ring, at
// most one per MinReloadInterval, and concurrent values wait for one
// reload that started after they arrived, so values naming unknown keys
// cost at most one store read per interval.
// A value no key opens is ErrUnsealable; a failed reload is returned
// wrapped.
func (r *Ring) OpenContext(ctx context.Context, purpose, sealed string, additional []byte) ([]byte, error) {
	id, body, ok := strings.Cut(sealed, ".")
	if !ok {
		return nil, ErrUnsealable
	}
	ct, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return nil, ErrUnsealable
	}
	k, ok := r.keyByID(purpose, id)
	if !ok {
		if err := r.reload(ctx, purpose); err != nil {
			return nil, err
		}
		if k, ok = r.keyByID(purpose, id); !ok {
			return nil, ErrUnsealable
		}
	}
	pt, err := openWith(k.aead, ct, additional)
	if err != nil {
		return nil, ErrUnsealable
	}
	return pt, nil
}

func (r *Ring) keyByID(purpose, id string) (key, bool) {
	for _, k := range r.keysOf(purpose) {
		if k.id == id {
			return k, true
		}
	}
	return key{}, false
}

// reload reads the keys of purpose from the store again, unless a reload
// that started after the call began has finished meanwhile.
func (r *Ring) reload(ctx context.Context, purpose string) error {
	rl := r.reloaders[purpose]
	if r.st == nil || rl == nil {
		return nil
	}
	seen := rl.started.Load()
	rl.mu.Lock()
	defer rl.mu.Unlock()
	if rl.finished > seen {
		return nil
	}
	if wait := rl.gap - time.Since(rl.last); wait > 0 {
		// Values arriving while this one waits share its reload.
		tm := time.NewTimer(wait)
		select {
		case <-tm.C:
		case <-ctx.Done():
			tm.Stop()
			return fmt.Errorf("reload %s keys: %w", purpose, ctx.Err())
		}
	}
	n := rl.started.Add(1)
	rl.last = time.Now()
	ks, err := r.st.ListKeys(ctx, purpose)
	if err != nil {
		return fmt.Errorf("reload %s keys: %w", purpose, err)
	}
	if len(ks) > 0 {
		if err := r.load(purpose, ks); err != nil {
			return err
		}
	}
	rl.finished = n
	return nil
}

func sealWith(a cipher.AEAD, rand io.Reader, plaintext, additional []byte) ([]byte, error) {
	nonce := make([]byte, a.NonceSize(), a.NonceSize()+len(plaintext)+a.Overhead())
	if _, err := io.ReadFull(rand, nonce); err != nil {
		return nil, fmt.Errorf("seal nonce: %w", err)
	}
	return a.Seal(nonce, nonce, plaintext, additional), nil
}

func openWith(a cipher.AEAD, sealed, additional []byte) ([]byte, error) {
	if len(sealed) < a.NonceSize() {
		return nil, ErrUnsealable
	}
	return a.Open(nil, sealed[:a.NonceSize()], sealed[a.NonceSize():], additional)
}
