package mfa

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// TOTP parameters. RFC 6238 §4 defaults (30-second steps from the Unix
// epoch, HMAC-SHA-1) with 6 digits, the parameters every authenticator app
// understands without being told.
const (
	// StepSeconds is the length of one time step.
	StepSeconds = 30
	// Digits is the length of a code.
	Digits = 6
	// SeedSize is the size of a generated seed: 160 bits, the HMAC-SHA-1
	// output length RFC 4226 §4 recommends.
	SeedSize = 20
	// Window is how many steps either side of the current one a code may
	// come from, for clock drift (RFC 6238 §5.2 suggests one).
	Window = 1
)

// seedEncoding is how seeds are shown to people and written in otpauth URIs:
// base32 without padding, as authenticator apps expect.
var seedEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// HOTP returns the RFC 4226 §5.3 one-time password of key for counter, with
// the given number of digits (6 to 8).
func HOTP(key []byte, counter uint64, digits int) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	m := hmac.New(sha1.New, key)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	s := strconv.FormatUint(uint64(bin%mod), 10)
	return strings.Repeat("0", digits-len(s)) + s
}

// Step returns the RFC 6238 time step that contains t.
func Step(t time.Time) int64 {
	return t.Unix() / StepSeconds
}

// Code returns the 6-digit TOTP code of seed for a time step.
func Code(seed []byte, step int64) string {
	return HOTP(seed, uint64(step), Digits)
}

// NormalizeCode removes the spaces and dashes people type into codes
// ("123 456").
func NormalizeCode(code string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, strings.TrimSpace(code))
}

// Match reports whether code is the seed's code for a step within Window of
// now's step and later than lastStep (a step already used cannot be used
// again: RFC 6238 §5.2), and returns that step.
func Match(seed []byte, code string, now time.Time, lastStep int64) (int64, bool) {
	code = NormalizeCode(code)
	if len(code) != Digits {
		return 0, false
	}
	cur := Step(now)
	found, ok := int64(0), false
	// Compare against every candidate so the time taken does not depend on
	// which step matched.
	for step := cur - Window; step <= cur+Window; step++ {
		want := Code(seed, step)
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && step > lastStep && !ok {
			found, ok = step, true
		}
	}
	return found, ok
}

// EncodeSeed returns seed as authenticator apps take it typed in: base32
// without padding.
func EncodeSeed(seed []byte) string {
	return seedEncoding.EncodeToString(seed)
}

// URI returns the otpauth:// key URI of a seed, the format authenticator
// apps read from QR codes and links (Google Authenticator "Key Uri Format"):
// otpauth://totp/<issuer>:<account>?secret=…&issuer=…&algorithm=SHA1&digits=6&period=30.
func URI(issuer, account string, seed []byte) string {
	label := url.PathEscape(issuer) + ":" + url.PathEscape(account)
	q := url.Values{}
	q.Set("secret", EncodeSeed(seed))
	q.Set("issuer", issuer)
	q.Set("algorithm", "SHA1")
	q.Set("digits", strconv.Itoa(Digits))
	q.Set("period", strconv.Itoa(StepSeconds))
	return "otpauth://totp/" + label + "?" + q.Encode()
}
