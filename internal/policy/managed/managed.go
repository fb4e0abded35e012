package managed

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/policy"
)

// SnapshotDate is the date of the embedded copy of the AWS managed policies.
const SnapshotDate = "2026-08-22"

// compressed is aws-managed-policies.json (snapshot of 2026-08-22),
// gzip-compressed.
//
//go:embed aws-managed-policies.json.gz
var compressed []byte

// Managed is one AWS managed policy.
type Managed struct {
	ARN        string
	Name       string
	Version    string // default version id, e.g. "v6"
	Updated    time.Time
	Deprecated bool
	// Document is the policy document as JSON.
	Document []byte
}

type record struct {
	Name       string          `json:"name"`
	Version    string          `json:"version"`
	Updated    string          `json:"updated"`
	Deprecated bool            `json:"deprecated"`
	Document   json.RawMessage `json:"document"`
}

// catalog is the decompressed data, built once. It is the only package
// state: the embedded data and its lazily decoded form.
var catalog struct {
	once  sync.Once
	byARN map[string]record
	arns  []string
	err   error
}

func load() (map[string]record, error) {
	catalog.once.Do(func() {
		zr, err := gzip.NewReader(bytes.NewReader(compressed))
		if err != nil {
			catalog.err = fmt.Errorf("open embedded managed policies: %w", err)
			return
		}
		raw, err := io.ReadAll(zr)
		if err != nil {
			catalog.err = fmt.Errorf("decompress embedded managed policies: %w", err)
			return
		}
		m := make(map[string]record)
		if err := json.Unmarshal(raw, &m); err != nil {
			catalog.err = fmt.Errorf("decode embedded managed policies: %w", err)
			return
		}
		arns := make([]string, 0, len(m))
		for a := range m {
			arns = append(arns, a)
		}
		slices.Sort(arns)
		catalog.byARN, catalog.arns = m, arns
	})
	return catalog.byARN, catalog.err
}

// Lookup returns the managed policy with the given ARN
// (arn:aws:iam::aws:policy/<path><name>).
func Lookup(arn string) (Managed, bool) {
	m, err := load()
	if err != nil {
		return Managed{}, false
	}
	r, ok := m[arn]
	if !ok {
		return Managed{}, false
	}
	out := Managed{ARN: arn, Name: r.Name, Version: r.Version, Deprecated: r.Deprecated, Document: r.Document}
	if t, err := time.Parse(time.RFC3339, r.Updated); err == nil {
		out.Updated = t.UTC()
	}
	return out, true
}

// ARNs returns the ARNs of every embedded policy, sorted.
func ARNs() []string {
	if _, err := load(); err != nil {
		return nil
	}
	return slices.Clone(catalog.arns)
}

// Len returns the number of embedded policies.
func Len() int {
	m, _ := load()
	return len(m)
}

// Cache compiles managed policies on first use and keeps them. The zero
// value is ready to use and safe for concurrent use. Compiled policies carry
// their ARN as ID.
type Cache struct {
	mu       sync.Mutex
	compiled map[string]*policy.Policy
}

// ErrNotFound is returned by Cache.Policy for ARNs that name no embedded
// managed policy.
var ErrNotFound = errors.New("managed policy not found")

// Policy returns the compiled managed policy with the given ARN.
func (c *Cache) Policy(arn string) (*policy.Policy, error) {
	c.mu.Lock()
	p, ok := c.compiled[arn]
	c.mu.Unlock()
	if ok {
		return p, nil
	}
	m, ok := Lookup(arn)
	if !ok {
		return nil, fmt.Errorf("managed policy %q: %w", arn, ErrNotFound)
	}
	doc, err := withExtension(arn, m.Document)
	if err != nil {
		return nil, fmt.Errorf("managed policy %q: %w", arn, err)
	}
	p, err = policy.ParseCompile(arn, doc)
	if err != nil {
		return nil, fmt.Errorf("compile managed policy %q: %w", arn, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.compiled == nil {
		c.compiled = make(map[string]*policy.Policy)
	}
	if q, ok := c.compiled[arn]; ok {
		return q, nil
	}
	c.compiled[arn] = p
	return p, nil
}

// extensions are the statements Gatehouse adds to AWS managed policies so
// that they cover the Gatehouse admin API ("gatehouse:" actions), which AWS's
// documents cannot name: ReadOnlyAccess reads the user status there as it
// reads identitystore's users, and the identity source settings (never a
// secret: those are write-only) as it reads sso:DescribeInstance, and the
// account links (never their secret access key)
// (AdministratorAccess allows "*" already).
// The reads are named one by one, not as gatehouse:List* and the like, so
// that a read of secrets (gatehouse:ListOutbox: the outgoing mail, with its
// sign-in links) stays out of read-only access, as AWS's ReadOnlyAccess
// leaves out secretsmanager:GetSecretValue.
// They are added when a policy is compiled for evaluation; Lookup returns
// AWS's document as it is.
var extensions = map[string]json.RawMessage{
	"arn:aws:iam::aws:policy/ReadOnlyAccess": json.RawMessage(`{"Sid":"GatehouseReadOnly","Effect":"Allow",` +
		`"Action":["gatehouse:DescribeUserStatus","gatehouse:ListSCIMAccessTokens","gatehouse:DescribeIdentitySource",` +
		`"gatehouse:DescribeAccountLink","gatehouse:ListAccountLinks"],"Resource":"*"}`),
}

// withExtension returns doc with the extensions statement of arn appended
// to its Statement list, or doc itself when arn has none.
func withExtension(arn string, doc json.RawMessage) (json.RawMessage, error) {
	ext, ok := extensions[arn]
	if !ok {
		return doc, nil
	}
	var d map[string]json.RawMessage
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("decode document: %w", err)
	}
	var list []json.RawMessage
	if st := bytes.TrimSpace(d["Statement"]); len(st) > 0 && st[0] == '{' {
		list = []json.RawMessage{st}
	} else if len(st) > 0 {
		if err := json.Unmarshal(st, &list); err != nil {
			return nil, fmt.Errorf("decode statements: %w", err)
		}
	}
	list = append(list, ext)
	b, err := json.Marshal(list)
	if err != nil {
		return nil, err
	}
	d["Statement"] = b
	return json.Marshal(d)
}
