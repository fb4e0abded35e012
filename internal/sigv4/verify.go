package sigv4

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// SecretFunc resolves the secret access key for an access key ID and, for
// temporary credentials, its session token (empty for long-term keys). It
// returns an error wrapping ErrUnknownAccessKey, ErrRevoked or
// ErrExpiredToken when it has no usable secret; any other error is treated as
// an internal failure and passed through wrapped.
type SecretFunc func(ctx context.Context, accessKeyID, sessionToken string) (secret string, err error)

// Result describes a request whose signature verified.
type Result struct {
	AccessKeyID  string
	SessionToken string
	// Region is the region of the credential scope (aws:RequestedRegion).
	Region  string
	Service string
	// Time is the signing time from X-Amz-Date.
	Time      time.Time
	Presigned bool
}

// Defaults used by a zero Verifier.
const (
	DefaultMaxSkew   = 15 * time.Minute
	DefaultCacheSize = 1024
	// maxPresignExpires is the longest X-Amz-Expires SigV4 allows (7 days).
	maxPresignExpires = 7 * 24 * 60 * 60
)

// Verifier checks SigV4 signatures. The zero value is ready to use; a
// Verifier must not be copied after first use and is safe for concurrent use.
type Verifier struct {
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// MaxSkew is the allowed distance between X-Amz-Date and Now; 0 means
	// DefaultMaxSkew.
	MaxSkew time.Duration
	// CacheSize bounds the number of cached signing keys; 0 means
	// DefaultCacheSize.
	CacheSize int

	once  sync.Once
	cache *keyCache
}

// Verify checks the signature of r, whose body has already been read into
// body, for the signing name service (sts, sso, identitystore, organizations,
// iam, ...). Any region is accepted. Verification failures are *Error; an
// error from secret that wraps none of the package's sentinels is returned
// wrapped as is.
func (v *Verifier) Verify(ctx context.Context, r *http.Request, body []byte, service string, secret SecretFunc) (*Result, error) {
	v.once.Do(func() { v.cache = newKeyCache(cmp.Or(v.CacheSize, DefaultCacheSize)) })

	if auth := r.Header.Get("Authorization"); auth != "" {
		return v.verifyHeader(ctx, r, auth, body, service, secret)
	}
	q := r.URL.Query()
	if q.Has("X-Amz-Algorithm") || q.Has("X-Amz-Credential") || q.Has("X-Amz-Signature") {
		return v.verifyPresigned(ctx, r, q, body, service, secret)
	}
	return nil, newError(KindMissingAuthentication, msgMissingAuth)
}

func (v *Verifier) verifyHeader(ctx context.Context, r *http.Request, header string, body []byte, service string, secret SecretFunc) (*Result, error) {
	auth, err := parseAuthorization(header)
	if err != nil {
		return nil, err
	}
	amzDate := r.Header.Get("X-Amz-Date")
	t, err := v.checkScope(auth.Credential, amzDate, service)
	if err != nil {
		return nil, err
	}
	now := v.now()
	skew := v.maxSkew()
	if t.Before(now.Add(-skew)) {
		return nil, newError(KindSignatureExpired, fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - %s.)",
			amzDate, now.Add(-skew).Format(amzDateLayout), now.Format(amzDateLayout), skewText(skew)))
	}
	if t.After(now.Add(skew)) {
		return nil, newError(KindSignatureExpired, fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + %s.)",
			amzDate, now.Add(skew).Format(amzDateLayout), now.Format(amzDateLayout), skewText(skew)))
	}

	payloadHash := hashHex(body)
	// X-Amz-Content-Sha256 is signed in place of the body, so it must match
	// the body; UNSIGNED-PAYLOAD would leave a body unauthenticated.
	if h := r.Header.Get("X-Amz-Content-Sha256"); h != "" {
		if h != payloadHash && (h != unsignedPayload || len(body) > 0) {
			return nil, newError(KindSignatureMismatch, "The provided 'x-amz-content-sha256' header does not match what was computed.")
		}
		payloadHash = h
	}

	res := &Result{
		AccessKeyID:  auth.Credential.AccessKeyID,
		SessionToken: r.Header.Get("X-Amz-Security-Token"),
		Region:       auth.Credential.Region,
		Service:      auth.Credential.Service,
		Time:         t,
	}
	key, err := v.signingKey(ctx, res, auth.Credential, secret)
	if err != nil {
		return nil, err
	}
	ok, err := signatureMatches(key, r, auth.Credential, amzDate, auth.SignedHeaders, auth.Signature, false, payloadHash)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, newError(KindSignatureMismatch, msgSignatureInvalid)
	}
	return res, nil
}

func (v *Verifier) verifyPresigned(ctx context.Context, r *http.Request, q url.Values, body []byte, service string, secret SecretFunc) (*Result, error) {
	get := q.Get
	for _, k := range [...]string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Signature"} {
		if get(k) == "" {
			return nil, newError(KindIncompleteSignature, "Query-string authentication requires the "+k+" parameter")
		}
	}
	if get("X-Amz-Algorithm") != Algorithm {
		return nil, newError(KindIncompleteSignature, "X-Amz-Algorithm only supports "+Algorithm)
	}
	cred, err := parseCredential(get("X-Amz-Credential"))
	if err != nil {
		return nil, err
	}
	signedHeaders := get("X-Amz-SignedHeaders")
	if err := checkSignedHeaders(signedHeaders); err != nil {
		return nil, err
	}
	sig, err := parseSignature(get("X-Amz-Signature"))
	if err != nil {
		return nil, err
	}
	amzDate := get("X-Amz-Date")
	t, err := v.checkScope(cred, amzDate, service)
	if err != nil {
		return nil, err
	}
	// X-Amz-Expires is optional for non-S3 services (aws-sdk-go-v2 presigned
	// STS requests omit it); treat its absence as the allowed skew.
	expires := int64(v.maxSkew() / time.Second)
	if e := get("X-Amz-Expires"); e != "" {
		n, err := strconv.ParseInt(e, 10, 64)
		if err != nil || n < 1 || n > maxPresignExpires {
			return nil, newError(KindIncompleteSignature, "X-Amz-Expires must be a number of seconds between 1 and 604800")
		}
		expires = n
	}
	now := v.now()
	if t.After(now.Add(v.maxSkew())) {
		return nil, newError(KindSignatureExpired, "Request is not yet valid")
	}
	if now.After(t.Add(time.Duration(expires) * time.Second)) {
		return nil, newError(KindSignatureExpired, "Request has expired")
	}

	res := &Result{
		AccessKeyID:  cred.AccessKeyID,
		SessionToken: get("X-Amz-Security-Token"),
		Region:       cred.Region,
		Service:      cred.Service,
		Time:         t,
		Presigned:    true,
	}
	key, err := v.signingKey(ctx, res, cred, secret)
	if err != nil {
		return nil, err
	}
	// Presigned URLs sign UNSIGNED-PAYLOAD (botocore) or the hash of the empty
	// body (aws-sdk-go-v2 PresignHTTP as used for STS). A body, if any, must
	// be covered by the signature.
	candidates := []string{hashHex(body)}
	if len(body) == 0 {
		candidates = []string{unsignedPayload, candidates[0]}
	}
	for _, payloadHash := range candidates {
		ok, err := signatureMatches(key, r, cred, amzDate, signedHeaders, sig, true, payloadHash)
		if err != nil {
			return nil, err
		}
		if ok {
			return res, nil
		}
	}
	return nil, newError(KindSignatureMismatch, msgSignatureInvalid)
}

// checkScope validates the service and date of the credential scope against
// the dispatched service and X-Amz-Date, and returns the signing time.
func (v *Verifier) checkScope(cred credential, amzDate, service string) (time.Time, error) {
	if cred.Service != service {
		return time.Time{}, newError(KindServiceMismatch, "Credential should be scoped to correct service: '"+service+"'.")
	}
	if amzDate == "" {
		return time.Time{}, newError(KindIncompleteSignature, "Authorization requires the X-Amz-Date header or parameter")
	}
	t, err := time.Parse(amzDateLayout, amzDate)
	if err != nil {
		return time.Time{}, newError(KindIncompleteSignature, "X-Amz-Date must be in the ISO-8601 basic format yyyyMMdd'T'HHmmss'Z'")
	}
	if amzDate[:8] != cred.Date {
		return time.Time{}, newError(KindSignatureMismatch, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '"+
			cred.Date+"' != '"+amzDate[:8]+"', from '"+amzDate+"'.")
	}
	return t, nil
}

// signingKey resolves the secret and returns the (cached) signing key.
func (v *Verifier) signingKey(ctx context.Context, res *Result, cred credential, secret SecretFunc) ([32]byte, error) {
	s, err := secret(ctx, res.AccessKeyID, res.SessionToken)
	if err != nil {
		if e := CredentialError(err); e != nil {
			return [32]byte{}, e
		}
		return [32]byte{}, fmt.Errorf("resolve secret for access key %s: %w", res.AccessKeyID, err)
	}
	return v.cache.signingKey(s, cred.Date, cred.Region, cred.Service), nil
}

// CredentialError returns the verification failure for err, an error of a
// SecretFunc or of a later check of the credentials: ExpiredToken for
// ErrExpiredToken, InvalidClientTokenId for ErrUnknownAccessKey and
// ErrRevoked, each with AWS's message and err as the cause; nil for any
// other error.
func CredentialError(err error) *Error {
	switch {
	case errors.Is(err, ErrExpiredToken):
		return &Error{Kind: KindExpiredToken, Message: msgExpiredToken, Err: err}
	case errors.Is(err, ErrUnknownAccessKey), errors.Is(err, ErrRevoked):
		return &Error{Kind: KindUnknownAccessKey, Message: msgInvalidToken, Err: err}
	}
	return nil
}

// signatureMatches computes the signature of r and compares it in constant
// time with want.
func signatureMatches(key [32]byte, r *http.Request, cred credential, amzDate, signedHeaders string, want [32]byte, presigned bool, payloadHash string) (bool, error) {
	var buf [1024]byte
	creq, err := appendCanonicalRequest(buf[:0], r, signedHeaders, payloadHash, presigned)
	if err != nil {
		return false, newError(KindIncompleteSignature, "The query string is not properly encoded")
	}
	creqHash := sha256.Sum256(creq)

	// String to sign: algorithm, request time, credential scope, hex hash
	// of the canonical request, one per line.
	sts := append(creq[:0], Algorithm+"\n"...)
	sts = append(sts, amzDate...)
	sts = append(sts, '\n')
	sts = append(sts, cred.Date...)
	sts = append(sts, '/')
	sts = append(sts, cred.Region...)
	sts = append(sts, '/')
	sts = append(sts, cred.Service...)
	sts = append(sts, "/"+scopeTerminator+"\n"...)
	sts = hex.AppendEncode(sts, creqHash[:])

	m := hmac.New(sha256.New, key[:])
	m.Write(sts)
	var got [32]byte
	m.Sum(got[:0])
	return hmac.Equal(got[:], want[:]), nil
}

// hashHex returns the lower-case hex SHA-256 of b.
func hashHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) maxSkew() time.Duration { return cmp.Or(v.MaxSkew, DefaultMaxSkew) }

// Skew returns the allowed distance between a request's X-Amz-Date and the
// verifier's clock: MaxSkew, or DefaultMaxSkew when that is zero.
func (v *Verifier) Skew() time.Duration { return v.maxSkew() }

// skewText formats d as AWS does in its skew messages ("15 min").
func skewText(d time.Duration) string {
	if d%time.Minute == 0 {
		return strconv.Itoa(int(d/time.Minute)) + " min"
	}
	return d.String()
}
