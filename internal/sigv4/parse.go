package sigv4

import (
	"encoding/hex"
	"net/http"
	"strings"
)

// Algorithm is the only signing algorithm accepted. SigV4a
// (AWS4-ECDSA-P256-SHA256) is not supported; SDKs default to SigV4.
const Algorithm = "AWS4-HMAC-SHA256"

const (
	scopeTerminator = "aws4_request"
	amzDateLayout   = "20060102T150405Z"
)

// credential is the Credential= value: <AKID>/<yyyymmdd>/<region>/<service>/aws4_request.
type credential struct {
	AccessKeyID string
	Date        string
	Region      string
	Service     string
}

// scope returns the credential scope, the credential without the access key ID.
func (c credential) scope() string {
	return c.Date + "/" + c.Region + "/" + c.Service + "/" + scopeTerminator
}

// String formats c as it appears in a Credential= parameter.
func (c credential) String() string { return c.AccessKeyID + "/" + c.scope() }

// authorization is a parsed Authorization header.
type authorization struct {
	Credential credential
	// SignedHeaders is the raw semicolon-separated list, already validated.
	SignedHeaders string
	Signature     [32]byte
}

// String formats a as an Authorization header value, the form the AWS SDKs send.
func (a authorization) String() string {
	return Algorithm + " Credential=" + a.Credential.String() +
		", SignedHeaders=" + a.SignedHeaders +
		", Signature=" + hex.EncodeToString(a.Signature[:])
}

// parseAuthorization parses an Authorization header of the form
//
//	AWS4-HMAC-SHA256 Credential=AKID/20261122/us-east-1/sts/aws4_request, SignedHeaders=host;x-amz-date, Signature=<64 hex>
//
// Components may be separated by "," with or without spaces, in any order,
// each exactly once. Errors are *Error of KindIncompleteSignature.
func parseAuthorization(h string) (authorization, error) {
	var a authorization
	rest, ok := strings.CutPrefix(h, Algorithm)
	if !ok || rest == "" || rest[0] != ' ' {
		return a, newError(KindIncompleteSignature, "Unsupported Authorization Type")
	}
	var haveCred, haveHeaders, haveSig bool
	for part := range strings.SplitSeq(rest, ",") {
		part = strings.Trim(part, " ")
		key, val, ok := strings.Cut(part, "=")
		if !ok {
			return a, newError(KindIncompleteSignature, "Authorization header requires each component to be of the form key=value")
		}
		switch key {
		case "Credential":
			if haveCred {
				return a, newError(KindIncompleteSignature, "Authorization header has a duplicate 'Credential' parameter")
			}
			c, err := parseCredential(val)
			if err != nil {
				return a, err
			}
			a.Credential, haveCred = c, true
		case "SignedHeaders":
			if haveHeaders {
				return a, newError(KindIncompleteSignature, "Authorization header has a duplicate 'SignedHeaders' parameter")
			}
			if err := checkSignedHeaders(val); err != nil {
				return a, err
			}
			a.SignedHeaders, haveHeaders = val, true
		case "Signature":
			if haveSig {
				return a, newError(KindIncompleteSignature, "Authorization header has a duplicate 'Signature' parameter")
			}
			s, err := parseSignature(val)
			if err != nil {
				return a, err
			}
			a.Signature, haveSig = s, true
		default:
			return a, newError(KindIncompleteSignature, "Authorization header has an unknown parameter")
		}
	}
	switch {
	case !haveCred:
		return a, newError(KindIncompleteSignature, "Authorization header requires 'Credential' parameter.")
	case !haveHeaders:
		return a, newError(KindIncompleteSignature, "Authorization header requires 'SignedHeaders' parameter.")
	case !haveSig:
		return a, newError(KindIncompleteSignature, "Authorization header requires 'Signature' parameter.")
	}
	return a, nil
}

// parseCredential parses <AKID>/<yyyymmdd>/<region>/<service>/aws4_request.
func parseCredential(s string) (credential, error) {
	var c credential
	var parts [5]string
	n := 0
	for p := range strings.SplitSeq(s, "/") {
		if n == len(parts) || p == "" {
			return c, errBadCredential()
		}
		parts[n] = p
		n++
	}
	if n != len(parts) || parts[4] != scopeTerminator || !isDate(parts[1]) {
		return c, errBadCredential()
	}
	return credential{AccessKeyID: parts[0], Date: parts[1], Region: parts[2], Service: parts[3]}, nil
}

func errBadCredential() error {
	return newError(KindIncompleteSignature, "Credential should be of the form <access key id>/<yyyymmdd>/<region>/<service>/aws4_request")
}

// isDate reports whether s is eight ASCII digits.
func isDate(s string) bool {
	if len(s) != 8 {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// checkSignedHeaders validates a SignedHeaders list: non-empty lower-case
// names separated by ";" that include host, which SigV4 requires to be signed.
func checkSignedHeaders(s string) error {
	haveHost := false
	for name := range strings.SplitSeq(s, ";") {
		if name == "" {
			return newError(KindIncompleteSignature, "SignedHeaders contains an empty header name")
		}
		for i := range len(name) {
			c := name[i]
			if c <= ' ' || c >= 0x7f || c == ':' || ('A' <= c && c <= 'Z') {
				return newError(KindIncompleteSignature, "SignedHeaders must be lower-case header names")
			}
		}
		if name == "host" {
			haveHost = true
		}
	}
	if !haveHost {
		return newError(KindIncompleteSignature, "'Host' must be a signed header")
	}
	return nil
}

// parseSignature decodes a 64-digit hex signature.
func parseSignature(s string) ([32]byte, error) {
	var sig [32]byte
	if len(s) != 2*len(sig) {
		return sig, newError(KindIncompleteSignature, "Signature must be 64 hexadecimal digits")
	}
	if _, err := hex.Decode(sig[:], []byte(s)); err != nil {
		return sig, newError(KindIncompleteSignature, "Signature must be 64 hexadecimal digits")
	}
	return sig, nil
}

// SigningService returns the service named in a request's credential scope
// (Authorization header or presigned X-Amz-Credential), or "" when the
// request carries no well-formed signature. It lets a router that serves
// several awsQuery services on one path pick the one a request was signed
// for; verification still happens in Verify.
func SigningService(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if a, err := parseAuthorization(h); err == nil {
			return a.Credential.Service
		}
		return ""
	}
	if c, err := parseCredential(r.URL.Query().Get("X-Amz-Credential")); err == nil {
		return c.Service
	}
	return ""
}
