package sts

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/gatehouse-dev/gatehouse/internal/session"
)

// envelopeVersion is the first byte of every sealed session token's
// plaintext; a new layout gets a new version.
const envelopeVersion = 1

// adPrefix starts the AEAD additional data of a session token: it separates
// tokens from anything else sealed with the same purpose's keys, and the
// access key ID that follows it binds the token to its key.
const adPrefix = "gatehouse sts session v1\x00"

// MaxTokenLength is the longest session token Issue makes
// (spec/identifiers.md §6).
const MaxTokenLength = 1024

const flagMFA = 1 << 0

// flagWebIdentity marks a session of AssumeRoleWithWebIdentity; its
// envelope ends with one more string, the provider ARN.
const flagWebIdentity = 1 << 1

// flagProviderGeneration marks a web-identity envelope that ends with the
// provider's registration time (Unix nanoseconds, signed varint) after the
// provider ARN. Tokens sealed before it existed lack it.
const flagProviderGeneration = 1 << 2

var errMalformed = errors.New("malformed session envelope")

// additionalData returns the AEAD additional data for accessKeyID.
func additionalData(accessKeyID string) []byte {
	ad := make([]byte, 0, len(adPrefix)+len(accessKeyID))
	ad = append(ad, adPrefix...)
	return append(ad, accessKeyID...)
}

// encodeEnvelope lays out a session and its secret: version, flags, three
// times as signed varints of Unix nanoseconds, then length-prefixed strings.
func encodeEnvelope(s *session.Role, secret string) []byte {
	strs := [...]string{s.AccessKeyID, secret, s.UserID, s.UserName, s.GrantID, s.SessionID,
		s.AccountID, s.PermissionSetID, s.RoleName, s.RoleID}
	n := 2 + 3*binary.MaxVarintLen64
	for _, v := range strs {
		n += binary.MaxVarintLen64 + len(v)
	}
	b := make([]byte, 0, n)
	var flags byte
	if s.MFA {
		flags |= flagMFA
	}
	if s.Provider != "" {
		flags |= flagWebIdentity
		n += binary.MaxVarintLen64 + len(s.Provider)
		if !s.ProviderCreatedAt.IsZero() {
			flags |= flagProviderGeneration
			n += binary.MaxVarintLen64
		}
	}
	b = append(b, envelopeVersion, flags)
	for _, t := range [...]time.Time{s.AuthTime, s.IssuedAt, s.Expiration} {
		b = binary.AppendVarint(b, unixNanos(t))
	}
	for _, v := range strs {
		b = binary.AppendUvarint(b, uint64(len(v)))
		b = append(b, v...)
	}
	if s.Provider != "" {
		b = binary.AppendUvarint(b, uint64(len(s.Provider)))
		b = append(b, s.Provider...)
		if flags&flagProviderGeneration != 0 {
			b = binary.AppendVarint(b, unixNanos(s.ProviderCreatedAt))
		}
	}
	return b
}

// decodeEnvelope reverses encodeEnvelope.
func decodeEnvelope(b []byte) (*session.Role, string, error) {
	if len(b) < 2 || b[0] != envelopeVersion {
		return nil, "", errMalformed
	}
	s := &session.Role{MFA: b[1]&flagMFA != 0}
	web := b[1]&flagWebIdentity != 0
	gen := web && b[1]&flagProviderGeneration != 0
	b = b[2:]
	var times [3]time.Time
	for i := range times {
		v, n := binary.Varint(b)
		if n <= 0 {
			return nil, "", errMalformed
		}
		b = b[n:]
		if v != 0 {
			times[i] = time.Unix(0, v).UTC()
		}
	}
	s.AuthTime, s.IssuedAt, s.Expiration = times[0], times[1], times[2]
	// One conversion for all strings: each field is a substring of it.
	rest := string(b)
	off := 0
	var secret string
	all := [...]*string{&s.AccessKeyID, &secret, &s.UserID, &s.UserName, &s.GrantID, &s.SessionID,
		&s.AccountID, &s.PermissionSetID, &s.RoleName, &s.RoleID, &s.Provider}
	dsts := all[:len(all)-1]
	if web {
		dsts = all[:]
	}
	for _, dst := range dsts {
		l, n := binary.Uvarint(b)
		if n <= 0 || l > uint64(len(b)-n) {
			return nil, "", errMalformed
		}
		*dst = rest[off+n : off+n+int(l)]
		b = b[n+int(l):]
		off += n + int(l)
	}
	if web && s.Provider == "" {
		// The encoder marks web identity only when it names a provider.
		return nil, "", errMalformed
	}
	if gen {
		v, n := binary.Varint(b)
		if n <= 0 || v == 0 {
			return nil, "", errMalformed
		}
		s.ProviderCreatedAt = time.Unix(0, v).UTC()
		b = b[n:]
	}
	if len(b) != 0 {
		return nil, "", errMalformed
	}
	return s, secret, nil
}

func unixNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}
