package managed

import "strings"

// ValidARN reports whether arn has the syntax of a ManagedPolicyArn
// (spec/aws-wire.md §6.2): 20–2048 characters matching
// arn:aws(-[a-z]{1,5}){0,3}:iam::aws:policy((/[A-Za-z0-9\.,\+@=_-]+)*)/([A-Za-z0-9\.,\+=@_-]+).
// It says nothing about whether the policy exists; see Lookup.
func ValidARN(arn string) bool {
	if len(arn) < 20 || len(arn) > 2048 {
		return false
	}
	rest, ok := strings.CutPrefix(arn, "arn:aws")
	if !ok {
		return false
	}
	// Partition suffixes: up to three "-" followed by 1–5 lower-case letters.
	for n := 0; n < 4 && strings.HasPrefix(rest, "-"); n++ {
		if n == 3 {
			return false
		}
		j := 1
		for j < len(rest) && 'a' <= rest[j] && rest[j] <= 'z' {
			j++
		}
		if j == 1 || j > 6 {
			return false
		}
		rest = rest[j:]
	}
	rest, ok = strings.CutPrefix(rest, ":iam::aws:policy/")
	if !ok {
		return false
	}
	// Path segments and the name: non-empty runs of the allowed characters
	// separated by single slashes.
	for _, seg := range strings.Split(rest, "/") {
		if seg == "" {
			return false
		}
		for i := 0; i < len(seg); i++ {
			if !nameChar(seg[i]) {
				return false
			}
		}
	}
	return true
}

func nameChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte(".,+@=_-", c) >= 0
}
