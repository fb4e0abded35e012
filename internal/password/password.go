// Package password holds Gatehouse's one rule for the passwords people
// choose, after NIST SP 800-63B-4 §3.1.1.2 ("Password verifiers"): a
// minimum length of 15 characters when the password alone signs in and 8
// when multi-factor authentication is required, at least 64 allowed (we
// allow 256), every printable character and space allowed, no composition
// rules, and a check against a blocklist of common, expected or
// compromised values: a shipped list of breached passwords, repetitive or
// sequential strings, the service's name, and the user's user name,
// e-mail address and given, family and display names.
//
// Activation, password reset, first-admin setup and any admin path that
// sets a password call Check; nothing else decides what a good password
// is.
package password

import (
	_ "embed"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gatehouse-dev/gatehouse/internal/fault"
)

// Length bounds, in Unicode code points (NIST SP 800-63B-4 §3.1.1.2 counts
// each code point as one character).
const (
	// MinSingleFactor is the minimum length when the password is the only
	// factor of a sign-in.
	MinSingleFactor = 15
	// MinMultiFactor is the minimum length when MFA is required.
	MinMultiFactor = 8
	// Max is the maximum length: NIST asks for at least 64.
	Max = 256
)

//go:embed blocklist.txt
var blocklistText string

// blocklist is blocklist.txt as a set of lower-cased entries.
var blocklist = func() map[string]bool {
	m := map[string]bool{}
	for _, l := range strings.Split(blocklistText, "\n") {
		l = strings.TrimSpace(l)
		if l != "" && !strings.HasPrefix(l, "#") {
			m[strings.ToLower(l)] = true
		}
	}
	return m
}()

// contextWords are words anyone guessing a Gatehouse password tries first.
var contextWords = []string{"gatehouse", "identitycenter", "awsapps"}

// Input is the password to check and what it is checked against.
type Input struct {
	Password string
	// UserName and Email are the user's; a password equal to or built
	// around either is refused.
	UserName string
	Email    string
	// Names are the user's given, family and display names; a password
	// built on any part of three or more letters of them (Doe2026!!,
	// JaneDoe!, Jane2026! for Jane Doe) is refused.
	Names []string
	// MFARequired says every sign-in of the user needs a second factor, so
	// the shorter minimum applies.
	MFARequired bool
}

// MinLength is the shortest password accepted, in characters (code
// points): MinMultiFactor when every sign-in needs a second factor,
// MinSingleFactor otherwise.
func MinLength(mfaRequired bool) int {
	if mfaRequired {
		return MinMultiFactor
	}
	return MinSingleFactor
}

// Check returns nil if in.Password may be used, or a validation error
// (fault.Validation) whose message says what to change.
func Check(in Input) error {
	pw := in.Password
	if !utf8.ValidString(pw) {
		return fault.Validationf("The password contains bytes that are not text.")
	}
	if strings.ContainsFunc(pw, func(r rune) bool { return unicode.IsControl(r) }) {
		return fault.Validationf("The password cannot contain control characters (such as a tab or a line break).")
	}
	minLen := MinLength(in.MFARequired)
	n := utf8.RuneCountInString(pw)
	switch {
	case n < minLen:
		return fault.Validationf("Use at least %d characters; a few unrelated words make a long password that is easy to remember.", minLen)
	case n > Max:
		return fault.Validationf("Use at most %d characters.", Max)
	}
	lower := strings.ToLower(pw)
	if Blocklisted(lower) {
		return fault.Validationf("This password is too common: it appears in lists of breached passwords. Choose another one.")
	}
	if repetitive(lower) {
		return fault.Validationf("This password is a repeated or sequential pattern, which is guessed quickly. Choose another one.")
	}
	for _, w := range contextWords {
		if builtAround(lower, w) {
			return fault.Validationf("The password cannot be built around the name of this service. Choose another one.")
		}
	}
	if u := strings.ToLower(in.UserName); builtAround(lower, u) {
		return fault.Validationf("The password cannot be your user name or be built around it.")
	}
	if e := strings.ToLower(in.Email); e != "" {
		local, _, _ := strings.Cut(e, "@")
		if builtAround(lower, e) || (utf8.RuneCountInString(local) >= 4 && builtAround(lower, local)) {
			return fault.Validationf("The password cannot be your e-mail address or be built around it.")
		}
	}
	for _, part := range nameParts(in.Names) {
		if builtAround(lower, part) || builtOnName(lower, part) {
			return fault.Validationf("The password cannot be built around your name. Choose another one.")
		}
	}
	return nil
}

// nameParts splits names into their lower-cased words of three or more
// letters (Jane, Doe, but not Li or the "O" of O'Neil).
func nameParts(names []string) []string {
	var parts []string
	for _, n := range names {
		for _, w := range strings.FieldsFunc(strings.ToLower(n), func(r rune) bool { return !unicode.IsLetter(r) }) {
			if utf8.RuneCountInString(w) >= 3 {
				parts = append(parts, w)
			}
		}
	}
	return parts
}

// builtOnName reports whether pw is the name part with little else:
// taking out every occurrence of it leaves, once trailing digits and
// symbols go too, fewer than four letters (Doe2026!!, Jane2026!, and
// JaneDoe! for the part Jane, which leaves "doe").
func builtOnName(pw, part string) bool {
	if !strings.Contains(pw, part) {
		return false
	}
	rest := strings.ReplaceAll(pw, part, "")
	rest = strings.TrimRightFunc(rest, func(r rune) bool { return !unicode.IsLetter(r) })
	rest = strings.TrimLeftFunc(rest, func(r rune) bool { return !unicode.IsLetter(r) })
	return utf8.RuneCountInString(rest) < 4
}

// Blocklisted reports whether the lower-cased password is on the shipped
// list, as it is or with trailing digits and symbols taken off (so that
// "password123!" counts as "password").
func Blocklisted(lower string) bool {
	if blocklist[lower] {
		return true
	}
	base := strings.TrimRightFunc(lower, func(r rune) bool { return !unicode.IsLetter(r) })
	return base != "" && base != lower && blocklist[base]
}

// builtAround reports whether pw contains word and what is left once every
// occurrence is taken out is short: fewer than MinMultiFactor code points.
// An empty word never matches.
func builtAround(pw, word string) bool {
	if utf8.RuneCountInString(word) < 3 || !strings.Contains(pw, word) {
		return false
	}
	return utf8.RuneCountInString(strings.ReplaceAll(pw, word, "")) < MinMultiFactor
}

// keyboardRows are the runs a finger slides along, forwards; repetitive
// also checks them backwards.
var keyboardRows = []string{"`1234567890-=", "qwertyuiop[]\\", "asdfghjkl;'", "zxcvbnm,./", "qwertzuiopü", "azertyuiop", "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p"}

// repetitive reports whether the lower-cased password is one short unit
// repeated (aaaaaaaa, abcabcabc, 12121212), a run of consecutive code
// points either way (12345678, abcdefgh, 87654321) or a stretch of a
// keyboard row (qwertyuiop, asdfghjkl).
func repetitive(pw string) bool {
	rs := []rune(pw)
	n := len(rs)
	for unit := 1; unit <= 4 && unit < n; unit++ {
		same := true
		for i := unit; i < n; i++ {
			if rs[i] != rs[i-unit] {
				same = false
				break
			}
		}
		if same {
			return true
		}
	}
	for _, step := range []rune{1, -1} {
		seq := true
		for i := 1; i < n; i++ {
			if rs[i]-rs[i-1] != step {
				seq = false
				break
			}
		}
		if seq {
			return true
		}
	}
	for _, row := range keyboardRows {
		if strings.Contains(row, pw) || strings.Contains(reverse(row), pw) {
			return true
		}
	}
	return false
}

func reverse(s string) string {
	rs := []rune(s)
	for i, j := 0, len(rs)-1; i < j; i, j = i+1, j-1 {
		rs[i], rs[j] = rs[j], rs[i]
	}
	return string(rs)
}
