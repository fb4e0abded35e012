package arn

import (
	"encoding/hex"
	"fmt"
	"io"
	"time"
)

// Generator makes random identifiers from its Rand source (crypto/rand in
// production; a fixed stream in tests).
type Generator struct {
	Rand io.Reader
}

func (g Generator) bytes(n int) []byte {
	b := make([]byte, n)
	if _, err := io.ReadFull(g.Rand, b); err != nil {
		// A failing random source is not recoverable: crypto/rand never
		// fails on supported platforms.
		panic(fmt.Sprintf("arn: read random bytes: %v", err))
	}
	return b
}

func (g Generator) hex(n int) string {
	return hex.EncodeToString(g.bytes((n + 1) / 2))[:n]
}

// fromAlphabet returns n characters drawn uniformly from alphabet (whose
// length must divide 256 or be small enough that rejection sampling is cheap).
func (g Generator) fromAlphabet(alphabet string, n int) string {
	out := make([]byte, 0, n)
	limit := 256 - 256%len(alphabet)
	for len(out) < n {
		for _, b := range g.bytes(n) {
			if int(b) >= limit || len(out) == n {
				continue
			}
			out = append(out, alphabet[int(b)%len(alphabet)])
		}
	}
	return string(out)
}

// InstanceID returns a new "ssoins-" + 16 hex instance ID.
func (g Generator) InstanceID() string { return "ssoins-" + g.hex(16) }

// IdentityStoreID returns a new "d-" + 10 hex identity-store ID.
func (g Generator) IdentityStoreID() string { return "d-" + g.hex(10) }

// PermissionSetID returns a new "ps-" + 16 hex permission-set ID.
func (g Generator) PermissionSetID() string { return "ps-" + g.hex(16) }

// UUID returns a new lower-case version 4 UUID, the form of AWS request IDs.
func (g Generator) UUID() string {
	b := g.bytes(16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// TimeUUID returns a new lower-case version 7 UUID (RFC 9562 §5.7) for
// time t: 48 bits of Unix milliseconds, then random bits. IDs made later
// sort after earlier ones.
func (g Generator) TimeUUID(t time.Time) string {
	b := g.bytes(16)
	ms := uint64(t.UnixMilli())
	for i := range 6 {
		b[i] = byte(ms >> (40 - 8*i))
	}
	b[6] = b[6]&0x0f | 0x70
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// PrincipalID returns a new user, group or membership ID: the 10 hex digits
// of the identity-store ID, a dash and a UUID.
func (g Generator) PrincipalID(identityStoreID string) string {
	prefix := identityStoreID
	if len(prefix) == 12 && prefix[:2] == "d-" {
		prefix = prefix[2:]
	}
	return prefix + "-" + g.UUID()
}

// RoleSuffix returns the 16 lower-case hex digits that end an
// AWSReservedSSO_ role name.
func (g Generator) RoleSuffix() string { return g.hex(16) }

const upperDigits = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// RoleID returns a new IAM role unique ID: "AROA" and 17 characters.
func (g Generator) RoleID() string { return "AROA" + g.fromAlphabet(upperDigits, 17) }

const base32Upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

// TemporaryAccessKeyID returns a new "ASIA" access key ID of 20 characters.
func (g Generator) TemporaryAccessKeyID() string {
	return "ASIA" + g.fromAlphabet(base32Upper, 16)
}

const secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// SecretAccessKey returns a new 40-character secret access key.
func (g Generator) SecretAccessKey() string { return g.fromAlphabet(secretAlphabet, 40) }

// CreateAccountRequestID returns a new Organizations create-account request
// ID, "car-" + 32 hex (model pattern ^car-[a-z0-9]{8,32}$).
func (g Generator) CreateAccountRequestID() string { return "car-" + g.hex(32) }

// AccountID returns a new random 12-digit account ID that does not start with 0.
func (g Generator) AccountID() string {
	s := g.fromAlphabet("0123456789", 12)
	if s[0] == '0' {
		s = "1" + s[1:]
	}
	return s
}

// UserID returns a new IAM user unique ID: "AIDA" and 17 characters.
func (g Generator) UserID() string { return "AIDA" + g.fromAlphabet(upperDigits, 17) }

// AccessKeyID returns a new long-lived "AKIA" access key ID of 20
// characters.
func (g Generator) AccessKeyID() string {
	return "AKIA" + g.fromAlphabet(base32Upper, 16)
}
