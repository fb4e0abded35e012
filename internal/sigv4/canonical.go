package sigv4

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// unsignedPayload is the payload hash of presigned URLs, whose body the
// signer cannot know.
const unsignedPayload = "UNSIGNED-PAYLOAD"

// appendCanonicalRequest appends the canonical request of r to b:
//
//	Method \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n PayloadHash
//
// skipSignature drops X-Amz-Signature from the query (presigned form). An
// error means the query string cannot be decoded.
func appendCanonicalRequest(b []byte, r *http.Request, signedHeaders, payloadHash string, skipSignature bool) ([]byte, error) {
	b = append(b, r.Method...)
	b = append(b, '\n')
	b = appendCanonicalURI(b, r.URL.EscapedPath())
	b = append(b, '\n')
	var err error
	if b, err = appendCanonicalQuery(b, r.URL.RawQuery, skipSignature); err != nil {
		return nil, err
	}
	b = append(b, '\n')
	for name := range strings.SplitSeq(signedHeaders, ";") {
		b = append(b, name...)
		b = append(b, ':')
		b = appendHeaderValues(b, r, name)
		b = append(b, '\n')
	}
	b = append(b, '\n')
	b = append(b, signedHeaders...)
	b = append(b, '\n')
	b = append(b, payloadHash...)
	return b, nil
}

// appendCanonicalURI URI-encodes the already-escaped wire path once more,
// keeping "/": for every service but S3 the canonical URI is the path encoded
// twice (AWS SigV4 reference, "CanonicalURI"; aws-sdk-go-v2 signs
// EscapePath(URL.EscapedPath())).
func appendCanonicalURI(b []byte, escapedPath string) []byte {
	if escapedPath == "" {
		return append(b, '/')
	}
	for i := range len(escapedPath) {
		c := escapedPath[i]
		if c == '/' || isUnreserved(c) {
			b = append(b, c)
		} else {
			b = appendPercent(b, c)
		}
	}
	return b
}

type queryParam struct{ key, value string }

// appendCanonicalQuery appends the query parameters decoded, re-encoded with
// the RFC 3986 unreserved set (space as %20) and sorted by key, then value.
func appendCanonicalQuery(b []byte, raw string, skipSignature bool) ([]byte, error) {
	if raw == "" {
		return b, nil
	}
	var stack [16]queryParam
	params := stack[:0]
	for pair := range strings.SplitSeq(raw, "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return nil, err
		}
		if skipSignature && key == "X-Amz-Signature" {
			continue
		}
		value, err := url.QueryUnescape(v)
		if err != nil {
			return nil, err
		}
		params = append(params, queryParam{key, value})
	}
	slices.SortFunc(params, func(x, y queryParam) int {
		return cmp.Or(strings.Compare(x.key, y.key), strings.Compare(x.value, y.value))
	})
	for i, p := range params {
		if i > 0 {
			b = append(b, '&')
		}
		b = appendEncoded(b, p.key)
		b = append(b, '=')
		b = appendEncoded(b, p.value)
	}
	return b, nil
}

// appendHeaderValues appends the canonical value of the signed header name:
// each value trimmed with runs of spaces collapsed, multiple values joined by
// ",". Go's server moves Host into r.Host and may leave Content-Length only in
// r.ContentLength, so those two are read from the request fields.
func appendHeaderValues(b []byte, r *http.Request, name string) []byte {
	switch name {
	case "host":
		host := r.Host
		if host == "" {
			host = r.URL.Host
		}
		return appendTrimmed(b, host)
	case "content-length":
		if _, ok := r.Header["Content-Length"]; !ok && r.ContentLength >= 0 {
			return strconv.AppendInt(b, r.ContentLength, 10)
		}
	}
	var key [64]byte
	values, ok := r.Header[string(appendCanonicalKey(key[:0], name))]
	if !ok {
		// Keys that were not canonicalised (set directly on the map by a
		// proxy or test) are still found.
		for k, v := range r.Header {
			if strings.EqualFold(k, name) {
				values = v
				break
			}
		}
	}
	for i, v := range values {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendTrimmed(b, v)
	}
	return b
}

// appendCanonicalKey appends the canonical MIME form of a lower-case header
// name (x-amz-date → X-Amz-Date), as net/textproto stores it, without
// allocating for the usual short names.
func appendCanonicalKey(b []byte, name string) []byte {
	upper := true
	for i := range len(name) {
		c := name[i]
		if upper && 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		b = append(b, c)
		upper = c == '-'
	}
	return b
}

// appendTrimmed appends s without leading and trailing spaces and with every
// run of spaces collapsed into one.
func appendTrimmed(b []byte, s string) []byte {
	s = strings.Trim(s, " \t")
	space := false
	for i := range len(s) {
		c := s[i]
		if c == ' ' {
			space = true
			continue
		}
		if space {
			b = append(b, ' ')
			space = false
		}
		b = append(b, c)
	}
	return b
}

// appendEncoded appends s percent-encoded with everything but the RFC 3986
// unreserved characters escaped, as SigV4 requires.
func appendEncoded(b []byte, s string) []byte {
	for i := range len(s) {
		c := s[i]
		if isUnreserved(c) {
			b = append(b, c)
		} else {
			b = appendPercent(b, c)
		}
	}
	return b
}

func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

func appendPercent(b []byte, c byte) []byte {
	const hexUpper = "0123456789ABCDEF"
	return append(b, '%', hexUpper[c>>4], hexUpper[c&0xf])
}
