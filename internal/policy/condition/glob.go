package condition

import (
	"strings"
	"unicode/utf8"
)

// Compiled glob patterns mark their wildcards with bytes that never occur in
// IAM policy text, so that text substituted from policy variables, and the
// ${*} and ${?} escapes, stay literal (spec/iam-policy.md §3.3).
const (
	wildStar byte = 0x00 // '*': any run of characters, including none
	wildOne  byte = 0x01 // '?': exactly one character
)

// encodeGlob turns IAM glob text into its compiled form.
func encodeGlob(p string) string {
	if !strings.ContainsAny(p, "*?\x00\x01") {
		return p
	}
	b := []byte(p)
	for i, c := range b {
		switch c {
		case '*':
			b[i] = wildStar
		case '?':
			b[i] = wildOne
		case wildStar, wildOne:
			// Control bytes in policy text can only ever match themselves;
			// map them to a byte no request string is expected to carry.
			b[i] = 0x7f
		}
	}
	return string(b)
}

// decodeGlob turns a compiled pattern back into IAM text.
func decodeGlob(p string) string {
	if !strings.ContainsAny(p, "\x00\x01") {
		return p
	}
	b := []byte(p)
	for i, c := range b {
		switch c {
		case wildStar:
			b[i] = '*'
		case wildOne:
			b[i] = '?'
		}
	}
	return string(b)
}

// lowerASCII lower-cases ASCII letters only, so that a pattern folded at
// compile time compares byte for byte with matchWild's folding of the input.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// matchWild reports whether the compiled pattern p matches all of s. With
// fold, ASCII letters of s are lower-cased before comparison (p must already
// be lower case). With colonStop, wildcards do not match ':' except a '*'
// that ends the pattern, which matches the rest of s whatever it holds
// (spec/iam-policy.md §2).
func matchWild[P ~string | ~[]byte](p P, s string, fold, colonStop bool) bool {
	px, sx := 0, 0
	nextPx, nextSx := -1, -1
	for px < len(p) || sx < len(s) {
		if px < len(p) {
			c := p[px]
			switch c {
			case wildStar:
				if px == len(p)-1 {
					return true // a trailing '*' swallows the rest
				}
				nextPx, nextSx = px, sx+1
				px++
				continue
			case wildOne:
				if sx < len(s) && !(colonStop && s[sx] == ':') {
					px++
					if s[sx] < utf8.RuneSelf {
						sx++
					} else {
						_, size := utf8.DecodeRuneInString(s[sx:])
						sx += size
					}
					continue
				}
			default:
				if sx < len(s) {
					b := s[sx]
					if fold && 'A' <= b && b <= 'Z' {
						b += 'a' - 'A'
					}
					if b == c {
						px++
						sx++
						continue
					}
				}
			}
		}
		if nextSx > 0 && nextSx <= len(s) {
			if colonStop && s[nextSx-1] == ':' {
				return false
			}
			px, sx = nextPx, nextSx
			continue
		}
		return false
	}
	return true
}

// matchARN matches the compiled ARN pattern p against s: both are split at
// their first five colons and each segment is globbed on its own; when the
// pattern has fewer segments, its last one is matched against the rest of s
// and only a trailing '*' may cross colons (spec/iam-policy.md §2). A pattern
// that does not start with "arn:" is a plain glob over the whole string.
func matchARN[P ~string | ~[]byte](p P, s string) bool {
	if len(p) < 4 || string(p[:4]) != "arn:" {
		return matchWild(p, s, false, false)
	}
	ps, ss := 0, 0
	for seg := 0; seg < 5; seg++ {
		pe := indexByte(p[ps:], ':')
		if pe < 0 {
			return matchWild(p[ps:], s[ss:], false, true)
		}
		se := strings.IndexByte(s[ss:], ':')
		if se < 0 {
			return false
		}
		if !matchWild(p[ps:ps+pe], s[ss:ss+se], false, false) {
			return false
		}
		ps += pe + 1
		ss += se + 1
	}
	return matchWild(p[ps:], s[ss:], false, false)
}

func indexByte[P ~string | ~[]byte](p P, c byte) int {
	for i := 0; i < len(p); i++ {
		if p[i] == c {
			return i
		}
	}
	return -1
}

// MatchGlob reports whether the IAM glob pattern ('*' any run, '?' one
// character) matches all of s, case-sensitively. It compiles the pattern on
// every call; the policy engine uses compiled patterns instead.
func MatchGlob(pattern, s string) bool {
	return matchWild(encodeGlob(pattern), s, false, false)
}

// MatchGlobFold is MatchGlob comparing ASCII letters case-insensitively, as
// IAM compares actions.
func MatchGlobFold(pattern, s string) bool {
	return matchWild(lowerASCII(encodeGlob(pattern)), s, true, false)
}

// MatchARN reports whether the IAM resource pattern matches the ARN s with
// the segment rules of spec/iam-policy.md §2, case-sensitively.
func MatchARN(pattern, s string) bool {
	return matchARN(encodeGlob(pattern), s)
}
