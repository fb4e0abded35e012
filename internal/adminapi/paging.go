package adminapi

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// pageToken returns the opaque NextToken that resumes query after the
// record keyed after. It carries a digest of the query, so that a token
// replayed with other parameters is refused.
func pageToken(query, after string) *string {
	sum := sha256.Sum256([]byte(query))
	t := base64.RawURLEncoding.EncodeToString([]byte(hex.EncodeToString(sum[:8]) + ":" + after))
	return &t
}

// pageAfter returns the key a NextToken of query resumes after; ok is
// false for a token that is not one of query's.
func pageAfter(query string, token *string) (after string, ok bool) {
	if token == nil {
		return "", true
	}
	b, err := base64.RawURLEncoding.DecodeString(*token)
	if err != nil {
		return "", false
	}
	sum := sha256.Sum256([]byte(query))
	digest, after, found := strings.Cut(string(b), ":")
	if !found || digest != hex.EncodeToString(sum[:8]) || after == "" {
		return "", false
	}
	return after, true
}
